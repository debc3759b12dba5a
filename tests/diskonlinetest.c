/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diskonlinetest.c: the disk engine on a real QEMU device model
 *
 * Each case starts QEMU the way the simulated Xen host does, writes
 * patterns through HMP qemu-io, runs the engine, and proves the content
 * of every layer afterwards (online through QEMU, offline with qemu-io).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk_plan.h"
#include "disktestutils.h"
#include "qemu_block.h"
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

typedef struct {
    char *dir;
    xsnapTestDisk disks[16];
    char *paths[16];
    size_t n;
    xsnapTestQemu *qemu;
} testEnv;


/* Creates @n disks; formats cycle through @formats ("q" qcow2, "r" raw). */
static int
testEnvSetup(testEnv *env, const char *name, size_t n, const char *formats)
{
    static const char *const targets[] = {
        "xvda", "xvdb", "xvdc", "xvdd", "xvde", "xvdf", "xvdg", "xvdh",
        "xvdi", "xvdj", "xvdk", "xvdl", "xvdm", "xvdn", "xvdo", "xvdp",
    };

    memset(env, 0, sizeof(*env));
    env->dir = xsnapTestMakeDir(name);
    env->n = n;
    for (size_t i = 0; i < n; i++) {
        bool raw = formats[i % strlen(formats)] == 'r';
        env->disks[i].target = targets[i];
        env->disks[i].format = raw ? "raw" : "qcow2";
        env->paths[i] = g_strdup_printf("%s/%s.%s", env->dir, targets[i],
                                        raw ? "img" : "qcow2");
        env->disks[i].path = env->paths[i];
        if (xsnapTestCreateImage(env->paths[i], env->disks[i].format) < 0)
            return -1;
    }
    if (!(env->qemu = xsnapTestQemuStart(env->dir, env->disks, n)))
        return -1;
    return 0;
}


static void
testEnvClear(testEnv *env)
{
    xsnapTestQemuStop(env->qemu);
    for (size_t i = 0; i < env->n; i++)
        g_free(env->paths[i]);
    g_free(env->dir);
}


static int
testMapping(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapBlockNodeList) list = NULL;
    const xsnapBlockNode *node;
    int ret = -1;

    CHECK(testEnvSetup(&env, "mapping", 2, "qr") == 0);
    CHECK((list = xsnapQemuBlockQuery(env.qemu->mon)));
    CHECK((node = xsnapBlockNodeListFindDisk(list, "xvda", env.paths[0])));
    CHECK(g_str_equal(node->nodeName, "xvda") && g_str_equal(node->driver, "qcow2"));
    CHECK((node = xsnapBlockNodeListFindDisk(list, "xvdb", env.paths[1])));
    CHECK(g_str_equal(node->nodeName, "xvdb") && g_str_equal(node->driver, "raw"));
    /* by target alone */
    CHECK((node = xsnapBlockNodeListFindDisk(list, "xvdb", NULL)));
    CHECK(g_str_equal(node->nodeName, "xvdb"));
    /* unknown disk */
    CHECK(!xsnapBlockNodeListFindDisk(list, "xvdz", "/nonexistent.img"));
    CHECK(strstr(xsnapGetLastErrorMessage(), "not served by the device model"));
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


/* Internal snapshot online, delete online, revert offline. */
static int
testInternal(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("s1");
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int ret = -1;

    CHECK(testEnvSetup(&env, "internal", 1, "q") == 0);
    CHECK(xsnapTestQemuWrite(env.qemu, "xvda", 0xab, 0) == 0);
    xsnapDiskPlanAddDisk(plan, "xvda", env.paths[0], "qcow2",
                         XSNAP_DISK_SNAPSHOT_INTERNAL, NULL, false);
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) == 0);
    CHECK(xsnapTestQemuWrite(env.qemu, "xvda", 0xcd, 0) == 0);
    CHECK(xsnapTestQemuCheck(env.qemu, "xvda", 0xcd, 0) == 0);
    /* the content checks do catch a wrong pattern */
    CHECK(xsnapTestQemuCheck(env.qemu, "xvda", 0xab, 0) < 0);
    /* a second snapshot with the same name is refused before anything runs */
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) < 0);
    CHECK(strstr(xsnapGetLastErrorMessage(), "already has an internal snapshot"));

    /* a second snapshot, deleted online */
    {
        g_autoptr(xsnapDiskPlan) p2 = xsnapDiskPlanNew("s2");
        xsnapDiskPlanAddDisk(p2, "xvda", env.paths[0], "qcow2",
                             XSNAP_DISK_SNAPSHOT_INTERNAL, NULL, false);
        CHECK(xsnapDiskPlanRunOnline(p2, env.qemu->mon) == 0);
        CHECK(xsnapDiskDeleteInternal(env.qemu->mon, "xvda", env.paths[0], "s2") == 0);
        CHECK(xsnapDiskDeleteInternal(env.qemu->mon, "xvda", env.paths[0], "s2") < 0);
    }
    xsnapTestQemuStop(env.qemu);
    env.qemu = NULL;

    CHECK((info = xsnapQemuImgGetInfo(env.paths[0], NULL)));
    CHECK(xsnapQemuImgInfoHasSnapshot(info, "s1"));
    CHECK(!xsnapQemuImgInfoHasSnapshot(info, "s2"));
    CHECK(xsnapTestImageCheck(env.paths[0], "qcow2", 0xcd, 0) == 0);
    CHECK(xsnapTestImageCheck(env.paths[0], "qcow2", 0xab, 0) < 0);
    CHECK(xsnapDiskRevertInternal(env.paths[0], "s1") == 0);
    CHECK(xsnapTestImageCheck(env.paths[0], "qcow2", 0xab, 0) == 0);
    CHECK(xsnapDiskRevertInternal(env.paths[0], "nope") < 0);
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


/* External snapshot of a raw and a qcow2 disk; active commit; revert. */
static int
testExternal(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("ext1");
    g_autofree char *ovA = NULL;
    g_autofree char *ovB = NULL;
    g_autofree char *rev = NULL;
    g_autofree char *rev2 = NULL;
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int ret = -1;

    CHECK(testEnvSetup(&env, "external", 2, "rq") == 0);
    ovA = xsnapDiskOverlayPathDefault(env.paths[0], "ext1");
    ovB = xsnapDiskOverlayPathDefault(env.paths[1], "ext1");
    CHECK(g_str_has_suffix(ovA, "/xvda.ext1") && g_str_has_suffix(ovB, "/xvdb.ext1"));
    CHECK(xsnapTestQemuWrite(env.qemu, "xvda", 0xab, 0) == 0);
    CHECK(xsnapTestQemuWrite(env.qemu, "xvdb", 0xab, 0) == 0);
    xsnapDiskPlanAddDisk(plan, "xvda", env.paths[0], "raw",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovA, false);
    xsnapDiskPlanAddDisk(plan, "xvdb", env.paths[1], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovB, false);
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) == 0);

    /* the overlays are the active layers now */
    {
        g_autoptr(xsnapBlockNodeList) list = xsnapQemuBlockQuery(env.qemu->mon);
        const xsnapBlockNode *node;
        CHECK(list);
        CHECK((node = xsnapBlockNodeListFindDisk(list, "xvda", ovA)));
        CHECK(g_str_equal(node->nodeName, xsnapDiskPlanGetItem(plan, 0)->overlayNode));
        CHECK(!xsnapBlockNodeListFindDisk(list, "xvda", env.paths[0]));
    }
    CHECK((info = xsnapQemuImgGetInfo(ovA, NULL)));
    CHECK(g_str_equal(info->format, "qcow2") && g_str_equal(info->backingFile, env.paths[0]) &&
          g_str_equal(info->backingFormat, "raw"));

    /* writes go to the overlay; the snapshot image keeps its content */
    CHECK(xsnapTestQemuWrite(env.qemu, xsnapDiskPlanGetItem(plan, 0)->overlayNode, 0xcd, 0) == 0);
    CHECK(xsnapTestQemuCheck(env.qemu, xsnapDiskPlanGetItem(plan, 0)->overlayNode, 0xcd, 0) == 0);
    CHECK(xsnapTestImageCheck(env.paths[0], "raw", 0xab, 0) == 0);

    /* delete the snapshot of xvda: active commit, pivot to the base */
    CHECK(xsnapDiskCommit(env.qemu->mon, "xvda", ovA, NULL, env.paths[0],
                          30000, NULL, NULL) == 0);
    {
        g_autoptr(xsnapBlockNodeList) list = xsnapQemuBlockQuery(env.qemu->mon);
        CHECK(list);
        CHECK(xsnapBlockNodeListFindDisk(list, "xvda", env.paths[0]));
        CHECK(!xsnapBlockNodeListFindImage(list, ovA));
    }
    CHECK(xsnapTestQemuCheck(env.qemu, "xvda", 0xcd, 0) == 0);
    CHECK(xsnapTestImageCheck(env.paths[0], "raw", 0xcd, 0) == 0);

    /* revert xvdb to ext1 offline: a fresh overlay over the snapshot image */
    CHECK(xsnapTestQemuWrite(env.qemu, xsnapDiskPlanGetItem(plan, 1)->overlayNode, 0xef, 0) == 0);
    xsnapTestQemuStop(env.qemu);
    env.qemu = NULL;
    CHECK((rev = xsnapDiskRevertExternal(env.paths[1], "qcow2", env.paths[1], "ext1")));
    CHECK(g_str_has_suffix(rev, "/xvdb.ext1-1"));
    CHECK((rev2 = xsnapDiskRevertExternal(env.paths[1], "qcow2", env.paths[1], "ext1")));
    CHECK(g_str_has_suffix(rev2, ".ext1-2"));
    CHECK(xsnapTestImageCheck(rev, "qcow2", 0xab, 0) == 0);
    /* the other branch is intact */
    CHECK(xsnapTestImageCheck(ovB, "qcow2", 0xef, 0) == 0);
    CHECK(xsnapTestImageWrite(rev, "qcow2", 0x11, 0) == 0);
    CHECK(xsnapTestImageCheck(ovB, "qcow2", 0xef, 0) == 0);
    CHECK(xsnapTestImageCheck(rev2, "qcow2", 0xab, 0) == 0);
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


static void
testProgress(const xsnapDiskJobProgress *p, void *opaque)
{
    unsigned int *calls = opaque;

    (*calls)++;
    if (g_getenv("VERBOSE"))
        fprintf(stderr, "    job %s %s %llu/%llu\n", p->jobId, p->status,
                p->current, p->total);
}


/* base <- mid <- top: commit mid into base while top stays active. */
static int
testCommitNonActive(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapDiskPlan) p1 = xsnapDiskPlanNew("mid");
    g_autoptr(xsnapDiskPlan) p2 = xsnapDiskPlanNew("top");
    g_autofree char *mid = NULL;
    g_autofree char *top = NULL;
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    unsigned int calls = 0;
    int ret = -1;

    CHECK(testEnvSetup(&env, "commit", 1, "q") == 0);
    mid = xsnapDiskOverlayPathDefault(env.paths[0], "mid");
    top = xsnapDiskOverlayPathDefault(env.paths[0], "top");
    CHECK(xsnapTestQemuWrite(env.qemu, "xvda", 0xa1, 0) == 0);
    xsnapDiskPlanAddDisk(p1, "xvda", env.paths[0], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, mid, false);
    CHECK(xsnapDiskPlanRunOnline(p1, env.qemu->mon) == 0);
    CHECK(xsnapTestQemuWrite(env.qemu, xsnapDiskPlanGetItem(p1, 0)->overlayNode, 0xa2, 65536) == 0);
    xsnapDiskPlanAddDisk(p2, "xvda", mid, "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, top, false);
    CHECK(xsnapDiskPlanRunOnline(p2, env.qemu->mon) == 0);
    CHECK(xsnapTestQemuWrite(env.qemu, xsnapDiskPlanGetItem(p2, 0)->overlayNode, 0xa3, 131072) == 0);

    CHECK(xsnapDiskCommit(env.qemu->mon, "xvda", top, mid, env.paths[0],
                          30000, testProgress, &calls) == 0);
    CHECK(calls > 0);
    {
        const char *node = xsnapDiskPlanGetItem(p2, 0)->overlayNode;
        CHECK(xsnapTestQemuCheck(env.qemu, node, 0xa1, 0) == 0);
        CHECK(xsnapTestQemuCheck(env.qemu, node, 0xa2, 65536) == 0);
        CHECK(xsnapTestQemuCheck(env.qemu, node, 0xa3, 131072) == 0);
    }
    xsnapTestQemuStop(env.qemu);
    env.qemu = NULL;
    CHECK(xsnapTestImageCheck(env.paths[0], "qcow2", 0xa2, 65536) == 0);
    CHECK((info = xsnapQemuImgGetInfo(top, NULL)));
    CHECK(g_str_equal(info->backingFile, env.paths[0]));
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


/* 1 and 8 disks, mixed formats and modes, in one transaction. */
static int
testMixed(const void *data)
{
    size_t n = GPOINTER_TO_SIZE(data);
    testEnv env;
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("mix");
    g_autofree char *name = g_strdup_printf("mixed%zu", n);
    int ret = -1;

    CHECK(testEnvSetup(&env, name, n, "qqr") == 0);
    for (size_t i = 0; i < n; i++) {
        g_autofree char *ov = xsnapDiskOverlayPathDefault(env.paths[i], "mix");
        bool raw = g_str_equal(env.disks[i].format, "raw");
        CHECK(xsnapTestQemuWrite(env.qemu, env.disks[i].target, 0x10 + i, 0) == 0);
        xsnapDiskPlanAddDisk(plan, env.disks[i].target, env.paths[i], env.disks[i].format,
                             raw || i % 2 ? XSNAP_DISK_SNAPSHOT_EXTERNAL :
                             XSNAP_DISK_SNAPSHOT_INTERNAL, ov, false);
    }
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) == 0);
    for (size_t i = 0; i < n; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);
        const char *node = item->overlayNode ? item->overlayNode : env.disks[i].target;
        CHECK(xsnapTestQemuWrite(env.qemu, node, 0x80 + i, 0) == 0);
    }
    xsnapTestQemuStop(env.qemu);
    env.qemu = NULL;
    for (size_t i = 0; i < n; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);
        if (item->mode == XSNAP_DISK_SNAPSHOT_EXTERNAL) {
            CHECK(xsnapTestImageCheck(item->path, item->format, 0x10 + i, 0) == 0);
            CHECK(xsnapTestImageCheck(item->newPath, "qcow2", 0x80 + i, 0) == 0);
        } else {
            CHECK(xsnapTestImageCheck(item->path, "qcow2", 0x80 + i, 0) == 0);
            CHECK(xsnapDiskRevertInternal(item->path, "mix") == 0);
            CHECK(xsnapTestImageCheck(item->path, "qcow2", 0x10 + i, 0) == 0);
        }
    }
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


/* A prepared overlay is reused when it fits; refused (and kept) otherwise. */
static int
testReuse(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapDiskPlan) bad = xsnapDiskPlanNew("r");
    g_autoptr(xsnapDiskPlan) good = xsnapDiskPlanNew("r");
    g_autofree char *ov = NULL;
    g_autofree char *other = NULL;
    int ret = -1;

    CHECK(testEnvSetup(&env, "reuse", 1, "q") == 0);
    ov = g_strdup_printf("%s/prepared.qcow2", env.dir);
    other = g_strdup_printf("%s/other.qcow2", env.dir);
    CHECK(xsnapTestCreateImage(other, "qcow2") == 0);
    CHECK(xsnapQemuImgCreateOverlay(ov, other, "qcow2") == 0);
    xsnapDiskPlanAddDisk(bad, "xvda", env.paths[0], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ov, true);
    CHECK(xsnapDiskPlanRunOnline(bad, env.qemu->mon) < 0);
    CHECK(strstr(xsnapGetLastErrorMessage(), "as its backing file"));
    CHECK(g_file_test(ov, G_FILE_TEST_EXISTS));

    unlink(ov);
    CHECK(xsnapQemuImgCreateOverlay(ov, env.paths[0], "qcow2") == 0);
    CHECK(xsnapTestQemuWrite(env.qemu, "xvda", 0x33, 0) == 0);
    xsnapDiskPlanAddDisk(good, "xvda", env.paths[0], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ov, true);
    CHECK(xsnapDiskPlanRunOnline(good, env.qemu->mon) == 0);
    CHECK(xsnapTestQemuCheck(env.qemu, xsnapDiskPlanGetItem(good, 0)->overlayNode, 0x33, 0) == 0);
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


/*
 * Overlays prepared before the pause and then abandoned: the node of
 * each goes, the file the plan made goes, a reused file stays, and the
 * disks keep serving their images; a plan prepared again then runs.
 */
static int
testPrepareAbandon(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("p");
    g_autoptr(xsnapBlockNodeList) list = NULL;
    g_autofree char *made = NULL;
    g_autofree char *reused = NULL;
    g_autofree char *node0 = NULL;
    g_autofree char *node1 = NULL;
    int ret = -1;

    CHECK(testEnvSetup(&env, "abandon", 2, "q") == 0);
    made = g_strdup_printf("%s/xvda.p", env.dir);
    reused = g_strdup_printf("%s/xvdb.reused", env.dir);
    CHECK(xsnapQemuImgCreateOverlay(reused, env.paths[1], "qcow2") == 0);
    xsnapDiskPlanAddDisk(plan, "xvda", env.paths[0], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, made, false);
    xsnapDiskPlanAddDisk(plan, "xvdb", env.paths[1], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, reused, true);
    CHECK(xsnapDiskPlanPrepareOnline(plan, env.qemu->mon) == 0);
    CHECK(plan->prepared);
    node0 = g_strdup(xsnapDiskPlanGetItem(plan, 0)->overlayNode);
    node1 = g_strdup(xsnapDiskPlanGetItem(plan, 1)->overlayNode);
    CHECK(node0 && node1);
    CHECK((list = xsnapQemuBlockQuery(env.qemu->mon)));
    CHECK(xsnapBlockNodeListFindNode(list, node0));
    CHECK(xsnapBlockNodeListFindNode(list, node1));
    g_clear_pointer(&list, xsnapBlockNodeListFree);

    xsnapDiskPlanAbandon(plan, env.qemu->mon);
    CHECK(!plan->prepared && !plan->completed);
    CHECK(!g_file_test(made, G_FILE_TEST_EXISTS));
    CHECK(g_file_test(reused, G_FILE_TEST_EXISTS));
    CHECK((list = xsnapQemuBlockQuery(env.qemu->mon)));
    CHECK(!xsnapBlockNodeListFindNode(list, node0));
    CHECK(!xsnapBlockNodeListFindNode(list, node1));
    CHECK(xsnapBlockNodeListFindDisk(list, "xvda", env.paths[0]));
    CHECK(xsnapBlockNodeListFindDisk(list, "xvdb", env.paths[1]));

    /* Prepared again (new node names) and run: the disks move on. */
    CHECK(xsnapDiskPlanPrepareOnline(plan, env.qemu->mon) == 0);
    CHECK(!g_str_equal(xsnapDiskPlanGetItem(plan, 0)->overlayNode, node0));
    CHECK(xsnapTestQemuWrite(env.qemu, "xvda", 0x44, 0) == 0);
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) == 0);
    CHECK(plan->completed);
    CHECK(xsnapTestQemuCheck(env.qemu, xsnapDiskPlanGetItem(plan, 0)->overlayNode,
                             0x44, 0) == 0);
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


/*
 * A completed plan taken back while the guest runs on: raw external,
 * qcow2 internal, qcow2 external over a reused overlay. The guest's
 * writes after the snapshot stay; QEMU serves the first images again.
 */
static int
testUndoOnline(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("u1");
    g_autofree char *ovA = NULL;
    g_autofree char *ovC = NULL;
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int before;
    int ret = -1;

    CHECK(testEnvSetup(&env, "undo-online", 3, "rqq") == 0);
    ovA = xsnapDiskOverlayPathDefault(env.paths[0], "u1");
    ovC = g_strdup_printf("%s/prepared.qcow2", env.dir);
    CHECK(xsnapQemuImgCreateOverlay(ovC, env.paths[2], "qcow2") == 0);
    before = xsnapTestCountFiles(env.dir);
    for (size_t i = 0; i < 3; i++)
        CHECK(xsnapTestQemuWrite(env.qemu, env.disks[i].target, 0x40 + i, 0) == 0);
    xsnapDiskPlanAddDisk(plan, "xvda", env.paths[0], "raw",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovA, false);
    xsnapDiskPlanAddDisk(plan, "xvdb", env.paths[1], "qcow2",
                         XSNAP_DISK_SNAPSHOT_INTERNAL, NULL, false);
    xsnapDiskPlanAddDisk(plan, "xvdc", env.paths[2], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovC, true);
    /* nothing to take back before a run */
    CHECK(xsnapDiskPlanUndo(plan, env.qemu->mon) == 0);
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) == 0);
    CHECK(xsnapTestCountFiles(env.dir) == before + 1);
    for (size_t i = 0; i < 3; i++) {
        xsnapDiskPlanItem *item = xsnapDiskPlanGetItem(plan, i);
        const char *node = item->overlayNode ? item->overlayNode : env.disks[i].target;
        CHECK(xsnapTestQemuWrite(env.qemu, node, 0x50 + i, 65536) == 0);
    }

    CHECK(xsnapDiskPlanUndo(plan, env.qemu->mon) == 0);
    {
        g_autoptr(xsnapBlockNodeList) list = xsnapQemuBlockQuery(env.qemu->mon);
        CHECK(list);
        for (size_t i = 0; i < 3; i++)
            CHECK(xsnapBlockNodeListFindDisk(list, env.disks[i].target, env.paths[i]));
        CHECK(!xsnapBlockNodeListFindImage(list, ovA));
        CHECK(!xsnapBlockNodeListFindImage(list, ovC));
        for (size_t i = 0; i < list->nodes->len; i++) {
            const xsnapBlockNode *node = g_ptr_array_index(list->nodes, i);
            CHECK(!g_str_has_prefix(node->nodeName, "xsnap-"));
        }
    }
    /* the overlay we made is gone, the reused one stays */
    CHECK(!g_file_test(ovA, G_FILE_TEST_EXISTS));
    CHECK(g_file_test(ovC, G_FILE_TEST_EXISTS));
    CHECK(xsnapTestCountFiles(env.dir) == before);
    for (size_t i = 0; i < 3; i++) {
        CHECK(xsnapTestQemuCheck(env.qemu, env.disks[i].target, 0x40 + i, 0) == 0);
        CHECK(xsnapTestQemuCheck(env.qemu, env.disks[i].target, 0x50 + i, 65536) == 0);
    }
    /* a second undo has nothing left to do */
    CHECK(xsnapDiskPlanUndo(plan, env.qemu->mon) == 0);
    xsnapTestQemuStop(env.qemu);
    env.qemu = NULL;
    CHECK((info = xsnapQemuImgGetInfo(env.paths[1], NULL)));
    CHECK(!xsnapQemuImgInfoHasSnapshot(info, "u1"));
    CHECK(xsnapTestImageCheck(env.paths[0], "raw", 0x50, 65536) == 0);
    CHECK(xsnapTestImageCheck(env.paths[2], "qcow2", 0x52, 65536) == 0);
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


/* The device model died after the plan ran: the undo works on the files. */
static int
testUndoAfterQemu(const void *data XSNAP_UNUSED)
{
    testEnv env;
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("u2");
    g_autofree char *ovA = NULL;
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int ret = -1;

    CHECK(testEnvSetup(&env, "undo-offline", 2, "rq") == 0);
    ovA = xsnapDiskOverlayPathDefault(env.paths[0], "u2");
    CHECK(xsnapTestQemuWrite(env.qemu, "xvda", 0x61, 0) == 0);
    xsnapDiskPlanAddDisk(plan, "xvda", env.paths[0], "raw",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovA, false);
    xsnapDiskPlanAddDisk(plan, "xvdb", env.paths[1], "qcow2",
                         XSNAP_DISK_SNAPSHOT_INTERNAL, NULL, false);
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) == 0);
    CHECK(xsnapTestQemuWrite(env.qemu, xsnapDiskPlanGetItem(plan, 0)->overlayNode,
                             0x62, 65536) == 0);
    xsnapTestQemuStop(env.qemu);
    env.qemu = NULL;
    CHECK(g_file_test(ovA, G_FILE_TEST_EXISTS));
    CHECK(xsnapDiskPlanUndo(plan, NULL) == 0);
    CHECK(!g_file_test(ovA, G_FILE_TEST_EXISTS));
    CHECK(xsnapTestImageCheck(env.paths[0], "raw", 0x61, 0) == 0);
    CHECK(xsnapTestImageCheck(env.paths[0], "raw", 0x62, 65536) == 0);
    CHECK((info = xsnapQemuImgGetInfo(env.paths[1], NULL)));
    CHECK(!xsnapQemuImgInfoHasSnapshot(info, "u2"));
    ret = 0;
 cleanup:
    testEnvClear(&env);
    return ret;
}


static gpointer
testReleaseHolder(gpointer opaque)
{
    g_usleep(300 * 1000);
    xsnapQemuMonitorClose(opaque);
    return NULL;
}


/* While another client (libxl) holds QMP, opening waits for it, boundedly. */
static int
testBusySocket(const void *data XSNAP_UNUSED)
{
    testEnv env;
    xsnapQemuMonitorConfig cfg;
    GThread *th = NULL;
    gint64 start;
    int ret = -1;

    CHECK(testEnvSetup(&env, "busy", 1, "q") == 0);
    xsnapQemuMonitorConfigInit(&cfg);
    cfg.connectTimeoutMs = 100;
    CHECK(!xsnapQemuMonitorOpen(env.qemu->qmpPath, &cfg));
    CHECK(xsnapGetLastErrorCode() == VIR_ERR_OPERATION_TIMEOUT);

    th = g_thread_new("holder", testReleaseHolder, g_steal_pointer(&env.qemu->mon));
    start = g_get_monotonic_time();
    cfg.connectTimeoutMs = 5000;
    CHECK((env.qemu->mon = xsnapQemuMonitorOpen(env.qemu->qmpPath, &cfg)));
    CHECK(g_get_monotonic_time() - start >= 250 * 1000);
    CHECK(xsnapTestQemuCheck(env.qemu, "xvda", 0, 0) == 0);
    ret = 0;
 cleanup:
    if (th)
        g_thread_join(th);
    testEnvClear(&env);
    return ret;
}


static int
mymain(void)
{
    int ret = 0;

    if (!xsnapTestHaveQemu())
        return EXIT_AM_SKIP;

    if (xsnapTestRun("map disks to block nodes", testMapping, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("internal snapshot, delete, revert", testInternal, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("external raw+qcow2, active commit, revert", testExternal, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("commit a non-active layer", testCommitNonActive, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("1 disk in one transaction", testMixed, GSIZE_TO_POINTER(1)) < 0)
        ret = -1;
    if (xsnapTestRun("8 disks, mixed formats and modes", testMixed, GSIZE_TO_POINTER(8)) < 0)
        ret = -1;
    if (xsnapTestRun("overlays prepared, then abandoned", testPrepareAbandon, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("reuse an existing overlay", testReuse, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("undo a completed plan online, keeping the guest's writes",
                     testUndoOnline, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("undo a completed plan after QEMU stopped", testUndoAfterQemu, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("wait while the QMP socket is busy", testBusySocket, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
