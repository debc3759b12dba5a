/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_error.c: the bridge from the project's errors to libvirt's
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* dlvsym, dlinfo, dl_iterate_phdr */
#endif

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "driver_error.h"
#include "qemu_monitor.h"
#include "util_error.h"

static xsnapReportErrorHelperFunc reportErrorHelper;
static xsnapLogMessageFunc logMessage;
static xsnapGetDomainSnapshotFunc getDomainSnapshot;

/* libvirt keeps its filter state in here; it must be writable. */
static xsnapLogSource logSource = { "xsnap.libxl_snapshot", XSNAP_LOG_DEBUG, 0 };
static xsnapLogSource qmpLogSource = { "xsnap.qmp", XSNAP_LOG_DEBUG, 0 };


/* Hands a GLib message of one of our log domains to libvirt's log, so
 * that libvirtd's log_filters decide about it ("1:xsnap" for all). */
static void
xsnapDriverGLogForward(const gchar *domain G_GNUC_UNUSED,
                       GLogLevelFlags level, const gchar *message,
                       gpointer opaque)
{
    xsnapLogSource *source = opaque;
    int priority = XSNAP_LOG_DEBUG;

    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        priority = XSNAP_LOG_ERROR;
    else if (level & G_LOG_LEVEL_WARNING)
        priority = XSNAP_LOG_WARN;
    else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        priority = XSNAP_LOG_INFO;
    if (logMessage)
        logMessage(source, priority, __FILE__, __LINE__, __func__, NULL,
                   "%s", message);
}


int
xsnapDriverErrorInit(const char *privateNode)
{
    void *report = dlvsym(RTLD_DEFAULT, "virReportErrorHelper", privateNode);
    void *log = dlvsym(RTLD_DEFAULT, "virLogMessage", privateNode);
    void *get = dlvsym(RTLD_DEFAULT, "virGetDomainSnapshot", privateNode);

    /* A function pointer travels through void * here, as dlsym intends. */
    if (log) {
        memcpy(&logMessage, &log, sizeof(log));
        g_log_set_handler(XSNAP_QMP_LOG_DOMAIN, G_LOG_LEVEL_MASK,
                          xsnapDriverGLogForward, &qmpLogSource);
    }
    if (!report || !get) {
        xsnapReportError(VIR_ERR_NO_SUPPORT,
                         _("libvirt does not export '%1$s' under version '%2$s'"),
                         report ? "virGetDomainSnapshot" : "virReportErrorHelper",
                         privateNode);
        return -1;
    }
    memcpy(&reportErrorHelper, &report, sizeof(report));
    memcpy(&getDomainSnapshot, &get, sizeof(get));
    return 0;
}


void
xsnapDriverReportLastErrorFull(const char *file, const char *func,
                               size_t line)
{
    const xsnapError *err = xsnapGetLastError();
    int code = err ? err->code : VIR_ERR_INTERNAL_ERROR;
    const char *msg = xsnapGetLastErrorMessage();

    if (reportErrorHelper)
        reportErrorHelper(VIR_FROM_LIBXL, code, file, func, line, "%s", msg);
    else
        xsnapDriverLog(XSNAP_LOG_ERROR, "%s", msg);
}


void
xsnapDriverLogFull(const char *file, const char *func, int line,
                   int priority, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    /* Debug lines are for libvirtd's log only. */
    if (!logMessage && priority < XSNAP_LOG_INFO)
        return;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    if (logMessage) {
        logMessage(&logSource, priority, file, line, func, NULL, "%s", msg);
    } else {
        fprintf(stderr, "libvirt-xen-snapshot: %s: %s\n",
                priority >= XSNAP_LOG_ERROR ? "error" :
                priority == XSNAP_LOG_WARN ? "warning" : "info", msg);
    }
}


xsnapGetDomainSnapshotFunc
xsnapDriverGetDomainSnapshotFunc(void)
{
    return getDomainSnapshot;
}


void
xsnapDriverErrorSetFuncs(xsnapReportErrorHelperFunc report,
                         xsnapLogMessageFunc log,
                         xsnapGetDomainSnapshotFunc getSnapshot)
{
    if (report)
        reportErrorHelper = report;
    if (log)
        logMessage = log;
    if (getSnapshot)
        getDomainSnapshot = getSnapshot;
}
