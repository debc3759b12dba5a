/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_image.h: the memory image of a snapshot, in libvirt's libxl
 * save-image format
 *
 * Layout (host byte order, as libvirt's libxl driver writes it):
 *   0   char     magic[16]    "libvirt-xml\n \0 \r"
 *   16  uint32   version      2 (libxl's stream version)
 *   20  uint32   xmlLen       bytes of XML that follow, NUL included
 *   24  uint32   unused[10]
 *   64  char     xml[xmlLen]  the domain XML, NUL-terminated, maybe NUL-padded
 *   ..  libxl's v2 migration stream, as written by libxl_domain_suspend
 *
 * A compressed image (ours only) keeps that layout and the XML as it is,
 * so that save-image-dumpxml and the in-place rewrite work on it, but
 * marks itself in the version, which libvirt 9.0's restore refuses
 * ("image version is not supported"): it never feeds such a stream to
 * libxl.
 *   16  uint32   version      XSNAP_MEMORY_IMAGE_VERSION_COMPRESSED:
 *                             0x5853 ("XS") above libxl's stream version
 *   24  uint32   format       xsnapMemoryFormat (1 zstd, 2 lz4)
 *   28  uint32   reserved     0
 *   32  uint64   streamLen    bytes of libxl's stream, decompressed
 *   40  uint64   bodyLen      bytes of compressed data after the XML area
 *   48  uint32   reserved[4]  0
 *   ..  one zstd or LZ4 frame holding libxl's stream, its checksum on
 * The two lengths are written once the stream has ended, before the
 * image is synced; an image with zero there never finished.
 *
 * libvirt's restore parses the XML only up to its first NUL and then hands
 * the rest of the file to libxl, so the XML area may be padded with NULs.
 * We reserve room there so that the XML (which decides the disk paths at
 * restore) can later be rewritten in place without touching the stream.
 */
#pragma once

#include <stdint.h>

#include "internal.h"
#include "memory_codec.h"

#define XSNAP_MEMORY_IMAGE_MAGIC "libvirt-xml\n \0 \r"
#define XSNAP_MEMORY_IMAGE_MAGIC_LEN 16
#define XSNAP_MEMORY_IMAGE_VERSION 2
#define XSNAP_MEMORY_IMAGE_VERSION_COMPRESSED (0x58530000u | XSNAP_MEMORY_IMAGE_VERSION)
#define XSNAP_MEMORY_IMAGE_HEADER_LEN 64
/* Largest XML area we accept when reading an image. */
#define XSNAP_MEMORY_IMAGE_MAX_XML (16 * 1024 * 1024)

typedef struct _xsnapMemoryImageHeader xsnapMemoryImageHeader;
struct _xsnapMemoryImageHeader {
    uint32_t version;       /* as in the file */
    uint32_t xmlLen;        /* size of the XML area, NUL and padding included */
    uint64_t streamOffset;  /* where libxl's stream (or its frame) starts */
    xsnapMemoryFormat format;
    uint64_t streamLen;     /* compressed: libxl's stream, decompressed */
    uint64_t bodyLen;       /* compressed: the frame's size in the file */
};

/*
 * Writes the header and @domainXML at the current offset of @fd (normally
 * 0), reserving an XML area that leaves at least @slack spare bytes and
 * makes the stream start on a 4 KiB boundary. On success the fd is
 * positioned at the start of the stream. Returns 0, or -1 with an error.
 */
int xsnapMemoryImageWriteHeader(int fd, const char *domainXML, size_t slack);

/* xsnapMemoryImageWriteHeader for an image whose stream is written in
 * @format; a compressed one is finished by xsnapMemoryImageFinish. */
int xsnapMemoryImageWriteHeaderFormat(int fd, const char *domainXML, size_t slack,
                                      xsnapMemoryFormat format);

/*
 * Records in the header of the compressed image @fd, whose frame ends
 * at the end of the file, that its stream is complete and held
 * @streamLen bytes. Nothing is synced. Returns 0 or -1 with an error.
 */
int xsnapMemoryImageFinish(int fd, uint64_t streamLen);

/*
 * Reads and checks the header of the image at @path. On success fills
 * @hdr and, if @xml is not NULL, sets it to the embedded XML (caller
 * frees). Returns 0, or -1 with an error naming the file.
 */
int xsnapMemoryImageRead(const char *path, xsnapMemoryImageHeader *hdr,
                         char **xml);

/*
 * Replaces the embedded domain XML of the image at @path in place, leaving
 * the stream untouched. Fails (changing nothing) when @newXML does not fit
 * the reserved area. Returns 0 or -1 with an error.
 */
int xsnapMemoryImageRewriteXML(const char *path, const char *newXML);

/*
 * Reads the whole stream of the compressed image at @path and checks it
 * against its header: the frame's size, its checksum, its end, the
 * length of the stream inside. A raw image is only checked to hold more
 * than its header. A truncated or corrupt image fails with
 * VIR_ERR_OPERATION_FAILED. Returns 0, or -1 with an error.
 */
int xsnapMemoryImageVerify(const char *path);

/*
 * Writes the image at @path to @out from @out's current offset, in
 * order and in one pass (@out may be a pipe): its header, as a raw
 * image's unless @format is compressed; its XML area as it is, or a
 * fresh one for @xml when it is not NULL; libxl's stream in @format.
 * The input is checked as it is read, as xsnapMemoryImageVerify does.
 * A compressed @out must be a file, whose header is finished at the end.
 * Nothing is synced. @outName goes into error messages. Returns 0, or -1
 * with an error; then *@outFailed (if not NULL) tells whether writing
 * @out failed, rather than reading the image.
 */
int xsnapMemoryImageExport(const char *path, const char *xml,
                           xsnapMemoryFormat format, int out, const char *outName,
                           bool *outFailed);

/*
 * Called once by xsnapMemoryImageExportHold before the held-back tail of
 * libxl's stream is written: 0 lets it go; -1, with an error, ends the
 * output there, and the export fails with that error.
 */
typedef int (*xsnapMemoryImageReleaseFunc)(void *opaque);

/*
 * xsnapMemoryImageExport, but the last @hold bytes of libxl's stream (as
 * written, before any compression of @format; the whole stream if it is
 * shorter) wait until @release returns 0. @release, when not NULL, is
 * called once, on the thread of the export, unless the export fails
 * before the tail.
 */
int xsnapMemoryImageExportHold(const char *path, const char *xml,
                               xsnapMemoryFormat format, int out, const char *outName,
                               bool *outFailed, uint64_t hold,
                               xsnapMemoryImageReleaseFunc release, void *opaque);

typedef enum {
    /* Leave the rewritten XML in the page cache: for a throw-away copy
     * that is restored at once (virt-xen-snapshot clone --copy). */
    XSNAP_MEMORY_IMAGE_REWRITE_NO_SYNC = 1 << 0,
} xsnapMemoryImageRewriteFlags;

/* xsnapMemoryImageRewriteXML with xsnapMemoryImageRewriteFlags. */
int xsnapMemoryImageRewriteXMLFlags(const char *path, const char *newXML,
                                    unsigned int flags);
