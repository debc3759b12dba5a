/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_codec.c: streaming compression of libxl's save stream (zstd,
 * LZ4 frames)
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <zstd.h>
#include <lz4frame.h>

#include "memory_codec.h"
#include "util_error.h"

XSNAP_ENUM_IMPL(xsnapMemoryFormat, XSNAP_MEMORY_FORMAT_LAST,
                "raw", "zstd", "lz4");

/*
 * zstd level 1 and LZ4's default level: libxl's stream is written while
 * the guest waits (a save that is not live), and most of it is zero
 * pages, which every level shrinks alike. Higher levels gained little
 * on the pages that hold data, at a multiple of the time.
 */
#define XSNAP_CODEC_ZSTD_LEVEL 1
#define XSNAP_CODEC_LZ4_CHUNK (1024 * 1024)
#define XSNAP_CODEC_OUT_CHUNK (1024 * 1024)

struct _xsnapMemoryEncoder {
    xsnapMemoryFormat format;
    xsnapMemorySink sink;
    void *opaque;
    ZSTD_CCtx *zstd;
    LZ4F_cctx *lz4;
    LZ4F_preferences_t lz4prefs;
    bool begun;                 /* LZ4: the frame header is out */
    bool failed;
    char *out;
    size_t outCap;
    uint64_t in;
    uint64_t written;
};

struct _xsnapMemoryDecoder {
    xsnapMemoryFormat format;
    char *name;
    xsnapMemorySink sink;
    void *opaque;
    ZSTD_DCtx *zstd;
    LZ4F_dctx *lz4;
    bool ended;                 /* the frame is complete */
    bool failed;
    char *out;
    size_t outCap;
    uint64_t written;
};


static int
xsnapMemoryEncoderEmit(xsnapMemoryEncoder *enc, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (enc->sink(enc->opaque, data, len) < 0) {
        enc->failed = true;
        return -1;
    }
    enc->written += len;
    return 0;
}


xsnapMemoryEncoder *
xsnapMemoryEncoderNew(xsnapMemoryFormat format, xsnapMemorySink sink, void *opaque)
{
    g_autoptr(xsnapMemoryEncoder) enc = g_new0(xsnapMemoryEncoder, 1);

    enc->format = format;
    enc->sink = sink;
    enc->opaque = opaque;
    switch (format) {
    case XSNAP_MEMORY_FORMAT_ZSTD:
        if (!(enc->zstd = ZSTD_createCCtx()))
            goto nomem;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(enc->zstd, ZSTD_c_compressionLevel,
                                                XSNAP_CODEC_ZSTD_LEVEL)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(enc->zstd, ZSTD_c_checksumFlag, 1))) {
            xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                             _("cannot set up the zstd compressor"));
            return NULL;
        }
        /* No worker threads: for 1 GiB a quarter full, one worker
         * (input copied into its jobs) took twice the CPU time of
         * compressing in the caller's thread, and longer. The caller
         * writes the output from a thread of its own instead. */
        enc->outCap = ZSTD_CStreamOutSize();
        break;
    case XSNAP_MEMORY_FORMAT_LZ4:
        if (LZ4F_isError(LZ4F_createCompressionContext(&enc->lz4, LZ4F_VERSION)))
            goto nomem;
        enc->lz4prefs.frameInfo.blockSizeID = LZ4F_max1MB;
        enc->lz4prefs.frameInfo.blockMode = LZ4F_blockLinked;
        /* The content checksum only: a revert reads the whole frame
         * before it uses any of it, and block checksums cost as much
         * again. */
        enc->lz4prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
        enc->outCap = MAX(LZ4F_compressBound(XSNAP_CODEC_LZ4_CHUNK, &enc->lz4prefs),
                          (size_t)LZ4F_HEADER_SIZE_MAX);
        break;
    case XSNAP_MEMORY_FORMAT_RAW:
    case XSNAP_MEMORY_FORMAT_LAST:
    default:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("no encoder for memory image format %1$d"), (int)format);
        return NULL;
    }
    enc->out = g_malloc(enc->outCap);
    return g_steal_pointer(&enc);

 nomem:
    xsnapReportSystemError(ENOMEM, "%s", _("cannot create a compression context"));
    return NULL;
}


static int
xsnapMemoryEncoderZstd(xsnapMemoryEncoder *enc, const void *data, size_t len,
                       ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = { data, len, 0 };

    for (;;) {
        ZSTD_outBuffer out = { enc->out, enc->outCap, 0 };
        size_t left = ZSTD_compressStream2(enc->zstd, &out, &in, mode);

        if (ZSTD_isError(left)) {
            enc->failed = true;
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("zstd failed to compress the memory image: %1$s"),
                             ZSTD_getErrorName(left));
            return -1;
        }
        if (xsnapMemoryEncoderEmit(enc, enc->out, out.pos) < 0)
            return -1;
        /* Done once the input is taken and, when ending, all is flushed. */
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
            return 0;
    }
}


static int
xsnapMemoryEncoderLz4Check(xsnapMemoryEncoder *enc, size_t rc)
{
    if (!LZ4F_isError(rc))
        return xsnapMemoryEncoderEmit(enc, enc->out, rc);
    enc->failed = true;
    xsnapReportError(VIR_ERR_OPERATION_FAILED,
                     _("LZ4 failed to compress the memory image: %1$s"),
                     LZ4F_getErrorName(rc));
    return -1;
}


static int
xsnapMemoryEncoderLz4Begin(xsnapMemoryEncoder *enc)
{
    if (enc->begun)
        return 0;
    enc->begun = true;
    return xsnapMemoryEncoderLz4Check(enc, LZ4F_compressBegin(enc->lz4, enc->out,
                                                              enc->outCap,
                                                              &enc->lz4prefs));
}


int
xsnapMemoryEncoderWrite(xsnapMemoryEncoder *enc, const void *data, size_t len)
{
    const char *p = data;

    if (enc->failed) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("the memory image compressor already failed"));
        return -1;
    }
    enc->in += len;
    if (enc->format == XSNAP_MEMORY_FORMAT_ZSTD)
        return xsnapMemoryEncoderZstd(enc, data, len, ZSTD_e_continue);

    if (xsnapMemoryEncoderLz4Begin(enc) < 0)
        return -1;
    while (len > 0) {
        size_t n = MIN(len, (size_t)XSNAP_CODEC_LZ4_CHUNK);

        if (xsnapMemoryEncoderLz4Check(enc, LZ4F_compressUpdate(enc->lz4, enc->out,
                                                                enc->outCap, p, n,
                                                                NULL)) < 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}


int
xsnapMemoryEncoderFinish(xsnapMemoryEncoder *enc)
{
    if (enc->failed) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("the memory image compressor already failed"));
        return -1;
    }
    if (enc->format == XSNAP_MEMORY_FORMAT_ZSTD)
        return xsnapMemoryEncoderZstd(enc, NULL, 0, ZSTD_e_end);
    if (xsnapMemoryEncoderLz4Begin(enc) < 0)
        return -1;
    return xsnapMemoryEncoderLz4Check(enc, LZ4F_compressEnd(enc->lz4, enc->out,
                                                            enc->outCap, NULL));
}


uint64_t
xsnapMemoryEncoderBytesIn(const xsnapMemoryEncoder *enc)
{
    return enc->in;
}


uint64_t
xsnapMemoryEncoderBytesOut(const xsnapMemoryEncoder *enc)
{
    return enc->written;
}


void
xsnapMemoryEncoderFree(xsnapMemoryEncoder *enc)
{
    if (!enc)
        return;
    ZSTD_freeCCtx(enc->zstd);
    if (enc->lz4)
        LZ4F_freeCompressionContext(enc->lz4);
    g_free(enc->out);
    g_free(enc);
}


xsnapMemoryDecoder *
xsnapMemoryDecoderNew(xsnapMemoryFormat format, const char *name,
                      xsnapMemorySink sink, void *opaque)
{
    g_autoptr(xsnapMemoryDecoder) dec = g_new0(xsnapMemoryDecoder, 1);

    dec->format = format;
    dec->name = g_strdup(name);
    dec->sink = sink;
    dec->opaque = opaque;
    dec->outCap = XSNAP_CODEC_OUT_CHUNK;
    switch (format) {
    case XSNAP_MEMORY_FORMAT_ZSTD:
        if (!(dec->zstd = ZSTD_createDCtx()))
            goto nomem;
        break;
    case XSNAP_MEMORY_FORMAT_LZ4:
        if (LZ4F_isError(LZ4F_createDecompressionContext(&dec->lz4, LZ4F_VERSION)))
            goto nomem;
        break;
    case XSNAP_MEMORY_FORMAT_RAW:
    case XSNAP_MEMORY_FORMAT_LAST:
    default:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("no decoder for memory image format %1$d"), (int)format);
        return NULL;
    }
    dec->out = g_malloc(dec->outCap);
    return g_steal_pointer(&dec);

 nomem:
    xsnapReportSystemError(ENOMEM, "%s", _("cannot create a decompression context"));
    return NULL;
}


static int
xsnapMemoryDecoderEmit(xsnapMemoryDecoder *dec, size_t len)
{
    if (len == 0)
        return 0;
    if (dec->sink(dec->opaque, dec->out, len) < 0) {
        dec->failed = true;
        return -1;
    }
    dec->written += len;
    return 0;
}


static int
xsnapMemoryDecoderTrailing(xsnapMemoryDecoder *dec)
{
    dec->failed = true;
    xsnapReportError(VIR_ERR_OPERATION_FAILED,
                     _("memory image '%1$s' is corrupt: it has data after the end of its compressed stream"),
                     dec->name);
    return -1;
}


static int
xsnapMemoryDecoderZstd(xsnapMemoryDecoder *dec, const void *data, size_t len)
{
    ZSTD_inBuffer in = { data, len, 0 };

    for (;;) {
        ZSTD_outBuffer out = { dec->out, dec->outCap, 0 };
        size_t rc = ZSTD_decompressStream(dec->zstd, &out, &in);

        if (ZSTD_isError(rc)) {
            dec->failed = true;
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("memory image '%1$s' is corrupt: zstd says '%2$s'"),
                             dec->name, ZSTD_getErrorName(rc));
            return -1;
        }
        if (xsnapMemoryDecoderEmit(dec, out.pos) < 0)
            return -1;
        if (rc == 0) {
            /* The frame is decoded and flushed. */
            dec->ended = true;
            return in.pos < in.size ? xsnapMemoryDecoderTrailing(dec) : 0;
        }
        /* Everything taken, and no output held back. */
        if (in.pos == in.size && out.pos < out.size)
            return 0;
    }
}


static int
xsnapMemoryDecoderLz4(xsnapMemoryDecoder *dec, const void *data, size_t len)
{
    const char *p = data;

    for (;;) {
        size_t outLen = dec->outCap;
        size_t inLen = len;
        size_t rc = LZ4F_decompress(dec->lz4, dec->out, &outLen, p, &inLen, NULL);

        if (LZ4F_isError(rc)) {
            dec->failed = true;
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("memory image '%1$s' is corrupt: LZ4 says '%2$s'"),
                             dec->name, LZ4F_getErrorName(rc));
            return -1;
        }
        p += inLen;
        len -= inLen;
        if (xsnapMemoryDecoderEmit(dec, outLen) < 0)
            return -1;
        if (rc == 0) {
            dec->ended = true;
            return len > 0 ? xsnapMemoryDecoderTrailing(dec) : 0;
        }
        if (len == 0 && outLen < dec->outCap)
            return 0;
    }
}


int
xsnapMemoryDecoderWrite(xsnapMemoryDecoder *dec, const void *data, size_t len)
{
    if (dec->failed) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("the memory image decompressor already failed"));
        return -1;
    }
    if (len == 0)
        return 0;
    if (dec->ended)
        return xsnapMemoryDecoderTrailing(dec);
    if (dec->format == XSNAP_MEMORY_FORMAT_ZSTD)
        return xsnapMemoryDecoderZstd(dec, data, len);
    return xsnapMemoryDecoderLz4(dec, data, len);
}


int
xsnapMemoryDecoderFinish(xsnapMemoryDecoder *dec)
{
    if (dec->failed) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("the memory image decompressor already failed"));
        return -1;
    }
    if (!dec->ended) {
        dec->failed = true;
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("memory image '%1$s' is truncated: its compressed stream ends early"),
                         dec->name);
        return -1;
    }
    return 0;
}


uint64_t
xsnapMemoryDecoderBytesOut(const xsnapMemoryDecoder *dec)
{
    return dec->written;
}


void
xsnapMemoryDecoderFree(xsnapMemoryDecoder *dec)
{
    if (!dec)
        return;
    ZSTD_freeDCtx(dec->zstd);
    if (dec->lz4)
        LZ4F_freeDecompressionContext(dec->lz4);
    g_free(dec->name);
    g_free(dec->out);
    g_free(dec);
}
