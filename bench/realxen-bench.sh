# SPDX-License-Identifier: LGPL-2.1-or-later
# realxen-bench.sh: benchmarks on the real Xen host of tests/realxen, run
# inside dom0 like a scenario:
#     tests/realxen/realxen run bench/realxen-bench.sh
# Under TCG no time is a real host's time, so every figure is a ratio
# against the raw tool, both measured in the same run, alternating, the
# median of BENCH_ROUNDS (default 3) rounds:
#   1. snapshot-create-as with memory   / virsh save of the same guest
#   2. snapshot-revert with memory      / virsh restore of the same guest's
#      image (from a running domain, and from a shut-off one)
#   3. the guest's pause as the guest sees it (the longest gap in its own
#      clock reads) during a memory and a disk-only snapshot, against
#      virsh suspend + resume
#   4. a disk-only snapshot (snapshotCreateXML) / a raw QMP sequence on a
#      second guest's device model: qemu-img create, blockdev-add,
#      transaction blockdev-snapshot
# Prints one "bench: ..." line per figure; docs/benchmarks.md has them.
. "$RX_LIB"
N=${BENCH_ROUNDS:-3}
G=bench
G2=benchraw
img=$RX_IMAGES/$G.save
rx_step "set up two guests"
rx_setup
for g in $G $G2; do
    rx_cleanup_guest $g
    rm -f "$RX_IMAGES/$g".*
    timeout 60 qemu-img create -q -f qcow2 "$RX_IMAGES/$g.qcow2" 64M
    rx_guest_define $g "$RX_IMAGES/$g.qcow2:qcow2"
    vok start $g
done
for g in $G $G2; do rx_wait_tick $g 2 180 >/dev/null || exit 1; done

# tm CMD...: seconds CMD took (it must succeed).
tm() {
    local a b
    a=$(date +%s.%N)
    rx_virsh "$@" >/dev/null 2>&1 || rx_fail "virsh $* failed"
    b=$(date +%s.%N)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
gap() { sed -n 's/.*max_ms=\([0-9]*\).*/\1/p' "$1"; }

rx_step "1. snapshot-create-as with memory / virsh save"
cs=; ss=
for i in $(seq 1 "$N"); do
    if [ $((i % 2)) = 1 ]; then
        c=$(tm snapshot-create-as $G m$i); s=$(tm save $G "$img"); vok restore "$img" >/dev/null
    else
        s=$(tm save $G "$img"); vok restore "$img" >/dev/null; c=$(tm snapshot-create-as $G m$i)
    fi
    rm -f "$img"
    echo "round $i: create $c s, save $s s"
    cs="$cs $c"; ss="$ss $s"
done
c=$(echo "$cs" | median); s=$(echo "$ss" | median)
echo "bench: create-with-memory $c s / virsh-save $s s = $(ratio "$c" "$s")"
for i in $(seq 1 "$N"); do vok snapshot-delete $G m$i >/dev/null; done

rx_step "2. snapshot-revert / virsh restore"
vok snapshot-create-as $G rv >/dev/null
vok save $G "$img" >/dev/null
vok restore "$img" >/dev/null
rr=; rs=; ro=; rso=
for i in $(seq 1 "$N"); do
    # From a running domain: the revert destroys it, the restore needs it
    # gone first (not timed).
    a=$(tm snapshot-revert $G rv)
    vok destroy $G >/dev/null
    b=$(tm restore "$img")
    # From a shut-off domain, both.
    vok destroy $G >/dev/null
    c=$(tm snapshot-revert $G rv)
    vok destroy $G >/dev/null
    d=$(tm restore "$img")
    echo "round $i: revert (running) $a s, restore $b s; revert (shut off) $c s, restore $d s"
    rr="$rr $a"; rs="$rs $b"; ro="$ro $c"; rso="$rso $d"
done
a=$(echo "$rr" | median); b=$(echo "$rs" | median)
c=$(echo "$ro" | median); d=$(echo "$rso" | median)
echo "bench: revert-from-running $a s / virsh-restore $b s = $(ratio "$a" "$b")"
echo "bench: revert-from-shutoff $c s / virsh-restore $d s = $(ratio "$c" "$d")"
rm -f "$img"
vok snapshot-delete $G rv --metadata >/dev/null

rx_step "3. the guest's pause, as the guest sees it"
# gaps_during SECS CMD...: the guest reads its clock for SECS s; CMD runs
# 4 s in; prints the longest gap in ms.
gaps_during() {
    local secs=$1 f=$RX_OUT/gaps.$$ pid
    shift
    rx_cmd $G gaps "$secs" >"$f" &
    pid=$!
    sleep 4
    "$@" >/dev/null 2>&1 || rx_fail "$* failed"
    wait $pid || rx_fail "the guest's gaps command failed"
    gap "$f"
    rm -f "$f"
}
suspres() { rx_virsh suspend $G && rx_virsh resume $G; }
pq=; pm=; pd=; pn=
for i in $(seq 1 "$N"); do
    n=$(gaps_during 12 true)
    q=$(gaps_during 16 suspres)
    m=$(gaps_during 30 rx_virsh snapshot-create-as $G p$i)
    d=$(gaps_during 16 rx_virsh snapshot-create-as $G q$i --disk-only)
    echo "round $i: longest gap: idle $n ms, suspend+resume $q ms, memory snapshot $m ms, disk-only $d ms"
    pn="$pn $n"; pq="$pq $q"; pm="$pm $m"; pd="$pd $d"
done
n=$(echo "$pn" | median); q=$(echo "$pq" | median)
m=$(echo "$pm" | median); d=$(echo "$pd" | median)
echo "bench: guest-pause idle $n ms, suspend+resume $q ms"
echo "bench: guest-pause memory-snapshot $m ms / virsh-save $s s = $(ratio "$m" "$(awk -v s="$s" 'BEGIN { print s * 1000 }')")"
echo "bench: guest-pause disk-only $d ms / suspend+resume $q ms = $(ratio "$d" "$q")"

rx_step "4. disk-only snapshot / raw QMP sequence"
rx_t 900 python3 - "$G" "$G2" "$RX_IMAGES" "$N" <<'PYEOF' || rx_fail "the QMP benchmark failed"
import json, os, socket, statistics, subprocess, sys, time
import libvirt
g, g2, imgdir, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = libvirt.open("xen:///system")

def qmp(domid, cmds):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(120)
    s.connect("/var/run/xen/qmp-libxl-%d" % domid)
    f = s.makefile("rwb")
    f.readline()
    out = []
    for cmd in [{"execute": "qmp_capabilities"}] + cmds:
        f.write((json.dumps(cmd) + "\n").encode()); f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r:
                break
        if "error" in r:
            raise SystemExit("QMP %s: %s" % (cmd["execute"], r["error"]))
        out.append(r["return"])
    s.close()
    return out[1:]

def raw(i):
    d = c.lookupByName(g2)
    t0 = time.time()
    blk = [b for b in qmp(d.ID(), [{"execute": "query-block"}])[0] if b.get("inserted")][0]
    cur, node = blk["inserted"]["file"], blk["inserted"]["node-name"]
    ovl = os.path.join(imgdir, "%s.raw%d" % (g2, i))
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F",
                    blk["inserted"]["drv"], "-b", cur, ovl], check=True)
    qmp(d.ID(), [
        {"execute": "blockdev-add", "arguments": {
            "driver": "qcow2", "node-name": "rawbench%d" % i, "backing": None,
            "file": {"driver": "file", "filename": ovl}}},
        {"execute": "transaction", "arguments": {"actions": [
            {"type": "blockdev-snapshot",
             "data": {"node": node, "overlay": "rawbench%d" % i}}]}}])
    return time.time() - t0

def ours(i):
    d = c.lookupByName(g)
    t0 = time.time()
    d.snapshotCreateXML("<domainsnapshot><name>b%d</name><disks><disk name='xvda' "
                        "snapshot='external'><source file='%s/%s.b%d'/></disk></disks>"
                        "</domainsnapshot>" % (i, imgdir, g, i),
                        libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY)
    return time.time() - t0

o, r = [], []
for i in range(1, n + 1):
    if i % 2:
        o.append(ours(i)); r.append(raw(i))
    else:
        r.append(raw(i)); o.append(ours(i))
    print("round %d: disk-only snapshot %.3f s, raw QMP sequence %.3f s" % (i, o[-1], r[-1]))
mo, mr = statistics.median(o), statistics.median(r)
print("bench: disk-only-snapshot %.3f s / raw-qmp-sequence %.3f s = %.2f" % (mo, mr, mo / mr))
PYEOF

rx_step "cleanup"
for g in $G $G2; do
    vok destroy $g >/dev/null
    vok undefine $g --snapshots-metadata >/dev/null
    rm -f "$RX_IMAGES/$g".*
done
rx_step done
