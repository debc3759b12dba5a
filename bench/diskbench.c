/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diskbench.c: timing of the disk snapshot engine (not a test)
 *
 * Online: N disks (1, 4, 16) snapshotted as ONE transaction versus one
 * transaction per disk, for internal and external snapshots, on a real
 * QEMU started like the simulated Xen host starts it.
 * Offline: our plan versus running plain `qemu-img snapshot -c` and
 * `qemu-img create` directly; the overhead is given as a ratio.
 *
 * External snapshots prepared before the pause (as create runs them)
 * are paired with the raw sequence: qemu-img create, blockdev-add, one
 * transaction.
 *
 * Usage: [DISKBENCH_ONLY=online|split|offline] bench/diskbench [repetitions]
 * (prints a Markdown report)
 */
#include <config.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "disk_plan.h"
#include "qemu_block.h"
#include "disktestutils.h"
#include "qemu_img.h"
#include "testutils.h"
#include "util_error.h"

extern char **environ;

static int reps = 7;

static int
cmpDouble(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}


static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmpDouble);
    return v[n / 2];
}


static double
nowMs(void)
{
    return (double)g_get_monotonic_time() / 1000.0;
}


static void
die(const char *what)
{
    fprintf(stderr, "diskbench: %s: %s\n", what, xsnapGetLastErrorMessage());
    exit(EXIT_FAILURE);
}


/* Median milliseconds for snapshotting @n disks, one plan or @n plans. */
static double
benchOnline(size_t n, xsnapDiskSnapshotMode mode, bool perDisk)
{
    g_autofree char *name = g_strdup_printf("online-%zu-%d-%d", n, mode, perDisk);
    g_autofree char *dir = xsnapTestMakeDir(name);
    xsnapTestDisk disks[16];
    char *paths[16];
    char *targets[16];
    char *active[16];
    double t[64];
    xsnapTestQemu *qemu;

    for (size_t i = 0; i < n; i++) {
        targets[i] = g_strdup_printf("xvd%c", (char)('a' + i));
        paths[i] = g_strdup_printf("%s/%s.qcow2", dir, targets[i]);
        active[i] = g_strdup(paths[i]);
        disks[i] = (xsnapTestDisk){ targets[i], paths[i], "qcow2" };
        if (xsnapTestCreateImage(paths[i], "qcow2") < 0)
            die("create image");
    }
    if (!(qemu = xsnapTestQemuStart(dir, disks, n)))
        die("start QEMU");

    for (int r = 0; r < reps; r++) {
        g_autofree char *snap = g_strdup_printf("s%d", r);
        g_autoptr(xsnapDiskPlan) all = xsnapDiskPlanNew(snap);
        double start;

        for (size_t i = 0; i < n; i++) {
            g_autofree char *ov = g_strdup_printf("%s/%s.%s", dir, targets[i], snap);
            xsnapDiskPlanAddDisk(all, targets[i], active[i], "qcow2", mode, ov, false);
        }
        start = nowMs();
        if (perDisk) {
            for (size_t i = 0; i < n; i++) {
                xsnapDiskPlanItem *it = xsnapDiskPlanGetItem(all, i);
                g_autoptr(xsnapDiskPlan) one = xsnapDiskPlanNew(snap);
                xsnapDiskPlanAddDisk(one, it->target, it->path, it->format, it->mode,
                                     it->newPath, false);
                if (xsnapDiskPlanRunOnline(one, qemu->mon) < 0)
                    die("per-disk plan");
            }
        } else if (xsnapDiskPlanRunOnline(all, qemu->mon) < 0) {
            die("plan");
        }
        t[r] = nowMs() - start;
        for (size_t i = 0; i < n; i++) {
            g_free(active[i]);
            active[i] = g_strdup(xsnapDiskPlanItemActivePath(xsnapDiskPlanGetItem(all, i)));
        }
    }
    xsnapTestQemuStop(qemu);
    for (size_t i = 0; i < n; i++) {
        g_free(targets[i]);
        g_free(paths[i]);
        g_free(active[i]);
    }
    return median(t, reps);
}


/*
 * Runs @argv the leanest way: posix_spawnp with its output to /dev/null,
 * then a blocking waitpid. This is the bare command's cost.
 */
static void
rawRun(const char *const *argv)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = 0;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "diskbench: %s failed\n", argv[0]);
        exit(EXIT_FAILURE);
    }
    posix_spawn_file_actions_destroy(&fa);
}


typedef struct {
    double prepare;      /* ours, before the pause: map + overlays + blockdev-add */
    double window;       /* ours, inside the pause: reconnect + transaction */
    double total;        /* prepare + window */
    double rawTotal;     /* qemu-img create + blockdev-add + transaction */
    double rawTx;        /* the transaction alone, overlays made beforehand */
    double rWindow;      /* median of window / rawTx, pair by pair */
    double rTotal;       /* median of total / rawTotal, pair by pair */
} SplitResult;


/*
 * External snapshots of @n disks the way create runs them (prepared
 * before the pause, then a new connection and the transaction), paired
 * in each repetition with the raw sequence on @n other disks of the
 * same QEMU: qemu-img create, blockdev-add, one transaction.
 */
static SplitResult
benchExternalSplit(size_t n)
{
    g_autofree char *name = g_strdup_printf("split-%zu", n);
    g_autofree char *dir = xsnapTestMakeDir(name);
    g_autofree char *qmpPath = NULL;
    xsnapTestDisk disks[32];
    char *paths[32];
    char *targets[32];
    char *active[32];
    char *rawNode[32];
    double tp[64], tw[64], tt[64], trt[64], trx[64], rw[64], rt[64];
    xsnapTestQemu *qemu;
    SplitResult res;

    for (size_t i = 0; i < 2 * n; i++) {
        targets[i] = g_strdup_printf("%s%c", i < n ? "xvd" : "raw", (char)('a' + i % n));
        paths[i] = g_strdup_printf("%s/%s.qcow2", dir, targets[i]);
        active[i] = g_strdup(paths[i]);
        rawNode[i] = g_strdup(targets[i]);
        disks[i] = (xsnapTestDisk){ targets[i], paths[i], "qcow2" };
        if (xsnapTestCreateImage(paths[i], "qcow2") < 0)
            die("create image");
    }
    if (!(qemu = xsnapTestQemuStart(dir, disks, 2 * n)))
        die("start QEMU");
    qmpPath = g_strdup(xsnapQemuMonitorGetPath(qemu->mon));
    /* QEMU serves one monitor at a time, as libxl's socket does. */
    g_clear_pointer(&qemu->mon, xsnapQemuMonitorClose);

    for (int r = 0; r < reps; r++) {
        g_autofree char *snap = g_strdup_printf("s%d", r);
        g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew(snap);
        g_autoptr(xsnapQemuMonitor) mon = NULL;
        g_autoptr(xsnapQemuMonitor) raw = NULL;
        json_object *actions;
        double t0, t1, t2;

        for (size_t i = 0; i < n; i++) {
            g_autofree char *ov = g_strdup_printf("%s/%s.%s", dir, targets[i], snap);
            xsnapDiskPlanAddDisk(plan, targets[i], active[i], "qcow2",
                                 XSNAP_DISK_SNAPSHOT_EXTERNAL, ov, false);
        }
        /* Ours: the create's split, on the create's own calls. */
        t0 = nowMs();
        if (!(mon = xsnapQemuMonitorOpen(qmpPath, NULL)) ||
            xsnapDiskPlanPrepareOnline(plan, mon) < 0)
            die("prepare");
        g_clear_pointer(&mon, xsnapQemuMonitorClose);
        t1 = nowMs();
        if (!(mon = xsnapQemuMonitorOpen(qmpPath, NULL)) ||
            xsnapDiskPlanRunOnline(plan, mon) < 0)
            die("run");
        t2 = nowMs();
        g_clear_pointer(&mon, xsnapQemuMonitorClose);
        tp[r] = t1 - t0;
        tw[r] = t2 - t1;
        tt[r] = t2 - t0;
        for (size_t i = 0; i < n; i++) {
            g_free(active[i]);
            active[i] = g_strdup(xsnapDiskPlanItemActivePath(xsnapDiskPlanGetItem(plan, i)));
        }

        /* Raw: what a script that knows the node names would send, on
         * a connection opened beforehand. */
        if (!(raw = xsnapQemuMonitorOpen(qmpPath, NULL)))
            die("raw connection");
        t0 = nowMs();
        actions = json_object_new_array();
        for (size_t i = n; i < 2 * n; i++) {
            g_autofree char *ov = g_strdup_printf("%s/%s.%s", dir, targets[i], snap);
            g_autofree char *node = g_strdup_printf("%s-%s", targets[i], snap);
            const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                                   "-b", active[i], ov, NULL };

            rawRun(argv);
            if (xsnapQemuBlockdevAddOverlay(raw, node, ov) < 0)
                die("raw blockdev-add");
            json_object_array_add(actions, xsnapQemuActionSnapshotExternal(rawNode[i], node));
            g_free(active[i]);
            active[i] = g_steal_pointer(&ov);
            g_free(rawNode[i]);
            rawNode[i] = g_steal_pointer(&node);
        }
        t1 = nowMs();
        if (xsnapQemuTransaction(raw, actions) < 0)
            die("raw transaction");
        t2 = nowMs();
        trt[r] = t2 - t0;
        trx[r] = t2 - t1;
        rw[r] = tw[r] / trx[r];
        rt[r] = tt[r] / trt[r];
    }
    if (!(qemu->mon = xsnapQemuMonitorOpen(qmpPath, NULL)))
        die("monitor");
    xsnapTestQemuStop(qemu);
    for (size_t i = 0; i < 2 * n; i++) {
        g_free(targets[i]);
        g_free(paths[i]);
        g_free(active[i]);
        g_free(rawNode[i]);
    }
    res.prepare = median(tp, reps);
    res.window = median(tw, reps);
    res.total = median(tt, reps);
    res.rawTotal = median(trt, reps);
    res.rawTx = median(trx, reps);
    res.rWindow = median(rw, reps);
    res.rTotal = median(rt, reps);
    return res;
}



/*
 * Offline: ours versus the bare qemu-img command (spawned and waited for
 * as a script would), alternating which goes first; median ms each and
 * the median of the per-pair ratios.
 */
static void
benchOffline(bool external, double *ours, double *plain, double *ratio)
{
    g_autofree char *dir = xsnapTestMakeDir(external ? "offline-ext" : "offline-int");
    g_autofree char *img = g_strdup_printf("%s/disk.qcow2", dir);
    double to[64];
    double tp[64];
    double tr[64];

    if (xsnapTestCreateImage(img, "qcow2") < 0)
        die("create image");
    for (int r = 0; r < reps; r++) {
        g_autofree char *snapA = g_strdup_printf("a%d", r);
        g_autofree char *snapB = g_strdup_printf("b%d", r);
        g_autofree char *ovA = g_strdup_printf("%s/disk.%s", dir, snapA);
        g_autofree char *ovB = g_strdup_printf("%s/disk.%s", dir, snapB);
        g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew(snapA);
        const char *extArgv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                                  "-b", img, ovB, NULL };
        const char *intArgv[] = { "qemu-img", "snapshot", "-c", snapB, img, NULL };
        double start;

        xsnapDiskPlanAddDisk(plan, "hda", img, "qcow2",
                             external ? XSNAP_DISK_SNAPSHOT_EXTERNAL :
                             XSNAP_DISK_SNAPSHOT_INTERNAL, ovA, false);
        for (int k = 0; k < 2; k++) {
            if ((k == 0) == (r % 2 == 0)) {
                start = nowMs();
                if (xsnapDiskPlanRunOffline(plan) < 0)
                    die("offline plan");
                to[r] = nowMs() - start;
            } else {
                start = nowMs();
                rawRun(external ? extArgv : intArgv);
                tp[r] = nowMs() - start;
            }
        }
        tr[r] = to[r] / tp[r];
    }
    *ours = median(to, reps);
    *plain = median(tp, reps);
    *ratio = median(tr, reps);
}


int
main(int argc, char **argv)
{
    static const size_t sizes[] = { 1, 4, 16 };
    /* DISKBENCH_ONLY=online|split|offline runs that table alone. */
    const char *only = getenv("DISKBENCH_ONLY");

    if (argc > 1)
        reps = CLAMP(atoi(argv[1]), 1, 64);
    if (!xsnapTestHaveQemu()) {
        fprintf(stderr, "diskbench: needs qemu-system-x86_64, qemu-img, qemu-io, stdbuf\n");
        return EXIT_AM_SKIP;
    }

    printf("Median of %d runs, milliseconds.\n\n", reps);
    if (only && !g_str_equal(only, "online"))
        goto split;
    printf("### Online (QMP), qcow2 disks\n\n");
    printf("| disks | mode | one transaction | one transaction per disk | per-disk / one |\n");
    printf("|---:|---|---:|---:|---:|\n");
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
        for (int m = XSNAP_DISK_SNAPSHOT_INTERNAL; m <= XSNAP_DISK_SNAPSHOT_EXTERNAL; m++) {
            double one = benchOnline(sizes[s], m, false);
            double each = benchOnline(sizes[s], m, true);
            printf("| %zu | %s | %.1f | %.1f | %.2f |\n", sizes[s],
                   xsnapDiskSnapshotModeTypeToString(m), one, each, each / one);
            fflush(stdout);
        }
    }


 split:
    if (only && !g_str_equal(only, "split"))
        goto offline;
    printf("\n### External, prepared before the pause, against the raw sequence\n\n");
    printf("Each repetition runs ours, then the raw sequence on other disks of the same QEMU.\n");
    printf("Window: a new connection and the transaction (what the pause holds);\n");
    printf("raw: `qemu-img create`, `blockdev-add`, one `transaction` on an open connection.\n");
    printf("Ratios are medians of the per-repetition ratios.\n\n");
    printf("| disks | prepare | window | total | raw transaction | raw total | window / raw transaction | total / raw total |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
        SplitResult sr = benchExternalSplit(sizes[s]);
        printf("| %zu | %.1f | %.2f | %.1f | %.2f | %.1f | %.2f | %.2f |\n", sizes[s],
               sr.prepare, sr.window, sr.total, sr.rawTx, sr.rawTotal,
               sr.rWindow, sr.rTotal);
        fflush(stdout);
    }

 offline:
    if (only && !g_str_equal(only, "offline"))
        goto cleanup;
    printf("\n### Offline (qemu-img), one qcow2 disk\n\n");
    printf("| operation | our plan | bare qemu-img | ours / bare (median of pairs) |\n");
    printf("|---|---:|---:|---:|\n");
    for (int e = 0; e <= 1; e++) {
        double ours;
        double plain;
        double ratio;
        benchOffline(e, &ours, &plain, &ratio);
        printf("| %s | %.1f | %.1f | %.2f |\n",
               e ? "external (`qemu-img create -b`)" : "internal (`qemu-img snapshot -c`)",
               ours, plain, ratio);
    }


 cleanup:
    if (!getenv("XSNAP_TEST_TMP")) {
        const char *rm[] = { "rm", "-rf", xsnapTestTmpDir(), NULL };
        xsnapCommandRun(rm, 60000, NULL);
    }
    return 0;
}
