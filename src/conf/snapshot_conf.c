/*
 * snapshot_conf.c: libvirt <domainsnapshot> definitions
 */
#include <config.h>

#include "snapshot_conf.h"
