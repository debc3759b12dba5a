/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_dm.c: the device model of a simulated domain (a real QEMU)
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "fx_dm.h"
#include "fx_state.h"

extern char **environ;

char *
fxDmQmpPath(uint32_t domid, const char *kind)
{
    return g_strdup_printf("%s/qmp-%s-%u", fxQmpDir(), kind, domid);
}

/* QEMU option values double their commas. */
static char *
fxDmEscape(const char *s)
{
    GString *out = g_string_new(NULL);
    for (; *s; s++) {
        if (*s == ',')
            g_string_append_c(out, ',');
        g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

static bool
fxDmSocketReady(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;
    bool ok;

    if (strlen(path) >= sizeof(addr.sun_path))
        return false;
    strcpy(addr.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return false;
    ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return ok;
}

int
fxDmStart(uint32_t domid, const fxDmDisk *disks, size_t ndisks,
          pid_t *pid, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) envp = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *qmp = fxDmQmpPath(domid, "libxl");
    g_autofree char *qmpstat = fxDmQmpPath(domid, "libxenstat");
    g_autofree char *pidfile = fxDomainPath(domid, "qemu.pid");
    g_autofree char *logfile = fxDomainPath(domid, "qemu.log");
    g_autofree char *piddata = NULL;
    g_autofree char *logdata = NULL;
    g_autofree char *qemu = NULL;
    const char *qemuName = g_getenv("FAKEXEN_QEMU");
    size_t i;
    pid_t child;
    int status = 0;
    int logfd;
    int nullfd;
    char **e;

    *pid = 0;
    if (!qemuName || !*qemuName)
        qemuName = "qemu-system-x86_64";
    if (!(qemu = g_find_program_in_path(qemuName))) {
        *err = g_strdup_printf("device model '%s' not found", qemuName);
        return -1;
    }
    if (g_mkdir_with_parents(fxQmpDir(), 0755) < 0) {
        *err = g_strdup_printf("cannot create %s: %s", fxQmpDir(), g_strerror(errno));
        return -1;
    }
    g_unlink(qmp);
    g_unlink(qmpstat);
    g_unlink(pidfile);

    g_ptr_array_add(argv, g_strdup(qemu));
    g_ptr_array_add(argv, g_strdup("-name"));
    g_ptr_array_add(argv, g_strdup_printf("fakexen-dm-%u", domid));
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-nodefaults"));
    g_ptr_array_add(argv, g_strdup("-no-user-config"));
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-qmp"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off", qmp));
    g_ptr_array_add(argv, g_strdup("-qmp"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off", qmpstat));
    g_ptr_array_add(argv, g_strdup("-chardev"));
    g_ptr_array_add(argv, g_strdup("pty,id=serial0"));
    for (i = 0; i < ndisks; i++) {
        g_autofree char *path = fxDmEscape(disks[i].path);
        g_ptr_array_add(argv, g_strdup("-drive"));
        g_ptr_array_add(argv, g_strdup_printf(
            "if=none,id=%s,node-name=fx-%s,file.node-name=fx-%s-file,"
            "file=%s,format=%s,readonly=%s",
            disks[i].vdev, disks[i].vdev, disks[i].vdev, path,
            disks[i].format, disks[i].readonly ? "on" : "off"));
    }
    g_ptr_array_add(argv, g_strdup("-pidfile"));
    g_ptr_array_add(argv, g_strdup(pidfile));
    g_ptr_array_add(argv, g_strdup("-daemonize"));
    g_ptr_array_add(argv, NULL);

    /* The device model must not load the simulator itself. */
    for (e = environ; *e; e++)
        if (!g_str_has_prefix(*e, "LD_PRELOAD="))
            g_ptr_array_add(envp, g_strdup(*e));
    g_ptr_array_add(envp, NULL);

    if ((logfd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        *err = g_strdup_printf("cannot open %s: %s", logfile, g_strerror(errno));
        return -1;
    }
    if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        close(logfd);
        *err = g_strdup_printf("cannot open /dev/null: %s", g_strerror(errno));
        return -1;
    }

    child = fork();
    if (child < 0) {
        close(logfd);
        close(nullfd);
        *err = g_strdup_printf("fork failed: %s", g_strerror(errno));
        return -1;
    }
    if (child == 0) {
        sigset_t all;
        int sig;

        /* Only async-signal-safe calls from here on. */
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (sig = 1; sig < NSIG; sig++)
            signal(sig, SIG_DFL);
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        close_range(3, ~0U, 0);
        execve((const char *)argv->pdata[0], (char **)argv->pdata,
               (char **)envp->pdata);
        _exit(127);
    }
    close(logfd);
    close(nullfd);

    /* With -daemonize the first process exits once QEMU is initialised. */
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
    }
    if (status != 0 ||
        !g_file_get_contents(pidfile, &piddata, NULL, NULL) ||
        (*pid = (pid_t)g_ascii_strtoll(piddata, NULL, 10)) <= 1) {
        g_file_get_contents(logfile, &logdata, NULL, NULL);
        *err = g_strdup_printf("device model failed to start (status %d): %s",
                               status, logdata ? g_strstrip(logdata) : "");
        *pid = 0;
        return -1;
    }
    for (i = 0; i < 500; i++) {
        if (fxDmSocketReady(qmp) && fxDmSocketReady(qmpstat))
            return 0;
        g_usleep(10 * 1000);
    }
    fxDmStop(domid, *pid);
    *pid = 0;
    *err = g_strdup_printf("QMP socket %s of the device model never appeared", qmp);
    return -1;
}

void
fxDmStop(uint32_t domid, pid_t pid)
{
    g_autofree char *qmp = fxDmQmpPath(domid, "libxl");
    g_autofree char *qmpstat = fxDmQmpPath(domid, "libxenstat");

    fxDmKill(pid);
    g_unlink(qmp);
    g_unlink(qmpstat);
}

char *
fxDmConsolePty(uint32_t domid)
{
    g_autofree char *logfile = fxDomainPath(domid, "qemu.log");
    g_autofree char *data = NULL;
    const char *key = "char device redirected to ";
    const char *p;
    const char *end;

    if (!g_file_get_contents(logfile, &data, NULL, NULL))
        return NULL;
    for (p = data; (p = strstr(p, key)); p = end) {
        p += strlen(key);
        if (!(end = strchr(p, ' ')))
            break;
        if (g_str_has_prefix(end, " (label serial0)"))
            return g_strndup(p, (gsize)(end - p));
    }
    return NULL;
}
