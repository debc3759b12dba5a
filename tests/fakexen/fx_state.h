/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_state.h: the simulated Xen host's domain table
 *
 * The table lives in files under one state directory so that every
 * process using the simulator (libvirtd, a C test, fakexen-ctl) sees the
 * same domains, and a libvirtd restart keeps them.  Layout:
 *
 *   <state>/lock                 flock()ed around every read-modify-write
 *   <state>/next-domid           the next domid to hand out
 *   <state>/domains/<domid>/
 *       domain.ini               fxDomain fields (GKeyFile, replaced atomically)
 *       config.json              libxl_domain_config as libxl's own JSON
 *       memory                   the guest-memory blob
 *       userdata-<userid>        libxl_userdata_store() payloads
 *       qemu.pid, qemu.log       the device model
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

typedef enum {
    FX_STATE_RUNNING,
    FX_STATE_PAUSED,
    FX_STATE_SHUTDOWN,
    FX_STATE_DYING,

    FX_STATE_LAST
} fxState;

/* Mirrors libxl_shutdown_reason; -1 is "none". */
#define FX_REASON_NONE (-1)
#define FX_REASON_POWEROFF 0
#define FX_REASON_REBOOT 1
#define FX_REASON_SUSPEND 2
#define FX_REASON_CRASH 3
#define FX_REASON_WATCHDOG 4
#define FX_REASON_SOFT_RESET 5

typedef struct _fxDomain fxDomain;
struct _fxDomain {
    uint32_t domid;
    char *name;
    char *uuid;            /* textual, may be NULL */
    fxState state;
    int reason;            /* FX_REASON_*, meaningful in FX_STATE_SHUTDOWN */
    int type;              /* libxl_domain_type */
    uint64_t memkb;        /* current */
    uint64_t maxmemkb;
    uint64_t blobsize;     /* bytes in the memory blob */
    int vcpus;
    pid_t dmpid;           /* device model, 0 if none */
    gint64 created;        /* monotonic-ish: g_get_real_time() */
    bool held;             /* state changes not yet announced to the toolstack */
    uint32_t shutdowns;    /* times it entered FX_STATE_SHUTDOWN */
    int lastReason;        /* FX_REASON_* of the latest of those */
};

/* Puts @dom into FX_STATE_SHUTDOWN with @reason, counting the entry. */
void fxDomainSetShutdown(fxDomain *dom, int reason);

const char *fxStateDir(void);
const char *fxQmpDir(void);
/* Size cap (bytes) of a guest-memory blob: FAKEXEN_MEM_MAX_KIB, default
 * 4096, at most FX_MEM_BLOB_CAP_KIB. */
#define FX_MEM_BLOB_CAP_KIB (1024ULL * 1024)
uint64_t fxMemBlobMax(void);
/* KiB per second at which a suspend writes guest memory, 0 for no
 * limit: <state>/save-rate-kib, set with `fakexen-ctl save-rate`. */
uint64_t fxSaveRateKib(void);

/* Takes the table lock (exclusive); returns a token for fxStateUnlock or -1. */
int fxStateLock(void);
void fxStateUnlock(int token);

/* Newly allocated path of @file inside domain @domid's directory. */
char *fxDomainPath(uint32_t domid, const char *file);

/* Loads a domain; NULL (errno ENOENT) when it does not exist. */
fxDomain *fxDomainLoad(uint32_t domid);
/* Writes @dom atomically; creates its directory.  0 or -1. */
int fxDomainSave(const fxDomain *dom);
/* Removes the domain and all its files. */
int fxDomainRemove(uint32_t domid);
void fxDomainFree(fxDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fxDomain, fxDomainFree)

/* Hands out a fresh domid (caller holds the lock). */
uint32_t fxDomainAllocId(void);
/* Sorted domids of all domains (not dom0); caller frees. */
uint32_t *fxDomainListIds(size_t *n);
/* Finds a domain by name; returns its domid or -1. */
int64_t fxDomainFindByName(const char *name);

const char *fxStateTypeToString(int state);
int fxStateTypeFromString(const char *str);
const char *fxReasonTypeToString(int reason);
int fxReasonTypeFromString(const char *str);

/* FNV-1a 64 over a buffer taken as little-endian 64-bit words (a tail
 * shorter than a word byte by byte), continuing from @h (start with
 * FX_FNV_INIT). To hash in pieces, make every piece but the last a
 * multiple of 8 bytes. */
#define FX_FNV_INIT 0xcbf29ce484222325ULL
uint64_t fxHash(uint64_t h, const void *buf, size_t len);

/* Full read/write loops; 0 or -1 with errno. */
int fxReadFull(int fd, void *buf, size_t len);
int fxWriteFull(int fd, const void *buf, size_t len);

/* True when @pid is a live device model process of ours. */
bool fxDmAlive(pid_t pid);
/* Stops a device model process: SIGTERM, then SIGKILL after a while. */
void fxDmKill(pid_t pid);
