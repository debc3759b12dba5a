/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_doctor.c: virt-xen-snapshot doctor
 *
 * Tells whether the running libvirtd has snapshot support in its libxl
 * driver, and if not, why, and lists the journals of interrupted
 * snapshot operations (see virt-xen-snapshot cleanup). It looks at four
 * things:
 *   1. which module file libvirtd loads as the libxl driver (the
 *      wrapper or the stock one) and whether the stock one is diverted;
 *   2. the running daemon itself: a read-only connection and a
 *      snapshot listing of one domain;
 *   3. the status the wrapper recorded when libvirtd last loaded it;
 *   4. the same checks the wrapper makes, run here against the stock
 *      module (libvirt version, build-id, table shape): loading the
 *      stock module into this process registers it with this process's
 *      libvirt only, and nothing is written.
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <signal.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "internal.h"
#include "util_error.h"
#include "driver_activate.h"
#include "tool_cmds.h"

#define STOCK_NAME "libvirt_driver_libxl.so"
#define DIVERTED_NAME "libvirt_driver_libxl.so.distrib"


static void
vxsSilence(void *opaque XSNAP_UNUSED, virErrorPtr err XSNAP_UNUSED)
{
}


/* 1: the files. Sets *@stockPath to the stock module to check. */
static bool
vxsDoctorFiles(const char *dir, char **stockPath)
{
    g_autofree char *stock = g_build_filename(dir, STOCK_NAME, NULL);
    g_autofree char *diverted = g_build_filename(dir, DIVERTED_NAME, NULL);
    bool wrapper = vxsFileIsWrapper(stock);

    if (!g_file_test(stock, G_FILE_TEST_EXISTS)) {
        printf(_("[FAIL] %1$s does not exist: no libxl driver is installed\n"), stock);
        return false;
    }
    printf(_("[info] %1$s is the %2$s module\n"), stock,
           wrapper ? _("snapshot wrapper") : _("stock"));
    if (g_file_test(diverted, G_FILE_TEST_EXISTS)) {
        printf(_("[info] the stock module is diverted to %1$s\n"), diverted);
        *stockPath = g_steal_pointer(&diverted);
    } else {
        *stockPath = wrapper ? NULL : g_strdup(stock);
    }
    if (!wrapper)
        printf(_("[FAIL] the wrapper is not installed here (see 'virt-xen-snapshot install')\n"));
    if (wrapper && !*stockPath)
        printf(_("[FAIL] the wrapper is installed but the stock module is missing\n"));
    return wrapper && *stockPath;
}


/* 4: the checks the wrapper makes. */
static bool
vxsDoctorLayout(const char *stockPath)
{
    void *handle;
    void *sym;
    int (*reg)(void);
    unsigned long version = 0;
    xsnapDriverTables tables;

    if (!(handle = dlopen(stockPath, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE))) {
        printf(_("[FAIL] cannot load %1$s: %2$s\n"), stockPath, dlerror());
        return false;
    }
    if (!(sym = dlsym(handle, "libxlRegister"))) {
        printf(_("[FAIL] %1$s has no libxlRegister\n"), stockPath);
        return false;
    }
    memcpy(&reg, &sym, sizeof(sym));
    if (reg() < 0) {
        printf(_("[FAIL] the stock libxlRegister failed here\n"));
        return false;
    }
    virGetVersion(&version, NULL, NULL);
    if (xsnapDriverCheck(handle, version, &tables) < 0) {
        printf(_("[FAIL] the wrapper's checks refuse this libvirt: %1$s\n"),
               xsnapGetLastErrorMessage());
        return false;
    }
    printf(_("[ ok ] libvirt %1$lu.%2$lu.%3$lu, stock module build and driver table shape are known\n"),
           version / 1000000, version / 1000 % 1000, version % 1000);
    return true;
}


/* 3: what the wrapper recorded at its last load. */
static bool
vxsDoctorStatus(const char *libDir, char **why)
{
    g_autofree char *path = g_build_filename(libDir, XSNAP_STATUS_FILE_NAME, NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    const char *state = NULL;
    const char *reason = NULL;
    long pid = 0;
    size_t i;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        printf(_("[FAIL] %1$s does not exist: libvirtd has not loaded the wrapper since it was installed\n"),
               path);
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "state="))
            state = lines[i] + 6;
        else if (g_str_has_prefix(lines[i], "reason="))
            reason = lines[i] + 7;
        else if (g_str_has_prefix(lines[i], "pid="))
            pid = strtol(lines[i] + 4, NULL, 10);
    }
    if (pid > 0 && kill((pid_t)pid, 0) < 0)
        printf(_("[info] the status is from libvirtd pid %1$ld, which is no longer running\n"), pid);
    if (g_strcmp0(state, "active") == 0) {
        printf(_("[ ok ] the wrapper enabled snapshots when libvirtd (pid %1$ld) loaded it\n"), pid);
        return true;
    }
    printf(_("[FAIL] the wrapper did not enable snapshots when libvirtd (pid %1$ld) loaded it: %2$s\n"),
           pid, reason && *reason ? reason : _("unknown reason"));
    *why = g_strdup(reason && *reason ? reason : NULL);
    return false;
}


/* 2: ask the daemon. Returns 1 active, 0 not, -1 cannot tell. */
static int
vxsDoctorDaemon(const char *uri)
{
    virConnectPtr conn;
    virDomainPtr *doms = NULL;
    int ndoms;
    int ret = -1;
    int i;

    virSetErrorFunc(NULL, vxsSilence);
    if (!(conn = virConnectOpenReadOnly(uri))) {
        printf(_("[FAIL] cannot connect to %1$s: %2$s\n"), uri,
               virGetLastErrorMessage());
        return -1;
    }
    if ((ndoms = virConnectListAllDomains(conn, &doms, 0)) < 0) {
        printf(_("[FAIL] cannot list domains: %1$s\n"), virGetLastErrorMessage());
    } else if (ndoms == 0) {
        printf(_("[info] %1$s has no domain to probe snapshot support with\n"), uri);
    } else if (virDomainListAllSnapshots(doms[0], NULL, 0) >= 0) {
        printf(_("[ ok ] %1$s answers snapshot calls (domain '%2$s')\n"), uri,
               virDomainGetName(doms[0]));
        ret = 1;
    } else if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
        printf(_("[FAIL] %1$s has no snapshot support: %2$s\n"), uri,
               virGetLastErrorMessage());
        ret = 0;
    } else {
        printf(_("[FAIL] snapshot listing failed: %1$s\n"), virGetLastErrorMessage());
        ret = 0;
    }
    for (i = 0; i < ndoms; i++)
        virDomainFree(doms[i]);
    free(doms);
    virConnectClose(conn);
    return ret;
}


int
vxsCmdDoctor(int argc, char **argv)
{
    const char *uri = "xen:///system";
    const char *libDir = g_getenv("XSNAP_LIBXL_LIBDIR");
    const char *dir = XSNAP_LIBVIRT_CONNDRV_DIR;
    g_autofree char *stockPath = NULL;
    g_autofree char *why = NULL;
    bool filesOk;
    bool layoutOk = false;
    bool statusOk;
    int daemon;
    int i;

    if (!libDir || !*libDir)
        libDir = XSNAP_DEFAULT_LIBDIR;
    for (i = 1; i < argc; i++) {
        if ((g_str_equal(argv[i], "-c") || g_str_equal(argv[i], "--connect")) &&
            i + 1 < argc) {
            uri = argv[++i];
        } else if (g_str_equal(argv[i], "--libdir") && i + 1 < argc) {
            libDir = argv[++i];
        } else if (g_str_equal(argv[i], "--stock-dir") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            printf("%s\n", _("Usage: virt-xen-snapshot doctor [-c URI] [--libdir DIR] [--stock-dir DIR]"));
            return g_str_equal(argv[i], "--help") ? 0 : 2;
        }
    }

    /* The daemon first: once the stock module is registered in this
     * process, xen:/// URIs would open it here instead of the daemon. */
    filesOk = vxsDoctorFiles(dir, &stockPath);
    daemon = vxsDoctorDaemon(uri);
    statusOk = vxsDoctorStatus(libDir, &why);
    if (stockPath)
        layoutOk = vxsDoctorLayout(stockPath);
    vxsCleanupReport(libDir);

    if (daemon == 1 || (daemon < 0 && statusOk)) {
        printf("%s\n", _("snapshot support: active"));
        return 0;
    }
    printf("%s\n", _("snapshot support: NOT active"));
    if (why)
        printf(_("  cause: the wrapper refused at load: %1$s\n"), why);
    else if (!filesOk)
        printf("%s\n", _("  cause: the wrapper module is not installed"));
    else if (!layoutOk)
        printf("%s\n", _("  cause: the wrapper does not trust this libvirt build (it runs the stock driver unchanged)"));
    else if (!statusOk)
        printf("%s\n", _("  cause: libvirtd has not loaded the wrapper, or it refused; restart libvirtd"));
    return 1;
}
