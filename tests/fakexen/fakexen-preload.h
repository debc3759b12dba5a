/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakexen-preload.h: run a C test on the simulated Xen host
 *
 * Call fxTestPreload(argv) first in main() and return its result when it
 * is not negative.  The first call runs the program again, as a child, with the
 * simulator preloaded and a private host (state directory under the
 * test's temp dir, QMP sockets in a short /tmp/fakexen-qmp.XXXXXX),
 * waits for it, then stops any device model the
 * child left running (even if it crashed) and returns the child's exit
 * code.  In the child it returns -1: go on with the test.  Returns 99 when the simulator
 * library has not been built.  Needs tests/testutils.h and GLib.
 */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutils.h"

/* Kills every device model recorded under @state (SIGKILL). */
static inline void
fxTestKillDeviceModels(const char *state)
{
    g_autofree char *dir = g_build_filename(state, "domains", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *ent;

    if (!d)
        return;
    while ((ent = g_dir_read_name(d))) {
        g_autofree char *pidfile = g_build_filename(dir, ent, "qemu.pid", NULL);
        g_autofree char *data = NULL;
        long pid;

        if (g_file_get_contents(pidfile, &data, NULL, NULL) &&
            (pid = strtol(data, NULL, 10)) > 1) {
            fprintf(stderr, "fakexen: stopping leftover device model %ld of domain %s\n",
                    pid, ent);
            kill((pid_t)pid, SIGKILL);
        }
    }
    g_dir_close(d);
}

/* Kills and reaps every process left to us as subreaper (a device model
 * whose owner died while starting it, before its pid was recorded). */
static inline void
fxTestKillOrphans(void)
{
    g_autofree char *path = g_strdup_printf("/proc/self/task/%d/children", (int)getpid());
    int round;

    for (round = 0; round < 20; round++) {
        g_autofree char *data = NULL;
        g_auto(GStrv) pids = NULL;
        size_t i;

        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (!g_file_get_contents(path, &data, NULL, NULL) || !*g_strstrip(data))
            return;
        pids = g_strsplit(data, " ", -1);
        for (i = 0; pids[i]; i++) {
            long pid = strtol(pids[i], NULL, 10);
            if (pid > 1)
                kill((pid_t)pid, SIGKILL);
        }
        g_usleep(50 * 1000);
    }
}

/* Removes the QMP directory and any socket left in it. */
static inline void
fxTestRemoveDir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *ent;

    if (d) {
        while ((ent = g_dir_read_name(d))) {
            g_autofree char *path = g_build_filename(dir, ent, NULL);
            unlink(path);
        }
        g_dir_close(d);
    }
    rmdir(dir);
}

static inline int
fxTestPreload(char **argv)
{
    const char *top = g_getenv("abs_top_builddir");
    const char *old = g_getenv("ASAN_OPTIONS");
    g_autofree char *preload = NULL;
    g_autofree char *state = NULL;
    g_autofree char *qmp = NULL;
    g_autofree char *asan = NULL;
    pid_t child;
    int status = 0;

    if (g_getenv("FAKEXEN_TEST_PRELOADED"))
        return -1;
    if (!top) {
        fprintf(stderr, "abs_top_builddir is not set: run through make check\n");
        return EXIT_AM_HARDFAIL;
    }
    preload = g_build_filename(top, "tests", "fakexen", ".libs", "libfakexen.so", NULL);
    if (!g_file_test(preload, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "%s is missing\n", preload);
        return EXIT_AM_HARDFAIL;
    }
    state = g_build_filename(xsnapTestTmpDir(), "fakexen", NULL);
    /* Short: the build tree can be too deep for unix socket paths. */
    qmp = g_strdup("/tmp/fakexen-qmp.XXXXXX");
    if (!g_mkdtemp(qmp)) {
        perror("mkdtemp");
        return EXIT_AM_HARDFAIL;
    }
    g_setenv("LD_PRELOAD", preload, TRUE);
    g_setenv("FAKEXEN_STATE_DIR", state, TRUE);
    g_setenv("FAKEXEN_QMP_DIR", qmp, TRUE);
    g_setenv("FAKEXEN_TEST_PRELOADED", "1", TRUE);
    /* The sanitizer runtime refuses a library preloaded ahead of it; the
     * simulator is not instrumented, so the order does not matter. */
    asan = g_strdup_printf("%s%sverify_asan_link_order=0", old ? old : "", old ? ":" : "");
    g_setenv("ASAN_OPTIONS", asan, TRUE);

    /* Daemonized device models become our children, not init's: we can
     * reap them and they never outlive a test that fails. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    fflush(NULL);
    if ((child = fork()) < 0) {
        perror("fork");
        return EXIT_AM_HARDFAIL;
    }
    if (child == 0) {
        execv("/proc/self/exe", argv);
        perror("execv /proc/self/exe");
        _exit(EXIT_AM_HARDFAIL);
    }
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            status = EXIT_AM_HARDFAIL << 8;
            break;
        }
    }
    fxTestKillDeviceModels(state);
    fxTestKillOrphans();
    fxTestRemoveDir(qmp);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "test killed by signal %d\n", WTERMSIG(status));
        return EXIT_FAILURE;
    }
    return WEXITSTATUS(status);
}
