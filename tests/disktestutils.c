/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disktestutils.c: real QEMU device models and images for the disk tests
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "disktestutils.h"
#include "qemu_block.h"
#include "qemu_img.h"
#include "testutils.h"
#include "util_error.h"

static GPtrArray *livePids;

static void
xsnapTestKillAll(void)
{
    if (!livePids)
        return;
    for (size_t i = 0; i < livePids->len; i++) {
        GPid pid = GPOINTER_TO_INT(g_ptr_array_index(livePids, i));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    g_ptr_array_set_size(livePids, 0);
}


static void
xsnapTestForget(GPid pid)
{
    if (livePids)
        g_ptr_array_remove(livePids, GINT_TO_POINTER(pid));
}


bool
xsnapTestHaveQemu(void)
{
    g_autofree char *sys = g_find_program_in_path("qemu-system-x86_64");
    g_autofree char *img = g_find_program_in_path("qemu-img");
    g_autofree char *io = g_find_program_in_path("qemu-io");
    g_autofree char *sb = g_find_program_in_path("stdbuf");

    return sys && img && io && sb;
}


char *
xsnapTestMakeDir(const char *name)
{
    char *dir = g_build_filename(xsnapTestTmpDir(), name, NULL);
    const char *argv[] = { "rm", "-rf", dir, NULL };

    xsnapCommandRun(argv, 10000, NULL);
    if (g_mkdir_with_parents(dir, 0700) < 0)
        abort();
    return dir;
}


int
xsnapTestCreateImage(const char *path, const char *format)
{
    const char *argv[] = { "qemu-img", "create", "-q", "-f", format, path, "1M", NULL };

    return xsnapCommandRun(argv, 60000, NULL);
}


static void
xsnapTestChildSetup(gpointer data XSNAP_UNUSED)
{
    /* QEMU must not outlive a crashed test. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}


static xsnapTestQemu *
xsnapTestQemuStartOnce(const char *dir, const xsnapTestDisk *disks, size_t ndisks)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) gerr = NULL;
    xsnapTestQemu *qemu = g_new0(xsnapTestQemu, 1);
    xsnapQemuMonitorConfig cfg;
    int outFd;

    qemu->dir = g_strdup(dir);
    qemu->qmpPath = g_build_filename(dir, "qmp.sock", NULL);
    qemu->outPath = g_build_filename(dir, "qemu.out", NULL);
    unlink(qemu->qmpPath);

    /* qemu-io prints to QEMU's stdout; line buffering lets us read it at once. */
    g_ptr_array_add(argv, g_strdup("stdbuf"));
    g_ptr_array_add(argv, g_strdup("-oL"));
    g_ptr_array_add(argv, g_strdup("qemu-system-x86_64"));
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-nodefaults"));
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-m"));
    g_ptr_array_add(argv, g_strdup("16"));
    g_ptr_array_add(argv, g_strdup("-qmp"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off", qemu->qmpPath));
    for (size_t i = 0; i < ndisks; i++) {
        g_ptr_array_add(argv, g_strdup("-blockdev"));
        g_ptr_array_add(argv, g_strdup_printf("driver=file,filename=%s,node-name=%s-file",
                                              disks[i].path, disks[i].target));
        g_ptr_array_add(argv, g_strdup("-blockdev"));
        g_ptr_array_add(argv, g_strdup_printf("driver=%s,file=%s-file,node-name=%s",
                                              disks[i].format, disks[i].target,
                                              disks[i].target));
    }
    g_ptr_array_add(argv, NULL);

    outFd = open(qemu->outPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (outFd < 0 ||
        !g_spawn_async_with_fds(dir, (char **)argv->pdata, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                xsnapTestChildSetup, NULL, &qemu->pid,
                                -1, outFd, outFd, &gerr)) {
        fprintf(stderr, "    cannot start QEMU: %s\n", gerr ? gerr->message : "open");
        if (outFd >= 0)
            close(outFd);
        xsnapTestQemuStop(qemu);
        return NULL;
    }
    close(outFd);
    if (!livePids) {
        livePids = g_ptr_array_new();
        atexit(xsnapTestKillAll);
    }
    g_ptr_array_add(livePids, GINT_TO_POINTER(qemu->pid));

    /* generous: the machine running the tests may be heavily loaded */
    for (int i = 0; i < 3000 && !g_file_test(qemu->qmpPath, G_FILE_TEST_EXISTS); i++) {
        if (waitpid(qemu->pid, NULL, WNOHANG) == qemu->pid) {
            xsnapTestForget(qemu->pid);
            qemu->pid = 0;
            break;
        }
        g_usleep(10 * 1000);
    }

    xsnapQemuMonitorConfigInit(&cfg);
    /* A QEMU that has just started may take seconds to greet on a loaded
     * machine; the handshake shares the connect deadline. */
    cfg.connectTimeoutMs = 30000;
    cfg.commandTimeoutMs = 20000;
    if (!(qemu->mon = xsnapQemuMonitorOpen(qemu->qmpPath, &cfg))) {
        g_autofree char *out = NULL;
        g_file_get_contents(qemu->outPath, &out, NULL, NULL);
        fprintf(stderr, "    QEMU monitor: %s\n    QEMU said: %s\n",
                xsnapGetLastErrorMessage(), out ? out : "");
        xsnapTestQemuStop(qemu);
        return NULL;
    }
    return qemu;
}


/* Start-up is environment, not the code under test: a QEMU whose
 * monitor did not greet (in time, or as QMP) on an overloaded machine is
 * stopped and started once more. */
xsnapTestQemu *
xsnapTestQemuStart(const char *dir, const xsnapTestDisk *disks, size_t ndisks)
{
    xsnapTestQemu *qemu = xsnapTestQemuStartOnce(dir, disks, ndisks);
    int code = xsnapGetLastErrorCode();

    if (!qemu && (code == VIR_ERR_OPERATION_TIMEOUT || code == VIR_ERR_OPERATION_FAILED)) {
        g_autofree char *qmp = g_build_filename(dir, "qmp.sock", NULL);

        fprintf(stderr, "    QEMU's monitor did not greet: %s; starting it once more\n",
                xsnapGetLastErrorMessage());
        unlink(qmp);
        qemu = xsnapTestQemuStartOnce(dir, disks, ndisks);
    }
    return qemu;
}


void
xsnapTestQemuKill(xsnapTestQemu *qemu)
{
    if (qemu->pid > 0) {
        kill(qemu->pid, SIGKILL);
        waitpid(qemu->pid, NULL, 0);
        xsnapTestForget(qemu->pid);
        qemu->pid = 0;
    }
}


void
xsnapTestQemuStop(xsnapTestQemu *qemu)
{
    if (!qemu)
        return;
    if (qemu->mon && qemu->pid > 0 && !xsnapQemuMonitorIsBroken(qemu->mon)) {
        g_autoptr(xsnapError) saved = xsnapSaveLastError();
        if (xsnapQemuMonitorCommand(qemu->mon, xsnapQemuMonitorCommandNew("quit", NULL),
                                    json_type_null, NULL) == 0) {
            for (int i = 0; i < 500; i++) {
                if (waitpid(qemu->pid, NULL, WNOHANG) == qemu->pid) {
                    xsnapTestForget(qemu->pid);
                    qemu->pid = 0;
                    break;
                }
                g_usleep(10 * 1000);
            }
        }
        xsnapRestoreLastError(g_steal_pointer(&saved));
    }
    xsnapTestQemuKill(qemu);
    xsnapQemuMonitorClose(qemu->mon);
    g_free(qemu->dir);
    g_free(qemu->qmpPath);
    g_free(qemu->outPath);
    g_free(qemu);
}


/* Runs one qemu-io command through HMP and returns what it printed. */
static char *
xsnapTestQemuIo(xsnapTestQemu *qemu, const char *node, const char *cmd)
{
    g_autofree char *line = g_strdup_printf("qemu-io %s \"%s\"", node, cmd);
    g_autofree char *hmp = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    gsize blen = 0;

    g_file_get_contents(qemu->outPath, &before, &blen, NULL);
    if (xsnapQemuHumanCommand(qemu->mon, line, &hmp) < 0)
        return NULL;
    if (hmp && *hmp) {
        fprintf(stderr, "    qemu-io %s: %s\n", node, hmp);
        return NULL;
    }
    if (!g_file_get_contents(qemu->outPath, &after, NULL, NULL))
        return NULL;
    return g_strdup(after + MIN(blen, strlen(after)));
}


int
xsnapTestQemuWrite(xsnapTestQemu *qemu, const char *node,
                   unsigned int pattern, unsigned int offset)
{
    g_autofree char *cmd = g_strdup_printf("write -P 0x%x %u 64k", pattern, offset);
    g_autofree char *out = xsnapTestQemuIo(qemu, node, cmd);

    if (!out || !strstr(out, "wrote 65536/65536")) {
        fprintf(stderr, "    write to %s failed: %s\n", node, out ? out : "");
        return -1;
    }
    return 0;
}


int
xsnapTestQemuCheck(xsnapTestQemu *qemu, const char *node,
                   unsigned int pattern, unsigned int offset)
{
    g_autofree char *cmd = g_strdup_printf("read -P 0x%x %u 64k", pattern, offset);
    g_autofree char *out = xsnapTestQemuIo(qemu, node, cmd);

    if (!out || strstr(out, "Pattern verification failed") ||
        !strstr(out, "read 65536/65536")) {
        fprintf(stderr, "    %s does not hold 0x%x at %u: %s\n", node, pattern,
                offset, out ? out : "");
        return -1;
    }
    return 0;
}


static int
xsnapTestImageIo(const char *path, const char *format, const char *cmd,
                 bool readOnly, const char *expect)
{
    const char *argvRo[] = { "qemu-io", "-U", "-r", "-f", format, "-c", cmd, path, NULL };
    const char *argvRw[] = { "qemu-io", "-f", format, "-c", cmd, path, NULL };
    g_autofree char *out = NULL;

    if (xsnapCommandRun(readOnly ? argvRo : argvRw, 60000, &out) < 0) {
        fprintf(stderr, "    %s\n", xsnapGetLastErrorMessage());
        return -1;
    }
    if (strstr(out, "Pattern verification failed") || !strstr(out, expect)) {
        fprintf(stderr, "    qemu-io %s on %s: %s\n", cmd, path, out);
        return -1;
    }
    return 0;
}


int
xsnapTestImageCheck(const char *path, const char *format,
                    unsigned int pattern, unsigned int offset)
{
    g_autofree char *cmd = g_strdup_printf("read -P 0x%x %u 64k", pattern, offset);

    return xsnapTestImageIo(path, format, cmd, true, "read 65536/65536");
}


int
xsnapTestImageWrite(const char *path, const char *format,
                    unsigned int pattern, unsigned int offset)
{
    g_autofree char *cmd = g_strdup_printf("write -P 0x%x %u 64k", pattern, offset);

    return xsnapTestImageIo(path, format, cmd, false, "wrote 65536/65536");
}


int
xsnapTestCountFiles(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int n = 0;

    if (!d)
        return -1;
    while ((ent = readdir(d))) {
        if (!g_str_equal(ent->d_name, ".") && !g_str_equal(ent->d_name, ".."))
            n++;
    }
    closedir(d);
    return n;
}
