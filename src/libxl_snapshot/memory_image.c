/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_image.c: the memory image of a snapshot, in libvirt's libxl
 * save-image format
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* splice */
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory_image.h"
#include "util_error.h"
#include "util_file.h"

#define XSNAP_MEMORY_IMAGE_ALIGN 4096
/* Where a compressed image keeps its format and lengths (memory_image.h). */
#define XSNAP_MEMORY_IMAGE_OFF_FORMAT 24
#define XSNAP_MEMORY_IMAGE_OFF_STREAM_LEN 32
#define XSNAP_MEMORY_IMAGE_OFF_BODY_LEN 40
/* What a pass over a stream reads at a time. */
#define XSNAP_MEMORY_IMAGE_CHUNK (1024 * 1024)

G_STATIC_ASSERT(sizeof(XSNAP_MEMORY_IMAGE_MAGIC) - 1 == XSNAP_MEMORY_IMAGE_MAGIC_LEN);

static bool
xsnapMemoryImageFormatCompressed(xsnapMemoryFormat format)
{
    return format == XSNAP_MEMORY_FORMAT_ZSTD || format == XSNAP_MEMORY_FORMAT_LZ4;
}


static void
xsnapMemoryImageHeaderEncode(unsigned char *out, uint32_t xmlLen,
                             xsnapMemoryFormat format)
{
    uint32_t version = XSNAP_MEMORY_IMAGE_VERSION;
    uint32_t code = (uint32_t)format;

    memset(out, 0, XSNAP_MEMORY_IMAGE_HEADER_LEN);
    memcpy(out, XSNAP_MEMORY_IMAGE_MAGIC, XSNAP_MEMORY_IMAGE_MAGIC_LEN);
    if (xsnapMemoryImageFormatCompressed(format)) {
        version = XSNAP_MEMORY_IMAGE_VERSION_COMPRESSED;
        memcpy(out + XSNAP_MEMORY_IMAGE_OFF_FORMAT, &code, sizeof(code));
    }
    memcpy(out + 16, &version, sizeof(version));
    memcpy(out + 20, &xmlLen, sizeof(xmlLen));
}


int
xsnapMemoryImageWriteHeader(int fd, const char *domainXML, size_t slack)
{
    return xsnapMemoryImageWriteHeaderFormat(fd, domainXML, slack,
                                             XSNAP_MEMORY_FORMAT_RAW);
}


int
xsnapMemoryImageWriteHeaderFormat(int fd, const char *domainXML, size_t slack,
                                  xsnapMemoryFormat format)
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

    xsnapMemoryImageHeaderEncode(hdr, (uint32_t)xmlLen, format);
    area = g_malloc0(xmlLen);
    memcpy(area, domainXML, xmlStrLen);

    if (xsnapFileWriteAll(fd, hdr, sizeof(hdr)) < 0 ||
        xsnapFileWriteAll(fd, area, xmlLen) < 0) {
        xsnapReportSystemError(errno, "%s", _("cannot write the memory image header"));
        return -1;
    }
    return 0;
}


/* Checks the fields only a compressed header has; fills @hdr. */
static int
xsnapMemoryImageHeaderDecodeCompressed(const char *path, const unsigned char *raw,
                                       xsnapMemoryImageHeader *hdr)
{
    uint32_t code;
    size_t i;

    memcpy(&code, raw + XSNAP_MEMORY_IMAGE_OFF_FORMAT, sizeof(code));
    if (!xsnapMemoryImageFormatCompressed((xsnapMemoryFormat)code)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' has unknown compression format %2$u"),
                         path, code);
        return -1;
    }
    for (i = XSNAP_MEMORY_IMAGE_OFF_FORMAT + 4; i < XSNAP_MEMORY_IMAGE_HEADER_LEN; i++) {
        if ((i < XSNAP_MEMORY_IMAGE_OFF_STREAM_LEN || i >= XSNAP_MEMORY_IMAGE_OFF_BODY_LEN + 8) &&
            raw[i] != 0) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("memory image '%1$s' has a corrupt header"), path);
            return -1;
        }
    }
    hdr->format = (xsnapMemoryFormat)code;
    memcpy(&hdr->streamLen, raw + XSNAP_MEMORY_IMAGE_OFF_STREAM_LEN, sizeof(hdr->streamLen));
    memcpy(&hdr->bodyLen, raw + XSNAP_MEMORY_IMAGE_OFF_BODY_LEN, sizeof(hdr->bodyLen));
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
    memset(hdr, 0, sizeof(*hdr));
    if (version == XSNAP_MEMORY_IMAGE_VERSION_COMPRESSED) {
        if (xsnapMemoryImageHeaderDecodeCompressed(path, raw, hdr) < 0)
            return -1;
    } else if (version == 0 || version > XSNAP_MEMORY_IMAGE_VERSION) {
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


int
xsnapMemoryImageFinish(int fd, uint64_t streamLen)
{
    unsigned char raw[XSNAP_MEMORY_IMAGE_HEADER_LEN];
    xsnapMemoryImageHeader hdr;
    struct stat sb;
    uint64_t bodyLen;

    if (fstat(fd, &sb) < 0 || pread(fd, raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        xsnapReportSystemError(errno ? errno : EIO, "%s",
                               _("cannot read back the memory image header"));
        return -1;
    }
    if (xsnapMemoryImageHeaderDecode("", raw, sb.st_size, &hdr) < 0)
        return -1;
    if (!xsnapMemoryImageFormatCompressed(hdr.format) ||
        (uint64_t)sb.st_size <= hdr.streamOffset) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("only a compressed memory image with a stream can be finished"));
        return -1;
    }
    bodyLen = (uint64_t)sb.st_size - hdr.streamOffset;
    memcpy(raw + XSNAP_MEMORY_IMAGE_OFF_STREAM_LEN, &streamLen, sizeof(streamLen));
    memcpy(raw + XSNAP_MEMORY_IMAGE_OFF_BODY_LEN, &bodyLen, sizeof(bodyLen));
    if (pwrite(fd, raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        xsnapReportSystemError(errno ? errno : EIO, "%s",
                               _("cannot write the memory image header"));
        return -1;
    }
    return 0;
}


/* Checks that the file behind @fd is as long as the header of a
 * compressed image says. */
static int
xsnapMemoryImageCheckSize(const char *path, int fd, const xsnapMemoryImageHeader *hdr)
{
    struct stat sb;

    if (fstat(fd, &sb) < 0) {
        xsnapReportSystemError(errno, _("cannot stat memory image '%1$s'"), path);
        return -1;
    }
    if (hdr->format == XSNAP_MEMORY_FORMAT_RAW) {
        if ((uint64_t)sb.st_size <= hdr->streamOffset) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("memory image '%1$s' is truncated: it holds no stream"),
                             path);
            return -1;
        }
        return 0;
    }
    if (hdr->bodyLen == 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' is incomplete: the save that wrote it never finished"),
                         path);
        return -1;
    }
    if ((uint64_t)sb.st_size - hdr->streamOffset < hdr->bodyLen) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' is truncated: it holds %2$llu of the %3$llu bytes of its compressed stream"),
                         path, (unsigned long long)((uint64_t)sb.st_size - hdr->streamOffset),
                         (unsigned long long)hdr->bodyLen);
        return -1;
    }
    if ((uint64_t)sb.st_size - hdr->streamOffset > hdr->bodyLen) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' is corrupt: it has data after the end of its compressed stream"),
                         path);
        return -1;
    }
    return 0;
}


/* Where the bytes of a pass go: a decoder, an encoder or a plain sink. */
typedef struct _xsnapMemoryImagePass xsnapMemoryImagePass;
struct _xsnapMemoryImagePass {
    const char *path;              /* the input, for messages */
    const char *outName;           /* the output, for messages */
    int out;                       /* -1: count only */
    xsnapMemoryDecoder *dec;       /* compressed input */
    xsnapMemoryEncoder *enc;       /* compressed output */
    uint64_t stream;               /* bytes of libxl's stream seen */
    bool outFailed;                /* writing @out failed */
    uint64_t holdAt;               /* where the held-back tail starts */
    xsnapMemoryImageReleaseFunc release;  /* pending: lets the tail go */
    void *releaseOpaque;
};


/* Calls the release function once the stream has reached its held-back
 * tail; -1 when it refused, with its error. */
static int
xsnapMemoryImagePassRelease(xsnapMemoryImagePass *p)
{
    xsnapMemoryImageReleaseFunc release = p->release;

    if (!release || p->stream < p->holdAt)
        return 0;
    p->release = NULL;
    return release(p->releaseOpaque);
}


/* How much of @len bytes of the stream may go before the tail is released. */
static size_t
xsnapMemoryImagePassAllowed(const xsnapMemoryImagePass *p, size_t len)
{
    if (!p->release)
        return len;
    return (size_t)MIN((uint64_t)len, p->holdAt - p->stream);
}


/* Writes raw output of a pass, or drops it. */
static int
xsnapMemoryImagePassWrite(xsnapMemoryImagePass *p, const void *data, size_t len)
{
    if (p->out >= 0 && xsnapFileWriteAll(p->out, data, len) < 0) {
        p->outFailed = true;
        xsnapReportSystemError(errno, _("cannot write memory image '%1$s'"), p->outName);
        return -1;
    }
    return 0;
}


/* The sink of the encoder: the compressed output. */
static int
xsnapMemoryImagePassEncoded(void *opaque, const void *data, size_t len)
{
    return xsnapMemoryImagePassWrite(opaque, data, len);
}


/* Bytes of libxl's stream, from the input's decoder or read raw. */
static int
xsnapMemoryImagePassStream(void *opaque, const void *data, size_t len)
{
    xsnapMemoryImagePass *p = opaque;
    const char *bytes = data;

    while (len > 0) {
        size_t n;
        int rc;

        if (xsnapMemoryImagePassRelease(p) < 0)
            return -1;
        n = xsnapMemoryImagePassAllowed(p, len);
        p->stream += n;
        rc = p->enc ? xsnapMemoryEncoderWrite(p->enc, bytes, n) :
                      xsnapMemoryImagePassWrite(p, bytes, n);
        if (rc < 0)
            return -1;
        bytes += n;
        len -= n;
    }
    return 0;
}


/*
 * Reads the stream part of the image @fd (positioned at it) to its end,
 * through @p. A raw stream into a raw output moves with splice() when
 * the output is a pipe.
 */
static int
xsnapMemoryImagePassRun(xsnapMemoryImagePass *p, int fd, const xsnapMemoryImageHeader *hdr)
{
    g_autofree char *buf = NULL;
    off_t off = (off_t)hdr->streamOffset;
    bool useSplice = !p->dec && !p->enc && p->out >= 0;

    for (;;) {
        ssize_t got;

        if (useSplice) {
            loff_t o = off;

            if (xsnapMemoryImagePassRelease(p) < 0)
                return -1;
            got = splice(fd, &o, p->out, NULL,
                         xsnapMemoryImagePassAllowed(p, XSNAP_MEMORY_IMAGE_CHUNK),
                         SPLICE_F_MORE | SPLICE_F_MOVE);
            if (got < 0 && (errno == EINVAL || errno == ENOSYS)) {
                useSplice = false;
                continue;
            }
            if (got > 0)
                p->stream += (uint64_t)got;
        } else {
            if (!buf)
                buf = g_malloc(XSNAP_MEMORY_IMAGE_CHUNK);
            got = pread(fd, buf, XSNAP_MEMORY_IMAGE_CHUNK, off);
            if (got > 0) {
                int rc = p->dec ? xsnapMemoryDecoderWrite(p->dec, buf, (size_t)got) :
                                  xsnapMemoryImagePassStream(p, buf, (size_t)got);
                if (rc < 0)
                    return -1;
            }
        }
        if (got < 0) {
            if (errno == EINTR)
                continue;
            /* splice() cannot tell which side failed: the pipe's
             * reader going away is the one it meets. */
            if (useSplice && errno == EPIPE)
                p->outFailed = true;
            xsnapReportSystemError(errno, useSplice ?
                                   _("cannot stream memory image '%1$s'") :
                                   _("cannot read memory image '%1$s'"), p->path);
            return -1;
        }
        if (got == 0)
            break;
        off += got;
    }
    if (p->dec) {
        if (xsnapMemoryDecoderFinish(p->dec) < 0)
            return -1;
        if (p->stream != hdr->streamLen) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("memory image '%1$s' is corrupt: its stream holds %2$llu bytes, its header says %3$llu"),
                             p->path, (unsigned long long)p->stream,
                             (unsigned long long)hdr->streamLen);
            return -1;
        }
    }
    /* A tail of nothing is released at the end; a raw stream that ends
     * before its tail shrank while it was read. */
    if (p->release && p->stream < p->holdAt) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' is truncated: it shrank while it was read"),
                         p->path);
        return -1;
    }
    if (xsnapMemoryImagePassRelease(p) < 0)
        return -1;
    if (p->enc && xsnapMemoryEncoderFinish(p->enc) < 0)
        return -1;
    return 0;
}


int
xsnapMemoryImageVerify(const char *path)
{
    xsnapMemoryImageHeader hdr;
    g_autofree char *area = NULL;
    g_autoptr(xsnapMemoryDecoder) dec = NULL;
    xsnapMemoryImagePass pass = { .path = path, .outName = path, .out = -1 };
    int fd;
    int ret = -1;

    if ((fd = xsnapMemoryImageOpen(path, O_RDONLY, &hdr, &area)) < 0)
        return -1;
    if (xsnapMemoryImageCheckSize(path, fd, &hdr) < 0)
        goto cleanup;
    if (hdr.format == XSNAP_MEMORY_FORMAT_RAW) {
        ret = 0;
        goto cleanup;
    }
    if (!(dec = xsnapMemoryDecoderNew(hdr.format, path, xsnapMemoryImagePassStream, &pass)))
        goto cleanup;
    pass.dec = dec;
    /* Read once, and never again soon: keep it out of the page cache. */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    ret = xsnapMemoryImagePassRun(&pass, fd, &hdr);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);

 cleanup:
    close(fd);
    return ret;
}


int
xsnapMemoryImageExport(const char *path, const char *xml, xsnapMemoryFormat format,
                       int out, const char *outName, bool *outFailed)
{
    return xsnapMemoryImageExportHold(path, xml, format, out, outName, outFailed,
                                      0, NULL, NULL);
}


int
xsnapMemoryImageExportHold(const char *path, const char *xml, xsnapMemoryFormat format,
                           int out, const char *outName, bool *outFailed,
                           uint64_t hold, xsnapMemoryImageReleaseFunc release,
                           void *opaque)
{
    xsnapMemoryImageHeader hdr;
    g_autofree char *area = NULL;
    g_autoptr(xsnapMemoryDecoder) dec = NULL;
    g_autoptr(xsnapMemoryEncoder) enc = NULL;
    xsnapMemoryImagePass pass = { .path = path, .outName = outName, .out = out };
    unsigned char raw[XSNAP_MEMORY_IMAGE_HEADER_LEN];
    int fd;
    int ret = -1;

    if (format < 0 || format >= XSNAP_MEMORY_FORMAT_LAST) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("unknown memory image format %1$d"), (int)format);
        return -1;
    }
    if ((fd = xsnapMemoryImageOpen(path, O_RDONLY, &hdr, &area)) < 0)
        return -1;
    if (xsnapMemoryImageCheckSize(path, fd, &hdr) < 0)
        goto cleanup;
    if (release) {
        uint64_t total = hdr.streamLen;

        if (hdr.format == XSNAP_MEMORY_FORMAT_RAW) {
            struct stat sb;

            if (fstat(fd, &sb) < 0) {
                xsnapReportSystemError(errno, _("cannot stat memory image '%1$s'"), path);
                goto cleanup;
            }
            total = (uint64_t)sb.st_size - hdr.streamOffset;
        }
        pass.holdAt = total - MIN(total, hold);
        pass.release = release;
        pass.releaseOpaque = opaque;
    }
    if (hdr.format != XSNAP_MEMORY_FORMAT_RAW) {
        if (!(dec = xsnapMemoryDecoderNew(hdr.format, path, xsnapMemoryImagePassStream,
                                          &pass)))
            goto cleanup;
        pass.dec = dec;
    }
    if (format != XSNAP_MEMORY_FORMAT_RAW) {
        if (!(enc = xsnapMemoryEncoderNew(format, xsnapMemoryImagePassEncoded, &pass)))
            goto cleanup;
        pass.enc = enc;
    }

    if (xml) {
        if (xsnapMemoryImageWriteHeaderFormat(out, xml, 0, format) < 0) {
            pass.outFailed = true;
            goto cleanup;
        }
    } else {
        xsnapMemoryImageHeaderEncode(raw, hdr.xmlLen, format);
        if (xsnapMemoryImagePassWrite(&pass, raw, sizeof(raw)) < 0 ||
            xsnapMemoryImagePassWrite(&pass, area, hdr.xmlLen) < 0)
            goto cleanup;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (xsnapMemoryImagePassRun(&pass, fd, &hdr) < 0)
        goto cleanup;
    if (enc && xsnapMemoryImageFinish(out, pass.stream) < 0) {
        pass.outFailed = true;
        goto cleanup;
    }
    ret = 0;

 cleanup:
    if (outFailed)
        *outFailed = pass.outFailed;
    close(fd);
    return ret;
}
