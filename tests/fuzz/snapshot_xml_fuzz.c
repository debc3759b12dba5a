/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_xml_fuzz.c: libFuzzer target for the <domainsnapshot> parser
 *
 * Each input is parsed with several flag sets. Whatever parses must
 * format, aligning a redefinition with its own domain must not crash,
 * and the formatted XML must parse again and format to the same text
 * (after at most one more round: the XML parser normalises white space
 * in attribute values and line ends, which the formatter writes as they
 * are, as libvirt's does). A broken promise aborts.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util_error.h"
#include "snapshot_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (256 * 1024)

static long long
fuzzClock(void)
{
    return 1700000000LL;
}


/* Keeps the fuzzer away from the file system. */
static bool
fuzzIsRegularFile(const char *path)
{
    return path[0] == '/' && strlen(path) % 2 == 0;
}


static G_GNUC_NORETURN void
fuzzFail(const char *what, unsigned int flags, const char *a, const char *b)
{
    fprintf(stderr, "snapshot_xml_fuzz: %s (parse flags 0x%x)\n--- first:\n%s\n--- second:\n%s\n",
            what, flags, a ? a : "(null)", b ? b : xsnapGetLastErrorMessage());
    abort();
}


/* Parses @xml and formats it; NULL if the parser refuses it. */
static char *
fuzzParseFormat(const char *xml, unsigned int flags, xsnapSnapshotDef **defOut)
{
    g_autoptr(xsnapSnapshotDef) def = NULL;
    unsigned int formatFlags = XSNAP_SNAPSHOT_FORMAT_SECURE;
    bool current = false;
    char *out;

    if (!(def = xsnapSnapshotDefParseString(xml, &current, flags)))
        return NULL;
    if (flags & XSNAP_SNAPSHOT_PARSE_INTERNAL) {
        formatFlags |= XSNAP_SNAPSHOT_FORMAT_INTERNAL;
        if (current)
            formatFlags |= XSNAP_SNAPSHOT_FORMAT_CURRENT;
    }
    if (!(out = xsnapSnapshotDefFormat(def, formatFlags)))
        fuzzFail("a parsed definition does not format", flags, xml, NULL);
    if (defOut)
        *defOut = g_steal_pointer(&def);
    return out;
}


static void
fuzzOne(const char *xml, unsigned int flags)
{
    g_autoptr(xsnapSnapshotDef) def = NULL;
    g_autofree char *out1 = NULL;
    g_autofree char *out2 = NULL;
    g_autofree char *out3 = NULL;
    g_autofree char *aligned = NULL;

    if (!(out1 = fuzzParseFormat(xml, flags, &def))) {
        xsnapResetLastError();
        return;
    }

    /* libvirt writes no zero creation time and cannot read that back. */
    if ((flags & XSNAP_SNAPSHOT_PARSE_REDEFINE) && def->creationTime == 0)
        return;

    if (!(out2 = fuzzParseFormat(out1, flags, NULL)))
        fuzzFail("formatted XML does not parse", flags, out1, NULL);
    if (!g_str_equal(out1, out2)) {
        if (!(out3 = fuzzParseFormat(out2, flags, NULL)))
            fuzzFail("formatted XML does not parse", flags, out2, NULL);
        if (!g_str_equal(out2, out3))
            fuzzFail("formatting is not stable", flags, out2, out3);
    }

    if (def->domainXML) {
        if (xsnapSnapshotDefRedefineAlign(def, NULL) == 0) {
            if (!(aligned = xsnapSnapshotDefFormat(def, XSNAP_SNAPSHOT_FORMAT_SECURE)))
                fuzzFail("an aligned definition does not format", flags, out1, NULL);
        }
        xsnapResetLastError();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned int flagSets[] = {
        0,
        XSNAP_SNAPSHOT_PARSE_OFFLINE,
        XSNAP_SNAPSHOT_PARSE_REDEFINE,
        XSNAP_SNAPSHOT_PARSE_REDEFINE | XSNAP_SNAPSHOT_PARSE_INTERNAL,
    };
    g_autofree char *xml = NULL;
    size_t i;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    xsnapSnapshotSetClock(fuzzClock);
    xsnapSnapshotSetRegularFileCheck(fuzzIsRegularFile);

    /* The parser takes a C string: stop at the first NUL, as callers do. */
    xml = g_strndup((const char *)data, size);
    for (i = 0; i < G_N_ELEMENTS(flagSets); i++)
        fuzzOne(xml, flagSets[i]);
    xsnapResetLastError();
    return 0;
}
