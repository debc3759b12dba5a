#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compressed memory images (memory_image_format in libxl-snapshot.conf):
# a snapshot with memory writes a zstd or an LZ4 image, marked in its
# header so that libvirt's own restore refuses it, whose stream Debian's
# zstd and lz4 tools decompress to the raw image's stream; a revert
# brings the guest's memory back from it; a truncated or corrupt image
# is refused before the revert changes anything; a bad setting fails
# the create and leaves the guest running; virt-xen-snapshot
# convert-image turns raw into zstd and back, byte for byte; clones
# restore from a zstd snapshot.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper
# A 32 MiB guest-memory blob, a quarter of it data.
FAKEXEN_MEM_MAX_KIB=32768
export FAKEXEN_MEM_MAX_KIB
TOOL=$abs_top_builddir/tools/virt-xen-snapshot

fx_step "start the simulated host with the wrapper module"
fx_setup
conf=$FX_DIR/etc-libvirt/libxl-snapshot.conf
store=/var/lib/libvirt/libxl/snapshot
img=$FX_DIR/images
mkdir -p "$img"

u32() {
    # u32 FILE OFFSET: the host-order 32-bit word at OFFSET
    od -A n -t u4 -j "$2" -N 4 "$1" | tr -d ' '
}
u64() {
    od -A n -t u8 -j "$2" -N 8 "$1" | tr -d ' '
}
size() {
    stat -c %s "$1"
}
set_format() {
    printf '# written by the test\nmemory_image_format = "%s"\n' "$1" > "$conf"
}
# state DOM: what must not change when a revert is refused
state() {
    echo "domid $(fx_ctl domid "$1")"
    echo "state $(fx_ctl state "$1")"
    echo "memory $(fx_ctl mem-hash "$1")"
    echo "served $(served "$1" xvda)"
    echo "current $(fx_virsh snapshot-current "$1" --name)"
    fx_virsh snapshot-list "$1" --name
    fx_virsh dumpxml "$1" --inactive
    fx_inhost sh -c "cd $store/$1 && sha256sum *.xml"
    ls "$FX_DIR"
}

fx_step "define and start cz (one qcow2 disk), a quarter of its memory data"
qemu-img create -q -f qcow2 "$FX_DIR/disk0.qcow2" 16M || fx_fail "qemu-img"
cat > "$FX_DIR/cz.xml" <<EOF
<domain type='xen'><name>cz</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$FX_DIR/disk0.qcow2'/><target dev='xvda' bus='xen'/></disk>
</devices></domain>
EOF
vok define "$FX_DIR/cz.xml" >/dev/null
vok start cz >/dev/null
blob=$FAKEXEN_STATE_DIR/domains/$(fx_ctl domid cz)/memory
[ "$(size "$blob")" -eq $((32 << 20)) ] || fx_fail "the guest's blob is not 32 MiB"
dd if=/dev/urandom of="$blob" bs=1M seek=8 count=8 conv=notrunc status=none ||
    fx_fail "cannot fill the guest's memory"
fx_ctl mem-write cz 4096 "memory at r0" || fx_fail "mem-write"

fx_step "raw (no configuration file): libvirt's own format, as before"
vok snapshot-create-as cz r0 --memspec "file=$img/r0.save" >/dev/null
[ "$(u32 "$img/r0.save" 16)" -eq 2 ] || fx_fail "a raw image has version $(u32 "$img/r0.save" 16)"
raw=$(size "$img/r0.save")
[ "$raw" -gt $((32 << 20)) ] || fx_fail "the raw image holds $raw bytes"
rawoff=$((64 + $(u32 "$img/r0.save" 20)))

# compressed FORMAT CODE TOOL: a snapshot taken with FORMAT configured
compressed() {
    f=$1; code=$2; tool=$3
    fx_step "$f: the image is compressed, marked, and holds the raw stream"
    set_format "$f"
    vok snapshot-create-as cz "s-$f" --memspec "file=$img/s-$f.save" >/dev/null
    fx_expect_state cz running
    i=$img/s-$f.save
    [ "$(u32 "$i" 16)" -eq 1481834498 ] || fx_fail "$f image: version $(u32 "$i" 16)"
    [ "$(u32 "$i" 24)" -eq "$code" ] || fx_fail "$f image: format $(u32 "$i" 24)"
    n=$(size "$i")
    # At most 0.35 of the raw image: the goal for a guest a quarter full.
    [ $((n * 100)) -le $((raw * 35)) ] || fx_fail "$f image: $n bytes for $raw raw"
    off=$((64 + $(u32 "$i" 20)))
    [ "$(u64 "$i" 40)" -eq $((n - off)) ] || fx_fail "$f image: body length $(u64 "$i" 40)"
    [ "$(u64 "$i" 32)" -eq $((raw - rawoff)) ] || fx_fail "$f image: stream length $(u64 "$i" 32)"
    # Debian's own tool reads the frame, and finds r0's stream in it:
    # the guest did not change since.
    tail -c +$((off + 1)) "$i" | "$tool" -d -q -c > "$FX_DIR/stream.$f" ||
        fx_fail "$tool cannot decompress the $f image"
    tail -c +$((rawoff + 1)) "$img/r0.save" | cmp -s - "$FX_DIR/stream.$f" ||
        fx_fail "the $f image does not hold the raw image's stream"
    rm -f "$FX_DIR/stream.$f"
    fx_virsh save-image-dumpxml "$i" | grep -q "<name>cz</name>" ||
        fx_fail "save-image-dumpxml cannot read the $f image"

    fx_step "$f: a revert brings the guest's memory back"
    hash=$(fx_ctl mem-hash cz)
    fx_ctl mem-write cz 4096 "changed after s-$f" || fx_fail "mem-write"
    dd if=/dev/zero of="$FAKEXEN_STATE_DIR/domains/$(fx_ctl domid cz)/memory" \
        bs=1M seek=10 count=1 conv=notrunc status=none || fx_fail "cannot change the memory"
    vok snapshot-revert cz "s-$f" >/dev/null
    fx_expect_state cz running
    [ "$(fx_ctl mem-hash cz)" = "$hash" ] || fx_fail "the $f revert did not bring the memory back"
    [ "$(fx_ctl mem-read cz 4096 12)" = "memory at r0" ] || fx_fail "the $f revert lost the marker"
    [ "$(fx_virsh snapshot-current cz --name)" = "s-$f" ] || fx_fail "s-$f is not current"
}
compressed zstd 1 zstd
compressed lz4 2 lz4

fx_step "libvirt's own restore refuses a compressed image, and nothing changes"
before=$(state cz)
vfail "image version is not supported" restore "$img/s-zstd.save"
[ "$(state cz)" = "$before" ] || fx_fail "a refused restore changed the domain"

# refused WHAT MESSAGE: a revert to s-zstd, whose image is damaged,
# fails with MESSAGE and leaves everything as it was.
refused() {
    fx_step "a $1 zstd image is refused by the revert, and nothing changes"
    before=$(state cz)
    vfail "$2" snapshot-revert cz s-zstd
    fx_expect_state cz running
    after=$(state cz)
    [ "$after" = "$before" ] || {
        printf '%s\n' "$before" > "$FX_DIR/before"
        printf '%s\n' "$after" > "$FX_DIR/after"
        diff -u "$FX_DIR/before" "$FX_DIR/after" >&2
        fx_fail "a refused revert ($1 image) changed the domain"
    }
    cp "$FX_DIR/good.save" "$img/s-zstd.save"
}
vok snapshot-revert cz r0 >/dev/null
fx_ctl mem-write cz 4096 "running on r0" || fx_fail "mem-write"
cp "$img/s-zstd.save" "$FX_DIR/good.save"
n=$(size "$img/s-zstd.save")
truncate -s $((n - 4096)) "$img/s-zstd.save"
refused truncated "memory image '$img/s-zstd.save' is truncated"
# Eight bytes in the middle of the frame: the random quarter.
printf 'XSNAPBAD' | dd of="$img/s-zstd.save" bs=1 seek=$((n / 2)) conv=notrunc status=none
refused corrupt "memory image '$img/s-zstd.save' is corrupt"
vok snapshot-revert cz s-zstd >/dev/null
[ "$(fx_ctl mem-read cz 4096 12)" = "memory at r0" ] || fx_fail "the image put back does not revert"

fx_step "a bad setting fails the create, and the guest runs on"
printf 'memory_image_format = "gzip"\n' > "$conf"
vfail "memory_image_format must be \"raw\", \"zstd\" or \"lz4\"" \
    snapshot-create-as cz bad --memspec "file=$img/bad.save"
fx_expect_state cz running
[ ! -e "$img/bad.save" ] || fx_fail "a refused create left an image"
printf 'memory_image_format "zstd"\n' > "$conf"
vfail "libxl-snapshot.conf:1: expected '=' after 'memory_image_format'" \
    snapshot-create-as cz bad
fx_expect_state cz running
[ -z "$(fx_virsh snapshot-list cz --name | grep -x bad)" ] || fx_fail "a refused create left metadata"

fx_step "default image in the store, zstd"
set_format zstd
vok snapshot-create-as cz d0 >/dev/null
fx_inhost sh -c "[ \$(od -A n -t u4 -j 16 -N 4 $store/cz/d0.save) -eq 1481834498 ]" ||
    fx_fail "the store's image is not compressed"
fx_ctl mem-write cz 4096 "after d0......" || fx_fail "mem-write"
vok snapshot-revert cz d0 >/dev/null
[ "$(fx_ctl mem-read cz 4096 12)" = "memory at r0" ] || fx_fail "d0's revert lost the marker"
vok snapshot-delete cz d0 >/dev/null
fx_inhost test ! -e "$store/cz/d0.save" || fx_fail "the delete left d0's image"

fx_step "convert-image: raw -> zstd -> raw is byte for byte the raw image"
"$TOOL" convert-image --format zstd "$img/r0.save" "$img/r0.zst" >/dev/null ||
    fx_fail "convert-image to zstd"
[ "$(u32 "$img/r0.zst" 16)" -eq 1481834498 ] || fx_fail "the converted image is not marked"
"$TOOL" convert-image --format raw "$img/r0.zst" "$img/r0.back" >/dev/null ||
    fx_fail "convert-image to raw"
cmp "$img/r0.save" "$img/r0.back" || fx_fail "raw -> zstd -> raw changed the image"
vfail "image version is not supported" restore "$img/r0.zst"
out=$("$TOOL" convert-image --format raw "$img/r0.zst" "$img/r0.back" 2>&1) &&
    fx_fail "convert-image overwrote a file: $out"

fx_step "convert-image in place: s-lz4 becomes raw, and still reverts"
"$TOOL" convert-image --format raw "$img/s-lz4.save" >/dev/null || fx_fail "convert-image in place"
[ "$(u32 "$img/s-lz4.save" 16)" -eq 2 ] || fx_fail "s-lz4 is not raw now"
vok snapshot-revert cz s-lz4 >/dev/null
[ "$(fx_ctl mem-read cz 4096 12)" = "memory at r0" ] || fx_fail "s-lz4's revert lost the marker"
out=$("$TOOL" convert-image --format zstd "$FX_DIR/good.save" "$FX_DIR/x.save" 2>&1) ||
    fx_fail "convert-image zstd -> zstd: $out"
truncate -s 100000 "$FX_DIR/good.save"
out=$("$TOOL" convert-image --format raw "$FX_DIR/good.save" "$FX_DIR/y.save" 2>&1) &&
    fx_fail "convert-image took a truncated image"
case $out in
    *"is truncated"*) ;;
    *) fx_fail "convert-image of a truncated image: $out" ;;
esac
[ ! -e "$FX_DIR/y.save" ] || fx_fail "a failed conversion left its output"

fx_step "--halt with zstd: the guest stops, and a revert brings it back"
set_format zstd
vok snapshot-create-as cz h0 --halt --memspec "file=$img/h0.save" >/dev/null
fx_expect_state cz "shut off"
[ "$(u32 "$img/h0.save" 16)" -eq 1481834498 ] || fx_fail "h0's image is not compressed"
vok snapshot-revert cz h0 >/dev/null
fx_expect_state cz running
[ "$(fx_ctl mem-read cz 4096 12)" = "memory at r0" ] || fx_fail "h0's revert lost the marker"

fx_step "clone --restore of a zstd snapshot: through the FIFO, and --copy"
for c in czf czc; do
    copy=
    [ "$c" = czc ] && copy=--copy
    # shellcheck disable=SC2086
    out=$(fx_inhost "$TOOL" clone -c "$FX_URI" --restore $copy cz s-zstd "$c" 2>&1) ||
        fx_fail "clone --restore $copy: $out"
    fx_expect_state "$c" running
    [ "$(fx_ctl mem-read "$c" 4096 12)" = "memory at r0" ] ||
        fx_fail "clone $c lacks the snapshot's memory"
    [ "$(fx_ctl mem-hash "$c")" = "$(fx_ctl mem-hash cz)" ] ||
        fx_fail "clone $c does not hold the snapshot's memory"
done
ls -a "$FX_DIR" | grep -q '^\.cz[fc]\.' && fx_fail "a clone's FIFO or copy was left behind"
for c in czf czc; do
    vok destroy "$c" >/dev/null
    vok undefine "$c" >/dev/null
done

fx_step "done"
exit 0
