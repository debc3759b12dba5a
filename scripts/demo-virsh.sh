#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Demo: virsh snapshots of a Xen domain, on the simulated Xen host
# (tests/fakexen/): Debian's stock libvirtd and libxl driver, wrapped by
# our module, with a real QEMU device model serving the disks. Types the
# commands a user would type and proves that a revert restores the disk
# and the memory.
#   usage: sh scripts/demo-virsh.sh [BUILDDIR]   (as root)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
abs_top_srcdir=$top
abs_top_builddir=$build
export abs_top_srcdir abs_top_builddir

(cd "$build" && make -s -j2 tests/fakexen/libfakexen.la tests/fakexen/fakexen-ctl \
    src/libxl_snapshot/libvirt_driver_libxl.la) || { echo "demo: build failed" >&2; exit 1; }

. "$top/tests/fakexen/fakexen-lib.sh"
fx_use_wrapper

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
v() {
    printf '$ virsh %s\n' "$*"
    virsh -c "$FX_URI" "$@" || fx_fail "virsh $* failed"
}
# The guest's view: a pattern written to / read from its disk by the
# device model, and its memory.
guest_write_disk() {
    printf '(guest writes byte %s over the first 64 KiB of xvda)\n' "$1"
    for c in "write -P $1 0 64k" "flush"; do
        fx_ctl qmp web "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io xvda \\\"$c\\\"\"}}" >/dev/null ||
            fx_fail "qemu-io"
    done
}
guest_disk_byte() {
    f=$(fx_ctl qmp web '{"execute":"query-block"}' | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin)["return"]:
    if b["device"] == "xvda":
        print(b["inserted"]["file"])')
    for p in 0x11 0x22; do
        if fx_image_has qcow2 "$f" "$p" 0 64k; then
            echo "$p"; return
        fi
    done
    echo "unknown"
}

say "Start a simulated Xen host with a private libvirtd (our module loaded)"
fx_setup
echo "virsh URI: $FX_URI"
v version --daemon | sed -n '1,4p'

say "Define and start a domain 'web' with a qcow2 disk"
qemu-img create -q -f qcow2 "$FX_DIR/web.qcow2" 64M
cat > "$FX_DIR/web.xml" <<XML
<domain type='xen'>
  <name>web</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$FX_DIR/web.qcow2'/>
      <target dev='xvda' bus='xen'/>
    </disk>
  </devices>
</domain>
XML
v define "$FX_DIR/web.xml"
v start web
guest_write_disk 0x11
fx_ctl mem-write web 0 "state: healthy " >/dev/null
echo "(guest memory now starts with: '$(fx_ctl mem-read web 0 15)')"

say "Take a snapshot (memory + disk) while it runs"
v snapshot-create-as web healthy --description "before the upgrade"
v domstate web
v snapshot-list web

say "Break things: change the disk and the memory"
guest_write_disk 0x22
fx_ctl mem-write web 0 "state: BROKEN! " >/dev/null
echo "(disk byte: $(guest_disk_byte), memory: '$(fx_ctl mem-read web 0 15)')"
v snapshot-create-as web broken --disk-only --description "after the upgrade"

say "List the snapshot tree"
v snapshot-list web --tree
v snapshot-info web healthy

say "Revert to 'healthy'"
v snapshot-revert web healthy
v domstate web
d=$(guest_disk_byte)
m=$(fx_ctl mem-read web 0 15)
echo "(disk byte: $d, memory: '$m')"
[ "$d" = 0x11 ] || fx_fail "the disk was not restored"
[ "$m" = "state: healthy " ] || fx_fail "the memory was not restored"
echo "disk and memory are back as they were at 'healthy'"

say "Delete the snapshots"
v snapshot-delete web broken
v snapshot-delete web healthy
v snapshot-list web
v destroy web
v undefine web

say "Done: the simulated host is stopped and its files removed"
