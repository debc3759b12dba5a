/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshotxml2xmltest.c: <domainsnapshot> parse, align and format
 *
 * Each good case parses tests/xml/snapshot/<in>.xml with the case's
 * flags, optionally aligns its disks, formats it and compares the result
 * with tests/xml/snapshot/<out>.out.xml (XSNAP_TEST_REGENERATE=1
 * rewrites them). Redefinitions are parsed again from the output and
 * must format identically. Each bad case must fail with the given
 * libvirt error code and a message containing the given text.
 *
 * Run one case: XSNAP_TEST_CASE=<out> tests/snapshotxml2xmltest
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutils.h"
#include "util_error.h"
#include "snapshot_conf.h"

#define TEST_NOW 1700000000LL

typedef enum {
    ALIGN_NONE = 0,
    ALIGN_REDEFINE,          /* xsnapSnapshotDefRedefineAlign */
    ALIGN_EXTERNAL,          /* a disk-only create: external, not uniform */
    ALIGN_INTERNAL_UNIFORM,  /* internal and uniform */
} testAlign;

typedef struct _testCase testCase;
struct _testCase {
    const char *in;          /* tests/xml/snapshot/<in>.xml */
    const char *out;         /* tests/xml/snapshot/<out>.out.xml; NULL for bad cases */
    unsigned int parseFlags;
    unsigned int formatFlags;
    testAlign align;
    const char *domain;      /* tests/xml/snapshot/<domain>.xml for ALIGN_*, else NULL */
    bool checkName;          /* apply xsnapSnapshotDefValidateName */
    int code;                /* bad cases: expected virErrorNumber */
    const char *msg;         /* bad cases: expected message text */
};

#define R XSNAP_SNAPSHOT_PARSE_REDEFINE
#define I XSNAP_SNAPSHOT_PARSE_INTERNAL
#define O XSNAP_SNAPSHOT_PARSE_OFFLINE
#define V XSNAP_SNAPSHOT_PARSE_VALIDATE
#define S XSNAP_SNAPSHOT_FORMAT_SECURE

#define GOOD(in, flags) { in, in, flags, 0, ALIGN_NONE, NULL, false, 0, NULL }
#define GOOD_FMT(in, out, flags, fmt) { in, out, flags, fmt, ALIGN_NONE, NULL, false, 0, NULL }
#define GOOD_ALIGN(in, flags, align, dom) { in, in, flags, 0, align, dom, false, 0, NULL }
#define BAD(in, flags, code, msg) { in, NULL, flags, 0, ALIGN_NONE, NULL, false, code, msg }
#define BAD_NAME(in, flags, code, msg) { in, NULL, flags, 0, ALIGN_NONE, NULL, true, code, msg }
#define BAD_ALIGN(in, flags, align, dom, code, msg) \
    { in, NULL, flags, 0, align, dom, false, code, msg }

static const testCase cases[] = {
    /* creation (no flags): time pinned, redefinition-only parts ignored */
    GOOD("empty", 0),
    GOOD("name-description", 0),
    GOOD("description-only", 0),
    GOOD("create-ignores-redefine-parts", 0),
    GOOD("comments-cdata", 0),
    GOOD("memory-internal", 0),
    GOOD("memory-no", 0),
    GOOD("memory-file-implies-external", 0),
    GOOD("memory-external", 0),
    GOOD("disks-mixed", 0),
    GOOD("disk-format-only", 0),
    GOOD("disk-block", 0),
    GOOD("disk-empty-source", 0),
    GOOD("disk-any-element", 0),
    GOOD("disk-network-nbd", 0),
    GOOD("disk-network-rbd", 0),
    GOOD("disk-network-http", 0),
    GOOD("disk-metadata-cache", 0),
    GOOD("disk-seclabel", 0),
    GOOD("cookie-online", 0),
    GOOD("cookie-offline", O),
    GOOD("offline-memory-no", O),
    GOOD("validate-ok", V),

    /* redefinition */
    GOOD("redefine-running", R),
    GOOD_FMT("redefine-running", "redefine-running-secure", R, S),
    GOOD("redefine-shutoff", R),
    GOOD("redefine-disk-snapshot", R),
    GOOD("redefine-domain-notype", R),
    GOOD("redefine-inactive-domain", R),
    GOOD("redefine-delete-in-progress", R),
    GOOD("redefine-metadata", R),
    GOOD("redefine-metadata-ns-escape", R),
    GOOD("redefine-metadata-ns-lt", R),
    GOOD("redefine-creationtime-zero", R),
    GOOD("redefine-pmsuspended", R),
    GOOD("redefine-memory-external", R),
    GOOD("internal-active1", R | I),
    GOOD("internal-active0", R | I),

    /* disks aligned with the domain */
    GOOD_ALIGN("align-redefine-internal", R, ALIGN_REDEFINE, NULL),
    GOOD_ALIGN("align-redefine-external", R, ALIGN_REDEFINE, NULL),
    GOOD_ALIGN("align-by-path", R, ALIGN_REDEFINE, NULL),
    GOOD_ALIGN("align-create-external", 0, ALIGN_EXTERNAL, "domain-disks"),
    GOOD_ALIGN("align-create-disk-attrs", 0, ALIGN_EXTERNAL, "domain-disk-attrs"),
    GOOD_ALIGN("align-uniform-no", 0, ALIGN_INTERNAL_UNIFORM, "domain-disk-attrs"),
    GOOD_ALIGN("align-no-disks", 0, ALIGN_EXTERNAL, "domain-nodisks"),

    /* refused documents */
    BAD("bad-not-xml", 0, VIR_ERR_XML_DETAIL, "(domain_snapshot):4: Opening and ending tag mismatch"),
    BAD("bad-empty-file", 0, VIR_ERR_XML_DETAIL, "Document is empty"),
    BAD("bad-root", 0, VIR_ERR_XML_ERROR, "expecting root element of 'domainsnapshot', not 'domain'"),
    BAD("bad-doctype", 0, VIR_ERR_XML_ERROR, "must not contain a document type declaration"),
    BAD("bad-entities", R, VIR_ERR_XML_ERROR, "must not contain a document type declaration"),
    BAD("bad-external-entity", 0, VIR_ERR_XML_ERROR, "must not contain a document type declaration"),
    BAD("bad-undeclared-entity", 0, VIR_ERR_XML_DETAIL, "Entity 'xxe' not defined"),
    BAD("redefine-no-name", R, VIR_ERR_XML_ERROR, "a redefined snapshot must have a name"),
    BAD("redefine-empty-name", R, VIR_ERR_XML_ERROR, "a redefined snapshot must have a name"),
    BAD("redefine-no-creationtime", R, VIR_ERR_INTERNAL_ERROR, "missing creationTime from existing snapshot"),
    BAD("redefine-bad-creationtime", R, VIR_ERR_INTERNAL_ERROR, "missing creationTime from existing snapshot"),
    BAD("redefine-no-state", R, VIR_ERR_XML_ERROR, "missing state from existing snapshot"),
    BAD("redefine-bad-state", R, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid state 'bogus' in domain snapshot XML"),
    BAD("redefine-nostate", R, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid state 'nostate' in domain snapshot XML"),
    BAD("redefine-shutoff-memory", R, VIR_ERR_XML_ERROR, "memory state cannot be saved with offline or disk-only snapshot"),
    BAD("memory-manual", 0, VIR_ERR_XML_ERROR, "'manual' memory snapshot mode not supported"),
    BAD("memory-bad-mode", 0, VIR_ERR_XML_ERROR, "Invalid value for attribute 'snapshot' in element 'memory': 'bogus'."),
    BAD("memory-default-mode", 0, VIR_ERR_XML_ERROR, "Invalid value for attribute 'snapshot' in element 'memory': 'default'."),
    BAD("memory-file-internal", 0, VIR_ERR_XML_ERROR, "memory filename '/var/lib/xen/save/m' requires external snapshot"),
    BAD("memory-external-nofile", 0, VIR_ERR_XML_ERROR, "external memory snapshots require a filename"),
    BAD("memory-relative", 0, VIR_ERR_XML_ERROR, "memory snapshot file path (save/m) must be absolute"),
    BAD("memory-empty-file", 0, VIR_ERR_XML_ERROR, "memory snapshot file path () must be absolute"),
    BAD("memory-internal", O, VIR_ERR_XML_ERROR, "memory state cannot be saved with offline or disk-only snapshot"),
    BAD("disk-no-name", 0, VIR_ERR_INTERNAL_ERROR, "missing name from disk snapshot element"),
    BAD("disk-bad-snapshot", 0, VIR_ERR_XML_ERROR, "Invalid value for attribute 'snapshot' in element 'disk': 'sometimes'."),
    BAD("disk-type-dir", 0, VIR_ERR_XML_ERROR, "unsupported disk snapshot type 'dir'"),
    BAD("disk-type-volume", 0, VIR_ERR_XML_ERROR, "unsupported disk snapshot type 'volume'"),
    BAD("disk-type-bogus", 0, VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'disk': 'bogus'."),
    BAD("disk-type-vhostvdpa", 0, VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'disk': 'vhostvdpa'."),
    BAD("disk-type-none", 0, VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'disk': 'none'."),
    BAD("disk-bad-driver", 0, VIR_ERR_CONFIG_UNSUPPORTED, "unknown disk snapshot driver 'bogus'"),
    BAD("disk-driver-none", 0, VIR_ERR_CONFIG_UNSUPPORTED, "unknown disk snapshot driver 'none'"),
    BAD("disk-relative", 0, VIR_ERR_XML_ERROR, "disk snapshot image path 'images/new.qcow2' must be absolute"),
    BAD("disk-relative-block", 0, VIR_ERR_XML_ERROR, "disk snapshot image path 'sdb' must be absolute"),
    BAD("disk-net-no-protocol", 0, VIR_ERR_XML_ERROR, "Missing required attribute 'protocol' in element 'source'"),
    BAD("disk-net-no-name", 0, VIR_ERR_XML_ERROR, "missing name for disk source"),
    BAD("disk-net-gluster-split", 0, VIR_ERR_XML_ERROR, "can't split path 'volpath' into pool name and image name"),
    BAD("disk-net-unix-nosocket", 0, VIR_ERR_XML_ERROR, "missing socket for unix transport"),
    BAD("disk-net-tcp-socket", 0, VIR_ERR_XML_ERROR, "transport 'tcp' does not support socket attribute"),
    BAD("disk-net-host-noname", 0, VIR_ERR_XML_ERROR, "missing name for host"),
    BAD("disk-net-bad-port", 0, VIR_ERR_INVALID_ARG, "port '70000' out of range"),
    BAD("disk-net-bad-transport", 0, VIR_ERR_CONFIG_UNSUPPORTED, "unknown protocol transport type 'carrier-pigeon'"),
    BAD("disk-net-bad-tls", 0, VIR_ERR_XML_ERROR, "Invalid value for attribute 'tls' in element 'source': 'maybe'."),
    BAD("disk-metadata-bad-unit", 0, VIR_ERR_INVALID_ARG, "unknown suffix 'furlongs'"),
    BAD("disk-metadata-bad-value", 0, VIR_ERR_XML_ERROR, "Invalid value '-5' for element or attribute './driver/metadata_cache/max_size'"),
    BAD("disk-metadata-overflow", 0, VIR_ERR_OVERFLOW, "value too large"),
    BAD("internal-no-active", R | I, VIR_ERR_INTERNAL_ERROR, "Could not find 'active' element"),
    BAD("validate-bad", V, VIR_ERR_XML_INVALID_SCHEMA, "Unable to validate doc against"),
    BAD_NAME("name-slash", 0, VIR_ERR_XML_DETAIL, "invalid snapshot name 'a/b': name can't contain '/'"),
    BAD_NAME("name-dot", R, VIR_ERR_XML_DETAIL, "invalid snapshot name '.hidden': name can't start with '.'"),

    /* refused alignments */
    BAD_ALIGN("align-unknown-disk", R, ALIGN_REDEFINE, NULL, VIR_ERR_CONFIG_UNSUPPORTED, "no disk named 'vdz'"),
    BAD_ALIGN("align-twice", R, ALIGN_REDEFINE, NULL, VIR_ERR_CONFIG_UNSUPPORTED, "disk '/var/lib/xen/images/vm.img' specified twice"),
    BAD_ALIGN("align-too-many", 0, ALIGN_EXTERNAL, "domain-disks", VIR_ERR_CONFIG_UNSUPPORTED, "too many disk snapshot requests for domain"),
    BAD_ALIGN("align-file-needs-external", 0, ALIGN_EXTERNAL, "domain-disks", VIR_ERR_CONFIG_UNSUPPORTED, "file '/var/lib/xen/images/o.qcow2' for disk 'xvda' requires use of external snapshot mode"),
    BAD_ALIGN("align-uniform-mismatch", 0, ALIGN_INTERNAL_UNIFORM, "domain-disks", VIR_ERR_CONFIG_UNSUPPORTED, "disk 'xvdb' must use snapshot mode 'internal'"),
    BAD_ALIGN("align-collision", 0, ALIGN_EXTERNAL, "domain-collide", VIR_ERR_CONFIG_UNSUPPORTED, "cannot generate external snapshot name for disk 'xvdb': collision with disk 'xvda'"),
    BAD_ALIGN("align-no-source", 0, ALIGN_EXTERNAL, "domain-disks", VIR_ERR_CONFIG_UNSUPPORTED, "cannot generate external snapshot name for disk 'xvdc' without source"),
    BAD_ALIGN("align-block-noname", 0, ALIGN_EXTERNAL, "domain-disks", VIR_ERR_CONFIG_UNSUPPORTED, "cannot generate external snapshot name for disk 'xvdb' on a 'block' device"),
    BAD_ALIGN("align-not-regular", 0, ALIGN_EXTERNAL, "domain-notregular", VIR_ERR_CONFIG_UNSUPPORTED, "source for disk 'xvda' is not a regular file; refusing to generate external snapshot name"),
    BAD_ALIGN("align-missing-domain", R, ALIGN_REDEFINE, NULL, VIR_ERR_INTERNAL_ERROR, "missing domain in snapshot"),
    BAD_ALIGN("align-ambiguous-path", R, ALIGN_REDEFINE, NULL, VIR_ERR_CONFIG_UNSUPPORTED, "no disk named '/var/lib/xen/images/shared.img'"),
};


static long long
testClock(void)
{
    return TEST_NOW;
}


/* Test domains name files that do not exist: treat every source as a
 * regular file unless its path says otherwise. */
static bool
testIsRegularFile(const char *path)
{
    return !strstr(path, "notregular");
}


static char *
testPath(const char *name, const char *suffix)
{
    g_autofree char *base = g_strdup_printf("%s%s", name, suffix);

    return g_build_filename(xsnapTestSrcDir(), "xml", "snapshot", base, NULL);
}


/* Parses, aligns and formats as the case says; NULL with an error set. */
static char *
testRunCase(const testCase *tc, const char *xml)
{
    g_autoptr(xsnapSnapshotDef) def = NULL;
    g_autofree char *domainXML = NULL;
    bool current = false;
    unsigned int formatFlags = tc->formatFlags;

    if (!(def = xsnapSnapshotDefParseString(xml, &current, tc->parseFlags)))
        return NULL;
    if (tc->checkName && xsnapSnapshotDefValidateName(def->name) < 0)
        return NULL;

    if (tc->domain) {
        g_autofree char *path = testPath(tc->domain, ".xml");
        if (!(domainXML = xsnapTestLoadFile(path)))
            return NULL;
    }

    switch (tc->align) {
    case ALIGN_NONE:
        break;
    case ALIGN_REDEFINE:
        if (xsnapSnapshotDefRedefineAlign(def, domainXML) < 0)
            return NULL;
        break;
    case ALIGN_EXTERNAL:
        if (xsnapSnapshotDefAlignDisks(def, domainXML,
                                       XSNAP_SNAPSHOT_LOCATION_EXTERNAL, false) < 0)
            return NULL;
        break;
    case ALIGN_INTERNAL_UNIFORM:
        if (xsnapSnapshotDefAlignDisks(def, domainXML,
                                       XSNAP_SNAPSHOT_LOCATION_INTERNAL, true) < 0)
            return NULL;
        break;
    }

    if (tc->parseFlags & XSNAP_SNAPSHOT_PARSE_INTERNAL) {
        formatFlags |= XSNAP_SNAPSHOT_FORMAT_INTERNAL;
        if (current)
            formatFlags |= XSNAP_SNAPSHOT_FORMAT_CURRENT;
    }
    return xsnapSnapshotDefFormat(def, formatFlags);
}


static int
testGood(const testCase *tc, const char *xml)
{
    g_autofree char *outPath = testPath(tc->out, ".out.xml");
    g_autofree char *actual = NULL;

    if (!(actual = testRunCase(tc, xml)))
        return -1;
    if (xsnapTestCompareToFile(actual, outPath) < 0)
        return -1;

    /* What we write for a redefinition must read back to the same
     * (libvirt does not write a zero creation time, nor can it read the
     * result back: neither can we). */
    if ((tc->parseFlags & XSNAP_SNAPSHOT_PARSE_REDEFINE) &&
        strstr(actual, "<creationTime>")) {
        testCase again = *tc;
        g_autofree char *second = NULL;

        again.align = ALIGN_NONE;
        if (!(second = testRunCase(&again, actual)))
            return -1;
        if (!g_str_equal(actual, second)) {
            xsnapTestFail("re-parsing the output changes it:\n%s", second);
            return -1;
        }
    }
    return 0;
}


static int
testBad(const testCase *tc, const char *xml)
{
    g_autofree char *actual = testRunCase(tc, xml);

    if (actual) {
        xsnapTestFail("expected an error, got:\n%s", actual);
        return -1;
    }
    if (xsnapGetLastErrorCode() != tc->code ||
        !strstr(xsnapGetLastErrorMessage(), tc->msg)) {
        xsnapTestFail("expected error %d '%s', got %d '%s'", tc->code, tc->msg,
                      xsnapGetLastErrorCode(), xsnapGetLastErrorMessage());
        return -1;
    }
    return 0;
}


static int
testOne(const void *opaque)
{
    const testCase *tc = opaque;
    g_autofree char *inPath = testPath(tc->in, ".xml");
    g_autofree char *xml = NULL;
    int ret;

    if (!(xml = xsnapTestLoadFile(inPath)))
        return -1;
    ret = tc->out ? testGood(tc, xml) : testBad(tc, xml);
    if (ret < 0)
        fprintf(stderr, "    rerun with: XSNAP_TEST_CASE=%s %s\n",
                tc->out ? tc->out : tc->in, "tests/snapshotxml2xmltest");
    return ret;
}


static int
mymain(void)
{
    const char *only = getenv("XSNAP_TEST_CASE");
    int ret = 0;
    size_t i;

    xsnapSnapshotSetClock(testClock);
    xsnapSnapshotSetRegularFileCheck(testIsRegularFile);

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        const testCase *tc = &cases[i];
        const char *id = tc->out ? tc->out : tc->in;
        g_autofree char *title = g_strdup_printf("%s %s", tc->out ? "good" : "bad", id);

        if (only && !g_str_equal(only, id))
            continue;
        if (xsnapTestRun(title, testOne, tc) < 0)
            ret = -1;
    }
    return ret;
}

XSNAP_TEST_MAIN(mymain)
