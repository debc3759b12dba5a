#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# virt-xen-snapshot clone end to end: a private libvirtd on the simulated
# Xen host loads the wrapper module; a gold domain gets a disk pattern and
# a memory marker and a snapshot, then linked clones are made from it:
# defined only, started, and restored from its memory (N=3, and once
# through a copied image). Each clone's disks are proven from its served
# image chain with qemu-io (exit status and failure text), its memory
# with fakexen-ctl; the clones are independent of each other, the gold
# images never change, the gold snapshot is protected while clones use
# it, and every refusal leaves nothing behind.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper

# A fault file known to libvirtd and the tool from the start (empty:
# inert), for the steps that pause a delete or a clone half-way.
FAULT_DIR=$(mktemp -d /tmp/xsnap-clone.XXXXXX) || fx_fail "mktemp"
F=$FAULT_DIR/faults
: > "$F"
XSNAP_FAULT_FILE=$F
export XSNAP_FAULT_FILE

fx_step "start the simulated host with the wrapper module"
fx_setup
trap 'rc=$?; rm -rf "$FAULT_DIR"; (exit $rc); fx_cleanup' EXIT
tool=$abs_top_builddir/tools/virt-xen-snapshot

# The tool runs inside the host, where libvirtd's store (/var/lib/...) is.
clone() {
    fx_inhost "$tool" clone -c "$FX_URI" "$@"
}
# clone_fails WANT ARGS: the clone command fails, saying WANT.
clone_fails() {
    want=$1; shift
    if out=$(clone "$@" 2>&1); then
        fx_fail "clone $* succeeded: $out"
    fi
    case $out in
        *"$want"*) ;;
        *) fx_fail "clone $*: expected '$want', got: $out" ;;
    esac
}

# img_has FMT FILE PATTERN OFFSET LEN: the image (its whole chain, read
# from outside) holds PATTERN there. qemu-io prints "read N/N bytes" even
# after a failed verification, so its status and the failure text count.
img_has() {
    out=$(qemu-io -r -U -f "$1" -c "read -P $3 $4 $5" "$2" 2>&1) || return 1
    case $out in
        *"Pattern verification failed"*|*rror*) return 1 ;;
        *"read $5/$5 bytes"*|*"read "*) return 0 ;;
    esac
    return 1
}
img_fmt() {
    qemu-img info -U --output=json "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])'
}
# dev_has DOM DEV PATTERN OFFSET LEN: what DOM's disk DEV holds now
dev_has() {
    f=$(served "$1" "$2")
    [ -n "$f" ] && [ "$f" != None ] || return 1
    img_has "$(img_fmt "$f")" "$f" "$3" "$4" "$5"
}
mem_is() {
    [ "$(fx_ctl mem-read "$1" "$2" "${#3}" 2>/dev/null)" = "$3" ]
}
backing_of() {
    qemu-img info -U --output=json "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("backing-filename", ""))'
}
# What must not change: the domains, and the files in the image folders.
inventory() {
    {
        fx_virsh list --all --name | sort
        fx_inhost ls -a "$FX_DIR/img" "$FX_DIR/small"
    } | tr '\n' ' '
}
sums() {
    sha256sum "$FX_DIR/img/gold-a.qcow2" "$FX_DIR/img/gold-b.raw" | awk '{ print $1 }' | tr '\n' ' '
}
# pause_at POINT: the next operation to reach POINT waits there until
# resume; returns once one has.
pause_at() {
    : > "$F.trace"
    echo "pause $1" > "$F"
}
wait_paused() {
    for _ in $(seq 600); do
        grep -qx "$1" "$F.trace" 2>/dev/null && return 0
        sleep 0.05
    done
    fx_fail "nothing reached $1"
}
resume() {
    : > "$F"
}
macs_of() {
    fx_virsh dumpxml "$@" | sed -n "s/.*<mac address='\([^']*\)'.*/\1/p" | tr '\n' ' '
}

mkdir -p "$FX_DIR/img" "$FX_DIR/small" || fx_fail "mkdir"

fx_step "checkers catch a wrong pattern, a wrong marker, a change"
qemu-img create -q -f raw "$FX_DIR/check.raw" 1M || fx_fail "qemu-img"
img_has raw "$FX_DIR/check.raw" 0 0 4k || fx_fail "img_has misses zeros"
! img_has raw "$FX_DIR/check.raw" 0x61 0 4k || fx_fail "img_has takes zeros for 0x61"
! img_has raw "$FX_DIR/nothing.raw" 0 0 4k || fx_fail "img_has reads a missing file"
rm -f "$FX_DIR/check.raw"

fx_step "gold domain: two disks, a MAC, a fixed VNC port; pattern and marker"
qemu-img create -q -f qcow2 "$FX_DIR/img/gold-a.qcow2" 16M || fx_fail "qemu-img"
qemu-img create -q -f raw "$FX_DIR/img/gold-b.raw" 16M || fx_fail "qemu-img"
cat > "$FX_DIR/gold.xml" <<EOF
<domain type='xen'><name>gold</name>
<uuid>5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f01</uuid>
<memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$FX_DIR/img/gold-a.qcow2'/><target dev='xvda' bus='xen'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='$FX_DIR/img/gold-b.raw'/><target dev='xvdb' bus='xen'/></disk>
<interface type='ethernet'><mac address='00:16:3e:0a:0b:0c'/></interface>
<graphics type='vnc' port='5910' autoport='no'/>
</devices></domain>
EOF
vok define "$FX_DIR/gold.xml" >/dev/null
vok start gold >/dev/null
# An internal snapshot inside gold-a.qcow2, before the gold snapshot froze it.
vok snapshot-create-as gold i0 --disk-only --diskspec xvda,snapshot=internal \
    --diskspec xvdb,snapshot=no >/dev/null
write gold xvda 0x61 0 64k
write gold xvdb 0x62 0 64k
fx_ctl mem-write gold 4096 GOLDMARK || fx_fail "mem-write"

fx_step "the gold snapshot g1 (memory, external disks)"
vok snapshot-create-as gold g1 >/dev/null
[ "$(served gold xvda)" != "$FX_DIR/img/gold-a.qcow2" ] || fx_fail "gold is still on its base"
# The gold domain runs on: its own writes land in its overlays.
write gold xvda 0x6f 0 4k
fx_ctl mem-write gold 4096 GOLDNEXT || fx_fail "mem-write"
gold_sums=$(sums)
gold_macs=$(macs_of gold)

fx_step "refusals, each leaving nothing behind"
vok snapshot-create-as gold d1 --disk-only >/dev/null
before=$(inventory)
clone_fails "domain 'gold' already exists" gold g1 gold
[ "$(inventory)" = "$before" ] || fx_fail "a name in use left something: $(inventory) was $before"
clone_fails "is an internal snapshot" gold i0 x
[ "$(inventory)" = "$before" ] || fx_fail "an internal snapshot left something: $(inventory) was $before"
clone_fails "is disk-only" --restore gold d1 x
[ "$(inventory)" = "$before" ] || fx_fail "a disk-only snapshot left something: $(inventory) was $before"
clone_fails "not a directory" --dir "$FX_DIR/none" gold g1 x
[ "$(inventory)" = "$before" ] || fx_fail "a missing --dir left something: $(inventory) was $before"
# A shut-off domain with a phy disk: its snapshot has no memory either.
cat > "$FX_DIR/phy.xml" <<EOF
<domain type='xen'><name>phyd</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='$FX_DIR/img/phy-a.raw'/><target dev='xvda' bus='xen'/></disk>
<disk type='block' device='disk'><driver name='phy'/>
<source dev='/dev/vg0/lv0'/><target dev='xvdb' bus='xen'/></disk>
</devices></domain>
EOF
qemu-img create -q -f raw "$FX_DIR/img/phy-a.raw" 1M || fx_fail "qemu-img"
vok define "$FX_DIR/phy.xml" >/dev/null
vok snapshot-create-as phyd p0 --disk-only --diskspec xvdb,snapshot=no >/dev/null
before=$(inventory)
clone_fails "is a phy (blkback) or non-file disk ('/dev/vg0/lv0')" phyd p0 x
[ "$(inventory)" = "$before" ] || fx_fail "a phy disk left something: $(inventory) was $before"
# A shut-off domain's snapshot has no memory; its name is taken for later.
sed -e "s/<name>phyd</<name>x-2</" -e "/type='block'/,/<.disk>/d" "$FX_DIR/phy.xml" > "$FX_DIR/x2.xml"
vok define "$FX_DIR/x2.xml" >/dev/null
vok snapshot-create-as x-2 c0 >/dev/null
before=$(inventory)
clone_fails "(state 'shutoff') has no memory image" --restore x-2 c0 y
[ "$(inventory)" = "$before" ] || fx_fail "a refusal left something: $(inventory) was $before"
# A name in use part-way: x-2 exists, so x-1 must not be made either.
clone_fails "domain 'x-2' already exists" --count 3 --restore gold g1 x
[ "$(inventory)" = "$before" ] || fx_fail "a name in use left something: $(inventory)"

fx_step "a full disk half-way: every clone made so far is taken back"
fx_inhost mount -t tmpfs -o size=1536k tmpfs "$FX_DIR/small" || fx_fail "mount"
before=$(inventory)
# Two overlays (192 KiB each) per clone: the third clone's second fails.
clone_fails "No space left on device" --count 4 --start --dir "$FX_DIR/small" gold g1 full
[ "$(inventory)" = "$before" ] || fx_fail "a full disk left something: $(inventory) was $before"
# --restore through the FIFO: the stream's end waits for the overlays,
# so the failing qemu-img cuts the restore short; its error is the one.
clone_fails "No space left on device" --count 4 --restore --dir "$FX_DIR/small" gold g1 full
[ "$(inventory)" = "$before" ] || fx_fail "a full disk under --restore left something: $(inventory) was $before"
# The copied memory image (4 MiB here) does not fit: fails in the copy.
clone_fails "No space left on device" --restore --copy --dir "$FX_DIR/small" gold g1 full
[ "$(inventory)" = "$before" ] || fx_fail "a full disk in the copy left something: $(inventory)"
fx_inhost umount "$FX_DIR/small" || fx_fail "umount"
[ "$(sums)" = "$gold_sums" ] || fx_fail "a refusal changed the gold images"

fx_step "define only: one clone, shut off, on overlays over the frozen images"
clone gold g1 def >/dev/null || fx_fail "clone def"
fx_expect_state def "shut off"
x=$(fx_virsh dumpxml --inactive def)
echo "$x" | grep -q "<name>def</name>" || fx_fail "def: name"
echo "$x" | grep -q "5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f01" && fx_fail "def kept the gold UUID"
echo "$x" | grep -q "port='5910'" && fx_fail "def kept the fixed VNC port"
echo "$x" | grep -q "autoport='yes'" || fx_fail "def: graphics not autoport"
echo "$x" | grep -q "00:16:3e:0a:0b:0c" && fx_fail "def kept the gold MAC"
echo "$x" | grep -q "$FX_DIR/img/def-xvda.qcow2" || fx_fail "def: xvda overlay"
[ "$(backing_of "$FX_DIR/img/def-xvda.qcow2")" = "$FX_DIR/img/gold-a.qcow2" ] ||
    fx_fail "def-xvda does not rest on the frozen gold-a.qcow2"
[ "$(backing_of "$FX_DIR/img/def-xvdb.qcow2")" = "$FX_DIR/img/gold-b.raw" ] ||
    fx_fail "def-xvdb does not rest on the frozen gold-b.raw"
vok start def >/dev/null
dev_has def xvda 0x61 0 64k || fx_fail "def does not see the gold pattern"
dev_has def xvdb 0x62 0 64k || fx_fail "def does not see the gold pattern on xvdb"
mem_is def 4096 GOLDMARK && fx_fail "a booted clone has the snapshot's memory"

fx_step "--start: two clones booted"
clone --start --count 2 gold g1 st >/dev/null || fx_fail "clone --start"
for i in 1 2; do
    fx_expect_state st-$i running
    dev_has st-$i xvda 0x61 0 64k || fx_fail "st-$i does not see the gold pattern"
done

fx_step "--restore, N=3: each clone runs from the snapshot's memory"
out=$(clone --restore --count 3 gold g1 rc) || fx_fail "clone --restore: $out"
all_macs=$gold_macs
for i in 1 2 3; do
    fx_expect_state rc-$i running
    mem_is rc-$i 4096 GOLDMARK || fx_fail "rc-$i lacks the memory marker"
    dev_has rc-$i xvda 0x61 0 64k || fx_fail "rc-$i does not see the gold pattern"
    dev_has rc-$i xvdb 0x62 0 64k || fx_fail "rc-$i does not see the gold pattern on xvdb"
    [ "$(served rc-$i xvda)" = "$FX_DIR/img/rc-$i-xvda.qcow2" ] || fx_fail "rc-$i: xvda not on its overlay"
    fx_virsh dominfo rc-$i | grep -q "^Persistent: *yes" || fx_fail "rc-$i is not a persistent domain"
    m=$(macs_of rc-$i)
    case " $all_macs " in *" $m "*) fx_fail "rc-$i reuses MAC $m" ;; esac
    all_macs="$all_macs $m"
    [ "$(macs_of --inactive rc-$i)" = "$m" ] || fx_fail "rc-$i: live and persistent MACs differ"
done
[ "$(fx_virsh domuuid rc-1)" != "$(fx_virsh domuuid rc-2)" ] || fx_fail "two clones share a UUID"
fx_inhost sh -c "ls -a '$FX_DIR/img' | grep -q restore" && fx_fail "a FIFO was left behind"

fx_step "clones are independent of each other and of the gold"
for i in 1 2 3; do
    write rc-$i xvda 0x7$i 32k 4k
    fx_ctl mem-write rc-$i 8192 "CLONE$i" || fx_fail "mem-write"
done
# Each clone wrote another pattern at the same place: seeing exactly its
# own proves that no other clone's write reached it.
for i in 1 2 3; do
    dev_has rc-$i xvda 0x7$i 32k 4k || fx_fail "rc-$i does not see its own write"
    dev_has rc-$i xvda 0x61 0 32k || fx_fail "rc-$i lost the gold data"
    dev_has rc-$i xvda 0x61 36k 28k || fx_fail "rc-$i changed around its write"
    mem_is rc-$i 8192 "CLONE$i" || fx_fail "rc-$i does not hold its own memory"
    mem_is rc-$i 4096 GOLDMARK || fx_fail "rc-$i lost the marker"
done
dev_has gold xvda 0x6f 0 4k || fx_fail "the gold lost its own write"
dev_has gold xvda 0x61 32k 4k || fx_fail "a clone's write reached the gold"
mem_is gold 4096 GOLDNEXT || fx_fail "the gold's memory changed"
[ "$(sums)" = "$gold_sums" ] || fx_fail "the gold images changed"

fx_step "--restore --copy: through a copied image rewritten in place"
clone --restore --copy gold g1 cp >/dev/null || fx_fail "clone --restore --copy"
mem_is cp 4096 GOLDMARK || fx_fail "cp lacks the memory marker"
dev_has cp xvda 0x61 0 64k || fx_fail "cp does not see the gold pattern"
fx_inhost sh -c "ls -a '$FX_DIR/img' | grep -q '\.save'" && fx_fail "the copied image was left behind"

fx_step "--list shows every clone"
list=$(clone --list gold g1) || fx_fail "clone --list: $list"
for d in def st-1 st-2 rc-1 rc-2 rc-3 cp; do
    echo "$list" | grep -q "^$d [a-z-]* xvda $FX_DIR/img/$d-xvda.qcow2\$" || fx_fail "--list lacks $d: $list"
done
echo "$list" | grep -q "^rc-1 running xvdb " || fx_fail "--list lacks rc-1's xvdb: $list"
echo "$list" | grep -q "^gold " && fx_fail "--list shows the gold itself"

fx_step "the gold snapshot is protected while clones use it"
clones="cp def rc-1 rc-2 rc-3 st-1 st-2"
out=$(fx_virsh snapshot-delete gold g1 2>&1) && fx_fail "deleting g1 under its clones succeeded"
for d in $clones; do
    case $out in *"disk 'xvda' of domain '$d'"*) ;; *) fx_fail "the delete refusal does not name $d: $out" ;; esac
done
vok snapshot-list gold --name | grep -qx g1 || fx_fail "a refused delete dropped g1"
out=$(fx_virsh snapshot-revert gold i0 2>&1) && fx_fail "reverting i0 under the clones succeeded"
case $out in *"is also used by"*"disk 'xvda' of domain 'rc-2'"*) ;; *) fx_fail "the revert refusal does not name the clones: $out" ;; esac
[ "$(sums)" = "$gold_sums" ] || fx_fail "a refused operation changed the gold images"
for i in 1 2 3; do
    dev_has rc-$i xvda 0x61 0 32k || fx_fail "rc-$i lost the gold data"
done

fx_step "undefine the clones: the gold snapshot can go"
for d in $clones; do
    fx_virsh destroy "$d" >/dev/null 2>&1
    vok undefine "$d" >/dev/null
    rm -f "$FX_DIR/img/$d-xvda.qcow2" "$FX_DIR/img/$d-xvdb.qcow2"
done
[ -z "$(clone --list gold g1)" ] || fx_fail "--list still shows clones"
vok snapshot-delete gold d1 >/dev/null

fx_step "a delete while a clone is half-way is refused; the clone completes"
# The clone has read g1 and checked everything, and defined nothing yet:
# without the lock, nothing would protect g1's images from the delete.
pause_at clone:checked
clone gold g1 race > "$FX_DIR/race.out" 2>&1 &
race=$!
wait_paused clone:checked
vfail "another process is working on the snapshots in '/var/lib/libvirt/libxl/snapshot/gold' (virt-xen-snapshot clone or cleanup?)" snapshot-delete gold g1
resume
wait "$race" || fx_fail "the clone beside a refused delete failed: $(cat "$FX_DIR/race.out")"
vok snapshot-list gold --name | grep -qx g1 || fx_fail "the refused delete dropped g1"
[ "$(backing_of "$FX_DIR/img/race-xvda.qcow2")" = "$FX_DIR/img/gold-a.qcow2" ] ||
    fx_fail "race does not rest on the frozen gold-a.qcow2"
[ "$(sums)" = "$gold_sums" ] || fx_fail "the refused delete changed the gold images"
vfail "is also used by disk 'xvda' of domain 'race'" snapshot-delete gold g1
vok undefine race >/dev/null
rm -f "$FX_DIR/img/race-xvda.qcow2" "$FX_DIR/img/race-xvdb.qcow2"

fx_step "a clone while a delete is half-way waits, fails and makes nothing"
pause_at delete:disk
fx_virsh snapshot-delete gold g1 > "$FX_DIR/delete.out" 2>&1 &
del=$!
wait_paused delete:disk
before=$(inventory)
(
    XSNAP_LOCK_WAIT_MS=300
    export XSNAP_LOCK_WAIT_MS
    clone_fails "the snapshots of domain 'gold' are being created, reverted or deleted: nothing was cloned" gold g1 late
) || exit 1
[ "$(inventory)" = "$before" ] || fx_fail "a clone beside a delete left something: $(inventory) was $before"
resume
wait "$del" || fx_fail "the delete beside a refused clone failed: $(cat "$FX_DIR/delete.out")"
before=$(inventory)
clone_fails "cannot find snapshot" gold g1 late
[ "$(inventory)" = "$before" ] || fx_fail "a clone of a deleted snapshot left something: $(inventory)"
dev_has gold xvda 0x6f 0 4k || fx_fail "the gold lost its write in the merge"
fx_step "done"
