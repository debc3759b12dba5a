/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h: definitions shared by every part of libvirt-xen-snapshot
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#ifdef ENABLE_NLS
# include <libintl.h>
# define _(str) dgettext(PACKAGE, str)
#else
# define _(str) (str)
#endif
#define N_(str) str

#define XSNAP_FMT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define XSNAP_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define XSNAP_UNUSED __attribute__((unused))

/* Every enum ends in _LAST; this declares its string table functions. */
#define XSNAP_ENUM_DECL(name) \
    const char *name##TypeToString(int type); \
    int name##TypeFromString(const char *type)

/* ...and this defines them, checking the table size at compile time. */
#define XSNAP_ENUM_IMPL(name, lastVal, ...) \
    static const char *const name##TypeList[] = { __VA_ARGS__ }; \
    G_STATIC_ASSERT(G_N_ELEMENTS(name##TypeList) == (lastVal)); \
    const char *name##TypeToString(int type) \
    { \
        if (type < 0 || type >= (int)G_N_ELEMENTS(name##TypeList)) \
            return NULL; \
        return name##TypeList[type]; \
    } \
    int name##TypeFromString(const char *type) \
    { \
        size_t i; \
        if (!type) \
            return -1; \
        for (i = 0; i < G_N_ELEMENTS(name##TypeList); i++) \
            if (g_str_equal(name##TypeList[i], type)) \
                return (int)i; \
        return -1; \
    }
