/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_img.c: run qemu-img (and other tools) safely, parse its JSON
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "qemu_img.h"
#include "util_error.h"

/* Output beyond this is dropped: no tool we run prints anywhere near it. */
#define XSNAP_COMMAND_MAX_OUTPUT (16 * 1024 * 1024)


static void
xsnapCommandCollect(int *fd, GString *buf)
{
    char chunk[8192];
    ssize_t n = read(*fd, chunk, sizeof(chunk));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    if (buf->len < XSNAP_COMMAND_MAX_OUTPUT)
        g_string_append_len(buf, chunk, n);
}


struct _xsnapCommand {
    char *cmdline;
    unsigned int timeoutMs;
    gint64 deadline;
    GPid pid;
    int ofd;
    int efd;
};


xsnapCommand *
xsnapCommandStart(const char *const *argv, unsigned int timeoutMs)
{
    g_autoptr(GError) gerr = NULL;
    xsnapCommand *cmd = g_new0(xsnapCommand, 1);

    cmd->cmdline = g_strjoinv(" ", (char **)argv);
    cmd->timeoutMs = timeoutMs;
    cmd->deadline = g_get_monotonic_time() + (gint64)timeoutMs * 1000;
    cmd->ofd = -1;
    cmd->efd = -1;
    if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                  G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                  G_SPAWN_STDIN_FROM_DEV_NULL,
                                  NULL, NULL, &cmd->pid, NULL, &cmd->ofd, &cmd->efd,
                                  &gerr)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot run '%1$s': %2$s"), argv[0], gerr->message);
        g_free(cmd->cmdline);
        g_free(cmd);
        return NULL;
    }
    return cmd;
}


int
xsnapCommandWait(xsnapCommand *cmd, char **out)
{
    g_autoptr(GString) obuf = g_string_new(NULL);
    g_autoptr(GString) ebuf = g_string_new(NULL);
    g_autofree char *cmdline = cmd->cmdline;
    gint64 deadline = cmd->deadline;
    unsigned int timeoutMs = cmd->timeoutMs;
    GPid pid = cmd->pid;
    int ofd = cmd->ofd;
    int efd = cmd->efd;
    int pidfd;
    int status = 0;
    bool timedOut = false;

    g_free(cmd);

    while (ofd >= 0 || efd >= 0) {
        struct pollfd pfd[2];
        nfds_t n = 0;
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        int rc;

        if (left <= 0) {
            timedOut = true;
            break;
        }
        if (ofd >= 0)
            pfd[n++] = (struct pollfd){ .fd = ofd, .events = POLLIN };
        if (efd >= 0)
            pfd[n++] = (struct pollfd){ .fd = efd, .events = POLLIN };
        rc = poll(pfd, n, (int)MIN(left, G_MAXINT));
        if (rc < 0 && errno != EINTR)
            break;
        if (rc <= 0)
            continue;
        for (nfds_t i = 0; i < n; i++) {
            if (!pfd[i].revents)
                continue;
            if (pfd[i].fd == ofd)
                xsnapCommandCollect(&ofd, obuf);
            else
                xsnapCommandCollect(&efd, ebuf);
        }
    }

    /* Wait for the exit, killing the child once the deadline passes.
     * The child usually exits right after closing its output: a pidfd
     * wakes us then, where a fixed sleep added up to its length to
     * every command. */
    pidfd = timedOut ? -1 : pidfd_open(pid, 0);
    for (unsigned int nap = 50;; nap = MIN(nap * 2, 2000)) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        gint64 left;

        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            timedOut = true;
        if (timedOut) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        if (pidfd >= 0) {
            struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
            poll(&pfd, 1, (int)MIN(left, G_MAXINT));
        } else {
            g_usleep(nap);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    if (ofd >= 0)
        close(ofd);
    if (efd >= 0)
        close(efd);
    g_spawn_close_pid(pid);

    g_strstrip(ebuf->str);
    if (timedOut) {
        xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                         _("'%1$s' did not finish within %2$u ms and was killed: %3$s"),
                         cmdline, timeoutMs, ebuf->str);
        return -1;
    }
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("'%1$s' failed (%2$s): %3$s"),
                         cmdline,
                         status != -1 && WIFEXITED(status) ?
                         _("non-zero exit status") : _("killed by a signal"),
                         ebuf->len ? ebuf->str : _("no error output"));
        return -1;
    }
    if (out)
        *out = g_string_free(g_steal_pointer(&obuf), FALSE);
    return 0;
}

int
xsnapCommandRun(const char *const *argv, unsigned int timeoutMs, char **out)
{
    xsnapCommand *cmd = xsnapCommandStart(argv, timeoutMs);

    if (!cmd)
        return -1;
    return xsnapCommandWait(cmd, out);
}


const char *
xsnapQemuImgBinary(void)
{
    const char *env = getenv("XSNAP_QEMU_IMG");

    return env && *env ? env : "qemu-img";
}


unsigned int
xsnapQemuImgTimeoutMs(void)
{
    const char *env = getenv("XSNAP_QEMU_IMG_TIMEOUT_MS");
    guint64 val;

    if (env && g_ascii_string_to_unsigned(env, 10, 1, G_MAXUINT, &val, NULL))
        return (unsigned int)val;
    return 600 * 1000;
}


void
xsnapQemuImgInfoFree(xsnapQemuImgInfo *info)
{
    if (!info)
        return;
    g_free(info->format);
    g_free(info->backingFile);
    g_free(info->backingFormat);
    g_strfreev(info->snapshots);
    g_free(info);
}


static const char *
xsnapJSONString(json_object *obj, const char *key)
{
    json_object *val;

    if (!json_object_object_get_ex(obj, key, &val) ||
        !json_object_is_type(val, json_type_string))
        return NULL;
    return json_object_get_string(val);
}


xsnapQemuImgInfo *
xsnapQemuImgInfoParse(const char *json, const char *path)
{
    g_autoptr(xsnapQemuImgInfo) info = g_new0(xsnapQemuImgInfo, 1);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *root = NULL;
    json_object *val;
    enum json_tokener_error jerr;

    root = json_tokener_parse_ex(tok, json, (int)strlen(json));
    jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success ||
        !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot parse 'qemu-img info' output for '%1$s'"), path);
        return NULL;
    }

    if (!xsnapJSONString(root, "format")) {
        json_object_put(root);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("'qemu-img info' gave no format for '%1$s'"), path);
        return NULL;
    }
    info->format = g_strdup(xsnapJSONString(root, "format"));
    info->backingFile = g_strdup(xsnapJSONString(root, "backing-filename"));
    info->backingFormat = g_strdup(xsnapJSONString(root, "backing-filename-format"));
    if (json_object_object_get_ex(root, "virtual-size", &val))
        info->virtualSize = (unsigned long long)json_object_get_int64(val);
    if (json_object_object_get_ex(root, "snapshots", &val) &&
        json_object_is_type(val, json_type_array)) {
        size_t n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++) {
            const char *name = xsnapJSONString(json_object_array_get_idx(val, i),
                                               "name");
            if (name)
                g_ptr_array_add(names, g_strdup(name));
        }
    }
    g_ptr_array_add(names, NULL);
    info->snapshots = (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
    json_object_put(root);
    return g_steal_pointer(&info);
}


xsnapQemuImgInfo *
xsnapQemuImgGetInfo(const char *path, const char *format)
{
    const char *argv[9];
    g_autofree char *out = NULL;
    size_t n = 0;

    argv[n++] = xsnapQemuImgBinary();
    argv[n++] = "info";
    argv[n++] = "--output=json";
    argv[n++] = "-U";
    if (format) {
        argv[n++] = "-f";
        argv[n++] = format;
    }
    argv[n++] = path;
    argv[n] = NULL;
    if (xsnapCommandRun(argv, xsnapQemuImgTimeoutMs(), &out) < 0)
        return NULL;
    return xsnapQemuImgInfoParse(out, path);
}


bool
xsnapQemuImgInfoHasSnapshot(const xsnapQemuImgInfo *info, const char *name)
{
    return g_strv_contains((const char *const *)info->snapshots, name);
}


int
xsnapQemuImgSnapshot(xsnapQemuImgSnapshotOp op, const char *path,
                     const char *name)
{
    static const char *const opFlag[] = { "-c", "-a", "-d" };
    const char *argv[] = { xsnapQemuImgBinary(), "snapshot", "-q",
                           opFlag[op], name, path, NULL };

    G_STATIC_ASSERT(G_N_ELEMENTS(opFlag) == XSNAP_QEMU_IMG_SNAPSHOT_LAST);
    return xsnapCommandRun(argv, xsnapQemuImgTimeoutMs(), NULL);
}


int
xsnapQemuImgSnapshotList(const char *path, GStrv *names)
{
    g_autoptr(xsnapQemuImgInfo) info = xsnapQemuImgGetInfo(path, "qcow2");

    if (!info)
        return -1;
    *names = g_steal_pointer(&info->snapshots);
    return 0;
}


int
xsnapQemuImgCreateOverlay(const char *path, const char *backing,
                          const char *backingFormat)
{
    const char *argv[] = { xsnapQemuImgBinary(), "create", "-q", "-f", "qcow2",
                           "-F", backingFormat, "-b", backing, path, NULL };

    return xsnapCommandRun(argv, xsnapQemuImgTimeoutMs(), NULL);
}


xsnapCommand *
xsnapQemuImgCreateOverlayStart(const char *path, const char *backing,
                               const char *backingFormat)
{
    const char *argv[] = { xsnapQemuImgBinary(), "create", "-q", "-f", "qcow2",
                           "-F", backingFormat, "-b", backing, path, NULL };

    return xsnapCommandStart(argv, xsnapQemuImgTimeoutMs());
}


int
xsnapQemuImgCommit(const char *path, const char *base)
{
    const char *argv[11];
    size_t n = 0;

    argv[n++] = xsnapQemuImgBinary();
    argv[n++] = "commit";
    argv[n++] = "-q";
    argv[n++] = "-f";
    argv[n++] = "qcow2";
    argv[n++] = "-d";
    if (base) {
        argv[n++] = "-b";
        argv[n++] = base;
    }
    argv[n++] = path;
    argv[n] = NULL;
    return xsnapCommandRun(argv, xsnapQemuImgTimeoutMs(), NULL);
}


int
xsnapQemuImgRebase(const char *path, const char *backing,
                   const char *backingFormat, bool unsafe)
{
    const char *argv[13];
    size_t n = 0;

    argv[n++] = xsnapQemuImgBinary();
    argv[n++] = "rebase";
    argv[n++] = "-q";
    argv[n++] = "-f";
    argv[n++] = "qcow2";
    if (unsafe)
        argv[n++] = "-u";
    argv[n++] = "-F";
    argv[n++] = backingFormat;
    argv[n++] = "-b";
    argv[n++] = backing;
    argv[n++] = path;
    argv[n] = NULL;
    return xsnapCommandRun(argv, xsnapQemuImgTimeoutMs(), NULL);
}
