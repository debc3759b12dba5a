/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_state.h: the snapshot trees of every domain, as the driver
 * callbacks see them
 *
 * Each domain (keyed by UUID and name) has one entry with its own lock.
 * Its tree is loaded from the store the first time a callback needs it
 * and kept in step with the files afterwards; a tree whose files had
 * problems is loaded again at every acquire, so that a problem resolved
 * outside the daemon (for example by virt-xen-snapshot cleanup) no
 * longer holds the tree read-only. Callbacks run on many
 * daemon worker threads, so every use of a tree happens between
 * xsnapDriverStateAcquire() and xsnapDriverStateRelease().
 */
#pragma once

#include <libvirt/libvirt.h>

#include "internal.h"
#include "snapshot_objlist.h"
#include "snapshot_store.h"

typedef struct _xsnapDomainSnapshots xsnapDomainSnapshots;
struct _xsnapDomainSnapshots {
    GMutex lock;
    char *uuid;                  /* the domain's UUID string */
    char *name;                  /* the domain's name */
    xsnapSnapshotObjList *list;  /* NULL until loaded */
    char *problem;               /* why the tree is read-only, or NULL */
};

/*
 * Sets up the state with the store rooted at @libDir (NULL: the
 * XSNAP_LIBXL_LIBDIR environment variable, else the configured
 * default). Called once, when the module activates. Returns 0.
 */
int xsnapDriverStateInit(const char *libDir);
/* Frees every entry (tests). */
void xsnapDriverStateShutdown(void);

xsnapSnapshotStore *xsnapDriverStateGetStore(void);

/*
 * The locked entry of @dom, its tree loaded. While another caller holds
 * it, waits up to XSNAP_LOCK_WAIT_MS (default 30 s), then fails with
 * VIR_ERR_OPERATION_TIMEOUT. Returns NULL with an error reported if the
 * entry stays busy or the tree cannot be loaded. Only public accessors of @dom
 * are called, which never reach a driver.
 */
xsnapDomainSnapshots *xsnapDriverStateAcquire(virDomainPtr dom);
void xsnapDriverStateRelease(xsnapDomainSnapshots *snaps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapDomainSnapshots, xsnapDriverStateRelease);

/*
 * Refuses (VIR_ERR_OPERATION_FAILED) to change a tree whose files had
 * problems when loaded. Returns 0 or -1.
 */
int xsnapDriverStateCheckWritable(xsnapDomainSnapshots *snaps);

/* Drops the loaded tree so the next acquire reads the files again:
 * used when a write failed half-way and memory may differ from disk. */
void xsnapDriverStateInvalidate(xsnapDomainSnapshots *snaps);
