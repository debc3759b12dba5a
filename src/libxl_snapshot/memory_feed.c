/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory_feed.c: a memory image streamed to libvirt's restore through a
 * FIFO
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "memory_feed.h"
#include "memory_image.h"
#include "util_error.h"

/* How long the feeder waits for a reader to open the FIFO. */
#define XSNAP_MEMORY_FEED_WAIT_MS 120000
/* Linux's fcntl to size a pipe (F_LINUX_SPECIFIC_BASE + 7), which
 * <fcntl.h> declares only with _GNU_SOURCE. */
#ifndef F_SETPIPE_SZ
# define F_SETPIPE_SZ 1031
#endif
#define XSNAP_MEMORY_FEED_PIPE (1024 * 1024)

struct _xsnapMemoryFeed {
    char *fifo;
    char *image;
    char *xml;
    uint64_t hold;            /* bytes of the stream's tail held back */
    xsnapMemoryImageReleaseFunc release;
    void *releaseOpaque;
    GThread *thread;
    gint stop;                /* the reader is done: stop waiting for it */
    bool failed;              /* reading the image failed */
    bool readerFailed;        /* no reader came, or it went away early */
    xsnapError *error;        /* the feeder's error */
};


static void
xsnapMemoryFeedFree(xsnapMemoryFeed *feed)
{
    g_free(feed->fifo);
    g_free(feed->image);
    g_free(feed->xml);
    xsnapErrorFree(feed->error);
    g_free(feed);
}


/* Opens the FIFO for writing once a reader has it open; -1 with an error
 * if none came, or the caller gave up. */
static int
xsnapMemoryFeedOpen(xsnapMemoryFeed *feed)
{
    gint64 deadline = g_get_monotonic_time() + XSNAP_MEMORY_FEED_WAIT_MS * (gint64)1000;
    int out;

    while ((out = open(feed->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        if (errno != ENXIO) {
            xsnapReportSystemError(errno, _("cannot open FIFO '%1$s'"), feed->fifo);
            return -1;
        }
        if (g_atomic_int_get(&feed->stop) || g_get_monotonic_time() >= deadline) {
            xsnapReportError(VIR_ERR_OPERATION_TIMEOUT,
                             _("nothing opened FIFO '%1$s' to read the memory image"),
                             feed->fifo);
            return -1;
        }
        g_usleep(1000);
    }
    /* A pipe of one copy chunk: with the default 64 KiB, the feeder and
     * libxl take turns every 64 KiB and the stream runs at a third of
     * the speed of a file. Best effort: the size is a limit of the host. */
    if (fcntl(out, F_SETPIPE_SZ, XSNAP_MEMORY_FEED_PIPE) < 0)
        (void)fcntl(out, F_SETPIPE_SZ, 256 * 1024);
    if (fcntl(out, F_SETFL, 0) < 0) {
        xsnapReportSystemError(errno, _("cannot open FIFO '%1$s'"), feed->fifo);
        close(out);
        return -1;
    }
    return out;
}


static gpointer
xsnapMemoryFeedRun(gpointer opaque)
{
    xsnapMemoryFeed *feed = opaque;
    struct timespec none = { 0, 0 };
    sigset_t pipeSet;
    bool outFailed = false;
    int out;
    int rc = -1;

    /* A reader that goes away must fail a write (EPIPE), not kill the
     * process: libvirtd, or the tool. The signal stays with this thread,
     * which takes it back below. */
    sigemptyset(&pipeSet);
    sigaddset(&pipeSet, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeSet, NULL);

    if ((out = xsnapMemoryFeedOpen(feed)) < 0) {
        feed->readerFailed = true;
    } else {
        rc = xsnapMemoryImageExportHold(feed->image, feed->xml, XSNAP_MEMORY_FORMAT_RAW,
                                        out, feed->fifo, &outFailed, feed->hold,
                                        feed->release, feed->releaseOpaque);
        close(out);
        if (rc < 0 && outFailed) {
            feed->readerFailed = true;
        } else if (rc < 0) {
            feed->failed = true;
            feed->error = xsnapSaveLastError();
        }
    }
    xsnapResetLastError();
    while (sigtimedwait(&pipeSet, NULL, &none) == SIGPIPE)
        ;
    return NULL;
}


xsnapMemoryFeed *
xsnapMemoryFeedStart(const char *fifo, const char *image, const char *xml)
{
    return xsnapMemoryFeedStartHold(fifo, image, xml, 0, NULL, NULL);
}


xsnapMemoryFeed *
xsnapMemoryFeedStartHold(const char *fifo, const char *image, const char *xml,
                         uint64_t hold, xsnapMemoryImageReleaseFunc release,
                         void *opaque)
{
    xsnapMemoryFeed *feed = g_new0(xsnapMemoryFeed, 1);
    g_autoptr(GError) gerr = NULL;

    feed->fifo = g_strdup(fifo);
    feed->image = g_strdup(image);
    feed->xml = g_strdup(xml);
    feed->hold = hold;
    feed->release = release;
    feed->releaseOpaque = opaque;
    if (!(feed->thread = g_thread_try_new("xsnap-feed", xsnapMemoryFeedRun, feed, &gerr))) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED,
                         _("cannot start the memory image feeder: %1$s"), gerr->message);
        xsnapMemoryFeedFree(feed);
        return NULL;
    }
    return feed;
}


int
xsnapMemoryFeedFinish(xsnapMemoryFeed *feed)
{
    int ret = 0;

    g_atomic_int_set(&feed->stop, 1);
    g_thread_join(feed->thread);
    if (feed->readerFailed) {
        ret = 1;
    } else if (feed->failed) {
        if (feed->error)
            xsnapRestoreLastError(g_steal_pointer(&feed->error));
        else
            xsnapReportError(VIR_ERR_OPERATION_FAILED,
                             _("cannot stream memory image '%1$s'"), feed->image);
        ret = -1;
    }
    xsnapMemoryFeedFree(feed);
    return ret;
}
