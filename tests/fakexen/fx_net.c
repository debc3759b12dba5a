/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_net.c: the safety net below libxl
 *
 * libxenlight and libxenctrl stay real, but the transports they would
 * use to reach the hypervisor (privcmd hypercalls, foreign memory,
 * device model ops, xenstored) are replaced here by handles that answer
 * every request with ENOSYS/EACCES.  A libxl path that the simulator
 * does not fake therefore fails cleanly instead of touching a dummy
 * handle.  The functions are defined without their headers: each fake
 * only needs a compatible return type under the x86-64 calling
 * convention, and their prototypes in Xen's headers differ per library.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

#include "fx_net.h"

/* One static object per kind; real code only compares these with NULL
 * and hands them back to the fakes below. */
static long fxDummyXencall;
static long fxDummyForeign;
static long fxDummyDevicemodel;
static long fxDummyXenstore;

#define FX_FAIL_INT(name) \
    int name(void); \
    int name(void) { errno = ENOSYS; return -1; }
#define FX_FAIL_PTR(name) \
    void *name(void); \
    void *name(void) { errno = ENOSYS; return NULL; }
#define FX_FAIL_BOOL(name) \
    bool name(void); \
    bool name(void) { errno = EACCES; return false; }

/* ---- xencall: hypercalls ------------------------------------------- */

void *xencall_open(void *logger, unsigned open_flags);
void *xencall_open(void *logger, unsigned open_flags)
{
    return &fxDummyXencall;
}

int xencall_close(void *h);
int xencall_close(void *h) { return 0; }

FX_FAIL_INT(xencall0)
FX_FAIL_INT(xencall1)
FX_FAIL_INT(xencall2)
FX_FAIL_INT(xencall3)
FX_FAIL_INT(xencall4)
FX_FAIL_INT(xencall5)
FX_FAIL_INT(xencall_fd)

void *xencall_alloc_buffer(void *h, size_t size);
void *xencall_alloc_buffer(void *h, size_t size)
{
    return calloc(1, size ? size : 1);
}

void xencall_free_buffer(void *h, void *p);
void xencall_free_buffer(void *h, void *p) { free(p); }

void *xencall_alloc_buffer_pages(void *h, size_t nr_pages);
void *xencall_alloc_buffer_pages(void *h, size_t nr_pages)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, (nr_pages ? nr_pages : 1) * 4096) != 0)
        return NULL;
    memset(p, 0, (nr_pages ? nr_pages : 1) * 4096);
    return p;
}

void xencall_free_buffer_pages(void *h, void *p, size_t nr_pages);
void xencall_free_buffer_pages(void *h, void *p, size_t nr_pages) { free(p); }

int xencall_buffers_never_fault(void *h);
int xencall_buffers_never_fault(void *h) { return 0; }

/* ---- foreign memory and device model ops --------------------------- */

void *xenforeignmemory_open(void *logger, unsigned open_flags);
void *xenforeignmemory_open(void *logger, unsigned open_flags)
{
    return &fxDummyForeign;
}
int xenforeignmemory_close(void *h);
int xenforeignmemory_close(void *h) { return 0; }
FX_FAIL_PTR(xenforeignmemory_map)
FX_FAIL_PTR(xenforeignmemory_map2)
FX_FAIL_INT(xenforeignmemory_unmap)
FX_FAIL_INT(xenforeignmemory_restrict)
FX_FAIL_PTR(xenforeignmemory_map_resource)
FX_FAIL_INT(xenforeignmemory_unmap_resource)
FX_FAIL_INT(xenforeignmemory_resource_size)

void *xendevicemodel_open(void *logger, unsigned open_flags);
void *xendevicemodel_open(void *logger, unsigned open_flags)
{
    return &fxDummyDevicemodel;
}
int xendevicemodel_close(void *h);
int xendevicemodel_close(void *h) { return 0; }
FX_FAIL_INT(xendevicemodel_create_ioreq_server)
FX_FAIL_INT(xendevicemodel_destroy_ioreq_server)
FX_FAIL_INT(xendevicemodel_get_ioreq_server_info)
FX_FAIL_INT(xendevicemodel_inject_event)
FX_FAIL_INT(xendevicemodel_inject_msi)
FX_FAIL_INT(xendevicemodel_map_io_range_to_ioreq_server)
FX_FAIL_INT(xendevicemodel_map_pcidev_to_ioreq_server)
FX_FAIL_INT(xendevicemodel_modified_memory)
FX_FAIL_INT(xendevicemodel_pin_memory_cacheattr)
FX_FAIL_INT(xendevicemodel_set_ioreq_server_state)
FX_FAIL_INT(xendevicemodel_set_isa_irq_level)
FX_FAIL_INT(xendevicemodel_set_mem_type)
FX_FAIL_INT(xendevicemodel_set_pci_intx_level)
FX_FAIL_INT(xendevicemodel_set_pci_link_route)
FX_FAIL_INT(xendevicemodel_track_dirty_vram)
FX_FAIL_INT(xendevicemodel_unmap_io_range_from_ioreq_server)
FX_FAIL_INT(xendevicemodel_unmap_pcidev_from_ioreq_server)
FX_FAIL_INT(xendevicemodel_shutdown)
FX_FAIL_INT(xendevicemodel_restrict)

/* ---- xenstore ------------------------------------------------------- */

void *xs_open(unsigned long flags);
void *xs_open(unsigned long flags) { return &fxDummyXenstore; }
void *xs_daemon_open(void);
void *xs_daemon_open(void) { return &fxDummyXenstore; }
void *xs_daemon_open_readonly(void);
void *xs_daemon_open_readonly(void) { return &fxDummyXenstore; }
void xs_close(void *h);
void xs_close(void *h) { }
void xs_daemon_close(void *h);
void xs_daemon_close(void *h) { }
void xs_daemon_destroy_postfork(void *h);
void xs_daemon_destroy_postfork(void *h) { }

/* Reads find nothing, writes are refused, transactions cannot start. */
void *xs_read(void *h, uint32_t t, const char *path, unsigned int *len);
void *xs_read(void *h, uint32_t t, const char *path, unsigned int *len)
{
    errno = ENOENT;
    return NULL;
}
void *xs_directory(void *h, uint32_t t, const char *path, unsigned int *num);
void *xs_directory(void *h, uint32_t t, const char *path, unsigned int *num)
{
    errno = ENOENT;
    return NULL;
}
uint32_t xs_transaction_start(void *h);
uint32_t xs_transaction_start(void *h)
{
    errno = EACCES;
    return 0;
}
bool xs_transaction_end(void *h, uint32_t t, bool abort);
bool xs_transaction_end(void *h, uint32_t t, bool abort)
{
    /* Never EAGAIN: libxl would retry forever. */
    errno = EACCES;
    return abort;
}
char *xs_get_domain_path(void *h, unsigned int domid);
char *xs_get_domain_path(void *h, unsigned int domid)
{
    char *p = malloc(32);
    if (p)
        snprintf(p, 32, "/local/domain/%u", domid);
    return p;
}
int xs_fileno(void *h);
int xs_fileno(void *h)
{
    errno = ENOSYS;
    return -1;
}
FX_FAIL_BOOL(xs_write)
FX_FAIL_BOOL(xs_mkdir)
FX_FAIL_BOOL(xs_rm)
FX_FAIL_BOOL(xs_set_permissions)
FX_FAIL_BOOL(xs_watch)
FX_FAIL_BOOL(xs_unwatch)
FX_FAIL_BOOL(xs_introduce_domain)
FX_FAIL_BOOL(xs_release_domain)
FX_FAIL_BOOL(xs_resume_domain)
FX_FAIL_BOOL(xs_set_target)
FX_FAIL_PTR(xs_get_permissions)
FX_FAIL_PTR(xs_read_watch)
FX_FAIL_PTR(xs_check_watch)
FX_FAIL_INT(xs_suspend_evtchn_port)
