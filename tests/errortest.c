/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * errortest.c: the error model and the text buffer
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "testutils.h"
#include "util_error.h"
#include "util_buf.h"

static int
testErrorLast(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapError) saved = NULL;

    if (xsnapGetLastErrorCode() != VIR_ERR_OK)
        return -1;
    xsnapReportError(VIR_ERR_XML_ERROR, "bad '%1$s' in '%2$s'", "a", "b");
    if (xsnapGetLastErrorCode() != VIR_ERR_XML_ERROR ||
        !g_str_equal(xsnapGetLastErrorMessage(), "bad 'a' in 'b'"))
        return -1;
    saved = xsnapSaveLastError();
    xsnapReportSystemError(ENOENT, "cannot open '%s'", "/x");
    if (xsnapGetLastErrorCode() != VIR_ERR_SYSTEM_ERROR ||
        !strstr(xsnapGetLastErrorMessage(), "No such file"))
        return -1;
    xsnapRestoreLastError(g_steal_pointer(&saved));
    if (xsnapGetLastErrorCode() != VIR_ERR_XML_ERROR)
        return -1;
    xsnapResetLastError();
    return xsnapGetLastError() == NULL ? 0 : -1;
}


static gpointer
threadBody(gpointer opaque XSNAP_UNUSED)
{
    /* Each thread has its own last error. */
    return GINT_TO_POINTER(xsnapGetLastError() == NULL);
}


static int
testErrorPerThread(const void *data XSNAP_UNUSED)
{
    GThread *th;

    xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s", "main thread");
    th = g_thread_new("t", threadBody, NULL);
    if (!GPOINTER_TO_INT(g_thread_join(th)))
        return -1;
    return xsnapGetLastErrorCode() == VIR_ERR_INTERNAL_ERROR ? 0 : -1;
}


static int
testBuf(const void *data XSNAP_UNUSED)
{
    g_auto_xsnapBuf buf = XSNAP_BUF_INIT;
    g_auto_xsnapBuf attr = XSNAP_BUF_INIT;
    g_auto_xsnapBuf child = XSNAP_BUF_INIT;
    g_autofree char *out = NULL;
    const char *expect =
        "<a>\n"
        "  <b x='&lt;&amp;&apos;&quot;&gt;'/>\n"
        "  <t>l1\nl2</t>\n"
        "</a>\n";

    xsnapBufAdd(&buf, "<a>\n");
    xsnapBufAdjustIndent(&buf, 2);
    xsnapBufEscapeString(&attr, " x='%s'", "<&'\">");
    xsnapBufFormatElement(&buf, "b", &attr, &child);
    xsnapBufFormatElement(&buf, "empty", &attr, &child);
    xsnapBufEscapeString(&buf, "<t>%s</t>\n", "l1\nl2\x01");
    xsnapBufEscapeString(&buf, "<none>%s</none>\n", NULL);
    xsnapBufAdjustIndent(&buf, -2);
    xsnapBufAdd(&buf, "</a>\n");
    out = xsnapBufContentAndReset(&buf);
    if (!g_str_equal(out, expect)) {
        xsnapTestFail("got:\n%s", out);
        return -1;
    }
    return 0;
}


static int
mymain(void)
{
    int ret = 0;

    if (xsnapTestRun("error: last error, save and restore", testErrorLast, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("error: one last error per thread", testErrorPerThread, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("buffer: indent, escape, empty elements", testBuf, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
