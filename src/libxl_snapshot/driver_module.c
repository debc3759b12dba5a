/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_module.c: the drop-in libvirt_driver_libxl.so
 *
 * libvirtd loads this file in place of the stock libxl module and calls
 * its libxlRegister(). That loads the stock module, registers the stock
 * driver, and only then, if every check passes, puts the snapshot
 * callbacks into the stock driver's table. Whatever goes wrong, the
 * stock registration's result is returned unchanged: libvirtd refuses
 * to start when a module fails to register, and a missing snapshot
 * feature must never cost the host its Xen driver.
 *
 * Which stock module is loaded:
 *   1. $XSNAP_STOCK_LIBXL_MODULE, if set;
 *   2. libvirt_driver_libxl.so.distrib next to this file (the name
 *      dpkg-divert gives the stock module on install);
 *   3. the configured XSNAP_STOCK_MODULE path.
 * A path that turns out to be this very file is refused.
 *
 * Other knobs: XSNAP_DISABLE=1 registers the stock driver alone;
 * XSNAP_SIMULATE_LIBVIRT_VERSION=N pretends libvirt is version N (tests
 * of the refusal path).
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* dlvsym, dlinfo, dl_iterate_phdr */
#endif

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver_activate.h"
#include "driver_error.h"
#include "util_error.h"

#define XSNAP_DIVERTED_NAME "libvirt_driver_libxl.so.distrib"

typedef int (*xsnapRegisterFunc)(void);

/* Read by `virt-xen-snapshot doctor` in the file. */
__attribute__((used))
static const char xsnapModuleMarker[] = XSNAP_MODULE_MARKER PACKAGE_VERSION;

/* The one symbol this module exports. */
int libxlRegister(void) __attribute__((visibility("default")));


/* The directory holding this module, or NULL. */
static char *
xsnapModuleOwnDir(void)
{
    Dl_info info;

    if (dladdr((void *)xsnapModuleOwnDir, &info) == 0 || !info.dli_fname)
        return NULL;
    return g_path_get_dirname(info.dli_fname);
}


static char *
xsnapModuleStockPath(void)
{
    const char *env = g_getenv("XSNAP_STOCK_LIBXL_MODULE");
    g_autofree char *dir = NULL;
    g_autofree char *diverted = NULL;

    if (env && *env)
        return g_strdup(env);
    if ((dir = xsnapModuleOwnDir())) {
        diverted = g_build_filename(dir, XSNAP_DIVERTED_NAME, NULL);
        if (access(diverted, R_OK) == 0)
            return g_steal_pointer(&diverted);
    }
    return g_strdup(XSNAP_STOCK_MODULE);
}


/* Records the outcome where `virt-xen-snapshot doctor` finds it. */
static void
xsnapModuleWriteStatus(const char *stockPath, const char *buildId,
                       unsigned long version, bool active, const char *why)
{
    const char *libDir = g_getenv("XSNAP_LIBXL_LIBDIR");
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    if (!libDir || !*libDir)
        libDir = XSNAP_DEFAULT_LIBDIR;
    if (g_mkdir_with_parents(libDir, 0755) < 0)
        return;
    path = g_build_filename(libDir, XSNAP_STATUS_FILE_NAME, NULL);
    text = g_strdup_printf("state=%s\nreason=%s\npid=%ld\nlibvirt=%lu\n"
                           "stock=%s\nbuild-id=%s\nversion=%s\n",
                           active ? "active" : "inactive", why ? why : "",
                           (long)getpid(), version, stockPath,
                           buildId ? buildId : "", PACKAGE_VERSION);
    if (!g_file_set_contents(path, text, -1, NULL))
        xsnapDriverLog(XSNAP_LOG_WARN, "cannot write %s", path);
}


/* The stock module's build-id, for the status file. */
static void
xsnapModuleBuildId(void *handle, char *buildId)
{
    struct link_map *lm = NULL;
    xsnapModuleMap map;

    buildId[0] = '\0';
    if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm &&
        xsnapModuleMapLoad((uintptr_t)lm->l_addr, &map) == 0)
        memcpy(buildId, map.buildId, sizeof(map.buildId));
    xsnapResetLastError();
}


/* True if @handle is this module itself. */
static bool
xsnapModuleIsSelf(void *handle)
{
    struct link_map *lm = NULL;
    Dl_info info;

    if (dladdr((void *)xsnapModuleIsSelf, &info) == 0)
        return false;
    return dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm &&
           (uintptr_t)lm->l_addr == (uintptr_t)info.dli_fbase;
}


int
libxlRegister(void)
{
    g_autofree char *stockPath = xsnapModuleStockPath();
    const char *simulate = g_getenv("XSNAP_SIMULATE_LIBVIRT_VERSION");
    unsigned long version = 0;
    char buildId[41] = "";
    xsnapDriverTables tables;
    xsnapRegisterFunc stockRegister;
    void *handle;
    void *sym;
    int rc;

    if (!(handle = dlopen(stockPath, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE))) {
        /* No stock driver to run: libvirtd starts without Xen, as it
         * would with no libxl module installed at all. */
        xsnapDriverLog(XSNAP_LOG_ERROR,
                       "cannot load the stock libxl driver '%s': %s; the Xen driver is not available",
                       stockPath, dlerror());
        xsnapModuleWriteStatus(stockPath, NULL, 0, false,
                               "the stock libxl module cannot be loaded");
        return 0;
    }
    if (xsnapModuleIsSelf(handle)) {
        xsnapDriverLog(XSNAP_LOG_ERROR,
                       "'%s' is this snapshot wrapper, not the stock libxl driver; the Xen driver is not available",
                       stockPath);
        xsnapModuleWriteStatus(stockPath, NULL, 0, false,
                               "the stock module path names the wrapper itself");
        return 0;
    }
    if (!(sym = dlsym(handle, "libxlRegister"))) {
        xsnapDriverLog(XSNAP_LOG_ERROR, "'%s' has no libxlRegister", stockPath);
        xsnapModuleWriteStatus(stockPath, NULL, 0, false,
                               "the stock module has no libxlRegister");
        return 0;
    }
    memcpy(&stockRegister, &sym, sizeof(sym));

    if ((rc = stockRegister()) < 0)
        return rc;

    xsnapModuleBuildId(handle, buildId);
    if (virGetVersion(&version, NULL, NULL) < 0)
        version = 0;
    if (simulate && *simulate)
        version = strtoul(simulate, NULL, 10);

    xsnapResetLastError();
    if (g_strcmp0(g_getenv("XSNAP_DISABLE"), "1") == 0) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID, "%s",
                         _("disabled by XSNAP_DISABLE=1"));
    } else if (xsnapDriverActivate(handle, version, &tables) == 0) {
        xsnapDriverLog(XSNAP_LOG_INFO,
                       "libvirt-xen-snapshot %s: snapshot support enabled in the libxl driver (%s)",
                       PACKAGE_VERSION, stockPath);
        xsnapModuleWriteStatus(stockPath, buildId, version, true, NULL);
        return rc;
    }
    xsnapDriverLog(XSNAP_LOG_WARN,
                   "libvirt-xen-snapshot %s: snapshot support NOT enabled, the stock libxl driver runs unchanged: %s",
                   PACKAGE_VERSION, xsnapGetLastErrorMessage());
    xsnapModuleWriteStatus(stockPath, buildId, version, false,
                           xsnapGetLastErrorMessage());
    return rc;
}
