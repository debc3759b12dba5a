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


static int
mymain(void)
{
    static const uint32_t v3 = 3;
    static const uint32_t huge = 0x7fffffff;
    static const char noNul[4096 - 64] = { [0 ... 4096 - 65] = 'x' };
    static const corruptCase cases[] = {
        { "bad magic", 0, "LIBVIRT", 7, 0, VIR_ERR_INVALID_ARG, "magic is incorrect" },
        { "future version", 16, &v3, 4, 0, VIR_ERR_OPERATION_FAILED, "unsupported version 3" },
        { "XML length past the end", 20, &huge, 4, 0, VIR_ERR_OPERATION_FAILED, "invalid XML length" },
        { "truncated header", 0, NULL, 0, 40, VIR_ERR_OPERATION_FAILED, "is truncated" },
        { "truncated XML area", 0, NULL, 0, 100, VIR_ERR_OPERATION_FAILED, "invalid XML length" },
        { "XML without NUL", 64, noNul, sizeof(noNul), 0, VIR_ERR_OPERATION_FAILED, "not terminated" },
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
    return ret;
}

XSNAP_TEST_MAIN(mymain)
