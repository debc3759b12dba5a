#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compressed memory images against raw ones and against dd: on the
# simulated Xen host, with our wrapper module in a private libvirtd, a
# running guest with 1 GiB of memory (a quarter of it random data, the
# rest zero pages, as Xen's save stream sends them) takes a snapshot with
# memory and reverts to it, with memory_image_format raw, zstd and lz4.
#
#   sh bench/compressbench.sh [BUILDDIR]       (as root; prints markdown)
#
# Environment:
#   COMPRESSBENCH_RUNS     runs of each format (default 5)
#   COMPRESSBENCH_MIB      guest memory in MiB (default 1024)
#   COMPRESSBENCH_FORMATS  (default "raw zstd lz4")
#   COMPRESSBENCH_LIVE=1   snapshot-create-as --live
#
# Each run writes the reference first, then one snapshot of each
# format, in turn, so that every figure has a dd beside it on the same
# disk at the same moment:
#   dd if=/dev/zero of=<image dir>/dd-reference bs=1M count=<raw image MiB> conv=fsync
# in the folder that holds the images (ext4 on the machine's disk, as
# /var/lib/libvirt would be). From the simulator's CLOCK_MONOTONIC marks
# (docs/fakexen.md): create-to-resume = resume - suspend-start, from the
# start of libxl's save to the guest running on, which holds the whole
# stream, the image's fsync and the disks' snapshot; the pause window is
# that minus the stream. Ratios are per run (each format over the dd of
# its run); medians of them are printed, with min-max.
set -u

if [ -z "${COMPRESSBENCH_IN_NS:-}" ] && [ "$(id -u)" = 0 ]; then
    COMPRESSBENCH_IN_NS=1 FAKEXEN_STATE_TMPFS=1 exec unshare -m --propagation private \
        sh "$0" "$@"
fi

builddir=$(cd "${1:-.}" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$builddir
abs_top_srcdir=$srcdir
export abs_top_builddir abs_top_srcdir

runs=${COMPRESSBENCH_RUNS:-5}
mib=${COMPRESSBENCH_MIB:-1024}
formats=${COMPRESSBENCH_FORMATS:-"raw zstd lz4"}
live=
[ "${COMPRESSBENCH_LIVE:-}" = 1 ] && live=--live
LC_ALL=C
export LC_ALL

. "$srcdir/tests/fakexen/fakexen-lib.sh"

for prog in qemu-img dd awk head; do
    command -v "$prog" >/dev/null 2>&1 || fx_skip "$prog is not installed"
done
fx_use_wrapper
FAKEXEN_MEM_MAX_KIB=$((mib * 1024))
export FAKEXEN_MEM_MAX_KIB
fx_setup >&2
conf=$FX_DIR/etc-libvirt/libxl-snapshot.conf
img=$FX_DIR/images
mkdir -p "$img"

now_ns() {
    date +%s%N
}
vok() {
    out=$(fx_virsh "$@" 2>&1) || fx_fail "virsh $*: $out"
}
loglines() {
    wc -l < "$FX_DIR/state/fakexen.log"
}
# mark FROMLINE EVENT: the ns of the first EVENT mark after FROMLINE
mark() {
    tail -n +"$(($1 + 1))" "$FX_DIR/state/fakexen.log" |
        awk -v e="$2" '$3 == "mark" && $4 == e { print $8; exit }'
}
# ddtime MIB: seconds for dd to write MIB MiB with fsync next to the images
ddtime() {
    fx_inhost sh -c 'dd if=/dev/zero of="$1/dd-reference" bs=1M count="$2" conv=fsync 2>&1;
        rm -f "$1/dd-reference"' sh "$img" "$1" |
        awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print $(i - 1) }'
}
stats() {
    # median (min–max) of the numbers on stdin
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print "nan"; exit }
              m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.3f (%.3f–%.3f)\n", m, v[1], v[NR] }'
}

qemu-img create -q -f qcow2 "$FX_DIR/cb.qcow2" 64M || fx_fail "qemu-img"
cat > "$FX_DIR/cb.xml" <<EOF
<domain type='xen'><name>cb</name><memory unit='MiB'>$mib</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$FX_DIR/cb.qcow2'/><target dev='xvda' bus='xen'/></disk>
</devices></domain>
EOF
vok define "$FX_DIR/cb.xml"
vok start cb
# A quarter of the guest holds data, in 1 MiB pieces spread over its
# memory (one in four), the rest is zero pages.
blob=$FAKEXEN_STATE_DIR/domains/$(fx_ctl domid cb)/memory
i=0
while [ $i -lt "$mib" ]; do
    head -c 1048576 /dev/urandom | dd of="$blob" bs=1M seek=$i conv=notrunc status=none ||
        fx_fail "cannot fill the guest's memory"
    i=$((i + 4))
done
hash=$(fx_ctl mem-hash cb)

res=$FX_DIR/results
: > "$res"
run=1
while [ $run -le "$runs" ]; do
    for f in $formats; do
        printf 'memory_image_format = "%s"\n' "$f" > "$conf"
        snap=$f-$run
        from=$(loglines)
        t0=$(now_ns)
        # shellcheck disable=SC2086
        vok snapshot-create-as cb "$snap" $live --memspec "file=$img/$snap.save"
        t1=$(now_ns)
        fx_expect_state cb running
        s=$(mark "$from" suspend-start) e=$(mark "$from" resume)
        ss=$(mark "$from" stream-start) se=$(mark "$from" stream-end)
        [ -n "$s" ] && [ -n "$e" ] && [ -n "$ss" ] && [ -n "$se" ] ||
            fx_fail "the simulator did not log its marks"
        size=$(stat -c %s "$img/$snap.save")
        t2=$(now_ns)
        vok snapshot-revert cb "$snap"
        t3=$(now_ns)
        fx_expect_state cb running
        [ "$(fx_ctl mem-hash cb)" = "$hash" ] || fx_fail "the $f revert lost the guest's memory"
        vok snapshot-delete cb "$snap"
        # Bytes of the raw image, for this run's reference write.
        [ "$f" = raw ] && rawsize=$size
        echo "$run $f $size $(((e - s) / 1000)) $(((e - s - (se - ss)) / 1000)) $(((t1 - t0) / 1000)) $(((t3 - t2) / 1000))" >> "$res"
    done
    ref=$(( (${rawsize:-$((mib << 20))} + 1048575) >> 20 ))
    echo "$run dd $((ref << 20)) $(ddtime "$ref" | awk '{ printf "%d", $1 * 1e6 }') 0 0 0" >> "$res"
    run=$((run + 1))
done
vok destroy cb

echo "Guest: $mib MiB, a quarter random data, the rest zero pages; one qcow2 disk; ${live:-not live}; $runs runs."
echo "dd: $(awk '$2 == "dd" { print $4 / 1e6 }' "$res" | stats) s for $(awk '$2 == "dd" { print $3 / 1048576; exit }' "$res") MiB with fsync."
echo
echo "| format | image MiB | image ÷ raw image | create-to-resume s | create-to-resume ÷ dd | pause window beyond the stream ms | create wall s | revert wall s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for f in $formats; do
    awk -v f="$f" '$2 == f' "$res" > "$FX_DIR/r.$f"
    mibs=$(awk '{ print $3 / 1048576 }' "$FX_DIR/r.$f" | stats)
    ratio=$(awk 'NR == FNR { if ($2 == "raw") raw[$1] = $3; next } { print $3 / raw[$1] }' \
        "$res" "$FX_DIR/r.$f" | stats)
    ctr=$(awk '{ print $4 / 1e6 }' "$FX_DIR/r.$f" | stats)
    vsdd=$(awk 'NR == FNR { if ($2 == "dd") dd[$1] = $4; next } { print $4 / dd[$1] }' \
        "$res" "$FX_DIR/r.$f" | stats)
    win=$(awk '{ print $5 / 1e3 }' "$FX_DIR/r.$f" | stats)
    cw=$(awk '{ print $6 / 1e6 }' "$FX_DIR/r.$f" | stats)
    rw=$(awk '{ print $7 / 1e6 }' "$FX_DIR/r.$f" | stats)
    echo "| $f | $mibs | $ratio | $ctr | **$vsdd** | $win | $cw | $rw |"
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
