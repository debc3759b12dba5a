#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The stock libvirt libxl driver on the simulated Xen host, through virsh:
# define, start, suspend/resume, save/restore keeping the guest memory,
# the QEMU device model serving both disks, guest-initiated shutdown and
# crash, a libvirtd restart, reboot, managedsave, destroy and undefine.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_step "start the simulated host (libvirtd)"
fx_setup

fx_step "define a domain with a qcow2 and a raw disk"
qemu-img create -q -f qcow2 "$FX_DIR/disk0.qcow2" 32M || fx_fail "qemu-img"
qemu-img create -q -f raw "$FX_DIR/disk1.raw" 16M || fx_fail "qemu-img"
cat > "$FX_DIR/fx1.xml" <<XML
<domain type='xen'>
  <name>fx1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$FX_DIR/disk0.qcow2'/>
      <target dev='xvda' bus='xen'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$FX_DIR/disk1.raw'/>
      <target dev='xvdb' bus='xen'/>
    </disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
XML
fx_virsh define "$FX_DIR/fx1.xml" >/dev/null || fx_fail "define"
fx_expect_state fx1 "shut off"

fx_step "start"
fx_virsh start fx1 >/dev/null || fx_fail "start"
fx_expect_state fx1 "running"
domid=$(fx_virsh domid fx1)
[ "$(fx_ctl domid fx1)" = "$domid" ] || fx_fail "libvirt and the host disagree on the domid"
fx_virsh dumpxml fx1 | grep -q "<source path='/dev/pts/" || fx_fail "no pty console"

fx_step "the device model serves both disks (QMP)"
qmp_check_disks() {
    out=$(fx_ctl qmp fx1 '{"execute":"query-block"}') || fx_fail "query-block: $out"
    # device -> "file format" for every block backend QEMU has
    disks=$(echo "$out" | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin)["return"]:
    i = b.get("inserted") or {}
    print(b["device"], i.get("file"), i.get("drv"))')
    echo "$disks" | grep -qx "xvda $FX_DIR/disk0.qcow2 qcow2" ||
        fx_fail "xvda is not served as qcow2: $disks"
    echo "$disks" | grep -qx "xvdb $FX_DIR/disk1.raw raw" ||
        fx_fail "xvdb is not served as raw: $disks"
}
qemu_io() {
    # Fails when HMP answers with an error text.
    fx_ctl qmp fx1 "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io $1 \\\"$2\\\"\"}}" | grep -qx '{"return": ""}'
}
# Checks an image from outside, sharing it with the running QEMU:
# image_has FMT FILE PATTERN OFFSET LEN.
image_has() {
    fx_image_has "$@"
}
qmp_check_disks
[ -S "$FAKEXEN_QMP_DIR/qmp-libxl-$domid" ] || fx_fail "no QMP socket qmp-libxl-$domid"
image_has qcow2 "$FX_DIR/disk0.qcow2" 0xab 0 64k && fx_fail "fresh image already has the pattern"
qemu_io xvda "write -P 0xab 0 64k" >/dev/null || fx_fail "write through QEMU"
qemu_io xvdb "write -P 0x5a 1M 4k" >/dev/null || fx_fail "write to the raw disk"
# QEMU 7.2 returns no qemu-io output over HMP; flush its caches and look
# at the images from outside instead.
qemu_io xvda flush >/dev/null && qemu_io xvdb flush >/dev/null || fx_fail "flush"
image_has qcow2 "$FX_DIR/disk0.qcow2" 0xab 0 64k || fx_fail "QEMU did not write xvda"
image_has raw "$FX_DIR/disk1.raw" 0x5a 1M 4k || fx_fail "QEMU did not write xvdb"

fx_step "suspend"
fx_virsh suspend fx1 >/dev/null || fx_fail "suspend"
fx_expect_state fx1 "paused"
[ "$(fx_ctl state fx1)" = paused ] || fx_fail "the host does not see the domain paused"

fx_step "resume"
fx_virsh resume fx1 >/dev/null || fx_fail "resume"
fx_expect_state fx1 "running"
[ "$(fx_ctl state fx1)" = running ] || fx_fail "the host does not see the domain running"

fx_step "save (guest memory holds a pattern)"
pattern="fakexen-virsh-test $$ pattern"
fx_ctl mem-write fx1 8192 "$pattern" || fx_fail "mem-write"
hash=$(fx_ctl mem-hash fx1) || fx_fail "mem-hash"
fx_virsh save fx1 "$FX_DIR/fx1.save" >/dev/null || fx_fail "save"
fx_expect_state fx1 "shut off"
[ -z "$(fx_ctl list)" ] || fx_fail "domain still on the host after save: $(fx_ctl list)"
[ ! -e "$FAKEXEN_QMP_DIR/qmp-libxl-$domid" ] || fx_fail "device model survived the save"
head -c 16 "$FX_DIR/fx1.save" | grep -q "^libvirt-xml" || fx_fail "not a libvirt save image"

fx_step "restore"
fx_virsh restore "$FX_DIR/fx1.save" >/dev/null || fx_fail "restore"
fx_expect_state fx1 "running"
[ "$(fx_ctl mem-read fx1 8192 ${#pattern})" = "$pattern" ] || fx_fail "pattern lost across save/restore"
[ "$(fx_ctl mem-hash fx1)" = "$hash" ] || fx_fail "guest memory changed across save/restore"
domid=$(fx_virsh domid fx1)
qmp_check_disks
qemu_io xvda "write -P 0xcd 64k 4k" >/dev/null || fx_fail "write through the new QEMU"
qemu_io xvda flush >/dev/null || fx_fail "flush"
image_has qcow2 "$FX_DIR/disk0.qcow2" 0xcd 64k 4k || fx_fail "the new QEMU did not write xvda"
image_has qcow2 "$FX_DIR/disk0.qcow2" 0xab 0 64k || fx_fail "disk data lost"

fx_step "libvirtd restart keeps the domain"
"$FX_HOST" restart-libvirtd "$FX_DIR" || fx_fail "libvirtd restart"
fx_expect_state fx1 "running"
[ "$(fx_virsh domid fx1)" = "$domid" ] || fx_fail "domid changed across the libvirtd restart"

fx_step "destroy"
fx_virsh destroy fx1 >/dev/null || fx_fail "destroy"
fx_expect_state fx1 "shut off"
[ -z "$(fx_ctl list)" ] || fx_fail "domain still on the host after destroy"

fx_step "guest shuts down by itself, then crashes"
fx_virsh start fx1 >/dev/null || fx_fail "start"
fx_ctl shutdown fx1 || fx_fail "inject shutdown"
i=0
until [ "$(fx_virsh domstate fx1)" = "shut off" ]; do
    i=$((i + 1)); [ $i -lt 50 ] || fx_fail "libvirt missed the guest shutdown"; sleep 0.1
done
fx_virsh domstate --reason fx1 | grep -q "shut off (shutdown)" || fx_fail "wrong shutdown reason"
fx_virsh start fx1 >/dev/null || fx_fail "start"
fx_ctl crash fx1 || fx_fail "inject crash"
i=0
until [ "$(fx_virsh domstate fx1)" = "shut off" ]; do
    i=$((i + 1)); [ $i -lt 50 ] || fx_fail "libvirt missed the guest crash"; sleep 0.1
done
fx_virsh domstate --reason fx1 | grep -q "shut off (crashed)" || fx_fail "wrong crash reason"

fx_step "reboot, managedsave"
fx_virsh start fx1 >/dev/null || fx_fail "start"
domid=$(fx_virsh domid fx1)
fx_virsh reboot fx1 >/dev/null || fx_fail "reboot"
i=0
until [ "$(fx_virsh domid fx1 2>/dev/null)" != "$domid" ] &&
      [ "$(fx_virsh domstate fx1)" = running ]; do
    i=$((i + 1)); [ $i -lt 50 ] || fx_fail "the domain did not come back after reboot"; sleep 0.1
done
fx_ctl mem-write fx1 0 "managed" || fx_fail "mem-write"
fx_virsh managedsave fx1 >/dev/null || fx_fail "managedsave"
fx_virsh domstate --reason fx1 | grep -q "shut off (saved)" || fx_fail "not saved"
fx_virsh start fx1 >/dev/null || fx_fail "start from the managed save"
fx_expect_state fx1 "running"
[ "$(fx_ctl mem-read fx1 0 7)" = managed ] || fx_fail "managedsave lost the guest memory"
fx_virsh destroy fx1 >/dev/null || fx_fail "destroy"

fx_step "undefine"
fx_virsh undefine fx1 >/dev/null || fx_fail "undefine"
fx_virsh domstate fx1 >/dev/null 2>&1 && fx_fail "domain still defined"
fx_step ""
echo "PASS"
