/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * conf_fuzz.c: libFuzzer target for the configuration file parser
 *
 * Each input is the text of a configuration file. Whatever parses must
 * hold together (names well formed and given once, lines in order), be
 * written back by xsnapConfFormat (unless a string holds both quotes),
 * and that text must parse to the same settings and be written back to
 * the same text. A broken promise aborts.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util_conf.h"
#include "util_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (64 * 1024)


static G_GNUC_NORETURN void
fuzzFail(const char *what, const char *detail)
{
    fprintf(stderr, "conf_fuzz: %s\n%s\n", what, detail ? detail : "");
    abort();
}


static bool
fuzzSame(const xsnapConf *a, const xsnapConf *b)
{
    if (a->entries->len != b->entries->len)
        return false;
    for (size_t i = 0; i < a->entries->len; i++) {
        const xsnapConfEntry *x = g_ptr_array_index(a->entries, i);
        const xsnapConfEntry *y = g_ptr_array_index(b->entries, i);

        if (!g_str_equal(x->name, y->name) || x->type != y->type)
            return false;
        if (x->type == XSNAP_CONF_STRING ? !g_str_equal(x->str, y->str) : x->num != y->num)
            return false;
    }
    return true;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(xsnapConf) conf = NULL;
    g_autoptr(xsnapConf) again = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;
    unsigned int line = 0;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (!(conf = xsnapConfParseString("fuzz.conf", (const char *)data, size))) {
        if (xsnapGetLastErrorCode() != VIR_ERR_CONF_SYNTAX)
            fuzzFail("a refusal is not a syntax error", xsnapGetLastErrorMessage());
        xsnapResetLastError();
        return 0;
    }
    for (size_t i = 0; i < conf->entries->len; i++) {
        const xsnapConfEntry *e = g_ptr_array_index(conf->entries, i);

        if (e->line <= line || !e->name[0] || g_ascii_isdigit(e->name[0]) ||
            xsnapConfGet(conf, e->name) != e)
            fuzzFail("the settings do not hold together", e->name);
        line = e->line;
    }
    if (!(out = xsnapConfFormat(conf)))
        return 0;
    if (!(again = xsnapConfParseString("fuzz2.conf", out, strlen(out))))
        fuzzFail("the settings written back do not parse", out);
    if (!fuzzSame(conf, again))
        fuzzFail("the settings written back read differently", out);
    if (!(out2 = xsnapConfFormat(again)) || !g_str_equal(out, out2))
        fuzzFail("the settings are not written back the same way twice", out);
    return 0;
}
