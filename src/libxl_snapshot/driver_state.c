/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_state.c: the snapshot trees of every domain
 */
#include <config.h>

#include <stdlib.h>

#include "driver_state.h"
#include "driver_error.h"
#include "util_error.h"

static GMutex stateLock;
static GHashTable *domains;      /* "uuid/name" -> xsnapDomainSnapshots */
static xsnapSnapshotStore *store;


static void
xsnapDomainSnapshotsFree(gpointer opaque)
{
    xsnapDomainSnapshots *snaps = opaque;

    xsnapSnapshotObjListFree(snaps->list);
    g_free(snaps->uuid);
    g_free(snaps->name);
    g_free(snaps->problem);
    g_mutex_clear(&snaps->lock);
    g_free(snaps);
}


int
xsnapDriverStateInit(const char *libDir)
{
    g_mutex_lock(&stateLock);
    if (!libDir)
        libDir = g_getenv("XSNAP_LIBXL_LIBDIR");
    if (!domains)
        domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        xsnapDomainSnapshotsFree);
    xsnapSnapshotStoreFree(store);
    store = xsnapSnapshotStoreNew(libDir);
    xsnapSnapshotStoreSetCodec(store, xsnapSnapshotDefParseString,
                               xsnapSnapshotDefFormat);
    g_mutex_unlock(&stateLock);
    return 0;
}


void
xsnapDriverStateShutdown(void)
{
    g_mutex_lock(&stateLock);
    g_clear_pointer(&domains, g_hash_table_unref);
    g_clear_pointer(&store, xsnapSnapshotStoreFree);
    g_mutex_unlock(&stateLock);
}


xsnapSnapshotStore *
xsnapDriverStateGetStore(void)
{
    return store;
}


/* Loads @snaps's tree; a tree with problems is kept but read-only, and
 * each problem goes to the daemon log. */
static int
xsnapDriverStateLoad(xsnapDomainSnapshots *snaps)
{
    g_autoptr(GPtrArray) problems = NULL;
    xsnapSnapshotObjList *list = NULL;
    g_autofree char *previous = NULL;
    bool known;
    size_t i;

    if (xsnapSnapshotStoreLoad(store, snaps->name, &list, &problems) < 0)
        return -1;
    previous = g_steal_pointer(&snaps->problem);
    /* A tree with problems is read again at every call: log them once,
     * not at every call, while they stay the same. */
    known = previous && problems->len > 0 &&
            g_str_equal(previous,
                        ((xsnapSnapshotStoreProblem *)g_ptr_array_index(problems, 0))->message);
    for (i = 0; i < problems->len; i++) {
        xsnapSnapshotStoreProblem *p = g_ptr_array_index(problems, i);
        if (!known)
            xsnapDriverLog(XSNAP_LOG_WARN, "%s", p->message);
        if (!snaps->problem)
            snaps->problem = g_strdup(p->message);
    }
    snaps->list = list;
    return 0;
}


/* How long a caller waits for a busy domain: XSNAP_LOCK_WAIT_MS, else 30 s. */
static unsigned int
xsnapDriverStateWaitMs(void)
{
    const char *env = g_getenv("XSNAP_LOCK_WAIT_MS");
    guint64 ms;

    if (env && g_ascii_string_to_unsigned(env, 10, 0, G_MAXUINT32, &ms, NULL))
        return (unsigned int)ms;
    return 30 * 1000;
}


xsnapDomainSnapshots *
xsnapDriverStateAcquire(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *name = virDomainGetName(dom);
    g_autofree char *key = NULL;
    xsnapDomainSnapshots *snaps;

    if (!name || virDomainGetUUIDString(dom, uuid) < 0) {
        xsnapReportError(VIR_ERR_INVALID_ARG, "%s",
                         _("cannot identify the domain"));
        return NULL;
    }
    if (!store) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("snapshot state used before initialization"));
        return NULL;
    }
    key = g_strdup_printf("%s/%s", uuid, name);

    g_mutex_lock(&stateLock);
    if (!(snaps = g_hash_table_lookup(domains, key))) {
        snaps = g_new0(xsnapDomainSnapshots, 1);
        g_mutex_init(&snaps->lock);
        snaps->uuid = g_strdup(uuid);
        snaps->name = g_strdup(name);
        g_hash_table_insert(domains, g_steal_pointer(&key), snaps);
    }
    g_mutex_unlock(&stateLock);

    /* Entries are never freed while the module runs, so this is safe
     * after the table lock is dropped. A snapshot operation can hold
     * the lock for minutes (a memory save, a merge): wait a bounded
     * time, then tell the caller the domain is busy. */
    if (!g_mutex_trylock(&snaps->lock)) {
        gint64 deadline = g_get_monotonic_time() +
                          (gint64)xsnapDriverStateWaitMs() * 1000;

        while (!g_mutex_trylock(&snaps->lock)) {
            if (g_get_monotonic_time() >= deadline) {
                xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                                 _("another snapshot operation on domain '%1$s' is still running; try again later"),
                                 name);
                return NULL;
            }
            g_usleep(10 * 1000);
        }
    }
    /* A tree with problems is read again each time: the problems may
     * have been resolved on disk (virt-xen-snapshot cleanup) meanwhile. */
    if (snaps->list && snaps->problem)
        xsnapDriverStateInvalidate(snaps);
    if (!snaps->list && xsnapDriverStateLoad(snaps) < 0) {
        g_mutex_unlock(&snaps->lock);
        return NULL;
    }
    return snaps;
}


void
xsnapDriverStateRelease(xsnapDomainSnapshots *snaps)
{
    if (snaps)
        g_mutex_unlock(&snaps->lock);
}


int
xsnapDriverStateCheckWritable(xsnapDomainSnapshots *snaps)
{
    if (!snaps->problem)
        return 0;
    xsnapReportError(VIR_ERR_OPERATION_FAILED,
                     _("the snapshot metadata of domain '%1$s' is read-only until this is resolved: %2$s"),
                     snaps->name, snaps->problem);
    return -1;
}


void
xsnapDriverStateInvalidate(xsnapDomainSnapshots *snaps)
{
    g_clear_pointer(&snaps->list, xsnapSnapshotObjListFree);
}
