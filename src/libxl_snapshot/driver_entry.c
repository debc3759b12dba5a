/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_entry.c: the snapshot callbacks of the libxl driver
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "driver_entry.h"
#include "driver_error.h"
#include "driver_state.h"
#include "memory_image.h"
#include "snapshot_conf.h"
#include "snapshot_ops.h"
#include "util_error.h"
#include "util_xml.h"

/* Every flag of virDomainSnapshotCreateFlags in libvirt 9.0.0. */
#define XSNAP_CREATE_FLAGS_ALL \
    (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE | VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT | \
     VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA | VIR_DOMAIN_SNAPSHOT_CREATE_HALT | \
     VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT | \
     VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE | VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC | \
     VIR_DOMAIN_SNAPSHOT_CREATE_LIVE | VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE)
/* What a redefinition takes into account. */
#define XSNAP_REDEFINE_FLAGS \
    (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE | VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT | \
     VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE)
#define XSNAP_REVERT_FLAGS_ALL \
    (VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING | VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED | \
     VIR_DOMAIN_SNAPSHOT_REVERT_FORCE | VIR_DOMAIN_SNAPSHOT_REVERT_RESET_NVRAM)
#define XSNAP_DELETE_FLAGS_ALL \
    (VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN | \
     VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY | \
     VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY)

static xsnapDrvDomainUndefine stockUndefine;
static xsnapDrvDomainUndefineFlags stockUndefineFlags;


/* libvirt's virCheckFlags, for the project's error model. */
static int
xsnapCheckFlags(unsigned int flags, unsigned int supported, const char *func)
{
    if (flags & ~supported) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("unsupported flags (0x%1$x) in function %2$s"),
                         flags & ~supported, func);
        return -1;
    }
    return 0;
}


/* A new handle for snapshot @name of @dom. */
static virDomainSnapshotPtr
xsnapSnapshotHandle(virDomainPtr dom, const char *name)
{
    xsnapGetDomainSnapshotFunc get = xsnapDriverGetDomainSnapshotFunc();
    virDomainSnapshotPtr snap;

    if (!get || !(snap = get(dom, name))) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot create a handle for snapshot '%1$s'"), name);
        return NULL;
    }
    return snap;
}


/* The locked tree of @snapshot's domain and the snapshot's Obj. */
static xsnapDomainSnapshots *
xsnapSnapshotAcquire(virDomainSnapshotPtr snapshot, xsnapSnapshotObj **obj)
{
    virDomainPtr dom = virDomainSnapshotGetDomain(snapshot);
    const char *name = virDomainSnapshotGetName(snapshot);
    xsnapDomainSnapshots *snaps;

    if (!dom || !name) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                         _("invalid domain snapshot handle"));
        return NULL;
    }
    if (!(snaps = xsnapDriverStateAcquire(dom)))
        return NULL;
    if (!(*obj = xsnapSnapshotObjListLookup(snaps->list, name))) {
        xsnapDriverStateRelease(snaps);
        return NULL;
    }
    return snaps;
}


/* Turns a list of Objs into the NULL-terminated handle array the daemon
 * frees with free(). */
static int
xsnapSnapshotHandles(virDomainPtr dom, xsnapSnapshotObj **objs, int n,
                     virDomainSnapshotPtr **out)
{
    virDomainSnapshotPtr *handles = calloc((size_t)n + 1, sizeof(*handles));
    int i;

    if (!handles) {
        xsnapReportError(VIR_ERR_NO_MEMORY, "%s", _("out of memory"));
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (!(handles[i] = xsnapSnapshotHandle(dom, objs[i]->def->name))) {
            while (i-- > 0)
                virDomainSnapshotFree(handles[i]);
            free(handles);
            return -1;
        }
    }
    *out = handles;
    return n;
}


/* Copies up to @maxnames names into @names, each freed with free(). */
static int
xsnapSnapshotCopyNames(char **all, char **names, int maxnames)
{
    int n = 0;

    for (n = 0; n < maxnames && all[n]; n++) {
        if (!(names[n] = strdup(all[n]))) {
            while (n-- > 0)
                g_clear_pointer(&names[n], free);
            xsnapReportError(VIR_ERR_NO_MEMORY, "%s", _("out of memory"));
            return -1;
        }
    }
    return n;
}


/* Reads a UUID string, with or without dashes, into 16 bytes. */
static bool
xsnapUUIDParse(const char *str, unsigned char *uuid)
{
    size_t n = 0;

    for (; *str && n < 2 * VIR_UUID_BUFLEN; str++) {
        int v;

        if (*str == '-')
            continue;
        if ((v = g_ascii_xdigit_value(*str)) < 0)
            return false;
        if (n % 2 == 0)
            uuid[n / 2] = (unsigned char)(v << 4);
        else
            uuid[n / 2] |= (unsigned char)v;
        n++;
    }
    return n == 2 * VIR_UUID_BUFLEN && !*str;
}


/* Refuses a definition whose <domain> names another domain. */
static int
xsnapSnapshotCheckDomainUUID(const xsnapSnapshotDef *def, const char *uuid)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree char *found = NULL;
    unsigned char want[VIR_UUID_BUFLEN];
    unsigned char got[VIR_UUID_BUFLEN];

    if (!def->domainXML)
        return 0;
    if (!(doc = xsnapXMLParseString(def->domainXML, _("(domain_definition)"),
                                    NULL, &ctxt)))
        return -1;
    if (!(found = xsnapXPathString("string(./uuid)", ctxt)))
        return 0;
    g_strstrip(found);
    /* Compare as UUIDs: case and dashes may differ. */
    if (!xsnapUUIDParse(found, got) || !xsnapUUIDParse(uuid, want) ||
        memcmp(got, want, sizeof(got)) != 0) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("definition for snapshot %1$s must use uuid %2$s"),
                         def->name, uuid);
        return -1;
    }
    return 0;
}


/* ---- creation -------------------------------------------------------- */

static virDomainSnapshotPtr
xsnapSnapshotRedefine(virDomainPtr dom, const char *xmlDesc, unsigned int flags)
{
    g_autoptr(xsnapSnapshotDef) def = NULL;
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotStore *store = xsnapDriverStateGetStore();
    unsigned int parseFlags = XSNAP_SNAPSHOT_PARSE_REDEFINE;
    xsnapSnapshotObj *obj;
    bool existed;

    if (flags & VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE)
        parseFlags |= XSNAP_SNAPSHOT_PARSE_VALIDATE;
    if (!(def = xsnapSnapshotDefParseString(xmlDesc, NULL, parseFlags)))
        return NULL;
    if (xsnapSnapshotDefValidateName(def->name) < 0)
        return NULL;

    if (!(snaps = xsnapDriverStateAcquire(dom)))
        return NULL;
    if (xsnapDriverStateCheckWritable(snaps) < 0 ||
        xsnapSnapshotCheckDomainUUID(def, snaps->uuid) < 0)
        return NULL;
    if (def->domainXML && xsnapSnapshotDefRedefineAlign(def, NULL) < 0)
        return NULL;

    existed = xsnapSnapshotObjListFindByName(snaps->list, def->name) != NULL;
    if (!(obj = xsnapSnapshotObjListRedefine(snaps->list, &def,
                                             flags & (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE |
                                                      VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY))))
        return NULL;

    /* The file first, then the current mark, which rewrites the old
     * current snapshot's file too. */
    if (xsnapSnapshotStoreSave(store, snaps->name, snaps->list, obj, existed) < 0 ||
        ((flags & VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT) &&
         xsnapSnapshotStoreSetCurrent(store, snaps->name, snaps->list, obj) < 0)) {
        xsnapDriverStateInvalidate(snaps);
        return NULL;
    }
    return xsnapSnapshotHandle(dom, obj->def->name);
}


static virDomainSnapshotPtr
xsnapDomainSnapshotCreateXML(virDomainPtr dom, const char *xmlDesc,
                             unsigned int flags)
{
    virDomainSnapshotPtr ret = NULL;

    xsnapResetLastError();
    xsnapDriverLog(XSNAP_LOG_DEBUG, "snapshot create on domain '%s', flags 0x%x: %s",
                   virDomainGetName(dom), flags, xmlDesc);
    if (xsnapCheckFlags(flags, XSNAP_CREATE_FLAGS_ALL, __func__) < 0)
        goto error;

    if (flags & VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE) {
        if (xsnapCheckFlags(flags, XSNAP_REDEFINE_FLAGS, __func__) < 0)
            goto error;
        ret = xsnapSnapshotRedefine(dom, xmlDesc, flags);
    } else {
        g_autoptr(xsnapDomainSnapshots) snaps = NULL;
        g_autofree char *name = NULL;

        if ((snaps = xsnapDriverStateAcquire(dom)) &&
            xsnapDriverStateCheckWritable(snaps) == 0 &&
            xsnapOpsCreate(dom, snaps, xmlDesc, flags, &name) == 0)
            ret = xsnapSnapshotHandle(dom, name);
    }
    if (ret) {
        xsnapDriverLog(XSNAP_LOG_DEBUG, "snapshot '%s' of domain '%s' %s",
                       virDomainSnapshotGetName(ret), virDomainGetName(dom),
                       flags & VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE ?
                       "redefined" : "created");
        return ret;
    }

 error:
    xsnapDriverReportLastError();
    return NULL;
}


/* ---- queries --------------------------------------------------------- */

static char *
xsnapDomainSnapshotGetXMLDesc(virDomainSnapshotPtr snapshot, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotObj *obj;
    char *xml;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, VIR_DOMAIN_SNAPSHOT_XML_SECURE, __func__) < 0 ||
        !(snaps = xsnapSnapshotAcquire(snapshot, &obj)) ||
        !(xml = xsnapSnapshotDefFormatUUID(obj->def, snaps->uuid,
                                           (flags & VIR_DOMAIN_SNAPSHOT_XML_SECURE) ?
                                           XSNAP_SNAPSHOT_FORMAT_SECURE : 0))) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return NULL;
    }
    return xml;
}


static int
xsnapDomainSnapshotNum(virDomainPtr dom, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    int n;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_SNAPSHOT_LIST_FLAGS_ALL, __func__) < 0 ||
        !(snaps = xsnapDriverStateAcquire(dom)) ||
        (n = xsnapSnapshotObjListNum(snaps->list, NULL, flags)) < 0) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }
    return n;
}


static int
xsnapDomainSnapshotListNames(virDomainPtr dom, char **names, int maxnames,
                             unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    g_auto(GStrv) all = NULL;
    int n;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_SNAPSHOT_LIST_FLAGS_ALL, __func__) < 0 ||
        !(snaps = xsnapDriverStateAcquire(dom)) ||
        xsnapSnapshotObjListGetNames(snaps->list, NULL, &all, flags) < 0 ||
        (n = xsnapSnapshotCopyNames(all, names, maxnames)) < 0) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }
    return n;
}


static int
xsnapDomainListAllSnapshots(virDomainPtr dom, virDomainSnapshotPtr **out,
                            unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    g_autofree xsnapSnapshotObj **objs = NULL;
    int n;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_SNAPSHOT_LIST_FLAGS_ALL, __func__) < 0 ||
        !(snaps = xsnapDriverStateAcquire(dom)) ||
        (n = xsnapSnapshotObjListListAll(snaps->list, NULL,
                                         out ? &objs : NULL, flags)) < 0 ||
        (out && xsnapSnapshotHandles(dom, objs, n, out) < 0)) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }
    return n;
}


/* DESCENDANTS shares its value with ROOTS. */
#define XSNAP_CHILDREN_FLAGS_ALL XSNAP_SNAPSHOT_LIST_FLAGS_ALL

static int
xsnapDomainSnapshotNumChildren(virDomainSnapshotPtr snapshot, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotObj *obj;
    int n;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_CHILDREN_FLAGS_ALL, __func__) < 0 ||
        !(snaps = xsnapSnapshotAcquire(snapshot, &obj)) ||
        (n = xsnapSnapshotObjListNum(snaps->list, obj, flags)) < 0) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }
    return n;
}


static int
xsnapDomainSnapshotListChildrenNames(virDomainSnapshotPtr snapshot,
                                     char **names, int maxnames,
                                     unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    g_auto(GStrv) all = NULL;
    xsnapSnapshotObj *obj;
    int n;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_CHILDREN_FLAGS_ALL, __func__) < 0 ||
        !(snaps = xsnapSnapshotAcquire(snapshot, &obj)) ||
        xsnapSnapshotObjListGetNames(snaps->list, obj, &all, flags) < 0 ||
        (n = xsnapSnapshotCopyNames(all, names, maxnames)) < 0) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }
    return n;
}


static int
xsnapDomainSnapshotListAllChildren(virDomainSnapshotPtr snapshot,
                                   virDomainSnapshotPtr **out,
                                   unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    g_autofree xsnapSnapshotObj **objs = NULL;
    xsnapSnapshotObj *obj;
    int n;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_CHILDREN_FLAGS_ALL, __func__) < 0 ||
        !(snaps = xsnapSnapshotAcquire(snapshot, &obj)) ||
        (n = xsnapSnapshotObjListListAll(snaps->list, obj,
                                         out ? &objs : NULL, flags)) < 0 ||
        (out && xsnapSnapshotHandles(virDomainSnapshotGetDomain(snapshot),
                                     objs, n, out) < 0)) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }
    return n;
}


static virDomainSnapshotPtr
xsnapDomainSnapshotLookupByName(virDomainPtr dom, const char *name,
                                unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    virDomainSnapshotPtr ret;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, 0, __func__) < 0 ||
        !(snaps = xsnapDriverStateAcquire(dom)) ||
        !xsnapSnapshotObjListLookup(snaps->list, name) ||
        !(ret = xsnapSnapshotHandle(dom, name))) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return NULL;
    }
    return ret;
}


static int
xsnapDomainHasCurrentSnapshot(virDomainPtr dom, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, 0, __func__) < 0 ||
        !(snaps = xsnapDriverStateAcquire(dom))) {
        xsnapDriverReportLastError();
        return -1;
    }
    return xsnapSnapshotObjListGetCurrent(snaps->list) ? 1 : 0;
}


static virDomainSnapshotPtr
xsnapDomainSnapshotGetParent(virDomainSnapshotPtr snapshot, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotObj *obj = NULL;
    virDomainSnapshotPtr ret = NULL;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, 0, __func__) == 0 &&
        (snaps = xsnapSnapshotAcquire(snapshot, &obj))) {
        if (!obj->def->parent_name) {
            xsnapReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT,
                             _("snapshot '%1$s' does not have a parent"),
                             obj->def->name);
        } else {
            ret = xsnapSnapshotHandle(virDomainSnapshotGetDomain(snapshot),
                                      obj->def->parent_name);
        }
    }
    if (!ret) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
    }
    return ret;
}


static virDomainSnapshotPtr
xsnapDomainSnapshotCurrent(virDomainPtr dom, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    virDomainSnapshotPtr ret = NULL;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, 0, __func__) == 0 &&
        (snaps = xsnapDriverStateAcquire(dom))) {
        const char *name = xsnapSnapshotObjListGetCurrentName(snaps->list);

        if (!name)
            xsnapReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT, "%s",
                             _("the domain does not have a current snapshot"));
        else
            ret = xsnapSnapshotHandle(dom, name);
    }
    if (!ret) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
    }
    return ret;
}


static int
xsnapDomainSnapshotIsCurrent(virDomainSnapshotPtr snapshot, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotObj *obj;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, 0, __func__) < 0 ||
        !(snaps = xsnapSnapshotAcquire(snapshot, &obj))) {
        xsnapDriverReportLastError();
        return -1;
    }
    return xsnapSnapshotObjListGetCurrent(snaps->list) == obj ? 1 : 0;
}


static int
xsnapDomainSnapshotHasMetadata(virDomainSnapshotPtr snapshot, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotObj *obj;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, 0, __func__) < 0 ||
        !(snaps = xsnapSnapshotAcquire(snapshot, &obj))) {
        xsnapDriverReportLastError();
        return -1;
    }
    /* Every snapshot this driver knows was read from its metadata. */
    return 1;
}


/* ---- revert and delete ----------------------------------------------- */

static int
xsnapDomainRevertToSnapshot(virDomainSnapshotPtr snapshot, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotObj *obj;

    xsnapResetLastError();
    xsnapDriverLog(XSNAP_LOG_DEBUG, "snapshot revert of domain '%s' to '%s', flags 0x%x",
                   virDomainGetName(virDomainSnapshotGetDomain(snapshot)),
                   virDomainSnapshotGetName(snapshot), flags);
    if (xsnapCheckFlags(flags, XSNAP_REVERT_FLAGS_ALL, __func__) < 0 ||
        !(snaps = xsnapSnapshotAcquire(snapshot, &obj)) ||
        xsnapDriverStateCheckWritable(snaps) < 0 ||
        xsnapOpsRevert(virDomainSnapshotGetDomain(snapshot), snaps, obj, flags) < 0) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }
    xsnapDriverLog(XSNAP_LOG_DEBUG, "domain '%s' reverted to snapshot '%s'",
                   virDomainGetName(virDomainSnapshotGetDomain(snapshot)),
                   virDomainSnapshotGetName(snapshot));
    return 0;
}


static int
xsnapDomainSnapshotDelete(virDomainSnapshotPtr snapshot, unsigned int flags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    xsnapSnapshotObj *obj;
    int rc = -1;

    xsnapResetLastError();
    xsnapDriverLog(XSNAP_LOG_DEBUG, "snapshot delete of '%s' of domain '%s', flags 0x%x",
                   virDomainSnapshotGetName(snapshot),
                   virDomainGetName(virDomainSnapshotGetDomain(snapshot)), flags);
    if (xsnapCheckFlags(flags, XSNAP_DELETE_FLAGS_ALL, __func__) == 0 &&
        (snaps = xsnapSnapshotAcquire(snapshot, &obj)) &&
        xsnapDriverStateCheckWritable(snaps) == 0) {
        if (flags & VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
            rc = xsnapSnapshotStoreDelete(xsnapDriverStateGetStore(),
                                          snaps->name, snaps->list, obj,
                                          flags & (VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN |
                                                   VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY));
        else
            rc = xsnapOpsDelete(virDomainSnapshotGetDomain(snapshot), snaps,
                                obj, flags);
    }
    if (rc < 0) {
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
    } else {
        xsnapDriverLog(XSNAP_LOG_DEBUG, "snapshot '%s' of domain '%s' deleted",
                       virDomainSnapshotGetName(snapshot),
                       virDomainGetName(virDomainSnapshotGetDomain(snapshot)));
    }
    return rc;
}


void *const xsnapDriverSnapshotSlots[XSNAP_SLOT_LAST] = {
    [XSNAP_SLOT_SNAPSHOT_CREATE_XML] = (void *)xsnapDomainSnapshotCreateXML,
    [XSNAP_SLOT_SNAPSHOT_GET_XML_DESC] = (void *)xsnapDomainSnapshotGetXMLDesc,
    [XSNAP_SLOT_SNAPSHOT_NUM] = (void *)xsnapDomainSnapshotNum,
    [XSNAP_SLOT_SNAPSHOT_LIST_NAMES] = (void *)xsnapDomainSnapshotListNames,
    [XSNAP_SLOT_LIST_ALL_SNAPSHOTS] = (void *)xsnapDomainListAllSnapshots,
    [XSNAP_SLOT_SNAPSHOT_NUM_CHILDREN] = (void *)xsnapDomainSnapshotNumChildren,
    [XSNAP_SLOT_SNAPSHOT_LIST_CHILDREN_NAMES] = (void *)xsnapDomainSnapshotListChildrenNames,
    [XSNAP_SLOT_SNAPSHOT_LIST_ALL_CHILDREN] = (void *)xsnapDomainSnapshotListAllChildren,
    [XSNAP_SLOT_SNAPSHOT_LOOKUP_BY_NAME] = (void *)xsnapDomainSnapshotLookupByName,
    [XSNAP_SLOT_HAS_CURRENT_SNAPSHOT] = (void *)xsnapDomainHasCurrentSnapshot,
    [XSNAP_SLOT_SNAPSHOT_GET_PARENT] = (void *)xsnapDomainSnapshotGetParent,
    [XSNAP_SLOT_SNAPSHOT_CURRENT] = (void *)xsnapDomainSnapshotCurrent,
    [XSNAP_SLOT_SNAPSHOT_IS_CURRENT] = (void *)xsnapDomainSnapshotIsCurrent,
    [XSNAP_SLOT_SNAPSHOT_HAS_METADATA] = (void *)xsnapDomainSnapshotHasMetadata,
    [XSNAP_SLOT_REVERT_TO_SNAPSHOT] = (void *)xsnapDomainRevertToSnapshot,
    [XSNAP_SLOT_SNAPSHOT_DELETE] = (void *)xsnapDomainSnapshotDelete,
};


/* ---- undefine -------------------------------------------------------- */

typedef struct {
    const char *dir;
    const char *domain;
} xsnapStoreImageSearch;

static void
xsnapDomainRemoveStoreImage(xsnapSnapshotObj *obj, void *opaque)
{
    xsnapStoreImageSearch *search = opaque;
    const char *file = obj->def->memoryFile;
    g_autofree char *dir = NULL;

    if (!file || !search->dir)
        return;
    dir = g_path_get_dirname(file);
    if (!g_str_equal(dir, search->dir) ||
        !g_str_has_suffix(file, XSNAP_SNAPSHOT_STORE_MEMORY_SUFFIX))
        return;
    if (unlink(file) < 0 && errno != ENOENT)
        xsnapDriverLog(XSNAP_LOG_WARN,
                       "cannot remove memory image '%s' of snapshot '%s' of domain '%s': %s",
                       file, obj->def->name, search->domain, g_strerror(errno));
}


/*
 * The memory images the driver made in the domain's store directory go
 * with the metadata: those of the snapshots listed, and those that
 * delete --metadata left there, which nothing could reach once the
 * domain is gone. Images the user named elsewhere stay.
 */
static void
xsnapDomainRemoveStoreImages(xsnapDomainSnapshots *snaps)
{
    g_autofree char *dir = xsnapSnapshotStoreDomainDir(xsnapDriverStateGetStore(),
                                                       snaps->name);
    xsnapStoreImageSearch search = { .dir = dir, .domain = snaps->name };
    g_autoptr(GDir) d = NULL;
    const char *entry;

    xsnapResetLastError();
    xsnapSnapshotObjListForEach(snaps->list, xsnapDomainRemoveStoreImage, &search);
    if (!dir || !(d = g_dir_open(dir, 0, NULL)))
        return;
    while ((entry = g_dir_read_name(d))) {
        g_autofree char *path = NULL;

        if (entry[0] == '.' || !g_str_has_suffix(entry, XSNAP_SNAPSHOT_STORE_MEMORY_SUFFIX))
            continue;
        path = g_build_filename(dir, entry, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) ||
            g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            continue;
        if (unlink(path) < 0 && errno != ENOENT)
            xsnapDriverLog(XSNAP_LOG_WARN,
                           "cannot remove memory image '%s' of domain '%s': %s",
                           path, snaps->name, g_strerror(errno));
    }
}


/*
 * libvirt's rule: an inactive domain with snapshot metadata is only
 * undefined with VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA, which also
 * removes the metadata. The stock driver knows nothing of that flag,
 * so it is taken off before the stock callback runs. The metadata goes
 * after the stock undefine succeeded, so a refused undefine keeps it.
 */
static int
xsnapDomainUndefineCommon(virDomainPtr dom, unsigned int flags, bool withFlags)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    int active = virDomainIsActive(dom);
    size_t n;
    int rc;

    xsnapResetLastError();
    if (!(snaps = xsnapDriverStateAcquire(dom))) {
        xsnapDriverReportLastError();
        return -1;
    }
    n = xsnapSnapshotObjListCount(snaps->list);
    if (n > 0 && active == 0 &&
        !(flags & VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("cannot delete inactive domain with %1$zu snapshots"),
                         n);
        g_clear_pointer(&snaps, xsnapDriverStateRelease);
        xsnapDriverReportLastError();
        return -1;
    }

    flags &= ~(unsigned int)VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
    if (withFlags)
        rc = stockUndefineFlags(dom, flags);
    else
        rc = stockUndefine(dom);
    if (rc < 0)
        return rc;      /* the stock driver's error stands */

    if (active == 0)
        xsnapDomainRemoveStoreImages(snaps);
    if (n > 0 && active == 0 &&
        xsnapSnapshotStoreDeleteAll(xsnapDriverStateGetStore(), snaps->name,
                                    snaps->list) < 0) {
        /* The domain is gone already: say so in the log, not to the
         * caller, whose undefine succeeded. */
        xsnapDriverLog(XSNAP_LOG_WARN,
                       "domain '%s' undefined, but its snapshot metadata was not all removed: %s",
                       snaps->name, xsnapGetLastErrorMessage());
        xsnapDriverStateInvalidate(snaps);
    }
    return rc;
}


static int
xsnapDomainUndefineFlags(virDomainPtr dom, unsigned int flags)
{
    return xsnapDomainUndefineCommon(dom, flags, true);
}


static int
xsnapDomainUndefine(virDomainPtr dom)
{
    return xsnapDomainUndefineCommon(dom, 0, false);
}


void
xsnapDriverEntrySetUndefine(xsnapDrvDomainUndefine undefine,
                            xsnapDrvDomainUndefineFlags undefineFlags,
                            xsnapDrvDomainUndefine *wrapUndefine,
                            xsnapDrvDomainUndefineFlags *wrapUndefineFlags)
{
    stockUndefine = undefine;
    stockUndefineFlags = undefineFlags;
    *wrapUndefine = xsnapDomainUndefine;
    *wrapUndefineFlags = xsnapDomainUndefineFlags;
}


/* ---- jobs ------------------------------------------------------------- */

/*
 * A snapshot operation runs outside the stock driver's job (nothing can
 * hold that across our steps), so the stock job callbacks report "no
 * job" while one runs. These wrappers show it instead.
 */

static xsnapDrvDomainGetJobInfo stockGetJobInfo;
static xsnapDrvDomainGetJobStats stockGetJobStats;

/* Every flag of virDomainAbortJobFlagsValues in libvirt 9.0.0. */
#define XSNAP_ABORT_FLAGS_ALL VIR_DOMAIN_ABORT_JOB_POSTCOPY

/* The snapshot operation running on @dom, if any. The image's size
 * includes its header, so it is capped at the memory's size. */
static bool
xsnapDomainSnapshotJob(virDomainPtr dom, xsnapOpsJobInfo *job)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (virDomainGetUUIDString(dom, uuid) < 0 || xsnapOpsGetJob(uuid, job) != 1)
        return false;
    if (job->total > 0 && job->written > job->total)
        job->written = job->total;
    return true;
}


static int
xsnapDomainJobOperation(xsnapOpsJobKind kind)
{
    switch (kind) {
    case XSNAP_OPS_JOB_CREATE:
        return VIR_DOMAIN_JOB_OPERATION_SNAPSHOT;
    case XSNAP_OPS_JOB_REVERT:
        return VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_REVERT;
    case XSNAP_OPS_JOB_DELETE:
        return VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_DELETE;
    case XSNAP_OPS_JOB_LAST:
        break;
    }
    return VIR_DOMAIN_JOB_OPERATION_UNKNOWN;
}


/*
 * The stock callback runs first even when its answer is replaced: it is
 * the one that checks the caller's access and that the domain exists.
 * A snapshot operation takes precedence over a stock job it started
 * itself (a restore during a revert).
 */
static int
xsnapDomainGetJobInfo(virDomainPtr dom, virDomainJobInfoPtr info)
{
    xsnapOpsJobInfo job;

    if (stockGetJobInfo(dom, info) < 0)
        return -1;
    if (!xsnapDomainSnapshotJob(dom, &job))
        return 0;

    memset(info, 0, sizeof(*info));
    info->type = VIR_DOMAIN_JOB_UNBOUNDED;
    info->timeElapsed = job.elapsedMs;
    if (job.memory) {
        info->dataTotal = info->memTotal = job.total;
        info->dataProcessed = info->memProcessed = job.written;
        info->dataRemaining = info->memRemaining =
            job.total > job.written ? job.total - job.written : 0;
    }
    return 0;
}


/* The typed parameters of @job, through the public API only. */
static int
xsnapDomainJobParams(const xsnapOpsJobInfo *job, virTypedParameterPtr *params,
                     int *nparams)
{
    unsigned long long remaining = job->total > job->written ?
                                   job->total - job->written : 0;
    virTypedParameterPtr list = NULL;
    int n = 0;
    int max = 0;

    if (virTypedParamsAddInt(&list, &n, &max, VIR_DOMAIN_JOB_OPERATION,
                             xsnapDomainJobOperation(job->kind)) < 0 ||
        virTypedParamsAddULLong(&list, &n, &max, VIR_DOMAIN_JOB_TIME_ELAPSED,
                                job->elapsedMs) < 0 ||
        (job->memory &&
         (virTypedParamsAddULLong(&list, &n, &max, VIR_DOMAIN_JOB_DATA_TOTAL,
                                  job->total) < 0 ||
          virTypedParamsAddULLong(&list, &n, &max, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                  job->written) < 0 ||
          virTypedParamsAddULLong(&list, &n, &max, VIR_DOMAIN_JOB_DATA_REMAINING,
                                  remaining) < 0 ||
          virTypedParamsAddULLong(&list, &n, &max, VIR_DOMAIN_JOB_MEMORY_TOTAL,
                                  job->total) < 0 ||
          virTypedParamsAddULLong(&list, &n, &max, VIR_DOMAIN_JOB_MEMORY_PROCESSED,
                                  job->written) < 0 ||
          virTypedParamsAddULLong(&list, &n, &max, VIR_DOMAIN_JOB_MEMORY_REMAINING,
                                  remaining) < 0))) {
        virTypedParamsFree(list, n);
        xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s",
                         _("cannot build the statistics of the snapshot job"));
        return -1;
    }
    *params = list;
    *nparams = n;
    return 0;
}


/* Statistics of a completed job (VIR_DOMAIN_JOB_STATS_COMPLETED) are
 * the stock driver's alone: snapshot operations keep none. */
static int
xsnapDomainGetJobStats(virDomainPtr dom, int *type,
                       virTypedParameterPtr *params, int *nparams,
                       unsigned int flags)
{
    virTypedParameterPtr ours = NULL;
    int nours = 0;
    xsnapOpsJobInfo job;

    if (stockGetJobStats(dom, type, params, nparams, flags) < 0)
        return -1;
    if ((flags & VIR_DOMAIN_JOB_STATS_COMPLETED) ||
        !xsnapDomainSnapshotJob(dom, &job))
        return 0;

    xsnapResetLastError();
    if (xsnapDomainJobParams(&job, &ours, &nours) < 0) {
        virTypedParamsFree(*params, *nparams);
        *params = NULL;
        *nparams = 0;
        xsnapDriverReportLastError();
        return -1;
    }
    virTypedParamsFree(*params, *nparams);
    *type = VIR_DOMAIN_JOB_UNBOUNDED;
    *params = ours;
    *nparams = nours;
    return 0;
}


/*
 * The stock driver has no abort: libvirt itself refuses with
 * VIR_ERR_NO_SUPPORT. A snapshot operation cannot be stopped half-way
 * either (its steps undo themselves only on failure), so while one runs
 * the refusal says so, as an invalid operation; otherwise it stays
 * VIR_ERR_NO_SUPPORT.
 */
static int
xsnapDomainAbortJobFlags(virDomainPtr dom, unsigned int flags)
{
    const char *name = virDomainGetName(dom);
    xsnapOpsJobInfo job;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_ABORT_FLAGS_ALL, __func__) == 0) {
        if (xsnapDomainSnapshotJob(dom, &job))
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("the snapshot operation running on domain '%1$s' cannot be aborted"),
                             name ? name : "");
        else
            xsnapReportError(VIR_ERR_NO_SUPPORT,
                             _("the libxl driver cannot abort a job of domain '%1$s'"),
                             name ? name : "");
    }
    xsnapDriverReportLastError();
    return -1;
}


static int
xsnapDomainAbortJob(virDomainPtr dom)
{
    return xsnapDomainAbortJobFlags(dom, 0);
}


void
xsnapDriverEntrySetJobs(xsnapDrvDomainGetJobInfo getJobInfo,
                        xsnapDrvDomainGetJobStats getJobStats,
                        xsnapDriverJobSlots *wrap)
{
    stockGetJobInfo = getJobInfo;
    stockGetJobStats = getJobStats;
    wrap->getJobInfo = xsnapDomainGetJobInfo;
    wrap->getJobStats = xsnapDomainGetJobStats;
    wrap->abortJob = xsnapDomainAbortJob;
    wrap->abortJobFlags = xsnapDomainAbortJobFlags;
}


/* ---- save images and migration --------------------------------------- */

static xsnapDrvDomainMigrateBegin3Params stockMigrateBegin3Params;
static xsnapDrvDomainMigratePerform3Params stockMigratePerform3Params;
static char *managedSaveDir;

/* libvirt 9.0.0's virDomainSaveImageXMLFlags. */
#define XSNAP_SAVE_IMAGE_FLAGS_ALL VIR_DOMAIN_SAVE_IMAGE_XML_SECURE

/* The domain XML embedded in save image @path, for the caller (free()). */
static char *
xsnapSaveImageXML(const char *path)
{
    xsnapMemoryImageHeader hdr;
    g_autofree char *xml = NULL;
    char *ret;

    if (xsnapMemoryImageRead(path, &hdr, &xml) < 0)
        return NULL;
    /* The daemon frees it with free(). */
    ret = strdup(xml);
    if (!ret)
        xsnapReportSystemError(ENOMEM, "%s", _("out of memory"));
    return ret;
}


static char *
xsnapDomainSaveImageGetXMLDesc(virConnectPtr conn G_GNUC_UNUSED,
                               const char *file, unsigned int flags)
{
    char *ret = NULL;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_SAVE_IMAGE_FLAGS_ALL, __func__) == 0)
        ret = xsnapSaveImageXML(file);
    if (!ret)
        xsnapDriverReportLastError();
    return ret;
}


static char *
xsnapDomainManagedSaveGetXMLDesc(virDomainPtr dom, unsigned int flags)
{
    g_autofree char *path = NULL;
    char *ret = NULL;

    xsnapResetLastError();
    if (xsnapCheckFlags(flags, XSNAP_SAVE_IMAGE_FLAGS_ALL, __func__) == 0) {
        if (virDomainHasManagedSaveImage(dom, 0) != 1) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID, "%s",
                             _("domain does not have managed save image"));
        } else {
            path = g_strdup_printf("%s/%s.save", managedSaveDir,
                                   virDomainGetName(dom));
            ret = xsnapSaveImageXML(path);
        }
    }
    if (!ret)
        xsnapDriverReportLastError();
    return ret;
}


/* Refuses to migrate a domain that has snapshots. */
static int
xsnapDomainMigrateCheck(virDomainPtr dom)
{
    g_autoptr(xsnapDomainSnapshots) snaps = NULL;
    size_t n;

    xsnapResetLastError();
    if (!(snaps = xsnapDriverStateAcquire(dom)))
        return -1;
    n = xsnapSnapshotObjListCount(snaps->list);
    if (n > 0) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("cannot migrate domain with %1$zu snapshots"), n);
        return -1;
    }
    return 0;
}


static char *
xsnapDomainMigrateBegin3Params(virDomainPtr dom, virTypedParameterPtr params,
                               int nparams, char **cookieout, int *cookieoutlen,
                               unsigned int flags)
{
    if (xsnapDomainMigrateCheck(dom) < 0) {
        xsnapDriverReportLastError();
        return NULL;
    }
    return stockMigrateBegin3Params(dom, params, nparams, cookieout,
                                    cookieoutlen, flags);
}


static int
xsnapDomainMigratePerform3Params(virDomainPtr dom, const char *dconnuri,
                                 virTypedParameterPtr params, int nparams,
                                 const char *cookiein, int cookieinlen,
                                 char **cookieout, int *cookieoutlen,
                                 unsigned int flags)
{
    if (xsnapDomainMigrateCheck(dom) < 0) {
        xsnapDriverReportLastError();
        return -1;
    }
    return stockMigratePerform3Params(dom, dconnuri, params, nparams, cookiein,
                                      cookieinlen, cookieout, cookieoutlen, flags);
}


void
xsnapDriverEntrySetImages(xsnapDrvDomainMigrateBegin3Params begin,
                          xsnapDrvDomainMigratePerform3Params perform,
                          const char *saveDir,
                          xsnapDriverImageSlots *wrap)
{
    stockMigrateBegin3Params = begin;
    stockMigratePerform3Params = perform;
    g_free(managedSaveDir);
    managedSaveDir = g_strdup(saveDir);
    wrap->saveImageGetXMLDesc = xsnapDomainSaveImageGetXMLDesc;
    wrap->managedSaveGetXMLDesc = xsnapDomainManagedSaveGetXMLDesc;
    wrap->migrateBegin3Params = xsnapDomainMigrateBegin3Params;
    wrap->migratePerform3Params = xsnapDomainMigratePerform3Params;
}
