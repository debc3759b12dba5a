/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_image.c: virt-xen-snapshot convert-image
 *
 * Converts a memory image (a snapshot's, or any libvirt libxl save
 * image) between raw, zstd and lz4. The header's XML area is kept byte
 * for byte, so that converting back gives the image that was converted,
 * and the XML can still be rewritten in place. The input is read once,
 * in order, and checked as it is read (frame, checksum, lengths); the
 * output is written to a new file and synced. Without OUT the image is
 * replaced by its conversion with a rename, so a reader of the old one
 * (a revert under way) keeps it whole.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "util_error.h"
#include "util_file.h"
#include "memory_image.h"
#include "tool_cmds.h"


static void
vxsImageUsage(FILE *out)
{
    fprintf(out, "%s\n",
            _("Usage: virt-xen-snapshot convert-image --format raw|zstd|lz4 IN [OUT]"));
}


/* Writes the conversion of @in into the new file @fd (@name). */
static int
vxsImageWrite(const char *in, xsnapMemoryFormat format, int fd, const char *name)
{
    if (xsnapMemoryImageExport(in, NULL, format, fd, name, NULL) < 0)
        return -1;
    if (fsync(fd) < 0) {
        xsnapReportSystemError(errno, _("cannot write '%1$s'"), name);
        return -1;
    }
    return 0;
}


/* Converts @in into @out, a file that must not exist. */
static int
vxsImageConvertTo(const char *in, xsnapMemoryFormat format, const char *out)
{
    g_autofree char *dir = g_path_get_dirname(out);
    int fd = open(out, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc;

    if (fd < 0) {
        xsnapReportSystemError(errno, _("cannot create '%1$s'"), out);
        return -1;
    }
    rc = vxsImageWrite(in, format, fd, out);
    if (close(fd) < 0 && rc == 0) {
        xsnapReportSystemError(errno, _("cannot write '%1$s'"), out);
        rc = -1;
    }
    if (rc == 0)
        rc = xsnapFileSyncDir(dir);
    if (rc < 0)
        unlink(out);
    return rc;
}


/* Replaces @in by its conversion: a new file beside it, with its owner
 * and mode, renamed over it. The new file's name ends in ".save", which
 * the snapshot store skips if it is ever left behind. */
static int
vxsImageConvertInPlace(const char *in, xsnapMemoryFormat format)
{
    g_autofree char *dir = g_path_get_dirname(in);
    g_autofree char *base = g_path_get_basename(in);
    g_autofree char *tmp = g_strdup_printf("%s/%s.convert-XXXXXX.save", dir, base);
    struct stat sb;
    int fd;
    int rc;

    if (stat(in, &sb) < 0) {
        xsnapReportSystemError(errno, _("cannot stat memory image '%1$s'"), in);
        return -1;
    }
    if ((fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600)) < 0) {
        xsnapReportSystemError(errno, _("cannot create a file beside '%1$s'"), in);
        return -1;
    }
    rc = 0;
    if ((fchown(fd, sb.st_uid, sb.st_gid) < 0 && errno != EPERM) ||
        fchmod(fd, sb.st_mode & 07777) < 0) {
        xsnapReportSystemError(errno, _("cannot give '%1$s' the owner and mode of '%2$s'"),
                               tmp, in);
        rc = -1;
    }
    if (rc == 0)
        rc = vxsImageWrite(in, format, fd, tmp);
    if (close(fd) < 0 && rc == 0) {
        xsnapReportSystemError(errno, _("cannot write '%1$s'"), tmp);
        rc = -1;
    }
    if (rc == 0 && rename(tmp, in) < 0) {
        xsnapReportSystemError(errno, _("cannot rename '%1$s' to '%2$s'"), tmp, in);
        rc = -1;
    }
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    return xsnapFileSyncDir(dir);
}


static long long
vxsImageSize(const char *path)
{
    struct stat sb;

    return stat(path, &sb) < 0 ? -1 : (long long)sb.st_size;
}


int
vxsCmdConvertImage(int argc, char **argv)
{
    const char *formatName = NULL;
    const char *in = NULL;
    const char *out = NULL;
    xsnapMemoryImageHeader hdr;
    long long before;
    long long after;
    int format;
    int i;

    for (i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--format") && i + 1 < argc) {
            formatName = argv[++i];
        } else if (g_str_has_prefix(argv[i], "--format=")) {
            formatName = argv[i] + strlen("--format=");
        } else if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h")) {
            vxsImageUsage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && !in) {
            in = argv[i];
        } else if (argv[i][0] != '-' && !out) {
            out = argv[i];
        } else {
            vxsImageUsage(stderr);
            return 2;
        }
    }
    if (!formatName || !in) {
        vxsImageUsage(stderr);
        return 2;
    }
    if ((format = xsnapMemoryFormatTypeFromString(formatName)) < 0) {
        fprintf(stderr, _("virt-xen-snapshot: unknown image format '%1$s': expected raw, zstd or lz4\n"),
                formatName);
        return 2;
    }

    if (xsnapMemoryImageRead(in, &hdr, NULL) < 0) {
        vxsPrintError();
        return 1;
    }
    before = vxsImageSize(in);
    if (!out && hdr.format == (xsnapMemoryFormat)format) {
        printf(_("'%1$s' is %2$s already: nothing to do\n"), in, formatName);
        return 0;
    }
    if ((out ? vxsImageConvertTo(in, format, out) :
               vxsImageConvertInPlace(in, format)) < 0) {
        vxsPrintError();
        return 1;
    }
    after = vxsImageSize(out ? out : in);
    printf(_("%1$s (%2$s, %3$lld bytes) -> %4$s (%5$s, %6$lld bytes, %7$.1f %%)\n"),
           in, xsnapMemoryFormatTypeToString(hdr.format), before,
           out ? out : in, formatName, after,
           before > 0 ? 100.0 * (double)after / (double)before : 0.0);
    return 0;
}
