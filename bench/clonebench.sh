#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Times virt-xen-snapshot clone on the simulated Xen host: a private
# libvirtd loads the wrapper module, a gold domain (one qcow2 disk, a
# guest memory blob of CLONEBENCH_MEM MiB) gets a snapshot with memory,
# and N clones are made from it, defined only, with --start and with
# --restore (FIFO, and --copy). Then one --restore against a plain
# `virsh restore` of the same image (the gold image with the clone's
# XML, written once as a file), run by run, with the time the
# simulator's restore took to read the stream from each.
#
#   sh bench/clonebench.sh [BUILDDIR]          (as root; prints markdown)
#
# Environment:
#   CLONEBENCH_COUNTS   clone counts (default "1 10 50")
#   CLONEBENCH_MEM      guest memory in MiB (default 64: the simulator
#                       keeps each clone's memory as a file, 50 of them)
#   CLONEBENCH_RUNS     runs of the one-clone restore comparison (default 7)
set -u

# The simulator's domain table and guest memory go on a tmpfs, as
# opsbench.sh does: on a real host a restored guest's memory is the
# hypervisor's RAM. On the disk, each restore wrote its 64 MiB through
# the page cache, and once the machine had some hundreds of MiB to
# write back that write cost four to five times as much CPU, in every
# restore alike. The tmpfs lives in a mount namespace of the bench's own.
if [ -z "${CLONEBENCH_IN_NS:-}" ] && [ "$(id -u)" = 0 ]; then
    CLONEBENCH_IN_NS=1 FAKEXEN_STATE_TMPFS=1 exec unshare -m --propagation private \
        sh "$0" "$@"
fi

builddir=$(cd "${1:-.}" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$builddir
abs_top_srcdir=$srcdir
export abs_top_builddir abs_top_srcdir
counts=${CLONEBENCH_COUNTS:-"1 10 50"}
memMiB=${CLONEBENCH_MEM:-64}
runs=${CLONEBENCH_RUNS:-7}
LC_ALL=C
export LC_ALL

. "$srcdir/tests/fakexen/fakexen-lib.sh"
fx_use_wrapper
FAKEXEN_MEM_MAX_KIB=$((memMiB * 1024))
export FAKEXEN_MEM_MAX_KIB
fx_setup >&2
tool=$builddir/tools/virt-xen-snapshot
img=$FX_DIR/img
mkdir -p "$img"

now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# Every timed command enters the host the same way, with one nsenter
# (fx_inhost's shell script costs some 45 ms more): the tool needs the
# host's /var for libvirtd's snapshot store, and virsh gets the same.
nspid=$("$FX_HOST" nspid "$FX_DIR")
inns() { nsenter -t "$nspid" -m -- "$@"; }
clone() { inns "$tool" clone -c "$FX_URI" "$@" >/dev/null || fx_fail "clone $*"; }
vok() { out=$(fx_virsh "$@" 2>&1) || fx_fail "virsh $*: $out"; }
# The milliseconds the simulator's restore took to read the stream, for
# the restore logged after line $1 of its log.
stream_ms() {
    tail -n "+$(($1 + 1))" "$FX_DIR/state/fakexen.log" | awk '
        / mark restore-start / { s = $NF }
        / mark restore-stream-end / { printf "%.1f\n", ($NF - s) / 1e6; exit }'
}
loglines() { wc -l < "$FX_DIR/state/fakexen.log"; }

qemu-img create -q -f qcow2 "$img/gold.qcow2" 1G || fx_fail "qemu-img"
cat > "$FX_DIR/gold.xml" <<EOF
<domain type='xen'><name>gold</name><memory unit='MiB'>$memMiB</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$img/gold.qcow2'/><target dev='xvda' bus='xen'/></disk>
<interface type='ethernet'><mac address='00:16:3e:0a:0b:0c'/></interface>
</devices></domain>
EOF
vok define "$FX_DIR/gold.xml"
vok start gold
fx_ctl qmp gold '{"execute":"human-monitor-command","arguments":{"command-line":"qemu-io xvda \"write -P 0x61 0 64M\""}}' >/dev/null
vok snapshot-create-as gold g1
memfile=/var/lib/libvirt/libxl/snapshot/gold/g1.save
imgBytes=$(fx_inhost stat -c %s "$memfile")

drop() {
    for d in $(fx_virsh list --all --name | grep "^$1"); do
        fx_virsh destroy "$d" >/dev/null 2>&1
        vok undefine "$d"
    done
    rm -f "$img/$1"-*.qcow2 "$img/$1".qcow2
}

echo "## virt-xen-snapshot clone on the simulated Xen host"
echo
echo "Gold: one qcow2 disk (1 GiB, 64 MiB written), $memMiB MiB of guest memory"
echo "(memory image $((imgBytes / 1048576)) MiB). $(nproc) CPUs, $(uname -r)."
echo
echo "| N | mode | total (s) | per clone (ms) | disk per clone (KiB) |"
echo "|---|------|-----------|----------------|----------------------|"
for n in $counts; do
    for mode in define start restore copy; do
        case $mode in
            define) flags= ;;
            start) flags=--start ;;
            restore) flags=--restore ;;
            copy) flags="--restore --copy" ;;
        esac
        t0=$(now_ns)
        # shellcheck disable=SC2086
        clone --count "$n" $flags gold g1 c
        t1=$(now_ns)
        kib=$(du -k -c "$img"/c-*.qcow2 "$img"/c.qcow2 2>/dev/null | tail -1 | awk '{ print $1 }')
        awk -v n="$n" -v m="$mode" -v a="$t0" -v b="$t1" -v k="$kib" \
            'BEGIN { printf "| %d | %s | %.2f | %.0f | %.0f |\n", n, m, (b - a) / 1e9, (b - a) / 1e6 / n, k / n }'
        drop c
    done
done

# The same image as a plain file: the gold image with the XML a clone
# named "plain" gets (the tool's own rewrite, kept by --copy's code path
# would delete it, so it is made here from the dumped XML).
echo
echo "One clone restored, against \`virsh restore\` of the same image ($runs runs, median):"
echo
/usr/bin/python3 - "$FX_DIR" "$memfile" <<'EOF' || fx_fail "cannot write the plain image"
import os, re, struct, subprocess, sys, uuid
d, src = sys.argv[1], sys.argv[2]
host = os.path.join(os.environ["abs_top_srcdir"], "tests/fakexen/fakexen-host")
data = subprocess.run([host, "shell", d, "cat", src], check=True, capture_output=True).stdout
hdr, xl = data[:64], struct.unpack("<I", data[20:24])[0]
xml = data[64:64 + xl].split(b"\0")[0].decode()
xml = xml.replace("<name>gold</name>", "<name>plain</name>")
xml = re.sub(r"<uuid>[^<]*</uuid>", "<uuid>%s</uuid>" % uuid.uuid4(), xml)
xml = xml.replace("00:16:3e:0a:0b:0c", "00:16:3e:0a:0b:0d")
xml = re.sub(r"<source file=\"[^\"]*gold[^\"]*\"", "<source file=\"%s/img/plain.qcow2\"" % d, xml)
b = xml.encode() + b"\0"
b += b"\0" * (xl - len(b))
with open(os.path.join(d, "plain.save"), "wb") as f:
    f.write(hdr + b + data[64 + xl:])
EOF
qemu-img create -q -f qcow2 -F qcow2 -b "$img/gold.qcow2" "$img/plain.qcow2" || fx_fail "qemu-img"
: > "$FX_DIR/t-plain"; : > "$FX_DIR/t-fifo"; : > "$FX_DIR/t-copy"
: > "$FX_DIR/s-plain"; : > "$FX_DIR/s-fifo"; : > "$FX_DIR/s-copy"
# One run is the three, in turn: the ratios are taken pair by pair.
for r in $(seq "$runs"); do
    n=$(loglines); t0=$(now_ns); inns virsh -q -c "$FX_URI" restore "$FX_DIR/plain.save" >/dev/null ||
        fx_fail "virsh restore"; t1=$(now_ns)
    echo $(((t1 - t0) / 1000000)) >> "$FX_DIR/t-plain"; stream_ms "$n" >> "$FX_DIR/s-plain"
    vok destroy plain
    n=$(loglines); t0=$(now_ns); clone --restore gold g1 c; t1=$(now_ns)
    echo $(((t1 - t0) / 1000000)) >> "$FX_DIR/t-fifo"; stream_ms "$n" >> "$FX_DIR/s-fifo"
    drop c
    n=$(loglines); t0=$(now_ns); clone --restore --copy gold g1 c; t1=$(now_ns)
    echo $(((t1 - t0) / 1000000)) >> "$FX_DIR/t-copy"; stream_ms "$n" >> "$FX_DIR/s-copy"
    drop c
done
ratio() { paste "$FX_DIR/$1" "$FX_DIR/t-plain" | awk '{ printf "%.3f\n", $1 / $2 }' | median; }
plain=$(median < "$FX_DIR/t-plain"); fifo=$(median < "$FX_DIR/t-fifo"); copy=$(median < "$FX_DIR/t-copy")
echo "| | ms | against virsh restore (median of the runs' ratios) | stream read by the restore (ms) |"
echo "|---|---|---|---|"
echo "| virsh restore (a prepared image) | $plain | 1.00 | $(median < "$FX_DIR/s-plain") |"
echo "| clone --restore (FIFO, define + overlay + restore) | $fifo | $(ratio t-fifo | awk '{ printf "%.2f", $1 }') | $(median < "$FX_DIR/s-fifo") |"
echo "| clone --restore --copy | $copy | $(ratio t-copy | awk '{ printf "%.2f", $1 }') | $(median < "$FX_DIR/s-copy") |"
