/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_img.h: run qemu-img (and other tools) safely, parse its JSON
 *
 * Processes run from an argument vector, never a shell; each has a
 * timeout after which it is killed, and its stderr becomes part of the
 * error message.
 */
#pragma once

#include "internal.h"

/*
 * Runs @argv (argv[0] looked up in PATH) with no stdin. Collects stdout
 * into @out (if non-NULL; caller frees) and stderr. The process is
 * killed after @timeoutMs. Returns 0 when it exits with status 0; else
 * -1 with an error reported that quotes its stderr.
 */
int xsnapCommandRun(const char *const *argv, unsigned int timeoutMs, char **out);

/* A command started by xsnapCommandStart and not yet waited for. */
typedef struct _xsnapCommand xsnapCommand;

/*
 * The first half of xsnapCommandRun: starts @argv and returns at once,
 * so that several commands (or other work) run side by side. The
 * timeout counts from here. Every command returned must be passed to
 * xsnapCommandWait exactly once. Returns NULL with an error reported.
 */
xsnapCommand *xsnapCommandStart(const char *const *argv, unsigned int timeoutMs);

/* The second half: waits for @cmd (and frees it); as xsnapCommandRun. */
int xsnapCommandWait(xsnapCommand *cmd, char **out);

/* The qemu-img binary: $XSNAP_QEMU_IMG, else "qemu-img" from PATH. */
const char *xsnapQemuImgBinary(void);

/* Timeout for each qemu-img run: $XSNAP_QEMU_IMG_TIMEOUT_MS, else 600 s. */
unsigned int xsnapQemuImgTimeoutMs(void);

typedef struct _xsnapQemuImgInfo xsnapQemuImgInfo;
struct _xsnapQemuImgInfo {
    char *format;         /* "qcow2", "raw", ... */
    char *backingFile;    /* as written in the image, or NULL */
    char *backingFormat;  /* or NULL */
    unsigned long long virtualSize;
    GStrv snapshots;      /* internal snapshot names, never NULL */
};

void xsnapQemuImgInfoFree(xsnapQemuImgInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xsnapQemuImgInfo, xsnapQemuImgInfoFree);

/*
 * Parses `qemu-img info --output=json` output. Returns a new info or NULL
 * with an error reported. Exposed for tests.
 */
xsnapQemuImgInfo *xsnapQemuImgInfoParse(const char *json, const char *path);

/*
 * Runs `qemu-img info --output=json -U [-f fmt] path`. @format may be NULL
 * to let qemu-img probe. Returns a new info or NULL with an error reported.
 */
xsnapQemuImgInfo *xsnapQemuImgGetInfo(const char *path, const char *format);

/* True when @info lists an internal snapshot named @name. */
bool xsnapQemuImgInfoHasSnapshot(const xsnapQemuImgInfo *info, const char *name);

typedef enum {
    XSNAP_QEMU_IMG_SNAPSHOT_CREATE,
    XSNAP_QEMU_IMG_SNAPSHOT_APPLY,
    XSNAP_QEMU_IMG_SNAPSHOT_DELETE,

    XSNAP_QEMU_IMG_SNAPSHOT_LAST
} xsnapQemuImgSnapshotOp;

/* `qemu-img snapshot -c|-a|-d name path`. Returns 0 or -1 with an error. */
int xsnapQemuImgSnapshot(xsnapQemuImgSnapshotOp op, const char *path,
                         const char *name);

/* Internal snapshot names of qcow2 image @path (like `qemu-img snapshot -l`); caller frees. */
int xsnapQemuImgSnapshotList(const char *path, GStrv *names);

/*
 * `qemu-img create -f qcow2 -F backingFormat -b backing path`.
 * Overwrites @path: callers reserve the name first.
 */
int xsnapQemuImgCreateOverlay(const char *path, const char *backing,
                              const char *backingFormat);

/* xsnapQemuImgCreateOverlay, started; see xsnapCommandStart. */
xsnapCommand *xsnapQemuImgCreateOverlayStart(const char *path, const char *backing,
                                             const char *backingFormat);

/* `qemu-img commit -f qcow2 -d [-b base] path`: writes qcow2 @path into @base (or its backing). */
int xsnapQemuImgCommit(const char *path, const char *base);

/* `qemu-img rebase -f qcow2 [-u] -F fmt -b backing path` on qcow2 @path. */
int xsnapQemuImgRebase(const char *path, const char *backing,
                       const char *backingFormat, bool unsafe);
