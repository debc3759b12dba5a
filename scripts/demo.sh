#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Demo of what virt-xen-snapshot does today: it checks snapshot XML the way
# libvirt 9.0.0 does, and reads a libvirt-layout snapshot store offline.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tool=${VIRT_XEN_SNAPSHOT:-$top/build/tools/virt-xen-snapshot}
if [ ! -x "$tool" ]; then
    echo "demo: building the project in $top/build"
    (cd "$top" && ./autogen.sh >/dev/null 2>&1 && mkdir -p build && cd build &&
        ../configure --quiet && make -s -j"$(nproc 2>/dev/null || echo 2)") ||
        { echo "demo: the build failed" >&2; exit 1; }
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/xsnap-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A snapshot request as a user writes it (virsh snapshot-create DOMAIN FILE)"
cat > "$work/request.xml" <<'XML'
<domainsnapshot>
  <name>before-upgrade</name>
  <description>Rollback point &amp; gold image</description>
  <memory snapshot='external' file='/var/lib/libvirt/libxl/snapshot/web/before-upgrade.mem'/>
  <disks>
    <disk name='xvda'/>
    <disk name='xvdb' snapshot='no'/>
    <disk name='xvdc'>
      <source file='/srv/images/data.before-upgrade'/>
    </disk>
  </disks>
</domainsnapshot>
XML
cat "$work/request.xml"

say "Its canonical form, as libvirt 9.0.0 would format it"
run "$tool" xml "$work/request.xml"

say "Bad input gets a clear libvirt-style error, not a crash"
printf "<domainsnapshot><memory snapshot='external' file='relative.mem'/></domainsnapshot>\n" > "$work/bad.xml"
cat "$work/bad.xml"
run "$tool" xml "$work/bad.xml" || echo "(exit status $?)"

say "A snapshot store in libvirt's layout: LIBDIR/snapshot/DOMAIN/NAME.xml"
store=$work/libxl/snapshot/web
mkdir -p "$store"
t=1700000000
prev=
for name in installed configured before-upgrade upgraded; do
    t=$((t + 3600))
    parent=${prev:+"<parent><name>$prev</name></parent>"}
    active=0
    [ "$name" = before-upgrade ] && active=1
    cat > "$store/$name.xml" <<XML
<domainsnapshot>
  <name>$name</name>
  <state>running</state>
  $parent
  <creationTime>$t</creationTime>
  <memory snapshot='external' file='/var/lib/libvirt/libxl/snapshot/web/$name.mem'/>
  <active>$active</active>
</domainsnapshot>
XML
    prev=$name
done
t=$((t + 3600))
cat > "$store/hotfix.xml" <<XML
<domainsnapshot>
  <name>hotfix</name>
  <state>disk-snapshot</state>
  <parent><name>configured</name></parent>
  <creationTime>$t</creationTime>
  <memory snapshot='no'/>
  <active>0</active>
</domainsnapshot>
XML
run ls "$store"

say "virt-xen-snapshot list (the shape of virsh snapshot-list)"
run "$tool" list --root "$work/libxl" web

say "virt-xen-snapshot list --tree (the shape of virsh snapshot-list --tree)"
run "$tool" list --tree --root "$work/libxl" web

say "A damaged store is reported, never silently trusted"
printf '<domainsnapshot><name>broken' > "$store/broken.xml"
run "$tool" list --root "$work/libxl" web || echo "(exit status $?)"

say "Offline part done"

if [ "$(id -u)" = 0 ]; then
    sh "$top/scripts/demo-virsh.sh" "$(dirname "$(dirname "$tool")")"
else
    echo "(run as root to see the virsh demo on a simulated Xen host)"
fi
