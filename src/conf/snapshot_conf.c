/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot_conf.c: libvirt <domainsnapshot> definitions
 *
 * The rules are those of libvirt 9.0.0's src/conf/snapshot_conf.c, so a
 * definition accepted, refused or formatted here behaves as it would in
 * libvirt's own drivers.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "snapshot_conf.h"
#include "util_buf.h"
#include "util_error.h"
#include "util_xml.h"

XSNAP_ENUM_IMPL(xsnapSnapshotState, XSNAP_SNAPSHOT_STATE_LAST,
                "nostate", "running", "blocked", "paused", "shutdown",
                "shutoff", "crashed", "pmsuspended", "disk-snapshot");

XSNAP_ENUM_IMPL(xsnapSnapshotLocation, XSNAP_SNAPSHOT_LOCATION_LAST,
                "default", "no", "internal", "external", "manual");

XSNAP_ENUM_IMPL(xsnapStorageType, XSNAP_STORAGE_TYPE_LAST,
                "none", "file", "block", "dir", "network", "volume",
                "nvme", "vhostuser", "vhostvdpa");

XSNAP_ENUM_IMPL(xsnapStorageFileFormat, XSNAP_STORAGE_FILE_LAST,
                "none", "raw", "dir", "bochs", "cloop", "dmg", "iso",
                "vpc", "vdi", "fat", "vhd", "ploop",
                "cow", "qcow", "qcow2", "qed", "vmdk");

XSNAP_ENUM_IMPL(xsnapStorageNetProtocol, XSNAP_STORAGE_NET_PROTOCOL_LAST,
                "none", "nbd", "rbd", "sheepdog", "gluster", "iscsi",
                "http", "https", "ftp", "ftps", "tftp", "ssh", "vxhs", "nfs");

XSNAP_ENUM_IMPL(xsnapStorageNetHostTransport, XSNAP_STORAGE_NET_HOST_TRANS_LAST,
                "tcp", "unix", "rdma");

/* "absent" is never accepted from XML: see xsnapTristateFromString. */
typedef enum {
    XSNAP_TRISTATE_ABSENT = 0,
    XSNAP_TRISTATE_YES,
    XSNAP_TRISTATE_NO,
    XSNAP_TRISTATE_LAST
} xsnapTristate;
XSNAP_ENUM_DECL(xsnapTristate);
XSNAP_ENUM_IMPL(xsnapTristate, XSNAP_TRISTATE_LAST, "absent", "yes", "no");


static long long (*snapshotClock)(void);
static bool (*snapshotIsRegularFile)(const char *path);

void
xsnapSnapshotSetClock(long long (*now)(void))
{
    snapshotClock = now;
}


void
xsnapSnapshotSetRegularFileCheck(bool (*isRegular)(const char *path))
{
    snapshotIsRegularFile = isRegular;
}


static long long
xsnapSnapshotNow(void)
{
    if (snapshotClock)
        return snapshotClock();
    return g_get_real_time() / (1000 * 1000);
}


static bool
xsnapSnapshotPathIsRegularFile(const char *path)
{
    struct stat sb;

    if (snapshotIsRegularFile)
        return snapshotIsRegularFile(path);
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}


/* libvirt 9.0.0 has no vhostvdpa disk type yet: refuse it as unknown. */
static int
xsnapStorageTypeFromString900(const char *type)
{
    int ret = xsnapStorageTypeTypeFromString(type);

    return ret == XSNAP_STORAGE_TYPE_VHOST_VDPA ? -1 : ret;
}


static void
xsnapStorageNetHostClear(xsnapStorageNetHost *host)
{
    g_free(host->name);
    g_free(host->socket);
}


void
xsnapSnapshotDiskDefClear(xsnapSnapshotDiskDef *disk)
{
    size_t i;

    if (!disk)
        return;
    g_free(disk->name);
    g_free(disk->path);
    g_free(disk->format);
    for (i = 0; i < disk->nhosts; i++)
        xsnapStorageNetHostClear(&disk->hosts[i]);
    g_free(disk->hosts);
    g_free(disk->query);
    g_free(disk->tlsHostname);
    g_free(disk->snapshotName);
    g_free(disk->configFile);
    for (i = 0; i < disk->nseclabels; i++)
        g_free(disk->seclabels[i]);
    g_free(disk->seclabels);
    memset(disk, 0, sizeof(*disk));
}


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
    for (i = 0; i < def->ndisks; i++)
        xsnapSnapshotDiskDefClear(&def->disks[i]);
    g_free(def->disks);
    g_free(def->domainXML);
    g_free(def->inactiveDomainXML);
    g_free(def->cookieXML);
    g_free(def);
}


/* ---- parsing ---------------------------------------------------------- */

static unsigned int
xsnapStorageNetDefaultPort(xsnapStorageNetProtocol protocol)
{
    switch (protocol) {
    case XSNAP_STORAGE_NET_PROTOCOL_HTTP: return 80;
    case XSNAP_STORAGE_NET_PROTOCOL_HTTPS: return 443;
    case XSNAP_STORAGE_NET_PROTOCOL_FTP: return 21;
    case XSNAP_STORAGE_NET_PROTOCOL_FTPS: return 990;
    case XSNAP_STORAGE_NET_PROTOCOL_TFTP: return 69;
    case XSNAP_STORAGE_NET_PROTOCOL_SHEEPDOG: return 7000;
    case XSNAP_STORAGE_NET_PROTOCOL_NBD: return 10809;
    case XSNAP_STORAGE_NET_PROTOCOL_SSH: return 22;
    case XSNAP_STORAGE_NET_PROTOCOL_ISCSI: return 3260;
    case XSNAP_STORAGE_NET_PROTOCOL_GLUSTER: return 24007;
    case XSNAP_STORAGE_NET_PROTOCOL_VXHS: return 9999;
    case XSNAP_STORAGE_NET_PROTOCOL_RBD:
    case XSNAP_STORAGE_NET_PROTOCOL_NFS:
    case XSNAP_STORAGE_NET_PROTOCOL_NONE:
    case XSNAP_STORAGE_NET_PROTOCOL_LAST:
        break;
    }
    return 0;
}


static int
xsnapStorageNetHostParse(xmlNodePtr node, xsnapStorageNetHost *host)
{
    g_autofree char *transport = NULL;
    g_autofree char *port = NULL;

    host->transport = XSNAP_STORAGE_NET_HOST_TRANS_TCP;
    if ((transport = xsnapXMLPropString(node, "transport"))) {
        int t = xsnapStorageNetHostTransportTypeFromString(transport);
        if (t < 0) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("unknown protocol transport type '%1$s'"),
                             transport);
            return -1;
        }
        host->transport = t;
    }

    host->socket = xsnapXMLPropString(node, "socket");

    if (host->transport == XSNAP_STORAGE_NET_HOST_TRANS_UNIX && !host->socket) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("missing socket for unix transport"));
        return -1;
    }
    if (host->transport != XSNAP_STORAGE_NET_HOST_TRANS_UNIX && host->socket) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("transport '%1$s' does not support socket attribute"),
                         transport ? transport : "(null)");
        return -1;
    }

    if (host->transport != XSNAP_STORAGE_NET_HOST_TRANS_UNIX) {
        if (!(host->name = xsnapXMLPropString(node, "name"))) {
            xsnapReportError(VIR_ERR_XML_ERROR, "%s", _("missing name for host"));
            return -1;
        }
        if ((port = xsnapXMLPropString(node, "port"))) {
            unsigned long long p;
            char *end;

            errno = 0;
            p = strtoull(port, &end, 10);
            if (errno || end == port || *end || strchr(port, '-') || p > G_MAXUINT) {
                xsnapReportError(VIR_ERR_INVALID_ARG,
                                 _("failed to parse port number '%1$s'"), port);
                return -1;
            }
            if (p > 65535) {
                xsnapReportError(VIR_ERR_INVALID_ARG,
                                 _("port '%1$s' out of range"), port);
                return -1;
            }
            host->port = (unsigned int)p;
        }
    }
    return 0;
}


static int
xsnapSnapshotDiskSourceNetworkParse(xmlNodePtr node, xmlXPathContextPtr ctxt,
                                    xsnapSnapshotDiskDef *disk)
{
    g_autofree xmlNodePtr *hostNodes = NULL;
    int protocol;
    int tls;
    int n;
    size_t i;

    if (xsnapXMLPropEnum(node, "protocol", xsnapStorageNetProtocolTypeFromString,
                         XSNAP_XML_PROP_REQUIRED, &protocol) < 0)
        return -1;
    disk->protocol = protocol;

    if (!(disk->path = xsnapXMLPropString(node, "name")) &&
        disk->protocol != XSNAP_STORAGE_NET_PROTOCOL_NBD) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("missing name for disk source"));
        return -1;
    }

    if (xsnapXMLPropEnum(node, "tls", xsnapTristateTypeFromString,
                         XSNAP_XML_PROP_NONZERO, &tls) < 0)
        return -1;
    disk->tls = tls;
    disk->tlsHostname = xsnapXMLPropString(node, "tlsHostname");

    /* The volume and image names share one attribute for these two. */
    if (disk->path &&
        (disk->protocol == XSNAP_STORAGE_NET_PROTOCOL_GLUSTER ||
         disk->protocol == XSNAP_STORAGE_NET_PROTOCOL_RBD)) {
        const char *slash = strchr(disk->path, '/');
        if (!slash || slash == disk->path) {
            xsnapReportError(VIR_ERR_XML_ERROR,
                             _("can't split path '%1$s' into pool name and image name"),
                             disk->path);
            return -1;
        }
    }

    disk->snapshotName = xsnapXPathString("string(./snapshot/@name)", ctxt);
    disk->configFile = xsnapXPathString("string(./config/@file)", ctxt);

    if (disk->protocol == XSNAP_STORAGE_NET_PROTOCOL_HTTP ||
        disk->protocol == XSNAP_STORAGE_NET_PROTOCOL_HTTPS)
        disk->query = xsnapXMLPropString(node, "query");

    if ((n = xsnapXPathNodeSet("./host", ctxt, &hostNodes)) < 0)
        return -1;
    if (n > 0) {
        disk->hosts = g_new0(xsnapStorageNetHost, n);
        disk->nhosts = (size_t)n;
        for (i = 0; i < disk->nhosts; i++) {
            if (xsnapStorageNetHostParse(hostNodes[i], &disk->hosts[i]) < 0)
                return -1;
        }
    }

    for (i = 0; i < disk->nhosts; i++) {
        if (disk->hosts[i].transport == XSNAP_STORAGE_NET_HOST_TRANS_TCP &&
            disk->hosts[i].port == 0)
            disk->hosts[i].port = xsnapStorageNetDefaultPort(disk->protocol);
    }
    return 0;
}


static int
xsnapSnapshotDiskSourceParse(xmlNodePtr node, xmlXPathContextPtr ctxt,
                             xsnapSnapshotDiskDef *disk)
{
    XSNAP_XPATH_NODE_SAVE(ctxt);
    int ret = -1;

    ctxt->node = node;

    switch (disk->type) {
    case XSNAP_STORAGE_TYPE_FILE:
        disk->path = xsnapXMLPropString(node, "file");
        break;
    case XSNAP_STORAGE_TYPE_BLOCK:
        disk->path = xsnapXMLPropString(node, "dev");
        break;
    case XSNAP_STORAGE_TYPE_NETWORK:
        if (xsnapSnapshotDiskSourceNetworkParse(node, ctxt, disk) < 0)
            goto cleanup;
        break;
    case XSNAP_STORAGE_TYPE_NVME:
    case XSNAP_STORAGE_TYPE_VHOST_USER:
        /* Neither can back a Xen disk, and their sources would need
         * libvirt's PCI address and character device parsers. */
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                         _("unsupported disk snapshot type '%1$s'"),
                         xsnapStorageTypeTypeToString(disk->type));
        goto cleanup;
    case XSNAP_STORAGE_TYPE_DIR:
    case XSNAP_STORAGE_TYPE_VOLUME:
    case XSNAP_STORAGE_TYPE_VHOST_VDPA:
    case XSNAP_STORAGE_TYPE_NONE:
    case XSNAP_STORAGE_TYPE_LAST:
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("unexpected disk type %1$s"),
                         xsnapStorageTypeTypeToString(disk->type));
        goto cleanup;
    }

    /* libvirt writes security labels back for local sources only. */
    if (disk->type == XSNAP_STORAGE_TYPE_FILE || disk->type == XSNAP_STORAGE_TYPE_BLOCK) {
        g_autofree xmlNodePtr *labels = NULL;
        int n;
        size_t i;

        if ((n = xsnapXPathNodeSet("./seclabel", ctxt, &labels)) < 0)
            goto cleanup;
        if (n > 0) {
            disk->seclabels = g_new0(char *, n);
            disk->nseclabels = (size_t)n;
            for (i = 0; i < disk->nseclabels; i++)
                disk->seclabels[i] = xsnapXMLNodeToString(labels[i], NULL,
                                                          XSNAP_XML_FORMAT_SECURE);
        }
    }

    /* An empty path means no path, as in libvirt. */
    if (disk->path && !*disk->path)
        g_clear_pointer(&disk->path, g_free);
    ret = 0;

 cleanup:
    XSNAP_XPATH_NODE_RESTORE(ctxt);
    return ret;
}


/* libvirt's virScaleInteger: @suffix scales @value, which must stay
 * within @limit. */
static int
xsnapScaleInteger(unsigned long long *value, const char *suffix,
                  unsigned long long limit)
{
    unsigned long long scale = 1;

    if (!suffix || !*suffix) {
        suffix = "";
    } else if (g_ascii_strcasecmp(suffix, "b") == 0 ||
               g_ascii_strcasecmp(suffix, "byte") == 0 ||
               g_ascii_strcasecmp(suffix, "bytes") == 0) {
        scale = 1;
    } else {
        unsigned long long base;

        if (!suffix[1] || g_ascii_strcasecmp(suffix + 1, "iB") == 0) {
            base = 1024;
        } else if (g_ascii_tolower(suffix[1]) == 'b' && !suffix[2]) {
            base = 1000;
        } else {
            xsnapReportError(VIR_ERR_INVALID_ARG, _("unknown suffix '%1$s'"), suffix);
            return -1;
        }
        switch (g_ascii_tolower(*suffix)) {
        case 'e': scale *= base; G_GNUC_FALLTHROUGH;
        case 'p': scale *= base; G_GNUC_FALLTHROUGH;
        case 't': scale *= base; G_GNUC_FALLTHROUGH;
        case 'g': scale *= base; G_GNUC_FALLTHROUGH;
        case 'm': scale *= base; G_GNUC_FALLTHROUGH;
        case 'k': scale *= base; break;
        default:
            xsnapReportError(VIR_ERR_INVALID_ARG, _("unknown suffix '%1$s'"), suffix);
            return -1;
        }
    }

    if (*value && *value > limit / scale) {
        xsnapReportError(VIR_ERR_OVERFLOW, _("value too large: %1$llu%2$s"),
                         *value, suffix);
        return -1;
    }
    *value *= scale;
    return 0;
}


/* libvirt's virParseScaledValue(xpath, NULL, ctxt, val, 1, ULLONG_MAX, false). */
static int
xsnapParseScaledValue(const char *xpath, xmlXPathContextPtr ctxt,
                      unsigned long long *val)
{
    g_autofree char *expr = g_strdup_printf("string(%s)", xpath);
    g_autofree char *unitExpr = g_strdup_printf("string(%s/@unit)", xpath);
    g_autofree char *str = NULL;
    g_autofree char *unit = NULL;
    unsigned long long bytes;
    char *end;

    *val = 0;
    if (!(str = xsnapXPathString(expr, ctxt)))
        return 0;

    errno = 0;
    bytes = strtoull(str, &end, 10);
    if (errno || end == str || *end || memchr(str, '-', (size_t)(end - str))) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("Invalid value '%1$s' for element or attribute '%2$s'"),
                         str, xpath);
        return -1;
    }
    unit = xsnapXPathString(unitExpr, ctxt);
    if (xsnapScaleInteger(&bytes, unit, G_MAXUINT64) < 0)
        return -1;
    *val = bytes;
    return 1;
}


static bool
xsnapStorageTypeIsLocal(xsnapStorageType type)
{
    return type == XSNAP_STORAGE_TYPE_FILE ||
           type == XSNAP_STORAGE_TYPE_BLOCK ||
           type == XSNAP_STORAGE_TYPE_DIR;
}


static int
xsnapSnapshotDiskDefParseXML(xmlNodePtr node, xmlXPathContextPtr ctxt,
                             xsnapSnapshotDiskDef *disk, unsigned int flags)
{
    XSNAP_XPATH_NODE_SAVE(ctxt);
    g_autofree char *driver = NULL;
    xmlNodePtr cur;
    int snapshot;
    int type;
    int format;
    int ret = -1;

    ctxt->node = node;

    if (!(disk->name = xsnapXMLPropString(node, "name"))) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("missing name from disk snapshot element"));
        goto cleanup;
    }

    if (xsnapXMLPropEnumDefault(node, "snapshot", xsnapSnapshotLocationTypeFromString,
                                XSNAP_XML_PROP_NONZERO, &snapshot,
                                XSNAP_SNAPSHOT_LOCATION_DEFAULT) < 0)
        goto cleanup;
    disk->snapshot = snapshot;

    if (xsnapXMLPropEnumDefault(node, "type", xsnapStorageTypeFromString900,
                                XSNAP_XML_PROP_NONZERO, &type,
                                XSNAP_STORAGE_TYPE_FILE) < 0)
        goto cleanup;
    disk->type = type;

    if (disk->type == XSNAP_STORAGE_TYPE_VOLUME ||
        disk->type == XSNAP_STORAGE_TYPE_DIR) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("unsupported disk snapshot type '%1$s'"),
                         xsnapStorageTypeTypeToString(disk->type));
        goto cleanup;
    }

    if (flags & XSNAP_SNAPSHOT_PARSE_REDEFINE)
        disk->snapshotDeleteInProgress = !!xsnapXPathNode("./snapshotDeleteInProgress", ctxt);

    if ((cur = xsnapXPathNode("./source", ctxt)) &&
        xsnapSnapshotDiskSourceParse(cur, ctxt, disk) < 0)
        goto cleanup;

    if ((driver = xsnapXPathString("string(./driver/@type)", ctxt))) {
        if ((format = xsnapStorageFileFormatTypeFromString(driver)) <= 0) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("unknown disk snapshot driver '%1$s'"), driver);
            goto cleanup;
        }
        disk->format = g_strdup(xsnapStorageFileFormatTypeToString(format));
    }

    if (xsnapParseScaledValue("./driver/metadata_cache/max_size", ctxt,
                              &disk->metadataCacheMaxSize) < 0)
        goto cleanup;

    if (disk->path && xsnapStorageTypeIsLocal(disk->type) &&
        !g_path_is_absolute(disk->path)) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("disk snapshot image path '%1$s' must be absolute"),
                         disk->path);
        goto cleanup;
    }

    /* A disk given only a file or a format is an external snapshot. */
    if (disk->snapshot == XSNAP_SNAPSHOT_LOCATION_DEFAULT &&
        (disk->path || disk->format))
        disk->snapshot = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;

    ret = 0;

 cleanup:
    XSNAP_XPATH_NODE_RESTORE(ctxt);
    return ret;
}


static int
xsnapSnapshotDefParseMemory(xmlXPathContextPtr ctxt, xsnapSnapshotDef *def,
                            bool offline, unsigned int flags)
{
    xmlNodePtr memoryNode;

    if ((memoryNode = xsnapXPathNode("./memory", ctxt))) {
        int memory;

        def->memoryFile = xsnapXMLPropString(memoryNode, "file");
        if (xsnapXMLPropEnumDefault(memoryNode, "snapshot",
                                    xsnapSnapshotLocationTypeFromString,
                                    XSNAP_XML_PROP_NONZERO, &memory,
                                    XSNAP_SNAPSHOT_LOCATION_DEFAULT) < 0)
            return -1;
        def->memory = memory;

        if (def->memory == XSNAP_SNAPSHOT_LOCATION_MANUAL) {
            xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                             _("'manual' memory snapshot mode not supported"));
            return -1;
        }
    }

    if (def->memory == XSNAP_SNAPSHOT_LOCATION_DEFAULT) {
        if (def->memoryFile)
            def->memory = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
        else if (flags & XSNAP_SNAPSHOT_PARSE_REDEFINE)
            def->memory = offline ? XSNAP_SNAPSHOT_LOCATION_NO
                                  : XSNAP_SNAPSHOT_LOCATION_INTERNAL;
    }

    if (def->memoryFile && def->memory != XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("memory filename '%1$s' requires external snapshot"),
                         def->memoryFile);
        return -1;
    }

    if (!def->memoryFile && def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("external memory snapshots require a filename"));
        return -1;
    }

    if (offline &&
        def->memory != XSNAP_SNAPSHOT_LOCATION_DEFAULT &&
        def->memory != XSNAP_SNAPSHOT_LOCATION_NO) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("memory state cannot be saved with offline or disk-only snapshot"));
        return -1;
    }

    if (def->memoryFile && !g_path_is_absolute(def->memoryFile)) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("memory snapshot file path (%1$s) must be absolute"),
                         def->memoryFile);
        return -1;
    }
    return 0;
}


/* Parts only a redefinition carries: creation time, parent, state and
 * the domain definitions. Sets *offline from the state. */
static int
xsnapSnapshotDefParseRedefine(xmlXPathContextPtr ctxt, xsnapSnapshotDef *def,
                              bool *offline)
{
    g_autofree char *state = NULL;
    g_autofree char *domtype = NULL;
    xmlNodePtr node;
    int stateVal;

    if (xsnapXPathLongLong("string(./creationTime)", ctxt, &def->creationTime) < 0) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("missing creationTime from existing snapshot"));
        return -1;
    }

    def->parent_name = xsnapXPathString("string(./parent/name)", ctxt);

    if (!(state = xsnapXPathString("string(./state)", ctxt))) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("missing state from existing snapshot"));
        return -1;
    }
    if ((stateVal = xsnapSnapshotStateTypeFromString(state)) <= 0) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                         _("Invalid state '%1$s' in domain snapshot XML"), state);
        return -1;
    }
    def->state = stateVal;
    *offline = def->state == XSNAP_SNAPSHOT_STATE_SHUTOFF ||
               def->state == XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT;

    /* Old snapshots carry only <domain><uuid/></domain>, without a type:
     * libvirt drops such a domain, and so do we. */
    if ((domtype = xsnapXPathString("string(./domain/@type)", ctxt)) &&
        (node = xsnapXPathNode("./domain", ctxt)))
        def->domainXML = xsnapXMLNodeToString(node, NULL, XSNAP_XML_FORMAT_SECURE);

    if ((node = xsnapXPathNode("./inactiveDomain", ctxt)))
        def->inactiveDomainXML = xsnapXMLNodeToString(node, NULL,
                                                      XSNAP_XML_FORMAT_SECURE);
    return 0;
}


static xsnapSnapshotDef *
xsnapSnapshotDefParse(xmlXPathContextPtr ctxt, bool *current, unsigned int flags)
{
    g_autoptr(xsnapSnapshotDef) def = xsnapSnapshotDefNew();
    g_autofree xmlNodePtr *diskNodes = NULL;
    bool offline = !!(flags & XSNAP_SNAPSHOT_PARSE_OFFLINE);
    xmlNodePtr node;
    size_t i;
    int n;

    def->name = xsnapXPathString("string(./name)", ctxt);
    if (!def->name && (flags & XSNAP_SNAPSHOT_PARSE_REDEFINE)) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("a redefined snapshot must have a name"));
        return NULL;
    }

    def->description = xsnapXPathString("string(./description)", ctxt);

    if (flags & XSNAP_SNAPSHOT_PARSE_REDEFINE) {
        if (xsnapSnapshotDefParseRedefine(ctxt, def, &offline) < 0)
            return NULL;
    } else {
        def->creationTime = xsnapSnapshotNow();
        if (!def->name)
            def->name = g_strdup_printf("%lld", def->creationTime);
    }

    if (xsnapSnapshotDefParseMemory(ctxt, def, offline, flags) < 0)
        return NULL;

    if ((n = xsnapXPathNodeSet("./disks/*", ctxt, &diskNodes)) < 0)
        return NULL;
    if (n > 0)
        def->disks = g_new0(xsnapSnapshotDiskDef, n);
    def->ndisks = (size_t)n;
    for (i = 0; i < def->ndisks; i++) {
        if (xsnapSnapshotDiskDefParseXML(diskNodes[i], ctxt, &def->disks[i], flags) < 0)
            return NULL;
    }

    if (flags & XSNAP_SNAPSHOT_PARSE_INTERNAL) {
        int active;

        if (!current) {
            xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                             _("internal parse requested with NULL current"));
            return NULL;
        }
        if (xsnapXPathInt("string(./active)", ctxt, &active) < 0) {
            xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                             _("Could not find 'active' element"));
            return NULL;
        }
        *current = active != 0;
    }

    /* libvirt lets the driver's save-cookie callbacks read <cookie>;
     * ours keeps it as it is. */
    if (!offline && (node = xsnapXPathNode("./cookie", ctxt)))
        def->cookieXML = xsnapXMLNodeToString(node, NULL, XSNAP_XML_FORMAT_SECURE);

    return g_steal_pointer(&def);
}


static int
xsnapSnapshotCheckParseFlags(unsigned int flags)
{
    if (flags & ~XSNAP_SNAPSHOT_PARSE_ALL) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("unsupported flags (0x%1$x) in function %2$s"),
                         flags & ~XSNAP_SNAPSHOT_PARSE_ALL, "xsnapSnapshotDefParse");
        return -1;
    }
    return 0;
}


xsnapSnapshotDef *
xsnapSnapshotDefParseNode(xmlDocPtr doc, xmlNodePtr root, bool *current,
                          unsigned int flags)
{
    g_autoptr(xmlXPathContext) ctxt = NULL;

    if (xsnapSnapshotCheckParseFlags(flags) < 0)
        return NULL;

    if (!root || root->type != XML_ELEMENT_NODE ||
        !g_str_equal((const char *)root->name, "domainsnapshot")) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("expecting root element of '%1$s', not '%2$s'"),
                         "domainsnapshot",
                         root && root->name ? (const char *)root->name : "");
        return NULL;
    }

    if (flags & XSNAP_SNAPSHOT_PARSE_VALIDATE) {
        g_autofree char *schema = g_build_filename(XSNAP_SCHEMA_DIR,
                                                   "domainsnapshot.rng", NULL);
        if (xsnapXMLValidateSchema(doc, schema) < 0)
            return NULL;
    }

    if (!(ctxt = xsnapXMLXPathContextNew(doc, root)))
        return NULL;
    return xsnapSnapshotDefParse(ctxt, current, flags);
}


xsnapSnapshotDef *
xsnapSnapshotDefParseString(const char *xml, bool *current, unsigned int flags)
{
    g_autoptr(xmlDoc) doc = NULL;

    if (xsnapSnapshotCheckParseFlags(flags) < 0)
        return NULL;
    if (!(doc = xsnapXMLParseString(xml, _("(domain_snapshot)"),
                                    "domainsnapshot", NULL)))
        return NULL;
    return xsnapSnapshotDefParseNode(doc, xmlDocGetRootElement(doc), current, flags);
}


int
xsnapSnapshotDefValidateName(const char *name)
{
    if (!name)
        return 0;
    if (strchr(name, '/')) {
        xsnapReportError(VIR_ERR_XML_DETAIL,
                         _("invalid snapshot name '%1$s': name can't contain '/'"),
                         name);
        return -1;
    }
    if (name[0] == '.') {
        xsnapReportError(VIR_ERR_XML_DETAIL,
                         _("invalid snapshot name '%1$s': name can't start with '.'"),
                         name);
        return -1;
    }
    return 0;
}


bool
xsnapSnapshotDefIsExternal(const xsnapSnapshotDef *def)
{
    size_t i;

    if (def->memory == XSNAP_SNAPSHOT_LOCATION_EXTERNAL)
        return true;
    for (i = 0; i < def->ndisks; i++) {
        if (def->disks[i].snapshot == XSNAP_SNAPSHOT_LOCATION_EXTERNAL)
            return true;
    }
    return false;
}


/* ---- formatting ------------------------------------------------------- */

static void
xsnapSnapshotDiskSourceFormat(xsnapBuf *buf, const xsnapSnapshotDiskDef *disk)
{
    g_auto_xsnapBuf attrBuf = XSNAP_BUF_INIT;
    g_auto_xsnapBuf childBuf = XSNAP_BUF_INIT;
    size_t i;

    childBuf.indent = buf->indent + 2;

    switch (disk->type) {
    case XSNAP_STORAGE_TYPE_FILE:
        xsnapBufEscapeString(&attrBuf, " file='%s'", disk->path);
        break;
    case XSNAP_STORAGE_TYPE_BLOCK:
        xsnapBufEscapeString(&attrBuf, " dev='%s'", disk->path);
        break;
    case XSNAP_STORAGE_TYPE_NETWORK:
        xsnapBufAsprintf(&attrBuf, " protocol='%s'",
                         xsnapStorageNetProtocolTypeToString(disk->protocol));
        xsnapBufEscapeString(&attrBuf, " name='%s'", disk->path);
        xsnapBufEscapeString(&attrBuf, " query='%s'", disk->query);
        if (disk->tls != XSNAP_TRISTATE_ABSENT)
            xsnapBufAsprintf(&attrBuf, " tls='%s'", xsnapTristateTypeToString(disk->tls));
        xsnapBufEscapeString(&attrBuf, " tlsHostname='%s'", disk->tlsHostname);
        for (i = 0; i < disk->nhosts; i++) {
            const xsnapStorageNetHost *host = &disk->hosts[i];

            xsnapBufAdd(&childBuf, "<host");
            xsnapBufEscapeString(&childBuf, " name='%s'", host->name);
            if (host->port)
                xsnapBufAsprintf(&childBuf, " port='%u'", host->port);
            if (host->transport)
                xsnapBufAsprintf(&childBuf, " transport='%s'",
                                 xsnapStorageNetHostTransportTypeToString(host->transport));
            xsnapBufEscapeString(&childBuf, " socket='%s'", host->socket);
            xsnapBufAdd(&childBuf, "/>\n");
        }
        xsnapBufEscapeString(&childBuf, "<snapshot name='%s'/>\n", disk->snapshotName);
        xsnapBufEscapeString(&childBuf, "<config file='%s'/>\n", disk->configFile);
        break;
    case XSNAP_STORAGE_TYPE_NONE:
    case XSNAP_STORAGE_TYPE_DIR:
    case XSNAP_STORAGE_TYPE_VOLUME:
    case XSNAP_STORAGE_TYPE_NVME:
    case XSNAP_STORAGE_TYPE_VHOST_USER:
    case XSNAP_STORAGE_TYPE_VHOST_VDPA:
    case XSNAP_STORAGE_TYPE_LAST:
        /* Never produced by the parser: nothing to write. */
        break;
    }

    for (i = 0; i < disk->nseclabels; i++)
        xsnapXMLFormatString(&childBuf, disk->seclabels[i], NULL, XSNAP_XML_FORMAT_SECURE);

    xsnapBufFormatElement(buf, "source", &attrBuf, &childBuf);
}


static void
xsnapSnapshotDiskDefFormat(xsnapBuf *buf, const xsnapSnapshotDiskDef *disk)
{
    g_auto_xsnapBuf attrBuf = XSNAP_BUF_INIT;
    g_auto_xsnapBuf childBuf = XSNAP_BUF_INIT;

    if (!disk->name)
        return;

    childBuf.indent = buf->indent + 2;

    xsnapBufEscapeString(&attrBuf, " name='%s'", disk->name);
    if (disk->snapshot > 0)
        xsnapBufAsprintf(&attrBuf, " snapshot='%s'",
                         xsnapSnapshotLocationTypeToString(disk->snapshot));

    if (disk->snapshotDeleteInProgress)
        xsnapBufAdd(&childBuf, "<snapshotDeleteInProgress/>\n");

    if (disk->path || disk->format) {
        g_auto_xsnapBuf driverAttrBuf = XSNAP_BUF_INIT;
        g_auto_xsnapBuf driverChildBuf = XSNAP_BUF_INIT;

        driverChildBuf.indent = childBuf.indent + 2;

        xsnapBufAsprintf(&attrBuf, " type='%s'",
                         xsnapStorageTypeTypeToString(disk->type));

        xsnapBufEscapeString(&driverAttrBuf, " type='%s'", disk->format);

        if (disk->metadataCacheMaxSize > 0) {
            g_auto_xsnapBuf cacheChildBuf = XSNAP_BUF_INIT;
            g_auto_xsnapBuf noAttr = XSNAP_BUF_INIT;

            cacheChildBuf.indent = driverChildBuf.indent + 2;
            xsnapBufAsprintf(&cacheChildBuf,
                             "<max_size unit='bytes'>%llu</max_size>\n",
                             disk->metadataCacheMaxSize);
            xsnapBufFormatElement(&driverChildBuf, "metadata_cache",
                                  &noAttr, &cacheChildBuf);
        }

        xsnapBufFormatElement(&childBuf, "driver", &driverAttrBuf, &driverChildBuf);
        xsnapSnapshotDiskSourceFormat(&childBuf, disk);
    }

    xsnapBufFormatElement(buf, "disk", &attrBuf, &childBuf);
}


static int
xsnapSnapshotDefFormatInternal(xsnapBuf *buf, const xsnapSnapshotDef *def,
                               const char *uuidstr, unsigned int flags)
{
    unsigned int xmlflags = 0;
    size_t i;

    if (flags & XSNAP_SNAPSHOT_FORMAT_SECURE)
        xmlflags |= XSNAP_XML_FORMAT_SECURE;

    xsnapBufAdd(buf, "<domainsnapshot>\n");
    xsnapBufAdjustIndent(buf, 2);

    xsnapBufEscapeString(buf, "<name>%s</name>\n", def->name);
    xsnapBufEscapeString(buf, "<description>%s</description>\n", def->description);
    if (def->state)
        xsnapBufAsprintf(buf, "<state>%s</state>\n",
                         xsnapSnapshotStateTypeToString(def->state));

    if (def->parent_name) {
        xsnapBufAdd(buf, "<parent>\n");
        xsnapBufAdjustIndent(buf, 2);
        xsnapBufEscapeString(buf, "<name>%s</name>\n", def->parent_name);
        xsnapBufAdjustIndent(buf, -2);
        xsnapBufAdd(buf, "</parent>\n");
    }

    if (def->creationTime)
        xsnapBufAsprintf(buf, "<creationTime>%lld</creationTime>\n",
                         def->creationTime);

    if (def->memory) {
        xsnapBufAsprintf(buf, "<memory snapshot='%s'",
                         xsnapSnapshotLocationTypeToString(def->memory));
        xsnapBufEscapeString(buf, " file='%s'", def->memoryFile);
        xsnapBufAdd(buf, "/>\n");
    }

    if (def->ndisks) {
        xsnapBufAdd(buf, "<disks>\n");
        xsnapBufAdjustIndent(buf, 2);
        for (i = 0; i < def->ndisks; i++)
            xsnapSnapshotDiskDefFormat(buf, &def->disks[i]);
        xsnapBufAdjustIndent(buf, -2);
        xsnapBufAdd(buf, "</disks>\n");
    }

    if (def->domainXML) {
        if (xsnapXMLFormatString(buf, def->domainXML, "domain", xmlflags) < 0)
            return -1;
    } else if (uuidstr) {
        xsnapBufAdd(buf, "<domain>\n");
        xsnapBufAdjustIndent(buf, 2);
        xsnapBufEscapeString(buf, "<uuid>%s</uuid>\n", uuidstr);
        xsnapBufAdjustIndent(buf, -2);
        xsnapBufAdd(buf, "</domain>\n");
    }

    if (def->inactiveDomainXML &&
        xsnapXMLFormatString(buf, def->inactiveDomainXML, "inactiveDomain", xmlflags) < 0)
        return -1;

    if (def->cookieXML &&
        xsnapXMLFormatString(buf, def->cookieXML, "cookie", XSNAP_XML_FORMAT_SECURE) < 0)
        return -1;

    if (flags & XSNAP_SNAPSHOT_FORMAT_INTERNAL)
        xsnapBufAsprintf(buf, "<active>%d</active>\n",
                         !!(flags & XSNAP_SNAPSHOT_FORMAT_CURRENT));

    xsnapBufAdjustIndent(buf, -2);
    xsnapBufAdd(buf, "</domainsnapshot>\n");
    return 0;
}


char *
xsnapSnapshotDefFormatUUID(const xsnapSnapshotDef *def, const char *uuidstr,
                           unsigned int flags)
{
    g_auto_xsnapBuf buf = XSNAP_BUF_INIT;

    if (flags & ~XSNAP_SNAPSHOT_FORMAT_ALL) {
        xsnapReportError(VIR_ERR_INVALID_ARG,
                         _("unsupported flags (0x%1$x) in function %2$s"),
                         flags & ~XSNAP_SNAPSHOT_FORMAT_ALL, "xsnapSnapshotDefFormat");
        return NULL;
    }
    if (xsnapSnapshotDefFormatInternal(&buf, def, uuidstr, flags) < 0)
        return NULL;
    return xsnapBufContentAndReset(&buf);
}


char *
xsnapSnapshotDefFormat(const xsnapSnapshotDef *def, unsigned int flags)
{
    return xsnapSnapshotDefFormatUUID(def, NULL, flags);
}


/* ---- aligning with the domain's disks -------------------------------- */

void
xsnapDomainDiskDefListFree(xsnapDomainDiskDef *disks, size_t ndisks)
{
    size_t i;

    if (!disks)
        return;
    for (i = 0; i < ndisks; i++) {
        g_free(disks[i].dst);
        g_free(disks[i].device);
        g_free(disks[i].path);
        g_free(disks[i].format);
    }
    g_free(disks);
}


static int
xsnapDomainDiskDefParse(xmlNodePtr node, xmlXPathContextPtr ctxt,
                        xsnapDomainDiskDef *disk)
{
    XSNAP_XPATH_NODE_SAVE(ctxt);
    xmlNodePtr source;
    int type;
    int snapshot;
    int ret = -1;

    ctxt->node = node;

    if (xsnapXMLPropEnumDefault(node, "type", xsnapStorageTypeFromString900,
                                XSNAP_XML_PROP_NONE, &type,
                                XSNAP_STORAGE_TYPE_FILE) < 0)
        goto cleanup;
    disk->type = type;

    if (!(disk->device = xsnapXMLPropString(node, "device")))
        disk->device = g_strdup("disk");

    if (xsnapXMLPropEnum(node, "snapshot", xsnapSnapshotLocationTypeFromString,
                         XSNAP_XML_PROP_NONZERO, &snapshot) < 0)
        goto cleanup;
    disk->snapshot = snapshot;

    if (!(disk->dst = xsnapXPathString("string(./target/@dev)", ctxt))) {
        xsnapReportError(VIR_ERR_XML_ERROR, "%s",
                         _("missing target information for device"));
        goto cleanup;
    }

    if ((source = xsnapXPathNode("./source", ctxt))) {
        const char *attr = NULL;

        switch (disk->type) {
        case XSNAP_STORAGE_TYPE_FILE: attr = "file"; break;
        case XSNAP_STORAGE_TYPE_BLOCK: attr = "dev"; break;
        case XSNAP_STORAGE_TYPE_DIR: attr = "dir"; break;
        case XSNAP_STORAGE_TYPE_NETWORK: attr = "name"; break;
        case XSNAP_STORAGE_TYPE_NONE:
        case XSNAP_STORAGE_TYPE_VOLUME:
        case XSNAP_STORAGE_TYPE_NVME:
        case XSNAP_STORAGE_TYPE_VHOST_USER:
        case XSNAP_STORAGE_TYPE_VHOST_VDPA:
        case XSNAP_STORAGE_TYPE_LAST:
            break;
        }
        if (attr)
            disk->path = xsnapXMLPropString(source, attr);
        if (disk->path && !*disk->path)
            g_clear_pointer(&disk->path, g_free);
        if (disk->type == XSNAP_STORAGE_TYPE_NETWORK) {
            g_autofree char *protocol = xsnapXMLPropString(source, "protocol");
            int p = xsnapStorageNetProtocolTypeFromString(protocol);
            disk->protocol = p > 0 ? p : XSNAP_STORAGE_NET_PROTOCOL_NONE;
        }
    } else if (disk->type != XSNAP_STORAGE_TYPE_NETWORK) {
        /* Without <source> libvirt treats the disk as an empty file. */
        disk->type = XSNAP_STORAGE_TYPE_FILE;
    }

    disk->format = xsnapXPathString("string(./driver/@type)", ctxt);
    disk->readonly = !!xsnapXPathNode("./readonly", ctxt);

    /* libvirt's post-parse defaults of the disk's snapshot mode. */
    if (disk->snapshot == XSNAP_SNAPSHOT_LOCATION_DEFAULT && disk->readonly)
        disk->snapshot = XSNAP_SNAPSHOT_LOCATION_NO;
    if (disk->type == XSNAP_STORAGE_TYPE_VHOST_USER &&
        disk->snapshot == XSNAP_SNAPSHOT_LOCATION_DEFAULT)
        disk->snapshot = XSNAP_SNAPSHOT_LOCATION_NO;
    ret = 0;

 cleanup:
    XSNAP_XPATH_NODE_RESTORE(ctxt);
    return ret;
}


int
xsnapDomainDiskDefListParseString(const char *domainXML, xsnapDomainDiskDef **disks)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    xsnapDomainDiskDef *list = NULL;
    int n;
    int i;

    *disks = NULL;
    if (!(doc = xsnapXMLParseString(domainXML, _("(domain_definition)"), NULL, &ctxt)))
        return -1;
    if ((n = xsnapXPathNodeSet("./devices/disk", ctxt, &nodes)) < 0)
        return -1;
    if (n == 0)
        return 0;
    list = g_new0(xsnapDomainDiskDef, n);
    for (i = 0; i < n; i++) {
        if (xsnapDomainDiskDefParse(nodes[i], ctxt, &list[i]) < 0) {
            xsnapDomainDiskDefListFree(list, (size_t)n);
            return -1;
        }
    }
    *disks = list;
    return n;
}


/* libvirt's virDomainDiskIndexByName without ambiguity: a target name,
 * or a source path (starting with '/') that only one disk has. */
static int
xsnapDomainDiskIndexByName(const xsnapDomainDiskDef *disks, size_t ndisks,
                           const char *name)
{
    int candidate = -1;
    size_t i;

    for (i = 0; i < ndisks; i++) {
        if (*name != '/') {
            if (g_str_equal(disks[i].dst, name))
                return (int)i;
        } else if (disks[i].path && g_str_equal(disks[i].path, name)) {
            if (candidate >= 0)
                return -1;
            candidate = (int)i;
        }
    }
    return candidate;
}


static bool
xsnapDomainDiskIsEmpty(const xsnapDomainDiskDef *disk)
{
    if (xsnapStorageTypeIsLocal(disk->type) && !disk->path)
        return true;
    if (disk->type == XSNAP_STORAGE_TYPE_NONE)
        return true;
    if (disk->type == XSNAP_STORAGE_TYPE_NETWORK &&
        disk->protocol == XSNAP_STORAGE_NET_PROTOCOL_NONE)
        return true;
    return false;
}


/* Generates default external file names: the domain disk's source path
 * without its extension, plus ".<snapshot name>". */
static int
xsnapSnapshotDefAssignExternalNames(xsnapSnapshotDef *def,
                                    const xsnapDomainDiskDef *domDisks)
{
    size_t i;
    size_t j;

    for (i = 0; i < def->ndisks; i++) {
        xsnapSnapshotDiskDef *disk = &def->disks[i];
        const char *origpath;
        g_autofree char *base = NULL;
        char *dot;

        if (disk->snapshot != XSNAP_SNAPSHOT_LOCATION_EXTERNAL || disk->path)
            continue;

        if (disk->type != XSNAP_STORAGE_TYPE_FILE) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("cannot generate external snapshot name for disk '%1$s' on a '%2$s' device"),
                             disk->name, xsnapStorageTypeTypeToString(disk->type));
            return -1;
        }

        if (!(origpath = domDisks[i].path)) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("cannot generate external snapshot name for disk '%1$s' without source"),
                             disk->name);
            return -1;
        }

        if (!xsnapSnapshotPathIsRegularFile(origpath)) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("source for disk '%1$s' is not a regular file; refusing to generate external snapshot name"),
                             disk->name);
            return -1;
        }

        base = g_strdup(origpath);
        if ((dot = strrchr(base, '.')) && !strchr(dot, '/'))
            *dot = '\0';
        disk->path = g_strdup_printf("%s.%s", base, def->name);

        for (j = 0; j < i; j++) {
            if (def->disks[j].path && g_str_equal(disk->path, def->disks[j].path)) {
                xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                                 _("cannot generate external snapshot name for disk '%1$s': collision with disk '%2$s'"),
                                 disk->name, def->disks[j].name);
                return -1;
            }
        }
    }
    return 0;
}


int
xsnapSnapshotDefAlignDisksList(xsnapSnapshotDef *def,
                               const xsnapDomainDiskDef *domDisks,
                               size_t nDomDisks,
                               xsnapSnapshotLocation defaultLocation,
                               bool uniformInternal)
{
    g_autofree xsnapSnapshotDiskDef **byIndex = NULL;
    xsnapSnapshotDiskDef *newDisks = NULL;
    bool requireMatch = false;
    size_t i;

    if (def->ndisks > nDomDisks) {
        xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                         _("too many disk snapshot requests for domain"));
        return -1;
    }

    if (uniformInternal && defaultLocation == XSNAP_SNAPSHOT_LOCATION_INTERNAL)
        requireMatch = true;

    if (!nDomDisks)
        return 0;

    byIndex = g_new0(xsnapSnapshotDiskDef *, nDomDisks);

    /* Check the disks the definition names. */
    for (i = 0; i < def->ndisks; i++) {
        xsnapSnapshotDiskDef *snapdisk = &def->disks[i];
        const xsnapDomainDiskDef *domdisk;
        int idx = xsnapDomainDiskIndexByName(domDisks, nDomDisks, snapdisk->name);

        if (idx < 0) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("no disk named '%1$s'"), snapdisk->name);
            return -1;
        }
        domdisk = &domDisks[idx];

        if (byIndex[idx]) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("disk '%1$s' specified twice"), snapdisk->name);
            return -1;
        }
        byIndex[idx] = snapdisk;

        if (snapdisk->snapshot == XSNAP_SNAPSHOT_LOCATION_DEFAULT) {
            if (domdisk->snapshot != XSNAP_SNAPSHOT_LOCATION_DEFAULT &&
                (!requireMatch || domdisk->snapshot == XSNAP_SNAPSHOT_LOCATION_NO))
                snapdisk->snapshot = domdisk->snapshot;
            else
                snapdisk->snapshot = defaultLocation;
        } else if (requireMatch &&
                   snapdisk->snapshot != defaultLocation &&
                   !(snapdisk->snapshot == XSNAP_SNAPSHOT_LOCATION_NO &&
                     domdisk->snapshot == XSNAP_SNAPSHOT_LOCATION_NO)) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("disk '%1$s' must use snapshot mode '%2$s'"),
                             snapdisk->name,
                             xsnapSnapshotLocationTypeToString(defaultLocation));
            return -1;
        }

        if (snapdisk->path && snapdisk->snapshot != XSNAP_SNAPSHOT_LOCATION_EXTERNAL) {
            xsnapReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                             _("file '%1$s' for disk '%2$s' requires use of external snapshot mode"),
                             snapdisk->path, snapdisk->name);
            return -1;
        }

        if (!g_str_equal(snapdisk->name, domdisk->dst)) {
            g_free(snapdisk->name);
            snapdisk->name = g_strdup(domdisk->dst);
        }
    }

    /* Every disk checked: rebuild the list in the domain's order, with
     * defaults for the disks the definition left out. */
    newDisks = g_new0(xsnapSnapshotDiskDef, nDomDisks);
    for (i = 0; i < nDomDisks; i++) {
        xsnapSnapshotDiskDef *snapdisk = &newDisks[i];

        if (byIndex[i]) {
            *snapdisk = *byIndex[i];
            continue;
        }

        snapdisk->name = g_strdup(domDisks[i].dst);
        if (xsnapDomainDiskIsEmpty(&domDisks[i]))
            snapdisk->snapshot = XSNAP_SNAPSHOT_LOCATION_NO;
        else
            snapdisk->snapshot = domDisks[i].snapshot;
        snapdisk->type = XSNAP_STORAGE_TYPE_FILE;
        if (!snapdisk->snapshot)
            snapdisk->snapshot = defaultLocation;
    }
    g_free(def->disks);
    def->disks = newDisks;
    def->ndisks = nDomDisks;

    return xsnapSnapshotDefAssignExternalNames(def, domDisks);
}


int
xsnapSnapshotDefAlignDisks(xsnapSnapshotDef *def,
                           const char *existingDomainXML,
                           xsnapSnapshotLocation defaultLocation,
                           bool uniformInternal)
{
    const char *domainXML = def->domainXML ? def->domainXML : existingDomainXML;
    xsnapDomainDiskDef *disks = NULL;
    int n;
    int ret;

    if (!domainXML) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("missing domain in snapshot"));
        return -1;
    }
    if ((n = xsnapDomainDiskDefListParseString(domainXML, &disks)) < 0)
        return -1;
    ret = xsnapSnapshotDefAlignDisksList(def, disks, (size_t)n,
                                         defaultLocation, uniformInternal);
    xsnapDomainDiskDefListFree(disks, (size_t)n);
    return ret;
}


int
xsnapSnapshotDefRedefineAlign(xsnapSnapshotDef *def, const char *existingDomainXML)
{
    xsnapSnapshotLocation location = XSNAP_SNAPSHOT_LOCATION_INTERNAL;

    if (def->state == XSNAP_SNAPSHOT_STATE_DISK_SNAPSHOT ||
        xsnapSnapshotDefIsExternal(def))
        location = XSNAP_SNAPSHOT_LOCATION_EXTERNAL;
    return xsnapSnapshotDefAlignDisks(def, existingDomainXML, location, true);
}
