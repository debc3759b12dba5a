/*
 * hypervisor.c: the production binding of the hypervisor interface,
 * libxl 4.17 plus libvirt's public API, used from inside libvirtd
 */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "hypervisor.h"
#include "qemu_monitor.h"
#include "util_error.h"

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


static int
xsnapHvState(virDomainPtr dom, int *reason)
{
    int state;
    int r;

    if (virDomainGetState(dom, &state, &r, 0) < 0) {
        xsnapHvReportLibvirt(_("getting the state"), dom);
        return -1;
    }
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


/* How often the watcher looks at the image, and how much it lets libxl
 * write before it starts write-back of the image. */
#define XSNAP_HV_WATCH_PERIOD_MS 20
#define XSNAP_HV_WATCH_FLUSH_BYTES (8 * 1024 * 1024)

typedef struct _xsnapHvWatch xsnapHvWatch;
struct _xsnapHvWatch {
    int fd;
    xsnapMemoryProgress *progress;   /* may be NULL */
    GMutex lock;
    GCond cond;
    bool stop;
};

/*
 * Follows the image while libxl writes it: updates the progress, and
 * starts write-back of what arrived whenever 8 MiB more did. The guest
 * stays suspended until the caller's fsync of the image returns; with
 * the image written back along the way, that fsync finds only what the
 * disk has not caught up with, where it would otherwise write the whole
 * image (0.7 s per GiB on the benchmark's disk) while the guest waits.
 * POSIX_FADV_DONTNEED starts write-back without waiting for it, so
 * libxl is not held up, and leaves any write error for that fsync to
 * report; it also keeps the image from crowding the page cache. The
 * watcher waits on a condition rather than sleeping, so that stopping
 * it does not keep the guest waiting either.
 */
static gpointer
xsnapHvWatchThread(gpointer opaque)
{
    xsnapHvWatch *w = opaque;
    off_t flushed = 0;

    g_mutex_lock(&w->lock);
    while (!w->stop) {
        struct stat st;
        gint64 next = g_get_monotonic_time() +
                      XSNAP_HV_WATCH_PERIOD_MS * G_TIME_SPAN_MILLISECOND;

        if (fstat(w->fd, &st) == 0) {
            if (w->progress)
                __atomic_store_n(&w->progress->written, (gint64)st.st_size,
                                 __ATOMIC_RELAXED);
            if (st.st_size - flushed >= XSNAP_HV_WATCH_FLUSH_BYTES) {
                (void)posix_fadvise(w->fd, flushed, st.st_size - flushed,
                                    POSIX_FADV_DONTNEED);
                flushed = st.st_size;
            }
        }
        while (!w->stop && g_cond_wait_until(&w->cond, &w->lock, next))
            ;
    }
    g_mutex_unlock(&w->lock);
    return NULL;
}


static void
xsnapHvWatchStop(xsnapHvWatch *w, GThread *thread)
{
    g_mutex_lock(&w->lock);
    w->stop = true;
    g_cond_signal(&w->cond);
    g_mutex_unlock(&w->lock);
    g_thread_join(thread);
}


static int
xsnapHvSaveMemory(virDomainPtr dom, int fd, bool live,
                  xsnapMemoryProgress *progress)
{
    libxl_ctx *c;
    virDomainInfo info;
    xsnapHvWatch watch = { .fd = fd, .progress = progress };
    GThread *thread;
    int domid;
    int rc;

    if ((domid = xsnapHvDomid(dom)) < 0 || !(c = xsnapHvCtx()))
        return -1;
    if (progress && virDomainGetInfo(dom, &info) == 0)
        progress->total = (gint64)info.memory * 1024;
    g_mutex_init(&watch.lock);
    g_cond_init(&watch.cond);
    thread = g_thread_new("xsnap-save-watch", xsnapHvWatchThread, &watch);
    rc = libxl_domain_suspend(c, (uint32_t)domid, fd,
                              live ? LIBXL_SUSPEND_LIVE : 0, NULL);
    xsnapHvWatchStop(&watch, thread);
    g_cond_clear(&watch.cond);
    g_mutex_clear(&watch.lock);
    if (rc != 0) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("libxl failed to save the memory of domain '%1$s' (%2$d)"),
                         virDomainGetName(dom), rc);
        return -1;
    }
    if (progress) {
        struct stat st;
        if (fstat(fd, &st) == 0)
            progress->written = (gint64)st.st_size;
    }
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


static int
xsnapHvRestore(virDomainPtr dom, const char *path, unsigned int flags)
{
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
    .otherDomainsXML = xsnapHvOtherDomainsXML,
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
