/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt_xen_snapshot.c: the virt-xen-snapshot command-line tool
 */
#include <config.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "util_error.h"
#include "tool_cmds.h"

typedef struct _vxsCommand vxsCommand;
struct _vxsCommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
};

static const vxsCommand commands[] = {
    { "xml", vxsCmdXml, N_("xml [--redefine] [--internal] FILE|-") },
    { "list", vxsCmdList, N_("list [--root LIBDIR] [--tree|--name|--parent] [FILTERS] [--from NAME|--current] DOMAIN") },
    { "install", vxsCmdInstall, N_("install [--dry-run] [--driver-dir DIR]") },
    { "uninstall", vxsCmdUninstall, N_("uninstall [--dry-run] [--driver-dir DIR]") },
    { "doctor", vxsCmdDoctor, N_("doctor [-c URI] [--libdir DIR]") },
    { "cleanup", vxsCmdCleanup, N_("cleanup [--dry-run] [-c URI] [--libdir DIR] DOMAIN|--all") },
    { "clone", vxsCmdClone, N_("clone [-c URI] [--count N] [--start | --restore [--copy]] [--dir DIR] DOMAIN SNAPSHOT NEWNAME\n  virt-xen-snapshot clone --list [-c URI] DOMAIN SNAPSHOT") },
    { "convert-image", vxsCmdConvertImage, N_("convert-image --format raw|zstd|lz4 IN [OUT]") },
};


void
vxsPrintError(void)
{
    fprintf(stderr, "virt-xen-snapshot: error: %s\n", xsnapGetLastErrorMessage());
}


static void
vxsUsage(FILE *out)
{
    size_t i;

    fprintf(out, "%s\n", _("Usage: virt-xen-snapshot COMMAND [OPTIONS]"));
    fprintf(out, "%s\n", _("Commands:"));
    for (i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  virt-xen-snapshot %s\n", _(commands[i].synopsis));
}


int
main(int argc, char **argv)
{
    size_t i;

    setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
    bindtextdomain(PACKAGE, LOCALEDIR);
    textdomain(PACKAGE);
#endif

    if (argc < 2) {
        vxsUsage(stderr);
        return 2;
    }
    if (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h") ||
        g_str_equal(argv[1], "help")) {
        vxsUsage(stdout);
        return 0;
    }
    if (g_str_equal(argv[1], "--version")) {
        printf("virt-xen-snapshot %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (g_str_equal(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, _("virt-xen-snapshot: unknown command '%1$s'\n"), argv[1]);
    vxsUsage(stderr);
    return 2;
}
