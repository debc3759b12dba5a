/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_libxl.c: the libxl entry points of the simulated Xen host
 *
 * These replace the libxl 4.17 functions that would talk to the
 * hypervisor.  libxl_ctx_alloc, the event loop, childproc handling and
 * the generated init/dispose/copy/JSON helpers stay real.  Domain state
 * is kept in the shared table of fx_state.c, so any process that loads
 * this library sees the same host.  See docs/fakexen.md for the list.
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include <libxl.h>
#include <libxl_utils.h>

#include "fx_dm.h"
#include "fx_state.h"

#define FX_HOST_CPUS 2
#define FX_HOST_TOTAL_KIB (8ULL * 1024 * 1024)
#define FX_DOM0_KIB (1024ULL * 1024)

/* ---- logging --------------------------------------------------------- */

static void fxLog(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
fxLog(const char *fmt, ...)
{
    g_autofree char *path = g_build_filename(fxStateDir(), "fakexen.log", NULL);
    g_autofree char *msg = NULL;
    g_autofree char *line = NULL;
    va_list ap;
    int fd;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strdup_printf("%" G_GINT64_FORMAT " [%d] %s\n",
                           g_get_real_time() / 1000, (int)getpid(), msg);
    g_mkdir_with_parents(fxStateDir(), 0755);
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
        (void)fxWriteFull(fd, line, strlen(line));
        close(fd);
    }
}

/*
 * Logs "mark <event> domain <domid> mono-ns <ns>", CLOCK_MONOTONIC in
 * nanoseconds, so that a benchmark can time what happens between
 * two calls (how long a guest stays suspended, how long the stream
 * took) without clocks of its own inside the daemon.
 */
static gint64
fxNowNs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Marks @event of @domid as happening at @ns (fxNowNs), or now if 0. */
static void
fxMark(const char *event, uint32_t domid, gint64 ns)
{
    fxLog("mark %s domain %u mono-ns %" G_GINT64_FORMAT, event, domid,
          ns ? ns : fxNowNs());
}

/* ---- event delivery ------------------------------------------------- */

typedef struct _fxHooks fxHooks;
struct _fxHooks {
    libxl_ctx *ctx;
    const libxl_event_hooks *hooks;
    void *user;
};

/* Our libxl_evgen_domain_death; libxl only ever hands it back to us. */
struct libxl__evgen_domain_death {
    libxl_ctx *ctx;
    uint32_t domid;
    libxl_ev_user user;
    bool enabled;
    bool shutdownReported;
    bool deathReported;
    uint32_t shutdownsAtEnable;  /* the domain's shutdown count then */
};

static pthread_mutex_t fxEvLock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *fxHookList;      /* fxHooks */
static GPtrArray *fxDeathGens;     /* struct libxl__evgen_domain_death */
static bool fxWatcherStarted;

static fxHooks *
fxHooksFind(libxl_ctx *ctx)
{
    size_t i;
    for (i = 0; fxHookList && i < fxHookList->len; i++) {
        fxHooks *h = fxHookList->pdata[i];
        if (h->ctx == ctx)
            return h;
    }
    return NULL;
}

static libxl_event *
fxEventNew(libxl_event_type type, uint32_t domid, libxl_ev_user user)
{
    libxl_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        abort();
    libxl_event_init(ev);
    libxl_event_init_type(ev, type);
    ev->domid = domid;
    ev->for_user = user;
    return ev;
}

/*
 * Hands @ev to the hooks the application registered on @ctx.  Without
 * hooks (an application that polls with libxl_event_check) the event is
 * dropped: the simulator has no way into libxl's private queue.
 */
static void
fxEventDeliver(libxl_ctx *ctx, libxl_event *ev)
{
    const libxl_event_hooks *hooks = NULL;
    void *user = NULL;
    fxHooks *h;

    pthread_mutex_lock(&fxEvLock);
    if ((h = fxHooksFind(ctx))) {
        hooks = h->hooks;
        user = h->user;
    }
    pthread_mutex_unlock(&fxEvLock);

    fxLog("event %s domid %u%s", libxl_event_type_to_string(ev->type), ev->domid,
          hooks && hooks->event_occurs &&
          (hooks->event_occurs_mask & (1ULL << ev->type)) ? "" : " (no hooks, dropped)");
    if (hooks && hooks->event_occurs &&
        (hooks->event_occurs_mask & (1ULL << ev->type))) {
        hooks->event_occurs(user, ev);
        return;
    }
    libxl_event_free(ctx, ev);
}

typedef void (*fxRegisterCallbacksFunc)(libxl_ctx *, const libxl_event_hooks *, void *);
typedef int (*fxCtxFreeFunc)(libxl_ctx *);

void
libxl_event_register_callbacks(libxl_ctx *ctx,
                               const libxl_event_hooks *hooks, void *user)
{
    static fxRegisterCallbacksFunc real;
    fxHooks *h;

    if (!real)
        real = (fxRegisterCallbacksFunc)dlsym(RTLD_NEXT, "libxl_event_register_callbacks");

    pthread_mutex_lock(&fxEvLock);
    if (!fxHookList)
        fxHookList = g_ptr_array_new_with_free_func(g_free);
    if (!(h = fxHooksFind(ctx))) {
        h = g_new0(fxHooks, 1);
        h->ctx = ctx;
        g_ptr_array_add(fxHookList, h);
    }
    h->hooks = hooks;
    h->user = user;
    pthread_mutex_unlock(&fxEvLock);

    if (real)
        real(ctx, hooks, user);
}

int
libxl_ctx_free(libxl_ctx *ctx)
{
    static fxCtxFreeFunc real;
    size_t i;

    if (!real)
        real = (fxCtxFreeFunc)dlsym(RTLD_NEXT, "libxl_ctx_free");

    pthread_mutex_lock(&fxEvLock);
    for (i = 0; fxHookList && i < fxHookList->len; i++) {
        fxHooks *h = fxHookList->pdata[i];
        if (h->ctx == ctx) {
            g_ptr_array_remove_index(fxHookList, (guint)i);
            break;
        }
    }
    for (i = 0; fxDeathGens && i < fxDeathGens->len; i++) {
        struct libxl__evgen_domain_death *g = fxDeathGens->pdata[i];
        if (g->ctx == ctx)
            g->enabled = false;
    }
    pthread_mutex_unlock(&fxEvLock);

    return real ? real(ctx) : 0;
}

/*
 * Watches the domain table for the enabled death generators, the way
 * libxl's xenstore watch on @releaseDomain does: a domain entering the
 * shutdown state gives one DOMAIN_SHUTDOWN, a domain that is gone or
 * dying gives DOMAIN_DEATH.  State changes come from this or any other
 * process (fakexen-ctl shutdown/crash).
 */
static void *
fxWatcher(void *opaque G_GNUC_UNUSED)
{
    for (;;) {
        g_autoptr(GPtrArray) pending = g_ptr_array_new();
        size_t i;

        g_usleep(100 * 1000);

        pthread_mutex_lock(&fxEvLock);
        for (i = 0; fxDeathGens && i < fxDeathGens->len; i++) {
            struct libxl__evgen_domain_death *g = fxDeathGens->pdata[i];
            g_autoptr(fxDomain) dom = NULL;
            libxl_event *ev = NULL;

            /* Domain-0 is the host itself and never goes away. */
            if (!g->enabled || g->deathReported || g->domid == 0)
                continue;
            dom = fxDomainLoad(g->domid);
            if (dom && dom->held)
                continue;
            if (!dom || dom->state == FX_STATE_DYING) {
                g->deathReported = true;
                ev = fxEventNew(LIBXL_EVENT_TYPE_DOMAIN_DEATH, g->domid, g->user);
            } else if (!g->shutdownReported &&
                       (dom->state == FX_STATE_SHUTDOWN ||
                        dom->shutdowns != g->shutdownsAtEnable)) {
                /* As libxl: one DOMAIN_SHUTDOWN per generator, ever,
                 * also for a shutdown that ended before this pass (a
                 * suspend cancelled by a resume: Xen fires
                 * @releaseDomain as it enters the shutdown state). An
                 * application re-arms with evdisable + evenable. */
                g->shutdownReported = true;
                ev = fxEventNew(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, g->domid, g->user);
                ev->u.domain_shutdown.shutdown_reason =
                    (uint8_t)(dom->state == FX_STATE_SHUTDOWN ? dom->reason : dom->lastReason);
            }
            if (ev) {
                g_ptr_array_add(pending, g->ctx);
                g_ptr_array_add(pending, ev);
            }
        }
        pthread_mutex_unlock(&fxEvLock);

        /* Delivered without our lock: the application's handler may call
         * back into libxl, including evdisable. */
        for (i = 0; i + 1 < pending->len; i += 2)
            fxEventDeliver(pending->pdata[i], pending->pdata[i + 1]);
    }
    return NULL;
}

int
libxl_evenable_domain_death(libxl_ctx *ctx, uint32_t domid,
                            libxl_ev_user user, libxl_evgen_domain_death **evgen_out)
{
    struct libxl__evgen_domain_death *g = g_new0(struct libxl__evgen_domain_death, 1);
    g_autoptr(fxDomain) dom = fxDomainLoad(domid);

    g->ctx = ctx;
    g->domid = domid;
    g->user = user;
    g->enabled = true;
    g->shutdownsAtEnable = dom ? dom->shutdowns : 0;

    pthread_mutex_lock(&fxEvLock);
    if (!fxDeathGens)
        fxDeathGens = g_ptr_array_new();
    g_ptr_array_add(fxDeathGens, g);
    if (!fxWatcherStarted) {
        pthread_t tid;
        sigset_t all;
        sigset_t old;

        /* The watcher takes no signals: they belong to the application. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&tid, NULL, fxWatcher, NULL) == 0) {
            pthread_detach(tid);
            fxWatcherStarted = true;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_unlock(&fxEvLock);

    *evgen_out = g;
    return 0;
}

void
libxl_evdisable_domain_death(libxl_ctx *ctx, libxl_evgen_domain_death *evgen)
{
    /* Kept allocated (and marked off) rather than freed: the watcher
     * may be delivering an event for it on another thread right now. */
    pthread_mutex_lock(&fxEvLock);
    if (evgen)
        evgen->enabled = false;
    pthread_mutex_unlock(&fxEvLock);
}

/* Completes an asynchronous operation the way its ao_how asks. */
static int
fxAoDone(libxl_ctx *ctx, const libxl_asyncop_how *ao_how, int rc)
{
    libxl_event *ev;

    if (!ao_how)
        return rc;
    if (ao_how->callback) {
        ao_how->callback(ctx, rc, ao_how->u.for_callback);
        return 0;
    }
    ev = fxEventNew(LIBXL_EVENT_TYPE_OPERATION_COMPLETE, INVALID_DOMID,
                    ao_how->u.for_event);
    ev->u.operation_complete.rc = rc;
    fxEventDeliver(ctx, ev);
    return 0;
}

/* ---- host ---------------------------------------------------------- */

const libxl_version_info *
libxl_get_version_info(libxl_ctx *ctx)
{
    static libxl_version_info info;
    static gsize done;

    if (g_once_init_enter(&done)) {
        libxl_version_info_init(&info);
        info.xen_version_major = 4;
        info.xen_version_minor = 17;
        info.xen_version_extra = strdup(".0-fakexen");
        info.compiler = strdup("gcc");
        info.compile_by = strdup("fakexen");
        info.compile_domain = strdup("localdomain");
        info.compile_date = strdup("2026-01-01");
        info.capabilities = strdup("xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
        info.changeset = strdup("fakexen");
        info.virt_start = 0xffff800000000000ULL;
        info.pagesize = 4096;
        /* dom0_mem= tells libvirt that dom0 does not balloon. */
        info.commandline = strdup("placeholder dom0_mem=1024M,max:1024M");
        info.build_id = strdup("fakexen");
        g_once_init_leave(&done, 1);
    }
    return &info;
}

static bool
fxHostHasShadow(void)
{
    const char *v = getenv("FAKEXEN_SHADOW");

    return v && g_str_equal(v, "1");
}


int
libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *physinfo)
{
    uint64_t used = FX_DOM0_KIB;
    size_t n, i;
    g_autofree uint32_t *ids = fxDomainListIds(&n);

    for (i = 0; i < n; i++) {
        g_autoptr(fxDomain) dom = fxDomainLoad(ids[i]);
        if (dom)
            used += dom->memkb;
    }
    memset(physinfo, 0, sizeof(*physinfo));
    physinfo->threads_per_core = 1;
    physinfo->cores_per_socket = FX_HOST_CPUS;
    physinfo->max_cpu_id = FX_HOST_CPUS - 1;
    physinfo->nr_cpus = FX_HOST_CPUS;
    physinfo->cpu_khz = 2000000;
    physinfo->total_pages = FX_HOST_TOTAL_KIB / 4;
    physinfo->free_pages = used < FX_HOST_TOTAL_KIB ? (FX_HOST_TOTAL_KIB - used) / 4 : 0;
    physinfo->max_possible_mfn = FX_HOST_TOTAL_KIB / 4;
    physinfo->nr_nodes = 1;
    physinfo->cap_hvm = true;
    physinfo->cap_pv = true;
    physinfo->cap_hap = true;
    /* Debian's Xen 4.17 on the real-Xen test bed lists no "shadow" in
     * virt_caps: without it a PV guest cannot be saved live (see the
     * suspend below). FAKEXEN_SHADOW=1 gives a host with shadow paging. */
    physinfo->cap_shadow = fxHostHasShadow();
    physinfo->cap_gnttab_v1 = true;
    return 0;
}

int
libxl_get_max_cpus(libxl_ctx *ctx)
{
    return FX_HOST_CPUS;
}

int
libxl_get_online_cpus(libxl_ctx *ctx)
{
    return FX_HOST_CPUS;
}

int
libxl_get_max_nodes(libxl_ctx *ctx)
{
    return 1;
}

libxl_cputopology *
libxl_get_cpu_topology(libxl_ctx *ctx, int *nb_cpu_out)
{
    libxl_cputopology *t = calloc(FX_HOST_CPUS, sizeof(*t));
    int i;

    for (i = 0; t && i < FX_HOST_CPUS; i++) {
        t[i].core = (uint32_t)i;
        t[i].socket = 0;
        t[i].node = 0;
    }
    *nb_cpu_out = t ? FX_HOST_CPUS : 0;
    return t;
}

libxl_numainfo *
libxl_get_numainfo(libxl_ctx *ctx, int *nr)
{
    libxl_numainfo *n = calloc(1, sizeof(*n));
    libxl_physinfo phys;

    if (!n)
        return NULL;
    libxl_get_physinfo(ctx, &phys);
    n->size = FX_HOST_TOTAL_KIB * 1024;
    n->free = phys.free_pages * 4096;
    n->dists = calloc(1, sizeof(uint32_t));
    if (n->dists) {
        n->dists[0] = 10;
        n->num_dists = 1;
    }
    *nr = 1;
    return n;
}

int
libxl_get_free_memory(libxl_ctx *ctx, uint64_t *memkb)
{
    libxl_physinfo phys;
    libxl_get_physinfo(ctx, &phys);
    *memkb = phys.free_pages * 4;
    return 0;
}

int libxl_get_free_memory_0x040700(libxl_ctx *ctx, uint32_t *memkb);
int
libxl_get_free_memory_0x040700(libxl_ctx *ctx, uint32_t *memkb)
{
    uint64_t kb = 0;
    libxl_get_free_memory(ctx, &kb);
    *memkb = (uint32_t)MIN(kb, G_MAXUINT32);
    return 0;
}

int
libxl_domain_need_memory(libxl_ctx *ctx, libxl_domain_config *config,
                         uint32_t domid_for_logging, uint64_t *need_memkb)
{
    *need_memkb = config->b_info.target_memkb + 1024;
    return 0;
}

int
libxl_domain_need_memory_0x041200(libxl_ctx *ctx,
                                  const libxl_domain_build_info *b_info_in,
                                  uint64_t *need_memkb)
{
    *need_memkb = b_info_in->target_memkb + 1024;
    return 0;
}

int
libxl_wait_for_free_memory(libxl_ctx *ctx, uint32_t domid,
                           uint64_t memory_kb, int wait_secs)
{
    uint64_t kb = 0;
    libxl_get_free_memory(ctx, &kb);
    return kb >= memory_kb ? 0 : ERROR_NOMEM;
}

int
libxl_wait_for_memory_target(libxl_ctx *ctx, uint32_t domid, int wait_secs)
{
    /* Simulated guests reach any target at once. */
    return 0;
}

int
libxl_get_scheduler(libxl_ctx *ctx)
{
    return LIBXL_SCHEDULER_CREDIT;
}

/* ---- domain table -------------------------------------------------- */

static void
fxDom0Info(libxl_dominfo *info)
{
    libxl_dominfo_init(info);
    info->domid = 0;
    info->running = true;
    info->current_memkb = FX_DOM0_KIB;
    info->max_memkb = FX_DOM0_KIB;
    info->cpu_time = (uint64_t)g_get_monotonic_time() * 1000;
    info->vcpu_max_id = FX_HOST_CPUS - 1;
    info->vcpu_online = FX_HOST_CPUS;
    info->domain_type = LIBXL_DOMAIN_TYPE_PV;
}

static void
fxDomainToInfo(const fxDomain *dom, libxl_dominfo *info)
{
    libxl_dominfo_init(info);
    info->domid = dom->domid;
    if (dom->uuid)
        libxl_uuid_from_string(&info->uuid, dom->uuid);
    switch (dom->state) {
    case FX_STATE_RUNNING:
        info->running = true;
        break;
    case FX_STATE_PAUSED:
        info->paused = true;
        break;
    case FX_STATE_SHUTDOWN:
        info->shutdown = true;
        info->shutdown_reason = dom->reason >= 0 ? (libxl_shutdown_reason)dom->reason
                                                 : LIBXL_SHUTDOWN_REASON_UNKNOWN;
        break;
    case FX_STATE_DYING:
    case FX_STATE_LAST:
    default:
        info->dying = true;
        break;
    }
    info->current_memkb = dom->memkb;
    info->max_memkb = dom->maxmemkb;
    info->cpu_time = (uint64_t)MAX(0, g_get_real_time() - dom->created) * 10;
    info->vcpu_max_id = dom->vcpus > 0 ? (uint32_t)dom->vcpus - 1 : 0;
    info->vcpu_online = dom->vcpus > 0 ? (uint32_t)dom->vcpus : 1;
    info->domain_type = (libxl_domain_type)dom->type;
}

int
libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info_r, uint32_t domid)
{
    g_autoptr(fxDomain) dom = NULL;

    if (domid == 0) {
        if (info_r)
            fxDom0Info(info_r);
        return 0;
    }
    if (!(dom = fxDomainLoad(domid)))
        return ERROR_DOMAIN_NOTFOUND;
    if (info_r)
        fxDomainToInfo(dom, info_r);
    return 0;
}

libxl_dominfo *
libxl_list_domain(libxl_ctx *ctx, int *nb_domain_out)
{
    size_t n, i, k = 0;
    g_autofree uint32_t *ids = fxDomainListIds(&n);
    libxl_dominfo *list = calloc(n + 1, sizeof(*list));

    if (!list) {
        *nb_domain_out = 0;
        return NULL;
    }
    fxDom0Info(&list[k++]);
    for (i = 0; i < n; i++) {
        g_autoptr(fxDomain) dom = fxDomainLoad(ids[i]);
        if (dom)
            fxDomainToInfo(dom, &list[k++]);
    }
    *nb_domain_out = (int)k;
    return list;
}

char *
libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
    g_autoptr(fxDomain) dom = NULL;

    if (domid == 0)
        return strdup("Domain-0");
    if (!(dom = fxDomainLoad(domid)))
        return NULL;
    return strdup(dom->name);
}

int
libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid)
{
    int64_t id;

    if (g_str_equal(name, "Domain-0")) {
        *domid = 0;
        return 0;
    }
    if ((id = fxDomainFindByName(name)) < 0)
        return ERROR_INVAL;
    *domid = (uint32_t)id;
    return 0;
}

/* ---- the save stream ----------------------------------------------
 *
 * Shaped like libxl's v2 stream: a 16-byte header ("LibxlFmt", version
 * 2, options), then records of (type, length, body padded to 8 bytes),
 * ending with an END record.  The guest state is one record of our own
 * type holding a magic, the blob size and the blob, followed by a record
 * holding the blob's hash: after the blob, so that the stream is written
 * and read in one pass, also through a pipe.
 */

#define FX_STREAM_IDENT "LibxlFmt"
#define FX_STREAM_VERSION 2
#define FX_REC_END 0x00000000
#define FX_REC_MEMORY 0x46580001       /* "FX" + 1 */
#define FX_REC_CHECKSUM 0x46580002     /* "FX" + 2 */
#define FX_MEM_MAGIC "fakexen-memory\n"  /* 16 bytes with its NUL */

static void
fxPutBE32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t
fxGetBE32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static void
fxPutLE64(unsigned char *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
fxGetLE64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The stream is copied through a buffer of this size, so that a save or
 * restore of a large guest never holds its whole memory in the process
 * (libvirtd, for one). A multiple of 8, as fxHash needs. */
#define FX_STREAM_CHUNK (1024 * 1024)

/* Reads exactly @len bytes at @pos (whole chunks keep fxHash's pieces
 * multiples of 8); a file too short is EIO. */
static int
fxPreadFull(int fd, unsigned char *buf, size_t len, uint64_t pos)
{
    while (len > 0) {
        ssize_t r = pread(fd, buf, len, (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        buf += r;
        len -= (size_t)r;
        pos += (uint64_t)r;
    }
    return 0;
}

/*
 * Writes the stream of the @size bytes of @blobfd to @fd, the guest
 * memory no faster than fxSaveRateKib(), so that a test can watch a
 * save in progress.
 */
static int
fxStreamWrite(int fd, int blobfd, uint64_t size)
{
    unsigned char hdr[16];
    unsigned char rec[8];
    unsigned char body[24];
    unsigned char sum[8];
    static const unsigned char zeros[8];
    uint64_t bodylen = sizeof(body) + size;
    g_autofree unsigned char *buf = g_malloc(FX_STREAM_CHUNK);
    uint64_t h = FX_FNV_INIT;
    uint64_t rate = fxSaveRateKib() * 1024;
    uint64_t chunk = FX_STREAM_CHUNK;
    gint64 start = g_get_monotonic_time();
    uint64_t pos;

    /* Paced: ten chunks a second, whole words for fxHash. */
    if (rate > 0)
        chunk = MIN(chunk, MAX(rate / 10, 4096) & ~(uint64_t)7);
    memcpy(hdr, FX_STREAM_IDENT, 8);
    fxPutBE32(hdr + 8, FX_STREAM_VERSION);
    fxPutBE32(hdr + 12, 0);
    fxPutBE32(rec, FX_REC_MEMORY);
    fxPutBE32(rec + 4, (uint32_t)bodylen);
    memcpy(body, FX_MEM_MAGIC, 16);
    fxPutLE64(body + 16, size);
    if (fxWriteFull(fd, hdr, sizeof(hdr)) < 0 ||
        fxWriteFull(fd, rec, sizeof(rec)) < 0 ||
        fxWriteFull(fd, body, sizeof(body)) < 0)
        return -1;
    for (pos = 0; pos < size; pos += chunk) {
        size_t n = (size_t)MIN(size - pos, chunk);
        if (fxPreadFull(blobfd, buf, n, pos) < 0)
            return -1;
        h = fxHash(h, buf, n);
        if (fxWriteFull(fd, buf, n) < 0)
            return -1;
        if (rate > 0) {
            gint64 due = start + (gint64)((pos + n) * G_USEC_PER_SEC / rate);
            gint64 now = g_get_monotonic_time();
            if (due > now)
                g_usleep((gulong)(due - now));
        }
    }
    if (fxWriteFull(fd, zeros, (8 - bodylen % 8) % 8) < 0)
        return -1;
    fxPutBE32(rec, FX_REC_CHECKSUM);
    fxPutBE32(rec + 4, sizeof(sum));
    fxPutLE64(sum, h);
    if (fxWriteFull(fd, rec, sizeof(rec)) < 0 ||
        fxWriteFull(fd, sum, sizeof(sum)) < 0)
        return -1;
    fxPutBE32(rec, FX_REC_END);
    fxPutBE32(rec + 4, 0);
    return fxWriteFull(fd, rec, sizeof(rec));
}

/*
 * Reads a stream from @fd, copying the blob into @blobfd (an empty
 * file) a chunk at a time. Returns 0 with *@size set, or -1 with @err
 * set; @blobfd then holds garbage.
 */
static int
fxStreamRead(int fd, int blobfd, uint64_t *size, char **err)
{
    unsigned char hdr[16];
    unsigned char rec[8];
    unsigned char body[24];
    unsigned char sum[8];
    unsigned char pad[8];
    g_autofree unsigned char *buf = NULL;
    bool found = false;
    bool checked = false;
    uint64_t h = FX_FNV_INIT;
    uint32_t type, len;

    if (fxReadFull(fd, hdr, sizeof(hdr)) < 0) {
        *err = g_strdup_printf("cannot read stream header: %s", g_strerror(errno));
        return -1;
    }
    if (memcmp(hdr, FX_STREAM_IDENT, 8) != 0 ||
        fxGetBE32(hdr + 8) != FX_STREAM_VERSION) {
        *err = g_strdup("not a libxl v2 stream written by the simulated host");
        return -1;
    }
    for (;;) {
        uint64_t pos;

        if (fxReadFull(fd, rec, sizeof(rec)) < 0) {
            *err = g_strdup_printf("truncated stream: %s", g_strerror(errno));
            return -1;
        }
        type = fxGetBE32(rec);
        len = fxGetBE32(rec + 4);
        if (type == FX_REC_END)
            break;
        if (type == FX_REC_CHECKSUM && found && !checked && len == sizeof(sum)) {
            if (fxReadFull(fd, sum, sizeof(sum)) < 0) {
                *err = g_strdup("truncated checksum record");
                return -1;
            }
            if (h != fxGetLE64(sum)) {
                *err = g_strdup("guest memory checksum mismatch");
                return -1;
            }
            checked = true;
            continue;
        }
        if (type != FX_REC_MEMORY || len < sizeof(body) || found) {
            *err = g_strdup_printf("unexpected stream record 0x%x", type);
            return -1;
        }
        if (fxReadFull(fd, body, sizeof(body)) < 0) {
            *err = g_strdup("truncated memory record");
            return -1;
        }
        *size = fxGetLE64(body + 16);
        if (memcmp(body, FX_MEM_MAGIC, 16) != 0 || *size != len - sizeof(body) ||
            *size > FX_MEM_BLOB_CAP_KIB * 1024) {
            *err = g_strdup("bad guest memory record magic or size");
            return -1;
        }
        buf = g_malloc(FX_STREAM_CHUNK);
        for (pos = 0; pos < *size; ) {
            size_t n = (size_t)MIN(*size - pos, FX_STREAM_CHUNK);
            if (fxReadFull(fd, buf, n) < 0) {
                *err = g_strdup("truncated guest memory");
                return -1;
            }
            h = fxHash(h, buf, n);
            if (fxWriteFull(blobfd, buf, n) < 0) {
                *err = g_strdup_printf("cannot write guest memory: %s", g_strerror(errno));
                return -1;
            }
            pos += n;
        }
        if (fxReadFull(fd, pad, (8 - len % 8) % 8) < 0) {
            *err = g_strdup("truncated guest memory");
            return -1;
        }
        found = true;
    }
    if (!found) {
        *err = g_strdup("stream has no guest memory record");
        return -1;
    }
    if (!checked) {
        *err = g_strdup("stream has no guest memory checksum");
        return -1;
    }
    return 0;
}

/* ---- creating domains ---------------------------------------------- */

static const char *
fxDiskFormatToQemu(libxl_disk_format fmt)
{
    switch (fmt) {
    case LIBXL_DISK_FORMAT_QCOW:
        return "qcow";
    case LIBXL_DISK_FORMAT_QCOW2:
        return "qcow2";
    case LIBXL_DISK_FORMAT_VHD:
        return "vpc";
    case LIBXL_DISK_FORMAT_QED:
        return "qed";
    case LIBXL_DISK_FORMAT_RAW:
    case LIBXL_DISK_FORMAT_UNKNOWN:
    case LIBXL_DISK_FORMAT_EMPTY:
    default:
        return "raw";
    }
}

/* What libxl's disk defaulting does for a file-backed disk. */
static void
fxDiskSetDefaults(libxl_device_disk *disk)
{
    if (disk->format == LIBXL_DISK_FORMAT_UNKNOWN)
        disk->format = LIBXL_DISK_FORMAT_RAW;
    if (disk->backend == LIBXL_DISK_BACKEND_UNKNOWN)
        disk->backend = LIBXL_DISK_BACKEND_QDISK;
}

/* The domain's blob: the restored one in @restored (moved), else zeros. */
static int
fxPlaceBlob(uint32_t domid, const char *restored, uint64_t size)
{
    g_autofree char *path = fxDomainPath(domid, "memory");
    int fd;
    int ret;

    if (restored)
        return rename(restored, path);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return -1;
    ret = ftruncate(fd, (off_t)size);
    if (close(fd) < 0)
        ret = -1;
    return ret;
}

/*
 * Reads the stream of a restore into a new file of the state directory:
 * the domain, and so its directory, does not exist yet. Returns the
 * file's path (caller unlinks and frees) or NULL.
 */
static char *
fxRestoreStream(const char *name, int restore_fd, uint64_t *size)
{
    g_autofree char *path = g_build_filename(fxStateDir(), "restore-XXXXXX", NULL);
    g_autofree char *err = NULL;
    int fd;
    int rc;

    if ((fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0644)) < 0) {
        fxLog("restore of '%s' failed: cannot create %s: %s", name, path,
              g_strerror(errno));
        return NULL;
    }
    rc = fxStreamRead(restore_fd, fd, size, &err);
    if (close(fd) < 0 && rc == 0) {
        err = g_strdup_printf("cannot write guest memory: %s", g_strerror(errno));
        rc = -1;
    }
    if (rc < 0) {
        fxLog("restore of '%s' failed: %s", name, err);
        unlink(path);
        return NULL;
    }
    return g_steal_pointer(&path);
}

static int
fxDomainBuild(libxl_ctx *ctx, libxl_domain_config *d_config, uint32_t *domid_out,
              const char *restored, uint64_t blobsize,
              const libxl_asyncprogress_how *aop_console_how)
{
    g_autoptr(fxDomain) dom = g_new0(fxDomain, 1);
    g_autofree fxDmDisk *disks = NULL;
    g_autofree char *json = NULL;
    g_autofree char *jsonpath = NULL;
    g_autofree char *err = NULL;
    const char *name = d_config->c_info.name;
    size_t ndisks = 0;
    int i;
    int lock;
    pid_t dmpid = 0;

    for (i = 0; i < d_config->num_disks; i++)
        fxDiskSetDefaults(&d_config->disks[i]);

    if ((lock = fxStateLock()) < 0)
        return ERROR_FAIL;
    if (fxDomainFindByName(name) >= 0) {
        fxStateUnlock(lock);
        fxLog("create: a domain named '%s' already exists", name);
        return ERROR_INVAL;
    }
    dom->domid = fxDomainAllocId();
    dom->name = g_strdup(name);
    if (!libxl_uuid_is_nil(&d_config->c_info.uuid))
        dom->uuid = g_strdup_printf(LIBXL_UUID_FMT, LIBXL_UUID_BYTES(d_config->c_info.uuid));
    dom->state = FX_STATE_PAUSED;
    dom->reason = FX_REASON_NONE;
    dom->type = d_config->c_info.type;
    dom->maxmemkb = d_config->b_info.max_memkb;
    dom->memkb = d_config->b_info.target_memkb;
    if (dom->maxmemkb == LIBXL_MEMKB_DEFAULT || dom->maxmemkb == 0)
        dom->maxmemkb = 128 * 1024;
    if (dom->memkb == LIBXL_MEMKB_DEFAULT || dom->memkb == 0)
        dom->memkb = dom->maxmemkb;
    dom->vcpus = d_config->b_info.max_vcpus > 0 ? d_config->b_info.max_vcpus : 1;
    dom->created = g_get_real_time();
    dom->blobsize = restored ? blobsize : MIN(dom->maxmemkb * 1024, fxMemBlobMax());
    json = libxl_domain_config_to_json(ctx, d_config);
    jsonpath = fxDomainPath(dom->domid, "config.json");
    if (fxDomainSave(dom) < 0 ||
        !g_file_set_contents(jsonpath, json ? json : "{}", -1, NULL) ||
        fxPlaceBlob(dom->domid, restored, dom->blobsize) < 0) {
        fxLog("create: cannot write state of '%s': %s", name, g_strerror(errno));
        fxDomainRemove(dom->domid);
        fxStateUnlock(lock);
        return ERROR_FAIL;
    }
    fxStateUnlock(lock);

    disks = g_new0(fxDmDisk, d_config->num_disks + 1);
    for (i = 0; i < d_config->num_disks; i++) {
        libxl_device_disk *d = &d_config->disks[i];
        if (!d->pdev_path || !*d->pdev_path || !d->vdev ||
            d->format == LIBXL_DISK_FORMAT_EMPTY)
            continue;
        disks[ndisks].vdev = d->vdev;
        disks[ndisks].path = d->pdev_path;
        disks[ndisks].format = fxDiskFormatToQemu(d->format);
        disks[ndisks].readonly = !d->readwrite || d->is_cdrom;
        ndisks++;
    }
    if (fxDmStart(dom->domid, disks, ndisks, &dmpid, &err) < 0) {
        fxLog("create: domain %u '%s': %s", dom->domid, name, err);
        lock = fxStateLock();
        fxDomainRemove(dom->domid);
        fxStateUnlock(lock);
        return ERROR_FAIL;
    }

    lock = fxStateLock();
    dom->dmpid = dmpid;
    fxDomainSave(dom);
    fxStateUnlock(lock);
    fxLog("%s domain %u '%s' (paused, dm pid %d, %" G_GUINT64_FORMAT " bytes of memory)",
          restored ? "restored" : "created", dom->domid, name, (int)dmpid,
          dom->blobsize);

    *domid_out = dom->domid;
    if (aop_console_how) {
        libxl_event *ev = fxEventNew(LIBXL_EVENT_TYPE_DOMAIN_CREATE_CONSOLE_AVAILABLE,
                                     dom->domid, aop_console_how->for_event);
        if (aop_console_how->callback)
            aop_console_how->callback(ctx, ev, aop_console_how->for_callback);
        else
            fxEventDeliver(ctx, ev);
    }
    return 0;
}

int
libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *d_config,
                        uint32_t *domid, const libxl_asyncop_how *ao_how,
                        const libxl_asyncprogress_how *aop_console_how)
{
    int rc = fxDomainBuild(ctx, d_config, domid, NULL, 0, aop_console_how);
    return fxAoDone(ctx, ao_how, rc);
}

int
libxl_domain_create_restore(libxl_ctx *ctx, libxl_domain_config *d_config,
                            uint32_t *domid, int restore_fd, int send_back_fd,
                            const libxl_domain_restore_params *params,
                            const libxl_asyncop_how *ao_how,
                            const libxl_asyncprogress_how *aop_console_how)
{
    gint64 start = fxNowNs();
    gint64 streamEnd;
    g_autofree char *restored = NULL;
    uint64_t size = 0;
    int rc;

    if (params && params->stream_version != 0 && params->stream_version != 2) {
        fxLog("restore: unsupported stream version %u", params->stream_version);
        return fxAoDone(ctx, ao_how, ERROR_INVAL);
    }
    if (restore_fd < 0)
        return fxAoDone(ctx, ao_how, ERROR_INVAL);
    if (!(restored = fxRestoreStream(d_config->c_info.name ? d_config->c_info.name : "",
                                     restore_fd, &size)))
        return fxAoDone(ctx, ao_how, ERROR_FAIL);
    streamEnd = fxNowNs();
    rc = fxDomainBuild(ctx, d_config, domid, restored, size, aop_console_how);
    if (rc == 0) {
        /* The domain has its domid only now. */
        fxMark("restore-start", *domid, start);
        fxMark("restore-stream-end", *domid, streamEnd);
        fxMark("restored", *domid, 0);
    }
    /* Moved into the domain on success. */
    unlink(restored);
    return fxAoDone(ctx, ao_how, rc);
}

/* ---- lifecycle ----------------------------------------------------- */

/*
 * Loads @domid under the lock, lets @change edit it, and saves it.
 * @change returns a libxl error code; nothing is saved on error.
 */
typedef int (*fxChangeFunc)(fxDomain *dom, void *opaque);

static int
fxDomainChange(uint32_t domid, fxChangeFunc change, void *opaque)
{
    g_autoptr(fxDomain) dom = NULL;
    int lock;
    int rc;

    if (domid == 0)
        return ERROR_INVAL;
    if ((lock = fxStateLock()) < 0)
        return ERROR_FAIL;
    if (!(dom = fxDomainLoad(domid))) {
        fxStateUnlock(lock);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if ((rc = change(dom, opaque)) == 0 && fxDomainSave(dom) < 0)
        rc = ERROR_FAIL;
    fxStateUnlock(lock);
    return rc;
}

static int
fxChangePause(fxDomain *dom, void *opaque)
{
    if (dom->state == FX_STATE_DYING)
        return ERROR_FAIL;
    if (dom->state == FX_STATE_RUNNING)
        dom->state = FX_STATE_PAUSED;
    return 0;
}

static int
fxChangeUnpause(fxDomain *dom, void *opaque)
{
    if (dom->state == FX_STATE_DYING)
        return ERROR_FAIL;
    if (dom->state == FX_STATE_PAUSED)
        dom->state = FX_STATE_RUNNING;
    return 0;
}

/* A guest that is asked to shut down does so at once (PV drivers present). */
static int
fxChangeShutdown(fxDomain *dom, void *opaque)
{
    int reason = GPOINTER_TO_INT(opaque);

    if (dom->state != FX_STATE_RUNNING && dom->state != FX_STATE_PAUSED)
        return ERROR_FAIL;
    fxDomainSetShutdown(dom, reason);
    return 0;
}

static int
fxChangeResume(fxDomain *dom, void *opaque)
{
    if (dom->state != FX_STATE_SHUTDOWN || dom->reason != FX_REASON_SUSPEND)
        return ERROR_FAIL;
    dom->state = FX_STATE_RUNNING;
    dom->reason = FX_REASON_NONE;
    return 0;
}

static int
fxChangeSetMaxMem(fxDomain *dom, void *opaque)
{
    dom->maxmemkb = *(uint64_t *)opaque;
    return 0;
}

static int
fxChangeSetTarget(fxDomain *dom, void *opaque)
{
    dom->memkb = MIN(*(uint64_t *)opaque, dom->maxmemkb);
    return 0;
}

int
libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = fxDomainChange(domid, fxChangePause, NULL);

    if (rc == 0)
        fxMark("pause", domid, 0);
    return fxAoDone(ctx, ao_how, rc);
}

int
libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = fxDomainChange(domid, fxChangeUnpause, NULL);

    if (rc == 0)
        fxMark("unpause", domid, 0);
    return fxAoDone(ctx, ao_how, rc);
}

int
libxl_domain_shutdown(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = fxDomainChange(domid, fxChangeShutdown, GINT_TO_POINTER(FX_REASON_POWEROFF));
    return fxAoDone(ctx, ao_how, rc);
}

int
libxl_domain_reboot(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = fxDomainChange(domid, fxChangeShutdown, GINT_TO_POINTER(FX_REASON_REBOOT));
    return fxAoDone(ctx, ao_how, rc);
}

int
libxl_domain_suspend_only(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    int rc = fxDomainChange(domid, fxChangeShutdown, GINT_TO_POINTER(FX_REASON_SUSPEND));
    return fxAoDone(ctx, ao_how, rc);
}

int
libxl_domain_resume(libxl_ctx *ctx, uint32_t domid, int suspend_cancel,
                    const libxl_asyncop_how *ao_how)
{
    gint64 start = fxNowNs();
    int rc = fxDomainChange(domid, fxChangeResume, NULL);
    gint64 now = fxNowNs();

    fxLog("resume domain %u (cancel=%d): rc %d", domid, suspend_cancel, rc);
    if (rc == 0) {
        fxMark("resume-start", domid, start);
        fxMark("resume", domid, now);
    }
    return fxAoDone(ctx, ao_how, rc);
}

int
libxl_domain_setmaxmem(libxl_ctx *ctx, uint32_t domid, uint64_t target_memkb)
{
    if (domid == 0)
        return 0;
    return fxDomainChange(domid, fxChangeSetMaxMem, &target_memkb);
}

int
libxl_set_memory_target(libxl_ctx *ctx, uint32_t domid, int64_t target_memkb,
                        int relative, int enforce)
{
    g_autoptr(fxDomain) dom = NULL;
    uint64_t kb;

    if (domid == 0)
        return 0;
    if (!(dom = fxDomainLoad(domid)))
        return ERROR_DOMAIN_NOTFOUND;
    kb = relative ? (uint64_t)MAX(0, (int64_t)dom->memkb + target_memkb)
                  : (uint64_t)MAX(0, target_memkb);
    return fxDomainChange(domid, fxChangeSetTarget, &kb);
}

int
libxl_get_memory_target(libxl_ctx *ctx, uint32_t domid, uint64_t *out_target)
{
    g_autoptr(fxDomain) dom = NULL;

    if (domid == 0) {
        *out_target = FX_DOM0_KIB;
        return 0;
    }
    if (!(dom = fxDomainLoad(domid)))
        return ERROR_DOMAIN_NOTFOUND;
    *out_target = dom->memkb;
    return 0;
}

int
libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    g_autoptr(fxDomain) dom = NULL;
    int lock;

    if (domid == 0)
        return fxAoDone(ctx, ao_how, ERROR_INVAL);
    if ((lock = fxStateLock()) < 0)
        return fxAoDone(ctx, ao_how, ERROR_FAIL);
    if (!(dom = fxDomainLoad(domid))) {
        fxStateUnlock(lock);
        return fxAoDone(ctx, ao_how, ERROR_DOMAIN_NOTFOUND);
    }
    dom->state = FX_STATE_DYING;
    fxDomainSave(dom);
    fxStateUnlock(lock);
    fxMark("destroy", domid, 0);

    fxDmStop(domid, dom->dmpid);

    lock = fxStateLock();
    fxDomainRemove(domid);
    fxStateUnlock(lock);
    fxLog("destroyed domain %u '%s'", domid, dom->name);
    return fxAoDone(ctx, ao_how, 0);
}

int
libxl_domain_suspend(libxl_ctx *ctx, uint32_t domid, int fd, int flags,
                     const libxl_asyncop_how *ao_how)
{
    g_autoptr(fxDomain) dom = NULL;
    g_autofree char *path = fxDomainPath(domid, "memory");
    gint64 start = fxNowNs();
    gint64 streamStart;
    gint64 streamEnd;
    struct stat st;
    uint64_t size;
    int blobfd = -1;
    int lock;
    int rc;

    if (domid == 0)
        return fxAoDone(ctx, ao_how, ERROR_INVAL);
    if ((lock = fxStateLock()) < 0)
        return fxAoDone(ctx, ao_how, ERROR_FAIL);
    dom = fxDomainLoad(domid);
    if (!dom || (dom->state != FX_STATE_RUNNING && dom->state != FX_STATE_PAUSED) ||
        (blobfd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(blobfd, &st) < 0) {
        fxStateUnlock(lock);
        if (blobfd >= 0)
            close(blobfd);
        fxLog("suspend domain %u: not running or no memory", domid);
        return fxAoDone(ctx, ao_how, dom ? ERROR_FAIL : ERROR_DOMAIN_NOTFOUND);
    }
    fxStateUnlock(lock);
    if ((flags & LIBXL_SUSPEND_LIVE) && dom->type == LIBXL_DOMAIN_TYPE_PV &&
        !fxHostHasShadow()) {
        /* As Xen 4.17 without shadow paging: libxc cannot turn on
         * log-dirty for a PV guest, and libxl's save fails before the
         * guest is suspended. */
        close(blobfd);
        fxLog("suspend domain %u: xc: error: Failed to enable logdirty: 95,22,0 "
              "(22 = Invalid argument)", domid);
        return fxAoDone(ctx, ao_how, ERROR_GUEST_TIMEDOUT);
    }
    /* The file, not the table: tests may write the blob directly. */
    size = (uint64_t)st.st_size;

    /* The guest keeps running while the stream is written (live) or not;
     * either way it ends up suspended, with the memory of this moment. */
    streamStart = fxNowNs();
    rc = fxStreamWrite(fd, blobfd, size);
    streamEnd = fxNowNs();
    close(blobfd);
    if (rc < 0) {
        fxLog("suspend domain %u: write failed: %s", domid, g_strerror(errno));
        return fxAoDone(ctx, ao_how, ERROR_FAIL);
    }
    rc = fxDomainChange(domid, fxChangeShutdown, GINT_TO_POINTER(FX_REASON_SUSPEND));
    fxLog("suspended domain %u (flags %d, %" G_GUINT64_FORMAT " bytes): rc %d",
          domid, flags, size, rc);
    fxMark("suspend-start", domid, start);
    fxMark("stream-start", domid, streamStart);
    fxMark("stream-end", domid, streamEnd);
    fxMark("suspended", domid, 0);
    return fxAoDone(ctx, ao_how, rc);
}

/* ---- per-domain data ----------------------------------------------- */

int
libxl_retrieve_domain_configuration(libxl_ctx *ctx, uint32_t domid,
                                    libxl_domain_config *d_config,
                                    const libxl_asyncop_how *ao_how)
{
    g_autofree char *path = fxDomainPath(domid, "config.json");
    g_autofree char *json = NULL;
    int rc;

    if (!g_file_get_contents(path, &json, NULL, NULL))
        return fxAoDone(ctx, ao_how, ERROR_DOMAIN_NOTFOUND);
    rc = libxl_domain_config_from_json(ctx, d_config, json);
    return fxAoDone(ctx, ao_how, rc ? ERROR_FAIL : 0);
}

libxl_device_disk *
libxl_device_disk_list(libxl_ctx *ctx, uint32_t domid, int *num)
{
    libxl_domain_config cfg;
    libxl_device_disk *list = NULL;
    int i;

    *num = 0;
    libxl_domain_config_init(&cfg);
    if (libxl_retrieve_domain_configuration(ctx, domid, &cfg, NULL) == 0 &&
        cfg.num_disks > 0) {
        list = calloc((size_t)cfg.num_disks, sizeof(*list));
        for (i = 0; list && i < cfg.num_disks; i++) {
            libxl_device_disk_init(&list[i]);
            libxl_device_disk_copy(ctx, &list[i], &cfg.disks[i]);
        }
        if (list)
            *num = cfg.num_disks;
    }
    libxl_domain_config_dispose(&cfg);
    return list;
}

libxl_device_channel *
libxl_device_channel_list(libxl_ctx *ctx, uint32_t domid, int *num)
{
    *num = 0;
    return NULL;
}

int
libxl_console_get_tty(libxl_ctx *ctx, uint32_t domid, int cons_num,
                      libxl_console_type type, char **path)
{
    g_autofree char *pty = NULL;

    if (cons_num != 0 || !(pty = fxDmConsolePty(domid)))
        return ERROR_FAIL;
    *path = strdup(pty);
    return *path ? 0 : ERROR_NOMEM;
}

static char *
fxUserdataPath(uint32_t domid, const char *userid)
{
    g_autofree char *file = g_strdup_printf("userdata-%s", userid);
    return fxDomainPath(domid, file);
}

int
libxl_userdata_store(libxl_ctx *ctx, uint32_t domid, const char *userdata_userid,
                     const uint8_t *data, int datalen)
{
    g_autofree char *path = NULL;

    if (domid == 0 || !userdata_userid || strchr(userdata_userid, '/'))
        return ERROR_INVAL;
    if (libxl_domain_info(ctx, NULL, domid) != 0)
        return ERROR_DOMAIN_NOTFOUND;
    path = fxUserdataPath(domid, userdata_userid);
    if (datalen <= 0) {
        g_unlink(path);
        return 0;
    }
    return g_file_set_contents(path, (const char *)data, datalen, NULL) ? 0 : ERROR_FAIL;
}

int
libxl_userdata_retrieve(libxl_ctx *ctx, uint32_t domid, const char *userdata_userid,
                        uint8_t **data_r, int *datalen_r)
{
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    *data_r = NULL;
    if (datalen_r)
        *datalen_r = 0;
    /* No data is not an error: libvirt relies on that for Domain-0. */
    if (domid == 0 || !userdata_userid || strchr(userdata_userid, '/'))
        return 0;
    path = fxUserdataPath(domid, userdata_userid);
    if (!g_file_get_contents(path, &data, &len, NULL) || len == 0)
        return 0;
    if (!(*data_r = malloc(len)))
        return ERROR_NOMEM;
    memcpy(*data_r, data, len);
    if (datalen_r)
        *datalen_r = (int)len;
    return 0;
}

int
libxl_userdata_unlink(libxl_ctx *ctx, uint32_t domid, const char *userdata_userid)
{
    g_autofree char *path = NULL;

    if (!userdata_userid || strchr(userdata_userid, '/'))
        return ERROR_INVAL;
    path = fxUserdataPath(domid, userdata_userid);
    g_unlink(path);
    return 0;
}

/* ---- vcpus and scheduling ------------------------------------------ */

libxl_vcpuinfo *
libxl_list_vcpu(libxl_ctx *ctx, uint32_t domid, int *nr_vcpus_out, int *nr_cpus_out)
{
    libxl_dominfo info;
    libxl_vcpuinfo *list;
    uint32_t i, n;

    *nr_vcpus_out = 0;
    *nr_cpus_out = FX_HOST_CPUS;
    if (libxl_domain_info(ctx, &info, domid) != 0)
        return NULL;
    n = info.vcpu_online ? info.vcpu_online : 1;
    libxl_dominfo_dispose(&info);
    if (!(list = calloc(n, sizeof(*list))))
        return NULL;
    for (i = 0; i < n; i++) {
        libxl_vcpuinfo_init(&list[i]);
        list[i].vcpuid = i;
        list[i].cpu = i % FX_HOST_CPUS;
        list[i].online = true;
        list[i].running = info.running;
        list[i].vcpu_time = info.cpu_time / n;
        if (libxl_cpu_bitmap_alloc(ctx, &list[i].cpumap, 0) == 0)
            libxl_bitmap_set_any(&list[i].cpumap);
        if (libxl_cpu_bitmap_alloc(ctx, &list[i].cpumap_soft, 0) == 0)
            libxl_bitmap_set_any(&list[i].cpumap_soft);
    }
    *nr_vcpus_out = (int)n;
    return list;
}

int
libxl_set_vcpuaffinity(libxl_ctx *ctx, uint32_t domid, uint32_t vcpuid,
                       const libxl_bitmap *cpumap_hard, const libxl_bitmap *cpumap_soft)
{
    return libxl_domain_info(ctx, NULL, domid);
}

int
libxl_domain_get_nodeaffinity(libxl_ctx *ctx, uint32_t domid, libxl_bitmap *nodemap)
{
    libxl_bitmap_set_any(nodemap);
    return libxl_domain_info(ctx, NULL, domid);
}

int
libxl_domain_set_nodeaffinity(libxl_ctx *ctx, uint32_t domid, libxl_bitmap *nodemap)
{
    return libxl_domain_info(ctx, NULL, domid);
}

int
libxl_domain_sched_params_get(libxl_ctx *ctx, uint32_t domid,
                              libxl_domain_sched_params *params)
{
    int rc = libxl_domain_info(ctx, NULL, domid);

    if (rc)
        return rc;
    libxl_domain_sched_params_init(params);
    params->sched = LIBXL_SCHEDULER_CREDIT;
    params->weight = 256;
    params->cap = 0;
    return 0;
}

int
libxl_domain_sched_params_set(libxl_ctx *ctx, uint32_t domid,
                              const libxl_domain_sched_params *params)
{
    return libxl_domain_info(ctx, NULL, domid);
}

libxl_device_usbdev *
libxl_device_usbdev_list(libxl_ctx *ctx, uint32_t domid, int *num)
{
    *num = 0;
    return NULL;
}

libxl_device_nic *
libxl_device_nic_list(libxl_ctx *ctx, uint32_t domid, int *num)
{
    *num = 0;
    return NULL;
}

libxl_device_pci *
libxl_device_pci_list(libxl_ctx *ctx, uint32_t domid, int *num)
{
    *num = 0;
    return NULL;
}

/* Called by the fail-only fakes of fx_unsupported.c. */
int fxUnsupported(const char *func);
int
fxUnsupported(const char *func)
{
    fxLog("%s: not simulated, failing", func);
    return ERROR_FAIL;
}
