#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds one snapshot tree twice: in libvirt's test driver
# (virsh -c test:///default, one virsh run redefining every snapshot)
# and in a metadata store (the same documents, redefined by
# snapshotstorehelper). Then every snapshot-list variant below must
# print exactly the same bytes from `virsh snapshot-list test ...` and
# from `virt-xen-snapshot list --root STORE ... test`.
# Also checks that problems found while loading go to stderr and make
# the exit status non-zero while the rest is still listed.
set -u
builddir=${abs_top_builddir:-.}
tool=$builddir/tools/virt-xen-snapshot
helper=$builddir/tests/snapshotstorehelper

command -v virsh >/dev/null 2>&1 || { echo "virsh missing: skip"; exit 77; }
[ -x "$tool" ] && [ -x "$helper" ] || { echo "tools not built"; exit 99; }

tmp=${XSNAP_TEST_TMP:-$(mktemp -d)}/list
rm -rf "$tmp"
mkdir -p "$tmp/xml" "$tmp/virsh" "$tmp/ours"
lib=$tmp/lib

if ! virsh -q -c test:///default dumpxml test >"$tmp/dom.xml" 2>"$tmp/err"; then
    echo "virsh cannot use the test driver: skip"; cat "$tmp/err"; exit 77
fi

# mk NAME PARENT TIME STATE [EXTRA-XML]
mk() {
    {
        echo "<domainsnapshot>"
        echo "  <name>$1</name>"
        [ -n "$2" ] && printf '  <parent>\n    <name>%s</name>\n  </parent>\n' "$2"
        echo "  <state>$4</state>"
        echo "  <creationTime>$3</creationTime>"
        [ $# -ge 5 ] && echo "$5"
        sed 's/^/  /' "$tmp/dom.xml"
        echo "</domainsnapshot>"
    } >"$tmp/xml/$1.xml"
}

extdisk() {
    echo "  <disks><disk name='vda' snapshot='external'><source file='$tmp/$1.qcow2'/></disk></disks>"
}

#   root1 --+-- Alpha --+-- beta (disk-only, external)
#           |           +-- gamma (external memory) -- delta -- solo
#           +-- epsilon
#   zeta ------ eta ------- Theta
#   omega
mk root1 "" 1000 shutoff
mk Alpha root1 2000 running
mk beta Alpha 3000 disk-snapshot "  <memory snapshot='no'/>
$(extdisk beta)"
mk gamma Alpha 4000 running "  <memory snapshot='external' file='$tmp/gamma.mem'/>
$(extdisk gamma)"
mk delta gamma 5000 paused
mk epsilon root1 6000 shutoff
mk zeta "" 7000 running
mk eta zeta 8000 shutoff
mk Theta eta 8500 shutoff
mk solo "" 9000 shutoff
mk omega "" 9500 shutoff
# solo is then redefined under delta, and gamma made current.
mk solo2 delta 9000 shutoff
sed 's|<name>solo2</name>|<name>solo</name>|' "$tmp/xml/solo2.xml" >"$tmp/xml/solo-moved.xml"
rm "$tmp/xml/solo2.xml"

order="root1 Alpha beta gamma delta epsilon zeta eta Theta solo omega"

# The listings to compare, one per line.
cat >"$tmp/variants" <<'EOF'

--parent
--name
--tree
--roots
--leaves
--no-leaves
--leaves --no-leaves
--metadata
--no-metadata
--metadata --no-metadata
--inactive
--active
--disk-only
--active --inactive
--inactive --disk-only
--active --inactive --disk-only
--internal
--external
--internal --external
--active --external
--roots --leaves
--roots --name
--topological
--topological --name
--topological --parent
--topological --leaves
--from Alpha
--from Alpha --descendants
--from Alpha --tree
--from Alpha --descendants --tree
--from root1 --descendants --topological --name
--from root1 --descendants --no-leaves
--from zeta --descendants --leaves
--from zeta --descendants --inactive --parent
--from omega --descendants
--current
--current --descendants
--current --tree
--current --descendants --tree --topological
--current --descendants --external
--no-leaves --parent
EOF

# One virsh run: the state of test:///default lives as long as the
# connection. Each listing is preceded by an echoed marker.
cmds=""
for s in $order; do
    cmds="$cmds snapshot-create test $tmp/xml/$s.xml --redefine;"
done
cmds="$cmds snapshot-create test $tmp/xml/solo-moved.xml --redefine;"
cmds="$cmds snapshot-create test $tmp/xml/gamma.xml --redefine --current;"
n=0
while IFS= read -r v; do
    n=$((n + 1))
    cmds="$cmds echo @@@ $n; snapshot-list test $v;"
done <"$tmp/variants"

if ! virsh -c test:///default "$cmds" >"$tmp/virsh.out" 2>"$tmp/virsh.err"; then
    echo "virsh failed:"; cat "$tmp/virsh.err"; exit 99
fi
# Split at the markers (echo adds no blank line of its own).
awk -v dir="$tmp/virsh" '
    /^@@@ [0-9]+$/ { out = dir "/" $2; printf "" > out; next }
    out { print > out }
' "$tmp/virsh.out"

files=""
for s in $order; do
    files="$files $tmp/xml/$s.xml"
done
if ! "$helper" "$lib" test $files "$tmp/xml/solo-moved.xml" --current "$tmp/xml/gamma.xml"; then
    echo "cannot build the store"; exit 99
fi

failed=0
n=0
while IFS= read -r v; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$tool" list --root "$lib" $v test >"$tmp/ours/$n" 2>"$tmp/ours/$n.err"
    rc=$?
    if [ $rc -ne 0 ] || [ -s "$tmp/ours/$n.err" ]; then
        echo "FAIL: list $v: exit $rc"; cat "$tmp/ours/$n.err"; failed=1
    elif ! [ -s "$tmp/virsh/$n" ]; then
        echo "FAIL: virsh printed nothing for snapshot-list $v"; failed=1
    elif ! cmp -s "$tmp/virsh/$n" "$tmp/ours/$n"; then
        echo "FAIL: list $v differs from virsh snapshot-list:"
        diff -u "$tmp/virsh/$n" "$tmp/ours/$n"
        failed=1
    else
        echo "ok: list $v"
    fi
done <"$tmp/variants"

# Options virsh refuses together are refused here too.
for bad in "--tree --name" "--roots --from Alpha" "--tree --leaves" "--descendants" \
           "--parent --tree" "--bogus"; do
    # shellcheck disable=SC2086
    if "$tool" list --root "$lib" $bad test >/dev/null 2>&1; then
        echo "FAIL: list $bad was accepted"; failed=1
    else
        echo "ok: list $bad refused"
    fi
done
if ! "$tool" list --help >/dev/null || ! "$tool" list -h >/dev/null; then
    echo "FAIL: list --help"; failed=1
else
    echo "ok: list --help"
fi
if "$tool" list --root "$lib" --from nosuch test >/dev/null 2>"$tmp/err" ||
   ! grep -q nosuch "$tmp/err"; then
    echo "FAIL: unknown --from snapshot"; failed=1
else
    echo "ok: unknown --from snapshot refused"
fi

# Problems: a truncated file and a leftover temporary file. The rest is
# listed, each problem is on stderr, and the exit status is 1.
dir=$lib/snapshot/test
head -c 100 "$dir/eta.xml" >"$dir/.eta.xml.tmp1234"
head -c 200 "$dir/epsilon.xml" >"$dir/epsilon.xml.new" && mv "$dir/epsilon.xml.new" "$dir/epsilon.xml"
"$tool" list --root "$lib" --name test >"$tmp/problems.out" 2>"$tmp/problems.err"
rc=$?
if [ $rc -ne 1 ] ||
   ! grep -q "epsilon.xml' is corrupt" "$tmp/problems.err" ||
   ! grep -q "\.eta\.xml\.tmp1234' is left over" "$tmp/problems.err" ||
   grep -q '^epsilon$' "$tmp/problems.out" || ! grep -q '^eta$' "$tmp/problems.out"; then
    echo "FAIL: problems not reported as expected (exit $rc)"
    cat "$tmp/problems.err" "$tmp/problems.out"
    failed=1
else
    echo "ok: problems reported, exit 1"
fi

# A domain without snapshots lists an empty table.
"$tool" list --root "$lib" nosnaps >"$tmp/empty.out" 2>&1
printf ' Name   Creation Time   State\n-------------------------------\n\n' >"$tmp/empty.exp"
if ! cmp -s "$tmp/empty.exp" "$tmp/empty.out"; then
    echo "FAIL: empty listing"; diff -u "$tmp/empty.exp" "$tmp/empty.out"; failed=1
else
    echo "ok: empty listing"
fi

exit $failed
