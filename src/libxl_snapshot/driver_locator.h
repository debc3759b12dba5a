/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_locator.h: finds libvirt's libxl driver tables inside the stock
 * module's memory and fills the snapshot slots
 *
 * The tables are static in the stock module, so they have no symbol.
 * After the stock libxlRegister() has run, the connect driver is the one
 * writable object whose uriSchemes is {"xen", NULL} and whose hypervisor
 * table is named "Xen"; the locator finds it by scanning the module's
 * writable memory, dereferencing only addresses inside the module's own
 * mapped segments. It then checks the table's shape against the layout.
 */
#pragma once

#include <stdint.h>

#include "internal.h"
#include "driver_layout.h"

#define XSNAP_MODULE_MAX_RANGES 16

/* One mapped segment of a module. */
typedef struct _xsnapMemRange xsnapMemRange;
struct _xsnapMemRange {
    uintptr_t start;
    uintptr_t end;      /* exclusive */
    bool writable;      /* writable now: RELRO is excluded */
    bool exec;
};

/* What the locator may read of a module. */
typedef struct _xsnapModuleMap xsnapModuleMap;
struct _xsnapModuleMap {
    xsnapMemRange ranges[XSNAP_MODULE_MAX_RANGES];
    size_t nranges;
    char buildId[41];   /* lower-case hex, "" when the module has none */
};

/* Where the tables are. */
typedef struct _xsnapDriverTables xsnapDriverTables;
struct _xsnapDriverTables {
    void *conn;         /* virConnectDriver */
    void **hv;          /* virHypervisorDriver, as an array of pointers */
};

/*
 * Fills @map with the PT_LOAD segments and GNU build-id of the loaded
 * object whose load address is @base (link_map l_addr). RELRO pages
 * count as read-only. Returns 0, or -1 with an error reported.
 */
int xsnapModuleMapLoad(uintptr_t base, xsnapModuleMap *map);

/*
 * The layout for libvirt version @version (virGetVersion's number), or
 * NULL with VIR_ERR_NO_SUPPORT reported.
 */
const xsnapDriverLayout *xsnapDriverLayoutFind(unsigned long version);

/*
 * Checks that @buildId is one @layout was verified against. Returns 0,
 * or -1 with VIR_ERR_NO_SUPPORT reported.
 */
int xsnapDriverLayoutCheckBuildId(const xsnapDriverLayout *layout,
                                  const char *buildId);

/*
 * Finds the connect driver with uriSchemes {"xen", NULL} and its
 * hypervisor table named "Xen" in the writable ranges of @map, and
 * checks the shape @layout expects: every snapshot slot NULL, and each
 * of the layout's checked slots NULL or pointing into the module's code.
 * Exactly one match must exist. Writes nothing.
 * Returns 0 with @tables set, or -1 with VIR_ERR_INTERNAL_ERROR reported
 * saying why.
 */
int xsnapDriverLocate(const xsnapModuleMap *map,
                      const xsnapDriverLayout *layout,
                      xsnapDriverTables *tables);

/*
 * Writes @slots (XSNAP_SLOT_LAST function pointers, in slot order) into
 * the hypervisor table found by xsnapDriverLocate(), after checking once
 * more that every slot is still NULL. Returns 0, or -1 with nothing
 * written.
 */
int xsnapDriverFillSlots(const xsnapDriverLayout *layout,
                         const xsnapDriverTables *tables,
                         void *const *slots);

/* Reads / writes one pointer slot of the hypervisor table. */
void *xsnapDriverGetSlot(const xsnapDriverTables *tables, size_t index);
void xsnapDriverSetSlot(const xsnapDriverTables *tables, size_t index,
                        void *fn);
