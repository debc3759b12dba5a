/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diskfaulttest.c: every failure of an online snapshot plan leaves the
 * disks exactly as they were, loses no data and leaves no file behind.
 *
 * Runs on a real QEMU. The cases that need mounts (read-only directory,
 * full file system) run in a private mount namespace and are skipped when
 * one cannot be made (not root).
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1 /* unshare() */
#endif
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static bool haveMountNs;

typedef struct {
    char *dir;
    char *paths[2];
    xsnapTestDisk disks[2];
    xsnapTestQemu *qemu;
    int files;
} faultEnv;


static int faultMount(const char *dir, const char *opts);

/*
 * xvda (qcow2) and xvdb (qcow2, or raw), each holding a pattern. With
 * @mountB, xvdb lives on a tmpfs mounted with those options at <dir>/full.
 */
static int
faultSetup(faultEnv *env, const char *name, const char *fmtB, const char *mountB)
{
    g_autofree char *full = NULL;

    memset(env, 0, sizeof(*env));
    env->dir = xsnapTestMakeDir(name);
    full = g_strdup_printf("%s/full", env->dir);
    if (mountB && faultMount(full, mountB) < 0)
        return -1;
    env->paths[0] = g_strdup_printf("%s/xvda.qcow2", env->dir);
    env->paths[1] = g_strdup_printf("%s/xvdb.%s", mountB ? full : env->dir,
                                    g_str_equal(fmtB, "raw") ? "img" : "qcow2");
    env->disks[0] = (xsnapTestDisk){ "xvda", env->paths[0], "qcow2" };
    env->disks[1] = (xsnapTestDisk){ "xvdb", env->paths[1], fmtB };
    for (size_t i = 0; i < 2; i++) {
        if (xsnapTestCreateImage(env->paths[i], env->disks[i].format) < 0 ||
            xsnapTestImageWrite(env->paths[i], env->disks[i].format, 0x5a + i, 0) < 0)
            return -1;
    }
    env->files = xsnapTestCountFiles(env->dir);
    return 0;
}


static int
faultStart(faultEnv *env)
{
    if (!(env->qemu = xsnapTestQemuStart(env->dir, env->disks, 2)))
        return -1;
    /* the QMP socket and QEMU's output file */
    env->files += 2;
    return 0;
}


static void
faultClear(faultEnv *env)
{
    xsnapTestQemuStop(env->qemu);
    g_free(env->paths[0]);
    g_free(env->paths[1]);
    g_free(env->dir);
}


/* Proves nothing changed: no new file, same active images, same data. */
static int
faultCheckUntouched(faultEnv *env, const char *snapName)
{
    g_autoptr(xsnapBlockNodeList) list = NULL;
    int files = xsnapTestCountFiles(env->dir);

    if (files != env->files) {
        fprintf(stderr, "    %d files in %s, expected %d\n", files, env->dir, env->files);
        return -1;
    }
    if (env->qemu && env->qemu->pid > 0) {
        if (!(list = xsnapQemuBlockQuery(env->qemu->mon)))
            return -1;
        for (size_t i = 0; i < list->nodes->len; i++) {
            xsnapBlockNode *node = g_ptr_array_index(list->nodes, i);
            if (g_str_has_prefix(node->nodeName, "xsnap-")) {
                fprintf(stderr, "    node %s left in QEMU\n", node->nodeName);
                return -1;
            }
        }
        for (size_t i = 0; i < 2; i++) {
            const xsnapBlockNode *node =
                xsnapBlockNodeListFindDisk(list, env->disks[i].target, env->paths[i]);
            if (!node || node->readOnly ||
                !g_str_equal(node->nodeName, env->disks[i].target) ||
                g_strv_contains((const char *const *)node->snapshots, snapName)) {
                fprintf(stderr, "    disk %s changed\n", env->disks[i].target);
                return -1;
            }
            if (xsnapTestQemuCheck(env->qemu, env->disks[i].target, 0x5a + i, 0) < 0)
                return -1;
        }
        /* the disks still take writes */
        if (xsnapTestQemuWrite(env->qemu, "xvda", 0x77, 65536) < 0)
            return -1;
    } else {
        for (size_t i = 0; i < 2; i++) {
            g_autoptr(xsnapQemuImgInfo) info = NULL;
            if (xsnapTestImageCheck(env->paths[i], env->disks[i].format, 0x5a + i, 0) < 0)
                return -1;
            if (!(info = xsnapQemuImgGetInfo(env->paths[i], NULL)) ||
                info->backingFile || xsnapQemuImgInfoHasSnapshot(info, snapName)) {
                fprintf(stderr, "    image %s changed\n", env->paths[i]);
                return -1;
            }
        }
    }
    return 0;
}


/* Runs plan "f": xvda external into @ovA, xvdb as @modeB into @ovB. */
static int
faultRun(faultEnv *env, const char *ovA, xsnapDiskSnapshotMode modeB,
         const char *ovB, const char *expectError)
{
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("f");
    g_autofree char *defA = g_strdup_printf("%s/xvda.f", env->dir);

    xsnapDiskPlanAddDisk(plan, "xvda", env->paths[0], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovA ? ovA : defA, false);
    xsnapDiskPlanAddDisk(plan, "xvdb", env->paths[1], env->disks[1].format,
                         modeB, ovB, false);
    if (xsnapDiskPlanRunOnline(plan, env->qemu->mon) == 0) {
        fprintf(stderr, "    the plan did not fail\n");
        return -1;
    }
    if (g_getenv("VERBOSE"))
        fprintf(stderr, "    error: %s\n", xsnapGetLastErrorMessage());
    if (expectError && !strstr(xsnapGetLastErrorMessage(), expectError)) {
        fprintf(stderr, "    unexpected error: %s\n", xsnapGetLastErrorMessage());
        return -1;
    }
    return 0;
}


static int
testUnknownDevice(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    g_autoptr(xsnapDiskPlan) plan = xsnapDiskPlanNew("f");
    g_autofree char *ovA = NULL;
    g_autofree char *ovZ = NULL;
    int ret = -1;

    CHECK(faultSetup(&env, "unknown", "qcow2", NULL) == 0);
    CHECK(faultStart(&env) == 0);
    ovA = g_strdup_printf("%s/xvda.f", env.dir);
    ovZ = g_strdup_printf("%s/xvdz.f", env.dir);
    xsnapDiskPlanAddDisk(plan, "xvda", env.paths[0], "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovA, false);
    xsnapDiskPlanAddDisk(plan, "xvdz", "/nowhere/xvdz.qcow2", "qcow2",
                         XSNAP_DISK_SNAPSHOT_EXTERNAL, ovZ, false);
    CHECK(xsnapDiskPlanRunOnline(plan, env.qemu->mon) < 0);
    CHECK(strstr(xsnapGetLastErrorMessage(), "'xvdz'"));
    CHECK(strstr(xsnapGetLastErrorMessage(), "not served by the device model"));
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    faultClear(&env);
    return ret;
}


static int
testRawInternal(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    int ret = -1;

    CHECK(faultSetup(&env, "rawint", "raw", NULL) == 0);
    CHECK(faultStart(&env) == 0);
    CHECK(faultRun(&env, NULL, XSNAP_DISK_SNAPSHOT_INTERNAL, NULL,
                   "needs a qcow2 image") == 0);
    CHECK(xsnapGetLastErrorCode() == VIR_ERR_CONFIG_UNSUPPORTED);
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    faultClear(&env);
    return ret;
}


static int
testExistingTarget(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    g_autofree char *ovB = NULL;
    g_autofree char *content = NULL;
    int ret = -1;

    CHECK(faultSetup(&env, "existing", "qcow2", NULL) == 0);
    ovB = g_strdup_printf("%s/precious", env.dir);
    CHECK(g_file_set_contents(ovB, "precious", -1, NULL));
    env.files++;
    CHECK(faultStart(&env) == 0);
    CHECK(faultRun(&env, NULL, XSNAP_DISK_SNAPSHOT_EXTERNAL, ovB,
                   "never overwritten") == 0);
    CHECK(g_file_get_contents(ovB, &content, NULL, NULL) && g_str_equal(content, "precious"));
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    faultClear(&env);
    return ret;
}


/* The second overlay cannot be created: a file stands where its directory should. */
static int
testDirIsFile(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    g_autofree char *notdir = NULL;
    g_autofree char *ovB = NULL;
    int ret = -1;

    CHECK(faultSetup(&env, "dirisfile", "raw", NULL) == 0);
    notdir = g_strdup_printf("%s/notadir", env.dir);
    CHECK(g_file_set_contents(notdir, "", 0, NULL));
    env.files++;
    ovB = g_strdup_printf("%s/xvdb.f", notdir);
    CHECK(faultStart(&env) == 0);
    CHECK(faultRun(&env, NULL, XSNAP_DISK_SNAPSHOT_EXTERNAL, ovB,
                   "Not a directory") == 0);
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    faultClear(&env);
    return ret;
}


static int
faultMount(const char *dir, const char *opts)
{
    if (g_mkdir_with_parents(dir, 0700) < 0 ||
        mount("tmpfs", dir, "tmpfs", 0, opts) < 0) {
        fprintf(stderr, "    cannot mount tmpfs on %s: %s\n", dir, g_strerror(errno));
        return -1;
    }
    return 0;
}


/* The second overlay's directory is a read-only mount. */
static int
testReadOnlyDir(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    g_autofree char *ro = NULL;
    g_autofree char *ovB = NULL;
    int ret = -1;

    if (!haveMountNs)
        return EXIT_AM_SKIP;
    CHECK(faultSetup(&env, "rodir", "qcow2", NULL) == 0);
    ro = g_strdup_printf("%s/ro", env.dir);
    CHECK(g_mkdir_with_parents(ro, 0700) == 0);
    env.files++;
    CHECK(mount(ro, ro, NULL, MS_BIND, NULL) == 0);
    CHECK(mount(NULL, ro, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) == 0);
    ovB = g_strdup_printf("%s/xvdb.f", ro);
    CHECK(faultStart(&env) == 0);
    CHECK(faultRun(&env, NULL, XSNAP_DISK_SNAPSHOT_EXTERNAL, ovB,
                   "Read-only file system") == 0);
    CHECK(xsnapTestCountFiles(ro) == 0);
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    if (ro)
        umount2(ro, MNT_DETACH);
    faultClear(&env);
    return ret;
}


/* The second overlay's file system is too small for it. */
static int
testDiskFullCreate(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    g_autofree char *full = NULL;
    g_autofree char *ovB = NULL;
    int ret = -1;

    if (!haveMountNs)
        return EXIT_AM_SKIP;
    CHECK(faultSetup(&env, "fullcreate", "qcow2", NULL) == 0);
    full = g_strdup_printf("%s/full", env.dir);
    CHECK(faultMount(full, "size=16k") == 0);
    env.files++;
    ovB = g_strdup_printf("%s/xvdb.f", full);
    CHECK(faultStart(&env) == 0);
    CHECK(faultRun(&env, NULL, XSNAP_DISK_SNAPSHOT_EXTERNAL, ovB, "qemu-img") == 0);
    CHECK(xsnapTestCountFiles(full) == 0);
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    if (full)
        umount2(full, MNT_DETACH);
    faultClear(&env);
    return ret;
}


/* Fills the file system holding @dir; returns 0 once it is full. */
static int
faultFill(const char *dir)
{
    g_autofree char *filler = g_strdup_printf("%s/filler", dir);
    char block[4096];
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    memset(block, 0xee, sizeof(block));
    if (fd < 0)
        return -1;
    while (write(fd, block, sizeof(block)) > 0)
        ;
    close(fd);
    return errno == ENOSPC ? 0 : -1;
}


/*
 * The internal snapshot of xvdb fails inside QEMU (its image's file
 * system is full), so QEMU aborts the whole transaction, including the
 * external snapshot of xvda that had been prepared.
 */
static int
testDiskFullTransaction(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    g_autofree char *full = NULL;
    int ret = -1;

    if (!haveMountNs)
        return EXIT_AM_SKIP;
    CHECK(faultSetup(&env, "fulltx", "qcow2", "size=1m") == 0);
    full = g_strdup_printf("%s/full", env.dir);
    CHECK(faultFill(full) == 0);
    CHECK(faultStart(&env) == 0);
    CHECK(faultRun(&env, NULL, XSNAP_DISK_SNAPSHOT_INTERNAL, NULL,
                   "QEMU command 'transaction' failed") == 0);
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    faultClear(&env);
    if (full)
        umount2(full, MNT_DETACH);
    return ret;
}


typedef struct {
    xsnapTestQemu *qemu;
    GThread *killer;
} killCtx;

static gpointer
faultKiller(gpointer opaque)
{
    killCtx *ctx = opaque;

    g_usleep(300 * 1000);
    xsnapTestQemuKill(ctx->qemu);
    return NULL;
}


/*
 * Called after the overlays are in place: QEMU is frozen so the
 * transaction is sent but never answered, then killed.
 */
static void
faultKillHook(xsnapDiskPlan *plan XSNAP_UNUSED, void *opaque)
{
    killCtx *ctx = opaque;

    kill(ctx->qemu->pid, SIGSTOP);
    ctx->killer = g_thread_new("killer", faultKiller, ctx);
}


static int
testQemuKilled(const void *data XSNAP_UNUSED)
{
    faultEnv env;
    killCtx ctx = { 0 };
    int ret = -1;

    CHECK(faultSetup(&env, "killed", "qcow2", NULL) == 0);
    CHECK(faultStart(&env) == 0);
    ctx.qemu = env.qemu;
    xsnapDiskPlanSetTestHook(faultKillHook, &ctx);
    CHECK(faultRun(&env, NULL, XSNAP_DISK_SNAPSHOT_INTERNAL, NULL, NULL) == 0);
    CHECK(ctx.killer);
    g_thread_join(g_steal_pointer(&ctx.killer));
    CHECK(env.qemu->pid == 0);
    /* only the QMP socket and QEMU's output remain besides the images */
    CHECK(faultCheckUntouched(&env, "f") == 0);
    ret = 0;
 cleanup:
    xsnapDiskPlanSetTestHook(NULL, NULL);
    if (ctx.killer)
        g_thread_join(ctx.killer);
    faultClear(&env);
    return ret;
}


static int
mymain(void)
{
    int ret = 0;

    if (!xsnapTestHaveQemu())
        return EXIT_AM_SKIP;

    /* Before any thread exists: a private mount namespace for the mount cases. */
    if (getuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
        haveMountNs = true;

    if (xsnapTestRun("unknown device", testUnknownDevice, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("internal snapshot of a raw disk", testRawInternal, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("overlay target exists", testExistingTarget, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("a file where the overlay directory should be", testDirIsFile, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("overlay directory mounted read-only", testReadOnlyDir, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("disk full creating an overlay", testDiskFullCreate, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("disk full inside the transaction", testDiskFullTransaction, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("QEMU killed mid-transaction", testQemuKilled, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
