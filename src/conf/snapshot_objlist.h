/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_objlist.h: the per-domain snapshot tree
 *
 * An Obj wraps one snapshot Def and links it to its parent, its
 * children and its siblings. An ObjList owns every Obj of one domain,
 * indexes them by name, remembers the current snapshot and keeps a
 * hidden root whose children are the domain's root snapshots. The
 * listing functions follow libvirt 9.0.0's virDomainListAllSnapshots()
 * and virDomainSnapshotListAllChildren(), flag for flag.
 *
 * Nothing here locks: the caller serialises access to one list.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "internal.h"
#include "snapshot_conf.h"

typedef struct _xsnapSnapshotObj xsnapSnapshotObj;
struct _xsnapSnapshotObj {
    xsnapSnapshotDef *def;          /* owned; NULL only for the hidden root */
    xsnapSnapshotObj *parent;       /* the hidden root for a root snapshot */
    xsnapSnapshotObj *first_child;  /* newest linked child first */
    xsnapSnapshotObj *sibling;      /* next child of the same parent */
    xsnapSnapshotObj *prev_sibling; /* previous child of the same parent */
    size_t nchildren;
};

typedef struct _xsnapSnapshotObjList xsnapSnapshotObjList;

/* The groups of virDomainSnapshotListFlags; a group with none of its
 * flags set does not filter. */
#define XSNAP_SNAPSHOT_FILTERS_METADATA \
    (VIR_DOMAIN_SNAPSHOT_LIST_METADATA | VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA)
#define XSNAP_SNAPSHOT_FILTERS_LEAVES \
    (VIR_DOMAIN_SNAPSHOT_LIST_LEAVES | VIR_DOMAIN_SNAPSHOT_LIST_NO_LEAVES)
#define XSNAP_SNAPSHOT_FILTERS_STATUS \
    (VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE | VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE | \
     VIR_DOMAIN_SNAPSHOT_LIST_DISK_ONLY)
#define XSNAP_SNAPSHOT_FILTERS_LOCATION \
    (VIR_DOMAIN_SNAPSHOT_LIST_INTERNAL | VIR_DOMAIN_SNAPSHOT_LIST_EXTERNAL)
#define XSNAP_SNAPSHOT_FILTERS_ALL \
    (XSNAP_SNAPSHOT_FILTERS_METADATA | XSNAP_SNAPSHOT_FILTERS_LEAVES | \
     XSNAP_SNAPSHOT_FILTERS_STATUS | XSNAP_SNAPSHOT_FILTERS_LOCATION)
/* Every flag virDomainListAllSnapshots() and ListAllChildren() accept. */
#define XSNAP_SNAPSHOT_LIST_FLAGS_ALL \
    (VIR_DOMAIN_SNAPSHOT_LIST_ROOTS | VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL | \
     XSNAP_SNAPSHOT_FILTERS_ALL)

/* A new empty list; never NULL. */
xsnapSnapshotObjList *xsnapSnapshotObjListNew(void);
/* Frees the list, every Obj and every Def in it. Accepts NULL. */
void xsnapSnapshotObjListFree(xsnapSnapshotObjList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapSnapshotObjList, xsnapSnapshotObjListFree);

/* True if @def keeps memory or any disk outside the domain's images. */
bool xsnapSnapshotObjIsExternal(const xsnapSnapshotObj *obj);

/*
 * Adds @def to the index without linking it into the tree; the list
 * takes ownership and *@def becomes NULL. For loading many Defs, after
 * which xsnapSnapshotObjListUpdateRelations() links them all.
 * Returns the new Obj, or NULL (VIR_ERR_OPERATION_FAILED) if the name
 * is taken, in which case *@def is left to the caller.
 */
xsnapSnapshotObj *xsnapSnapshotObjListAssignDef(xsnapSnapshotObjList *list,
                                                xsnapSnapshotDef **def);

/* Why xsnapSnapshotObjListUpdateRelations() made @obj a root. */
typedef enum {
    XSNAP_SNAPSHOT_RELATION_ORPHAN,  /* its parent does not exist */
    XSNAP_SNAPSHOT_RELATION_CYCLE,   /* it is its own ancestor */
} xsnapSnapshotRelationProblem;
typedef void (*xsnapSnapshotRelationFunc)(xsnapSnapshotObj *obj,
                                          xsnapSnapshotRelationProblem problem,
                                          void *opaque);

/*
 * Rebuilds every parent/child link from the Defs' parent names, in
 * linear time. Children are linked in (creationTime, name) order, so
 * the newest comes first, as after creating them one by one.
 * A snapshot whose parent is missing, and one snapshot of each cycle,
 * become roots; each is passed to @report (may be NULL). As libvirt
 * does, any such problem also clears the current snapshot.
 * Returns 0, or -1 if any problem was found (nothing is reported to
 * the error model: @report decides).
 */
int xsnapSnapshotObjListUpdateRelations(xsnapSnapshotObjList *list,
                                        xsnapSnapshotRelationFunc report,
                                        void *opaque);

/*
 * Adds a new snapshot (not a redefinition) and links it under its
 * parent. The name must be free (VIR_ERR_OPERATION_FAILED) and a
 * parent, if named, must exist (VIR_ERR_INVALID_ARG). Takes ownership
 * of *@def on success only. The current snapshot is not changed.
 */
xsnapSnapshotObj *xsnapSnapshotObjListAdd(xsnapSnapshotObjList *list,
                                          xsnapSnapshotDef **def);

/*
 * Checks that @def may be redefined into @list, as libvirt's
 * virDomainSnapshotRedefinePrep() does: the parent must exist and must
 * not be @def itself or one of its descendants (VIR_ERR_INVALID_ARG);
 * an existing snapshot of that name cannot change between online and
 * offline, nor between disk-only and full system; with
 * VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY the state must be disk-snapshot.
 * Sets *@other to the existing snapshot of that name, or NULL.
 * Returns 0 or -1.
 */
int xsnapSnapshotObjListRedefinePrep(xsnapSnapshotObjList *list,
                                     const xsnapSnapshotDef *def,
                                     xsnapSnapshotObj **other,
                                     unsigned int flags);

/*
 * Redefines a snapshot (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE): runs
 * RedefinePrep, then either replaces the existing Def in place, so its
 * children stay, and moves it under its new parent, or adds a new one.
 * A replacement without <domain> keeps the old one's. With
 * VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT it becomes the current snapshot;
 * otherwise current is untouched. Accepts CREATE_REDEFINE, CURRENT and
 * DISK_ONLY. Takes ownership of *@def on success only.
 */
xsnapSnapshotObj *xsnapSnapshotObjListRedefine(xsnapSnapshotObjList *list,
                                               xsnapSnapshotDef **def,
                                               unsigned int flags);

/*
 * Removes and frees @obj. Its children move to its parent, with their
 * parent_name rewritten; if it was current, its parent (or none)
 * becomes current, as libvirt's delete without children flags does.
 * Returns true if @obj was the current snapshot.
 */
bool xsnapSnapshotObjListRemove(xsnapSnapshotObjList *list,
                                xsnapSnapshotObj *obj);
/* Removes and frees every snapshot; no current remains. */
void xsnapSnapshotObjListRemoveAll(xsnapSnapshotObjList *list);

/* The snapshot named @name, or NULL; reports nothing. */
xsnapSnapshotObj *xsnapSnapshotObjListFindByName(xsnapSnapshotObjList *list,
                                                 const char *name);
/* The same, but reports VIR_ERR_NO_DOMAIN_SNAPSHOT when there is none. */
xsnapSnapshotObj *xsnapSnapshotObjListLookup(xsnapSnapshotObjList *list,
                                             const char *name);
/* How many snapshots the list holds. */
size_t xsnapSnapshotObjListCount(const xsnapSnapshotObjList *list);

/* The parent Obj of @obj, or NULL for a root. */
xsnapSnapshotObj *xsnapSnapshotObjGetParent(const xsnapSnapshotObj *obj);

/* The current snapshot, or NULL. */
xsnapSnapshotObj *xsnapSnapshotObjListGetCurrent(xsnapSnapshotObjList *list);
const char *xsnapSnapshotObjListGetCurrentName(xsnapSnapshotObjList *list);
/* Makes @obj (which must belong to @list) current; NULL clears it. */
void xsnapSnapshotObjListSetCurrent(xsnapSnapshotObjList *list,
                                    xsnapSnapshotObj *obj);

/*
 * The heart of ListAllSnapshots / ListAllChildren / Num / NumChildren /
 * ListNames. With @from NULL, lists the whole domain (or only roots
 * with VIR_DOMAIN_SNAPSHOT_LIST_ROOTS); with @from, its children (or
 * every descendant with VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS). Then
 * filters on LEAVES/NO_LEAVES (each applied on its own, so both
 * together match nothing, as in libvirt 9.0.0), METADATA/NO_METADATA
 * (every snapshot here has metadata: NO_METADATA alone matches
 * nothing), INACTIVE/ACTIVE/DISK_ONLY and INTERNAL/EXTERNAL (a group
 * with all or none of its flags set does not filter). The order is
 * always parents before children (depth first, pre-order), which
 * satisfies VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL.
 * Unknown flags: VIR_ERR_INVALID_ARG. Runs in time linear in the
 * number of snapshots visited.
 * If @objs is not NULL, sets it to a NULL-terminated array the caller
 * frees with g_free (the Objs stay owned by @list).
 * Returns the number of matches, or -1.
 */
int xsnapSnapshotObjListListAll(xsnapSnapshotObjList *list,
                                xsnapSnapshotObj *from,
                                xsnapSnapshotObj ***objs,
                                unsigned int flags);
/* The same count, without building the array. */
int xsnapSnapshotObjListNum(xsnapSnapshotObjList *list,
                            xsnapSnapshotObj *from,
                            unsigned int flags);
/* The same, as a NULL-terminated array of names the caller frees
 * with g_strfreev. */
int xsnapSnapshotObjListGetNames(xsnapSnapshotObjList *list,
                                 xsnapSnapshotObj *from,
                                 char ***names,
                                 unsigned int flags);

/* Walks @obj's descendants depth first, parents before children,
 * without recursion. @iter may not change the tree. */
typedef void (*xsnapSnapshotObjIter)(xsnapSnapshotObj *obj, void *opaque);
size_t xsnapSnapshotObjForEachDescendant(xsnapSnapshotObj *obj,
                                         xsnapSnapshotObjIter iter,
                                         void *opaque);
/* Every snapshot of @list, parents before children. */
size_t xsnapSnapshotObjListForEach(xsnapSnapshotObjList *list,
                                   xsnapSnapshotObjIter iter,
                                   void *opaque);
