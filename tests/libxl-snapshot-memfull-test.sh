#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# A memory snapshot whose image cannot be written: libxl saves the guest
# into a pipe that the wrapper copies (or compresses) to the image, so a
# full filesystem shows up in the copier or its writer, not in libxl. The create must fail with the
# cause, leave the guest running (not suspended, and paused if it was),
# and leave no image and no metadata; a later snapshot still works.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper
# A 16 MiB guest memory blob: larger than the 4 MiB filesystem below.
FAKEXEN_MEM_MAX_KIB=16384
export FAKEXEN_MEM_MAX_KIB

fx_step "start the simulated host with the wrapper module"
fx_setup
store=/var/lib/libvirt/libxl/snapshot
small=/var/lib/xsnap-small

vok() {
    out=$(fx_virsh "$@" 2>&1) || fx_fail "virsh $*: $out"
    printf '%s\n' "$out"
}

fx_step "define and start fx1 (one qcow2 disk, 16 MiB of memory)"
qemu-img create -q -f qcow2 "$FX_DIR/disk0.qcow2" 16M || fx_fail "qemu-img"
cat > "$FX_DIR/fx1.xml" <<EOF
<domain type='xen'><name>fx1</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$FX_DIR/disk0.qcow2'/><target dev='xvda' bus='xen'/></disk>
</devices></domain>
EOF
vok define "$FX_DIR/fx1.xml" >/dev/null
vok start fx1 >/dev/null
fx_ctl mem-write fx1 4096 "before the failed snapshot" || fx_fail "mem-write"
fx_inhost sh -c "mkdir -p $small && mount -t tmpfs -o size=4m xsnap-small $small" ||
    fx_fail "cannot mount a small tmpfs inside the host"

# full STATE: a snapshot into the full filesystem fails, and the guest
# is left as it was, in libvirt's view and in the simulator's.
full() {
    if out=$(fx_virsh snapshot-create-as fx1 "bad-$1" \
                 --memspec "file=$small/bad-$1.save,snapshot=external" 2>&1); then
        fx_fail "a snapshot into a full filesystem succeeded: $out"
    fi
    case $out in
        *"cannot write the memory image of domain 'fx1'"*"No space left on device"*) ;;
        *) fx_fail "unexpected error: $out" ;;
    esac
    fx_expect_state fx1 "$1"
    got=$(fx_ctl state fx1) || fx_fail "fakexen-ctl state"
    [ "$got" = "$1" ] || fx_fail "the simulator has fx1 $got, expected $1"
    fx_inhost test ! -e "$small/bad-$1.save" || fx_fail "the partial image was left behind"
    [ -z "$(vok snapshot-list fx1 --name)" ] || fx_fail "a failed snapshot left metadata"
    fx_inhost test ! -e "$store/fx1/bad-$1.xml" || fx_fail "a failed snapshot left a metadata file"
}

fx_step "running guest: the image does not fit"
full running

fx_step "paused guest: the image does not fit"
vok suspend fx1 >/dev/null
full paused
vok resume fx1 >/dev/null

fx_step "compressed (zstd, lz4): the image does not fit either"
# 8 MiB of random data: more than the 4 MiB filesystem, compressed too.
blob=$FAKEXEN_STATE_DIR/domains/$(fx_ctl domid fx1)/memory
dd if=/dev/urandom of="$blob" bs=1M seek=8 count=8 conv=notrunc status=none ||
    fx_fail "cannot fill the guest's memory"
hash=$(fx_ctl mem-hash fx1)
for f in zstd lz4; do
    printf 'memory_image_format = "%s"\n' "$f" > "$FX_DIR/etc-libvirt/libxl-snapshot.conf"
    full running
    [ "$(fx_ctl mem-hash fx1)" = "$hash" ] || fx_fail "a failed $f snapshot changed the memory"
done
rm -f "$FX_DIR/etc-libvirt/libxl-snapshot.conf"

fx_step "a snapshot with room still works, and holds the memory"
vok snapshot-create-as fx1 good >/dev/null
fx_expect_state fx1 running
fx_inhost test -s "$store/fx1/good.save" || fx_fail "no memory image for the good snapshot"
fx_ctl mem-write fx1 4096 "after the good snapshot......" || fx_fail "mem-write"
vok snapshot-revert fx1 good >/dev/null
fx_expect_state fx1 running
got=$(fx_ctl mem-read fx1 4096 26) || fx_fail "mem-read"
[ "$got" = "before the failed snapshot" ] || fx_fail "reverted memory holds '$got'"

fx_step "done"
exit 0
