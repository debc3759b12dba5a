# SPDX-License-Identifier: LGPL-2.1-or-later
# 09-gold-clones: the gold-image use on real Xen.  A snapshot with memory
# of a running guest is the gold image; `virt-xen-snapshot clone --count 2
# --restore` starts two linked clones from its memory.  Each clone's own
# counter shows that it goes on from the snapshot's memory, each sees the
# gold disk and writes its own data without touching the other, the gold
# domain or the frozen image; the gold snapshot cannot be deleted while
# the clones use it.
. "$RX_LIB"
G=gold
a=$RX_IMAGES/$G.qcow2
rx_step "libvirtd with the module"
rx_setup
for c in $G cl-1 cl-2; do rx_cleanup_guest $c; done
rm -f "$RX_IMAGES/$G"* "$RX_IMAGES"/cl-*
timeout 60 qemu-img create -q -f qcow2 "$a" 64M
rx_guest_define $G "$a:qcow2"

rx_step "start the gold guest, write its data"
vok start $G
rx_wait_tick $G 2 180 >/dev/null || exit 1
rx_cmd $G write xvda 1024 64 0x5a || rx_fail "write 0x5a"

rx_step "the gold snapshot, with memory"
A=$(rx_tick_n "$(rx_last_tick $G)")
vok snapshot-create-as $G g1
B=$(rx_tick_n "$(rx_last_tick $G)")
echo "gold counter: $A when the snapshot began, $B when it returned"
# The snapshot froze the base: the gold domain runs on a new overlay.
live=$(timeout 60 virsh -q domblklist $G | awk '$1 == "xvda" { print $2 }')
echo "the gold domain now runs on $live"
rx_check gold-on-overlay "$([ "$live" != "$a" ] && [ -f "$live" ] && echo yes || echo no)" yes
sum=$(sha256sum "$a" | cut -d' ' -f1)
rx_cmd $G write xvda 1024 64 0x6b || rx_fail "gold write 0x6b after the snapshot"

rx_step "clone --count 2 --restore"
vok snapshot-list $G >/dev/null
out=$(timeout 600 virt-xen-snapshot clone --count 2 --restore $G g1 cl 2>&1) ||
    { echo "$out"; rx_fail "virt-xen-snapshot clone --restore failed"; }
echo "$out"
for c in cl-1 cl-2; do
    rx_check "$c-running" "$(timeout 60 virsh -q domstate $c)" running
done
rx_check gold-still-running "$(timeout 60 virsh -q domstate $G)" running

rx_step "each clone goes on from the snapshot's memory"
for c in cl-1 cl-2; do
    first=$(rx_wait_tick $c 0 120) || exit 1
    first=$(rx_first_tick $c)
    n=$(rx_tick_n "$first")
    echo "$c: first tick: $first"
    rx_check "$c-counter-from-gold-memory" "$(( n >= A + 1 && n <= B + 2 ))" 1
    rx_check "$c-sees-gold-disk" "$(rx_cmd $c check xvda 1024 64 0x5a >/dev/null && echo yes || echo no)" yes
done

rx_step "each clone writes its own data"
rx_cmd cl-1 write xvda 2048 64 0x71 || rx_fail "cl-1 write"
rx_cmd cl-2 write xvda 2048 64 0x72 || rx_fail "cl-2 write"
rx_check cl-1-keeps-its-data "$(rx_cmd cl-1 check xvda 2048 64 0x71 >/dev/null && echo yes || echo no)" yes
rx_check cl-2-keeps-its-data "$(rx_cmd cl-2 check xvda 2048 64 0x72 >/dev/null && echo yes || echo no)" yes
rx_check gold-untouched-by-clones "$(rx_cmd $G check xvda 2048 64 0x00 >/dev/null && echo yes || echo no)" yes
rx_cmd $G check xvda 1024 64 0x6b || rx_check gold-keeps-its-write no yes
rx_check frozen-image-unchanged "$(sha256sum "$a" | cut -d' ' -f1)" "$sum"
for c in cl-1 cl-2; do
    ov=$(timeout 60 virsh -q domblklist $c | awk '$1 == "xvda" { print $2 }')
    bf=$(timeout 60 qemu-img info -U "$ov" | sed -n 's/^backing file: //p')
    echo "$c runs on $ov, backing file $bf"
    rx_check "$c-overlay-on-frozen-image" "$bf" "$a"
done

rx_step "the gold snapshot is protected while the clones use it"
rx_t 60 virt-xen-snapshot clone --list $G g1 >"$RX_OUT/clone-list" 2>&1
echo "rc=$?"
cat "$RX_OUT/clone-list"
rx_check clone-list "$(grep -c -E '^cl-[12] ' "$RX_OUT/clone-list")" 2
vfail "cl-1" snapshot-delete $G g1
rx_check gold-snapshot-kept "$(timeout 60 virsh -q snapshot-list $G --name | grep -c '^g1$')" 1

rx_step "clones gone: the delete is allowed"
for c in cl-1 cl-2; do
    ov=$(timeout 60 virsh -q domblklist $c | awk '$1 == "xvda" { print $2 }')
    vok destroy $c
    vok undefine $c
    rm -f "$ov"
done
vok snapshot-delete $G g1
rx_check gold-still-sees-its-data "$(rx_cmd $G check xvda 1024 64 0x6b >/dev/null && echo yes || echo no)" yes

rx_step "cleanup"
vok destroy $G
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G"*
rx_step done
