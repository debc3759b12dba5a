/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_activate.c: turning snapshot support on inside the stock driver
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* dlvsym, dlinfo, dl_iterate_phdr */
#endif

#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "driver_activate.h"
#include "driver_entry.h"
#include "driver_error.h"
#include "driver_live.h"
#include "driver_state.h"
#include "util_error.h"


int
xsnapDriverCheckWith(const xsnapDriverLayout *layout,
                     const xsnapModuleMap *map,
                     xsnapDriverTables *tables)
{
    /* First, so that the daemon log gets the messages below. */
    if (xsnapDriverErrorInit(layout->privateNode) < 0 ||
        xsnapDriverLayoutCheckBuildId(layout, map->buildId) < 0 ||
        xsnapDriverLocate(map, layout, tables) < 0)
        return -1;
    return 0;
}


int
xsnapDriverActivateWith(const xsnapDriverLayout *layout,
                        const xsnapModuleMap *map,
                        xsnapDriverTables *tables)
{
    xsnapDrvDomainUndefine undefine;
    xsnapDrvDomainUndefineFlags undefineFlags;
    xsnapDrvDomainUndefine wrapUndefine;
    xsnapDrvDomainUndefineFlags wrapUndefineFlags;
    xsnapDrvDomainGetJobInfo getJobInfo;
    xsnapDrvDomainGetJobStats getJobStats;
    xsnapDriverJobSlots jobSlots;
    xsnapDrvDomainMigrateBegin3Params migrateBegin;
    xsnapDrvDomainMigratePerform3Params migratePerform;
    xsnapDriverImageSlots imageSlots;
    void *fn;

    if (xsnapDriverCheckWith(layout, map, tables) < 0)
        return -1;

    xsnapDriverStateInit(NULL);
    /* Without it, operations that move a running disk fail cleanly. */
    if (xsnapDriverLiveInit(layout, tables->hv) < 0)
        xsnapDriverLog(XSNAP_LOG_WARN,
                       "snapshots that move a running disk are unavailable: %s",
                       xsnapGetLastErrorMessage());

    fn = xsnapDriverGetSlot(tables, layout->slotDomainUndefine);
    memcpy(&undefine, &fn, sizeof(fn));
    fn = xsnapDriverGetSlot(tables, layout->slotDomainUndefineFlags);
    memcpy(&undefineFlags, &fn, sizeof(fn));
    xsnapDriverEntrySetUndefine(undefine, undefineFlags,
                                &wrapUndefine, &wrapUndefineFlags);
    fn = xsnapDriverGetSlot(tables, layout->slotDomainGetJobInfo);
    memcpy(&getJobInfo, &fn, sizeof(fn));
    fn = xsnapDriverGetSlot(tables, layout->slotDomainGetJobStats);
    memcpy(&getJobStats, &fn, sizeof(fn));
    xsnapDriverEntrySetJobs(getJobInfo, getJobStats, &jobSlots);
    fn = xsnapDriverGetSlot(tables, layout->slotDomainMigrateBegin3Params);
    memcpy(&migrateBegin, &fn, sizeof(fn));
    fn = xsnapDriverGetSlot(tables, layout->slotDomainMigratePerform3Params);
    memcpy(&migratePerform, &fn, sizeof(fn));
    xsnapDriverEntrySetImages(migrateBegin, migratePerform, layout->libxlSaveDir,
                              &imageSlots);

    if (xsnapDriverFillSlots(layout, tables, xsnapDriverSnapshotSlots) < 0)
        return -1;
    memcpy(&fn, &wrapUndefine, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainUndefine, fn);
    memcpy(&fn, &wrapUndefineFlags, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainUndefineFlags, fn);
    memcpy(&fn, &jobSlots.getJobInfo, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainGetJobInfo, fn);
    memcpy(&fn, &jobSlots.getJobStats, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainGetJobStats, fn);
    memcpy(&fn, &jobSlots.abortJob, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainAbortJob, fn);
    memcpy(&fn, &jobSlots.abortJobFlags, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainAbortJobFlags, fn);
    memcpy(&fn, &imageSlots.saveImageGetXMLDesc, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainSaveImageGetXMLDesc, fn);
    memcpy(&fn, &imageSlots.managedSaveGetXMLDesc, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainManagedSaveGetXMLDesc, fn);
    memcpy(&fn, &imageSlots.migrateBegin3Params, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainMigrateBegin3Params, fn);
    memcpy(&fn, &imageSlots.migratePerform3Params, sizeof(fn));
    xsnapDriverSetSlot(tables, layout->slotDomainMigratePerform3Params, fn);
    return 0;
}


static int
xsnapDriverPrepare(void *stockHandle, unsigned long version,
                   const xsnapDriverLayout **layout, xsnapModuleMap *map)
{
    struct link_map *lm = NULL;

    if (!(*layout = xsnapDriverLayoutFind(version)))
        return -1;
    if (dlinfo(stockHandle, RTLD_DI_LINKMAP, &lm) < 0 || !lm) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot find where the stock libxl module is loaded: %1$s"),
                         dlerror());
        return -1;
    }
    return xsnapModuleMapLoad((uintptr_t)lm->l_addr, map);
}


int
xsnapDriverCheck(void *stockHandle, unsigned long version,
                 xsnapDriverTables *tables)
{
    const xsnapDriverLayout *layout;
    xsnapModuleMap map;

    if (xsnapDriverPrepare(stockHandle, version, &layout, &map) < 0)
        return -1;
    return xsnapDriverCheckWith(layout, &map, tables);
}


int
xsnapDriverActivate(void *stockHandle, unsigned long version,
                    xsnapDriverTables *tables)
{
    const xsnapDriverLayout *layout;
    xsnapModuleMap map;

    if (xsnapDriverPrepare(stockHandle, version, &layout, &map) < 0)
        return -1;
    return xsnapDriverActivateWith(layout, &map, tables);
}
