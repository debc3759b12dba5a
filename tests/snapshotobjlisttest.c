/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshotobjlisttest.c: the snapshot tree, every listing filter and
 * the redefine rules
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "testutils.h"
#include "util_error.h"
#include "snapshot_objlist.h"

/* One snapshot of a test tree. */
typedef struct {
    const char *name;
    const char *parent;
    long long creationTime;
    xsnapSnapshotState state;
    bool external;
} testSnap;

/*
 *   a (shutoff) --+-- b (running) --+-- c (disk-snapshot, external)
 *                 |                 +-- d (running, external memory)
 *                 +-- e (shutoff)
 *   f (paused) ------ g (running)
 *   h (shutoff)
 */
static const testSnap tree[] = {
    { "a", NULL, 1, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
    { "b", "a", 2, XSNAP_SNAPSHOT_STATE_RUNNING, false },
    { "c", "b", 3, XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT, true },
    { "d", "b", 4, XSNAP_SNAPSHOT_STATE_RUNNING, true },
    { "e", "a", 5, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
    { "f", NULL, 6, XSNAP_SNAPSHOT_STATE_PAUSED, false },
    { "g", "f", 7, XSNAP_SNAPSHOT_STATE_RUNNING, false },
    { "h", NULL, 8, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
};


static xsnapSnapshotDef *
testDefNew(const char *name, const char *parent, long long when,
           xsnapSnapshotState state, bool external)
{
    xsnapSnapshotDef *def = xsnapSnapshotDefNew();

    def->name = g_strdup(name);
    def->parent_name = g_strdup(parent);
    def->creationTime = when;
    def->state = state;
    def->memory = XSNAP_SNAPSHOT_LOCATION_INTERNAL;
    if (external) {
        if (state == XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT) {
            def->memory = XSNAP_SNAPSHOT_LOCATION_NO;
            def->ndisks = 1;
            def->disks = g_new0(xsnapSnapshotDiskDef, 1);
            def->disks[0].name = g_strdup("xvda");
            def->disks[0].snapshot = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
        } else {
            def->memory = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
            def->memoryFile = g_strdup("/var/lib/xen/mem");
        }
    }
    return def;
}


/* Builds the tree above by adding one snapshot at a time. */
static xsnapSnapshotObjList *
testTreeNew(void)
{
    xsnapSnapshotObjList *list = xsnapSnapshotObjListNew();
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(tree); i++) {
        g_autoptr(xsnapSnapshotDef) def =
            testDefNew(tree[i].name, tree[i].parent, tree[i].creationTime,
                       tree[i].state, tree[i].external);
        if (!xsnapSnapshotObjListAdd(list, &def))
            abort();
    }
    return list;
}


typedef struct {
    const char *from;
    unsigned int flags;
    const char *expect;     /* sorted names */
} testFilterCase;

#define F(x) VIR_DOMAIN_SNAPSHOT_LIST_ ## x

static const testFilterCase filterCases[] = {
    { NULL, 0, "a b c d e f g h" },
    { NULL, F(ROOTS), "a f h" },
    { NULL, F(TOPOLOGICAL), "a b c d e f g h" },
    { NULL, F(LEAVES), "c d e g h" },
    { NULL, F(NO_LEAVES), "a b f" },
    { NULL, F(LEAVES) | F(NO_LEAVES), "" },
    { NULL, F(ROOTS) | F(LEAVES), "h" },
    { NULL, F(ROOTS) | F(NO_LEAVES), "a f" },
    { NULL, F(METADATA), "a b c d e f g h" },
    { NULL, F(NO_METADATA), "" },
    { NULL, F(METADATA) | F(NO_METADATA), "a b c d e f g h" },
    { NULL, F(NO_METADATA) | F(LEAVES), "" },
    { NULL, F(INACTIVE), "a e h" },
    { NULL, F(ACTIVE), "b d f g" },
    { NULL, F(DISK_ONLY), "c" },
    { NULL, F(INACTIVE) | F(ACTIVE), "a b d e f g h" },
    { NULL, F(INACTIVE) | F(DISK_ONLY), "a c e h" },
    { NULL, F(INACTIVE) | F(ACTIVE) | F(DISK_ONLY), "a b c d e f g h" },
    { NULL, F(INTERNAL), "a b e f g h" },
    { NULL, F(EXTERNAL), "c d" },
    { NULL, F(INTERNAL) | F(EXTERNAL), "a b c d e f g h" },
    { NULL, F(ACTIVE) | F(EXTERNAL), "d" },
    { NULL, F(ROOTS) | F(INACTIVE), "a h" },
    { NULL, F(LEAVES) | F(INTERNAL), "e g h" },
    { "a", 0, "b e" },
    { "a", F(DESCENDANTS), "b c d e" },
    { "a", F(LEAVES), "e" },
    { "a", F(NO_LEAVES), "b" },
    { "a", F(DESCENDANTS) | F(LEAVES), "c d e" },
    { "a", F(DESCENDANTS) | F(EXTERNAL), "c d" },
    { "a", F(DESCENDANTS) | F(NO_METADATA), "" },
    { "a", F(DESCENDANTS) | F(TOPOLOGICAL), "b c d e" },
    { "b", F(DESCENDANTS) | F(ACTIVE), "d" },
    { "c", F(DESCENDANTS), "" },
    { "f", 0, "g" },
    { "h", F(DESCENDANTS), "" },
};


static int
testSortedCompare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}


static int
testFilter(const void *data)
{
    const testFilterCase *tc = data;
    g_autoptr(xsnapSnapshotObjList) list = testTreeNew();
    g_auto(GStrv) names = NULL;
    g_autofree char *got = NULL;
    xsnapSnapshotObj *from = NULL;
    int n;

    if (tc->from && !(from = xsnapSnapshotObjListLookup(list, tc->from)))
        return -1;
    if ((n = xsnapSnapshotObjListGetNames(list, from, &names, tc->flags)) < 0)
        return -1;
    if (n != xsnapSnapshotObjListNum(list, from, tc->flags)) {
        xsnapTestFail("count %d differs from Num", n);
        return -1;
    }
    qsort(names, n, sizeof(*names), testSortedCompare);
    got = g_strjoinv(" ", names);
    if (!g_str_equal(got, tc->expect)) {
        xsnapTestFail("expected '%s', got '%s'", tc->expect, got);
        return -1;
    }
    return 0;
}


static int
testExpectList(xsnapSnapshotObjList *list, const char *from,
               unsigned int flags, const char *expect)
{
    g_auto(GStrv) names = NULL;
    g_autofree char *got = NULL;
    xsnapSnapshotObj *obj = NULL;

    if (from && !(obj = xsnapSnapshotObjListLookup(list, from)))
        return -1;
    if (xsnapSnapshotObjListGetNames(list, obj, &names, flags) < 0)
        return -1;
    got = g_strjoinv(" ", names);
    if (!g_str_equal(got, expect)) {
        xsnapTestFail("from %s flags 0x%x: expected '%s', got '%s'",
                      from ? from : "-", flags, expect, got);
        return -1;
    }
    return 0;
}


/* Parents come before children, and siblings newest first, as in
 * libvirt after creating them one by one. */
static int
testTopological(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = testTreeNew();

    if (testExpectList(list, NULL, F(TOPOLOGICAL), "h f g a e b d c") < 0 ||
        testExpectList(list, "a", F(DESCENDANTS) | F(TOPOLOGICAL), "e b d c") < 0 ||
        testExpectList(list, NULL, F(ROOTS), "h f a") < 0)
        return -1;
    return 0;
}


static int
testBadFlags(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = testTreeNew();
    xsnapSnapshotObj **objs = NULL;

    if (xsnapSnapshotObjListListAll(list, NULL, &objs, 1 << 20) != -1 ||
        objs || xsnapGetLastErrorCode() != VIR_ERR_INVALID_ARG)
        return -1;
    return 0;
}


static int
testLookup(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = testTreeNew();
    g_autoptr(xsnapSnapshotDef) dup = testDefNew("b", NULL, 9,
                                                  XSNAP_SNAPSHOT_STATE_RUNNING,
                                                  false);
    g_autoptr(xsnapSnapshotDef) orphan = testDefNew("x", "nope", 9,
                                                     XSNAP_SNAPSHOT_STATE_RUNNING,
                                                     false);
    xsnapSnapshotObj *obj;

    if (xsnapSnapshotObjListCount(list) != G_N_ELEMENTS(tree))
        return -1;
    if (xsnapSnapshotObjListLookup(list, "zz") ||
        xsnapGetLastErrorCode() != VIR_ERR_NO_DOMAIN_SNAPSHOT)
        return -1;
    if (xsnapSnapshotObjListFindByName(list, NULL))
        return -1;
    if (!(obj = xsnapSnapshotObjListLookup(list, "c")) ||
        !g_str_equal(xsnapSnapshotObjGetParent(obj)->def->name, "b") ||
        xsnapSnapshotObjGetParent(xsnapSnapshotObjListLookup(list, "a")))
        return -1;
    if (xsnapSnapshotObjListAdd(list, &dup) || !dup ||
        xsnapGetLastErrorCode() != VIR_ERR_OPERATION_FAILED)
        return -1;
    if (xsnapSnapshotObjListAdd(list, &orphan) || !orphan ||
        xsnapGetLastErrorCode() != VIR_ERR_INVALID_ARG)
        return -1;
    if (xsnapSnapshotObjListGetCurrent(list) ||
        xsnapSnapshotObjListGetCurrentName(list))
        return -1;
    xsnapSnapshotObjListSetCurrent(list, obj);
    if (!g_str_equal(xsnapSnapshotObjListGetCurrentName(list), "c"))
        return -1;
    xsnapSnapshotObjListSetCurrent(list, NULL);
    return xsnapSnapshotObjListGetCurrent(list) ? -1 : 0;
}


static int
testRedefineRefused(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = testTreeNew();
    struct {
        const char *name, *parent;
        xsnapSnapshotState state;
        unsigned int flags;
    } cases[] = {
        { "a", "a", XSNAP_SNAPSHOT_STATE_SHUTOFF, 0 },       /* own parent */
        { "a", "c", XSNAP_SNAPSHOT_STATE_SHUTOFF, 0 },       /* descendant */
        { "b", "d", XSNAP_SNAPSHOT_STATE_RUNNING, 0 },       /* child */
        { "n", "missing", XSNAP_SNAPSHOT_STATE_SHUTOFF, 0 }, /* no parent */
        { "b", "a", XSNAP_SNAPSHOT_STATE_SHUTOFF, 0 },       /* online->offline */
        { "a", NULL, XSNAP_SNAPSHOT_STATE_PAUSED, 0 },       /* offline->online */
        { "c", "b", XSNAP_SNAPSHOT_STATE_SHUTOFF, 0 },       /* disk->full */
        { "e", "a", XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT, 0 }, /* full->disk */
        { "n", NULL, XSNAP_SNAPSHOT_STATE_SHUTOFF,
          VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(xsnapSnapshotDef) def = testDefNew(cases[i].name, cases[i].parent,
                                                     50, cases[i].state, false);
        xsnapResetLastError();
        if (xsnapSnapshotObjListRedefine(list, &def,
                                         VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE |
                                         cases[i].flags) ||
            !def || xsnapGetLastErrorCode() != VIR_ERR_INVALID_ARG) {
            xsnapTestFail("case %zu was not refused with INVALID_ARG", i);
            return -1;
        }
    }
    /* Nothing moved. */
    return testExpectList(list, NULL, F(TOPOLOGICAL), "h f g a e b d c");
}


static int
testRedefineMove(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = testTreeNew();
    g_autoptr(xsnapSnapshotDef) b = testDefNew("b", "e", 2,
                                               XSNAP_SNAPSHOT_STATE_PAUSED, false);
    g_autoptr(xsnapSnapshotDef) g = testDefNew("g", "h", 7,
                                               XSNAP_SNAPSHOT_STATE_RUNNING, false);
    g_autoptr(xsnapSnapshotDef) n = testDefNew("n", "c", 9,
                                               XSNAP_SNAPSHOT_STATE_SHUTOFF, false);
    xsnapSnapshotObj *obj;
    xsnapSnapshotObj *gobj = xsnapSnapshotObjListLookup(list, "g");

    gobj->def->domainXML = g_strdup("<domain/>");
    xsnapSnapshotObjListSetCurrent(list, gobj);

    /* b moves under e with its children; current stays on g. */
    if (!(obj = xsnapSnapshotObjListRedefine(list, &b, VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE)) ||
        b || obj->def->state != XSNAP_SNAPSHOT_STATE_PAUSED)
        return -1;
    if (testExpectList(list, NULL, F(TOPOLOGICAL), "h f g a e b d c") < 0 ||
        testExpectList(list, "a", 0, "e") < 0 ||
        testExpectList(list, "e", F(DESCENDANTS), "b d c") < 0 ||
        !g_str_equal(xsnapSnapshotObjListGetCurrentName(list), "g"))
        return -1;

    /* g moves to root h, becomes current and keeps its <domain>. */
    if (!(obj = xsnapSnapshotObjListRedefine(list, &g,
                                             VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE |
                                             VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)) ||
        obj != gobj || !g_str_equal(obj->def->domainXML, "<domain/>") ||
        xsnapSnapshotObjListGetCurrent(list) != gobj)
        return -1;
    if (testExpectList(list, NULL, F(LEAVES) | F(TOPOLOGICAL), "g f d c") < 0 ||
        testExpectList(list, NULL, F(ROOTS) | F(TOPOLOGICAL), "h f a") < 0)
        return -1;

    /* A new snapshot under c, made current. */
    if (!(obj = xsnapSnapshotObjListRedefine(list, &n,
                                             VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE |
                                             VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)) ||
        xsnapSnapshotObjListGetCurrent(list) != obj ||
        testExpectList(list, "c", 0, "n") < 0 ||
        xsnapSnapshotObjListCount(list) != G_N_ELEMENTS(tree) + 1)
        return -1;

    /* Now a can be made a child of nothing else in its subtree. */
    {
        g_autoptr(xsnapSnapshotDef) a = testDefNew("a", "n", 1,
                                                   XSNAP_SNAPSHOT_STATE_SHUTOFF, false);
        if (xsnapSnapshotObjListRedefine(list, &a, VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE) ||
            xsnapGetLastErrorCode() != VIR_ERR_INVALID_ARG)
            return -1;
    }
    return 0;
}


static int
testRemove(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = testTreeNew();
    xsnapSnapshotObj *c = xsnapSnapshotObjListLookup(list, "c");

    /* Removing b moves c and d under a, ahead of e, in their order. */
    xsnapSnapshotObjListSetCurrent(list, xsnapSnapshotObjListLookup(list, "b"));
    if (!xsnapSnapshotObjListRemove(list, xsnapSnapshotObjListLookup(list, "b")))
        return -1;
    if (!g_str_equal(xsnapSnapshotObjListGetCurrentName(list), "a") ||
        !g_str_equal(c->def->parent_name, "a") ||
        testExpectList(list, "a", 0, "d c e") < 0 ||
        xsnapSnapshotObjListFindByName(list, "b"))
        return -1;

    /* Removing a root makes its children roots, with no parent name. */
    if (!xsnapSnapshotObjListRemove(list, xsnapSnapshotObjListLookup(list, "a")) ||
        xsnapSnapshotObjListGetCurrent(list) ||
        c->def->parent_name ||
        testExpectList(list, NULL, F(ROOTS), "d c e h f") < 0)
        return -1;

    if (xsnapSnapshotObjListRemove(list, xsnapSnapshotObjListLookup(list, "g")) ||
        testExpectList(list, NULL, F(TOPOLOGICAL), "d c e h f") < 0 ||
        testExpectList(list, NULL, F(NO_LEAVES), "") < 0)
        return -1;

    xsnapSnapshotObjListSetCurrent(list, c);
    xsnapSnapshotObjListRemoveAll(list);
    if (xsnapSnapshotObjListCount(list) != 0 ||
        xsnapSnapshotObjListGetCurrent(list) ||
        xsnapSnapshotObjListNum(list, NULL, 0) != 0 ||
        xsnapSnapshotObjListNum(list, NULL, F(ROOTS)) != 0)
        return -1;
    return 0;
}


typedef struct {
    GString *log;
} testRelationLog;

static void
testRelationReport(xsnapSnapshotObj *obj, xsnapSnapshotRelationProblem problem,
                   void *opaque)
{
    GString *log = opaque;

    g_string_append_printf(log, "%s%s:%s", log->len ? " " : "",
                           problem == XSNAP_SNAPSHOT_RELATION_ORPHAN ? "orphan" : "cycle",
                           obj->def->name);
}


static void
testCountIter(xsnapSnapshotObj *obj XSNAP_UNUSED, void *opaque)
{
    (*(size_t *)opaque)++;
}


static int
testUpdateRelations(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = xsnapSnapshotObjListNew();
    g_autoptr(GString) log = g_string_new(NULL);
    /* Assigned in a scrambled order; link order must not depend on it. */
    static const size_t order[] = { 6, 2, 0, 7, 4, 1, 5, 3 };
    size_t i;
    size_t seen = 0;

    for (i = 0; i < G_N_ELEMENTS(order); i++) {
        const testSnap *t = &tree[order[i]];
        g_autoptr(xsnapSnapshotDef) def = testDefNew(t->name, t->parent,
                                                     t->creationTime, t->state,
                                                     t->external);
        if (!xsnapSnapshotObjListAssignDef(list, &def))
            return -1;
    }
    xsnapSnapshotObjListSetCurrent(list, xsnapSnapshotObjListLookup(list, "d"));
    if (xsnapSnapshotObjListUpdateRelations(list, testRelationReport, log) != 0 ||
        log->len ||
        testExpectList(list, NULL, F(TOPOLOGICAL), "h f g a e b d c") < 0 ||
        !xsnapSnapshotObjListGetCurrent(list))
        return -1;

    /* An orphan and a three-snapshot cycle hanging off nothing. */
    {
        const testSnap bad[] = {
            { "o", "gone", 20, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
            { "o2", "o", 21, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
            { "x", "z", 30, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
            { "y", "x", 31, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
            { "z", "y", 32, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
            { "w", "y", 33, XSNAP_SNAPSHOT_STATE_SHUTOFF, false },
        };
        for (i = 0; i < G_N_ELEMENTS(bad); i++) {
            g_autoptr(xsnapSnapshotDef) def = testDefNew(bad[i].name, bad[i].parent,
                                                         bad[i].creationTime,
                                                         bad[i].state, false);
            if (!xsnapSnapshotObjListAssignDef(list, &def))
                return -1;
        }
    }
    if (xsnapSnapshotObjListUpdateRelations(list, testRelationReport, log) != -1 ||
        !g_str_equal(log->str, "orphan:o cycle:x") ||
        xsnapSnapshotObjListGetCurrent(list)) {
        xsnapTestFail("problems: %s", log->str);
        return -1;
    }
    if (xsnapSnapshotObjListForEach(list, testCountIter, &seen) != 14 || seen != 14)
        return -1;
    return testExpectList(list, NULL, F(ROOTS) | F(TOPOLOGICAL), "x o h f a");
}


/* A long chain must not need deep recursion or quadratic time. */
static int
testLongChain(const void *data XSNAP_UNUSED)
{
    g_autoptr(xsnapSnapshotObjList) list = xsnapSnapshotObjListNew();
    const size_t n = 20000;
    xsnapSnapshotObj **objs = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        g_autoptr(xsnapSnapshotDef) def = NULL;
        g_autofree char *name = g_strdup_printf("s%zu", i);
        g_autofree char *parent = i ? g_strdup_printf("s%zu", i - 1) : NULL;

        def = testDefNew(name, parent, (long long)i, XSNAP_SNAPSHOT_STATE_SHUTOFF, false);
        if (!xsnapSnapshotObjListAssignDef(list, &def))
            return -1;
    }
    if (xsnapSnapshotObjListUpdateRelations(list, NULL, NULL) != 0)
        return -1;
    if (xsnapSnapshotObjListListAll(list, NULL, &objs, F(TOPOLOGICAL)) != (int)n)
        return -1;
    for (i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("s%zu", i);
        if (!g_str_equal(objs[i]->def->name, name)) {
            g_free(objs);
            return -1;
        }
    }
    g_free(objs);
    if (xsnapSnapshotObjListNum(list, xsnapSnapshotObjListLookup(list, "s0"),
                                F(DESCENDANTS)) != (int)n - 1 ||
        xsnapSnapshotObjListNum(list, NULL, F(LEAVES)) != 1)
        return -1;
    /* A cycle back to the top is refused at redefine. */
    {
        g_autoptr(xsnapSnapshotDef) def = testDefNew("s0", "s19999", 0,
                                                     XSNAP_SNAPSHOT_STATE_SHUTOFF,
                                                     false);
        if (xsnapSnapshotObjListRedefine(list, &def, VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE))
            return -1;
    }
    return 0;
}


static int
mymain(void)
{
    int ret = 0;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(filterCases); i++) {
        g_autofree char *title = g_strdup_printf("filter: from %s flags 0x%x",
                                                 filterCases[i].from ? filterCases[i].from : "-",
                                                 filterCases[i].flags);
        if (xsnapTestRun(title, testFilter, &filterCases[i]) < 0)
            ret = -1;
    }
    if (xsnapTestRun("tree: topological order", testTopological, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("tree: unknown flags refused", testBadFlags, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("tree: lookup, add, current", testLookup, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("redefine: bad parents, cycles, state changes", testRedefineRefused, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("redefine: move with children, current", testRedefineMove, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("remove: children move up, current follows", testRemove, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("load: relations, orphans, cycles", testUpdateRelations, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("load: 20000-long chain", testLongChain, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
