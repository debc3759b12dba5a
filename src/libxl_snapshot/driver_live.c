/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_live.c: keeping libvirt's live definition of a running domain
 * true to the disks its device model serves
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* dlvsym */
#endif

#include <dlfcn.h>
#include <string.h>
#include <glib-object.h>
#include <libxl.h>

#include "driver_live.h"
#include "util_error.h"
#include "util_xml.h"

/* libvirt 9.0.0's private functions, as libvirt.so exports them. */
typedef void *(*xsnapFindByUUIDFunc)(void *domains, const unsigned char *uuid);
typedef int (*xsnapBeginJobFunc)(void *vm, int job);
typedef void (*xsnapEndJobFunc)(void *vm);
typedef void (*xsnapEndAPIFunc)(void **vm);
typedef void *(*xsnapGetOneDefFunc)(void *vm, unsigned int flags);
typedef void *(*xsnapDiskByTargetFunc)(void *def, const char *dst);
typedef void *(*xsnapParseSourceFunc)(const char *xml, void *xmlopt,
                                      unsigned int flags);
typedef int (*xsnapObjSaveFunc)(void *vm, void *xmlopt, const char *statusDir);
typedef int (*xsnapObjectUnrefFunc)(void *obj);

typedef struct _xsnapLiveFuncs xsnapLiveFuncs;
struct _xsnapLiveFuncs {
    xsnapFindByUUIDFunc findByUUID;
    xsnapBeginJobFunc beginJob;
    xsnapEndJobFunc endJob;
    xsnapEndAPIFunc endAPI;
    xsnapGetOneDefFunc getOneDef;
    xsnapDiskByTargetFunc diskByTarget;
    xsnapParseSourceFunc parseSource;
    xsnapObjSaveFunc objSave;
    xsnapObjectUnrefFunc unref;
};

static xsnapLiveFuncs funcs;
static const xsnapDriverLayout *liveLayout;
static void *liveHvTable;
static char *initError;

/* virDomainModificationImpact's VIR_DOMAIN_AFFECT_LIVE. */
#define XSNAP_AFFECT_LIVE 1


static bool
xsnapLiveLookup(const char *node, const char *name, void *dest)
{
    void *sym = dlvsym(RTLD_DEFAULT, name, node);

    if (!sym) {
        g_free(initError);
        initError = g_strdup_printf(_("libvirt does not export '%1$s' under version '%2$s'"),
                                    name, node);
        return false;
    }
    /* A function pointer travels through void * here, as dlsym intends. */
    memcpy(dest, &sym, sizeof(sym));
    return true;
}


int
xsnapDriverLiveInit(const xsnapDriverLayout *layout, void *hvTable)
{
    const char *node = layout->privateNode;

    if (!xsnapLiveLookup(node, "virDomainObjListFindByUUID", &funcs.findByUUID) ||
        !xsnapLiveLookup(node, "virDomainObjBeginJob", &funcs.beginJob) ||
        !xsnapLiveLookup(node, "virDomainObjEndJob", &funcs.endJob) ||
        !xsnapLiveLookup(node, "virDomainObjEndAPI", &funcs.endAPI) ||
        !xsnapLiveLookup(node, "virDomainObjGetOneDef", &funcs.getOneDef) ||
        !xsnapLiveLookup(node, "virDomainDiskByTarget", &funcs.diskByTarget) ||
        !xsnapLiveLookup(node, "virDomainDiskDefParseSource", &funcs.parseSource) ||
        !xsnapLiveLookup(node, "virDomainObjSave", &funcs.objSave) ||
        !xsnapLiveLookup(node, "virObjectUnref", &funcs.unref)) {
        xsnapReportError(VIR_ERR_NO_SUPPORT, "%s", initError);
        return -1;
    }
    liveLayout = layout;
    liveHvTable = hvTable;
    g_clear_pointer(&initError, g_free);
    return 0;
}


bool
xsnapDriverLiveAvailable(void)
{
    return liveLayout != NULL;
}


/* The pointer stored at @offset bytes into @obj. */
static void *
xsnapLiveField(const void *obj, size_t offset)
{
    void *value;

    memcpy(&value, (const char *)obj + offset, sizeof(value));
    return value;
}


/* True if @obj is a GObject instance of the type libvirt names @type. */
static bool
xsnapLiveIsType(const void *obj, const char *type)
{
    GType want = g_type_from_name(type);

    return obj && want != 0 &&
           G_TYPE_CHECK_INSTANCE_TYPE((GTypeInstance *)obj, want);
}


/* The private objects whose layout is checked before use. */
typedef enum {
    XSNAP_LIVE_CONNECTION,
    XSNAP_LIVE_DRIVER,
    XSNAP_LIVE_CONFIG,
    XSNAP_LIVE_DOMAIN,
    XSNAP_LIVE_DISK,
} xsnapLiveObject;

static int
xsnapLiveLayoutError(virDomainPtr dom, xsnapLiveObject what)
{
    const char *name = virDomainGetName(dom);

    switch (what) {
    case XSNAP_LIVE_CONNECTION:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot reach the live definition of domain '%1$s': its connection does not match the layout this module was built for"),
                         name);
        break;
    case XSNAP_LIVE_DRIVER:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot reach the live definition of domain '%1$s': the libxl driver's data does not match the layout this module was built for"),
                         name);
        break;
    case XSNAP_LIVE_CONFIG:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot reach the live definition of domain '%1$s': the libxl driver's configuration does not match the layout this module was built for"),
                         name);
        break;
    case XSNAP_LIVE_DOMAIN:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot reach the live definition of domain '%1$s': its domain object does not match the layout this module was built for"),
                         name);
        break;
    case XSNAP_LIVE_DISK:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot reach the live definition of domain '%1$s': its disk definition does not match the layout this module was built for"),
                         name);
        break;
    }
    return -1;
}


/*
 * The stock driver's domain list and XML options, reached from the
 * caller's connection, which must be one of the libxl driver's.
 */
static int
xsnapLiveDriver(virDomainPtr dom, void **domains, void **xmlopt)
{
    virConnectPtr conn = virDomainGetConnect(dom);
    void *priv;

    if (!liveLayout && initError) {
        xsnapReportError(VIR_ERR_NO_SUPPORT,
                         _("cannot update the live definition of domain '%1$s': %2$s"),
                         virDomainGetName(dom), initError);
        return -1;
    }
    if (!liveLayout) {
        xsnapReportError(VIR_ERR_NO_SUPPORT,
                         _("cannot update the live definition of domain '%1$s': the snapshot module is not active"),
                         virDomainGetName(dom));
        return -1;
    }
    if (!conn ||
        xsnapLiveField(conn, liveLayout->virConnectDriverOffset) != liveHvTable)
        return xsnapLiveLayoutError(dom, XSNAP_LIVE_CONNECTION);
    priv = xsnapLiveField(conn, liveLayout->virConnectPrivateDataOffset);
    if (!priv)
        return xsnapLiveLayoutError(dom, XSNAP_LIVE_DRIVER);
    *domains = xsnapLiveField(priv, liveLayout->libxlDriverDomainsOffset);
    *xmlopt = xsnapLiveField(priv, liveLayout->libxlDriverXmloptOffset);
    if (!xsnapLiveIsType(*domains, "virDomainObjList") ||
        !xsnapLiveIsType(*xmlopt, "virDomainXMLOption"))
        return xsnapLiveLayoutError(dom, XSNAP_LIVE_DRIVER);
    return 0;
}


/* The stock driver's domain object of @dom, locked, referenced and
 * inside its domain job, or NULL with an error reported. */
static void *
xsnapLiveBegin(virDomainPtr dom, void *domains)
{
    unsigned char uuid[VIR_UUID_BUFLEN];
    void *vm;

    if (virDomainGetUUID(dom, uuid) < 0) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s", _("cannot read the domain's UUID"));
        return NULL;
    }
    if (!(vm = funcs.findByUUID(domains, uuid))) {
        xsnapReportError(VIR_ERR_NO_DOMAIN,
                         _("domain '%1$s' is gone from the libxl driver"),
                         virDomainGetName(dom));
        return NULL;
    }
    if (!xsnapLiveIsType(vm, "virDomainObj")) {
        xsnapLiveLayoutError(dom, XSNAP_LIVE_DOMAIN);
        funcs.endAPI(&vm);
        return NULL;
    }
    if (funcs.beginJob(vm, liveLayout->jobModify) < 0) {
        xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                         _("cannot update the live definition of domain '%1$s': another operation holds it"),
                         virDomainGetName(dom));
        funcs.endAPI(&vm);
        return NULL;
    }
    return vm;
}


static void
xsnapLiveEnd(void **vm)
{
    funcs.endJob(*vm);
    funcs.endAPI(vm);
}


int
xsnapDriverLiveRearmDeath(virDomainPtr dom, int domid)
{
    virConnectPtr conn = virDomainGetConnect(dom);
    void *domains;
    void *xmlopt;
    void *vm;
    void *cfg;
    char *priv;
    libxl_ctx *ctx;
    libxl_evgen_domain_death *old;
    int ret = -1;

    if (xsnapLiveDriver(dom, &domains, &xmlopt) < 0)
        return -1;
    cfg = xsnapLiveField(xsnapLiveField(conn, liveLayout->virConnectPrivateDataOffset),
                         liveLayout->libxlDriverConfigOffset);
    if (!xsnapLiveIsType(cfg, "libxlDriverConfig") ||
        !(ctx = xsnapLiveField(cfg, liveLayout->libxlConfigCtxOffset)))
        return xsnapLiveLayoutError(dom, XSNAP_LIVE_CONFIG);
    if (!(vm = xsnapLiveBegin(dom, domains)))
        return -1;
    if (!(priv = xsnapLiveField(vm, liveLayout->domainObjPrivateDataOffset))) {
        xsnapLiveLayoutError(dom, XSNAP_LIVE_DOMAIN);
        goto end;
    }
    old = xsnapLiveField(priv, liveLayout->libxlDomainDeathWOffset);
    if (old)
        libxl_evdisable_domain_death(ctx, old);
    if (libxl_evenable_domain_death(ctx, (uint32_t)domid, 0,
                                    (libxl_evgen_domain_death **)(void *)
                                    (priv + liveLayout->libxlDomainDeathWOffset)) != 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot watch domain '%1$s' for its shutdown again"),
                         virDomainGetName(dom));
        goto end;
    }
    ret = 0;

 end:
    xsnapLiveEnd(&vm);
    return ret;
}


/* The <target dev> of disk XML @xml, or NULL with an error. */
static char *
xsnapLiveDiskTarget(const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    char *dev = NULL;

    if ((doc = xsnapXMLParseString(xml, "disk", "disk", &ctxt)) &&
        !(dev = xsnapXPathString("string(./target/@dev)", ctxt)))
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("a disk given for the live definition has no target"));
    return dev;
}


int
xsnapDriverLiveSetDisks(virDomainPtr dom, GPtrArray *disks)
{
    g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) sources = g_ptr_array_new();
    void *domains;
    void *xmlopt;
    void *vm = NULL;
    void *def;
    int ret = -1;

    if (disks->len == 0)
        return 0;
    if (xsnapLiveDriver(dom, &domains, &xmlopt) < 0)
        return -1;
    for (size_t i = 0; i < disks->len; i++) {
        char *target = xsnapLiveDiskTarget(g_ptr_array_index(disks, i));

        if (!target)
            return -1;
        g_ptr_array_add(targets, target);
    }

    if (!(vm = xsnapLiveBegin(dom, domains)))
        return -1;
    if (!(def = funcs.getOneDef(vm, XSNAP_AFFECT_LIVE))) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("domain '%1$s' is not running"), virDomainGetName(dom));
        goto end;
    }

    /* Parse every source first: nothing changes unless all parse. */
    for (size_t i = 0; i < disks->len; i++) {
        void *src;

        if (!funcs.diskByTarget(def, g_ptr_array_index(targets, i))) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("domain '%1$s' has no disk '%2$s'"),
                             virDomainGetName(dom),
                             (const char *)g_ptr_array_index(targets, i));
            goto unref;
        }
        if (!(src = funcs.parseSource(g_ptr_array_index(disks, i), xmlopt, 0)) ||
            !xsnapLiveIsType(src, "virStorageSource")) {
            virErrorPtr err = virGetLastError();

            if (src)
                funcs.unref(src);
            xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                             _("libvirt refused the new source of disk '%1$s' of domain '%2$s': %3$s"),
                             (const char *)g_ptr_array_index(targets, i),
                             virDomainGetName(dom),
                             err && err->message ? err->message : _("unknown error"));
            goto unref;
        }
        g_ptr_array_add(sources, src);
    }
    for (size_t i = 0; i < sources->len; i++) {
        char *disk = funcs.diskByTarget(def, g_ptr_array_index(targets, i));
        void *old = xsnapLiveField(disk, liveLayout->diskDefSrcOffset);
        void *src = g_ptr_array_index(sources, i);

        if (!xsnapLiveIsType(old, "virStorageSource")) {
            xsnapLiveLayoutError(dom, XSNAP_LIVE_DISK);
            goto unref;
        }
        memcpy(disk + liveLayout->diskDefSrcOffset, &src, sizeof(src));
        g_ptr_array_index(sources, i) = old;
    }
    if (funcs.objSave(vm, xmlopt, liveLayout->libxlStateDir) < 0) {
        virErrorPtr err = virGetLastError();

        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot save the status of domain '%1$s': %2$s"),
                         virDomainGetName(dom),
                         err && err->message ? err->message : _("unknown error"));
        goto unref;
    }
    ret = 0;

 unref:
    /* The sources not used, or the ones replaced. */
    for (size_t i = 0; i < sources->len; i++)
        funcs.unref(g_ptr_array_index(sources, i));
 end:
    xsnapLiveEnd(&vm);
    return ret;
}
