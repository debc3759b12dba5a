/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_monitor.c: a small, defensive QMP client for the device model
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu_monitor.h"
#include "util_error.h"

struct _xsnapQemuMonitor {
    int fd;
    char *path;
    xsnapQemuMonitorConfig cfg;
    GByteArray *rbuf;          /* bytes read but not yet parsed */
    GQueue events;             /* json_object *, oldest first */
    unsigned long long serial; /* last command id */
    char *lastErrorClass;
    bool broken;
    char *pendingId;           /* xsnapQemuMonitorCommandStart's command */
    char *pendingName;
    gint64 pendingDeadline;
};

static char *xsnapQemuMonitorSend(xsnapQemuMonitor *mon, json_object *cmd,
                                  gint64 deadline);
static int xsnapQemuMonitorReceive(xsnapQemuMonitor *mon, const char *id,
                                   const char *cmdName, json_type expect,
                                   json_object **ret, gint64 deadline);


void
xsnapQemuMonitorConfigInit(xsnapQemuMonitorConfig *cfg)
{
    cfg->connectTimeoutMs = 5000;
    cfg->commandTimeoutMs = 30000;
    cfg->maxLineBytes = 16 * 1024 * 1024;
    cfg->maxDepth = 64;
    cfg->maxEvents = 1024;
}


char *
xsnapQemuMonitorDefaultPath(int domid)
{
    return g_strdup_printf("/var/run/xen/qmp-libxl-%d", domid);
}


static gint64
xsnapDeadline(unsigned int ms)
{
    return g_get_monotonic_time() + (gint64)ms * 1000;
}


/* Milliseconds left until @deadline, at least 0. */
static int
xsnapRemainingMs(gint64 deadline)
{
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;

    if (left < 0)
        return 0;
    if (left > G_MAXINT)
        return G_MAXINT;
    return (int)left;
}


static void
xsnapQemuMonitorMarkBroken(xsnapQemuMonitor *mon)
{
    mon->broken = true;
    if (mon->fd >= 0) {
        close(mon->fd);
        mon->fd = -1;
    }
}


static int
xsnapQemuMonitorWriteAll(xsnapQemuMonitor *mon, const char *data, size_t len,
                         gint64 deadline)
{
    while (len > 0) {
        struct pollfd pfd = { .fd = mon->fd, .events = POLLOUT };
        ssize_t n;
        int rc = poll(&pfd, 1, xsnapRemainingMs(deadline));

        if (rc < 0) {
            if (errno == EINTR)
                continue;
            xsnapReportSystemError(errno, _("cannot wait for QMP socket '%1$s'"),
                                   mon->path);
            xsnapQemuMonitorMarkBroken(mon);
            return -1;
        }
        if (rc == 0) {
            xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                             _("timed out writing to QMP socket '%1$s'"),
                             mon->path);
            xsnapQemuMonitorMarkBroken(mon);
            return -1;
        }
        n = send(mon->fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            xsnapReportSystemError(errno, _("cannot write to QMP socket '%1$s'"),
                                   mon->path);
            xsnapQemuMonitorMarkBroken(mon);
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}


/*
 * Parses one line into a JSON object. Anything but a single well formed
 * object within the depth limit is a protocol error.
 */
static json_object *
xsnapQemuMonitorParseLine(xsnapQemuMonitor *mon, const char *line, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(mon->cfg.maxDepth);
    json_object *obj;
    enum json_tokener_error jerr;
    size_t end;

    if (!tok) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("cannot allocate a JSON parser"));
        return NULL;
    }
    obj = json_tokener_parse_ex(tok, line, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    if (!obj || jerr != json_tokener_success) {
        json_object_put(obj);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("malformed message from QMP socket '%1$s': %2$s"),
                         mon->path,
                         jerr == json_tokener_continue ?
                         _("truncated JSON") : json_tokener_error_desc(jerr));
        return NULL;
    }
    for (; end < len; end++) {
        if (!g_ascii_isspace(line[end])) {
            json_object_put(obj);
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("malformed message from QMP socket '%1$s': %2$s"),
                             mon->path, _("trailing data after JSON"));
            return NULL;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("malformed message from QMP socket '%1$s': %2$s"),
                         mon->path, _("not a JSON object"));
        return NULL;
    }
    return obj;
}


/*
 * Reads the next complete message, waiting until @deadline. Returns the
 * object (caller puts it) or NULL with an error reported. Any failure
 * breaks the monitor since the stream cannot be resynchronised; so does
 * a timeout when @timeoutBreaks (a command QEMU did not answer leaves
 * its state unknown), while a timeout waiting for an event does not.
 */
static json_object *
xsnapQemuMonitorReadMessage(xsnapQemuMonitor *mon, gint64 deadline,
                            bool timeoutBreaks)
{
    if (mon->broken || mon->fd < 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("QMP connection to '%1$s' is closed"), mon->path);
        return NULL;
    }

    for (;;) {
        guint8 *nl = mon->rbuf->len ? memchr(mon->rbuf->data, '\n', mon->rbuf->len) : NULL;
        struct pollfd pfd = { .fd = mon->fd, .events = POLLIN };
        guint8 chunk[65536];
        ssize_t n;
        int rc;

        if (nl) {
            size_t len = (size_t)(nl - mon->rbuf->data);
            json_object *obj = NULL;

            if (len > 0 && mon->rbuf->data[len - 1] == '\r')
                len--;
            if (len == 0) {
                g_byte_array_remove_range(mon->rbuf, 0, 1);
                continue;
            }
            if (len > mon->cfg.maxLineBytes) {
                xsnapReportError(VIR_ERR_OPERATION_FAILED,
                                 _("message from QMP socket '%1$s' exceeds %2$zu bytes"),
                                 mon->path, mon->cfg.maxLineBytes);
                xsnapQemuMonitorMarkBroken(mon);
                return NULL;
            }
            g_log(XSNAP_QMP_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s <- %.*s",
                  mon->path, (int)len, (const char *)mon->rbuf->data);
            obj = xsnapQemuMonitorParseLine(mon, (const char *)mon->rbuf->data, len);
            g_byte_array_remove_range(mon->rbuf, 0,
                                      (guint)(nl - mon->rbuf->data) + 1);
            if (!obj)
                xsnapQemuMonitorMarkBroken(mon);
            return obj;
        }
        if (mon->rbuf->len > mon->cfg.maxLineBytes) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("message from QMP socket '%1$s' exceeds %2$zu bytes"),
                             mon->path, mon->cfg.maxLineBytes);
            xsnapQemuMonitorMarkBroken(mon);
            return NULL;
        }

        rc = poll(&pfd, 1, xsnapRemainingMs(deadline));
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            xsnapReportSystemError(errno, _("cannot wait for QMP socket '%1$s'"),
                                   mon->path);
            xsnapQemuMonitorMarkBroken(mon);
            return NULL;
        }
        if (rc == 0) {
            xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                             _("timed out waiting for QEMU on QMP socket '%1$s'"),
                             mon->path);
            if (timeoutBreaks)
                xsnapQemuMonitorMarkBroken(mon);
            return NULL;
        }
        n = recv(mon->fd, chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            xsnapReportSystemError(errno, _("cannot read from QMP socket '%1$s'"),
                                   mon->path);
            xsnapQemuMonitorMarkBroken(mon);
            return NULL;
        }
        if (n == 0) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             mon->rbuf->len ?
                             _("QMP socket '%1$s' closed in the middle of a message") :
                             _("QEMU closed QMP socket '%1$s'"),
                             mon->path);
            xsnapQemuMonitorMarkBroken(mon);
            return NULL;
        }
        g_byte_array_append(mon->rbuf, chunk, (guint)n);
    }
}


static void
xsnapQemuMonitorQueueEvent(xsnapQemuMonitor *mon, json_object *event)
{
    g_queue_push_tail(&mon->events, event);
    while (g_queue_get_length(&mon->events) > mon->cfg.maxEvents)
        json_object_put(g_queue_pop_head(&mon->events));
}


/* Socket errors that mean "someone else holds it, try again". */
static bool
xsnapConnectErrorIsBusy(int err)
{
    return err == ECONNREFUSED || err == EAGAIN || err == EINTR;
}


static int
xsnapQemuMonitorConnectOnce(xsnapQemuMonitor *mon, int *err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    memcpy(addr.sun_path, mon->path, strlen(mon->path) + 1);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    mon->fd = fd;
    return 0;
}


static int
xsnapQemuMonitorHandshake(xsnapQemuMonitor *mon, gint64 deadline)
{
    json_object *greeting;
    json_object *qmp;

    g_autofree char *id = NULL;

    /*
     * qmp_capabilities goes out before the greeting comes in: QEMU
     * greets a client as it accepts it and reads requests only after,
     * so this saves a round trip (create makes one connection inside
     * the guest's pause). A QEMU serving another client accepts our
     * connection in its backlog but greets us only when that client
     * leaves, so the greeting wait covers the busy case.
     */
    if (!(id = xsnapQemuMonitorSend(mon,
                                    xsnapQemuMonitorCommandNew("qmp_capabilities", NULL),
                                    deadline)))
        return -1;
    if (!(greeting = xsnapQemuMonitorReadMessage(mon, deadline, true)))
        return -1;
    if (!json_object_object_get_ex(greeting, "QMP", &qmp) ||
        !json_object_is_type(qmp, json_type_object)) {
        json_object_put(greeting);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("'%1$s' did not greet like a QMP server"), mon->path);
        xsnapQemuMonitorMarkBroken(mon);
        return -1;
    }
    json_object_put(greeting);

    return xsnapQemuMonitorReceive(mon, id, "qmp_capabilities", json_type_object,
                                   NULL, xsnapDeadline(mon->cfg.commandTimeoutMs));
}


static xsnapQemuMonitor *
xsnapQemuMonitorNew(const char *path, const xsnapQemuMonitorConfig *cfg)
{
    xsnapQemuMonitor *mon = g_new0(xsnapQemuMonitor, 1);

    mon->fd = -1;
    mon->path = g_strdup(path);
    mon->rbuf = g_byte_array_new();
    g_queue_init(&mon->events);
    if (cfg)
        mon->cfg = *cfg;
    else
        xsnapQemuMonitorConfigInit(&mon->cfg);
    return mon;
}


xsnapQemuMonitor *
xsnapQemuMonitorOpenFd(int fd, const char *name, const xsnapQemuMonitorConfig *cfg)
{
    g_autoptr(xsnapQemuMonitor) mon = xsnapQemuMonitorNew(name, cfg);

    mon->fd = fd;
    if (xsnapQemuMonitorHandshake(mon, xsnapDeadline(mon->cfg.connectTimeoutMs)) < 0)
        return NULL;
    return g_steal_pointer(&mon);
}


xsnapQemuMonitor *
xsnapQemuMonitorOpen(const char *path, const xsnapQemuMonitorConfig *cfg)
{
    g_autoptr(xsnapQemuMonitor) mon = xsnapQemuMonitorNew(path, cfg);
    struct sockaddr_un addr;
    unsigned int backoffMs = 10;
    gint64 deadline;
    int err = 0;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("QMP socket path '%1$s' is too long"), path);
        return NULL;
    }

    deadline = xsnapDeadline(mon->cfg.connectTimeoutMs);
    while (xsnapQemuMonitorConnectOnce(mon, &err) < 0) {
        if (err == ENOENT) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("device model QMP socket '%1$s' does not exist (domain not running, or a stub-domain device model)"),
                             path);
            return NULL;
        }
        if (!xsnapConnectErrorIsBusy(err)) {
            xsnapReportSystemError(err, _("cannot connect to QMP socket '%1$s'"),
                                   path);
            return NULL;
        }
        if (xsnapRemainingMs(deadline) == 0) {
            xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                             _("QMP socket '%1$s' stayed busy for %2$u ms"),
                             path, mon->cfg.connectTimeoutMs);
            return NULL;
        }
        g_usleep(MIN(backoffMs, (unsigned int)xsnapRemainingMs(deadline) + 1) * 1000);
        backoffMs = MIN(backoffMs * 2, 250);
    }

    if (xsnapQemuMonitorHandshake(mon, deadline) < 0)
        return NULL;

    return g_steal_pointer(&mon);
}


void
xsnapQemuMonitorClose(xsnapQemuMonitor *mon)
{
    if (!mon)
        return;
    if (mon->fd >= 0)
        close(mon->fd);
    g_queue_clear_full(&mon->events, (GDestroyNotify)json_object_put);
    if (mon->rbuf)
        g_byte_array_unref(mon->rbuf);
    g_free(mon->lastErrorClass);
    g_free(mon->pendingId);
    g_free(mon->pendingName);
    g_free(mon->path);
    g_free(mon);
}


json_object *
xsnapQemuMonitorCommandNew(const char *name, json_object *args)
{
    json_object *cmd = json_object_new_object();

    xsnapJSONAddString(cmd, "execute", name);
    if (args)
        json_object_object_add(cmd, "arguments", args);
    return cmd;
}


void
xsnapJSONAddString(json_object *obj, const char *key, const char *val)
{
    json_object_object_add(obj, key, json_object_new_string(val));
}


void
xsnapJSONAddBool(json_object *obj, const char *key, bool val)
{
    json_object_object_add(obj, key, json_object_new_boolean(val));
}


void
xsnapJSONAddInt(json_object *obj, const char *key, long long val)
{
    json_object_object_add(obj, key, json_object_new_int64(val));
}


void
xsnapJSONAddNull(json_object *obj, const char *key)
{
    json_object_object_add(obj, key, NULL);
}


void
xsnapJSONAddObject(json_object *obj, const char *key, json_object *val)
{
    json_object_object_add(obj, key, val);
}


const char *
xsnapJSONGetString(json_object *obj, const char *key)
{
    json_object *val;

    if (!obj || !json_object_object_get_ex(obj, key, &val) ||
        !json_object_is_type(val, json_type_string))
        return NULL;
    return json_object_get_string(val);
}


static const char *
xsnapJSONTypeName(json_type type)
{
    switch (type) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_double: return "number";
    case json_type_int: return "integer";
    case json_type_object: return "object";
    case json_type_array: return "array";
    case json_type_string: return "string";
    }
    return "?";
}


/* Step one of the reply check: QEMU's own error. */
static int
xsnapQemuMonitorCheckError(xsnapQemuMonitor *mon, const char *cmdName,
                           json_object *reply)
{
    json_object *error;
    const char *klass;
    const char *desc;

    if (!json_object_object_get_ex(reply, "error", &error))
        return 0;
    klass = xsnapJSONGetString(error, "class");
    desc = xsnapJSONGetString(error, "desc");
    g_free(mon->lastErrorClass);
    mon->lastErrorClass = g_strdup(klass ? klass : "GenericError");
    xsnapReportError(VIR_ERR_OPERATION_FAILED,
                     _("QEMU command '%1$s' failed: %2$s (%3$s)"),
                     cmdName, desc ? desc : _("no description"),
                     mon->lastErrorClass);
    return -1;
}


/* Step two: the type of "return". */
static int
xsnapQemuMonitorCheckReturn(xsnapQemuMonitor *mon, const char *cmdName,
                            json_object *reply, json_type expect,
                            json_object **ret)
{
    json_object *val;

    if (!json_object_object_get_ex(reply, "return", &val)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("QEMU reply to '%1$s' has neither 'return' nor 'error'"),
                         cmdName);
        return -1;
    }
    if (expect != json_type_null && !json_object_is_type(val, expect)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("QEMU reply to '%1$s' returned %2$s where %3$s was expected"),
                         cmdName, xsnapJSONTypeName(json_object_get_type(val)),
                         xsnapJSONTypeName(expect));
        return -1;
    }
    if (ret)
        *ret = json_object_get(val);
    (void)mon;
    return 0;
}


/* Writes @cmd (taking it) with a new id; returns the id, or NULL with an error. */
static char *
xsnapQemuMonitorSend(xsnapQemuMonitor *mon, json_object *cmd, gint64 deadline)
{
    g_autofree char *id = NULL;
    g_autofree char *line = NULL;

    g_clear_pointer(&mon->lastErrorClass, g_free);
    id = g_strdup_printf("xsnap-%llu", ++mon->serial);
    xsnapJSONAddString(cmd, "id", id);
    line = g_strdup_printf("%s\n",
                           json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN));
    json_object_put(cmd);

    if (mon->broken || mon->fd < 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("QMP connection to '%1$s' is closed"), mon->path);
        return NULL;
    }

    g_log(XSNAP_QMP_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s -> %.*s", mon->path,
          (int)strcspn(line, "\n"), line);
    if (xsnapQemuMonitorWriteAll(mon, line, strlen(line), deadline) < 0)
        return NULL;
    return g_steal_pointer(&id);
}


/* Waits for the reply to command @id (named @cmdName) and checks it. */
static int
xsnapQemuMonitorReceive(xsnapQemuMonitor *mon, const char *id, const char *cmdName,
                        json_type expect, json_object **ret, gint64 deadline)
{
    int result = -1;

    for (;;) {
        json_object *msg = xsnapQemuMonitorReadMessage(mon, deadline, true);
        json_object *idObj;

        if (!msg)
            return -1;
        if (json_object_object_get_ex(msg, "event", NULL)) {
            xsnapQemuMonitorQueueEvent(mon, msg);
            continue;
        }
        if (!json_object_object_get_ex(msg, "return", NULL) &&
            !json_object_object_get_ex(msg, "error", NULL)) {
            json_object_put(msg);
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("unexpected message from QMP socket '%1$s' while waiting for '%2$s'"),
                             mon->path, cmdName);
            xsnapQemuMonitorMarkBroken(mon);
            return -1;
        }
        if (!json_object_object_get_ex(msg, "id", &idObj)) {
            /* QEMU drops the id only when it could not parse our request. */
            result = xsnapQemuMonitorCheckError(mon, cmdName, msg);
            json_object_put(msg);
            if (result == 0)
                xsnapReportError(VIR_ERR_OPERATION_FAILED,
                                 _("QEMU reply to '%1$s' carries no id"), cmdName);
            xsnapQemuMonitorMarkBroken(mon);
            return -1;
        }
        if (!json_object_is_type(idObj, json_type_string) ||
            !g_str_equal(json_object_get_string(idObj), id)) {
            /* A late reply to an earlier command: not ours, drop it. */
            json_object_put(msg);
            continue;
        }
        if (xsnapQemuMonitorCheckError(mon, cmdName, msg) == 0)
            result = xsnapQemuMonitorCheckReturn(mon, cmdName, msg, expect, ret);
        json_object_put(msg);
        return result;
    }
}


int
xsnapQemuMonitorCommand(xsnapQemuMonitor *mon, json_object *cmd,
                        json_type expect, json_object **ret)
{
    g_autofree char *id = NULL;
    g_autofree char *cmdName = g_strdup(xsnapJSONGetString(cmd, "execute"));
    gint64 deadline = xsnapDeadline(mon->cfg.commandTimeoutMs);

    if (!cmdName)
        cmdName = g_strdup("?");
    if (!(id = xsnapQemuMonitorSend(mon, cmd, deadline)))
        return -1;
    return xsnapQemuMonitorReceive(mon, id, cmdName, expect, ret, deadline);
}


int
xsnapQemuMonitorCommandStart(xsnapQemuMonitor *mon, json_object *cmd)
{
    g_autofree char *cmdName = g_strdup(xsnapJSONGetString(cmd, "execute"));

    if (mon->pendingId) {
        json_object_put(cmd);
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("a QMP command is already waiting for its reply"));
        return -1;
    }
    mon->pendingDeadline = xsnapDeadline(mon->cfg.commandTimeoutMs);
    if (!(mon->pendingId = xsnapQemuMonitorSend(mon, cmd, mon->pendingDeadline)))
        return -1;
    mon->pendingName = g_steal_pointer(&cmdName);
    if (!mon->pendingName)
        mon->pendingName = g_strdup("?");
    return 0;
}


int
xsnapQemuMonitorCommandFinish(xsnapQemuMonitor *mon, json_type expect,
                              json_object **ret)
{
    g_autofree char *id = g_steal_pointer(&mon->pendingId);
    g_autofree char *name = g_steal_pointer(&mon->pendingName);

    if (!id) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("no QMP command is waiting for its reply"));
        return -1;
    }
    return xsnapQemuMonitorReceive(mon, id, name, expect, ret, mon->pendingDeadline);
}


const char *
xsnapQemuMonitorLastErrorClass(xsnapQemuMonitor *mon)
{
    return mon->lastErrorClass;
}


const char *
xsnapQemuMonitorGetPath(xsnapQemuMonitor *mon)
{
    return mon->path;
}


bool
xsnapQemuMonitorIsBroken(xsnapQemuMonitor *mon)
{
    return mon->broken;
}


json_object *
xsnapQemuMonitorPopEvent(xsnapQemuMonitor *mon)
{
    return g_queue_pop_head(&mon->events);
}


int
xsnapQemuMonitorWaitEvent(xsnapQemuMonitor *mon, const char *name,
                          unsigned int timeoutMs, json_object **event)
{
    gint64 deadline = xsnapDeadline(timeoutMs);
    GList *l;

    for (l = mon->events.head; l; l = l->next) {
        const char *ev = xsnapJSONGetString(l->data, "event");
        if (ev && g_str_equal(ev, name)) {
            *event = l->data;
            g_queue_delete_link(&mon->events, l);
            return 0;
        }
    }

    for (;;) {
        json_object *msg = xsnapQemuMonitorReadMessage(mon, deadline, false);
        const char *ev;

        if (!msg)
            return -1;
        ev = xsnapJSONGetString(msg, "event");
        if (ev && g_str_equal(ev, name)) {
            *event = msg;
            return 0;
        }
        if (ev)
            xsnapQemuMonitorQueueEvent(mon, msg);
        else
            json_object_put(msg);
    }
}
