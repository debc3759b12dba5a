/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_locator.c: finds libvirt's libxl driver tables in the stock module
 */
#include <config.h>

#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* dlvsym, dlinfo, dl_iterate_phdr */
#endif

#include <link.h>
#include <string.h>

#define XSNAP_DRIVER_LAYOUT_TABLES
#include "driver_locator.h"
#include "util_error.h"

typedef struct _xsnapPhdrSearch xsnapPhdrSearch;
struct _xsnapPhdrSearch {
    uintptr_t base;
    xsnapModuleMap *map;
    bool found;
    bool overflow;
};


static void
xsnapModuleMapBuildId(const ElfW(Nhdr) *note, size_t size, char *out)
{
    const unsigned char *p = (const unsigned char *)note;
    const unsigned char *end = p + size;

    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
        size_t namesz = (n->n_namesz + 3) & ~(size_t)3;
        size_t descsz = (n->n_descsz + 3) & ~(size_t)3;
        const unsigned char *name = p + sizeof(*n);
        const unsigned char *desc = name + namesz;

        if (desc + descsz > end)
            return;
        if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
            memcmp(name, "GNU", 4) == 0 && n->n_descsz <= 20) {
            size_t i;
            for (i = 0; i < n->n_descsz; i++)
                g_snprintf(out + 2 * i, 3, "%02x", desc[i]);
            return;
        }
        p = desc + descsz;
    }
}


/* Marks [start, end) of the writable ranges read-only (RELRO), splitting
 * a range into up to three pieces. */
static void
xsnapModuleMapProtect(xsnapModuleMap *map, uintptr_t start, uintptr_t end,
                      bool *overflow)
{
    xsnapMemRange out[XSNAP_MODULE_MAX_RANGES];
    size_t nout = 0;
    size_t i;

    for (i = 0; i < map->nranges; i++) {
        xsnapMemRange r = map->ranges[i];
        xsnapMemRange piece[3];
        size_t npiece = 0;
        size_t j;

        if (!r.writable || end <= r.start || start >= r.end) {
            piece[npiece++] = r;
        } else {
            if (start > r.start) {
                piece[npiece] = r;
                piece[npiece++].end = start;
            }
            piece[npiece] = r;
            piece[npiece].start = MAX(start, r.start);
            piece[npiece].end = MIN(end, r.end);
            piece[npiece++].writable = false;
            if (end < r.end) {
                piece[npiece] = r;
                piece[npiece++].start = end;
            }
        }
        for (j = 0; j < npiece; j++) {
            if (nout == XSNAP_MODULE_MAX_RANGES) {
                *overflow = true;
                return;
            }
            out[nout++] = piece[j];
        }
    }
    memcpy(map->ranges, out, nout * sizeof(out[0]));
    map->nranges = nout;
}


static int
xsnapModuleMapPhdr(struct dl_phdr_info *info, size_t size XSNAP_UNUSED,
                   void *opaque)
{
    xsnapPhdrSearch *search = opaque;
    xsnapModuleMap *map = search->map;
    uintptr_t relroStart = 0;
    uintptr_t relroEnd = 0;
    size_t i;

    if ((uintptr_t)info->dlpi_addr != search->base)
        return 0;
    /* The main program also loads at 0 when not PIE: take only objects
     * with segments. */
    if (info->dlpi_phnum == 0)
        return 0;

    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;

        if (ph->p_type == PT_LOAD && ph->p_memsz > 0) {
            xsnapMemRange *r;
            if (map->nranges == XSNAP_MODULE_MAX_RANGES) {
                search->overflow = true;
                break;
            }
            r = &map->ranges[map->nranges++];
            r->start = start;
            r->end = start + ph->p_memsz;
            r->writable = (ph->p_flags & PF_W) != 0;
            r->exec = (ph->p_flags & PF_X) != 0;
        } else if (ph->p_type == PT_GNU_RELRO) {
            relroStart = start;
            relroEnd = start + ph->p_memsz;
        } else if (ph->p_type == PT_NOTE && !map->buildId[0]) {
            xsnapModuleMapBuildId((const ElfW(Nhdr) *)start, ph->p_memsz,
                                  map->buildId);
        }
    }
    if (relroEnd > relroStart)
        xsnapModuleMapProtect(map, relroStart, relroEnd, &search->overflow);
    search->found = true;
    return 1;
}


int
xsnapModuleMapLoad(uintptr_t base, xsnapModuleMap *map)
{
    xsnapPhdrSearch search = { .base = base, .map = map };

    memset(map, 0, sizeof(*map));
    dl_iterate_phdr(xsnapModuleMapPhdr, &search);
    if (!search.found) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("cannot find the segments of the module loaded at %1$p"),
                         (void *)base);
        return -1;
    }
    if (search.overflow) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("the module loaded at %1$p has too many segments"),
                         (void *)base);
        return -1;
    }
    return 0;
}


const xsnapDriverLayout *
xsnapDriverLayoutFind(unsigned long version)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(xsnapDriverLayouts); i++) {
        if (xsnapDriverLayouts[i].libvirtVersion == version)
            return &xsnapDriverLayouts[i];
    }
    xsnapReportError(VIR_ERR_NO_SUPPORT,
                     _("libvirt %1$lu.%2$lu.%3$lu is not a version whose driver tables this module knows"),
                     version / 1000000, version / 1000 % 1000, version % 1000);
    return NULL;
}


int
xsnapDriverLayoutCheckBuildId(const xsnapDriverLayout *layout,
                              const char *buildId)
{
    size_t i;

    for (i = 0; layout->buildIds[i]; i++) {
        if (g_str_equal(layout->buildIds[i], buildId))
            return 0;
    }
    xsnapReportError(VIR_ERR_NO_SUPPORT,
                     _("the stock libxl module (build-id '%1$s') is not a build this module was verified against"),
                     buildId[0] ? buildId : "none");
    return -1;
}


/* True if [p, p + len) lies in one range of @map (writable ones only
 * with @writable). */
static bool
xsnapModuleMapHas(const xsnapModuleMap *map, uintptr_t p, size_t len,
                  bool writable, bool exec)
{
    size_t i;

    for (i = 0; i < map->nranges; i++) {
        const xsnapMemRange *r = &map->ranges[i];

        if (writable && !r->writable)
            continue;
        if (exec && !r->exec)
            continue;
        if (p >= r->start && p <= r->end && len <= r->end - p)
            return true;
    }
    return false;
}


static uintptr_t
xsnapReadPtr(uintptr_t p)
{
    uintptr_t v;

    memcpy(&v, (const void *)p, sizeof(v));
    return v;
}


/* True if @p points to @str inside the module. */
static bool
xsnapModuleMapHasString(const xsnapModuleMap *map, uintptr_t p,
                        const char *str)
{
    size_t len = strlen(str) + 1;

    return p && xsnapModuleMapHas(map, p, len, false, false) &&
           memcmp((const void *)p, str, len) == 0;
}


/* Checks one candidate connect driver at @p: the hypervisor table must
 * lie in writable memory of the module. */
static bool
xsnapDriverLocateCandidate(const xsnapModuleMap *map,
                           const xsnapDriverLayout *layout,
                           uintptr_t p, uintptr_t *hvOut)
{
    uintptr_t schemes = xsnapReadPtr(p + layout->connUriSchemesOffset);
    uintptr_t hv = xsnapReadPtr(p + layout->connHypervisorOffset);

    if (!schemes || schemes % sizeof(void *) ||
        !xsnapModuleMapHas(map, schemes, 2 * sizeof(void *), false, false))
        return false;
    if (!xsnapModuleMapHasString(map, xsnapReadPtr(schemes), "xen") ||
        xsnapReadPtr(schemes + sizeof(void *)) != 0)
        return false;
    if (!hv || hv % sizeof(void *) ||
        !xsnapModuleMapHas(map, hv, layout->hvSize, true, false))
        return false;
    if (!xsnapModuleMapHasString(map, xsnapReadPtr(hv), "Xen"))
        return false;
    *hvOut = hv;
    return true;
}


int
xsnapDriverLocate(const xsnapModuleMap *map,
                  const xsnapDriverLayout *layout,
                  xsnapDriverTables *tables)
{
    size_t i;
    size_t nfound = 0;
    uintptr_t conn = 0;
    uintptr_t hv = 0;
    void **slots;

    for (i = 0; i < map->nranges; i++) {
        const xsnapMemRange *r = &map->ranges[i];
        uintptr_t p;

        if (!r->writable)
            continue;
        p = (r->start + sizeof(void *) - 1) & ~(uintptr_t)(sizeof(void *) - 1);
        for (; p + layout->connSize <= r->end; p += sizeof(void *)) {
            uintptr_t h;
            if (xsnapDriverLocateCandidate(map, layout, p, &h)) {
                if (nfound++ == 0) {
                    conn = p;
                    hv = h;
                }
            }
        }
    }
    if (nfound != 1) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("expected one libxl connect driver in the stock module, found %1$zu"),
                         nfound);
        return -1;
    }

    slots = (void **)hv;
    for (i = 0; i < XSNAP_SLOT_LAST; i++) {
        if (slots[layout->snapshotFirstSlot + i]) {
            xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                             _("snapshot slot %1$zu of the stock libxl driver is already set"),
                             i);
            return -1;
        }
    }
    for (i = 0; i < layout->nchecks; i++) {
        const xsnapLayoutSlotCheck *c = &layout->checks[i];
        uintptr_t fn = (uintptr_t)slots[c->index];

        if (c->filled && (!fn || !xsnapModuleMapHas(map, fn, 1, false, true))) {
            xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                             _("the stock libxl driver's '%1$s' is not a function of the module"),
                             c->what);
            return -1;
        }
        if (!c->filled && fn) {
            xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                             _("the stock libxl driver unexpectedly implements '%1$s'"),
                             c->what);
            return -1;
        }
    }
    tables->conn = (void *)conn;
    tables->hv = slots;
    return 0;
}


int
xsnapDriverFillSlots(const xsnapDriverLayout *layout,
                     const xsnapDriverTables *tables,
                     void *const *slots)
{
    size_t i;

    for (i = 0; i < XSNAP_SLOT_LAST; i++) {
        if (tables->hv[layout->snapshotFirstSlot + i]) {
            xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                             _("snapshot slot %1$zu of the stock libxl driver is already set"),
                             i);
            return -1;
        }
    }
    for (i = 0; i < XSNAP_SLOT_LAST; i++)
        tables->hv[layout->snapshotFirstSlot + i] = slots[i];
    return 0;
}


void *
xsnapDriverGetSlot(const xsnapDriverTables *tables, size_t index)
{
    return tables->hv[index];
}


void
xsnapDriverSetSlot(const xsnapDriverTables *tables, size_t index, void *fn)
{
    tables->hv[index] = fn;
}
