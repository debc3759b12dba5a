/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshotstoretest.c: the on-disk snapshot metadata store
 *
 * The store's file handling is tested here with a tiny line-based
 * codec, so that every byte on disk is under the test's control; the
 * libvirt XML codec is exercised by the list tool's tests.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutils.h"
#include "util_error.h"
#include "snapshot_store.h"
#include "snapshot_journal.h"

/* "name N\nparent P\ntime T\nstate S\nactive A\nend\n"; anything
 * else, including a file cut short, does not parse. */
static xsnapSnapshotDef *
testParse(const char *text, bool *current, unsigned int flags)
{
    g_autoptr(xsnapSnapshotDef) def = xsnapSnapshotDefNew();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    bool end = false;
    size_t i;

    if (flags != (XSNAP_SNAPSHOT_PARSE_REDEFINE | XSNAP_SNAPSHOT_PARSE_INTERNAL)) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "unexpected flags 0x%x", flags);
        return NULL;
    }
    *current = false;
    for (i = 0; lines[i]; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, "name "))
            def->name = g_strdup(l + 5);
        else if (g_str_has_prefix(l, "parent "))
            def->parent_name = g_strdup(l + 7);
        else if (g_str_has_prefix(l, "time "))
            def->creationTime = g_ascii_strtoll(l + 5, NULL, 10);
        else if (g_str_has_prefix(l, "state "))
            def->state = (xsnapSnapshotState)atoi(l + 6);
        else if (g_str_has_prefix(l, "active "))
            *current = g_str_equal(l + 7, "1");
        else if (g_str_equal(l, "end"))
            end = true;
    }
    if (!end || !def->name) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s", "document ends early");
        return NULL;
    }
    return g_steal_pointer(&def);
}


static char *
testFormat(const xsnapSnapshotDef *def, unsigned int flags)
{
    GString *s = g_string_new(NULL);

    if ((flags & (XSNAP_SNAPSHOT_FORMAT_INTERNAL | XSNAP_SNAPSHOT_FORMAT_SECURE)) !=
        (XSNAP_SNAPSHOT_FORMAT_INTERNAL | XSNAP_SNAPSHOT_FORMAT_SECURE))
        abort();
    g_string_append_printf(s, "name %s\n", def->name);
    if (def->parent_name)
        g_string_append_printf(s, "parent %s\n", def->parent_name);
    g_string_append_printf(s, "time %lld\nstate %d\nactive %d\nend\n",
                           def->creationTime, (int)def->state,
                           !!(flags & XSNAP_SNAPSHOT_FORMAT_CURRENT));
    return g_string_free(s, FALSE);
}


static char *
testRoot(const char *tag)
{
    char *root = g_build_filename(xsnapTestTmpDir(), tag, NULL);

    g_mkdir_with_parents(root, 0700);
    return root;
}


static xsnapSnapshotStore *
testStoreNew(const char *root)
{
    xsnapSnapshotStore *store = xsnapSnapshotStoreNew(root);

    xsnapSnapshotStoreSetCodec(store, testParse, testFormat);
    return store;
}


static int
testWrite(const char *path, const char *text)
{
    g_autoptr(GError) err = NULL;

    if (!g_file_set_contents(path, text, -1, &err)) {
        xsnapTestFail("%s", err->message);
        return -1;
    }
    return 0;
}


/* Adds snapshot @name under @parent to @list and saves it as new. */
static int
testAdd(xsnapSnapshotStore *store, xsnapSnapshotObjList *list,
        const char *name, const char *parent, long long when, bool current)
{
    g_autoptr(xsnapSnapshotDef) def = xsnapSnapshotDefNew();
    xsnapSnapshotObj *obj;

    def->name = g_strdup(name);
    def->parent_name = g_strdup(parent);
    def->creationTime = when;
    def->state = XSNAP_SNAPSHOT_STATE_SHUTOFF;
    if (!(obj = xsnapSnapshotObjListAdd(list, &def)))
        return -1;
    if (xsnapSnapshotStoreSave(store, "dom", list, obj, false) < 0)
        return -1;
    if (current && xsnapSnapshotStoreSetCurrent(store, "dom", list, obj) < 0)
        return -1;
    return 0;
}


/*   a -- b -- c
 *        +--- d (current)
 *   e            */
static xsnapSnapshotObjList *
testBuild(xsnapSnapshotStore *store)
{
    g_autoptr(xsnapSnapshotObjList) list = xsnapSnapshotObjListNew();

    if (testAdd(store, list, "a", NULL, 1, false) < 0 ||
        testAdd(store, list, "b", "a", 2, false) < 0 ||
        testAdd(store, list, "c", "b", 3, true) < 0 ||
        testAdd(store, list, "d", "b", 4, true) < 0 ||
        testAdd(store, list, "e", NULL, 5, false) < 0)
        return NULL;
    return g_steal_pointer(&list);
}


/* "name:parent" for every snapshot in topological order, then
 * " *current", then " !problem-type:file" for each problem. */
static char *
testDescribe(xsnapSnapshotStore *store)
{
    g_autoptr(xsnapSnapshotObjList) list = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_autofree xsnapSnapshotObj **objs = NULL;
    GString *s;
    int n;
    int i;

    if (xsnapSnapshotStoreLoad(store, "dom", &list, &problems) < 0)
        return g_strdup_printf("ERROR %s", xsnapGetLastErrorMessage());
    s = g_string_new(NULL);
    n = xsnapSnapshotObjListListAll(list, NULL, &objs, VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL);
    for (i = 0; i < n; i++) {
        xsnapSnapshotObj *parent = xsnapSnapshotObjGetParent(objs[i]);
        g_string_append_printf(s, "%s%s:%s", i ? " " : "", objs[i]->def->name,
                               parent ? parent->def->name : "-");
    }
    if (xsnapSnapshotObjListGetCurrent(list))
        g_string_append_printf(s, " *%s", xsnapSnapshotObjListGetCurrentName(list));
    for (i = 0; i < (int)problems->len; i++) {
        xsnapSnapshotStoreProblem *p = g_ptr_array_index(problems, i);
        g_autofree char *base = g_path_get_basename(p->path);
        if (!strstr(p->message, p->path))
            g_string_append(s, " (message lacks path)");
        g_string_append_printf(s, " !%s:%s",
                               xsnapSnapshotStoreProblemTypeToString(p->type), base);
    }
    return g_string_free(s, FALSE);
}


static int
testExpect(xsnapSnapshotStore *store, const char *expect)
{
    g_autofree char *got = testDescribe(store);

    if (!g_str_equal(got, expect)) {
        xsnapTestFail("expected '%s'\n    got      '%s'", expect, got);
        return -1;
    }
    return 0;
}


/* The number of directory entries of @dir starting with '.'. */
static int
testCountHidden(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    int n = 0;

    while (d && (e = g_dir_read_name(d)))
        n += e[0] == '.';
    return n;
}


static int
testRoundTrip(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("roundtrip");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autofree char *dir = g_build_filename(root, "snapshot", "dom", NULL);
    g_autofree char *cfile = g_build_filename(dir, "c.xml", NULL);
    g_autofree char *dfile = g_build_filename(dir, "d.xml", NULL);
    g_autofree char *ctext = NULL;
    g_autofree char *dtext = NULL;
    g_autofree char *sdir = xsnapSnapshotStoreDomainDir(store, "dom");
    struct stat sb;

    if (!list || !g_str_equal(sdir, dir))
        return -1;
    if (testExpect(store, "e:- a:- b:a d:b c:b *d") < 0)
        return -1;
    /* Moving current rewrote c without the mark. */
    if (!(ctext = xsnapTestLoadFile(cfile)) || !(dtext = xsnapTestLoadFile(dfile)) ||
        !strstr(ctext, "active 0") || !strstr(dtext, "active 1"))
        return -1;
    if (testCountHidden(dir) != 0 || stat(cfile, &sb) < 0 ||
        (sb.st_mode & 0777) != 0600)
        return -1;
    if (stat(dir, &sb) < 0 || (sb.st_mode & 0777) != 0700)
        return -1;
    /* Rewriting a known snapshot is allowed. */
    if (xsnapSnapshotStoreSave(store, "dom", list,
                               xsnapSnapshotObjListLookup(list, "a"), true) < 0)
        return -1;
    return 0;
}


static int
testNoOverwrite(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("nooverwrite");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = xsnapSnapshotObjListNew();
    g_autofree char *dir = g_build_filename(root, "snapshot", "dom", NULL);
    g_autofree char *path = g_build_filename(dir, "x.xml", NULL);
    g_autofree char *after = NULL;

    g_mkdir_with_parents(dir, 0700);
    if (testWrite(path, "not ours") < 0)
        return -1;
    if (testAdd(store, list, "x", NULL, 1, false) == 0 ||
        xsnapGetLastErrorCode() != VIR_ERR_OPERATION_FAILED)
        return -1;
    if (!(after = xsnapTestLoadFile(path)) || !g_str_equal(after, "not ours") ||
        testCountHidden(dir) != 0)
        return -1;
    return 0;
}


/* A crash after the temporary file was written (whole or in part) but
 * before the rename: the old file is still whole and is what loads;
 * the temporary file is reported and never read. */
static int
testCrashBeforeRename(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("crash");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autofree char *dir = g_build_filename(root, "snapshot", "dom", NULL);
    g_autofree char *whole = g_build_filename(dir, ".b.xml.Ab12Cd", NULL);
    g_autofree char *part = g_build_filename(dir, ".e.xml.Zz99Yy", NULL);
    g_autofree char *fresh = g_build_filename(dir, ".f.xml.Qq11Ww", NULL);

    if (!list)
        return -1;
    /* A complete temp rewriting b under e, a cut one for e, and one for a
     * snapshot that never got its file. */
    if (testWrite(whole, "name b\nparent e\ntime 2\nstate 5\nactive 1\nend\n") < 0 ||
        testWrite(part, "name e\ntime 5\nsta") < 0 ||
        testWrite(fresh, "name f\ntime 9\nstate 5\nactive 0\nend\n") < 0)
        return -1;
    if (testExpect(store, "e:- a:- b:a d:b c:b *d !temp:.b.xml.Ab12Cd "
                   "!temp:.e.xml.Zz99Yy !temp:.f.xml.Qq11Ww") < 0)
        return -1;
    /* Reported, not removed. */
    if (!g_file_test(whole, G_FILE_TEST_EXISTS) || !g_file_test(part, G_FILE_TEST_EXISTS))
        return -1;
    return 0;
}


/* A truncated file (as a non-atomic writer would leave) is corrupt and
 * left out; its children are then orphans, shown as roots; current
 * cannot be trusted and is cleared. */
static int
testTruncated(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("truncated");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autofree char *path = g_build_filename(root, "snapshot", "dom", "b.xml", NULL);
    g_autofree char *text = NULL;

    if (!list || !(text = xsnapTestLoadFile(path)))
        return -1;
    if (truncate(path, (off_t)strlen(text) / 2) < 0)
        return -1;
    if (testExpect(store, "e:- d:- c:- a:- !corrupt:b.xml !orphan:c.xml !orphan:d.xml") < 0)
        return -1;
    if (truncate(path, 0) < 0)
        return -1;
    return testExpect(store, "e:- d:- c:- a:- !corrupt:b.xml !orphan:c.xml !orphan:d.xml");
}


static int
testStrayEntries(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("stray");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autofree char *dir = g_build_filename(root, "snapshot", "dom", NULL);
    g_autofree char *sub = g_build_filename(dir, "q.xml", NULL);
    g_autofree char *link = g_build_filename(dir, "r.xml", NULL);
    g_autofree char *target = g_build_filename(dir, "a.xml", NULL);
    g_autofree char *notes = g_build_filename(dir, "notes.txt", NULL);
    g_autofree char *bare = g_build_filename(dir, ".xml", NULL);
    g_autofree char *misnamed = g_build_filename(dir, "p.xml", NULL);

    if (!list)
        return -1;
    /* Tests run as root, so file modes cannot make a file unreadable:
     * a directory and a symlink named like snapshot files stand in. */
    if (mkdir(sub, 0700) < 0 || symlink(target, link) < 0 ||
        testWrite(notes, "hello") < 0 || testWrite(bare, "") < 0 ||
        testWrite(misnamed, "name a\ntime 1\nstate 5\nactive 0\nend\n") < 0)
        return -1;
    return testExpect(store, "e:- a:- b:a d:b c:b *d !temp:.xml !stray:notes.txt "
                      "!misnamed:p.xml !unreadable:q.xml !unreadable:r.xml");
}


static int
testDoubleCurrent(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("double");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autofree char *path = g_build_filename(root, "snapshot", "dom", "a.xml", NULL);

    if (!list || testWrite(path, "name a\ntime 1\nstate 5\nactive 1\nend\n") < 0)
        return -1;
    return testExpect(store, "e:- a:- b:a d:b c:b !double-current:a.xml !double-current:d.xml");
}


static int
testOrphanAndCycle(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("cycle");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autofree char *dir = g_build_filename(root, "snapshot", "dom", NULL);
    g_autofree char *x = g_build_filename(dir, "x.xml", NULL);
    g_autofree char *y = g_build_filename(dir, "y.xml", NULL);
    g_autofree char *o = g_build_filename(dir, "o.xml", NULL);

    g_mkdir_with_parents(dir, 0700);
    if (testWrite(x, "name x\nparent y\ntime 1\nstate 5\nactive 1\nend\n") < 0 ||
        testWrite(y, "name y\nparent x\ntime 2\nstate 5\nactive 0\nend\n") < 0 ||
        testWrite(o, "name o\nparent gone\ntime 3\nstate 5\nactive 0\nend\n") < 0)
        return -1;
    return testExpect(store, "x:- y:x o:- !orphan:o.xml !cycle:x.xml");
}


static int
testMissingAndBadDir(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("baddir");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotStore) dflt = xsnapSnapshotStoreNew(NULL);
    g_autofree char *top = g_build_filename(root, "snapshot", NULL);
    g_autofree char *file = g_build_filename(top, "dom", NULL);
    g_autoptr(xsnapSnapshotObjList) list = NULL;
    g_autoptr(GPtrArray) problems = NULL;

    if (!g_str_equal(xsnapSnapshotStoreGetLibDir(dflt), XSNAP_DEFAULT_LIBDIR) ||
        !g_str_equal(xsnapSnapshotStoreGetLibDir(store), root))
        return -1;
    /* No directory: no snapshots, no problems. */
    if (testExpect(store, "") < 0)
        return -1;
    /* The domain's directory is a file: the whole load fails. */
    g_mkdir_with_parents(top, 0700);
    if (testWrite(file, "x") < 0)
        return -1;
    if (xsnapSnapshotStoreLoad(store, "dom", &list, &problems) != -1 || list || problems)
        return -1;
    /* Names that would escape the store. */
    if (xsnapSnapshotStoreLoad(store, "../etc", &list, &problems) != -1 ||
        xsnapGetLastErrorCode() != VIR_ERR_INVALID_ARG ||
        xsnapSnapshotStoreDomainDir(store, ".hidden") ||
        xsnapSnapshotStoreDomainDir(store, ""))
        return -1;
    return 0;
}


static int
testSetCurrent(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("current");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);

    if (!list)
        return -1;
    if (xsnapSnapshotStoreSetCurrent(store, "dom", list,
                                     xsnapSnapshotObjListLookup(list, "e")) < 0 ||
        testExpect(store, "e:- a:- b:a d:b c:b *e") < 0)
        return -1;
    if (xsnapSnapshotStoreSetCurrent(store, "dom", list,
                                     xsnapSnapshotObjListLookup(list, "e")) < 0 ||
        testExpect(store, "e:- a:- b:a d:b c:b *e") < 0)
        return -1;
    if (xsnapSnapshotStoreSetCurrent(store, "dom", list, NULL) < 0 ||
        xsnapSnapshotObjListGetCurrent(list) ||
        testExpect(store, "e:- a:- b:a d:b c:b") < 0)
        return -1;
    return 0;
}


static int
testDelete(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("delete");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);

    if (!list)
        return -1;
    /* b goes; c and d move up to a on disk too. */
    if (xsnapSnapshotStoreDelete(store, "dom", list,
                                 xsnapSnapshotObjListLookup(list, "b"), 0) < 0 ||
        testExpect(store, "e:- a:- d:a c:a *d") < 0)
        return -1;
    /* The current one goes; its parent takes over. */
    if (xsnapSnapshotStoreDelete(store, "dom", list,
                                 xsnapSnapshotObjListLookup(list, "d"), 0) < 0 ||
        testExpect(store, "e:- a:- c:a *a") < 0 ||
        !g_str_equal(xsnapSnapshotObjListGetCurrentName(list), "a"))
        return -1;
    /* A root with a child: the child becomes a root. */
    if (xsnapSnapshotStoreDelete(store, "dom", list,
                                 xsnapSnapshotObjListLookup(list, "a"), 0) < 0 ||
        testExpect(store, "e:- c:-") < 0 ||
        xsnapSnapshotObjListGetCurrent(list))
        return -1;
    if (xsnapSnapshotStoreDelete(store, "dom", list,
                                 xsnapSnapshotObjListLookup(list, "e"), 1 << 5) != -1 ||
        xsnapGetLastErrorCode() != VIR_ERR_INVALID_ARG)
        return -1;
    return 0;
}


static int
testDeleteChildren(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("children");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);

    if (!list)
        return -1;
    /* d is current and goes with b's children; b takes over. */
    if (xsnapSnapshotStoreDelete(store, "dom", list,
                                 xsnapSnapshotObjListLookup(list, "b"),
                                 VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY) < 0 ||
        testExpect(store, "e:- a:- b:a *b") < 0)
        return -1;
    if (xsnapSnapshotStoreDelete(store, "dom", list,
                                 xsnapSnapshotObjListLookup(list, "a"),
                                 VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN) < 0 ||
        testExpect(store, "e:-") < 0 || xsnapSnapshotObjListGetCurrent(list) ||
        xsnapSnapshotObjListCount(list) != 1)
        return -1;
    return 0;
}


static int
testDeleteAll(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("deleteall");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autoptr(xsnapSnapshotObjList) again = NULL;
    g_autofree char *dir = g_build_filename(root, "snapshot", "dom", NULL);
    g_autofree char *stray = g_build_filename(dir, ".a.xml.leftover", NULL);

    if (!list)
        return -1;
    /* A file it did not create stays, and so does the directory. */
    if (testWrite(stray, "x") < 0)
        return -1;
    if (xsnapSnapshotStoreDeleteAll(store, "dom", list) != -1 ||
        xsnapGetLastErrorCode() != VIR_ERR_OPERATION_FAILED ||
        xsnapSnapshotObjListCount(list) != 0 ||
        !g_file_test(stray, G_FILE_TEST_EXISTS) ||
        testExpect(store, " !temp:.a.xml.leftover") < 0)
        return -1;
    unlink(stray);
    if (!(again = testBuild(store)) ||
        xsnapSnapshotStoreDeleteAll(store, "dom", again) < 0 ||
        g_file_test(dir, G_FILE_TEST_EXISTS) ||
        testExpect(store, "") < 0)
        return -1;
    return 0;
}


static int
testRename(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("rename");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autoptr(xsnapSnapshotObjList) other = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_autofree char *busy = g_build_filename(root, "snapshot", "busy", NULL);
    g_autofree char *empty = g_build_filename(root, "snapshot", "empty", NULL);

    if (!list)
        return -1;
    if (xsnapSnapshotStoreRenameDomain(store, "dom", "dom2") < 0 ||
        testExpect(store, "") < 0)
        return -1;
    if (xsnapSnapshotStoreLoad(store, "dom2", &other, &problems) < 0 ||
        xsnapSnapshotObjListCount(other) != 5 || problems->len != 0 ||
        !g_str_equal(xsnapSnapshotObjListGetCurrentName(other), "d"))
        return -1;
    /* Nothing to move is fine. */
    if (xsnapSnapshotStoreRenameDomain(store, "dom", "dom3") < 0)
        return -1;
    /* A target that exists, even empty, is never replaced. */
    g_mkdir_with_parents(busy, 0700);
    g_mkdir_with_parents(empty, 0700);
    if (xsnapSnapshotStoreRenameDomain(store, "dom2", "busy") != -1 ||
        xsnapGetLastErrorCode() != VIR_ERR_OPERATION_INVALID ||
        xsnapSnapshotStoreRenameDomain(store, "dom2", "empty") != -1 ||
        xsnapSnapshotStoreRenameDomain(store, "dom2", "a/b") != -1)
        return -1;
    return 0;
}


static int
testNoCodec(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("nocodec");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autoptr(xsnapSnapshotObjList) none = NULL;
    g_autoptr(GPtrArray) problems = NULL;

    if (!list)
        return -1;
    xsnapSnapshotStoreSetCodec(store, NULL, NULL);
    if (xsnapSnapshotStoreLoad(store, "dom", &none, &problems) != -1 ||
        xsnapSnapshotStoreSave(store, "dom", list,
                               xsnapSnapshotObjListLookup(list, "a"), true) != -1)
        return -1;
    return 0;
}


/* Whether the domain's directory can be locked: 1 yes, 0 held elsewhere.
 * flock() locks belong to the open file, so a second open in this same
 * process conflicts as another process's would. */
static int
testExpectLock(xsnapSnapshotStore *store, int want)
{
    int fd = -1;
    int got = xsnapSnapshotJournalLockDomain(store, "dom", &fd);

    if (fd >= 0)
        close(fd);
    if (got != want) {
        xsnapTestFail("locking the domain directory gave %d, expected %d", got, want);
        return -1;
    }
    return 0;
}


/* A journal round-trips; while it is there the store reports the
 * interrupted operation and still loads every snapshot; a temporary file
 * of an interrupted journal write is a plain leftover; removing the
 * journal clears the problem. */
static int
testJournal(const void *data XSNAP_UNUSED)
{
    g_autofree char *root = testRoot("journal");
    g_autoptr(xsnapSnapshotStore) store = testStoreNew(root);
    g_autoptr(xsnapSnapshotObjList) list = testBuild(store);
    g_autoptr(xsnapSnapshotJournal) journal = NULL;
    g_autoptr(xsnapSnapshotJournal) back = NULL;
    g_autoptr(GPtrArray) paths = NULL;
    g_autofree char *dir = g_build_filename(root, "snapshot", "dom", NULL);
    g_autofree char *tmp = g_build_filename(dir, ".delete.journal.AbC123", NULL);
    g_autofree char *value = NULL;
    g_autofree char *step = NULL;
    g_auto(GStrv) targets = NULL;

    if (!list ||
        !(journal = xsnapSnapshotJournalNew(store, "dom", "create", "f")))
        return -1;
    xsnapSnapshotJournalSet(journal, "xvda", "internal", "f");
    xsnapSnapshotJournalSet(journal, "xvdb", "overlay", "/img/b.f");
    xsnapSnapshotJournalSet(journal, NULL, "memory", "/img/f.save");
    if (xsnapSnapshotJournalWrite(journal) < 0 ||
        xsnapSnapshotJournalStep(journal, "disks-done") < 0 ||
        testExpectLock(store, 0) < 0 ||
        testExpect(store, "e:- a:- b:a d:b c:b *d !interrupted:.create.journal") < 0)
        return -1;
    if (!(paths = xsnapSnapshotJournalList(store, "dom")) || paths->len != 1 ||
        !(back = xsnapSnapshotJournalLoad(g_ptr_array_index(paths, 0))))
        return -1;
    value = xsnapSnapshotJournalGet(back, "xvdb", "overlay");
    step = xsnapSnapshotJournalGet(back, NULL, "step");
    targets = xsnapSnapshotJournalTargets(back);
    if (g_strcmp0(value, "/img/b.f") != 0 || g_strcmp0(step, "disks-done") != 0 ||
        g_strv_length(targets) != 2 || !g_str_equal(targets[0], "xvda")) {
        xsnapTestFail("journal read back: overlay '%s', step '%s', %u disks",
                      value ? value : "-", step ? step : "-", g_strv_length(targets));
        return -1;
    }
    if (testWrite(tmp, "[operation]\noperation=del") < 0 ||
        testExpect(store, "e:- a:- b:a d:b c:b *d !interrupted:.create.journal !temp:.delete.journal.AbC123") < 0)
        return -1;
    unlink(tmp);
    if (xsnapSnapshotJournalRemove(journal) < 0 ||
        xsnapSnapshotJournalRemove(journal) < 0 ||
        testExpect(store, "e:- a:- b:a d:b c:b *d") < 0)
        return -1;
    /* The lock goes with the journal object (or the process). */
    g_clear_pointer(&journal, xsnapSnapshotJournalFree);
    if (testExpectLock(store, 1) < 0)
        return -1;
    /* A journal that names no known operation is refused. */
    if (testWrite(tmp, "[operation]\noperation=frobnicate\n") < 0 ||
        xsnapSnapshotJournalLoad(tmp) ||
        xsnapGetLastErrorCode() != VIR_ERR_OPERATION_FAILED)
        return -1;
    unlink(tmp);
    return 0;
}


static int
mymain(void)
{
    int ret = 0;

#define RUN(title, fn) \
    if (xsnapTestRun(title, fn, NULL) < 0) \
        ret = -1

    RUN("store: save, load, current, modes", testRoundTrip);
    RUN("store: never overwrite a file it did not create", testNoOverwrite);
    RUN("store: crash between temp write and rename", testCrashBeforeRename);
    RUN("store: truncated file, its children orphaned", testTruncated);
    RUN("store: unreadable, stray and misnamed entries", testStrayEntries);
    RUN("store: two files claiming current", testDoubleCurrent);
    RUN("store: orphan and cycle on disk", testOrphanAndCycle);
    RUN("store: missing and unreadable directory, bad names", testMissingAndBadDir);
    RUN("store: set current rewrites both files", testSetCurrent);
    RUN("store: delete one, children move up", testDelete);
    RUN("store: delete children, children only", testDeleteChildren);
    RUN("store: delete all", testDeleteAll);
    RUN("store: rename domain", testRename);
    RUN("store: no codec", testNoCodec);
    RUN("store: operation journal", testJournal);
#undef RUN
    return ret;
}

XSNAP_TEST_MAIN(mymain)
