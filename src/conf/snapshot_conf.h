/*
 * snapshot_conf.h: libvirt <domainsnapshot> definitions
 */
#pragma once

#include "internal.h"
