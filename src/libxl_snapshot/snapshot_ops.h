/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_ops.h: the snapshot operations that touch a domain's memory
 * and disks, as the driver callbacks call them
 *
 * The callbacks check flags, find the domain's tree and hold its lock;
 * an operation does the rest and records the result in the tree and
 * the store (xsnapDriverStateGetStore()). Metadata-only work (redefine,
 * delete --metadata) never reaches these.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "internal.h"
#include "driver_state.h"
#include "hypervisor.h"
#include "qemu_monitor.h"

/*
 * Creates a new snapshot of @dom from @xml (virDomainSnapshotCreateXML
 * without REDEFINE). On success sets *@createdName (caller frees) to
 * the new snapshot's name; it is in @snaps's tree and current unless
 * VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA. Returns 0, or -1 with an
 * error reported and nothing changed.
 */
int xsnapOpsCreate(virDomainPtr dom, xsnapDomainSnapshots *snaps,
                   const char *xml, unsigned int flags,
                   char **createdName);

/* Reverts @dom to @obj (virDomainRevertToSnapshot). Returns 0 or -1. */
int xsnapOpsRevert(virDomainPtr dom, xsnapDomainSnapshots *snaps,
                   xsnapSnapshotObj *obj, unsigned int flags);

/*
 * Deletes @obj together with its data (virDomainSnapshotDelete without
 * METADATA_ONLY; CHILDREN and CHILDREN_ONLY as libvirt). Returns 0 or -1.
 */
int xsnapOpsDelete(virDomainPtr dom, xsnapDomainSnapshots *snaps,
                   xsnapSnapshotObj *obj, unsigned int flags);

/* The operations above, as the job a client sees. */
typedef enum {
    XSNAP_OPS_JOB_CREATE,
    XSNAP_OPS_JOB_REVERT,
    XSNAP_OPS_JOB_DELETE,

    XSNAP_OPS_JOB_LAST
} xsnapOpsJobKind;

typedef struct _xsnapOpsJobInfo xsnapOpsJobInfo;
struct _xsnapOpsJobInfo {
    xsnapOpsJobKind kind;
    unsigned long long elapsedMs;
    bool memory;                  /* a memory image is or was written */
    unsigned long long written;   /* bytes of it so far */
    unsigned long long total;     /* its expected size, 0 when unknown */
};

/*
 * Returns domain XML @xml with the source of each disk whose target is
 * a key of @sources replaced by the file of that value, as a file disk
 * of the format @formats gives for the target (qcow2 when @formats is
 * NULL: every image the operations create is a qcow2 overlay). Caller
 * frees; NULL with an error reported.
 */
char *xsnapOpsDomainSetDiskSources(const char *xml, GHashTable *sources,
                                   GHashTable *formats);

/*
 * While xsnapOpsCreate, xsnapOpsRevert or xsnapOpsDelete runs on the
 * domain whose UUID string is @uuid: fills @info and returns 1. Returns
 * 0 when none runs. Callable from any thread.
 */
int xsnapOpsGetJob(const char *uuid, xsnapOpsJobInfo *info);

/* Opens the QMP monitor of the running @dom, refusing a stub-domain
 * device model. NULL with an error reported. */
xsnapQemuMonitor *xsnapOpsMonitorOpen(const xsnapHypervisor *hv, virDomainPtr dom);
