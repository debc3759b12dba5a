/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * utilconftest.c: configuration files in the style of libvirt's
 */
#include <config.h>

#include <string.h>

#include "testutils.h"
#include "util_conf.h"
#include "util_error.h"


static int
testValid(const void *data XSNAP_UNUSED)
{
    const char *text =
        "# a comment\n"
        "\n"
        "   memory_image_format = \"zstd\"   # trailing comment\n"
        "quoted='say \"hi\"'\r\n"
        "level=-3\n"
        "a.b_c = \"\"\n"
        "hash = \"#not a comment\"";
    g_autoptr(xsnapConf) conf = xsnapConfParseString("t.conf", text, strlen(text));
    g_autoptr(xsnapConf) again = NULL;
    g_autofree char *out = NULL;
    const xsnapConfEntry *e;

    if (!conf) {
        xsnapTestFail("%s", xsnapGetLastErrorMessage());
        return -1;
    }
    if (conf->entries->len != 5 ||
        !(e = xsnapConfGet(conf, "memory_image_format")) ||
        e->type != XSNAP_CONF_STRING || !g_str_equal(e->str, "zstd") || e->line != 3 ||
        !(e = xsnapConfGet(conf, "quoted")) || !g_str_equal(e->str, "say \"hi\"") ||
        !(e = xsnapConfGet(conf, "level")) || e->type != XSNAP_CONF_INTEGER || e->num != -3 ||
        !(e = xsnapConfGet(conf, "a.b_c")) || !g_str_equal(e->str, "") ||
        !(e = xsnapConfGet(conf, "hash")) || !g_str_equal(e->str, "#not a comment") ||
        xsnapConfGet(conf, "missing")) {
        xsnapTestFail("the settings read wrong");
        return -1;
    }
    out = xsnapConfFormat(conf);
    if (!out || !(again = xsnapConfParseString("t2.conf", out, strlen(out))) ||
        again->entries->len != 5 ||
        !g_str_equal(xsnapConfGet(again, "quoted")->str, "say \"hi\"")) {
        xsnapTestFail("the settings do not read back: %s", out ? out : "(null)");
        return -1;
    }
    return 0;
}


typedef struct {
    const char *text;
    const char *message;
} badCase;


static int
testInvalid(const void *opaque)
{
    const badCase *c = opaque;
    g_autoptr(xsnapConf) conf = xsnapConfParseString("t.conf", c->text, strlen(c->text));

    if (conf) {
        xsnapTestFail("'%s' parsed", c->text);
        return -1;
    }
    if (xsnapGetLastErrorCode() != VIR_ERR_CONF_SYNTAX ||
        !strstr(xsnapGetLastErrorMessage(), c->message)) {
        xsnapTestFail("got %d '%s'", xsnapGetLastErrorCode(), xsnapGetLastErrorMessage());
        return -1;
    }
    return 0;
}


static int
testFile(const void *data XSNAP_UNUSED)
{
    g_autofree char *missing = g_build_filename(xsnapTestTmpDir(), "none.conf", NULL);
    g_autofree char *sample = g_build_filename(xsnapTestSrcDir(), "..", "docs",
                                               "libxl-snapshot.conf", NULL);
    g_autoptr(xsnapConf) conf = NULL;

    if (xsnapConfReadFile(missing, &conf) < 0 || conf) {
        xsnapTestFail("a missing file is not 'no settings'");
        return -1;
    }
    /* The sample shipped as /etc/libvirt/libxl-snapshot.conf: all
     * comments, every setting at its default. */
    if (xsnapConfReadFile(sample, &conf) < 0 || !conf || conf->entries->len != 0) {
        xsnapTestFail("the sample configuration: %s", xsnapGetLastErrorMessage());
        return -1;
    }
    return 0;
}


static int
mymain(void)
{
    static const badCase bad[] = {
        { "= \"x\"", "t.conf:1: expected the name of a setting" },
        { "\n1abc = 1", "t.conf:2: expected the name of a setting" },
        { "name \"x\"", "t.conf:1: expected '=' after 'name'" },
        { "name = \"x", "t.conf:1: the value of 'name' is an unterminated string" },
        { "name = 'x\n'", "t.conf:1: the value of 'name' is an unterminated string" },
        { "name = x", "t.conf:1: the value of 'name' must be a quoted string or an integer" },
        { "name = [ \"a\" ]", "must be a quoted string or an integer" },
        { "name = -", "t.conf:1: the value of 'name' is not a valid integer" },
        { "name = 99999999999999999999", "is not a valid integer" },
        { "name = \"x\" y", "t.conf:1: unexpected text after the value of 'name'" },
        { "name = 12abc", "unexpected text after the value of 'name'" },
        { "a = 1\nb = 2\na = 3", "t.conf:3: 'a' is set a second time" },
    };
    int ret = 0;

    if (xsnapTestRun("conf: settings, comments, quotes, integers", testValid, NULL) < 0)
        ret = -1;
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *text = g_strescape(bad[i].text, NULL);
        g_autofree char *title = g_strdup_printf("conf: refuses '%s'", text);
        if (xsnapTestRun(title, testInvalid, &bad[i]) < 0)
            ret = -1;
    }
    if (xsnapTestRun("conf: a missing file, the sample file", testFile, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
