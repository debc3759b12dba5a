/*
 * snapshot_ops_stub.c: the snapshot operations, until the memory and
 * disk engine provides them
 */
#include <config.h>

#include "snapshot_ops.h"
#include "util_error.h"


int
xsnapOpsCreate(virDomainPtr dom XSNAP_UNUSED, xsnapDomainSnapshots *snaps,
               const char *xml XSNAP_UNUSED, unsigned int flags XSNAP_UNUSED,
               xsnapSnapshotObj **created)
{
    *created = NULL;
    xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                     _("creating snapshots of Xen domain '%1$s' is not supported yet; only redefining snapshot metadata (--redefine) is"),
                     snaps->name);
    return -1;
}


int
xsnapOpsRevert(virDomainPtr dom XSNAP_UNUSED, xsnapDomainSnapshots *snaps,
               xsnapSnapshotObj *obj, unsigned int flags XSNAP_UNUSED)
{
    xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                     _("reverting Xen domain '%1$s' to snapshot '%2$s' is not supported yet"),
                     snaps->name, obj->def->name);
    return -1;
}


int
xsnapOpsDelete(virDomainPtr dom XSNAP_UNUSED, xsnapDomainSnapshots *snaps,
               xsnapSnapshotObj *obj, unsigned int flags XSNAP_UNUSED)
{
    xsnapReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                     _("deleting the data of snapshot '%1$s' of Xen domain '%2$s' is not supported yet; use --metadata to delete only its metadata"),
                     obj->def->name, snaps->name);
    return -1;
}
