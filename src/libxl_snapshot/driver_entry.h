/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_entry.h: the snapshot callbacks the wrapper puts into libvirt's
 * libxl hypervisor table, and its wrappers of undefine and of the job
 * callbacks
 *
 * Each callback has the signature libvirt expects in its slot, follows
 * libvirt's ownership rules (returned strings and arrays are freed by
 * the daemon with free(); ListAll arrays are NULL-terminated, each
 * element a new handle), and on failure leaves a libvirt error on the
 * thread as its last act.
 */
#pragma once

#include "internal.h"
#include "driver_layout.h"

/* The 16 callbacks in slot order (XSNAP_SLOT_*). */
extern void *const xsnapDriverSnapshotSlots[XSNAP_SLOT_LAST];

/*
 * Makes the undefine wrappers call @undefine / @undefineFlags (the
 * stock driver's) after handling snapshot metadata. Returns the
 * wrappers through @wrapUndefine and @wrapUndefineFlags.
 */
void xsnapDriverEntrySetUndefine(xsnapDrvDomainUndefine undefine,
                                 xsnapDrvDomainUndefineFlags undefineFlags,
                                 xsnapDrvDomainUndefine *wrapUndefine,
                                 xsnapDrvDomainUndefineFlags *wrapUndefineFlags);

/* The job callbacks the wrapper puts into the table. */
typedef struct _xsnapDriverJobSlots xsnapDriverJobSlots;
struct _xsnapDriverJobSlots {
    xsnapDrvDomainGetJobInfo getJobInfo;
    xsnapDrvDomainGetJobStats getJobStats;
    xsnapDrvDomainAbortJob abortJob;
    xsnapDrvDomainAbortJobFlags abortJobFlags;
};

/*
 * Makes the job wrappers call @getJobInfo / @getJobStats (the stock
 * driver's) and show a running snapshot operation in their place.
 * Returns the four callbacks for the table through @wrap: the two
 * wrappers, and abort callbacks for the slots the stock driver leaves
 * empty, which refuse to abort (VIR_ERR_OPERATION_INVALID while a
 * snapshot operation runs, VIR_ERR_NO_SUPPORT otherwise).
 */
void xsnapDriverEntrySetJobs(xsnapDrvDomainGetJobInfo getJobInfo,
                             xsnapDrvDomainGetJobStats getJobStats,
                             xsnapDriverJobSlots *wrap);

/* The save-image and migration callbacks the wrapper puts into the table. */
typedef struct _xsnapDriverImageSlots xsnapDriverImageSlots;
struct _xsnapDriverImageSlots {
    xsnapDrvDomainSaveImageGetXMLDesc saveImageGetXMLDesc;
    xsnapDrvDomainManagedSaveGetXMLDesc managedSaveGetXMLDesc;
    xsnapDrvDomainMigrateBegin3Params migrateBegin3Params;
    xsnapDrvDomainMigratePerform3Params migratePerform3Params;
};

/*
 * Makes the migration wrappers refuse a domain with snapshots, as
 * libvirt's qemu driver does (its snapshots, their metadata and the
 * images they rest on stay on this host), and call @begin / @perform
 * (the stock driver's) otherwise. The save-image callbacks, which the
 * stock driver leaves empty, read the XML embedded in a libvirt-libxl
 * save image; the managed-save one finds the image in @saveDir.
 * Returns the four callbacks through @wrap.
 */
void xsnapDriverEntrySetImages(xsnapDrvDomainMigrateBegin3Params begin,
                               xsnapDrvDomainMigratePerform3Params perform,
                               const char *saveDir,
                               xsnapDriverImageSlots *wrap);
