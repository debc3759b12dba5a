#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Times snapshot create and revert of a running domain, end to end: a
# private libvirtd on the simulated Xen host loads the wrapper module,
# real virsh runs snapshot-create-as / snapshot-revert, a real QEMU
# serves 1 or 4 qcow2 disks (internal snapshots, one QMP transaction),
# and the guest's memory blob is 256 MiB or 1 GiB.
#
#   sh bench/opsbench.sh [BUILDDIR]          (as root; prints markdown)
#
# Environment:
#   OPSBENCH_RUNS       runs per case with 256 MiB (default 5)
#   OPSBENCH_RUNS_BIG   runs per case with 1 GiB (default 3)
#   OPSBENCH_MEM        memory sizes in MiB (default "256 1024")
#   OPSBENCH_DISKS      disk counts (default "1 4")
#   OPSBENCH_PLACES     where the memory image goes (default "store disk"):
#                       store = the default <libDir>/snapshot/<dom>/, on the
#                       host's /var overlay (a tmpfs); disk = --memspec in
#                       the host's directory under /tmp
#   OPSBENCH_WRAPPER    the wrapper module to load (default: this build's),
#                       to compare another build on the same simulator
#
# The simulator logs CLOCK_MONOTONIC marks (docs/fakexen.md), from which
# each create gives:
#   window = (resume - suspend-start) - (stream-end - stream-start)
# the time the guest stays suspended beyond the memory stream itself
# (fsync of the image, state check, QMP transaction, resume). Every
# figure is the median of the runs. The reference write is
#   dd if=/dev/zero of=<image dir>/x bs=1M count=<MiB> conv=fsync
# run inside the host, on the filesystem that holds the image.
set -u

# The simulator's domain table (and the guest's blob) goes on a tmpfs:
# on a real host that state is the hypervisor's memory, and on the disk
# that holds the image, ext4's journal made every state change wait for
# the image's write-back. The tmpfs is mounted in a mount namespace of
# the bench's own, so it goes away with the bench whatever happens.
if [ -z "${OPSBENCH_IN_NS:-}" ] && [ "$(id -u)" = 0 ]; then
    OPSBENCH_IN_NS=1 FAKEXEN_STATE_TMPFS=1 exec unshare -m --propagation private \
        sh "$0" "$@"
fi

builddir=$(cd "${1:-.}" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$builddir
abs_top_srcdir=$srcdir
export abs_top_builddir abs_top_srcdir

runs=${OPSBENCH_RUNS:-5}
runsBig=${OPSBENCH_RUNS_BIG:-3}
mems=${OPSBENCH_MEM:-"256 1024"}
diskCounts=${OPSBENCH_DISKS:-"1 4"}
places=${OPSBENCH_PLACES:-"store disk"}
store=/var/lib/libvirt/libxl/snapshot
LC_ALL=C
export LC_ALL

. "$srcdir/tests/fakexen/fakexen-lib.sh"

for prog in qemu-img dd awk; do
    command -v "$prog" >/dev/null 2>&1 || fx_skip "$prog is not installed"
done
fx_use_wrapper
# Our module appends one line per create: its disk step's parts (fault.h).
XSNAP_TIMING_FILE=$(mktemp /tmp/opsbench-timing.XXXXXX) || fx_fail "mktemp"
export XSNAP_TIMING_FILE
if [ -n "${OPSBENCH_WRAPPER:-}" ]; then
    [ -e "$OPSBENCH_WRAPPER" ] || fx_fail "no wrapper module $OPSBENCH_WRAPPER"
    FAKEXEN_LIBXL_MODULE=$OPSBENCH_WRAPPER
fi
# The largest blob the bench asks for.
FAKEXEN_MEM_MAX_KIB=$((1024 * 1024))
export FAKEXEN_MEM_MAX_KIB
fx_setup >&2

now_ns() {
    date +%s%N
}

vok() {
    out=$(fx_virsh "$@" 2>&1) || fx_fail "virsh $*: $out"
}

# median: the median of the numbers on stdin, one a line
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "nan";
              else if (NR % 2) print v[(NR + 1) / 2];
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# marks FROMLINE: "event ns" for each mark logged after line FROMLINE
marks() {
    tail -n +"$(($1 + 1))" "$FX_DIR/state/fakexen.log" |
        awk '$3 == "mark" { print $4, $8 }'
}

loglines() {
    wc -l < "$FX_DIR/state/fakexen.log"
}

# libvirtd's peak RSS in MiB so far
libvirtd_hwm() {
    fx_inhost sh -c 'awk "/^VmHWM/ { printf \"%.0f\", \$2 / 1024 }" \
        "/proc/$(cat "$1/libvirtd.nspid")/status"' sh "$FX_DIR"
}

# ddtime DIR MIB: seconds dd takes to write MIB MiB into DIR with fsync
ddtime() {
    fx_inhost sh -c 'dd if=/dev/zero of="$1/dd-reference" bs=1M count="$2" conv=fsync 2>&1;
        rm -f "$1/dd-reference"' sh "$1" "$2" |
        awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print $(i - 1) }'
}

domain_xml() {
    # $1 name, $2 MiB, $3 number of disks
    {
        echo "<domain type='xen'><name>$1</name>"
        echo "<memory unit='MiB'>$2</memory><vcpu>1</vcpu>"
        echo "<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>"
        i=0
        while [ $i -lt "$3" ]; do
            f=$FX_DIR/$1-$i.qcow2
            qemu-img create -q -f qcow2 "$f" 64M || fx_fail "qemu-img create $f"
            echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            echo "<source file='$f'/><target dev='xvd$(printf "\\$(printf %o $((97 + i)))")' bus='xen'/></disk>"
            i=$((i + 1))
        done
        echo "</devices></domain>"
    } > "$FX_DIR/$1.xml"
}

# One case: MIB NDISKS PLACE RUNS; prints a table row.
bench_case() {
    mib=$1 nd=$2 place=$3 n=$4
    dom=b$mib-$nd-$place
    res=$FX_DIR/$dom.results
    : > "$res"
    domain_xml "$dom" "$mib" "$nd"
    vok define "$FX_DIR/$dom.xml"
    vok start "$dom"
    # ddir: a directory on the image's filesystem that outlives the domain
    if [ "$place" = disk ]; then
        imgdir=$FX_DIR/images
        mkdir -p "$imgdir"
        ddir=$imgdir
    else
        imgdir=$store/$dom
        ddir=$store
    fi
    i=1
    while [ $i -le "$n" ]; do
        snap=s$i
        memspec=
        [ "$place" = disk ] && memspec="--memspec file=$imgdir/$snap.save,snapshot=external"

        from=$(loglines)
        : > "$XSNAP_TIMING_FILE"
        t0=$(now_ns)
        # shellcheck disable=SC2086
        vok snapshot-create-as "$dom" "$snap" $memspec
        t1=$(now_ns)
        tl=$(tail -n 1 "$XSNAP_TIMING_FILE")
        # An older module (OPSBENCH_WRAPPER) writes none: its columns read 0.
        [ -n "$tl" ] || tl="none prepare=0 take-disks=0 send-to-reply=1 state-check=0"
        fx_expect_state "$dom" running
        size=$(fx_inhost stat -c %s "$imgdir/$snap.save") ||
            fx_fail "no memory image $imgdir/$snap.save"
        cm=$(marks "$from")

        from=$(loglines)
        t2=$(now_ns)
        vok snapshot-revert "$dom" "$snap"
        t3=$(now_ns)
        fx_expect_state "$dom" running
        rm_=$(marks "$from")

        printf '%s\n' "$cm" | awk -v wall=$((t1 - t0)) -v rwall=$((t3 - t2)) -v size="$size" -v rmarks="$rm_" -v tl="$tl" '
            { t[$1] = $2 }
            /^(resume|unpause|destroy) / { if (!end || $2 < end) end = $2 }
            END {
                if (!t["suspend-start"] || !t["stream-start"] || !t["stream-end"] || !end) {
                    print "missing marks" > "/dev/stderr"; exit 1
                }
                n = split(rmarks, r, "\n")
                for (k = 1; k <= n; k++) { split(r[k], f, " "); rt[f[1]] = f[2] }
                if (!rt["restore-start"] || !rt["restore-stream-end"]) {
                    print "missing restore marks" > "/dev/stderr"; exit 1
                }
                if (!t["suspended"] || !t["resume-start"]) {
                    print "missing suspended/resume-start marks" > "/dev/stderr"; exit 1
                }
                stream = t["stream-end"] - t["stream-start"]
                m = split(tl, tf, " ")
                for (k = 2; k <= m; k++) { split(tf[k], kv, "="); tm[kv[1]] = kv[2] }
                printf "%.3f %.3f %.3f %.3f %.3f %.3f %.3f %d %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n",
                    wall / 1e6,
                    (end - t["suspend-start"] - stream) / 1e6,
                    stream / 1e6,
                    (t["stream-end"] - t["suspend-start"]) / 1e6,
                    (end - t["suspend-start"]) / 1e6,
                    rwall / 1e6,
                    (rt["restore-stream-end"] - rt["restore-start"]) / 1e6,
                    size,
                    (t["resume-start"] - t["suspended"]) / 1e6,
                    tm["prepare"], tm["take-disks"], tm["send-to-reply"], tm["state-check"],
                    tm["take-disks"] / tm["send-to-reply"],
                    ((end - t["suspend-start"] - stream) / 1e6) / tm["send-to-reply"]
            }' >> "$res" || fx_fail "$dom $snap: the simulator did not log its marks"

        vok snapshot-delete "$dom" "$snap"
        fx_inhost test ! -e "$imgdir/$snap.save" || fx_fail "$imgdir/$snap.save was not removed"
        i=$((i + 1))
    done
    vok destroy "$dom"
    vok undefine "$dom"
    rm -f "$FX_DIR/$dom"-*.qcow2

    dd=$(i=0; while [ $i -lt "$n" ]; do ddtime "$ddir" "$mib"; i=$((i + 1)); done | median)
    col() { awk -v c="$1" '{ print $c }' "$res" | median; }
    range() { awk -v c="$1" 'NR == 1 || $c < lo { lo = $c } NR == 1 || $c > hi { hi = $c }
                             END { printf "%.0f–%.0f", lo, hi }' "$res"; }
    wall=$(col 1) window=$(col 2) stream=$(col 3) save=$(col 4) upto=$(col 5)
    rwall=$(col 6) rstream=$(col 7) size=$(col 8) ours=$(col 9) wrange=$(range 2)
    printf '%s\n' "$mib $nd $place $n $(col 10) $(col 11) $(col 12) $(col 13) $(col 14) $(col 15)" \
        >> "$FX_DIR/disksteps"
    awk -v mib="$mib" -v nd="$nd" -v place="$place" -v n="$n" -v wall="$wall" \
        -v window="$window" -v stream="$stream" -v save="$save" -v upto="$upto" \
        -v rwall="$rwall" -v rstream="$rstream" -v size="$size" -v dd="$dd" \
        -v ours="$ours" -v wrange="$wrange" '
        BEGIN {
            mb = size / 1048576
            ddmbs = mib / dd
            printf "| %d | %d | %s | %d | %.0f | **%.1f** (%s) | %.1f | %.0f | %.0f (%.2f) | %.0f (%.2f) | %.0f | %.0f | %.0f |\n",
                mib, nd, place, n, wall, window, wrange, ours, stream,
                mb / (save / 1000), (mb / (save / 1000)) / ddmbs,
                mb / (upto / 1000), (mb / (upto / 1000)) / ddmbs,
                ddmbs, rwall, rstream
        }'
}

echo "| memory MiB | disks | image on | runs | create wall ms | pause window ms (min–max) | of it between libxl calls ms | stream ms | image MiB/s to stream end (÷ dd) | image MiB/s to resume (÷ dd) | dd MiB/s | revert wall ms | restore stream ms |"
echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for mib in $mems; do
    n=$runs
    [ "$mib" -gt 256 ] && n=$runsBig
    for place in $places; do
        for nd in $diskCounts; do
            bench_case "$mib" "$nd" "$place" "$n"
        done
    done
done
echo
echo "The disk step of each create (medians, ms): what is prepared before the pause;"
echo "inside it, the connection and the transaction with the state check beside it;"
echo "the transaction from send to reply, which spans the state check, so it is at"
echo "most the raw transaction plus one state check: the ratios are upper bounds."
echo
echo "| memory MiB | disks | image on | runs | prepared before the pause | disk step in the pause | transaction send → reply | state check | step ÷ transaction | window ÷ transaction |"
echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
awk '{ printf "| %d | %d | %s | %d | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' \
    "$FX_DIR/disksteps"
rm -f "$XSNAP_TIMING_FILE"
echo
echo "libvirtd peak RSS over the whole run: $(libvirtd_hwm) MiB"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
