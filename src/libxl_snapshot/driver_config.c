/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver_config.c: the module's own configuration file
 */
#include <config.h>

#include "driver_config.h"
#include "driver_error.h"
#include "util_conf.h"
#include "util_error.h"


const char *
xsnapDriverConfigPath(void)
{
    const char *env = g_getenv("XSNAP_CONFIG_FILE");

    return env && *env ? env : XSNAP_DEFAULT_CONFIG_FILE;
}


int
xsnapDriverConfigLoad(const char *path, xsnapDriverConfig *cfg)
{
    g_autoptr(xsnapConf) conf = NULL;
    const xsnapConfEntry *e;
    int format;

    if (!path)
        path = xsnapDriverConfigPath();
    cfg->memoryFormat = XSNAP_MEMORY_FORMAT_RAW;
    if (xsnapConfReadFile(path, &conf) < 0)
        return -1;
    if (!conf)
        return 0;

    for (size_t i = 0; i < conf->entries->len; i++) {
        e = g_ptr_array_index(conf->entries, i);
        if (!g_str_equal(e->name, "memory_image_format"))
            xsnapDriverLog(XSNAP_LOG_WARN, "%s:%u: unknown setting '%s' ignored",
                           path, e->line, e->name);
    }
    if ((e = xsnapConfGet(conf, "memory_image_format"))) {
        if (e->type != XSNAP_CONF_STRING ||
            (format = xsnapMemoryFormatTypeFromString(e->str)) < 0) {
            xsnapReportError(VIR_ERR_CONF_SYNTAX,
                             _("%1$s:%2$u: memory_image_format must be \"raw\", \"zstd\" or \"lz4\""),
                             path, e->line);
            return -1;
        }
        cfg->memoryFormat = (xsnapMemoryFormat)format;
    }
    return 0;
}
