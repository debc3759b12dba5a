/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_dm.h: the device model of a simulated domain (a real QEMU)
 *
 * Each running domain has one QEMU:
 *   qemu-system-x86_64 -machine none -nodefaults -display none
 * whose QMP sockets are <qmpdir>/qmp-libxl-<domid> (the one libxl uses)
 * and <qmpdir>/qmp-libxenstat-<domid>, as on a real Xen host.
 *
 * Each disk becomes a "-drive if=none" block backend with no guest
 * device ("-machine none" has no bus).  Names, for a disk with vdev V:
 *   block backend (query-block "device", HMP qemu-io target)   V
 *   format node (node-name)                                    fx-V
 *   protocol node (file.node-name)                             fx-V-file
 * A real qemu-xen names its backends differently (ide0-hd0, or
 * generated names for qdisk); code that must work on both should find a
 * disk by its file name in query-block (inserted.file), which is the
 * same on both.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct _fxDmDisk fxDmDisk;
struct _fxDmDisk {
    const char *vdev;
    const char *path;
    const char *format;     /* QEMU driver name: raw, qcow2, ... */
    bool readonly;
};

/*
 * Starts the device model of domain @domid and waits until its QMP
 * sockets accept connections.  On success stores the QEMU pid in @pid
 * and returns 0; on failure returns -1 and sets @err to a message
 * (caller frees).
 */
int fxDmStart(uint32_t domid, const fxDmDisk *disks, size_t ndisks,
              pid_t *pid, char **err);

/* Stops QEMU @pid of domain @domid and removes its sockets. */
void fxDmStop(uint32_t domid, pid_t pid);

/* Newly allocated path of a QMP socket: kind is "libxl" or "libxenstat". */
char *fxDmQmpPath(uint32_t domid, const char *kind);

/* The pty of the domain's serial0 console from QEMU's log, or NULL. */
char *fxDmConsolePty(uint32_t domid);
