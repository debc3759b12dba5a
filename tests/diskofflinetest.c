/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diskofflinetest.c: the disk engine offline, through qemu-img only
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk_plan.h"
#include "disktestutils.h"
#include "qemu_img.h"
#include "testutils.h"
#include "util_error.h"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            goto cleanup; \
        } \
    } while (0)


/* Makes @n images in @dir: even ones qcow2, odd ones raw; pattern 0x20+i. */
static int
offlineImages(const char *dir, size_t n, char **paths)
{
    for (size_t i = 0; i < n; i++) {
        const char *fmt = i % 2 ? "raw" : "qcow2";
        paths[i] = g_strdup_printf("%s/disk%zu.%s", dir, i, i % 2 ? "img" : "qcow2");
        if (xsnapTestCreateImage(paths[i], fmt) < 0 ||
            xsnapTestImageWrite(paths[i], fmt, 0x20 + i, 0) < 0)
            return -1;
    }
    return 0;
}


/* qcow2 internal + raw external + qcow2 external, then data after it. */
static int
testOfflinePlan(const void *data XSNAP_UNUSED)
{
    g_autofree char *dir = xsnapTestMakeDir("offline-plan");
    char *paths[3] = { NULL };
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("off");
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    g_auto(GStrv) names = NULL;
    int ret = -1;

    CHECK(offlineImages(dir, 3, paths) == 0);
    xsnapDiskPlanAddDisk(plan, "hda", paths[0], "qcow2", XSNAP_DISK_SNAPSHOT_INTERNAL,
                         NULL, false);
    for (size_t i = 1; i < 3; i++) {
        g_autofree char *ov = xsnapDiskOverlayPathDefault(paths[i], "off");
        xsnapDiskPlanAddDisk(plan, i == 1 ? "hdb" : "hdc", paths[i],
                             i % 2 ? "raw" : "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL, ov, false);
    }
    CHECK(xsnapDiskPlanRunOffline(plan) == 0);
    CHECK(xsnapQemuImgSnapshotList(paths[0], &names) == 0);
    CHECK(g_strv_length(names) == 1 && g_str_equal(names[0], "off"));
    CHECK(xsnapTestImageWrite(paths[0], "qcow2", 0x90, 0) == 0);
    CHECK(xsnapDiskRevertInternal(paths[0], "off") == 0);
    CHECK(xsnapTestImageCheck(paths[0], "qcow2", 0x20, 0) == 0);
    for (size_t i = 1; i < 3; i++) {
        const char *ov = xsnapDiskPlanItemActivePath(xsnapDiskPlanGetItem(plan, i));
        g_autoptr(xsnapQemuImgInfo) oi = xsnapQemuImgGetInfo(ov, NULL);
        CHECK(oi && g_str_equal(oi->format, "qcow2") && g_str_equal(oi->backingFile, paths[i]));
        CHECK(xsnapTestImageWrite(ov, "qcow2", 0x90 + i, 0) == 0);
        CHECK(xsnapTestImageCheck(paths[i], i % 2 ? "raw" : "qcow2", 0x20 + i, 0) == 0);
    }
    /* delete the external snapshot of hdb offline: commit the overlay */
    {
        const char *ov = xsnapDiskPlanItemActivePath(xsnapDiskPlanGetItem(plan, 1));
        CHECK(xsnapDiskCommit(NULL, "hdb", ov, NULL, paths[1], 0, NULL, NULL) == 0);
        CHECK(xsnapTestImageCheck(paths[1], "raw", 0x91, 0) == 0);
    }
    /* delete the internal snapshot offline */
    CHECK(xsnapDiskDeleteInternal(NULL, "hda", paths[0], "off") == 0);
    CHECK((info = xsnapQemuImgGetInfo(paths[0], NULL)));
    CHECK(!xsnapQemuImgInfoHasSnapshot(info, "off"));
    CHECK(xsnapDiskDeleteInternal(NULL, "hda", paths[0], "off") < 0);
    ret = 0;
 cleanup:
    for (size_t i = 0; i < 3; i++)
        g_free(paths[i]);
    return ret;
}


/* The third disk fails: the first two steps are undone, nothing is left. */
static int
testOfflineRollback(const void *data XSNAP_UNUSED)
{
    g_autofree char *dir = xsnapTestMakeDir("offline-rollback");
    g_autofree char *ovB = NULL;
    g_autofree char *bad = NULL;
    char *paths[3] = { NULL };
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("rb");
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int files;
    int ret = -1;

    CHECK(offlineImages(dir, 3, paths) == 0);
    ovB = xsnapDiskOverlayPathDefault(paths[1], "rb");
    bad = g_strdup_printf("%s/missing-dir/disk2.rb", dir);
    files = xsnapTestCountFiles(dir);
    xsnapDiskPlanAddDisk(plan, "hda", paths[0], "qcow2", XSNAP_DISK_SNAPSHOT_INTERNAL,
                         NULL, false);
    xsnapDiskPlanAddDisk(plan, "hdb", paths[1], "raw", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                         ovB, false);
    xsnapDiskPlanAddDisk(plan, "hdc", paths[2], "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                         bad, false);
    CHECK(xsnapDiskPlanRunOffline(plan) < 0);
    CHECK(strstr(xsnapGetLastErrorMessage(), "missing-dir"));
    CHECK(xsnapTestCountFiles(dir) == files);
    CHECK((info = xsnapQemuImgGetInfo(paths[0], NULL)));
    CHECK(!xsnapQemuImgInfoHasSnapshot(info, "rb"));
    for (size_t i = 0; i < 3; i++)
        CHECK(xsnapTestImageCheck(paths[i], i % 2 ? "raw" : "qcow2", 0x20 + i, 0) == 0);

    /* wrong format in the plan: refused before anything runs */
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("fmt");
        xsnapDiskPlanAddDisk(p, "hdb", paths[1], "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             ovB, false);
        CHECK(xsnapDiskPlanRunOffline(p) < 0);
        CHECK(strstr(xsnapGetLastErrorMessage(), "qcow2"));
        CHECK(xsnapTestCountFiles(dir) == files);
    }
    ret = 0;
 cleanup:
    for (size_t i = 0; i < 3; i++)
        g_free(paths[i]);
    return ret;
}


/*
 * A completed offline plan taken back: the internal snapshot goes, the
 * overlay we made goes, a reused overlay stays; no image changes.
 */
static int
testOfflineUndo(const void *data XSNAP_UNUSED)
{
    g_autofree char *dir = xsnapTestMakeDir("offline-undo");
    g_autofree char *ovB = NULL;
    g_autofree char *ovC = NULL;
    char *paths[3] = { NULL };
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("un");
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int files;
    int ret = -1;

    CHECK(offlineImages(dir, 3, paths) == 0);
    ovB = xsnapDiskOverlayPathDefault(paths[1], "un");
    ovC = g_strdup_printf("%s/prepared.qcow2", dir);
    CHECK(xsnapQemuImgCreateOverlay(ovC, paths[2], "qcow2") == 0);
    files = xsnapTestCountFiles(dir);
    xsnapDiskPlanAddDisk(plan, "hda", paths[0], "qcow2", XSNAP_DISK_SNAPSHOT_INTERNAL,
                         NULL, false);
    xsnapDiskPlanAddDisk(plan, "hdb", paths[1], "raw", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                         ovB, false);
    xsnapDiskPlanAddDisk(plan, "hdc", paths[2], "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                         ovC, true);
    CHECK(xsnapDiskPlanRunOffline(plan) == 0);
    CHECK(xsnapTestCountFiles(dir) == files + 1);
    CHECK(xsnapDiskPlanUndo(plan, NULL) == 0);
    CHECK(xsnapTestCountFiles(dir) == files);
    CHECK(!g_file_test(ovB, G_FILE_TEST_EXISTS));
    CHECK(g_file_test(ovC, G_FILE_TEST_EXISTS));
    CHECK((info = xsnapQemuImgGetInfo(paths[0], NULL)));
    CHECK(!xsnapQemuImgInfoHasSnapshot(info, "un"));
    for (size_t i = 0; i < 3; i++)
        CHECK(xsnapTestImageCheck(paths[i], i % 2 ? "raw" : "qcow2", 0x20 + i, 0) == 0);
    /* the same plan runs again after its undo */
    CHECK(xsnapDiskPlanRunOffline(plan) == 0);
    CHECK(g_file_test(ovB, G_FILE_TEST_EXISTS));
    ret = 0;
 cleanup:
    for (size_t i = 0; i < 3; i++)
        g_free(paths[i]);
    return ret;
}


/* base <- mid <- top offline: commit mid into base, top is rebased. */
static int
testOfflineCommitMiddle(const void *data XSNAP_UNUSED)
{
    g_autofree char *dir = xsnapTestMakeDir("offline-commit");
    g_autofree char *base = g_strdup_printf("%s/base.img", dir);
    g_autofree char *mid = g_strdup_printf("%s/base.mid", dir);
    g_autofree char *top = g_strdup_printf("%s/base.top", dir);
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int ret = -1;

    CHECK(xsnapTestCreateImage(base, "raw") == 0);
    CHECK(xsnapTestImageWrite(base, "raw", 0x01, 0) == 0);
    CHECK(xsnapQemuImgCreateOverlay(mid, base, "raw") == 0);
    CHECK(xsnapTestImageWrite(mid, "qcow2", 0x02, 65536) == 0);
    CHECK(xsnapQemuImgCreateOverlay(top, mid, "qcow2") == 0);
    CHECK(xsnapTestImageWrite(top, "qcow2", 0x03, 131072) == 0);
    CHECK(xsnapDiskCommit(NULL, "hda", top, mid, base, 0, NULL, NULL) == 0);
    CHECK((info = xsnapQemuImgGetInfo(top, NULL)));
    CHECK(g_str_equal(info->backingFile, base) && g_str_equal(info->backingFormat, "raw"));
    CHECK(xsnapTestImageCheck(base, "raw", 0x02, 65536) == 0);
    CHECK(xsnapTestImageCheck(top, "qcow2", 0x01, 0) == 0);
    CHECK(xsnapTestImageCheck(top, "qcow2", 0x02, 65536) == 0);
    CHECK(xsnapTestImageCheck(top, "qcow2", 0x03, 131072) == 0);
    /* not in the chain */
    CHECK(xsnapDiskCommit(NULL, "hda", top, "/nowhere.qcow2", base, 0, NULL, NULL) < 0);
    CHECK(strstr(xsnapGetLastErrorMessage(), "not in that order"));
    CHECK(xsnapDiskCommit(NULL, "hda", top, base, top, 0, NULL, NULL) < 0);
    ret = 0;
 cleanup:
    return ret;
}


static int
mymain(void)
{
    int ret = 0;

    if (!xsnapTestHaveQemu())
        return EXIT_AM_SKIP;
    if (xsnapTestRun("offline plan: internal + external, revert, delete", testOfflinePlan, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("offline plan rolls back on failure", testOfflineRollback, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("offline plan taken back after it completed", testOfflineUndo, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("offline commit of a middle layer", testOfflineCommitMiddle, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
