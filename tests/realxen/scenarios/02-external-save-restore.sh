# SPDX-License-Identifier: LGPL-2.1-or-later
# 02-external-save-restore: an external --disk-only snapshot of a running
# guest, then virsh save + virsh restore.  The guest must go on writing
# to the overlay; if it comes back on the frozen base image, that is data
# loss (everything written since the snapshot is gone from the guest's
# view), and this script says so.
. "$RX_LIB"
G=extsr
base=$RX_IMAGES/$G.qcow2
ovl=$RX_IMAGES/$G.e1.qcow2
rx_step "libvirtd with the module"
rx_setup
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G".*
timeout 60 qemu-img create -q -f qcow2 "$base" 64M
rx_guest_define $G "$base:qcow2"

rx_step "start the guest, wait for tick 3"
vok start $G
rx_wait_tick $G 3 180 >/dev/null || exit 1
rx_cmd $G write xvda 1024 64 0xaa || rx_fail "write 0xaa"

rx_step "snapshot-create-as --disk-only, external"
vok snapshot-create-as $G e1 --disk-only --diskspec "xvda,snapshot=external,file=$ovl"
S=$(rx_tick_n "$(rx_last_tick $G)")
[ -f "$ovl" ] || rx_fail "no overlay $ovl"
timeout 60 qemu-img info -U "$ovl" | grep -E '^(file format|backing file)'
live=$(timeout 60 virsh -q domblklist $G | awk '$1 == "xvda" { print $2 }')
inactive=$(timeout 60 virsh -q domblklist --inactive $G | awk '$1 == "xvda" { print $2 }')
echo "live definition: $live; persistent definition: $inactive"
rx_check live-definition-names-overlay "$live" "$ovl"
rx_check persistent-definition-names-overlay "$inactive" "$ovl"

rx_step "the guest writes after the snapshot"
rx_cmd $G write xvda 2048 64 0xcc || rx_fail "write 0xcc"
rx_check overlay-has-new-write "$(rx_layer_has "$ovl" 2048 64 0xcc && echo yes || echo no)" yes
rx_check base-is-frozen "$(rx_image_has "$base" 2048 64 0xcc && echo written || echo frozen)" frozen
before=$(rx_tick_n "$(rx_wait_tick $G $((S + 2)) 60)") || exit 1

rx_step "virsh save"
vok save $G "$RX_IMAGES/$G.save"
saved=$(rx_tick_n "$(rx_last_tick $G)")
echo "counter when saved: $saved; sector 0: overlay '$(rx_sector0 "$ovl")', base '$(rx_sector0 "$base")'"
if grep -a -q "$base" "$RX_IMAGES/$G.save" && ! grep -a -q "$ovl" "$RX_IMAGES/$G.save"; then
    echo "the save image's domain XML names the base image, not the overlay"
fi

rx_step "virsh restore"
mark=$(rx_mark $G)
vok restore "$RX_IMAGES/$G.save"
first=$(rx_wait_tick $G 0 120 "$mark") || exit 1
first=$(rx_first_tick $G "$mark")
echo "first tick after restore: $first"
rx_check counter-continues "$(rx_tick_n "$first")" "$((saved + 1))"
# The guest's own proof: the disk it finds holds its last counter.
rx_check restored-disk-follows-counter "$(rx_tick_disk "$first")" "$(( $(rx_tick_n "$first") - 1 ))"

rx_step "where the restored guest writes"
rx_cmd $G write xvda 3072 64 0xdd || rx_fail "write 0xdd"
ino=$(rx_layer_has "$ovl" 3072 64 0xdd && echo yes || echo no)
inb=$(rx_image_has "$base" 3072 64 0xdd && echo yes || echo no)
echo "the write after restore: in the overlay: $ino, in the base: $inb"
seen=$(rx_cmd $G check xvda 2048 64 0xcc >/dev/null && echo yes || echo no)
echo "the guest still sees what it wrote before the save: $seen"
id=$(rx_domid $G)
echo "device model's disk: $(timeout 30 xenstore-ls -f /local/domain/0/backend 2>/dev/null | grep "/$id/.*/params " | head -n1)"
echo "live definition: $(timeout 60 virsh -q domblklist $G | awk '$1 == "xvda" { print $2 }')"
if [ "$inb" = yes ] || [ "$seen" = no ]; then
    echo "DATA LOSS: after save + restore the guest runs on the frozen base $base," \
         "not on the overlay $ovl: its writes since the snapshot are gone from its view" \
         "and new writes go to the base"
fi
rx_check restored-writes-to-overlay "$ino" yes
rx_check restored-base-untouched "$inb" no
rx_check restored-sees-its-writes "$seen" yes

rx_step "cleanup"
vok destroy $G
vok snapshot-delete $G e1 --metadata
rx_cleanup_guest $G
rx_step done
