/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_live.c: making libvirt's live definition of a running domain
 * name the images its device model serves
 *
 * After every create, revert and delete, and after each of their undos,
 * the operations ask the device model which image each disk runs on and
 * with which backing chain, and hand the disks whose live definition
 * says otherwise to the hypervisor binding's setLiveDisks.
 */
#include <config.h>

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "snapshot_live.h"
#include "qemu_block.h"
#include "snapshot_ops.h"
#include "snapshot_conf.h"
#include "util_error.h"
#include "util_xml.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree);


/* The first element child of @node named @name, or NULL. */
static xmlNodePtr
xsnapLiveChild(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE && xmlStrEqual(cur->name, BAD_CAST name))
            return cur;
    }
    return NULL;
}


static char *
xsnapLiveProp(xmlNodePtr node, const char *name)
{
    xmlChar *value = node ? xmlGetProp(node, BAD_CAST name) : NULL;
    char *ret = value ? g_strdup((const char *)value) : NULL;

    xmlFree(value);
    return ret;
}


/* "path|format|path|format..." of a disk element and its backing chain. */
static char *
xsnapLiveDiskSignature(xmlNodePtr disk)
{
    GString *sig = g_string_new(NULL);
    g_autofree char *path = xsnapLiveProp(xsnapLiveChild(disk, "source"), "file");
    g_autofree char *format = xsnapLiveProp(xsnapLiveChild(disk, "driver"), "type");
    xmlNodePtr cur = disk;
    xmlNodePtr backing;

    g_string_append_printf(sig, "%s|%s", path ? path : "", format ? format : "raw");
    while ((backing = xsnapLiveChild(cur, "backingStore")) &&
           xmlHasProp(backing, BAD_CAST "type")) {
        g_autofree char *file = xsnapLiveProp(xsnapLiveChild(backing, "source"), "file");
        g_autofree char *fmt = xsnapLiveProp(xsnapLiveChild(backing, "format"), "type");

        g_string_append_printf(sig, "|%s|%s", file ? file : "", fmt ? fmt : "");
        cur = backing;
    }
    return g_string_free(sig, FALSE);
}


static char *
xsnapLiveWantedSignature(const char *path, const char *format,
                         const char *const *files, const char *const *formats)
{
    GString *sig = g_string_new(NULL);

    g_string_append_printf(sig, "%s|%s", path, format);
    for (size_t i = 0; files && files[i] && formats[i]; i++)
        g_string_append_printf(sig, "|%s|%s", files[i], formats[i]);
    return g_string_free(sig, FALSE);
}


/* Sets a decimal index attribute, as libvirt shows a chain's layers. */
static void
xsnapLiveSetIndex(xmlNodePtr node, size_t index)
{
    g_autofree char *value = g_strdup_printf("%zu", index);

    xmlSetProp(node, BAD_CAST "index", BAD_CAST value);
}


char *
xsnapOpsDiskWithChain(const char *domainXML, const char *dst, const char *path,
                      const char *format, const char *const *files,
                      const char *const *formats, bool *changed)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlBuffer) buf = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    g_autofree char *have = NULL;
    g_autofree char *want = NULL;
    xmlNodePtr disk = NULL;
    xmlNodePtr cur;
    xmlNodePtr source;
    xmlNodePtr driver;
    size_t nfiles = 0;
    int n;

    *changed = false;
    if (!(doc = xsnapXMLParseString(domainXML, "domain", NULL, &ctxt)) ||
        (n = xsnapXPathNodeSet("/domain/devices/disk", ctxt, &nodes)) < 0)
        return NULL;
    for (int i = 0; i < n && !disk; i++) {
        g_autofree char *dev = xsnapLiveProp(xsnapLiveChild(nodes[i], "target"), "dev");

        if (dev && g_str_equal(dev, dst))
            disk = nodes[i];
    }
    if (!disk) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("the domain has no disk '%1$s'"), dst);
        return NULL;
    }
    have = xsnapLiveDiskSignature(disk);
    want = xsnapLiveWantedSignature(path, format, files, formats);
    *changed = !g_str_equal(have, want);

    xmlSetProp(disk, BAD_CAST "type", BAD_CAST "file");
    if ((source = xsnapLiveChild(disk, "source"))) {
        xmlUnlinkNode(source);
        xmlFreeNode(source);
    }
    while ((cur = xsnapLiveChild(disk, "backingStore"))) {
        xmlUnlinkNode(cur);
        xmlFreeNode(cur);
    }
    if (!(driver = xsnapLiveChild(disk, "driver"))) {
        driver = xmlNewChild(disk, NULL, BAD_CAST "driver", NULL);
        xmlSetProp(driver, BAD_CAST "name", BAD_CAST "qemu");
    }
    xmlSetProp(driver, BAD_CAST "type", BAD_CAST format);
    source = xmlNewNode(NULL, BAD_CAST "source");
    xmlSetProp(source, BAD_CAST "file", BAD_CAST path);
    xmlAddNextSibling(driver, source);

    /* Layers are numbered from the bottom, as libvirt's qemu driver
     * numbers the nodes it adds; the top is the highest. */
    while (files && files[nfiles] && formats[nfiles])
        nfiles++;
    xsnapLiveSetIndex(source, nfiles + 1);
    cur = disk;
    for (size_t i = 0; i < nfiles; i++) {
        xmlNodePtr backing = xmlNewChild(cur, NULL, BAD_CAST "backingStore", NULL);
        xmlNodePtr fmt = xmlNewChild(backing, NULL, BAD_CAST "format", NULL);
        xmlNodePtr src = xmlNewChild(backing, NULL, BAD_CAST "source", NULL);

        xmlSetProp(backing, BAD_CAST "type", BAD_CAST "file");
        xsnapLiveSetIndex(backing, nfiles - i);
        xmlSetProp(fmt, BAD_CAST "type", BAD_CAST formats[i]);
        xmlSetProp(src, BAD_CAST "file", BAD_CAST files[i]);
        cur = backing;
    }
    /* The end of the chain. */
    xmlNewChild(cur, NULL, BAD_CAST "backingStore", NULL);

    buf = xmlBufferCreate();
    if (xmlNodeDump(buf, doc, disk, 0, 0) < 0) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("cannot format the disk XML"));
        return NULL;
    }
    return g_strdup((const char *)xmlBufferContent(buf));
}


int
xsnapOpsSyncLive(const xsnapHypervisor *hv, virDomainPtr dom)
{
    g_autofree char *liveXML = NULL;
    g_autofree char *inactiveXML = NULL;
    g_autoptr(xsnapQemuMonitor) mon = NULL;
    g_autoptr(xsnapBlockNodeList) nodes = NULL;
    g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(g_free);
    xsnapDomainDiskDef *live = NULL;
    xsnapDomainDiskDef *persistent = NULL;
    int nlive = 0;
    int npersistent = 0;
    int state;
    int ret = -1;

    if (!hv->setLiveDisks)
        return 0;
    if ((state = hv->state(dom, NULL)) < 0)
        return -1;
    if (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED &&
        state != VIR_DOMAIN_BLOCKED)
        return 0;
    if (!(liveXML = hv->getXML(dom, false)) ||
        (nlive = xsnapDomainDiskDefListParseString(liveXML, &live)) < 0)
        goto cleanup;
    if (virDomainIsPersistent(dom) == 1 &&
        (!(inactiveXML = hv->getXML(dom, true)) ||
         (npersistent = xsnapDomainDiskDefListParseString(inactiveXML, &persistent)) < 0))
        goto cleanup;
    if (!(mon = xsnapOpsMonitorOpen(hv, dom)) ||
        !(nodes = xsnapQemuBlockQuery(mon)))
        goto cleanup;
    g_clear_pointer(&mon, xsnapQemuMonitorClose);

    for (int i = 0; i < nlive; i++) {
        const xsnapDomainDiskDef *d = &live[i];
        const xsnapBlockNode *node = NULL;
        const char *format;
        char *xml;
        bool differs;

        if (!d->dst || !d->path || d->type != XSNAP_STORAGE_TYPE_FILE)
            continue;
        /* The persistent config follows every overlay the operations
         * make, so it names the served image when the live one is stale. */
        for (int j = 0; j < npersistent && !node; j++) {
            if (persistent[j].dst && persistent[j].path &&
                g_str_equal(persistent[j].dst, d->dst))
                node = xsnapBlockNodeListFindDisk(nodes, d->dst, persistent[j].path);
        }
        if (!node) {
            xsnapResetLastError();
            node = xsnapBlockNodeListFindDisk(nodes, d->dst, d->path);
        }
        if (!node || !node->filename || !node->driver) {
            /* Not served by this device model (blkback, an empty drive). */
            xsnapResetLastError();
            continue;
        }
        if (g_str_has_prefix(node->filename, "json:")) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("QEMU names the image of disk '%1$s' '%2$s', which is not a file"),
                             d->dst, node->filename);
            goto cleanup;
        }
        format = node->driver;
        if (!(xml = xsnapOpsDiskWithChain(liveXML, d->dst, node->filename, format,
                                          (const char *const *)node->backingFiles,
                                          (const char *const *)node->backingFormats,
                                          &differs)))
            goto cleanup;
        if (differs)
            g_ptr_array_add(changed, xml);
        else
            g_free(xml);
    }
    ret = hv->setLiveDisks(dom, changed);

 cleanup:
    xsnapDomainDiskDefListFree(live, nlive > 0 ? (size_t)nlive : 0);
    xsnapDomainDiskDefListFree(persistent, npersistent > 0 ? (size_t)npersistent : 0);
    return ret;
}
