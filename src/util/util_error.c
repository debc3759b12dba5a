/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_error.c: the project's single error model
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "util_error.h"

static GPrivate lastError = G_PRIVATE_INIT((GDestroyNotify)xsnapErrorFree);
static xsnapErrorSink errorSink;

void
xsnapErrorFree(xsnapError *err)
{
    if (!err)
        return;
    g_free(err->message);
    g_free(err);
}


static void
xsnapErrorStore(const char *file, const char *func, size_t line,
                int code, char *message)
{
    xsnapError *err = g_new0(xsnapError, 1);
    xsnapErrorSink sink = g_atomic_pointer_get(&errorSink);

    err->code = code;
    err->message = message;
    g_private_replace(&lastError, err);

    if (sink)
        sink(file, func, line, code, message);
}


void
xsnapReportErrorFull(const char *file, const char *func, size_t line,
                     int code, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    xsnapErrorStore(file, func, line, code, msg);
}


void
xsnapReportSystemErrorFull(const char *file, const char *func, size_t line,
                           int errnum, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    xsnapErrorStore(file, func, line, VIR_ERR_SYSTEM_ERROR,
                    g_strdup_printf("%s: %s", msg, g_strerror(errnum)));
}


const xsnapError *
xsnapGetLastError(void)
{
    return g_private_get(&lastError);
}


const char *
xsnapGetLastErrorMessage(void)
{
    const xsnapError *err = xsnapGetLastError();

    if (!err || !err->message)
        return _("An error occurred, but the cause is unknown");
    return err->message;
}


int
xsnapGetLastErrorCode(void)
{
    const xsnapError *err = xsnapGetLastError();

    return err ? err->code : VIR_ERR_OK;
}


void
xsnapResetLastError(void)
{
    g_private_replace(&lastError, NULL);
}


xsnapError *
xsnapSaveLastError(void)
{
    const xsnapError *err = xsnapGetLastError();
    xsnapError *copy;

    if (!err)
        return NULL;
    copy = g_new0(xsnapError, 1);
    copy->code = err->code;
    copy->message = g_strdup(err->message);
    return copy;
}


void
xsnapRestoreLastError(xsnapError *err)
{
    if (!err)
        return;
    g_private_replace(&lastError, err);
}


void
xsnapSetErrorSink(xsnapErrorSink sink)
{
    g_atomic_pointer_set(&errorSink, sink);
}
