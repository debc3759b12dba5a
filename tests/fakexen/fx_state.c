/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_state.c: the simulated Xen host's domain table, kept in files
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "fx_state.h"

static const char *const fxStateNames[FX_STATE_LAST] = {
    "running", "paused", "shutdown", "dying",
};

static const char *const fxReasonNames[] = {
    "poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset",
};

const char *
fxStateTypeToString(int state)
{
    if (state < 0 || state >= FX_STATE_LAST)
        return NULL;
    return fxStateNames[state];
}

int
fxStateTypeFromString(const char *str)
{
    int i;
    for (i = 0; str && i < FX_STATE_LAST; i++)
        if (g_str_equal(str, fxStateNames[i]))
            return i;
    return -1;
}

const char *
fxReasonTypeToString(int reason)
{
    if (reason < 0 || reason >= (int)G_N_ELEMENTS(fxReasonNames))
        return "none";
    return fxReasonNames[reason];
}

int
fxReasonTypeFromString(const char *str)
{
    int i;
    for (i = 0; str && i < (int)G_N_ELEMENTS(fxReasonNames); i++)
        if (g_str_equal(str, fxReasonNames[i]))
            return i;
    return FX_REASON_NONE;
}

const char *
fxStateDir(void)
{
    const char *dir = g_getenv("FAKEXEN_STATE_DIR");
    return dir && *dir ? dir : "/run/fakexen";
}

const char *
fxQmpDir(void)
{
    const char *dir = g_getenv("FAKEXEN_QMP_DIR");
    return dir && *dir ? dir : "/var/run/xen";
}

uint64_t
fxMemBlobMax(void)
{
    const char *s = g_getenv("FAKEXEN_MEM_MAX_KIB");
    guint64 kib = 4096;

    if (s && *s)
        kib = g_ascii_strtoull(s, NULL, 10);
    if (kib < 4)
        kib = 4;
    if (kib > FX_MEM_BLOB_CAP_KIB)
        kib = FX_MEM_BLOB_CAP_KIB;
    return kib * 1024;
}

uint64_t
fxSaveRateKib(void)
{
    g_autofree char *path = g_build_filename(fxStateDir(), "save-rate-kib", NULL);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    return g_ascii_strtoull(text, NULL, 10);
}

int
fxStateLock(void)
{
    g_autofree char *path = g_build_filename(fxStateDir(), "lock", NULL);
    int fd;

    if (g_mkdir_with_parents(fxStateDir(), 0755) < 0)
        return -1;
    /* A fresh open file description per call, so that threads of one
     * process exclude each other too. */
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        return -1;
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void
fxStateUnlock(int token)
{
    if (token >= 0)
        close(token);
}

char *
fxDomainPath(uint32_t domid, const char *file)
{
    char id[16];
    g_snprintf(id, sizeof(id), "%u", domid);
    return g_build_filename(fxStateDir(), "domains", id, file, NULL);
}

void
fxDomainFree(fxDomain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    g_free(dom->uuid);
    g_free(dom);
}

fxDomain *
fxDomainLoad(uint32_t domid)
{
    g_autofree char *path = fxDomainPath(domid, "domain.ini");
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *state = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *last = NULL;
    fxDomain *dom;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
        errno = ENOENT;
        return NULL;
    }
    dom = g_new0(fxDomain, 1);
    dom->domid = domid;
    dom->name = g_key_file_get_string(kf, "domain", "name", NULL);
    dom->uuid = g_key_file_get_string(kf, "domain", "uuid", NULL);
    state = g_key_file_get_string(kf, "domain", "state", NULL);
    reason = g_key_file_get_string(kf, "domain", "reason", NULL);
    dom->state = fxStateTypeFromString(state);
    if ((int)dom->state < 0)
        dom->state = FX_STATE_DYING;
    dom->reason = fxReasonTypeFromString(reason);
    dom->type = g_key_file_get_integer(kf, "domain", "type", NULL);
    dom->memkb = g_key_file_get_uint64(kf, "domain", "memkb", NULL);
    dom->maxmemkb = g_key_file_get_uint64(kf, "domain", "maxmemkb", NULL);
    dom->blobsize = g_key_file_get_uint64(kf, "domain", "blobsize", NULL);
    dom->vcpus = g_key_file_get_integer(kf, "domain", "vcpus", NULL);
    dom->dmpid = (pid_t)g_key_file_get_integer(kf, "domain", "dmpid", NULL);
    dom->created = g_key_file_get_int64(kf, "domain", "created", NULL);
    dom->held = g_key_file_get_boolean(kf, "domain", "held", NULL);
    dom->shutdowns = (uint32_t)g_key_file_get_uint64(kf, "domain", "shutdowns", NULL);
    last = g_key_file_get_string(kf, "domain", "last-reason", NULL);
    dom->lastReason = last ? fxReasonTypeFromString(last) : dom->reason;
    if (!dom->name)
        dom->name = g_strdup_printf("domain-%u", domid);
    return dom;
}

void
fxDomainSetShutdown(fxDomain *dom, int reason)
{
    dom->state = FX_STATE_SHUTDOWN;
    dom->reason = reason;
    dom->lastReason = reason;
    dom->shutdowns++;
}


int
fxDomainSave(const fxDomain *dom)
{
    g_autofree char *dir = fxDomainPath(dom->domid, NULL);
    g_autofree char *path = fxDomainPath(dom->domid, "domain.ini");
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *data = NULL;
    gsize len;

    if (g_mkdir_with_parents(dir, 0755) < 0)
        return -1;
    g_key_file_set_integer(kf, "domain", "domid", (int)dom->domid);
    g_key_file_set_string(kf, "domain", "name", dom->name ? dom->name : "");
    if (dom->uuid)
        g_key_file_set_string(kf, "domain", "uuid", dom->uuid);
    g_key_file_set_string(kf, "domain", "state", fxStateTypeToString(dom->state));
    g_key_file_set_string(kf, "domain", "reason", fxReasonTypeToString(dom->reason));
    g_key_file_set_integer(kf, "domain", "type", dom->type);
    g_key_file_set_uint64(kf, "domain", "memkb", dom->memkb);
    g_key_file_set_uint64(kf, "domain", "maxmemkb", dom->maxmemkb);
    g_key_file_set_uint64(kf, "domain", "blobsize", dom->blobsize);
    g_key_file_set_integer(kf, "domain", "vcpus", dom->vcpus);
    g_key_file_set_integer(kf, "domain", "dmpid", (int)dom->dmpid);
    g_key_file_set_int64(kf, "domain", "created", dom->created);
    g_key_file_set_boolean(kf, "domain", "held", dom->held);
    g_key_file_set_uint64(kf, "domain", "shutdowns", dom->shutdowns);
    g_key_file_set_string(kf, "domain", "last-reason", fxReasonTypeToString(dom->lastReason));
    data = g_key_file_to_data(kf, &len, NULL);
    /* Written to a temporary file and renamed: readers that do not take
     * the lock (the event watcher) never see half a file. Not synced:
     * the table does not outlive the host, and the two fsyncs that
     * g_file_set_contents does on ext4 would add about 10 ms to every
     * state change, inside the windows the benchmarks time. */
    if (!g_file_set_contents_full(path, data, (gssize)len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static int
fxRemoveTree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *ent;

    if (d) {
        while ((ent = g_dir_read_name(d))) {
            g_autofree char *sub = g_build_filename(path, ent, NULL);
            if (g_file_test(sub, G_FILE_TEST_IS_DIR) &&
                !g_file_test(sub, G_FILE_TEST_IS_SYMLINK))
                fxRemoveTree(sub);
            else
                g_unlink(sub);
        }
        g_dir_close(d);
    }
    return g_rmdir(path);
}

int
fxDomainRemove(uint32_t domid)
{
    g_autofree char *dir = fxDomainPath(domid, NULL);
    g_autofree char *ini = fxDomainPath(domid, "domain.ini");

    /* The ini file goes first: from then on the domain no longer exists. */
    g_unlink(ini);
    return fxRemoveTree(dir);
}

uint32_t
fxDomainAllocId(void)
{
    g_autofree char *path = g_build_filename(fxStateDir(), "next-domid", NULL);
    g_autofree char *data = NULL;
    g_autofree char *next = NULL;
    guint64 id = 1;

    if (g_file_get_contents(path, &data, NULL, NULL))
        id = g_ascii_strtoull(data, NULL, 10);
    /* Xen never reuses a domid soon; neither do we.  Skip any that exist. */
    for (;;) {
        g_autofree char *ini = NULL;
        if (id < 1 || id >= 0x7ff0)
            id = 1;
        ini = fxDomainPath((uint32_t)id, "domain.ini");
        if (!g_file_test(ini, G_FILE_TEST_EXISTS))
            break;
        id++;
    }
    next = g_strdup_printf("%" G_GUINT64_FORMAT "\n", id + 1);
    g_file_set_contents(path, next, -1, NULL);
    return (uint32_t)id;
}

static int
fxCompareU32(gconstpointer a, gconstpointer b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t *
fxDomainListIds(size_t *n)
{
    g_autofree char *path = g_build_filename(fxStateDir(), "domains", NULL);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GDir *d = g_dir_open(path, 0, NULL);
    const char *ent;

    if (d) {
        while ((ent = g_dir_read_name(d))) {
            char *end = NULL;
            guint64 v = g_ascii_strtoull(ent, &end, 10);
            g_autofree char *ini = NULL;
            uint32_t id;
            if (!end || *end || v == 0 || v > G_MAXUINT32)
                continue;
            id = (uint32_t)v;
            ini = fxDomainPath(id, "domain.ini");
            if (g_file_test(ini, G_FILE_TEST_EXISTS))
                g_array_append_val(ids, id);
        }
        g_dir_close(d);
    }
    g_array_sort(ids, fxCompareU32);
    *n = ids->len;
    return (uint32_t *)(void *)g_array_free(ids, FALSE);
}

int64_t
fxDomainFindByName(const char *name)
{
    size_t n, i;
    g_autofree uint32_t *ids = fxDomainListIds(&n);

    for (i = 0; i < n; i++) {
        g_autoptr(fxDomain) dom = fxDomainLoad(ids[i]);
        if (dom && g_str_equal(dom->name, name))
            return ids[i];
    }
    return -1;
}

uint64_t
fxHash(uint64_t h, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    size_t i;

    /* FNV-1a's step over whole 64-bit words: a byte at a time costs
     * about 6 s per GiB, which would hide every other cost of a save. */
    for (i = 0; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= GUINT64_FROM_LE(w);
        h *= 0x100000001b3ULL;
    }
    for (; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int
fxReadFull(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = EPIPE;
            return -1;
        }
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

int
fxWriteFull(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t r = write(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

bool
fxDmAlive(pid_t pid)
{
    g_autofree char *path = NULL;
    g_autofree char *stat = NULL;
    g_autofree char *cmd = NULL;
    const char *p;

    if (pid <= 1)
        return false;
    path = g_strdup_printf("/proc/%d/stat", (int)pid);
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return false;
    /* A zombie waiting for its reaper counts as gone. */
    if ((p = strrchr(stat, ')')) && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
        return false;
    g_free(path);
    path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    if (!g_file_get_contents(path, &cmd, NULL, NULL))
        return false;
    /* Guard against a recycled pid: only our device models are ours. */
    return strstr(cmd, "fakexen-dm-") != NULL ||
           memmem(stat, strlen(stat), "qemu", 4) != NULL;
}

void
fxDmKill(pid_t pid)
{
    int i;

    if (!fxDmAlive(pid))
        return;
    kill(pid, SIGTERM);
    for (i = 0; i < 100; i++) {
        if (!fxDmAlive(pid))
            return;
        g_usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    for (i = 0; i < 50; i++) {
        if (!fxDmAlive(pid))
            return;
        g_usleep(20 * 1000);
    }
}
