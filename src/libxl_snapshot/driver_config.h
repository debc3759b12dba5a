/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_config.h: the module's own configuration file
 *
 * /etc/libvirt/libxl-snapshot.conf (configure --with-config-file, or
 * XSNAP_CONFIG_FILE in libvirtd's environment), in the syntax of
 * libvirt's qemu.conf (util_conf.h). It is read again by every snapshot
 * operation that uses it, so a change needs no restart of libvirtd.
 * A missing file means every default.
 *
 *   memory_image_format = "raw" | "zstd" | "lz4"     (default "raw")
 *       how a snapshot with memory writes its memory image: as libvirt
 *       does (raw), or compressed (docs/architecture.md).
 */
#pragma once

#include "internal.h"
#include "memory_codec.h"

typedef struct _xsnapDriverConfig xsnapDriverConfig;
struct _xsnapDriverConfig {
    xsnapMemoryFormat memoryFormat;
};

/* The configuration file in use. */
const char *xsnapDriverConfigPath(void);

/*
 * Fills @cfg from the file @path (NULL: xsnapDriverConfigPath()), with
 * the defaults for what it does not set. An unknown setting is logged
 * and ignored; a bad value, or a file that does not parse, fails with
 * VIR_ERR_CONF_SYNTAX. Returns 0, or -1 with an error.
 */
int xsnapDriverConfigLoad(const char *path, xsnapDriverConfig *cfg);
