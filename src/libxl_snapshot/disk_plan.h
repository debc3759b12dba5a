/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disk_plan.h: the disk snapshot engine
 *
 * One plan per snapshot lists every disk of the domain. Online, the plan
 * runs as ONE QMP transaction through the device model; offline, through
 * qemu-img. Either way it completes, or leaves every image exactly as it
 * was and removes every file it created (and only those).
 */
#pragma once

#include "qemu_monitor.h"

typedef enum {
    XSNAP_DISK_SNAPSHOT_NO,
    XSNAP_DISK_SNAPSHOT_INTERNAL,
    XSNAP_DISK_SNAPSHOT_EXTERNAL,

    XSNAP_DISK_SNAPSHOT_LAST
} xsnapDiskSnapshotMode;

XSNAP_ENUM_DECL(xsnapDiskSnapshotMode);

typedef struct _xsnapDiskPlanItem xsnapDiskPlanItem;
struct _xsnapDiskPlanItem {
    char *target;         /* guest device, e.g. "xvda" */
    char *path;           /* current active image */
    char *format;         /* its format: "raw", "qcow2", ... */
    xsnapDiskSnapshotMode mode;
    char *newPath;        /* external: the new overlay */
    bool reuse;           /* external: @newPath exists and is to be used */
    char *newNode;        /* external, online: the node name @newPath will get
                           * (chosen when the disk is added, so that it can be
                           * recorded before anything is made) */

    /* Filled while the plan runs. */
    char *nodeName;       /* online: QEMU node of @path */
    char *overlayNode;    /* online: QEMU node of @newPath */
    bool createdFile;     /* we created @newPath, so undo removes it */
    bool done;            /* offline: this disk's step completed */
};

typedef struct _xsnapDiskPlan xsnapDiskPlan;
struct _xsnapDiskPlan {
    char *snapName;
    GPtrArray *disks;     /* xsnapDiskPlanItem * */
    bool completed;       /* the last run succeeded, so xsnapDiskPlanUndo applies */
    bool ranOnline;       /* ... and it ran through QMP */
    bool mapped;          /* nodes found by xsnapDiskPlanMapOnline, for the next run */
    bool prepared;        /* overlays made and opened by xsnapDiskPlanPrepareOnline */
    bool used;            /* prepared once: a new run picks new node names */
    bool sent;            /* the transaction is out, its reply not read yet */
};

/* Test hook, called online after the preparation, just before the transaction. */
typedef void (*xsnapDiskPlanHook)(xsnapDiskPlan *plan, void *opaque);
void xsnapDiskPlanSetTestHook(xsnapDiskPlanHook hook, void *opaque);

/* Returns a new empty plan for snapshot @snapName. */
xsnapDiskPlan *xsnapDiskPlanNew(const char *snapName);
void xsnapDiskPlanFree(xsnapDiskPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapDiskPlan, xsnapDiskPlanFree);

/*
 * Adds one disk. @newPath is required for EXTERNAL (see
 * xsnapDiskOverlayPathDefault) and ignored otherwise. Strings are copied.
 * Returns a borrowed pointer to the new item.
 */
xsnapDiskPlanItem *xsnapDiskPlanAddDisk(xsnapDiskPlan *plan, const char *target,
                                        const char *path, const char *format,
                                        xsnapDiskSnapshotMode mode,
                                        const char *newPath, bool reuse);

/* The @i-th disk of @plan; borrowed. */
xsnapDiskPlanItem *xsnapDiskPlanGetItem(xsnapDiskPlan *plan, size_t i);

/*
 * Checks the plan without touching anything: modes against formats
 * (internal needs qcow2), absolute and distinct overlay paths, existing
 * targets only with reuse, no duplicate targets. Returns 0 or -1.
 */
int xsnapDiskPlanValidate(xsnapDiskPlan *plan);

/*
 * Reads the block graph of the running device model behind @mon and
 * finds each disk's node, checking formats and internal snapshot names,
 * so that the next xsnapDiskPlanRunOnline (on another connection to the
 * same device model) does not read it again: create does this before it
 * suspends the guest. Returns 0 or -1.
 */
int xsnapDiskPlanMapOnline(xsnapDiskPlan *plan, xsnapQemuMonitor *mon);

/*
 * Does everything of an online run that can come before the guest is
 * stopped: maps the disks (unless xsnapDiskPlanMapOnline just did),
 * creates each external overlay (or checks it, with reuse) and opens
 * it in the device model behind @mon with blockdev-add, no disk using
 * it yet. The next xsnapDiskPlanRunOnline, on any connection to the
 * same device model, then sends the transaction only. On failure what
 * it made is removed and -1 is returned; on success, until that run,
 * xsnapDiskPlanAbandon takes it back. Returns 0 or -1.
 */
int xsnapDiskPlanPrepareOnline(xsnapDiskPlan *plan, xsnapQemuMonitor *mon);

/*
 * Takes back a prepared plan that will not run: removes each overlay
 * node through @mon (when non-NULL and usable) and each overlay file
 * the plan created, never another. No disk uses them yet, so this is
 * safe whether or not QEMU can be reached. Keeps the caller's error.
 */
void xsnapDiskPlanAbandon(xsnapDiskPlan *plan, xsnapQemuMonitor *mon);

/*
 * Runs the plan on the running device model behind @mon as one
 * transaction, preparing it first unless xsnapDiskPlanPrepareOnline
 * did. On success each external disk's active image is its newPath.
 * On failure every added node and created file is removed and -1 is
 * returned with the first error.
 */
int xsnapDiskPlanRunOnline(xsnapDiskPlan *plan, xsnapQemuMonitor *mon);

/*
 * xsnapDiskPlanRunOnline in two halves, so that the caller can check the
 * domain while QEMU runs the transaction: Start sends it, Finish reads
 * its reply (and undoes the plan if it failed). After a successful
 * Start, Finish must be called on the same @mon. Both return 0 or -1.
 */
int xsnapDiskPlanRunOnlineStart(xsnapDiskPlan *plan, xsnapQemuMonitor *mon);
int xsnapDiskPlanRunOnlineFinish(xsnapDiskPlan *plan, xsnapQemuMonitor *mon);

/* Same contract, offline through qemu-img (the domain is not running). */
int xsnapDiskPlanRunOffline(xsnapDiskPlan *plan);

/*
 * Takes back a plan that completed, for an operation that failed after
 * its disks were taken. Internal snapshots are deleted. An external
 * overlay the plan put under a running disk is merged back into the
 * previous image by an active commit and pivot, so writes the guest
 * made since are kept, and its node is removed; the overlay file is
 * removed only if the plan created it (never with reuse). With @mon
 * NULL all of this is done on the files with qemu-img, for a domain
 * that no longer runs; a plan that ran offline never needs @mon except
 * to reach the internal snapshots of a domain started since. Every disk
 * is tried; returns 0, or -1 with the first error.
 */
int xsnapDiskPlanUndo(xsnapDiskPlan *plan, xsnapQemuMonitor *mon);

/*
 * The image each disk uses after the plan ran: newPath for external
 * disks, else path. Borrowed.
 */
const char *xsnapDiskPlanItemActivePath(const xsnapDiskPlanItem *item);

/* Progress of a block job, passed to the caller's callback while polling. */
typedef struct _xsnapDiskJobProgress xsnapDiskJobProgress;
struct _xsnapDiskJobProgress {
    const char *target;
    const char *jobId;
    const char *status;        /* QEMU job status */
    unsigned long long current;
    unsigned long long total;
};
typedef void (*xsnapDiskProgressFunc)(const xsnapDiskJobProgress *progress,
                                      void *opaque);

/*
 * Deletes internal snapshot @name of disk @target whose image is @path:
 * online through blockdev-snapshot-delete-internal-sync when @mon is
 * non-NULL, else with qemu-img snapshot -d. Returns 0 or -1.
 */
int xsnapDiskDeleteInternal(xsnapQemuMonitor *mon, const char *target,
                            const char *path, const char *name);

/*
 * Merges an external snapshot: commits image @top into @base.
 * @activePath is the disk's active image. When @top is the active image
 * (or NULL), this is an active commit: the job is driven to ready, then
 * completed (pivot) so the disk runs on @base and @top is unused; the
 * node of @top is removed from QEMU. Otherwise @top is committed into
 * @base and dropped from the chain. Offline (@mon NULL) qemu-img commit
 * does the same on the files. @timeoutMs bounds the job.
 * Returns 0 or -1.
 */
int xsnapDiskCommit(xsnapQemuMonitor *mon, const char *target,
                    const char *activePath, const char *top, const char *base,
                    unsigned int timeoutMs,
                    xsnapDiskProgressFunc progress, void *opaque);

/*
 * libvirt's default name of an external overlay: @source with everything
 * from the last '.' of its file name dropped, then ".<snapName>".
 * Caller frees.
 */
char *xsnapDiskOverlayPathDefault(const char *source, const char *snapName);

/* Reverts disk image @path to its internal snapshot @name (offline). */
int xsnapDiskRevertInternal(const char *path, const char *name);

/*
 * Reverts to an external snapshot (offline): creates a fresh qcow2
 * overlay over @snapImage (the image that was the backing when the
 * snapshot was taken, of format @snapFormat), named after @source by
 * xsnapDiskOverlayPathDefault; if that name is taken, "-1", "-2", ...
 * is appended until a free name is found (never overwriting anything;
 * the name is reserved with O_EXCL). Other overlays of @snapImage are
 * left intact. Returns the new overlay path (caller frees) or NULL.
 */
char *xsnapDiskRevertExternal(const char *snapImage, const char *snapFormat,
                              const char *source, const char *snapName);
