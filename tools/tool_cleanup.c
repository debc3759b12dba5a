/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_cleanup.c: virt-xen-snapshot cleanup
 *
 * Removes what an interrupted snapshot operation left behind, from the
 * journal it wrote before changing anything (snapshot_journal.h). It
 * never deletes a file the journal does not list, nor one that a domain
 * config or any snapshot's metadata refers to, nor one a process holds
 * open; it deletes an internal snapshot only when no snapshot metadata
 * has that name, through the device model when a running domain uses
 * the image. What each kind of interrupted operation leaves, and what is
 * done about it, is in docs/recovery.md.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "internal.h"
#include "util_error.h"
#include "util_file.h"
#include "snapshot_conf.h"
#include "snapshot_journal.h"
#include "snapshot_store.h"
#include "disk_plan.h"
#include "qemu_img.h"
#include "qemu_block.h"
#include "qemu_monitor.h"
#include "snapshot_ops.h"
#include "tool_cmds.h"

typedef struct _vxsCleanup vxsCleanup;
struct _vxsCleanup {
    bool dryRun;
    virConnectPtr conn;
    xsnapSnapshotStore *store;
};

/* One journal being cleaned up. */
typedef struct _vxsJournalCtx vxsJournalCtx;
struct _vxsJournalCtx {
    vxsCleanup *cl;
    const char *domain;
    xsnapSnapshotJournal *journal;
    char *snapshot;
    virDomainPtr dom;           /* NULL when the domain is gone */
    int state;                  /* virDomainState, or -1 without a domain */
    xsnapSnapshotObjList *list; /* the domain's snapshot metadata */
    int failed;                 /* steps that could not be done */
    GHashTable *planned;        /* dry run: target -> image the config would use */
    GHashTable *chains;         /* image -> its backing chain (GPtrArray) */
};


static void
vxsSilence(void *opaque XSNAP_UNUSED, virErrorPtr err XSNAP_UNUSED)
{
}


/* The persistent (@inactive) or live domain XML, or NULL. */
static char *
vxsDomainXML(vxsJournalCtx *ctx, bool inactive)
{
    char *xml;
    char *ret;

    if (!ctx->dom || (!inactive && ctx->state != VIR_DOMAIN_RUNNING &&
                      ctx->state != VIR_DOMAIN_PAUSED &&
                      ctx->state != VIR_DOMAIN_BLOCKED &&
                      ctx->state != VIR_DOMAIN_PMSUSPENDED))
        return NULL;
    if (!(xml = virDomainGetXMLDesc(ctx->dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0)))
        return NULL;
    ret = g_strdup(xml);
    free(xml);
    return ret;
}


/* The backing chain of image @top (format @format), top first; cached
 * in @ctx, since the images' chains do not change while cleanup runs. */
static GPtrArray *
vxsChain(vxsJournalCtx *ctx, const char *top, const char *format)
{
    g_autoptr(GPtrArray) chain = NULL;
    g_autofree char *cur = g_strdup(top);
    g_autofree char *fmt = g_strdup(format);
    GPtrArray *cached;

    if ((cached = g_hash_table_lookup(ctx->chains, top)))
        return cached;
    chain = g_ptr_array_new_with_free_func(g_free);
    for (int depth = 0; cur && depth < 256; depth++) {
        g_autoptr(xsnapQemuImgInfo) info = NULL;
        g_autofree char *dir = NULL;

        g_ptr_array_add(chain, g_strdup(cur));
        if (!(info = xsnapQemuImgGetInfo(cur, fmt))) {
            xsnapResetLastError();
            break;
        }
        if (!info->backingFile)
            break;
        dir = g_path_get_dirname(cur);
        g_free(fmt);
        fmt = g_strdup(info->backingFormat);
        if (g_path_is_absolute(info->backingFile)) {
            g_free(cur);
            cur = g_strdup(info->backingFile);
        } else {
            g_free(cur);
            cur = g_build_filename(dir, info->backingFile, NULL);
        }
    }
    cached = g_steal_pointer(&chain);
    g_hash_table_insert(ctx->chains, g_strdup(top), cached);
    return cached;
}


/* True if @path is in the backing chain of image @top (format @format). */
static bool
vxsChainHas(vxsJournalCtx *ctx, const char *top, const char *format, const char *path)
{
    GPtrArray *chain = vxsChain(ctx, top, format);

    for (size_t i = 0; i < chain->len; i++) {
        if (xsnapFileSame(g_ptr_array_index(chain, i), path))
            return true;
    }
    return false;
}


/* Why @path must stay: the domain config or snapshot metadata that refers
 * to it (caller frees), or NULL when nothing does. */
static char *
vxsReferrer(vxsJournalCtx *ctx, const char *path)
{
    xsnapSnapshotObj **all = NULL;
    char *why = NULL;
    GHashTableIter iter;
    gpointer target;
    gpointer image;
    int n;

    /* A dry run did not redefine the config, but reports as if it had. */
    g_hash_table_iter_init(&iter, ctx->planned);
    while (g_hash_table_iter_next(&iter, &target, &image)) {
        if (vxsChainHas(ctx, image, "qcow2", path))
            return g_strdup_printf(_("disk '%1$s' of the persistent config uses it"),
                                   (const char *)target);
    }
    for (int live = 0; live < 2; live++) {
        g_autofree char *xml = vxsDomainXML(ctx, !live);
        xsnapDomainDiskDef *disks = NULL;
        int nd;

        if (!xml || (nd = xsnapDomainDiskDefListParseString(xml, &disks)) < 0) {
            xsnapResetLastError();
            continue;
        }
        for (int i = 0; i < nd && !why; i++) {
            if (disks[i].path &&
                vxsChainHas(ctx, disks[i].path, disks[i].format, path))
                why = g_strdup_printf(live ? _("disk '%1$s' of the running domain uses it") :
                                      _("disk '%1$s' of the persistent config uses it"),
                                      disks[i].dst);
        }
        xsnapDomainDiskDefListFree(disks, (size_t)MAX(nd, 0));
        if (why)
            return why;
    }

    n = xsnapSnapshotObjListListAll(ctx->list, NULL, &all, 0);
    for (int i = 0; i < n && !why; i++) {
        xsnapSnapshotDef *def = all[i]->def;
        xsnapDomainDiskDef *disks = NULL;
        int nd = 0;

        if (def->memoryFile && xsnapFileSame(def->memoryFile, path))
            why = g_strdup_printf(_("it is the memory image of snapshot '%1$s'"), def->name);
        for (size_t j = 0; j < def->ndisks && !why; j++) {
            if (def->disks[j].path && xsnapFileSame(def->disks[j].path, path))
                why = g_strdup_printf(_("snapshot '%1$s' records it for disk '%2$s'"),
                                      def->name, def->disks[j].name);
        }
        if (!why && def->domainXML &&
            (nd = xsnapDomainDiskDefListParseString(def->domainXML, &disks)) > 0) {
            for (int j = 0; j < nd && !why; j++) {
                if (disks[j].path && xsnapFileSame(disks[j].path, path))
                    why = g_strdup_printf(_("snapshot '%1$s' records it for disk '%2$s'"),
                                          def->name, disks[j].dst);
            }
        }
        xsnapResetLastError();
        xsnapDomainDiskDefListFree(disks, (size_t)MAX(nd, 0));
    }
    g_free(all);
    return why;
}


/* The pid of a process that holds @path open, or 0. Scans /proc: a
 * device model, a qemu-img or anything else counts. */
static long
vxsFileUser(const char *path)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *pid;
    struct stat target;

    if (!proc || stat(path, &target) < 0)
        return 0;
    while ((pid = g_dir_read_name(proc))) {
        g_autofree char *fddir = NULL;
        g_autoptr(GDir) fds = NULL;
        const char *fd;

        if (!g_ascii_isdigit(pid[0]))
            continue;
        fddir = g_strdup_printf("/proc/%s/fd", pid);
        if (!(fds = g_dir_open(fddir, 0, NULL)))
            continue;
        while ((fd = g_dir_read_name(fds))) {
            g_autofree char *link = g_build_filename(fddir, fd, NULL);
            struct stat sb;

            if (stat(link, &sb) == 0 && S_ISREG(sb.st_mode) &&
                sb.st_dev == target.st_dev && sb.st_ino == target.st_ino)
                return strtol(pid, NULL, 10);
        }
    }
    return 0;
}


/* Removes @path, a file the operation listed as its own, unless anything
 * still refers to it or uses it; a dry run that would first have closed
 * the device model's node on it passes @closing. */
static void
vxsRemoveFileFull(vxsJournalCtx *ctx, const char *path, const char *what,
                  bool closing)
{
    g_autofree char *why = NULL;
    long pid;

    if (access(path, F_OK) < 0)
        return;
    if ((why = vxsReferrer(ctx, path))) {
        printf(_("  keep file %1$s (%2$s): %3$s\n"), path, what, why);
        return;
    }
    if (!(closing && ctx->cl->dryRun) && (pid = vxsFileUser(path)) > 0) {
        printf(_("  keep file %1$s (%2$s): in use by process %3$ld, left in place\n"),
               path, what, pid);
        return;
    }
    printf(_("  remove file %1$s (%2$s)\n"), path, what);
    if (!ctx->cl->dryRun && unlink(path) < 0 && errno != ENOENT) {
        printf(_("  error: cannot remove '%1$s': %2$s\n"), path, g_strerror(errno));
        ctx->failed++;
    }
}


static void
vxsRemoveFile(vxsJournalCtx *ctx, const char *path, const char *what)
{
    vxsRemoveFileFull(ctx, path, what, false);
}


static bool
vxsDomainActive(vxsJournalCtx *ctx)
{
    return ctx->state == VIR_DOMAIN_RUNNING || ctx->state == VIR_DOMAIN_PAUSED ||
           ctx->state == VIR_DOMAIN_BLOCKED || ctx->state == VIR_DOMAIN_PMSUSPENDED;
}


/* Deletes internal snapshot @name of disk @target's image @image, which
 * the interrupted operation took and no metadata refers to. */
static void
vxsDeleteInternal(vxsJournalCtx *ctx, const char *target, const char *image,
                  const char *name)
{
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    g_autoptr(xsnapQemuMonitor) mon = NULL;
    long pid;
    int rc;

    if (xsnapSnapshotObjListFindByName(ctx->list, name)) {
        printf(_("  keep internal snapshot '%1$s' of %2$s: snapshot '%1$s' has metadata\n"),
               name, image);
        return;
    }
    if (!(info = xsnapQemuImgGetInfo(image, "qcow2"))) {
        xsnapResetLastError();
        return;
    }
    if (!xsnapQemuImgInfoHasSnapshot(info, name))
        return;
    pid = vxsFileUser(image);
    if (pid > 0 && !vxsDomainActive(ctx)) {
        printf(_("  keep internal snapshot '%1$s' of %2$s: the image is in use by process %3$ld, left in place\n"),
               name, image, pid);
        return;
    }
    if (pid > 0) {
        g_autofree char *qmp = xsnapQemuMonitorDefaultPath(virDomainGetID(ctx->dom));

        printf(_("  delete internal snapshot '%1$s' of %2$s through the device model of the running domain\n"),
               name, image);
        if (ctx->cl->dryRun)
            return;
        rc = (mon = xsnapQemuMonitorOpen(qmp, NULL)) ?
             xsnapDiskDeleteInternal(mon, target, image, name) : -1;
    } else {
        printf(_("  delete internal snapshot '%1$s' of %2$s\n"), name, image);
        if (ctx->cl->dryRun)
            return;
        rc = xsnapQemuImgSnapshot(XSNAP_QEMU_IMG_SNAPSHOT_DELETE, image, name);
    }
    if (rc < 0) {
        printf(_("  error: internal snapshot '%1$s' of %2$s is left in place: %3$s\n"),
               name, image, xsnapGetLastErrorMessage());
        xsnapResetLastError();
        ctx->failed++;
    }
}


/*
 * Closes node @node, which the interrupted create opened on overlay
 * @overlay in the device model of the running domain before it stopped
 * the guest, while no disk took it: the disk's image @source is then
 * still the top of its chain (nothing is stacked on it). Without that
 * proof the node stays, and so does the file (it is in use).
 * Returns true when the node was (or, in a dry run, would be) closed.
 */
static bool
vxsDropOverlayNode(vxsJournalCtx *ctx, const char *node, const char *overlay,
                   const char *source)
{
    g_autoptr(xsnapQemuMonitor) mon = NULL;
    g_autoptr(xsnapBlockNodeList) list = NULL;
    g_autofree char *qmp = NULL;
    const xsnapBlockNode *src;

    if (!vxsDomainActive(ctx) || access(overlay, F_OK) < 0 ||
        vxsFileUser(overlay) <= 0)
        return false;
    qmp = xsnapQemuMonitorDefaultPath(virDomainGetID(ctx->dom));
    if (!(mon = xsnapQemuMonitorOpen(qmp, NULL)) ||
        !(list = xsnapQemuBlockQuery(mon))) {
        printf(_("  error: cannot reach the device model: %1$s\n"),
               xsnapGetLastErrorMessage());
        xsnapResetLastError();
        ctx->failed++;
        return false;
    }
    if (!xsnapBlockNodeListFindNode(list, node))
        return false;
    if (!source || !(src = xsnapBlockNodeListFindImage(list, source)) ||
        src->hasParent)
        return false;
    printf(_("  close node '%1$s' of %2$s in the device model (no disk took it)\n"),
           node, overlay);
    if (!ctx->cl->dryRun && xsnapQemuBlockdevDel(mon, node) < 0) {
        printf(_("  error: %1$s\n"), xsnapGetLastErrorMessage());
        xsnapResetLastError();
        ctx->failed++;
        return false;
    }
    return true;
}


/*
 * Points each disk of the persistent config in @from (target -> the path
 * it must be using now for the fix to apply) at the path in @to, of the
 * format in @formats (NULL: qcow2).
 */
static void
vxsFixConfig(vxsJournalCtx *ctx, GHashTable *from, GHashTable *to,
             GHashTable *formats, const char *why)
{
    g_autofree char *xml = vxsDomainXML(ctx, true);
    g_autoptr(GHashTable) moved = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                        g_free, g_free);
    g_autofree char *newXML = NULL;
    xsnapDomainDiskDef *disks = NULL;
    GHashTableIter iter;
    gpointer target;
    gpointer image;
    virDomainPtr def;
    int nd;

    if (!xml || g_hash_table_size(to) == 0 ||
        (nd = xsnapDomainDiskDefListParseString(xml, &disks)) < 0) {
        xsnapResetLastError();
        return;
    }
    for (int i = 0; i < nd; i++) {
        const char *want = g_hash_table_lookup(from, disks[i].dst);
        const char *dest = g_hash_table_lookup(to, disks[i].dst);

        if (!want || !dest || !disks[i].path || !xsnapFileSame(disks[i].path, want))
            continue;
        printf(_("  point disk '%1$s' of the persistent config at %2$s (%3$s)\n"),
               disks[i].dst, dest, why);
        g_hash_table_insert(moved, g_strdup(disks[i].dst), g_strdup(dest));
    }
    xsnapDomainDiskDefListFree(disks, (size_t)nd);
    if (ctx->cl->dryRun) {
        g_hash_table_iter_init(&iter, moved);
        while (g_hash_table_iter_next(&iter, &target, &image))
            g_hash_table_insert(ctx->planned, g_strdup(target), g_strdup(image));
        return;
    }
    if (g_hash_table_size(moved) == 0)
        return;
    if (!(newXML = xsnapOpsDomainSetDiskSources(xml, moved, formats))) {
        printf(_("  error: cannot rewrite the config of domain '%1$s': %2$s\n"),
               ctx->domain, xsnapGetLastErrorMessage());
        ctx->failed++;
        return;
    }
    if (!(def = virDomainDefineXML(ctx->cl->conn, newXML))) {
        printf(_("  error: cannot redefine domain '%1$s': %2$s\n"), ctx->domain,
               virGetLastErrorMessage());
        ctx->failed++;
        return;
    }
    virDomainFree(def);
}


/* Lets a domain run that the interrupted create left suspended (memory
 * saved) or paused (disks taken), as it was before. */
static void
vxsWakeDomain(vxsJournalCtx *ctx)
{
    g_autofree char *before = xsnapSnapshotJournalGet(ctx->journal, NULL, "state");
    bool wasPaused = g_strcmp0(before, "paused") == 0;

    if (!ctx->dom)
        return;
    if (ctx->state == VIR_DOMAIN_PMSUSPENDED) {
        printf(_("  wake domain '%1$s' up: the memory save left it suspended\n"), ctx->domain);
        if (!ctx->cl->dryRun && virDomainPMWakeup(ctx->dom, 0) < 0) {
            printf(_("  error: cannot wake domain '%1$s' up (%2$s); run 'virsh dompmwakeup %1$s'\n"),
                   ctx->domain, virGetLastErrorMessage());
            ctx->failed++;
            return;
        }
        if (wasPaused) {
            printf(_("  pause domain '%1$s' again, as it was before the snapshot\n"), ctx->domain);
            if (!ctx->cl->dryRun && virDomainSuspend(ctx->dom) < 0) {
                printf(_("  error: cannot pause domain '%1$s': %2$s\n"),
                       ctx->domain, virGetLastErrorMessage());
                ctx->failed++;
            }
        }
    } else if (ctx->state == VIR_DOMAIN_PAUSED && g_strcmp0(before, "running") == 0) {
        printf(_("  resume domain '%1$s': the snapshot paused it\n"), ctx->domain);
        if (!ctx->cl->dryRun && virDomainResume(ctx->dom) < 0) {
            printf(_("  error: cannot resume domain '%1$s': %2$s\n"),
                   ctx->domain, virGetLastErrorMessage());
            ctx->failed++;
        }
    }
}


/*
 * An interrupted create is rolled back: the snapshot never got its
 * metadata, so its memory image, overlays and internal snapshots go.
 * Once the disks were taken, the device model writes to the new
 * overlays, so the persistent config is pointed at them first: they
 * become the disks' images, and stay.
 */
static void
vxsCleanupCreate(vxsJournalCtx *ctx)
{
    g_autofree char *step = xsnapSnapshotJournalGet(ctx->journal, NULL, "step");
    g_autofree char *memory = xsnapSnapshotJournalGet(ctx->journal, NULL, "memory");
    g_autofree char *memCreated = xsnapSnapshotJournalGet(ctx->journal, NULL, "memory-created");
    g_auto(GStrv) targets = xsnapSnapshotJournalTargets(ctx->journal);
    g_autoptr(GHashTable) from = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) to = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    bool disksDone = g_strcmp0(step, "disks-done") == 0 ||
                     g_strcmp0(step, "config-done") == 0;

    if (xsnapSnapshotObjListFindByName(ctx->list, ctx->snapshot)) {
        printf(_("  snapshot '%1$s' has its metadata: the create completed\n"), ctx->snapshot);
        return;
    }
    for (size_t i = 0; disksDone && targets[i]; i++) {
        char *src = xsnapSnapshotJournalGet(ctx->journal, targets[i], "source");
        char *overlay = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay");

        if (src && overlay && access(overlay, F_OK) == 0) {
            g_hash_table_insert(from, g_strdup(targets[i]), src);
            g_hash_table_insert(to, g_strdup(targets[i]), overlay);
        } else {
            g_free(src);
            g_free(overlay);
        }
    }
    vxsFixConfig(ctx, from, to, NULL,
                 _("the disks were taken: the domain's writes since then are there"));

    if (memory && g_strcmp0(memCreated, "true") == 0)
        vxsRemoveFile(ctx, memory, _("memory image of the interrupted snapshot"));
    for (size_t i = 0; targets[i]; i++) {
        g_autofree char *overlay = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay");
        g_autofree char *created = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay-created");
        g_autofree char *internal = xsnapSnapshotJournalGet(ctx->journal, targets[i], "internal");
        g_autofree char *src = xsnapSnapshotJournalGet(ctx->journal, targets[i], "source");
        g_autofree char *node = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay-node");

        if (overlay && g_strcmp0(created, "true") == 0) {
            bool closing = node && !disksDone &&
                           vxsDropOverlayNode(ctx, node, overlay, src);

            vxsRemoveFileFull(ctx, overlay, _("overlay of the interrupted snapshot"),
                              closing);
        }
        if (internal && src)
            vxsDeleteInternal(ctx, targets[i], src, internal);
    }
    vxsWakeDomain(ctx);
}


/*
 * An interrupted revert: overlays it made that the config does not use
 * go. A revert that got as far as the domain's new state only missed
 * marking the snapshot current, which is done; otherwise the domain is
 * left as it is, and the revert can simply be run again.
 */
static void
vxsCleanupRevert(vxsJournalCtx *ctx)
{
    g_autofree char *step = xsnapSnapshotJournalGet(ctx->journal, NULL, "step");
    g_autofree char *before = xsnapSnapshotJournalGet(ctx->journal, NULL, "state");
    g_auto(GStrv) targets = xsnapSnapshotJournalTargets(ctx->journal);
    xsnapSnapshotObj *obj = xsnapSnapshotObjListFindByName(ctx->list, ctx->snapshot);

    for (size_t i = 0; targets[i]; i++) {
        g_autofree char *overlay = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay");
        g_autofree char *created = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay-created");

        if (overlay && g_strcmp0(created, "true") == 0)
            vxsRemoveFile(ctx, overlay, _("overlay made by the interrupted revert"));
    }
    if (g_strcmp0(step, "domain-done") == 0 && obj &&
        xsnapSnapshotObjListGetCurrent(ctx->list) != obj) {
        printf(_("  mark snapshot '%1$s' current: the revert completed but for this\n"),
               ctx->snapshot);
        if (!ctx->cl->dryRun &&
            xsnapSnapshotStoreSetCurrent(ctx->cl->store, ctx->domain, ctx->list, obj) < 0) {
            printf(_("  error: %1$s\n"), xsnapGetLastErrorMessage());
            xsnapResetLastError();
            ctx->failed++;
        }
    } else if (g_strcmp0(step, "domain-done") != 0 && ctx->state == VIR_DOMAIN_SHUTOFF &&
               g_strcmp0(before, "shutoff") != 0) {
        printf(_("  note: the interrupted revert left domain '%1$s' shut off; revert again with 'virsh snapshot-revert %1$s %2$s'\n"),
               ctx->domain, ctx->snapshot);
    }
}


/*
 * An interrupted delete. Once every disk's data is gone (internal
 * snapshots deleted, overlays merged) it is completed: the config
 * follows the merges, then the metadata, the memory image and the
 * merged overlays go. Before that nothing was changed but perhaps some
 * disks, and the delete can be run again.
 */
static void
vxsCleanupDelete(vxsJournalCtx *ctx)
{
    g_autofree char *step = xsnapSnapshotJournalGet(ctx->journal, NULL, "step");
    g_autofree char *memory = xsnapSnapshotJournalGet(ctx->journal, NULL, "memory");
    g_auto(GStrv) targets = xsnapSnapshotJournalTargets(ctx->journal);
    g_autoptr(GHashTable) from = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) to = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) formats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    xsnapSnapshotObj *obj = xsnapSnapshotObjListFindByName(ctx->list, ctx->snapshot);
    size_t done = 0;
    size_t ndisks = g_strv_length(targets);

    for (size_t i = 0; targets[i]; i++) {
        g_autofree char *internal = xsnapSnapshotJournalGet(ctx->journal, targets[i], "internal");
        g_autofree char *src = xsnapSnapshotJournalGet(ctx->journal, targets[i], "source");
        char *overlay = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay");
        char *base = xsnapSnapshotJournalGet(ctx->journal, targets[i], "base");
        char *baseFormat = xsnapSnapshotJournalGet(ctx->journal, targets[i], "base-format");
        g_autofree char *merged = xsnapSnapshotJournalGet(ctx->journal, targets[i], "merged");

        if (internal && src) {
            g_autoptr(xsnapQemuImgInfo) info = xsnapQemuImgGetInfo(src, "qcow2");
            if (info && !xsnapQemuImgInfoHasSnapshot(info, internal))
                done++;
            xsnapResetLastError();
        }
        if (overlay && base && (g_strcmp0(merged, "true") == 0 || access(overlay, F_OK) < 0)) {
            done++;
            g_hash_table_insert(from, g_strdup(targets[i]), g_strdup(overlay));
            g_hash_table_insert(to, g_strdup(targets[i]), g_strdup(base));
            g_hash_table_insert(formats, g_strdup(targets[i]),
                                g_strdup(baseFormat ? baseFormat : "raw"));
        }
        g_free(overlay);
        g_free(base);
        g_free(baseFormat);
    }
    /* A merged overlay is stale or gone: a config still naming it is
     * repaired whatever else happened. */
    vxsFixConfig(ctx, from, to, formats,
                 _("its overlay was merged into it and removed"));

    if (g_strcmp0(step, "data-done") != 0 && (ndisks == 0 || done < ndisks)) {
        if (done > 0)
            printf(_("  note: the delete of snapshot '%1$s' stopped part-way; delete it again with 'virsh snapshot-delete %2$s %1$s'\n"),
                   ctx->snapshot, ctx->domain);
        else
            printf(_("  snapshot '%1$s' was not changed: nothing to clean up\n"), ctx->snapshot);
        return;
    }
    if (obj) {
        printf(_("  remove the metadata of snapshot '%1$s': its disks were already deleted, so the delete is completed\n"),
               ctx->snapshot);
        if (!ctx->cl->dryRun) {
            if (xsnapSnapshotStoreDelete(ctx->cl->store, ctx->domain, ctx->list, obj, 0) < 0) {
                printf(_("  error: %1$s\n"), xsnapGetLastErrorMessage());
                xsnapResetLastError();
                ctx->failed++;
                return;
            }
        } else {
            /* What the dry run reports next is as if it were gone. */
            xsnapSnapshotObjListRemove(ctx->list, obj);
        }
    }
    if (memory)
        vxsRemoveFile(ctx, memory, _("memory image of the deleted snapshot"));
    for (size_t i = 0; targets[i]; i++) {
        g_autofree char *overlay = xsnapSnapshotJournalGet(ctx->journal, targets[i], "overlay");

        if (overlay)
            vxsRemoveFile(ctx, overlay, _("overlay merged by the delete"));
    }
}


static void
vxsJournalCtxClear(vxsJournalCtx *ctx)
{
    xsnapSnapshotJournalFree(ctx->journal);
    g_free(ctx->snapshot);
    if (ctx->dom)
        virDomainFree(ctx->dom);
    xsnapSnapshotObjListFree(ctx->list);
    g_hash_table_unref(ctx->planned);
    g_hash_table_unref(ctx->chains);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(vxsJournalCtx, vxsJournalCtxClear);


/* Cleans up after the operation of journal @path. Returns 0, or -1 when
 * something could not be done (the journal then stays). */
static int
vxsCleanupJournal(vxsCleanup *cl, const char *domain, const char *path)
{
    g_auto(vxsJournalCtx) ctx = { .cl = cl, .domain = domain, .state = -1 };
    g_autoptr(GPtrArray) problems = NULL;
    g_autofree char *op = NULL;
    g_autofree char *step = NULL;

    ctx.planned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ctx.chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
    if (!(ctx.journal = xsnapSnapshotJournalLoad(path))) {
        printf(_("domain '%1$s': %2$s; the journal is left in place\n"), domain,
               xsnapGetLastErrorMessage());
        xsnapResetLastError();
        return -1;
    }
    op = xsnapSnapshotJournalGet(ctx.journal, NULL, "operation");
    step = xsnapSnapshotJournalGet(ctx.journal, NULL, "step");
    ctx.snapshot = xsnapSnapshotJournalGet(ctx.journal, NULL, "snapshot");
    if (!ctx.snapshot) {
        printf(_("domain '%1$s': journal '%2$s' names no snapshot; it is left in place\n"),
               domain, path);
        return -1;
    }
    printf(_("domain '%1$s': interrupted %2$s of snapshot '%3$s' (step %4$s, journal %5$s)\n"),
           domain, op, ctx.snapshot, step ? step : "?", path);

    if (xsnapSnapshotStoreLoad(cl->store, domain, &ctx.list, &problems) < 0) {
        printf(_("  error: %1$s\n"), xsnapGetLastErrorMessage());
        xsnapResetLastError();
        return -1;
    }
    for (size_t i = 0; i < problems->len; i++) {
        xsnapSnapshotStoreProblem *p = g_ptr_array_index(problems, i);

        /* Only journals and leftover temporary files can be worked
         * around; anything else needs a human first. */
        if (p->type != XSNAP_SNAPSHOT_STORE_PROBLEM_INTERRUPTED &&
            p->type != XSNAP_SNAPSHOT_STORE_PROBLEM_TEMP) {
            printf(_("  error: the snapshot metadata has a problem to resolve first: %1$s\n"),
                   p->message);
            return -1;
        }
    }
    if ((ctx.dom = virDomainLookupByName(cl->conn, domain))) {
        if (virDomainGetState(ctx.dom, &ctx.state, NULL, 0) < 0) {
            printf(_("  error: cannot read the state of domain '%1$s': %2$s\n"),
                   domain, virGetLastErrorMessage());
            return -1;
        }
    } else if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
        printf(_("  error: cannot look up domain '%1$s': %2$s\n"), domain,
               virGetLastErrorMessage());
        return -1;
    }

    if (g_str_equal(op, "create"))
        vxsCleanupCreate(&ctx);
    else if (g_str_equal(op, "revert"))
        vxsCleanupRevert(&ctx);
    else
        vxsCleanupDelete(&ctx);

    if (ctx.failed > 0) {
        printf(_("  the journal is kept: run the cleanup again once the errors above are resolved\n"));
        return -1;
    }
    printf(_("  remove journal %1$s\n"), path);
    if (!cl->dryRun && xsnapSnapshotJournalRemove(ctx.journal) < 0) {
        printf(_("  error: %1$s\n"), xsnapGetLastErrorMessage());
        xsnapResetLastError();
        return -1;
    }
    return 0;
}


static int
vxsCleanupDomain(vxsCleanup *cl, const char *domain)
{
    g_autoptr(GPtrArray) journals = xsnapSnapshotJournalList(cl->store, domain);
    int lockFd = -1;
    int ret = 0;
    int rc;

    if (!journals) {
        vxsPrintError();
        return -1;
    }
    if (journals->len == 0) {
        printf(_("domain '%1$s': no interrupted snapshot operation\n"), domain);
        return 0;
    }
    /* An operation that still runs holds this lock: its journal is no
     * leftover. Holding it also keeps new operations out meanwhile. */
    if ((rc = xsnapSnapshotJournalLockDomain(cl->store, domain, &lockFd)) <= 0) {
        if (rc == 0)
            printf(_("domain '%1$s': a snapshot operation is running right now; nothing was done\n"),
                   domain);
        else
            vxsPrintError();
        return -1;
    }
    for (size_t i = 0; i < journals->len; i++) {
        if (vxsCleanupJournal(cl, domain, g_ptr_array_index(journals, i)) < 0)
            ret = -1;
    }
    close(lockFd);
    return ret;
}


static int
vxsCompareNames(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}


/* The domains that have a store directory, sorted. */
static GPtrArray *
vxsStoreDomains(xsnapSnapshotStore *store)
{
    g_autofree char *top = g_build_filename(xsnapSnapshotStoreGetLibDir(store),
                                            "snapshot", NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = g_dir_open(top, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(top, entry, NULL);

        if (entry[0] != '.' && g_file_test(path, G_FILE_TEST_IS_DIR))
            g_ptr_array_add(names, g_strdup(entry));
    }
    g_ptr_array_sort(names, vxsCompareNames);
    return g_steal_pointer(&names);
}


int
vxsCleanupReport(const char *libDir)
{
    g_autoptr(xsnapSnapshotStore) store = xsnapSnapshotStoreNew(libDir);
    g_autoptr(GPtrArray) domains = vxsStoreDomains(store);
    int count = 0;

    for (size_t i = 0; i < domains->len; i++) {
        const char *domain = g_ptr_array_index(domains, i);
        g_autoptr(GPtrArray) journals = xsnapSnapshotJournalList(store, domain);

        for (size_t j = 0; journals && j < journals->len; j++) {
            printf(_("[FAIL] an interrupted snapshot operation of domain '%1$s' left %2$s: see 'virt-xen-snapshot cleanup --dry-run %1$s'\n"),
                   domain, (const char *)g_ptr_array_index(journals, j));
            count++;
        }
        xsnapResetLastError();
    }
    if (count == 0)
        printf("%s\n", _("[ ok ] no interrupted snapshot operation"));
    return count;
}


int
vxsCmdCleanup(int argc, char **argv)
{
    const char *uri = "xen:///system";
    const char *libDir = g_getenv("XSNAP_LIBXL_LIBDIR");
    const char *domain = NULL;
    g_autoptr(xsnapSnapshotStore) store = NULL;
    vxsCleanup cl = { 0 };
    bool all = false;
    int ret = 0;

    if (!libDir || !*libDir)
        libDir = XSNAP_DEFAULT_LIBDIR;
    for (int i = 1; i < argc; i++) {
        if ((g_str_equal(argv[i], "-c") || g_str_equal(argv[i], "--connect")) &&
            i + 1 < argc) {
            uri = argv[++i];
        } else if (g_str_equal(argv[i], "--libdir") && i + 1 < argc) {
            libDir = argv[++i];
        } else if (g_str_equal(argv[i], "--dry-run")) {
            cl.dryRun = true;
        } else if (g_str_equal(argv[i], "--all")) {
            all = true;
        } else if (argv[i][0] != '-' && !domain) {
            domain = argv[i];
        } else {
            printf("%s\n", _("Usage: virt-xen-snapshot cleanup [--dry-run] [-c URI] [--libdir DIR] DOMAIN|--all"));
            return g_str_equal(argv[i], "--help") ? 0 : 2;
        }
    }
    if (!all == !domain) {
        printf("%s\n", _("Usage: virt-xen-snapshot cleanup [--dry-run] [-c URI] [--libdir DIR] DOMAIN|--all"));
        return 2;
    }

    virSetErrorFunc(NULL, vxsSilence);
    if (!(cl.conn = virConnectOpen(uri))) {
        fprintf(stderr, _("virt-xen-snapshot: error: cannot connect to %1$s: %2$s\n"),
                uri, virGetLastErrorMessage());
        return 1;
    }
    store = xsnapSnapshotStoreNew(libDir);
    cl.store = store;
    if (cl.dryRun)
        printf("%s\n", _("dry run: nothing is changed"));
    if (all) {
        g_autoptr(GPtrArray) domains = vxsStoreDomains(store);

        for (size_t i = 0; i < domains->len; i++) {
            if (vxsCleanupDomain(&cl, g_ptr_array_index(domains, i)) < 0)
                ret = 1;
        }
    } else if (vxsCleanupDomain(&cl, domain) < 0) {
        ret = 1;
    }
    virConnectClose(cl.conn);
    return ret;
}
