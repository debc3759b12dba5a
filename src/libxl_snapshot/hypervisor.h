/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hypervisor.h: what the snapshot operations need from Xen and libvirt
 *
 * A small table of functions, so that the operations never call libxl
 * or the public libvirt API directly. The production binding
 * (xsnapHypervisorDefault) uses libxl 4.17 through a libxl context of
 * its own, and libvirt's public API on the caller's connection. Every
 * function returns 0 (or a value / a new string / a new handle), or -1
 * (NULL) with an error reported.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "internal.h"
#include "memory_codec.h"

/* Bytes of a memory image written so far, and the expected total (0 if
 * unknown). Updated while a save runs; read from other threads. */
typedef struct _xsnapMemoryProgress xsnapMemoryProgress;
struct _xsnapMemoryProgress {
    gint64 written;
    gint64 total;
};

typedef struct _xsnapHypervisor xsnapHypervisor;
struct _xsnapHypervisor {
    /* The domain's virDomainState (reason in *@reason if not NULL). */
    int (*state)(virDomainPtr dom, int *reason);
    int (*pause)(virDomainPtr dom);
    int (*resume)(virDomainPtr dom);
    /*
     * Writes the domain's memory to @fd (libxl_domain_suspend, LIVE when
     * @live), compressed on the way when @format is not raw, and sets
     * *@streamLen to the bytes of libxl's stream. The domain is left
     * suspended, its device model still serving the disks, until
     * continueAfterSave or destroy. @progress (may be NULL) is updated
     * while the stream is written, in bytes of the stream. libxl writes
     * into a pipe, copied (or compressed) to @fd and synced every 8 MiB
     * of @fd: the caller's fsync, which the suspended guest waits for,
     * finds at most 8 MiB, whatever the size of the guest. On failure
     * the domain is not left suspended.
     */
    int (*saveMemory)(virDomainPtr dom, int fd, bool live, xsnapMemoryFormat format,
                      uint64_t *streamLen, xsnapMemoryProgress *progress);
    /* Lets a domain suspended by saveMemory run on (suspend_cancel);
     * with @paused it is left paused, as it was before the save. */
    int (*continueAfterSave)(virDomainPtr dom, bool paused);
    int (*destroy)(virDomainPtr dom);
    /* Restores the save image @path (virDomainRestoreFlags); a
     * compressed one through a FIFO that a thread of ours fills. */
    int (*restore)(virDomainPtr dom, const char *path, unsigned int flags);
    /* Makes @xml the domain's persistent configuration. */
    int (*define)(virDomainPtr dom, const char *xml);
    /* Starts the inactive domain (virDomainCreateWithFlags). */
    int (*start)(virDomainPtr dom, unsigned int flags);
    /* The domain XML: live when running unless @inactive. Caller frees. */
    char *(*getXML)(virDomainPtr dom, bool inactive);
    /* The running domain's QMP socket path. Caller frees. */
    char *(*qmpPath)(virDomainPtr dom);
    /* 1 if the device model runs in a stub domain, 0 if not, -1 on error. */
    int (*isStubdom)(virDomainPtr dom);
    /* 1 if Xen can save the running domain's memory live, 0 if not, -1
     * on error. A live save tracks the pages the guest dirties
     * (log-dirty): Xen does that for a PV guest only with shadow
     * paging, for HVM and PVH with HAP or shadow. NULL: always. */
    int (*liveSaveSupported)(virDomainPtr dom);
    /* The persistent (or, if transient, live) XML of every other domain
     * of the host, for finding images they share. Caller unrefs. */
    GPtrArray *(*otherDomainsXML)(virDomainPtr dom);
    /* In libvirt's live definition of the running @dom (and its status
     * file), replaces the source of each disk in @disks: <disk> XML
     * texts naming their target, path, format and backing chain. */
    int (*setLiveDisks)(virDomainPtr dom, GPtrArray *disks);
};

/* The binding in use: the production one unless a test replaced it. */
const xsnapHypervisor *xsnapHypervisorGet(void);
/* Replaces the binding (tests); NULL restores the production one. */
void xsnapHypervisorSet(const xsnapHypervisor *hv);
