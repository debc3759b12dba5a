/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_file.c: whole-buffer reads and writes on file descriptors, and
 * the pieces of a durable atomic file write
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util_error.h"
#include "util_file.h"

int
xsnapFileWriteAll(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}


ssize_t
xsnapFileReadAll(int fd, void *data, size_t len)
{
    char *p = data;
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}


int
xsnapFileSyncDir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        xsnapReportSystemError(errno, _("cannot open directory '%1$s'"), dir);
        return -1;
    }
    if (fsync(fd) < 0 && errno != EINVAL) {
        int err = errno;
        close(fd);
        xsnapReportSystemError(err, _("cannot sync directory '%1$s'"), dir);
        return -1;
    }
    close(fd);
    return 0;
}


int
xsnapFileMakeDurableDir(const char *dir)
{
    g_autofree char *top = NULL;
    g_autofree char *lib = NULL;

    if (g_file_test(dir, G_FILE_TEST_IS_DIR))
        return 0;
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        xsnapReportSystemError(errno, _("cannot create directory '%1$s'"), dir);
        return -1;
    }
    /* A file in it is durable only once the directory itself is. */
    top = g_path_get_dirname(dir);
    lib = g_path_get_dirname(top);
    if (xsnapFileSyncDir(top) < 0 || xsnapFileSyncDir(lib) < 0)
        return -1;
    return 0;
}


char *
xsnapFileWriteTemp(const char *pattern, const char *data, size_t len)
{
    g_autofree char *tmp = g_strdup(pattern);
    int fd;

    if ((fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600)) < 0) {
        g_autofree char *dir = g_path_get_dirname(pattern);
        xsnapReportSystemError(errno, _("cannot create a temporary file in '%1$s'"), dir);
        return NULL;
    }
    if (xsnapFileWriteAll(fd, data, len) < 0 || fsync(fd) < 0) {
        int err = errno;
        close(fd);
        unlink(tmp);
        xsnapReportSystemError(err, _("cannot write '%1$s'"), tmp);
        return NULL;
    }
    if (close(fd) < 0) {
        int err = errno;
        unlink(tmp);
        xsnapReportSystemError(err, _("cannot write '%1$s'"), tmp);
        return NULL;
    }
    return g_steal_pointer(&tmp);
}


bool
xsnapFileSame(const char *a, const char *b)
{
    struct stat sa;
    struct stat sb;

    if (g_str_equal(a, b))
        return true;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
