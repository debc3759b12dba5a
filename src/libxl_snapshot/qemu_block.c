/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_block.c: typed QMP block commands and the disk -> node mapping
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "qemu_block.h"
#include "util_error.h"

#define XSNAP_NULLSTR(s) ((s) ? (s) : "-")


static void
xsnapBlockNodeFree(xsnapBlockNode *node)
{
    if (!node)
        return;
    g_free(node->nodeName);
    g_free(node->driver);
    g_free(node->filename);
    g_strfreev(node->snapshots);
    g_strfreev(node->backingFiles);
    g_strfreev(node->backingFormats);
    g_free(node);
}


void
xsnapBlockNodeListFree(xsnapBlockNodeList *list)
{
    if (!list)
        return;
    if (list->nodes)
        g_ptr_array_unref(list->nodes);
    if (list->deviceNodes)
        g_hash_table_unref(list->deviceNodes);
    g_free(list);
}


static bool
xsnapBlockDriverIsProtocol(const char *drv)
{
    static const char *const protocols[] = {
        "file", "host_device", "host_cdrom", "nbd", "null-co", "null-aio", NULL
    };

    return drv && g_strv_contains(protocols, drv);
}


/* The backing chain of an ImageInfo, capped like libvirt's chains. */
static void
xsnapBlockNodeParseBacking(xsnapBlockNode *node, json_object *image)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) formats = g_ptr_array_new_with_free_func(g_free);
    json_object *cur = image;
    json_object *next;

    while (cur && files->len < 200 &&
           json_object_object_get_ex(cur, "backing-image", &next) &&
           json_object_is_type(next, json_type_object)) {
        const char *file = xsnapJSONGetString(next, "filename");
        const char *format = xsnapJSONGetString(next, "format");

        if (!file || !format)
            break;
        g_ptr_array_add(files, g_strdup(file));
        g_ptr_array_add(formats, g_strdup(format));
        cur = next;
    }
    g_ptr_array_add(files, NULL);
    g_ptr_array_add(formats, NULL);
    node->backingFiles = (GStrv)g_ptr_array_free(g_steal_pointer(&files), FALSE);
    node->backingFormats = (GStrv)g_ptr_array_free(g_steal_pointer(&formats), FALSE);
}


static xsnapBlockNode *
xsnapBlockNodeParse(json_object *obj)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    xsnapBlockNode *node;
    json_object *val;
    json_object *image = NULL;
    const char *nodeName = xsnapJSONGetString(obj, "node-name");

    if (!json_object_is_type(obj, json_type_object) || !nodeName)
        return NULL;
    node = g_new0(xsnapBlockNode, 1);
    node->nodeName = g_strdup(nodeName);
    node->driver = g_strdup(xsnapJSONGetString(obj, "drv"));
    node->filename = g_strdup(xsnapJSONGetString(obj, "file"));
    if (json_object_object_get_ex(obj, "ro", &val))
        node->readOnly = json_object_get_boolean(val);
    if (json_object_object_get_ex(obj, "image", &image) &&
        json_object_object_get_ex(image, "snapshots", &val) &&
        json_object_is_type(val, json_type_array)) {
        size_t n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++) {
            const char *name = xsnapJSONGetString(json_object_array_get_idx(val, i),
                                                  "name");
            if (name)
                g_ptr_array_add(names, g_strdup(name));
        }
    }
    g_ptr_array_add(names, NULL);
    node->snapshots = (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
    /* Filled from query-block: the flat node list has no backing images. */
    xsnapBlockNodeParseBacking(node, NULL);
    /* Without the graph, assume protocol nodes sit under a format node. */
    node->hasParent = xsnapBlockDriverIsProtocol(node->driver);
    return node;
}


/* Marks nodes used by another block node, from x-debug-query-block-graph. */
static int
xsnapQemuBlockQueryParents(xsnapQemuMonitor *mon, xsnapBlockNodeList *list)
{
    json_object *graph = NULL;
    json_object *nodes;
    json_object *edges;
    g_autoptr(GHashTable) idName = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GHashTable) driverIds = g_hash_table_new(g_direct_hash, g_direct_equal);
    size_t i;

    if (xsnapQemuMonitorCommand(mon,
                                xsnapQemuMonitorCommandNew("x-debug-query-block-graph", NULL),
                                json_type_object, &graph) < 0) {
        const char *klass = xsnapQemuMonitorLastErrorClass(mon);
        if (klass && g_str_equal(klass, "CommandNotFound")) {
            xsnapResetLastError();
            return 0;
        }
        return -1;
    }
    if (!json_object_object_get_ex(graph, "nodes", &nodes) ||
        !json_object_is_type(nodes, json_type_array) ||
        !json_object_object_get_ex(graph, "edges", &edges) ||
        !json_object_is_type(edges, json_type_array)) {
        json_object_put(graph);
        xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s",
                         _("QEMU returned a block graph without nodes or edges"));
        return -1;
    }

    for (i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i);
        const char *type = xsnapJSONGetString(n, "type");
        const char *name = xsnapJSONGetString(n, "name");
        json_object *id;

        if (!json_object_object_get_ex(n, "id", &id))
            continue;
        if (name)
            g_hash_table_insert(idName, GINT_TO_POINTER(json_object_get_int(id)),
                                (gpointer)name);
        if (type && g_str_equal(type, "block-driver"))
            g_hash_table_add(driverIds, GINT_TO_POINTER(json_object_get_int(id)));
    }

    for (i = 0; i < list->nodes->len; i++)
        ((xsnapBlockNode *)g_ptr_array_index(list->nodes, i))->hasParent = false;

    for (i = 0; i < json_object_array_length(edges); i++) {
        json_object *e = json_object_array_get_idx(edges, i);
        json_object *parent;
        json_object *child;
        const char *childName;

        if (!json_object_object_get_ex(e, "parent", &parent) ||
            !json_object_object_get_ex(e, "child", &child))
            continue;
        if (!g_hash_table_contains(driverIds,
                                   GINT_TO_POINTER(json_object_get_int(parent))))
            continue;
        childName = g_hash_table_lookup(idName,
                                        GINT_TO_POINTER(json_object_get_int(child)));
        if (!childName)
            continue;
        for (size_t j = 0; j < list->nodes->len; j++) {
            xsnapBlockNode *node = g_ptr_array_index(list->nodes, j);
            if (g_str_equal(node->nodeName, childName))
                node->hasParent = true;
        }
    }
    json_object_put(graph);
    return 0;
}


/* Records device name and qdev id -> root node, from query-block. */
static int
xsnapQemuBlockQueryDevices(xsnapQemuMonitor *mon, xsnapBlockNodeList *list)
{
    json_object *devs = NULL;

    if (xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew("query-block", NULL),
                                json_type_array, &devs) < 0)
        return -1;

    for (size_t i = 0; i < json_object_array_length(devs); i++) {
        json_object *dev = json_object_array_get_idx(devs, i);
        json_object *inserted;
        const char *node;
        const char *device = xsnapJSONGetString(dev, "device");
        const char *qdev = xsnapJSONGetString(dev, "qdev");

        json_object *image;

        if (!json_object_object_get_ex(dev, "inserted", &inserted) ||
            !(node = xsnapJSONGetString(inserted, "node-name")))
            continue;
        if (json_object_object_get_ex(inserted, "image", &image)) {
            for (size_t j = 0; j < list->nodes->len; j++) {
                xsnapBlockNode *n = g_ptr_array_index(list->nodes, j);

                if (g_str_equal(n->nodeName, node)) {
                    g_strfreev(n->backingFiles);
                    g_strfreev(n->backingFormats);
                    xsnapBlockNodeParseBacking(n, image);
                }
            }
        }
        if (device && *device)
            g_hash_table_insert(list->deviceNodes, g_strdup(device), g_strdup(node));
        if (qdev && *qdev) {
            /* "/machine/peripheral/<id>/..." names the device by its id. */
            const char *prefix = "/machine/peripheral/";
            g_hash_table_insert(list->deviceNodes, g_strdup(qdev), g_strdup(node));
            if (g_str_has_prefix(qdev, prefix)) {
                g_autofree char *id = g_strdup(qdev + strlen(prefix));
                char *slash = strchr(id, '/');
                if (slash)
                    *slash = '\0';
                if (*id)
                    g_hash_table_insert(list->deviceNodes, g_steal_pointer(&id),
                                        g_strdup(node));
            }
        }
    }
    json_object_put(devs);
    return 0;
}


xsnapBlockNodeList *
xsnapQemuBlockQuery(xsnapQemuMonitor *mon)
{
    g_autoptr(xsnapBlockNodeList) list = g_new0(xsnapBlockNodeList, 1);
    json_object *args = json_object_new_object();
    json_object *nodes = NULL;

    list->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)xsnapBlockNodeFree);
    list->deviceNodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    xsnapJSONAddBool(args, "flat", true);
    if (xsnapQemuMonitorCommand(mon,
                                xsnapQemuMonitorCommandNew("query-named-block-nodes", args),
                                json_type_array, &nodes) < 0)
        return NULL;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        xsnapBlockNode *node = xsnapBlockNodeParse(json_object_array_get_idx(nodes, i));
        if (!node) {
            json_object_put(nodes);
            xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s",
                             _("QEMU listed a block node without a node name"));
            return NULL;
        }
        g_ptr_array_add(list->nodes, node);
    }
    json_object_put(nodes);

    if (xsnapQemuBlockQueryParents(mon, list) < 0 ||
        xsnapQemuBlockQueryDevices(mon, list) < 0)
        return NULL;
    return g_steal_pointer(&list);
}


/* Same file: equal names, or names that resolve to the same file. */
static bool
xsnapSameFile(const char *a, const char *b)
{
    g_autofree char *ra = NULL;
    g_autofree char *rb = NULL;

    if (!a || !b)
        return false;
    if (g_str_equal(a, b))
        return true;
    ra = realpath(a, NULL);
    rb = realpath(b, NULL);
    return ra && rb && g_str_equal(ra, rb);
}


const xsnapBlockNode *
xsnapBlockNodeListFindNode(const xsnapBlockNodeList *list, const char *nodeName)
{
    for (size_t i = 0; i < list->nodes->len; i++) {
        const xsnapBlockNode *node = g_ptr_array_index(list->nodes, i);
        if (g_str_equal(node->nodeName, nodeName))
            return node;
    }
    return NULL;
}


const xsnapBlockNode *
xsnapBlockNodeListFindImage(const xsnapBlockNodeList *list, const char *path)
{
    const xsnapBlockNode *found = NULL;

    for (size_t i = 0; i < list->nodes->len; i++) {
        const xsnapBlockNode *node = g_ptr_array_index(list->nodes, i);
        if (xsnapBlockDriverIsProtocol(node->driver) ||
            !xsnapSameFile(node->filename, path))
            continue;
        /* The top-most format node of that file wins (e.g. raw over qcow2 is not used). */
        if (!found || found->hasParent)
            found = node;
    }
    return found;
}


const xsnapBlockNode *
xsnapBlockNodeListFindDisk(const xsnapBlockNodeList *list, const char *target,
                           const char *path)
{
    const xsnapBlockNode *found = NULL;
    bool servedBelow = false;
    size_t matches = 0;
    const char *nodeName;

    if (path) {
        for (size_t i = 0; i < list->nodes->len; i++) {
            const xsnapBlockNode *node = g_ptr_array_index(list->nodes, i);
            if (!xsnapSameFile(node->filename, path))
                continue;
            if (node->hasParent) {
                servedBelow = true;
                continue;
            }
            if (!found || (target && g_str_equal(node->nodeName, target)))
                found = node;
            matches++;
        }
        if (matches > 1 && !(target && g_str_equal(found->nodeName, target))) {
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("image '%1$s' of disk '%2$s' is the active layer of more than one QEMU block node"),
                             path, XSNAP_NULLSTR(target));
            return NULL;
        }
        if (found)
            return found;
        if (servedBelow) {
            xsnapReportError(VIR_ERR_OPERATION_INVALID,
                             _("image '%1$s' of disk '%2$s' is not the active layer in QEMU"),
                             path, XSNAP_NULLSTR(target));
            return NULL;
        }
    }

    if (target) {
        if ((nodeName = g_hash_table_lookup(list->deviceNodes, target)) &&
            (found = xsnapBlockNodeListFindNode(list, nodeName)))
            return found;
        if ((found = xsnapBlockNodeListFindNode(list, target)) && !found->hasParent &&
            !path)
            return found;
    }

    xsnapReportError(VIR_ERR_OPERATION_INVALID,
                     _("disk '%1$s' with image '%2$s' is not served by the device model"),
                     XSNAP_NULLSTR(target), XSNAP_NULLSTR(path));
    return NULL;
}


int
xsnapQemuBlockdevAddOverlay(xsnapQemuMonitor *mon, const char *nodeName,
                            const char *path)
{
    json_object *args = json_object_new_object();
    json_object *file = json_object_new_object();

    xsnapJSONAddString(file, "driver", "file");
    xsnapJSONAddString(file, "filename", path);
    xsnapJSONAddString(args, "driver", "qcow2");
    xsnapJSONAddString(args, "node-name", nodeName);
    xsnapJSONAddObject(args, "file", file);
    /* The backing is attached by blockdev-snapshot inside the transaction. */
    xsnapJSONAddNull(args, "backing");
    return xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew("blockdev-add", args),
                                   json_type_object, NULL);
}


int
xsnapQemuBlockdevDel(xsnapQemuMonitor *mon, const char *nodeName)
{
    json_object *args = json_object_new_object();

    xsnapJSONAddString(args, "node-name", nodeName);
    return xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew("blockdev-del", args),
                                   json_type_object, NULL);
}


static json_object *
xsnapQemuAction(const char *type, json_object *data)
{
    json_object *action = json_object_new_object();

    xsnapJSONAddString(action, "type", type);
    xsnapJSONAddObject(action, "data", data);
    return action;
}


json_object *
xsnapQemuActionSnapshotInternal(const char *node, const char *name)
{
    json_object *data = json_object_new_object();

    xsnapJSONAddString(data, "device", node);
    xsnapJSONAddString(data, "name", name);
    return xsnapQemuAction("blockdev-snapshot-internal-sync", data);
}


json_object *
xsnapQemuActionSnapshotExternal(const char *node, const char *overlay)
{
    json_object *data = json_object_new_object();

    xsnapJSONAddString(data, "node", node);
    xsnapJSONAddString(data, "overlay", overlay);
    return xsnapQemuAction("blockdev-snapshot", data);
}


int
xsnapQemuTransaction(xsnapQemuMonitor *mon, json_object *actions)
{
    if (xsnapQemuTransactionStart(mon, actions) < 0)
        return -1;
    return xsnapQemuTransactionFinish(mon);
}


int
xsnapQemuTransactionStart(xsnapQemuMonitor *mon, json_object *actions)
{
    json_object *args = json_object_new_object();

    xsnapJSONAddObject(args, "actions", actions);
    return xsnapQemuMonitorCommandStart(mon, xsnapQemuMonitorCommandNew("transaction", args));
}


int
xsnapQemuTransactionFinish(xsnapQemuMonitor *mon)
{
    return xsnapQemuMonitorCommandFinish(mon, json_type_object, NULL);
}


int
xsnapQemuSnapshotDeleteInternal(xsnapQemuMonitor *mon, const char *node,
                                const char *name)
{
    json_object *args = json_object_new_object();

    xsnapJSONAddString(args, "device", node);
    xsnapJSONAddString(args, "name", name);
    return xsnapQemuMonitorCommand(mon,
                                   xsnapQemuMonitorCommandNew("blockdev-snapshot-delete-internal-sync",
                                                              args),
                                   json_type_object, NULL);
}


int
xsnapQemuBlockCommit(xsnapQemuMonitor *mon, const char *jobId,
                     const char *device, const char *topNode,
                     const char *baseNode)
{
    json_object *args = json_object_new_object();

    xsnapJSONAddString(args, "job-id", jobId);
    xsnapJSONAddString(args, "device", device);
    if (topNode)
        xsnapJSONAddString(args, "top-node", topNode);
    if (baseNode)
        xsnapJSONAddString(args, "base-node", baseNode);
    xsnapJSONAddBool(args, "auto-dismiss", false);
    return xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew("block-commit", args),
                                   json_type_object, NULL);
}


void
xsnapQemuJobInfoClear(xsnapQemuJobInfo *info)
{
    g_clear_pointer(&info->status, g_free);
    g_clear_pointer(&info->error, g_free);
    info->current = info->total = 0;
}


int
xsnapQemuJobQuery(xsnapQemuMonitor *mon, const char *jobId, xsnapQemuJobInfo *info)
{
    json_object *jobs = NULL;
    int ret = 0;

    xsnapQemuJobInfoClear(info);
    if (xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew("query-jobs", NULL),
                                json_type_array, &jobs) < 0)
        return -1;
    for (size_t i = 0; i < json_object_array_length(jobs); i++) {
        json_object *job = json_object_array_get_idx(jobs, i);
        const char *id = xsnapJSONGetString(job, "id");
        json_object *val;

        if (!id || !g_str_equal(id, jobId))
            continue;
        info->status = g_strdup(xsnapJSONGetString(job, "status"));
        info->error = g_strdup(xsnapJSONGetString(job, "error"));
        if (json_object_object_get_ex(job, "current-progress", &val))
            info->current = (unsigned long long)json_object_get_int64(val);
        if (json_object_object_get_ex(job, "total-progress", &val))
            info->total = (unsigned long long)json_object_get_int64(val);
        if (!info->status)
            info->status = g_strdup("unknown");
        ret = 1;
        break;
    }
    json_object_put(jobs);
    return ret;
}


static int
xsnapQemuJobCommand(xsnapQemuMonitor *mon, const char *cmd, const char *jobId)
{
    json_object *args = json_object_new_object();

    xsnapJSONAddString(args, "id", jobId);
    return xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew(cmd, args),
                                   json_type_object, NULL);
}


int
xsnapQemuJobComplete(xsnapQemuMonitor *mon, const char *jobId)
{
    return xsnapQemuJobCommand(mon, "job-complete", jobId);
}


int
xsnapQemuJobDismiss(xsnapQemuMonitor *mon, const char *jobId)
{
    return xsnapQemuJobCommand(mon, "job-dismiss", jobId);
}


int
xsnapQemuJobCancel(xsnapQemuMonitor *mon, const char *jobId)
{
    return xsnapQemuJobCommand(mon, "job-cancel", jobId);
}


int
xsnapQemuHumanCommand(xsnapQemuMonitor *mon, const char *cmdline, char **out)
{
    json_object *args = json_object_new_object();
    json_object *ret = NULL;

    xsnapJSONAddString(args, "command-line", cmdline);
    if (xsnapQemuMonitorCommand(mon,
                                xsnapQemuMonitorCommandNew("human-monitor-command", args),
                                json_type_string, &ret) < 0)
        return -1;
    if (out)
        *out = g_strdup(json_object_get_string(ret));
    json_object_put(ret);
    return 0;
}
