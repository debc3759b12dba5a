/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disktestutils.h: real QEMU device models and images for the disk tests
 *
 * QEMU is started the way the simulated Xen host starts it:
 * `-machine none -nodefaults` with one -blockdev format node per disk,
 * named after the disk's target, over a file node "<target>-file", and
 * no devices. Every QEMU started here is killed when the test exits,
 * even when it fails or crashes (parent-death signal plus atexit).
 */
#pragma once

#include "internal.h"
#include "qemu_monitor.h"

typedef struct _xsnapTestDisk xsnapTestDisk;
struct _xsnapTestDisk {
    const char *target;
    const char *path;
    const char *format;
};

typedef struct _xsnapTestQemu xsnapTestQemu;
struct _xsnapTestQemu {
    GPid pid;
    char *dir;
    char *qmpPath;
    char *outPath;     /* QEMU's stdout, where qemu-io prints */
    xsnapQemuMonitor *mon;
};

/* True when qemu-system-x86_64 and qemu-img can be run. */
bool xsnapTestHaveQemu(void);

/* Makes a fresh scratch directory @name under the test's temp dir. */
char *xsnapTestMakeDir(const char *name);

/* qemu-img create -f @format @path 1M. Returns 0 or -1. */
int xsnapTestCreateImage(const char *path, const char *format);

/* Starts QEMU in @dir serving @disks and opens its monitor. NULL on failure. */
xsnapTestQemu *xsnapTestQemuStart(const char *dir, const xsnapTestDisk *disks,
                                  size_t ndisks);

/* Quits (or kills) QEMU and frees @qemu; accepts NULL. */
void xsnapTestQemuStop(xsnapTestQemu *qemu);

/* Kills QEMU at once with SIGKILL and reaps it; the monitor stays open. */
void xsnapTestQemuKill(xsnapTestQemu *qemu);

/* Writes @pattern to [@offset, +64k) of node @node through HMP qemu-io. */
int xsnapTestQemuWrite(xsnapTestQemu *qemu, const char *node,
                       unsigned int pattern, unsigned int offset);

/* Reads [@offset, +64k) of node @node and checks it holds @pattern. */
int xsnapTestQemuCheck(xsnapTestQemu *qemu, const char *node,
                       unsigned int pattern, unsigned int offset);

/* Offline (qemu-io -U, read-only) check of image @path. */
int xsnapTestImageCheck(const char *path, const char *format,
                        unsigned int pattern, unsigned int offset);

/* Offline write of @pattern into image @path. */
int xsnapTestImageWrite(const char *path, const char *format,
                        unsigned int pattern, unsigned int offset);

/* Number of entries in directory @dir (to prove no file was left). */
int xsnapTestCountFiles(const char *dir);
