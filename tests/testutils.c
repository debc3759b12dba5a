/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testutils.c: a small test harness in the manner of libvirt's testutils
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutils.h"
#include "util_error.h"

static unsigned int testCounter;
static char *tmpDir;

void
xsnapTestFail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("    ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}


int
xsnapTestRun(const char *title, xsnapTestFunc body, const void *data)
{
    int ret;

    testCounter++;
    xsnapResetLastError();
    ret = body(data);
    if (ret == EXIT_AM_SKIP) {
        fprintf(stderr, "%3u) %-60s ... SKIP\n", testCounter, title);
        return 0;
    }
    fprintf(stderr, "%3u) %-60s ... %s\n", testCounter, title,
            ret == 0 ? "OK" : "FAILED");
    if (ret != 0 && xsnapGetLastError())
        fprintf(stderr, "    last error: %s\n", xsnapGetLastErrorMessage());
    return ret == 0 ? 0 : -1;
}


const char *
xsnapTestSrcDir(void)
{
    static char *dir;

    if (!dir) {
        const char *top = getenv("abs_top_srcdir");
        dir = g_build_filename(top ? top : ".", "tests", NULL);
    }
    return dir;
}


const char *
xsnapTestTmpDir(void)
{
    if (!tmpDir) {
        const char *env = getenv("XSNAP_TEST_TMP");
        if (env) {
            tmpDir = g_strdup(env);
        } else {
            tmpDir = g_dir_make_tmp("xsnap-test-XXXXXX", NULL);
            if (!tmpDir)
                abort();
        }
    }
    return tmpDir;
}


char *
xsnapTestLoadFile(const char *path)
{
    g_autoptr(GError) err = NULL;
    char *data = NULL;

    if (!g_file_get_contents(path, &data, NULL, &err)) {
        fprintf(stderr, "    cannot read %s: %s\n", path, err->message);
        return NULL;
    }
    return data;
}


int
xsnapTestCompareToFile(const char *actual, const char *expectFile)
{
    g_autofree char *expect = NULL;
    g_autofree char *actualFile = NULL;
    g_autoptr(GError) err = NULL;
    const char *regen = getenv("XSNAP_TEST_REGENERATE");

    if (regen && g_str_equal(regen, "1")) {
        if (!g_file_set_contents(expectFile, actual, -1, &err)) {
            fprintf(stderr, "    cannot write %s: %s\n", expectFile, err->message);
            return -1;
        }
        return 0;
    }

    if (!(expect = xsnapTestLoadFile(expectFile)))
        return -1;
    if (g_str_equal(expect, actual))
        return 0;

    actualFile = g_build_filename(xsnapTestTmpDir(), "actual.XXXXXX", NULL);
    {
        int fd = g_mkstemp(actualFile);
        if (fd >= 0) {
            const char *argv[] = { "diff", "-u", expectFile, actualFile, NULL };
            if (write(fd, actual, strlen(actual)) < 0)
                perror("write");
            close(fd);
            fflush(stderr);
            g_spawn_sync(NULL, (char **)argv, NULL,
                         G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN,
                         NULL, NULL, NULL, NULL, NULL, NULL);
            unlink(actualFile);
        }
    }
    fprintf(stderr, "    expected output differs from %s\n"
            "    regenerate with: XSNAP_TEST_REGENERATE=1 make check\n",
            expectFile);
    return -1;
}
