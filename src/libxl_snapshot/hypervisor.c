/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hypervisor.c: the production binding of the hypervisor interface,
 * libxl 4.17 plus libvirt's public API, used from inside libvirtd
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "hypervisor.h"
#include "driver_error.h"
#include "driver_live.h"
#include "memory_feed.h"
#include "memory_image.h"
#include "qemu_monitor.h"
#include "util_error.h"
#include "util_file.h"

static const xsnapHypervisor *override;

static GMutex ctxLock;
static libxl_ctx *ctx;
static xentoollog_logger_stdiostream *logger;


/* Reports the thread's libvirt error (after a failed public call). */
static void
xsnapHvReportLibvirt(const char *what, virDomainPtr dom)
{
    virErrorPtr err = virGetLastError();
    int code = err && err->code != VIR_ERR_OK ? err->code : VIR_ERR_OPERATION_FAILED;
    const char *msg = err && err->message ? err->message : _("unknown error");

    xsnapReportError(code, _("%1$s of domain '%2$s' failed: %3$s"),
                     what, virDomainGetName(dom), msg);
}


/* The domain's current id: handles cache the id they were made with,
 * which a restore changes. -1 with an error if it is not running. */
static int
xsnapHvDomid(virDomainPtr dom)
{
    unsigned char uuid[VIR_UUID_BUFLEN];
    virDomainPtr fresh;
    unsigned int id;

    if (virDomainGetUUID(dom, uuid) < 0 ||
        !(fresh = virDomainLookupByUUID(virDomainGetConnect(dom), uuid))) {
        xsnapHvReportLibvirt(_("lookup"), dom);
        return -1;
    }
    id = virDomainGetID(fresh);
    virDomainFree(fresh);
    if (id == (unsigned int)-1 || id == 0) {
        xsnapReportError(VIR_ERR_OPERATION_INVALID,
                         _("domain '%1$s' is not running"), virDomainGetName(dom));
        return -1;
    }
    return (int)id;
}


/* Our own libxl context, created once; libvirt's is not reachable. */
static libxl_ctx *
xsnapHvCtx(void)
{
    static const libxl_childproc_hooks hooks = {
        .chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
    };
    libxl_ctx *ret;

    g_mutex_lock(&ctxLock);
    if (!ctx) {
        if (!logger)
            logger = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
        if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
                            (xentoollog_logger *)logger) != 0) {
            ctx = NULL;
        } else {
            libxl_childproc_setmode(ctx, &hooks, NULL);
        }
    }
    ret = ctx;
    g_mutex_unlock(&ctxLock);
    if (!ret)
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                         _("cannot create a libxl context"));
    return ret;
}


/*
 * libvirt learns that a guest shut down, crashed or is being torn down
 * only when libxl's event reaches it; Xen knows at once. A domain that
 * libvirt still calls active but Xen reports shut down (other than by
 * our own suspend) or dying is reported shut down or crashed, so that no
 * operation starts on a guest that is going away.
 */
static void
xsnapHvStateFromXen(virDomainPtr dom, int *state, int *reason)
{
    libxl_dominfo info;
    libxl_ctx *c;
    int domid;

    if ((domid = xsnapHvDomid(dom)) < 0 || !(c = xsnapHvCtx())) {
        xsnapResetLastError();
        return;
    }
    libxl_dominfo_init(&info);
    if (libxl_domain_info(c, &info, (uint32_t)domid) == 0) {
        if (info.dying) {
            *state = VIR_DOMAIN_SHUTDOWN;
            *reason = VIR_DOMAIN_SHUTDOWN_UNKNOWN;
        } else if (info.shutdown &&
                   info.shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH) {
            *state = VIR_DOMAIN_CRASHED;
            *reason = VIR_DOMAIN_CRASHED_UNKNOWN;
        } else if (info.shutdown &&
                   info.shutdown_reason != LIBXL_SHUTDOWN_REASON_SUSPEND) {
            *state = VIR_DOMAIN_SHUTDOWN;
            *reason = VIR_DOMAIN_SHUTDOWN_UNKNOWN;
        }
    }
    libxl_dominfo_dispose(&info);
}


static int
xsnapHvState(virDomainPtr dom, int *reason)
{
    int state;
    int r;

    if (virDomainGetState(dom, &state, &r, 0) < 0) {
        xsnapHvReportLibvirt(_("getting the state"), dom);
        return -1;
    }
    if (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED ||
        state == VIR_DOMAIN_BLOCKED)
        xsnapHvStateFromXen(dom, &state, &r);
    if (reason)
        *reason = r;
    return state;
}


static int
xsnapHvPause(virDomainPtr dom)
{
    if (virDomainSuspend(dom) < 0) {
        xsnapHvReportLibvirt(_("pausing"), dom);
        return -1;
    }
    return 0;
}


static int
xsnapHvResume(virDomainPtr dom)
{
    if (virDomainResume(dom) < 0) {
        xsnapHvReportLibvirt(_("resuming"), dom);
        return -1;
    }
    return 0;
}


static int xsnapHvContinueAfterSave(virDomainPtr dom, bool paused);


/* The copier starts write-back of the image every KICK bytes and waits
 * for it every SYNC bytes: at most SYNC bytes are left for the caller's
 * fsync, whatever the size of the guest. */
#define XSNAP_HV_COPY_CHUNK (1024 * 1024)

/* Linux's fcntl to size a pipe (F_LINUX_SPECIFIC_BASE + 7), which
 * <fcntl.h> declares only with _GNU_SOURCE. */
#ifndef F_SETPIPE_SZ
# define F_SETPIPE_SZ 1031
#endif
#define XSNAP_HV_COPY_KICK_BYTES (2 * 1024 * 1024)
#define XSNAP_HV_COPY_SYNC_BYTES (8 * 1024 * 1024)

/* A compressed image is written by a thread of its own, at most this
 * much behind the compressor. */
#define XSNAP_HV_COPY_QUEUE_BYTES (16 * 1024 * 1024)

/* The image being written, and its write-back. */
typedef struct _xsnapHvImage xsnapHvImage;
struct _xsnapHvImage {
    int fd;
    off_t pos;                       /* the end of what is written */
    off_t kicked;                    /* write-back started up to here */
    off_t synced;                    /* and waited for up to here */
};

typedef struct _xsnapHvCopy xsnapHvCopy;
struct _xsnapHvCopy {
    int in;                          /* read end of the pipe libxl writes */
    xsnapHvImage image;              /* written by the copier, or by the
                                      * writer when there is an encoder */
    xsnapMemoryEncoder *enc;         /* NULL for a raw image */
    xsnapMemoryProgress *progress;   /* may be NULL */
    off_t start;                     /* where the stream starts in the image */
    uint64_t stream;                 /* bytes of libxl's stream read */
    int err;                         /* errno of the first write failure, or 0 */
    bool failed;                     /* the copy stopped (@err or @error) */
    xsnapError *error;               /* the compressor's error */

    /* Compressed images: the encoder's output, in chunks, for the writer. */
    GThread *writer;
    GMutex lock;
    GCond cond;
    GQueue chunks;                   /* GByteArray, oldest first */
    size_t queued;                   /* bytes in @chunks */
    bool ended;                      /* no more chunks will come */
    int writeErr;                    /* the writer's errno, or 0 */
    GByteArray *fill;                /* the chunk being filled */
};


/* Writes to the image, starting write-back and waiting for it as it goes.
 * Returns 0, or an errno. */
static int
xsnapHvImageWrite(xsnapHvImage *img, const void *data, size_t len)
{
    if (xsnapFileWriteAll(img->fd, data, len) < 0)
        return errno;
    img->pos += (off_t)len;
    if (img->pos - img->kicked >= XSNAP_HV_COPY_KICK_BYTES) {
        (void)posix_fadvise(img->fd, img->kicked, img->pos - img->kicked,
                            POSIX_FADV_DONTNEED);
        img->kicked = img->pos;
    }
    if (img->pos - img->synced >= XSNAP_HV_COPY_SYNC_BYTES) {
        if (fdatasync(img->fd) < 0)
            return errno;
        img->synced = img->pos;
    }
    return 0;
}


/*
 * The writer of a compressed image: the waits for the disk (fdatasync
 * every 8 MiB) stall this thread only, while the copier goes on reading
 * libxl's pipe and compressing. After a failure it drops what comes.
 */
static gpointer
xsnapHvWriterThread(gpointer opaque)
{
    xsnapHvCopy *c = opaque;

    for (;;) {
        GByteArray *chunk;
        int err = 0;

        g_mutex_lock(&c->lock);
        while (g_queue_is_empty(&c->chunks) && !c->ended)
            g_cond_wait(&c->cond, &c->lock);
        if (!(chunk = g_queue_pop_head(&c->chunks))) {
            g_mutex_unlock(&c->lock);
            return NULL;
        }
        c->queued -= chunk->len;
        g_cond_broadcast(&c->cond);
        err = c->writeErr;
        g_mutex_unlock(&c->lock);

        if (err == 0 && (err = xsnapHvImageWrite(&c->image, chunk->data, chunk->len)) != 0) {
            g_mutex_lock(&c->lock);
            c->writeErr = err;
            g_cond_broadcast(&c->cond);
            g_mutex_unlock(&c->lock);
        }
        g_byte_array_unref(chunk);
    }
}


/* Hands the chunk being filled to the writer, waiting while the writer
 * is too far behind. Returns 0, or -1 with @c->err set. */
static int
xsnapHvCopyQueue(xsnapHvCopy *c)
{
    int err;

    if (!c->fill || c->fill->len == 0)
        return 0;
    g_mutex_lock(&c->lock);
    while (c->queued >= XSNAP_HV_COPY_QUEUE_BYTES && c->writeErr == 0)
        g_cond_wait(&c->cond, &c->lock);
    if ((err = c->writeErr) == 0) {
        c->queued += c->fill->len;
        g_queue_push_tail(&c->chunks, g_steal_pointer(&c->fill));
        g_cond_broadcast(&c->cond);
    }
    g_mutex_unlock(&c->lock);
    if (err != 0) {
        c->err = err;
        return -1;
    }
    return 0;
}


/* The compressor's sink: its output, gathered into chunks. */
static int
xsnapHvCopyEncoded(void *opaque, const void *data, size_t len)
{
    xsnapHvCopy *c = opaque;

    if (!c->fill)
        c->fill = g_byte_array_sized_new(XSNAP_HV_COPY_CHUNK + len);
    g_byte_array_append(c->fill, data, (guint)len);
    if (c->fill->len >= XSNAP_HV_COPY_CHUNK)
        return xsnapHvCopyQueue(c);
    return 0;
}


/* Ends the writer of a compressed image, after the last chunk. */
static void
xsnapHvCopyEndWriter(xsnapHvCopy *c)
{
    if (!c->writer)
        return;
    if (!c->failed && xsnapHvCopyQueue(c) < 0)
        c->failed = true;
    g_mutex_lock(&c->lock);
    c->ended = true;
    g_cond_broadcast(&c->cond);
    g_mutex_unlock(&c->lock);
    g_thread_join(g_steal_pointer(&c->writer));
    if (c->writeErr != 0 && c->err == 0) {
        c->err = c->writeErr;
        c->failed = true;
    }
    g_queue_clear_full(&c->chunks, (GDestroyNotify)g_byte_array_unref);
    g_clear_pointer(&c->fill, g_byte_array_unref);
}


/* Takes @len bytes of libxl's stream; marks the copy failed on error. */
static void
xsnapHvCopyTake(xsnapHvCopy *c, const void *data, size_t len)
{
    int rc;

    c->stream += len;
    if (c->enc) {
        rc = xsnapMemoryEncoderWrite(c->enc, data, len);
    } else {
        c->err = xsnapHvImageWrite(&c->image, data, len);
        rc = c->err ? -1 : 0;
    }
    if (rc < 0) {
        c->failed = true;
        if (c->err == 0)
            c->error = xsnapSaveLastError();
    }
    if (c->progress)
        __atomic_store_n(&c->progress->written, (gint64)(c->start + (off_t)c->stream),
                         __ATOMIC_RELAXED);
}


/*
 * Copies what libxl writes into the pipe to the image, compressing it
 * when the image is compressed, and syncing as it goes. The guest stays
 * suspended until the caller's fsync of the image returns: written
 * straight to the image, a stream that outran the disk left that fsync
 * the whole backlog (370 ms for 1 GiB on the benchmark's disk). Through
 * the pipe, libxl waits for the disk instead, while the memory is
 * copied, and the fsync finds at most XSNAP_HV_COPY_SYNC_BYTES.
 * POSIX_FADV_DONTNEED starts write-back early (and keeps the image from
 * crowding the page cache); fdatasync waits for it and reports a write
 * error, which the kernel would not report again to the caller's fsync,
 * so it is kept in @err. A compressed image is written by a second
 * thread (xsnapHvWriterThread), so that compressing never waits for the
 * disk. After a failure the rest of the stream is read and dropped, so
 * libxl ends normally.
 */
static gpointer
xsnapHvCopyThread(gpointer opaque)
{
    xsnapHvCopy *c = opaque;
    g_autofree char *buf = g_malloc(XSNAP_HV_COPY_CHUNK);
    ssize_t n;

    c->start = c->image.pos = c->image.kicked = c->image.synced =
        lseek(c->image.fd, 0, SEEK_CUR);
    if (c->start < 0) {
        c->err = errno;
        c->failed = true;
    }
    if (!c->failed && c->enc)
        c->writer = g_thread_new("xsnap-save-write", xsnapHvWriterThread, c);
    while ((n = xsnapFileReadAll(c->in, buf, XSNAP_HV_COPY_CHUNK)) > 0) {
        if (!c->failed)
            xsnapHvCopyTake(c, buf, (size_t)n);
    }
    if (n < 0 && !c->failed) {
        c->err = errno;
        c->failed = true;
    }
    if (!c->failed && c->enc && xsnapMemoryEncoderFinish(c->enc) < 0) {
        c->failed = true;
        if (c->err == 0)
            c->error = xsnapSaveLastError();
    }
    xsnapHvCopyEndWriter(c);
    return NULL;
}


static int
xsnapHvSaveMemory(virDomainPtr dom, int fd, bool live, xsnapMemoryFormat format,
                  uint64_t *streamLen, xsnapMemoryProgress *progress)
{
    libxl_ctx *c;
    virDomainInfo info;
    xsnapHvCopy copy = { .image.fd = fd, .progress = progress };
    g_autoptr(xsnapMemoryEncoder) enc = NULL;
    GThread *thread;
    bool wasPaused = false;
    int pipefd[2];
    int domid;
    int rc;

    if ((domid = xsnapHvDomid(dom)) < 0 || !(c = xsnapHvCtx()))
        return -1;
    if (format != XSNAP_MEMORY_FORMAT_RAW &&
        !(enc = xsnapMemoryEncoderNew(format, xsnapHvCopyEncoded, &copy)))
        return -1;
    copy.enc = enc;
    if (virDomainGetInfo(dom, &info) == 0) {
        wasPaused = info.state == VIR_DOMAIN_PAUSED;
        if (progress)
            __atomic_store_n(&progress->total, (gint64)info.memory * 1024,
                             __ATOMIC_RELAXED);
    }
    if (pipe(pipefd) < 0) {
        xsnapReportSystemError(errno, "%s", _("cannot create a pipe"));
        return -1;
    }
    /* libxl hands the write end to its save helper itself. */
    fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
    /* A pipe of one copy chunk: with the default 64 KiB, writer and
     * copier took turns 16 times per MiB, which halved the stream's
     * speed into a tmpfs. Only an optimisation: ignore a refusal. */
    (void)fcntl(pipefd[1], F_SETPIPE_SZ, XSNAP_HV_COPY_CHUNK);
    copy.in = pipefd[0];
    g_mutex_init(&copy.lock);
    g_cond_init(&copy.cond);
    g_queue_init(&copy.chunks);
    thread = g_thread_new("xsnap-save-copy", xsnapHvCopyThread, &copy);
    rc = libxl_domain_suspend(c, (uint32_t)domid, pipefd[1],
                              live ? LIBXL_SUSPEND_LIVE : 0, NULL);
    /* The copier sees the end of the stream and finishes. */
    close(pipefd[1]);
    g_thread_join(thread);
    close(pipefd[0]);
    g_mutex_clear(&copy.lock);
    g_cond_clear(&copy.cond);
    if (rc != 0) {
        xsnapErrorFree(copy.error);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("libxl failed to save the memory of domain '%1$s' (%2$d)"),
                         virDomainGetName(dom), rc);
        return -1;
    }
    if (copy.failed) {
        /* libxl suspended the domain: a failed save must not leave it so. */
        g_autoptr(xsnapError) saved = NULL;

        if (copy.err != 0)
            xsnapReportSystemError(copy.err,
                                   _("cannot write the memory image of domain '%1$s'"),
                                   virDomainGetName(dom));
        else if (copy.error)
            xsnapRestoreLastError(g_steal_pointer(&copy.error));
        else
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("cannot write the memory image of domain '%1$s'"),
                             virDomainGetName(dom));
        saved = xsnapSaveLastError();
        xsnapHvContinueAfterSave(dom, wasPaused);
        xsnapRestoreLastError(g_steal_pointer(&saved));
        return -1;
    }
    *streamLen = copy.stream;
    return 0;
}


static int
xsnapHvContinueAfterSave(virDomainPtr dom, bool paused)
{
    libxl_ctx *c;
    int domid;
    int rc;

    if ((domid = xsnapHvDomid(dom)) < 0 || !(c = xsnapHvCtx()))
        return -1;
    if ((rc = libxl_domain_resume(c, (uint32_t)domid, 1, NULL)) != 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("libxl failed to resume domain '%1$s' after saving its memory (%2$d)"),
                         virDomainGetName(dom), rc);
        return -1;
    }
    /* libvirt heard of the save's shutdown, and libxl tells of a
     * shutdown once per watch: without a new watch, libvirt would miss
     * the guest's poweroff, reboot or crash from now on. */
    if (xsnapDriverLiveRearmDeath(dom, domid) < 0) {
        xsnapDriverLog(XSNAP_LOG_WARN,
                       "domain '%s' runs on, but libvirt may not see it shut down: %s",
                       virDomainGetName(dom), xsnapGetLastErrorMessage());
        xsnapResetLastError();
    }
    /* libvirt still believes the domain paused: keep it so. */
    if (paused && (rc = libxl_domain_pause(c, (uint32_t)domid, NULL)) != 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("libxl failed to pause domain '%1$s' again after saving its memory (%2$d)"),
                         virDomainGetName(dom), rc);
        return -1;
    }
    return 0;
}


static int
xsnapHvDestroy(virDomainPtr dom)
{
    if (virDomainDestroy(dom) < 0) {
        xsnapHvReportLibvirt(_("destroying"), dom);
        return -1;
    }
    return 0;
}


/*
 * libvirt's restore reads raw images only, once and in order: a
 * compressed one goes through a FIFO in a private folder, fed by a
 * thread of ours that decompresses (and checks) the stream. The restore
 * runs on this thread, inside libvirtd, so the FIFO needs no wider
 * access than ours.
 */
static int
xsnapHvRestoreCompressed(virDomainPtr dom, const char *path, unsigned int flags)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *dir = g_dir_make_tmp("xsnap-restore-XXXXXX", &gerr);
    g_autofree char *fifo = NULL;
    g_autoptr(xsnapError) restoreError = NULL;
    xsnapMemoryFeed *feed;
    int rc = -1;

    if (!dir) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot create a folder for restoring memory image '%1$s': %2$s"),
                         path, gerr->message);
        return -1;
    }
    fifo = g_build_filename(dir, "memory.save", NULL);
    if (mkfifo(fifo, 0600) < 0) {
        xsnapReportSystemError(errno, _("cannot create FIFO '%1$s'"), fifo);
        goto cleanup;
    }
    if (!(feed = xsnapMemoryFeedStart(fifo, path, NULL)))
        goto cleanup;
    rc = virDomainRestoreFlags(virDomainGetConnect(dom), fifo, NULL, flags);
    if (rc < 0) {
        xsnapHvReportLibvirt(_("restoring"), dom);
        restoreError = xsnapSaveLastError();
    }
    /* A feeder that could not read the image is the cause of libvirt's
     * failure. */
    if (xsnapMemoryFeedFinish(feed) < 0) {
        if (rc == 0) {
            /* libxl took a stream that turned out wrong at its end. */
            g_autoptr(xsnapError) saved = xsnapSaveLastError();

            virDomainDestroy(dom);
            xsnapRestoreLastError(g_steal_pointer(&saved));
            rc = -1;
        }
    } else {
        xsnapRestoreLastError(g_steal_pointer(&restoreError));
    }

 cleanup:
    unlink(fifo);
    rmdir(dir);
    return rc;
}


static int
xsnapHvRestore(virDomainPtr dom, const char *path, unsigned int flags)
{
    xsnapMemoryImageHeader hdr;

    /* An image we cannot read is left to libvirt, which says why. */
    if (xsnapMemoryImageRead(path, &hdr, NULL) == 0 &&
        hdr.format != XSNAP_MEMORY_FORMAT_RAW)
        return xsnapHvRestoreCompressed(dom, path, flags);
    xsnapResetLastError();
    if (virDomainRestoreFlags(virDomainGetConnect(dom), path, NULL, flags) < 0) {
        xsnapHvReportLibvirt(_("restoring"), dom);
        return -1;
    }
    return 0;
}


static int
xsnapHvDefine(virDomainPtr dom, const char *xml)
{
    virDomainPtr def = virDomainDefineXML(virDomainGetConnect(dom), xml);

    if (!def) {
        xsnapHvReportLibvirt(_("defining"), dom);
        return -1;
    }
    virDomainFree(def);
    return 0;
}


static int
xsnapHvStart(virDomainPtr dom, unsigned int flags)
{
    if (virDomainCreateWithFlags(dom, flags) < 0) {
        xsnapHvReportLibvirt(_("starting"), dom);
        return -1;
    }
    return 0;
}


static char *
xsnapHvGetXML(virDomainPtr dom, bool inactive)
{
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE |
                                    (inactive ? VIR_DOMAIN_XML_INACTIVE : 0));
    char *ret;

    if (!xml) {
        xsnapHvReportLibvirt(_("reading the configuration"), dom);
        return NULL;
    }
    ret = g_strdup(xml);
    free(xml);
    return ret;
}


static char *
xsnapHvQmpPath(virDomainPtr dom)
{
    int domid = xsnapHvDomid(dom);

    return domid < 0 ? NULL : xsnapQemuMonitorDefaultPath(domid);
}


static int
xsnapHvIsStubdom(virDomainPtr dom)
{
    libxl_domain_config cfg;
    libxl_ctx *c;
    int domid;
    int ret;

    if ((domid = xsnapHvDomid(dom)) < 0 || !(c = xsnapHvCtx()))
        return -1;
    libxl_domain_config_init(&cfg);
    if (libxl_retrieve_domain_configuration(c, (uint32_t)domid, &cfg, NULL) != 0) {
        libxl_domain_config_dispose(&cfg);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot read the libxl configuration of domain '%1$s'"),
                         virDomainGetName(dom));
        return -1;
    }
    ret = !libxl_defbool_is_default(cfg.b_info.device_model_stubdomain) &&
          libxl_defbool_val(cfg.b_info.device_model_stubdomain);
    libxl_domain_config_dispose(&cfg);
    return ret ? 1 : 0;
}


static int
xsnapHvLiveSaveSupported(virDomainPtr dom)
{
    libxl_dominfo info;
    libxl_physinfo phys;
    libxl_ctx *c;
    int domid;
    int ret;

    if ((domid = xsnapHvDomid(dom)) < 0 || !(c = xsnapHvCtx()))
        return -1;
    libxl_dominfo_init(&info);
    libxl_physinfo_init(&phys);
    if (libxl_domain_info(c, &info, (uint32_t)domid) != 0 ||
        libxl_get_physinfo(c, &phys) != 0) {
        libxl_dominfo_dispose(&info);
        libxl_physinfo_dispose(&phys);
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot read what Xen supports for domain '%1$s'"),
                         virDomainGetName(dom));
        return -1;
    }
    if (info.domain_type == LIBXL_DOMAIN_TYPE_PV)
        ret = phys.cap_shadow;
    else
        ret = phys.cap_hap || phys.cap_shadow;
    libxl_dominfo_dispose(&info);
    libxl_physinfo_dispose(&phys);
    return ret ? 1 : 0;
}


static GPtrArray *
xsnapHvOtherDomainsXML(virDomainPtr dom)
{
    g_autoptr(GPtrArray) ret = g_ptr_array_new_with_free_func(g_free);
    virDomainPtr *doms = NULL;
    unsigned char uuid[VIR_UUID_BUFLEN];
    int n;

    if (virDomainGetUUID(dom, uuid) < 0 ||
        (n = virConnectListAllDomains(virDomainGetConnect(dom), &doms, 0)) < 0) {
        xsnapHvReportLibvirt(_("listing the domains of the host for"), dom);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        unsigned char other[VIR_UUID_BUFLEN];
        char *xml;

        if (virDomainGetUUID(doms[i], other) == 0 &&
            memcmp(uuid, other, sizeof(uuid)) != 0 &&
            (xml = virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE))) {
            g_ptr_array_add(ret, g_strdup(xml));
            free(xml);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return g_steal_pointer(&ret);
}


static const xsnapHypervisor xsnapHypervisorDefault = {
    .state = xsnapHvState,
    .pause = xsnapHvPause,
    .resume = xsnapHvResume,
    .saveMemory = xsnapHvSaveMemory,
    .continueAfterSave = xsnapHvContinueAfterSave,
    .destroy = xsnapHvDestroy,
    .restore = xsnapHvRestore,
    .define = xsnapHvDefine,
    .start = xsnapHvStart,
    .getXML = xsnapHvGetXML,
    .qmpPath = xsnapHvQmpPath,
    .isStubdom = xsnapHvIsStubdom,
    .liveSaveSupported = xsnapHvLiveSaveSupported,
    .otherDomainsXML = xsnapHvOtherDomainsXML,
    .setLiveDisks = xsnapDriverLiveSetDisks,
};


const xsnapHypervisor *
xsnapHypervisorGet(void)
{
    return override ? override : &xsnapHypervisorDefault;
}


void
xsnapHypervisorSet(const xsnapHypervisor *hv)
{
    override = hv;
}
