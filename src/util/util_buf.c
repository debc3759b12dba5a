/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_buf.c: a growable text buffer with an indent level
 */
#include <config.h>

#include <string.h>

#include "util_buf.h"

static void
xsnapBufEnsure(xsnapBuf *buf)
{
    if (!buf->str)
        buf->str = g_string_sized_new(256);
}


static void
xsnapBufIndentIfLineStart(xsnapBuf *buf)
{
    xsnapBufEnsure(buf);
    if (buf->indent > 0 &&
        (buf->str->len == 0 || buf->str->str[buf->str->len - 1] == '\n')) {
        size_t i;
        for (i = 0; i < (size_t)buf->indent; i++)
            g_string_append_c(buf->str, ' ');
    }
}


/* Adds @s, indenting it if it starts a line. Like libvirt's buffer, text
 * after a newline inside @s is not indented. */
static void
xsnapBufAddIndented(xsnapBuf *buf, const char *s)
{
    if (!*s)
        return;
    xsnapBufIndentIfLineStart(buf);
    g_string_append(buf->str, s);
}


void
xsnapBufAdd(xsnapBuf *buf, const char *s)
{
    if (!s)
        return;
    xsnapBufAddIndented(buf, s);
}


void
xsnapBufAddRaw(xsnapBuf *buf, const char *s, size_t len)
{
    xsnapBufEnsure(buf);
    g_string_append_len(buf->str, s, len);
}


void
xsnapBufAsprintf(xsnapBuf *buf, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *s = NULL;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    xsnapBufAddIndented(buf, s);
}


char *
xsnapXMLEscape(const char *s)
{
    GString *out = g_string_sized_new(strlen(s) + 16);

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        switch (c) {
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '&': g_string_append(out, "&amp;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        default:
            /* Control characters other than tab, newline and carriage
             * return cannot appear in XML 1.0: drop them. */
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                break;
            g_string_append_c(out, (char)c);
        }
    }
    return g_string_free(out, FALSE);
}


void
xsnapBufEscapeString(xsnapBuf *buf, const char *fmt, const char *str)
{
    g_autofree char *esc = NULL;
    g_autofree char *s = NULL;

    if (!str)
        return;
    esc = xsnapXMLEscape(str);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    s = g_strdup_printf(fmt, esc);
#pragma GCC diagnostic pop
    xsnapBufAddIndented(buf, s);
}


void
xsnapBufAdjustIndent(xsnapBuf *buf, int delta)
{
    buf->indent += delta;
    if (buf->indent < 0)
        buf->indent = 0;
}


size_t
xsnapBufUse(const xsnapBuf *buf)
{
    return buf->str ? buf->str->len : 0;
}


const char *
xsnapBufCurrentContent(xsnapBuf *buf)
{
    return buf->str && buf->str->len ? buf->str->str : NULL;
}


char *
xsnapBufContentAndReset(xsnapBuf *buf)
{
    char *ret;

    if (!buf->str)
        ret = g_strdup("");
    else
        ret = g_string_free(buf->str, FALSE);
    buf->str = NULL;
    buf->indent = 0;
    return ret;
}


void
xsnapBufFreeAndReset(xsnapBuf *buf)
{
    if (!buf)
        return;
    if (buf->str)
        g_string_free(buf->str, TRUE);
    buf->str = NULL;
    buf->indent = 0;
}


void
xsnapBufFormatElement(xsnapBuf *buf, const char *name,
                      xsnapBuf *attrBuf, xsnapBuf *childBuf)
{
    if (!xsnapBufUse(attrBuf) && !xsnapBufUse(childBuf))
        return;

    xsnapBufAsprintf(buf, "<%s", name);
    if (xsnapBufUse(attrBuf))
        xsnapBufAddRaw(buf, attrBuf->str->str, attrBuf->str->len);
    if (xsnapBufUse(childBuf)) {
        xsnapBufAddRaw(buf, ">\n", 2);
        xsnapBufAddRaw(buf, childBuf->str->str, childBuf->str->len);
        xsnapBufAsprintf(buf, "</%s>\n", name);
    } else {
        xsnapBufAddRaw(buf, "/>\n", 3);
    }
    xsnapBufFreeAndReset(attrBuf);
    xsnapBufFreeAndReset(childBuf);
}
