# SPDX-License-Identifier: LGPL-2.1-or-later
# 10-install-deb-python: how the module gets onto a real Xen host and off
# it again, with a running guest that survives every libvirtd restart:
# `virt-xen-snapshot uninstall` puts the stock module back (snapshots
# unsupported), `install` and `doctor`; the .deb installed over the stock
# module and removed.  Then the snapshot API through python3-libvirt:
# create, list, current, revert (the guest proves it), the libvirt error
# codes, delete.
# realxen-needs: deb
. "$RX_LIB"
G=pyguest
a=$RX_IMAGES/$G.qcow2
stock=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so
rx_step "libvirtd with the module"
rx_setup
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G"*
timeout 60 qemu-img create -q -f qcow2 "$a" 64M
rx_guest_define $G "$a:qcow2"
vok start $G
rx_wait_tick $G 1 180 >/dev/null || exit 1
id0=$(rx_domid $G)

restart() {
    timeout -k 10 180 systemctl restart libvirtd || rx_fail "libvirtd did not restart"
    local i=0
    until timeout 30 virsh -q list >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -ge 60 ] && rx_fail "libvirtd does not answer"; sleep 1
    done
}
api() {
    # "supported" or "unsupported": does this libvirtd have the snapshot API?
    local out
    out=$(rx_virsh snapshot-list $G 2>&1) && { echo supported; return; }
    case $out in *"not supported by the connection driver"*) echo unsupported ;; *) echo "error: $out" ;; esac
}
doctor() { timeout 60 virt-xen-snapshot doctor >/dev/null 2>&1 && echo active || echo inactive; }

rx_step "virt-xen-snapshot uninstall: the stock module alone"
timeout 120 virt-xen-snapshot uninstall || rx_fail "virt-xen-snapshot uninstall failed"
rx_check uninstall-removes-diversion "$(dpkg-divert --list "$stock" | grep -c .)" 0
restart
rx_check uninstalled-api "$(api)" unsupported
rx_check uninstalled-doctor "$(doctor)" inactive
rx_check guest-survives-uninstall "$(rx_domid $G)" "$id0"

rx_step "virt-xen-snapshot install, doctor"
timeout 120 virt-xen-snapshot install || rx_fail "virt-xen-snapshot install failed"
restart
rx_check installed-api "$(api)" supported
rx_check installed-doctor "$(doctor)" active
timeout 120 virt-xen-snapshot uninstall >/dev/null || rx_fail "second uninstall failed"

rx_step "the .deb over the stock module"
# The host builds it while dom0 boots and the scripts before this run.
t=0
while [ ! -e "$RX_SHARE/deb/done" ] && [ ! -e "$RX_SHARE/deb/failed" ] && [ $t -lt 600 ]; do
    sleep 2; t=$((t + 2))
done
echo "waited $t s for the host's dpkg-buildpackage"
deb=$(ls "$RX_SHARE"/deb/libvirt-xen-snapshot_*_amd64.deb 2>/dev/null | head -n1)
if [ ! -e "$RX_SHARE/deb/done" ] || [ -z "$deb" ]; then
    cat "$RX_SHARE/deb/failed" 2>/dev/null
    rx_check deb-built no yes
else
    timeout 300 dpkg -i "$deb" || rx_fail "dpkg -i $(basename "$deb") failed"
    rx_check deb-diverts-stock "$(dpkg-divert --list "$stock" | grep -c libvirt-xen-snapshot)" 1
    restart
    rx_check deb-api "$(api)" supported
    rx_check deb-doctor "$(doctor)" active
    vok snapshot-create-as $G debsnap --disk-only --diskspec "xvda,file=$RX_IMAGES/$G.debsnap" >/dev/null
    vok snapshot-delete $G debsnap >/dev/null
    rx_step "dpkg -r: the stock module is back"
    timeout 300 dpkg -r libvirt-xen-snapshot || rx_fail "dpkg -r failed"
    rx_check deb-removed-diversion "$(dpkg-divert --list "$stock" | grep -c .)" 0
    rx_check deb-removed-stock-back "$([ -f "$stock" ] && [ ! -e "$stock.distrib" ] && echo yes || echo no)" yes
    restart
    rx_check deb-removed-api "$(api)" unsupported
    rx_check guest-survives-deb "$(rx_domid $G)" "$id0"
fi

rx_step "back to the build's module"
timeout 120 virt-xen-snapshot install >/dev/null || rx_fail "virt-xen-snapshot install failed"
restart
rx_check reinstalled-doctor "$(doctor)" active

rx_step "python3-libvirt: create, list, current"
rx_cmd $G write xvda 1024 64 0x31 || rx_fail "write 0x31"
A=$(rx_tick_n "$(rx_last_tick $G)")
# glibc's malloc checks in the client, as for virsh (lib.sh).
py() {
    rx_t 300 env LD_PRELOAD=libc_malloc_debug.so.0 MALLOC_CHECK_=3 MALLOC_PERTURB_=165 \
        python3 -c "$1" "$G" 2>&1 || { echo "python failed"; return 1; }
}
out=$(py '
import sys, libvirt
c = libvirt.open("xen:///system")
d = c.lookupByName(sys.argv[1])
s = d.snapshotCreateXML("<domainsnapshot><name>py1</name><description>from python</description></domainsnapshot>", 0)
print("created", s.getName())
print("list", " ".join(x.getName() for x in d.listAllSnapshots(0)))
print("current", d.snapshotCurrent(0).getName(), d.hasCurrentSnapshot(0))
print("num", d.snapshotNum(0))
x = s.getXMLDesc(0)
print("memory", "external" if "<memory snapshot=\x27external\x27" in x else "not external")
print("desc", "from python" in x)
') || { echo "$out"; rx_fail "python create"; }
echo "$out"
B=$(rx_tick_n "$(rx_last_tick $G)")
rx_check py-created "$(echo "$out" | sed -n 's/^created //p')" py1
rx_check py-list "$(echo "$out" | sed -n 's/^list //p')" py1
rx_check py-current "$(echo "$out" | sed -n 's/^current //p')" "py1 True"
rx_check py-memory "$(echo "$out" | sed -n 's/^memory //p')" external
rx_cmd $G write xvda 1024 64 0x32 || rx_fail "write 0x32"

rx_step "python3-libvirt: revertToSnapshot, errors, delete"
out=$(py '
import sys, libvirt
c = libvirt.open("xen:///system")
d = c.lookupByName(sys.argv[1])
d.revertToSnapshot(d.snapshotLookupByName("py1", 0), 0)
print("state", d.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
try:
    d.snapshotLookupByName("nope", 0)
    print("lookup nope: found")
except libvirt.libvirtError as e:
    print("lookup", e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT, e.get_error_message())
try:
    d.snapshotCreateXML("<domainsnapshot><name>py1</name></domainsnapshot>", 0)
    print("dup: created")
except libvirt.libvirtError as e:
    print("dup", e.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID, e.get_error_message())
try:
    d.snapshotCreateXML("<domainsnapshot><name>bad", 0)
    print("badxml: created")
except libvirt.libvirtError as e:
    print("badxml", e.get_error_code() == libvirt.VIR_ERR_XML_DETAIL or e.get_error_code() == libvirt.VIR_ERR_XML_ERROR)
') || { echo "$out"; rx_fail "python revert"; }
echo "$out"
rx_check py-revert-running "$(echo "$out" | sed -n 's/^state //p')" True
rx_check py-lookup-error "$(echo "$out" | sed -n 's/^lookup \([A-Za-z]*\).*/\1/p')" True
rx_check py-duplicate-error "$(echo "$out" | sed -n 's/^dup \([A-Za-z]*\).*/\1/p')" True
rx_check py-badxml-error "$(echo "$out" | sed -n 's/^badxml //p')" True
sleep 4
rx_check py-revert-disk "$(rx_cmd $G check xvda 1024 64 0x31 >/dev/null && echo yes || echo no)" yes
last=$(rx_last_tick $G)
echo "after the python revert: $last (snapshot between $A and $B)"
out=$(py '
import sys, libvirt
c = libvirt.open("xen:///system")
d = c.lookupByName(sys.argv[1])
d.snapshotLookupByName("py1", 0).delete(0)
print("left", d.snapshotNum(0))
') || { echo "$out"; rx_fail "python delete"; }
rx_check py-deleted "$(echo "$out" | sed -n 's/^left //p')" 0

rx_step "cleanup"
vok destroy $G
rx_cleanup_guest $G
rm -f "$RX_IMAGES/$G"*
rx_step done
