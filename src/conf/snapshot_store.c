/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_store.c: the on-disk snapshot metadata store
 */
/* For renameat2() and RENAME_NOREPLACE. */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_store.h"
#include "snapshot_journal.h"
#include "util_error.h"
#include "util_file.h"

/* libvirt's drivers refuse snapshot files larger than this. */
#define XSNAP_SNAPSHOT_FILE_MAX (1024 * 1024)

XSNAP_ENUM_IMPL(xsnapSnapshotStoreProblem, XSNAP_SNAPSHOT_STORE_PROBLEM_LAST,
                "temp", "stray", "unreadable", "corrupt", "misnamed",
                "orphan", "cycle", "double-current", "interrupted");

struct _xsnapSnapshotStore {
    char *libDir;
    xsnapSnapshotStoreParseFunc parse;
    xsnapSnapshotStoreFormatFunc format;
};


void
xsnapSnapshotStoreProblemFree(xsnapSnapshotStoreProblem *problem)
{
    if (!problem)
        return;
    g_free(problem->path);
    g_free(problem->message);
    g_free(problem);
}


static void
xsnapSnapshotStoreProblemFreeData(gpointer data)
{
    xsnapSnapshotStoreProblemFree(data);
}


static void
xsnapSnapshotStoreAddProblem(GPtrArray *problems,
                             xsnapSnapshotStoreProblemType type,
                             const char *path,
                             char *message)
{
    xsnapSnapshotStoreProblem *problem = g_new0(xsnapSnapshotStoreProblem, 1);

    problem->type = type;
    problem->path = g_strdup(path);
    problem->message = message;
    g_ptr_array_add(problems, problem);
}


xsnapSnapshotStore *
xsnapSnapshotStoreNew(const char *libDir)
{
    xsnapSnapshotStore *store = g_new0(xsnapSnapshotStore, 1);

    store->libDir = g_strdup(libDir ? libDir : XSNAP_DEFAULT_LIBDIR);
    store->parse = xsnapSnapshotDefParseString;
    store->format = xsnapSnapshotDefFormat;
    return store;
}


void
xsnapSnapshotStoreFree(xsnapSnapshotStore *store)
{
    if (!store)
        return;
    g_free(store->libDir);
    g_free(store);
}


void
xsnapSnapshotStoreSetCodec(xsnapSnapshotStore *store,
                           xsnapSnapshotStoreParseFunc parse,
                           xsnapSnapshotStoreFormatFunc format)
{
    store->parse = parse;
    store->format = format;
}


const char *
xsnapSnapshotStoreGetLibDir(const xsnapSnapshotStore *store)
{
    return store->libDir;
}


/* A name usable as one path component that we create or read. */
static bool
xsnapSnapshotStoreNameIsSafe(const char *name)
{
    return name && *name && name[0] != '.' && !strchr(name, '/');
}


char *
xsnapSnapshotStoreDomainDir(const xsnapSnapshotStore *store,
                            const char *domain)
{
    if (!xsnapSnapshotStoreNameIsSafe(domain)) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("domain name '%1$s' cannot name a snapshot directory"),
                         domain ? domain : "");
        return NULL;
    }
    return g_build_filename(store->libDir, "snapshot", domain, NULL);
}


int
xsnapSnapshotStoreLockDomain(const xsnapSnapshotStore *store,
                             const char *domain, bool exclusive,
                             unsigned int waitMs)
{
    g_autofree char *dir = xsnapSnapshotStoreDomainDir(store, domain);
    gint64 deadline = g_get_monotonic_time() + (gint64)waitMs * 1000;
    int fd;

    if (!dir)
        return -1;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        xsnapReportSystemError(errno, _("cannot open snapshot directory '%1$s'"), dir);
        return -1;
    }
    while (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            xsnapReportSystemError(errno, _("cannot lock snapshot directory '%1$s'"), dir);
            close(fd);
            return -1;
        }
        if (g_get_monotonic_time() >= deadline) {
            close(fd);
            return XSNAP_SNAPSHOT_STORE_LOCK_BUSY;
        }
        g_usleep(20 * 1000);
    }
    return fd;
}


void
xsnapSnapshotStoreUnlockDomain(int fd)
{
    if (fd >= 0)
        close(fd);
}


static char *
xsnapSnapshotStoreFilePath(const char *dir, const char *name)
{
    g_autofree char *base = NULL;

    if (!xsnapSnapshotStoreNameIsSafe(name)) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("snapshot name '%1$s' cannot name a metadata file"),
                         name ? name : "");
        return NULL;
    }
    base = g_strdup_printf("%s.xml", name);
    return g_build_filename(dir, base, NULL);
}


/* Moves @tmp to @path; without @replace, fails with EEXIST rather than
 * replace an existing @path. */
static int
xsnapSnapshotStoreMove(const char *tmp, const char *path, bool replace)
{
    if (replace)
        return rename(tmp, path);
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    /* link() never replaces either; it needs the temp file removed. */
    if (link(tmp, path) < 0)
        return -1;
    unlink(tmp);
    return 0;
}


/*
 * Writes @data to @dir/@name.xml through a synced temporary file, then
 * syncs @dir. The file ends up whole or not at all.
 */
static int
xsnapSnapshotStoreWriteFile(const char *dir,
                            const char *name,
                            const char *data,
                            bool replace)
{
    g_autofree char *path = NULL;
    g_autofree char *pattern = NULL;
    g_autofree char *tmp = NULL;

    if (!(path = xsnapSnapshotStoreFilePath(dir, name)))
        return -1;
    if (xsnapFileMakeDurableDir(dir) < 0)
        return -1;
    pattern = g_strdup_printf("%s/.%s.xml.XXXXXX", dir, name);
    if (!(tmp = xsnapFileWriteTemp(pattern, data, strlen(data))))
        return -1;
    if (xsnapSnapshotStoreMove(tmp, path, replace) < 0) {
        int err = errno;
        unlink(tmp);
        if (err == EEXIST) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("refusing to overwrite existing file '%1$s'"), path);
        } else {
            xsnapReportSystemError(err, _("cannot rename '%1$s' to '%2$s'"), tmp, path);
        }
        return -1;
    }
    return xsnapFileSyncDir(dir);
}


static int
xsnapSnapshotStoreWriteDef(xsnapSnapshotStore *store,
                           const char *dir,
                           const xsnapSnapshotDef *def,
                           bool current,
                           bool replace)
{
    g_autofree char *xml = NULL;
    unsigned int flags = XSNAP_SNAPSHOT_FORMAT_INTERNAL | XSNAP_SNAPSHOT_FORMAT_SECURE;

    if (current)
        flags |= XSNAP_SNAPSHOT_FORMAT_CURRENT;
    if (!store->format) {
        xsnapReportError(VIR_ERR_NO_SUPPORT, "%s",
                         _("no snapshot XML formatter is available"));
        return -1;
    }
    if (!(xml = store->format(def, flags)))
        return -1;
    return xsnapSnapshotStoreWriteFile(dir, def->name, xml, replace);
}


/* Removes @name's file from @dir; a file already gone is fine. */
static int
xsnapSnapshotStoreUnlink(const char *dir, const char *name)
{
    g_autofree char *path = NULL;

    if (!(path = xsnapSnapshotStoreFilePath(dir, name)))
        return -1;
    if (unlink(path) < 0 && errno != ENOENT) {
        xsnapReportSystemError(errno, _("cannot remove '%1$s'"), path);
        return -1;
    }
    return 0;
}


int
xsnapSnapshotStoreSave(xsnapSnapshotStore *store,
                       const char *domain,
                       xsnapSnapshotObjList *list,
                       xsnapSnapshotObj *obj,
                       bool replace)
{
    g_autofree char *dir = NULL;

    if (!(dir = xsnapSnapshotStoreDomainDir(store, domain)))
        return -1;
    return xsnapSnapshotStoreWriteDef(store, dir, obj->def,
                                      xsnapSnapshotObjListGetCurrent(list) == obj,
                                      replace);
}


int
xsnapSnapshotStoreSetCurrent(xsnapSnapshotStore *store,
                             const char *domain,
                             xsnapSnapshotObjList *list,
                             xsnapSnapshotObj *obj)
{
    g_autofree char *dir = NULL;
    xsnapSnapshotObj *old = xsnapSnapshotObjListGetCurrent(list);

    if (!(dir = xsnapSnapshotStoreDomainDir(store, domain)))
        return -1;
    if (old == obj)
        return obj ? xsnapSnapshotStoreWriteDef(store, dir, obj->def, true, true) : 0;

    if (old && xsnapSnapshotStoreWriteDef(store, dir, old->def, false, true) < 0)
        return -1;
    if (obj && xsnapSnapshotStoreWriteDef(store, dir, obj->def, true, true) < 0) {
        g_autoptr(xsnapError) err = xsnapSaveLastError();

        /* Put the mark back where the tree still has it. */
        if (old)
            (xsnapSnapshotStoreWriteDef(store, dir, old->def, true, true));
        xsnapRestoreLastError(g_steal_pointer(&err));
        return -1;
    }
    xsnapSnapshotObjListSetCurrent(list, obj);
    return 0;
}


static void
xsnapSnapshotStoreCollect(xsnapSnapshotObj *obj, void *opaque)
{
    g_ptr_array_add(opaque, obj);
}


/* Removes @obj's descendants, deepest first; see xsnapSnapshotStoreDelete. */
static int
xsnapSnapshotStoreDeleteDescendants(const char *dir,
                                    xsnapSnapshotObjList *list,
                                    xsnapSnapshotObj *obj,
                                    bool *hadCurrent)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    xsnapSnapshotObj *current = xsnapSnapshotObjListGetCurrent(list);
    size_t i;
    int ret = 0;

    *hadCurrent = false;
    xsnapSnapshotObjForEachDescendant(obj, xsnapSnapshotStoreCollect, all);
    /* In reverse pre-order every snapshot comes before its parent. */
    for (i = all->len; i > 0; i--) {
        xsnapSnapshotObj *victim = g_ptr_array_index(all, i - 1);

        if (xsnapSnapshotStoreUnlink(dir, victim->def->name) < 0) {
            ret = -1;
            break;
        }
        if (victim == current)
            *hadCurrent = true;
        xsnapSnapshotObjListRemove(list, victim);
    }
    if (ret == 0 && xsnapFileSyncDir(dir) < 0)
        ret = -1;
    return ret;
}


int
xsnapSnapshotStoreDelete(xsnapSnapshotStore *store,
                         const char *domain,
                         xsnapSnapshotObjList *list,
                         xsnapSnapshotObj *obj,
                         unsigned int flags)
{
    g_autofree char *dir = NULL;
    xsnapSnapshotObj *parent = xsnapSnapshotObjGetParent(obj);
    xsnapSnapshotObj *newCurrent = NULL;
    bool hadCurrent = false;
    xsnapSnapshotObj *child;

    if (flags & ~(VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN |
                  VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY)) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("unsupported flags (0x%1$x) for deleting snapshot metadata"),
                         flags);
        return -1;
    }
    if (!(dir = xsnapSnapshotStoreDomainDir(store, domain)))
        return -1;

    if (flags & (VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN |
                 VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY)) {
        if (xsnapSnapshotStoreDeleteDescendants(dir, list, obj, &hadCurrent) < 0)
            return -1;
        if (flags & VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY) {
            /* The tree already made @obj current; mark its file. */
            if (hadCurrent &&
                xsnapSnapshotStoreWriteDef(store, dir, obj->def, true, true) < 0)
                return -1;
            return 0;
        }
        hadCurrent = hadCurrent || xsnapSnapshotObjListGetCurrent(list) == obj;
    } else {
        g_autoptr(GPtrArray) moved = g_ptr_array_new();
        size_t i;

        /* Point the children at their new parent first: until @obj's
         * file goes, both trees are consistent. */
        for (child = obj->first_child; child; child = child->sibling) {
            char *saved = child->def->parent_name;
            int rc;

            child->def->parent_name = parent ? parent->def->name : NULL;
            rc = xsnapSnapshotStoreWriteDef(store, dir, child->def,
                                            xsnapSnapshotObjListGetCurrent(list) == child,
                                            true);
            child->def->parent_name = saved;
            if (rc < 0) {
                g_autoptr(xsnapError) err = xsnapSaveLastError();

                for (i = 0; i < moved->len; i++) {
                    xsnapSnapshotObj *back = g_ptr_array_index(moved, i);
                    (xsnapSnapshotStoreWriteDef(store, dir, back->def,
                                                            xsnapSnapshotObjListGetCurrent(list) == back,
                                                            true));
                }
                xsnapRestoreLastError(g_steal_pointer(&err));
                return -1;
            }
            g_ptr_array_add(moved, child);
        }
        hadCurrent = xsnapSnapshotObjListGetCurrent(list) == obj;
    }

    if (xsnapSnapshotStoreUnlink(dir, obj->def->name) < 0 ||
        xsnapFileSyncDir(dir) < 0)
        return -1;
    xsnapSnapshotObjListRemove(list, obj);

    /* As libvirt does, the parent of a deleted current one takes over. */
    if (hadCurrent) {
        newCurrent = parent;
        xsnapSnapshotObjListSetCurrent(list, newCurrent);
        if (newCurrent &&
            xsnapSnapshotStoreWriteDef(store, dir, newCurrent->def, true, true) < 0)
            return -1;
    }
    return 0;
}


int
xsnapSnapshotStoreDeleteAll(xsnapSnapshotStore *store,
                            const char *domain,
                            xsnapSnapshotObjList *list)
{
    g_autofree char *dir = NULL;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    size_t i;

    if (!(dir = xsnapSnapshotStoreDomainDir(store, domain)))
        return -1;
    xsnapSnapshotObjListForEach(list, xsnapSnapshotStoreCollect, all);
    for (i = all->len; i > 0; i--) {
        xsnapSnapshotObj *victim = g_ptr_array_index(all, i - 1);

        if (xsnapSnapshotStoreUnlink(dir, victim->def->name) < 0)
            return -1;
        xsnapSnapshotObjListRemove(list, victim);
    }
    if (rmdir(dir) < 0 && errno != ENOENT) {
        if (errno == ENOTEMPTY || errno == EEXIST) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("directory '%1$s' still holds files that are not snapshot metadata of this domain"),
                             dir);
        } else {
            xsnapReportSystemError(errno, _("cannot remove directory '%1$s'"), dir);
        }
        return -1;
    }
    return 0;
}


int
xsnapSnapshotStoreRenameDomain(xsnapSnapshotStore *store,
                               const char *oldName,
                               const char *newName)
{
    g_autofree char *oldDir = NULL;
    g_autofree char *newDir = NULL;
    g_autofree char *top = NULL;
    int rc;

    if (!(oldDir = xsnapSnapshotStoreDomainDir(store, oldName)) ||
        !(newDir = xsnapSnapshotStoreDomainDir(store, newName)))
        return -1;
    top = g_path_get_dirname(oldDir);

    if (access(oldDir, F_OK) < 0 && errno == ENOENT)
        return 0;
#ifdef RENAME_NOREPLACE
    rc = renameat2(AT_FDCWD, oldDir, AT_FDCWD, newDir, RENAME_NOREPLACE);
    if (rc < 0 && (errno == EINVAL || errno == ENOSYS))
#endif
    {
        /* rename() would replace an empty directory: check first. */
        if (access(newDir, F_OK) == 0) {
            errno = EEXIST;
            rc = -1;
        } else {
            rc = rename(oldDir, newDir);
        }
    }
    if (rc < 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("snapshot metadata for domain '%1$s' already exists in '%2$s'"),
                             newName, newDir);
        } else {
            xsnapReportSystemError(errno, _("cannot rename '%1$s' to '%2$s'"),
                                   oldDir, newDir);
        }
        return -1;
    }
    return xsnapFileSyncDir(top);
}


/* Reads a regular file without following a symlink; NULL and a problem
 * message in *@why when it cannot. */
static char *
xsnapSnapshotStoreReadFile(const char *path, char **why)
{
    g_autofree char *data = NULL;
    struct stat sb;
    size_t got = 0;
    int fd;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
        *why = g_strdup_printf(_("cannot open snapshot file '%1$s': %2$s"),
                               path, g_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        *why = g_strdup_printf(_("snapshot file '%1$s' is not a regular file"), path);
        return NULL;
    }
    if (sb.st_size > XSNAP_SNAPSHOT_FILE_MAX) {
        close(fd);
        *why = g_strdup_printf(_("snapshot file '%1$s' is larger than %2$d bytes"),
                               path, XSNAP_SNAPSHOT_FILE_MAX);
        return NULL;
    }
    data = g_new0(char, (size_t)sb.st_size + 1);
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, data + got, (size_t)sb.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *why = g_strdup_printf(_("cannot read snapshot file '%1$s': %2$s"), path,
                                   n < 0 ? g_strerror(errno) : _("file shrank while read"));
            close(fd);
            return NULL;
        }
        got += (size_t)n;
    }
    close(fd);
    return g_steal_pointer(&data);
}


typedef struct _xsnapSnapshotStoreLoadData xsnapSnapshotStoreLoadData;
struct _xsnapSnapshotStoreLoadData {
    const char *dir;
    GPtrArray *problems;
};


static void
xsnapSnapshotStoreReportRelation(xsnapSnapshotObj *obj,
                                 xsnapSnapshotRelationProblem problem,
                                 void *opaque)
{
    xsnapSnapshotStoreLoadData *data = opaque;
    g_autofree char *base = g_strdup_printf("%s.xml", obj->def->name);
    g_autofree char *path = g_build_filename(data->dir, base, NULL);

    if (problem == XSNAP_SNAPSHOT_RELATION_ORPHAN) {
        xsnapSnapshotStoreAddProblem(data->problems, XSNAP_SNAPSHOT_STORE_PROBLEM_ORPHAN, path,
                                     g_strdup_printf(_("snapshot '%1$s' in '%2$s' names parent '%3$s', which does not exist; it is shown as a root"),
                                                     obj->def->name, path,
                                                     obj->def->parent_name));
    } else {
        xsnapSnapshotStoreAddProblem(data->problems, XSNAP_SNAPSHOT_STORE_PROBLEM_CYCLE, path,
                                     g_strdup_printf(_("snapshot '%1$s' in '%2$s' is its own ancestor; it is shown as a root"),
                                                     obj->def->name, path));
    }
}


/* The problem sentence for the journal @path of @domain. */
static char *
xsnapSnapshotStoreDescribeJournal(const char *path, const char *domain)
{
    g_autoptr(xsnapSnapshotJournal) journal = NULL;
    g_autofree char *op = NULL;
    g_autofree char *snap = NULL;

    if (!(journal = xsnapSnapshotJournalLoad(path))) {
        xsnapResetLastError();
        return g_strdup_printf(_("'%1$s' is the journal of an interrupted snapshot operation and cannot be read; run 'virt-xen-snapshot cleanup --dry-run %2$s'"),
                               path, domain);
    }
    op = xsnapSnapshotJournalGet(journal, NULL, "operation");
    snap = xsnapSnapshotJournalGet(journal, NULL, "snapshot");
    return g_strdup_printf(_("snapshot operation '%1$s' on snapshot '%2$s' was interrupted (journal '%3$s'); run 'virt-xen-snapshot cleanup %4$s' to remove what it left behind"),
                           op, snap ? snap : "?", path, domain);
}


static int
xsnapSnapshotStoreCompareNames(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}


int
xsnapSnapshotStoreLoad(xsnapSnapshotStore *store,
                       const char *domain,
                       xsnapSnapshotObjList **list,
                       GPtrArray **problems)
{
    g_autofree char *dir = NULL;
    g_autoptr(xsnapSnapshotObjList) tree = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    g_autoptr(GPtrArray) currents = NULL;
    g_autoptr(GDir) gdir = NULL;
    g_autoptr(GError) gerr = NULL;
    xsnapSnapshotStoreLoadData data;
    const char *entry;
    size_t i;

    *list = NULL;
    *problems = NULL;
    if (!(dir = xsnapSnapshotStoreDomainDir(store, domain)))
        return -1;
    if (!store->parse) {
        xsnapReportError(VIR_ERR_NO_SUPPORT, "%s",
                         _("no snapshot XML parser is available"));
        return -1;
    }

    tree = xsnapSnapshotObjListNew();
    found = g_ptr_array_new_with_free_func(xsnapSnapshotStoreProblemFreeData);
    entries = g_ptr_array_new_with_free_func(g_free);
    currents = g_ptr_array_new_with_free_func(g_free);

    if (!(gdir = g_dir_open(dir, 0, &gerr))) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            *list = g_steal_pointer(&tree);
            *problems = g_steal_pointer(&found);
            return 0;
        }
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot read snapshot directory '%1$s': %2$s"),
                         dir, gerr->message);
        return -1;
    }
    /* Sorted, so problems come out in a stable order. */
    errno = 0;
    while ((entry = g_dir_read_name(gdir)))
        g_ptr_array_add(entries, g_strdup(entry));
    if (errno != 0) {
        xsnapReportSystemError(errno, _("cannot read snapshot directory '%1$s'"), dir);
        return -1;
    }
    g_ptr_array_sort(entries, xsnapSnapshotStoreCompareNames);

    for (i = 0; i < entries->len; i++) {
        const char *name = g_ptr_array_index(entries, i);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *stem = NULL;
        g_autofree char *xml = NULL;
        g_autofree char *why = NULL;
        g_autoptr(xsnapSnapshotDef) def = NULL;
        bool current = false;

        if (xsnapSnapshotJournalIsName(name)) {
            xsnapSnapshotStoreAddProblem(found, XSNAP_SNAPSHOT_STORE_PROBLEM_INTERRUPTED, path,
                                         xsnapSnapshotStoreDescribeJournal(path, domain));
            continue;
        }
        if (name[0] == '.') {
            xsnapSnapshotStoreAddProblem(found, XSNAP_SNAPSHOT_STORE_PROBLEM_TEMP, path,
                                         g_strdup_printf(_("'%1$s' is left over from an interrupted write and was not read"),
                                                         path));
            continue;
        }
        /* A snapshot's memory image lives next to its file. */
        if (g_str_has_suffix(name, XSNAP_SNAPSHOT_STORE_MEMORY_SUFFIX) &&
            strlen(name) > strlen(XSNAP_SNAPSHOT_STORE_MEMORY_SUFFIX))
            continue;
        if (!g_str_has_suffix(name, ".xml") || strlen(name) == strlen(".xml")) {
            xsnapSnapshotStoreAddProblem(found, XSNAP_SNAPSHOT_STORE_PROBLEM_STRAY, path,
                                         g_strdup_printf(_("'%1$s' is not a snapshot file and was not read"),
                                                         path));
            continue;
        }
        stem = g_strndup(name, strlen(name) - strlen(".xml"));

        if (!(xml = xsnapSnapshotStoreReadFile(path, &why))) {
            xsnapSnapshotStoreAddProblem(found, XSNAP_SNAPSHOT_STORE_PROBLEM_UNREADABLE,
                                         path, g_steal_pointer(&why));
            continue;
        }
        xsnapResetLastError();
        if (!(def = store->parse(xml, &current,
                                 XSNAP_SNAPSHOT_PARSE_REDEFINE |
                                 XSNAP_SNAPSHOT_PARSE_INTERNAL))) {
            xsnapSnapshotStoreAddProblem(found, XSNAP_SNAPSHOT_STORE_PROBLEM_CORRUPT, path,
                                         g_strdup_printf(_("snapshot file '%1$s' is corrupt: %2$s"),
                                                         path, xsnapGetLastErrorMessage()));
            xsnapResetLastError();
            continue;
        }
        if (!g_str_equal(def->name, stem)) {
            xsnapSnapshotStoreAddProblem(found, XSNAP_SNAPSHOT_STORE_PROBLEM_MISNAMED, path,
                                         g_strdup_printf(_("snapshot file '%1$s' holds snapshot '%2$s' and was not loaded"),
                                                         path, def->name));
            continue;
        }
        if (!xsnapSnapshotObjListAssignDef(tree, &def))
            return -1;
        if (current)
            g_ptr_array_add(currents, g_strdup(stem));
    }

    if (currents->len == 1) {
        xsnapSnapshotObjListSetCurrent(tree,
                                       xsnapSnapshotObjListFindByName(tree,
                                                                      g_ptr_array_index(currents, 0)));
    } else if (currents->len > 1) {
        for (i = 0; i < currents->len; i++) {
            const char *name = g_ptr_array_index(currents, i);
            g_autofree char *base = g_strdup_printf("%s.xml", name);
            g_autofree char *path = g_build_filename(dir, base, NULL);

            xsnapSnapshotStoreAddProblem(found, XSNAP_SNAPSHOT_STORE_PROBLEM_DOUBLE_CURRENT, path,
                                         g_strdup_printf(_("snapshot file '%1$s' claims to be current, as does another; no snapshot is current"),
                                                         path));
        }
    }

    data.dir = dir;
    data.problems = found;
    (xsnapSnapshotObjListUpdateRelations(tree, xsnapSnapshotStoreReportRelation,
                                                     &data));

    *list = g_steal_pointer(&tree);
    *problems = g_steal_pointer(&found);
    return 0;
}
