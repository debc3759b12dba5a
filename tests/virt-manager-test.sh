#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian's unmodified virt-manager (4.1.0) on the simulated Xen host with
# our module: under Xvfb, driven through the accessibility tree, it
# creates, runs (reverts), edits (redefines) and deletes a snapshot of a
# running and of a shut-off domain, and a create that fails shows
# libvirt's message; virsh checks each step (tests/virt-manager-test.py).
# Skips, saying why, when the GUI stack is not installed (virt-manager,
# xvfb, dbus, python3-dogtail; see scripts/install-deps.sh).
#
# XSNAP_VMM_SHOTS=DIR saves a screenshot of each step there, as PNG; the
# ones in docs/virt-manager/ come from
#   XSNAP_VMM_SHOTS=$PWD/docs/virt-manager make -C build check TESTS=tests/virt-manager-test.sh
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

for prog in virt-manager Xvfb dbus-run-session gsettings; do
    command -v "$prog" >/dev/null 2>&1 ||
        fx_skip "$prog is not installed (the GUI test needs virt-manager, xvfb, dbus and python3-dogtail)"
done
/usr/bin/python3 -c '
import gi
gi.require_version("Gdk", "3.0")
gi.require_version("Atspi", "2.0")
from gi.repository import Gdk, Atspi
import dogtail.config, pyatspi' 2>/dev/null ||
    fx_skip "python3-dogtail (with pyatspi and GTK 3 introspection) is not installed for /usr/bin/python3"

fx_use_wrapper
fx_step "start the simulated host with the wrapper module"
fx_setup

fx_step "define vmrun (started) and vmoff (shut off)"
for dom in vmrun vmoff; do
    qemu-img create -q -f qcow2 "$FX_DIR/$dom.qcow2" 64M || fx_fail "qemu-img"
    cat > "$FX_DIR/$dom.xml" <<XML
<domain type='xen'>
  <name>$dom</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$FX_DIR/$dom.qcow2'/>
      <target dev='xvda' bus='xen'/>
    </disk>
  </devices>
</domain>
XML
    vok define "$FX_DIR/$dom.xml" >/dev/null
done
vok start vmrun >/dev/null

fx_step "start Xvfb"
# Xvfb picks a free display itself and writes its number to fd 3.
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset \
    3>"$FX_DIR/xvfb.display" >"$FX_DIR/xvfb.log" 2>&1 &
xvfb=$!
trap 'rc=$?; kill "$xvfb" 2>/dev/null; (exit $rc); fx_cleanup' EXIT
i=0
until [ -s "$FX_DIR/xvfb.display" ]; do
    kill -0 "$xvfb" 2>/dev/null ||
        fx_skip "Xvfb does not start here: $(tail -n 3 "$FX_DIR/xvfb.log")"
    i=$((i + 1))
    [ $i -le 100 ] || fx_fail "Xvfb did not report its display"
    sleep 0.1
done
DISPLAY=:$(cat "$FX_DIR/xvfb.display")
export DISPLAY
# virt-manager's settings and caches, and dogtail's, stay in the test's
# directories (tests/test-env.sh points HOME and XDG_* there).
mkdir -p "$FX_DIR/dogtail"
TMPDIR=$FX_DIR/dogtail
export TMPDIR
unset NO_AT_BRIDGE GTK_MODULES

fx_step "virt-manager: create, run, edit, fail to create, delete"
# A D-Bus session of its own: the accessibility bus, dconf.
dbus-run-session -- /usr/bin/python3 "$abs_top_srcdir/tests/virt-manager-test.py" \
    "$FX_URI" "$FX_CTL" "$FX_DIR" ${XSNAP_VMM_SHOTS:+"$XSNAP_VMM_SHOTS"} \
    >"$FX_DIR/gui.log" 2>&1
rc=$?
grep -v '^dbus-daemon\|^SpiRegistry' "$FX_DIR/gui.log"
if [ $rc -ne 0 ]; then
    echo "--- virt-manager's output" >&2
    tail -n 20 "$FX_DIR"/virt-manager-*.log >&2 2>/dev/null
    fx_fail "the virt-manager session failed"
fi
fx_step "done"
