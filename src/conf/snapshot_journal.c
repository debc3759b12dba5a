/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_journal.c: the record of a snapshot operation in progress
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "snapshot_journal.h"
#include "util_error.h"
#include "util_file.h"


xsnapSnapshotJournal *
xsnapSnapshotJournalNew(xsnapSnapshotStore *store, const char *domain,
                        const char *operation, const char *snapshot)
{
    g_autofree char *dir = xsnapSnapshotStoreDomainDir(store, domain);
    g_autofree char *base = NULL;
    xsnapSnapshotJournal *journal;

    if (!dir)
        return NULL;
    base = g_strdup_printf(".%s%s", operation, XSNAP_SNAPSHOT_JOURNAL_SUFFIX);
    journal = g_new0(xsnapSnapshotJournal, 1);
    journal->lockFd = -1;
    journal->path = g_build_filename(dir, base, NULL);
    journal->data = g_key_file_new();
    xsnapSnapshotJournalSet(journal, NULL, "operation", operation);
    xsnapSnapshotJournalSet(journal, NULL, "snapshot", snapshot);
    xsnapSnapshotJournalSet(journal, NULL, "domain", domain);
    xsnapSnapshotJournalSet(journal, NULL, "step", "begun");
    return journal;
}


void
xsnapSnapshotJournalFree(xsnapSnapshotJournal *journal)
{
    if (!journal)
        return;
    g_free(journal->path);
    if (journal->data)
        g_key_file_free(journal->data);
    if (journal->lockFd >= 0)
        close(journal->lockFd);
    g_free(journal);
}


static char *
xsnapSnapshotJournalGroup(const char *target)
{
    if (!target)
        return g_strdup(XSNAP_SNAPSHOT_JOURNAL_GROUP);
    return g_strdup_printf("%s%s", XSNAP_SNAPSHOT_JOURNAL_DISK_PREFIX, target);
}


void
xsnapSnapshotJournalSet(xsnapSnapshotJournal *journal, const char *target,
                        const char *key, const char *value)
{
    g_autofree char *group = xsnapSnapshotJournalGroup(target);

    if (value)
        g_key_file_set_string(journal->data, group, key, value);
    else
        g_key_file_remove_key(journal->data, group, key, NULL);
}


char *
xsnapSnapshotJournalGet(xsnapSnapshotJournal *journal, const char *target,
                        const char *key)
{
    g_autofree char *group = xsnapSnapshotJournalGroup(target);

    return g_key_file_get_string(journal->data, group, key, NULL);
}


GStrv
xsnapSnapshotJournalTargets(xsnapSnapshotJournal *journal)
{
    g_auto(GStrv) groups = g_key_file_get_groups(journal->data, NULL);
    g_autoptr(GPtrArray) targets = g_ptr_array_new();
    size_t plen = strlen(XSNAP_SNAPSHOT_JOURNAL_DISK_PREFIX);

    for (size_t i = 0; groups && groups[i]; i++) {
        if (g_str_has_prefix(groups[i], XSNAP_SNAPSHOT_JOURNAL_DISK_PREFIX) &&
            groups[i][plen])
            g_ptr_array_add(targets, g_strdup(groups[i] + plen));
    }
    g_ptr_array_add(targets, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&targets), FALSE);
}


/* Opens @dir and takes its exclusive lock without waiting. Returns 1
 * with *@fd set, 0 when another process holds it, -1 with an error. */
static int
xsnapSnapshotJournalLockDir(const char *dir, int *fd)
{
    int lfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (lfd < 0) {
        xsnapReportSystemError(errno, _("cannot open directory '%1$s'"), dir);
        return -1;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;

        close(lfd);
        if (err == EWOULDBLOCK)
            return 0;
        xsnapReportSystemError(err, _("cannot lock directory '%1$s'"), dir);
        return -1;
    }
    *fd = lfd;
    return 1;
}


int
xsnapSnapshotJournalWrite(xsnapSnapshotJournal *journal)
{
    g_autofree char *dir = g_path_get_dirname(journal->path);
    g_autofree char *pattern = g_strdup_printf("%s.XXXXXX", journal->path);
    g_autofree char *tmp = NULL;
    g_autofree char *text = NULL;
    gsize len = 0;

    if (xsnapFileMakeDurableDir(dir) < 0)
        return -1;
    if (journal->lockFd < 0) {
        int rc = xsnapSnapshotJournalLockDir(dir, &journal->lockFd);

        if (rc < 0)
            return -1;
        if (rc == 0) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("another process is working on the snapshots in '%1$s' (virt-xen-snapshot clone or cleanup?); try again once it ends"),
                             dir);
            return -1;
        }
    }
    text = g_key_file_to_data(journal->data, &len, NULL);
    if (!(tmp = xsnapFileWriteTemp(pattern, text, len)))
        return -1;
    if (rename(tmp, journal->path) < 0) {
        int err = errno;
        unlink(tmp);
        xsnapReportSystemError(err, _("cannot write operation journal '%1$s'"),
                               journal->path);
        return -1;
    }
    return xsnapFileSyncDir(dir);
}


int
xsnapSnapshotJournalStep(xsnapSnapshotJournal *journal, const char *step)
{
    xsnapSnapshotJournalSet(journal, NULL, "step", step);
    return xsnapSnapshotJournalWrite(journal);
}


int
xsnapSnapshotJournalRemove(xsnapSnapshotJournal *journal)
{
    g_autofree char *dir = g_path_get_dirname(journal->path);

    if (unlink(journal->path) < 0 && errno != ENOENT) {
        xsnapReportSystemError(errno, _("cannot remove operation journal '%1$s'"),
                               journal->path);
        return -1;
    }
    return xsnapFileSyncDir(dir);
}


int
xsnapSnapshotJournalLockDomain(xsnapSnapshotStore *store, const char *domain,
                               int *fd)
{
    g_autofree char *dir = xsnapSnapshotStoreDomainDir(store, domain);

    if (!dir)
        return -1;
    return xsnapSnapshotJournalLockDir(dir, fd);
}


xsnapSnapshotJournal *
xsnapSnapshotJournalParse(const char *path, const char *data, size_t len)
{
    g_autoptr(xsnapSnapshotJournal) journal = g_new0(xsnapSnapshotJournal, 1);
    g_autoptr(GError) gerr = NULL;
    g_autofree char *op = NULL;

    journal->lockFd = -1;
    journal->path = g_strdup(path);
    journal->data = g_key_file_new();
    if (!g_key_file_load_from_data(journal->data, data, len, G_KEY_FILE_NONE, &gerr)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot read operation journal '%1$s': %2$s"),
                         path, gerr->message);
        return NULL;
    }
    op = xsnapSnapshotJournalGet(journal, NULL, "operation");
    if (!op || (!g_str_equal(op, "create") && !g_str_equal(op, "revert") &&
                !g_str_equal(op, "delete"))) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("operation journal '%1$s' names no known operation"),
                         path);
        return NULL;
    }
    return g_steal_pointer(&journal);
}


xsnapSnapshotJournal *
xsnapSnapshotJournalLoad(const char *path)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot read operation journal '%1$s': %2$s"),
                         path, gerr->message);
        return NULL;
    }
    return xsnapSnapshotJournalParse(path, data, len);
}


bool
xsnapSnapshotJournalIsName(const char *name)
{
    return name[0] == '.' && g_str_has_suffix(name, XSNAP_SNAPSHOT_JOURNAL_SUFFIX) &&
           strlen(name) > strlen(XSNAP_SNAPSHOT_JOURNAL_SUFFIX) + 1;
}


static int
xsnapSnapshotJournalCompare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}


GPtrArray *
xsnapSnapshotJournalList(xsnapSnapshotStore *store, const char *domain)
{
    g_autofree char *dir = xsnapSnapshotStoreDomainDir(store, domain);
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) gdir = NULL;
    g_autoptr(GError) gerr = NULL;
    const char *entry;

    if (!dir)
        return NULL;
    if (!(gdir = g_dir_open(dir, 0, &gerr))) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&paths);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot read snapshot directory '%1$s': %2$s"),
                         dir, gerr->message);
        return NULL;
    }
    while ((entry = g_dir_read_name(gdir))) {
        if (xsnapSnapshotJournalIsName(entry))
            g_ptr_array_add(paths, g_build_filename(dir, entry, NULL));
    }
    g_ptr_array_sort(paths, xsnapSnapshotJournalCompare);
    return g_steal_pointer(&paths);
}
