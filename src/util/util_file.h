/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_file.h: whole-buffer reads and writes on file descriptors, and
 * the pieces of a durable atomic file write
 */
#pragma once

#include <sys/types.h>

#include "internal.h"

/* Writes all @len bytes, retrying on EINTR and short writes.
 * Returns 0, or -1 with errno set (no error reported). */
int xsnapFileWriteAll(int fd, const void *data, size_t len);

/* Reads up to @len bytes, stopping early only at end of file. Returns
 * the number of bytes read, or -1 with errno set (no error reported). */
ssize_t xsnapFileReadAll(int fd, void *data, size_t len);

/* Makes a completed create, rename or unlink in @dir durable (fsync of
 * the directory). Returns 0, or -1 with an error reported. */
int xsnapFileSyncDir(const char *dir);

/* Creates @dir (mode 0700, with its parents) if it is missing, and makes
 * the new directory durable in its parent and that parent in its own.
 * Returns 0, or -1 with an error reported. */
int xsnapFileMakeDurableDir(const char *dir);

/*
 * Writes @len bytes of @data to a new file made from @pattern (a path
 * ending in XXXXXX, which is replaced) and fsyncs it, ready to be renamed
 * into place. Returns the new file's path (caller frees, and removes it
 * if the rename does not happen), or NULL with an error reported and no
 * file left behind.
 */
char *xsnapFileWriteTemp(const char *pattern, const char *data, size_t len);

/* True when @a and @b name the same file: the same path, or the same
 * device and inode. */
bool xsnapFileSame(const char *a, const char *b);
