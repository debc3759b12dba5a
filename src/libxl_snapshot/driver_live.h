/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_live.h: keeping libvirt's live definition of a running domain
 * true to the disks its device model serves
 *
 * The stock libxl driver builds its live definition when a domain
 * starts and never learns that a disk moved to an overlay. That
 * definition is what `dumpxml` shows, what the status file keeps across
 * a libvirtd restart, and what libvirt writes into every save and
 * managed-save image, whose restore trusts it. The operations therefore
 * hand every disk they changed to xsnapDriverLiveSetDisks(), which
 * replaces the disk's source (path, format, backing chain) inside the
 * stock driver's own domain object, under the stock driver's domain job,
 * and writes the status file again. It reaches that object through
 * private libvirt symbols looked up at run time and the layout facts of
 * driver_layout.h, each checked before use.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "internal.h"
#include "driver_layout.h"

/*
 * Looks up the private functions under @layout's symbol version and
 * remembers the stock hypervisor table @hvTable, which every caller's
 * connection must point at. Returns 0, or -1 with an error reported
 * (live updates then fail with that error).
 */
int xsnapDriverLiveInit(const xsnapDriverLayout *layout, void *hvTable);

/*
 * In the live definition of the running @dom, replaces the source of
 * each disk in @disks (NUL-terminated XML texts of <disk> elements, each
 * with its <target dev>): type, path, format, readonly/shareable and
 * <backingStore> chain come from that element; every other property of
 * the disk is kept. Then saves libvirt's status file of the domain.
 * Nothing changes unless every disk parsed. Returns 0, or -1 with an
 * error reported.
 */
int xsnapDriverLiveSetDisks(virDomainPtr dom, GPtrArray *disks);

/* True once xsnapDriverLiveInit() succeeded. */
bool xsnapDriverLiveAvailable(void);

/*
 * Re-arms libvirt's watch for the death and shutdown of the running
 * @dom. libxl reports a domain's shutdown once per watch, and a memory
 * save enters the shutdown state (reason suspend, which libvirt
 * ignores): after our save and resume, libvirt would never hear that
 * the guest powered off, rebooted or crashed. libvirt's own
 * virDomainPMWakeup re-arms the same way. @domid is the domain's
 * current id. Returns 0, or -1 with an error reported.
 */
int xsnapDriverLiveRearmDeath(virDomainPtr dom, int domid);
