/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * faulttest.c: the fault points that fault and crash tests drive
 */
#include <config.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "testutils.h"
#include "util_error.h"

static char *faultFile;


static int
writeFaults(const char *text)
{
    if (!g_file_set_contents(faultFile, text, -1, NULL)) {
        xsnapTestFail("cannot write %s", faultFile);
        return -1;
    }
    return 0;
}


/* Without XSNAP_FAULT_FILE every point passes and nothing is written. */
static int
testInert(const void *data XSNAP_UNUSED)
{
    g_autofree char *trace = g_strdup_printf("%s.trace", faultFile);

    unsetenv("XSNAP_FAULT_FILE");
    if (writeFaults("fail create:disks\n") < 0)
        return -1;
    if (xsnapFaultPoint("create:disks") != 0 ||
        g_file_test(trace, G_FILE_TEST_EXISTS)) {
        xsnapTestFail("an unset XSNAP_FAULT_FILE injected or traced");
        return -1;
    }
    return 0;
}


/* Only the named point fails, with its name in the error; every point
 * reached is traced in order. */
static int
testFail(const void *data XSNAP_UNUSED)
{
    g_autofree char *trace = g_strdup_printf("%s.trace", faultFile);
    g_autofree char *traced = NULL;

    unlink(trace);
    setenv("XSNAP_FAULT_FILE", faultFile, 1);
    if (writeFaults("# comment\n  fail\tcreate:disks  \nfail\ncrash\n"
                    "fail revert:disks-extra\n") < 0)
        return -1;
    xsnapResetLastError();
    if (xsnapFaultPoint("create:memory") != 0 ||
        xsnapFaultPoint("revert:disks") != 0 ||
        xsnapGetLastErrorCode() != VIR_ERR_OK) {
        xsnapTestFail("a point not named failed");
        return -1;
    }
    if (xsnapFaultPoint("create:disks") != -1 ||
        xsnapGetLastErrorCode() != VIR_ERR_OPERATION_FAILED ||
        !strstr(xsnapGetLastErrorMessage(), "'create:disks'")) {
        xsnapTestFail("the named point did not fail as expected: %s",
                      xsnapGetLastErrorMessage() ? xsnapGetLastErrorMessage() : "");
        return -1;
    }
    xsnapResetLastError();
    if (!g_file_get_contents(trace, &traced, NULL, NULL) ||
        !g_str_equal(traced, "create:memory\nrevert:disks\ncreate:disks\n")) {
        xsnapTestFail("unexpected trace '%s'", traced ? traced : "(none)");
        return -1;
    }
    /* A missing fault file injects nothing but still traces. */
    unlink(faultFile);
    if (xsnapFaultPoint("create:disks") != 0) {
        xsnapTestFail("a missing fault file injected a failure");
        return -1;
    }
    return 0;
}


/* A crash point kills the process with SIGKILL, as kill -9 would. */
static int
testCrash(const void *data XSNAP_UNUSED)
{
    int status = 0;
    pid_t pid;

    setenv("XSNAP_FAULT_FILE", faultFile, 1);
    if (writeFaults("crash delete:metadata\n") < 0)
        return -1;
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        xsnapFaultPoint("delete:disk");
        xsnapFaultPoint("delete:metadata");
        _exit(0);
    }
    if (waitpid(pid, &status, 0) != pid ||
        !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        xsnapTestFail("the crash point did not kill the process (status %d)", status);
        return -1;
    }
    return 0;
}


static int
mymain(void)
{
    int ret = 0;

    faultFile = g_build_filename(xsnapTestTmpDir(), "faults", NULL);
    ret |= xsnapTestRun("inert without XSNAP_FAULT_FILE", testInert, NULL);
    ret |= xsnapTestRun("fail at a named point, trace every point", testFail, NULL);
    ret |= xsnapTestRun("crash at a named point", testCrash, NULL);
    unsetenv("XSNAP_FAULT_FILE");
    g_free(faultFile);
    return ret;
}

XSNAP_TEST_MAIN(mymain)
