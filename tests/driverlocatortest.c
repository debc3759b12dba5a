/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driverlocatortest.c: finding and filling libvirt's libxl driver tables
 *
 * The first cases feed the locator fake tables, built to the layout of
 * libvirt 9.0.0, and check that every wrong shape is refused with
 * nothing written. The last ones load the real stock libxl module,
 * call its libxlRegister() as libvirtd would, and fill its table.
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "testutils.h"
#include "util_error.h"
#include "driver_locator.h"
#include "driver_activate.h"
#include "driver_entry.h"

#define STOCK_MODULE "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so"

/* A fake module: a writable area holding the tables, a read-only one
 * holding the strings, and a "code" area the filled slots point into. */
typedef struct {
    void *conn[9];
    void *pad[5];
    void *hv[258];
    void *spare[300];
} fakeData;

static fakeData fake;
static const char fakeStrings[] = "xen\0Xen\0foo\0Qemu";
static const char *fakeSchemes[2];
static const char *fakeSchemesBad[2];
static const char fakeCode[64] = { 0 };
static const xsnapDriverLayout *layout9;

static void
fakeReset(void)
{
    size_t i;

    memset(&fake, 0, sizeof(fake));
    fakeSchemes[0] = fakeStrings;
    fakeSchemes[1] = NULL;
    fakeSchemesBad[0] = fakeStrings;
    fakeSchemesBad[1] = fakeStrings + 8;
    fake.conn[1] = (void *)fakeSchemes;
    fake.conn[2] = fake.hv;
    fake.hv[0] = (void *)(fakeStrings + 4);
    for (i = 0; i < layout9->nchecks; i++) {
        if (layout9->checks[i].filled)
            fake.hv[layout9->checks[i].index] = (void *)(fakeCode + 8);
    }
}


static void
fakeMap(xsnapModuleMap *map)
{
    memset(map, 0, sizeof(*map));
    map->ranges[0].start = (uintptr_t)&fake;
    map->ranges[0].end = (uintptr_t)(&fake + 1);
    map->ranges[0].writable = true;
    map->ranges[1].start = (uintptr_t)fakeStrings;
    map->ranges[1].end = (uintptr_t)(fakeStrings + sizeof(fakeStrings));
    map->ranges[2].start = (uintptr_t)fakeSchemes;
    map->ranges[2].end = (uintptr_t)(fakeSchemes + 2);
    map->ranges[3].start = (uintptr_t)fakeSchemesBad;
    map->ranges[3].end = (uintptr_t)(fakeSchemesBad + 2);
    map->ranges[4].start = (uintptr_t)fakeCode;
    map->ranges[4].end = (uintptr_t)(fakeCode + sizeof(fakeCode));
    map->ranges[4].exec = true;
    map->nranges = 5;
    g_strlcpy(map->buildId, layout9->buildIds[0], sizeof(map->buildId));
}


static int
testLayoutFind(const void *data XSNAP_UNUSED)
{
    if (!(layout9 = xsnapDriverLayoutFind(9000000)))
        return -1;
    if (layout9->hvSize != 258 * sizeof(void *) ||
        layout9->snapshotFirstSlot + XSNAP_SLOT_LAST != 169)
        return -1;
    if (xsnapDriverLayoutFind(9001000) ||
        xsnapGetLastErrorCode() != VIR_ERR_NO_SUPPORT)
        return -1;
    if (xsnapDriverLayoutCheckBuildId(layout9, "0123456789abcdef0123456789abcdef01234567") == 0 ||
        xsnapDriverLayoutCheckBuildId(layout9, "") == 0)
        return -1;
    return xsnapDriverLayoutCheckBuildId(layout9, layout9->buildIds[0]);
}


static int
testFakeFound(const void *data XSNAP_UNUSED)
{
    xsnapModuleMap map;
    xsnapDriverTables tables;

    fakeReset();
    fakeMap(&map);
    if (xsnapDriverLocate(&map, layout9, &tables) < 0)
        return -1;
    if (tables.conn != (void *)fake.conn || tables.hv != fake.hv) {
        xsnapTestFail("found %p/%p, expected %p/%p", tables.conn,
                      (void *)tables.hv, (void *)fake.conn, (void *)fake.hv);
        return -1;
    }
    return 0;
}


typedef enum {
    BAD_SCHEME,
    BAD_NAME,
    BAD_SLOT_SET,
    BAD_NEIGHBOUR_NULL,
    BAD_NEIGHBOUR_OUTSIDE,
    BAD_UNEXPECTED_SLOT,
    BAD_ABORT_FILLED,
    BAD_JOB_INFO_NULL,
    BAD_TWO_TABLES,
    BAD_READ_ONLY,
    BAD_NO_TABLE,
} badShape;

static int
testFakeRefused(const void *data)
{
    badShape bad = (badShape)GPOINTER_TO_INT(data);
    xsnapModuleMap map;
    xsnapDriverTables tables;
    g_autofree fakeData *before = NULL;

    fakeReset();
    fakeMap(&map);
    switch (bad) {
    case BAD_SCHEME:
        fake.conn[1] = (void *)fakeSchemesBad;
        break;
    case BAD_NAME:
        fake.hv[0] = (void *)(fakeStrings + 12);
        break;
    case BAD_SLOT_SET:
        fake.hv[layout9->snapshotFirstSlot + XSNAP_SLOT_SNAPSHOT_DELETE] =
            (void *)(fakeCode + 8);
        break;
    case BAD_NEIGHBOUR_NULL:
        fake.hv[layout9->slotDomainUndefineFlags] = NULL;
        break;
    case BAD_NEIGHBOUR_OUTSIDE:
        fake.hv[layout9->slotDomainUndefine] = (void *)fakeStrings;
        break;
    case BAD_UNEXPECTED_SLOT:
        fake.hv[layout9->slotDomainRename] = (void *)(fakeCode + 8);
        break;
    case BAD_ABORT_FILLED:
        /* A stock abort would be hidden by ours. */
        fake.hv[layout9->slotDomainAbortJobFlags] = (void *)(fakeCode + 8);
        break;
    case BAD_JOB_INFO_NULL:
        /* Nothing to wrap. */
        fake.hv[layout9->slotDomainGetJobInfo] = NULL;
        break;
    case BAD_TWO_TABLES:
        /* A second connect driver pointing at the same table. */
        fake.spare[0] = fake.conn[0];
        fake.spare[1] = fake.conn[1];
        fake.spare[2] = fake.conn[2];
        break;
    case BAD_READ_ONLY:
        map.ranges[0].writable = false;
        break;
    case BAD_NO_TABLE:
        memset(fake.conn, 0, sizeof(fake.conn));
        break;
    }
    before = g_memdup2(&fake, sizeof(fake));

    xsnapResetLastError();
    if (xsnapDriverLocate(&map, layout9, &tables) == 0) {
        xsnapTestFail("shape %d accepted", bad);
        return -1;
    }
    if (xsnapGetLastErrorCode() != VIR_ERR_INTERNAL_ERROR)
        return -1;
    /* The whole activation refuses too, without writing anything. */
    if (xsnapDriverActivateWith(layout9, &map, &tables) == 0)
        return -1;
    if (memcmp(before, &fake, sizeof(fake)) != 0) {
        xsnapTestFail("the fake tables changed");
        return -1;
    }
    return 0;
}


static int
testFakeWrongBuildId(const void *data XSNAP_UNUSED)
{
    xsnapModuleMap map;
    xsnapDriverTables tables;
    g_autofree fakeData *before = NULL;

    fakeReset();
    fakeMap(&map);
    map.buildId[0] = map.buildId[0] == '0' ? '1' : '0';
    before = g_memdup2(&fake, sizeof(fake));
    if (xsnapDriverActivateWith(layout9, &map, &tables) == 0 ||
        xsnapGetLastErrorCode() != VIR_ERR_NO_SUPPORT)
        return -1;
    return memcmp(before, &fake, sizeof(fake)) == 0 ? 0 : -1;
}


static int
testFakeFill(const void *data XSNAP_UNUSED)
{
    xsnapModuleMap map;
    xsnapDriverTables tables;
    size_t i;

    fakeReset();
    fakeMap(&map);
    if (xsnapDriverLocate(&map, layout9, &tables) < 0 ||
        xsnapDriverFillSlots(layout9, &tables, xsnapDriverSnapshotSlots) < 0)
        return -1;
    for (i = 0; i < XSNAP_SLOT_LAST; i++) {
        if (!fake.hv[layout9->snapshotFirstSlot + i] ||
            fake.hv[layout9->snapshotFirstSlot + i] != xsnapDriverSnapshotSlots[i])
            return -1;
    }
    /* A second fill finds the slots taken and refuses. */
    return xsnapDriverFillSlots(layout9, &tables, xsnapDriverSnapshotSlots) < 0 ? 0 : -1;
}


/* ---- the real stock module ------------------------------------------ */

static void *stock;
static xsnapDriverTables stockTables;
static void *stockCopy[258];

static int
testStockRegister(const void *data XSNAP_UNUSED)
{
    int (*reg)(void);
    void *sym;
    struct link_map *lm = NULL;
    xsnapModuleMap map;

    if (access(STOCK_MODULE, R_OK) < 0)
        return EXIT_AM_SKIP;
    if (!(stock = dlopen(STOCK_MODULE, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE))) {
        xsnapTestFail("dlopen: %s", dlerror());
        return -1;
    }
    if (!(sym = dlsym(stock, "libxlRegister")))
        return -1;
    memcpy(&reg, &sym, sizeof(sym));
    if (reg() < 0)
        return -1;

    /* Locating writes nothing, so the table can be saved here. */
    if (dlinfo(stock, RTLD_DI_LINKMAP, &lm) < 0 ||
        xsnapModuleMapLoad((uintptr_t)lm->l_addr, &map) < 0 ||
        xsnapDriverLocate(&map, layout9, &stockTables) < 0)
        return -1;
    if (strcmp(*(const char **)stockTables.hv, "Xen") != 0)
        return -1;
    memcpy(stockCopy, stockTables.hv, sizeof(stockCopy));
    if (getenv("VERBOSE"))
        xsnapTestFail("table at module base + 0x%lx, build-id %s",
                      (unsigned long)((uintptr_t)stockTables.hv - lm->l_addr),
                      map.buildId);
    return 0;
}


static int
testStockRefused(const void *data)
{
    unsigned long version = (unsigned long)GPOINTER_TO_SIZE(data);
    xsnapDriverTables tables;

    if (!stock)
        return EXIT_AM_SKIP;
    if (xsnapDriverActivate(stock, version, &tables) == 0)
        return -1;
    return memcmp(stockCopy, stockTables.hv, sizeof(stockCopy)) == 0 ? 0 : -1;
}


static int
testStockStrictLayout(const void *data XSNAP_UNUSED)
{
    /* The same libvirt version, but a layout whose shape differs: the
     * snapshot slots one further on, where libxl has a function. */
    xsnapDriverLayout shifted = *layout9;
    struct link_map *lm = NULL;
    xsnapModuleMap map;
    xsnapDriverTables tables;

    if (!stock)
        return EXIT_AM_SKIP;
    shifted.snapshotFirstSlot = 150 - XSNAP_SLOT_LAST + 1;
    if (dlinfo(stock, RTLD_DI_LINKMAP, &lm) < 0 ||
        xsnapModuleMapLoad((uintptr_t)lm->l_addr, &map) < 0)
        return -1;
    if (xsnapDriverActivateWith(&shifted, &map, &tables) == 0)
        return -1;
    return memcmp(stockCopy, stockTables.hv, sizeof(stockCopy)) == 0 ? 0 : -1;
}


static int
testStockFilled(const void *data XSNAP_UNUSED)
{
    xsnapDriverTables tables;
    size_t i;

    if (!stock)
        return EXIT_AM_SKIP;
    if (xsnapDriverActivate(stock, 9000000, &tables) < 0)
        return -1;
    if (tables.hv != stockTables.hv)
        return -1;
    for (i = 0; i < 258; i++) {
        size_t slot = i - layout9->snapshotFirstSlot;
        if (i >= layout9->snapshotFirstSlot && slot < XSNAP_SLOT_LAST) {
            if (tables.hv[i] != xsnapDriverSnapshotSlots[slot])
                return -1;
        } else if (i == layout9->slotDomainUndefine ||
                   i == layout9->slotDomainUndefineFlags ||
                   i == layout9->slotDomainGetJobInfo ||
                   i == layout9->slotDomainGetJobStats ||
                   i == layout9->slotDomainAbortJob ||
                   i == layout9->slotDomainAbortJobFlags ||
                   i == layout9->slotDomainSaveImageGetXMLDesc ||
                   i == layout9->slotDomainManagedSaveGetXMLDesc ||
                   i == layout9->slotDomainMigrateBegin3Params ||
                   i == layout9->slotDomainMigratePerform3Params) {
            /* Wrapped, or (abort, save images) filled where the stock
             * left NULL. */
            if (tables.hv[i] == stockCopy[i] || !tables.hv[i]) {
                xsnapTestFail("slot %zu not wrapped", i);
                return -1;
            }
        } else if (tables.hv[i] != stockCopy[i]) {
            xsnapTestFail("slot %zu changed", i);
            return -1;
        }
    }
    /* Activating twice finds no free slots and changes nothing. */
    memcpy(stockCopy, stockTables.hv, sizeof(stockCopy));
    if (xsnapDriverActivate(stock, 9000000, &tables) == 0)
        return -1;
    return memcmp(stockCopy, stockTables.hv, sizeof(stockCopy)) == 0 ? 0 : -1;
}


static int
mymain(void)
{
    int ret = 0;

    g_setenv("XSNAP_LIBXL_LIBDIR", xsnapTestTmpDir(), TRUE);
    if (xsnapTestRun("layout table and build-id check", testLayoutFind, NULL) < 0)
        return EXIT_FAILURE;
    ret |= xsnapTestRun("fake tables found", testFakeFound, NULL);
#define BAD(what) \
    ret |= xsnapTestRun("fake tables refused: " #what, testFakeRefused, \
                        GINT_TO_POINTER(what))
    BAD(BAD_SCHEME);
    BAD(BAD_NAME);
    BAD(BAD_SLOT_SET);
    BAD(BAD_NEIGHBOUR_NULL);
    BAD(BAD_NEIGHBOUR_OUTSIDE);
    BAD(BAD_UNEXPECTED_SLOT);
    BAD(BAD_ABORT_FILLED);
    BAD(BAD_JOB_INFO_NULL);
    BAD(BAD_TWO_TABLES);
    BAD(BAD_READ_ONLY);
    BAD(BAD_NO_TABLE);
#undef BAD
    ret |= xsnapTestRun("fake tables, unknown build-id", testFakeWrongBuildId, NULL);
    ret |= xsnapTestRun("fake tables filled once", testFakeFill, NULL);

    ret |= xsnapTestRun("stock module registers and is located", testStockRegister, NULL);
    ret |= xsnapTestRun("stock module: libvirt 8.0.0 refused", testStockRefused,
                        GSIZE_TO_POINTER(8000000));
    ret |= xsnapTestRun("stock module: libvirt 9.1.0 refused", testStockRefused,
                        GSIZE_TO_POINTER(9001000));
    ret |= xsnapTestRun("stock module: wrong shape refused", testStockStrictLayout, NULL);
    ret |= xsnapTestRun("stock module: slots filled", testStockFilled, NULL);
    return ret == 0 ? 0 : -1;
}

XSNAP_TEST_MAIN(mymain)
