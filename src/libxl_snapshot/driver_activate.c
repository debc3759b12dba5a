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
    void *fn;

    if (xsnapDriverCheckWith(layout, map, tables) < 0)
        return -1;

    xsnapDriverStateInit(NULL);

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
