#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
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


# Sizes on x86_64 of the member types met in the structs below; any
# other pointer is 8 bytes. virObjectLockable is a GObject (24 bytes)
# and a pthread mutex (40); virMutex is the mutex alone.
TYPE_SIZES = {"virObjectLockable": 64, "virObject": 24, "virMutex": 40,
              "virCond": 48, "unsigned int": 4, "int": 4, "bool": 1,
              "pid_t": 4, "virDomainStateReason": 8, "unsigned short": 2}
TYPE_ALIGN = {"virObjectLockable": 8, "virObject": 8, "virMutex": 8,
              "virCond": 8, "virDomainStateReason": 4}


def member_offsets(text, name):
    """Byte offset of each member of struct NAME, from its declarations."""
    m = re.search(r"struct %s \{(.*?)\n\};" % re.escape(name), text, re.S)
    if not m:
        sys.exit("cannot find struct %s" % name)
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    offsets, off, inbits = {}, 0, False
    for decl in body.split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        if ":" in decl:
            # consecutive unsigned int bit fields share one 4-byte unit
            if not inbits:
                off = (off + 3) // 4 * 4
                offsets[decl.split(":")[0].split()[-1]] = off
                off += 4
            inbits = True
            continue
        inbits = False
        if "*" in decl or "(" in decl:
            size, member = 8, re.split(r"[\s*()]+", decl.strip(" ()"))[-1]
            typ = "pointer"
        else:
            typ, member = decl.rsplit(" ", 1)
            size = TYPE_SIZES.get(typ, 8)
        align = TYPE_ALIGN.get(typ, min(size, 8))
        off = (off + align - 1) // align * align
        offsets[member] = off
        off += size
    return offsets


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
                                "slotDomainMigratePerform3Params",
                                "virConnectDriverOffset",
                                "virConnectPrivateDataOffset",
                                "libxlDriverDomainsOffset",
                                "libxlDriverXmloptOffset",
                                "diskDefSrcOffset", "jobModify",
                                "domainObjPrivateDataOffset",
                                "libxlDomainDeathWOffset",
                                "libxlDriverConfigOffset",
                                "libxlConfigCtxOffset")}, checks, ids


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
    datatypes = open(src + "/src/datatypes.h").read()
    conf = open(src + "/src/libxl/libxl_conf.h").read()
    domconf = open(src + "/src/conf/domain_conf.h").read()
    vconn = member_offsets(datatypes, "_virConnect")
    expect("virConnectDriverOffset", vconn["driver"], lay["virConnectDriverOffset"])
    expect("virConnectPrivateDataOffset", vconn["privateData"],
           lay["virConnectPrivateDataOffset"])
    ldrv = member_offsets(conf, "_libxlDriverPrivate")
    expect("libxlDriverDomainsOffset", ldrv["domains"], lay["libxlDriverDomainsOffset"])
    expect("libxlDriverXmloptOffset", ldrv["xmlopt"], lay["libxlDriverXmloptOffset"])
    disk = struct_members(domconf, "_virDomainDiskDef")
    expect("diskDefSrcOffset", 8 * disk.index("src"), lay["diskDefSrcOffset"])
    vobj = member_offsets(domconf, "_virDomainObj")
    expect("domainObjPrivateDataOffset", vobj["privateData"],
           lay["domainObjPrivateDataOffset"])
    lpriv = member_offsets(open(src + "/src/libxl/libxl_domain.h").read(),
                           "_libxlDomainObjPrivate")
    expect("libxlDomainDeathWOffset", lpriv["deathW"], lay["libxlDomainDeathWOffset"])
    expect("libxlDriverConfigOffset", ldrv["config"], lay["libxlDriverConfigOffset"])
    lcfg = member_offsets(conf, "_libxlDriverConfig")
    expect("libxlConfigCtxOffset", lcfg["ctx"], lay["libxlConfigCtxOffset"])
    jobs = open(src + "/src/conf/virdomainjob.h").read()
    enum = re.search(r"typedef enum \{(.*?)\} virDomainJob;", jobs, re.S).group(1)
    names = re.findall(r"^\s*(VIR_JOB_\w+)", enum, re.M)
    expect("jobModify", names.index("VIR_JOB_MODIFY"), lay["jobModify"])
    print("structs: virConnect.driver %d, .privateData %d; libxlDriverPrivate.config %d, "
          ".domains %d, .xmlopt %d; virDomainObj.privateData %d; deathW %d; "
          "libxlDriverConfig.ctx %d; VIR_JOB_MODIFY %d"
          % (vconn["driver"], vconn["privateData"], ldrv["config"], ldrv["domains"],
             ldrv["xmlopt"], vobj["privateData"], lpriv["deathW"], lcfg["ctx"],
             names.index("VIR_JOB_MODIFY")))
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
