#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# virsh domjobinfo while a snapshot runs: a private libvirtd on the
# simulated Xen host loads the wrapper module; the simulator writes the
# guest memory slowly (fakexen-ctl save-rate), so that real virsh can
# watch the memory image grow while snapshot-create-as runs (and
# python3-libvirt through the older virDomainGetJobInfo), be refused an
# abort, and see the stock answer again once it is over.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

# KiB/s at which the simulated suspend writes 4 MiB of guest memory.
RATE_KIB=1024
MEM_KIB=4096

fx_use_wrapper

fx_step "start the simulated host with the wrapper module"
fx_setup

# field TEXT LABEL: the value after "LABEL:" in virsh's aligned output
field() {
    printf '%s\n' "$1" | awk -v l="$2:" 'index($0, l) == 1 {
        sub(/^[^:]*:[ \t]*/, ""); sub(/[ \t]+$/, ""); print; exit }'
}
# bytes "1.500 MiB": the figure in bytes (virsh prints three decimals)
bytes() {
    printf '%s\n' "$1" | awk '{
        f = 1
        if ($2 == "KiB") f = 1024
        else if ($2 == "MiB") f = 1024 * 1024
        else if ($2 == "GiB") f = 1024 * 1024 * 1024
        else if ($2 != "B") { print -1; exit }
        printf "%.0f\n", $1 * f }'
}

fx_step "define and start fx1 ($MEM_KIB KiB of memory, one qcow2 disk)"
qemu-img create -q -f qcow2 "$FX_DIR/disk0.qcow2" 16M || fx_fail "qemu-img"
cat > "$FX_DIR/fx1.xml" <<EOF
<domain type='xen'><name>fx1</name>
<uuid>7a0c3e55-2b8d-4f61-9d0e-5c4b3a291801</uuid>
<memory unit='KiB'>$MEM_KIB</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$FX_DIR/disk0.qcow2'/><target dev='xvda' bus='xen'/></disk>
</devices></domain>
EOF
vok define "$FX_DIR/fx1.xml" >/dev/null
vok start fx1 >/dev/null
[ "$(fx_ctl mem-size fx1)" = $((MEM_KIB * 1024)) ] ||
    fx_fail "the guest memory is $(fx_ctl mem-size fx1) bytes, expected $((MEM_KIB * 1024))"

fx_step "an idle domain: the stock driver answers"
out=$(vok domjobinfo fx1)
[ "$(field "$out" "Job type")" = None ] || fx_fail "idle domjobinfo: $out"
# The stock driver keeps no completed statistics and refuses the flag.
vfail "unsupported flags" domjobinfo fx1 --completed
vfail "cannot abort a job of domain 'fx1'" domjobabort fx1

fx_step "snapshot-create-as with memory written at $RATE_KIB KiB/s"
fx_ctl save-rate "$RATE_KIB" || fx_fail "fakexen-ctl save-rate"
virsh -q -c "$FX_URI" snapshot-create-as fx1 s1 >"$FX_DIR/create.out" 2>&1 &
create=$!

samples=0
mid=0
last=0
aborted=0
oldapi=0
operation=
deadline=$(( $(date +%s) + 60 ))
while kill -0 "$create" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || fx_fail "snapshot-create-as still runs after 60 s"
    out=$(fx_virsh domjobinfo fx1 2>&1) || fx_fail "domjobinfo during the snapshot: $out"
    type=$(field "$out" "Job type")
    case $type in
        None) continue ;;    # not started yet, or already over
        Unbounded) ;;
        *) fx_fail "domjobinfo during the snapshot: $out" ;;
    esac
    samples=$((samples + 1))
    operation=$(field "$out" "Operation")
    [ "$operation" = Snapshot ] || fx_fail "operation '$operation': $out"
    processed=$(field "$out" "Data processed")
    [ -n "$processed" ] || continue    # before the memory phase
    p=$(bytes "$processed")
    t=$(bytes "$(field "$out" "Data total")")
    r=$(bytes "$(field "$out" "Data remaining")")
    [ "$t" = $((MEM_KIB * 1024)) ] || fx_fail "data total $t, expected $((MEM_KIB * 1024)): $out"
    [ "$p" -le "$t" ] || fx_fail "processed $p beyond total $t"
    [ "$p" -ge "$last" ] || fx_fail "processed went back from $last to $p"
    # virsh rounds each figure to 1/1000 of its unit
    diff=$((p + r - t)); [ "${diff#-}" -le 2048 ] || fx_fail "processed $p + remaining $r is not total $t"
    last=$p
    if [ "$p" -gt 0 ] && [ "$p" -lt "$t" ]; then
        mid=$((mid + 1))
        if [ "$aborted" = 0 ]; then
            vfail "the snapshot operation running on domain 'fx1' cannot be aborted" domjobabort fx1
            aborted=1
        fi
        if [ "$oldapi" = 0 ]; then
            # The older virDomainGetJobInfo, which virsh no longer calls.
            py=$(/usr/bin/python3 - "$FX_URI" <<'PY' 2>&1
import sys, libvirt
info = libvirt.open(sys.argv[1]).lookupByName("fx1").jobInfo()
print(info[0], info[3], info[4], info[5])
PY
            ) || fx_fail "python3-libvirt jobInfo: $py"
            set -- $py
            # Type 0: the snapshot ended meanwhile; try on the next sample.
            if [ "$1" != 0 ]; then
                [ "$1" = 2 ] && [ "$2" = $((MEM_KIB * 1024)) ] && [ "$3" -gt 0 ] &&
                    [ $(($3 + $4)) = "$2" ] || fx_fail "jobInfo (type total processed remaining): $py"
                oldapi=1
            fi
        fi
    fi
done
wait "$create" || fx_fail "snapshot-create-as failed: $(cat "$FX_DIR/create.out")"
fx_ctl save-rate 0 || fx_fail "fakexen-ctl save-rate 0"
echo "  $samples samples of the job, $mid of them part-way through the memory"
[ "$mid" -ge 1 ] || fx_fail "domjobinfo never showed the memory part-way ($samples job samples)"
[ "$aborted" = 1 ] || fx_fail "domjobabort was not tried during the snapshot"
[ "$oldapi" = 1 ] || fx_fail "virDomainGetJobInfo never showed the snapshot job"

fx_step "the snapshot is done: no job, the domain runs"
out=$(vok domjobinfo fx1)
[ "$(field "$out" "Job type")" = None ] || fx_fail "domjobinfo after the snapshot: $out"
fx_expect_state fx1 running
[ "$(vok snapshot-current fx1 --name)" = s1 ] || fx_fail "s1 is not current"
vok snapshot-info fx1 s1 | grep -q "^State: *running" || fx_fail "s1 is not a running snapshot"

fx_step "delete s1"
vok snapshot-delete fx1 s1 >/dev/null
out=$(vok domjobinfo fx1)
[ "$(field "$out" "Job type")" = None ] || fx_fail "domjobinfo after delete: $out"
fx_step ""
exit 0
