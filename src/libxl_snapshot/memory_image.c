/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_image.c: the memory image of a snapshot, in libvirt's libxl
 * save-image format
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory_image.h"
#include "util_error.h"
#include "util_file.h"

#define XSNAP_MEMORY_IMAGE_ALIGN 4096

G_STATIC_ASSERT(sizeof(XSNAP_MEMORY_IMAGE_MAGIC) - 1 == XSNAP_MEMORY_IMAGE_MAGIC_LEN);

static void
xsnapMemoryImageHeaderEncode(unsigned char *out, uint32_t xmlLen)
{
    uint32_t version = XSNAP_MEMORY_IMAGE_VERSION;

    memset(out, 0, XSNAP_MEMORY_IMAGE_HEADER_LEN);
    memcpy(out, XSNAP_MEMORY_IMAGE_MAGIC, XSNAP_MEMORY_IMAGE_MAGIC_LEN);
    memcpy(out + 16, &version, sizeof(version));
    memcpy(out + 20, &xmlLen, sizeof(xmlLen));
}


int
xsnapMemoryImageWriteHeader(int fd, const char *domainXML, size_t slack)
{
    unsigned char hdr[XSNAP_MEMORY_IMAGE_HEADER_LEN];
    size_t xmlStrLen = strlen(domainXML) + 1;
    size_t total = XSNAP_MEMORY_IMAGE_HEADER_LEN + xmlStrLen + slack;
    size_t xmlLen;
    g_autofree char *area = NULL;

    total = (total + XSNAP_MEMORY_IMAGE_ALIGN - 1) / XSNAP_MEMORY_IMAGE_ALIGN *
            XSNAP_MEMORY_IMAGE_ALIGN;
    xmlLen = total - XSNAP_MEMORY_IMAGE_HEADER_LEN;
    if (xmlLen > XSNAP_MEMORY_IMAGE_MAX_XML) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("domain XML of %1$zu bytes is too large for a memory image"),
                         xmlStrLen);
        return -1;
    }

    xsnapMemoryImageHeaderEncode(hdr, (uint32_t)xmlLen);
    area = g_malloc0(xmlLen);
    memcpy(area, domainXML, xmlStrLen);

    if (xsnapFileWriteAll(fd, hdr, sizeof(hdr)) < 0 ||
        xsnapFileWriteAll(fd, area, xmlLen) < 0) {
        xsnapReportSystemError(errno, "%s", _("cannot write the memory image header"));
        return -1;
    }
    return 0;
}


/* Checks a raw header; fills @hdr. @fileSize bounds the XML area. */
static int
xsnapMemoryImageHeaderDecode(const char *path, const unsigned char *raw,
                             off_t fileSize, xsnapMemoryImageHeader *hdr)
{
    uint32_t version;
    uint32_t xmlLen;

    if (memcmp(raw, XSNAP_MEMORY_IMAGE_MAGIC, XSNAP_MEMORY_IMAGE_MAGIC_LEN) != 0) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("'%1$s' is not a libxl memory image: the magic is incorrect"),
                         path);
        return -1;
    }
    memcpy(&version, raw + 16, sizeof(version));
    memcpy(&xmlLen, raw + 20, sizeof(xmlLen));
    if (version == 0 || version > XSNAP_MEMORY_IMAGE_VERSION) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' has unsupported version %2$u"),
                         path, version);
        return -1;
    }
    if (xmlLen == 0 || xmlLen > XSNAP_MEMORY_IMAGE_MAX_XML ||
        (off_t)XSNAP_MEMORY_IMAGE_HEADER_LEN + (off_t)xmlLen > fileSize) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' has an invalid XML length %2$u"),
                         path, xmlLen);
        return -1;
    }
    hdr->version = version;
    hdr->xmlLen = xmlLen;
    hdr->streamOffset = XSNAP_MEMORY_IMAGE_HEADER_LEN + (uint64_t)xmlLen;
    return 0;
}


/* Opens @path and reads its header and XML area (not NUL-checked). */
static int
xsnapMemoryImageOpen(const char *path, int flags, xsnapMemoryImageHeader *hdr,
                     char **area)
{
    unsigned char raw[XSNAP_MEMORY_IMAGE_HEADER_LEN];
    struct stat sb;
    g_autofree char *buf = NULL;
    int fd;
    ssize_t got;

    if ((fd = open(path, flags | O_CLOEXEC)) < 0) {
        xsnapReportSystemError(errno, _("cannot open memory image '%1$s'"), path);
        return -1;
    }
    if (fstat(fd, &sb) < 0) {
        xsnapReportSystemError(errno, _("cannot stat memory image '%1$s'"), path);
        goto error;
    }
    got = xsnapFileReadAll(fd, raw, sizeof(raw));
    if (got < 0) {
        xsnapReportSystemError(errno, _("cannot read memory image '%1$s'"), path);
        goto error;
    }
    if ((size_t)got != sizeof(raw)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' is truncated"), path);
        goto error;
    }
    if (xsnapMemoryImageHeaderDecode(path, raw, sb.st_size, hdr) < 0)
        goto error;

    buf = g_malloc(hdr->xmlLen);
    got = xsnapFileReadAll(fd, buf, hdr->xmlLen);
    if (got != (ssize_t)hdr->xmlLen) {
        if (got < 0)
            xsnapReportSystemError(errno, _("cannot read memory image '%1$s'"), path);
        else
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("memory image '%1$s' is truncated"), path);
        goto error;
    }
    if (!memchr(buf, '\0', hdr->xmlLen)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("the domain XML in memory image '%1$s' is not terminated"),
                         path);
        goto error;
    }
    *area = g_steal_pointer(&buf);
    return fd;

 error:
    close(fd);
    return -1;
}


int
xsnapMemoryImageRead(const char *path, xsnapMemoryImageHeader *hdr, char **xml)
{
    g_autofree char *area = NULL;
    int fd;

    if ((fd = xsnapMemoryImageOpen(path, O_RDONLY, hdr, &area)) < 0)
        return -1;
    close(fd);
    if (xml)
        *xml = g_strdup(area);
    return 0;
}


int
xsnapMemoryImageRewriteXML(const char *path, const char *newXML)
{
    return xsnapMemoryImageRewriteXMLFlags(path, newXML, 0);
}


int
xsnapMemoryImageRewriteXMLFlags(const char *path, const char *newXML,
                                unsigned int flags)
{
    xsnapMemoryImageHeader hdr;
    g_autofree char *area = NULL;
    g_autofree char *fresh = NULL;
    size_t len = strlen(newXML) + 1;
    int fd;
    int ret = -1;

    if ((fd = xsnapMemoryImageOpen(path, O_RDWR, &hdr, &area)) < 0)
        return -1;

    if (len > hdr.xmlLen) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("new domain XML (%1$zu bytes) does not fit the %2$u bytes reserved in memory image '%3$s'"),
                         len, hdr.xmlLen, path);
        goto cleanup;
    }

    fresh = g_malloc0(hdr.xmlLen);
    memcpy(fresh, newXML, len);
    if (pwrite(fd, fresh, hdr.xmlLen, XSNAP_MEMORY_IMAGE_HEADER_LEN) != (ssize_t)hdr.xmlLen) {
        int saved = errno;
        /* Put the old XML back so the image stays restorable. */
        if (pwrite(fd, area, hdr.xmlLen, XSNAP_MEMORY_IMAGE_HEADER_LEN) < 0)
            saved = errno;
        xsnapReportSystemError(saved, _("cannot rewrite the domain XML of memory image '%1$s'"),
                               path);
        goto cleanup;
    }
    if (!(flags & XSNAP_MEMORY_IMAGE_REWRITE_NO_SYNC) && fdatasync(fd) < 0) {
        xsnapReportSystemError(errno, _("cannot sync memory image '%1$s'"), path);
        goto cleanup;
    }
    ret = 0;

 cleanup:
    close(fd);
    return ret;
}
