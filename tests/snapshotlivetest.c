/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshotlivetest.c: the <disk> element the live definition is given
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "snapshot_live.h"
#include "testutils.h"
#include "util_error.h"

static const char domainXML[] =
    "<domain type='xen'><name>d</name><devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>"
    "<source file='/i/a.qcow2'/><target dev='xvda' bus='xen'/><readonly/></disk>"
    "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
    "<source file='/i/b.s1' index='2'/>"
    "<backingStore type='file' index='1'><format type='raw'/>"
    "<source file='/i/b.raw'/><backingStore/></backingStore>"
    "<target dev='xvdb' bus='xen'/></disk>"
    "</devices></domain>";


/* A disk moved to an overlay: new source, its chain, the rest kept. */
static int
testMoved(const void *data XSNAP_UNUSED)
{
    const char *files[] = { "/i/a.qcow2", NULL };
    const char *formats[] = { "qcow2", NULL };
    g_autofree char *xml = NULL;
    bool changed = false;

    if (!(xml = xsnapOpsDiskWithChain(domainXML, "xvda", "/i/a.s1", "qcow2",
                                      files, formats, &changed)))
        return -1;
    if (!changed) {
        xsnapTestFail("a moved disk was reported unchanged");
        return -1;
    }
    if (!strstr(xml, "<source file=\"/i/a.s1\" index=\"2\"/>") ||
        !strstr(xml, "<backingStore type=\"file\" index=\"1\"><format type=\"qcow2\"/>"
                     "<source file=\"/i/a.qcow2\"/><backingStore/></backingStore>") ||
        !strstr(xml, "cache=\"none\"") || !strstr(xml, "<readonly/>") ||
        !strstr(xml, "<target dev=\"xvda\" bus=\"xen\"/>") ||
        strstr(xml, "xvdb")) {
        xsnapTestFail("unexpected disk XML: %s", xml);
        return -1;
    }
    return 0;
}


/* The chain the live definition already shows is not changed again. */
static int
testSame(const void *data XSNAP_UNUSED)
{
    const char *files[] = { "/i/b.raw", NULL };
    const char *formats[] = { "raw", NULL };
    const char *other[] = { "/i/b.qcow2", NULL };
    g_autofree char *xml = NULL;
    g_autofree char *xml2 = NULL;
    bool changed = true;

    if (!(xml = xsnapOpsDiskWithChain(domainXML, "xvdb", "/i/b.s1", "qcow2",
                                      files, formats, &changed)) || changed) {
        xsnapTestFail("an unchanged disk was reported changed");
        return -1;
    }
    /* A different backing file, format or depth is a change. */
    if (!(xml2 = xsnapOpsDiskWithChain(domainXML, "xvdb", "/i/b.s1", "qcow2",
                                       other, formats, &changed)) || !changed) {
        xsnapTestFail("a different backing file was not seen");
        return -1;
    }
    g_clear_pointer(&xml2, g_free);
    if (!(xml2 = xsnapOpsDiskWithChain(domainXML, "xvdb", "/i/b.s1", "qcow2",
                                       NULL, NULL, &changed)) || !changed) {
        xsnapTestFail("a shorter chain was not seen");
        return -1;
    }
    if (!strstr(xml2, "<source file=\"/i/b.s1\" index=\"1\"/>") ||
        !g_str_has_suffix(xml2, "<backingStore/></disk>") ||
        strstr(xml2, "b.raw")) {
        xsnapTestFail("a disk without backing: %s", xml2);
        return -1;
    }
    return 0;
}


static int
testMissing(const void *data XSNAP_UNUSED)
{
    bool changed;
    char *xml = xsnapOpsDiskWithChain(domainXML, "xvdz", "/i/z", "raw",
                                      NULL, NULL, &changed);

    if (xml || xsnapGetLastErrorCode() != VIR_ERR_OPERATION_INVALID) {
        g_free(xml);
        xsnapTestFail("a missing disk was not refused");
        return -1;
    }
    xsnapResetLastError();
    return 0;
}


static int
mymain(void)
{
    int ret = 0;

    ret |= xsnapTestRun("a moved disk gets its overlay and chain", testMoved, NULL);
    ret |= xsnapTestRun("an unchanged chain is left alone", testSame, NULL);
    ret |= xsnapTestRun("a disk the domain lacks is refused", testMissing, NULL);
    return ret == 0 ? 0 : -1;
}

XSNAP_TEST_MAIN(mymain)
