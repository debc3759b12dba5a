/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

/* Image formats libvirt 9.0.0 knows (virStorageFileFormat); a snapshot
 * disk's driver type must be one of them other than "none". */
typedef enum {
    XSNAP_STORAGE_FILE_NONE = 0,
    XSNAP_STORAGE_FILE_RAW,
    XSNAP_STORAGE_FILE_DIR,
    XSNAP_STORAGE_FILE_BOCHS,
    XSNAP_STORAGE_FILE_CLOOP,
    XSNAP_STORAGE_FILE_DMG,
    XSNAP_STORAGE_FILE_ISO,
    XSNAP_STORAGE_FILE_VPC,
    XSNAP_STORAGE_FILE_VDI,
    XSNAP_STORAGE_FILE_FAT,
    XSNAP_STORAGE_FILE_VHD,
    XSNAP_STORAGE_FILE_PLOOP,
    XSNAP_STORAGE_FILE_COW,
    XSNAP_STORAGE_FILE_QCOW,
    XSNAP_STORAGE_FILE_QCOW2,
    XSNAP_STORAGE_FILE_QED,
    XSNAP_STORAGE_FILE_VMDK,
    XSNAP_STORAGE_FILE_LAST
} xsnapStorageFileFormat;
XSNAP_ENUM_DECL(xsnapStorageFileFormat);

/* Network disk protocols (virStorageNetProtocol). */
typedef enum {
    XSNAP_STORAGE_NET_PROTOCOL_NONE = 0,
    XSNAP_STORAGE_NET_PROTOCOL_NBD,
    XSNAP_STORAGE_NET_PROTOCOL_RBD,
    XSNAP_STORAGE_NET_PROTOCOL_SHEEPDOG,
    XSNAP_STORAGE_NET_PROTOCOL_GLUSTER,
    XSNAP_STORAGE_NET_PROTOCOL_ISCSI,
    XSNAP_STORAGE_NET_PROTOCOL_HTTP,
    XSNAP_STORAGE_NET_PROTOCOL_HTTPS,
    XSNAP_STORAGE_NET_PROTOCOL_FTP,
    XSNAP_STORAGE_NET_PROTOCOL_FTPS,
    XSNAP_STORAGE_NET_PROTOCOL_TFTP,
    XSNAP_STORAGE_NET_PROTOCOL_SSH,
    XSNAP_STORAGE_NET_PROTOCOL_VXHS,
    XSNAP_STORAGE_NET_PROTOCOL_NFS,
    XSNAP_STORAGE_NET_PROTOCOL_LAST
} xsnapStorageNetProtocol;
XSNAP_ENUM_DECL(xsnapStorageNetProtocol);

typedef enum {
    XSNAP_STORAGE_NET_HOST_TRANS_TCP = 0,
    XSNAP_STORAGE_NET_HOST_TRANS_UNIX,
    XSNAP_STORAGE_NET_HOST_TRANS_RDMA,
    XSNAP_STORAGE_NET_HOST_TRANS_LAST
} xsnapStorageNetHostTransport;
XSNAP_ENUM_DECL(xsnapStorageNetHostTransport);

typedef struct _xsnapStorageNetHost xsnapStorageNetHost;
struct _xsnapStorageNetHost {
    char *name;
    unsigned int port;          /* 0: none (a protocol default is filled in) */
    xsnapStorageNetHostTransport transport;
    char *socket;               /* unix transport only */
};

typedef struct _xsnapSnapshotDiskDef xsnapSnapshotDiskDef;
struct _xsnapSnapshotDiskDef {
    char *name;                 /* the domain disk's <target dev=...> or source path */
    xsnapSnapshotLocation snapshot;
    xsnapStorageType type;      /* of the new (external) source */
    char *path;                 /* source file= or dev=, network name=, or NULL */
    char *format;               /* driver type=, e.g. "qcow2", or NULL */

    /* Less common parts of libvirt's snapshot disk, kept for fidelity. */
    bool snapshotDeleteInProgress;          /* redefine only */
    unsigned long long metadataCacheMaxSize; /* bytes, 0 if unset */
    xsnapStorageNetProtocol protocol;       /* network sources */
    size_t nhosts;
    xsnapStorageNetHost *hosts;
    char *query;                /* http(s) only */
    int tls;                    /* 0 absent, 1 yes, 2 no */
    char *tlsHostname;
    char *snapshotName;         /* <source><snapshot name=...> */
    char *configFile;           /* <source><config file=...> */
    size_t nseclabels;          /* file and block sources: <seclabel> */
    char **seclabels;           /* elements, kept as xsnapXMLNodeToString wrote them */
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

/*
 * The three XML fields above hold one element each, as written by
 * xsnapXMLNodeToString (the parser stores them so). Any formatting is
 * accepted: they are re-indented when formatted, and the root element is
 * written as <domain>, <inactiveDomain> and <cookie> whatever its name.
 */

/* Parse flags, equivalent to libvirt's virDomainSnapshotParseFlags. */
typedef enum {
    XSNAP_SNAPSHOT_PARSE_REDEFINE = 1 << 0,
    XSNAP_SNAPSHOT_PARSE_INTERNAL = 1 << 1,
    XSNAP_SNAPSHOT_PARSE_OFFLINE  = 1 << 2,
    XSNAP_SNAPSHOT_PARSE_VALIDATE = 1 << 3,
} xsnapSnapshotParseFlags;
#define XSNAP_SNAPSHOT_PARSE_ALL \
    (XSNAP_SNAPSHOT_PARSE_REDEFINE | XSNAP_SNAPSHOT_PARSE_INTERNAL | \
     XSNAP_SNAPSHOT_PARSE_OFFLINE | XSNAP_SNAPSHOT_PARSE_VALIDATE)

/* Format flags, equivalent to libvirt's virDomainSnapshotFormatFlags. */
typedef enum {
    XSNAP_SNAPSHOT_FORMAT_SECURE   = 1 << 0,
    XSNAP_SNAPSHOT_FORMAT_INTERNAL = 1 << 1,
    XSNAP_SNAPSHOT_FORMAT_CURRENT  = 1 << 2,
} xsnapSnapshotFormatFlags;
#define XSNAP_SNAPSHOT_FORMAT_ALL \
    (XSNAP_SNAPSHOT_FORMAT_SECURE | XSNAP_SNAPSHOT_FORMAT_INTERNAL | \
     XSNAP_SNAPSHOT_FORMAT_CURRENT)

xsnapSnapshotDef *xsnapSnapshotDefNew(void);
void xsnapSnapshotDefFree(xsnapSnapshotDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapSnapshotDef, xsnapSnapshotDefFree);

/* Frees what @disk owns (not @disk itself). */
void xsnapSnapshotDiskDefClear(xsnapSnapshotDiskDef *disk);

/*
 * Parses one <domainsnapshot> document with libvirt 9.0.0's rules
 * (virDomainSnapshotDefParseString). @flags is a set of
 * XSNAP_SNAPSHOT_PARSE_*. With PARSE_INTERNAL, *@current is set from
 * <active>, which must be present; otherwise @current is not used.
 * PARSE_VALIDATE first checks the document against libvirt's
 * domainsnapshot.rng. Without PARSE_REDEFINE the creation time is "now"
 * (see xsnapSnapshotSetClock) and a missing name defaults to it.
 * Returns a new Def (caller frees) or NULL with an error reported.
 */
xsnapSnapshotDef *xsnapSnapshotDefParseString(const char *xml, bool *current,
                                              unsigned int flags);

/* As xsnapSnapshotDefParseString, for an already parsed document whose
 * element @root must be <domainsnapshot>. @doc stays the caller's. */
xsnapSnapshotDef *xsnapSnapshotDefParseNode(xmlDocPtr doc, xmlNodePtr root,
                                            bool *current, unsigned int flags);

/*
 * Formats @def as libvirt 9.0.0 does (virDomainSnapshotDefFormat).
 * @flags is a set of XSNAP_SNAPSHOT_FORMAT_*: SECURE keeps secrets in
 * the embedded domain XML, INTERNAL adds <active>, set to 1 with
 * CURRENT. Returns the XML (caller frees) or NULL with an error reported.
 */
char *xsnapSnapshotDefFormat(const xsnapSnapshotDef *def, unsigned int flags);

/*
 * As xsnapSnapshotDefFormat; when @def has no domain XML and @uuidstr is
 * not NULL, writes <domain><uuid>@uuidstr</uuid></domain> as libvirt does
 * for snapshots whose domain it does not know.
 */
char *xsnapSnapshotDefFormatUUID(const xsnapSnapshotDef *def,
                                 const char *uuidstr, unsigned int flags);

/* True if the memory or any disk is snapshotted externally. */
bool xsnapSnapshotDefIsExternal(const xsnapSnapshotDef *def);

/*
 * Refuses a snapshot name that cannot name a metadata file: one that
 * contains '/' or starts with '.'. libvirt's QEMU driver applies the same
 * rule to create and redefine (unless no metadata is kept). Returns 0,
 * or -1 with VIR_ERR_XML_DETAIL reported.
 */
int xsnapSnapshotDefValidateName(const char *name);

/*
 * Replaces the clock giving the creation time of new snapshots (seconds
 * since the epoch); NULL restores the real clock. For tests.
 */
void xsnapSnapshotSetClock(long long (*now)(void));

/*
 * Replaces the check that a disk source is a regular file, done before
 * an external snapshot file name is generated from it; NULL restores
 * stat(2). For tests.
 */
void xsnapSnapshotSetRegularFileCheck(bool (*isRegular)(const char *path));


/* What AlignDisks needs to know of one <disk> of a domain. */
typedef struct _xsnapDomainDiskDef xsnapDomainDiskDef;
struct _xsnapDomainDiskDef {
    char *dst;                  /* <target dev=...> */
    char *device;               /* disk, cdrom, floppy, lun */
    xsnapStorageType type;      /* <disk type=...> */
    char *path;                 /* source file/dev/dir/name, or NULL */
    xsnapStorageNetProtocol protocol;
    char *format;               /* <driver type=...>, or NULL */
    bool readonly;
    xsnapSnapshotLocation snapshot; /* <disk snapshot=...>, after libvirt's
                                       defaults for read-only and vhostuser */
};

/*
 * Reads the disks of a <domain> (or <inactiveDomain>) document. Returns
 * the number of disks with *@disks allocated (free with
 * xsnapDomainDiskDefListFree), or -1 with an error reported.
 */
int xsnapDomainDiskDefListParseString(const char *domainXML,
                                      xsnapDomainDiskDef **disks);
void xsnapDomainDiskDefListFree(xsnapDomainDiskDef *disks, size_t ndisks);

/*
 * libvirt's virDomainSnapshotAlignDisks: makes def->disks list every disk
 * of the domain, in the domain's order, each named by its target. The
 * domain is def->domainXML, or @existingDomainXML when @def has none (a
 * redefinition that omits <domain>). Disks the definition does not name
 * get the domain disk's own snapshot= setting, "no" if the drive is
 * empty, else @defaultLocation. With @uniformInternal and an internal
 * default, every disk must be internal (or "no" on both sides). External
 * disks without a file get the source path minus its extension plus
 * ".<snapshot name>". Returns 0, or -1 with an error reported.
 */
int xsnapSnapshotDefAlignDisks(xsnapSnapshotDef *def,
                               const char *existingDomainXML,
                               xsnapSnapshotLocation defaultLocation,
                               bool uniformInternal);

/* The same with an already parsed list of the domain's disks. */
int xsnapSnapshotDefAlignDisksList(xsnapSnapshotDef *def,
                                   const xsnapDomainDiskDef *domDisks,
                                   size_t nDomDisks,
                                   xsnapSnapshotLocation defaultLocation,
                                   bool uniformInternal);

/*
 * The alignment libvirt applies when a snapshot is redefined
 * (virDomainSnapshotRedefinePrep): external when the state is
 * disk-snapshot or anything is external, else internal, and uniform.
 */
int xsnapSnapshotDefRedefineAlign(xsnapSnapshotDef *def,
                                  const char *existingDomainXML);
