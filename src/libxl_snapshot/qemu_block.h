/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_block.h: typed QMP block commands and the disk -> node mapping
 */
#pragma once

#include "qemu_monitor.h"

typedef struct _xsnapBlockNode xsnapBlockNode;
struct _xsnapBlockNode {
    char *nodeName;
    char *driver;       /* "qcow2", "raw", "file", ... */
    char *filename;
    bool readOnly;
    bool hasParent;     /* some other block node uses it (file, backing, ...) */
    GStrv snapshots;    /* internal snapshot names; never NULL */
    /* The image's backing chain below it as QEMU sees it, top first:
     * file names and their formats, the same length; never NULL. Known
     * for the nodes a device uses (query-block's image.backing-image),
     * empty for the others. */
    GStrv backingFiles;
    GStrv backingFormats;
};

typedef struct _xsnapBlockNodeList xsnapBlockNodeList;
struct _xsnapBlockNodeList {
    GPtrArray *nodes;        /* xsnapBlockNode * */
    GHashTable *deviceNodes; /* device name or qdev id -> root node name */
};

void xsnapBlockNodeListFree(xsnapBlockNodeList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapBlockNodeList, xsnapBlockNodeListFree);

/*
 * Reads every named node (query-named-block-nodes), the graph's parent
 * links (x-debug-query-block-graph, when QEMU has it) and the devices
 * (query-block). Returns a new list or NULL with an error reported.
 */
xsnapBlockNodeList *xsnapQemuBlockQuery(xsnapQemuMonitor *mon);

/*
 * Finds the active (top, format) node serving the domain disk @target
 * whose active image is @path (either may be NULL, not both): by the file
 * name of the active layer, else by a device/qdev id or node name equal
 * to @target. Returns the node (owned by @list) or NULL with an error.
 */
const xsnapBlockNode *xsnapBlockNodeListFindDisk(const xsnapBlockNodeList *list,
                                                 const char *target,
                                                 const char *path);

/* Finds the format node of image @path anywhere in the graph, or NULL (no error). */
const xsnapBlockNode *xsnapBlockNodeListFindImage(const xsnapBlockNodeList *list,
                                                  const char *path);

/* Finds a node by name, or NULL (no error). */
const xsnapBlockNode *xsnapBlockNodeListFindNode(const xsnapBlockNodeList *list,
                                                 const char *nodeName);

/* blockdev-add of a qcow2 node over a file node, with no backing attached. */
int xsnapQemuBlockdevAddOverlay(xsnapQemuMonitor *mon, const char *nodeName,
                                const char *path);

/* blockdev-del @nodeName. */
int xsnapQemuBlockdevDel(xsnapQemuMonitor *mon, const char *nodeName);

/* Transaction actions; each returns a new object for xsnapQemuTransaction. */
json_object *xsnapQemuActionSnapshotInternal(const char *node, const char *name);
json_object *xsnapQemuActionSnapshotExternal(const char *node, const char *overlay);

/* Runs @actions (ownership taken) as one QMP transaction. */
int xsnapQemuTransaction(xsnapQemuMonitor *mon, json_object *actions);
/* The same in two halves (see xsnapQemuMonitorCommandStart). */
int xsnapQemuTransactionStart(xsnapQemuMonitor *mon, json_object *actions);
int xsnapQemuTransactionFinish(xsnapQemuMonitor *mon);

/* blockdev-snapshot-delete-internal-sync on @node. */
int xsnapQemuSnapshotDeleteInternal(xsnapQemuMonitor *mon, const char *node,
                                    const char *name);

/*
 * block-commit as job @jobId on root node @device, from @topNode (NULL:
 * the active layer) into @baseNode (NULL: the bottom of the chain); the
 * job is not dismissed automatically.
 */
int xsnapQemuBlockCommit(xsnapQemuMonitor *mon, const char *jobId,
                         const char *device, const char *topNode,
                         const char *baseNode);

typedef struct _xsnapQemuJobInfo xsnapQemuJobInfo;
struct _xsnapQemuJobInfo {
    char *status;        /* "running", "ready", "concluded", ... */
    char *error;         /* set when a concluded job failed */
    unsigned long long current;
    unsigned long long total;
};

void xsnapQemuJobInfoClear(xsnapQemuJobInfo *info);

/* query-jobs for @jobId. Returns 1 found, 0 gone, -1 error. */
int xsnapQemuJobQuery(xsnapQemuMonitor *mon, const char *jobId,
                      xsnapQemuJobInfo *info);

/* job-complete / job-dismiss / job-cancel for @jobId. */
int xsnapQemuJobComplete(xsnapQemuMonitor *mon, const char *jobId);
int xsnapQemuJobDismiss(xsnapQemuMonitor *mon, const char *jobId);
int xsnapQemuJobCancel(xsnapQemuMonitor *mon, const char *jobId);

/* human-monitor-command; stores the HMP output in @out (caller frees). */
int xsnapQemuHumanCommand(xsnapQemuMonitor *mon, const char *cmdline, char **out);
