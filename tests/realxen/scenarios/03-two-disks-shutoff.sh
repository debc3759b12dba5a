# SPDX-License-Identifier: LGPL-2.1-or-later
# 03-two-disks-shutoff: a guest with a qcow2 (xvda) and a raw (xvdb) disk.
# Running: an external disk-only snapshot of both; a raw disk cannot be
# snapshotted internally.  Shut off: an internal snapshot of the qcow2
# disk alone, a revert to it, and its delete.
. "$RX_LIB"
G=twodisk
a=$RX_IMAGES/$G-a.qcow2
b=$RX_IMAGES/$G-b.raw
rx_step "libvirtd with the module"
rx_setup
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G"*
timeout 60 qemu-img create -q -f qcow2 "$a" 64M
timeout 60 qemu-img create -q -f raw "$b" 32M
rx_guest_define $G "$a:qcow2" "$b:raw"

rx_step "start, write a pattern on each disk"
vok start $G
rx_wait_tick $G 2 180 >/dev/null || exit 1
rx_cmd $G write xvda 1024 64 0x11 || rx_fail "write xvda"
rx_cmd $G write xvdb 1024 64 0x22 || rx_fail "write xvdb"

rx_step "an internal snapshot of the raw disk is refused"
vfail "" snapshot-create-as $G bad --disk-only --diskspec xvda,snapshot=external,file="$RX_IMAGES/$G-a.bad" \
    --diskspec xvdb,snapshot=internal
rx_check no-metadata-left "$(timeout 60 virsh -q snapshot-list $G --name | grep -c bad)" 0

rx_step "external disk-only snapshot of both disks"
vok snapshot-create-as $G e1 --disk-only \
    --diskspec "xvda,snapshot=external,file=$RX_IMAGES/$G-a.e1.qcow2" \
    --diskspec "xvdb,snapshot=external,file=$RX_IMAGES/$G-b.e1.qcow2"
rx_cmd $G write xvda 2048 64 0x33 || rx_fail "write xvda after"
rx_cmd $G write xvdb 2048 64 0x44 || rx_fail "write xvdb after"
rx_check xvda-overlay-written "$(rx_layer_has "$RX_IMAGES/$G-a.e1.qcow2" 2048 64 0x33 && echo yes || echo no)" yes
rx_check xvdb-overlay-written "$(rx_layer_has "$RX_IMAGES/$G-b.e1.qcow2" 2048 64 0x44 && echo yes || echo no)" yes
rx_check xvdb-base-frozen "$(rx_image_has "$b" 2048 64 0x44 && echo written || echo frozen)" frozen
rx_check raw-base-keeps-old "$(rx_image_has "$b" 1024 64 0x22 && echo yes || echo no)" yes

rx_step "shut off; drop the external snapshot's metadata, back to the bases"
vok destroy $G
vok snapshot-delete $G e1 --metadata
rx_guest_define $G "$a:qcow2" "$b:raw"

rx_step "shut off: internal snapshot of xvda only, revert, delete"
vok snapshot-create-as $G i1 --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=no
timeout 60 qemu-img snapshot -l "$a" | grep -q ' i1 ' || rx_check internal-in-qcow2 no yes
timeout 60 qemu-io -f qcow2 -c 'write -P 0x55 1024k 64k' "$a" >/dev/null
vok snapshot-revert $G i1
rx_check internal-revert-restores "$(rx_image_has "$a" 1024 64 0x11 && echo yes || echo no)" yes
vok snapshot-delete $G i1
rx_check internal-deleted "$(timeout 60 qemu-img snapshot -l "$a" | grep -c ' i1 ')" 0

rx_step "cleanup"
rx_cleanup_guest $G
rx_step done
