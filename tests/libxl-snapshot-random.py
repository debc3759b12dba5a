#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seeded, model-based random test of the snapshot operations.

Run by tests/libxl-snapshot-random-test.sh on a simulated Xen host (see
docs/random-test.md). One domain per seed, with a qcow2 disk (xvda) and
a raw disk (xvdb), goes through random steps drawn from a seeded
generator: guest writes to disk regions and to guest memory, snapshot
creates of every kind, reverts, deletes, save/restore, managedsave and
start, shutdown and start, destroy and start, suspend/resume and libvirtd
restarts. A model records what every disk region and memory slot holds
now and in every snapshot; after every step the disks are read through
the chain QEMU serves (or the persistent config names, when the domain
is off), the memory is hashed, and the domain's state, snapshot tree,
current snapshot and managed-save image are compared with the model. An
operation refused with a libvirt error must change nothing: the model
stays as it was and the files, internal snapshots and store are compared
too. Refusals are counted by kind.

Environment (all optional):
  XSNAP_RANDOM_SEED=N        run this one seed (else XSNAP_RANDOM_SEEDS)
  XSNAP_RANDOM_SEEDS="a b"   seeds to run (default "1 2 3 4")
  XSNAP_RANDOM_STEPS=N       steps per seed (default 40)
  XSNAP_RANDOM_SKIP=a,b      leave out step kinds or checks (see --help)
  XSNAP_RANDOM_CORRUPT=N     corrupt the model after step N (self-test)
  XSNAP_RANDOM_MINIMIZE=1    shrink a failing history to a short one
  XSNAP_RANDOM_ACTIONS=FILE  replay the actions listed in FILE (JSON)
  XSNAP_RANDOM_STATS=FILE    append one JSON line of figures per seed
"""

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import libvirt

# ---- layout of the guest data -------------------------------------------

DISKS = (("xvda", "qcow2"), ("xvdb", "raw"))
DEVS = tuple(d for d, _ in DISKS)
DISK_SIZE = 4 * 1024 * 1024
NREG = 8                     # regions per disk
REG_LEN = 4096
REG_BASE = 64 * 1024         # region i starts at REG_BASE + i * REG_STRIDE,
REG_STRIDE = 512 * 1024      # clear of sector 0, where the real-Xen guest ticks
NSLOT = 8                    # memory slots
SLOT_LEN = 16
SLOT_STRIDE = 4096

STEP_KINDS = ("write", "offline-write", "memwrite", "create", "create-bad",
              "revert", "delete", "save-restore", "managedsave", "start",
              "shutdown-start", "destroy-start", "destroy", "suspend",
              "resume", "restart")
CHECK_KINDS = ("config", "live-xml", "defaults", "files", "sweep")
SUB_KINDS = ("delete-plain", "delete-children", "delete-metadata", "delete-children-only")
NAMES = tuple("s%d" % i for i in range(1, 9))

STEP_TIMEOUT = int(os.environ.get("XSNAP_RANDOM_STEP_TIMEOUT", "120"))


class TestFailure(Exception):
    """The product did something the model does not allow."""

    def __init__(self, kind, msg):
        Exception.__init__(self, "%s: %s" % (kind, msg))
        self.kind = kind


class StepTimeout(Exception):
    pass


def alarm(signum, frame):
    raise StepTimeout()


# ---- libvirt errors ------------------------------------------------------

ERR_NAMES = {}
for _n in dir(libvirt):
    if _n.startswith("VIR_ERR_") and isinstance(getattr(libvirt, _n), int):
        if _n in ("VIR_ERR_NONE", "VIR_ERR_WARNING", "VIR_ERR_ERROR"):
            continue
        ERR_NAMES.setdefault(getattr(libvirt, _n), _n[8:])

# Error messages that are product failures whatever their code: an
# operation that was accepted and then broke, or a snapshot made
# unusable (docs/random-test.md lists why each is here).
FAILURE_PATTERNS = (
    ("cannot commit an image into itself", "commit-into-itself"),
    ("has no internal snapshot named", "internal-snapshot-lost"),
    (r"opens image .* as '\w+', not '\w+'", "image-format-mismatch"),
    (r"memory snapshot file '/var/lib/libvirt/libxl/snapshot/[^']*' already exists",
     "stale-memory-image"),
)


def err_kind(e):
    code = e.get_error_code()
    msg = e.get_error_message() or ""
    short = re.sub(r"'[^']*'", "'…'", msg)
    short = re.sub(r"\d+", "N", short)
    return ERR_NAMES.get(code, str(code)), short[:90], msg


# ---- helpers around processes --------------------------------------------

def run(argv, check=True):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if check and p.returncode != 0:
        raise TestFailure("tool", "%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                         p.stdout.strip()))
    return p


class Host:
    """The simulated host: its libvirtd, its device models, its files."""

    def __init__(self):
        self.uri = os.environ["FX_URI"]
        self.ctl = os.environ["FX_CTL"]
        self.fxhost = os.environ["FX_HOST"]
        self.fxdir = os.environ["FX_DIR"]
        self.conn = None
        self.connect()
        self.nspid = run([self.fxhost, "nspid", self.fxdir]).stdout.strip()

    def connect(self):
        for _ in range(100):
            try:
                self.conn = libvirt.open(self.uri)
                return
            except libvirt.libvirtError:
                time.sleep(0.1)
        raise TestFailure("host", "cannot connect to %s" % self.uri)

    restart_text = "fakexen-host restart-libvirtd DIR"

    def restart_libvirtd(self):
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        run([self.fxhost, "restart-libvirtd", self.fxdir])
        self.connect()

    def inside(self, path):
        """Path of a file of the host's private /var, /run, seen from here."""
        return "/proc/%s/root%s" % (self.nspid, path)

    def qmp(self, dom, cmd):
        p = run([self.ctl, "qmp", dom, json.dumps(cmd)], check=False)
        if p.returncode != 0:
            raise TestFailure("qmp", "%s: %s" % (cmd["execute"], p.stdout.strip()))
        try:
            reply = json.loads(p.stdout)
        except ValueError:
            raise TestFailure("qmp", "%s: not JSON: %s" % (cmd["execute"], p.stdout))
        if "error" in reply:
            raise TestFailure("qmp", "%s: %s" % (cmd["execute"], reply["error"]))
        return reply["return"]

    def hmp_qemu_io(self, dom, dev, line):
        r = self.qmp(dom, {"execute": "human-monitor-command",
                           "arguments": {"command-line":
                                         'qemu-io %s "%s"' % (dev, line)}})
        # QEMU 7.2 answers "" whatever qemu-io printed; an error is text.
        if r != "":
            raise TestFailure("guest-io", "qemu-io %s %s: %s" % (dev, line, r))

    # -- what the tests need of a host: the guest's definition, its disk
    #    and memory writes, what its device model serves

    def domain_xml(self, name, uuid, disks):
        return ("<domain type='xen'><name>%s</name><uuid>%s</uuid>"
                "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64' machine='xenfv'>hvm</type></os>"
                "<devices>%s</devices></domain>" % (name, uuid, disks))

    def disk_write(self, dom, dev, off, length, v):
        """The guest writes byte V over LENGTH bytes at OFF, and flushes."""
        self.hmp_qemu_io(dom, dev, "write -P %d %d %d" % (v, off, length))
        self.hmp_qemu_io(dom, dev, "flush")
        return "guest"

    def mem_write(self, dom, slot, text):
        run([self.ctl, "mem-write", dom, str(slot * SLOT_STRIDE), text])
        return "fakexen-ctl mem-write %s %d %s" % (dom, slot * SLOT_STRIDE, text)

    def mem_mismatch(self, dom, mem):
        """How the guest's memory differs from the slots MEM ([] if not)."""
        size = int(run([self.ctl, "mem-size", dom]).stdout)
        blob = bytearray(size)
        for i, t in enumerate(mem):
            b = t.encode()
            blob[i * SLOT_STRIDE:i * SLOT_STRIDE + len(b)] = b
        if run([self.ctl, "mem-hash", dom]).stdout.strip() == hashlib.sha256(blob).hexdigest():
            return []
        slots = []
        for i in range(NSLOT):
            t = run([self.ctl, "mem-read", dom, str(i * SLOT_STRIDE),
                     str(SLOT_LEN)]).stdout.rstrip("\0")
            if t != mem[i]:
                slots.append("slot %d holds %r, model says %r" % (i, t, mem[i]))
        return slots or ["hash differs outside the slots"]

    def served(self, dom, imgdir):
        """dev -> (file, driver) of what the device model serves."""
        out = {}
        for b in self.qmp(dom, {"execute": "query-block"}):
            ins = b.get("inserted") or {}
            out[b["device"]] = (ins.get("file"), ins.get("drv"))
        return out

    shutdown_secs = 10

    def start_after_shutdown(self, d):
        d.create()


class RealXenHost:
    """Dom0 of a real Xen host (tests/realxen): the system libvirtd, and
    the test bed's PV guest (tests/realxen/guest), which writes its disks
    and keeps the memory slots in its own shell when told so on its
    console, and answers there."""

    restart_text = "systemctl restart libvirtd"
    shutdown_secs = 120

    def start_after_shutdown(self, d):
        # libvirt 9.0's libxl driver reports the domain shut off a moment
        # before its shutdown thread has torn it down, and refuses a start
        # meanwhile ("domain is already active"; docs/realxen.md).
        for _ in range(30):
            try:
                d.create()
                return
            except libvirt.libvirtError as e:
                if "already active" not in (e.get_error_message() or ""):
                    raise
            time.sleep(1)
        d.create()

    def __init__(self):
        self.uri = "xen:///system"
        self.fxdir = os.environ.get("XSNAP_RANDOM_DIR", "/var/lib/libvirt/images/random")
        self.guest = os.environ.get("XSNAP_RANDOM_GUEST", "/var/lib/realxen/guest")
        os.makedirs(self.fxdir, exist_ok=True)
        self.conn = None
        self.cmd_id = 0
        self.connect()

    connect = Host.connect

    def restart_libvirtd(self):
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        run(["timeout", "180", "systemctl", "restart", "libvirtd"])
        self.connect()

    def inside(self, path):
        return path

    def domain_xml(self, name, uuid, disks):
        return ("<domain type='xen'><name>%s</name><uuid>%s</uuid>"
                "<memory unit='MiB'>128</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64' machine='xenpv'>linux</type>"
                "<kernel>%s/vmlinuz</kernel><initrd>%s/initrd.gz</initrd>"
                "<cmdline>console=hvc0 loglevel=4 realxen.tick=3</cmdline></os>"
                "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
                "<on_crash>destroy</on_crash>"
                "<devices>%s<console type='pty'><target type='xen' port='0'/></console>"
                "</devices></domain>" % (name, uuid, self.guest, self.guest, disks))

    def guest_cmd(self, dom, text):
        """Sends "cmd ID TEXT" to the guest's console and returns the rest
        of its "result ID ok ..." line. Sent again (the same ID) while no
        answer comes: a guest that was still booting did not read it."""
        self.cmd_id += 1
        cid = "r%d.%d" % (os.getpid(), self.cmd_id)
        log = "/var/log/xen/console/guest-%s.log" % dom
        for _ in range(4):
            domid = self.conn.lookupByName(dom).ID()
            tty = run(["timeout", "30", "xenstore-read",
                       "/local/domain/%d/console/tty" % domid]).stdout.strip()
            mark = os.path.getsize(log) if os.path.exists(log) else 0
            fd = os.open(tty, os.O_WRONLY | os.O_NOCTTY)
            try:
                os.write(fd, ("cmd %s %s\n" % (cid, text)).encode())
            finally:
                os.close(fd)
            for _ in range(100):
                time.sleep(0.2)
                with open(log, "rb") as f:
                    f.seek(mark)
                    new = f.read().decode("ascii", "replace").replace("\r", "")
                m = re.search(r"^result %s (ok|fail)( .*)?$" % re.escape(cid), new, re.M)
                if m:
                    if m.group(1) != "ok":
                        raise TestFailure("guest-io", "%s: %s" % (text, m.group(0)))
                    return (m.group(2) or "").strip()
        raise TestFailure("guest-io", "%s: the guest did not answer 'cmd %s %s'" % (dom, cid, text))

    def disk_write(self, dom, dev, off, length, v):
        # The guest's own write, O_DIRECT and flushed (guest/init).
        self.guest_cmd(dom, "write %s %d %d %d" % (dev, off // 1024, length // 1024, v))

    def mem_write(self, dom, slot, text):
        self.guest_cmd(dom, "memset %d %s" % (slot, text))
        return "guest memset %d %s (in its shell's memory)" % (slot, text)

    def mem_mismatch(self, dom, mem):
        # A paused guest reads no console: its slots are checked once it
        # runs again (the model keeps them meanwhile).
        if self.conn.lookupByName(dom).state()[0] == libvirt.VIR_DOMAIN_PAUSED:
            return []
        got = self.guest_cmd(dom, "memdump").split("|")[1:]
        if len(got) != NSLOT:
            raise TestFailure("guest-io", "memdump answered %r" % got)
        return ["slot %d holds %r, model says %r" % (i, got[i], mem[i])
                for i in range(NSLOT) if got[i] != mem[i]]

    def qmp(self, dom, cmd):
        import socket
        domid = self.conn.lookupByName(dom).ID()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            s.connect("/var/run/xen/qmp-libxl-%d" % domid)
            f = s.makefile("rwb")
            f.readline()
            for c in ({"execute": "qmp_capabilities"}, cmd):
                f.write((json.dumps(c) + "\n").encode())
                f.flush()
                while True:
                    line = f.readline()
                    if not line:
                        raise TestFailure("qmp", "%s: connection closed" % c["execute"])
                    reply = json.loads(line)
                    if "return" in reply or "error" in reply:
                        break
                if "error" in reply:
                    raise TestFailure("qmp", "%s: %s" % (c["execute"], reply["error"]))
            return reply["return"]
        finally:
            s.close()

    def served(self, dom, imgdir):
        # A qdisk's query-block entry has no device name: each disk is
        # known by the image at the bottom of its chain, the one the test
        # created for it.
        bottoms = {os.path.join(imgdir, "%s.%s" % (d, f)): d for d, f in DISKS}
        out = {}
        for b in self.qmp(dom, {"execute": "query-block"}):
            ins = b.get("inserted") or {}
            img = ins.get("image") or {}
            while img.get("backing-image"):
                img = img["backing-image"]
            dev = bottoms.get(img.get("filename"))
            if dev:
                out[dev] = (ins.get("file"), ins.get("drv"))
        for dev in DEVS:
            if dev not in out:
                raise TestFailure("qmp", "query-block: no disk rests on %s" %
                                  os.path.join(imgdir, dev))
        return out


# ---- the model -------------------------------------------------------------

class Snap:
    def __init__(self, name, parent, disks, mem, state):
        self.name = name
        self.parent = parent
        self.disks = disks        # dev -> tuple of region values, or None (snapshot=no)
        self.mem = mem            # tuple of slot texts, or None (no memory)
        self.state = state        # running, paused, disk-snapshot, shutoff


class Model:
    def __init__(self):
        self.state = "shutoff"
        self.disks = {d: [0] * NREG for d in DEVS}
        self.mem = None           # list of slot texts while the domain runs
        self.managed = None       # memory in the managed-save image
        self.snaps = {}
        self.current = None

    def copy(self):
        m = Model()
        m.state = self.state
        m.disks = {d: list(v) for d, v in self.disks.items()}
        m.mem = list(self.mem) if self.mem is not None else None
        m.managed = self.managed
        m.snaps = {n: Snap(s.name, s.parent, dict(s.disks), s.mem, s.state)
                   for n, s in self.snaps.items()}
        m.current = self.current
        return m

    def active(self):
        return self.state in ("running", "paused")

    def children(self, name):
        return sorted(n for n, s in self.snaps.items() if s.parent == name)

    def descendants(self, name):
        out = []
        todo = [name]
        while todo:
            for c in self.children(todo.pop()):
                out.append(c)
                todo.append(c)
        return out

    def fresh_memory(self):
        self.mem = [""] * NSLOT


# ---- the test of one seed ------------------------------------------------

def describe_create(dom, a, imgdir):
    args = ["snapshot-create-as", dom, a["name"]]
    if a["kind"] == "disk-only":
        args.append("--disk-only")
    if a.get("live"):
        args.append("--live")
    if a.get("halt"):
        args.append("--halt")
    if a.get("memfile"):
        args += ["--memspec", "file=%s" % os.path.join(imgdir, a["memfile"])]
    for dev in DEVS:
        spec = a["disks"].get(dev)
        if spec:
            s = "%s,snapshot=%s" % (dev, spec["snapshot"])
            if spec.get("file"):
                s += ",file=%s" % os.path.join(imgdir, spec["file"])
            args += ["--diskspec", s]
    return " ".join(args)


class Run:
    def __init__(self, host, seed, nsteps, skip, dom, actions=None, corrupt=0):
        self.host = host
        self.seed = seed
        self.nsteps = nsteps
        self.skip = skip
        self.dom = dom
        self.rng = random.Random(seed)
        self.actions = actions              # replayed instead of drawn
        self.corrupt = corrupt
        self.model = Model()
        self.history = []                   # (step, text, outcome)
        self.done = []                      # the actions run, for replay
        self.refusals = {}
        self.ops = {}
        self.pattern = 0
        self.memcount = 0
        self.extfile = 0
        self.step = 0
        self.imgdir = os.path.join(host.fxdir, "r", dom)
        self.store = host.inside("/var/lib/libvirt/libxl/snapshot/%s" % dom)
        self.in_sweep = False

    def path(self, name):
        return os.path.join(self.imgdir, name)

    # -- libvirt handles

    def d(self):
        return self.host.conn.lookupByName(self.dom)

    def log(self, text, outcome="ok"):
        self.history.append((self.step, text, outcome))

    # -- set up and tear down

    def setup(self):
        run(["rm", "-rf", self.imgdir, self.store])
        os.makedirs(self.imgdir)
        paths = {}
        for dev, fmt in DISKS:
            p = os.path.join(self.imgdir, "%s.%s" % (dev, fmt))
            run(["qemu-img", "create", "-q", "-f", fmt, p, str(DISK_SIZE)])
            paths[dev] = (p, fmt)
        uu = hashlib.sha256(self.dom.encode()).hexdigest()
        uuid = "%s-%s-%s-%s-%s" % (uu[:8], uu[8:12], uu[12:16], uu[16:20], uu[20:32])
        disks = "".join(
            "<disk type='file' device='disk'><driver name='qemu' type='%s'/>"
            "<source file='%s'/><target dev='%s' bus='xen'/></disk>" % (fmt, p, dev)
            for dev, (p, fmt) in paths.items())
        self.host.conn.defineXML(self.host.domain_xml(self.dom, uuid, disks))
        self.d().create()
        self.model.state = "running"
        self.model.fresh_memory()
        self.log("define %s (xvda qcow2, xvdb raw); start %s" % (self.dom, self.dom))

    def teardown(self, keep):
        """Destroys and undefines the domain with its snapshot metadata and
        managed-save image; returns the files that left in the store."""
        try:
            d = self.d()
            if d.isActive():
                d.destroy()
            d.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                            libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        except libvirt.libvirtError:
            pass
        left = sorted(os.listdir(self.store)) if os.path.isdir(self.store) else []
        # The next domain of this name must not meet them.
        run(["rm", "-rf", self.store], check=False)
        if not keep:
            run(["rm", "-rf", self.imgdir], check=False)
        return left

    # -- what the host shows

    def config_disks(self, flags):
        root = ET.fromstring(self.d().XMLDesc(flags))
        out = {}
        for disk in root.iter("disk"):
            dev = disk.find("target").get("dev")
            src = disk.find("source")
            drv = disk.find("driver")
            out[dev] = (src.get("file") if src is not None else None,
                        drv.get("type") if drv is not None else None)
        return out

    def served(self):
        return self.host.served(self.dom, self.imgdir)

    def read_regions(self, path, fmt, want):
        """The regions of an image (read through its chain) that do not
        hold what WANT says, as {region: value found}."""
        argv = ["qemu-io", "-r", "-U", "-f", fmt]
        for i, v in enumerate(want):
            argv += ["-c", "read -P %d %d %d" % (v, REG_BASE + i * REG_STRIDE, REG_LEN)]
        p = run(argv + [path], check=False)
        out = p.stdout
        bad = []
        reads = 0
        failed = False
        for line in out.splitlines():
            if "Pattern verification failed" in line:
                failed = True
            elif line.startswith("read %d/%d bytes" % (REG_LEN, REG_LEN)):
                if failed:
                    bad.append(reads)
                reads += 1
                failed = False
        if reads != len(want) or (p.returncode != 0 and not bad):
            raise TestFailure("disk-read", "qemu-io %s (%s): exit %d: %s" %
                              (path, fmt, p.returncode, out.strip()[:500]))
        found = {}
        for i in bad:
            q = run(["qemu-io", "-r", "-U", "-f", fmt, "-c",
                     "read -v %d 16" % (REG_BASE + i * REG_STRIDE), path], check=False)
            m = re.search(r"^[0-9a-f]{8}:\s+([0-9a-f]{2})", q.stdout, re.M)
            found[i] = int(m.group(1), 16) if m else None
        return found

    def fingerprint(self):
        """What a refused operation must not change, beyond the model:
        the image files, their internal snapshots, the snapshot store."""
        fp = {}
        for f in sorted(os.listdir(self.imgdir)):
            p = os.path.join(self.imgdir, f)
            snaps = ""
            with open(p, "rb") as fh:
                if fh.read(4) == b"QFI\xfb":
                    q = run(["qemu-img", "snapshot", "-U", "-l", p], check=False)
                    snaps = " ".join(l.split()[1] for l in q.stdout.splitlines()[2:]
                                     if len(l.split()) > 1)
            fp["img/" + f] = snaps
        if os.path.isdir(self.store):
            for f in sorted(os.listdir(self.store)):
                fp["store/" + f] = ""
        return fp

    # -- the check after every step

    def check(self, what):
        m = self.model
        d = self.d()
        st = d.state()[0]
        names = {libvirt.VIR_DOMAIN_RUNNING: "running",
                 libvirt.VIR_DOMAIN_PAUSED: "paused",
                 libvirt.VIR_DOMAIN_SHUTOFF: "shutoff"}
        got = names.get(st, "state-%d" % st)
        if got != m.state:
            raise TestFailure("state", "domain is %s, model says %s" % (got, m.state))
        managed = d.hasManagedSaveImage() == 1
        if managed != (m.managed is not None):
            raise TestFailure("managed-save", "managed-save image %s, model says %s" %
                              ("present" if managed else "absent",
                               "present" if m.managed is not None else "absent"))
        # The snapshot tree and the current snapshot.
        tree = {}
        for s in d.listAllSnapshots():
            try:
                tree[s.getName()] = s.getParent().getName()
            except libvirt.libvirtError:
                tree[s.getName()] = None
        want = {n: s.parent for n, s in m.snaps.items()}
        if tree != want:
            raise TestFailure("tree", "snapshots %s, model says %s" %
                              (sorted(tree.items(), key=str), sorted(want.items(), key=str)))
        try:
            cur = d.snapshotCurrent().getName()
        except libvirt.libvirtError:
            cur = None
        if cur != m.current:
            raise TestFailure("current", "current snapshot is %s, model says %s" %
                              (cur, m.current))
        # The images, and which views name them.
        cfg = self.config_disks(libvirt.VIR_DOMAIN_XML_INACTIVE)
        if m.active():
            srv = self.served()
            live = self.config_disks(0)
            for dev in DEVS:
                if "config" not in self.skip and srv[dev][0] != cfg[dev][0]:
                    raise TestFailure("config", "%s: QEMU serves %s, the persistent config names %s"
                                      % (dev, srv[dev][0], cfg[dev][0]))
                if "live-xml" not in self.skip and live[dev][0] != srv[dev][0]:
                    raise TestFailure("live-xml", "%s: QEMU serves %s, the live definition names %s"
                                      % (dev, srv[dev][0], live[dev][0]))
            images = srv
        else:
            images = cfg
        for dev in DEVS:
            path, fmt = images[dev]
            found = self.read_regions(path, fmt, m.disks[dev])
            if found:
                raise TestFailure("disk-content", "%s (%s as %s): %s" % (
                    dev, path, fmt, "; ".join(
                        "region %d holds %s, model says %s" %
                        (i, self.explain(v), self.explain(m.disks[dev][i]))
                        for i, v in sorted(found.items()))))
        if m.active():
            bad = self.host.mem_mismatch(self.dom, m.mem)
            if bad:
                raise TestFailure("memory", "; ".join(bad))

    def explain(self, v):
        if v is None:
            return "unreadable"
        if v == 0:
            return "0x00 (never written)"
        return "0x%02x (written at step %s)" % (v, self.written.get(v, "?"))

    # -- drawing the next action from the model

    def free_name(self):
        for n in NAMES:
            if n not in self.model.snaps:
                return n
        return None

    def draw(self):
        m = self.model
        r = self.rng
        w = {}
        if m.state == "running":
            w.update({"write": 25, "memwrite": 8, "create": 22, "create-bad": 2,
                      "revert": 12, "delete": 10, "save-restore": 4, "managedsave": 4,
                      "shutdown-start": 3, "destroy-start": 3, "destroy": 3,
                      "suspend": 3, "restart": 3})
        elif m.state == "paused":
            w.update({"memwrite": 5, "create": 15, "create-bad": 1, "revert": 8,
                      "delete": 6, "resume": 20, "destroy": 2, "restart": 2})
        elif m.managed is not None:
            w.update({"start": 30, "revert": 6, "delete": 4, "create": 3, "restart": 2})
        else:
            w.update({"start": 15, "offline-write": 15, "create": 15, "create-bad": 1,
                      "revert": 8, "delete": 6, "restart": 2})
        if not m.snaps:
            w.pop("revert", None)
            w.pop("delete", None)
        if self.free_name() is None:
            w.pop("create", None)
        for k in self.skip:
            w.pop(k, None)
        kinds = sorted(w)
        kind = r.choices(kinds, weights=[w[k] for k in kinds])[0]
        a = {"op": kind}
        if kind in ("write", "offline-write"):
            a["dev"] = r.choice(DEVS)
            a["reg"] = r.randrange(NREG)
        elif kind == "memwrite":
            a["slot"] = r.randrange(NSLOT)
        elif kind == "create":
            a.update(self.draw_create())
        elif kind == "create-bad":
            a["name"] = self.free_name() or "bad"
            a["why"] = r.choice(["live-disk-only", "all-disks-no"] +
                                (["memory-offline"] if not m.active() else []))
        elif kind == "revert":
            a["name"] = r.choice(sorted(m.snaps))
            a["start"] = r.choice(["", "", "running", "paused"])
            a["force"] = r.random() < 0.4
        elif kind == "delete":
            a["name"] = r.choice(sorted(m.snaps))
            hows = {"plain": 50, "children": 20, "metadata": 15, "children-only": 15}
            for h in list(hows):
                if "delete-" + h in self.skip:
                    del hows[h]
            a["how"] = r.choices(sorted(hows), weights=[hows[h] for h in sorted(hows)])[0]
        return a

    def draw_create(self):
        m = self.model
        r = self.rng
        a = {"name": self.free_name(), "disks": {}}
        if m.active():
            a["kind"] = r.choice(["memory", "memory", "disk-only"])
        else:
            a["kind"] = r.choice(["offline", "offline", "disk-only"])
        if a["kind"] == "memory":
            a["live"] = m.state == "running" and r.random() < 0.3
            a["halt"] = r.random() < 0.08
            if r.random() < 0.2:
                self.extfile += 1
                a["memfile"] = "mem.%s.%d" % (a["name"], self.extfile)
        for dev in DEVS:
            c = r.choices(["default", "external", "internal", "no"],
                          weights=[40, 28, 22, 10])[0]
            if c == "default":
                continue
            spec = {"snapshot": c}
            if c == "external" and r.random() < 0.25:
                self.extfile += 1
                spec["file"] = "%s.ext%d" % (dev, self.extfile)
            a["disks"][dev] = spec
        if all(a["disks"].get(dev, {}).get("snapshot") == "no" for dev in DEVS):
            del a["disks"][r.choice(DEVS)]
        return a

    # -- applying an action; returns (description, model after, must-refuse)

    def act(self, a):
        op = a["op"]
        self.ops[op] = self.ops.get(op, 0) + 1
        return getattr(self, "do_" + op.replace("-", "_"))(a)

    def next_pattern(self):
        self.pattern = self.pattern % 255 + 1
        self.written[self.pattern] = self.step
        return self.pattern

    def do_write(self, a):
        m = self.model
        if m.state != "running":
            return None
        v = self.next_pattern()
        off = REG_BASE + a["reg"] * REG_STRIDE
        self.host.disk_write(self.dom, a["dev"], off, REG_LEN, v)
        m.disks[a["dev"]][a["reg"]] = v
        self.log("guest writes 0x%02x to %s region %d (offset %d, %d bytes)" %
                 (v, a["dev"], a["reg"], off, REG_LEN))
        return True

    def do_offline_write(self, a):
        m = self.model
        if m.state != "shutoff" or m.managed is not None:
            return None
        path, fmt = self.config_disks(libvirt.VIR_DOMAIN_XML_INACTIVE)[a["dev"]]
        v = self.next_pattern()
        off = REG_BASE + a["reg"] * REG_STRIDE
        run(["qemu-io", "-f", fmt, "-c", "write -P %d %d %d" % (v, off, REG_LEN), path])
        m.disks[a["dev"]][a["reg"]] = v
        self.log("qemu-io -f %s -c 'write -P 0x%02x %d %d' %s  (domain off)" %
                 (fmt, v, off, REG_LEN, path))
        return True

    def do_memwrite(self, a):
        m = self.model
        if not m.active():
            return None
        self.memcount += 1
        t = ("m%d.%d" % (self.step, self.memcount)).ljust(SLOT_LEN, "-")[:SLOT_LEN]
        m.mem[a["slot"]] = t
        self.log(self.host.mem_write(self.dom, a["slot"], t))
        return True

    def snapshot_xml(self, a):
        x = "<domainsnapshot><name>%s</name>" % a["name"]
        if a.get("memfile"):
            x += "<memory snapshot='external' file='%s'/>" % self.path(a["memfile"])
        if a["disks"]:
            x += "<disks>"
            for dev in DEVS:
                spec = a["disks"].get(dev)
                if not spec:
                    continue
                x += "<disk name='%s' snapshot='%s'>" % (dev, spec["snapshot"])
                if spec.get("file"):
                    x += "<source file='%s'/>" % self.path(spec["file"])
                x += "</disk>"
            x += "</disks>"
        return x + "</domainsnapshot>"

    def do_create(self, a):
        m = self.model
        if a["name"] in m.snaps:
            return None
        if a["kind"] == "memory" and not m.active():
            return None
        if a["kind"] == "offline" and m.active():
            return None
        flags = 0
        if a["kind"] == "disk-only":
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
        if a.get("live"):
            if m.state != "running":
                return None
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE
        if a.get("halt"):
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_HALT
        text = "virsh " + describe_create(self.dom, a, self.imgdir)
        new = m.copy()
        disks = {dev: (None if a["disks"].get(dev, {}).get("snapshot") == "no"
                       else tuple(m.disks[dev])) for dev in DEVS}
        if a["kind"] == "memory":
            state, mem = m.state, tuple(m.mem)
        elif m.active():
            state, mem = "disk-snapshot", None
        else:
            state, mem = "shutoff", None
        new.snaps[a["name"]] = Snap(a["name"], m.current, disks, mem, state)
        new.current = a["name"]
        if a.get("halt"):
            new.state = "shutoff"
            new.mem = None
        return self.attempt(text, lambda: self.d().snapshotCreateXML(self.snapshot_xml(a), flags),
                            new, None, lambda: self.check_created(a, m.active()))

    def check_created(self, a, active):
        """The snapshot's disks are what was asked, and libvirt's defaults
        elsewhere: external for --disk-only and with memory (which is always
        external here), internal only for a shut-off domain."""
        if "defaults" in self.skip:
            return
        root = ET.fromstring(self.d().snapshotLookupByName(a["name"]).getXMLDesc())
        got = {}
        disks = root.find("disks")
        for disk in (disks if disks is not None else []):
            got[disk.get("name")] = disk.get("snapshot")
        for dev in DEVS:
            spec = a["disks"].get(dev)
            if spec:
                want = spec["snapshot"]
            elif a["kind"] in ("disk-only", "memory"):
                want = "external"
            else:
                continue
            if got.get(dev) != want:
                raise TestFailure("defaults", "snapshot %s: disk %s is %s, libvirt makes it %s%s" %
                                  (a["name"], dev, got.get(dev), want,
                                   "" if spec else " (no --diskspec)"))

    def do_create_bad(self, a):
        m = self.model
        why = a["why"]
        b = {"name": a["name"], "disks": {}}
        if why == "live-disk-only":
            b["kind"] = "disk-only"
            flags = (libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY |
                     libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE)
            text = "virsh " + describe_create(self.dom, b, self.imgdir) + " --live"
        elif why == "all-disks-no":
            b["kind"] = "disk-only"
            b["disks"] = {dev: {"snapshot": "no"} for dev in DEVS}
            flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
            text = "virsh " + describe_create(self.dom, b, self.imgdir)
        else:
            if m.active():
                return None
            b["kind"] = "memory"
            b["memfile"] = "mem.offline"
            flags = 0
            text = "virsh " + describe_create(self.dom, b, self.imgdir) + "  (domain off)"
        return self.attempt(text, lambda: self.d().snapshotCreateXML(self.snapshot_xml(b), flags),
                            m.copy(), "refused: %s" % why)

    def do_revert(self, a):
        m = self.model
        s = m.snaps.get(a["name"])
        if s is None:
            return None
        flags = 0
        args = ["snapshot-revert", self.dom, a["name"]]
        if a["start"] == "running":
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING
        elif a["start"] == "paused":
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED
        if a["start"]:
            args.append("--" + a["start"])
        if a["force"]:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE
            args.append("--force")
        must_refuse = None
        if not a["force"] and s.mem is None:
            if a["start"] and m.active():
                must_refuse = "REVERT_RISKY: respawn a running guest"
            elif m.managed is not None:
                must_refuse = "REVERT_RISKY: managed-save image"
        new = m.copy()
        for dev in DEVS:
            if s.disks[dev] is not None:
                new.disks[dev] = list(s.disks[dev])
            else:
                new.disks[dev] = None       # not in the snapshot: learnt after
        if s.mem is not None:
            new.mem = list(s.mem)
            paused = a["start"] == "paused" or (s.state == "paused" and a["start"] != "running")
            new.state = "paused" if paused else "running"
        elif a["start"]:
            new.state = a["start"]
            new.fresh_memory()
        else:
            new.state = "shutoff"
            new.mem = None
        new.managed = None
        new.current = a["name"]
        return self.attempt("virsh " + " ".join(args),
                            lambda: self.d().revertToSnapshot(
                                self.d().snapshotLookupByName(a["name"]), flags),
                            new, must_refuse)

    def do_delete(self, a):
        m = self.model
        s = m.snaps.get(a["name"])
        if s is None:
            return None
        flags = {"plain": 0,
                 "children": libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN,
                 "metadata": libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY,
                 "children-only": libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY}[a["how"]]
        text = "virsh snapshot-delete %s %s%s" % (
            self.dom, a["name"], "" if a["how"] == "plain" else " --" + a["how"])
        new = m.copy()
        if a["how"] in ("plain", "metadata"):
            gone = [a["name"]]
            for c in m.children(a["name"]):
                new.snaps[c].parent = s.parent
            if m.current == a["name"]:
                new.current = s.parent
        elif a["how"] == "children":
            gone = [a["name"]] + m.descendants(a["name"])
            if m.current in gone:
                new.current = s.parent
        else:
            gone = m.descendants(a["name"])
            if m.current in gone:
                new.current = a["name"]
        for n in gone:
            del new.snaps[n]
        return self.attempt(text, lambda: self.d().snapshotLookupByName(a["name"]).delete(flags),
                            new, None)

    def do_save_restore(self, a):
        m = self.model
        if not m.active():
            return None
        f = os.path.join(self.imgdir, "saved")
        flags = libvirt.VIR_DOMAIN_SAVE_PAUSED if m.state == "paused" else 0

        def op():
            self.d().save(f)
            self.host.conn.restoreFlags(f, None, flags)
            os.unlink(f)
        return self.attempt("virsh save %s %s; virsh restore %s%s" %
                            (self.dom, f, f, " --paused" if flags else ""), op, m.copy(), None)

    def do_managedsave(self, a):
        m = self.model
        if m.state != "running":
            return None
        new = m.copy()
        new.managed = tuple(m.mem)
        new.state = "shutoff"
        new.mem = None
        return self.attempt("virsh managedsave %s" % self.dom, lambda: self.d().managedSave(),
                            new, None)

    def do_start(self, a):
        m = self.model
        if m.state != "shutoff":
            return None
        new = m.copy()
        new.state = "running"
        if m.managed is not None:
            new.mem = list(m.managed)
            new.managed = None
        else:
            new.fresh_memory()
        return self.attempt("virsh start %s%s" % (self.dom, "  (managed-save image)"
                                                  if m.managed is not None else ""),
                            lambda: self.d().create(), new, None)

    def wait_shutoff(self):
        for _ in range(self.host.shutdown_secs * 20):
            if self.d().state()[0] == libvirt.VIR_DOMAIN_SHUTOFF:
                return
            time.sleep(0.05)
        raise TestFailure("state", "the domain did not shut off after shutdown")

    def do_shutdown_start(self, a):
        m = self.model
        if m.state != "running":
            return None
        new = m.copy()
        new.fresh_memory()

        def op():
            self.d().shutdown()
            self.wait_shutoff()
            self.host.start_after_shutdown(self.d())
        return self.attempt("virsh shutdown %s; (wait until shut off); virsh start %s" %
                            (self.dom, self.dom), op, new, None)

    def do_destroy_start(self, a):
        m = self.model
        if m.state != "running":
            return None
        new = m.copy()
        new.fresh_memory()

        def op():
            self.d().destroy()
            self.d().create()
        return self.attempt("virsh destroy %s; virsh start %s" % (self.dom, self.dom),
                            op, new, None)

    def do_destroy(self, a):
        m = self.model
        if not m.active():
            return None
        new = m.copy()
        new.state = "shutoff"
        new.mem = None
        return self.attempt("virsh destroy %s" % self.dom, lambda: self.d().destroy(), new, None)

    def do_suspend(self, a):
        if self.model.state != "running":
            return None
        new = self.model.copy()
        new.state = "paused"
        return self.attempt("virsh suspend %s" % self.dom, lambda: self.d().suspend(), new, None)

    def do_resume(self, a):
        if self.model.state != "paused":
            return None
        new = self.model.copy()
        new.state = "running"
        return self.attempt("virsh resume %s" % self.dom, lambda: self.d().resume(), new, None)

    def do_restart(self, a):
        return self.attempt(self.host.restart_text,
                            self.host.restart_libvirtd, self.model.copy(), None)

    # -- the common part: run, then either the new model or nothing changed

    def attempt(self, text, op, new, must_refuse, after_ok=None):
        lifecycle = not text.startswith("virsh snapshot-")
        before = self.fingerprint() if not lifecycle and "files" not in self.skip else None
        try:
            op()
        except libvirt.libvirtError as e:
            code, short, msg = err_kind(e)
            kind = "%s %s" % (code, short)
            for pat, name in FAILURE_PATTERNS:
                if re.search(pat, msg):
                    self.log(text, "FAILED: %s" % msg)
                    raise TestFailure(name, "%s: %s" % (text, msg))
            if lifecycle or code in ("INTERNAL_ERROR", "SYSTEM_ERROR", "RPC", "NO_CONNECT"):
                self.log(text, "FAILED: %s" % msg)
                raise TestFailure("operation-failed", "%s: %s (%s)" % (text, msg, code))
            if self.in_sweep:
                kind = "sweep: " + kind
            self.refusals[kind] = self.refusals.get(kind, 0) + 1
            self.log(text, "refused: %s: %s" % (code, msg))
            try:
                self.check("after a refusal")
            except TestFailure as f:
                raise TestFailure("refused-but-changed/" + f.kind,
                                  "%s was refused (%s) but changed the domain: %s" %
                                  (text, msg, f))
            if before is not None:
                after = self.fingerprint()
                if after != before:
                    diff = sorted(set(after.items()) ^ set(before.items()))
                    raise TestFailure("refused-but-changed/files",
                                      "%s was refused (%s) but changed files: %s" %
                                      (text, msg, diff))
            return "refused"
        if must_refuse:
            self.log(text, "accepted, but libvirt refuses (%s)" % must_refuse)
            raise TestFailure("not-refused", "%s succeeded; libvirt refuses it: %s" %
                              (text, must_refuse))
        self.log(text)
        self.model = new
        self.learn_unknown()
        if after_ok:
            after_ok()
        return True

    def learn_unknown(self):
        """A disk a reverted snapshot did not include holds what its image
        holds: take it into the model as it is."""
        m = self.model
        for dev in DEVS:
            if m.disks[dev] is not None:
                continue
            if m.active():
                path, fmt = self.served()[dev]
            else:
                path, fmt = self.config_disks(libvirt.VIR_DOMAIN_XML_INACTIVE)[dev]
            found = self.read_regions(path, fmt, [0] * NREG)
            m.disks[dev] = [found.get(i, 0) for i in range(NREG)]
            if None in m.disks[dev]:
                raise TestFailure("disk-read", "%s: unreadable region in %s" % (dev, path))
            self.history[-1] = self.history[-1][:2] + (
                "ok; %s (not in the snapshot) holds %s" % (dev, m.disks[dev]),)

    # -- the run

    def main(self):
        self.written = {}
        signal.signal(signal.SIGALRM, alarm)
        signal.alarm(STEP_TIMEOUT)
        self.setup()
        self.check("after start")
        signal.alarm(0)
        todo = list(self.actions) if self.actions is not None else None
        while self.step < self.nsteps:
            if todo is not None:
                if not todo:
                    break
                a = todo.pop(0)
            else:
                a = self.draw()
            self.step += 1
            signal.alarm(STEP_TIMEOUT)
            try:
                self.done.append(a)
                r = self.act(a)
                if r is None:           # not possible in this state (a replay)
                    self.done.pop()
                    self.step -= 1
                    continue
                if self.corrupt and self.step == self.corrupt:
                    dev = DEVS[0]
                    self.model.disks[dev][0] = (self.model.disks[dev][0] + 1) % 256
                    self.log("(the test corrupts its model: %s region 0 is now said to "
                             "hold 0x%02x)" % (dev, self.model.disks[dev][0]))
                self.check("after step %d" % self.step)
            except StepTimeout:
                raise TestFailure("timeout", "step %d took more than %d s" %
                                  (self.step, STEP_TIMEOUT))
            finally:
                signal.alarm(0)
        if todo is None and "sweep" not in self.skip:
            self.sweep()
        return True

    def sweep(self):
        """After the random steps: revert to every snapshot (each must bring
        back what the model holds for it), then delete them all, the domain's
        data staying as it is. Refusals here are counted as 'sweep'."""
        self.in_sweep = True
        m = self.model
        plan = [{"op": "revert", "name": n, "start": "", "force": True}
                for n in sorted(m.snaps)]
        for a in plan:
            self.sweep_step(a)
        while self.model.snaps:
            m = self.model
            leaves = sorted(n for n in m.snaps if not m.children(n))
            before = len(m.snaps)
            for n in leaves:
                self.sweep_step({"op": "delete", "name": n, "how": "plain"})
            if len(self.model.snaps) == before:
                # Stuck: drop the leaves with --metadata, as a user would.
                for n in leaves:
                    self.sweep_step({"op": "delete", "name": n, "how": "metadata"})
                if len(self.model.snaps) == before:
                    raise TestFailure("sweep", "snapshots %s cannot be deleted, "
                                      "not even with --metadata" % sorted(self.model.snaps))

    def sweep_step(self, a):
        if a["name"] not in self.model.snaps:
            return
        self.step += 1
        signal.alarm(STEP_TIMEOUT)
        try:
            self.done.append(a)
            if self.act(a) == "refused":
                text, why = self.history[-1][1], self.history[-1][2]
                self.history[-1] = (self.step, text, "sweep " + why)
            self.check("after step %d" % self.step)
        except StepTimeout:
            raise TestFailure("timeout", "step %d took more than %d s" %
                              (self.step, STEP_TIMEOUT))
        finally:
            signal.alarm(0)


# ---- driving seeds, reporting, minimizing ---------------------------------

def replay_line(seed, steps, skip):
    env = "XSNAP_RANDOM_SEED=%d XSNAP_RANDOM_STEPS=%d" % (seed, steps)
    if skip:
        env += " XSNAP_RANDOM_SKIP=%s" % ",".join(sorted(skip))
    return env + " make check TESTS=tests/libxl-snapshot-random-test.sh"


def actions_line(actions, skip):
    env = "XSNAP_RANDOM_ACTIONS='%s'" % json.dumps(actions, separators=(",", ":"))
    if skip:
        env += " XSNAP_RANDOM_SKIP=%s" % ",".join(sorted(skip))
    return env + " make check TESTS=tests/libxl-snapshot-random-test.sh"


def run_one(host, seed, nsteps, skip, dom, actions=None, corrupt=0, keep_on_fail=True):
    r = Run(host, seed, nsteps, skip, dom, actions, corrupt)
    t0 = time.time()
    err = None
    try:
        r.main()
    except TestFailure as e:
        err = e
    except libvirt.libvirtError as e:
        err = TestFailure("libvirt", "unexpected libvirt error: %s" % e)
    except StepTimeout:
        err = TestFailure("timeout", "set-up took more than %d s" % STEP_TIMEOUT)
    finally:
        signal.alarm(0)
    r.elapsed = time.time() - t0
    r.error = err
    left = r.teardown(keep=err is not None and keep_on_fail)
    if err is None and left and "files" not in skip:
        r.log("virsh undefine %s --snapshots-metadata --managed-save" % dom,
              "left in the store: %s" % " ".join(left))
        r.error = TestFailure("stale-files", "undefine --snapshots-metadata --managed-save "
                              "left %s in the snapshot store" % " ".join(left))
    return r


def print_history(r, out):
    for step, text, outcome in r.history:
        out.write("  %3d  %s%s\n" % (step, text, "" if outcome == "ok" else "   -> " + outcome))


def minimize(host, r, skip):
    """Shrinks the actions of a failed run while a replay still fails with
    the same kind of failure: drops chunks of actions, halving their size
    (as delta debugging does), then single actions from the end. An
    action a shorter history makes impossible (a revert to a snapshot
    never made) is skipped by the replay."""
    actions = list(r.done)
    kind = r.error.kind
    best = r
    tries = [0]
    budget = int(os.environ.get("XSNAP_RANDOM_MINIMIZE_TRIES", "150"))

    def fails(cand):
        tries[0] += 1
        t = run_one(host, r.seed, len(cand), skip, "%sm%d" % (r.dom, tries[0]), cand,
                    keep_on_fail=False)
        sys.stderr.write("  minimize: try %d, %d actions: %s\n" %
                         (tries[0], len(cand), t.error.kind if t.error else "passes"))
        return t if t.error is not None and t.error.kind == kind else None

    n = 2
    while len(actions) >= 2 and tries[0] < budget:
        chunk = (len(actions) + n - 1) // n
        for start in range(0, len(actions), chunk):
            cand = actions[:start] + actions[start + chunk:]
            t = fails(cand) if cand else None
            if t:
                actions, best = cand, t
                n = max(n - 1, 2)
                break
            if tries[0] >= budget:
                break
        else:
            if chunk == 1:
                break
            n = min(n * 2, len(actions))
    i = len(actions) - 1
    while i >= 0 and tries[0] < budget and len(actions) > 1:
        cand = actions[:i] + actions[i + 1:]
        t = fails(cand)
        if t:
            actions, best = cand, t
        i -= 1
    return actions, best


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        print("Step kinds: %s\nChecks: %s\nDelete kinds: %s" % (
            " ".join(STEP_KINDS), " ".join(CHECK_KINDS), " ".join(SUB_KINDS)))
        return 0
    env = os.environ
    if env.get("XSNAP_RANDOM_SEED"):
        seeds = [int(env["XSNAP_RANDOM_SEED"])]
    else:
        seeds = [int(s) for s in env.get("XSNAP_RANDOM_SEEDS", "1 2 3 4").split()]
    nsteps = int(env.get("XSNAP_RANDOM_STEPS", "40"))
    skip = set(s for s in env.get("XSNAP_RANDOM_SKIP", "").replace(",", " ").split())
    unknown = skip - set(STEP_KINDS) - set(CHECK_KINDS) - set(SUB_KINDS)
    if unknown:
        sys.stderr.write("XSNAP_RANDOM_SKIP: unknown kinds %s\n" % " ".join(sorted(unknown)))
        return 99
    corrupt = int(env.get("XSNAP_RANDOM_CORRUPT", "0"))
    actions = None
    if env.get("XSNAP_RANDOM_ACTIONS"):
        spec = env["XSNAP_RANDOM_ACTIONS"]
        if spec.lstrip().startswith("["):
            actions = json.loads(spec)
        else:
            with open(spec) as f:
                actions = json.load(f)
        nsteps = len(actions)
        seeds = seeds[:1]
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    host = RealXenHost() if env.get("XSNAP_RANDOM_HOST") == "realxen" else Host()
    failed = []
    totals = {}
    for seed in seeds:
        dom = "rnd%d" % seed
        r = run_one(host, seed, nsteps, skip, dom, actions, corrupt)
        for k, v in r.refusals.items():
            totals[k] = totals.get(k, 0) + v
        print("seed %d: %d steps in %.1f s, %d refused: %s" % (
            seed, r.step, r.elapsed, sum(r.refusals.values()),
            "PASS" if r.error is None else "FAIL (%s)" % r.error.kind))
        if env.get("XSNAP_RANDOM_STATS"):
            with open(env["XSNAP_RANDOM_STATS"], "a") as f:
                f.write(json.dumps({"seed": seed, "steps": r.step, "seconds": round(r.elapsed, 1),
                                    "result": "pass" if r.error is None else r.error.kind,
                                    "ops": r.ops, "refusals": r.refusals,
                                    "skip": sorted(skip)}) + "\n")
        if r.error is None:
            continue
        failed.append(seed)
        out = sys.stderr
        out.write("\nFAIL: seed %d, step %d: %s\n" % (seed, r.step, r.error))
        out.write("history (%s):\n" % dom)
        print_history(r, out)
        if actions is None:
            line = replay_line(seed, nsteps if r.in_sweep else r.step, skip)
            if corrupt:
                line = "XSNAP_RANDOM_CORRUPT=%d %s" % (corrupt, line)
            out.write("replay: %s\n" % line)
            if r.in_sweep:
                out.write("(the failure is in the final sweep, after the %d random steps)\n" % nsteps)
        else:
            out.write("replay: %s\n" % actions_line(r.done, skip))
        path = os.path.join(host.fxdir, "actions-%d.json" % seed)
        with open(path, "w") as f:
            json.dump(r.done, f)
        out.write("actions: %s\n" % path)
        if env.get("XSNAP_RANDOM_MINIMIZE") == "1":
            small, t = minimize(host, r, skip)
            path = os.path.join(host.fxdir, "actions-%d-min.json" % seed)
            with open(path, "w") as f:
                json.dump(small, f)
            out.write("\nminimized to %d actions (%s):\n" % (len(small), t.error))
            print_history(t, out)
            out.write("minimized actions: %s\nreplay the minimized run: %s\n" %
                      (path, actions_line(small, skip)))
    print("refusals by kind:")
    for k, v in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])):
        print("  %4d  %s" % (v, k))
    if failed:
        print("failed seeds: %s" % " ".join(map(str, failed)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
