/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_feed.h: a memory image streamed to libvirt's restore through a
 * FIFO
 *
 * libvirt's restore (virDomainRestoreFlags) reads an image in order,
 * once, from the path it is given: the header, the XML, then libxl's
 * stream, which libxl reads to its end. A FIFO at that path, fed by a
 * thread, lets it restore what is not a plain file on disk: an image
 * whose XML is to be replaced without touching the image (a clone), or
 * whose stream is compressed (which libvirt itself cannot read).
 */
#pragma once

#include "internal.h"
#include "memory_image.h"

typedef struct _xsnapMemoryFeed xsnapMemoryFeed;

/*
 * Starts a thread that waits (at most two minutes) for a reader to open
 * the FIFO @fifo, then writes into it the image at @image as a raw
 * libvirt-libxl image (xsnapMemoryImageExport): the header, a fresh XML
 * area for @xml or, when @xml is NULL, the image's own, then libxl's
 * stream, decompressed if need be and checked as it is read.
 * Returns the feed, to be ended with xsnapMemoryFeedFinish, or NULL with
 * an error.
 */
xsnapMemoryFeed *xsnapMemoryFeedStart(const char *fifo, const char *image,
                                      const char *xml);

/*
 * xsnapMemoryFeedStart, but the last @hold bytes of libxl's stream wait
 * until @release(@opaque) returns 0 (xsnapMemoryImageExportHold); it is
 * called on the feeder's thread, at most once, and not at all when the
 * feed fails before the tail (no reader came, the image is unreadable).
 * When it returns -1 the stream ends short, and xsnapMemoryFeedFinish
 * returns -1 with its error.
 */
xsnapMemoryFeed *xsnapMemoryFeedStartHold(const char *fifo, const char *image,
                                          const char *xml, uint64_t hold,
                                          xsnapMemoryImageReleaseFunc release,
                                          void *opaque);

/*
 * Ends @feed once its reader is done with the FIFO (or never opened it):
 * the thread stops waiting for a reader, and is joined. Frees @feed.
 * Returns 0 if the whole image went into the FIFO; 1, with no error, if
 * the reader never opened the FIFO or closed it early (the reader knows
 * why); -1 with an error if the image could not be read, was truncated
 * or corrupt, which is then the cause of the reader's failure.
 */
int xsnapMemoryFeedFinish(xsnapMemoryFeed *feed);
