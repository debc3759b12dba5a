# SPDX-License-Identifier: LGPL-2.1-or-later
# 07-backup-commit: the backup use on real Xen.  A disk-only snapshot of
# a running guest (qcow2 xvda, raw xvdb) freezes both disks; backup
# software reads the frozen images while the guest goes on writing; the
# snapshot is then deleted by committing the overlays back, online, and
# once more offline, with nothing the guest wrote lost.
. "$RX_LIB"
G=backup
a=$RX_IMAGES/$G-a.qcow2
b=$RX_IMAGES/$G-b.raw
bk=/var/tmp/realxen-backup
rx_step "libvirtd with the module"
rx_setup
rx_cleanup_guest $G
rm -rf "$RX_IMAGES/$G"* "$bk"
mkdir -p "$bk"
timeout 60 qemu-img create -q -f qcow2 "$a" 64M
timeout 60 qemu-img create -q -f raw "$b" 32M
rx_guest_define $G "$a:qcow2" "$b:raw"

rx_step "start, write the data to back up"
vok start $G
rx_wait_tick $G 2 180 >/dev/null || exit 1
rx_cmd $G write xvda 1024 256 0xa1 || rx_fail "write xvda 0xa1"
rx_cmd $G write xvdb 1024 256 0xb1 || rx_fail "write xvdb 0xb1"

rx_step "disk-only snapshot: both disks frozen"
vok snapshot-create-as $G bk1 --disk-only \
    --diskspec "xvda,file=$RX_IMAGES/$G-a.bk1" --diskspec "xvdb,file=$RX_IMAGES/$G-b.bk1"
timeout 60 virsh -q snapshot-dumpxml $G bk1 >"$RX_OUT/bk1.xml"
rx_check file-means-external "$(grep -c "<disk name='xvd[ab]' snapshot='external'" "$RX_OUT/bk1.xml")" 2 ||
    grep "<disk " "$RX_OUT/bk1.xml"
suma=$(sha256sum "$a" | cut -d' ' -f1)
sumb=$(sha256sum "$b" | cut -d' ' -f1)

rx_step "back up the frozen images while the guest writes"
# The copies run in the background; the guest overwrites the backed-up
# region and writes a new one meanwhile.
timeout 300 qemu-img convert -U -f qcow2 -O raw "$a" "$bk/a.raw" &
pa=$!
timeout 300 dd if="$b" of="$bk/b.raw" bs=64k status=none &
pb=$!
rx_cmd $G write xvda 1024 256 0xa2 || rx_fail "write xvda 0xa2"
rx_cmd $G write xvdb 1024 256 0xb2 || rx_fail "write xvdb 0xb2"
rx_cmd $G write xvda 4096 256 0xa3 || rx_fail "write xvda 0xa3"
rx_cmd $G write xvdb 4096 256 0xb3 || rx_fail "write xvdb 0xb3"
wait $pa || rx_fail "qemu-img convert of the frozen $a failed"
wait $pb || rx_fail "dd of the frozen $b failed"
has() { rx_image_has "$@" && echo yes || echo no; }
rawhas() {
    timeout 60 qemu-io -f raw -r -c "read -P $4 $2k $3k" "$1" 2>&1 |
        grep -q "Pattern verification failed" && { echo no; return; }
    timeout 60 qemu-io -f raw -r -c "read -P $4 $2k $3k" "$1" >/dev/null 2>&1 && echo yes || echo no
}
rx_check backup-a-holds-snapshot-data "$(rawhas "$bk/a.raw" 1024 256 0xa1)" yes
rx_check backup-b-holds-snapshot-data "$(rawhas "$bk/b.raw" 1024 256 0xb1)" yes
rx_check backup-a-no-later-write "$(rawhas "$bk/a.raw" 4096 256 0x00)" yes
rx_check backup-b-no-later-write "$(rawhas "$bk/b.raw" 4096 256 0x00)" yes
rx_check frozen-a-unchanged "$(sha256sum "$a" | cut -d' ' -f1)" "$suma"
rx_check frozen-b-unchanged "$(sha256sum "$b" | cut -d' ' -f1)" "$sumb"
rx_check guest-sees-new-a "$(rx_cmd $G check xvda 1024 256 0xa2 >/dev/null && echo yes || echo no)" yes
rx_check guest-sees-new-b "$(rx_cmd $G check xvdb 4096 256 0xb3 >/dev/null && echo yes || echo no)" yes

rx_step "snapshot-delete online: the overlays are committed back"
vok snapshot-delete $G bk1
live=$(timeout 60 virsh -q domblklist $G | awk '$1 ~ /^xvd/ { print $2 }' | tr '\n' ' ')
rx_check live-back-on-bases "$live" "$a $b "
inactive=$(timeout 60 virsh -q domblklist --inactive $G | awk '$1 ~ /^xvd/ { print $2 }' | tr '\n' ' ')
rx_check persistent-back-on-bases "$inactive" "$a $b "
rx_check overlays-removed "$(ls "$RX_IMAGES/$G"-*.bk1 2>/dev/null | wc -l)" 0
rx_check snapshot-gone "$(timeout 60 virsh -q snapshot-list $G --name | grep -c .)" 0
rx_check base-a-has-committed-a2 "$(has "$a" 1024 256 0xa2)" yes
rx_check base-a-has-committed-a3 "$(has "$a" 4096 256 0xa3)" yes
rx_check base-b-has-committed-b2 "$(has "$b" 1024 256 0xb2)" yes
rx_check base-b-has-committed-b3 "$(has "$b" 4096 256 0xb3)" yes
rx_cmd $G write xvda 6144 64 0xa4 || rx_fail "write xvda 0xa4 after the commit"
rx_cmd $G write xvdb 6144 64 0xb4 || rx_fail "write xvdb 0xb4 after the commit"
rx_check guest-writes-reach-base-a "$(has "$a" 6144 64 0xa4)" yes
rx_check guest-writes-reach-base-b "$(has "$b" 6144 64 0xb4)" yes

rx_step "again, deleted while the domain is shut off"
vok snapshot-create-as $G bk2 --disk-only \
    --diskspec "xvda,file=$RX_IMAGES/$G-a.bk2" --diskspec "xvdb,file=$RX_IMAGES/$G-b.bk2"
rx_cmd $G write xvda 8192 64 0xa5 || rx_fail "write xvda 0xa5"
rx_cmd $G write xvdb 8192 64 0xb5 || rx_fail "write xvdb 0xb5"
rx_cmd $G sync >/dev/null || true
vok destroy $G
vok snapshot-delete $G bk2
inactive=$(timeout 60 virsh -q domblklist --inactive $G | awk '$1 ~ /^xvd/ { print $2 }' | tr '\n' ' ')
rx_check offline-back-on-bases "$inactive" "$a $b "
rx_check offline-overlays-removed "$(ls "$RX_IMAGES/$G"-*.bk2 2>/dev/null | wc -l)" 0
rx_check offline-base-a-has-a5 "$(has "$a" 8192 64 0xa5)" yes
rx_check offline-base-b-has-b5 "$(has "$b" 8192 64 0xb5)" yes
rx_check offline-base-a-kept-a4 "$(has "$a" 6144 64 0xa4)" yes

rx_step "start again: the guest sees everything it wrote"
vok start $G
rx_wait_tick $G 1 180 >/dev/null || exit 1
for c in "xvda 1024 256 0xa2" "xvda 4096 256 0xa3" "xvda 6144 64 0xa4" "xvda 8192 64 0xa5" \
         "xvdb 1024 256 0xb2" "xvdb 4096 256 0xb3" "xvdb 6144 64 0xb4" "xvdb 8192 64 0xb5"; do
    # shellcheck disable=SC2086
    rx_cmd $G check $c >/dev/null || rx_check "restarted-guest-sees-${c// /-}" no yes
done

rx_step "cleanup"
vok destroy $G
rx_cleanup_guest $G
rm -rf "$bk"
rx_step done
