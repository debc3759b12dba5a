/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_error.h: the project's single error model
 *
 * Errors carry a libvirt virErrorNumber and a translated message. The
 * last error is kept per thread. Inside libvirtd a sink forwards each
 * report to libvirt so that callers see it as a libvirt error.
 */
#pragma once

#include "internal.h"
#include <libvirt/virterror.h>

typedef struct _xsnapError xsnapError;
struct _xsnapError {
    int code;          /* virErrorNumber */
    char *message;
};

/* Called for every report, after it is stored as the thread's last error. */
typedef void (*xsnapErrorSink)(const char *file, const char *func, size_t line,
                               int code, const char *message);

void xsnapReportErrorFull(const char *file, const char *func, size_t line,
                          int code, const char *fmt, ...)
    XSNAP_FMT_PRINTF(5, 6);

#define xsnapReportError(code, ...) \
    xsnapReportErrorFull(__FILE__, __func__, __LINE__, code, __VA_ARGS__)

/* Reports errno together with a message. */
#define xsnapReportSystemError(errnum, ...) \
    xsnapReportSystemErrorFull(__FILE__, __func__, __LINE__, errnum, __VA_ARGS__)
void xsnapReportSystemErrorFull(const char *file, const char *func, size_t line,
                                int errnum, const char *fmt, ...)
    XSNAP_FMT_PRINTF(5, 6);

/* The thread's last error, or NULL. The pointer stays owned by the module. */
const xsnapError *xsnapGetLastError(void);
/* Message of the last error, or a generic text when there is none. */
const char *xsnapGetLastErrorMessage(void);
/* Code of the last error, or VIR_ERR_OK. */
int xsnapGetLastErrorCode(void);
void xsnapResetLastError(void);

/* Saves the last error so that cleanup code cannot overwrite it. */
xsnapError *xsnapSaveLastError(void);
/* Restores a saved error and frees @err. */
void xsnapRestoreLastError(xsnapError *err);
void xsnapErrorFree(xsnapError *err);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapError, xsnapErrorFree);

void xsnapSetErrorSink(xsnapErrorSink sink);
