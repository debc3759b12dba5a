/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_install.c: virt-xen-snapshot install / uninstall
 *
 * Puts the wrapper module where libvirtd loads the libxl driver, and
 * takes it away again. Two ways:
 *
 *   divert (default): dpkg-divert moves Debian's module to
 *     libvirt_driver_libxl.so.distrib (where package upgrades keep
 *     landing, and where the wrapper looks for it) and the wrapper is
 *     copied in under the stock name. Uninstall removes the wrapper and
 *     lets dpkg-divert rename the stock module back.
 *   --driver-dir DIR: for hosts without dpkg-divert. DIR gets a
 *     symlink to every stock connection-driver module but libxl's, plus
 *     the wrapper as libvirt_driver_libxl.so; a systemd drop-in sets
 *     LIBVIRT_DRIVER_DIR=DIR and XSNAP_STOCK_LIBXL_MODULE for libvirtd.
 *
 * Commands run with argument vectors, never through a shell. --dry-run
 * prints what would be done.
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* memmem */
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "internal.h"
#include "util_error.h"
#include "tool_cmds.h"
#include "driver_activate.h"

#define STOCK_NAME "libvirt_driver_libxl.so"
#define DIVERTED_NAME "libvirt_driver_libxl.so.distrib"
#define DROPIN_DIR "/etc/systemd/system/libvirtd.service.d"
#define DROPIN_NAME "libvirt-xen-snapshot.conf"

typedef struct _vxsInstallOpts vxsInstallOpts;
struct _vxsInstallOpts {
    const char *module;      /* the wrapper to install */
    const char *stockDir;    /* libvirt's connection-driver dir */
    const char *driverDir;   /* --driver-dir mode, or NULL */
    const char *dropinDir;
    bool dryRun;
};


static int
vxsRun(const vxsInstallOpts *opts, const char *const *argv)
{
    g_autofree char *line = g_strjoinv(" ", (char **)argv);
    g_autofree char *errout = NULL;
    g_autoptr(GError) gerr = NULL;
    int status = 0;

    printf("%s %s\n", opts->dryRun ? "would run:" : "running:", line);
    if (opts->dryRun)
        return 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      NULL, &errout, &status, &gerr) ||
        !g_spawn_check_wait_status(status, NULL)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED, _("'%1$s' failed: %2$s"),
                         line, gerr ? gerr->message : (errout ? errout : ""));
        return -1;
    }
    return 0;
}


/* Copies @src to @dst atomically (a temporary file renamed over it). */
static int
vxsCopyFile(const vxsInstallOpts *opts, const char *src, const char *dst)
{
    g_autofree char *data = NULL;
    g_autofree char *tmp = g_strdup_printf("%s.xsnap-new", dst);
    g_autoptr(GError) gerr = NULL;
    gsize len;

    printf("%s %s -> %s\n", opts->dryRun ? "would copy:" : "copying:", src, dst);
    if (opts->dryRun)
        return 0;
    if (!g_file_get_contents(src, &data, &len, &gerr) ||
        !g_file_set_contents(tmp, data, (gssize)len, &gerr)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s", gerr->message);
        return -1;
    }
    if (g_chmod(tmp, 0644) < 0 || g_rename(tmp, dst) < 0) {
        xsnapReportSystemError(errno, _("cannot install '%1$s'"), dst);
        g_unlink(tmp);
        return -1;
    }
    return 0;
}


/* True if @path is our wrapper (it carries the marker string). */
bool
vxsFileIsWrapper(const char *path)
{
    g_autofree char *data = NULL;
    gsize len;
    static const char marker[] = XSNAP_MODULE_MARKER;

    return g_file_get_contents(path, &data, &len, NULL) &&
           memmem(data, len, marker, sizeof(marker) - 1) != NULL;
}


static int
vxsInstallDivert(const vxsInstallOpts *opts)
{
    g_autofree char *stock = g_build_filename(opts->stockDir, STOCK_NAME, NULL);
    g_autofree char *diverted = g_build_filename(opts->stockDir, DIVERTED_NAME, NULL);

    if (!g_file_test(diverted, G_FILE_TEST_EXISTS)) {
        const char *argv[] = { "dpkg-divert", "--local", "--add", "--rename",
                               "--divert", diverted, stock, NULL };

        if (vxsFileIsWrapper(stock)) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("'%1$s' is already the wrapper, but the stock module '%2$s' is missing"),
                             stock, diverted);
            return -1;
        }
        if (vxsRun(opts, argv) < 0)
            return -1;
    } else {
        printf(_("the stock module is already diverted to %1$s\n"), diverted);
    }
    return vxsCopyFile(opts, opts->module, stock);
}


static int
vxsUninstallDivert(const vxsInstallOpts *opts)
{
    g_autofree char *stock = g_build_filename(opts->stockDir, STOCK_NAME, NULL);
    g_autofree char *diverted = g_build_filename(opts->stockDir, DIVERTED_NAME, NULL);
    const char *argv[] = { "dpkg-divert", "--local", "--remove", "--rename",
                           "--divert", diverted, stock, NULL };

    if (!g_file_test(diverted, G_FILE_TEST_EXISTS)) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("'%1$s' does not exist: the wrapper is not installed by diversion"),
                         diverted);
        return -1;
    }
    if (g_file_test(stock, G_FILE_TEST_EXISTS)) {
        if (!vxsFileIsWrapper(stock)) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("'%1$s' is not the wrapper; refusing to remove it"),
                             stock);
            return -1;
        }
        printf("%s %s\n", opts->dryRun ? "would remove:" : "removing:", stock);
        if (!opts->dryRun && g_unlink(stock) < 0) {
            xsnapReportSystemError(errno, _("cannot remove '%1$s'"), stock);
            return -1;
        }
    }
    return vxsRun(opts, argv);
}


static int
vxsInstallDriverDir(const vxsInstallOpts *opts)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GError) gerr = NULL;
    g_autofree char *stock = g_build_filename(opts->stockDir, STOCK_NAME, NULL);
    g_autofree char *ours = g_build_filename(opts->driverDir, STOCK_NAME, NULL);
    g_autofree char *dropin = g_build_filename(opts->dropinDir, DROPIN_NAME, NULL);
    g_autofree char *dropinText = NULL;
    const char *name;

    if (!(dir = g_dir_open(opts->stockDir, 0, &gerr))) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s", gerr->message);
        return -1;
    }
    printf("%s %s\n", opts->dryRun ? "would create:" : "creating:", opts->driverDir);
    if (!opts->dryRun && g_mkdir_with_parents(opts->driverDir, 0755) < 0) {
        xsnapReportSystemError(errno, _("cannot create '%1$s'"), opts->driverDir);
        return -1;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *target = NULL;
        g_autofree char *link = NULL;

        if (!g_str_has_prefix(name, "libvirt_driver_") ||
            !g_str_has_suffix(name, ".so") || g_str_equal(name, STOCK_NAME))
            continue;
        target = g_build_filename(opts->stockDir, name, NULL);
        link = g_build_filename(opts->driverDir, name, NULL);
        printf("%s %s -> %s\n", opts->dryRun ? "would link:" : "linking:", link, target);
        if (opts->dryRun)
            continue;
        g_unlink(link);
        if (symlink(target, link) < 0) {
            xsnapReportSystemError(errno, _("cannot create '%1$s'"), link);
            return -1;
        }
    }
    if (vxsCopyFile(opts, opts->module, ours) < 0)
        return -1;

    dropinText = g_strdup_printf("# Written by virt-xen-snapshot install --driver-dir\n"
                                 "[Service]\n"
                                 "Environment=LIBVIRT_DRIVER_DIR=%s\n"
                                 "Environment=XSNAP_STOCK_LIBXL_MODULE=%s\n",
                                 opts->driverDir, stock);
    printf("%s %s\n", opts->dryRun ? "would write:" : "writing:", dropin);
    if (opts->dryRun) {
        fputs(dropinText, stdout);
        return 0;
    }
    if (g_mkdir_with_parents(opts->dropinDir, 0755) < 0 ||
        !g_file_set_contents(dropin, dropinText, -1, &gerr)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED, _("cannot write '%1$s': %2$s"),
                         dropin, gerr ? gerr->message : g_strerror(errno));
        return -1;
    }
    printf("%s\n", _("run 'systemctl daemon-reload' before restarting libvirtd"));
    return 0;
}


static int
vxsUninstallDriverDir(const vxsInstallOpts *opts)
{
    g_autofree char *ours = g_build_filename(opts->driverDir, STOCK_NAME, NULL);
    g_autofree char *dropin = g_build_filename(opts->dropinDir, DROPIN_NAME, NULL);
    g_autoptr(GDir) dir = NULL;
    const char *name;

    if (!vxsFileIsWrapper(ours)) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("'%1$s' holds no wrapper; refusing to touch it"),
                         opts->driverDir);
        return -1;
    }
    printf("%s %s, %s\n", opts->dryRun ? "would remove:" : "removing:",
           opts->driverDir, dropin);
    if (opts->dryRun)
        return 0;
    if ((dir = g_dir_open(opts->driverDir, 0, NULL))) {
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(opts->driverDir, name, NULL);
            if (g_str_has_prefix(name, "libvirt_driver_"))
                g_unlink(path);
        }
    }
    if (g_rmdir(opts->driverDir) < 0)
        fprintf(stderr, _("warning: '%1$s' kept: %2$s\n"), opts->driverDir,
                g_strerror(errno));
    g_unlink(dropin);
    printf("%s\n", _("run 'systemctl daemon-reload' before restarting libvirtd"));
    return 0;
}


static int
vxsParseInstallOpts(int argc, char **argv, vxsInstallOpts *opts,
                    bool *help)
{
    int i;

    opts->module = XSNAP_INSTALLED_MODULE;
    opts->stockDir = XSNAP_LIBVIRT_CONNDRV_DIR;
    opts->dropinDir = DROPIN_DIR;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **target = NULL;

        if (g_str_equal(a, "--dry-run")) {
            opts->dryRun = true;
            continue;
        }
        if (g_str_equal(a, "--help") || g_str_equal(a, "-h")) {
            *help = true;
            continue;
        }
        if (g_str_equal(a, "--module"))
            target = &opts->module;
        else if (g_str_equal(a, "--stock-dir"))
            target = &opts->stockDir;
        else if (g_str_equal(a, "--driver-dir"))
            target = &opts->driverDir;
        else if (g_str_equal(a, "--systemd-dropin-dir"))
            target = &opts->dropinDir;
        if (!target || i + 1 >= argc) {
            xsnapReportError(VIR_ERR_INVALID_ARG, _("unexpected argument '%1$s'"), a);
            return -1;
        }
        *target = argv[++i];
    }
    return 0;
}


static void
vxsInstallUsage(const char *cmd)
{
    printf(_("Usage: virt-xen-snapshot %1$s [--dry-run] [--module FILE] [--stock-dir DIR]\n"
             "                            [--driver-dir DIR [--systemd-dropin-dir DIR]]\n"),
           cmd);
    printf("%s\n", _("Default: divert the stock module with dpkg-divert. Restart libvirtd afterwards."));
}


static int
vxsInstallCommon(int argc, char **argv, bool install)
{
    vxsInstallOpts opts = { 0 };
    bool help = false;
    int rc;

    if (vxsParseInstallOpts(argc, argv, &opts, &help) < 0) {
        vxsPrintError();
        return 2;
    }
    if (help) {
        vxsInstallUsage(argv[0]);
        return 0;
    }
    if (install && !g_file_test(opts.module, G_FILE_TEST_IS_REGULAR)) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("the wrapper module '%1$s' does not exist (make install puts it there)"),
                         opts.module);
        vxsPrintError();
        return 1;
    }
    if (opts.driverDir)
        rc = install ? vxsInstallDriverDir(&opts) : vxsUninstallDriverDir(&opts);
    else
        rc = install ? vxsInstallDivert(&opts) : vxsUninstallDivert(&opts);
    if (rc < 0) {
        vxsPrintError();
        return 1;
    }
    if (!opts.dryRun)
        printf("%s\n", _("done; restart libvirtd for it to take effect"));
    return 0;
}


int
vxsCmdInstall(int argc, char **argv)
{
    return vxsInstallCommon(argc, argv, true);
}


int
vxsCmdUninstall(int argc, char **argv)
{
    return vxsInstallCommon(argc, argv, false);
}
