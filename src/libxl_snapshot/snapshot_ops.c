/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_ops.c: creating, reverting to and deleting snapshots of Xen
 * domains: the memory through libxl, the disks through the disk engine,
 * the metadata in the store
 *
 * Each operation runs in named steps (flags, parse, validate, prepare
 * the plan, execute, metadata); every step that changes something has
 * its undo next to it. The caller holds the domain's lock, so operations
 * on one domain never overlap; other clients may still act on the
 * domain through libvirt, so its state is checked again after each step.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "snapshot_ops.h"
#include "disk_plan.h"
#include "driver_config.h"
#include "fault.h"
#include "hypervisor.h"
#include "memory_image.h"
#include "qemu_img.h"
#include "qemu_monitor.h"
#include "snapshot_conf.h"
#include "snapshot_journal.h"
#include "snapshot_live.h"
#include "snapshot_store.h"
#include "util_error.h"
#include "util_file.h"
#include "util_xml.h"

/* Spare room in a memory image's XML area for the longer overlay paths
 * a revert writes into it. */
#define XSNAP_OPS_MEMORY_XML_SLACK 8192
/* Upper bound of one disk commit. */
#define XSNAP_OPS_COMMIT_TIMEOUT_MS (30 * 60 * 1000)

/* ---- jobs ---------------------------------------------------------------- */

/*
 * One entry per running operation, so that virDomainGetJobInfo can show
 * it: the stock driver's own job is not held across our steps (see
 * docs/architecture.md), so its job slots know nothing of ours. A list
 * rather than a table keyed by UUID: the per-domain lock is keyed by
 * UUID and name, so nothing guarantees one operation per UUID, and one
 * entry must never replace and free another's counter while a save
 * thread may still be writing it.
 */
typedef struct _xsnapOpsJob xsnapOpsJob;
struct _xsnapOpsJob {
    char *uuid;
    xsnapOpsJobKind kind;
    gint64 started;                 /* g_get_monotonic_time() */
    bool memory;                    /* the memory phase began */
    xsnapMemoryProgress progress;   /* written by the save's watcher */
};

static GMutex jobLock;
static GSList *jobs;

static xsnapOpsJob *
xsnapOpsJobBegin(const char *uuid, xsnapOpsJobKind kind)
{
    xsnapOpsJob *job = g_new0(xsnapOpsJob, 1);

    job->uuid = g_strdup(uuid);
    job->kind = kind;
    job->started = g_get_monotonic_time();
    g_mutex_lock(&jobLock);
    jobs = g_slist_prepend(jobs, job);
    g_mutex_unlock(&jobLock);
    return job;
}


static void
xsnapOpsJobEnd(xsnapOpsJob *job)
{
    if (!job)
        return;
    g_mutex_lock(&jobLock);
    jobs = g_slist_remove(jobs, job);
    g_mutex_unlock(&jobLock);
    g_free(job->uuid);
    g_free(job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapOpsJob, xsnapOpsJobEnd);


/* The counter the memory save updates, from now on visible in the job. */
static xsnapMemoryProgress *
xsnapOpsJobMemoryBegin(xsnapOpsJob *job)
{
    g_mutex_lock(&jobLock);
    job->memory = true;
    g_mutex_unlock(&jobLock);
    return &job->progress;
}


int
xsnapOpsGetJob(const char *uuid, xsnapOpsJobInfo *info)
{
    GSList *l;
    int ret = 0;

    g_mutex_lock(&jobLock);
    for (l = jobs; l; l = l->next) {
        xsnapOpsJob *job = l->data;

        if (!g_str_equal(job->uuid, uuid))
            continue;
        memset(info, 0, sizeof(*info));
        info->kind = job->kind;
        info->elapsedMs = (unsigned long long)(g_get_monotonic_time() - job->started) / 1000;
        info->memory = job->memory;
        if (job->memory) {
            gint64 written = __atomic_load_n(&job->progress.written, __ATOMIC_RELAXED);
            gint64 total = __atomic_load_n(&job->progress.total, __ATOMIC_RELAXED);

            info->written = (unsigned long long)MAX(written, 0);
            info->total = (unsigned long long)MAX(total, 0);
        }
        ret = 1;
        break;
    }
    g_mutex_unlock(&jobLock);
    return ret;
}


/* ---- domain XML helpers ----------------------------------------------- */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree);

char *
xsnapOpsDomainSetDiskSources(const char *xml, GHashTable *sources,
                             GHashTable *formats)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) obj = NULL;
    g_autoptr(xmlBuffer) buf = NULL;
    xmlNodePtr root;

    if (!(doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                              XML_PARSE_NONET)) ||
        !(root = xmlDocGetRootElement(doc))) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("cannot parse the domain XML of the snapshot"));
        return NULL;
    }
    ctxt = xmlXPathNewContext(doc);
    xmlXPathSetContextNode(root, ctxt);
    obj = xmlXPathEvalExpression(BAD_CAST "./devices/disk", ctxt);
    for (int i = 0; obj && obj->nodesetval && i < obj->nodesetval->nodeNr; i++) {
        xmlNodePtr disk = obj->nodesetval->nodeTab[i];
        g_autofree char *dev = NULL;
        const char *path;
        xmlNodePtr cur;
        xmlNodePtr source = NULL;
        xmlNodePtr driver = NULL;

        for (cur = disk->children; cur; cur = cur->next) {
            if (cur->type != XML_ELEMENT_NODE)
                continue;
            if (xmlStrEqual(cur->name, BAD_CAST "target") && !dev)
                dev = (char *)xmlGetProp(cur, BAD_CAST "dev");
            else if (xmlStrEqual(cur->name, BAD_CAST "source"))
                source = cur;
            else if (xmlStrEqual(cur->name, BAD_CAST "driver"))
                driver = cur;
        }
        if (!dev || !(path = g_hash_table_lookup(sources, dev)))
            continue;
        xmlSetProp(disk, BAD_CAST "type", BAD_CAST "file");
        if (source) {
            xmlUnlinkNode(source);
            xmlFreeNode(source);
        }
        source = xmlNewNode(NULL, BAD_CAST "source");
        xmlSetProp(source, BAD_CAST "file", BAD_CAST path);
        if (driver)
            xmlAddNextSibling(driver, source);
        else
            xmlAddChild(disk, source);
        if (!driver) {
            driver = xmlNewNode(NULL, BAD_CAST "driver");
            xmlSetProp(driver, BAD_CAST "name", BAD_CAST "qemu");
            xmlAddPrevSibling(source, driver);
        }
        xmlSetProp(driver, BAD_CAST "type",
                   BAD_CAST (formats ? (const char *)g_hash_table_lookup(formats, dev) :
                             "qcow2"));
        /* Drop the cached backing chain of the old image. */
        for (cur = disk->children; cur; cur = cur->next) {
            if (cur->type == XML_ELEMENT_NODE &&
                xmlStrEqual(cur->name, BAD_CAST "backingStore")) {
                xmlUnlinkNode(cur);
                xmlFreeNode(cur);
                break;
            }
        }
    }
    buf = xmlBufferCreate();
    if (xmlNodeDump(buf, doc, root, 0, 0) < 0) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("cannot format the domain XML"));
        return NULL;
    }
    return g_strdup((const char *)xmlBufferContent(buf));
}


/* The domain disk with target @dst, or NULL. */
static const xsnapDomainDiskDef *
xsnapOpsFindDomainDisk(const xsnapDomainDiskDef *disks, size_t n, const char *dst)
{
    for (size_t i = 0; i < n; i++)
        if (disks[i].dst && g_str_equal(disks[i].dst, dst))
            return &disks[i];
    return NULL;
}


typedef struct _xsnapOpsDisks xsnapOpsDisks;
struct _xsnapOpsDisks {
    xsnapDomainDiskDef *list;
    size_t n;
};

static void
xsnapOpsDisksClear(xsnapOpsDisks *d)
{
    xsnapDomainDiskDefListFree(d->list, d->n);
    d->list = NULL;
    d->n = 0;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(xsnapOpsDisks, xsnapOpsDisksClear);

static int
xsnapOpsDisksParse(const char *xml, xsnapOpsDisks *d)
{
    int n = xsnapDomainDiskDefListParseString(xml, &d->list);

    if (n < 0)
        return -1;
    d->n = (size_t)n;
    return 0;
}


static const char *
xsnapOpsDiskFormat(const xsnapDomainDiskDef *disk)
{
    return disk->format ? disk->format : "raw";
}


/* The QMP socket path of the running @dom, refusing stub domains. */
static char *
xsnapOpsMonitorPath(const xsnapHypervisor *hv, virDomainPtr dom)
{
    int stub = hv->isStubdom(dom);

    if (stub < 0)
        return NULL;
    if (stub) {
        xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                         _("domain '%1$s' runs its device model in a stub domain, which offers no QMP socket: disks of a running stub-domain guest cannot be snapshotted"),
                         virDomainGetName(dom));
        return NULL;
    }
    return hv->qmpPath(dom);
}


xsnapQemuMonitor *
xsnapOpsMonitorOpen(const xsnapHypervisor *hv, virDomainPtr dom)
{
    g_autofree char *path = xsnapOpsMonitorPath(hv, dom);

    return path ? xsnapQemuMonitorOpen(path, NULL) : NULL;
}


static bool
xsnapOpsStateActive(int state)
{
    return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED ||
           state == VIR_DOMAIN_BLOCKED;
}


/* ---- the operation journal -------------------------------------------- */

/*
 * A new journal of @operation on @snapName, naming the domain and its
 * @state before the operation. The caller adds what it will change and
 * writes it before changing anything: an operation whose journal cannot
 * be written does not start. NULL with an error reported.
 */
static xsnapSnapshotJournal *
xsnapOpsJournalBegin(xsnapDomainSnapshots *snaps, const char *operation,
                     const char *snapName, int state)
{
    g_autoptr(xsnapSnapshotJournal) journal = NULL;

    if (!(journal = xsnapSnapshotJournalNew(xsnapDriverStateGetStore(), snaps->name,
                                            operation, snapName)))
        return NULL;
    xsnapSnapshotJournalSet(journal, NULL, "uuid", snaps->uuid);
    xsnapSnapshotJournalSet(journal, NULL, "state",
                            state == VIR_DOMAIN_PAUSED ? "paused" :
                            xsnapOpsStateActive(state) ? "running" : "shutoff");
    return g_steal_pointer(&journal);
}


/* Records that the operation passed @step. A journal that cannot be
 * updated is logged, not fatal: the step it marks has already happened
 * and failing now would leave it without undo. */
static void
xsnapOpsJournalStep(xsnapSnapshotJournal *journal, const char *step)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (journal && xsnapSnapshotJournalStep(journal, step) < 0)
        g_warning("cannot record step '%s' in '%s': %s", step, journal->path,
                  xsnapGetLastErrorMessage());
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/* Records that disk @target passed step @key (best effort, as above). */
static void
xsnapOpsJournalDiskDone(xsnapSnapshotJournal *journal, const char *target,
                        const char *key)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (!journal)
        return;
    xsnapSnapshotJournalSet(journal, target, key, "true");
    if (xsnapSnapshotJournalWrite(journal) < 0)
        g_warning("cannot record '%s' of disk '%s' in '%s': %s", key, target,
                  journal->path, xsnapGetLastErrorMessage());
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/* Ends the operation: its journal goes, the caller's error stays. */
static void
xsnapOpsJournalEnd(xsnapSnapshotJournal *journal)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (journal && xsnapSnapshotJournalRemove(journal) < 0)
        g_warning("cannot remove operation journal '%s': %s", journal->path,
                  xsnapGetLastErrorMessage());
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/* xsnapOpsSyncLive() after an undo or a step that cannot be taken
 * back: a failure is logged, and the caller's error stays. */
static void
xsnapOpsSyncLiveQuietly(const xsnapHypervisor *hv, virDomainPtr dom,
                        const char *name)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (xsnapOpsSyncLive(hv, dom) < 0)
        g_warning("cannot make the live definition of domain '%s' name the images it runs on: %s",
                  name, xsnapGetLastErrorMessage());
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/* ---- create ------------------------------------------------------------ */

typedef struct _xsnapCreateCtx xsnapCreateCtx;
struct _xsnapCreateCtx {
    virDomainPtr dom;
    xsnapDomainSnapshots *snaps;
    const xsnapHypervisor *hv;
    unsigned int flags;

    xsnapSnapshotDef *def;
    int state;                 /* virDomainState before the snapshot */
    bool active;
    bool persistent;
    char *inactiveXML;         /* persistent config before the snapshot */
    char *liveXML;             /* live config, or NULL when inactive */
    xsnapOpsDisks disks;       /* disks of the persistent config */
    xsnapDiskPlan *plan;
    xsnapOpsJob *job;

    xsnapSnapshotJournal *journal;

    bool memoryCreated;        /* we created @memoryFile */
    char *memoryFile;          /* def->memoryFile, kept once def is in the tree */
    xsnapMemoryFormat memoryFormat; /* how the image holds libxl's stream */
    bool paused;               /* we paused the domain */
    bool suspended;            /* memory saved, domain suspended by us */
    bool halted;               /* we destroyed the domain after its snapshot */
    bool configDefined;        /* we redefined the persistent config */
    double timing[5];          /* ms, for xsnapTimingLog (benchmarks) */
};

static void
xsnapCreateCtxClear(xsnapCreateCtx *c)
{
    xsnapSnapshotDefFree(c->def);
    g_free(c->memoryFile);
    g_free(c->inactiveXML);
    g_free(c->liveXML);
    xsnapOpsDisksClear(&c->disks);
    xsnapDiskPlanFree(c->plan);
    xsnapSnapshotJournalFree(c->journal);
}


G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(xsnapCreateCtx, xsnapCreateCtxClear);


static int
xsnapCreateCheckFlags(unsigned int flags)
{
    if (flags & VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                         _("the current flag is only valid when redefining a snapshot"));
        return -1;
    }
    if (flags & VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE) {
        if (!(flags & VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY)) {
            xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                             _("quiescing requires a disk-only snapshot"));
            return -1;
        }
        xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                         _("cannot quiesce the guest's file systems: Xen domains have no guest agent channel"));
        return -1;
    }
    return 0;
}


static int
xsnapCreateParse(xsnapCreateCtx *c, const char *xml)
{
    unsigned int parseFlags = 0;

    if (c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE)
        parseFlags |= XSNAP_SNAPSHOT_PARSE_VALIDATE;
    if (!c->active)
        parseFlags |= XSNAP_SNAPSHOT_PARSE_OFFLINE;
    if (!(c->def = xsnapSnapshotDefParseString(xml, NULL, parseFlags)))
        return -1;
    if (!(c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA) &&
        xsnapSnapshotDefValidateName(c->def->name) < 0)
        return -1;
    return 0;
}


/* Reads the domain's state and configuration. */
static int
xsnapCreateReadDomain(xsnapCreateCtx *c)
{
    if ((c->state = c->hv->state(c->dom, NULL)) < 0)
        return -1;
    switch (c->state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_SHUTOFF:
        break;
    default:
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("cannot snapshot domain '%1$s' while it is shutting down, crashed or suspended to RAM"),
                         c->snaps->name);
        return -1;
    }
    c->active = xsnapOpsStateActive(c->state);
    c->persistent = virDomainIsPersistent(c->dom) == 1;
    if (!(c->inactiveXML = c->hv->getXML(c->dom, true)))
        return -1;
    if (c->active && !(c->liveXML = c->hv->getXML(c->dom, false)))
        return -1;
    /* A running domain's disks are read from its persistent config: the
     * live one is not told when an external snapshot moves a disk. */
    return xsnapOpsDisksParse(c->inactiveXML, &c->disks);
}


/*
 * Each disk the definition leaves out gets its own snapshot= setting,
 * else libvirt's default (qemuSnapshotCreateAlignDisks): external for a
 * disk-only snapshot and for one with an external memory image, which
 * every snapshot of a running Xen domain has. Otherwise (a shut-off
 * domain, or memory explicitly left out) internal for qcow2, and
 * external for other formats, which have no internal snapshots.
 */
static void
xsnapCreateDefaultDisks(xsnapCreateCtx *c)
{
    xsnapSnapshotDef *def = c->def;
    bool external = (c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY) ||
                    def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL;

    for (size_t i = 0; i < c->disks.n; i++) {
        const xsnapDomainDiskDef *d = &c->disks.list[i];
        xsnapSnapshotDiskDef *sd;
        bool named = false;

        for (size_t j = 0; j < def->ndisks; j++) {
            if (g_str_equal(def->disks[j].name, d->dst) ||
                (d->path && g_str_equal(def->disks[j].name, d->path)))
                named = true;
        }
        if (named || d->snapshot != XSNAP_SNAPSHOT_LOCATION_DEFAULT ||
            !d->path || d->readonly)
            continue;
        def->disks = g_renew(xsnapSnapshotDiskDef, def->disks, def->ndisks + 1);
        sd = &def->disks[def->ndisks++];
        memset(sd, 0, sizeof(*sd));
        sd->name = g_strdup(d->dst);
        sd->type = d->type;
        sd->snapshot = !external && g_str_equal(xsnapOpsDiskFormat(d), "qcow2") ?
                       XSNAP_SNAPSHOT_LOCATION_INTERNAL :
                       XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
    }
}


static int
xsnapCreateValidate(xsnapCreateCtx *c)
{
    xsnapSnapshotDef *def = c->def;
    bool diskOnly = c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY;
    xsnapSnapshotStore *store = xsnapDriverStateGetStore();

    if (xsnapSnapshotObjListFindByName(c->snaps->list, def->name)) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("snapshot '%1$s' of domain '%2$s' already exists"),
                         def->name, c->snaps->name);
        return -1;
    }
    if ((c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_HALT) && !c->persistent) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID, "%s",
                         _("cannot halt after transient domain snapshot"));
        return -1;
    }

    /* Memory. Xen's device model does not own guest RAM, so memory is
     * always an external image. */
    if (diskOnly || !c->active) {
        if (def->memory == XSNAP_SNAPSHOT_LOCATION_INTERNAL ||
            def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                             _("memory state cannot be saved with offline or disk-only snapshot"));
            return -1;
        }
        def->memory = XSNAP_SNAPSHOT_LOCATION_NO;
    } else if (def->memory == XSNAP_SNAPSHOT_LOCATION_INTERNAL ||
               def->memory == XSNAP_SNAPSHOT_LOCATION_MANUAL) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                         _("Xen keeps guest memory outside the device model: a snapshot's memory can only be an external file"));
        return -1;
    } else if (def->memory == XSNAP_SNAPSHOT_LOCATION_DEFAULT ||
               def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
        def->memory = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
        if (!def->memoryFile) {
            g_autofree char *dir = xsnapSnapshotStoreDomainDir(store, c->snaps->name);
            if (!dir)
                return -1;
            /* The first snapshot of a domain may come before its store
             * directory exists: make it as the store would. */
            if (g_mkdir_with_parents(dir, 0700) < 0) {
                xsnapReportSystemError(errno, _("cannot create snapshot directory '%1$s'"),
                                       dir);
                return -1;
            }
            /* A file left by an earlier snapshot of that name (kept by
             * delete --metadata, or from before an undefine) is never
             * overwritten: the new image takes the next free name. */
            def->memoryFile = g_strdup_printf("%s/%s%s", dir, def->name,
                                              XSNAP_SNAPSHOT_STORE_MEMORY_SUFFIX);
            for (unsigned int n = 1; access(def->memoryFile, F_OK) == 0; n++) {
                g_free(def->memoryFile);
                def->memoryFile = g_strdup_printf("%s/%s-%u%s", dir, def->name, n,
                                                  XSNAP_SNAPSHOT_STORE_MEMORY_SUFFIX);
            }
        }
        if (!g_path_is_absolute(def->memoryFile)) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("memory snapshot file path '%1$s' must be absolute"),
                             def->memoryFile);
            return -1;
        }
        if (access(def->memoryFile, F_OK) == 0) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("memory snapshot file '%1$s' already exists"),
                             def->memoryFile);
            return -1;
        }
        /* Read at each create: a change needs no restart of libvirtd,
         * and a bad setting fails here, before anything changed. */
        {
            xsnapDriverConfig cfg;

            if (xsnapDriverConfigLoad(NULL, &cfg) < 0)
                return -1;
            c->memoryFormat = cfg.memoryFormat;
        }
    }
    if ((c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_LIVE) &&
        (!c->active || def->memory != XSNAP_SNAPSHOT_LOCATION_EXTERNAL)) {
        xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                         _("live snapshot creation is supported only during full system snapshots"));
        return -1;
    }
    if ((c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_LIVE) && c->hv->liveSaveSupported) {
        int live = c->hv->liveSaveSupported(c->dom);

        if (live < 0)
            return -1;
        if (live == 0) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("this Xen cannot save the memory of domain '%1$s' live: a PV domain needs shadow paging for that, which the hypervisor lacks; create the snapshot without --live"),
                             virDomainGetName(c->dom));
            return -1;
        }
    }

    if (diskOnly || (c->active && def->memory == XSNAP_SNAPSHOT_LOCATION_NO))
        def->state = XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT;
    else if (!c->active)
        def->state = XSNAP_SNAPSHOT_STATE_SHUTOFF;
    else
        def->state = c->state == VIR_DOMAIN_PAUSED ?
                     XSNAP_SNAPSHOT_STATE_PAUSED : XSNAP_SNAPSHOT_STATE_RUNNING;

    /* Disks, aligned with the domain's: the snapshot's <domain> is the
     * persistent config as it was when the snapshot was taken. */
    g_free(def->domainXML);
    def->domainXML = g_strdup(c->inactiveXML);
    xsnapCreateDefaultDisks(c);
    if (xsnapSnapshotDefAlignDisksList(def, c->disks.list, c->disks.n,
                                       XSNAP_SNAPSHOT_LOCATION_EXTERNAL, false) < 0)
        return -1;
    if (xsnapSnapshotDefIsExternal(def) && !c->persistent) {
        xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                         _("external snapshots of transient domain '%1$s' are not supported: its configuration could not follow the new overlays"),
                         c->snaps->name);
        return -1;
    }
    return 0;
}


/* The disk plan, checked without touching anything. */
static int
xsnapCreatePrepare(xsnapCreateCtx *c)
{
    xsnapSnapshotDef *def = c->def;
    bool reuse = c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT;
    size_t nsnap = 0;

    c->plan = xsnapDiskPlanNew(def->name);
    for (size_t i = 0; i < def->ndisks; i++) {
        xsnapSnapshotDiskDef *sd = &def->disks[i];
        const xsnapDomainDiskDef *d = xsnapOpsFindDomainDisk(c->disks.list,
                                                             c->disks.n, sd->name);
        xsnapDiskSnapshotMode mode;

        if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_NO || !d)
            continue;
        if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_MANUAL) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("manual snapshots of disk '%1$s' are not supported"),
                             sd->name);
            return -1;
        }
        if (d->type != XSNAP_STORAGE_TYPE_FILE || !d->path) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("disk '%1$s' is not a file: only file disks can be snapshotted"),
                             sd->name);
            return -1;
        }
        if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
            if (sd->type != XSNAP_STORAGE_TYPE_NONE &&
                sd->type != XSNAP_STORAGE_TYPE_FILE) {
                xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                                 _("the external snapshot of disk '%1$s' must be a file"),
                                 sd->name);
                return -1;
            }
            if (sd->format && !g_str_equal(sd->format, "qcow2")) {
                xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                                 _("the external snapshot of disk '%1$s' must be qcow2, not '%2$s'"),
                                 sd->name, sd->format);
                return -1;
            }
            /* The image's XML names the disk's image: started from it,
             * the guest would write into the frozen image. */
            if (!c->active && virDomainHasManagedSaveImage(c->dom, 0) == 1) {
                xsnapReportError(VIR_ERR_OPERATION_INVALID,
                                 _("cannot take an external snapshot of disk '%1$s': domain '%2$s' has a managed save image that runs on its image; start the domain first, or remove the managed save image"),
                                 sd->name, c->snaps->name);
                return -1;
            }
            sd->type = XSNAP_STORAGE_TYPE_FILE;
            g_free(sd->format);
            sd->format = g_strdup("qcow2");
            mode = XSNAP_DISK_SNAPSHOT_EXTERNAL;
        } else {
            mode = XSNAP_DISK_SNAPSHOT_INTERNAL;
        }
        xsnapDiskPlanAddDisk(c->plan, d->dst, d->path, xsnapOpsDiskFormat(d),
                             mode, sd->path, reuse);
        nsnap++;
    }
    if (nsnap == 0 && def->memory != XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                         _("nothing selected for snapshot"));
        return -1;
    }
    return xsnapDiskPlanValidate(c->plan);
}


/* The journal of the create: the memory image and, per disk, the image
 * it used, the overlay and the internal snapshot it will make. */
static int
xsnapCreateJournalBegin(xsnapCreateCtx *c)
{
    if (!(c->journal = xsnapOpsJournalBegin(c->snaps, "create", c->def->name, c->state)))
        return -1;
    if (c->def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL && c->def->memoryFile) {
        xsnapSnapshotJournalSet(c->journal, NULL, "memory", c->def->memoryFile);
        xsnapSnapshotJournalSet(c->journal, NULL, "memory-created", "true");
    }
    for (size_t i = 0; i < c->plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(c->plan, i);

        xsnapSnapshotJournalSet(c->journal, item->target, "source", item->path);
        xsnapSnapshotJournalSet(c->journal, item->target, "format", item->format);
        if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL)
            xsnapSnapshotJournalSet(c->journal, item->target, "internal", c->def->name);
        if (item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL) {
            xsnapSnapshotJournalSet(c->journal, item->target, "overlay", item->newPath);
            if (!item->reuse)
                xsnapSnapshotJournalSet(c->journal, item->target, "overlay-created", "true");
            /* Opened in the device model before the pause. */
            if (c->active)
                xsnapSnapshotJournalSet(c->journal, item->target, "overlay-node",
                                        item->newNode);
        }
    }
    return xsnapSnapshotJournalWrite(c->journal);
}


/* Saves the memory into a new image; the domain stays suspended. */
static int
xsnapCreateSaveMemory(xsnapCreateCtx *c)
{
    g_autoptr(GHashTable) frozen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) formats = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *xml = NULL;
    xsnapMemoryProgress *progress;
    uint64_t streamLen = 0;
    int fd;
    int rc;

    /* The image's XML names the disks as they are at this instant;
     * a revert rewrites it to the images it prepared. */
    for (size_t i = 0; i < c->plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(c->plan, i);
        g_hash_table_insert(frozen, item->target, item->path);
        g_hash_table_insert(formats, item->target, item->format);
    }
    if (!(xml = xsnapOpsDomainSetDiskSources(c->liveXML, frozen, formats)))
        return -1;

    /* Read and write: a compressed image's header is finished after
     * its stream. */
    fd = open(c->def->memoryFile, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        xsnapReportSystemError(errno, _("cannot create memory snapshot file '%1$s'"),
                               c->def->memoryFile);
        return -1;
    }
    c->memoryCreated = true;
    c->memoryFile = g_strdup(c->def->memoryFile);
    if (xsnapMemoryImageWriteHeaderFormat(fd, xml, XSNAP_OPS_MEMORY_XML_SLACK,
                                          c->memoryFormat) < 0) {
        close(fd);
        return -1;
    }
    progress = xsnapOpsJobMemoryBegin(c->job);
    rc = c->hv->saveMemory(c->dom, fd, c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_LIVE,
                           c->memoryFormat, &streamLen, progress);
    if (rc == 0 && c->memoryFormat != XSNAP_MEMORY_FORMAT_RAW &&
        xsnapMemoryImageFinish(fd, streamLen) < 0) {
        rc = -1;
        c->suspended = true;
    }
    if (rc == 0 && fsync(fd) < 0) {
        xsnapReportSystemError(errno, _("cannot write memory snapshot file '%1$s'"),
                               c->def->memoryFile);
        rc = -1;
        c->suspended = true;
    }
    if (close(fd) < 0 && rc == 0) {
        xsnapReportSystemError(errno, _("cannot write memory snapshot file '%1$s'"),
                               c->def->memoryFile);
        rc = -1;
        c->suspended = true;
    }
    if (rc == 0)
        c->suspended = true;
    return rc;
}


/*
 * Undo of the memory step: the domain runs on, the image goes. A domain
 * halted after its snapshot is brought back from that image, which
 * names the disks as they were before the snapshot, so this runs after
 * the disks were taken back.
 */
static void
xsnapCreateUndoMemory(xsnapCreateCtx *c)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (c->suspended &&
        c->hv->continueAfterSave(c->dom, c->state == VIR_DOMAIN_PAUSED) == 0)
        c->suspended = false;
    if (c->halted && c->memoryCreated &&
        c->hv->restore(c->dom, c->memoryFile,
                       c->state == VIR_DOMAIN_PAUSED ? VIR_DOMAIN_SAVE_PAUSED : 0) == 0)
        c->halted = false;
    if (c->memoryCreated && !c->halted && unlink(c->memoryFile) == 0)
        c->memoryCreated = false;
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


static int
xsnapCreatePause(xsnapCreateCtx *c)
{
    if (c->state == VIR_DOMAIN_PAUSED)
        return 0;
    if (c->hv->pause(c->dom) < 0)
        return -1;
    c->paused = true;
    return 0;
}


static void
xsnapCreateUndoPause(xsnapCreateCtx *c)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (c->paused && c->hv->resume(c->dom) == 0)
        c->paused = false;
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/* Fails if another client changed the domain's state under us. */
static int
xsnapCreateCheckState(xsnapCreateCtx *c, bool wantActive)
{
    int state = c->hv->state(c->dom, NULL);

    if (state < 0)
        return -1;
    if (xsnapOpsStateActive(state) != wantActive) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("domain '%1$s' changed state while its snapshot was being taken"),
                         c->snaps->name);
        return -1;
    }
    return 0;
}


/* Points the persistent config at the new overlays. */
static int
xsnapCreateUpdateConfig(xsnapCreateCtx *c)
{
    g_autoptr(GHashTable) moved = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *xml = NULL;

    for (size_t i = 0; i < c->plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(c->plan, i);
        if (item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL)
            g_hash_table_insert(moved, item->target, item->newPath);
    }
    if (g_hash_table_size(moved) == 0)
        return 0;
    if (!(xml = xsnapOpsDomainSetDiskSources(c->inactiveXML, moved, NULL)) ||
        c->hv->define(c->dom, xml) < 0)
        return -1;
    c->configDefined = true;
    return 0;
}


static void
xsnapCreateUndoConfig(xsnapCreateCtx *c)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (c->configDefined && c->hv->define(c->dom, c->inactiveXML) == 0)
        c->configDefined = false;
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/*
 * Undo of the disk step, through the device model while the domain
 * still runs there (also if another client started it since an offline
 * plan ran), else on the files.
 */
static void
xsnapCreateUndoDisks(xsnapCreateCtx *c)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();
    g_autoptr(xsnapQemuMonitor) mon = NULL;
    int state;

    if (!c->plan || !(c->plan->completed || c->plan->prepared))
        return;
    state = c->hv->state(c->dom, NULL);
    if (state >= 0 && state != VIR_DOMAIN_SHUTOFF &&
        !(mon = xsnapOpsMonitorOpen(c->hv, c->dom)))
        g_warning("cannot reach the device model of domain '%s' to take back the disks of snapshot '%s': %s",
                  c->snaps->name, c->plan->snapName, xsnapGetLastErrorMessage());
    /* Overlays made before the pause that no disk took yet. */
    if (c->plan->prepared) {
        xsnapDiskPlanAbandon(c->plan, mon);
        xsnapRestoreLastError(g_steal_pointer(&saved));
        return;
    }
    if ((state == VIR_DOMAIN_SHUTOFF || mon) &&
        xsnapDiskPlanUndo(c->plan, mon) < 0)
        g_warning("cannot take back the disks of snapshot '%s' of domain '%s': %s",
                  c->plan->snapName, c->snaps->name, xsnapGetLastErrorMessage());
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/*
 * Undoes whatever the create did, newest first: the disks while the
 * domain is still suspended or paused where it is, then the memory
 * (the domain runs on, or comes back from its image after --halt),
 * then the pause, then the persistent config. The caller's error stays.
 */
static void
xsnapCreateUndo(xsnapCreateCtx *c)
{
    xsnapCreateUndoDisks(c);
    xsnapCreateUndoMemory(c);
    xsnapCreateUndoPause(c);
    if (!c->plan || !c->plan->completed)
        xsnapCreateUndoConfig(c);
    xsnapOpsSyncLiveQuietly(c->hv, c->dom, c->snaps->name);
}


/*
 * Inside the pause: the transaction, and the check that nobody changed
 * the domain's state under us. The check runs while QEMU works on the
 * transaction, so the guest waits for the longer of the two, not their
 * sum. If the check fails the transaction's reply is still read, so
 * that the undo knows whether the disks were taken. @open, a monitor
 * kept from before the pause, is taken; NULL opens one on @qmpPath.
 */
static int
xsnapCreateTakeDisks(xsnapCreateCtx *c, const char *qmpPath,
                     xsnapQemuMonitor *open)
{
    g_autoptr(xsnapQemuMonitor) mon = open;
    g_autoptr(xsnapError) stateError = NULL;
    gint64 t0 = g_get_monotonic_time();
    gint64 t1, t2, t3;

    if (c->plan->disks->len == 0)
        return xsnapCreateCheckState(c, true);
    if ((!mon && !(mon = xsnapQemuMonitorOpen(qmpPath, NULL))) ||
        xsnapDiskPlanRunOnlineStart(c->plan, mon) < 0)
        return -1;
    t1 = g_get_monotonic_time();
    if (xsnapCreateCheckState(c, true) < 0)
        stateError = xsnapSaveLastError();
    t2 = g_get_monotonic_time();
    if (xsnapDiskPlanRunOnlineFinish(c->plan, mon) < 0 && !stateError)
        return -1;
    t3 = g_get_monotonic_time();
    c->timing[0] = (double)(t1 - t0) / 1000.0;   /* connect + send */
    c->timing[1] = (double)(t2 - t1) / 1000.0;   /* state check */
    c->timing[2] = (double)(t3 - t0) / 1000.0;   /* the whole step */
    c->timing[3] = (double)(t3 - t1) / 1000.0;   /* send -> reply, check inside */
    if (stateError) {
        xsnapRestoreLastError(g_steal_pointer(&stateError));
        return -1;
    }
    return 0;
}


/* Runs the disks and memory; on failure the caller runs xsnapCreateUndo. */
static int
xsnapCreateExecute(xsnapCreateCtx *c)
{
    g_autoptr(xsnapQemuMonitor) mon = NULL;
    g_autofree char *qmpPath = NULL;
    bool halt = c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_HALT;
    gint64 prepStart;

    if (!c->active) {
        if (xsnapFaultPoint("create:disks") < 0 ||
            xsnapDiskPlanRunOffline(c->plan) < 0)
            return -1;
        xsnapOpsJournalStep(c->journal, "disks-done");
        return 0;
    }

    /* Everything but the transaction comes before the guest is
     * suspended: the socket's path (libxl and libvirt look-ups), the
     * three block-graph queries, and each external overlay's file and
     * blockdev-add. The pause then holds the transaction with the
     * state check beside it (xsnapCreateTakeDisks). With memory the
     * monitor is closed, and opened again inside the pause, because
     * libxl itself talks to the device model on that socket while it
     * saves the domain; a pause (libxl_domain_pause) does not, so
     * without memory the connection stays open across it. A failure
     * from here on takes the prepared overlays back
     * (xsnapCreateUndoDisks). */
    prepStart = g_get_monotonic_time();
    if (c->plan->disks->len > 0 &&
        (!(qmpPath = xsnapOpsMonitorPath(c->hv, c->dom)) ||
         !(mon = xsnapQemuMonitorOpen(qmpPath, NULL)) ||
         xsnapDiskPlanPrepareOnline(c->plan, mon) < 0))
        return -1;
    if (c->def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL)
        g_clear_pointer(&mon, xsnapQemuMonitorClose);
    c->timing[4] = (double)(g_get_monotonic_time() - prepStart) / 1000.0;

    if (c->def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
        if (xsnapFaultPoint("create:memory") < 0)
            return -1;
        if (xsnapCreateSaveMemory(c) < 0)
            return -1;
    } else if (xsnapFaultPoint("create:pause") < 0 || xsnapCreatePause(c) < 0) {
        return -1;
    }

    if (xsnapFaultPoint("create:disks") < 0 ||
        xsnapCreateTakeDisks(c, qmpPath, g_steal_pointer(&mon)) < 0)
        return -1;
    xsnapOpsJournalStep(c->journal, "disks-done");

    if (xsnapFaultPoint("create:resume") < 0)
        return -1;
    if (halt) {
        if (c->hv->destroy(c->dom) < 0)
            return -1;
        c->halted = c->suspended;
        c->suspended = false;
        c->paused = false;
        return 0;
    }
    if (c->suspended) {
        if (c->hv->continueAfterSave(c->dom, c->state == VIR_DOMAIN_PAUSED) < 0)
            return -1;
        c->suspended = false;
    }
    if (c->paused) {
        if (c->hv->resume(c->dom) < 0)
            return -1;
        c->paused = false;
    }
    if (c->plan->disks->len > 0) {
        static const char *const names[] = { "connect-send", "state-check",
                                              "take-disks", "send-to-reply",
                                              "prepare" };
        xsnapTimingLog("create", G_N_ELEMENTS(names), names, c->timing);
    }
    return 0;
}


/* The new snapshot's Def: disks as the plan left them, parent, current. */
static int
xsnapCreateWriteMetadata(xsnapCreateCtx *c, char **createdName)
{
    xsnapSnapshotStore *store = xsnapDriverStateGetStore();
    xsnapSnapshotObjList *list = c->snaps->list;
    const char *current = xsnapSnapshotObjListGetCurrentName(list);
    xsnapSnapshotObj *obj;
    g_autofree char *name = g_strdup(c->def->name);

    if (c->flags & VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA) {
        *createdName = g_steal_pointer(&name);
        return 0;
    }
    g_free(c->def->parent_name);
    c->def->parent_name = g_strdup(current);
    if (!(obj = xsnapSnapshotObjListAdd(list, &c->def)))
        return -1;
    if (xsnapSnapshotStoreSave(store, c->snaps->name, list, obj, false) < 0 ||
        xsnapSnapshotStoreSetCurrent(store, c->snaps->name, list, obj) < 0) {
        g_autoptr(xsnapError) saved = xsnapSaveLastError();

        /* The snapshot's data is about to be taken back: its metadata
         * goes first, from the store and the tree. */
        if (xsnapSnapshotStoreDelete(store, c->snaps->name, list, obj, 0) < 0)
            xsnapDriverStateInvalidate(c->snaps);
        xsnapRestoreLastError(g_steal_pointer(&saved));
        return -1;
    }
    *createdName = g_steal_pointer(&name);
    return 0;
}


int
xsnapOpsCreate(virDomainPtr dom, xsnapDomainSnapshots *snaps,
               const char *xml, unsigned int flags, char **createdName)
{
    /* Declared first, so that it ends last, after the context's undo. */
    g_autoptr(xsnapOpsJob) job = xsnapOpsJobBegin(snaps->uuid, XSNAP_OPS_JOB_CREATE);
    g_auto(xsnapCreateCtx) c = { .dom = dom, .snaps = snaps,
                                 .hv = xsnapHypervisorGet(), .flags = flags,
                                 .job = job };

    *createdName = NULL;
    if (xsnapCreateCheckFlags(flags) < 0 ||
        xsnapCreateReadDomain(&c) < 0 ||
        xsnapCreateParse(&c, xml) < 0 ||
        xsnapCreateValidate(&c) < 0 ||
        xsnapCreatePrepare(&c) < 0 ||
        xsnapCreateJournalBegin(&c) < 0)
        return -1;
    /* Offline, a domain started while qemu-img ran may use the images. */
    if (xsnapCreateExecute(&c) < 0 ||
        (!c.active && xsnapCreateCheckState(&c, false) < 0) ||
        xsnapFaultPoint("create:config") < 0 ||
        xsnapCreateUpdateConfig(&c) < 0 ||
        xsnapOpsSyncLive(c.hv, dom) < 0)
        goto error;
    xsnapOpsJournalStep(c.journal, "config-done");
    if (xsnapFaultPoint("create:metadata") < 0 ||
        xsnapCreateWriteMetadata(&c, createdName) < 0)
        goto error;
    xsnapOpsJournalEnd(c.journal);
    return 0;

 error:
    xsnapCreateUndo(&c);
    xsnapOpsJournalEnd(c.journal);
    return -1;
}


/* ---- revert ------------------------------------------------------------ */

static GPtrArray *xsnapOpsChain(const char *path, const char *format);
static bool xsnapOpsChainHas(GPtrArray *chain, const char *path);


typedef struct _xsnapRevertCtx xsnapRevertCtx;
struct _xsnapRevertCtx {
    virDomainPtr dom;
    xsnapDomainSnapshots *snaps;
    const xsnapHypervisor *hv;
    xsnapSnapshotObj *obj;
    unsigned int flags;

    xsnapOpsDisks disks;       /* the disks of the snapshot's <domain> */
    GHashTable *moved;         /* target -> fresh overlay (external disks) */
    GHashTable *sources;       /* target -> image after the revert, for the
                                * disks whose image is not the snapshot's:
                                * @moved, and the disks it did not take */
    GHashTable *formats;       /* target -> format of @sources' image */
    GPtrArray *created;        /* overlays created, removed on failure */
    char *configXML;           /* the snapshot's config with the overlays */
    char *prevConfigXML;       /* the persistent config before the revert */
    bool withMemory;
    bool configDefined;        /* we made @configXML the persistent config */
    bool started;              /* we restored or started the domain */
    xsnapSnapshotJournal *journal;
};

static void
xsnapRevertCtxClear(xsnapRevertCtx *c)
{
    xsnapOpsDisksClear(&c->disks);
    g_clear_pointer(&c->moved, g_hash_table_unref);
    g_clear_pointer(&c->sources, g_hash_table_unref);
    g_clear_pointer(&c->formats, g_hash_table_unref);
    g_clear_pointer(&c->created, g_ptr_array_unref);
    g_free(c->configXML);
    g_free(c->prevConfigXML);
    xsnapSnapshotJournalFree(c->journal);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(xsnapRevertCtx, xsnapRevertCtxClear);


static int xsnapOpsOtherDomainsUsing(const xsnapHypervisor *hv, virDomainPtr dom,
                                     const char *image, char **users);


/* Finds, for xsnapRevertCheckFrozen, a snapshot whose external disk
 * @target froze the image @path. */
typedef struct {
    xsnapSnapshotObj *self;
    const char *target;
    const char *path;
    xsnapSnapshotObj *found;
    bool foundInternal;         /* @found keeps an internal snapshot */
} xsnapRevertFrozenSearch;

static void
xsnapRevertFindFrozen(xsnapSnapshotObj *obj, void *opaque)
{
    xsnapRevertFrozenSearch *search = opaque;
    g_auto(xsnapOpsDisks) disks = { 0 };
    const xsnapDomainDiskDef *d;

    if (search->found || obj == search->self || !obj->def->domainXML)
        return;
    for (size_t i = 0; i < obj->def->ndisks; i++) {
        const xsnapSnapshotDiskDef *sd = &obj->def->disks[i];
        bool external = sd->snapshot == XSNAP_SNAPSHOT_LOCATION_EXTERNAL;

        if ((!external && sd->snapshot != XSNAP_SNAPSHOT_LOCATION_INTERNAL) ||
            !g_str_equal(sd->name, search->target))
            continue;
        if (xsnapOpsDisksParse(obj->def->domainXML, &disks) < 0) {
            xsnapResetLastError();
            return;
        }
        d = xsnapOpsFindDomainDisk(disks.list, disks.n, sd->name);
        if (!d || !d->path)
            return;
        /* Another internal snapshot of the same image is kept apart
         * from the data a revert applies; one in an image resting on
         * it, or an external snapshot that froze it, is not. */
        if (xsnapFileSame(d->path, search->path)) {
            if (external)
                search->found = obj;
        } else if (g_str_equal(xsnapOpsDiskFormat(d), "qcow2")) {
            /* Frozen further up a chain that rests on the image. */
            g_autoptr(GPtrArray) chain = xsnapOpsChain(d->path, "qcow2");

            if (chain && xsnapOpsChainHas(chain, search->path)) {
                search->found = obj;
                search->foundInternal = !external;
            }
            xsnapResetLastError();
        }
        return;
    }
}


/*
 * An internal snapshot is applied inside its image. When another
 * snapshot's external disk froze that same image, or another snapshot
 * rests on it further up a chain (an external one's frozen image, an
 * internal one's image), applying it would change that snapshot's disk
 * for good, so the revert is refused.
 */
static int
xsnapRevertCheckFrozen(xsnapRevertCtx *c)
{
    xsnapSnapshotDef *def = c->obj->def;

    for (size_t i = 0; i < def->ndisks; i++) {
        const xsnapSnapshotDiskDef *sd = &def->disks[i];
        const xsnapDomainDiskDef *d = xsnapOpsFindDomainDisk(c->disks.list,
                                                             c->disks.n, sd->name);
        xsnapRevertFrozenSearch search = { .self = c->obj, .target = sd->name };
        g_autofree char *users = NULL;

        if (sd->snapshot != XSNAP_SNAPSHOT_LOCATION_INTERNAL || !d || !d->path)
            continue;
        search.path = d->path;
        /* A linked clone of another snapshot rests on this image. */
        if (xsnapOpsOtherDomainsUsing(c->hv, c->dom, d->path, &users) < 0)
            return -1;
        if (users) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("cannot revert disk '%1$s' to internal snapshot '%2$s': its image '%3$s' is also used by %4$s, which reverting would change; undefine those domains first"),
                             sd->name, def->name, d->path, users);
            return -1;
        }
        xsnapSnapshotObjListForEach(c->snaps->list, xsnapRevertFindFrozen, &search);
        if (search.found && search.foundInternal) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("cannot revert disk '%1$s' to internal snapshot '%2$s': its image '%3$s' is the base of an image that holds internal snapshot '%4$s', which reverting would change; delete '%5$s' first"),
                             sd->name, def->name, d->path, search.found->def->name,
                             search.found->def->name);
            return -1;
        }
        if (search.found) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("cannot revert disk '%1$s' to internal snapshot '%2$s': its image '%3$s' is frozen by external snapshot '%4$s', which reverting would change; delete '%5$s' first"),
                             sd->name, def->name, d->path, search.found->def->name,
                             search.found->def->name);
            return -1;
        }
    }
    return 0;
}


static int
xsnapRevertValidate(xsnapRevertCtx *c)
{
    xsnapSnapshotDef *def = c->obj->def;
    bool persistent = virDomainIsPersistent(c->dom) == 1;

    if ((c->flags & VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING) &&
        (c->flags & VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED)) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                         _("the running and paused flags are mutually exclusive"));
        return -1;
    }
    if (!persistent &&
        def->state != XSNAP_SNAPSHOT_STATE_RUNNING &&
        def->state != XSNAP_SNAPSHOT_STATE_PAUSED &&
        !(c->flags & (VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING |
                      VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED))) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID, "%s",
                         _("transient domain needs to request run or pause to revert to inactive snapshot"));
        return -1;
    }
    if (!def->domainXML) {
        xsnapReportError(VIR_ERR_SNAPSHOT_REVERT_RISKY,
                         _("snapshot '%1$s' lacks domain '%2$s' rollback info"),
                         def->name, c->snaps->name);
        return -1;
    }
    c->withMemory = (def->state == XSNAP_SNAPSHOT_STATE_RUNNING ||
                     def->state == XSNAP_SNAPSHOT_STATE_PAUSED);
    /* As libvirt: booting a snapshot without memory in place of a guest
     * that runs must be asked for, since the guest is killed. */
    if (!(c->flags & VIR_DOMAIN_SNAPSHOT_REVERT_FORCE) && !c->withMemory &&
        (c->flags & (VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING |
                     VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED))) {
        int state = c->hv->state(c->dom, NULL);

        if (state < 0)
            return -1;
        if (state != VIR_DOMAIN_SHUTOFF) {
            xsnapReportError(VIR_ERR_SNAPSHOT_REVERT_RISKY, "%s",
                             _("must respawn guest to start inactive snapshot"));
            return -1;
        }
    }
    if (!(c->flags & VIR_DOMAIN_SNAPSHOT_REVERT_FORCE) && !c->withMemory &&
        virDomainHasManagedSaveImage(c->dom, 0) == 1) {
        xsnapReportError(VIR_ERR_SNAPSHOT_REVERT_RISKY, "%s",
                         _("snapshot without memory state, removal of existing managed saved state strongly recommended to avoid corruption"));
        return -1;
    }
    if (c->withMemory &&
        (def->memory != XSNAP_SNAPSHOT_LOCATION_EXTERNAL || !def->memoryFile)) {
        xsnapReportError(VIR_ERR_SNAPSHOT_REVERT_RISKY,
                         _("snapshot '%1$s' of a running domain has no memory image to revert to"),
                         def->name);
        return -1;
    }
    if (c->withMemory && access(def->memoryFile, R_OK) < 0) {
        xsnapReportSystemError(errno, _("cannot read the memory image '%1$s' of snapshot '%2$s'"),
                               def->memoryFile, def->name);
        return -1;
    }
    /* A compressed image is read whole before anything changes: once
     * the domain is destroyed, a truncated or corrupt one could only be
     * found half-way through libxl's restore, with nothing to go back to. */
    if (c->withMemory && xsnapMemoryImageVerify(def->memoryFile) < 0)
        return -1;
    if (!persistent && xsnapSnapshotDefIsExternal(def)) {
        xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                         _("reverting transient domain '%1$s' to an external snapshot is not supported"),
                         c->snaps->name);
        return -1;
    }
    if (xsnapOpsDisksParse(def->domainXML, &c->disks) < 0)
        return -1;
    return xsnapRevertCheckFrozen(c);
}


/* The journal of the revert: the state and the disks of the persistent
 * config it replaces. */
static int
xsnapRevertJournalBegin(xsnapRevertCtx *c)
{
    g_autofree char *xml = NULL;
    g_auto(xsnapOpsDisks) cur = { 0 };
    int state;

    if ((state = c->hv->state(c->dom, NULL)) < 0 ||
        !(xml = c->hv->getXML(c->dom, true)) ||
        xsnapOpsDisksParse(xml, &cur) < 0 ||
        !(c->journal = xsnapOpsJournalBegin(c->snaps, "revert", c->obj->def->name, state)))
        return -1;
    for (size_t i = 0; i < cur.n; i++) {
        if (!cur.list[i].dst || !cur.list[i].path)
            continue;
        xsnapSnapshotJournalSet(c->journal, cur.list[i].dst, "source", cur.list[i].path);
        xsnapSnapshotJournalSet(c->journal, cur.list[i].dst, "format",
                                xsnapOpsDiskFormat(&cur.list[i]));
    }
    return xsnapSnapshotJournalWrite(c->journal);
}


/* Records the overlays the disk step created, before they are used. */
static void
xsnapRevertJournalDisks(xsnapRevertCtx *c)
{
    GHashTableIter iter;
    gpointer target;
    gpointer overlay;

    g_hash_table_iter_init(&iter, c->moved);
    while (g_hash_table_iter_next(&iter, &target, &overlay)) {
        xsnapSnapshotJournalSet(c->journal, target, "overlay", overlay);
        xsnapSnapshotJournalSet(c->journal, target, "overlay-created", "true");
    }
    xsnapOpsJournalStep(c->journal, "disks-done");
}


/*
 * Stops the domain if it runs. Not undone: libvirt's revert does the
 * same. The persistent config is kept first, for the undo of the steps
 * that follow.
 */
static int
xsnapRevertStop(xsnapRevertCtx *c)
{
    int state = c->hv->state(c->dom, NULL);

    if (state < 0)
        return -1;
    if (virDomainIsPersistent(c->dom) == 1 &&
        !(c->prevConfigXML = c->hv->getXML(c->dom, true)))
        return -1;
    if (state == VIR_DOMAIN_SHUTOFF)
        return 0;
    return c->hv->destroy(c->dom);
}


static void
xsnapRevertUndoDisks(xsnapRevertCtx *c)
{
    for (size_t i = 0; c->created && i < c->created->len; i++)
        unlink(g_ptr_array_index(c->created, i));
    g_clear_pointer(&c->created, g_ptr_array_unref);
}


/* The persistent config follows the snapshot, so that a later start
 * uses the reverted disks. */
static int
xsnapRevertDefine(xsnapRevertCtx *c)
{
    if (virDomainIsPersistent(c->dom) != 1 && c->withMemory)
        return 0;
    if (c->hv->define(c->dom, c->configXML) < 0)
        return -1;
    c->configDefined = true;
    return 0;
}


/*
 * Undo of everything after the stop: the domain we brought up goes
 * down again, the persistent config is the one from before, and the
 * fresh overlays go. The domain is left shut off with its config and
 * external disks as before the revert; internal snapshots already
 * applied to their images stay applied.
 */
static void
xsnapRevertUndo(xsnapRevertCtx *c)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (c->started) {
        int state = c->hv->state(c->dom, NULL);

        if (state >= 0 && state != VIR_DOMAIN_SHUTOFF &&
            c->hv->destroy(c->dom) < 0) {
            /* Its device model still uses the overlays: keep them. */
            g_warning("cannot stop domain '%s' after its failed revert: %s",
                      c->snaps->name, xsnapGetLastErrorMessage());
            xsnapRestoreLastError(g_steal_pointer(&saved));
            return;
        }
        c->started = false;
    }
    if (c->configDefined && c->prevConfigXML &&
        c->hv->define(c->dom, c->prevConfigXML) == 0)
        c->configDefined = false;
    if (!c->configDefined)
        xsnapRevertUndoDisks(c);
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


/*
 * The images the disks have after the revert, where they are not the
 * snapshot's: the fresh overlays, and, for each disk the snapshot did
 * not take (snapshot='no'), the image it has now. Such a disk is not
 * reverted, as in libvirt; the image it had when the snapshot was taken
 * may since have been frozen by another snapshot, which writes would
 * change.
 */
static int
xsnapRevertKeptDisks(xsnapRevertCtx *c)
{
    xsnapSnapshotDef *def = c->obj->def;
    g_auto(xsnapOpsDisks) now = { 0 };
    GHashTableIter iter;
    gpointer target;
    gpointer overlay;

    c->sources = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    c->formats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_iter_init(&iter, c->moved);
    while (g_hash_table_iter_next(&iter, &target, &overlay)) {
        g_hash_table_insert(c->sources, g_strdup(target), g_strdup(overlay));
        g_hash_table_insert(c->formats, g_strdup(target), g_strdup("qcow2"));
    }
    if (!c->prevConfigXML || xsnapOpsDisksParse(c->prevConfigXML, &now) < 0)
        return c->prevConfigXML ? -1 : 0;
    for (size_t i = 0; i < c->disks.n; i++) {
        const xsnapDomainDiskDef *d = &c->disks.list[i];
        const xsnapDomainDiskDef *cur;
        bool taken = false;

        if (!d->dst || !d->path || d->type != XSNAP_STORAGE_TYPE_FILE)
            continue;
        for (size_t j = 0; j < def->ndisks; j++) {
            if (g_str_equal(def->disks[j].name, d->dst) &&
                def->disks[j].snapshot != XSNAP_SNAPSHOT_LOCATION_NO)
                taken = true;
        }
        cur = xsnapOpsFindDomainDisk(now.list, now.n, d->dst);
        if (taken || !cur || !cur->path || cur->type != XSNAP_STORAGE_TYPE_FILE ||
            xsnapFileSame(cur->path, d->path))
            continue;
        g_hash_table_insert(c->sources, g_strdup(d->dst), g_strdup(cur->path));
        g_hash_table_insert(c->formats, g_strdup(d->dst),
                            g_strdup(xsnapOpsDiskFormat(cur)));
    }
    return 0;
}


/* Brings each disk to the snapshot's state: internal snapshots are
 * applied, external ones get a fresh overlay over the frozen image. */
static int
xsnapRevertDisks(xsnapRevertCtx *c)
{
    xsnapSnapshotDef *def = c->obj->def;

    c->moved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    c->created = g_ptr_array_new_with_free_func(g_free);

    /* External first: they only add files, so a failure undoes cleanly. */
    for (size_t i = 0; i < def->ndisks; i++) {
        xsnapSnapshotDiskDef *sd = &def->disks[i];
        const xsnapDomainDiskDef *d = xsnapOpsFindDomainDisk(c->disks.list,
                                                             c->disks.n, sd->name);
        char *overlay;

        if (sd->snapshot != XSNAP_SNAPSHOT_LOCATION_EXTERNAL)
            continue;
        if (!d || !d->path) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("snapshot '%1$s' does not record the image of disk '%2$s'"),
                             def->name, sd->name);
            goto error;
        }
        if (!(overlay = xsnapDiskRevertExternal(d->path, xsnapOpsDiskFormat(d),
                                                d->path, def->name)))
            goto error;
        g_ptr_array_add(c->created, g_strdup(overlay));
        g_hash_table_insert(c->moved, g_strdup(d->dst), overlay);
    }
    for (size_t i = 0; i < def->ndisks; i++) {
        xsnapSnapshotDiskDef *sd = &def->disks[i];
        const xsnapDomainDiskDef *d = xsnapOpsFindDomainDisk(c->disks.list,
                                                             c->disks.n, sd->name);

        if (sd->snapshot != XSNAP_SNAPSHOT_LOCATION_INTERNAL)
            continue;
        if (!d || !d->path || xsnapDiskRevertInternal(d->path, def->name) < 0)
            goto error;
    }
    if (xsnapRevertKeptDisks(c) < 0 ||
        !(c->configXML = xsnapOpsDomainSetDiskSources(def->domainXML, c->sources,
                                                      c->formats)))
        goto error;
    return 0;

 error:
    {
        g_autoptr(xsnapError) saved = xsnapSaveLastError();
        xsnapRevertUndoDisks(c);
        xsnapRestoreLastError(g_steal_pointer(&saved));
    }
    return -1;
}


/* Restores the memory image, its XML pointed at the prepared disks. */
static int
xsnapRevertRestore(xsnapRevertCtx *c)
{
    xsnapSnapshotDef *def = c->obj->def;
    xsnapMemoryImageHeader hdr;
    g_autofree char *xml = NULL;
    g_autofree char *newXML = NULL;
    unsigned int flags = 0;

    if (xsnapMemoryImageRead(def->memoryFile, &hdr, &xml) < 0)
        return -1;
    if (g_hash_table_size(c->sources) > 0) {
        if (!(newXML = xsnapOpsDomainSetDiskSources(xml, c->sources, c->formats)) ||
            xsnapMemoryImageRewriteXML(def->memoryFile, newXML) < 0)
            return -1;
    }
    if ((c->flags & VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED) ||
        (def->state == XSNAP_SNAPSHOT_STATE_PAUSED &&
         !(c->flags & VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING)))
        flags |= VIR_DOMAIN_SAVE_PAUSED;
    if (c->hv->restore(c->dom, def->memoryFile, flags) < 0)
        return -1;
    c->started = true;
    return 0;
}


static int
xsnapRevertStart(xsnapRevertCtx *c)
{
    if (!(c->flags & (VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING |
                      VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED)))
        return 0;
    if (c->hv->start(c->dom, (c->flags & VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED) ?
                     VIR_DOMAIN_START_PAUSED : 0) < 0)
        return -1;
    c->started = true;
    return 0;
}


static int
xsnapRevertSetCurrent(xsnapRevertCtx *c)
{
    if (xsnapSnapshotStoreSetCurrent(xsnapDriverStateGetStore(), c->snaps->name,
                                     c->snaps->list, c->obj) < 0) {
        xsnapDriverStateInvalidate(c->snaps);
        return -1;
    }
    return 0;
}


/*
 * A managed-save image holds the state the revert replaces; its memory
 * no longer matches the disks once they are reverted (an internal
 * snapshot applied under it, overlays it does not name), so starting
 * from it would corrupt the guest, and a start would prefer it to the
 * reverted config. It goes once the disks and config are reverted,
 * before the domain is started (libvirt asks for FORCE first when the
 * snapshot has no memory). A failure is logged.
 */
static void
xsnapRevertDropManagedSave(xsnapRevertCtx *c)
{
    if (virDomainHasManagedSaveImage(c->dom, 0) != 1)
        return;
    if (virDomainManagedSaveRemove(c->dom, 0) < 0) {
        virErrorPtr err = virGetLastError();

        g_warning("cannot remove the managed save image of domain '%s' after its revert: %s",
                  c->snaps->name, err && err->message ? err->message : "unknown error");
    }
}


/* The steps after the stop, each recorded in the journal once done. On
 * failure the caller runs xsnapRevertUndo(). */
static int
xsnapRevertApply(xsnapRevertCtx *c)
{
    if (xsnapFaultPoint("revert:disks") < 0 ||
        xsnapRevertDisks(c) < 0)
        return -1;
    xsnapRevertJournalDisks(c);
    if (xsnapFaultPoint("revert:config") < 0 ||
        xsnapRevertDefine(c) < 0)
        return -1;
    xsnapOpsJournalStep(c->journal, "config-done");
    /* Before the start, which would resume the managed state instead. */
    xsnapRevertDropManagedSave(c);
    if (xsnapFaultPoint(c->withMemory ? "revert:restore" : "revert:start") < 0 ||
        (c->withMemory ? xsnapRevertRestore(c) < 0 : xsnapRevertStart(c) < 0))
        return -1;
    /* The restore or start already named the right images; this adds
     * their backing chains. */
    xsnapOpsSyncLiveQuietly(c->hv, c->dom, c->snaps->name);
    xsnapOpsJournalStep(c->journal, "domain-done");
    if (xsnapFaultPoint("revert:metadata") < 0 ||
        xsnapRevertSetCurrent(c) < 0)
        return -1;
    return 0;
}


static int
xsnapRevertRun(virDomainPtr dom, xsnapDomainSnapshots *snaps,
               xsnapSnapshotObj *obj, unsigned int flags)
{
    g_auto(xsnapRevertCtx) c = { .dom = dom, .snaps = snaps,
                                 .hv = xsnapHypervisorGet(), .obj = obj,
                                 .flags = flags };
    int rc = -1;

    if (xsnapRevertValidate(&c) < 0 ||
        xsnapRevertJournalBegin(&c) < 0)
        return -1;
    if (xsnapFaultPoint("revert:stop") == 0 && xsnapRevertStop(&c) == 0 &&
        (rc = xsnapRevertApply(&c)) < 0)
        xsnapRevertUndo(&c);
    xsnapOpsJournalEnd(c.journal);
    return rc;
}


int
xsnapOpsRevert(virDomainPtr dom, xsnapDomainSnapshots *snaps,
               xsnapSnapshotObj *obj, unsigned int flags)
{
    xsnapOpsJob *job = xsnapOpsJobBegin(snaps->uuid, XSNAP_OPS_JOB_REVERT);
    int ret = xsnapRevertRun(dom, snaps, obj, flags);

    xsnapOpsJobEnd(job);
    return ret;
}


/* ---- delete ------------------------------------------------------------ */

/* The path of the backing file @backing of image @image. */
static char *
xsnapOpsResolveBacking(const char *image, const char *backing)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(backing))
        return g_strdup(backing);
    dir = g_path_get_dirname(image);
    return g_build_filename(dir, backing, NULL);
}


/* The backing chain of @path (format @format), top first. */
static GPtrArray *
xsnapOpsChain(const char *path, const char *format)
{
    g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *cur = g_strdup(path);
    g_autofree char *fmt = g_strdup(format);

    while (cur && chain->len < 256) {
        g_autoptr(xsnapQemuImgInfo) info = xsnapQemuImgGetInfo(cur, fmt);

        if (!info)
            return NULL;
        g_ptr_array_add(chain, g_strdup(cur));
        g_clear_pointer(&fmt, g_free);
        if (!info->backingFile || !info->backingFormat)
            break;
        g_free(cur);
        cur = xsnapOpsResolveBacking(g_ptr_array_index(chain, chain->len - 1),
                                     info->backingFile);
        fmt = g_strdup(info->backingFormat);
    }
    return g_steal_pointer(&chain);
}


static bool
xsnapOpsChainHas(GPtrArray *chain, const char *path)
{
    for (size_t i = 0; chain && i < chain->len; i++)
        if (xsnapFileSame(g_ptr_array_index(chain, i), path))
            return true;
    return false;
}


/* The path of disk @dst in domain XML @xml, or NULL. */
static char *
xsnapOpsDiskPath(const char *xml, const char *dst)
{
    g_auto(xsnapOpsDisks) d = { 0 };
    const xsnapDomainDiskDef *disk;

    if (!xml || xsnapOpsDisksParse(xml, &d) < 0)
        return NULL;
    disk = xsnapOpsFindDomainDisk(d.list, d.n, dst);
    return disk && disk->path ? g_strdup(disk->path) : NULL;
}


typedef struct _xsnapDeleteCtx xsnapDeleteCtx;
struct _xsnapDeleteCtx {
    virDomainPtr dom;
    xsnapDomainSnapshots *snaps;
    const xsnapHypervisor *hv;
    bool active;
    xsnapSnapshotJournal *journal;  /* of the snapshot being deleted */
};


static int
xsnapOpsCompareStrings(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}


/*
 * The other libvirt domains with a disk whose backing chain holds
 * @image (linked clones), as one list for an error message ("disk 'xvda'
 * of domain 'c1', disk 'xvda' of domain 'c2'", sorted), or NULL when
 * there is none; -1 with an error if the domains cannot be read.
 * Images used outside libvirt cannot be seen here.
 */
static int
xsnapOpsOtherDomainsUsing(const xsnapHypervisor *hv, virDomainPtr dom,
                          const char *image, char **users)
{
    g_autoptr(GPtrArray) xmls = hv->otherDomainsXML(dom);
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);

    *users = NULL;
    if (!xmls)
        return -1;
    for (size_t i = 0; i < xmls->len; i++) {
        const char *xml = g_ptr_array_index(xmls, i);
        g_auto(xsnapOpsDisks) d = { 0 };
        g_autofree char *name = NULL;

        if (xsnapOpsDisksParse(xml, &d) < 0)
            return -1;
        for (size_t j = 0; j < d.n; j++) {
            g_autoptr(GPtrArray) chain = NULL;

            if (!d.list[j].path || d.list[j].type != XSNAP_STORAGE_TYPE_FILE)
                continue;
            if (!(chain = xsnapOpsChain(d.list[j].path, xsnapOpsDiskFormat(&d.list[j])))) {
                xsnapResetLastError();
                continue;
            }
            if (!xsnapOpsChainHas(chain, image))
                continue;
            if (!name) {
                g_autoptr(xmlDoc) doc = NULL;
                g_autoptr(xmlXPathContext) ctxt = NULL;

                if ((doc = xsnapXMLParseString(xml, "domain", NULL, &ctxt)))
                    name = xsnapXPathString("string(/domain/name)", ctxt);
                if (!name)
                    name = g_strdup("?");
            }
            g_ptr_array_add(found, g_strdup_printf(_("disk '%1$s' of domain '%2$s'"),
                                                   d.list[j].dst, name));
        }
    }
    if (found->len == 0)
        return 0;
    g_ptr_array_sort(found, xsnapOpsCompareStrings);
    g_ptr_array_add(found, NULL);
    *users = g_strjoinv(", ", (char **)found->pdata);
    return 0;
}


/* What deleting one external disk of a snapshot does to its images. */
typedef enum {
    XSNAP_DELETE_DISK_MERGE,   /* commit the overlay into the frozen image */
    XSNAP_DELETE_DISK_KEEP,    /* both stay: other branches need them */
    XSNAP_DELETE_DISK_UNLINK,  /* the overlay goes: nothing uses it any more */
} xsnapDeleteDiskAction;


/* How snapshot @t took disk @dst. */
static xsnapSnapshotLocation
xsnapDeleteDiskMode(const xsnapSnapshotObj *t, const char *dst)
{
    for (size_t i = 0; i < t->def->ndisks; i++) {
        if (g_str_equal(t->def->disks[i].name, dst))
            return t->def->disks[i].snapshot;
    }
    return XSNAP_SNAPSHOT_LOCATION_NO;
}


/*
 * True if a snapshot other than @obj has disk @dst frozen in @image, or
 * on an image whose chain holds @image but not @through (may be NULL).
 * With @contentOnly, a snapshot that only keeps an internal snapshot
 * inside @image does not count: a merge into @image changes its current
 * content, never its internal snapshots.
 */
static bool
xsnapDeleteSnapshotsUse(xsnapDeleteCtx *c, xsnapSnapshotObj *obj,
                        const char *dst, const char *image,
                        bool contentOnly, const char *through)
{
    xsnapSnapshotObj **all = NULL;
    bool used = false;
    int n = xsnapSnapshotObjListListAll(c->snaps->list, NULL, &all, 0);

    for (int i = 0; i < n && !used; i++) {
        xsnapSnapshotObj *t = all[i];
        g_autofree char *frozen = NULL;
        g_autoptr(GPtrArray) chain = NULL;

        if (t == obj || !(frozen = xsnapOpsDiskPath(t->def->domainXML, dst)))
            continue;
        if (xsnapFileSame(frozen, image)) {
            used = !contentOnly ||
                   xsnapDeleteDiskMode(t, dst) != XSNAP_SNAPSHOT_LOCATION_INTERNAL;
        } else if (through && xsnapFileSame(frozen, through)) {
            continue;
        } else if ((chain = xsnapOpsChain(frozen, "qcow2"))) {
            /* Qcow2 frozen images only can rest on another image. */
            used = xsnapOpsChainHas(chain, image) &&
                   !(through && xsnapOpsChainHas(chain, through));
        } else {
            xsnapResetLastError();
        }
    }
    g_free(all);
    return used;
}


/*
 * Decides what deleting external disk @sd of @obj does. Its overlay is
 * merged into the frozen image @base when the overlay sits right above
 * @base in the disk's current chain, @obj has at most one child, and no
 * other snapshot or domain rests on @base except through that overlay.
 * Otherwise libvirt refuses; here no image another branch needs is
 * touched: both stay, and only the snapshot's metadata and memory image
 * go, except that an overlay which neither the running disk, another
 * snapshot nor another domain uses (a branch a revert left) goes too.
 */
static int
xsnapDeleteCheckExternal(xsnapDeleteCtx *c, xsnapSnapshotObj *obj,
                         const xsnapSnapshotDiskDef *sd, const char *activePath,
                         const char *activeFormat, const char *base,
                         xsnapDeleteDiskAction *action)
{
    g_autoptr(GPtrArray) chain = NULL;
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    g_autofree char *users = NULL;
    bool above = false;
    bool holdsInternal = false;

    if (!(chain = xsnapOpsChain(activePath, activeFormat)))
        return -1;
    /* Internal snapshots inside the overlay (a later snapshot's) would
     * go with it: such an overlay is never merged nor removed. */
    if (access(sd->path, F_OK) == 0) {
        if (!(info = xsnapQemuImgGetInfo(sd->path, "qcow2")))
            return -1;
        holdsInternal = info->snapshots && info->snapshots[0];
    }
    for (size_t i = 0; i + 1 < chain->len; i++) {
        if (xsnapFileSame(g_ptr_array_index(chain, i), sd->path) &&
            xsnapFileSame(g_ptr_array_index(chain, i + 1), base))
            above = true;
    }
    /* A linked clone's base: the snapshot stays, protecting it, whether
     * the delete would merge into the image or only drop the metadata. */
    if (xsnapOpsOtherDomainsUsing(c->hv, c->dom, base, &users) < 0)
        return -1;
    if (users) {
        xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                         _("cannot delete external snapshot '%1$s': image '%2$s' of disk '%3$s' is also used by %4$s; undefine those domains first"),
                         obj->def->name, base, sd->name, users);
        return -1;
    }
    if (above && obj->nchildren <= 1 && !holdsInternal &&
        !xsnapDeleteSnapshotsUse(c, obj, sd->name, base, true, sd->path)) {
        *action = XSNAP_DELETE_DISK_MERGE;
        return 0;
    }
    /* The parent froze @base, not the overlay: only later snapshots can
     * rest on the overlay. */
    *action = XSNAP_DELETE_DISK_KEEP;
    if (!holdsInternal && !xsnapOpsChainHas(chain, sd->path) &&
        !xsnapDeleteSnapshotsUse(c, obj, sd->name, sd->path, false, NULL)) {
        if (xsnapOpsOtherDomainsUsing(c->hv, c->dom, sd->path, &users) < 0)
            return -1;
        if (!users)
            *action = XSNAP_DELETE_DISK_UNLINK;
    }
    return 0;
}


/* Replaces disk @dst's path @from by @to in every other snapshot's <domain>. */
static int
xsnapDeleteRepointChildren(xsnapDeleteCtx *c, xsnapSnapshotObj *obj,
                           const char *dst, const char *from, const char *to,
                           const char *toFormat)
{
    xsnapSnapshotStore *store = xsnapDriverStateGetStore();

    for (xsnapSnapshotObj *child = obj->first_child; child; child = child->sibling) {
        g_autofree char *p = xsnapOpsDiskPath(child->def->domainXML, dst);
        g_autoptr(GHashTable) src = NULL;
        g_autoptr(GHashTable) fmt = NULL;
        char *xml;

        if (!p || !xsnapFileSame(p, from))
            continue;
        src = g_hash_table_new(g_str_hash, g_str_equal);
        fmt = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(src, (char *)dst, (char *)to);
        g_hash_table_insert(fmt, (char *)dst, (char *)toFormat);
        if (!(xml = xsnapOpsDomainSetDiskSources(child->def->domainXML, src, fmt)))
            return -1;
        g_free(child->def->domainXML);
        child->def->domainXML = xml;
        if (xsnapSnapshotStoreSave(store, c->snaps->name, c->snaps->list, child, true) < 0)
            return -1;
    }
    return 0;
}


/*
 * True when external disk @sd was merged by an earlier delete of the
 * same snapshot that failed afterwards: its overlay is gone and the
 * frozen image @base is in the disk's chain (@activePath, @format).
 */
static bool
xsnapDeleteAlreadyMerged(const xsnapSnapshotDiskDef *sd, const char *activePath,
                         const char *format, const char *base)
{
    g_autoptr(GPtrArray) chain = NULL;

    if (access(sd->path, F_OK) == 0 || errno != ENOENT)
        return false;
    if (!(chain = xsnapOpsChain(activePath, format))) {
        xsnapResetLastError();
        return false;
    }
    return xsnapOpsChainHas(chain, base);
}


/* The persistent config follows the disks that were merged into their
 * base while they ran (@moved: target -> base). */
static int
xsnapDeleteUpdateConfig(xsnapDeleteCtx *c, const char *inactiveXML,
                        GHashTable *moved, GHashTable *formats)
{
    g_autofree char *xml = NULL;

    if (g_hash_table_size(moved) == 0)
        return 0;
    if (!(xml = xsnapOpsDomainSetDiskSources(inactiveXML, moved, formats)))
        return -1;
    return c->hv->define(c->dom, xml);
}


/*
 * An internal snapshot is removed from its image through the device
 * model when that image is the running disk's, and with qemu-img when no
 * one uses it. An image deeper in the running disk's chain is open
 * read-only in QEMU, so neither can change it: refused before anything
 * changes.
 */
static int
xsnapDeleteCheckInternal(xsnapDeleteCtx *c, const xsnapSnapshotDef *def,
                         const xsnapSnapshotDiskDef *sd,
                         const xsnapDomainDiskDef *now,
                         const xsnapDomainDiskDef *then)
{
    const char *path = then && then->path ? then->path : now ? now->path : NULL;
    g_autoptr(GPtrArray) chain = NULL;

    if (!c->active || !path || !now || !now->path || xsnapFileSame(now->path, path))
        return 0;
    if (!(chain = xsnapOpsChain(now->path, xsnapOpsDiskFormat(now)))) {
        xsnapResetLastError();
        return 0;
    }
    if (!xsnapOpsChainHas(chain, path))
        return 0;
    xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                     _("cannot delete internal snapshot '%1$s' of disk '%2$s' while the domain runs: its image '%3$s' is a backing image of the running disk, which the device model holds read-only; delete it with the domain shut off"),
                     def->name, sd->name, path);
    return -1;
}


/*
 * Checks every disk of @obj against the disks the domain has now (@cur)
 * and had when @obj was taken (@frozen), changing nothing. Records in
 * @merged the external disks an earlier, interrupted delete already
 * merged, and in @kept (target -> xsnapDeleteDiskAction) those that are
 * not to be merged. Returns 0, or -1 with the refusal reported.
 */
static int
xsnapDeleteCheck(xsnapDeleteCtx *c, xsnapSnapshotObj *obj,
                 const xsnapOpsDisks *curDisks, const xsnapOpsDisks *frozenDisks,
                 GHashTable *merged, GHashTable *kept)
{
    xsnapSnapshotDef *def = obj->def;
    const xsnapOpsDisks cur = *curDisks;
    const xsnapOpsDisks frozen = *frozenDisks;
    xsnapDeleteDiskAction action;

    for (size_t i = 0; i < def->ndisks; i++) {
        xsnapSnapshotDiskDef *sd = &def->disks[i];
        const xsnapDomainDiskDef *now = xsnapOpsFindDomainDisk(cur.list, cur.n, sd->name);
        const xsnapDomainDiskDef *then = xsnapOpsFindDomainDisk(frozen.list, frozen.n, sd->name);

        if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_INTERNAL) {
            if (xsnapDeleteCheckInternal(c, def, sd, now, then) < 0)
                return -1;
            continue;
        }
        if (sd->snapshot != XSNAP_SNAPSHOT_LOCATION_EXTERNAL)
            continue;
        if (!now || !now->path || !then || !then->path || !sd->path) {
            xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                             _("cannot delete external snapshot '%1$s': the images of disk '%2$s' are not known"),
                             def->name, sd->name);
            return -1;
        }
        if (xsnapDeleteAlreadyMerged(sd, now->path, xsnapOpsDiskFormat(now),
                                     then->path)) {
            g_hash_table_add(merged, sd->name);
            continue;
        }
        if (xsnapDeleteCheckExternal(c, obj, sd, now->path, xsnapOpsDiskFormat(now),
                                     then->path, &action) < 0)
            return -1;
        if (action != XSNAP_DELETE_DISK_MERGE) {
            g_hash_table_insert(kept, sd->name, GINT_TO_POINTER(action));
        } else if (!c->active && virDomainHasManagedSaveImage(c->dom, 0) == 1) {
            /* The image's XML names the overlay the merge would remove. */
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("cannot merge disk '%1$s' of external snapshot '%2$s': domain '%3$s' has a managed save image that runs on its overlay; start the domain first, or remove the managed save image"),
                             sd->name, def->name, c->snaps->name);
            return -1;
        }
    }

    return 0;
}


/* The checks of xsnapDeleteCheck for @obj as the domain is now. */
static int
xsnapDeletePrecheck(xsnapDeleteCtx *c, xsnapSnapshotObj *obj)
{
    g_autofree char *inactiveXML = NULL;
    g_auto(xsnapOpsDisks) cur = { 0 };
    g_auto(xsnapOpsDisks) frozen = { 0 };
    g_autoptr(GHashTable) merged = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) kept = g_hash_table_new(g_str_hash, g_str_equal);

    if (!(inactiveXML = c->hv->getXML(c->dom, true)) ||
        xsnapOpsDisksParse(inactiveXML, &cur) < 0 ||
        (obj->def->domainXML && xsnapOpsDisksParse(obj->def->domainXML, &frozen) < 0))
        return -1;
    return xsnapDeleteCheck(c, obj, &cur, &frozen, merged, kept);
}


/*
 * Deletes the data of one snapshot: internal disk snapshots, merged
 * external overlays, the memory image. Metadata is left to the caller.
 * Merges cannot be taken back: once one is done, a failure still makes
 * the persistent config follow the merged disks, and a later delete of
 * the same snapshot skips the disks already done.
 */
static int
xsnapDeleteData(xsnapDeleteCtx *c, xsnapSnapshotObj *obj)
{
    xsnapSnapshotDef *def = obj->def;
    g_autofree char *inactiveXML = NULL;
    g_auto(xsnapOpsDisks) cur = { 0 };
    g_auto(xsnapOpsDisks) frozen = { 0 };
    g_autoptr(xsnapQemuMonitor) mon = NULL;
    g_autoptr(GHashTable) moved = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) formats = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) merged = g_hash_table_new(g_str_hash, g_str_equal);
    /* target -> xsnapDeleteDiskAction, for disks not merged */
    g_autoptr(GHashTable) kept = g_hash_table_new(g_str_hash, g_str_equal);
    bool needMonitor = false;

    if (!(inactiveXML = c->hv->getXML(c->dom, true)) ||
        xsnapOpsDisksParse(inactiveXML, &cur) < 0 ||
        (def->domainXML && xsnapOpsDisksParse(def->domainXML, &frozen) < 0))
        return -1;

    /* Check every disk before changing any. */
    if (xsnapDeleteCheck(c, obj, &cur, &frozen, merged, kept) < 0)
        return -1;

    for (size_t i = 0; i < def->ndisks; i++) {
        if (def->disks[i].snapshot == XSNAP_SNAPSHOT_LOCATION_INTERNAL ||
            def->disks[i].snapshot == XSNAP_SNAPSHOT_LOCATION_EXTERNAL)
            needMonitor = c->active;
    }
    if (needMonitor && !(mon = xsnapOpsMonitorOpen(c->hv, c->dom)))
        return -1;

    for (size_t i = 0; i < def->ndisks; i++) {
        xsnapSnapshotDiskDef *sd = &def->disks[i];
        const xsnapDomainDiskDef *now = xsnapOpsFindDomainDisk(cur.list, cur.n, sd->name);
        const xsnapDomainDiskDef *then = xsnapOpsFindDomainDisk(frozen.list, frozen.n, sd->name);

        if (xsnapFaultPoint("delete:disk") < 0)
            goto error;
        if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_INTERNAL) {
            const char *path = then && then->path ? then->path : now ? now->path : NULL;
            bool inQemu = now && now->path && path && xsnapFileSame(now->path, path);

            if (!path)
                continue;
            if (xsnapDiskDeleteInternal(inQemu ? mon : NULL, sd->name, path,
                                        def->name) < 0) {
                /* Already gone (deleted by hand, or its image reverted away). */
                if (xsnapGetLastErrorCode() != VIR_ERR_NO_DOMAIN_SNAPSHOT)
                    goto error;
                xsnapResetLastError();
            }
        } else if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_EXTERNAL &&
                   g_hash_table_contains(kept, sd->name)) {
            if (GPOINTER_TO_INT(g_hash_table_lookup(kept, sd->name)) ==
                XSNAP_DELETE_DISK_UNLINK &&
                unlink(sd->path) < 0 && errno != ENOENT)
                g_warning("cannot remove unused overlay '%s'", sd->path);
        } else if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_EXTERNAL &&
                   !g_hash_table_contains(merged, sd->name)) {
            bool isActive = xsnapFileSame(now->path, sd->path);

            if (xsnapDiskCommit(mon, sd->name, now->path, sd->path, then->path,
                                XSNAP_OPS_COMMIT_TIMEOUT_MS, NULL, NULL) < 0)
                goto error;
            /* From here the overlay is stale: never merge it again. */
            xsnapOpsJournalDiskDone(c->journal, sd->name, "merged");
            if (isActive) {
                g_hash_table_insert(moved, sd->name, then->path);
                g_hash_table_insert(formats, sd->name, (char *)xsnapOpsDiskFormat(then));
            }
            if (xsnapDeleteRepointChildren(c, obj, sd->name, sd->path, then->path,
                                           xsnapOpsDiskFormat(then)) < 0)
                goto error;
            if (unlink(sd->path) < 0 && errno != ENOENT)
                g_warning("cannot remove merged overlay '%s'", sd->path);
        }
    }
    g_clear_pointer(&mon, xsnapQemuMonitorClose);

    if (xsnapFaultPoint("delete:config") < 0 ||
        xsnapDeleteUpdateConfig(c, inactiveXML, moved, formats) < 0)
        goto error;
    g_hash_table_remove_all(moved);
    if (xsnapFaultPoint("delete:memory") < 0)
        return -1;
    if (def->memoryFile && unlink(def->memoryFile) < 0 && errno != ENOENT) {
        xsnapReportSystemError(errno, _("cannot remove memory image '%1$s'"),
                               def->memoryFile);
        return -1;
    }
    return 0;

 error:
    /* A disk that runs on its base now must start from it too. */
    if (g_hash_table_size(moved) > 0) {
        g_autoptr(xsnapError) saved = xsnapSaveLastError();

        if (xsnapDeleteUpdateConfig(c, inactiveXML, moved, formats) < 0)
            g_warning("cannot point the config of domain '%s' at its merged disks: %s",
                      c->snaps->name, xsnapGetLastErrorMessage());
        xsnapRestoreLastError(g_steal_pointer(&saved));
    }
    return -1;
}


/* The journal of deleting @obj's data: its memory image and, per disk,
 * the internal snapshot to delete or the overlay to merge into its base. */
static xsnapSnapshotJournal *
xsnapDeleteJournalBegin(xsnapDeleteCtx *c, xsnapSnapshotObj *obj, int state)
{
    xsnapSnapshotDef *def = obj->def;
    g_autoptr(xsnapSnapshotJournal) journal = NULL;
    g_auto(xsnapOpsDisks) frozen = { 0 };

    if (!(journal = xsnapOpsJournalBegin(c->snaps, "delete", def->name, state)))
        return NULL;
    if (def->domainXML && xsnapOpsDisksParse(def->domainXML, &frozen) < 0)
        return NULL;
    if (def->memoryFile)
        xsnapSnapshotJournalSet(journal, NULL, "memory", def->memoryFile);
    for (size_t i = 0; i < def->ndisks; i++) {
        const xsnapSnapshotDiskDef *sd = &def->disks[i];
        const xsnapDomainDiskDef *then = xsnapOpsFindDomainDisk(frozen.list, frozen.n, sd->name);

        if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_INTERNAL) {
            xsnapSnapshotJournalSet(journal, sd->name, "internal", def->name);
            if (then && then->path)
                xsnapSnapshotJournalSet(journal, sd->name, "source", then->path);
        } else if (sd->snapshot == XSNAP_SNAPSHOT_LOCATION_EXTERNAL && sd->path) {
            xsnapSnapshotJournalSet(journal, sd->name, "overlay", sd->path);
            if (then && then->path) {
                xsnapSnapshotJournalSet(journal, sd->name, "base", then->path);
                xsnapSnapshotJournalSet(journal, sd->name, "base-format",
                                        xsnapOpsDiskFormat(then));
            }
        }
    }
    if (xsnapSnapshotJournalWrite(journal) < 0)
        return NULL;
    return g_steal_pointer(&journal);
}


static void
xsnapDeleteCollect(xsnapSnapshotObj *obj, void *opaque)
{
    g_ptr_array_add(opaque, obj);
}


static int
xsnapDeleteRun(virDomainPtr dom, xsnapDomainSnapshots *snaps,
               xsnapSnapshotObj *obj, unsigned int flags)
{
    xsnapDeleteCtx c = { .dom = dom, .snaps = snaps, .hv = xsnapHypervisorGet() };
    xsnapSnapshotStore *store = xsnapDriverStateGetStore();
    g_autoptr(GPtrArray) victims = g_ptr_array_new();
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    int state;

    if ((flags & VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN) &&
        (flags & VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY)) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                         _("the children and children-only flags are mutually exclusive"));
        return -1;
    }
    if ((state = c.hv->state(dom, NULL)) < 0)
        return -1;
    c.active = xsnapOpsStateActive(state);
    /* Its device model may still hold the images, or be gone mid-job. */
    if (!c.active && state != VIR_DOMAIN_SHUTOFF) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("cannot delete snapshots of domain '%1$s' while it is shutting down, crashed or suspended to RAM"),
                         snaps->name);
        return -1;
    }

    /* Descendants leaves first, then @obj itself. */
    if (flags & (VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN |
                 VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY))
        xsnapSnapshotObjForEachDescendant(obj, xsnapDeleteCollect, victims);
    if (!(flags & VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY))
        g_ptr_array_insert(victims, 0, obj);
    /* Parents come before children: take them in reverse. */
    for (size_t i = victims->len; i > 0; i--)
        g_ptr_array_add(names, g_strdup(((xsnapSnapshotObj *)g_ptr_array_index(victims, i - 1))->def->name));

    /* Every snapshot passes its checks before the first one changes, so
     * a refusal leaves them all (a check that only a descendant's merge
     * would let pass still refuses: the message says what to do). */
    for (size_t i = 0; names->len > 1 && i < names->len; i++) {
        xsnapSnapshotObj *victim = xsnapSnapshotObjListFindByName(snaps->list,
                                                                  g_ptr_array_index(names, i));

        if (victim && xsnapDeletePrecheck(&c, victim) < 0)
            return -1;
    }

    /* One at a time, so each merge sees the chains the previous one left
     * and a failure stops with the tree matching the disks. */
    for (size_t i = 0; i < names->len; i++) {
        xsnapSnapshotObj *victim = xsnapSnapshotObjListFindByName(snaps->list,
                                                                  g_ptr_array_index(names, i));
        g_autoptr(xsnapSnapshotJournal) journal = NULL;
        int rc = -1;

        if (!victim)
            continue;
        if (!(journal = xsnapDeleteJournalBegin(&c, victim, state)))
            return -1;
        c.journal = journal;
        if (xsnapDeleteData(&c, victim) < 0) {
            /* Merges done before the failure moved running disks. */
            xsnapOpsSyncLiveQuietly(c.hv, dom, snaps->name);
            goto end;
        }
        if (xsnapOpsSyncLive(c.hv, dom) < 0)
            goto end;
        xsnapOpsJournalStep(journal, "data-done");
        if (xsnapFaultPoint("delete:metadata") < 0)
            goto end;
        if (xsnapSnapshotStoreDelete(store, snaps->name, snaps->list, victim, 0) < 0) {
            xsnapDriverStateInvalidate(snaps);
            goto end;
        }
        rc = 0;
 end:
        xsnapOpsJournalEnd(journal);
        c.journal = NULL;
        if (rc < 0)
            return -1;
    }
    return 0;
}


int
xsnapOpsDelete(virDomainPtr dom, xsnapDomainSnapshots *snaps,
               xsnapSnapshotObj *obj, unsigned int flags)
{
    xsnapOpsJob *job = xsnapOpsJobBegin(snaps->uuid, XSNAP_OPS_JOB_DELETE);
    int ret = xsnapDeleteRun(dom, snaps, obj, flags);

    xsnapOpsJobEnd(job);
    return ret;
}
