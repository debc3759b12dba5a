#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# virt-manager-test.py: Debian's unmodified virt-manager drives the
# snapshot API of the simulated Xen host through its GUI.
#
#   usage: virt-manager-test.py URI FAKEXEN_CTL DIR [SHOTDIR]
#
# Run by tests/virt-manager-test.sh inside a private D-Bus session, with
# DISPLAY pointing at an Xvfb server and the domains "vmrun" (running)
# and "vmoff" (shut off) defined on URI, each with one qcow2 disk xvda
# at DIR/<name>.qcow2. For each domain, virt-manager creates a snapshot
# ("+"), reverts to it ("Run"), edits its description (a redefine),
# fails to create one whose name is taken (the error dialog must show
# libvirt's message), and deletes it; virsh checks the result after each
# step. The GUI is found and driven through the accessibility tree
# (AT-SPI, with dogtail), never through screen coordinates. With SHOTDIR,
# each step's windows are saved there as a PNG.
import os
import subprocess
import sys
import time

URI, CTL, DIR = sys.argv[1:4]
SHOTS = sys.argv[4] if len(sys.argv) > 4 else None
TIMEOUT = 30

# Accessibility on for the GTK applications of this session, before
# dogtail's import checks it.
subprocess.run(["gsettings", "set", "org.gnome.desktop.interface",
                "toolkit-accessibility", "true"], check=True)

from dogtail.config import config  # noqa: E402

config.scratchDir = os.path.join(DIR, "dogtail") + "/"
config.dataDir = os.path.join(DIR, "dogtail", "data") + "/"
config.logDir = os.path.join(DIR, "dogtail", "logs") + "/"
config.logDebugToFile = False
config.logDebugToStdOut = False
config.actionDelay = 0.1
config.defaultDelay = 0.1
config.searchBackoffDuration = 0.2
config.searchCutoffCount = 50
from dogtail import tree  # noqa: E402

import gi  # noqa: E402
gi.require_version("Gdk", "3.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import Gdk, GdkPixbuf  # noqa: E402

T0 = time.monotonic()


def log(msg):
    print("  %-62s %6.2fs" % (msg, time.monotonic() - T0), flush=True)


APP = None


def dump(node, depth=0):
    try:
        print("    %s[%s] %r%s" % ("  " * depth, node.roleName, node.name,
                                   "" if node.showing else " (hidden)"))
        for c in node.children:
            if depth < 12:
                dump(c, depth + 1)
    except Exception:
        pass


def fail(msg):
    print("FAIL: " + msg, flush=True)
    if APP is not None:
        print("  virt-manager's windows:")
        for w in APP.children:
            if w.showing:
                dump(w)
    sys.exit(1)


def virsh(*args, ok=True):
    r = subprocess.run(["virsh", "-q", "-c", URI] + list(args),
                       capture_output=True, text=True)
    if ok and r.returncode != 0:
        fail("virsh %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout.strip()


def wait_for(what, pred, timeout=TIMEOUT):
    end = time.monotonic() + timeout
    while True:
        try:
            v = pred()
        except Exception:  # the tree changes under us; try again
            v = None
        if v:
            return v
        if time.monotonic() > end:
            fail("timed out waiting for " + what)
        time.sleep(0.1)


def find(parent, what, test=None, **kw):
    """The first showing descendant of parent that matches kw and test."""
    def pred():
        for n in parent.findChildren(lambda n: all(
                getattr(n, k) == v for k, v in kw.items()) and
                (test is None or test(n)), showingOnly=True):
            return n
        return None
    return wait_for(what, pred)


def listed(win, name):
    """The row of snapshot name in the list ("NAME\nVM State: ...")."""
    return [n for n in win.findChildren(
        lambda n: n.roleName == "table cell" and n.name.split("\n")[0] == name,
        showingOnly=True)]


def click(node):
    """A mouse click in the middle of node, once it can take one.

    Not the accessible "click" action: GTK runs that inside the request,
    so a button that opens a modal dialog (its nested main loop) keeps
    the request, and every later one, from being answered."""
    wait_for("%s to be enabled" % node.name,
             lambda: node.showing and node.sensitive)
    node.click()


def select(win, name):
    """Selects the row of snapshot name in the snapshot list."""
    cell = wait_for(name + " in the snapshot list", lambda: listed(win, name))[0]
    table = find(win, "snapshot-list", name="snapshot-list")
    table.querySelection().selectChild(cell.indexInParent)


def snapshots():
    out = virsh("snapshot-list", DOM, "--name")
    return sorted(out.split()) if out else []


def description(name):
    xml = virsh("snapshot-dumpxml", DOM, name)
    a = xml.find("<description>")
    b = xml.find("</description>")
    return xml[a + len("<description>"):b] if a >= 0 and b > a else None


def shot(app, name):
    """Saves the union of the application's showing windows as SHOTDIR/name.png."""
    if not SHOTS:
        return
    time.sleep(0.3)  # let GTK paint what changed
    boxes = []
    for w in app.children:
        try:
            if w.showing:
                (x, y), (cx, cy) = w.position, w.size
                if cx > 1 and cy > 1:
                    boxes.append((x, y, x + cx, y + cy))
        except Exception:
            pass
    root = Gdk.get_default_root_window()
    sw, sh = root.get_width(), root.get_height()
    x0 = max(0, min(b[0] for b in boxes))
    y0 = max(0, min(b[1] for b in boxes))
    x1 = min(sw, max(b[2] for b in boxes))
    y1 = min(sh, max(b[3] for b in boxes))
    pix = Gdk.pixbuf_get_from_window(root, x0, y0, x1 - x0, y1 - y0)
    # Three quarters of the size: still legible, and a third of the bytes.
    pix = pix.scale_simple((x1 - x0) * 3 // 4, (y1 - y0) * 3 // 4,
                           GdkPixbuf.InterpType.HYPER)
    pix.savev(os.path.join(SHOTS, name + ".png"), "png", ["compression"], ["9"])


def mem(text=None):
    if text is not None:
        subprocess.run([CTL, "mem-write", DOM, "0", text], check=True,
                       stdout=subprocess.DEVNULL)
        return text
    return subprocess.run([CTL, "mem-read", DOM, "0", "12"], check=True,
                          capture_output=True, text=True).stdout


def disk_has(pattern):
    r = subprocess.run(["qemu-io", "-r", "-U", "-f", "qcow2", "-c",
                        "read -P %s 0 64k" % pattern,
                        os.path.join(DIR, DOM + ".qcow2")],
                       capture_output=True, text=True)
    # "read N/N bytes" comes even after "Pattern verification failed".
    return (r.returncode == 0 and "Pattern verification failed" not in r.stdout
            and "read 65536/65536 bytes" in r.stdout)


def disk_write(pattern):
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P %s 0 64k" % pattern,
                    os.path.join(DIR, DOM + ".qcow2")], check=True,
                   stdout=subprocess.DEVNULL)


def run_domain(dom, running):
    global DOM, APP
    DOM = dom
    state = "running" if running else "shut off"
    tag = "running" if running else "shutoff"
    if virsh("domstate", dom) != state:
        fail("%s is not %s" % (dom, state))
    if snapshots():
        fail("%s already has snapshots" % dom)
    vmm = subprocess.Popen(["virt-manager", "--no-fork", "--connect", URI,
                            "--show-domain-editor", dom],
                           stdout=open(os.path.join(DIR, "virt-manager-%s.log" % dom), "w"),
                           stderr=subprocess.STDOUT)
    try:
        app = APP = wait_for("virt-manager on the accessibility bus",
                             lambda: tree.root.application("virt-manager"))
        win = find(app, "the window of " + dom, roleName="frame", name=dom + " on Xen")
        log("%s: virt-manager shows the domain" % dom)
        click(find(win, "the Snapshots button", roleName="radio button", name="Snapshots"))
        add = find(win, "snapshot-add", name="snapshot-add")
        wait_for("snapshot-add to be enabled", lambda: add.sensitive)

        # Create, with a description.
        if running:
            mem("before snap")
        else:
            disk_write("0x11")
        click(add)
        new = find(app, "the Create snapshot window", roleName="frame", name="Create snapshot")
        texts = wait_for("the name entry", lambda: [
            n for n in new.findChildren(lambda n: n.roleName == "text", showingOnly=True)])
        entry = [n for n in texts if n.text.startswith("snapshot")][0]
        entry.text = "s1"
        desc = [n for n in texts if n is not entry and n.text == ""][0]
        desc.text = "made by virt-manager"
        shot(app, "virt-manager-%s-1-create" % tag)
        click(find(new, "Finish", roleName="push button", name="Finish"))
        wait_for("s1 in virsh snapshot-list", lambda: snapshots() == ["s1"])
        wait_for("the Create snapshot window to close", lambda: not new.showing)
        wait_for("s1 in the snapshot list", lambda: listed(win, "s1"))
        info = virsh("snapshot-info", dom, "s1")
        if ("State:          " + ("running" if running else "shutoff")) not in info:
            fail("snapshot-info s1: " + info)
        if description("s1") != "made by virt-manager":
            fail("s1 has description %r" % description("s1"))
        if virsh("snapshot-current", dom, "--name") != "s1":
            fail("s1 is not current")
        if not running and "<source file='%s'/>" % os.path.join(DIR, dom + ".qcow2") \
                not in virsh("dumpxml", "--inactive", dom):
            # Internal, so that the disk checks below read the domain's disk.
            fail("the shut-off domain's disk moved: not an internal snapshot")
        shot(app, "virt-manager-%s-2-created" % tag)
        log("%s: created s1 (virsh: listed, %s, current, description)" % (dom, tag))

        # Change what the snapshot holds, then "Run" it.
        if running:
            mem("after snap!")
            old_id = virsh("domid", dom)
        else:
            disk_write("0x22")
        select(win, "s1")
        click(find(win, "snapshot-start", name="snapshot-start"))
        ask = find(app, "the run confirmation", roleName="alert")
        shot(app, "virt-manager-%s-3-run" % tag)
        click(find(ask, "Yes", roleName="push button", name="Yes"))
        if running:
            wait_for("a new domain id after the revert",
                     lambda: virsh("domid", dom, ok=False) not in ("", old_id, "-"))
            wait_for(dom + " running", lambda: virsh("domstate", dom) == "running")
            if mem() != "before snap\0":
                fail("memory after the revert: %r" % mem())
        else:
            time.sleep(0.5)
            wait_for("the disk back at 0x11", lambda: disk_has("0x11"))
            if virsh("domstate", dom) != "shut off":
                fail("%s is %s after the revert" % (dom, virsh("domstate", dom)))
        if virsh("snapshot-current", dom, "--name") != "s1":
            fail("s1 is not current after the revert")
        wait_for("the run confirmation to close", lambda: not ask.showing)
        log("%s: ran s1 (virsh: %s, %s back)" % (dom, state, "memory" if running else "disk"))

        # Edit the description: virt-manager redefines the snapshot.
        select(win, "s1")
        text = find(win, "snapshot-description", name="snapshot-description")
        wait_for("the description shown", lambda: text.text == "made by virt-manager")
        text.text = "edited in virt-manager"
        apply = find(win, "snapshot-apply", name="snapshot-apply")
        wait_for("Apply to be enabled", lambda: apply.sensitive)
        click(apply)
        wait_for("the new description in virsh",
                 lambda: description("s1") == "edited in virt-manager")
        if snapshots() != ["s1"] or virsh("snapshot-current", dom, "--name") != "s1":
            fail("the redefine changed the list or the current snapshot")
        shot(app, "virt-manager-%s-4-edited" % tag)
        log("%s: edited the description (virsh: redefined)" % dom)

        # A create that fails: the name is taken.
        click(add)
        new = find(app, "the Create snapshot window", roleName="frame", name="Create snapshot")
        entry = wait_for("the name entry", lambda: [
            n for n in new.findChildren(lambda n: n.roleName == "text", showingOnly=True)
            if n.text.startswith("snapshot")][0])
        entry.text = "s1"
        click(find(new, "Finish", roleName="push button", name="Finish"))
        err = find(app, "the error dialog", roleName="alert")
        words = " ".join(n.name for n in err.findChildren(
            lambda n: n.roleName == "label"))
        if "Error creating snapshot" not in words or "unknown" in words or \
                "s1" not in words or "exist" not in words:
            fail("the error dialog says: " + words)
        shot(app, "virt-manager-%s-5-error" % tag)
        click(find(err, "Close", roleName="push button", name="Close"))
        click(find(new, "Cancel", roleName="push button", name="Cancel"))
        if snapshots() != ["s1"] or description("s1") != "edited in virt-manager":
            fail("the failed create changed s1")
        log("%s: a failed create says: %s" % (dom, words))

        # Delete.
        select(win, "s1")
        click(find(win, "snapshot-delete", name="snapshot-delete"))
        ask = find(app, "the delete confirmation", roleName="alert")
        click(find(ask, "Yes", roleName="push button", name="Yes"))
        wait_for("no snapshot left in virsh", lambda: snapshots() == [])
        if virsh("domstate", dom) != state:
            fail("%s is %s after the delete" % (dom, virsh("domstate", dom)))
        wait_for("s1 gone from the snapshot list", lambda: not listed(win, "s1"))
        shot(app, "virt-manager-%s-6-deleted" % tag)
        log("%s: deleted s1 (virsh: no snapshot, %s)" % (dom, state))
    finally:
        vmm.terminate()
        try:
            vmm.wait(10)
        except subprocess.TimeoutExpired:
            vmm.kill()
            vmm.wait()


run_domain("vmrun", True)
run_domain("vmoff", False)
log("done")
