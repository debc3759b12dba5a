/*
 * tool_xml.c: virt-xen-snapshot xml
 */
#include <config.h>

#include "internal.h"
#include "util_error.h"
#include "tool_cmds.h"

int
vxsCmdXml(int argc XSNAP_UNUSED, char **argv XSNAP_UNUSED)
{
    xsnapReportError(VIR_ERR_NO_SUPPORT, "%s", _("this command is not implemented yet"));
    vxsPrintError();
    return 1;
}
