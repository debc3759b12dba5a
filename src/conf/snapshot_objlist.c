/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_objlist.c: the per-domain snapshot tree
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "snapshot_objlist.h"
#include "util_error.h"

struct _xsnapSnapshotObjList {
    GHashTable *objs;           /* name -> xsnapSnapshotObj, owns both */
    xsnapSnapshotObj root;      /* hidden parent of every root snapshot */
    xsnapSnapshotObj *current;  /* or NULL */
};


static void
xsnapSnapshotObjFree(xsnapSnapshotObj *obj)
{
    if (!obj)
        return;
    xsnapSnapshotDefFree(obj->def);
    g_free(obj);
}


static void
xsnapSnapshotObjFreeData(gpointer data)
{
    xsnapSnapshotObjFree(data);
}


xsnapSnapshotObjList *
xsnapSnapshotObjListNew(void)
{
    xsnapSnapshotObjList *list = g_new0(xsnapSnapshotObjList, 1);

    list->objs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       xsnapSnapshotObjFreeData);
    return list;
}


void
xsnapSnapshotObjListFree(xsnapSnapshotObjList *list)
{
    if (!list)
        return;
    g_hash_table_unref(list->objs);
    g_free(list);
}


bool
xsnapSnapshotObjIsExternal(const xsnapSnapshotObj *obj)
{
    return xsnapSnapshotDefIsExternal(obj->def);
}


/* Unlinks @obj from its parent's children, in constant time. */
static void
xsnapSnapshotObjDropParent(xsnapSnapshotObj *obj)
{
    xsnapSnapshotObj *parent = obj->parent;

    if (!parent)
        return;
    if (obj->prev_sibling)
        obj->prev_sibling->sibling = obj->sibling;
    else
        parent->first_child = obj->sibling;
    if (obj->sibling)
        obj->sibling->prev_sibling = obj->prev_sibling;
    parent->nchildren--;
    obj->parent = NULL;
    obj->sibling = NULL;
    obj->prev_sibling = NULL;
}


/* Makes @obj the first child of @parent. */
static void
xsnapSnapshotObjSetParent(xsnapSnapshotObj *obj, xsnapSnapshotObj *parent)
{
    obj->parent = parent;
    obj->prev_sibling = NULL;
    obj->sibling = parent->first_child;
    if (parent->first_child)
        parent->first_child->prev_sibling = obj;
    parent->first_child = obj;
    parent->nchildren++;
}


/* Links @obj under the Obj its Def names as parent, or the root. */
static void
xsnapSnapshotObjListLinkParent(xsnapSnapshotObjList *list,
                               xsnapSnapshotObj *obj)
{
    xsnapSnapshotObj *parent = NULL;

    if (obj->def->parent_name)
        parent = g_hash_table_lookup(list->objs, obj->def->parent_name);
    xsnapSnapshotObjSetParent(obj, parent ? parent : &list->root);
}


xsnapSnapshotObj *
xsnapSnapshotObjListAssignDef(xsnapSnapshotObjList *list,
                              xsnapSnapshotDef **def)
{
    xsnapSnapshotObj *obj;

    if (g_hash_table_contains(list->objs, (*def)->name)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("a snapshot named '%1$s' already exists"),
                         (*def)->name);
        return NULL;
    }
    obj = g_new0(xsnapSnapshotObj, 1);
    obj->def = g_steal_pointer(def);
    g_hash_table_insert(list->objs, g_strdup(obj->def->name), obj);
    return obj;
}


static int
xsnapSnapshotObjCompareAge(const void *a, const void *b)
{
    const xsnapSnapshotObj *oa = *(xsnapSnapshotObj *const *)a;
    const xsnapSnapshotObj *ob = *(xsnapSnapshotObj *const *)b;

    if (oa->def->creationTime != ob->def->creationTime)
        return oa->def->creationTime < ob->def->creationTime ? -1 : 1;
    return strcmp(oa->def->name, ob->def->name);
}


/* The Objs of @list in (creationTime, name) order; caller frees. */
static xsnapSnapshotObj **
xsnapSnapshotObjListSortedByAge(xsnapSnapshotObjList *list, size_t *n)
{
    GHashTableIter iter;
    gpointer value;
    xsnapSnapshotObj **objs;
    size_t i = 0;

    *n = g_hash_table_size(list->objs);
    objs = g_new0(xsnapSnapshotObj *, *n + 1);
    g_hash_table_iter_init(&iter, list->objs);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        objs[i++] = value;
    qsort(objs, *n, sizeof(*objs), xsnapSnapshotObjCompareAge);
    return objs;
}


/* Marks used while checking that every Obj hangs from the root. */
enum {
    MARK_NONE = 0,
    MARK_WALKING,
    MARK_REACHED,
};

int
xsnapSnapshotObjListUpdateRelations(xsnapSnapshotObjList *list,
                                    xsnapSnapshotRelationFunc report,
                                    void *opaque)
{
    g_autofree xsnapSnapshotObj **objs = NULL;
    g_autoptr(GHashTable) marks = NULL;
    g_autoptr(GPtrArray) path = NULL;
    size_t n;
    size_t i;
    int ret = 0;

    objs = xsnapSnapshotObjListSortedByAge(list, &n);

    list->root.first_child = NULL;
    list->root.nchildren = 0;
    for (i = 0; i < n; i++) {
        objs[i]->parent = NULL;
        objs[i]->first_child = NULL;
        objs[i]->sibling = NULL;
        objs[i]->prev_sibling = NULL;
        objs[i]->nchildren = 0;
    }

    for (i = 0; i < n; i++) {
        xsnapSnapshotObj *obj = objs[i];
        xsnapSnapshotObj *parent = NULL;

        if (obj->def->parent_name) {
            parent = g_hash_table_lookup(list->objs, obj->def->parent_name);
            if (!parent) {
                ret = -1;
                if (report)
                    report(obj, XSNAP_SNAPSHOT_RELATION_ORPHAN, opaque);
            }
        }
        xsnapSnapshotObjSetParent(obj, parent ? parent : &list->root);
    }

    /* Every Obj has exactly one parent, so an Obj that cannot reach the
     * root by climbing sits on, or hangs from, a cycle. Climb from each
     * Obj once, marking the way; meeting this climb's own marks means a
     * cycle, which is cut by making the Obj met a root. Each Obj is
     * climbed through at most once, so this is linear. */
    marks = g_hash_table_new(NULL, NULL);
    path = g_ptr_array_new();
    for (i = 0; i < n; i++) {
        xsnapSnapshotObj *walk;
        int mark = MARK_NONE;
        size_t j;

        g_ptr_array_set_size(path, 0);
        for (walk = objs[i]; walk != &list->root; walk = walk->parent) {
            mark = GPOINTER_TO_INT(g_hash_table_lookup(marks, walk));
            if (mark != MARK_NONE)
                break;
            g_hash_table_insert(marks, walk, GINT_TO_POINTER(MARK_WALKING));
            g_ptr_array_add(path, walk);
        }
        if (walk != &list->root && mark == MARK_WALKING) {
            ret = -1;
            xsnapSnapshotObjDropParent(walk);
            xsnapSnapshotObjSetParent(walk, &list->root);
            if (report)
                report(walk, XSNAP_SNAPSHOT_RELATION_CYCLE, opaque);
        }
        /* Everything climbed now reaches the root. */
        for (j = 0; j < path->len; j++)
            g_hash_table_insert(marks, g_ptr_array_index(path, j),
                                GINT_TO_POINTER(MARK_REACHED));
    }

    if (ret < 0)
        list->current = NULL;
    return ret;
}


/* Refuses a parent that is missing, @name itself or a descendant of
 * @name; the climb is bounded by the depth of the tree. */
static int
xsnapSnapshotObjListCheckParent(xsnapSnapshotObjList *list,
                                const char *name,
                                const char *parentName)
{
    xsnapSnapshotObj *walk;

    if (!parentName)
        return 0;
    if (g_str_equal(name, parentName)) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("snapshot '%1$s' cannot be its own parent"), name);
        return -1;
    }
    if (!(walk = g_hash_table_lookup(list->objs, parentName))) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("parent snapshot '%1$s' of snapshot '%2$s' does not exist"),
                         parentName, name);
        return -1;
    }
    for (; walk && walk->def; walk = walk->parent) {
        if (g_str_equal(walk->def->name, name)) {
            xsnapReportError(VIR_ERR_INVALID_ARG,
                             _("making '%1$s' the parent of snapshot '%2$s' would create a cycle"),
                             parentName, name);
            return -1;
        }
    }
    return 0;
}


xsnapSnapshotObj *
xsnapSnapshotObjListAdd(xsnapSnapshotObjList *list,
                        xsnapSnapshotDef **def)
{
    xsnapSnapshotObj *obj;

    if (g_hash_table_contains(list->objs, (*def)->name)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("a snapshot named '%1$s' already exists"),
                         (*def)->name);
        return NULL;
    }
    if (xsnapSnapshotObjListCheckParent(list, (*def)->name,
                                        (*def)->parent_name) < 0)
        return NULL;
    if (!(obj = xsnapSnapshotObjListAssignDef(list, def)))
        return NULL;
    xsnapSnapshotObjListLinkParent(list, obj);
    return obj;
}


static bool
xsnapSnapshotStateIsOnline(xsnapSnapshotState state)
{
    return state == XSNAP_SNAPSHOT_STATE_RUNNING ||
           state == XSNAP_SNAPSHOT_STATE_PAUSED;
}


int
xsnapSnapshotObjListRedefinePrep(xsnapSnapshotObjList *list,
                                 const xsnapSnapshotDef *def,
                                 xsnapSnapshotObj **other,
                                 unsigned int flags)
{
    xsnapSnapshotObj *old;

    *other = NULL;
    if (xsnapSnapshotObjListCheckParent(list, def->name, def->parent_name) < 0)
        return -1;

    if ((flags & VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY) &&
        def->state != XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("snapshot '%1$s' is redefined as disk-only but its state is not disk-snapshot"),
                         def->name);
        return -1;
    }

    if ((old = g_hash_table_lookup(list->objs, def->name))) {
        if (xsnapSnapshotStateIsOnline(old->def->state) !=
            xsnapSnapshotStateIsOnline(def->state)) {
            xsnapReportError(VIR_ERR_INVALID_ARG,
                             _("snapshot '%1$s' cannot be redefined between online and offline states"),
                             def->name);
            return -1;
        }
        if ((old->def->state == XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT) !=
            (def->state == XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT)) {
            xsnapReportError(VIR_ERR_INVALID_ARG,
                             _("snapshot '%1$s' cannot be redefined between disk-only and full system"),
                             def->name);
            return -1;
        }
    }
    *other = old;
    return 0;
}


xsnapSnapshotObj *
xsnapSnapshotObjListRedefine(xsnapSnapshotObjList *list,
                             xsnapSnapshotDef **def,
                             unsigned int flags)
{
    xsnapSnapshotObj *obj = NULL;

    if (flags & ~(VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE |
                  VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT |
                  VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY)) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("unsupported flags (0x%1$x) for redefining a snapshot"),
                         flags);
        return NULL;
    }
    if (xsnapSnapshotObjListRedefinePrep(list, *def, &obj, flags) < 0)
        return NULL;

    if (obj) {
        xsnapSnapshotDef *old = obj->def;

        /* A redefinition without <domain> keeps the one it replaces. */
        if (!(*def)->domainXML)
            (*def)->domainXML = g_steal_pointer(&old->domainXML);
        xsnapSnapshotObjDropParent(obj);
        obj->def = g_steal_pointer(def);
        xsnapSnapshotDefFree(old);
    } else {
        if (!(obj = xsnapSnapshotObjListAssignDef(list, def)))
            return NULL;
    }
    xsnapSnapshotObjListLinkParent(list, obj);

    if (flags & VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)
        list->current = obj;
    return obj;
}


bool
xsnapSnapshotObjListRemove(xsnapSnapshotObjList *list,
                           xsnapSnapshotObj *obj)
{
    xsnapSnapshotObj *parent = obj->parent;
    bool wasCurrent = list->current == obj;
    xsnapSnapshotObj *child = obj->first_child;

    if (!parent)
        parent = &list->root;
    /* Move the children ahead of the parent's own, keeping their order. */
    while (child && child->sibling)
        child = child->sibling;
    while (child) {
        xsnapSnapshotObj *prev = child->prev_sibling;

        g_free(child->def->parent_name);
        child->def->parent_name = parent->def ? g_strdup(parent->def->name) : NULL;
        xsnapSnapshotObjDropParent(child);
        xsnapSnapshotObjSetParent(child, parent);
        child = prev;
    }
    xsnapSnapshotObjDropParent(obj);
    if (wasCurrent)
        list->current = parent->def ? parent : NULL;
    g_hash_table_remove(list->objs, obj->def->name);
    return wasCurrent;
}


void
xsnapSnapshotObjListRemoveAll(xsnapSnapshotObjList *list)
{
    g_hash_table_remove_all(list->objs);
    list->root.first_child = NULL;
    list->root.nchildren = 0;
    list->current = NULL;
}


xsnapSnapshotObj *
xsnapSnapshotObjListFindByName(xsnapSnapshotObjList *list, const char *name)
{
    if (!name)
        return NULL;
    return g_hash_table_lookup(list->objs, name);
}


xsnapSnapshotObj *
xsnapSnapshotObjListLookup(xsnapSnapshotObjList *list, const char *name)
{
    xsnapSnapshotObj *obj = xsnapSnapshotObjListFindByName(list, name);

    if (!obj)
        xsnapReportError(VIR_ERR_NO_DOMAIN_SNAPSHOT,
                         _("the domain has no snapshot named '%1$s'"),
                         name ? name : "");
    return obj;
}


size_t
xsnapSnapshotObjListCount(const xsnapSnapshotObjList *list)
{
    return g_hash_table_size(list->objs);
}


xsnapSnapshotObj *
xsnapSnapshotObjGetParent(const xsnapSnapshotObj *obj)
{
    if (!obj->parent || !obj->parent->def)
        return NULL;
    return obj->parent;
}


xsnapSnapshotObj *
xsnapSnapshotObjListGetCurrent(xsnapSnapshotObjList *list)
{
    return list->current;
}


const char *
xsnapSnapshotObjListGetCurrentName(xsnapSnapshotObjList *list)
{
    return list->current ? list->current->def->name : NULL;
}


void
xsnapSnapshotObjListSetCurrent(xsnapSnapshotObjList *list,
                               xsnapSnapshotObj *obj)
{
    list->current = obj;
}


/* The Obj after @obj in a pre-order walk of @top's descendants, or NULL. */
static xsnapSnapshotObj *
xsnapSnapshotObjNextPreOrder(xsnapSnapshotObj *obj, const xsnapSnapshotObj *top)
{
    if (obj->first_child)
        return obj->first_child;
    while (obj != top) {
        if (obj->sibling)
            return obj->sibling;
        obj = obj->parent;
    }
    return NULL;
}


size_t
xsnapSnapshotObjForEachDescendant(xsnapSnapshotObj *obj,
                                  xsnapSnapshotObjIter iter,
                                  void *opaque)
{
    xsnapSnapshotObj *walk;
    size_t n = 0;

    for (walk = xsnapSnapshotObjNextPreOrder(obj, obj); walk;
         walk = xsnapSnapshotObjNextPreOrder(walk, obj)) {
        iter(walk, opaque);
        n++;
    }
    return n;
}


size_t
xsnapSnapshotObjListForEach(xsnapSnapshotObjList *list,
                            xsnapSnapshotObjIter iter,
                            void *opaque)
{
    return xsnapSnapshotObjForEachDescendant(&list->root, iter, opaque);
}


typedef struct _xsnapSnapshotFilter xsnapSnapshotFilter;
struct _xsnapSnapshotFilter {
    bool leaves;
    bool noLeaves;
    unsigned int status;     /* 0: no status filter */
    unsigned int location;   /* 0: no location filter */
};


static bool
xsnapSnapshotFilterMatch(const xsnapSnapshotFilter *filter,
                         const xsnapSnapshotObj *obj)
{
    xsnapSnapshotState state = obj->def->state;

    if (filter->leaves && obj->nchildren)
        return false;
    if (filter->noLeaves && !obj->nchildren)
        return false;

    if (filter->status) {
        if (!(filter->status & VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE) &&
            state == XSNAP_SNAPSHOT_STATE_SHUTOFF)
            return false;
        if (!(filter->status & VIR_DOMAIN_SNAPSHOT_LIST_DISK_ONLY) &&
            state == XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT)
            return false;
        if (!(filter->status & VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE) &&
            state != XSNAP_SNAPSHOT_STATE_SHUTOFF &&
            state != XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT)
            return false;
    }

    if (filter->location == VIR_DOMAIN_SNAPSHOT_LIST_INTERNAL &&
        xsnapSnapshotObjIsExternal(obj))
        return false;
    if (filter->location == VIR_DOMAIN_SNAPSHOT_LIST_EXTERNAL &&
        !xsnapSnapshotObjIsExternal(obj))
        return false;
    return true;
}


int
xsnapSnapshotObjListListAll(xsnapSnapshotObjList *list,
                            xsnapSnapshotObj *from,
                            xsnapSnapshotObj ***objs,
                            unsigned int flags)
{
    xsnapSnapshotFilter filter = { 0 };
    g_autoptr(GPtrArray) found = NULL;
    xsnapSnapshotObj *walk;
    bool descendants;
    int count = 0;

    if (objs)
        *objs = NULL;
    if (flags & ~XSNAP_SNAPSHOT_LIST_FLAGS_ALL) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("unsupported flags (0x%1$x) for listing snapshots"),
                         flags & ~XSNAP_SNAPSHOT_LIST_FLAGS_ALL);
        return -1;
    }

    /* ROOTS and DESCENDANTS share one bit: without @from it asks for
     * the root's children only, with @from for all descendants. */
    if (from) {
        descendants = flags & VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS;
    } else {
        descendants = !(flags & VIR_DOMAIN_SNAPSHOT_LIST_ROOTS);
        from = &list->root;
    }

    if (objs)
        found = g_ptr_array_new();

    /* Every snapshot here has metadata. */
    if ((flags & XSNAP_SNAPSHOT_FILTERS_METADATA) !=
        VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA) {
        filter.leaves = flags & VIR_DOMAIN_SNAPSHOT_LIST_LEAVES;
        filter.noLeaves = flags & VIR_DOMAIN_SNAPSHOT_LIST_NO_LEAVES;
        filter.status = flags & XSNAP_SNAPSHOT_FILTERS_STATUS;
        if (filter.status == XSNAP_SNAPSHOT_FILTERS_STATUS)
            filter.status = 0;
        filter.location = flags & XSNAP_SNAPSHOT_FILTERS_LOCATION;
        if (filter.location == XSNAP_SNAPSHOT_FILTERS_LOCATION)
            filter.location = 0;

        if (descendants)
            walk = xsnapSnapshotObjNextPreOrder(from, from);
        else
            walk = from->first_child;
        while (walk) {
            if (xsnapSnapshotFilterMatch(&filter, walk)) {
                if (count == G_MAXINT) {
                    xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                                     _("too many snapshots to list"));
                    return -1;
                }
                count++;
                if (found)
                    g_ptr_array_add(found, walk);
            }
            if (descendants)
                walk = xsnapSnapshotObjNextPreOrder(walk, from);
            else
                walk = walk->sibling;
        }
    }

    if (objs) {
        g_ptr_array_add(found, NULL);
        *objs = (xsnapSnapshotObj **)g_ptr_array_free(g_steal_pointer(&found), FALSE);
    }
    return count;
}


int
xsnapSnapshotObjListNum(xsnapSnapshotObjList *list,
                        xsnapSnapshotObj *from,
                        unsigned int flags)
{
    return xsnapSnapshotObjListListAll(list, from, NULL, flags);
}


int
xsnapSnapshotObjListGetNames(xsnapSnapshotObjList *list,
                             xsnapSnapshotObj *from,
                             char ***names,
                             unsigned int flags)
{
    g_autofree xsnapSnapshotObj **objs = NULL;
    int count;
    int i;

    *names = NULL;
    if ((count = xsnapSnapshotObjListListAll(list, from, &objs, flags)) < 0)
        return -1;
    *names = g_new0(char *, count + 1);
    for (i = 0; i < count; i++)
        (*names)[i] = g_strdup(objs[i]->def->name);
    return count;
}
