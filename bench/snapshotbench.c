/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshotbench.c: how the snapshot tree, the store and the list tool
 * scale with the number of snapshots
 *
 *   snapshotbench [--tool PATH] N chain|wide
 *   snapshotbench --memory N chain|wide
 *
 * Builds a store of N snapshots of one domain in a temporary
 * directory, as one chain (each the child of the one before) or as a
 * wide tree (one root, every other snapshot its child), then times:
 * writing it, loading it, every listing filter, finding the current
 * snapshot, and the list tool's table, topological and tree listings.
 * With --memory, no file is involved: the tree is built from small
 * Defs in memory, linked in one pass, and listed, which isolates the
 * tree's own costs from XML and disk.
 * Prints markdown table rows; bench/run.sh adds the headers.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "internal.h"
#include "util_error.h"
#include "snapshot_store.h"

/* A Xen domain of typical size, stored inside every snapshot. */
static const char domainXML[] =
    "<domain type='xen'>\n"
    "  <name>bench</name>\n"
    "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
    "  <memory unit='KiB'>1048576</memory>\n"
    "  <currentMemory unit='KiB'>1048576</currentMemory>\n"
    "  <vcpu placement='static'>2</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='xenfv'>hvm</type>\n"
    "    <loader type='rom'>/usr/lib/xen-4.17/boot/hvmloader</loader>\n"
    "    <boot dev='hd'/>\n"
    "  </os>\n"
    "  <features>\n"
    "    <acpi/>\n"
    "    <apic/>\n"
    "    <pae/>\n"
    "  </features>\n"
    "  <clock offset='variable' adjustment='0' basis='utc'/>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <on_reboot>restart</on_reboot>\n"
    "  <on_crash>destroy</on_crash>\n"
    "  <devices>\n"
    "    <emulator>/usr/lib/xen-4.17/bin/qemu-system-i386</emulator>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='qcow2'/>\n"
    "      <source file='/var/lib/xen/images/bench.qcow2'/>\n"
    "      <target dev='xvda' bus='xen'/>\n"
    "    </disk>\n"
    "    <interface type='bridge'>\n"
    "      <mac address='00:16:3e:5d:c7:9e'/>\n"
    "      <source bridge='xenbr0'/>\n"
    "      <script path='vif-bridge'/>\n"
    "    </interface>\n"
    "    <serial type='pty'>\n"
    "      <target port='0'/>\n"
    "    </serial>\n"
    "    <console type='pty'>\n"
    "      <target type='serial' port='0'/>\n"
    "    </console>\n"
    "    <input type='tablet' bus='usb'/>\n"
    "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>\n"
    "    <video>\n"
    "      <model type='cirrus' vram='8192' heads='1' primary='yes'/>\n"
    "    </video>\n"
    "  </devices>\n"
    "</domain>\n";


static double
benchNow(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static long
benchMaxRSS(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}


static const char *shape;
static size_t count;

static void
benchRow(const char *what, double seconds, long maxrssKiB, const char *note)
{
    g_autofree char *rss = maxrssKiB ? g_strdup_printf("%.1f", (double)maxrssKiB / 1024.0) :
                                       g_strdup("");

    printf("| %zu | %s | %s | %.3f | %.3f | %s | %s |\n", count, shape, what,
           seconds * 1e3, seconds * 1e6 / (double)count, rss, note ? note : "");
    fflush(stdout);
}


static xsnapSnapshotDef *
benchDefNew(size_t i, bool wide)
{
    xsnapSnapshotDef *def = xsnapSnapshotDefNew();

    def->name = g_strdup_printf("snap%06zu", i);
    if (i > 0)
        def->parent_name = g_strdup_printf("snap%06zu", wide ? (size_t)0 : i - 1);
    def->creationTime = 1700000000LL + (long long)i;
    def->domainXML = g_strdup(domainXML);
    def->description = g_strdup("benchmark snapshot");
    /* A mix of states and locations, so that every filter selects some. */
    switch (i % 3) {
    case 0:
        def->state = XSNAP_SNAPSHOT_STATE_SHUTOFF;
        def->memory = XSNAP_SNAPSHOT_LOCATION_NO;
        break;
    case 1:
        def->state = XSNAP_SNAPSHOT_STATE_RUNNING;
        def->memory = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
        def->memoryFile = g_strdup_printf("/var/lib/libvirt/libxl/save/bench-%zu.mem", i);
        break;
    default:
        def->state = XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT;
        def->memory = XSNAP_SNAPSHOT_LOCATION_NO;
        break;
    }
    def->ndisks = 1;
    def->disks = g_new0(xsnapSnapshotDiskDef, 1);
    def->disks[0].name = g_strdup("xvda");
    if (i % 3 == 0) {
        def->disks[0].snapshot = XSNAP_SNAPSHOT_LOCATION_NO;
    } else {
        def->disks[0].snapshot = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
        def->disks[0].type = XSNAP_STORAGE_TYPE_FILE;
        def->disks[0].path = g_strdup_printf("/var/lib/xen/images/bench.%zu.qcow2", i);
        def->disks[0].format = g_strdup("qcow2");
    }
    return def;
}


/* Runs the list tool with @extra (or no option), reading and counting
 * its output; returns seconds, and its peak RSS (KiB) and output size. */
static double
benchTool(const char *tool, const char *root, const char *extra,
          long *maxrss, off_t *bytes)
{
    struct rusage ru;
    double t0 = benchNow();
    char buf[65536];
    int fds[2];
    int status;
    ssize_t got;
    pid_t pid;

    if (pipe(fds) < 0)
        exit(1);
    if ((pid = fork()) == 0) {
        close(fds[0]);
        if (dup2(fds[1], 1) < 0)
            _exit(127);
        if (extra)
            execl(tool, tool, "list", "--root", root, extra, "bench", (char *)NULL);
        else
            execl(tool, tool, "list", "--root", root, "bench", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    *bytes = 0;
    while ((got = read(fds[0], buf, sizeof(buf))) > 0)
        *bytes += got;
    close(fds[0]);
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "list tool failed\n");
        exit(1);
    }
    *maxrss = ru.ru_maxrss;
    return benchNow() - t0;
}


typedef struct {
    const char *name;
    unsigned int flags;
    bool fromRoot;      /* list from the first snapshot, not the domain */
} benchFilter;

#define L(x) VIR_DOMAIN_SNAPSHOT_LIST_ ## x

static const benchFilter filters[] = {
    { "all", 0, false },
    { "roots", L(ROOTS), false },
    { "leaves", L(LEAVES), false },
    { "no-leaves", L(NO_LEAVES), false },
    { "metadata", L(METADATA), false },
    { "no-metadata", L(NO_METADATA), false },
    { "inactive", L(INACTIVE), false },
    { "active", L(ACTIVE), false },
    { "disk-only", L(DISK_ONLY), false },
    { "internal", L(INTERNAL), false },
    { "external", L(EXTERNAL), false },
    { "topological", L(TOPOLOGICAL), false },
    { "children of first", 0, true },
    { "descendants of first", L(DESCENDANTS), true },
    { "descendants of first, topological", L(DESCENDANTS) | L(TOPOLOGICAL), true },
};


/* Times every filter, then finding the current snapshot. */
static int
benchFilters(xsnapSnapshotObjList *list)
{
    size_t i;
    double t0;

    /* Every filter, repeated until it has run for a while. */
    for (i = 0; i < G_N_ELEMENTS(filters); i++) {
        xsnapSnapshotObj *from = filters[i].fromRoot ?
            xsnapSnapshotObjListFindByName(list, "snap000000") : NULL;
        size_t reps = 0;
        int n = 0;
        double spent;
        g_autofree char *note = NULL;

        t0 = benchNow();
        do {
            xsnapSnapshotObj **objs = NULL;
            if ((n = xsnapSnapshotObjListListAll(list, from, &objs, filters[i].flags)) < 0)
                return -1;
            g_free(objs);
            reps++;
        } while ((spent = benchNow() - t0) < 0.2);
        note = g_strdup_printf("%d listed; mean of %zu runs", n, reps);
        {
            g_autofree char *what = g_strdup_printf("list: %s", filters[i].name);
            benchRow(what, spent / (double)reps, 0, note);
        }
    }

    /* The current snapshot, and a lookup by name. */
    {
        size_t reps = 0;
        double spent;
        volatile const char *sink = NULL;

        t0 = benchNow();
        do {
            sink = xsnapSnapshotObjListGetCurrentName(list);
            sink = xsnapSnapshotObjListFindByName(list, "snap000001")->def->name;
            reps++;
        } while ((spent = benchNow() - t0) < 0.05);
        (void)sink;
        printf("| %zu | %s | find current + lookup by name | %.6f | | | mean of %zu runs |\n",
               count, shape, spent * 1e3 / (double)reps, reps);
    }

    return 0;
}


static int
benchMemory(bool wide)
{
    g_autoptr(xsnapSnapshotObjList) list = xsnapSnapshotObjListNew();
    double t0;
    size_t i;

    for (i = 0; i < count; i++) {
        xsnapSnapshotDef *def = xsnapSnapshotDefNew();

        def->name = g_strdup_printf("snap%06zu", i);
        if (i > 0)
            def->parent_name = g_strdup_printf("snap%06zu", wide ? (size_t)0 : i - 1);
        def->creationTime = 1700000000LL + (long long)i;
        def->state = i % 2 ? XSNAP_SNAPSHOT_STATE_RUNNING : XSNAP_SNAPSHOT_STATE_SHUTOFF;
        def->memory = i % 3 ? XSNAP_SNAPSHOT_LOCATION_INTERNAL : XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
        if (!xsnapSnapshotObjListAssignDef(list, &def))
            return -1;
    }
    t0 = benchNow();
    if (xsnapSnapshotObjListUpdateRelations(list, NULL, NULL) < 0)
        return -1;
    benchRow("link all (UpdateRelations, as at load)", benchNow() - t0, benchMaxRSS(),
             "max RSS of this process");
    xsnapSnapshotObjListSetCurrent(list, xsnapSnapshotObjListFindByName(list, "snap000001"));
    return benchFilters(list);
}


int
main(int argc, char **argv)
{
    const char *tool = NULL;
    g_autofree char *root = NULL;
    g_autoptr(xsnapSnapshotStore) store = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    xsnapSnapshotObjList *list = NULL;
    bool wide;
    double t0;
    size_t i;
    int argi = 1;
    bool memory = false;

    if (argc > 2 && g_str_equal(argv[1], "--tool")) {
        tool = argv[2];
        argi = 3;
    } else if (argc > 1 && g_str_equal(argv[1], "--memory")) {
        memory = true;
        argi = 2;
    }
    if (argc - argi != 2 ||
        (!g_str_equal(argv[argi + 1], "chain") && !g_str_equal(argv[argi + 1], "wide"))) {
        fprintf(stderr, "usage: %s [--tool PATH | --memory] N chain|wide\n", argv[0]);
        return 2;
    }
    count = (size_t)g_ascii_strtoull(argv[argi], NULL, 10);
    shape = argv[argi + 1];
    wide = g_str_equal(shape, "wide");
    if (count < 2)
        return 2;
    if (memory) {
        if (benchMemory(wide) < 0) {
            fprintf(stderr, "snapshotbench: %s\n", xsnapGetLastErrorMessage());
            return 1;
        }
        return 0;
    }

    root = g_dir_make_tmp("xsnap-bench-XXXXXX", NULL);
    store = xsnapSnapshotStoreNew(root);

    /* Write: one atomic, synced file per snapshot. */
    list = xsnapSnapshotObjListNew();
    t0 = benchNow();
    for (i = 0; i < count; i++) {
        xsnapSnapshotDef *def = benchDefNew(i, wide);
        xsnapSnapshotObj *obj;

        if (!(obj = xsnapSnapshotObjListAdd(list, &def)) ||
            xsnapSnapshotStoreSave(store, "bench", list, obj, false) < 0)
            goto error;
    }
    if (xsnapSnapshotStoreSetCurrent(store, "bench", list,
                                     xsnapSnapshotObjListFindByName(list, "snap000001")) < 0)
        goto error;
    benchRow("write store (fsync per file)", benchNow() - t0, 0, NULL);
    xsnapSnapshotObjListFree(list);

    /* Load. */
    t0 = benchNow();
    if (xsnapSnapshotStoreLoad(store, "bench", &list, &problems) < 0)
        goto error;
    benchRow("load store", benchNow() - t0, benchMaxRSS(),
             problems->len ? "PROBLEMS" : "max RSS of this process");
    if (xsnapSnapshotObjListCount(list) != count || problems->len)
        goto error;

    if (benchFilters(list) < 0)
        goto error;

    if (tool) {
        static const char *const toolRuns[] = { NULL, "--topological", "--tree" };

        for (i = 0; i < G_N_ELEMENTS(toolRuns); i++) {
            long rss = 0;
            off_t bytes = 0;
            double spent = benchTool(tool, root, toolRuns[i], &rss, &bytes);
            g_autofree char *what = g_strdup_printf("`virt-xen-snapshot list%s%s` (load + print)",
                                                    toolRuns[i] ? " " : "",
                                                    toolRuns[i] ? toolRuns[i] : "");
            g_autofree char *note = g_strdup_printf("%lld bytes of output",
                                                    (long long)bytes);
            benchRow(what, spent, rss, note);
        }
    }

    xsnapSnapshotObjListFree(list);
    list = NULL;
    {
        g_autoptr(xsnapSnapshotObjList) again = NULL;
        g_autoptr(GPtrArray) p2 = NULL;

        if (xsnapSnapshotStoreLoad(store, "bench", &again, &p2) < 0 ||
            xsnapSnapshotStoreDeleteAll(store, "bench", again) < 0)
            goto error;
    }
    {
        g_autofree char *top = g_build_filename(root, "snapshot", NULL);
        g_rmdir(top);
        g_rmdir(root);
    }
    return 0;

 error:
    fprintf(stderr, "snapshotbench: %s\n", xsnapGetLastErrorMessage());
    xsnapSnapshotObjListFree(list);
    return 1;
}
