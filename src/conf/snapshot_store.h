/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_store.h: the on-disk snapshot metadata store
 *
 * One file per snapshot, <libDir>/snapshot/<domain>/<snapshot>.xml, in
 * the layout libvirt's own drivers use: each file is the snapshot
 * formatted with the internal and secure flags, and <active>1</active>
 * marks the current snapshot.
 *
 * Writes are atomic: the new contents go to a temporary file in the
 * same directory (named ".<snapshot>.xml.XXXXXX", which no snapshot
 * file can be since snapshot names never start with '.'), which is
 * synced and renamed over the target, and then the directory is
 * synced. A file is only ever replaced when it belongs to a snapshot
 * of the tree, that is, when it was loaded or written by this code; a
 * new snapshot never overwrites an existing file.
 *
 * Loading policy. Loading only reads, and each file stands alone, so
 * it goes on past a bad file. Nothing doubtful is trusted and nothing
 * is dropped silently: every doubtful entry is returned as a problem,
 * and left on disk untouched.
 *   - a leftover temporary file (a write interrupted before its
 *     rename) is reported and never read: the file it was meant to
 *     replace, if any, is still whole and is loaded;
 *   - a file that cannot be read, is not a regular file, does not
 *     parse (for example, truncated) or holds a snapshot whose name is
 *     not its file name is reported and left out of the tree;
 *   - a snapshot whose parent is missing, or which is part of a
 *     parent cycle, is reported and, as libvirt does, attached as a
 *     root; this also clears the current snapshot;
 *   - two files claiming to be current are reported, and neither is
 *     made current (libvirt would pick whichever it read last);
 *   - the journal of an operation that never ended (snapshot_journal.h)
 *     is reported with the command that cleans up after it; the
 *     snapshot files themselves are consistent and load as usual.
 * A caller holding problems should treat that domain's metadata as
 * read-only until they are resolved: changing it could, for example,
 * reuse the name of a file it could not read.
 */
#pragma once

#include "internal.h"
#include "snapshot_conf.h"
#include "snapshot_objlist.h"

typedef struct _xsnapSnapshotStore xsnapSnapshotStore;

/* The default memory image of snapshot <name> is <name>.save in the
 * domain's directory; loading skips such files. */
#define XSNAP_SNAPSHOT_STORE_MEMORY_SUFFIX ".save"

typedef enum {
    XSNAP_SNAPSHOT_STORE_PROBLEM_TEMP,           /* leftover temporary file */
    XSNAP_SNAPSHOT_STORE_PROBLEM_STRAY,          /* entry not named <name>.xml */
    XSNAP_SNAPSHOT_STORE_PROBLEM_UNREADABLE,     /* not a readable regular file */
    XSNAP_SNAPSHOT_STORE_PROBLEM_CORRUPT,        /* does not parse */
    XSNAP_SNAPSHOT_STORE_PROBLEM_MISNAMED,       /* name inside differs */
    XSNAP_SNAPSHOT_STORE_PROBLEM_ORPHAN,         /* parent missing */
    XSNAP_SNAPSHOT_STORE_PROBLEM_CYCLE,          /* its own ancestor */
    XSNAP_SNAPSHOT_STORE_PROBLEM_DOUBLE_CURRENT, /* more than one current */
    XSNAP_SNAPSHOT_STORE_PROBLEM_INTERRUPTED,    /* an operation's journal */
    XSNAP_SNAPSHOT_STORE_PROBLEM_LAST
} xsnapSnapshotStoreProblemType;
XSNAP_ENUM_DECL(xsnapSnapshotStoreProblem);

typedef struct _xsnapSnapshotStoreProblem xsnapSnapshotStoreProblem;
struct _xsnapSnapshotStoreProblem {
    xsnapSnapshotStoreProblemType type;
    char *path;       /* the file or directory entry concerned */
    char *message;    /* one translated sentence, naming @path */
};
void xsnapSnapshotStoreProblemFree(xsnapSnapshotStoreProblem *problem);

/* How Defs become files and back; by default the libvirt XML of
 * snapshot_conf.h. Tests may replace them. */
typedef xsnapSnapshotDef *(*xsnapSnapshotStoreParseFunc)(const char *xml,
                                                         bool *current,
                                                         unsigned int parseFlags);
typedef char *(*xsnapSnapshotStoreFormatFunc)(const xsnapSnapshotDef *def,
                                              unsigned int formatFlags);

/* A store rooted at @libDir, or at XSNAP_DEFAULT_LIBDIR when NULL. */
xsnapSnapshotStore *xsnapSnapshotStoreNew(const char *libDir);
void xsnapSnapshotStoreFree(xsnapSnapshotStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapSnapshotStore, xsnapSnapshotStoreFree);

void xsnapSnapshotStoreSetCodec(xsnapSnapshotStore *store,
                                xsnapSnapshotStoreParseFunc parse,
                                xsnapSnapshotStoreFormatFunc format);

const char *xsnapSnapshotStoreGetLibDir(const xsnapSnapshotStore *store);
/* <libDir>/snapshot/<domain>, or NULL (VIR_ERR_INVALID_ARG) for a
 * domain name that cannot be a directory name. Caller frees. */
char *xsnapSnapshotStoreDomainDir(const xsnapSnapshotStore *store,
                                  const char *domain);

/*
 * Locks the snapshot directory of @domain against other processes, with
 * flock(2) on the directory itself: shared for a reader that needs the
 * snapshots and their images unchanged while it works (virt-xen-snapshot
 * clone), exclusive for an operation that changes them (each journaled
 * operation holds it: see snapshot_journal.h). Waits up to @waitMs for
 * a conflicting holder.
 * Returns the locked descriptor (the lock goes with
 * xsnapSnapshotStoreUnlockDomain), XSNAP_SNAPSHOT_STORE_LOCK_BUSY when
 * the wait ran out (no error reported: the caller says who waits for
 * what), or -1 with an error reported.
 */
#define XSNAP_SNAPSHOT_STORE_LOCK_BUSY (-2)
int xsnapSnapshotStoreLockDomain(const xsnapSnapshotStore *store,
                                 const char *domain, bool exclusive,
                                 unsigned int waitMs);
/* Drops a lock of xsnapSnapshotStoreLockDomain; accepts a negative fd. */
void xsnapSnapshotStoreUnlockDomain(int fd);

/*
 * Reads every file of @domain into a new tree (*@list, caller frees),
 * following the loading policy above. *@problems is set to a new array
 * of xsnapSnapshotStoreProblem (caller unrefs; it frees its elements),
 * empty when all is well. A domain without a directory has an empty
 * tree. Returns 0, or -1 with an error reported if the directory
 * itself cannot be read (then nothing is returned).
 */
int xsnapSnapshotStoreLoad(xsnapSnapshotStore *store,
                           const char *domain,
                           xsnapSnapshotObjList **list,
                           GPtrArray **problems);

/*
 * Writes @obj's file atomically, marked current when @obj is @list's
 * current snapshot. With @replace false the file must not exist yet
 * (a new snapshot); with @replace true it replaces the file of a
 * snapshot already in the tree. Returns 0 or -1.
 */
int xsnapSnapshotStoreSave(xsnapSnapshotStore *store,
                           const char *domain,
                           xsnapSnapshotObjList *list,
                           xsnapSnapshotObj *obj,
                           bool replace);

/*
 * Makes @obj (or nothing, when NULL) the current snapshot, on disk and
 * in @list: the old current file is rewritten without the mark first,
 * then the new one with it, so a crash in between leaves no current
 * snapshot rather than two. Returns 0 or -1.
 */
int xsnapSnapshotStoreSetCurrent(xsnapSnapshotStore *store,
                                 const char *domain,
                                 xsnapSnapshotObjList *list,
                                 xsnapSnapshotObj *obj);

/*
 * Deletes snapshot metadata as virDomainSnapshotDelete does:
 *   0: @obj only; its children move to its parent (their files are
 *      rewritten first), and if it was current its parent becomes
 *      current;
 *   VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN: @obj and all descendants;
 *   VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY: the descendants only;
 *      if the current one goes, @obj becomes current.
 * Files go children first, so a crash part-way leaves a consistent
 * tree. @obj is invalid afterwards unless CHILDREN_ONLY. Returns 0 or
 * -1 (the tree then still matches the files).
 */
int xsnapSnapshotStoreDelete(xsnapSnapshotStore *store,
                             const char *domain,
                             xsnapSnapshotObjList *list,
                             xsnapSnapshotObj *obj,
                             unsigned int flags);

/*
 * Deletes every snapshot file of @list, then the domain's directory.
 * Files this store did not create (problems found at load) stay, and
 * then the directory stays too and -1 is returned naming it. On
 * success @list is empty.
 */
int xsnapSnapshotStoreDeleteAll(xsnapSnapshotStore *store,
                                const char *domain,
                                xsnapSnapshotObjList *list);

/*
 * Moves the metadata of domain @oldName to @newName with one rename
 * of its directory. Refuses (VIR_ERR_OPERATION_INVALID) if @newName
 * already has a directory. Nothing to move is not an error. The
 * <domain> copies inside the files are not rewritten.
 */
int xsnapSnapshotStoreRenameDomain(xsnapSnapshotStore *store,
                                   const char *oldName,
                                   const char *newName);
