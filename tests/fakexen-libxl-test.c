/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakexen-libxl-test.c: libxl save-and-continue and restore on the
 * simulated Xen host, through the real libxenlight.
 *
 * The program re-executes itself with the simulator preloaded and a
 * private state directory.  It then suspends a running domain to a file,
 * resumes it with suspend_cancel=1 so that it runs on, restores the
 * file into a second domain, and checks that the guest memory came
 * along unchanged.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "testutils.h"
#include "fakexen/fakexen-preload.h"

#define FX_TEST_PATTERN "fakexen libxl test pattern: before suspend"
#define FX_TEST_LATER "written after resume"

static libxl_ctx *ctx;
static uint32_t domidOrig = INVALID_DOMID;
static uint32_t domidCopy = INVALID_DOMID;
static char *savePath;
static char *diskPath;
static char *diskCopyPath;
static char *hashAtSuspend;

static char *
fxTestBlobPath(uint32_t domid)
{
    char id[16];
    g_snprintf(id, sizeof(id), "%u", domid);
    return g_build_filename(g_getenv("FAKEXEN_STATE_DIR"), "domains", id, "memory", NULL);
}

static char *
fxTestBlobHash(uint32_t domid)
{
    g_autofree char *path = fxTestBlobPath(domid);
    g_autofree char *data = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, NULL))
        return NULL;
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

static int
fxTestBlobWrite(uint32_t domid, off_t off, const char *text)
{
    g_autofree char *path = fxTestBlobPath(domid);
    int fd = open(path, O_WRONLY);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = pwrite(fd, text, strlen(text), off);
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int
fxTestExpectState(uint32_t domid, const char *want)
{
    libxl_dominfo info;
    const char *got;
    int rc;

    libxl_dominfo_init(&info);
    if ((rc = libxl_domain_info(ctx, &info, domid)) != 0) {
        xsnapTestFail("libxl_domain_info(%u) failed: %d", domid, rc);
        return -1;
    }
    got = info.shutdown ? (info.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND ?
                           "suspended" : "shutdown") :
          info.paused ? "paused" : info.dying ? "dying" : "running";
    libxl_dominfo_dispose(&info);
    if (!g_str_equal(got, want)) {
        xsnapTestFail("domain %u is %s, expected %s", domid, got, want);
        return -1;
    }
    return 0;
}

static bool
fxTestQmpAlive(uint32_t domid)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autofree char *path = g_strdup_printf("%s/qmp-libxl-%u",
                                            g_getenv("FAKEXEN_QMP_DIR"), domid);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    bool ok;

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void
fxTestConfig(libxl_domain_config *cfg, const char *name, const char *disk)
{
    libxl_device_disk *d;

    libxl_domain_config_init(cfg);
    libxl_domain_create_info_init(&cfg->c_info);
    cfg->c_info.type = LIBXL_DOMAIN_TYPE_PV;
    cfg->c_info.name = g_strdup(name);
    libxl_uuid_generate(&cfg->c_info.uuid);
    libxl_domain_build_info_init_type(&cfg->b_info, LIBXL_DOMAIN_TYPE_PV);
    cfg->b_info.max_vcpus = 1;
    cfg->b_info.max_memkb = 8192;
    cfg->b_info.target_memkb = 8192;
    cfg->disks = calloc(1, sizeof(*cfg->disks));
    cfg->num_disks = 1;
    d = &cfg->disks[0];
    libxl_device_disk_init(d);
    d->pdev_path = g_strdup(disk);
    d->vdev = g_strdup("xvda");
    d->format = LIBXL_DISK_FORMAT_RAW;
    d->readwrite = 1;
}

static int
testCreate(const void *data XSNAP_UNUSED)
{
    libxl_domain_config cfg;
    int rc;

    fxTestConfig(&cfg, "fxtest", diskPath);
    rc = libxl_domain_create_new(ctx, &cfg, &domidOrig, NULL, NULL);
    libxl_domain_config_dispose(&cfg);
    if (rc != 0) {
        xsnapTestFail("libxl_domain_create_new failed: %d", rc);
        return -1;
    }
    if (fxTestExpectState(domidOrig, "paused") < 0)
        return -1;
    if ((rc = libxl_domain_unpause(ctx, domidOrig, NULL)) != 0) {
        xsnapTestFail("libxl_domain_unpause failed: %d", rc);
        return -1;
    }
    if (!fxTestQmpAlive(domidOrig)) {
        xsnapTestFail("no device model QMP socket for domain %u", domidOrig);
        return -1;
    }
    if (fxTestBlobWrite(domidOrig, 4096, FX_TEST_PATTERN) < 0) {
        xsnapTestFail("cannot write guest memory: %s", g_strerror(errno));
        return -1;
    }
    return fxTestExpectState(domidOrig, "running");
}

static int
testSuspendResume(const void *data XSNAP_UNUSED)
{
    struct stat sb;
    int fd;
    int rc;

    if ((fd = open(savePath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
        return -1;
    /* As Xen without shadow paging: no live save of a PV guest, which
     * runs on untouched. */
    g_unsetenv("FAKEXEN_SHADOW");
    rc = libxl_domain_suspend(ctx, domidOrig, fd, LIBXL_SUSPEND_LIVE, NULL);
    if (rc != ERROR_GUEST_TIMEDOUT) {
        close(fd);
        xsnapTestFail("live suspend of a PV guest without shadow paging: %d, expected %d",
                      rc, ERROR_GUEST_TIMEDOUT);
        return -1;
    }
    if (fxTestExpectState(domidOrig, "running") < 0) {
        close(fd);
        return -1;
    }
    g_setenv("FAKEXEN_SHADOW", "1", TRUE);
    hashAtSuspend = fxTestBlobHash(domidOrig);
    rc = libxl_domain_suspend(ctx, domidOrig, fd, LIBXL_SUSPEND_LIVE, NULL);
    g_unsetenv("FAKEXEN_SHADOW");
    close(fd);
    if (rc != 0) {
        xsnapTestFail("libxl_domain_suspend failed: %d", rc);
        return -1;
    }
    if (stat(savePath, &sb) < 0 || sb.st_size < 4096 + (off_t)strlen(FX_TEST_PATTERN)) {
        xsnapTestFail("save file is too small");
        return -1;
    }
    if (fxTestExpectState(domidOrig, "suspended") < 0)
        return -1;
    if ((rc = libxl_domain_resume(ctx, domidOrig, 1, NULL)) != 0) {
        xsnapTestFail("libxl_domain_resume failed: %d", rc);
        return -1;
    }
    if (fxTestExpectState(domidOrig, "running") < 0)
        return -1;
    if (!fxTestQmpAlive(domidOrig)) {
        xsnapTestFail("device model of domain %u did not survive the cancelled suspend",
                      domidOrig);
        return -1;
    }
    /* The domain runs on and changes its memory. */
    return fxTestBlobWrite(domidOrig, 4096, FX_TEST_LATER);
}

static int
testRestore(const void *data XSNAP_UNUSED)
{
    libxl_domain_config cfg;
    libxl_domain_restore_params params;
    g_autofree char *hash = NULL;
    g_autofree char *hashOrig = NULL;
    libxl_device_disk *disks;
    int ndisks = 0;
    int fd;
    int rc;

    /* The copy uses a copy of the disk, as a snapshot revert would. */
    libxl_domain_config_init(&cfg);
    if ((rc = libxl_retrieve_domain_configuration(ctx, domidOrig, &cfg, NULL)) != 0) {
        xsnapTestFail("libxl_retrieve_domain_configuration failed: %d", rc);
        return -1;
    }
    if (cfg.num_disks != 1 || !g_str_equal(cfg.disks[0].pdev_path, diskPath)) {
        xsnapTestFail("retrieved configuration lost its disk");
        libxl_domain_config_dispose(&cfg);
        return -1;
    }
    free(cfg.c_info.name);
    cfg.c_info.name = strdup("fxtest-copy");
    libxl_uuid_generate(&cfg.c_info.uuid);
    free(cfg.disks[0].pdev_path);
    cfg.disks[0].pdev_path = strdup(diskCopyPath);

    libxl_domain_restore_params_init(&params);
    params.stream_version = 2;
    if ((fd = open(savePath, O_RDONLY)) < 0)
        return -1;
    rc = libxl_domain_create_restore(ctx, &cfg, &domidCopy, fd, -1, &params, NULL, NULL);
    close(fd);
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&cfg);
    if (rc != 0) {
        xsnapTestFail("libxl_domain_create_restore failed: %d", rc);
        return -1;
    }
    if (domidCopy == domidOrig) {
        xsnapTestFail("restored domain reused domid %u", domidOrig);
        return -1;
    }
    if (fxTestExpectState(domidCopy, "paused") < 0 ||
        fxTestExpectState(domidOrig, "running") < 0)
        return -1;
    hash = fxTestBlobHash(domidCopy);
    hashOrig = fxTestBlobHash(domidOrig);
    if (!hash || !hashAtSuspend || !g_str_equal(hash, hashAtSuspend)) {
        xsnapTestFail("restored memory %s differs from memory at suspend %s",
                      hash, hashAtSuspend);
        return -1;
    }
    if (g_str_equal(hash, hashOrig)) {
        xsnapTestFail("memory written after resume leaked into the restored domain");
        return -1;
    }
    disks = libxl_device_disk_list(ctx, domidCopy, &ndisks);
    rc = ndisks == 1 && g_str_equal(disks[0].vdev, "xvda") &&
         g_str_equal(disks[0].pdev_path, diskCopyPath) &&
         disks[0].format == LIBXL_DISK_FORMAT_RAW &&
         disks[0].backend == LIBXL_DISK_BACKEND_QDISK ? 0 : -1;
    libxl_device_disk_list_free(disks, ndisks);
    if (rc < 0) {
        xsnapTestFail("libxl_device_disk_list of the restored domain is wrong");
        return -1;
    }
    if ((rc = libxl_domain_unpause(ctx, domidCopy, NULL)) != 0)
        return -1;
    return fxTestExpectState(domidCopy, "running");
}

static int
testRestoreGarbage(const void *data XSNAP_UNUSED)
{
    g_autofree char *junk = g_build_filename(xsnapTestTmpDir(), "junk.save", NULL);
    libxl_domain_config cfg;
    uint32_t domid = INVALID_DOMID;
    int nb = 0;
    libxl_dominfo *list;
    int fd;
    int rc;

    if (!g_file_set_contents(junk, "this is not a libxl stream, not at all", -1, NULL))
        return -1;
    fxTestConfig(&cfg, "fxtest-junk", diskCopyPath);
    if ((fd = open(junk, O_RDONLY)) < 0)
        return -1;
    rc = libxl_domain_create_restore(ctx, &cfg, &domid, fd, -1, NULL, NULL, NULL);
    close(fd);
    libxl_domain_config_dispose(&cfg);
    if (rc == 0) {
        xsnapTestFail("restore of a bad stream succeeded");
        return -1;
    }
    list = libxl_list_domain(ctx, &nb);
    libxl_dominfo_list_free(list, nb);
    if (nb != 3) {
        xsnapTestFail("expected dom0 + 2 domains, found %d", nb);
        return -1;
    }
    return 0;
}

/* Restores @stream (@len bytes); 0 if it was refused and no domain
 * was left behind, -1 otherwise. */
static int
fxTestRestoreRefused(const char *what, const char *stream, gsize len)
{
    g_autofree char *path = g_build_filename(xsnapTestTmpDir(), "bad.save", NULL);
    libxl_domain_config cfg;
    uint32_t domid = INVALID_DOMID;
    libxl_dominfo *list;
    int nb = 0;
    int fd;
    int rc;

    if (!g_file_set_contents(path, stream, (gssize)len, NULL))
        return -1;
    fxTestConfig(&cfg, "fxtest-bad", diskCopyPath);
    if ((fd = open(path, O_RDONLY)) < 0) {
        libxl_domain_config_dispose(&cfg);
        return -1;
    }
    rc = libxl_domain_create_restore(ctx, &cfg, &domid, fd, -1, NULL, NULL, NULL);
    close(fd);
    libxl_domain_config_dispose(&cfg);
    if (rc == 0) {
        xsnapTestFail("restore of a stream with %s succeeded", what);
        return -1;
    }
    list = libxl_list_domain(ctx, &nb);
    libxl_dominfo_list_free(list, nb);
    if (nb != 3) {
        xsnapTestFail("after a stream with %s: expected dom0 + 2 domains, found %d",
                      what, nb);
        return -1;
    }
    return 0;
}

/* The blob's checksum follows it: a flipped byte of guest memory, or a
 * stream cut after the memory, must be refused. */
static int
testRestoreCorrupt(const void *data XSNAP_UNUSED)
{
    g_autofree char *stream = NULL;
    /* stream header, memory record header, magic and size */
    const gsize blobStart = 16 + 8 + 24;
    gsize len;

    if (!g_file_get_contents(savePath, &stream, &len, NULL) ||
        len < blobStart + 4096 + 8 + 16 + 8) {
        xsnapTestFail("cannot read the saved stream %s", savePath);
        return -1;
    }
    stream[blobStart + 4096] ^= 0x01;
    if (fxTestRestoreRefused("a flipped memory byte", stream, len) < 0)
        return -1;
    stream[blobStart + 4096] ^= 0x01;
    /* Drop the checksum and END records. */
    return fxTestRestoreRefused("no checksum", stream, len - 16 - 8);
}

static int
testDestroy(const void *data XSNAP_UNUSED)
{
    libxl_dominfo *list;
    int nb = 0;

    if (libxl_domain_destroy(ctx, domidOrig, NULL) != 0 ||
        libxl_domain_destroy(ctx, domidCopy, NULL) != 0) {
        xsnapTestFail("libxl_domain_destroy failed");
        return -1;
    }
    domidOrig = domidCopy = INVALID_DOMID;
    list = libxl_list_domain(ctx, &nb);
    if (nb != 1 || list[0].domid != 0) {
        xsnapTestFail("domains left after destroy: %d", nb);
        libxl_dominfo_list_free(list, nb);
        return -1;
    }
    libxl_dominfo_list_free(list, nb);
    return 0;
}

static void
fxTestCleanup(void)
{
    if (ctx) {
        if (domidOrig != INVALID_DOMID)
            libxl_domain_destroy(ctx, domidOrig, NULL);
        if (domidCopy != INVALID_DOMID)
            libxl_domain_destroy(ctx, domidCopy, NULL);
    }
}

int
main(int argc XSNAP_UNUSED, char **argv)
{
    xentoollog_logger_stdiostream *logger;
    g_autofree char *qemu = NULL;
    int ret = 0;
    int fd;

    if ((ret = fxTestPreload(argv)) >= 0)
        return ret;
    ret = 0;
    qemu = g_find_program_in_path(g_getenv("FAKEXEN_QEMU") ? g_getenv("FAKEXEN_QEMU")
                                  : "qemu-system-x86_64");
    if (!qemu) {
        fprintf(stderr, "qemu-system-x86_64 is not installed\n");
        return EXIT_AM_SKIP;
    }

    savePath = g_build_filename(xsnapTestTmpDir(), "dom.save", NULL);
    diskPath = g_build_filename(xsnapTestTmpDir(), "disk.raw", NULL);
    diskCopyPath = g_build_filename(xsnapTestTmpDir(), "disk-copy.raw", NULL);
    if ((fd = open(diskPath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
        ftruncate(fd, 1024 * 1024) < 0 || close(fd) < 0 ||
        (fd = open(diskCopyPath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
        ftruncate(fd, 1024 * 1024) < 0 || close(fd) < 0) {
        perror("disk image");
        return EXIT_AM_HARDFAIL;
    }

    logger = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)logger) != 0) {
        fprintf(stderr, "libxl_ctx_alloc failed under the simulator\n");
        return EXIT_FAILURE;
    }
    atexit(fxTestCleanup);

    if (xsnapTestRun("create and run a domain", testCreate, NULL) < 0 ||
        xsnapTestRun("suspend to a file, resume with suspend_cancel=1",
                     testSuspendResume, NULL) < 0 ||
        xsnapTestRun("create_restore into a new domain", testRestore, NULL) < 0 ||
        xsnapTestRun("a bad stream is refused", testRestoreGarbage, NULL) < 0 ||
        xsnapTestRun("a corrupt or cut stream is refused", testRestoreCorrupt, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("destroy", testDestroy, NULL) < 0)
        ret = -1;

    libxl_ctx_free(ctx);
    ctx = NULL;
    xtl_logger_destroy((xentoollog_logger *)logger);
    return ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
