/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_codec.h: streaming compression of libxl's save stream
 *
 * A memory image holds libxl's stream either as it is (raw) or as one
 * zstd or LZ4 frame, with the frame's content checksum on, so that a
 * reader notices a corrupt or truncated image before it hands anything
 * to libxl. Encoders and decoders take their input in pieces of any
 * size and hand their output to a sink as it is produced: neither side
 * ever holds the guest's memory.
 */
#pragma once

#include <stdint.h>

#include "internal.h"

typedef enum {
    XSNAP_MEMORY_FORMAT_RAW = 0,
    XSNAP_MEMORY_FORMAT_ZSTD,
    XSNAP_MEMORY_FORMAT_LZ4,

    XSNAP_MEMORY_FORMAT_LAST
} xsnapMemoryFormat;

XSNAP_ENUM_DECL(xsnapMemoryFormat);

/*
 * Receives @len bytes of output. Returns 0, or -1 with an error
 * reported, which stops the encoder or decoder that called it.
 */
typedef int (*xsnapMemorySink)(void *opaque, const void *data, size_t len);

typedef struct _xsnapMemoryEncoder xsnapMemoryEncoder;

/*
 * An encoder of @format (zstd or LZ4) that hands its output to @sink.
 * Returns it (free with xsnapMemoryEncoderFree), or NULL with an error.
 */
xsnapMemoryEncoder *xsnapMemoryEncoderNew(xsnapMemoryFormat format,
                                          xsnapMemorySink sink, void *opaque);

/* Compresses @len more bytes. Returns 0, or -1 with an error. */
int xsnapMemoryEncoderWrite(xsnapMemoryEncoder *enc, const void *data, size_t len);

/* Ends the frame, handing the rest of the output to the sink. Returns 0,
 * or -1 with an error. */
int xsnapMemoryEncoderFinish(xsnapMemoryEncoder *enc);

/* Bytes taken in, and bytes handed to the sink, so far. */
uint64_t xsnapMemoryEncoderBytesIn(const xsnapMemoryEncoder *enc);
uint64_t xsnapMemoryEncoderBytesOut(const xsnapMemoryEncoder *enc);

void xsnapMemoryEncoderFree(xsnapMemoryEncoder *enc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapMemoryEncoder, xsnapMemoryEncoderFree);

typedef struct _xsnapMemoryDecoder xsnapMemoryDecoder;

/*
 * A decoder of one @format frame that hands the decompressed bytes to
 * @sink. @name (the image's path) goes into error messages.
 * Returns it (free with xsnapMemoryDecoderFree), or NULL with an error.
 */
xsnapMemoryDecoder *xsnapMemoryDecoderNew(xsnapMemoryFormat format, const char *name,
                                          xsnapMemorySink sink, void *opaque);

/*
 * Decompresses @len more bytes of the frame. Bytes after the end of the
 * frame, a damaged block or a wrong checksum fail with
 * VIR_ERR_OPERATION_FAILED. Returns 0, or -1 with an error.
 */
int xsnapMemoryDecoderWrite(xsnapMemoryDecoder *dec, const void *data, size_t len);

/* Checks that the frame ended: fails with VIR_ERR_OPERATION_FAILED when
 * the input stopped before its end. Returns 0, or -1 with an error. */
int xsnapMemoryDecoderFinish(xsnapMemoryDecoder *dec);

/* Bytes handed to the sink so far. */
uint64_t xsnapMemoryDecoderBytesOut(const xsnapMemoryDecoder *dec);

void xsnapMemoryDecoderFree(xsnapMemoryDecoder *dec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapMemoryDecoder, xsnapMemoryDecoderFree);
