/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_conf.h: configuration files in the style of libvirt's own
 * (/etc/libvirt/qemu.conf): one "name = value" setting a line
 *
 *   # a comment, to the end of the line
 *   memory_image_format = "zstd"      # a string, in "..." or '...'
 *   some_number = 3                   # a decimal integer
 *
 * Names are letters, digits, '_' and '.', not starting with a digit.
 * A string has no escapes and ends at the line's end at the latest.
 * libvirt's lists ([ ... ]) and strings over several lines are not read.
 * A name given twice is refused.
 */
#pragma once

#include "internal.h"

typedef enum {
    XSNAP_CONF_STRING,
    XSNAP_CONF_INTEGER,

    XSNAP_CONF_LAST
} xsnapConfType;

typedef struct _xsnapConfEntry xsnapConfEntry;
struct _xsnapConfEntry {
    char *name;
    xsnapConfType type;
    char *str;              /* XSNAP_CONF_STRING */
    long long num;          /* XSNAP_CONF_INTEGER */
    unsigned int line;      /* 1-based */
};

typedef struct _xsnapConf xsnapConf;
struct _xsnapConf {
    char *path;             /* for messages */
    GPtrArray *entries;     /* xsnapConfEntry, in file order */
};

/*
 * Parses @len bytes of @text (NULs refused) as read from @path, which
 * names the file in messages. Returns the settings (caller frees), or
 * NULL with a VIR_ERR_CONF_SYNTAX error naming the file and the line.
 */
xsnapConf *xsnapConfParseString(const char *path, const char *text, size_t len);

/*
 * Reads the file @path. A missing file is no error: *@conf is set to
 * NULL and 0 is returned. Returns 0 (with *@conf, which the caller frees,
 * or NULL), or -1 with an error.
 */
int xsnapConfReadFile(const char *path, xsnapConf **conf);

/* The setting @name, or NULL. */
const xsnapConfEntry *xsnapConfGet(const xsnapConf *conf, const char *name);

/* The settings written back, one a line, in a form that parses to the
 * same settings (caller frees). NULL when a string holds both kinds of
 * quote or a line end, which the syntax cannot say. */
char *xsnapConfFormat(const xsnapConf *conf);

void xsnapConfFree(xsnapConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapConf, xsnapConfFree);
