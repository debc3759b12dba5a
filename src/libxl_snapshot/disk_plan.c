/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disk_plan.c: the disk snapshot engine
 *
 * External snapshots online: we create (or check, with reuse) the qcow2
 * overlay with qemu-img, open it in QEMU with blockdev-add and no backing,
 * then make it the active layer with blockdev-snapshot inside the single
 * transaction. blockdev-snapshot-sync is not used: when the disk's node
 * has no parent (a -blockdev node without a device, as on our simulated
 * host and in some device-model setups) QEMU drops the new overlay right
 * after the transaction, and it would create the file itself, so we could
 * not tell a file we created from one that was there. Creating the file
 * ourselves also reserves its name with O_EXCL first, so an existing file
 * is never overwritten, and undo removes exactly the files we created.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk_plan.h"
#include "qemu_block.h"
#include "qcow2_info.h"
#include "qemu_img.h"
#include "util_error.h"

/* Upper bound of the commit that takes an overlay back. */
#define XSNAP_DISK_UNDO_COMMIT_TIMEOUT_MS (30 * 60 * 1000)

XSNAP_ENUM_IMPL(xsnapDiskSnapshotMode, XSNAP_DISK_SNAPSHOT_LAST,
                "no", "internal", "external");

static xsnapDiskPlanHook testHook;
static void *testHookOpaque;

void
xsnapDiskPlanSetTestHook(xsnapDiskPlanHook hook, void *opaque)
{
    testHook = hook;
    testHookOpaque = opaque;
}


static void
xsnapDiskPlanItemFree(xsnapDiskPlanItem *item)
{
    if (!item)
        return;
    g_free(item->target);
    g_free(item->path);
    g_free(item->format);
    g_free(item->newPath);
    g_free(item->newNode);
    g_free(item->nodeName);
    g_free(item->overlayNode);
    g_free(item);
}


xsnapDiskPlan *
xsnapDiskPlanNew(const char *snapName)
{
    xsnapDiskPlan *plan = g_new0(xsnapDiskPlan, 1);

    plan->snapName = g_strdup(snapName);
    plan->disks = g_ptr_array_new_with_free_func((GDestroyNotify)xsnapDiskPlanItemFree);
    return plan;
}


void
xsnapDiskPlanFree(xsnapDiskPlan *plan)
{
    if (!plan)
        return;
    g_free(plan->snapName);
    g_ptr_array_unref(plan->disks);
    g_free(plan);
}


xsnapDiskPlanItem *
xsnapDiskPlanAddDisk(xsnapDiskPlan *plan, const char *target, const char *path,
                     const char *format, xsnapDiskSnapshotMode mode,
                     const char *newPath, bool reuse)
{
    xsnapDiskPlanItem *item = g_new0(xsnapDiskPlanItem, 1);

    item->target = g_strdup(target);
    item->path = g_strdup(path);
    item->format = g_strdup(format);
    item->mode = mode;
    if (mode == XSNAP_DISK_SNAPSHOT_EXTERNAL) {
        item->newPath = g_strdup(newPath);
        item->reuse = reuse;
        item->newNode = g_strdup_printf("xsnap-%08x-%u", g_random_int(),
                                        plan->disks->len);
    }
    g_ptr_array_add(plan->disks, item);
    return item;
}


const char *
xsnapDiskPlanItemActivePath(const xsnapDiskPlanItem *item)
{
    return item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL ? item->newPath : item->path;
}


xsnapDiskPlanItem *
xsnapDiskPlanGetItem(xsnapDiskPlan *plan, size_t i)
{
    return g_ptr_array_index(plan->disks, i);
}


/* Same file: equal names, or names that resolve to the same file. */
static bool
xsnapDiskSameFile(const char *a, const char *b)
{
    g_autofree char *ra = NULL;
    g_autofree char *rb = NULL;

    if (!a || !b)
        return false;
    if (g_str_equal(a, b))
        return true;
    ra = realpath(a, NULL);
    rb = realpath(b, NULL);
    return ra && rb && g_str_equal(ra, rb);
}


static bool
xsnapPathExists(const char *path)
{
    struct stat sb;

    return lstat(path, &sb) == 0;
}


static int
xsnapDiskPlanValidateItem(xsnapDiskPlan *plan, size_t idx)
{
    xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, idx);

    if (!item->target || !*item->target) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                         _("a disk of the snapshot plan has no target name"));
        return -1;
    }
    for (size_t j = 0; j < idx; j++) {
        xsnapDiskPlanItem *other = xsnapDiskPlanGetItem(plan, j);
        if (g_str_equal(other->target, item->target)) {
            xsnapReportError(VIR_ERR_INVALID_ARG,
                             _("disk '%1$s' appears twice in the snapshot plan"),
                             item->target);
            return -1;
        }
    }
    if (item->mode == XSNAP_DISK_SNAPSHOT_NO)
        return 0;
    if (item->mode < 0 || item->mode >= XSNAP_DISK_SNAPSHOT_LAST) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("disk '%1$s' has an unknown snapshot mode"), item->target);
        return -1;
    }
    if (!item->path || !item->format) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("disk '%1$s' has no image path or format"), item->target);
        return -1;
    }

    if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL) {
        if (!g_str_equal(item->format, "qcow2")) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("internal snapshot of disk '%1$s' needs a qcow2 image, but '%2$s' is '%3$s'"),
                             item->target, item->path, item->format);
            return -1;
        }
        return 0;
    }

    if (!item->newPath || !g_path_is_absolute(item->newPath)) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("external snapshot of disk '%1$s' needs an absolute overlay path"),
                         item->target);
        return -1;
    }
    for (size_t j = 0; j < plan->disks->len; j++) {
        xsnapDiskPlanItem *other = xsnapDiskPlanGetItem(plan, j);
        if (other->path && xsnapDiskSameFile(other->path, item->newPath)) {
            xsnapReportError(VIR_ERR_INVALID_ARG,
                             _("overlay '%1$s' of disk '%2$s' is the image of disk '%3$s'"),
                             item->newPath, item->target, other->target);
            return -1;
        }
        if (j < idx && other->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL &&
            g_str_equal(other->newPath, item->newPath)) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("disks '%1$s' and '%2$s' would both use overlay '%3$s'"),
                             other->target, item->target, item->newPath);
            return -1;
        }
    }
    if (!item->reuse && xsnapPathExists(item->newPath)) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("overlay '%1$s' for disk '%2$s' already exists and is never overwritten; ask to reuse it"),
                         item->newPath, item->target);
        return -1;
    }
    if (item->reuse && !xsnapPathExists(item->newPath)) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("overlay '%1$s' for disk '%2$s' is to be reused but does not exist"),
                         item->newPath, item->target);
        return -1;
    }
    return 0;
}


int
xsnapDiskPlanValidate(xsnapDiskPlan *plan)
{
    if (!plan->snapName || !*plan->snapName) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                         _("the snapshot plan has no snapshot name"));
        return -1;
    }
    for (size_t i = 0; i < plan->disks->len; i++) {
        if (xsnapDiskPlanValidateItem(plan, i) < 0)
            return -1;
    }
    return 0;
}


/* Resolves a backing file name as written in @image. Caller frees. */
static char *
xsnapDiskResolveBacking(const char *image, const char *backing)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(backing))
        return g_strdup(backing);
    dir = g_path_get_dirname(image);
    return g_build_filename(dir, backing, NULL);
}


/* An overlay to reuse must be qcow2 with the disk's image as its backing. */
static int
xsnapDiskCheckReuse(const xsnapDiskPlanItem *item)
{
    g_autoptr(xsnapQemuImgInfo) info = xsnapImageGetInfo(item->newPath, "qcow2");
    g_autofree char *backing = NULL;

    if (!info)
        return -1;
    if (!g_str_equal(info->format, "qcow2")) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                         _("reused overlay '%1$s' of disk '%2$s' is '%3$s', not qcow2"),
                         item->newPath, item->target, info->format);
        return -1;
    }
    if (info->backingFile)
        backing = xsnapDiskResolveBacking(item->newPath, info->backingFile);
    if (!backing || !xsnapDiskSameFile(backing, item->path)) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                         _("reused overlay '%1$s' of disk '%2$s' does not have '%3$s' as its backing file"),
                         item->newPath, item->target, item->path);
        return -1;
    }
    if (!info->backingFormat || !g_str_equal(info->backingFormat, item->format)) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                         _("reused overlay '%1$s' of disk '%2$s' does not declare backing format '%3$s'"),
                         item->newPath, item->target, item->format);
        return -1;
    }
    return 0;
}


/*
 * Reserves @path with O_EXCL so that nothing existing is overwritten and
 * undo knows the file is ours. Returns 0, or -1 with an error.
 */
static int
xsnapDiskReserveFile(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        xsnapReportSystemError(errno, _("cannot create overlay '%1$s'"), path);
        return -1;
    }
    close(fd);
    return 0;
}


/* Creates (or checks, with reuse) the overlay file of an external disk. */
static int
xsnapDiskPrepareOverlay(xsnapDiskPlanItem *item)
{
    if (item->reuse)
        return xsnapDiskCheckReuse(item);
    if (xsnapDiskReserveFile(item->newPath) < 0)
        return -1;
    item->createdFile = true;
    return xsnapQemuImgCreateOverlay(item->newPath, item->path, item->format);
}


static void
xsnapDiskRemoveCreated(xsnapDiskPlanItem *item)
{
    if (item->createdFile) {
        if (unlink(item->newPath) < 0 && errno != ENOENT)
            g_warning("cannot remove overlay '%s': %s", item->newPath,
                      g_strerror(errno));
        item->createdFile = false;
    }
}


/* A new run starts: files and nodes of an earlier run are not its to undo. */
static void
xsnapDiskPlanForget(xsnapDiskPlan *plan)
{
    plan->completed = false;
    plan->ranOnline = false;
    plan->prepared = false;
    for (size_t i = 0; i < plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);

        item->createdFile = false;
        item->done = false;
        g_clear_pointer(&item->overlayNode, g_free);
        /* The node of an earlier run may still be in QEMU under its name. */
        if (plan->used && item->newNode) {
            g_free(item->newNode);
            item->newNode = g_strdup_printf("xsnap-%08x-%zu", g_random_int(), i);
        }
    }
}


/* Checks each disk against what QEMU serves; records node names. */
static int
xsnapDiskPlanMapNodes(xsnapDiskPlan *plan, xsnapBlockNodeList *list)
{
    for (size_t i = 0; i < plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);
        const xsnapBlockNode *node;

        if (item->mode == XSNAP_DISK_SNAPSHOT_NO)
            continue;
        if (!(node = xsnapBlockNodeListFindDisk(list, item->target, item->path)))
            return -1;
        if (node->driver && !g_str_equal(node->driver, item->format)) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("disk '%1$s': QEMU opens image '%2$s' as '%3$s', not '%4$s'"),
                             item->target, item->path, node->driver, item->format);
            return -1;
        }
        if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL &&
            g_strv_contains((const char *const *)node->snapshots, plan->snapName)) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("disk '%1$s' already has an internal snapshot named '%2$s'"),
                             item->target, plan->snapName);
            return -1;
        }
        g_free(item->nodeName);
        item->nodeName = g_strdup(node->nodeName);
    }
    return 0;
}


/*
 * After the monitor broke mid-transaction: if QEMU still answers, its
 * state is unknown to us, so nothing is touched. If it is gone, the
 * images are closed and the undo is done on the files.
 */
static bool
xsnapDiskQemuIsGone(const char *path)
{
    xsnapQemuMonitorConfig cfg;
    xsnapQemuMonitor *mon;
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    xsnapQemuMonitorConfigInit(&cfg);
    cfg.connectTimeoutMs = 500;
    cfg.commandTimeoutMs = 2000;
    mon = xsnapQemuMonitorOpen(path, &cfg);
    xsnapQemuMonitorClose(mon);
    xsnapRestoreLastError(g_steal_pointer(&saved));
    return mon == NULL;
}


static void
xsnapDiskPlanUndoOnline(xsnapDiskPlan *plan, xsnapQemuMonitor *mon,
                        bool transactionSent)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();
    bool broken = xsnapQemuMonitorIsBroken(mon);
    bool gone = broken && xsnapDiskQemuIsGone(xsnapQemuMonitorGetPath(mon));

    for (size_t k = plan->disks->len; k > 0; k--) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, k - 1);

        if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL && transactionSent && gone) {
            /* QEMU may have written the snapshot before it died. */
            g_autoptr(xsnapQemuImgInfo) info = xsnapQemuImgGetInfo(item->path, "qcow2");
            if (info && xsnapQemuImgInfoHasSnapshot(info, plan->snapName))
                xsnapQemuImgSnapshot(XSNAP_QEMU_IMG_SNAPSHOT_DELETE, item->path,
                                     plan->snapName);
        }
        if (item->mode != XSNAP_DISK_SNAPSHOT_EXTERNAL)
            continue;
        if (item->overlayNode && !broken)
            xsnapQemuBlockdevDel(mon, item->overlayNode);
        g_clear_pointer(&item->overlayNode, g_free);
        if (!broken || gone)
            xsnapDiskRemoveCreated(item);
        else if (item->createdFile)
            g_warning("QEMU state unknown, keeping overlay '%s'", item->newPath);
    }
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


static int
xsnapDiskPlanQueryNodes(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    g_autoptr(xsnapBlockNodeList) list = NULL;

    if (!(list = xsnapQemuBlockQuery(mon)) ||
        xsnapDiskPlanMapNodes(plan, list) < 0)
        return -1;
    return 0;
}


int
xsnapDiskPlanMapOnline(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    if (xsnapDiskPlanValidate(plan) < 0 ||
        xsnapDiskPlanQueryNodes(plan, mon) < 0)
        return -1;
    plan->mapped = true;
    return 0;
}


/* Waits for every started overlay creation; returns 0 or -1 with the first error. */
static int
xsnapDiskWaitCreates(GPtrArray *cmds)
{
    g_autoptr(xsnapError) first = NULL;

    for (size_t i = 0; i < cmds->len; i++) {
        xsnapCommand *cmd = g_ptr_array_index(cmds, i);

        if (cmd && xsnapCommandWait(cmd, NULL) < 0 && !first)
            first = xsnapSaveLastError();
        g_ptr_array_index(cmds, i) = NULL;
    }
    if (first) {
        xsnapRestoreLastError(g_steal_pointer(&first));
        return -1;
    }
    return 0;
}


int
xsnapDiskPlanPrepareOnline(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new();
    g_autoptr(xsnapError) saved = NULL;

    if (xsnapDiskPlanValidate(plan) < 0)
        return -1;
    xsnapDiskPlanForget(plan);
    plan->used = true;

    /* The overlays' qemu-img processes run side by side, and alongside
     * the block-graph queries: each name is reserved with O_EXCL first,
     * so what fails later only ever removes files made here. */
    for (size_t i = 0; i < plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);
        xsnapCommand *cmd;

        if (item->mode != XSNAP_DISK_SNAPSHOT_EXTERNAL || item->reuse)
            continue;
        if (xsnapDiskReserveFile(item->newPath) < 0)
            goto error;
        item->createdFile = true;
        if (!(cmd = xsnapQemuImgCreateOverlayStart(item->newPath, item->path,
                                                   item->format)))
            goto error;
        g_ptr_array_add(cmds, cmd);
    }
    if (!plan->mapped && xsnapDiskPlanQueryNodes(plan, mon) < 0)
        goto error;
    /* A mapping made beforehand serves one run only. */
    plan->mapped = false;
    if (xsnapDiskWaitCreates(cmds) < 0)
        goto error;

    for (size_t i = 0; i < plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);

        if (item->mode != XSNAP_DISK_SNAPSHOT_EXTERNAL)
            continue;
        if ((item->reuse && xsnapDiskCheckReuse(item) < 0) ||
            xsnapQemuBlockdevAddOverlay(mon, item->newNode, item->newPath) < 0)
            goto error;
        item->overlayNode = g_strdup(item->newNode);
    }
    plan->prepared = true;
    return 0;

 error:
    saved = xsnapSaveLastError();
    xsnapDiskWaitCreates(cmds);
    plan->mapped = false;
    xsnapRestoreLastError(g_steal_pointer(&saved));
    xsnapDiskPlanUndoOnline(plan, mon, false);
    return -1;
}


void
xsnapDiskPlanAbandon(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    if (!plan->prepared)
        return;
    for (size_t k = plan->disks->len; k > 0; k--) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, k - 1);

        if (item->mode != XSNAP_DISK_SNAPSHOT_EXTERNAL)
            continue;
        /* No disk uses the node yet, so with QEMU out of reach it is
         * only an open file nobody reads: the file can go either way. */
        if (item->overlayNode && mon && !xsnapQemuMonitorIsBroken(mon) &&
            xsnapQemuBlockdevDel(mon, item->overlayNode) < 0)
            g_warning("cannot remove node '%s' of overlay '%s': %s",
                      item->overlayNode, item->newPath, xsnapGetLastErrorMessage());
        g_clear_pointer(&item->overlayNode, g_free);
        xsnapDiskRemoveCreated(item);
    }
    plan->prepared = false;
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


int
xsnapDiskPlanRunOnlineStart(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    json_object *actions = NULL;
    size_t nActions = 0;

    plan->sent = false;
    if (!plan->prepared && xsnapDiskPlanPrepareOnline(plan, mon) < 0)
        return -1;
    /* The transaction takes the prepared overlays, or undoes them. */
    plan->prepared = false;

    if (testHook)
        testHook(plan, testHookOpaque);

    actions = json_object_new_array();
    for (size_t i = 0; i < plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);

        if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL)
            json_object_array_add(actions,
                                  xsnapQemuActionSnapshotInternal(item->nodeName,
                                                                  plan->snapName));
        else if (item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL)
            json_object_array_add(actions,
                                  xsnapQemuActionSnapshotExternal(item->nodeName,
                                                                  item->overlayNode));
        else
            continue;
        nActions++;
    }
    if (nActions == 0) {
        json_object_put(actions);
        return 0;
    }
    if (xsnapQemuTransactionStart(mon, actions) < 0) {
        xsnapDiskPlanUndoOnline(plan, mon, true);
        return -1;
    }
    plan->sent = true;
    return 0;
}


int
xsnapDiskPlanRunOnlineFinish(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    if (!plan->sent)
        return 0;
    plan->sent = false;
    if (xsnapQemuTransactionFinish(mon) < 0) {
        xsnapDiskPlanUndoOnline(plan, mon, true);
        return -1;
    }
    plan->completed = true;
    plan->ranOnline = true;
    return 0;
}


int
xsnapDiskPlanRunOnline(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    if (xsnapDiskPlanRunOnlineStart(plan, mon) < 0)
        return -1;
    return xsnapDiskPlanRunOnlineFinish(plan, mon);
}


/* Checks what qemu-img sees against the plan, before anything changes. */
static int
xsnapDiskPlanCheckOffline(xsnapDiskPlan *plan)
{
    for (size_t i = 0; i < plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);
        g_autoptr(xsnapQemuImgInfo) info = NULL;

        if (item->mode == XSNAP_DISK_SNAPSHOT_NO)
            continue;
        /* Never probe: a guest can make a raw image look like anything.
         * The image's own header answers for qcow2 and raw, without a
         * second qemu-img process (qcow2_info.h). */
        if (!(info = xsnapImageGetInfo(item->path, item->format)))
            return -1;
        if (!g_str_equal(info->format, item->format)) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("disk '%1$s': image '%2$s' is '%3$s', not '%4$s'"),
                             item->target, item->path, info->format, item->format);
            return -1;
        }
        if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL &&
            xsnapQemuImgInfoHasSnapshot(info, plan->snapName)) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("disk '%1$s' already has an internal snapshot named '%2$s'"),
                             item->target, plan->snapName);
            return -1;
        }
        if (item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL && item->reuse &&
            xsnapDiskCheckReuse(item) < 0)
            return -1;
    }
    return 0;
}


static void
xsnapDiskPlanUndoOffline(xsnapDiskPlan *plan)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();

    for (size_t k = plan->disks->len; k > 0; k--) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, k - 1);

        if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL && item->done)
            xsnapQemuImgSnapshot(XSNAP_QEMU_IMG_SNAPSHOT_DELETE, item->path,
                                 plan->snapName);
        if (item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL)
            xsnapDiskRemoveCreated(item);
        item->done = false;
    }
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


int
xsnapDiskPlanRunOffline(xsnapDiskPlan *plan)
{
    if (xsnapDiskPlanValidate(plan) < 0)
        return -1;
    xsnapDiskPlanForget(plan);
    if (xsnapDiskPlanCheckOffline(plan) < 0)
        return -1;

    for (size_t i = 0; i < plan->disks->len; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);
        int rc = 0;

        if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL)
            rc = xsnapQemuImgSnapshot(XSNAP_QEMU_IMG_SNAPSHOT_CREATE, item->path,
                                      plan->snapName);
        else if (item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL)
            rc = xsnapDiskPrepareOverlay(item);
        if (rc < 0) {
            xsnapDiskPlanUndoOffline(plan);
            return -1;
        }
        item->done = true;
    }
    plan->completed = true;
    plan->ranOnline = false;
    return 0;
}


/* Takes back one disk of a completed plan; see xsnapDiskPlanUndo. */
static int
xsnapDiskPlanUndoItem(xsnapDiskPlan *plan, xsnapDiskPlanItem *item,
                      xsnapQemuMonitor *mon)
{
    if (item->mode == XSNAP_DISK_SNAPSHOT_INTERNAL) {
        if (xsnapDiskDeleteInternal(mon, item->target, item->path,
                                    plan->snapName) < 0) {
            if (xsnapGetLastErrorCode() != VIR_ERR_NO_DOMAIN_SNAPSHOT)
                return -1;
            xsnapResetLastError();
        }
        return 0;
    }
    if (item->mode != XSNAP_DISK_SNAPSHOT_EXTERNAL)
        return 0;
    /* Online the guest may have written to the overlay since: those
     * writes belong to the disk, so they are merged, never dropped. */
    if (plan->ranOnline &&
        xsnapDiskCommit(mon, item->target, item->newPath, NULL, item->path,
                        XSNAP_DISK_UNDO_COMMIT_TIMEOUT_MS, NULL, NULL) < 0)
        return -1;
    g_clear_pointer(&item->overlayNode, g_free);
    xsnapDiskRemoveCreated(item);
    return 0;
}


int
xsnapDiskPlanUndo(xsnapDiskPlan *plan, xsnapQemuMonitor *mon)
{
    g_autoptr(xsnapError) first = NULL;

    if (!plan->completed)
        return 0;
    for (size_t k = plan->disks->len; k > 0; k--) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, k - 1);

        if (xsnapDiskPlanUndoItem(plan, item, mon) < 0 && !first)
            first = xsnapSaveLastError();
    }
    if (first) {
        xsnapRestoreLastError(g_steal_pointer(&first));
        return -1;
    }
    plan->completed = false;
    return 0;
}


int
xsnapDiskDeleteInternal(xsnapQemuMonitor *mon, const char *target,
                        const char *path, const char *name)
{
    g_autoptr(xsnapBlockNodeList) list = NULL;
    const xsnapBlockNode *node;

    if (!mon) {
        g_autoptr(xsnapQemuImgInfo) info = xsnapQemuImgGetInfo(path, "qcow2");
        if (!info)
            return -1;
        if (!xsnapQemuImgInfoHasSnapshot(info, name)) {
            xsnapReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT,
                             _("disk '%1$s' has no internal snapshot named '%2$s'"),
                             target, name);
            return -1;
        }
        return xsnapQemuImgSnapshot(XSNAP_QEMU_IMG_SNAPSHOT_DELETE, path, name);
    }

    if (!(list = xsnapQemuBlockQuery(mon)) ||
        !(node = xsnapBlockNodeListFindDisk(list, target, path)))
        return -1;
    if (!g_strv_contains((const char *const *)node->snapshots, name)) {
        xsnapReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT,
                         _("disk '%1$s' has no internal snapshot named '%2$s'"),
                         target, name);
        return -1;
    }
    return xsnapQemuSnapshotDeleteInternal(mon, node->nodeName, name);
}


typedef struct _xsnapDiskLayer xsnapDiskLayer;
struct _xsnapDiskLayer {
    char *path;
    char *format;
};

static void
xsnapDiskLayerFree(xsnapDiskLayer *layer)
{
    g_free(layer->path);
    g_free(layer->format);
    g_free(layer);
}


/*
 * The backing chain of the qcow2 image @activePath, top first, read
 * with qemu-img using each image's declared backing format (no probing).
 */
static GPtrArray *
xsnapDiskChainWalk(const char *activePath)
{
    g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func((GDestroyNotify)xsnapDiskLayerFree);
    g_autofree char *cur = g_strdup(activePath);
    g_autofree char *fmt = g_strdup("qcow2");

    while (cur) {
        g_autoptr(xsnapQemuImgInfo) info = NULL;
        xsnapDiskLayer *layer;

        if (chain->len >= 256) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("backing chain of '%1$s' is too long"), activePath);
            return NULL;
        }
        if (!(info = xsnapQemuImgGetInfo(cur, fmt)))
            return NULL;
        layer = g_new0(xsnapDiskLayer, 1);
        layer->path = g_steal_pointer(&cur);
        layer->format = g_steal_pointer(&fmt);
        g_ptr_array_add(chain, layer);
        if (!info->backingFile)
            break;
        if (!info->backingFormat) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("image '%1$s' does not declare the format of its backing file '%2$s'"),
                             layer->path, info->backingFile);
            return NULL;
        }
        cur = xsnapDiskResolveBacking(layer->path, info->backingFile);
        fmt = g_strdup(info->backingFormat);
    }
    return g_steal_pointer(&chain);
}


static int
xsnapDiskChainFind(GPtrArray *chain, const char *path)
{
    for (size_t i = 0; i < chain->len; i++) {
        xsnapDiskLayer *layer = g_ptr_array_index(chain, i);
        if (xsnapDiskSameFile(layer->path, path))
            return (int)i;
    }
    return -1;
}


static int
xsnapDiskCommitOffline(const char *target, const char *activePath,
                       const char *top, const char *base)
{
    g_autoptr(GPtrArray) chain = NULL;
    xsnapDiskLayer *baseLayer;
    xsnapDiskLayer *above;
    int iTop;
    int iBase;

    if (!(chain = xsnapDiskChainWalk(activePath)))
        return -1;
    iTop = top ? xsnapDiskChainFind(chain, top) : 0;
    iBase = xsnapDiskChainFind(chain, base);
    if (iTop < 0 || iBase <= iTop) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("images '%1$s' and '%2$s' are not in that order in the backing chain of disk '%3$s'"),
                         top ? top : activePath, base, target);
        return -1;
    }
    baseLayer = g_ptr_array_index(chain, iBase);
    if (xsnapQemuImgCommit(((xsnapDiskLayer *)g_ptr_array_index(chain, iTop))->path,
                           baseLayer->path) < 0)
        return -1;
    if (iTop == 0)
        return 0;
    /* The data of @top is in @base now, so a metadata-only rebase is safe. */
    above = g_ptr_array_index(chain, iTop - 1);
    return xsnapQemuImgRebase(above->path, baseLayer->path, baseLayer->format, true);
}


/* Cancels a job and dismisses it once it concluded, keeping the caller's error. */
static void
xsnapDiskJobAbandon(xsnapQemuMonitor *mon, const char *jobId)
{
    g_autoptr(xsnapError) saved = xsnapSaveLastError();
    xsnapQemuJobInfo info = { 0 };

    if (xsnapQemuJobCancel(mon, jobId) == 0) {
        for (int i = 0; i < 250; i++) {
            if (xsnapQemuJobQuery(mon, jobId, &info) != 1)
                break;
            if (g_str_equal(info.status, "concluded")) {
                xsnapQemuJobDismiss(mon, jobId);
                break;
            }
            g_usleep(20 * 1000);
        }
    }
    xsnapQemuJobInfoClear(&info);
    xsnapRestoreLastError(g_steal_pointer(&saved));
}


int
xsnapDiskCommit(xsnapQemuMonitor *mon, const char *target,
                const char *activePath, const char *top, const char *base,
                unsigned int timeoutMs,
                xsnapDiskProgressFunc progress, void *opaque)
{
    g_autoptr(xsnapBlockNodeList) list = NULL;
    g_autofree char *jobId = NULL;
    g_autofree char *deviceNode = NULL;
    g_autofree char *topNode = NULL;
    const xsnapBlockNode *active;
    const xsnapBlockNode *baseNode;
    const xsnapBlockNode *topObj = NULL;
    xsnapQemuJobInfo info = { 0 };
    gint64 deadline = g_get_monotonic_time() + (gint64)timeoutMs * 1000;
    bool isActive = !top || xsnapDiskSameFile(top, activePath);
    bool completed = false;
    int ret = -1;

    if (!mon)
        return xsnapDiskCommitOffline(target, activePath, top, base);

    if (!(list = xsnapQemuBlockQuery(mon)) ||
        !(active = xsnapBlockNodeListFindDisk(list, target, activePath)))
        return -1;
    if (!isActive && !(topObj = xsnapBlockNodeListFindImage(list, top))) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("image '%1$s' is not in the backing chain of disk '%2$s'"),
                         top, target);
        return -1;
    }
    if (!(baseNode = xsnapBlockNodeListFindImage(list, base))) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("image '%1$s' is not in the backing chain of disk '%2$s'"),
                         base, target);
        return -1;
    }
    deviceNode = g_strdup(active->nodeName);
    topNode = g_strdup(topObj ? topObj->nodeName : NULL);
    jobId = g_strdup_printf("xsnap-commit-%s", target);

    if (xsnapQemuBlockCommit(mon, jobId, deviceNode, topNode, baseNode->nodeName) < 0)
        return -1;

    for (;;) {
        int found = xsnapQemuJobQuery(mon, jobId, &info);
        xsnapDiskJobProgress p;

        if (found < 0)
            goto cleanup;
        if (found == 0) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("commit job of disk '%1$s' vanished"), target);
            goto cleanup;
        }
        p.target = target;
        p.jobId = jobId;
        p.status = info.status;
        p.current = info.current;
        p.total = info.total;
        if (progress)
            progress(&p, opaque);

        if (g_str_equal(info.status, "concluded"))
            break;
        if (isActive && !completed && g_str_equal(info.status, "ready")) {
            if (xsnapQemuJobComplete(mon, jobId) < 0)
                goto cleanup;
            completed = true;
            continue;
        }
        if (g_get_monotonic_time() >= deadline) {
            xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                             _("commit of disk '%1$s' did not finish in %2$u ms; cancelled"),
                             target, timeoutMs);
            xsnapDiskJobAbandon(mon, jobId);
            goto cleanup;
        }
        g_usleep(20 * 1000);
    }

    if (info.error) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("commit of disk '%1$s' failed: %2$s"), target, info.error);
        xsnapQemuJobDismiss(mon, jobId);
        goto cleanup;
    }
    if (xsnapQemuJobDismiss(mon, jobId) < 0)
        goto cleanup;

    /*
     * Nodes we opened with blockdev-add stay until deleted; nodes QEMU
     * opened itself go away with their last user and refuse blockdev-del,
     * which is fine.
     */
    if (xsnapQemuBlockdevDel(mon, isActive ? deviceNode : topNode) < 0) {
        if (xsnapQemuMonitorIsBroken(mon))
            goto cleanup;
        xsnapResetLastError();
    }
    ret = 0;

 cleanup:
    xsnapQemuJobInfoClear(&info);
    return ret;
}


char *
xsnapDiskOverlayPathDefault(const char *source, const char *snapName)
{
    const char *slash = strrchr(source, '/');
    const char *dot = strrchr(source, '.');
    size_t len = strlen(source);

    if (dot && (!slash || dot > slash))
        len = (size_t)(dot - source);
    return g_strdup_printf("%.*s.%s", (int)len, source, snapName);
}


int
xsnapDiskRevertInternal(const char *path, const char *name)
{
    g_autoptr(xsnapQemuImgInfo) info = xsnapQemuImgGetInfo(path, "qcow2");

    if (!info)
        return -1;
    if (!xsnapQemuImgInfoHasSnapshot(info, name)) {
        xsnapReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT,
                         _("image '%1$s' has no internal snapshot named '%2$s'"),
                         path, name);
        return -1;
    }
    return xsnapQemuImgSnapshot(XSNAP_QEMU_IMG_SNAPSHOT_APPLY, path, name);
}


char *
xsnapDiskRevertExternal(const char *snapImage, const char *snapFormat,
                        const char *source, const char *snapName)
{
    g_autofree char *stem = xsnapDiskOverlayPathDefault(source, snapName);
    g_autofree char *path = NULL;
    unsigned int n;

    for (n = 0; n < 1000; n++) {
        int fd;

        g_free(path);
        path = n == 0 ? g_strdup(stem) : g_strdup_printf("%s-%u", stem, n);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            break;
        }
        if (errno != EEXIST) {
            xsnapReportSystemError(errno, _("cannot create overlay '%1$s'"), path);
            return NULL;
        }
    }
    if (n == 1000) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("no free overlay name left for '%1$s'"), stem);
        return NULL;
    }
    if (xsnapQemuImgCreateOverlay(path, snapImage, snapFormat) < 0) {
        unlink(path);
        return NULL;
    }
    return g_steal_pointer(&path);
}
