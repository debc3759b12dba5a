/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoryimagetest.c: the libxl save-image format of memory images
 */
#include <config.h>

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutils.h"
#include "util_error.h"
#include "memory_image.h"

static const char stream[] = "Xen saved domain, xl format\n\0stream bytes";

/* Writes an image holding @xml and a fake stream; returns its path. */
static char *
makeImage(const char *name, const char *xml, size_t slack)
{
    char *path = g_build_filename(xsnapTestTmpDir(), name, NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0)
        abort();
    if (xsnapMemoryImageWriteHeader(fd, xml, slack) < 0 ||
        write(fd, stream, sizeof(stream)) != (ssize_t)sizeof(stream)) {
        close(fd);
        g_free(path);
        return NULL;
    }
    close(fd);
    return path;
}


static int
testLayout(const void *data XSNAP_UNUSED)
{
    const char *xml = "<domain type='xen'><name>a</name></domain>";
    g_autofree char *path = makeImage("layout.img", xml, 100);
    g_autofree char *content = NULL;
    gsize len;
    uint32_t version, xmlLen;

    if (!path || !g_file_get_contents(path, &content, &len, NULL))
        return -1;
    /* The bytes libvirt's libxl driver reads: magic, version, length. */
    if (memcmp(content, "libvirt-xml\n \0 \r", 16) != 0)
        return -1;
    memcpy(&version, content + 16, 4);
    memcpy(&xmlLen, content + 20, 4);
    if (version != 2) {
        xsnapTestFail("version %u", version);
        return -1;
    }
    /* The stream starts page aligned, right after the XML area. */
    if ((64 + xmlLen) % 4096 != 0 || 64 + xmlLen + sizeof(stream) != len) {
        xsnapTestFail("xmlLen %u, file %zu", xmlLen, (size_t)len);
        return -1;
    }
    if (strcmp(content + 64, xml) != 0 ||
        memcmp(content + 64 + xmlLen, stream, sizeof(stream)) != 0)
        return -1;
    /* The unused words and the padding are zero. */
    for (size_t i = 24; i < 64; i++)
        if (content[i])
            return -1;
    for (size_t i = 64 + strlen(xml); i < 64 + xmlLen; i++)
        if (content[i])
            return -1;
    return 0;
}


static int
testRewrite(const void *data XSNAP_UNUSED)
{
    g_autofree char *path = makeImage("rewrite.img", "<domain>old</domain>", 1024);
    g_autofree char *xml = NULL;
    g_autofree char *content = NULL;
    g_autofree char *big = NULL;
    xsnapMemoryImageHeader hdr;
    gsize len;

    if (!path)
        return -1;
    if (xsnapMemoryImageRewriteXML(path, "<domain>a longer new text</domain>") < 0)
        return -1;
    if (xsnapMemoryImageRead(path, &hdr, &xml) < 0 ||
        !g_str_equal(xml, "<domain>a longer new text</domain>"))
        return -1;
    if (!g_file_get_contents(path, &content, &len, NULL) ||
        memcmp(content + hdr.streamOffset, stream, sizeof(stream)) != 0) {
        xsnapTestFail("stream changed by the rewrite");
        return -1;
    }

    /* An XML that does not fit is refused and nothing changes. */
    big = g_strnfill(hdr.xmlLen, 'x');
    if (xsnapMemoryImageRewriteXML(path, big) == 0 ||
        xsnapGetLastErrorCode() != VIR_ERR_OPERATION_FAILED)
        return -1;
    g_clear_pointer(&xml, g_free);
    if (xsnapMemoryImageRead(path, &hdr, &xml) < 0 ||
        !g_str_equal(xml, "<domain>a longer new text</domain>"))
        return -1;
    return 0;
}


typedef struct {
    const char *name;
    size_t offset;          /* byte to change */
    const void *bytes;
    size_t nbytes;
    off_t truncate;         /* >0: cut the file to this size */
    int code;
    const char *message;
} corruptCase;


static int
testCorrupt(const void *opaque)
{
    const corruptCase *c = opaque;
    g_autofree char *path = makeImage("corrupt.img", "<domain/>", 0);
    xsnapMemoryImageHeader hdr;
    g_autofree char *xml = NULL;
    int fd;

    if (!path)
        return -1;
    if ((fd = open(path, O_RDWR)) < 0)
        return -1;
    if (c->nbytes && pwrite(fd, c->bytes, c->nbytes, (off_t)c->offset) != (ssize_t)c->nbytes) {
        close(fd);
        return -1;
    }
    if (c->truncate > 0 && ftruncate(fd, c->truncate) < 0) {
        close(fd);
        return -1;
    }
    close(fd);

    if (xsnapMemoryImageRead(path, &hdr, &xml) == 0) {
        xsnapTestFail("corrupt image accepted");
        return -1;
    }
    if (xsnapGetLastErrorCode() != c->code ||
        !strstr(xsnapGetLastErrorMessage(), c->message)) {
        xsnapTestFail("got %d '%s'", xsnapGetLastErrorCode(), xsnapGetLastErrorMessage());
        return -1;
    }
    return 0;
}


/* A raw image with @len bytes of stream: zeros and some noise, as a
 * lightly used guest's. Returns its path. */
static char *
makeStreamImage(const char *name, size_t len)
{
    g_autofree char *path = g_build_filename(xsnapTestTmpDir(), name, NULL);
    g_autofree unsigned char *buf = g_malloc0(len);
    guint32 seed = 12345;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0)
        abort();
    for (size_t i = len / 4; i < len / 2; i++) {
        seed = seed * 1103515245 + 12345;
        buf[i] = (unsigned char)(seed >> 16);
    }
    if (xsnapMemoryImageWriteHeader(fd, "<domain><name>s</name></domain>", 8192) < 0 ||
        write(fd, buf, len) != (ssize_t)len) {
        close(fd);
        return NULL;
    }
    close(fd);
    return g_steal_pointer(&path);
}


/* Converts @in to @format in a new file @name; returns its path. */
static char *
convert(const char *in, xsnapMemoryFormat format, const char *name)
{
    g_autofree char *path = g_build_filename(xsnapTestTmpDir(), name, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int rc;

    if (fd < 0)
        abort();
    rc = xsnapMemoryImageExport(in, NULL, format, fd, path, NULL);
    close(fd);
    return rc < 0 ? NULL : g_steal_pointer(&path);
}


static bool
sameFiles(const char *a, const char *b)
{
    g_autofree char *ca = NULL;
    g_autofree char *cb = NULL;
    gsize la;
    gsize lb;

    return g_file_get_contents(a, &ca, &la, NULL) &&
           g_file_get_contents(b, &cb, &lb, NULL) &&
           la == lb && memcmp(ca, cb, la) == 0;
}


/* raw -> FORMAT -> raw is the same file; the compressed one is marked,
 * smaller, verifies, and keeps the XML area. */
static int
testCompressRoundTrip(const void *opaque)
{
    xsnapMemoryFormat format = GPOINTER_TO_INT(opaque);
    const char *name = xsnapMemoryFormatTypeToString(format);
    g_autofree char *rawName = g_strdup_printf("rt-%s.raw", name);
    g_autofree char *packedName = g_strdup_printf("rt-%s.packed", name);
    g_autofree char *backName = g_strdup_printf("rt-%s.back", name);
    g_autofree char *raw = makeStreamImage(rawName, 3 * 1024 * 1024 + 17);
    g_autofree char *packed = raw ? convert(raw, format, packedName) : NULL;
    g_autofree char *back = packed ? convert(packed, XSNAP_MEMORY_FORMAT_RAW, backName) : NULL;
    g_autofree char *xml = NULL;
    xsnapMemoryImageHeader hdr;
    struct stat a;
    struct stat b;

    if (!back) {
        xsnapTestFail("conversion failed: %s", xsnapGetLastErrorMessage());
        return -1;
    }
    if (!sameFiles(raw, back)) {
        xsnapTestFail("raw -> %s -> raw is not the raw image", name);
        return -1;
    }
    if (xsnapMemoryImageRead(packed, &hdr, &xml) < 0 || hdr.format != format ||
        hdr.version != XSNAP_MEMORY_IMAGE_VERSION_COMPRESSED ||
        hdr.streamLen != 3 * 1024 * 1024 + 17 ||
        !g_str_equal(xml, "<domain><name>s</name></domain>")) {
        xsnapTestFail("the %s header reads wrong: %s", name, xsnapGetLastErrorMessage());
        return -1;
    }
    if (stat(raw, &a) < 0 || stat(packed, &b) < 0 || b.st_size * 2 > a.st_size ||
        (uint64_t)b.st_size != hdr.streamOffset + hdr.bodyLen) {
        xsnapTestFail("%s: %lld bytes for %lld raw", name, (long long)b.st_size,
                      (long long)a.st_size);
        return -1;
    }
    if (xsnapMemoryImageVerify(packed) < 0 || xsnapMemoryImageVerify(raw) < 0) {
        xsnapTestFail("a good image does not verify: %s", xsnapGetLastErrorMessage());
        return -1;
    }
    /* The XML area is rewritten in place, as for a raw image. */
    if (xsnapMemoryImageRewriteXML(packed, "<domain><name>other</name></domain>") < 0 ||
        xsnapMemoryImageVerify(packed) < 0) {
        xsnapTestFail("rewriting the XML of a %s image: %s", name, xsnapGetLastErrorMessage());
        return -1;
    }
    return 0;
}


/* What a release function saw of an export held back at its tail. */
typedef struct {
    int out;                /* a file: its size; -1: a pipe's reader */
    int rfd;                /* the pipe's read end */
    gint read;              /* bytes the pipe's reader got */
    off_t expect;           /* bytes written when the tail is held */
    int calls;
    bool wrong;
    bool refuse;
} holdState;


/* The pipe's reader: counts what comes, to the end. */
static gpointer
holdReader(gpointer opaque)
{
    holdState *st = opaque;
    char buf[65536];
    ssize_t got;

    while ((got = read(st->rfd, buf, sizeof(buf))) > 0)
        g_atomic_int_add(&st->read, (gint)got);
    return NULL;
}


static int
holdRelease(void *opaque)
{
    holdState *st = opaque;
    struct stat sb;

    st->calls++;
    if (st->out >= 0) {
        if (fstat(st->out, &sb) < 0 || sb.st_size != st->expect)
            st->wrong = true;
    } else {
        /* Whatever was written reaches the reader; nothing more may. */
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        while (g_atomic_int_get(&st->read) < st->expect &&
               g_get_monotonic_time() < deadline)
            g_usleep(1000);
        g_usleep(20000);
        if (g_atomic_int_get(&st->read) != st->expect)
            st->wrong = true;
    }
    if (st->refuse) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s", "held for good");
        return -1;
    }
    return 0;
}


typedef struct {
    const char *name;
    xsnapMemoryFormat format;   /* of the input */
    bool pipe;                  /* the output is a pipe */
    bool refuse;                /* the release refuses */
    uint64_t hold;
} holdCase;


/* The last bytes of the stream wait for the release function, called
 * once; a refusal ends the output there with its error. */
static int
testExportHold(const void *opaque)
{
    const holdCase *c = opaque;
    const size_t len = 3 * 1024 * 1024 + 17;
    g_autofree char *rawName = g_strdup_printf("hold-%s.raw", c->name);
    g_autofree char *inName = g_strdup_printf("hold-%s.in", c->name);
    g_autofree char *outName = g_strdup_printf("hold-%s.out", c->name);
    g_autofree char *raw = makeStreamImage(rawName, len);
    g_autofree char *in = NULL;
    g_autofree char *out = g_build_filename(xsnapTestTmpDir(), outName, NULL);
    xsnapMemoryImageHeader hdr;
    holdState state = { 0 };
    holdState *st = &state;
    int fds[2] = { -1, -1 };
    GThread *reader = NULL;
    off_t total;
    int rc;

    if (!raw || xsnapMemoryImageRead(raw, &hdr, NULL) < 0)
        return -1;
    total = (off_t)(hdr.streamOffset + len);
    in = c->format == XSNAP_MEMORY_FORMAT_RAW ? g_strdup(raw) :
         convert(raw, c->format, inName);
    if (!in)
        return -1;
    st->refuse = c->refuse;
    st->expect = total - (off_t)MIN(c->hold, len);
    if (c->pipe) {
        if (pipe(fds) < 0)
            return -1;
        st->out = -1;
        st->rfd = fds[0];
        reader = g_thread_new("hold-reader", holdReader, st);
    } else {
        if ((fds[1] = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
            return -1;
        st->out = fds[1];
    }
    rc = xsnapMemoryImageExportHold(in, NULL, XSNAP_MEMORY_FORMAT_RAW, fds[1], out,
                                    NULL, c->hold, holdRelease, st);
    close(fds[1]);
    if (reader) {
        g_thread_join(reader);
        close(fds[0]);
    }
    if (st->calls != 1 || st->wrong) {
        xsnapTestFail("%s: released %d times, wrongly: %d", c->name, st->calls, st->wrong);
        return -1;
    }
    if (c->refuse) {
        if (rc == 0 || !strstr(xsnapGetLastErrorMessage(), "held for good")) {
            xsnapTestFail("%s: a refused tail: %d '%s'", c->name, rc,
                          xsnapGetLastErrorMessage());
            return -1;
        }
        total = st->expect;
    } else if (rc < 0) {
        xsnapTestFail("%s: %s", c->name, xsnapGetLastErrorMessage());
        return -1;
    }
    if (c->pipe ? g_atomic_int_get(&st->read) != total :
                  (c->refuse ? false : !sameFiles(raw, out))) {
        xsnapTestFail("%s: the output is not the raw image", c->name);
        return -1;
    }
    return 0;
}


typedef struct {
    const char *name;
    xsnapMemoryFormat format;
    off_t offset;           /* from the end of the file when negative */
    const char *bytes;      /* written there, or NULL */
    size_t len;             /* of @bytes; 0: strlen */
    off_t cut;              /* bytes cut off the end */
    const char *message;
} damageCase;


/* A damaged compressed image fails to verify and to export. */
static int
testCompressDamage(const void *opaque)
{
    const damageCase *c = opaque;
    g_autofree char *rawName = g_strdup_printf("dmg-%s.raw", c->name);
    g_autofree char *packedName = g_strdup_printf("dmg-%s.packed", c->name);
    g_autofree char *outName = g_strdup_printf("dmg-%s.out", c->name);
    g_autofree char *raw = makeStreamImage(rawName, 2 * 1024 * 1024);
    g_autofree char *packed = raw ? convert(raw, c->format, packedName) : NULL;
    g_autofree char *out = NULL;
    struct stat sb;
    int fd;

    if (!packed || stat(packed, &sb) < 0 || (fd = open(packed, O_RDWR)) < 0)
        return -1;
    if (c->bytes &&
        pwrite(fd, c->bytes, c->len ? c->len : strlen(c->bytes),
               c->offset < 0 ? sb.st_size + c->offset : c->offset) < 0) {
        close(fd);
        return -1;
    }
    if (c->cut && ftruncate(fd, sb.st_size - c->cut) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    if (xsnapMemoryImageVerify(packed) == 0) {
        xsnapTestFail("a %s image verifies", c->name);
        return -1;
    }
    if (xsnapGetLastErrorCode() != VIR_ERR_OPERATION_FAILED ||
        !strstr(xsnapGetLastErrorMessage(), c->message)) {
        xsnapTestFail("got %d '%s'", xsnapGetLastErrorCode(), xsnapGetLastErrorMessage());
        return -1;
    }
    if ((out = convert(packed, XSNAP_MEMORY_FORMAT_RAW, outName))) {
        xsnapTestFail("a %s image exports", c->name);
        return -1;
    }
    return 0;
}


static int
mymain(void)
{
    static const uint32_t v3 = 3;
    /* version, xmlLen (kept), format */
    static const uint32_t compressedBad[] = { XSNAP_MEMORY_IMAGE_VERSION_COMPRESSED, 4032, 9 };
    static const uint32_t compressedReserved[] = { XSNAP_MEMORY_IMAGE_VERSION_COMPRESSED, 4032,
                                                   XSNAP_MEMORY_FORMAT_ZSTD, 7 };
    static const uint32_t huge = 0x7fffffff;
    static const char noNul[4096 - 64] = { [0 ... 4096 - 65] = 'x' };
    static const corruptCase cases[] = {
        { "bad magic", 0, "LIBVIRT", 7, 0, VIR_ERR_INVALID_ARG, "magic is incorrect" },
        { "future version", 16, &v3, 4, 0, VIR_ERR_OPERATION_FAILED, "unsupported version 3" },
        { "XML length past the end", 20, &huge, 4, 0, VIR_ERR_OPERATION_FAILED, "invalid XML length" },
        { "truncated header", 0, NULL, 0, 40, VIR_ERR_OPERATION_FAILED, "is truncated" },
        { "truncated XML area", 0, NULL, 0, 100, VIR_ERR_OPERATION_FAILED, "invalid XML length" },
        { "XML without NUL", 64, noNul, sizeof(noNul), 0, VIR_ERR_OPERATION_FAILED, "not terminated" },
        { "compressed, unknown format", 16, compressedBad, sizeof(compressedBad), 0,
          VIR_ERR_OPERATION_FAILED, "unknown compression format 9" },
        { "compressed, reserved word set", 16, compressedReserved, sizeof(compressedReserved), 0,
          VIR_ERR_OPERATION_FAILED, "corrupt header" },
    };
    static const char zeros[16] = { 0 };
    static const damageCase damages[] = {
        { "zstd-truncated", XSNAP_MEMORY_FORMAT_ZSTD, 0, NULL, 0, 1000, "is truncated" },
        { "lz4-truncated", XSNAP_MEMORY_FORMAT_LZ4, 0, NULL, 0, 1000, "is truncated" },
        { "zstd-flipped", XSNAP_MEMORY_FORMAT_ZSTD, -300000, "XSNAPBAD", 0, 0, "is corrupt" },
        { "lz4-flipped", XSNAP_MEMORY_FORMAT_LZ4, -300000, "XSNAPBAD", 0, 0, "is corrupt" },
        { "zstd-checksum", XSNAP_MEMORY_FORMAT_ZSTD, -4, "XXXX", 0, 0, "is corrupt" },
        { "lz4-checksum", XSNAP_MEMORY_FORMAT_LZ4, -4, "XXXX", 0, 0, "is corrupt" },
        /* The stream's length in the header is not the stream's. */
        { "zstd-length", XSNAP_MEMORY_FORMAT_ZSTD, 32, "\1\1", 0, 0, "its header says" },
        /* The header's lengths never written: a save that died. */
        { "zstd-unfinished", XSNAP_MEMORY_FORMAT_ZSTD, 32, zeros, sizeof(zeros), 0,
          "is incomplete" },
    };
    static const holdCase holds[] = {
        { "raw to a file", XSNAP_MEMORY_FORMAT_RAW, false, false, 4096 },
        { "raw to a pipe", XSNAP_MEMORY_FORMAT_RAW, true, false, 4096 },
        { "zstd to a pipe", XSNAP_MEMORY_FORMAT_ZSTD, true, false, 4096 },
        { "lz4 to a file", XSNAP_MEMORY_FORMAT_LZ4, false, false, 100000 },
        { "all of it", XSNAP_MEMORY_FORMAT_RAW, false, false, 1ULL << 40 },
        { "nothing", XSNAP_MEMORY_FORMAT_ZSTD, false, false, 0 },
        { "refused, raw to a pipe", XSNAP_MEMORY_FORMAT_RAW, true, true, 4096 },
        { "refused, zstd to a file", XSNAP_MEMORY_FORMAT_ZSTD, false, true, 4096 },
    };
    int ret = 0;
    size_t i;

    if (xsnapTestRun("memory image: header layout and alignment", testLayout, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("memory image: XML rewritten in place", testRewrite, NULL) < 0)
        ret = -1;
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *title = g_strdup_printf("memory image: refuses %s", cases[i].name);
        if (xsnapTestRun(title, testCorrupt, &cases[i]) < 0)
            ret = -1;
    }
    if (xsnapTestRun("memory image: raw -> zstd -> raw", testCompressRoundTrip,
                     GINT_TO_POINTER(XSNAP_MEMORY_FORMAT_ZSTD)) < 0 ||
        xsnapTestRun("memory image: raw -> lz4 -> raw", testCompressRoundTrip,
                     GINT_TO_POINTER(XSNAP_MEMORY_FORMAT_LZ4)) < 0)
        ret = -1;
    for (i = 0; i < G_N_ELEMENTS(holds); i++) {
        g_autofree char *title = g_strdup_printf("memory image: tail held, %s", holds[i].name);
        if (xsnapTestRun(title, testExportHold, &holds[i]) < 0)
            ret = -1;
    }
    for (i = 0; i < G_N_ELEMENTS(damages); i++) {
        g_autofree char *title = g_strdup_printf("memory image: refuses %s", damages[i].name);
        if (xsnapTestRun(title, testCompressDamage, &damages[i]) < 0)
            ret = -1;
    }
    return ret;
}

XSNAP_TEST_MAIN(mymain)
