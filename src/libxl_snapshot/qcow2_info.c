/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2_info.c: what `qemu-img info` says about a qcow2 image, read
 * from the image itself
 *
 * The layout is the qcow2 specification's (QEMU docs/interop/qcow2.txt),
 * and the limits are the ones QEMU 7.2 applies when it opens an image,
 * so that whatever is accepted here qemu-img would open and describe the
 * same way. Every multi-byte field is big-endian.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qcow2_info.h"
#include "util_error.h"

#define QCOW2_MAGIC 0x514649fbU              /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_FORMAT_NAME 15             /* QEMU's backing_format[16] */
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOTS_SIZE (1024ULL * QCOW2_MAX_SNAPSHOTS)
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024
#define QCOW2_MIN_V3_SNAPSHOT_EXTRA 16       /* vm_state_size_large + disk_size */
#define QCOW2_SNAPSHOT_HEADER_LEN 40
#define QCOW2_MAX_L1_BYTES 0x2000000ULL      /* 32 MiB */
#define QCOW2_MAX_REFTABLE_BYTES 0x800000ULL /* 8 MiB */

#define QCOW2_EXT_END 0x00000000U
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857U
#define QCOW2_EXT_BITMAPS 0x23852875U

/* Above this the image is not read here: the check would read tens of MiB. */
#define QCOW2_READER_MAX_NAMES_BYTES (4ULL * 1024 * 1024)


static uint32_t
be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}


static uint16_t
be16(const unsigned char *p)
{
    return (uint16_t)(((unsigned int)p[0] << 8) | (unsigned int)p[1]);
}


static uint64_t
be64(const unsigned char *p)
{
    return ((uint64_t)be32(p) << 32) | (uint64_t)be32(p + 4);
}


/* Reads @len bytes at @offset, refusing a range that leaves the file. */
static bool
xsnapQcow2Read(xsnapQcow2ReadFunc readAt, void *opaque, uint64_t fileSize,
               uint64_t offset, void *buf, size_t len)
{
    if (offset > fileSize || len > fileSize - offset)
        return false;
    return readAt(opaque, offset, buf, len) == 0;
}


/* Reads a name of @len bytes: no NUL inside (QEMU would cut it there). */
static char *
xsnapQcow2ReadName(xsnapQcow2ReadFunc readAt, void *opaque, uint64_t fileSize,
                   uint64_t offset, size_t len)
{
    g_autofree char *name = g_malloc(len + 1);

    if (!xsnapQcow2Read(readAt, opaque, fileSize, offset, name, len) ||
        memchr(name, '\0', len))
        return NULL;
    name[len] = '\0';
    return g_steal_pointer(&name);
}


/* The header extensions in [@start, @end): the backing format only. */
static bool
xsnapQcow2ReadExtensions(xsnapQcow2ReadFunc readAt, void *opaque,
                         uint64_t fileSize, uint64_t start, uint64_t end,
                         char **backingFormat)
{
    uint64_t offset = start;

    while (offset < end) {
        unsigned char ext[8];
        uint32_t type;
        uint32_t len;

        if (!xsnapQcow2Read(readAt, opaque, fileSize, offset, ext, sizeof(ext)))
            return false;
        type = be32(ext);
        len = be32(ext + 4);
        offset += sizeof(ext);
        if (offset > end || len > end - offset)
            return false;
        switch (type) {
        case QCOW2_EXT_END:
            return true;
        case QCOW2_EXT_BACKING_FORMAT:
            if (*backingFormat || len == 0 || len > QCOW2_MAX_FORMAT_NAME ||
                !(*backingFormat = xsnapQcow2ReadName(readAt, opaque, fileSize,
                                                      offset, len)))
                return false;
            break;
        case QCOW2_EXT_FEATURE_TABLE:
        case QCOW2_EXT_BITMAPS:
            /* Names of features (all of them off, checked above) and
             * persistent bitmaps: neither changes what the check sees. */
            break;
        default:
            /* Encryption, an external data file, or unknown: qemu-img. */
            return false;
        }
        offset += ((uint64_t)len + 7) & ~(uint64_t)7;
    }
    return true;
}


/* The snapshot table's names, in table order. */
static bool
xsnapQcow2ReadSnapshots(xsnapQcow2ReadFunc readAt, void *opaque,
                        uint64_t fileSize, unsigned int version,
                        uint64_t tableOffset, uint32_t count, GPtrArray *names)
{
    uint64_t offset = tableOffset;
    uint64_t nameBytes = 0;

    for (uint32_t i = 0; i < count; i++) {
        unsigned char sh[QCOW2_SNAPSHOT_HEADER_LEN];
        uint16_t idLen;
        uint16_t nameLen;
        uint32_t extraLen;
        char *name;

        offset = (offset + 7) & ~(uint64_t)7;
        if (!xsnapQcow2Read(readAt, opaque, fileSize, offset, sh, sizeof(sh)))
            return false;
        idLen = be16(sh + 12);
        nameLen = be16(sh + 14);
        extraLen = be32(sh + 36);
        if (extraLen > QCOW2_MAX_SNAPSHOT_EXTRA ||
            (version >= 3 && extraLen < QCOW2_MIN_V3_SNAPSHOT_EXTRA))
            return false;
        offset += sizeof(sh) + extraLen + idLen;
        nameBytes += nameLen;
        if (nameBytes > QCOW2_READER_MAX_NAMES_BYTES ||
            !(name = xsnapQcow2ReadName(readAt, opaque, fileSize, offset, nameLen)))
            return false;
        g_ptr_array_add(names, name);
        offset += nameLen;
        if (offset - tableOffset > QCOW2_MAX_SNAPSHOTS_SIZE)
            return false;
    }
    return true;
}


xsnapQemuImgInfo *
xsnapQcow2ReadInfo(xsnapQcow2ReadFunc readAt, void *opaque, uint64_t fileSize)
{
    g_autoptr(xsnapQemuImgInfo) info = g_new0(xsnapQemuImgInfo, 1);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    unsigned char h[112] = { 0 };
    unsigned int version;
    unsigned int clusterBits;
    uint64_t clusterSize;
    uint64_t backingOffset;
    uint32_t backingLen;
    uint64_t size;
    uint32_t l1Size;
    uint64_t l1Offset;
    uint64_t refOffset;
    uint32_t refClusters;
    uint32_t nbSnapshots;
    uint64_t snapOffset;
    uint64_t headerLen = QCOW2_V2_HEADER_LEN;
    uint64_t l2Entries;
    uint64_t l1Needed;

    if (!xsnapQcow2Read(readAt, opaque, fileSize, 0, h, QCOW2_V2_HEADER_LEN) ||
        be32(h) != QCOW2_MAGIC)
        return NULL;
    version = be32(h + 4);
    if (version != 2 && version != 3)
        return NULL;
    backingOffset = be64(h + 8);
    backingLen = be32(h + 16);
    clusterBits = be32(h + 20);
    size = be64(h + 24);
    l1Size = be32(h + 36);
    l1Offset = be64(h + 40);
    refOffset = be64(h + 48);
    refClusters = be32(h + 56);
    nbSnapshots = be32(h + 60);
    snapOffset = be64(h + 64);

    if (clusterBits < QCOW2_MIN_CLUSTER_BITS || clusterBits > QCOW2_MAX_CLUSTER_BITS)
        return NULL;
    clusterSize = 1ULL << clusterBits;
    if (be32(h + 32) != 0)                  /* crypt_method */
        return NULL;

    if (version == 3) {
        if (!xsnapQcow2Read(readAt, opaque, fileSize, QCOW2_V2_HEADER_LEN,
                            h + QCOW2_V2_HEADER_LEN,
                            QCOW2_V3_HEADER_LEN - QCOW2_V2_HEADER_LEN))
            return NULL;
        /* Any incompatible feature (dirty, corrupt, external data file,
         * compression type, extended L2) is qemu-img's to judge. */
        if (be64(h + 72) != 0 || be32(h + 96) > 6)
            return NULL;
        headerLen = be32(h + 100);
        if (headerLen != QCOW2_V3_HEADER_LEN && headerLen != 112)
            return NULL;
        if (headerLen == 112) {
            if (!xsnapQcow2Read(readAt, opaque, fileSize, QCOW2_V3_HEADER_LEN,
                                h + QCOW2_V3_HEADER_LEN, 8) ||
                h[104] != 0)                 /* compression type: zlib */
                return NULL;
        }
    }
    if (headerLen > clusterSize)
        return NULL;

    /* The tables QEMU checks when it opens the image. */
    if ((l1Offset | refOffset | snapOffset) & (clusterSize - 1))
        return NULL;
    if ((uint64_t)l1Size * 8 > QCOW2_MAX_L1_BYTES ||
        refClusters == 0 || (uint64_t)refClusters * clusterSize > QCOW2_MAX_REFTABLE_BYTES ||
        nbSnapshots > QCOW2_MAX_SNAPSHOTS)
        return NULL;
    l2Entries = clusterSize / 8;
    if (size > (UINT64_MAX >> 1))
        return NULL;
    l1Needed = (size + clusterSize * l2Entries - 1) / (clusterSize * l2Entries);
    if (l1Needed > G_MAXINT || l1Size < l1Needed)
        return NULL;

    if (backingOffset != 0) {
        if (backingOffset > clusterSize || backingLen == 0 ||
            backingLen > QCOW2_MAX_BACKING_NAME ||
            backingLen > clusterSize - backingOffset ||
            backingOffset < headerLen ||
            !(info->backingFile = xsnapQcow2ReadName(readAt, opaque, fileSize,
                                                     backingOffset, backingLen)))
            return NULL;
    } else if (backingLen != 0) {
        return NULL;
    }

    if (!xsnapQcow2ReadExtensions(readAt, opaque, fileSize, headerLen,
                                  backingOffset ? backingOffset : clusterSize,
                                  &info->backingFormat))
        return NULL;
    /* A backing format without a backing file is not something we know. */
    if (info->backingFormat && !info->backingFile)
        return NULL;

    if (!xsnapQcow2ReadSnapshots(readAt, opaque, fileSize, version, snapOffset,
                                 nbSnapshots, names))
        return NULL;

    info->format = g_strdup("qcow2");
    info->virtualSize = size;
    g_ptr_array_add(names, NULL);
    info->snapshots = (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
    return g_steal_pointer(&info);
}


static int
xsnapQcow2ReadFd(void *opaque, uint64_t offset, void *buf, size_t len)
{
    int fd = *(int *)opaque;
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}


xsnapQemuImgInfo *
xsnapQcow2ReadInfoFile(const char *path)
{
    xsnapQemuImgInfo *info = NULL;
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        info = xsnapQcow2ReadInfo(xsnapQcow2ReadFd, &fd, (uint64_t)sb.st_size);
    close(fd);
    return info;
}


xsnapQemuImgInfo *
xsnapImageGetInfo(const char *path, const char *format)
{
    xsnapQemuImgInfo *info = NULL;

    if (format && g_str_equal(format, "qcow2")) {
        info = xsnapQcow2ReadInfoFile(path);
    } else if (format && g_str_equal(format, "raw")) {
        struct stat sb;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd >= 0) {
            if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
                info = g_new0(xsnapQemuImgInfo, 1);
                info->format = g_strdup("raw");
                info->virtualSize = (unsigned long long)sb.st_size;
                info->snapshots = g_new0(char *, 1);
            }
            close(fd);
        }
    }
    if (info)
        return info;
    return xsnapQemuImgGetInfo(path, format);
}
