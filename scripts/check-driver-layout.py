#!/usr/bin/python3
"""Checks src/libxl_snapshot/driver_layout.h against a libvirt source tree
and against the stock libxl module binary.

Usage: check-driver-layout.py LIBVIRT_SRC_DIR [MODULE.so]

From the source tree it recomputes the pointer index of every member of
the hypervisor driver table, the table size, and which members the libxl
driver fills. From the module it finds the table among the module's
relocations (every filled member of a static table is a relocated
pointer) and checks that exactly the expected slots are set.
Exits 0 when everything agrees.
"""
import re
import subprocess
import sys

HEADER = "src/libxl_snapshot/driver_layout.h"
SNAPSHOT_SLOTS = [
    "domainSnapshotCreateXML", "domainSnapshotGetXMLDesc", "domainSnapshotNum",
    "domainSnapshotListNames", "domainListAllSnapshots",
    "domainSnapshotNumChildren", "domainSnapshotListChildrenNames",
    "domainSnapshotListAllChildren", "domainSnapshotLookupByName",
    "domainHasCurrentSnapshot", "domainSnapshotGetParent",
    "domainSnapshotCurrent", "domainSnapshotIsCurrent",
    "domainSnapshotHasMetadata", "domainRevertToSnapshot",
    "domainSnapshotDelete",
]


def struct_members(text, name):
    m = re.search(r"struct %s \{(.*?)\n\};" % re.escape(name), text, re.S)
    if not m:
        sys.exit("cannot find struct %s" % name)
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    members = []
    for decl in body.split(";"):
        decl = decl.strip()
        if decl:
            members.append(re.split(r"[\s*]+", decl)[-1])
    return members


def filled_members(text, table):
    m = re.search(r"static %s = \{(.*?)\n\};" % re.escape(table), text, re.S)
    if not m:
        sys.exit("cannot find %s" % table)
    return set(re.findall(r"^\s*\.(\w+)\s*=", m.group(1), re.M))


def ours():
    text = open(HEADER).read()
    def num(field):
        return int(re.search(r"\.%s = (\d+)," % field, text).group(1))
    checks = [(int(i), f == "true", w) for i, f, w in
              re.findall(r'\{ (\d+), (true|false), "(\w+)" \}', text)]
    ids = re.findall(r'^\s*"([0-9a-f]{40})",', text, re.M)
    return {k: num(k) for k in ("hvSize", "snapshotFirstSlot", "connSize",
                                "connUriSchemesOffset", "connHypervisorOffset",
                                "slotDomainUndefine", "slotDomainUndefineFlags",
                                "slotDomainRename", "slotDomainGetJobInfo",
                                "slotDomainGetJobStats", "slotDomainAbortJob",
                                "slotDomainAbortJobFlags",
                                "slotDomainSaveImageGetXMLDesc",
                                "slotDomainManagedSaveGetXMLDesc",
                                "slotDomainMigrateBegin3Params",
                                "slotDomainMigratePerform3Params")}, checks, ids


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = sys.argv[1]
    hv = struct_members(open(src + "/src/driver-hypervisor.h").read(),
                        "_virHypervisorDriver")
    conn = struct_members(open(src + "/src/driver.h").read(), "_virConnectDriver")
    libxl = open(src + "/src/libxl/libxl_driver.c").read()
    filled = filled_members(libxl, "virHypervisorDriver libxlHypervisorDriver")
    idx = {m: i for i, m in enumerate(hv)}
    lay, checks, ids = ours()
    errors = []

    def expect(what, got, want):
        if got != want:
            errors.append("%s: header says %s, libvirt says %s" % (what, want, got))

    expect("hvSize", 8 * len(hv), lay["hvSize"])
    expect("snapshotFirstSlot", idx[SNAPSHOT_SLOTS[0]], lay["snapshotFirstSlot"])
    for n, s in enumerate(SNAPSHOT_SLOTS):
        expect(s, idx[s], lay["snapshotFirstSlot"] + n)
        if s in filled:
            errors.append("%s is filled by the stock libxl driver" % s)
    expect("slotDomainUndefine", idx["domainUndefine"], lay["slotDomainUndefine"])
    expect("slotDomainUndefineFlags", idx["domainUndefineFlags"],
           lay["slotDomainUndefineFlags"])
    expect("slotDomainRename", idx["domainRename"], lay["slotDomainRename"])
    for member in ("domainGetJobInfo", "domainGetJobStats", "domainAbortJob",
                   "domainAbortJobFlags", "domainSaveImageGetXMLDesc",
                   "domainManagedSaveGetXMLDesc", "domainMigrateBegin3Params",
                   "domainMigratePerform3Params"):
        field = "slotD" + member[1:]
        expect(field, idx[member], lay[field])
    # three bools, then pointers
    expect("connUriSchemesOffset", 8 * (conn.index("uriSchemes") - 2),
           lay["connUriSchemesOffset"])
    expect("connHypervisorOffset", 8 * (conn.index("hypervisorDriver") - 2),
           lay["connHypervisorOffset"])
    expect("connSize", 8 * (len(conn) - 2), lay["connSize"])
    for i, f, w in checks:
        expect("check %s index" % w, idx[w], i)
        expect("check %s filled" % w, w in filled, f)
    print("source: %d members, %d filled by libxl, snapshot slots %d-%d"
          % (len(hv), len(filled), idx[SNAPSHOT_SLOTS[0]], idx[SNAPSHOT_SLOTS[-1]]))

    if len(sys.argv) > 2:
        so = sys.argv[2]
        notes = subprocess.run(["readelf", "-n", so], capture_output=True,
                               text=True, check=True).stdout
        bid = re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)
        if bid not in ids:
            errors.append("build-id %s of %s is not in the header" % (bid, so))
        relocs = subprocess.run(["readelf", "-rW", so], capture_output=True,
                                text=True, check=True).stdout
        offs = set(int(m, 16) for m in
                   re.findall(r"^([0-9a-f]{16})\s", relocs, re.M))
        want = sorted(idx[m] for m in filled | {"name"})
        bases = [o for o in offs
                 if all(o + 8 * i in offs for i in want)
                 and not any(o + 8 * i in offs for i in range(len(hv))
                             if hv[i] not in filled and hv[i] != "name")]
        if len(bases) != 1:
            errors.append("found %d candidate tables in %s" % (len(bases), so))
        else:
            print("module: build-id %s, table at +0x%x, exactly the %d expected "
                  "slots relocated" % (bid, bases[0], len(want)))
    for e in errors:
        print("MISMATCH:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
