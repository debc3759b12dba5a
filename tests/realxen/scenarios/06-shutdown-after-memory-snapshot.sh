# SPDX-License-Identifier: LGPL-2.1-or-later
# 06-shutdown-after-memory-snapshot: libxl reports a domain's shutdown
# once per watch, and a memory snapshot suspends the guest (a shutdown
# with reason suspend, which libvirt ignores). After the snapshot,
# libvirt must still see the guest shut down and start it again.
. "$RX_LIB"
G=shutms
rx_step "libvirtd with the module"
rx_setup
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G".*
timeout 60 qemu-img create -q -f qcow2 "$RX_IMAGES/$G.qcow2" 64M
rx_guest_define $G "$RX_IMAGES/$G.qcow2:qcow2"

# wait_off SECONDS: until libvirt calls the guest shut off
wait_off() {
    t=0
    while [ "$(timeout 30 virsh -q domstate $G 2>/dev/null)" != "shut off" ] && [ $t -lt "$1" ]; do
        sleep 2; t=$((t + 2))
    done
    timeout 30 virsh -q domstate $G
}

rx_step "baseline: virsh shutdown of a guest without snapshots"
vok start $G
rx_wait_tick $G 2 180 >/dev/null || exit 1
vok shutdown $G
rx_expect baseline-shut-off "$(wait_off 120)" "shut off"

rx_step "a memory snapshot, then virsh shutdown"
vok start $G
rx_wait_tick $G 2 180 >/dev/null || exit 1
vok snapshot-create-as $G m1
rx_expect running-after-snapshot "$(timeout 60 virsh -q domstate $G)" running
vok shutdown $G
st=$(wait_off 120)
echo "libvirt says: $st; xl says: $(timeout 30 xl list 2>/dev/null | awk -v g=$G '$1 == g { print $5 }')"
rx_expect shut-off-after-snapshot "$st" "shut off"

rx_step "it starts again"
vok start $G
rx_wait_tick $G 1 180 >/dev/null || exit 1
vok destroy $G
vok snapshot-delete $G m1
rx_cleanup_guest $G
rx_step done
