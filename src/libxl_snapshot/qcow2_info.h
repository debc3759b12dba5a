/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2_info.h: what `qemu-img info` says about a qcow2 image, read
 * from the image itself
 *
 * An offline plan checks each image before it changes anything (its
 * format, its internal snapshot names, a reused overlay's backing
 * file). Reading the header and the snapshot table directly saves the
 * qemu-img process that check used to cost. The reader accepts only
 * images it fully understands, with every offset and length checked
 * against the file; anything else (another version, encryption, any
 * incompatible feature, an unknown header extension, a table qemu
 * would refuse) is "not understood", and the caller asks qemu-img.
 */
#pragma once

#include <stdint.h>

#include "qemu_img.h"

/*
 * Reads @len bytes at @offset into @buf. Returns 0 when all of them
 * were read, -1 otherwise (no error reported).
 */
typedef int (*xsnapQcow2ReadFunc)(void *opaque, uint64_t offset, void *buf,
                                  size_t len);

/*
 * Parses a qcow2 image of @fileSize bytes through @readAt. Returns a new
 * info (format "qcow2", backing file and format as written, virtual
 * size, snapshot names in table order), or NULL when the image is not
 * one this reader fully understands; no error is reported then.
 */
xsnapQemuImgInfo *xsnapQcow2ReadInfo(xsnapQcow2ReadFunc readAt, void *opaque,
                                     uint64_t fileSize);

/* xsnapQcow2ReadInfo on the file @path, opened read-only; NULL as above. */
xsnapQemuImgInfo *xsnapQcow2ReadInfoFile(const char *path);

/*
 * What `qemu-img info -U -f @format @path` would say, for the checks of
 * a plan: a qcow2 image through xsnapQcow2ReadInfoFile, a raw one from
 * the file itself (it opens, and is a regular file);
 * in every other case, and whenever that is not understood, by running
 * qemu-img. Returns a new info, or NULL with an error reported.
 */
xsnapQemuImgInfo *xsnapImageGetInfo(const char *path, const char *format);
