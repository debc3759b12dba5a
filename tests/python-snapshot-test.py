#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The snapshot API through python3-libvirt, as applications such as
# virt-manager use it, on a running domain of the simulated Xen host.
# Run by tests/virsh-snapshot-matrix-test.sh:
#   python-snapshot-test.py URI DOMAIN FAKEXEN-CTL
# The domain runs, its disks are xvda (qcow2) and xvdb (qcow2 or raw);
# disk contents are proven with qemu-io, through the device model while
# the domain runs. Prints one line per check; exits 1 on the first
# failure.
import json
import subprocess
import sys

import libvirt

uri, domname, ctl = sys.argv[1:4]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def qmp(cmd):
    out = subprocess.run([ctl, "qmp", domname, json.dumps(cmd)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def qemu_io(dev, command):
    reply = qmp({"execute": "human-monitor-command",
                 "arguments": {"command-line": 'qemu-io %s "%s"' % (dev, command)}})
    if reply.get("return") != "":
        fail("qemu-io %s %s: %s" % (dev, command, reply))


def write(pattern):
    for dev in ("xvda", "xvdb"):
        qemu_io(dev, "write -P %s 2M 64k" % pattern)
        qemu_io(dev, "flush")


def served(dev):
    for b in qmp({"execute": "query-block"})["return"]:
        if b["device"] == dev:
            return b["inserted"]["file"]
    fail("no disk " + dev)


def holds(pattern):
    for dev in ("xvda", "xvdb"):
        image = served(dev)
        fmt = "raw" if image.endswith(".raw") else "qcow2"
        # qemu-io prints "read N/N bytes" even after "Pattern verification
        # failed": its exit status (1) is what tells a mismatch.
        run = subprocess.run(["qemu-io", "-r", "-U", "-f", fmt, "-c",
                              "read -P %s 2M 64k" % pattern, image],
                             capture_output=True, text=True)
        if (run.returncode != 0 or "verification failed" in run.stdout
                or "read 65536/65536 bytes" not in run.stdout):
            return False
    return True


def names(snaps):
    return sorted(s.getName() for s in snaps)


def expect_error(code, func, *args):
    try:
        func(*args)
    except libvirt.libvirtError as e:
        if e.get_error_code() != code or e.get_error_domain() != libvirt.VIR_FROM_LIBXL:
            fail("%s: error %d/%d (%s), expected %d from libxl" %
                 (func.__name__, e.get_error_code(), e.get_error_domain(), e, code))
        return str(e)
    fail("%s succeeded" % func.__name__)


libvirt.registerErrorHandler(lambda ctx, err: None, None)
conn = libvirt.open(uri)
dom = conn.lookupByName(domname)
if dom.listAllSnapshots():
    fail("the domain already has snapshots")

write("0x41")
full = dom.snapshotCreateXML("<domainsnapshot><name>py-full</name>"
                             "<description>from python</description></domainsnapshot>")
if dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
    fail("not running after snapshotCreateXML")
print("ok snapshotCreateXML with memory")

write("0x42")
disk = dom.snapshotCreateXML("<domainsnapshot><name>py-disk</name></domainsnapshot>",
                             libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY)
print("ok snapshotCreateXML DISK_ONLY")

got = names(dom.listAllSnapshots())
if got != ["py-disk", "py-full"]:
    fail("listAllSnapshots: %s" % got)
got = names(dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_DISK_ONLY))
if got != ["py-disk"]:
    fail("listAllSnapshots(DISK_ONLY): %s" % got)
got = names(dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE))
if got != ["py-full"]:
    fail("listAllSnapshots(ACTIVE): %s" % got)
got = names(dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_LEAVES))
if got != ["py-disk"]:
    fail("listAllSnapshots(LEAVES): %s" % got)
got = names(full.listAllChildren())
if got != ["py-disk"]:
    fail("listAllChildren: %s" % got)
if disk.getParent().getName() != "py-full" or not disk.isCurrent():
    fail("py-disk is not the current child of py-full")
print("ok listAllSnapshots with filters")

write("0x43")
dom.revertToSnapshot(full)
if dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
    fail("not running after revertToSnapshot")
if not holds("0x41"):
    fail("the disks do not hold py-full's data after revertToSnapshot")
if not full.isCurrent():
    fail("py-full is not current after revertToSnapshot")
print("ok revertToSnapshot (disk content proven)")

msg = expect_error(libvirt.VIR_ERR_SNAPSHOT_REVERT_RISKY, dom.revertToSnapshot,
                   disk, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING)
if not holds("0x41"):
    fail("a refused revert changed the disks")
print("ok refused revert: " + msg)
msg = expect_error(libvirt.VIR_ERR_XML_DETAIL, dom.snapshotCreateXML,
                   "<domainsnapshot><name>bad/name</name></domainsnapshot>")
print("ok refused create: " + msg)

dom.revertToSnapshot(disk, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING |
                     libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE)
if dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING or not holds("0x42"):
    fail("revertToSnapshot(RUNNING|FORCE) to py-disk")
print("ok revertToSnapshot RUNNING|FORCE (disk content proven)")

disk.delete()
full.delete()
if dom.listAllSnapshots():
    fail("snapshots left after delete(): %s" % names(dom.listAllSnapshots()))
if not holds("0x42"):
    fail("delete() changed the disks")
expect_error(libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT, dom.snapshotLookupByName, "py-full")
print("ok delete")
