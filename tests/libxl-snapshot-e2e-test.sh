#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The wrapper module inside a real libvirtd, on the simulated Xen host:
# libvirtd loads our libvirt_driver_libxl.so, which loads Debian's stock
# module and fills its snapshot slots. Then virsh and python3-libvirt
# run the metadata side of the snapshot API, the metadata survives a
# libvirtd restart, undefine follows libvirt's rules, and a simulated
# libvirt version mismatch leaves the stock driver running unchanged.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper

fx_step "start the simulated host with the wrapper module"
fx_setup
status=/var/lib/libvirt/libxl/libvirt-xen-snapshot.status
fx_inhost cat "$status" | grep -qx "state=active" ||
    fx_fail "the wrapper did not enable snapshots: $(fx_inhost cat "$status")"


fx_step "define a domain"
qemu-img create -q -f qcow2 "$FX_DIR/disk0.qcow2" 32M || fx_fail "qemu-img"
cat > "$FX_DIR/fx1.xml" <<XML
<domain type='xen'>
  <name>fx1</name>
  <uuid>5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f60</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$FX_DIR/disk0.qcow2'/>
      <target dev='xvda' bus='xen'/>
    </disk>
  </devices>
</domain>
XML
vok define "$FX_DIR/fx1.xml" >/dev/null
[ -z "$(vok snapshot-list fx1 --name)" ] || fx_fail "snapshots before any"
vfail "has no current snapshot" snapshot-current fx1

fx_step "redefine a tree: s1 -> {s2, s3 -> s4}"
snap() {
    # $1 name, $2 parent or "", $3 creation time
    parent=
    [ -n "$2" ] && parent="<parent><name>$2</name></parent>"
    cat > "$FX_DIR/$1.xml" <<XML
<domainsnapshot>
  <name>$1</name>
  <description>snapshot $1</description>
  <state>shutoff</state>
  $parent
  <creationTime>$3</creationTime>
  <memory snapshot='no'/>
  <disks><disk name='xvda' snapshot='external'><source file='$FX_DIR/disk0.$1'/></disk></disks>
</domainsnapshot>
XML
}
snap s1 "" 1700000001
snap s2 s1 1700000002
snap s3 s1 1700000003
snap s4 s3 1700000004
vok snapshot-create fx1 "$FX_DIR/s1.xml" --redefine --current >/dev/null
vok snapshot-create fx1 "$FX_DIR/s2.xml" --redefine >/dev/null
vok snapshot-create fx1 "$FX_DIR/s3.xml" --redefine --validate >/dev/null
vok snapshot-create fx1 "$FX_DIR/s4.xml" --redefine --current >/dev/null
vfail "exclusive" snapshot-create fx1 "$FX_DIR/s1.xml" --redefine --no-metadata

fx_step "list, tree, roots, leaves, descendants"
[ "$(vok snapshot-list fx1 --name | sort | tr '\n' ' ')" = "s1 s2 s3 s4 " ] ||
    fx_fail "snapshot-list --name: $(fx_virsh snapshot-list fx1 --name)"
[ "$(vok snapshot-list fx1 | wc -l)" = 4 ] ||
    fx_fail "snapshot-list dropped rows: $(fx_virsh snapshot-list fx1)"
[ "$(vok snapshot-list fx1 --roots --name)" = "s1" ] || fx_fail "--roots"
[ "$(vok snapshot-list fx1 --leaves --name | sort | tr '\n' ' ')" = "s2 s4 " ] || fx_fail "--leaves"
[ "$(vok snapshot-list fx1 --no-leaves --name | sort | tr '\n' ' ')" = "s1 s3 " ] || fx_fail "--no-leaves"
[ "$(vok snapshot-list fx1 --from s3 --name)" = "s4" ] || fx_fail "--from"
[ "$(vok snapshot-list fx1 --from s1 --descendants --name | sort | tr '\n' ' ')" = "s2 s3 s4 " ] ||
    fx_fail "--descendants"
[ "$(vok snapshot-list fx1 --external --name | wc -l)" = 4 ] || fx_fail "--external"
[ -z "$(vok snapshot-list fx1 --internal --name)" ] || fx_fail "--internal"
tree=$(vok snapshot-list fx1 --tree)
echo "$tree" | grep -q "^s1" || fx_fail "tree: $tree"
echo "$tree" | grep -q "s4" || fx_fail "tree: $tree"
vok snapshot-list fx1 --parent | grep -q "s4 .* s3" || fx_fail "--parent column"
vok snapshot-list fx1 --topological --name | sed -n 1p | grep -qx s1 || fx_fail "--topological"

fx_step "info, dumpxml, current, parent"
info=$(vok snapshot-info fx1 s3)
for line in "Name: *s3" "Domain: *fx1" "Current: *no" "State: *shutoff" \
            "Location: *external" "Parent: *s1" "Children: *1" \
            "Descendants: *1" "Metadata: *yes"; do
    echo "$info" | grep -q "^$line" || fx_fail "snapshot-info lacks '$line': $info"
done
xml=$(vok snapshot-dumpxml fx1 s4)
echo "$xml" | grep -q "<name>s4</name>" || fx_fail "dumpxml: $xml"
echo "$xml" | grep -q "<name>s3</name>" || fx_fail "dumpxml parent: $xml"
echo "$xml" | grep -q "<uuid>5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f60</uuid>" || fx_fail "dumpxml uuid: $xml"
[ "$(vok snapshot-current fx1 --name)" = "s4" ] || fx_fail "snapshot-current"
[ "$(vok snapshot-parent fx1 s4)" = "s3" ] || fx_fail "snapshot-parent"
vfail "has no parent" snapshot-parent fx1 s1
vfail "no snapshot named 'nope'" snapshot-info fx1 nope
fx_inhost cat /var/lib/libvirt/libxl/snapshot/fx1/s4.xml | grep -q "<active>1</active>" ||
    fx_fail "s4.xml is not marked current on disk"

fx_step "python3-libvirt listAllSnapshots (virt-manager's check)"
py=$(/usr/bin/python3 - "$FX_URI" <<'PY' 2>&1
import sys, libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
c = libvirt.openReadOnly(sys.argv[1])
d = c.lookupByName("fx1")
snaps = d.listAllSnapshots()
print(" ".join(sorted(s.getName() for s in snaps)))
print(d.snapshotCurrent().getName(), d.hasCurrentSnapshot())
print(d.snapshotLookupByName("s3").getParent().getName())
try:
    d.snapshotLookupByName("nope")
except libvirt.libvirtError as e:
    print(e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT,
          e.get_error_domain() == libvirt.VIR_FROM_LIBXL)
PY
) || fx_fail "python: $py"
[ "$py" = "s1 s2 s3 s4
s4 1
s1
True True" ] || fx_fail "python printed: $py"

fx_step "virt-xen-snapshot doctor sees the running support"
doctor=$abs_top_builddir/tools/virt-xen-snapshot
out=$(fx_inhost "$doctor" doctor -c "$FX_URI" 2>&1) || fx_fail "doctor: $out"
echo "$out" | grep -qx "snapshot support: active" || fx_fail "doctor: $out"

fx_step "operations on metadata without data fail clearly"
vfail "lacks domain 'fx1' rollback info" snapshot-revert fx1 s2
vfail "are not known" snapshot-delete fx1 s2
vok snapshot-create-as fx1 s5 --no-metadata >/dev/null
qemu-img snapshot -U -l "$FX_DIR/disk0.qcow2" | grep -q " s5 " ||
    fx_fail "no internal snapshot s5 (--no-metadata)"
[ "$(vok snapshot-list fx1 --name | wc -l)" = 4 ] || fx_fail "--no-metadata kept metadata"

fx_step "libvirtd restart keeps the list and the current snapshot"
"$FX_HOST" restart-libvirtd "$FX_DIR" >/dev/null || fx_fail "restart"
[ "$(vok snapshot-list fx1 --name | wc -l)" = 4 ] || fx_fail "list after restart"
[ "$(vok snapshot-current fx1 --name)" = "s4" ] || fx_fail "current after restart"

fx_step "snapshot-delete --metadata, --children, --children-only"
vok snapshot-delete fx1 s2 --metadata >/dev/null
[ "$(vok snapshot-list fx1 --name | sort | tr '\n' ' ')" = "s1 s3 s4 " ] || fx_fail "delete s2"
vok snapshot-delete fx1 s3 --metadata --children-only >/dev/null
[ "$(vok snapshot-list fx1 --name | sort | tr '\n' ' ')" = "s1 s3 " ] || fx_fail "delete --children-only"
[ "$(vok snapshot-current fx1 --name)" = "s3" ] || fx_fail "current after --children-only"
vok snapshot-create fx1 "$FX_DIR/s2.xml" --redefine >/dev/null
vok snapshot-delete fx1 s1 --metadata --children >/dev/null
[ -z "$(vok snapshot-list fx1 --name)" ] || fx_fail "delete --children"
vok snapshot-create fx1 "$FX_DIR/s1.xml" --redefine --current >/dev/null

fx_step "undefine refused with snapshots, allowed with --snapshots-metadata"
vfail "cannot delete inactive domain with 1 snapshots" undefine fx1
vok dominfo fx1 >/dev/null
vok undefine fx1 --snapshots-metadata >/dev/null
fx_inhost test ! -e /var/lib/libvirt/libxl/snapshot/fx1 || fx_fail "metadata left behind"
vok define "$FX_DIR/fx1.xml" >/dev/null
[ -z "$(vok snapshot-list fx1 --name)" ] || fx_fail "old metadata came back"

fx_step "stock operations still work through the wrapper"
vok start fx1 >/dev/null
fx_expect_state fx1 "running"
vok snapshot-create fx1 "$FX_DIR/s1.xml" --redefine >/dev/null
vok suspend fx1 >/dev/null
fx_expect_state fx1 "paused"
vok resume fx1 >/dev/null
vok destroy fx1 >/dev/null
fx_expect_state fx1 "shut off"

fx_step "a libvirt version mismatch: libvirtd starts, the stock driver runs"
XSNAP_SIMULATE_LIBVIRT_VERSION=8000000
export XSNAP_SIMULATE_LIBVIRT_VERSION
"$FX_HOST" restart-libvirtd "$FX_DIR" >/dev/null || fx_fail "libvirtd did not start"
unset XSNAP_SIMULATE_LIBVIRT_VERSION
grep -q "snapshot support NOT enabled.*libvirt 8.0.0" "$FX_DIR/log/libvirtd.stdout" \
    "$FX_DIR/log/libvirtd.log" || fx_fail "no warning about the mismatch"
fx_inhost cat "$status" | grep -qx "state=inactive" || fx_fail "status file not updated"
if out=$(fx_inhost "$doctor" doctor -c "$FX_URI" 2>&1); then
    fx_fail "doctor did not notice: $out"
fi
echo "$out" | grep -q "has no snapshot support" || fx_fail "doctor: $out"
vfail "not supported" snapshot-list fx1
vok start fx1 >/dev/null
fx_expect_state fx1 "running"
vok destroy fx1 >/dev/null
vok undefine fx1 >/dev/null

fx_step "done"
exit 0
