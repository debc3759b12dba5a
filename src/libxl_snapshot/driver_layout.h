/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_layout.h: what the wrapper module must know about libvirt's
 * driver tables, one entry per libvirt version it was checked against
 *
 * libvirt's driver structures are private and change between releases,
 * so nothing here includes a libvirt header beyond the public API. Every
 * number below was measured on the release named by its entry (see
 * scripts/check-driver-layout.py, which recomputes them from a libvirt
 * source tree and checks them against the stock module binary).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <libvirt/libvirt.h>

/* The 16 snapshot callbacks, with the signatures of the public API
 * functions that call them. */
typedef virDomainSnapshotPtr (*xsnapDrvSnapshotCreateXML)(virDomainPtr dom,
                                                          const char *xmlDesc,
                                                          unsigned int flags);
typedef char *(*xsnapDrvSnapshotGetXMLDesc)(virDomainSnapshotPtr snapshot,
                                            unsigned int flags);
typedef int (*xsnapDrvSnapshotNum)(virDomainPtr dom, unsigned int flags);
typedef int (*xsnapDrvSnapshotListNames)(virDomainPtr dom, char **names,
                                         int maxnames, unsigned int flags);
typedef int (*xsnapDrvListAllSnapshots)(virDomainPtr dom,
                                        virDomainSnapshotPtr **snaps,
                                        unsigned int flags);
typedef int (*xsnapDrvSnapshotNumChildren)(virDomainSnapshotPtr snapshot,
                                           unsigned int flags);
typedef int (*xsnapDrvSnapshotListChildrenNames)(virDomainSnapshotPtr snapshot,
                                                 char **names, int maxnames,
                                                 unsigned int flags);
typedef int (*xsnapDrvSnapshotListAllChildren)(virDomainSnapshotPtr snapshot,
                                               virDomainSnapshotPtr **snaps,
                                               unsigned int flags);
typedef virDomainSnapshotPtr (*xsnapDrvSnapshotLookupByName)(virDomainPtr dom,
                                                             const char *name,
                                                             unsigned int flags);
typedef int (*xsnapDrvHasCurrentSnapshot)(virDomainPtr dom, unsigned int flags);
typedef virDomainSnapshotPtr (*xsnapDrvSnapshotGetParent)(virDomainSnapshotPtr snapshot,
                                                          unsigned int flags);
typedef virDomainSnapshotPtr (*xsnapDrvSnapshotCurrent)(virDomainPtr dom,
                                                        unsigned int flags);
typedef int (*xsnapDrvSnapshotIsCurrent)(virDomainSnapshotPtr snapshot,
                                         unsigned int flags);
typedef int (*xsnapDrvSnapshotHasMetadata)(virDomainSnapshotPtr snapshot,
                                           unsigned int flags);
typedef int (*xsnapDrvRevertToSnapshot)(virDomainSnapshotPtr snapshot,
                                        unsigned int flags);
typedef int (*xsnapDrvSnapshotDelete)(virDomainSnapshotPtr snapshot,
                                      unsigned int flags);

/* Callbacks the wrapper keeps and calls on from its own. */
typedef int (*xsnapDrvDomainUndefine)(virDomainPtr dom);
typedef int (*xsnapDrvDomainUndefineFlags)(virDomainPtr dom, unsigned int flags);
typedef int (*xsnapDrvDomainGetJobInfo)(virDomainPtr dom, virDomainJobInfoPtr info);
typedef int (*xsnapDrvDomainGetJobStats)(virDomainPtr dom, int *type,
                                         virTypedParameterPtr *params,
                                         int *nparams, unsigned int flags);
typedef char *(*xsnapDrvDomainMigrateBegin3Params)(virDomainPtr dom,
                                                   virTypedParameterPtr params,
                                                   int nparams, char **cookieout,
                                                   int *cookieoutlen,
                                                   unsigned int flags);
typedef int (*xsnapDrvDomainMigratePerform3Params)(virDomainPtr dom,
                                                   const char *dconnuri,
                                                   virTypedParameterPtr params,
                                                   int nparams,
                                                   const char *cookiein,
                                                   int cookieinlen,
                                                   char **cookieout,
                                                   int *cookieoutlen,
                                                   unsigned int flags);
/* Callbacks the stock driver leaves empty and the wrapper fills. */
typedef char *(*xsnapDrvDomainSaveImageGetXMLDesc)(virConnectPtr conn,
                                                   const char *file,
                                                   unsigned int flags);
typedef char *(*xsnapDrvDomainManagedSaveGetXMLDesc)(virDomainPtr dom,
                                                     unsigned int flags);
typedef int (*xsnapDrvDomainAbortJob)(virDomainPtr dom);
typedef int (*xsnapDrvDomainAbortJobFlags)(virDomainPtr dom, unsigned int flags);

/* The slots in their table order, starting at snapshotFirstSlot. */
typedef enum {
    XSNAP_SLOT_SNAPSHOT_CREATE_XML = 0,
    XSNAP_SLOT_SNAPSHOT_GET_XML_DESC,
    XSNAP_SLOT_SNAPSHOT_NUM,
    XSNAP_SLOT_SNAPSHOT_LIST_NAMES,
    XSNAP_SLOT_LIST_ALL_SNAPSHOTS,
    XSNAP_SLOT_SNAPSHOT_NUM_CHILDREN,
    XSNAP_SLOT_SNAPSHOT_LIST_CHILDREN_NAMES,
    XSNAP_SLOT_SNAPSHOT_LIST_ALL_CHILDREN,
    XSNAP_SLOT_SNAPSHOT_LOOKUP_BY_NAME,
    XSNAP_SLOT_HAS_CURRENT_SNAPSHOT,
    XSNAP_SLOT_SNAPSHOT_GET_PARENT,
    XSNAP_SLOT_SNAPSHOT_CURRENT,
    XSNAP_SLOT_SNAPSHOT_IS_CURRENT,
    XSNAP_SLOT_SNAPSHOT_HAS_METADATA,
    XSNAP_SLOT_REVERT_TO_SNAPSHOT,
    XSNAP_SLOT_SNAPSHOT_DELETE,
    XSNAP_SLOT_LAST
} xsnapSnapshotSlot;

/* A slot of the hypervisor table that must have a given state in the
 * stock driver before the wrapper trusts the table. */
typedef struct _xsnapLayoutSlotCheck xsnapLayoutSlotCheck;
struct _xsnapLayoutSlotCheck {
    size_t index;              /* pointer index in the hypervisor table */
    bool filled;               /* set by the stock libxl driver, or NULL */
    const char *what;          /* the member's name, for messages */
};

typedef struct _xsnapDriverLayout xsnapDriverLayout;
struct _xsnapDriverLayout {
    unsigned long libvirtVersion;      /* as virGetVersion reports it */
    const char *privateNode;           /* symbol version of private symbols */

    /* virConnectDriver */
    size_t connSize;
    size_t connUriSchemesOffset;
    size_t connHypervisorOffset;

    /* virHypervisorDriver: 'name' is pointer 0, every other member a
     * function pointer */
    size_t hvSize;
    size_t snapshotFirstSlot;          /* index of domainSnapshotCreateXML */
    size_t slotDomainUndefine;
    size_t slotDomainUndefineFlags;
    size_t slotDomainRename;           /* not filled by libxl in 9.0.0 */
    size_t slotDomainGetJobInfo;
    size_t slotDomainGetJobStats;
    size_t slotDomainAbortJob;         /* not filled by libxl in 9.0.0 */
    size_t slotDomainAbortJobFlags;    /* not filled by libxl in 9.0.0 */

    const xsnapLayoutSlotCheck *checks;
    size_t nchecks;

    /* Slots the wrapper wraps or fills beyond the snapshot ones. */
    size_t slotDomainSaveImageGetXMLDesc;    /* not filled by libxl in 9.0.0 */
    size_t slotDomainManagedSaveGetXMLDesc;  /* not filled by libxl in 9.0.0 */
    size_t slotDomainMigrateBegin3Params;
    size_t slotDomainMigratePerform3Params;

    /*
     * The private objects driver_live.c reaches, as byte offsets on
     * x86_64. Each is checked at run time before it is trusted: the
     * connection's driver must be the located hypervisor table, and
     * every object found must have the GType name libvirt gives it.
     */
    size_t virConnectDriverOffset;       /* virConnect.driver */
    size_t virConnectPrivateDataOffset;  /* virConnect.privateData: the
                                          * libxlDriverPrivate */
    size_t libxlDriverDomainsOffset;     /* libxlDriverPrivate.domains */
    size_t libxlDriverXmloptOffset;      /* libxlDriverPrivate.xmlopt */
    size_t diskDefSrcOffset;             /* virDomainDiskDef.src */
    size_t domainObjPrivateDataOffset;   /* virDomainObj.privateData: the
                                          * libxlDomainObjPrivate */
    size_t libxlDomainDeathWOffset;      /* libxlDomainObjPrivate.deathW */
    size_t libxlDriverConfigOffset;      /* libxlDriverPrivate.config */
    size_t libxlConfigCtxOffset;         /* libxlDriverConfig.ctx */
    int jobModify;                       /* VIR_JOB_MODIFY of virDomainJob */
    const char *libxlStateDir;           /* the libxl driver's status files */
    const char *libxlSaveDir;            /* its managed-save images */

    /* GNU build-ids (lower-case hex) of the stock modules checked
     * against this layout; NULL-terminated */
    const char *const *buildIds;
};

/* libvirt's virLogSource, needed to call virLogMessage. */
typedef struct _xsnapLogSource xsnapLogSource;
struct _xsnapLogSource {
    const char *name;
    unsigned int priority;
    unsigned int serial;
};
/* libvirt's virLogPriority values. */
enum {
    XSNAP_LOG_DEBUG = 1,
    XSNAP_LOG_INFO = 2,
    XSNAP_LOG_WARN = 3,
    XSNAP_LOG_ERROR = 4,
};
typedef void (*xsnapLogMessageFunc)(xsnapLogSource *source, int priority,
                                    const char *filename, int linenr,
                                    const char *funcname, void *metadata,
                                    const char *fmt, ...);
typedef void (*xsnapReportErrorHelperFunc)(int domcode, int errcode,
                                           const char *filename,
                                           const char *funcname,
                                           size_t linenr,
                                           const char *fmt, ...);
typedef virDomainSnapshotPtr (*xsnapGetDomainSnapshotFunc)(virDomainPtr domain,
                                                           const char *name);


/* The table itself, compiled into the locator only. */
#ifdef XSNAP_DRIVER_LAYOUT_TABLES

/* libvirt 9.0.0 (Debian 12). */
static const xsnapLayoutSlotCheck xsnapLayoutChecks9000000[] = {
    { 2, true, "connectOpen" },
    { 77, true, "domainGetXMLDesc" },
    { 87, true, "domainUndefine" },
    { 88, true, "domainUndefineFlags" },
    { 131, false, "domainRename" },
    { 136, true, "domainGetJobInfo" },
    { 137, true, "domainGetJobStats" },
    { 138, false, "domainAbortJob" },
    { 139, false, "domainAbortJobFlags" },
    { 148, true, "domainManagedSave" },
    { 149, true, "domainHasManagedSaveImage" },
    { 150, true, "domainManagedSaveRemove" },
    { 54, false, "domainSaveImageGetXMLDesc" },
    { 55, false, "domainSaveImageDefineXML" },
    { 151, false, "domainManagedSaveGetXMLDesc" },
    { 152, false, "domainManagedSaveDefineXML" },
    { 169, false, "domainQemuMonitorCommand" },
    { 211, true, "domainMigrateBegin3Params" },
    { 214, true, "domainMigratePerform3Params" },
    { 255, true, "domainGetMessages" },
    { 257, false, "domainFDAssociate" },
};

static const char *const xsnapLayoutBuildIds9000000[] = {
    /* libvirt-daemon-driver-xen 9.0.0-4+deb12u2, amd64 */
    "6548282c5fe0ea2aa9614e3547af9cd07927cf31",
    NULL
};

static const xsnapDriverLayout xsnapDriverLayouts[] = {
    {
        .libvirtVersion = 9000000,
        .privateNode = "LIBVIRT_PRIVATE_9.0.0",
        .connSize = 72,
        .connUriSchemesOffset = 8,
        .connHypervisorOffset = 16,
        .hvSize = 2064,
        .snapshotFirstSlot = 153,
        .slotDomainUndefine = 87,
        .slotDomainUndefineFlags = 88,
        .slotDomainRename = 131,
        .slotDomainGetJobInfo = 136,
        .slotDomainGetJobStats = 137,
        .slotDomainAbortJob = 138,
        .slotDomainAbortJobFlags = 139,
        .checks = xsnapLayoutChecks9000000,
        .nchecks = sizeof(xsnapLayoutChecks9000000) /
                   sizeof(xsnapLayoutChecks9000000[0]),
        .slotDomainSaveImageGetXMLDesc = 54,
        .slotDomainManagedSaveGetXMLDesc = 151,
        .slotDomainMigrateBegin3Params = 211,
        .slotDomainMigratePerform3Params = 214,
        /* virObjectLockable is 64 bytes (GObject 24, pthread mutex 40);
         * virConnect: flags 64, uri 72, driver 80, six more driver
         * pointers, privateData 136. libxlDriverPrivate: mutex 0,
         * hostdevMgr 40, config 48, lockFD 56, nactive 60,
         * inhibitCallback 64, inhibitOpaque 72, domains 80, xmlopt 88.
         * virDomainDiskDef starts with its virStorageSource *src. */
        .virConnectDriverOffset = 80,
        .virConnectPrivateDataOffset = 136,
        .libxlDriverDomainsOffset = 80,
        .libxlDriverXmloptOffset = 88,
        .diskDefSrcOffset = 0,
        /* virDomainObj: lockable 0, cond 64 (48 bytes), job 112, pid
         * 120, state 124, bit fields 132, def 136, newDef 144,
         * snapshots 152, hasManagedSave 160, checkpoints 168,
         * privateData 176. libxlDomainObjPrivate: devs 0, deathW 8.
         * libxlDriverConfig: object 0, verInfo 24, version 32, logger
         * 40, ctx 48. */
        .domainObjPrivateDataOffset = 176,
        .libxlDomainDeathWOffset = 8,
        .libxlDriverConfigOffset = 48,
        .libxlConfigCtxOffset = 48,
        .jobModify = 4,
        .libxlStateDir = "/run/libvirt/libxl",
        .libxlSaveDir = "/var/lib/libvirt/libxl/save",
        .buildIds = xsnapLayoutBuildIds9000000,
    },
};

#endif /* XSNAP_DRIVER_LAYOUT_TABLES */
