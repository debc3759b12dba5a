/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_clone.c: virt-xen-snapshot clone
 *
 * Makes linked clones of a domain from one of its snapshots (a "gold"
 * snapshot), through libvirt's public API on the host where libvirtd
 * runs:
 *
 *   - each clone gets a new name, UUID and MAC addresses, and loses what
 *     must be unique on a host (fixed graphics ports, fixed interface
 *     names);
 *   - each disk the snapshot froze externally gets a fresh qcow2 overlay
 *     on the frozen image, beside it or in --dir; the frozen images are
 *     only ever read (qemu-img reads their size, QEMU opens them as
 *     read-only backing files);
 *   - --start boots each clone; --restore starts each clone from the
 *     snapshot's memory image: the image is streamed to libvirt's own
 *     restore (virDomainRestoreFlags) through a FIFO, behind a rewritten
 *     header whose XML names the clone, its MACs and its overlays, so the
 *     gold image is opened read-only and never copied (a compressed one
 *     is decompressed on the way, memory_feed.c); --copy instead copies
 *     the image per clone and rewrites its XML in place (decompressing a
 *     compressed one into the copy).
 *
 * The command is all or nothing: every check runs before the first
 * change, and a failure part-way takes back every clone made so far
 * (destroyed, undefined, its overlays removed). docs/clone.md has the
 * reasons for each choice.
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/fs.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "internal.h"
#include "util_error.h"
#include "util_file.h"
#include "util_xml.h"
#include "fault.h"
#include "memory_feed.h"
#include "memory_image.h"
#include "qemu_img.h"
#include "snapshot_store.h"
#include "tool_cmds.h"

#define VXS_CLONE_MAX 1000
/* The end of the stream that waits until the clone's overlays exist. */
#define VXS_CLONE_HOLD 4096

/* One disk of the gold domain. */
typedef struct _vxsCloneDisk vxsCloneDisk;
struct _vxsCloneDisk {
    char *dst;       /* target dev */
    char *frozen;    /* the image the snapshot froze (never written) */
    char *format;    /* its format */
    bool shared;     /* a read-only disk the clones share as it is */
};

/* One clone being made, and what it made so far. */
typedef struct _vxsClone vxsClone;
struct _vxsClone {
    char *name;
    char *uuid;
    GHashTable *macs;       /* gold MAC -> clone MAC (lower case) */
    GHashTable *overlays;   /* dst -> overlay path */
    GPtrArray *files;       /* files we created, removed on failure */
    GPtrArray *temps;       /* files removed in any case (FIFO, copy) */
    virDomainPtr dom;       /* defined by us */
};

typedef struct _vxsCloneJob vxsCloneJob;
struct _vxsCloneJob {
    const char *uri;
    const char *domain;
    const char *snapshot;
    const char *newName;
    const char *dir;
    char *workDir;           /* --dir, else the first frozen image's folder */
    unsigned int count;
    bool start;
    bool restore;
    bool copy;
    bool list;

    virConnectPtr conn;
    virDomainPtr gold;
    char *snapXML;
    char *state;             /* the snapshot's <state> */
    char *memoryFile;        /* its memory image, or NULL */
    char *domainXML;         /* the snapshot's <domain> */
    char *imageXML;          /* the XML embedded in the memory image */
    xsnapMemoryFormat memoryFormat;  /* how the image holds libxl's stream */
    GPtrArray *disks;        /* vxsCloneDisk */
    GPtrArray *clones;       /* vxsClone */
    GHashTable *usedMacs;
    int lock;                /* the gold's snapshot directory, shared */
};

static volatile sig_atomic_t vxsCloneInterrupted;


static void
vxsSilence(void *opaque XSNAP_UNUSED, virErrorPtr err XSNAP_UNUSED)
{
}


static void
vxsCloneOnSignal(int sig XSNAP_UNUSED)
{
    vxsCloneInterrupted = 1;
}


static void
vxsCloneDiskFree(void *p)
{
    vxsCloneDisk *d = p;

    g_free(d->dst);
    g_free(d->frozen);
    g_free(d->format);
    g_free(d);
}


static void
vxsCloneFree(void *p)
{
    vxsClone *c = p;

    g_free(c->name);
    g_free(c->uuid);
    g_clear_pointer(&c->macs, g_hash_table_unref);
    g_clear_pointer(&c->overlays, g_hash_table_unref);
    g_clear_pointer(&c->files, g_ptr_array_unref);
    g_clear_pointer(&c->temps, g_ptr_array_unref);
    if (c->dom)
        virDomainFree(c->dom);
    g_free(c);
}


static void
vxsCloneJobClear(vxsCloneJob *job)
{
    g_free(job->snapXML);
    g_free(job->workDir);
    g_free(job->state);
    g_free(job->memoryFile);
    g_free(job->domainXML);
    g_free(job->imageXML);
    g_clear_pointer(&job->disks, g_ptr_array_unref);
    g_clear_pointer(&job->clones, g_ptr_array_unref);
    g_clear_pointer(&job->usedMacs, g_hash_table_unref);
    if (job->gold)
        virDomainFree(job->gold);
    if (job->conn)
        virConnectClose(job->conn);
    xsnapSnapshotStoreUnlockDomain(job->lock);
}


/* Reports the last libvirt error, prefixed with @what (a whole sentence). */
static void
vxsCloneReportLibvirt(const char *what, const char *name)
{
    xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s '%s': %s", what, name,
                     virGetLastErrorMessage());
}


/* ---- the snapshot ------------------------------------------------- */

/*
 * Holds the gold domain's snapshot directory shared until the command
 * ends: every snapshot create, revert and delete holds it exclusively
 * while it runs (its journal's lock), and is refused while a clone holds
 * it, so no snapshot can lose or change its images between our reading
 * it and the clones being defined on them (after that the clones
 * themselves protect the images). An operation in progress is waited
 * for, up to XSNAP_LOCK_WAIT_MS (30 s), as libvirtd waits for a busy
 * domain.
 */
static int
vxsCloneLock(vxsCloneJob *job)
{
    const char *libDir = g_getenv("XSNAP_LIBXL_LIBDIR");
    const char *env = g_getenv("XSNAP_LOCK_WAIT_MS");
    g_autoptr(xsnapSnapshotStore) store = xsnapSnapshotStoreNew(libDir && *libDir ? libDir : NULL);
    guint64 waitMs = 30 * 1000;

    if (env)
        (void)g_ascii_string_to_unsigned(env, 10, 0, G_MAXUINT32, &waitMs, NULL);
    job->lock = xsnapSnapshotStoreLockDomain(store, job->domain, false, (unsigned int)waitMs);
    if (job->lock == XSNAP_SNAPSHOT_STORE_LOCK_BUSY) {
        xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                         _("the snapshots of domain '%1$s' are being created, reverted or deleted: nothing was cloned; try again once that ends"),
                         job->domain);
        return -1;
    }
    return job->lock < 0 ? -1 : 0;
}


/* The snapshot's mode for disk @dst: "external", "internal", "no"... */
static char *
vxsCloneSnapshotDiskMode(xmlXPathContextPtr ctxt, const char *dst)
{
    g_autofree char *xpath = NULL;

    if (strchr(dst, '\'') != NULL)
        return NULL;
    xpath = g_strdup_printf("string(/domainsnapshot/disks/disk[@name='%s']/@snapshot)", dst);
    return xsnapXPathString(xpath, ctxt);
}


/* Refuses devices that must be unique on a host and that we cannot
 * simply let libvirt choose again: character devices listening on a
 * fixed TCP port or UNIX socket. */
static int
vxsCloneCheckUnique(xmlXPathContextPtr ctxt, const char *domain)
{
    g_autofree xmlNodePtr *nodes = NULL;
    int n = xsnapXPathNodeSet("/domain/devices/*[self::serial or self::console or "
                              "self::parallel or self::channel]"
                              "[@type='tcp' or @type='unix' or @type='udp']"
                              "/source[@mode='bind']", ctxt, &nodes);

    if (n < 0)
        return -1;
    if (n > 0) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                         _("domain '%1$s' has a %2$s device listening on a fixed socket, which every clone would need for itself; change it to a pty first"),
                         domain, (const char *)nodes[0]->parent->name);
        return -1;
    }
    return 0;
}


/* Reads the gold domain's disks from the snapshot's <domain> and checks
 * that each can be given to the clones. */
static int
vxsCloneCheckDisks(vxsCloneJob *job, xmlXPathContextPtr snapCtxt)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    int n;

    if (!(doc = xsnapXMLParseString(job->domainXML, "domain", "domain", &ctxt)))
        return -1;
    if (vxsCloneCheckUnique(ctxt, job->domain) < 0)
        return -1;
    if ((n = xsnapXPathNodeSet("/domain/devices/disk", ctxt, &nodes)) < 0)
        return -1;
    job->disks = g_ptr_array_new_with_free_func(vxsCloneDiskFree);
    for (int i = 0; i < n; i++) {
        g_autofree char *type = NULL;
        g_autofree char *device = NULL;
        g_autofree char *driver = NULL;
        g_autofree char *mode = NULL;
        g_autofree char *src = NULL;
        vxsCloneDisk *d = g_new0(vxsCloneDisk, 1);
        bool readonly;
        struct stat sb;

        g_ptr_array_add(job->disks, d);
        ctxt->node = nodes[i];
        type = xsnapXPathString("string(@type)", ctxt);
        device = xsnapXPathString("string(@device)", ctxt);
        driver = xsnapXPathString("string(driver/@name)", ctxt);
        d->format = xsnapXPathString("string(driver/@type)", ctxt);
        d->dst = xsnapXPathString("string(target/@dev)", ctxt);
        readonly = xsnapXPathNode("readonly", ctxt) != NULL;
        if (!d->dst || !*d->dst) {
            xsnapReportError(VIR_ERR_XML_ERROR,
                             _("a disk of snapshot '%1$s' has no target"), job->snapshot);
            return -1;
        }
        if (!d->format || !*d->format) {
            g_free(d->format);
            d->format = g_strdup("raw");
        }
        if (g_strcmp0(type, "file") == 0)
            src = xsnapXPathString("string(source/@file)", ctxt);
        else if (g_strcmp0(type, "block") == 0)
            src = xsnapXPathString("string(source/@dev)", ctxt);

        /* A CD-ROM, floppy or read-only disk cannot change: every clone
         * can use it as it is. */
        if (g_strcmp0(device, "cdrom") == 0 || g_strcmp0(device, "floppy") == 0 ||
            readonly) {
            d->shared = true;
            continue;
        }
        if (g_strcmp0(type, "file") != 0 || g_strcmp0(driver, "phy") == 0) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("disk '%1$s' of domain '%2$s' is a phy (blkback) or non-file disk ('%3$s'): the clones cannot share it, since only QEMU can put a qcow2 overlay on it"),
                             d->dst, job->domain, src && *src ? src : type ? type : "?");
            return -1;
        }
        mode = vxsCloneSnapshotDiskMode(snapCtxt, d->dst);
        if (g_strcmp0(mode, "internal") == 0) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("disk '%1$s' of snapshot '%2$s' is an internal snapshot, inside '%3$s', which domain '%4$s' keeps writing to: a clone cannot rest on it safely; take an external snapshot for the gold image, or export the internal one with 'qemu-img convert -l'"),
                             d->dst, job->snapshot, src ? src : "?", job->domain);
            return -1;
        }
        if (g_strcmp0(mode, "external") != 0) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("disk '%1$s' is not frozen by snapshot '%2$s' and is writable: the clones cannot share it"),
                             d->dst, job->snapshot);
            return -1;
        }
        if (!src || !g_path_is_absolute(src)) {
            xsnapReportError(VIR_ERR_XML_ERROR,
                             _("disk '%1$s' of snapshot '%2$s' has no absolute source file"),
                             d->dst, job->snapshot);
            return -1;
        }
        if (stat(src, &sb) < 0) {
            xsnapReportSystemError(errno, _("cannot find the frozen image '%1$s' of disk '%2$s'"),
                                   src, d->dst);
            return -1;
        }
        d->frozen = g_steal_pointer(&src);
    }
    return 0;
}


/* Loads the snapshot and checks that it can be cloned as asked. */
static int
vxsCloneLoadSnapshot(vxsCloneJob *job)
{
    virDomainSnapshotPtr snap;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree char *memMode = NULL;
    xmlNodePtr domNode;
    char *xml;

    if (!(job->gold = virDomainLookupByName(job->conn, job->domain))) {
        vxsCloneReportLibvirt(_("cannot find domain"), job->domain);
        return -1;
    }
    if (!(snap = virDomainSnapshotLookupByName(job->gold, job->snapshot, 0))) {
        vxsCloneReportLibvirt(_("cannot find snapshot"), job->snapshot);
        return -1;
    }
    xml = virDomainSnapshotGetXMLDesc(snap, VIR_DOMAIN_SNAPSHOT_XML_SECURE);
    virDomainSnapshotFree(snap);
    if (!xml) {
        vxsCloneReportLibvirt(_("cannot read snapshot"), job->snapshot);
        return -1;
    }
    job->snapXML = g_strdup(xml);
    free(xml);

    if (!(doc = xsnapXMLParseString(job->snapXML, "snapshot", "domainsnapshot", &ctxt)))
        return -1;
    job->state = xsnapXPathString("string(/domainsnapshot/state)", ctxt);
    memMode = xsnapXPathString("string(/domainsnapshot/memory/@snapshot)", ctxt);
    job->memoryFile = xsnapXPathString("string(/domainsnapshot/memory/@file)", ctxt);
    if (job->memoryFile && !*job->memoryFile)
        g_clear_pointer(&job->memoryFile, g_free);
    if (!(domNode = xsnapXPathNode("/domainsnapshot/domain", ctxt))) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("snapshot '%1$s' holds no domain definition to clone"),
                         job->snapshot);
        return -1;
    }
    job->domainXML = xsnapXMLNodeToString(domNode, NULL, XSNAP_XML_FORMAT_SECURE);

    if (vxsCloneCheckDisks(job, ctxt) < 0)
        return -1;
    if (!job->restore)
        return 0;

    if (g_strcmp0(job->state, "disk-snapshot") == 0) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("snapshot '%1$s' is disk-only: it has no memory image to restore the clones from (clone without --restore)"),
                         job->snapshot);
        return -1;
    }
    if ((g_strcmp0(job->state, "running") != 0 && g_strcmp0(job->state, "paused") != 0) ||
        g_strcmp0(memMode, "external") != 0 || !job->memoryFile) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("snapshot '%1$s' (state '%2$s') has no memory image to restore the clones from (clone without --restore)"),
                         job->snapshot, job->state ? job->state : "?");
        return -1;
    }
    {
        xsnapMemoryImageHeader hdr;

        if (xsnapMemoryImageRead(job->memoryFile, &hdr, &job->imageXML) < 0)
            return -1;
        job->memoryFormat = hdr.format;
    }
    return 0;
}


/* ---- the clones' definitions -------------------------------------- */

static char *
vxsCloneNewMac(vxsCloneJob *job)
{
    for (;;) {
        guint32 r = g_random_int();
        char *mac = g_strdup_printf("00:16:3e:%02x:%02x:%02x",
                                    (r >> 16) & 0x7f, (r >> 8) & 0xff, r & 0xff);

        if (!g_hash_table_contains(job->usedMacs, mac)) {
            g_hash_table_add(job->usedMacs, g_strdup(mac));
            return mac;
        }
        g_free(mac);
    }
}


static void
vxsCloneSetChild(xmlNodePtr parent, const char *name, const char *value)
{
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name)) {
            xmlNodeSetContent(n, BAD_CAST value);
            return;
        }
    }
    xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST value);
}


static void
vxsCloneRemoveChildren(xmlNodePtr parent, const char *name)
{
    xmlNodePtr n = parent->children;

    while (n) {
        xmlNodePtr next = n->next;

        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
        n = next;
    }
}


/*
 * The clone's version of domain XML @xml (the snapshot's <domain>, or
 * the XML embedded in its memory image): name, UUID, MACs and disks
 * replaced, fixed ports and interface names dropped. Caller frees.
 */
static char *
vxsCloneRewriteXML(vxsCloneJob *job, vxsClone *cl, const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    xmlNodePtr root;
    xmlChar *out = NULL;
    int len = 0;
    int n;
    char *ret;

    if (!(doc = xsnapXMLParseString(xml, "domain", "domain", &ctxt)))
        return NULL;
    root = xmlDocGetRootElement(doc);
    xmlUnsetProp(root, BAD_CAST "id");
    vxsCloneSetChild(root, "name", cl->name);
    vxsCloneSetChild(root, "uuid", cl->uuid);
    vxsCloneRemoveChildren(root, "title");
    vxsCloneRemoveChildren(root, "genid");

    /* libvirt refuses a system UUID in <sysinfo> that is not the domain's. */
    g_clear_pointer(&nodes, g_free);
    if ((n = xsnapXPathNodeSet("/domain/sysinfo/system/entry[@name='uuid']", ctxt, &nodes)) < 0)
        return NULL;
    for (int i = 0; i < n; i++)
        xmlNodeSetContent(nodes[i], BAD_CAST cl->uuid);

    g_clear_pointer(&nodes, g_free);
    if ((n = xsnapXPathNodeSet("/domain/devices/interface", ctxt, &nodes)) < 0)
        return NULL;
    for (int i = 0; i < n; i++) {
        xmlNodePtr mac = NULL;
        g_autofree char *old = NULL;
        const char *fresh;

        for (xmlNodePtr c = nodes[i]->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "mac"))
                mac = c;
        /* A fixed host-side name (vifN.M in live XML, or the user's) would clash. */
        vxsCloneRemoveChildren(nodes[i], "target");
        if (!mac) {
            mac = xmlNewChild(nodes[i], NULL, BAD_CAST "mac", NULL);
            old = g_strdup_printf("#%d", i);
        } else {
            xmlChar *a = xmlGetProp(mac, BAD_CAST "address");

            old = g_ascii_strdown(a ? (const char *)a : "", -1);
            xmlFree(a);
        }
        if (!(fresh = g_hash_table_lookup(cl->macs, old))) {
            fresh = vxsCloneNewMac(job);
            g_hash_table_insert(cl->macs, g_strdup(old), (char *)fresh);
        }
        xmlSetProp(mac, BAD_CAST "address", BAD_CAST fresh);
    }

    g_clear_pointer(&nodes, g_free);
    if ((n = xsnapXPathNodeSet("/domain/devices/graphics", ctxt, &nodes)) < 0)
        return NULL;
    for (int i = 0; i < n; i++) {
        xmlUnsetProp(nodes[i], BAD_CAST "port");
        xmlUnsetProp(nodes[i], BAD_CAST "tlsPort");
        xmlUnsetProp(nodes[i], BAD_CAST "websocket");
        xmlSetProp(nodes[i], BAD_CAST "autoport", BAD_CAST "yes");
    }

    g_clear_pointer(&nodes, g_free);
    if ((n = xsnapXPathNodeSet("/domain/devices/disk", ctxt, &nodes)) < 0)
        return NULL;
    for (int i = 0; i < n; i++) {
        g_autofree char *dst = NULL;
        const char *overlay;
        xmlNodePtr src = NULL;
        xmlNodePtr drv = NULL;

        ctxt->node = nodes[i];
        dst = xsnapXPathString("string(target/@dev)", ctxt);
        if (!dst || !(overlay = g_hash_table_lookup(cl->overlays, dst)))
            continue;
        for (xmlNodePtr c = nodes[i]->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            if (xmlStrEqual(c->name, BAD_CAST "source"))
                src = c;
            else if (xmlStrEqual(c->name, BAD_CAST "driver"))
                drv = c;
        }
        if (!src)
            src = xmlNewChild(nodes[i], NULL, BAD_CAST "source", NULL);
        if (!drv) {
            drv = xmlNewChild(nodes[i], NULL, BAD_CAST "driver", NULL);
            xmlSetProp(drv, BAD_CAST "name", BAD_CAST "qemu");
        }
        xmlSetProp(src, BAD_CAST "file", BAD_CAST overlay);
        xmlSetProp(drv, BAD_CAST "type", BAD_CAST "qcow2");
        /* The chain below the overlay is the gold one; libvirt's libxl
         * driver does not need it spelled out. */
        vxsCloneRemoveChildren(nodes[i], "backingStore");
    }

    xmlDocDumpMemory(doc, &out, &len);
    if (!out) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s", _("cannot format the clone's domain XML"));
        return NULL;
    }
    ret = g_strndup((const char *)out, len);
    xmlFree(out);
    return ret;
}


/* ---- checks before anything changes ------------------------------ */

static char *
vxsCloneOverlayPath(vxsCloneJob *job, const vxsCloneDisk *d, const char *name)
{
    g_autofree char *dir = job->dir ? g_strdup(job->dir) : g_path_get_dirname(d->frozen);
    g_autofree char *base = g_strdup_printf("%s-%s.qcow2", name, d->dst);

    return g_build_filename(dir, base, NULL);
}


static int
vxsClonePrepare(vxsCloneJob *job)
{
    struct stat sb;

    if (job->dir && (stat(job->dir, &sb) < 0 || !S_ISDIR(sb.st_mode))) {
        xsnapReportError(VIR_ERR_INVALID_ARG, _("'%1$s' is not a directory"), job->dir);
        return -1;
    }
    for (size_t j = 0; !job->dir && j < job->disks->len; j++) {
        const vxsCloneDisk *d = g_ptr_array_index(job->disks, j);

        if (!d->shared) {
            job->workDir = g_path_get_dirname(d->frozen);
            break;
        }
    }
    if (!job->workDir)
        job->workDir = g_strdup(job->dir ? job->dir : g_get_tmp_dir());
    job->usedMacs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    job->clones = g_ptr_array_new_with_free_func(vxsCloneFree);
    for (unsigned int i = 0; i < job->count; i++) {
        vxsClone *cl = g_new0(vxsClone, 1);
        virDomainPtr other;

        g_ptr_array_add(job->clones, cl);
        cl->name = job->count == 1 ? g_strdup(job->newName) :
                   g_strdup_printf("%s-%u", job->newName, i + 1);
        cl->uuid = g_uuid_string_random();
        cl->macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        cl->overlays = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        cl->files = g_ptr_array_new_with_free_func(g_free);
        cl->temps = g_ptr_array_new_with_free_func(g_free);
        if (!*cl->name || strchr(cl->name, '/') || cl->name[0] == '.') {
            xsnapReportError(VIR_ERR_INVALID_ARG,
                             _("'%1$s' cannot be a domain name here"), cl->name);
            return -1;
        }
        if ((other = virDomainLookupByName(job->conn, cl->name))) {
            virDomainFree(other);
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("domain '%1$s' already exists: nothing was cloned"), cl->name);
            return -1;
        }
        if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
            vxsCloneReportLibvirt(_("cannot look up domain"), cl->name);
            return -1;
        }
        for (size_t j = 0; j < job->disks->len; j++) {
            const vxsCloneDisk *d = g_ptr_array_index(job->disks, j);
            g_autofree char *path = NULL;

            if (d->shared)
                continue;
            path = vxsCloneOverlayPath(job, d, cl->name);
            if (lstat(path, &sb) == 0) {
                xsnapReportError(VIR_ERR_OPERATION_INVALID,
                                 _("'%1$s' already exists: nothing was cloned"), path);
                return -1;
            }
            g_hash_table_insert(cl->overlays, d->dst, g_steal_pointer(&path));
        }
    }
    return 0;
}


/* ---- making one clone --------------------------------------------- */

/* Starts qemu-img for every overlay of @cl, side by side, into @cmds;
 * each name is reserved with O_EXCL first, so a file that appeared
 * meanwhile is never overwritten, and an undo only removes our own. */
static int
vxsCloneOverlaysStart(vxsCloneJob *job, vxsClone *cl, GPtrArray *cmds)
{
    for (size_t j = 0; j < job->disks->len; j++) {
        const vxsCloneDisk *d = g_ptr_array_index(job->disks, j);
        xsnapCommand *cmd;
        const char *path;
        int fd;

        if (d->shared)
            continue;
        path = g_hash_table_lookup(cl->overlays, d->dst);
        if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
            xsnapReportSystemError(errno, _("cannot create overlay '%1$s'"), path);
            return -1;
        }
        close(fd);
        g_ptr_array_add(cl->files, g_strdup(path));
        if (!(cmd = xsnapQemuImgCreateOverlayStart(path, d->frozen, d->format)))
            return -1;
        g_ptr_array_add(cmds, cmd);
    }
    return 0;
}


/* Waits for every command of @cmds and empties it; returns 0, or -1
 * with the first failure as the error. */
static int
vxsCloneOverlaysWait(GPtrArray *cmds)
{
    g_autoptr(xsnapError) first = NULL;

    for (size_t i = 0; i < cmds->len; i++) {
        if (xsnapCommandWait(g_ptr_array_index(cmds, i), NULL) < 0 && !first)
            first = xsnapSaveLastError();
    }
    g_ptr_array_set_size(cmds, 0);
    if (first) {
        xsnapRestoreLastError(g_steal_pointer(&first));
        return -1;
    }
    return 0;
}


/* The feeder's release of the stream's tail: the overlays of the
 * clone, @opaque, all made; -1 with the first failure as the error. */
static int
vxsCloneFeedOverlaysReady(void *opaque)
{
    return vxsCloneOverlaysWait(opaque);
}


/* Restores @cl from the gold memory image streamed through a FIFO
 * (decompressed on the way if need be); the feeder waits for @overlays
 * (and empties it) before the stream's last VXS_CLONE_HOLD bytes. */
static int
vxsCloneRestoreFifo(vxsCloneJob *job, vxsClone *cl, const char *xml,
                    unsigned int flags, GPtrArray *overlays)
{
    g_autofree char *base = g_strdup_printf(".%s.restore", cl->name);
    g_autofree char *fifo = g_build_filename(job->workDir, base, NULL);
    g_autoptr(xsnapError) restoreError = NULL;
    xsnapMemoryFeed *feed;
    int rc;

    if (mkfifo(fifo, 0600) < 0) {
        xsnapReportSystemError(errno, _("cannot create FIFO '%1$s'"), fifo);
        return -1;
    }
    g_ptr_array_add(cl->temps, g_strdup(fifo));
    /* The stream's tail waits for the overlays: neither libxl nor the
     * simulator opens a disk before it has read the whole stream, so
     * the restore can read the guest's memory while qemu-img runs. A
     * failed overlay ends the stream short, and the restore fails. */
    if (!(feed = xsnapMemoryFeedStartHold(fifo, job->memoryFile, xml, VXS_CLONE_HOLD,
                                          vxsCloneFeedOverlaysReady, overlays)))
        return -1;
    rc = virDomainRestoreFlags(job->conn, fifo, NULL, flags);
    if (rc < 0) {
        vxsCloneReportLibvirt(_("cannot restore clone"), cl->name);
        restoreError = xsnapSaveLastError();
    }
    /* A failed overlay, or a feeder that could not read the image, is
     * the cause of libvirt's failure, and fails a restore that libvirt
     * took for done; an overlay the feeder never waited for is waited
     * for by vxsCloneMake, its failure first. */
    if (xsnapMemoryFeedFinish(feed) < 0)
        return -1;
    xsnapRestoreLastError(g_steal_pointer(&restoreError));
    return rc;
}


/* Copies @src to @dst, sharing extents when the file system can. */
static int
vxsCloneCopyFile(const char *src, const char *dst)
{
    int in;
    int out;
    struct stat sb;
    off_t left;
    bool useRange = true;
    g_autofree char *buf = NULL;
    int ret = -1;

    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
        xsnapReportSystemError(errno, _("cannot open '%1$s'"), src);
        return -1;
    }
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        xsnapReportSystemError(errno, _("cannot create '%1$s'"), dst);
        close(in);
        return -1;
    }
    if (fstat(in, &sb) < 0) {
        xsnapReportSystemError(errno, _("cannot stat '%1$s'"), src);
        goto cleanup;
    }
    if (ioctl(out, FICLONE, in) == 0) {
        ret = 0;
        goto cleanup;
    }
    for (left = sb.st_size; left > 0;) {
        ssize_t n = -1;

        if (useRange) {
            n = copy_file_range(in, NULL, out, NULL, (size_t)MIN(left, 1 << 30), 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                          errno == EOPNOTSUPP)) {
                useRange = false;
                continue;
            }
        } else {
            if (!buf)
                buf = g_malloc(1 << 20);
            n = read(in, buf, 1 << 20);
            if (n > 0 && xsnapFileWriteAll(out, buf, n) < 0)
                n = -1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            xsnapReportSystemError(n < 0 ? errno : EIO, _("cannot copy '%1$s' to '%2$s'"),
                                   src, dst);
            goto cleanup;
        }
        left -= n;
    }
    ret = 0;

 cleanup:
    if (close(out) < 0 && ret == 0) {
        xsnapReportSystemError(errno, _("cannot write '%1$s'"), dst);
        ret = -1;
    }
    close(in);
    return ret;
}


/* Restores @cl from a copy of the gold memory image whose XML was
 * rewritten in place; the copy is made while @overlays run. */
static int
vxsCloneRestoreCopy(vxsCloneJob *job, vxsClone *cl, const char *xml,
                    unsigned int flags, GPtrArray *overlays)
{
    g_autofree char *base = g_strdup_printf(".%s.save", cl->name);
    g_autofree char *copy = g_build_filename(job->workDir, base, NULL);
    int rc;

    if (job->memoryFormat != XSNAP_MEMORY_FORMAT_RAW) {
        /* libvirt reads raw images only: the copy is decompressed, with
         * the clone's XML in its header. */
        int fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        if (fd < 0) {
            xsnapReportSystemError(errno, _("cannot create '%1$s'"), copy);
            rc = -1;
        } else {
            g_ptr_array_add(cl->temps, g_strdup(copy));
            rc = xsnapMemoryImageExport(job->memoryFile, xml, XSNAP_MEMORY_FORMAT_RAW,
                                        fd, copy, NULL);
            if (close(fd) < 0 && rc == 0) {
                xsnapReportSystemError(errno, _("cannot write '%1$s'"), copy);
                rc = -1;
            }
        }
    } else {
        if ((rc = vxsCloneCopyFile(job->memoryFile, copy)) < 0)
            unlink(copy);
        else
            g_ptr_array_add(cl->temps, g_strdup(copy));
    }
    /* The overlay's failure comes first: it is the likelier cause. */
    if (vxsCloneOverlaysWait(overlays) < 0 || rc < 0)
        return -1;
    if (job->memoryFormat == XSNAP_MEMORY_FORMAT_RAW &&
        xsnapMemoryImageRewriteXMLFlags(copy, xml, XSNAP_MEMORY_IMAGE_REWRITE_NO_SYNC) < 0)
        return -1;
    if (virDomainRestoreFlags(job->conn, copy, NULL, flags) < 0) {
        vxsCloneReportLibvirt(_("cannot restore clone"), cl->name);
        return -1;
    }
    return 0;
}


/* Defines @cl while its overlays are made, then starts or restores it. */
static int
vxsCloneMakeSteps(vxsCloneJob *job, vxsClone *cl, GPtrArray *overlays)
{
    g_autofree char *config = NULL;

    if (vxsCloneOverlaysStart(job, cl, overlays) < 0)
        return -1;
    /* Defining reads no disk: libvirt only stores the definition. */
    if (!(config = vxsCloneRewriteXML(job, cl, job->domainXML)))
        return -1;
    if (!(cl->dom = virDomainDefineXML(job->conn, config))) {
        vxsCloneReportLibvirt(_("cannot define clone"), cl->name);
        return -1;
    }
    if (vxsCloneInterrupted) {
        xsnapReportError(VIR_ERR_OPERATION_ABORTED, "%s", _("interrupted"));
        return -1;
    }
    if (job->restore) {
        g_autofree char *xml = vxsCloneRewriteXML(job, cl, job->imageXML);
        unsigned int flags = g_strcmp0(job->state, "paused") == 0 ?
                             VIR_DOMAIN_SAVE_PAUSED : 0;
        int rc;

        if (!xml)
            return -1;
        rc = job->copy ? vxsCloneRestoreCopy(job, cl, xml, flags, overlays) :
                         vxsCloneRestoreFifo(job, cl, xml, flags, overlays);
        for (size_t i = 0; i < cl->temps->len; i++)
            unlink(g_ptr_array_index(cl->temps, i));
        g_ptr_array_set_size(cl->temps, 0);
        return rc;
    }
    if (vxsCloneOverlaysWait(overlays) < 0)
        return -1;
    if (job->start && virDomainCreate(cl->dom) < 0) {
        vxsCloneReportLibvirt(_("cannot start clone"), cl->name);
        return -1;
    }
    return 0;
}


static int
vxsCloneMake(vxsCloneJob *job, vxsClone *cl)
{
    g_autoptr(GPtrArray) overlays = g_ptr_array_new();
    g_autoptr(xsnapError) err = NULL;
    int rc = vxsCloneMakeSteps(job, cl, overlays);

    /* Whatever failed, no qemu-img is left running: the undo removes
     * the files they write. An overlay that fails now comes first. */
    if (rc < 0)
        err = xsnapSaveLastError();
    if (overlays->len && vxsCloneOverlaysWait(overlays) < 0) {
        rc = -1;
    } else if (err) {
        xsnapRestoreLastError(g_steal_pointer(&err));
    }
    return rc;
}


/* Takes back everything @cl made; logs what it cannot. */
static void
vxsCloneUndo(vxsClone *cl)
{
    if (cl->dom) {
        if (virDomainIsActive(cl->dom) == 1 && virDomainDestroy(cl->dom) < 0)
            fprintf(stderr, _("virt-xen-snapshot: warning: cannot destroy clone '%1$s': %2$s\n"),
                    cl->name, virGetLastErrorMessage());
        if (virDomainUndefineFlags(cl->dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0)
            fprintf(stderr, _("virt-xen-snapshot: warning: cannot undefine clone '%1$s': %2$s\n"),
                    cl->name, virGetLastErrorMessage());
        virDomainFree(cl->dom);
        cl->dom = NULL;
    }
    for (size_t i = 0; i < cl->temps->len; i++)
        unlink(g_ptr_array_index(cl->temps, i));
    for (size_t i = 0; i < cl->files->len; i++) {
        const char *path = g_ptr_array_index(cl->files, i);

        if (unlink(path) < 0 && errno != ENOENT)
            fprintf(stderr, _("virt-xen-snapshot: warning: cannot remove '%1$s': %2$s\n"),
                    path, g_strerror(errno));
    }
}


static int
vxsCloneRun(vxsCloneJob *job)
{
    size_t done;
    xsnapError *err;

    for (done = 0; done < job->clones->len; done++) {
        vxsClone *cl = g_ptr_array_index(job->clones, done);

        if (vxsCloneInterrupted) {
            xsnapReportError(VIR_ERR_OPERATION_ABORTED, "%s", _("interrupted"));
            break;
        }
        if (vxsCloneMake(job, cl) < 0)
            break;
        printf(_("Clone '%1$s' %2$s (UUID %3$s)\n"), cl->name,
               job->restore ? _("restored from the snapshot's memory") :
               job->start ? _("defined and started") : _("defined"), cl->uuid);
        fflush(stdout);
    }
    if (done == job->clones->len)
        return 0;

    /* All or nothing: take back this clone and every one before it. */
    err = xsnapSaveLastError();
    for (size_t i = done + 1; i-- > 0;)
        vxsCloneUndo(g_ptr_array_index(job->clones, i));
    xsnapRestoreLastError(err);
    return -1;
}


/* ---- --list ------------------------------------------------------- */

/* True if the backing chain of @path (format @format) holds an image
 * in @images. Sets *@hit to that image. */
static bool
vxsCloneChainUses(const char *path, const char *format, GPtrArray *images,
                  const char **hit)
{
    g_autofree char *cur = g_strdup(path);
    g_autofree char *fmt = g_strdup(format);

    for (int depth = 0; cur && depth < 256; depth++) {
        g_autoptr(xsnapQemuImgInfo) info = NULL;

        for (size_t i = 0; i < images->len; i++) {
            if (xsnapFileSame(cur, g_ptr_array_index(images, i))) {
                *hit = g_ptr_array_index(images, i);
                return true;
            }
        }
        if (!(info = xsnapQemuImgGetInfo(cur, fmt)) || !info->backingFile) {
            xsnapResetLastError();
            return false;
        }
        if (!g_path_is_absolute(info->backingFile)) {
            g_autofree char *dir = g_path_get_dirname(cur);

            g_free(cur);
            cur = g_build_filename(dir, info->backingFile, NULL);
        } else {
            g_free(cur);
            cur = g_strdup(info->backingFile);
        }
        g_free(fmt);
        fmt = g_strdup(info->backingFormat);
    }
    return false;
}


static const char *
vxsCloneStateName(virDomainPtr dom)
{
    int state = -1;
    int reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return "?";
    switch (state) {
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_SHUTOFF: return "shut-off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    default: return "?";
    }
}


/* Prints one line per disk of another domain whose chain holds an
 * image the snapshot froze: DOMAIN STATE DISK IMAGE. */
static int
vxsCloneList(vxsCloneJob *job)
{
    g_autoptr(GPtrArray) frozen = g_ptr_array_new();
    virDomainPtr *doms = NULL;
    unsigned char goldUUID[VIR_UUID_BUFLEN];
    int n;

    for (size_t i = 0; i < job->disks->len; i++) {
        const vxsCloneDisk *d = g_ptr_array_index(job->disks, i);

        if (!d->shared)
            g_ptr_array_add(frozen, d->frozen);
    }
    if (virDomainGetUUID(job->gold, goldUUID) < 0 ||
        (n = virConnectListAllDomains(job->conn, &doms, 0)) < 0) {
        vxsCloneReportLibvirt(_("cannot list the domains of"), job->uri);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        unsigned char uuid[VIR_UUID_BUFLEN];
        g_autoptr(xmlDoc) doc = NULL;
        g_autoptr(xmlXPathContext) ctxt = NULL;
        g_autofree xmlNodePtr *nodes = NULL;
        char *xml = NULL;
        int nd;

        if (virDomainGetUUID(doms[i], uuid) < 0 ||
            memcmp(uuid, goldUUID, sizeof(uuid)) == 0 ||
            !(xml = virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE)))
            continue;
        doc = xsnapXMLParseString(xml, "domain", "domain", &ctxt);
        free(xml);
        if (!doc || (nd = xsnapXPathNodeSet("/domain/devices/disk[@type='file']",
                                            ctxt, &nodes)) < 0) {
            xsnapResetLastError();
            continue;
        }
        for (int j = 0; j < nd; j++) {
            g_autofree char *src = NULL;
            g_autofree char *fmt = NULL;
            g_autofree char *dst = NULL;
            const char *hit = NULL;

            ctxt->node = nodes[j];
            src = xsnapXPathString("string(source/@file)", ctxt);
            fmt = xsnapXPathString("string(driver/@type)", ctxt);
            dst = xsnapXPathString("string(target/@dev)", ctxt);
            if (src && *src &&
                vxsCloneChainUses(src, fmt && *fmt ? fmt : "raw", frozen, &hit))
                printf("%s %s %s %s\n", virDomainGetName(doms[i]),
                       vxsCloneStateName(doms[i]), dst ? dst : "?", src);
        }
    }
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    return 0;
}


/* ---- the command -------------------------------------------------- */

static void
vxsCloneUsage(FILE *out)
{
    fprintf(out, "%s\n%s\n",
            _("Usage: virt-xen-snapshot clone [-c URI] [--count N] [--start | --restore [--copy]] [--dir DIR] DOMAIN SNAPSHOT NEWNAME"),
            _("       virt-xen-snapshot clone --list [-c URI] DOMAIN SNAPSHOT"));
}


static int
vxsCloneParseArgs(vxsCloneJob *job, int argc, char **argv)
{
    const char *pos[3] = { NULL, NULL, NULL };
    int npos = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if ((g_str_equal(a, "-c") || g_str_equal(a, "--connect")) && i + 1 < argc) {
            job->uri = argv[++i];
        } else if (g_str_equal(a, "--count") && i + 1 < argc) {
            char *end = NULL;
            unsigned long v = strtoul(argv[++i], &end, 10);

            if (!end || *end || v == 0 || v > VXS_CLONE_MAX || argv[i][0] == '-') {
                fprintf(stderr, _("virt-xen-snapshot: --count takes a number from 1 to %1$d\n"),
                        VXS_CLONE_MAX);
                return 2;
            }
            job->count = (unsigned int)v;
        } else if (g_str_equal(a, "--dir") && i + 1 < argc) {
            job->dir = argv[++i];
        } else if (g_str_equal(a, "--start")) {
            job->start = true;
        } else if (g_str_equal(a, "--restore")) {
            job->restore = true;
        } else if (g_str_equal(a, "--copy")) {
            job->copy = true;
        } else if (g_str_equal(a, "--list")) {
            job->list = true;
        } else if (g_str_equal(a, "--help") || g_str_equal(a, "-h")) {
            vxsCloneUsage(stdout);
            return 0;
        } else if (a[0] == '-' || npos == 3) {
            vxsCloneUsage(stderr);
            return 2;
        } else {
            pos[npos++] = a;
        }
    }
    if (job->start && job->restore) {
        fprintf(stderr, "%s\n", _("virt-xen-snapshot: --start and --restore are mutually exclusive"));
        return 2;
    }
    if (job->copy && !job->restore) {
        fprintf(stderr, "%s\n", _("virt-xen-snapshot: --copy goes with --restore"));
        return 2;
    }
    if (npos != (job->list ? 2 : 3) ||
        (job->list && (job->start || job->restore || job->dir || job->count != 1))) {
        vxsCloneUsage(stderr);
        return 2;
    }
    job->domain = pos[0];
    job->snapshot = pos[1];
    job->newName = pos[2];
    return -1;
}


int
vxsCmdClone(int argc, char **argv)
{
    vxsCloneJob job = { .uri = "xen:///system", .count = 1, .lock = -1 };
    struct sigaction sa = { .sa_handler = vxsCloneOnSignal };
    int ret = 1;
    int rc;

    if ((rc = vxsCloneParseArgs(&job, argc, argv)) >= 0)
        return rc;

    virSetErrorFunc(NULL, vxsSilence);
    /* A reader of the FIFO that goes away must fail a write, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (!(job.conn = virConnectOpen(job.uri))) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED, _("cannot connect to '%1$s': %2$s"),
                         job.uri, virGetLastErrorMessage());
        vxsPrintError();
        return 1;
    }
    if (!job.list && vxsCloneLock(&job) < 0)
        goto cleanup;
    if (vxsCloneLoadSnapshot(&job) < 0)
        goto cleanup;
    if (job.list) {
        ret = vxsCloneList(&job) < 0 ? 1 : 0;
        goto cleanup;
    }
    if (vxsClonePrepare(&job) < 0 || xsnapFaultPoint("clone:checked") < 0)
        goto cleanup;
    /* Interrupted, the run stops after the step at hand and takes back
     * what it made. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (vxsCloneRun(&job) < 0)
        goto cleanup;
    ret = 0;

 cleanup:
    if (ret != 0 && xsnapGetLastError())
        vxsPrintError();
    vxsCloneJobClear(&job);
    return ret;
}
