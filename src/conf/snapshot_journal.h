/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_journal.h: the record of a snapshot operation in progress
 *
 * Before a create, revert or delete changes anything, it writes what it
 * is about to do to <libDir>/snapshot/<domain>/.<operation>.journal: the
 * snapshot, the domain's state, and per disk the image the persistent
 * config used, the files the operation creates or removes and the
 * internal snapshot it takes or deletes. It records its progress at key
 * steps and removes the journal when it ends, whether it succeeded or
 * rolled back. A journal found later therefore means the process died
 * part-way: the store reports it at load, and `virt-xen-snapshot
 * cleanup` reads it to remove exactly what the operation left behind.
 *
 * From its first write until it is freed, the journal holds an exclusive
 * flock() on the domain's store directory, which the kernel drops when
 * the process dies: a journal whose directory is locked belongs to an
 * operation still running, not to an interrupted one. An operation that
 * cannot take it at once fails: virt-xen-snapshot clone holds the
 * directory shared (xsnapSnapshotStoreLockDomain) while it makes clones
 * on a snapshot's images, so that no create, revert or delete changes
 * them meanwhile.
 *
 * The file is a GKeyFile, written atomically (a synced temporary file
 * renamed over it, then the directory synced), so a reader sees either
 * the previous version or the new one:
 *
 *   [operation]
 *   operation=create|revert|delete
 *   snapshot=NAME
 *   domain=NAME            uuid=UUID
 *   state=running|paused|shutoff     the domain before the operation
 *   step=begun|disks-done|config-done
 *   memory=FILE            create: the image it writes; delete: the one it removes
 *   memory-created=true    create: the image is ours (never set for delete)
 *   [disk TARGET]
 *   source=FILE            the image the persistent config used before
 *   format=FMT             its format
 *   internal=NAME          the internal snapshot taken (create) or deleted (delete)
 *   overlay=FILE           create/revert: the overlay made; delete: the one merged
 *   overlay-created=true   the overlay file is ours (not reused)
 *   overlay-node=NODE      create, running domain: the device model's node of
 *                          the overlay, opened before the guest was stopped
 *   base=FILE              delete: the image the overlay is merged into
 *   base-format=FMT
 *   merged=true            delete: the overlay was merged (it is stale from then on)
 */
#pragma once

#include "internal.h"
#include "snapshot_store.h"

typedef struct _xsnapSnapshotJournal xsnapSnapshotJournal;
struct _xsnapSnapshotJournal {
    char *path;       /* the journal file */
    GKeyFile *data;   /* its contents; see the layout above */
    int lockFd;       /* the domain's directory, locked while the operation runs */
};

#define XSNAP_SNAPSHOT_JOURNAL_SUFFIX ".journal"
#define XSNAP_SNAPSHOT_JOURNAL_GROUP "operation"
#define XSNAP_SNAPSHOT_JOURNAL_DISK_PREFIX "disk "

/*
 * A new journal, in memory only, for @operation ("create", "revert",
 * "delete") on snapshot @snapshot of @domain. Returns NULL with an error
 * reported when @domain cannot name a store directory.
 */
xsnapSnapshotJournal *xsnapSnapshotJournalNew(xsnapSnapshotStore *store,
                                              const char *domain,
                                              const char *operation,
                                              const char *snapshot);
void xsnapSnapshotJournalFree(xsnapSnapshotJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapSnapshotJournal, xsnapSnapshotJournalFree);

/* Sets @key of disk @target (of the operation itself when @target is
 * NULL) to @value; a NULL @value removes the key. */
void xsnapSnapshotJournalSet(xsnapSnapshotJournal *journal, const char *target,
                             const char *key, const char *value);
/* The value of @key (see Set), or NULL. Caller frees. */
char *xsnapSnapshotJournalGet(xsnapSnapshotJournal *journal, const char *target,
                              const char *key);
/* The disk targets the journal names, in file order (caller frees). */
GStrv xsnapSnapshotJournalTargets(xsnapSnapshotJournal *journal);

/*
 * Writes the journal atomically and durably, creating the domain's
 * store directory if needed; the first write also locks that directory
 * (VIR_ERR_OPERATION_INVALID if another process holds it). Returns 0
 * or -1.
 */
int xsnapSnapshotJournalWrite(xsnapSnapshotJournal *journal);

/* Sets the operation's step and writes the journal. Returns 0 or -1. */
int xsnapSnapshotJournalStep(xsnapSnapshotJournal *journal, const char *step);

/* Removes the journal file durably; one already gone is fine. Returns 0 or -1. */
int xsnapSnapshotJournalRemove(xsnapSnapshotJournal *journal);

/*
 * Locks @domain's store directory as a running operation does, so that
 * nothing else starts meanwhile. Returns 1 and sets *@fd (the caller
 * closes it to unlock) when locked, 0 when a running process holds the
 * lock, or -1 with an error reported (also when there is no directory).
 */
int xsnapSnapshotJournalLockDomain(xsnapSnapshotStore *store, const char *domain,
                                   int *fd);

/* Reads the journal file @path. Returns NULL with an error reported. */
xsnapSnapshotJournal *xsnapSnapshotJournalLoad(const char *path);

/*
 * Reads a journal from the @len bytes at @data, as Load does the
 * contents of the file @path (which only names it in messages and in the
 * result). Returns a new journal, not locked, or NULL with an error
 * reported.
 */
xsnapSnapshotJournal *xsnapSnapshotJournalParse(const char *path, const char *data,
                                                size_t len);

/* True if @name (an entry of a store directory) is a journal file. */
bool xsnapSnapshotJournalIsName(const char *name);

/*
 * The journals of @domain, sorted, as paths (caller unrefs); empty when
 * there are none or the domain has no directory. NULL with an error
 * reported when the directory cannot be read.
 */
GPtrArray *xsnapSnapshotJournalList(xsnapSnapshotStore *store, const char *domain);
