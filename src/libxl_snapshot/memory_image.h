/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_image.h: the memory image of a snapshot, in libvirt's libxl
 * save-image format
 *
 * Layout (host byte order, as libvirt's libxl driver writes it):
 *   0   char     magic[16]    "libvirt-xml\n \0 \r"
 *   16  uint32   version      2
 *   20  uint32   xmlLen       bytes of XML that follow, NUL included
 *   24  uint32   unused[10]
 *   64  char     xml[xmlLen]  the domain XML, NUL-terminated, maybe NUL-padded
 *   ..  libxl's v2 migration stream, as written by libxl_domain_suspend
 *
 * libvirt's restore parses the XML only up to its first NUL and then hands
 * the rest of the file to libxl, so the XML area may be padded with NULs.
 * We reserve room there so that the XML (which decides the disk paths at
 * restore) can later be rewritten in place without touching the stream.
 */
#pragma once

#include <stdint.h>

#include "internal.h"

#define XSNAP_MEMORY_IMAGE_MAGIC "libvirt-xml\n \0 \r"
#define XSNAP_MEMORY_IMAGE_MAGIC_LEN 16
#define XSNAP_MEMORY_IMAGE_VERSION 2
#define XSNAP_MEMORY_IMAGE_HEADER_LEN 64
/* Largest XML area we accept when reading an image. */
#define XSNAP_MEMORY_IMAGE_MAX_XML (16 * 1024 * 1024)

typedef struct _xsnapMemoryImageHeader xsnapMemoryImageHeader;
struct _xsnapMemoryImageHeader {
    uint32_t version;
    uint32_t xmlLen;        /* size of the XML area, NUL and padding included */
    uint64_t streamOffset;  /* where libxl's stream starts */
};

/*
 * Writes the header and @domainXML at the current offset of @fd (normally
 * 0), reserving an XML area that leaves at least @slack spare bytes and
 * makes the stream start on a 4 KiB boundary. On success the fd is
 * positioned at the start of the stream. Returns 0, or -1 with an error.
 */
int xsnapMemoryImageWriteHeader(int fd, const char *domainXML, size_t slack);

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

typedef enum {
    /* Leave the rewritten XML in the page cache: for a throw-away copy
     * that is restored at once (virt-xen-snapshot clone --copy). */
    XSNAP_MEMORY_IMAGE_REWRITE_NO_SYNC = 1 << 0,
} xsnapMemoryImageRewriteFlags;

/* xsnapMemoryImageRewriteXML with xsnapMemoryImageRewriteFlags. */
int xsnapMemoryImageRewriteXMLFlags(const char *path, const char *newXML,
                                    unsigned int flags);
