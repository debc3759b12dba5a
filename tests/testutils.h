/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testutils.h: a small test harness in the manner of libvirt's testutils
 *
 * Exit codes follow automake: 0 pass, 77 skip, 99 hard error, else fail.
 */
#pragma once

#include "internal.h"

#define EXIT_AM_SKIP 77
#define EXIT_AM_HARDFAIL 99

typedef int (*xsnapTestFunc)(const void *data);

/* Runs one case, prints its result and returns 0 or -1. */
int xsnapTestRun(const char *title, xsnapTestFunc body, const void *data);

/* Directory of test data (the source tree's tests/). */
const char *xsnapTestSrcDir(void);
/* Per-test scratch directory (inside the build tree), created on demand. */
const char *xsnapTestTmpDir(void);

/*
 * Compares @actual with the contents of @expectFile. With
 * XSNAP_TEST_REGENERATE=1 in the environment, rewrites the file instead.
 * On mismatch prints a unified diff and returns -1.
 */
int xsnapTestCompareToFile(const char *actual, const char *expectFile);

/* Reads a whole file; returns NULL and prints why on failure. */
char *xsnapTestLoadFile(const char *path);

/* Prints a failure message for the case being run (only with VERBOSE set). */
void xsnapTestFail(const char *fmt, ...) XSNAP_FMT_PRINTF(1, 2);

#define XSNAP_TEST_MAIN(func) \
    int main(int argc XSNAP_UNUSED, char **argv XSNAP_UNUSED) \
    { \
        int ret = func(); \
        return ret == 0 ? EXIT_SUCCESS : \
               ret == EXIT_AM_SKIP ? EXIT_AM_SKIP : EXIT_FAILURE; \
    }
