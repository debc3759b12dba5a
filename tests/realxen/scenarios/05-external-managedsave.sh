# SPDX-License-Identifier: LGPL-2.1-or-later
# 05-external-managedsave: an external --disk-only snapshot of a running
# guest, then managedsave + start (what libvirt-guests does at every host
# shutdown).  The guest must come back on the overlay.
. "$RX_LIB"
G=extms
base=$RX_IMAGES/$G.qcow2
ovl=$RX_IMAGES/$G.e1.qcow2
rx_step "libvirtd with the module"
rx_setup
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G".*
timeout 60 qemu-img create -q -f qcow2 "$base" 64M
rx_guest_define $G "$base:qcow2"

rx_step "start, external disk-only snapshot, write after it"
vok start $G
rx_wait_tick $G 2 180 >/dev/null || exit 1
vok snapshot-create-as $G e1 --disk-only --diskspec "xvda,snapshot=external,file=$ovl"
rx_cmd $G write xvda 2048 64 0xcc || rx_fail "write 0xcc"

rx_step "managedsave + start"
vok managedsave $G
saved=$(rx_tick_n "$(rx_last_tick $G)")
mark=$(rx_mark $G)
vok start $G
rx_wait_tick $G 0 120 "$mark" >/dev/null || exit 1
first=$(rx_first_tick $G "$mark")
echo "counter when saved: $saved; first tick after start: $first"
rx_check counter-continues "$(rx_tick_n "$first")" "$((saved + 1))"
rx_check disk-follows-counter "$(rx_tick_disk "$first")" "$(( $(rx_tick_n "$first") - 1 ))"

rx_step "where the guest writes now"
rx_cmd $G write xvda 3072 64 0xdd || rx_fail "write 0xdd"
ino=$(rx_layer_has "$ovl" 3072 64 0xdd && echo yes || echo no)
inb=$(rx_image_has "$base" 3072 64 0xdd && echo yes || echo no)
seen=$(rx_cmd $G check xvda 2048 64 0xcc >/dev/null && echo yes || echo no)
echo "after managedsave + start: write in overlay: $ino, in base: $inb; sees its earlier write: $seen"
if [ "$inb" = yes ] || [ "$seen" = no ]; then
    echo "DATA LOSS: after managedsave + start the guest runs on the frozen base $base"
fi
rx_check writes-to-overlay "$ino" yes
rx_check base-untouched "$inb" no
rx_check sees-its-writes "$seen" yes

rx_step "cleanup"
vok destroy $G
vok snapshot-delete $G e1 --metadata
rx_cleanup_guest $G
rx_step done
