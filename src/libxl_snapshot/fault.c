/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fault.c: injected failures and crashes at named steps (see fault.h)
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "util_error.h"

#define XSNAP_FAULT_PAUSE_MAX_MS 60000

/* Appends @point to the trace file; best effort. */
static void
xsnapFaultTrace(const char *file, const char *point)
{
    g_autofree char *path = g_strdup_printf("%s.trace", file);
    g_autofree char *line = g_strdup_printf("%s\n", point);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0)
        return;
    if (write(fd, line, strlen(line)) < 0)
        g_debug("cannot trace fault point '%s': %s", point, g_strerror(errno));
    close(fd);
}


/* The action the fault file gives @point ("fail", "crash", "pause"),
 * or NULL. Caller frees. */
static char *
xsnapFaultAction(const char *file, const char *point)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(file, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (size_t i = 0; lines[i]; i++) {
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(lines[i]), " \t", 2);

        if (words[0] && words[1] && g_str_equal(g_strstrip(words[1]), point))
            return g_strdup(words[0]);
    }
    return NULL;
}


int
xsnapFaultPoint(const char *point)
{
    const char *file = getenv("XSNAP_FAULT_FILE");
    g_autofree char *action = NULL;

    if (!file || !*file)
        return 0;
    xsnapFaultTrace(file, point);
    /* A pause holds the step, whatever it holds, until the test removes
     * the line; a test that never does is not waited for over a minute. */
    for (int waited = 0; (action = xsnapFaultAction(file, point)) &&
         g_str_equal(action, "pause") && waited < XSNAP_FAULT_PAUSE_MAX_MS;
         waited += 20) {
        g_clear_pointer(&action, g_free);
        g_usleep(20 * 1000);
    }
    if (!action)
        return 0;
    if (g_str_equal(action, "crash"))
        raise(SIGKILL);
    if (g_str_equal(action, "fail")) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("injected fault at step '%1$s'"), point);
        return -1;
    }
    return 0;
}


void
xsnapTimingLog(const char *what, size_t n, const char *const *names,
               const double *values)
{
    const char *file = getenv("XSNAP_TIMING_FILE");
    g_autoptr(GString) line = NULL;
    int fd;

    if (!file || !*file)
        return;
    line = g_string_new(what);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(line, " %s=%.3f", names[i], values[i]);
    g_string_append_c(line, '\n');
    fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line->str, line->len) < 0)
        g_debug("cannot write timing line: %s", g_strerror(errno));
    close(fd);
}
