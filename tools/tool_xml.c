/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_xml.c: virt-xen-snapshot xml
 *
 * Reads a <domainsnapshot> document and prints it the way libvirt 9.0.0
 * would store it, or the reason libvirt would refuse it.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util_error.h"
#include "snapshot_conf.h"
#include "tool_cmds.h"

static void
vxsXmlUsage(void)
{
    fprintf(stderr, "%s\n",
            _("Usage: virt-xen-snapshot xml [--redefine] [--internal] [--validate] "
              "[--offline] [--align] [--secure] FILE|-"));
}


static long long vxsXmlFixedNow;

static long long
vxsXmlClock(void)
{
    return vxsXmlFixedNow;
}


/* Reads all of @path ("-" is standard input); NULL with an error reported. */
static char *
vxsXmlReadInput(const char *path)
{
    g_autoptr(GError) err = NULL;
    char *data = NULL;
    gsize len = 0;

    if (g_str_equal(path, "-")) {
        GString *s = g_string_new(NULL);
        char chunk[4096];
        size_t n;

        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            g_string_append_len(s, chunk, (gssize)n);
        if (ferror(stdin)) {
            g_string_free(s, TRUE);
            xsnapReportError(VIR_ERR_SYSTEM_ERROR, "%s",
                             _("cannot read standard input"));
            return NULL;
        }
        return g_string_free(s, FALSE);
    }

    if (!g_file_get_contents(path, &data, &len, &err)) {
        xsnapReportError(VIR_ERR_SYSTEM_ERROR, _("cannot read '%1$s': %2$s"),
                         path, err->message);
        return NULL;
    }
    return data;
}


int
vxsCmdXml(int argc, char **argv)
{
    g_autoptr(xsnapSnapshotDef) def = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *out = NULL;
    const char *file = NULL;
    const char *now = getenv("XSNAP_TEST_NOW");
    unsigned int parseFlags = 0;
    unsigned int formatFlags = 0;
    bool align = false;
    bool current = false;
    int i;

    for (i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--redefine")) {
            parseFlags |= XSNAP_SNAPSHOT_PARSE_REDEFINE;
        } else if (g_str_equal(argv[i], "--internal")) {
            parseFlags |= XSNAP_SNAPSHOT_PARSE_INTERNAL;
        } else if (g_str_equal(argv[i], "--validate")) {
            parseFlags |= XSNAP_SNAPSHOT_PARSE_VALIDATE;
        } else if (g_str_equal(argv[i], "--offline")) {
            parseFlags |= XSNAP_SNAPSHOT_PARSE_OFFLINE;
        } else if (g_str_equal(argv[i], "--align")) {
            align = true;
        } else if (g_str_equal(argv[i], "--secure")) {
            formatFlags |= XSNAP_SNAPSHOT_FORMAT_SECURE;
        } else if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h")) {
            vxsXmlUsage();
            return 0;
        } else if (!file && (argv[i][0] != '-' || g_str_equal(argv[i], "-"))) {
            file = argv[i];
        } else {
            vxsXmlUsage();
            return 2;
        }
    }
    if (!file) {
        vxsXmlUsage();
        return 2;
    }

    /* Lets tests pin the creation time of new snapshots. */
    if (now) {
        vxsXmlFixedNow = g_ascii_strtoll(now, NULL, 10);
        xsnapSnapshotSetClock(vxsXmlClock);
    }

    if (!(xml = vxsXmlReadInput(file)))
        goto error;
    if (!(def = xsnapSnapshotDefParseString(xml, &current, parseFlags)))
        goto error;
    /* Our metadata files are named after the snapshot. */
    if (xsnapSnapshotDefValidateName(def->name) < 0)
        goto error;
    if (align && xsnapSnapshotDefRedefineAlign(def, NULL) < 0)
        goto error;

    if (parseFlags & XSNAP_SNAPSHOT_PARSE_INTERNAL) {
        formatFlags |= XSNAP_SNAPSHOT_FORMAT_INTERNAL;
        if (current)
            formatFlags |= XSNAP_SNAPSHOT_FORMAT_CURRENT;
    }
    if (!(out = xsnapSnapshotDefFormat(def, formatFlags)))
        goto error;
    fputs(out, stdout);
    if (fflush(stdout) != 0)
        return 1;
    return 0;

 error:
    vxsPrintError();
    return 1;
}
