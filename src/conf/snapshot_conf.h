/*
 * snapshot_conf.h: libvirt <domainsnapshot> definitions
 *
 * A Def is one parsed <domainsnapshot> document, with libvirt 9.0.0's
 * parse, validate and format rules. It never talks to a hypervisor.
 */
#pragma once

#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libvirt/libvirt.h>

#include "internal.h"

/* Mirrors virDomainState, plus the snapshot-only disk-snapshot state. */
typedef enum {
    XSNAP_SNAPSHOT_STATE_NOSTATE = VIR_DOMAIN_NOSTATE,
    XSNAP_SNAPSHOT_STATE_RUNNING = VIR_DOMAIN_RUNNING,
    XSNAP_SNAPSHOT_STATE_BLOCKED = VIR_DOMAIN_BLOCKED,
    XSNAP_SNAPSHOT_STATE_PAUSED = VIR_DOMAIN_PAUSED,
    XSNAP_SNAPSHOT_STATE_SHUTDOWN = VIR_DOMAIN_SHUTDOWN,
    XSNAP_SNAPSHOT_STATE_SHUTOFF = VIR_DOMAIN_SHUTOFF,
    XSNAP_SNAPSHOT_STATE_CRASHED = VIR_DOMAIN_CRASHED,
    XSNAP_SNAPSHOT_STATE_PMSUSPENDED = VIR_DOMAIN_PMSUSPENDED,
    XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT,
    XSNAP_SNAPSHOT_STATE_LAST
} xsnapSnapshotState;
XSNAP_ENUM_DECL(xsnapSnapshotState);

/* Where a memory or disk snapshot lives ("default" is never formatted). */
typedef enum {
    XSNAP_SNAPSHOT_LOCATION_DEFAULT = 0,
    XSNAP_SNAPSHOT_LOCATION_NO,
    XSNAP_SNAPSHOT_LOCATION_INTERNAL,
    XSNAP_SNAPSHOT_LOCATION_EXTERNAL,
    XSNAP_SNAPSHOT_LOCATION_MANUAL,
    XSNAP_SNAPSHOT_LOCATION_LAST
} xsnapSnapshotLocation;
XSNAP_ENUM_DECL(xsnapSnapshotLocation);

/* The disk source types libvirt knows; snapshots accept file, block,
 * network (and refuse dir and volume), as libvirt 9.0.0 does. */
typedef enum {
    XSNAP_STORAGE_TYPE_NONE = 0,
    XSNAP_STORAGE_TYPE_FILE,
    XSNAP_STORAGE_TYPE_BLOCK,
    XSNAP_STORAGE_TYPE_DIR,
    XSNAP_STORAGE_TYPE_NETWORK,
    XSNAP_STORAGE_TYPE_VOLUME,
    XSNAP_STORAGE_TYPE_NVME,
    XSNAP_STORAGE_TYPE_VHOST_USER,
    XSNAP_STORAGE_TYPE_VHOST_VDPA,
    XSNAP_STORAGE_TYPE_LAST
} xsnapStorageType;
XSNAP_ENUM_DECL(xsnapStorageType);

typedef struct _xsnapSnapshotDiskDef xsnapSnapshotDiskDef;
struct _xsnapSnapshotDiskDef {
    char *name;                 /* the domain disk's <target dev=...> or source path */
    xsnapSnapshotLocation snapshot;
    xsnapStorageType type;      /* of the new (external) source */
    char *path;                 /* source file= or dev=, or NULL */
    char *format;               /* driver type=, e.g. "qcow2", or NULL */
};

typedef struct _xsnapSnapshotDef xsnapSnapshotDef;
struct _xsnapSnapshotDef {
    char *name;
    char *description;
    char *parent_name;
    long long creationTime;     /* seconds since the epoch */
    xsnapSnapshotState state;

    xsnapSnapshotLocation memory;
    char *memoryFile;           /* absolute, when memory is external */

    size_t ndisks;
    xsnapSnapshotDiskDef *disks;

    char *domainXML;            /* <domain> element, kept verbatim, or NULL */
    char *inactiveDomainXML;    /* <inactiveDomain> element, verbatim, or NULL */
    char *cookieXML;            /* <cookie> element, verbatim, or NULL */
};

/* Parse flags, equivalent to libvirt's virDomainSnapshotParseFlags. */
typedef enum {
    XSNAP_SNAPSHOT_PARSE_REDEFINE = 1 << 0,
    XSNAP_SNAPSHOT_PARSE_INTERNAL = 1 << 1,
    XSNAP_SNAPSHOT_PARSE_OFFLINE  = 1 << 2,
    XSNAP_SNAPSHOT_PARSE_VALIDATE = 1 << 3,
} xsnapSnapshotParseFlags;

/* Format flags, equivalent to libvirt's virDomainSnapshotFormatFlags. */
typedef enum {
    XSNAP_SNAPSHOT_FORMAT_SECURE   = 1 << 0,
    XSNAP_SNAPSHOT_FORMAT_INTERNAL = 1 << 1,
    XSNAP_SNAPSHOT_FORMAT_CURRENT  = 1 << 2,
} xsnapSnapshotFormatFlags;

xsnapSnapshotDef *xsnapSnapshotDefNew(void);
void xsnapSnapshotDefFree(xsnapSnapshotDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapSnapshotDef, xsnapSnapshotDefFree);
