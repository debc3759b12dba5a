/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_error.h: the bridge from the project's errors to libvirt's
 *
 * Inside libvirtd a driver callback that fails must leave a libvirt
 * error on its thread, or the client sees "An error occurred, but the
 * cause is unknown". libvirt's public API cannot raise one, so the
 * bridge calls the private virReportErrorHelper, looked up at run time
 * under its symbol version: the module never links to a private
 * symbol, so a libvirt upgrade cannot stop it (and libxl) loading.
 */
#pragma once

#include "internal.h"
#include "driver_layout.h"

/*
 * Looks up virReportErrorHelper, virLogMessage and virGetDomainSnapshot
 * under @privateNode (e.g. "LIBVIRT_PRIVATE_9.0.0"). Returns 0 when
 * virReportErrorHelper and virGetDomainSnapshot were found, else -1
 * with an error reported (the log function is optional). With
 * virLogMessage found, the QMP lines (GLib domain XSNAP_QMP_LOG_DOMAIN)
 * go to libvirt's log too, as source "xsnap.qmp"; xsnapDriverLog
 * writes as "xsnap.libxl_snapshot".
 */
int xsnapDriverErrorInit(const char *privateNode);

/*
 * Reports the thread's last xsnap error (code and message) to libvirt
 * as coming from VIR_FROM_LIBXL, or an internal error when there is
 * none. Call it as the very last libvirt call of a failing callback:
 * any later public call resets libvirt's error.
 */
void xsnapDriverReportLastErrorFull(const char *file, const char *func,
                                    size_t line);
#define xsnapDriverReportLastError() \
    xsnapDriverReportLastErrorFull(__FILE__, __func__, __LINE__)

/* Writes a message to libvirtd's log (virLogMessage) as coming from
 * @func, or to stderr when that is not available (debug messages are
 * then dropped). @priority is an XSNAP_LOG_* value. */
void xsnapDriverLogFull(const char *file, const char *func, int line,
                        int priority, const char *fmt, ...) XSNAP_FMT_PRINTF(5, 6);
#define xsnapDriverLog(priority, ...) \
    xsnapDriverLogFull(__FILE__, __func__, __LINE__, priority, __VA_ARGS__)

/* libvirt's virGetDomainSnapshot, or NULL before a successful init. */
xsnapGetDomainSnapshotFunc xsnapDriverGetDomainSnapshotFunc(void);

/* Replaces the looked up functions (tests). NULL leaves one unchanged. */
void xsnapDriverErrorSetFuncs(xsnapReportErrorHelperFunc report,
                              xsnapLogMessageFunc log,
                              xsnapGetDomainSnapshotFunc getSnapshot);
