# SPDX-License-Identifier: LGPL-2.1-or-later
# 00-smoke: the bed itself.  libvirtd starts with our module, the PV guest
# boots from a qcow2 disk served by qdisk, ticks, and answers a write and
# a check of a disk pattern sent on its console.
. "$RX_LIB"
rx_step "libvirtd with the module"
rx_setup
timeout 60 xl info | grep -E '^(xen_version|nr_cpus|total_memory|virt_caps)'
timeout 60 virsh -q version | head -n 4
rx_step "define and start the PV guest"
rx_cleanup_guest smoke
rm -f "$RX_IMAGES/smoke.qcow2"
timeout 60 qemu-img create -q -f qcow2 "$RX_IMAGES/smoke.qcow2" 64M
rx_guest_define smoke "$RX_IMAGES/smoke.qcow2:qcow2"
vok start smoke
rx_step "the guest ticks"
t=$(rx_wait_tick smoke 2 180) || exit 1
echo "$t"
rx_expect smoke-disk-follows-counter "$(rx_tick_disk "$t")" "$(( $(rx_tick_n "$t") - 1 ))"
rx_step "the device model is a qdisk"
ps -o args= -C xen-qemu-system-i386 | grep -q -- '-xen-domid' ||
    ps -o args= -C qemu-system-i386 | head -n 2
rx_step "a pattern written and checked by the guest"
rx_cmd smoke write xvda 1024 64 0xab || rx_fail "write"
rx_cmd smoke check xvda 1024 64 0xab || rx_fail "check 0xab"
if rx_cmd smoke check xvda 1024 64 0xcd; then rx_fail "0xcd should not be there"; fi
rx_image_has "$RX_IMAGES/smoke.qcow2" 1024 64 0xab || rx_fail "the image lacks the pattern"
echo "image sector 0: $(rx_sector0 "$RX_IMAGES/smoke.qcow2")"
rx_step "destroy"
vok destroy smoke
rx_cleanup_guest smoke
rx_step done
