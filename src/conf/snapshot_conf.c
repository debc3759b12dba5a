/*
 * snapshot_conf.c: libvirt <domainsnapshot> definitions
 */
#include <config.h>

#include "snapshot_conf.h"


xsnapSnapshotDef *
xsnapSnapshotDefNew(void)
{
    return g_new0(xsnapSnapshotDef, 1);
}


void
xsnapSnapshotDefFree(xsnapSnapshotDef *def)
{
    size_t i;

    if (!def)
        return;
    g_free(def->name);
    g_free(def->description);
    g_free(def->parent_name);
    g_free(def->memoryFile);
    for (i = 0; i < def->ndisks; i++) {
        g_free(def->disks[i].name);
        g_free(def->disks[i].path);
        g_free(def->disks[i].format);
    }
    g_free(def->disks);
    g_free(def->domainXML);
    g_free(def->inactiveDomainXML);
    g_free(def->cookieXML);
    g_free(def);
}
