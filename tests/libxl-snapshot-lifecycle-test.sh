#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Snapshots meet the domain's lifecycle: after external snapshots of a
# running domain, every view of it (live XML, domblklist, libvirt's
# status file, the XML inside save and managed-save images) names what
# its device model serves, and save/restore, managedsave + start,
# shutdown + start, reboot, destroy + start, suspend/resume, libvirtd
# restarts and undefine lose nothing. Disk contents are proven with
# qemu-io patterns on the image the device model serves, and the frozen
# images are proven unchanged.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper

fx_step "start the simulated host with the wrapper module"
fx_setup
store=/var/lib/libvirt/libxl/snapshot
status=/run/libvirt/libxl

# has FMT FILE PATTERN OFFSET LEN: the image (read from outside) holds it
has() {
    fx_image_has "$@"
}
fmt_of() {
    qemu-img info -U --output=json "$1" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])'
}
# dev_has DOM DEV PATTERN OFFSET LEN: what the guest's disk holds now
dev_has() {
    f=$(served "$1" "$2")
    has "$(fmt_of "$f")" "$f" "$3" "$4" "$5"
}
expect_dev() {
    dev_has "$@" || fx_fail "disk $2 of $1 does not hold $3 at $4 (served: $(served "$1" "$2"))"
}
expect_served() {
    [ "$(served "$1" "$2")" = "$3" ] || fx_fail "$1 $2 is served from '$(served "$1" "$2")', expected '$3'"
}
# live_source DOM DEV [--inactive]: the source file of DEV in dumpxml
live_source() {
    dom=$1; dev=$2; shift 2
    fx_virsh domblklist "$dom" "$@" --details | awk -v d="$dev" '$3 == d { print $4 }'
}
expect_views() {
    # DOM DEV FILE: live XML, domblklist and the status file name FILE
    [ "$(live_source "$1" "$2")" = "$3" ] ||
        fx_fail "domblklist $1 names '$(live_source "$1" "$2")' for $2, expected '$3'"
    fx_inhost cat "$status/$1.xml" | grep -q "<source file='$3'" ||
        fx_fail "libvirt's status file of $1 does not name $3"
}
mem() {
    fx_ctl mem-read "$1" 0 "$2"
}

domain_xml() {
    # $1 name, $2 uuid suffix, then disks as "dev:fmt:file"
    name=$1; uu=$2; shift 2
    {
        echo "<domain type='xen'><name>$name</name>"
        echo "<uuid>6a1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f$uu</uuid>"
        echo "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        echo "<os><type arch='x86_64' machine='xenfv'>hvm</type></os>"
        echo "<on_reboot>restart</on_reboot><devices>"
        for d in "$@"; do
            dev=${d%%:*}; rest=${d#*:}; fmt=${rest%%:*}; file=${rest#*:}
            echo "<disk type='file' device='disk'><driver name='qemu' type='$fmt'/>"
            echo "<source file='$file'/><target dev='$dev' bus='xen'/></disk>"
        done
        echo "</devices></domain>"
    } > "$FX_DIR/$name.xml"
}

fx_step "define and start lc (qcow2 xvda, raw xvdb)"
qemu-img create -q -f qcow2 "$FX_DIR/a.qcow2" 32M || fx_fail "qemu-img"
qemu-img create -q -f raw "$FX_DIR/b.raw" 16M || fx_fail "qemu-img"
domain_xml lc 10 "xvda:qcow2:$FX_DIR/a.qcow2" "xvdb:raw:$FX_DIR/b.raw"
vok define "$FX_DIR/lc.xml" >/dev/null
vok start lc >/dev/null
write lc xvda 0x11 0 64k
write lc xvdb 0x21 0 64k

fx_step "disk-only snapshot e1: disks default to external"
vok snapshot-create-as lc e1 --disk-only >/dev/null
expect_served lc xvda "$FX_DIR/a.e1"
expect_served lc xvdb "$FX_DIR/b.e1"
vok snapshot-dumpxml lc e1 | grep -q "<disk name='xvda' snapshot='external'" ||
    fx_fail "xvda of e1 is not external"

fx_step "every view names the overlays, with their backing chain"
expect_views lc xvda "$FX_DIR/a.e1"
expect_views lc xvdb "$FX_DIR/b.e1"
[ "$(live_source lc xvda --inactive)" = "$FX_DIR/a.e1" ] || fx_fail "persistent xvda"
live=$(vok dumpxml lc)
printf '%s\n' "$live" | /usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
dom = ET.fromstring(sys.stdin.read())
want = {"xvda": [("a.e1", "qcow2"), ("a.qcow2", "qcow2")],
        "xvdb": [("b.e1", "qcow2"), ("b.raw", "raw")]}
for disk in dom.findall("devices/disk"):
    dev = disk.find("target").get("dev")
    chain = [(disk.find("source").get("file").rsplit("/", 1)[1],
              disk.find("driver").get("type"))]
    b = disk.find("backingStore")
    while b is not None and b.get("type"):
        chain.append((b.find("source").get("file").rsplit("/", 1)[1],
                      b.find("format").get("type")))
        b = b.find("backingStore")
    if b is None:
        sys.exit("disk %s: the chain has no end" % dev)
    if chain != want[dev]:
        sys.exit("disk %s: chain %s, expected %s" % (dev, chain, want[dev]))
' || fx_fail "the live backing chain is wrong"

fx_step "save/restore keeps the guest on its overlays"
write lc xvda 0x12 0 64k
write lc xvdb 0x22 0 64k
fx_ctl mem-write lc 0 "after-e1" >/dev/null
vok save lc "$FX_DIR/lc.save" >/dev/null
img=$(vok save-image-dumpxml "$FX_DIR/lc.save")
printf '%s\n' "$img" | grep -q "<source file='$FX_DIR/a.e1'" ||
    fx_fail "the save image's XML does not name the overlay: $img"
vok restore "$FX_DIR/lc.save" >/dev/null
expect_served lc xvda "$FX_DIR/a.e1"
expect_served lc xvdb "$FX_DIR/b.e1"
[ "$(mem lc 8)" = "after-e1" ] || fx_fail "memory after restore: $(mem lc 8)"
expect_dev lc xvda 0x12 0 64k
expect_dev lc xvdb 0x22 0 64k
write lc xvda 0x13 0 64k
has qcow2 "$FX_DIR/a.qcow2" 0x11 0 64k || fx_fail "the frozen a.qcow2 changed"
has raw "$FX_DIR/b.raw" 0x21 0 64k || fx_fail "the frozen b.raw changed"
expect_views lc xvda "$FX_DIR/a.e1"

fx_step "managedsave + start keeps the guest on its overlays"
vok managedsave lc >/dev/null
fx_expect_state lc "shut off"
vok managedsave-dumpxml lc | grep -q "<source file='$FX_DIR/b.e1'" ||
    fx_fail "the managed-save image's XML does not name the overlay"
vok start lc >/dev/null
expect_served lc xvda "$FX_DIR/a.e1"
expect_dev lc xvda 0x13 0 64k
has qcow2 "$FX_DIR/a.qcow2" 0x11 0 64k || fx_fail "the frozen a.qcow2 changed"

fx_step "libvirtd restart while running keeps the truth"
"$FX_HOST" restart-libvirtd "$FX_DIR" >/dev/null || fx_fail "restart"
expect_views lc xvda "$FX_DIR/a.e1"
vok save lc "$FX_DIR/lc2.save" >/dev/null
vok restore "$FX_DIR/lc2.save" >/dev/null
expect_served lc xvda "$FX_DIR/a.e1"
expect_dev lc xvda 0x13 0 64k

fx_step "a second external snapshot e2 with memory, then suspend/resume"
vok snapshot-create-as lc e2 >/dev/null
expect_served lc xvda "$FX_DIR/a.e2"
expect_views lc xvda "$FX_DIR/a.e2"
vok dumpxml lc | grep -q "<source file='$FX_DIR/a.e1'" || fx_fail "e1 is not in the live chain"
vok suspend lc >/dev/null
vok resume lc >/dev/null
write lc xvda 0x14 0 64k
expect_dev lc xvda 0x14 0 64k

fx_step "guest reboot, shutdown + start, destroy + start"
before=$(fx_ctl domid lc)
fx_ctl shutdown lc reboot >/dev/null
for i in $(seq 1 100); do
    now=$(fx_ctl domid lc 2>/dev/null) || now=
    [ -n "$now" ] && [ "$now" != "$before" ] &&
        [ "$(fx_virsh domstate lc 2>/dev/null)" = running ] && break
    sleep 0.1
done
[ "$now" != "$before" ] || fx_fail "the guest's reboot did not make a new domain"

fx_expect_state lc running
expect_served lc xvda "$FX_DIR/a.e2"
expect_dev lc xvda 0x14 0 64k
vok shutdown lc >/dev/null
for i in $(seq 1 100); do
    [ "$(fx_virsh domstate lc 2>/dev/null)" = "shut off" ] && break
    sleep 0.1
done
fx_expect_state lc "shut off"
vok start lc >/dev/null
expect_served lc xvda "$FX_DIR/a.e2"
expect_dev lc xvda 0x14 0 64k
vok destroy lc >/dev/null
vok start lc >/dev/null
expect_served lc xvda "$FX_DIR/a.e2"
expect_views lc xvda "$FX_DIR/a.e2"

fx_step "libvirtd restart while off"
vok destroy lc >/dev/null
"$FX_HOST" restart-libvirtd "$FX_DIR" >/dev/null || fx_fail "restart"
[ "$(vok snapshot-list lc --name | tr '\n' ' ')" = "e1 e2 " ] || fx_fail "list after restart"
vok start lc >/dev/null
expect_served lc xvda "$FX_DIR/a.e2"
expect_dev lc xvda 0x14 0 64k

fx_step "migration is refused while the domain has snapshots"
vfail "cannot migrate domain with 2 snapshots" migrate --p2p lc "xen+unix:///system?socket=$FX_DIR/nowhere"
vfail "cannot migrate domain with 2 snapshots" migrate lc "$FX_URI"
fx_expect_state lc running

fx_step "delete e2 (running, by commit): the views follow the merge"
vok snapshot-delete lc e2 >/dev/null
expect_served lc xvda "$FX_DIR/a.e1"
expect_views lc xvda "$FX_DIR/a.e1"
expect_dev lc xvda 0x14 0 64k
vok save lc "$FX_DIR/lc3.save" >/dev/null
vok restore "$FX_DIR/lc3.save" >/dev/null
expect_served lc xvda "$FX_DIR/a.e1"
expect_dev lc xvda 0x14 0 64k

fx_step "a managed-save image: snapshots and merges that would bypass it are refused"
write lc xvda 0x15 0 64k
vok snapshot-create-as lc k1 --disk-only --diskspec xvda,snapshot=internal \
    --diskspec xvdb,snapshot=no >/dev/null
vok managedsave lc >/dev/null
vfail "has a managed save image that runs on its overlay" snapshot-delete lc e1
# The child's delete would pass: it must not happen before e1's refusal.
vfail "has a managed save image that runs on its overlay" snapshot-delete lc e1 --children
[ "$(vok snapshot-list lc --name | tr '\n' ' ')" = "e1 k1 " ] || fx_fail "a refused delete changed the list"
vfail "has a managed save image that runs on its image" snapshot-create-as lc x1 --disk-only
vok snapshot-create-as lc k2 --disk-only --diskspec xvda,snapshot=internal \
    --diskspec xvdb,snapshot=no >/dev/null
vok start lc >/dev/null
expect_served lc xvda "$FX_DIR/a.e1"
expect_dev lc xvda 0x15 0 64k
vok snapshot-delete lc k1 >/dev/null
vok snapshot-delete lc k2 >/dev/null
[ "$(vok snapshot-list lc --name | tr '\n' ' ')" = "e1 " ] || fx_fail "list: $(fx_virsh snapshot-list lc --name)"

fx_step "revert to e1 (disk-only) with --force: fresh overlays, every view follows"
vok snapshot-revert lc e1 --running --force >/dev/null
a=$(served lc xvda)
case $a in "$FX_DIR/a.e1"-*) ;; *) fx_fail "xvda after revert is served from $a" ;; esac
expect_views lc xvda "$a"
expect_dev lc xvda 0x11 0 64k
expect_dev lc xvdb 0x21 0 64k

fx_step "revert with memory over a managed-save image drops that stale image"
vok snapshot-create-as lc m0 >/dev/null
fx_ctl mem-write lc 0 "at-m0" >/dev/null
vok snapshot-create-as lc m0b >/dev/null
write lc xvda 0x16 0 64k
vok managedsave lc >/dev/null
vok snapshot-revert lc m0b >/dev/null
fx_expect_state lc running
vok dominfo lc | grep -q "^Managed save: *no" || fx_fail "the stale managed save image stayed"
[ "$(mem lc 5)" = "at-m0" ] || fx_fail "memory after the revert to m0b: $(mem lc 5)"
expect_dev lc xvda 0x11 0 64k
vok snapshot-delete lc m0b >/dev/null
vok snapshot-delete lc m0 >/dev/null

fx_step "a revert leaves a disk the snapshot did not take on the image it has now"
vok snapshot-create-as lc n1 --disk-only --diskspec xvda,snapshot=no >/dev/null
a_now=$(served lc xvda)
write lc xvda 0x17 0 64k
vok snapshot-create-as lc n2 --diskspec xvda,snapshot=external \
    --diskspec xvdb,snapshot=external >/dev/null
expect_served lc xvda "$FX_DIR/a.n2"
write lc xvda 0x18 0 64k
vok snapshot-revert lc n1 --running --force >/dev/null
# n2 froze the image xvda had at n1: the disk must not go back to it.
expect_served lc xvda "$FX_DIR/a.n2"
expect_dev lc xvda 0x18 0 64k
write lc xvda 0x19 0 64k
has qcow2 "$a_now" 0x17 0 64k || fx_fail "the image n2 froze changed"
vok snapshot-revert lc n2 >/dev/null
expect_dev lc xvda 0x17 0 64k
vok snapshot-delete lc n1 --children >/dev/null

fx_step "undefine --snapshots-metadata --managed-save removes what the driver made"
vok snapshot-create-as lc m1 >/dev/null
fx_inhost test -f "$store/lc/m1.save" || fx_fail "no memory image for m1"
vok managedsave lc >/dev/null
vfail "cannot delete inactive domain with 2 snapshots" undefine lc --managed-save
vok undefine lc --snapshots-metadata --managed-save >/dev/null
fx_inhost test -e "$store/lc/m1.save" && fx_fail "the memory image of m1 is left behind"
fx_inhost test -e "$store/lc/m1.xml" && fx_fail "the metadata of m1 is left behind"
has qcow2 "$FX_DIR/a.qcow2" 0x11 0 64k || fx_fail "a.qcow2 changed"

fx_step "a stale default memory image is never overwritten nor in the way"
vok define "$FX_DIR/lc.xml" >/dev/null
vok start lc >/dev/null
fx_inhost sh -c "mkdir -p $store/lc && echo stale > $store/lc/m2.save"
vok snapshot-create-as lc m2 --diskspec xvda,snapshot=no --diskspec xvdb,snapshot=no >/dev/null
[ "$(fx_inhost cat "$store/lc/m2.save")" = stale ] || fx_fail "the stale image was overwritten"
vok snapshot-dumpxml lc m2 | grep -q "file='$store/lc/m2-1.save'" ||
    fx_fail "m2 does not use the next free image name"
vok snapshot-delete lc m2 >/dev/null
fx_inhost test -e "$store/lc/m2-1.save" && fx_fail "deleting m2 left its memory image"
[ "$(fx_inhost cat "$store/lc/m2.save")" = stale ] || fx_fail "deleting m2 removed a file it did not make"
vok destroy lc >/dev/null
vok undefine lc >/dev/null
fx_inhost sh -c "ls $store/lc/*.save" 2>/dev/null && fx_fail "undefine left memory images in the store"

fx_step "done"
fx_step ""
