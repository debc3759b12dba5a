/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_monitor.h: a small, defensive QMP client for the device model
 *
 * The socket belongs to libxl: a monitor is opened for one operation
 * and closed straight after. Every wait has a deadline, every reply
 * line has a size cap and a nesting cap, and replies are matched to
 * commands by id; asynchronous events are queued, never taken for
 * replies.
 */
#pragma once

#include <json-c/json.h>

#include "internal.h"

/* The GLib log domain of every QMP command and reply line (debug level);
 * inside libvirtd they go to its log as source "xsnap.qmp". */
#define XSNAP_QMP_LOG_DOMAIN "xsnap-qmp"

typedef struct _xsnapQemuMonitor xsnapQemuMonitor;

typedef struct _xsnapQemuMonitorConfig xsnapQemuMonitorConfig;
struct _xsnapQemuMonitorConfig {
    unsigned int connectTimeoutMs; /* keep retrying a busy socket this long */
    unsigned int commandTimeoutMs; /* wait for each reply this long */
    size_t maxLineBytes;           /* one JSON message at most this big */
    int maxDepth;                  /* JSON nesting limit */
    size_t maxEvents;              /* queued events kept (oldest dropped) */
};

/* Defaults: 5 s connect, 30 s per command, 16 MiB lines, depth 64, 1024 events. */
void xsnapQemuMonitorConfigInit(xsnapQemuMonitorConfig *cfg);

/* Returns the libxl QMP socket path of domain @domid; caller frees. */
char *xsnapQemuMonitorDefaultPath(int domid);

/*
 * Connects to @path, reads the greeting and negotiates capabilities.
 * A busy socket (another client connected, or a full backlog) is
 * retried with a bounded backoff until cfg->connectTimeoutMs. A missing
 * socket fails at once. @cfg may be NULL for the defaults.
 * Returns a monitor the caller closes, or NULL with an error reported.
 */
xsnapQemuMonitor *xsnapQemuMonitorOpen(const char *path,
                                       const xsnapQemuMonitorConfig *cfg);

/*
 * Like Open, on the socket @fd already connected to a QMP server (a
 * socketpair in the tests and the fuzz target); @name stands for the
 * socket path in messages. The monitor owns @fd from here on: it is
 * closed with the monitor, or before returning NULL with an error.
 */
xsnapQemuMonitor *xsnapQemuMonitorOpenFd(int fd, const char *name,
                                         const xsnapQemuMonitorConfig *cfg);

/* Closes the socket and frees everything; accepts NULL. */
void xsnapQemuMonitorClose(xsnapQemuMonitor *mon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapQemuMonitor, xsnapQemuMonitorClose);

/*
 * Sends @cmd (the monitor takes ownership; an id is added) and waits for
 * its reply. The reply is checked in two steps: an "error" member is
 * reported with QEMU's class and description; then "return" must have
 * type @expect (json_type_null means "anything").
 * On success stores a new reference to "return" in @ret when @ret is
 * non-NULL and returns 0. Returns -1 with an error reported otherwise.
 */
int xsnapQemuMonitorCommand(xsnapQemuMonitor *mon, json_object *cmd,
                            json_type expect, json_object **ret);

/*
 * xsnapQemuMonitorCommand in two halves, so that the caller can do other
 * work while QEMU runs the command: Start sends @cmd (taking it), Finish
 * waits for its reply and checks it the same way. One command at a time
 * is outstanding. Both return 0, or -1 with an error reported.
 */
int xsnapQemuMonitorCommandStart(xsnapQemuMonitor *mon, json_object *cmd);
int xsnapQemuMonitorCommandFinish(xsnapQemuMonitor *mon, json_type expect,
                                  json_object **ret);

/*
 * Class of QEMU's error for the last failed command (e.g. "GenericError",
 * "CommandNotFound"), or NULL if it did not fail inside QEMU.
 */
const char *xsnapQemuMonitorLastErrorClass(xsnapQemuMonitor *mon);

/* The socket path the monitor was opened on; borrowed. */
const char *xsnapQemuMonitorGetPath(xsnapQemuMonitor *mon);

/* True once the connection is unusable (EOF, protocol error, timeout). */
bool xsnapQemuMonitorIsBroken(xsnapQemuMonitor *mon);

/* Pops the oldest queued event; caller puts it. NULL when none queued. */
json_object *xsnapQemuMonitorPopEvent(xsnapQemuMonitor *mon);

/*
 * Reads from the socket until an event named @name arrives or @timeoutMs
 * passes. Other events stay queued. On success stores the event (caller
 * puts it) and returns 0; returns -1 with an error reported on timeout.
 */
int xsnapQemuMonitorWaitEvent(xsnapQemuMonitor *mon, const char *name,
                              unsigned int timeoutMs, json_object **event);

/*
 * Builds a command object {"execute": @name} with @args as "arguments"
 * (ownership of @args passes to the result; may be NULL).
 */
json_object *xsnapQemuMonitorCommandNew(const char *name, json_object *args);

/* Typed argument helpers: each adds one member to @obj. */
void xsnapJSONAddString(json_object *obj, const char *key, const char *val);
void xsnapJSONAddBool(json_object *obj, const char *key, bool val);
void xsnapJSONAddInt(json_object *obj, const char *key, long long val);
void xsnapJSONAddNull(json_object *obj, const char *key);
void xsnapJSONAddObject(json_object *obj, const char *key, json_object *val);

/* Returns the string member @key of @obj, or NULL when absent or not a string. */
const char *xsnapJSONGetString(json_object *obj, const char *key);
