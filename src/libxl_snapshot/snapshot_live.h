/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_live.h: making libvirt's live definition of a running domain
 * name the images its device model serves
 */
#pragma once

#include <libvirt/libvirt.h>

#include "internal.h"
#include "hypervisor.h"

/*
 * The <disk> element of target @dst in domain XML @domainXML, as a file
 * disk of @format on @path whose <backingStore> chain is @files with
 * @formats (top first, NULL-terminated, the same length; may be NULL),
 * layers indexed from the bottom as libvirt's qemu driver shows them.
 * Every other child and attribute of the element is kept. *@changed
 * tells whether path, format or chain differ from the element's. Caller
 * frees; NULL with an error reported.
 */
char *xsnapOpsDiskWithChain(const char *domainXML, const char *dst,
                            const char *path, const char *format,
                            const char *const *files,
                            const char *const *formats, bool *changed);

/*
 * If @dom runs, asks its device model which image, format and backing
 * chain each file disk is served from, and makes libvirt's live
 * definition (and status file) say so for every disk where it differs
 * (hv->setLiveDisks). A domain that does not run, or a binding without
 * setLiveDisks, is left alone. Returns 0, or -1 with an error reported.
 */
int xsnapOpsSyncLive(const xsnapHypervisor *hv, virDomainPtr dom);
