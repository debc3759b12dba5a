/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_activate.h: turning snapshot support on inside the stock libxl
 * driver, after its libxlRegister() has run
 */
#pragma once

#include "internal.h"
#include "driver_locator.h"

/* Written by the module into the libxl state dir at every start. */
#define XSNAP_STATUS_FILE_NAME "libvirt-xen-snapshot.status"

/*
 * Every check xsnapDriverActivateWith() makes, and nothing more: the
 * tables are found but not written. Returns 0 or -1 with an error
 * reported saying why.
 */
int xsnapDriverCheckWith(const xsnapDriverLayout *layout,
                         const xsnapModuleMap *map,
                         xsnapDriverTables *tables);
/* The same for the stock module opened as @stockHandle. */
int xsnapDriverCheck(void *stockHandle, unsigned long version,
                     xsnapDriverTables *tables);

/*
 * With the layout and module map already known: checks the build-id,
 * looks up libvirt's private functions, finds and checks the tables,
 * sets up the snapshot state, then fills the 16 snapshot slots, wraps
 * undefine and the job callbacks, and fills the empty abort slots. Any failure happens before the first write, and
 * leaves the tables untouched. Returns 0 with @tables set, or -1 with
 * an error reported saying why.
 */
int xsnapDriverActivateWith(const xsnapDriverLayout *layout,
                            const xsnapModuleMap *map,
                            xsnapDriverTables *tables);

/*
 * The same for the stock module opened as @stockHandle, running under
 * libvirt version @version (virGetVersion's number).
 */
int xsnapDriverActivate(void *stockHandle, unsigned long version,
                        xsnapDriverTables *tables);

/* A string the module carries so that tools can tell it from the stock
 * module by reading the file. */
#define XSNAP_MODULE_MARKER "libvirt-xen-snapshot wrapper module "
