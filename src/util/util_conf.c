/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_conf.c: configuration files in the style of libvirt's own
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util_conf.h"
#include "util_error.h"

/* libvirt refuses larger configuration files too. */
#define XSNAP_CONF_MAX_SIZE (1024 * 1024)


static void
xsnapConfEntryFree(xsnapConfEntry *e)
{
    if (!e)
        return;
    g_free(e->name);
    g_free(e->str);
    g_free(e);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapConfEntry, xsnapConfEntryFree);


void
xsnapConfFree(xsnapConf *conf)
{
    if (!conf)
        return;
    g_free(conf->path);
    if (conf->entries)
        g_ptr_array_unref(conf->entries);
    g_free(conf);
}


static bool
xsnapConfIsBlank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}


static bool
xsnapConfIsNameStart(char c)
{
    return g_ascii_isalpha(c) || c == '_';
}


static bool
xsnapConfIsNameChar(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '.';
}


/* Parses one line, [@p, @end), into @conf. */
static int
xsnapConfParseLine(xsnapConf *conf, const char *p, const char *end, unsigned int line)
{
    g_autoptr(GString) name = g_string_new(NULL);
    g_autoptr(xsnapConfEntry) entry = NULL;

    while (p < end && xsnapConfIsBlank(*p))
        p++;
    if (p == end || *p == '#')
        return 0;
    if (!xsnapConfIsNameStart(*p)) {
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("%1$s:%2$u: expected the name of a setting"),
                         conf->path, line);
        return -1;
    }
    while (p < end && xsnapConfIsNameChar(*p))
        g_string_append_c(name, *p++);
    while (p < end && xsnapConfIsBlank(*p))
        p++;
    if (p == end || *p != '=') {
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("%1$s:%2$u: expected '=' after '%3$s'"),
                         conf->path, line, name->str);
        return -1;
    }
    p++;
    while (p < end && xsnapConfIsBlank(*p))
        p++;

    entry = g_new0(xsnapConfEntry, 1);
    entry->line = line;
    if (p < end && (*p == '"' || *p == '\'')) {
        char quote = *p++;
        const char *close = memchr(p, quote, (size_t)(end - p));

        if (!close) {
            xsnapReportError(VIR_ERR_CONF_SYNTAX,
                             _("%1$s:%2$u: the value of '%3$s' is an unterminated string"),
                             conf->path, line, name->str);
            return -1;
        }
        entry->type = XSNAP_CONF_STRING;
        entry->str = g_strndup(p, (size_t)(close - p));
        p = close + 1;
    } else if (p < end && (g_ascii_isdigit(*p) || *p == '-' || *p == '+')) {
        g_autofree char *digits = NULL;
        const char *start = p;
        char *stop = NULL;

        if (*p == '-' || *p == '+')
            p++;
        while (p < end && g_ascii_isdigit(*p))
            p++;
        digits = g_strndup(start, (size_t)(p - start));
        errno = 0;
        entry->num = strtoll(digits, &stop, 10);
        if (errno != 0 || !stop || *stop != '\0' || stop == digits ||
            !g_ascii_isdigit(stop[-1])) {
            xsnapReportError(VIR_ERR_CONF_SYNTAX,
                             _("%1$s:%2$u: the value of '%3$s' is not a valid integer"),
                             conf->path, line, name->str);
            return -1;
        }
        entry->type = XSNAP_CONF_INTEGER;
    } else {
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("%1$s:%2$u: the value of '%3$s' must be a quoted string or an integer"),
                         conf->path, line, name->str);
        return -1;
    }
    while (p < end && xsnapConfIsBlank(*p))
        p++;
    if (p < end && *p != '#') {
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("%1$s:%2$u: unexpected text after the value of '%3$s'"),
                         conf->path, line, name->str);
        return -1;
    }
    if (xsnapConfGet(conf, name->str)) {
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("%1$s:%2$u: '%3$s' is set a second time"),
                         conf->path, line, name->str);
        return -1;
    }
    entry->name = g_string_free(g_steal_pointer(&name), FALSE);
    g_ptr_array_add(conf->entries, g_steal_pointer(&entry));
    return 0;
}


xsnapConf *
xsnapConfParseString(const char *path, const char *text, size_t len)
{
    g_autoptr(xsnapConf) conf = g_new0(xsnapConf, 1);
    const char *p = text;
    const char *end = text + len;
    unsigned int line = 1;

    conf->path = g_strdup(path);
    conf->entries = g_ptr_array_new_with_free_func((GDestroyNotify)xsnapConfEntryFree);
    if (len > 0 && memchr(text, '\0', len)) {
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("configuration file '%1$s' holds a NUL byte"), path);
        return NULL;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;

        if (xsnapConfParseLine(conf, p, stop, line) < 0)
            return NULL;
        p = nl ? nl + 1 : end;
        line++;
    }
    return g_steal_pointer(&conf);
}


int
xsnapConfReadFile(const char *path, xsnapConf **conf)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *text = NULL;
    gsize len = 0;

    *conf = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return 0;
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("cannot read configuration file '%1$s': %2$s"),
                         path, gerr->message);
        return -1;
    }
    if (len > XSNAP_CONF_MAX_SIZE) {
        xsnapReportError(VIR_ERR_CONF_SYNTAX,
                         _("configuration file '%1$s' is larger than 1 MiB"), path);
        return -1;
    }
    if (!(*conf = xsnapConfParseString(path, text, len)))
        return -1;
    return 0;
}


const xsnapConfEntry *
xsnapConfGet(const xsnapConf *conf, const char *name)
{
    for (size_t i = 0; conf && i < conf->entries->len; i++) {
        const xsnapConfEntry *e = g_ptr_array_index(conf->entries, i);

        if (g_str_equal(e->name, name))
            return e;
    }
    return NULL;
}


char *
xsnapConfFormat(const xsnapConf *conf)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (size_t i = 0; i < conf->entries->len; i++) {
        const xsnapConfEntry *e = g_ptr_array_index(conf->entries, i);
        char quote = '"';

        if (e->type == XSNAP_CONF_INTEGER) {
            g_string_append_printf(out, "%s = %lld\n", e->name, e->num);
            continue;
        }
        if (strchr(e->str, '\n'))
            return NULL;
        if (strchr(e->str, '"')) {
            if (strchr(e->str, '\''))
                return NULL;
            quote = '\'';
        }
        g_string_append_printf(out, "%s = %c%s%c\n", e->name, quote, e->str, quote);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}
