/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2_info_fuzz.c: libFuzzer target for the qcow2 header reader
 *
 * Each input is an image file. The reader must never read outside it,
 * and whatever it accepts must keep the promises the plan relies on:
 * format qcow2, backing file and format names of bounded length with
 * no NUL inside, a backing format only with a backing file, a bounded
 * number of snapshot names. Each input is also read with its last byte
 * cut off and with its header's version changed, which must not crash
 * either. A broken promise aborts.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "qcow2_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (4 * 1024 * 1024)

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t reads;
} fuzzImage;


static int
fuzzReadAt(void *opaque, uint64_t offset, void *buf, size_t len)
{
    fuzzImage *img = opaque;

    /* The reader checks ranges itself; reaching past the end is a bug. */
    if (offset > img->size || len > img->size - offset) {
        fprintf(stderr, "qcow2_info_fuzz: read of %zu at %llu past %zu bytes\n",
                len, (unsigned long long)offset, img->size);
        abort();
    }
    if (++img->reads > 200000) {
        fprintf(stderr, "qcow2_info_fuzz: too many reads\n");
        abort();
    }
    memcpy(buf, img->data + offset, len);
    return 0;
}


static G_GNUC_NORETURN void
fuzzFail(const char *what)
{
    fprintf(stderr, "qcow2_info_fuzz: %s\n", what);
    abort();
}


static void
fuzzOne(const uint8_t *data, size_t size)
{
    fuzzImage img = { .data = data, .size = size };
    g_autoptr(xsnapQemuImgInfo) info = xsnapQcow2ReadInfo(fuzzReadAt, &img, size);

    if (!info)
        return;
    if (!info->format || !g_str_equal(info->format, "qcow2"))
        fuzzFail("accepted image is not qcow2");
    if (!info->snapshots)
        fuzzFail("no snapshot list");
    if (g_strv_length(info->snapshots) > 65536)
        fuzzFail("too many snapshots");
    if (info->backingFile &&
        (strlen(info->backingFile) == 0 || strlen(info->backingFile) > 1023))
        fuzzFail("backing file name length out of bounds");
    if (info->backingFormat &&
        (!info->backingFile || strlen(info->backingFormat) == 0 ||
         strlen(info->backingFormat) > 15))
        fuzzFail("backing format out of bounds");
    if (size < 72)
        fuzzFail("accepted an image shorter than its header");
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree uint8_t *copy = NULL;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    fuzzOne(data, size);
    if (size > 0)
        fuzzOne(data, size - 1);
    if (size >= 8) {
        copy = g_memdup2(data, size);
        copy[7] ^= 1;                 /* version 2 <-> 3 */
        fuzzOne(copy, size);
    }
    return 0;
}
