/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_buf.h: a growable text buffer with an indent level, for formatting XML
 */
#pragma once

#include "internal.h"

typedef struct _xsnapBuf xsnapBuf;
struct _xsnapBuf {
    GString *str;     /* NULL until the first write */
    int indent;
};

#define XSNAP_BUF_INIT { NULL, 0 }

/* Appends @s, indenting it when it starts a line. */
void xsnapBufAdd(xsnapBuf *buf, const char *s) XSNAP_NONNULL(1);
/* Appends formatted text, indenting it when it starts a line. */
void xsnapBufAsprintf(xsnapBuf *buf, const char *fmt, ...)
    XSNAP_FMT_PRINTF(2, 3) XSNAP_NONNULL(1, 2);
/* Formats @fmt (one %s) with @str XML-escaped; does nothing if @str is NULL. */
void xsnapBufEscapeString(xsnapBuf *buf, const char *fmt, const char *str)
    XSNAP_NONNULL(1, 2);
/* Appends @s verbatim, without indentation. */
void xsnapBufAddRaw(xsnapBuf *buf, const char *s, size_t len) XSNAP_NONNULL(1);
void xsnapBufAdjustIndent(xsnapBuf *buf, int delta) XSNAP_NONNULL(1);
size_t xsnapBufUse(const xsnapBuf *buf) XSNAP_NONNULL(1);
/* Current contents, or NULL if empty; the buffer keeps ownership. */
const char *xsnapBufCurrentContent(xsnapBuf *buf) XSNAP_NONNULL(1);
/* Returns the contents (caller frees, "" if empty) and resets the buffer. */
char *xsnapBufContentAndReset(xsnapBuf *buf) XSNAP_NONNULL(1);
void xsnapBufFreeAndReset(xsnapBuf *buf);

/*
 * A child buffer collects an element's attributes and children so that
 * an element with neither can be dropped (STYLE.md, formatting).
 * Writes "<name" + attrs + "/>" or "<name" + attrs + ">" + children + "</name>".
 */
void xsnapBufFormatElement(xsnapBuf *buf, const char *name,
                           xsnapBuf *attrBuf, xsnapBuf *childBuf)
    XSNAP_NONNULL(1, 2, 3, 4);

/* Returns @s XML-escaped for use in text or in a quoted attribute. */
char *xsnapXMLEscape(const char *s);

static inline void
xsnapBufAutoReset(xsnapBuf *buf)
{
    xsnapBufFreeAndReset(buf);
}
#define g_auto_xsnapBuf __attribute__((cleanup(xsnapBufAutoReset))) xsnapBuf
