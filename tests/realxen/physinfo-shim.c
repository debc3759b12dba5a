/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * physinfo-shim.c: TEST-ONLY.  Preloaded into libvirtd inside the
 * real-Xen test bed, never installed by the product.
 *
 * Under QEMU TCG the emulated CPU has no VME, and Xen leaves SEP out of
 * the hw_cap words it reports.  libvirt's libxl driver then finds no CPU
 * model for the host and refuses to start ("cannot create capabilities
 * for libxenlight").  This wraps libxl_get_physinfo() and sets bits 1
 * (VME) and 11 (SEP) of hw_cap[0] (CPUID leaf 1, EDX) so that libvirt
 * settles on a model; nothing else is changed.
 */
#define _GNU_SOURCE
#define LIBXL_API_VERSION 0x041300
#include <dlfcn.h>
#include <libxl.h>

int
libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *physinfo)
{
    static int (*real)(libxl_ctx *, libxl_physinfo *);
    int rc;

    if (!real)
        real = (int (*)(libxl_ctx *, libxl_physinfo *))
            dlsym(RTLD_NEXT, "libxl_get_physinfo");
    if (!real)
        return ERROR_FAIL;
    rc = real(ctx, physinfo);
    if (rc == 0)
        physinfo->hw_cap[0] |= (1u << 1) | (1u << 11);
    return rc;
}
