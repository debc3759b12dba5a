/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_unsupported.c: libxl calls the simulated host refuses
 *
 * Hotplug, PCI/USB passthrough, core dumps, soft reset, Remus/COLO and
 * the like have no simulation.  Each fails with ERROR_FAIL (logged to
 * <state>/fakexen.log) instead of running the real code, which would
 * reach xenstore and could wait for a backend that never answers.
 * libxl.h is not included: every one of these returns int, and its
 * arguments are simply not looked at.
 */
#include <config.h>

int fxUnsupported(const char *func);

#define FX_UNSUPPORTED(name) \
    int name(void); \
    int name(void) { return fxUnsupported(#name); }

FX_UNSUPPORTED(libxl_device_disk_add)
FX_UNSUPPORTED(libxl_device_disk_remove)
FX_UNSUPPORTED(libxl_device_disk_destroy)
FX_UNSUPPORTED(libxl_device_disk_getinfo)
FX_UNSUPPORTED(libxl_cdrom_insert)
FX_UNSUPPORTED(libxl_device_nic_add)
FX_UNSUPPORTED(libxl_device_nic_remove)
FX_UNSUPPORTED(libxl_device_nic_destroy)
FX_UNSUPPORTED(libxl_device_nic_getinfo)
FX_UNSUPPORTED(libxl_device_pci_add)
FX_UNSUPPORTED(libxl_device_pci_remove)
FX_UNSUPPORTED(libxl_device_pci_destroy)
FX_UNSUPPORTED(libxl_device_usbctrl_add)
FX_UNSUPPORTED(libxl_device_usbctrl_remove)
FX_UNSUPPORTED(libxl_device_usbctrl_destroy)
FX_UNSUPPORTED(libxl_device_usbdev_add)
FX_UNSUPPORTED(libxl_device_usbdev_remove)
FX_UNSUPPORTED(libxl_device_vkb_add)
FX_UNSUPPORTED(libxl_device_vkb_remove)
FX_UNSUPPORTED(libxl_device_vfb_add)
FX_UNSUPPORTED(libxl_device_vfb_remove)
FX_UNSUPPORTED(libxl_device_channel_getinfo)
FX_UNSUPPORTED(libxl_domain_core_dump)
FX_UNSUPPORTED(libxl_domain_soft_reset)
FX_UNSUPPORTED(libxl_domain_remus_start)
FX_UNSUPPORTED(libxl_domain_preserve)
FX_UNSUPPORTED(libxl_domain_rename)
FX_UNSUPPORTED(libxl_send_trigger)
FX_UNSUPPORTED(libxl_send_sysrq)
FX_UNSUPPORTED(libxl_send_debug_keys)
FX_UNSUPPORTED(libxl_set_vcpuonline)
