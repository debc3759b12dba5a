# SPDX-License-Identifier: LGPL-2.1-or-later
# 04-tree-undefine-restart: a tree of snapshots of a shut-off guest,
# libvirtd restarts with a running guest and the metadata kept, delete
# --children / --children-only / --metadata, undefine refused with
# snapshots and allowed with --snapshots-metadata.
. "$RX_LIB"
G=tree
img=$RX_IMAGES/$G.qcow2
rx_step "libvirtd with the module"
rx_setup
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G".*
timeout 60 qemu-img create -q -f qcow2 "$img" 64M
rx_guest_define $G "$img:qcow2"

rx_step "a tree: s1 -> s2 -> s3, s1 -> s4 (shut off, internal)"
vok snapshot-create-as $G s1
vok snapshot-create-as $G s2
vok snapshot-create-as $G s3
vok snapshot-revert $G s1
vok snapshot-create-as $G s4
vok snapshot-list $G --tree
rx_check parent-of-s4 "$(timeout 60 virsh -q snapshot-parent $G s4)" s1
rx_check current "$(timeout 60 virsh -q snapshot-current $G --name)" s4

rx_step "undefine is refused while snapshots exist"
vfail "snapshot" undefine $G

rx_step "libvirtd restart with the guest running keeps both"
vok start $G
rx_wait_tick $G 2 180 >/dev/null || exit 1
id=$(rx_domid $G)
timeout -k 10 180 systemctl restart libvirtd || rx_fail "libvirtd did not restart"
rx_setup
rx_check guest-kept-after-restart "$(rx_domid $G)" "$id"
rx_check state-after-restart "$(timeout 60 virsh -q domstate $G)" running
rx_check snapshots-after-restart "$(timeout 60 virsh -q snapshot-list $G --name | sort | tr '\n' ' ')" "s1 s2 s3 s4 "
rx_check current-after-restart "$(timeout 60 virsh -q snapshot-current $G --name)" s4
m=$(rx_mark $G)
rx_wait_tick $G 0 30 "$m" >/dev/null || rx_fail "the guest stopped ticking after the restart"
vok destroy $G

rx_step "delete --children-only s2, then --children s1"
vok snapshot-delete $G s2 --children-only
rx_check after-children-only "$(timeout 60 virsh -q snapshot-list $G --name | sort | tr '\n' ' ')" "s1 s2 s4 "
vok snapshot-delete $G s1 --children
rx_check after-children "$(timeout 60 virsh -q snapshot-list $G --name | wc -l)" 0
rx_check qcow2-snapshots-gone "$(timeout 60 qemu-img snapshot -l "$img" | grep -c -E ' s[1-4] ')" 0

rx_step "--metadata keeps the qcow2 snapshot"
vok snapshot-create-as $G m1
vok snapshot-delete $G m1 --metadata
rx_check qcow2-snapshot-kept "$(timeout 60 qemu-img snapshot -l "$img" | grep -c ' m1 ')" 1

rx_step "undefine --snapshots-metadata"
vok snapshot-create-as $G u1
vok undefine $G --snapshots-metadata
rx_check metadata-gone "$(ls /var/lib/libvirt/libxl/snapshot/$G 2>/dev/null | wc -l)" 0
rx_step done
