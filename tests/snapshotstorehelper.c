/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshotstorehelper.c: redefines snapshots into a metadata store
 *
 *   snapshotstorehelper LIBDIR DOMAIN [--current] FILE...
 *
 * Each FILE is a <domainsnapshot> document, redefined in order as
 * `virsh snapshot-create DOMAIN FILE --redefine [--current]` would be;
 * --current applies to the FILE after it. Test scripts use this to
 * build the same tree in a store and in libvirt's test driver.
 */
#include <config.h>

#include <stdio.h>

#include "internal.h"
#include "util_error.h"
#include "snapshot_store.h"

int
main(int argc, char **argv)
{
    g_autoptr(xsnapSnapshotStore) store = NULL;
    g_autoptr(xsnapSnapshotObjList) list = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    const char *domain;
    bool current = false;
    int i;

    if (argc < 3) {
        fprintf(stderr, "usage: %s LIBDIR DOMAIN [--current] FILE...\n", argv[0]);
        return 2;
    }
    store = xsnapSnapshotStoreNew(argv[1]);
    domain = argv[2];
    if (xsnapSnapshotStoreLoad(store, domain, &list, &problems) < 0)
        goto error;
    if (problems->len) {
        fprintf(stderr, "%s: the store has problems\n", argv[0]);
        return 1;
    }

    for (i = 3; i < argc; i++) {
        g_autoptr(xsnapSnapshotDef) def = NULL;
        g_autofree char *xml = NULL;
        xsnapSnapshotObj *obj;
        xsnapSnapshotObj *oldCurrent = xsnapSnapshotObjListGetCurrent(list);
        unsigned int flags = VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE;
        bool existed;
        bool cur = false;

        if (g_str_equal(argv[i], "--current")) {
            current = true;
            continue;
        }
        if (!g_file_get_contents(argv[i], &xml, NULL, NULL)) {
            fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
            return 1;
        }
        if (!(def = xsnapSnapshotDefParseString(xml, &cur, XSNAP_SNAPSHOT_PARSE_REDEFINE)))
            goto error;
        existed = xsnapSnapshotObjListFindByName(list, def->name) != NULL;
        if (current)
            flags |= VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT;
        /* Keep the old current in the tree until its file is updated. */
        if (!(obj = xsnapSnapshotObjListRedefine(list, &def,
                                                 flags & ~VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)))
            goto error;
        if (xsnapSnapshotStoreSave(store, domain, list, obj, existed) < 0)
            goto error;
        if (current && oldCurrent != obj &&
            xsnapSnapshotStoreSetCurrent(store, domain, list, obj) < 0)
            goto error;
        current = false;
    }
    return 0;

 error:
    fprintf(stderr, "%s: %s\n", argv[0], xsnapGetLastErrorMessage());
    return 1;
}
