/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakexen-ctl: looks at and pokes the simulated Xen host from outside
 *
 * Works on the state directory ($FAKEXEN_STATE_DIR) shared with every
 * process running the simulator; see docs/fakexen.md.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "fx_dm.h"
#include "fx_state.h"

static void
fxCtlUsage(FILE *out)
{
    fputs("usage: fakexen-ctl COMMAND [ARGS]\n"
          "  list                          domains: domid name state reason memkb dm-pid\n"
          "  domid DOM                     the domid of a domain given by name or id\n"
          "  state DOM                     running|paused|shutdown(REASON)|dying\n"
          "  shutdown DOM [REASON]         the guest shuts down by itself; REASON is\n"
          "                                poweroff (default), reboot, crash, watchdog\n"
          "  crash DOM                     the guest crashes (shutdown crash)\n"
          "  dying DOM                     Xen starts tearing the domain down\n"
          "  hold DOM                      its state changes reach no toolstack until\n"
          "  release DOM                   ... this (a toolstack that has not caught up)\n"
          "  mem-size DOM                  bytes of guest memory\n"
          "  mem-write DOM OFFSET TEXT     writes TEXT into guest memory at OFFSET\n"
          "  mem-read DOM OFFSET LEN       prints LEN bytes of guest memory\n"
          "  mem-hash DOM                  SHA-256 of the guest memory\n"
          "  qmp-path DOM                  the device model's QMP socket (libxl's)\n"
          "  qmp DOM JSON                  sends one QMP command, prints the reply\n"
          "  save-rate KIB                 suspends write guest memory at KIB KiB/s (0: no limit)\n"
          "  cleanup                       stops every device model, empties the table\n"
          "  ns-init STOPFILE PIDFILE      (fakexen-host) first process of the host\n",
          out);
}

static int
fxCtlSaveRate(const char *arg)
{
    g_autofree char *path = g_build_filename(fxStateDir(), "save-rate-kib", NULL);
    g_autofree char *text = NULL;
    char *end = NULL;
    guint64 kib = g_ascii_strtoull(arg, &end, 10);
    g_autoptr(GError) err = NULL;

    if (!end || end == arg || *end) {
        fprintf(stderr, "fakexen-ctl: bad rate '%s'\n", arg);
        return 1;
    }
    if (kib == 0) {
        if (unlink(path) < 0 && errno != ENOENT) {
            fprintf(stderr, "fakexen-ctl: %s: %s\n", path, g_strerror(errno));
            return 1;
        }
        return 0;
    }
    text = g_strdup_printf("%" G_GUINT64_FORMAT "\n", kib);
    if (g_mkdir_with_parents(fxStateDir(), 0755) < 0 ||
        !g_file_set_contents(path, text, -1, &err)) {
        fprintf(stderr, "fakexen-ctl: %s: %s\n", path,
                err ? err->message : g_strerror(errno));
        return 1;
    }
    return 0;
}

static int
fxCtlDomid(const char *arg, uint32_t *domid)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(arg, &end, 10);
    int64_t id;

    if (end && end != arg && !*end && v <= G_MAXUINT32) {
        *domid = (uint32_t)v;
        return 0;
    }
    if ((id = fxDomainFindByName(arg)) >= 0) {
        *domid = (uint32_t)id;
        return 0;
    }
    fprintf(stderr, "fakexen-ctl: no domain '%s'\n", arg);
    return -1;
}

static fxDomain *
fxCtlLoad(const char *arg)
{
    uint32_t domid;
    fxDomain *dom;

    if (fxCtlDomid(arg, &domid) < 0)
        return NULL;
    if (!(dom = fxDomainLoad(domid)))
        fprintf(stderr, "fakexen-ctl: no domain %u\n", domid);
    return dom;
}

/* What a command changes in one domain; returns 0, or -1 after printing why. */
typedef int (*fxCtlChangeFunc)(fxDomain *dom, const void *data);

/* Applies @change to domain @arg under the state lock and saves it. */
static int
fxCtlUpdate(const char *arg, fxCtlChangeFunc change, const void *data)
{
    g_autoptr(fxDomain) dom = NULL;
    int lock;
    int rc = 1;

    if ((lock = fxStateLock()) < 0) {
        perror("fakexen-ctl: lock");
        return 1;
    }
    if ((dom = fxCtlLoad(arg)) && change(dom, data) == 0) {
        if (fxDomainSave(dom) < 0)
            perror("fakexen-ctl: save");
        else
            rc = 0;
    }
    fxStateUnlock(lock);
    return rc;
}

static int
fxCtlChangeShutdown(fxDomain *dom, const void *data)
{
    if (dom->state != FX_STATE_RUNNING) {
        fprintf(stderr, "fakexen-ctl: domain %u is not running\n", dom->domid);
        return -1;
    }
    fxDomainSetShutdown(dom, *(const int *)data);
    return 0;
}

static int
fxCtlChangeDying(fxDomain *dom, const void *data G_GNUC_UNUSED)
{
    dom->state = FX_STATE_DYING;
    return 0;
}

static int
fxCtlChangeHeld(fxDomain *dom, const void *data)
{
    dom->held = *(const bool *)data;
    return 0;
}

static int
fxCtlShutdown(const char *arg, const char *reasonStr)
{
    int reason = reasonStr ? fxReasonTypeFromString(reasonStr) : FX_REASON_POWEROFF;

    if (reason < 0 || reason == FX_REASON_SUSPEND || reason == FX_REASON_SOFT_RESET) {
        fprintf(stderr, "fakexen-ctl: bad shutdown reason '%s'\n", reasonStr);
        return 1;
    }
    return fxCtlUpdate(arg, fxCtlChangeShutdown, &reason);
}

static int
fxCtlSetHeld(const char *arg, bool held)
{
    return fxCtlUpdate(arg, fxCtlChangeHeld, &held);
}

static int
fxCtlMemOpen(const char *arg, int flags, uint64_t *size)
{
    g_autoptr(fxDomain) dom = fxCtlLoad(arg);
    g_autofree char *path = NULL;
    int fd;

    if (!dom)
        return -1;
    path = fxDomainPath(dom->domid, "memory");
    if ((fd = open(path, flags | O_CLOEXEC)) < 0) {
        fprintf(stderr, "fakexen-ctl: %s: %s\n", path, g_strerror(errno));
        return -1;
    }
    *size = dom->blobsize;
    return fd;
}

static int
fxCtlMemRange(const char *offStr, const char *lenStr, uint64_t size,
              uint64_t *off, uint64_t *len)
{
    *off = g_ascii_strtoull(offStr, NULL, 0);
    *len = g_ascii_strtoull(lenStr, NULL, 0);
    if (*off > size || *len > size - *off) {
        fprintf(stderr, "fakexen-ctl: range %s+%s is outside guest memory (%" G_GUINT64_FORMAT " bytes)\n",
                offStr, lenStr, size);
        return -1;
    }
    return 0;
}

static int
fxCtlMemWrite(const char *arg, const char *offStr, const char *text)
{
    g_autofree char *lenStr = g_strdup_printf("%zu", strlen(text));
    uint64_t size, off, len;
    int lock = fxStateLock();
    int fd = fxCtlMemOpen(arg, O_WRONLY, &size);
    int ret = 1;

    if (fd >= 0 && fxCtlMemRange(offStr, lenStr, size, &off, &len) == 0) {
        if (pwrite(fd, text, len, (off_t)off) == (ssize_t)len)
            ret = 0;
        else
            perror("fakexen-ctl: write");
    }
    if (fd >= 0)
        close(fd);
    fxStateUnlock(lock);
    return ret;
}

static int
fxCtlMemRead(const char *arg, const char *offStr, const char *lenStr)
{
    g_autofree char *buf = NULL;
    uint64_t size, off, len;
    int fd = fxCtlMemOpen(arg, O_RDONLY, &size);
    int ret = 1;

    if (fd < 0 || fxCtlMemRange(offStr, lenStr, size, &off, &len) < 0)
        goto cleanup;
    buf = g_malloc(len + 1);
    if (pread(fd, buf, len, (off_t)off) != (ssize_t)len) {
        perror("fakexen-ctl: read");
        goto cleanup;
    }
    if (fxWriteFull(STDOUT_FILENO, buf, len) == 0)
        ret = 0;
 cleanup:
    if (fd >= 0)
        close(fd);
    return ret;
}

static int
fxCtlMemHash(const char *arg)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    char buf[65536];
    uint64_t size;
    ssize_t n;
    int fd = fxCtlMemOpen(arg, O_RDONLY, &size);

    if (fd < 0)
        return 1;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        g_checksum_update(sum, (const guchar *)buf, (gsize)n);
    close(fd);
    if (n < 0) {
        perror("fakexen-ctl: read");
        return 1;
    }
    printf("%s\n", g_checksum_get_string(sum));
    return 0;
}

/* Reads one line (a QMP message) into @line; 0, or -1 at EOF/error. */
static int
fxCtlReadLine(FILE *f, GString *line)
{
    int c;

    g_string_truncate(line, 0);
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') {
            if (line->len > 0 && line->str[line->len - 1] == '\r')
                g_string_truncate(line, line->len - 1);
            return 0;
        }
        g_string_append_c(line, (char)c);
    }
    return -1;
}

/* Reads until a reply (not an event); returns it in @line. */
static int
fxCtlQmpReply(FILE *f, GString *line)
{
    while (fxCtlReadLine(f, line) == 0) {
        if (strstr(line->str, "\"return\"") || strstr(line->str, "\"error\""))
            return 0;
    }
    return -1;
}

static int
fxCtlQmp(const char *arg, const char *cmd)
{
    g_autoptr(fxDomain) dom = fxCtlLoad(arg);
    g_autofree char *path = NULL;
    g_autoptr(GString) line = g_string_new(NULL);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    FILE *f;
    int fd;
    int i;

    if (!dom)
        return 1;
    path = fxDmQmpPath(dom->domid, "libxl");
    if (strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "fakexen-ctl: socket path too long: %s\n", path);
        return 1;
    }
    strcpy(addr.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        perror("fakexen-ctl: socket");
        return 1;
    }
    /* The socket serves one client at a time: retry while it is busy. */
    for (i = 0; connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0; i++) {
        if (i >= 100) {
            fprintf(stderr, "fakexen-ctl: connect %s: %s\n", path, g_strerror(errno));
            close(fd);
            return 1;
        }
        g_usleep(50 * 1000);
    }
    if (!(f = fdopen(fd, "r+"))) {
        close(fd);
        return 1;
    }
    /* Greeting, then capabilities negotiation, then the command. */
    if (fxCtlReadLine(f, line) < 0 ||
        fputs("{\"execute\":\"qmp_capabilities\"}\n", f) < 0 || fflush(f) != 0 ||
        fxCtlQmpReply(f, line) < 0 ||
        fprintf(f, "%s\n", cmd) < 0 || fflush(f) != 0 ||
        fxCtlQmpReply(f, line) < 0) {
        fprintf(stderr, "fakexen-ctl: QMP conversation on %s failed\n", path);
        fclose(f);
        return 1;
    }
    fclose(f);
    printf("%s\n", line->str);
    return strstr(line->str, "\"error\"") ? 2 : 0;
}

static int
fxCtlCleanup(void)
{
    size_t n, i;
    g_autofree uint32_t *ids = fxDomainListIds(&n);
    int lock = fxStateLock();

    for (i = 0; i < n; i++) {
        g_autoptr(fxDomain) dom = fxDomainLoad(ids[i]);
        if (dom)
            fxDmStop(dom->domid, dom->dmpid);
        fxDomainRemove(ids[i]);
    }
    fxStateUnlock(lock);
    return 0;
}

static void
fxCtlReap(void)
{
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0)
        ;
}

/*
 * The first process of the host's PID namespace (used by fakexen-host):
 * reaps orphans (daemonized device models end up here) until @stopFile
 * appears, then stops libvirtd (pid in @pidFile) and every device model.
 * Its exit ends the namespace and with it any process left inside.
 */
static int
fxCtlNsInit(const char *stopFile, const char *pidFile)
{
    g_autofree char *pidData = NULL;
    pid_t pid = 0;
    int i;

    signal(SIGTERM, SIG_DFL);
    while (!g_file_test(stopFile, G_FILE_TEST_EXISTS)) {
        fxCtlReap();
        g_usleep(100 * 1000);
    }
    if (g_file_get_contents(pidFile, &pidData, NULL, NULL))
        pid = (pid_t)g_ascii_strtoll(pidData, NULL, 10);
    if (pid > 1 && kill(pid, SIGTERM) == 0) {
        for (i = 0; i < 50 && waitpid(pid, NULL, WNOHANG) == 0; i++)
            g_usleep(100 * 1000);
    }
    fxCtlReap();
    return fxCtlCleanup();
}

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    if (!cmd || g_str_equal(cmd, "-h") || g_str_equal(cmd, "--help")) {
        fxCtlUsage(cmd ? stdout : stderr);
        return cmd ? 0 : 1;
    }
    if (g_str_equal(cmd, "list") && argc == 2) {
        size_t n, i;
        g_autofree uint32_t *ids = fxDomainListIds(&n);
        for (i = 0; i < n; i++) {
            g_autoptr(fxDomain) dom = fxDomainLoad(ids[i]);
            if (dom)
                printf("%u %s %s %s %" G_GUINT64_FORMAT " %d\n", dom->domid, dom->name,
                       fxStateTypeToString(dom->state), fxReasonTypeToString(dom->reason),
                       dom->memkb, (int)dom->dmpid);
        }
        return 0;
    }
    if (g_str_equal(cmd, "domid") && argc == 3) {
        g_autoptr(fxDomain) dom = fxCtlLoad(argv[2]);
        if (!dom)
            return 1;
        printf("%u\n", dom->domid);
        return 0;
    }
    if (g_str_equal(cmd, "state") && argc == 3) {
        g_autoptr(fxDomain) dom = fxCtlLoad(argv[2]);
        if (!dom)
            return 1;
        if (dom->state == FX_STATE_SHUTDOWN)
            printf("shutdown(%s)\n", fxReasonTypeToString(dom->reason));
        else
            printf("%s\n", fxStateTypeToString(dom->state));
        return 0;
    }
    if (g_str_equal(cmd, "shutdown") && (argc == 3 || argc == 4))
        return fxCtlShutdown(argv[2], argc == 4 ? argv[3] : NULL);
    if (g_str_equal(cmd, "crash") && argc == 3)
        return fxCtlShutdown(argv[2], "crash");
    if (g_str_equal(cmd, "dying") && argc == 3)
        return fxCtlUpdate(argv[2], fxCtlChangeDying, NULL);
    if (g_str_equal(cmd, "hold") && argc == 3)
        return fxCtlSetHeld(argv[2], true);
    if (g_str_equal(cmd, "release") && argc == 3)
        return fxCtlSetHeld(argv[2], false);
    if (g_str_equal(cmd, "mem-size") && argc == 3) {
        g_autoptr(fxDomain) dom = fxCtlLoad(argv[2]);
        if (!dom)
            return 1;
        printf("%" G_GUINT64_FORMAT "\n", dom->blobsize);
        return 0;
    }
    if (g_str_equal(cmd, "mem-write") && argc == 5)
        return fxCtlMemWrite(argv[2], argv[3], argv[4]);
    if (g_str_equal(cmd, "mem-read") && argc == 5)
        return fxCtlMemRead(argv[2], argv[3], argv[4]);
    if (g_str_equal(cmd, "mem-hash") && argc == 3)
        return fxCtlMemHash(argv[2]);
    if (g_str_equal(cmd, "qmp-path") && argc == 3) {
        g_autoptr(fxDomain) dom = fxCtlLoad(argv[2]);
        g_autofree char *path = NULL;
        if (!dom)
            return 1;
        path = fxDmQmpPath(dom->domid, "libxl");
        printf("%s\n", path);
        return 0;
    }
    if (g_str_equal(cmd, "qmp") && argc == 4)
        return fxCtlQmp(argv[2], argv[3]);
    if (g_str_equal(cmd, "save-rate") && argc == 3)
        return fxCtlSaveRate(argv[2]);
    if (g_str_equal(cmd, "cleanup") && argc == 2)
        return fxCtlCleanup();
    if (g_str_equal(cmd, "ns-init") && argc == 4)
        return fxCtlNsInit(argv[2], argv[3]);
    fxCtlUsage(stderr);
    return 1;
}
