#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Snapshot operations end to end: a private libvirtd on the simulated Xen
# host loads the wrapper module, and real virsh creates, reverts to and
# deletes snapshots of domains whose disks a real QEMU device model
# serves. Disk contents are proven with qemu-io patterns, guest memory
# with fakexen-ctl.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper

fx_step "start the simulated host with the wrapper module"
fx_setup
store=/var/lib/libvirt/libxl/snapshot

# has FMT FILE PATTERN OFFSET LEN: the image (read from outside) holds it
has() {
    fx_image_has "$@"
}
# dev_has DOM DEV PATTERN OFFSET LEN: what the guest's disk holds now
dev_has() {
    f=$(served "$1" "$2")
    fmt=$(qemu-img info -U --output=json "$f" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')
    has "$fmt" "$f" "$3" "$4" "$5"
}
internal_snaps() {
    qemu-img snapshot -U -l "$1" 2>/dev/null | awk 'NR > 2 { print $2 }' | tr '\n' ' '
}
mem() {
    fx_ctl mem-read "$1" 0 "$2"
}

domain_xml() {
    # $1 name, $2 uuid suffix, then disks as "dev:fmt:file"
    name=$1; uu=$2; shift 2
    {
        echo "<domain type='xen'><name>$name</name>"
        echo "<uuid>5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f$uu</uuid>"
        echo "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        echo "<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>"
        for d in "$@"; do
            dev=${d%%:*}; rest=${d#*:}; fmt=${rest%%:*}; file=${rest#*:}
            echo "<disk type='file' device='disk'><driver name='qemu' type='$fmt'/>"
            echo "<source file='$file'/><target dev='$dev' bus='xen'/></disk>"
        done
        echo "</devices></domain>"
    } > "$FX_DIR/$name.xml"
}

fx_step "define and start fx1 (qcow2 xvda, raw xvdb)"
qemu-img create -q -f qcow2 "$FX_DIR/disk0.qcow2" 32M || fx_fail "qemu-img"
qemu-img create -q -f raw "$FX_DIR/disk1.raw" 16M || fx_fail "qemu-img"
domain_xml fx1 60 "xvda:qcow2:$FX_DIR/disk0.qcow2" "xvdb:raw:$FX_DIR/disk1.raw"
vok define "$FX_DIR/fx1.xml" >/dev/null
vok start fx1 >/dev/null
write fx1 xvda 0xab 0 64k
write fx1 xvdb 0x5a 1M 4k

fx_step "flags libvirt refuses"
vfail "guest agent" snapshot-create-as fx1 q --disk-only --quiesce
vfail "live snapshot creation is supported only during full system snapshots" \
    snapshot-create-as fx1 l --disk-only --live
vfail "memory" snapshot-create-as fx1 m --disk-only --memspec "file=$FX_DIR/m.save"
[ -z "$(vok snapshot-list fx1 --name)" ] || fx_fail "a refused snapshot left metadata"

fx_step "create s1: running, disk-only (qcow2 internal as asked, raw external)"
vok snapshot-create-as fx1 s1 --disk-only --diskspec xvda,snapshot=internal >/dev/null
fx_expect_state fx1 running
[ "$(vok snapshot-current fx1 --name)" = s1 ] || fx_fail "s1 is not current"
fx_inhost test -f "$store/fx1/s1.xml" || fx_fail "no metadata file for s1"
info=$(vok snapshot-info fx1 s1)
echo "$info" | grep -q "^State: *disk-snapshot" || fx_fail "s1 state: $info"
case " $(internal_snaps "$FX_DIR/disk0.qcow2")" in *" s1 "*) ;; *) fx_fail "no internal snapshot s1 in disk0" ;; esac
[ "$(served fx1 xvdb)" = "$FX_DIR/disk1.s1" ] || fx_fail "xvdb is not on its overlay: $(served fx1 xvdb)"
vok dumpxml fx1 --inactive | grep -q "$FX_DIR/disk1.s1" || fx_fail "the persistent config does not use the overlay"
vok snapshot-dumpxml fx1 s1 | grep -q "<source file='$FX_DIR/disk1.s1'/>" || fx_fail "s1 does not record the overlay"

fx_step "the frozen raw base keeps s1's data while the guest writes"
write fx1 xvda 0xcd 0 64k
write fx1 xvdb 0xcd 1M 4k
has raw "$FX_DIR/disk1.raw" 0x5a 1M 4k || fx_fail "the raw base changed after s1"
dev_has fx1 xvdb 0xcd 1M 4k || fx_fail "the guest's write to xvdb is lost"

fx_step "create s2: running, with memory (default image in the store)"
fx_ctl mem-write fx1 0 "memory-at-s2" || fx_fail "mem-write"
vok snapshot-create-as fx1 s2 --diskspec xvda,snapshot=internal \
    --diskspec xvdb,snapshot=internal >/dev/null
fx_expect_state fx1 running
[ "$(mem fx1 12)" = "memory-at-s2" ] || fx_fail "guest memory changed by the snapshot"
fx_inhost test -s "$store/fx1/s2.save" || fx_fail "no memory image for s2"
fx_inhost head -c 16 "$store/fx1/s2.save" | grep -q "^libvirt-xml" || fx_fail "s2.save is not a libvirt save image"
info=$(vok snapshot-info fx1 s2)
echo "$info" | grep -q "^State: *running" || fx_fail "s2 state: $info"
echo "$info" | grep -q "^Parent: *s1" || fx_fail "s2 parent: $info"
vok snapshot-dumpxml fx1 s2 | grep -q "<memory snapshot='external' file='$store/fx1/s2.save'/>" ||
    fx_fail "s2 memory: $(fx_virsh snapshot-dumpxml fx1 s2)"
# xvdb is a qcow2 overlay now, so it can be internal too.
[ "$(served fx1 xvdb)" = "$FX_DIR/disk1.s1" ] || fx_fail "xvdb moved by s2: $(served fx1 xvdb)"
case " $(internal_snaps "$FX_DIR/disk1.s1")" in *" s2 "*) ;; *) fx_fail "no internal snapshot s2 in disk1.s1" ;; esac

fx_step "a failing disk step rolls everything back (--atomic or not: always atomic)"
vfail "cannot create overlay '/nonexistent/dir/x.qcow2'" snapshot-create-as fx1 s3 --atomic \
    --diskspec "xvdb,snapshot=external,file=/nonexistent/dir/x.qcow2"
vfail "cannot create overlay '/nonexistent/dir/x.qcow2'" snapshot-create-as fx1 s3 \
    --diskspec "xvdb,snapshot=external,file=/nonexistent/dir/x.qcow2"
fx_expect_state fx1 running
[ "$(vok snapshot-current fx1 --name)" = s2 ] || fx_fail "current moved after a failed create"
vok snapshot-list fx1 --name | grep -qx s3 && fx_fail "metadata for a failed snapshot"
fx_inhost test -e "$store/fx1/s3.save" && fx_fail "the memory image of a failed snapshot stayed"
case " $(internal_snaps "$FX_DIR/disk0.qcow2")" in *" s3 "*) fx_fail "internal snapshot s3 left in disk0" ;; esac
[ "$(served fx1 xvdb)" = "$FX_DIR/disk1.s1" ] || fx_fail "xvdb moved by a failed snapshot"
[ "$(mem fx1 12)" = "memory-at-s2" ] || fx_fail "guest memory changed by a failed snapshot"

fx_step "revert to s2 (memory, internal disks) after more changes"
fx_ctl mem-write fx1 0 "memory-changed" || fx_fail "mem-write"
write fx1 xvda 0xef 0 64k
write fx1 xvdb 0xef 1M 4k
vok snapshot-revert fx1 s2 >/dev/null
fx_expect_state fx1 running
[ "$(mem fx1 12)" = "memory-at-s2" ] || fx_fail "memory after revert to s2: $(mem fx1 12)"
dev_has fx1 xvda 0xcd 0 64k || fx_fail "xvda after revert to s2"
dev_has fx1 xvdb 0xcd 1M 4k || fx_fail "xvdb after revert to s2"
[ "$(vok snapshot-current fx1 --name)" = s2 ] || fx_fail "s2 is not current after revert"

fx_step "revert to s1 (disk-only: external xvdb gets a fresh overlay)"
vfail "must respawn guest to start inactive snapshot" snapshot-revert fx1 s1 --running
vok snapshot-revert fx1 s1 --running --force >/dev/null
fx_expect_state fx1 running
dev_has fx1 xvda 0xab 0 64k || fx_fail "xvda after revert to s1"
dev_has fx1 xvdb 0x5a 1M 4k || fx_fail "xvdb after revert to s1"
[ "$(served fx1 xvdb)" = "$FX_DIR/disk1.s1-1" ] || fx_fail "xvdb after revert to s1: $(served fx1 xvdb)"
[ -e "$FX_DIR/disk1.s1" ] || fx_fail "the other branch's overlay is gone"
[ "$(vok snapshot-current fx1 --name)" = s1 ] || fx_fail "s1 is not current after revert"
write fx1 xvdb 0x77 1M 4k

fx_step "back to s2 and to s1 again: both branches survive"
vok snapshot-revert fx1 s2 >/dev/null
[ "$(mem fx1 12)" = "memory-at-s2" ] || fx_fail "memory after the second revert to s2"
dev_has fx1 xvda 0xcd 0 64k || fx_fail "xvda after the second revert to s2"
dev_has fx1 xvdb 0xcd 1M 4k || fx_fail "xvdb after the second revert to s2"
vok snapshot-revert fx1 s1 --paused --force >/dev/null
fx_expect_state fx1 paused
dev_has fx1 xvdb 0x5a 1M 4k || fx_fail "xvdb after the second revert to s1"
vok snapshot-revert fx1 s2 --paused >/dev/null
fx_expect_state fx1 paused
[ "$(mem fx1 12)" = "memory-at-s2" ] || fx_fail "memory after revert --paused"
vok resume fx1 >/dev/null

fx_step "delete s2 (internal disks, memory image)"
vok snapshot-delete fx1 s2 >/dev/null
vok snapshot-list fx1 --name | grep -qx s2 && fx_fail "s2 still listed"
case " $(internal_snaps "$FX_DIR/disk0.qcow2")" in *" s2 "*) fx_fail "internal s2 left in disk0" ;; esac
case " $(internal_snaps "$FX_DIR/disk1.s1")" in *" s2 "*) fx_fail "internal s2 left in disk1.s1" ;; esac
fx_inhost test -e "$store/fx1/s2.save" && fx_fail "memory image of s2 left"
[ "$(vok snapshot-current fx1 --name)" = s1 ] || fx_fail "current after deleting s2"
fx_expect_state fx1 running

fx_step "delete s1: its overlay is merged into the raw base"
vok snapshot-delete fx1 s1 >/dev/null
[ -z "$(vok snapshot-list fx1 --name)" ] || fx_fail "s1 still listed"
[ "$(served fx1 xvdb)" = "$FX_DIR/disk1.raw" ] || fx_fail "xvdb not back on its base: $(served fx1 xvdb)"
vok dumpxml fx1 --inactive | grep -q "$FX_DIR/disk1.raw" || fx_fail "config not back on the base"
[ -e "$FX_DIR/disk1.s1" ] && fx_fail "merged overlay disk1.s1 left"
dev_has fx1 xvdb 0xcd 1M 4k || fx_fail "xvdb lost data in the merge"
[ -z "$(internal_snaps "$FX_DIR/disk0.qcow2")" ] || fx_fail "internal snapshots left in disk0"

fx_step "delete of a snapshot whose two branches share its images keeps them"
write fx1 xvda 0x41 0 4k
vok snapshot-create-as fx1 t1 --disk-only >/dev/null
write fx1 xvda 0x42 0 4k
vok snapshot-create-as fx1 t2 --disk-only >/dev/null
vok snapshot-revert fx1 t1 --running --force >/dev/null
dev_has fx1 xvda 0x41 0 4k || fx_fail "xvda after revert to t1"
write fx1 xvda 0x43 0 4k
vok snapshot-create-as fx1 t3 --disk-only >/dev/null
# libvirt refuses; the images both branches rest on stay, the metadata goes.
vok snapshot-delete fx1 t1 >/dev/null
[ "$(vok snapshot-list fx1 --name | tr '\n' ' ')" = "t2 t3 " ] ||
    fx_fail "after deleting t1: $(fx_virsh snapshot-list fx1 --name)"
[ -e "$FX_DIR/disk0.t1" ] || fx_fail "the image t2 froze is gone"
dev_has fx1 xvda 0x43 0 4k || fx_fail "deleting t1 changed the running disk"
vok snapshot-revert fx1 t2 --running --force >/dev/null
dev_has fx1 xvda 0x42 0 4k || fx_fail "t2 lost its data"
vok snapshot-revert fx1 t3 --running --force >/dev/null
dev_has fx1 xvda 0x43 0 4k || fx_fail "t3 lost its data"
vok snapshot-delete fx1 t2 --metadata >/dev/null
vok snapshot-delete fx1 t3 --metadata >/dev/null

fx_step "offline: create internal + external, children, children-only"
qemu-img create -q -f qcow2 "$FX_DIR/off0.qcow2" 32M || fx_fail "qemu-img"
qemu-img create -q -f raw "$FX_DIR/off1.raw" 16M || fx_fail "qemu-img"
qemu-io -f qcow2 -c "write -P 0x11 0 64k" "$FX_DIR/off0.qcow2" >/dev/null || fx_fail "qemu-io"
domain_xml fx3 63 "xvda:qcow2:$FX_DIR/off0.qcow2" "xvdb:raw:$FX_DIR/off1.raw"
vok define "$FX_DIR/fx3.xml" >/dev/null
vok snapshot-create-as fx3 c1 >/dev/null
vok snapshot-info fx3 c1 | grep -q "^State: *shutoff" || fx_fail "c1 state"
case " $(internal_snaps "$FX_DIR/off0.qcow2")" in *" c1 "*) ;; *) fx_fail "no internal c1" ;; esac
[ -e "$FX_DIR/off1.c1" ] || fx_fail "no overlay off1.c1"
vok dumpxml fx3 --inactive | grep -q "$FX_DIR/off1.c1" || fx_fail "config not on off1.c1"
qemu-io -f qcow2 -c "write -P 0x22 0 64k" "$FX_DIR/off0.qcow2" >/dev/null || fx_fail "qemu-io"
vok snapshot-create-as fx3 c2 >/dev/null
vok snapshot-create-as fx3 c3 >/dev/null
[ "$(vok snapshot-parent fx3 c3)" = c2 ] || fx_fail "c3 parent"
vok snapshot-revert fx3 c1 >/dev/null
fx_expect_state fx3 "shut off"
has qcow2 "$FX_DIR/off0.qcow2" 0x11 0 64k || fx_fail "off0 after revert to c1"
vok snapshot-revert fx3 c3 >/dev/null
has qcow2 "$FX_DIR/off0.qcow2" 0x22 0 64k || fx_fail "off0 after revert to c3"
vok snapshot-delete fx3 c1 --children-only >/dev/null
[ "$(vok snapshot-list fx3 --name)" = c1 ] || fx_fail "children-only: $(fx_virsh snapshot-list fx3 --name)"
[ "$(vok snapshot-current fx3 --name)" = c1 ] || fx_fail "current after children-only"
case " $(internal_snaps "$FX_DIR/off0.qcow2")" in *" c2 "*|*" c3 "*) fx_fail "internal c2/c3 left" ;; esac
vok snapshot-delete fx3 c1 --children >/dev/null
[ -z "$(vok snapshot-list fx3 --name)" ] || fx_fail "delete --children left snapshots"
[ -z "$(internal_snaps "$FX_DIR/off0.qcow2")" ] || fx_fail "internal snapshots left: $(internal_snaps "$FX_DIR/off0.qcow2")"

fx_step "backup: disk-only snapshot, read the frozen base, merge back"
qemu-img create -q -f raw "$FX_DIR/bk.raw" 16M || fx_fail "qemu-img"
domain_xml fx2 62 "xvda:raw:$FX_DIR/bk.raw"
vok define "$FX_DIR/fx2.xml" >/dev/null
vok start fx2 >/dev/null
write fx2 xvda 0x31 0 64k
vok snapshot-create-as fx2 b1 --disk-only >/dev/null
write fx2 xvda 0x32 64k 64k
write fx2 xvda 0x33 0 4k
cp "$FX_DIR/bk.raw" "$FX_DIR/backup.raw" || fx_fail "copy the frozen base"
has raw "$FX_DIR/backup.raw" 0x31 0 64k || fx_fail "the backup is not the frozen state"
vok snapshot-delete fx2 b1 >/dev/null
[ "$(served fx2 xvda)" = "$FX_DIR/bk.raw" ] || fx_fail "xvda not back on its base: $(served fx2 xvda)"
vok dumpxml fx2 --inactive | grep -q "$FX_DIR/bk.raw" || fx_fail "config not back on the base"
[ -e "$FX_DIR/bk.b1" ] && fx_fail "merged overlay left"
write fx2 xvda 0x34 128k 4k
has raw "$FX_DIR/bk.raw" 0x33 0 4k || fx_fail "write during the backup lost"
has raw "$FX_DIR/bk.raw" 0x31 4k 60k || fx_fail "data before the backup lost"
has raw "$FX_DIR/bk.raw" 0x32 64k 64k || fx_fail "write during the backup lost (2)"
has raw "$FX_DIR/bk.raw" 0x34 128k 4k || fx_fail "write after the merge lost"
[ -z "$(vok snapshot-list fx2 --name)" ] || fx_fail "b1 still listed"

fx_step "faults: a QMP refusal after the memory save, a missing memory image"
fx_ctl qmp fx2 '{"execute":"human-monitor-command","arguments":{"command-line":"snapshot_blkdev_internal xvda dup"}}' >/dev/null
qemu-img create -q -f qcow2 "$FX_DIR/q.qcow2" 16M || fx_fail "qemu-img"
vok attach-disk fx2 "$FX_DIR/q.qcow2" xvdc --driver qemu --subdriver qcow2 --config >/dev/null
vok destroy fx2 >/dev/null
vok start fx2 >/dev/null
fx_ctl qmp fx2 '{"execute":"human-monitor-command","arguments":{"command-line":"snapshot_blkdev_internal xvdc dup"}}' >/dev/null
case " $(internal_snaps "$FX_DIR/q.qcow2")" in *" dup "*) ;; *) fx_fail "could not prepare the fault" ;; esac
fx_ctl mem-write fx2 0 "memory-fx2" || fx_fail "mem-write"
vfail "already has an internal snapshot named 'dup'" snapshot-create-as fx2 dup \
    --diskspec xvdc,snapshot=internal
fx_expect_state fx2 running
[ "$(mem fx2 10)" = "memory-fx2" ] || fx_fail "memory changed by a failed snapshot"
fx_inhost test -e "$store/fx2/dup.save" && fx_fail "memory image of a failed snapshot left"
[ -e "$FX_DIR/bk.dup" ] && fx_fail "overlay of a failed snapshot left"
[ "$(served fx2 xvda)" = "$FX_DIR/bk.raw" ] || fx_fail "xvda moved by a failed snapshot"
[ -z "$(vok snapshot-list fx2 --name)" ] || fx_fail "metadata of a failed snapshot"
vok snapshot-create-as fx2 r1 >/dev/null
fx_inhost rm -f "$store/fx2/r1.save"
vfail "cannot read the memory image" snapshot-revert fx2 r1
fx_expect_state fx2 running
vok snapshot-delete fx2 r1 --metadata >/dev/null

fx_step "a paused domain stays paused; its snapshot reverts paused"
vok suspend fx2 >/dev/null
vok snapshot-create-as fx2 p1 >/dev/null
fx_expect_state fx2 paused
[ "$(fx_ctl state fx2)" = paused ] || fx_fail "the host runs a domain libvirt sees paused: $(fx_ctl state fx2)"
vok snapshot-info fx2 p1 | grep -q "^State: *paused" || fx_fail "p1 state"
vok resume fx2 >/dev/null
vok snapshot-revert fx2 p1 >/dev/null
fx_expect_state fx2 paused
[ "$(mem fx2 10)" = "memory-fx2" ] || fx_fail "memory after revert to p1"
vok snapshot-revert fx2 p1 --running >/dev/null
fx_expect_state fx2 running
vok snapshot-delete fx2 p1 >/dev/null
vok snapshot-create-as fx2 d1 --disk-only >/dev/null
vok managedsave fx2 >/dev/null
vfail "managed saved state" snapshot-revert fx2 d1
vok snapshot-revert fx2 d1 --force >/dev/null
# The managed state the revert replaced no longer matches the disks.
vok dominfo fx2 | grep -q "^Managed save: *no" || fx_fail "the managed save image survived the revert"
vok start fx2 >/dev/null
vok snapshot-delete fx2 d1 >/dev/null

fx_step "--live and --halt"
vok snapshot-create-as fx2 lv --live >/dev/null
fx_expect_state fx2 running
grep -q "suspended domain .* (flags 2," "$FX_DIR/state/fakexen.log" || fx_fail "--live did not reach libxl"
fx_ctl mem-write fx2 0 "memory-h1!" || fx_fail "mem-write"
vok snapshot-create-as fx2 h1 --halt >/dev/null
fx_expect_state fx2 "shut off"
vok snapshot-revert fx2 h1 >/dev/null
fx_expect_state fx2 running
[ "$(mem fx2 10)" = "memory-h1!" ] || fx_fail "memory after revert to a halted snapshot"
vok snapshot-delete fx2 lv --children >/dev/null
[ -z "$(vok snapshot-list fx2 --name)" ] || fx_fail "delete lv --children left: $(fx_virsh snapshot-list fx2 --name)"

fx_step "--live of a PV domain on a Xen without shadow paging: refused, nothing changed"
# Real Xen 4.17 (Debian, the real-Xen test bed) cannot turn on log-dirty
# for a PV guest without shadow paging; libxl's live save then fails. The
# module refuses before it touches anything.
qemu-img create -q -f qcow2 "$FX_DIR/pv.qcow2" 16M || fx_fail "qemu-img"
cat >"$FX_DIR/fxpv.xml" <<EOX
<domain type='xen'><name>fxpv</name><uuid>5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f7e</uuid>
<memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>$FX_DIR/pv.qcow2</kernel></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$FX_DIR/pv.qcow2'/><target dev='xvda' bus='xen'/></disk></devices></domain>
EOX
vok define "$FX_DIR/fxpv.xml" >/dev/null
vok start fxpv >/dev/null
vfail "cannot save the memory of domain 'fxpv' live: a PV domain needs shadow paging" \
    snapshot-create-as fxpv pl --live
fx_expect_state fxpv running
[ -z "$(vok snapshot-list fxpv --name)" ] || fx_fail "a refused --live left a snapshot"
ls "$FX_DIR/pv".* | grep -v 'pv.qcow2$' && fx_fail "a refused --live left an overlay"
fx_inhost ls -A "$store/fxpv" 2>/dev/null | grep . && fx_fail "a refused --live left files in the store"
vok snapshot-create-as fxpv pl >/dev/null
fx_expect_state fxpv running
vok snapshot-delete fxpv pl >/dev/null
vok destroy fxpv >/dev/null
vok undefine fxpv >/dev/null

fx_step "--reuse-external and an explicit overlay path"
served_now=$(served fx2 xvda)
fmt_now=$(qemu-img info -U --output=json "$served_now" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')
qemu-img create -q -f qcow2 -F "$fmt_now" -b "$served_now" "$FX_DIR/reuse.qcow2" || fx_fail "qemu-img"
vok snapshot-create-as fx2 ru --disk-only --reuse-external \
    --diskspec "xvda,snapshot=external,file=$FX_DIR/reuse.qcow2" --diskspec xvdc,snapshot=no >/dev/null
[ "$(served fx2 xvda)" = "$FX_DIR/reuse.qcow2" ] || fx_fail "xvda not on the reused overlay"
vfail "is the image of disk" snapshot-create-as fx2 ru2 --disk-only \
    --diskspec "xvda,snapshot=external,file=$FX_DIR/reuse.qcow2" --diskspec xvdc,snapshot=no
vok snapshot-create-as fx2 ex --disk-only \
    --diskspec "xvda,snapshot=external,file=$FX_DIR/explicit.qcow2" --diskspec xvdc,snapshot=no >/dev/null
[ "$(served fx2 xvda)" = "$FX_DIR/explicit.qcow2" ] || fx_fail "xvda not on the explicit overlay"
vok snapshot-delete fx2 ru --children >/dev/null
[ "$(served fx2 xvda)" = "$served_now" ] || fx_fail "xvda not merged back: $(served fx2 xvda)"

fx_step "gold image with three linked clones"
qemu-img create -q -f raw "$FX_DIR/gold.raw" 16M || fx_fail "qemu-img"
domain_xml gold 64 "xvda:raw:$FX_DIR/gold.raw"
vok define "$FX_DIR/gold.xml" >/dev/null
vok start gold >/dev/null
write gold xvda 0x61 0 64k
vok snapshot-create-as gold g1 --disk-only >/dev/null
write gold xvda 0x62 0 4k
for i in 1 2 3; do
    qemu-img create -q -f qcow2 -F raw -b "$FX_DIR/gold.raw" "$FX_DIR/clone$i.qcow2" || fx_fail "clone$i"
    domain_xml clone$i 7$i "xvda:qcow2:$FX_DIR/clone$i.qcow2"
    vok define "$FX_DIR/clone$i.xml" >/dev/null
    vok start clone$i >/dev/null
    write clone$i xvda 0x7$i 32k 4k
done
for i in 1 2 3; do
    dev_has clone$i xvda 0x61 0 32k || fx_fail "clone$i does not see the gold data"
    dev_has clone$i xvda 0x7$i 32k 4k || fx_fail "clone$i lost its own write"
done
has raw "$FX_DIR/gold.raw" 0x61 0 64k || fx_fail "the gold image changed"
vfail "is also used by disk 'xvda' of domain 'clone" snapshot-delete gold g1
for i in 1 2 3; do
    dev_has clone$i xvda 0x61 0 32k || fx_fail "clone$i lost the gold data to a merge"
done
has raw "$FX_DIR/gold.raw" 0x61 0 64k || fx_fail "the gold image changed under its clones"
vok snapshot-list gold --name | grep -qx g1 || fx_fail "a failed merge dropped g1"
dev_has gold xvda 0x62 0 4k || fx_fail "gold lost its own write"
for i in 1 2 3; do
    vok destroy clone$i >/dev/null
    vok undefine clone$i >/dev/null
done
vok snapshot-delete gold g1 >/dev/null
[ "$(served gold xvda)" = "$FX_DIR/gold.raw" ] || fx_fail "gold not back on its image"
has raw "$FX_DIR/gold.raw" 0x62 0 4k || fx_fail "gold's write not merged"
has raw "$FX_DIR/gold.raw" 0x61 4k 60k || fx_fail "gold data lost in the merge"

fx_step "a new domain's first snapshot saves memory into a store dir it creates"
qemu-img create -q -f qcow2 "$FX_DIR/first.qcow2" 16M || fx_fail "qemu-img"
domain_xml first 7a "xvda:qcow2:$FX_DIR/first.qcow2"
vok define "$FX_DIR/first.xml" >/dev/null
vok start first >/dev/null
fx_inhost test -e "$store/first" && fx_fail "the store dir of 'first' exists before its first snapshot"
fx_ctl mem-write first 0 "first-memory" || fx_fail "mem-write"
vok snapshot-create-as first f1 --diskspec xvda,snapshot=internal >/dev/null
fx_inhost test -s "$store/first/f1.save" || fx_fail "no memory image for the first snapshot"
fx_ctl mem-write first 0 "changed-mem!" || fx_fail "mem-write"
vok snapshot-revert first f1 >/dev/null
[ "$(mem first 12)" = "first-memory" ] || fx_fail "memory after revert to f1: $(mem first 12)"
vok destroy first >/dev/null

fx_step "revert to an internal snapshot whose image a later external one froze"
qemu-img create -q -f qcow2 "$FX_DIR/ie.qcow2" 16M || fx_fail "qemu-img"
domain_xml ie 7b "xvda:qcow2:$FX_DIR/ie.qcow2"
vok define "$FX_DIR/ie.xml" >/dev/null
vok start ie >/dev/null
write ie xvda 0x31 0 4k
vok snapshot-create-as ie i1 --disk-only --diskspec xvda,snapshot=internal >/dev/null
write ie xvda 0x32 0 4k
vok snapshot-create-as ie e1 --disk-only --diskspec xvda,snapshot=external >/dev/null
write ie xvda 0x33 0 4k
vfail "is frozen by external snapshot 'e1'" snapshot-revert ie i1
fx_expect_state ie running
[ "$(served ie xvda)" = "$FX_DIR/ie.e1" ] || fx_fail "a refused revert moved the disk"
has qcow2 "$FX_DIR/ie.qcow2" 0x32 0 4k || fx_fail "a refused revert changed the image e1 froze"
dev_has ie xvda 0x33 0 4k || fx_fail "a refused revert changed the guest's disk"
[ "$(vok snapshot-current ie --name)" = "e1" ] || fx_fail "a refused revert moved current"
# Once e1 is merged away nothing else rests on the image.
vok snapshot-delete ie e1 >/dev/null
vok snapshot-revert ie i1 >/dev/null
fx_expect_state ie "shut off"
has qcow2 "$FX_DIR/ie.qcow2" 0x31 0 4k || fx_fail "revert to i1 after e1 went"

fx_step "a guest going away, or a stub-domain device model, is refused"
listed=$(vok snapshot-list first --name)
files=$(fx_inhost ls "$store/first")
refused() {
    vfail "while it is shutting down, crashed or suspended to RAM" snapshot-create-as first x1
    vfail "while it is shutting down, crashed or suspended to RAM" snapshot-create-as first x2 --disk-only
    vfail "while it is shutting down, crashed or suspended to RAM" snapshot-delete first f1
}
# libvirt hears of these only through libxl's events: held back, libvirt
# still calls the domain running while Xen already does not. Once they
# are let through, libvirt tears the domain down (on_poweroff and
# on_crash are destroy).
for how in shutdown crash; do
    vok start first >/dev/null
    fx_ctl hold first || fx_fail "hold"
    fx_ctl "$how" first || fx_fail "$how"
    fx_expect_state first running
    refused
    fx_ctl release first || fx_fail "release"
    for i in $(seq 50); do
        [ "$(fx_virsh domstate first 2>&1)" = "shut off" ] && break
        sleep 0.1
    done
    fx_expect_state first "shut off"
done
vok start first >/dev/null
/usr/bin/python3 - "$FAKEXEN_STATE_DIR/domains/$(fx_ctl domid first)/config.json" <<'PY' || fx_fail "cannot mark the device model as a stub domain"
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["b_info"]["device_model_stubdomain"] = "True"
json.dump(cfg, open(sys.argv[1], "w"))
PY
vfail "runs its device model in a stub domain" snapshot-create-as first x3 --disk-only
vfail "runs its device model in a stub domain" snapshot-create-as first x4
# Last, as Xen keeps a dying domain until its teardown ends.
fx_ctl hold first || fx_fail "hold"
fx_ctl dying first || fx_fail "dying"
refused
[ "$(vok snapshot-list first --name)" = "$listed" ] || fx_fail "a refused operation changed the snapshot list"
[ "$(fx_inhost ls "$store/first")" = "$files" ] || fx_fail "a refused operation left files in the store"
[ "$(internal_snaps "$FX_DIR/first.qcow2")" = "f1 " ] || fx_fail "a refused operation changed the image: $(internal_snaps "$FX_DIR/first.qcow2")"

fx_step "done"
