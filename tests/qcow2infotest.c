/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2infotest.c: the qcow2 header reader against qemu-img itself
 *
 * For every image of tests/fuzz/corpus-qcow2 (made by qemu-img, plus a
 * few cut short), whatever the reader accepts must be what
 * `qemu-img info -U -f qcow2` says: format, backing file and format,
 * virtual size and the snapshot names in order. Images the reader must
 * refuse (and leave to qemu-img) are listed. Images made here then
 * check a few refusals a corpus file cannot show.
 */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow2_info.h"
#include "qemu_img.h"
#include "testutils.h"
#include "util_error.h"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return -1; \
        } \
    } while (0)

#define NULLSTR(s) ((s) ? (s) : "(none)")

/* Corpus images the reader must leave to qemu-img. */
static const char *const mustRefuse[] = {
    "zstd.qcow2",        /* incompatible feature: compression type */
    "el2.qcow2",         /* incompatible feature: extended L2 */
    "ext.qcow2",         /* incompatible feature: external data file */
    "short-header",
    "truncated-table",
    NULL
};

/* Corpus images the reader must accept (the common ones). */
static const char *const mustAccept[] = {
    "plain-v2.qcow2", "plain-v3.qcow2", "overlay-v2.qcow2", "overlay-v3.qcow2",
    "snaps-v2.qcow2", "snaps-v3.qcow2", "ov-snap.qcow2", "lazy.qcow2",
    "bitmap.qcow2",
    NULL
};


static bool
sameStrv(GStrv a, GStrv b)
{
    guint n = g_strv_length(a);

    if (n != g_strv_length(b))
        return false;
    for (guint i = 0; i < n; i++) {
        if (!g_str_equal(a[i], b[i]))
            return false;
    }
    return true;
}


static int
checkOne(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(xsnapQemuImgInfo) ours = xsnapQcow2ReadInfoFile(path);
    g_autoptr(xsnapQemuImgInfo) theirs = NULL;
    bool refuse = g_strv_contains(mustRefuse, name);
    bool accept = g_strv_contains(mustAccept, name);

    if (refuse && ours) {
        fprintf(stderr, "    %s: accepted, but must be left to qemu-img\n", name);
        return -1;
    }
    if (accept && !ours) {
        fprintf(stderr, "    %s: refused\n", name);
        return -1;
    }
    if (!ours)
        return 0;
    if (!(theirs = xsnapQemuImgGetInfo(path, "qcow2"))) {
        fprintf(stderr, "    %s: accepted, but qemu-img refuses it: %s\n", name,
                xsnapGetLastErrorMessage());
        return -1;
    }
    if (!g_str_equal(ours->format, theirs->format) ||
        g_strcmp0(ours->backingFile, theirs->backingFile) != 0 ||
        g_strcmp0(ours->backingFormat, theirs->backingFormat) != 0 ||
        ours->virtualSize != theirs->virtualSize ||
        !sameStrv(ours->snapshots, theirs->snapshots)) {
        g_autofree char *a = g_strjoinv(",", ours->snapshots);
        g_autofree char *b = g_strjoinv(",", theirs->snapshots);

        fprintf(stderr, "    %s: reader says %s backing %s (%s) size %llu snapshots [%s];\n"
                "    qemu-img says %s backing %s (%s) size %llu snapshots [%s]\n", name,
                ours->format, NULLSTR(ours->backingFile), NULLSTR(ours->backingFormat),
                ours->virtualSize, a,
                theirs->format, NULLSTR(theirs->backingFile), NULLSTR(theirs->backingFormat),
                theirs->virtualSize, b);
        return -1;
    }
    return 0;
}


static int
testCorpus(const void *data XSNAP_UNUSED)
{
    g_autofree char *dir = g_build_filename(xsnapTestSrcDir(), "fuzz", "corpus-qcow2", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    size_t n = 0;
    int ret = 0;

    if (!d) {
        fprintf(stderr, "    cannot open %s\n", dir);
        return -1;
    }
    while ((name = g_dir_read_name(d))) {
        if (checkOne(dir, name) < 0)
            ret = -1;
        n++;
    }
    for (size_t i = 0; mustAccept[i]; i++) {
        g_autofree char *p = g_build_filename(dir, mustAccept[i], NULL);
        if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
            fprintf(stderr, "    %s is missing from the corpus\n", mustAccept[i]);
            ret = -1;
        }
    }
    return n > 0 ? ret : -1;
}


/* Writes @len bytes of @val at @off of @path (big-endian, len 1..8). */
static int
poke(const char *path, off_t off, uint64_t val, size_t len)
{
    unsigned char b[8];
    int fd = open(path, O_WRONLY);
    ssize_t n;

    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)(val >> (8 * (len - 1 - i)));
    if (fd < 0)
        return -1;
    n = pwrite(fd, b, len, off);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}


/* Changed headers the reader must refuse, while xsnapImageGetInfo still
 * answers (through qemu-img) or fails as qemu-img does. */
static int
testRefusals(const void *data XSNAP_UNUSED)
{
    static const struct { const char *what; off_t off; uint64_t val; size_t len; } cases[] = {
        { "version 4", 4, 4, 4 },
        { "encrypted", 32, 1, 4 },
        { "dirty bit", 72, 1, 8 },
        { "unknown incompatible feature", 72, 1ULL << 40, 8 },
        { "cluster bits 30", 20, 30, 4 },
        { "unaligned snapshot table", 64, 0x10001, 8 },
        { "too many snapshots", 60, 70000, 4 },
        { "header length 120", 100, 120, 4 },
        { "backing name too long", 16, 2000, 4 },
    };
    g_autofree char *dir = g_build_filename(xsnapTestTmpDir(), "refusals", NULL);
    int ret = 0;

    g_mkdir_with_parents(dir, 0700);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("%s/c%zu.qcow2", dir, i);
        g_autofree char *base = g_strdup_printf("%s/base%zu.raw", dir, i);
        const char *mkbase[] = { xsnapQemuImgBinary(), "create", "-q", "-f", "raw",
                                 base, "1M", NULL };
        const char *mk[] = { xsnapQemuImgBinary(), "create", "-q", "-f", "qcow2",
                             "-F", "raw", "-b", base, path, NULL };
        g_autoptr(xsnapQemuImgInfo) before = NULL;
        g_autoptr(xsnapQemuImgInfo) after = NULL;

        if (xsnapCommandRun(mkbase, 60000, NULL) < 0 ||
            xsnapCommandRun(mk, 60000, NULL) < 0)
            return -1;
        if (!(before = xsnapQcow2ReadInfoFile(path))) {
            fprintf(stderr, "    %s: the unchanged image is refused\n", cases[i].what);
            ret = -1;
            continue;
        }
        if (poke(path, cases[i].off, cases[i].val, cases[i].len) < 0)
            return -1;
        if ((after = xsnapQcow2ReadInfoFile(path))) {
            fprintf(stderr, "    %s: accepted\n", cases[i].what);
            ret = -1;
        }
    }
    return ret;
}


/* A raw image is described from the file; a missing one fails as qemu-img does. */
static int
testRaw(const void *data XSNAP_UNUSED)
{
    g_autofree char *path = g_build_filename(xsnapTestTmpDir(), "disk.raw", NULL);
    g_autofree char *missing = g_build_filename(xsnapTestTmpDir(), "missing.raw", NULL);
    const char *mk[] = { xsnapQemuImgBinary(), "create", "-q", "-f", "raw", path, "3M", NULL };
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    g_autoptr(xsnapQemuImgInfo) none = NULL;

    CHECK(xsnapCommandRun(mk, 60000, NULL) == 0);
    CHECK((info = xsnapImageGetInfo(path, "raw")));
    CHECK(g_str_equal(info->format, "raw"));
    CHECK(info->virtualSize == 3 * 1024 * 1024);
    CHECK(!(none = xsnapImageGetInfo(missing, "raw")));
    CHECK(strstr(xsnapGetLastErrorMessage(), "qemu-img"));
    xsnapResetLastError();
    return 0;
}


int
main(void)
{
    g_autofree char *qemuImg = g_find_program_in_path("qemu-img");
    int ret = 0;

    if (!qemuImg)
        return EXIT_AM_SKIP;
    if (xsnapTestRun("reader agrees with qemu-img over the corpus", testCorpus, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("changed headers are refused", testRefusals, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("raw images from the file", testRaw, NULL) < 0)
        ret = -1;
    return ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
