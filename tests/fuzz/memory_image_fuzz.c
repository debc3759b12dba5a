/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_image_fuzz.c: libFuzzer target for the memory image header reader
 *
 * Each input is the start of a memory image file (held in a memfd, so
 * that the reader runs on a real file descriptor and the fuzzer never
 * touches the disk). Whatever reads must describe an XML area that fits
 * the file; rewriting the XML in place with what was read, or with the
 * longest text that fits, must leave the header and libxl's stream
 * untouched and read back; one byte more must be refused without a
 * change; and a fresh header written for the same XML must read back to
 * it. The stream must verify exactly when it exports; an exported image
 * verifies, and raw -> zstd -> raw and raw -> lz4 -> raw give the
 * exported raw image back byte for byte. A broken promise aborts.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* memfd_create */
#endif
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "util_error.h"
#include "util_file.h"
#include "memory_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (256 * 1024)


static G_GNUC_NORETURN void
fuzzFail(const char *what, const char *detail)
{
    fprintf(stderr, "memory_image_fuzz: %s\n%s\n", what,
            detail ? detail : xsnapGetLastErrorMessage());
    abort();
}


/* A memfd holding @len bytes of @data, or -1. */
static int
fuzzMemfd(const void *data, size_t len)
{
    int fd = memfd_create("xsnap-memory-image-fuzz", MFD_CLOEXEC);

    if (fd < 0)
        return -1;
    if (len && xsnapFileWriteAll(fd, data, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}


/* The whole contents of @fd (caller frees), or aborts. */
static unsigned char *
fuzzSlurp(int fd, size_t size)
{
    unsigned char *buf = g_malloc(size ? size : 1);

    if (pread(fd, buf, size, 0) != (ssize_t)size)
        fuzzFail("cannot read the memfd back", "");
    return buf;
}


/* Rewrites the XML of the image in @fd with @xml and checks the result
 * against @orig: header and stream the same, the area @xml and NULs. */
static void
fuzzRewrite(int fd, const char *path, const unsigned char *orig, size_t size,
            const xsnapMemoryImageHeader *hdr, const char *xml)
{
    g_autofree unsigned char *now = NULL;
    g_autofree char *back = NULL;
    xsnapMemoryImageHeader hdr2;
    size_t len = strlen(xml);
    size_t i;

    if (xsnapMemoryImageRewriteXML(path, xml) < 0)
        fuzzFail("an XML that fits the area cannot be rewritten", NULL);
    now = fuzzSlurp(fd, size);
    if (memcmp(now, orig, XSNAP_MEMORY_IMAGE_HEADER_LEN) != 0)
        fuzzFail("rewriting the XML changed the header", xml);
    if (memcmp(now + hdr->streamOffset, orig + hdr->streamOffset,
               size - hdr->streamOffset) != 0)
        fuzzFail("rewriting the XML changed the stream", xml);
    if (memcmp(now + XSNAP_MEMORY_IMAGE_HEADER_LEN, xml, len) != 0)
        fuzzFail("the rewritten area does not hold the XML", xml);
    for (i = XSNAP_MEMORY_IMAGE_HEADER_LEN + len; i < hdr->streamOffset; i++) {
        if (now[i] != 0)
            fuzzFail("the rewritten area is not padded with NULs", xml);
    }
    if (xsnapMemoryImageRead(path, &hdr2, &back) < 0)
        fuzzFail("a rewritten image does not read", NULL);
    if (!g_str_equal(back, xml) || hdr2.xmlLen != hdr->xmlLen ||
        hdr2.streamOffset != hdr->streamOffset)
        fuzzFail("a rewritten image reads back differently", back);
}


static void
fuzzFreshHeader(const char *xml)
{
    g_autofree char *path = NULL;
    g_autofree char *back = NULL;
    xsnapMemoryImageHeader hdr;
    int fd = fuzzMemfd(NULL, 0);

    if (fd < 0)
        return;
    path = g_strdup_printf("/proc/self/fd/%d", fd);
    if (xsnapMemoryImageWriteHeader(fd, xml, 0) < 0)
        fuzzFail("no header can be written for an XML read from an image", NULL);
    if (xsnapMemoryImageRead(path, &hdr, &back) < 0)
        fuzzFail("a freshly written header does not read", NULL);
    if (!g_str_equal(back, xml))
        fuzzFail("a freshly written header reads back another XML", back);
    if (hdr.streamOffset % 4096 != 0 || hdr.xmlLen <= strlen(xml))
        fuzzFail("a freshly written header has a bad XML area", back);
    close(fd);
}


/* Exports the image @path to a new memfd in @format; returns the memfd,
 * or -1 (with an error) if the export failed. */
static int
fuzzExport(const char *path, xsnapMemoryFormat format)
{
    int out = fuzzMemfd(NULL, 0);

    if (out < 0)
        fuzzFail("cannot create a memfd", "");
    if (xsnapMemoryImageExport(path, NULL, format, out, "(memfd)", NULL) < 0) {
        close(out);
        return -1;
    }
    return out;
}


static size_t
fuzzSize(int fd)
{
    off_t end = lseek(fd, 0, SEEK_END);

    if (end < 0)
        fuzzFail("cannot seek in a memfd", "");
    return (size_t)end;
}


/* The stream: verified, exported, converted and back. */
static void
fuzzStream(const char *path)
{
    g_autofree char *rawPath = NULL;
    g_autofree unsigned char *rawBytes = NULL;
    bool verified = xsnapMemoryImageVerify(path) == 0;
    size_t rawSize;
    int raw;

    xsnapResetLastError();
    raw = fuzzExport(path, XSNAP_MEMORY_FORMAT_RAW);
    if ((raw >= 0) != verified)
        fuzzFail(verified ? "an image that verifies does not export" :
                            "an image that does not verify exports",
                 xsnapGetLastErrorMessage());
    xsnapResetLastError();
    if (raw < 0)
        return;
    rawPath = g_strdup_printf("/proc/self/fd/%d", raw);
    rawSize = fuzzSize(raw);
    rawBytes = fuzzSlurp(raw, rawSize);
    if (xsnapMemoryImageVerify(rawPath) < 0)
        fuzzFail("an exported raw image does not verify", NULL);
    for (int format = XSNAP_MEMORY_FORMAT_ZSTD; format < XSNAP_MEMORY_FORMAT_LAST; format++) {
        g_autofree char *packedPath = NULL;
        g_autofree unsigned char *backBytes = NULL;
        int packed = fuzzExport(rawPath, format);
        int back;

        if (packed < 0)
            fuzzFail("a raw image does not compress", NULL);
        packedPath = g_strdup_printf("/proc/self/fd/%d", packed);
        if (xsnapMemoryImageVerify(packedPath) < 0)
            fuzzFail("a compressed image does not verify", NULL);
        if ((back = fuzzExport(packedPath, XSNAP_MEMORY_FORMAT_RAW)) < 0)
            fuzzFail("a compressed image does not decompress", NULL);
        if (fuzzSize(back) != rawSize ||
            memcmp((backBytes = fuzzSlurp(back, rawSize)), rawBytes, rawSize) != 0)
            fuzzFail("raw -> compressed -> raw is not the raw image",
                     xsnapMemoryFormatTypeToString(format));
        close(back);
        close(packed);
    }
    close(raw);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree unsigned char *orig = NULL;
    g_autofree char *path = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *fill = NULL;
    g_autofree char *over = NULL;
    g_autofree unsigned char *now = NULL;
    xsnapMemoryImageHeader hdr;
    int fd;

    if (size > FUZZ_MAX_INPUT || (fd = fuzzMemfd(data, size)) < 0)
        return 0;
    path = g_strdup_printf("/proc/self/fd/%d", fd);

    if (xsnapMemoryImageRead(path, &hdr, &xml) < 0) {
        xsnapResetLastError();
        close(fd);
        return 0;
    }
    if (hdr.streamOffset != XSNAP_MEMORY_IMAGE_HEADER_LEN + (uint64_t)hdr.xmlLen ||
        hdr.streamOffset > size || strlen(xml) >= hdr.xmlLen)
        fuzzFail("the header describes an XML area outside the file", xml);
    orig = fuzzSlurp(fd, size);
    fuzzStream(path);

    /* The same XML, then the longest that fits, then one byte too many. */
    fuzzRewrite(fd, path, orig, size, &hdr, xml);
    fill = g_strnfill(hdr.xmlLen - 1, 'x');
    fuzzRewrite(fd, path, orig, size, &hdr, fill);
    over = g_strnfill(hdr.xmlLen, 'y');
    if (xsnapMemoryImageRewriteXML(path, over) == 0)
        fuzzFail("an XML larger than the area was written", NULL);
    xsnapResetLastError();
    now = fuzzSlurp(fd, size);
    if (memcmp(now + XSNAP_MEMORY_IMAGE_HEADER_LEN, fill, hdr.xmlLen - 1) != 0)
        fuzzFail("a refused rewrite changed the image", NULL);

    fuzzFreshHeader(xml);
    close(fd);
    xsnapResetLastError();
    return 0;
}
