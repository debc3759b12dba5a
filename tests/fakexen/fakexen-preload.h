/*
 * fakexen-preload.h: run a C test on the simulated Xen host
 *
 * Call fxTestPreload(argv) first in main().  The first time it
 * re-executes the program with the simulator preloaded and a private
 * host (state and QMP directories under the test's temp dir); in the
 * re-executed program it returns 0.  It returns an exit code for main
 * (99 when the simulator library is missing, i.e. not built) on failure.
 * Needs tests/testutils.h (xsnapTestTmpDir) and GLib.
 */
#pragma once

#include <stdio.h>
#include <unistd.h>

#include "testutils.h"

static inline int
fxTestPreload(char **argv)
{
    const char *top = g_getenv("abs_top_builddir");
    const char *old = g_getenv("ASAN_OPTIONS");
    g_autofree char *preload = NULL;
    g_autofree char *state = NULL;
    g_autofree char *qmp = NULL;
    g_autofree char *asan = NULL;

    if (g_getenv("FAKEXEN_TEST_PRELOADED"))
        return 0;
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
    qmp = g_build_filename(state, "qmp", NULL);
    g_setenv("LD_PRELOAD", preload, TRUE);
    g_setenv("FAKEXEN_STATE_DIR", state, TRUE);
    g_setenv("FAKEXEN_QMP_DIR", qmp, TRUE);
    g_setenv("FAKEXEN_TEST_PRELOADED", "1", TRUE);
    /* The sanitizer runtime refuses a library preloaded ahead of it; the
     * simulator is not instrumented, so the order does not matter. */
    asan = g_strdup_printf("%s%sverify_asan_link_order=0", old ? old : "", old ? ":" : "");
    g_setenv("ASAN_OPTIONS", asan, TRUE);
    execv("/proc/self/exe", argv);
    perror("execv /proc/self/exe");
    return EXIT_AM_HARDFAIL;
}
