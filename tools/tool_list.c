/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_list.c: virt-xen-snapshot list
 *
 * Lists a domain's snapshots straight from the metadata store, in the
 * shapes `virsh snapshot-list` prints: the table (optionally with a
 * parent column), names only, or the tree.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>
#include <wctype.h>

#include "internal.h"
#include "util_error.h"
#include "snapshot_store.h"
#include "tool_cmds.h"

typedef struct _vxsListOption vxsListOption;
struct _vxsListOption {
    const char *name;
    unsigned int flag;
    bool filter;        /* refused together with --tree, as virsh does */
};

static const vxsListOption listOptions[] = {
    { "leaves", VIR_DOMAIN_SNAPSHOT_LIST_LEAVES, true },
    { "no-leaves", VIR_DOMAIN_SNAPSHOT_LIST_NO_LEAVES, true },
    { "inactive", VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE, true },
    { "active", VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE, true },
    { "disk-only", VIR_DOMAIN_SNAPSHOT_LIST_DISK_ONLY, true },
    { "internal", VIR_DOMAIN_SNAPSHOT_LIST_INTERNAL, true },
    { "external", VIR_DOMAIN_SNAPSHOT_LIST_EXTERNAL, true },
    { "topological", VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL, false },
    { "metadata", VIR_DOMAIN_SNAPSHOT_LIST_METADATA, false },
    { "no-metadata", VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA, false },
};

typedef struct _vxsListArgs vxsListArgs;
struct _vxsListArgs {
    const char *domain;
    const char *root;
    const char *from;
    bool tree;
    bool name;
    bool parent;
    bool roots;
    bool current;
    bool descendants;
    unsigned int flags;
    const char *filterSeen;  /* first filter option given, for --tree */
};

/* One row: the snapshot and, for --tree, its parent's name. */
typedef struct _vxsListEntry vxsListEntry;
struct _vxsListEntry {
    xsnapSnapshotObj *obj;
    const char *parent;
};


static void
vxsListUsage(FILE *out)
{
    fprintf(out, "%s\n",
            _("Usage: virt-xen-snapshot list [--root LIBDIR] [--tree] [--name] [--parent]\n"
              "         [--roots] [--leaves] [--no-leaves] [--metadata] [--no-metadata]\n"
              "         [--inactive] [--active] [--disk-only] [--internal] [--external]\n"
              "         [--from NAME | --current] [--descendants] [--topological] DOMAIN"));
}


/* Returns 0, 1 after printing help, or -1 after printing an error. */
static int
vxsListParseArgs(int argc, char **argv, vxsListArgs *args)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        size_t j;
        bool known = false;

        if (g_str_equal(arg, "--help") || g_str_equal(arg, "-h")) {
            vxsListUsage(stdout);
            return 1;
        }
        if (!g_str_has_prefix(arg, "--") || g_str_equal(arg, "--")) {
            if (g_str_equal(arg, "--")) {
                if (++i >= argc)
                    break;
                arg = argv[i];
            }
            if (args->domain) {
                fprintf(stderr, _("virt-xen-snapshot: unexpected argument '%1$s'\n"), arg);
                return -1;
            }
            args->domain = arg;
            continue;
        }
        if (g_str_has_prefix(arg, "--root") || g_str_has_prefix(arg, "--from")) {
            const char *eq = strchr(arg, '=');
            size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

            if (len == strlen("--root") &&
                (strncmp(arg, "--root", len) == 0 || strncmp(arg, "--from", len) == 0)) {
                if (eq) {
                    value = eq + 1;
                } else if (i + 1 < argc) {
                    value = argv[++i];
                } else {
                    fprintf(stderr, _("virt-xen-snapshot: option '%1$s' needs a value\n"), arg);
                    return -1;
                }
                if (arg[2] == 'r')
                    args->root = value;
                else
                    args->from = value;
                continue;
            }
        }
        if (g_str_equal(arg, "--tree")) {
            args->tree = true;
            continue;
        }
        if (g_str_equal(arg, "--name")) {
            args->name = true;
            continue;
        }
        if (g_str_equal(arg, "--parent")) {
            args->parent = true;
            continue;
        }
        if (g_str_equal(arg, "--roots")) {
            args->roots = true;
            continue;
        }
        if (g_str_equal(arg, "--current")) {
            args->current = true;
            continue;
        }
        if (g_str_equal(arg, "--descendants")) {
            args->descendants = true;
            continue;
        }
        for (j = 0; j < G_N_ELEMENTS(listOptions); j++) {
            if (g_str_equal(arg + 2, listOptions[j].name)) {
                args->flags |= listOptions[j].flag;
                if (listOptions[j].filter && !args->filterSeen)
                    args->filterSeen = listOptions[j].name;
                known = true;
                break;
            }
        }
        if (!known) {
            fprintf(stderr, _("virt-xen-snapshot: unknown option '%1$s'\n"), arg);
            vxsListUsage(stderr);
            return -1;
        }
    }
    if (!args->domain) {
        vxsListUsage(stderr);
        return -1;
    }
    return 0;
}


/* The option pairs virsh snapshot-list refuses to combine. */
static int
vxsListCheckArgs(vxsListArgs *args)
{
    struct {
        bool a, b;
        const char *na, *nb;
    } exclusive[] = {
        { args->tree, args->name, "tree", "name" },
        { args->parent, args->roots, "parent", "roots" },
        { args->parent, args->tree, "parent", "tree" },
        { args->roots, args->tree, "roots", "tree" },
        { args->roots, args->from != NULL, "roots", "from" },
        { args->roots, args->current, "roots", "current" },
        { args->from != NULL, args->current, "from", "current" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(exclusive); i++) {
        if (exclusive[i].a && exclusive[i].b) {
            fprintf(stderr, _("virt-xen-snapshot: options --%1$s and --%2$s are mutually exclusive\n"),
                    exclusive[i].na, exclusive[i].nb);
            return -1;
        }
    }
    if (args->tree && args->filterSeen) {
        fprintf(stderr, _("virt-xen-snapshot: options --%1$s and --tree are mutually exclusive\n"),
                args->filterSeen);
        return -1;
    }
    if (args->roots)
        args->flags |= VIR_DOMAIN_SNAPSHOT_LIST_ROOTS;
    if (args->descendants) {
        if (!args->from && !args->current) {
            fprintf(stderr, "%s\n",
                    _("virt-xen-snapshot: --descendants needs --from or --current"));
            return -1;
        }
        args->flags |= VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS;
    }
    return 0;
}


static int
vxsListEntryCompare(const void *a, const void *b)
{
    const vxsListEntry *ea = a;
    const vxsListEntry *eb = b;

    return strcasecmp(ea->obj->def->name, eb->obj->def->name);
}


/*
 * Makes @s safe for a table cell the way virsh does: control bytes and
 * a literal "\x" become "\xNN", and so does any character the locale
 * cannot print. Sets *@width to the columns the result takes.
 */
static char *
vxsListSafeEncode(const char *s, size_t *width)
{
    GString *out = g_string_new(NULL);
    mbstate_t st;
    const char *p = s;

    memset(&st, 0, sizeof(st));
    *width = 0;
    while (*p) {
        wchar_t wc;
        size_t len;

        if ((p[0] == '\\' && p[1] == 'x') || g_ascii_iscntrl(*p)) {
            g_string_append_printf(out, "\\x%02x", (unsigned char)*p);
            *width += 4;
            p++;
            continue;
        }
        len = mbrtowc(&wc, p, MB_CUR_MAX, &st);
        if (len == 0)
            break;
        if (len == (size_t)-1 || len == (size_t)-2) {
            /* Not a character here: keep a printable byte, escape others.
             * virsh formats the byte as a signed char into 4 columns. */
            if (g_ascii_isprint(*p)) {
                g_string_append_c(out, *p);
                *width += 1;
            } else {
                g_autofree char *hex = g_strdup_printf("\\x%02x", (int)(signed char)*p);
                g_string_append_len(out, hex, 4);
                *width += 4;
            }
            memset(&st, 0, sizeof(st));
            p++;
            continue;
        }
        if (!iswprint((wint_t)wc)) {
            size_t k;
            for (k = 0; k < len; k++) {
                g_autofree char *hex = g_strdup_printf("\\x%02x", (int)(signed char)p[k]);
                g_string_append_len(out, hex, 4);
                *width += 4;
            }
        } else {
            g_string_append_len(out, p, (gssize)len);
            *width += g_unichar_iszerowidth((gunichar)wc) ? 0 :
                      g_unichar_iswide((gunichar)wc) ? 2 : 1;
        }
        p += len;
    }
    return g_string_free(out, FALSE);
}


/* Prints @rows (row 0 is the header) as virsh's tables do: one space
 * before each cell, two spaces between columns, a line of dashes. */
static void
vxsListPrintTable(GPtrArray *rows, size_t ncols)
{
    g_autofree size_t *maxw = g_new0(size_t, ncols);
    g_autofree size_t *widths = g_new0(size_t, rows->len * ncols);
    GString *out = g_string_new(NULL);
    size_t r;
    size_t c;

    for (r = 0; r < rows->len; r++) {
        char **cells = g_ptr_array_index(rows, r);

        for (c = 0; c < ncols; c++) {
            char *safe = vxsListSafeEncode(cells[c], &widths[r * ncols + c]);

            g_free(cells[c]);
            cells[c] = safe;
            if (widths[r * ncols + c] > maxw[c])
                maxw[c] = widths[r * ncols + c];
        }
    }
    for (r = 0; r < rows->len; r++) {
        char **cells = g_ptr_array_index(rows, r);

        for (c = 0; c < ncols; c++) {
            g_string_append_printf(out, " %s", cells[c]);
            if (c + 1 < ncols) {
                size_t pad = maxw[c] - widths[r * ncols + c] + 2;
                while (pad--)
                    g_string_append_c(out, ' ');
            }
        }
        g_string_append_c(out, '\n');
        if (r == 0) {
            for (c = 0; c < ncols; c++) {
                size_t k;
                for (k = 0; k < maxw[c] + 3; k++)
                    g_string_append_c(out, '-');
            }
            g_string_append_c(out, '\n');
        }
    }
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
}


static void
vxsListRowFree(gpointer row)
{
    g_strfreev(row);
}


static char *
vxsListFormatTime(long long when)
{
    g_autoptr(GDateTime) then = g_date_time_new_from_unix_local(when);

    if (!then)
        return g_strdup("");
    return g_date_time_format(then, "%Y-%m-%d %H:%M:%S %z");
}


static void
vxsListTable(vxsListEntry *entries, size_t n, bool parent)
{
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(vxsListRowFree);
    size_t ncols = parent ? 4 : 3;
    char **header = g_new0(char *, ncols + 1);
    size_t i;

    header[0] = g_strdup(_("Name"));
    header[1] = g_strdup(_("Creation Time"));
    header[2] = g_strdup(_("State"));
    if (parent)
        header[3] = g_strdup(_("Parent"));
    g_ptr_array_add(rows, header);

    for (i = 0; i < n; i++) {
        const xsnapSnapshotDef *def = entries[i].obj->def;
        const char *state = xsnapSnapshotStateTypeToString(def->state);
        char **row = g_new0(char *, ncols + 1);

        row[0] = g_strdup(def->name);
        row[1] = vxsListFormatTime(def->creationTime);
        row[2] = g_strdup(state ? state : "");
        if (parent)
            row[3] = g_strdup(def->parent_name ? def->parent_name : "");
        g_ptr_array_add(rows, row);
    }
    vxsListPrintTable(rows, ncols);
}


typedef struct _vxsListTree vxsListTree;
struct _vxsListTree {
    vxsListEntry *entries;
    GArray **kids;          /* per entry: indexes of its children, in order */
    GString *indent;
    GString *out;
};


/* virsh's tree: a node, then "|" under it when it has children, then
 * each child as "+- name", with "|" continuing down the left of every
 * child but the last; a blank line ends each last leaf. */
static void
vxsListTreeNode(vxsListTree *t, size_t id, size_t last, bool root)
{
    GArray *kids = t->kids[id];
    size_t nextLast = kids->len ? g_array_index(kids, size_t, kids->len - 1) : (size_t)-1;
    size_t k;

    g_string_append_printf(t->out, "%s%s%s\n", t->indent->str, root ? "" : "+- ",
                           t->entries[id].obj->def->name);
    if (!root) {
        g_string_append_c(t->indent, id == last ? ' ' : '|');
        g_string_append_c(t->indent, ' ');
    }
    if (kids->len)
        g_string_append_printf(t->out, "%s  |\n", t->indent->str);
    /* A deep tree's lines are long: keep the buffer bounded. */
    if (t->out->len > 1 << 16) {
        fputs(t->out->str, stdout);
        g_string_truncate(t->out, 0);
    }
    g_string_append(t->indent, "  ");
    for (k = 0; k < kids->len; k++)
        vxsListTreeNode(t, g_array_index(kids, size_t, k), nextLast, false);
    g_string_truncate(t->indent, t->indent->len - 2);
    if (!kids->len && id == last)
        g_string_append_printf(t->out, "%s\n", t->indent->str);
    if (!root)
        g_string_truncate(t->indent, t->indent->len - 2);
}


static void
vxsListPrintTree(vxsListEntry *entries, size_t n)
{
    g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
    vxsListTree t = { entries, g_new0(GArray *, n), g_string_new(NULL), g_string_new(NULL) };
    size_t i;

    for (i = 0; i < n; i++) {
        t.kids[i] = g_array_new(FALSE, FALSE, sizeof(size_t));
        g_hash_table_insert(index, entries[i].obj->def->name, GSIZE_TO_POINTER(i + 1));
    }
    for (i = 0; i < n; i++) {
        size_t p;

        if (!entries[i].parent)
            continue;
        if ((p = GPOINTER_TO_SIZE(g_hash_table_lookup(index, entries[i].parent))))
            g_array_append_val(t.kids[p - 1], i);
    }
    for (i = 0; i < n; i++) {
        if (!entries[i].parent)
            vxsListTreeNode(&t, i, i, true);
    }
    fputs(t.out->str, stdout);
    for (i = 0; i < n; i++)
        g_array_free(t.kids[i], TRUE);
    g_free(t.kids);
    g_string_free(t.indent, TRUE);
    g_string_free(t.out, TRUE);
}


static void
vxsListPrintProblems(GPtrArray *problems)
{
    size_t i;

    for (i = 0; i < problems->len; i++) {
        xsnapSnapshotStoreProblem *p = g_ptr_array_index(problems, i);

        fprintf(stderr, _("virt-xen-snapshot: warning: %1$s\n"), p->message);
    }
}


int
vxsCmdList(int argc, char **argv)
{
    vxsListArgs args = { 0 };
    g_autoptr(xsnapSnapshotStore) store = NULL;
    g_autoptr(xsnapSnapshotObjList) list = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_autofree xsnapSnapshotObj **objs = NULL;
    g_autofree vxsListEntry *entries = NULL;
    xsnapSnapshotObj *start = NULL;
    size_t n;
    size_t i;
    int count;
    int rc;

    if ((rc = vxsListParseArgs(argc, argv, &args)) != 0)
        return rc > 0 ? 0 : 2;
    if (vxsListCheckArgs(&args) < 0)
        return 2;

    store = xsnapSnapshotStoreNew(args.root);
    if (xsnapSnapshotStoreLoad(store, args.domain, &list, &problems) < 0) {
        vxsPrintError();
        return 1;
    }
    vxsListPrintProblems(problems);

    if (args.from) {
        if (!(start = xsnapSnapshotObjListLookup(list, args.from))) {
            vxsPrintError();
            return 1;
        }
    } else if (args.current) {
        if (!(start = xsnapSnapshotObjListGetCurrent(list))) {
            xsnapReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT,
                             _("domain '%1$s' has no current snapshot"), args.domain);
            vxsPrintError();
            return 1;
        }
    }

    if ((count = xsnapSnapshotObjListListAll(list, start, &objs, args.flags)) < 0) {
        vxsPrintError();
        return 1;
    }

    /* With --tree and a start, the start is shown as the only root. */
    n = (size_t)count;
    entries = g_new0(vxsListEntry, n + 1);
    for (i = 0; i < n; i++) {
        xsnapSnapshotObj *parent = xsnapSnapshotObjGetParent(objs[i]);

        entries[i].obj = objs[i];
        if (args.tree && parent)
            entries[i].parent = parent->def->name;
    }
    if (args.tree && start)
        entries[n++].obj = start;
    if (!(args.flags & VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL))
        qsort(entries, n, sizeof(*entries), vxsListEntryCompare);

    if (args.tree) {
        vxsListPrintTree(entries, n);
    } else if (args.name) {
        for (i = 0; i < n; i++)
            printf("%s\n", entries[i].obj->def->name);
    } else {
        vxsListTable(entries, n, args.parent);
    }
    /* virsh ends each command's output with a blank line. */
    putchar('\n');
    if (fflush(stdout) != 0) {
        xsnapReportSystemError(errno, "%s", _("cannot write the listing"));
        vxsPrintError();
        return 1;
    }
    return problems->len ? 1 : 0;
}
