#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The virsh snapshot command set, flag by flag, on the simulated Xen
# host (a private libvirtd loading the wrapper) and, as an oracle, on
# libvirt's test driver.
#
# One domain with a qcow2 and a raw disk, served by a real QEMU, goes
# through a running and a shut-off phase. After every create and revert
# the disk contents (qemu-io patterns) and guest memory (fakexen-ctl)
# are proven, and the domain state checked. After every step the same
# queries (snapshot-list variants, snapshot-current, snapshot-parent)
# are recorded. The same operations then run in one virsh session on
# test:///default, and each recorded answer must match. Operations the
# test driver lacks are replaced there by a redefinition of the XML our
# driver produced, or skipped, each with its reason; the differences
# that remain are listed in docs/architecture.md ("Differences from
# libvirt's test driver").
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper
command -v stdbuf >/dev/null 2>&1 || fx_skip "stdbuf is not installed"
/usr/bin/python3 -c 'import libvirt' 2>/dev/null || fx_skip "python3-libvirt is not installed"

fx_step "start the simulated host with the wrapper module"
fx_setup
D=$FX_DIR
store=/var/lib/libvirt/libxl/snapshot
T=$D/oracle
mkdir -p "$T/xml" "$T/xen" "$T/test"
: >"$T/cmds"
nops=0

# snapshot-edit runs this on a temporary file holding the XML.
EDITOR="sed -i s/desc-s1/edited-s1/"
export EDITOR


# ---- the two drivers ---------------------------------------------------

# Appends one command to the test driver's session, after a marker that
# lets its output be checked for errors.
test_cmd() {
    nops=$((nops + 1))
    printf 'echo @@@op%s@@@; %s;\n' "$nops" "$*" >>"$T/cmds"
}
# both ARGS: runs on our driver now, and later on the test driver.
both() {
    vok "$@" >/dev/null
    test_cmd "$@"
}
# xen_redefine NAME ARGS: an operation the test driver cannot run; it
# gets snapshot NAME as our driver made it, redefined as current.
xen_redefine() {
    name=$1; shift
    vok "$@" >/dev/null
    vok snapshot-dumpxml mx "$name" --security-info >"$T/xml/$name.$nops.xml"
    test_cmd snapshot-create mx "$T/xml/$name.$nops.xml" --redefine --current
}

# The queries recorded after each step, in one virsh run per side.
QUERIES="snapshot-list mx --parent; snapshot-list mx --tree; \
snapshot-list mx --roots --name; snapshot-list mx --leaves --name; \
snapshot-list mx --no-leaves --name; snapshot-list mx --topological --name; \
snapshot-list mx --internal --name; snapshot-list mx --external --name; \
snapshot-list mx --active --name; snapshot-list mx --inactive --name; \
snapshot-list mx --disk-only --name; snapshot-current mx --name; \
snapshot-parent mx --current"
nrec=0
# record LABEL [MORE-QUERIES]: the answers of both drivers must match.
record() {
    nrec=$((nrec + 1))
    label=$(printf '%02d-%s' "$nrec" "$1")
    # "@@@-@@@" only ends a line: some answers do not end theirs.
    q=$(printf '%s' "$QUERIES; ${2:-}" | sed 's/;/; echo @@@-@@@;/g')
    q="echo @@@$label.state@@@; domstate mx; echo @@@$label@@@; $q"
    # Line-buffered, so that an error stays next to the answers around it.
    stdbuf -oL virsh -q -c "$FX_URI" "$q" >>"$T/xen.all" 2>&1
    printf '%s;\n' "$q" >>"$T/cmds"
}

# ---- proofs on our side --------------------------------------------------

# Overlays are qcow2; the only raw image is the raw disk's base.
fmt_of() {
    case $1 in *.raw) echo raw ;; *) echo qcow2 ;; esac
}
state() {
    fx_virsh domstate mx
}
# Sets ST to the domain state and XVDA, XVDB to the images its disks
# use: the persistent config's, which QEMU must serve while it runs.
images() {
    fx_virsh "domstate mx; dumpxml mx --inactive" >"$T/dom.xml" || fx_fail "dumpxml"
    ST=$(sed -n 1p "$T/dom.xml")
    sed -i 1d "$T/dom.xml"
    case $ST in
        running|paused) fx_ctl qmp mx '{"execute":"query-block"}' >"$T/qb.json" ;;
        *) : >"$T/qb.json" ;;
    esac
    out=$(/usr/bin/python3 - "$T/dom.xml" "$T/qb.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
cfg = {d.find("target").get("dev"): d.find("source").get("file")
       for d in ET.parse(sys.argv[1]).getroot().iter("disk")}
served = open(sys.argv[2]).read()
for b in json.loads(served)["return"] if served.strip() else []:
    f = (b.get("inserted") or {}).get("file")
    if b["device"] in cfg and f != cfg[b["device"]]:
        sys.exit("%s serves %s but the config names %s" % (b["device"], f, cfg[b["device"]]))
print(cfg["xvda"], cfg["xvdb"])
PY
) || fx_fail "disks: $out"
    set -- $out
    XVDA=$1 XVDB=$2
}
config_src() {
    images
    if [ "$1" = xvda ]; then echo "$XVDA"; else echo "$XVDB"; fi
}
image_of() {
    config_src "$1"
}
# mark PATTERN [MEMORY]: the guest writes PATTERN to both disks (and
# MEMORY into its memory); with the domain off, the images are written.
mark() {
    images
    case $ST in
        running|paused)
            qemu_io mx xvda "write -P $1 0 64k"; qemu_io mx xvda flush
            qemu_io mx xvdb "write -P $1 1M 4k"; qemu_io mx xvdb flush
            fx_ctl mem-write mx 0 "$2" || fx_fail "mem-write"
            ;;
        *)
            qemu-io -f "$(fmt_of "$XVDA")" -c "write -P $1 0 64k" "$XVDA" >/dev/null &&
                qemu-io -f "$(fmt_of "$XVDB")" -c "write -P $1 1M 4k" "$XVDB" >/dev/null ||
                fx_fail "qemu-io write"
            ;;
    esac
}
# content PATTERN: both disks hold PATTERN where mark wrote it.
content() {
    images
    for w in "$XVDA 0 64k" "$XVDB 1M 4k"; do
        set -- "$1" $w
        fx_image_has "$(fmt_of "$2")" "$2" "$1" "$3" "$4" ||
            fx_fail "$2 lacks pattern $1: $FX_IMAGE_OUT"
    done
}
# memory TEXT: the guest memory starts with TEXT; "fresh" for a booted
# domain's zeroed memory.
memory() {
    if [ "$1" = fresh ]; then
        got=$(fx_ctl mem-read mx 0 8 | od -An -tx1 | tr -d ' \n')
        [ "$got" = 0000000000000000 ] || fx_fail "memory is not fresh: $got"
    else
        got=$(fx_ctl mem-read mx 0 ${#1})
        [ "$got" = "$1" ] || fx_fail "memory is '$got', expected '$1'"
    fi
}
internal_snaps() {
    qemu-img snapshot -U -l "$1" 2>/dev/null | awk 'NR > 2 { print $2 }' | tr '\n' ' '
}
has_internal() {
    case " $(internal_snaps "$1")" in *" $2 "*) return 0 ;; esac
    return 1
}
info_has() {
    info=$(vok snapshot-info mx "$1")
    shift
    for line in "$@"; do
        echo "$info" | grep -q "^$line" || fx_fail "snapshot-info lacks '$line': $info"
    done
}

# ---- the domain ----------------------------------------------------------

fx_step "define and start mx (qcow2 xvda, raw xvdb)"
qemu-img create -q -f qcow2 "$D/d0.qcow2" 32M || fx_fail "qemu-img"
qemu-img create -q -f raw "$D/d1.raw" 16M || fx_fail "qemu-img"
domxml() {
    cat <<XML
<domain type='$1'><name>mx</name>
<uuid>5e1f6a2c-0d3b-4c1e-9a57-1b2c3d4e5f90</uuid>
<memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'$2>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$D/d0.qcow2'/><target dev='xvda' bus='xen'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='$D/d1.raw'/><target dev='xvdb' bus='xen'/></disk>
</devices></domain>
XML
}
domxml xen " machine='xenfv'" >"$D/mx.xml"
domxml test "" >"$T/mx.xml"
vok define "$D/mx.xml" >/dev/null
vok start mx >/dev/null
printf 'define %s; start mx;\n' "$T/mx.xml" >>"$T/cmds"
mark 0x10 m10
record no-snapshot

fx_step "running: full snapshot with --memspec and --description"
both snapshot-create-as mx s1 --description desc-s1 --memspec "file=$D/s1.save" \
    --diskspec xvda,snapshot=internal
fx_expect_state mx running
memory m10
content 0x10
head -c 16 "$D/s1.save" | grep -q "^libvirt-xml" || fx_fail "s1.save is not a libvirt save image"
has_internal "$D/d0.qcow2" s1 || fx_fail "no internal snapshot s1 in the qcow2 disk"
[ "$(image_of xvdb)" = "$D/d1.s1" ] || fx_fail "xvdb is not on its overlay d1.s1"
info_has s1 "State: *running" "Location: *external" "Parent: *-" "Current: *yes"
record s1
# Refused by design (Xen's device model does not hold guest memory); the
# test driver would keep the memory internally.
vfail "a snapshot's memory can only be an external file" \
    snapshot-create-as mx mi --memspec snapshot=internal
fx_expect_state mx running
memory m10

fx_step "running: --disk-only with --diskspec (internal + explicit external)"
mark 0x11 m11
# The test driver refuses --disk-only.
xen_redefine s2 snapshot-create-as mx s2 --disk-only \
    --diskspec xvda,snapshot=internal --diskspec "xvdb,snapshot=external,file=$D/d1.s2"
fx_expect_state mx running
memory m11
content 0x11
[ "$(image_of xvdb)" = "$D/d1.s2" ] || fx_fail "xvdb is not on d1.s2"
info_has s2 "State: *disk-snapshot" "Parent: *s1"
record s2

fx_step "running: --no-metadata, --diskspec snapshot=no"
mark 0x12 m12
# The test driver refuses --no-metadata, which leaves no trace in its
# lists anyway: nothing runs there.
vok snapshot-create-as mx nm --no-metadata --disk-only --diskspec xvda,snapshot=internal \
    --diskspec xvdb,snapshot=no >/dev/null
has_internal "$D/d0.qcow2" nm || fx_fail "no internal snapshot nm"
vok snapshot-list mx --name | grep -qx nm && fx_fail "--no-metadata left metadata"
fx_inhost test -e "$store/mx/nm.xml" && fx_fail "--no-metadata wrote a file"
[ "$(image_of xvdb)" = "$D/d1.s2" ] || fx_fail "xvdb moved although snapshot=no"
record no-metadata

# xvda stays internal: an external xvda would freeze d0.qcow2, which
# holds s1's and s2's internal snapshots, and reverting to them would
# then be refused (see "refused: revert" in the shut-off phase).
fx_step "running: --live, external memory, internal + external disks"
mark 0x13 m13
both snapshot-create-as mx s3 --live --memspec "file=$D/s3.save,snapshot=external" \
    --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=external
fx_expect_state mx running
memory m13
content 0x13
grep -q "suspended domain .* (flags 2," "$D/state/fakexen.log" || fx_fail "--live did not reach libxl"
has_internal "$D/d0.qcow2" s3 || fx_fail "no internal snapshot s3 in the qcow2 disk"
[ "$(image_of xvda)" = "$D/d0.qcow2" ] || fx_fail "xvda left d0.qcow2"
[ "$(image_of xvdb)" = "$D/d1.s3" ] || fx_fail "xvdb is not on d1.s3"
record s3

fx_step "running: --halt"
mark 0x14 m14
both snapshot-create-as mx s4 --halt --memspec "file=$D/s4.save" \
    --diskspec xvda,snapshot=internal
fx_expect_state mx "shut off"
info_has s4 "State: *running" "Parent: *s3"
content 0x14
has_internal "$D/d0.qcow2" s4 || fx_fail "no internal snapshot s4 in the qcow2 disk"
record s4-halt

# Every snapshot of this phase keeps xvda internal in d0.qcow2 and no
# external xvda freezes it, so the reverts below may apply their internal
# snapshots there in any order (s3 first, then s1, s2 and b1).
fx_step "revert --paused to s3 (memory, internal + external disks)"
both snapshot-revert mx s3 --paused
fx_expect_state mx paused
memory m13
content 0x13
record revert-s3-paused

fx_step "revert --running to s1 (memory, internal + external disks)"
both snapshot-revert mx s1 --running
fx_expect_state mx running
memory m10
content 0x10
[ -e "$D/d1.s2" ] || fx_fail "the overlay of another branch is gone"
record revert-s1

fx_step "a branch under s1"
mark 0x15 m15
both snapshot-create-as mx b1 --memspec "file=$D/b1.save" \
    --diskspec xvda,snapshot=internal
fx_expect_state mx running
memory m15
content 0x15
record b1

fx_step "revert to the disk-only s2 from running, then --running"
both snapshot-revert mx s2
fx_expect_state mx "shut off"
content 0x11
record revert-s2
both snapshot-revert mx s2 --running
fx_expect_state mx running
memory fresh
content 0x11
# libvirt 9.0's test driver leaves the domain shut off here.
test_cmd start mx
record revert-s2-running

fx_step "--paused to an inactive snapshot of a running domain needs --force"
mark 0x16 m16
vfail "must respawn guest to start inactive snapshot" snapshot-revert mx s2 --paused
fx_expect_state mx running
memory m16
content 0x16
both snapshot-revert mx s2 --paused --force
fx_expect_state mx paused
memory fresh
content 0x11
# Again the test driver leaves the domain shut off.
test_cmd start mx; test_cmd suspend mx
record revert-s2-force

fx_step "revert --force to b1 (memory)"
both snapshot-revert mx b1 --force
fx_expect_state mx running
memory m15
content 0x15
record revert-b1-force

fx_step "info, dumpxml, current (set), parent, edit"
info_has s3 "Name: *s3" "Domain: *mx" "State: *running" "Location: *external" \
    "Parent: *s2" "Children: *1" "Descendants: *1" "Metadata: *yes"
xml=$(vok snapshot-dumpxml mx s3)
echo "$xml" | grep -q "<memory snapshot='external' file='$D/s3.save'/>" || fx_fail "s3 memory: $xml"
echo "$xml" | grep -q "<disk name='xvda' snapshot='internal'/>" || fx_fail "s3 xvda: $xml"
echo "$xml" | grep -q "<source file='$D/d1.s3'/>" || fx_fail "s3 xvdb: $xml"
[ "$(vok snapshot-parent mx s3)" = s2 ] || fx_fail "snapshot-parent s3"
vfail "has no parent" snapshot-parent mx s1
# virsh sets a disk-only snapshot current with --disk-only, which the
# test driver refuses: it redefines the XML as current instead.
xen_redefine s2 snapshot-current mx s2
[ "$(vok snapshot-current mx --name)" = s2 ] || fx_fail "snapshot-current set to disk-only s2"
both snapshot-current mx s3
[ "$(vok snapshot-current mx --name)" = s3 ] || fx_fail "snapshot-current set"
fx_inhost grep -q "<active>1</active>" "$store/mx/s3.xml" || fx_fail "s3.xml is not marked current"
record current-s3 "snapshot-info mx s1; snapshot-info mx s2; snapshot-info mx s4; \
snapshot-parent mx s3; snapshot-parent mx b1"
both snapshot-edit mx s1
vok snapshot-dumpxml mx s1 | grep -q "<description>edited-s1</description>" ||
    fx_fail "snapshot-edit did not change the description"
[ "$(vok snapshot-current mx --name)" = s3 ] || fx_fail "snapshot-edit moved current"
record edit-s1 "snapshot-dumpxml mx s1 --xpath //domainsnapshot/description"

fx_step "shut off: default create, a child and a sibling (internal)"
both destroy mx
mark 0x17
both snapshot-create-as mx o1 --description desc-o1
fx_expect_state mx "shut off"
info_has o1 "State: *shutoff" "Location: *internal" "Parent: *s3"
images
xa=$XVDA
[ "$xa" = "$D/d0.qcow2" ] || fx_fail "xvda is not on d0.qcow2: $xa"
has_internal "$XVDA" o1 || fx_fail "no internal o1 in xvda"
has_internal "$XVDB" o1 || fx_fail "no internal o1 in xvdb"
mark 0x18
both snapshot-create-as mx o1a
both snapshot-revert mx o1
fx_expect_state mx "shut off"
content 0x17
mark 0x19
both snapshot-create-as mx o1b
both snapshot-create-as mx o1c
record o1-children

# These reverts apply internal snapshots inside the images that o2 below
# freezes, so they come before it (afterwards they are refused).
fx_step "shut off: revert, --running, --paused --force"
both snapshot-revert mx o1a
fx_expect_state mx "shut off"
content 0x18
both snapshot-revert mx o1b --running
fx_expect_state mx running
memory fresh
content 0x19
test_cmd start mx
record revert-o1b-running
both snapshot-revert mx o1 --paused --force
fx_expect_state mx paused
memory fresh
content 0x17
test_cmd start mx; test_cmd suspend mx
record revert-o1-paused-force

fx_step "shut off: --disk-only external, --reuse-external"
both destroy mx
mark 0x1a
xen_redefine o2 snapshot-create-as mx o2 --disk-only \
    --diskspec xvda,snapshot=external --diskspec xvdb,snapshot=external
base=$(config_src xvda)
case $base in "$D"/d0.o2) ;; *) fx_fail "xvda is not on d0.o2: $base" ;; esac
qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$D/reuse.qcow2" || fx_fail "qemu-img"
# The test driver refuses --reuse-external.
xen_redefine o3 snapshot-create-as mx o3 --disk-only --reuse-external \
    --diskspec "xvda,snapshot=external,file=$D/reuse.qcow2" --diskspec xvdb,snapshot=no
[ "$(config_src xvda)" = "$D/reuse.qcow2" ] || fx_fail "xvda is not on the reused overlay"
content 0x1a
record o2-o3

fx_step "delete --metadata, then snapshot-create --redefine --current"
vok snapshot-dumpxml mx o3 --security-info >"$T/o3.xml"
vok snapshot-delete mx o3 --metadata >/dev/null
# The test driver refuses --metadata; its delete touches only metadata.
test_cmd snapshot-delete mx o3
[ -e "$D/reuse.qcow2" ] || fx_fail "delete --metadata removed the overlay"
[ "$(config_src xvda)" = "$D/reuse.qcow2" ] || fx_fail "delete --metadata moved xvda"
record delete-o3-metadata
both snapshot-create mx "$T/o3.xml" --redefine --current
info_has o3 "Current: *yes" "Parent: *o2" "State: *disk-snapshot"
record redefine-o3

# o1 is internal in d0.qcow2, which o2's external xvda froze: applying o1
# there would change o2's disk for good, so our driver refuses. The test
# driver keeps no disk data and would revert, so only the start is sent
# to it. The domain runs, so that a revert that went ahead would show as
# a new domain id and fresh memory.
fx_step "refused: revert to o1 inside the image o2 froze"
both start mx
fx_ctl mem-write mx 0 m1b || fx_fail "mem-write"
id=$(vok domid mx)
images
xb=$XVDB
for flags in "" "--running --force"; do
    vfail "cannot revert disk 'xvda' to internal snapshot 'o1': its image '$xa' is frozen by external snapshot 'o2', which reverting would change; delete 'o2' first" \
        snapshot-revert mx o1 $flags
    fx_expect_state mx running
    [ "$(vok domid mx)" = "$id" ] || fx_fail "the domain was restarted"
    memory m1b
    images
    [ "$XVDA" = "$D/reuse.qcow2" ] && [ "$XVDB" = "$xb" ] ||
        fx_fail "the disks moved: $XVDA $XVDB"
    content 0x1a
    fx_image_has qcow2 "$xa" 0x1a 0 64k ||
        fx_fail "the frozen image $xa changed: $FX_IMAGE_OUT"
    has_internal "$xa" o1 || fx_fail "internal o1 gone from $xa"
    [ "$(vok snapshot-current mx --name)" = o3 ] || fx_fail "snapshot-current moved"
done
record refused-revert-o1 "snapshot-list mx --from s1 --name; \
snapshot-list mx --from s1 --descendants --name; snapshot-list mx --from o1 --tree; \
snapshot-list mx --from s2 --descendants --leaves --name; \
snapshot-list mx --from s3 --descendants --topological --name; \
snapshot-parent mx o1a"

fx_step "delete --children --metadata, --children-only, --children"
both destroy mx
content 0x1a
vok snapshot-delete mx o2 --children --metadata >/dev/null
test_cmd snapshot-delete mx o2 --children
[ -e "$D/d0.o2" ] && [ -e "$D/reuse.qcow2" ] || fx_fail "delete --metadata removed images"
record delete-o2-children-metadata
both snapshot-delete mx o1b --children
has_internal "$xa" o1b && fx_fail "internal o1b left"
has_internal "$xa" o1c && fx_fail "internal o1c left"
has_internal "$xa" o1a || fx_fail "internal o1a removed by deleting o1b"
content 0x1a
record delete-o1b-children
both snapshot-delete mx o1 --children-only
has_internal "$xa" o1a && fx_fail "internal o1a left"
has_internal "$xa" o1 || fx_fail "internal o1 removed by --children-only"
content 0x1a
record delete-o1-children-only
both snapshot-delete mx o1
has_internal "$xa" o1 && fx_fail "internal o1 left"
record delete-o1
both snapshot-delete mx s4
[ -e "$D/s4.save" ] && fx_fail "memory image of s4 left"
has_internal "$D/d0.qcow2" s4 && fx_fail "internal s4 left"
content 0x1a
record delete-s4
both snapshot-delete mx b1
[ -e "$D/b1.save" ] && fx_fail "memory image of b1 left"
has_internal "$D/d0.qcow2" b1 && fx_fail "internal b1 left"
record delete-b1
vok snapshot-delete mx s1 --children --metadata >/dev/null
test_cmd snapshot-delete mx s1 --children
[ -z "$(vok snapshot-list mx --name)" ] || fx_fail "snapshots left"
content 0x1a
record empty

fx_step "python3-libvirt: create, listAllSnapshots, revert, delete, errors"
vok start mx >/dev/null
/usr/bin/python3 "$abs_top_srcdir/tests/python-snapshot-test.py" "$FX_URI" mx "$FX_CTL" ||
    fx_fail "tests/python-snapshot-test.py"

fx_step "the same operations on libvirt's test driver"
cmds=$(tr -d '\n' <"$T/cmds")
# Its exit status is the last command's, a query that may fail: the
# operations are checked one by one below instead.
stdbuf -oL virsh -q -c test:///default "$cmds" >"$T/test.all" 2>&1

# Splits a session's output at the markers (which may follow output
# that does not end in a newline), drops the creation times and reduces
# error messages, whose wording is each driver's own, to "error".
split() {
    sed -e 's/@@@\([^@]*\)@@@/\n@@@\1\n/g' "$1" |
        sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [+-][0-9]{4}/TIME/' \
               -e 's/error: .*$/error/' |
        awk -v dir="$2" '
            /^@@@-$/ { next }
            /^@@@/ { out = dir "/" substr($0, 4); printf "" > out; next }
            out && NF { print > out }'
}
split "$T/xen.all" "$T/xen"
split "$T/test.all" "$T/test"

[ "$(ls "$T"/test/op* | wc -l)" = "$nops" ] ||
    fx_fail "the test driver session stopped early: $(tail -n 5 "$T/test.all")"
failed=0
for f in "$T"/test/op*; do
    if grep -q . "$f"; then
        echo "test driver, operation $(basename "$f"):" >&2
        cat "$f" >&2
        failed=1
    fi
done
[ "$failed" = 0 ] || fx_fail "the test driver refused an operation: $(grep -n error "$T/test.all")"
n=0
for f in "$T"/xen/[0-9]*; do
    label=$(basename "$f")
    n=$((n + 1))
    if ! cmp -s "$f" "$T/test/$label"; then
        echo "step $label differs (-test driver, +ours):" >&2
        diff -u "$T/test/$label" "$f" >&2
        failed=1
    fi
done
[ "$n" = $((2 * nrec)) ] || fx_fail "$n recorded sections for $nrec steps"
[ "$failed" = 0 ] || fx_fail "our driver and the test driver disagree"
echo "  $nrec steps compared with test:///default (domstate and the queries above each)"

fx_step "done"
exit 0
