#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash safety end to end: libvirtd is killed (SIGKILL, injected through
# XSNAP_FAULT_FILE) in the middle of snapshot create, revert and delete
# on the simulated Xen host. After a restart of libvirtd, each case
# proves that the disks hold every pattern written before, that the
# snapshot list is what it was, that `virt-xen-snapshot cleanup
# --dry-run` names the leftovers and `cleanup` removes exactly those
# (file lists and internal snapshots compared before and after), and
# that the same operation then succeeds.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper
# libvirtd reads the fault file at every fault point.
faults=$(mktemp /tmp/xsnap-crash.XXXXXX)
XSNAP_FAULT_FILE=$faults
export XSNAP_FAULT_FILE

fx_step "start the simulated host with the wrapper module"
fx_setup
# fx_cleanup takes the exit status from $?: keep it across the rm.
trap 'rc=$?; rm -f "$faults" "$faults.trace"; (exit $rc); fx_cleanup' EXIT
store=/var/lib/libvirt/libxl/snapshot
tool=$abs_top_builddir/tools/virt-xen-snapshot

has() {
    fx_image_has "$@"
}
fmt_of() {
    qemu-img info -U "$1" | sed -n 's/^file format: //p'
}
# disk_image DOM DEV: the image of the disk, the one the device model
# serves (running) or the persistent config names (shut off)
disk_image() {
    if [ "$(fx_virsh domstate "$1")" = "shut off" ]; then
        fx_virsh domblklist "$1" --inactive | awk -v d="$2" '$1 == d { print $2 }'
    else
        served "$1" "$2"
    fi
}
internal_snaps() {
    qemu-img snapshot -U -l "$1" 2>/dev/null | awk 'NR > 2 { print $2 }' | sort | tr '\n' ' '
}
mem() {
    fx_ctl mem-read "$1" 0 "$2"
}
# Every file of the host's disks and of fx1's store, and every internal
# snapshot of the images among them.
inventory() {
    ( cd "$FX_DIR/img" && for f in *; do
          echo "file $f"
          echo "internal $f: $(internal_snaps "$f")"
      done )
    fx_inhost sh -c "ls -A '$store/fx1' 2>/dev/null" | sed 's/^/store /'
}
snaplist() {
    vok snapshot-list fx1 --name | sort | tr '\n' ' '
}
crash_at() {
    echo "crash $1" > "$faults"
}
no_crash() {
    : > "$faults"
}
# crash_op POINT VIRSH-ARGS...: the operation dies with libvirtd there,
# and libvirtd comes back
crash_op() {
    point=$1; shift
    crash_at "$point"
    : > "$faults.trace"
    if out=$(fx_virsh "$@" 2>&1); then
        fx_fail "virsh $* survived a crash at $point: $out"
    fi
    no_crash
    tail -n 1 "$faults.trace" | grep -qx "$point" || fx_fail "libvirtd did not reach $point: $(cat "$faults.trace")"
    "$FX_HOST" restart-libvirtd "$FX_DIR" || fx_fail "libvirtd did not restart"
}
cleanup_tool() {
    fx_inhost "$tool" cleanup -c "$FX_URI" "$@"
}
# check_cleanup: dry run lists exactly the removals that cleanup makes
# LEFTOVERS: the "remove file" lines are what disappears from inventory
check_cleanup() {
    before_inv=$(inventory)
    dry=$(cleanup_tool --dry-run fx1) || fx_fail "cleanup --dry-run: $dry"
    printf '%s\n' "$dry" | sed 's/^/    | /'
    [ "$(inventory)" = "$before_inv" ] || fx_fail "cleanup --dry-run changed something"
    out=$(cleanup_tool fx1) || fx_fail "cleanup: $out"
    [ "$(printf '%s\n' "$out" | grep -v '^dry run')" = "$(printf '%s\n' "$dry" | grep -v '^dry run')" ] ||
        fx_fail "cleanup did not do what its dry run said: $out"
    after_inv=$(inventory)
    # What vanished is exactly what the tool said it removes.
    gone=$(printf '%s\n' "$before_inv" | grep '^file \|^store ' | while read -r kind f; do
               printf '%s\n' "$after_inv" | grep -qx "$kind $f" || echo "$f"
           done | sort)
    said=$( { printf '%s\n' "$out" | sed -n "s/^  remove file \([^ ]*\) .*/\1/p; s/^  remove journal \(.*\)/\1/p; s/^  remove the metadata of snapshot '\([^']*\)'.*/\1.xml/p"; } |
            xargs -r -n1 basename | sort)
    [ "$gone" = "$said" ] || fx_fail "cleanup removed [$gone], announced [$said]"
    # And the internal snapshots that vanished are exactly those it named.
    igone=$(printf '%s\n' "$before_inv" | sed -n 's/^internal \([^:]*\): \(.*\)/\1 \2/p' |
            while read -r f names; do
                now=$(printf '%s\n' "$after_inv" | sed -n "s/^internal $f: //p")
                for n in $names; do
                    case " $now " in *" $n "*) ;; *) echo "$n@$f" ;; esac
                done
            done | sort)
    isaid=$(printf '%s\n' "$out" | sed -n "s/^  delete internal snapshot '\([^']*\)' of \([^ ]*\).*/\1 \2/p" |
            while read -r n f; do echo "$n@$(basename "$f")"; done | sort)
    [ "$igone" = "$isaid" ] || fx_fail "cleanup deleted internal snapshots [$igone], announced [$isaid]"
    again=$(cleanup_tool fx1) || fx_fail "second cleanup: $again"
    printf '%s\n' "$again" | grep -q "no interrupted snapshot operation" ||
        fx_fail "a second cleanup still found work: $again"
}
# journal_reported OP SNAPSHOT: the store and libvirtd's log report it
journal_reported() {
    out=$(fx_inhost "$tool" list fx1 2>&1 >/dev/null)
    case $out in *"snapshot operation '$1' on snapshot '$2' was interrupted"*"virt-xen-snapshot cleanup fx1"*) ;;
        *) fx_fail "the store does not report the interrupted $1 of $2: $out" ;;
    esac
    grep -q "warning : .*snapshot operation '$1' on snapshot '$2' was interrupted" "$FX_DIR/log/libvirtd.log" ||
        fx_fail "libvirtd's log does not report the interrupted $1 of $2"
}

domain_xml() {
    {
        echo "<domain type='xen'><name>fx1</name>"
        echo "<uuid>5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f70</uuid>"
        echo "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        echo "<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>"
        echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        echo "<source file='$FX_DIR/img/disk0.qcow2'/><target dev='xvda' bus='xen'/></disk>"
        echo "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        echo "<source file='$FX_DIR/img/disk1.raw'/><target dev='xvdb' bus='xen'/></disk>"
        echo "</devices></domain>"
    } > "$FX_DIR/fx1.xml"
}

fx_step "define and start fx1 (qcow2 xvda, raw xvdb)"
mkdir -p "$FX_DIR/img"
qemu-img create -q -f qcow2 "$FX_DIR/img/disk0.qcow2" 32M || fx_fail "qemu-img"
qemu-img create -q -f raw "$FX_DIR/img/disk1.raw" 16M || fx_fail "qemu-img"
domain_xml
vok define "$FX_DIR/fx1.xml" >/dev/null
vok start fx1 >/dev/null
write fx1 xvda 0x11 0 64k
write fx1 xvdb 0x12 1M 4k
fx_ctl mem-write fx1 0 "memory-one" || fx_fail "mem-write"

# Every pattern written so far, as "DEV PATTERN OFFSET LEN" lines.
written="xvda 0x11 0 64k
xvdb 0x12 1M 4k"
check_disks() {
    for d in xvda xvdb; do
        f=$(disk_image fx1 $d)
        [ -n "$f" ] || { echo "$d has no image"; return; }
        fmt=$(fmt_of "$f")
        printf '%s\n' "$written" | while read -r dev pat off len; do
            [ "$dev" = "$d" ] || continue
            has "$fmt" "$f" "$pat" "$off" "$len" || { echo "$dev $pat $off $len in $f"; break; }
        done
    done
}
expect_disks() {
    bad=$(check_disks)
    [ -z "$bad" ] || fx_fail "$1: the disk lost a pattern written before: $bad"
}

fx_step "crash at create:disks (memory saved, domain suspended)"
list0=$(snaplist)
crash_op create:disks snapshot-create-as fx1 m1 --diskspec xvda,snapshot=internal
expect_disks "after the crash"
state=$(fx_virsh domstate fx1)
echo "    domain state after libvirtd came back: $state"
[ "$(snaplist)" = "$list0" ] || fx_fail "snapshot list changed: $(snaplist)"
journal_reported create m1
fx_inhost "$tool" doctor -c "$FX_URI" | grep -q "interrupted snapshot operation of domain 'fx1'" ||
    fx_fail "doctor does not list the journal"
if out=$(fx_virsh snapshot-create-as fx1 x1 --disk-only 2>&1); then
    fx_fail "a snapshot was created while a journal is pending: $out"
fi
case $out in *"read-only until this is resolved"*"was interrupted"*) ;;
    *) fx_fail "create with a pending journal: $out" ;; esac
# Every call reads the tree again, but the log says it once.
n=$(grep -c "warning : .*snapshot operation 'create' on snapshot 'm1' was interrupted" "$FX_DIR/log/libvirtd.log")
[ "$n" = 1 ] || fx_fail "libvirtd logged the interrupted create $n times"
check_cleanup
fx_inhost test -e "$store/fx1/m1.save" && fx_fail "the memory image of m1 stayed"
fx_expect_state fx1 running
[ "$(mem fx1 10)" = "memory-one" ] || fx_fail "guest memory after cleanup: $(mem fx1 10)"
expect_disks "after cleanup"
vok snapshot-create-as fx1 m1 --diskspec xvda,snapshot=internal >/dev/null
fx_expect_state fx1 running
[ "$(snaplist)" = "m1 " ] || fx_fail "m1 not created after cleanup: $(snaplist)"

fx_step "crash at create:resume (disk-only: internal xvda, external xvdb; paused)"
write fx1 xvda 0x21 64k 64k
write fx1 xvdb 0x22 2M 4k
written="$written
xvda 0x21 64k 64k
xvdb 0x22 2M 4k"
crash_op create:resume snapshot-create-as fx1 d1 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.d1"
expect_disks "after the crash"
echo "    domain state after libvirtd came back: $(fx_virsh domstate fx1)"
[ "$(snaplist)" = "m1 " ] || fx_fail "snapshot list changed: $(snaplist)"
journal_reported create d1
check_cleanup
fx_expect_state fx1 running
case " $(internal_snaps "$FX_DIR/img/disk0.qcow2")" in *" d1 "*) fx_fail "internal snapshot d1 left in disk0" ;; esac
[ "$(served fx1 xvdb)" = "$FX_DIR/img/disk1.d1" ] || fx_fail "xvdb left its overlay: $(served fx1 xvdb)"
vok dumpxml fx1 --inactive | grep -q "$FX_DIR/img/disk1.d1'" || fx_fail "the persistent config does not follow xvdb to its overlay"
expect_disks "after cleanup"
vok snapshot-create-as fx1 d1 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.d1b" >/dev/null
fx_expect_state fx1 running
[ "$(snaplist)" = "d1 m1 " ] || fx_fail "d1 not created after cleanup: $(snaplist)"

fx_step "crash at create:config (offline: internal xvda, external xvdb)"
vok destroy fx1 >/dev/null
crash_op create:config snapshot-create-as fx1 o1 \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.o1"
expect_disks "after the crash"
[ "$(snaplist)" = "d1 m1 " ] || fx_fail "snapshot list changed: $(snaplist)"
journal_reported create o1
check_cleanup
case " $(internal_snaps "$FX_DIR/img/disk0.qcow2")" in *" o1 "*) fx_fail "internal snapshot o1 left in disk0" ;; esac
expect_disks "after cleanup"
vok snapshot-create-as fx1 o1 \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.o1b" >/dev/null
[ "$(snaplist)" = "d1 m1 o1 " ] || fx_fail "o1 not created after cleanup: $(snaplist)"

fx_step "crash at revert:config (to d1, the domain running)"
vok start fx1 >/dev/null
crash_op revert:config snapshot-revert fx1 d1 --running --force
echo "    domain state after libvirtd came back: $(fx_virsh domstate fx1)"
expect_disks "after the crash"
[ "$(snaplist)" = "d1 m1 o1 " ] || fx_fail "snapshot list changed: $(snaplist)"
journal_reported revert d1
check_cleanup
fx_inhost test -e "$FX_DIR/img/disk1.d1-1" && fx_fail "the overlay of the interrupted revert stayed"
vok snapshot-revert fx1 d1 --running --force >/dev/null
fx_expect_state fx1 running
[ "$(served fx1 xvdb)" = "$FX_DIR/img/disk1.d1-1" ] || fx_fail "xvdb after the revert: $(served fx1 xvdb)"
[ "$(vok snapshot-current fx1 --name)" = d1 ] || fx_fail "d1 is not current after the revert"
expect_disks "after the revert"

fx_step "crash at delete:config (external merge, internal delete)"
vok snapshot-create-as fx1 e1 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.e1" >/dev/null
write fx1 xvda 0x31 128k 64k
write fx1 xvdb 0x32 3M 4k
written="$written
xvda 0x31 128k 64k
xvdb 0x32 3M 4k"
crash_op delete:config snapshot-delete fx1 e1
expect_disks "after the crash"
[ "$(snaplist)" = "d1 e1 m1 o1 " ] || fx_fail "snapshot list changed: $(snaplist)"
journal_reported delete e1
check_cleanup
[ "$(snaplist)" = "d1 m1 o1 " ] || fx_fail "the delete of e1 was not completed: $(snaplist)"
vok dumpxml fx1 --inactive | grep -q "$FX_DIR/img/disk1.d1-1'" || fx_fail "the persistent config does not follow the merge"
expect_disks "after cleanup"
vok snapshot-create-as fx1 e2 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.e2" >/dev/null
vok snapshot-delete fx1 e2 >/dev/null
[ "$(served fx1 xvdb)" = "$FX_DIR/img/disk1.d1-1" ] || fx_fail "xvdb after deleting e2: $(served fx1 xvdb)"
expect_disks "after deleting e2"

fx_step "crash at delete:metadata (internal)"
vok snapshot-create-as fx1 i1 --disk-only --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=no >/dev/null
crash_op delete:metadata snapshot-delete fx1 i1
expect_disks "after the crash"
[ "$(snaplist)" = "d1 i1 m1 o1 " ] || fx_fail "snapshot list changed: $(snaplist)"
journal_reported delete i1
check_cleanup
[ "$(snaplist)" = "d1 m1 o1 " ] || fx_fail "the delete of i1 was not completed: $(snaplist)"
vok snapshot-create-as fx1 i1 --disk-only --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=no >/dev/null
vok snapshot-delete fx1 i1 >/dev/null
[ "$(snaplist)" = "d1 m1 o1 " ] || fx_fail "i1 was not deleted again: $(snaplist)"
expect_disks "after deleting i1"

fx_step "crash at revert:metadata (to m1: memory restored)"
fx_ctl mem-write fx1 0 "memory-two" || fx_fail "mem-write"
crash_op revert:metadata snapshot-revert fx1 m1
# The revert itself went through: the disks are back to what they held
# at m1, and the later patterns are gone, as a revert is meant to do.
written="xvda 0x11 0 64k
xvdb 0x12 1M 4k"
expect_disks "after the crash"
fx_expect_state fx1 running
[ "$(mem fx1 10)" = "memory-one" ] || fx_fail "guest memory after the revert: $(mem fx1 10)"
[ "$(snaplist)" = "d1 m1 o1 " ] || fx_fail "snapshot list changed: $(snaplist)"
journal_reported revert m1
check_cleanup
[ "$(vok snapshot-current fx1 --name)" = m1 ] || fx_fail "cleanup did not mark m1 current"
[ "$(served fx1 xvdb)" = "$FX_DIR/img/disk1.m1-1" ] || fx_fail "xvdb after cleanup: $(served fx1 xvdb)"
vok snapshot-revert fx1 d1 --running --force >/dev/null
vok snapshot-revert fx1 m1 >/dev/null
[ "$(vok snapshot-current fx1 --name)" = m1 ] || fx_fail "m1 is not current after reverting again"
expect_disks "at the end"

# The remaining points, each the same way: the crash loses no disk data
# and changes no snapshot list; the journal is reported; cleanup does what
# its dry run said; then the operation runs again.
# crash_case POINT OP SNAP ARGS...: OP is create, revert or delete
crash_case() {
    point=$1; op=$2; snap=$3; shift 3
    list=$(snaplist)
    crash_op "$point" "$@"
    echo "    domain state after libvirtd came back: $(fx_virsh domstate fx1)"
    expect_disks "after a crash at $point"
    [ "$(snaplist)" = "$list" ] || fx_fail "a crash at $point changed the snapshot list: $(snaplist)"
    journal_reported "$op" "$snap"
    check_cleanup
    expect_disks "after the cleanup of a crash at $point"
}

fx_step "crash at create:memory (before the save)"
crash_case create:memory create g1 snapshot-create-as fx1 g1 \
    --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=internal
fx_expect_state fx1 running
fx_inhost test -e "$store/fx1/g1.save" && fx_fail "the memory image of g1 stayed"
[ "$(mem fx1 10)" = "memory-one" ] || fx_fail "guest memory after cleanup: $(mem fx1 10)"
vok snapshot-create-as fx1 g1 --diskspec xvda,snapshot=internal \
    --diskspec xvdb,snapshot=internal >/dev/null

fx_step "crash at create:pause (disk-only, before the pause)"
crash_case create:pause create g2 snapshot-create-as fx1 g2 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=no
fx_expect_state fx1 running
case " $(internal_snaps "$FX_DIR/img/disk0.qcow2")" in *" g2 "*) fx_fail "internal snapshot g2 left in disk0" ;; esac
vok snapshot-create-as fx1 g2 --disk-only --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=no >/dev/null

fx_step "crash at create:metadata (disks taken, config updated)"
crash_case create:metadata create g3 snapshot-create-as fx1 g3 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.g3"
fx_expect_state fx1 running
case " $(internal_snaps "$FX_DIR/img/disk0.qcow2")" in *" g3 "*) fx_fail "internal snapshot g3 left in disk0" ;; esac
vok snapshot-create-as fx1 g3 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$FX_DIR/img/disk1.g3b" >/dev/null
[ "$(snaplist)" = "d1 g1 g2 g3 m1 o1 " ] || fx_fail "g1..g3 not all created: $(snaplist)"

fx_step "crash at delete:disk (before the first disk)"
crash_case delete:disk delete g2 snapshot-delete fx1 g2
vok snapshot-delete fx1 g2 >/dev/null
vok snapshot-list fx1 --name | grep -qx g2 && fx_fail "g2 was not deleted after cleanup"
case " $(internal_snaps "$FX_DIR/img/disk0.qcow2")" in *" g2 "*) fx_fail "internal snapshot g2 left in disk0" ;; esac

fx_step "crash at delete:memory (disks done, memory image not yet)"
# g1's xvdb snapshot is inside what is now a backing image of the running
# disk (g3 froze it), which QEMU holds read-only: refused up front.
vfail "is a backing image of the running disk" snapshot-delete fx1 g1
case " $(internal_snaps "$FX_DIR/img/disk0.qcow2")" in *" g1 "*) ;; *) fx_fail "a refused delete removed g1 from disk0" ;; esac
vok snapshot-list fx1 --name | grep -qx g1 || fx_fail "a refused delete removed g1"
vok snapshot-create-as fx1 g4 --diskspec xvda,snapshot=internal \
    --diskspec xvdb,snapshot=internal >/dev/null
crash_case delete:memory delete g4 snapshot-delete fx1 g4
if vok snapshot-list fx1 --name | grep -qx g4; then
    vok snapshot-delete fx1 g4 >/dev/null
fi
vok snapshot-list fx1 --name | grep -qx g4 && fx_fail "g4 was not deleted"
fx_inhost test -e "$store/fx1/g4.save" && fx_fail "the memory image of g4 stayed"

fx_step "crash at revert:stop, revert:start (to d1, --running --force)"
for point in revert:stop revert:start; do
    fx_expect_state fx1 running
    crash_case "$point" revert d1 snapshot-revert fx1 d1 --running --force
    vok snapshot-revert fx1 d1 --running --force >/dev/null
    fx_expect_state fx1 running
    [ "$(vok snapshot-current fx1 --name)" = d1 ] || fx_fail "d1 is not current after the revert"
    written="xvda 0x11 0 64k
xvdb 0x12 1M 4k
xvda 0x21 64k 64k
xvdb 0x22 2M 4k"
    expect_disks "after the revert to d1"
done

fx_step "crash at revert:disks, revert:restore (to m1, memory)"
for point in revert:disks revert:restore; do
    crash_case "$point" revert m1 snapshot-revert fx1 m1
    vok snapshot-revert fx1 m1 >/dev/null
    fx_expect_state fx1 running
    [ "$(mem fx1 10)" = "memory-one" ] || fx_fail "guest memory after the revert: $(mem fx1 10)"
    written="xvda 0x11 0 64k
xvdb 0x12 1M 4k"
    expect_disks "after the revert to m1"
done

out=$(cleanup_tool --all) || fx_fail "cleanup --all: $out"
[ "$out" = "domain 'fx1': no interrupted snapshot operation" ] || fx_fail "cleanup --all: $out"
fx_step ""
