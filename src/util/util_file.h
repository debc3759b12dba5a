/*
 * util_file.h: whole-buffer reads and writes on file descriptors
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
