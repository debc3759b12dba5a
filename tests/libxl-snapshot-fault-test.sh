#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault injection at every step of create, revert and delete, through
# virsh on the simulated Xen host. Each operation runs once without a
# fault to list the steps it passes (XSNAP_FAULT_FILE's trace); then it
# runs again with a failure injected at each of those steps, and the
# test proves the state the failure leaves: for create, everything as
# before (domain state, snapshot list and current, files of the disk
# folder and of the store, internal snapshots, the images QEMU serves,
# the persistent config, disk content and guest memory); for revert and
# delete, the state docs/architecture.md documents. Finally the same
# operation succeeds without a fault.
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper

# The fault file must be known to libvirtd from its start, before the
# host (and so FX_DIR) exists.
FAULT_DIR=$(mktemp -d /tmp/xsnap-fault.XXXXXX) || fx_fail "mktemp"
F=$FAULT_DIR/faults
: > "$F"
XSNAP_FAULT_FILE=$F
export XSNAP_FAULT_FILE

fx_step "start the simulated host with the wrapper module"
fx_setup
trap 'rc=$?; rm -rf "$FAULT_DIR"; (exit $rc); fx_cleanup' EXIT
store=/var/lib/libvirt/libxl/snapshot
D=$FX_DIR/disks
mkdir "$D" || fx_fail "mkdir"
cases=0

# has FILE PATTERN OFFSET LEN [PATTERN OFFSET LEN...]: the image, read
# from outside through its backing chain, holds each pattern. The format
# is probed: the test never writes the first sectors, so a raw image
# cannot look like qcow2.
has() {
    f=$1; shift
    fx_image_has "" "$f" "$@"
}
# The file the persistent config gives disk DEV.
config_file() {
    vok dumpxml "$1" --inactive | /usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
for d in ET.fromstring(sys.stdin.read()).iter("disk"):
    if d.find("target").get("dev") == sys.argv[1]:
        print(d.find("source").get("file"))' "$2"
}
internal_snaps() {
    qemu-img snapshot -U -l "$1" 2>/dev/null | awk 'NR > 2 { print $2 }' | sort | tr '\n' ' '
}
mem() {
    fx_ctl mem-read "$1" 0 "$2"
}
# Everything a failed create must leave as it was, one fact a line:
# domain state, snapshot list and current, the files of the disk folder
# and of the store, the internal snapshots of every qcow2 image (read
# from its snapshot table; checked against qemu-img at the end), the
# images of the persistent config and those QEMU serves. One virsh, one
# QMP query and one python inside the host, so that 30 cases stay fast.
cat > "$FX_DIR/fingerprint.py" <<'PY'
import json, os, re, struct, sys
import xml.etree.ElementTree as ET

def internal(path):
    with open(path, "rb") as f:
        h = f.read(72)
        if len(h) < 72 or h[:4] != b"QFI\xfb":
            return None
        n, off = struct.unpack(">IQ", h[60:72])
        names = []
        f.seek(off)
        for _ in range(n):
            e = f.read(40)
            idlen, namelen = struct.unpack(">HH", e[12:16])
            extra = struct.unpack(">I", e[36:40])[0]
            f.read(extra + idlen)
            names.append(f.read(namelen).decode())
            f.read(-(40 + extra + idlen + namelen) % 8)
        return sorted(names)

virsh, qmp, disks, store = sys.argv[1:5]
parts = re.split(r"@@(\w+)@@", open(virsh).read())
v = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
print("state", v["state"])
print("list", " ".join(sorted(v["list"].split())))
print("current", v["current"])
print("files", " ".join(sorted(os.listdir(disks))))
print("store", " ".join(sorted(os.listdir(store))) if os.path.isdir(store) else "")
for name in sorted(os.listdir(disks)):
    snaps = internal(os.path.join(disks, name))
    if snaps is not None:
        print("internal", name, " ".join(snaps))
for d in ET.fromstring(v["config"]).iter("disk"):
    print("config", d.find("target").get("dev"), d.find("source").get("file"))
if v["state"] in ("running", "paused"):
    for b in json.load(open(qmp))["return"]:
        print("served", b["device"], (b.get("inserted") or {}).get("file"))
    # Nodes we name: an overlay opened before the pause and left behind.
    nodes = json.load(open(qmp + ".nodes"))["return"]
    print("nodes", " ".join(sorted(n["node-name"] for n in nodes
                                   if n["node-name"].startswith("xsnap-"))))
PY
fingerprint() {
    fx_virsh "echo @@state@@; domstate $1; echo @@list@@; snapshot-list $1 --name; echo @@current@@; snapshot-current $1 --name; echo @@config@@; dumpxml $1 --inactive; echo @@end@@" \
        > "$FX_DIR/fp.virsh" 2>/dev/null
    fx_ctl qmp "$1" '{"execute":"query-block"}' > "$FX_DIR/fp.qmp" 2>/dev/null ||
        echo '{"return": []}' > "$FX_DIR/fp.qmp"
    fx_ctl qmp "$1" '{"execute":"query-named-block-nodes","arguments":{"flat":true}}' \
        > "$FX_DIR/fp.qmp.nodes" 2>/dev/null ||
        echo '{"return": []}' > "$FX_DIR/fp.qmp.nodes"
    nsenter -t "$nspid" -m -- /usr/bin/python3 "$FX_DIR/fingerprint.py" \
        "$FX_DIR/fp.virsh" "$FX_DIR/fp.qmp" "$D" "$store/$1" || fx_fail "fingerprint of $1"
}
nspid=$("$FX_HOST" nspid "$FX_DIR") || fx_fail "no host namespace"

# field FINGERPRINT KEY: the rest of the line that starts with KEY
field() {
    printf '%s\n' "$1" | sed -n "s/^$2 //p"
}
# image FINGERPRINT DEV: the image the disk uses: the one QEMU serves, or
# the config's when the domain is off
image() {
    printf '%s\n' "$1" | awk -v d="$2" '
        $1 == "config" && $2 == d { c = $3 }
        $1 == "served" && $2 == d { s = $3 }
        END { print (s != "" ? s : c) }'
}
same() {
    [ "$1" = "$2" ] && return 0
    printf '%s\n' "$1" > "$FX_DIR/fp.want"
    printf '%s\n' "$2" > "$FX_DIR/fp.got"
    fx_fail "$3: $(diff "$FX_DIR/fp.want" "$FX_DIR/fp.got" | grep '^[<>]')"
}
# The lines of a fingerprint without those matching the regex $2.
without() {
    printf '%s\n' "$1" | grep -Ev "$2"
}

clear_faults() {
    : > "$F"
    rm -f "$F.trace"
}
# The steps passed since clear_faults, each once, in order.
points() {
    awk '!seen[$0]++' "$F.trace" 2>/dev/null | tr '\n' ' '
}
# injected POINT ARGS: virsh ARGS fails at POINT with the injected fault
injected() {
    point=$1; shift
    printf 'fail %s\n' "$point" > "$F"
    if out=$(fx_virsh "$@" 2>&1); then
        fx_fail "virsh $* succeeded with a fault at $point"
    fi
    case $out in
        *"injected fault at step '$point'"*) ;;
        *) fx_fail "virsh $* with a fault at $point: $out" ;;
    esac
    : > "$F"
    cases=$((cases + 1))
}
pattern() {
    printf '0x%02x' $((0x20 + cases))
}

define() {
    # $1 name, $2 uuid suffix, then disks as "dev:fmt:file"
    name=$1; uu=$2; shift 2
    {
        echo "<domain type='xen'><name>$name</name>"
        echo "<uuid>6a2b7c3d-1e4f-4a5b-8c6d-7e8f9a0b1c$uu</uuid>"
        echo "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        echo "<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices>"
        for d in "$@"; do
            dev=${d%%:*}; rest=${d#*:}; fmt=${rest%%:*}; file=${rest#*:}
            echo "<disk type='file' device='disk'><driver name='qemu' type='$fmt'/>"
            echo "<source file='$file'/><target dev='$dev' bus='xen'/></disk>"
        done
        echo "</devices></domain>"
    } > "$FX_DIR/$name.xml"
    vok define "$FX_DIR/$name.xml" >/dev/null
}

# create_cases DOM NAME ARGS: a create that fails at any step leaves
# everything as it was, including what the guest wrote before
create_cases() {
    dom=$1; name=$2; shift 2
    running=false
    [ "$(fx_virsh domstate "$dom")" = running ] && running=true
    clear_faults
    vok snapshot-create-as "$dom" "$name" "$@" >/dev/null
    pts=$(points)
    # After --halt: running again, from the config, for the cases.
    if $running && [ "$(fx_virsh domstate "$dom")" != running ]; then
        vok start "$dom" >/dev/null
    fi
    vok snapshot-delete "$dom" "$name" >/dev/null
    [ -n "$pts" ] || fx_fail "create of $dom passed no fault point"
    echo "    steps: $pts"
    # Writes change no line of it, so one reference serves every case.
    before=$(fingerprint "$dom")
    for p in $pts; do
        pat=$(pattern)
        for dev in $DEVS; do
            if $running; then
                write "$dom" "$dev" "$pat" 1M 64k
            else
                qemu-io -c "write -P $pat 1M 64k" "$(config_file "$dom" "$dev")" \
                    >/dev/null 2>&1 || fx_fail "qemu-io"
            fi
        done
        $running && { fx_ctl mem-write "$dom" 0 "mem-$pat" || fx_fail "mem-write"; }
        injected "$p" snapshot-create-as "$dom" "$name" "$@"
        after=$(fingerprint "$dom")
        same "$before" "$after" "create of $dom with a fault at $p"
        for dev in $DEVS; do
            has "$(image "$after" "$dev")" "$pat" 1M 64k ||
                fx_fail "$dev of $dom lost the write before a fault at $p"
        done
        if $running; then
            [ "$(mem "$dom" 8)" = "mem-$pat" ] ||
                fx_fail "memory of $dom after a fault at $p: $(mem "$dom" 8)"
        fi
    done
    clear_faults
    $running && { fx_ctl mem-write "$dom" 0 "memory-$name" || fx_fail "mem-write"; }
    vok snapshot-create-as "$dom" "$name" "$@" >/dev/null
    [ "$(field "$(fingerprint "$dom")" current)" = "$name" ] ||
        fx_fail "$name is not current after its create"
}

# revert_cases DOM SNAP SNAPPAT ARGS: a revert that fails at any step
# after stopping the domain leaves it shut off, with its config, the
# snapshot list and its external disks as before; internal snapshots
# already applied stay applied (xvda holds SNAPPAT, the snapshot's data)
revert_cases() {
    dom=$1; snap=$2; snappat=$3; shift 3
    clear_faults
    vok snapshot-revert "$dom" "$snap" "$@" >/dev/null
    pts=$(points)
    [ -n "$pts" ] || fx_fail "revert of $dom passed no fault point"
    echo "    steps: $pts"
    # A failed revert leaves the config as it was, so starting the domain
    # again brings back this reference for the next case.
    before=$(fingerprint "$dom")
    after=$before
    xvdb=$(image "$before" xvdb)
    for p in $pts; do
        [ "$(field "$after" state)" = running ] || vok start "$dom" >/dev/null
        pat=$(pattern)
        for dev in $DEVS; do
            write "$dom" "$dev" "$pat" 1M 64k
        done
        injected "$p" snapshot-revert "$dom" "$snap" "$@"
        after=$(fingerprint "$dom")
        xvda=$(image "$after" xvda)
        if [ "$p" = revert:stop ]; then
            same "$before" "$after" "revert of $dom with a fault at $p"
            has "$xvda" "$pat" 1M 64k || fx_fail "xvda changed by a fault at $p"
        else
            same "$(without "$before" '^(state|served|nodes) ')" \
                 "$(without "$after" '^(state|served|nodes) ')" \
                 "revert of $dom with a fault at $p"
            [ "$(field "$after" state)" = "shut off" ] ||
                fx_fail "$dom is '$(field "$after" state)' after a fault at $p"
            [ "$(image "$after" xvdb)" = "$xvdb" ] ||
                fx_fail "the config of xvdb moved after a fault at $p"
            if [ "$p" = revert:disks ]; then
                has "$xvda" "$pat" 1M 64k || fx_fail "xvda changed by a fault at $p"
            else
                has "$xvda" "$snappat" 2M 64k ||
                    fx_fail "xvda is not at $snap after a fault at $p"
                has "$xvda" "$pat" 1M 64k &&
                    fx_fail "xvda kept data after $snap though its revert was applied"
            fi
        fi
        has "$xvdb" "$pat" 1M 64k || fx_fail "xvdb lost data after a fault at $p"
    done
    clear_faults
    vok snapshot-revert "$dom" "$snap" "$@" >/dev/null
    after=$(fingerprint "$dom")
    [ "$(field "$after" state)" = running ] || fx_fail "$dom is not running after its revert"
    [ "$(field "$after" current)" = "$snap" ] || fx_fail "$snap is not current after its revert"
    for dev in $DEVS; do
        has "$(image "$after" "$dev")" "$snappat" 2M 64k || fx_fail "$dev is not at $snap"
    done
}

# delete_cases DOM MEMORY ARGS: a snapshot made with ARGS (with a memory
# image if MEMORY is yes) is deleted with a fault at each step. Before
# the first disk, nothing changes; later, the snapshot stays listed and
# current while its disks are as after a delete (internal snapshot gone;
# overlay merged, with the config and QEMU on the base), its memory
# image goes at the metadata step, and a second delete finishes the job.
delete_cases() {
    dom=$1; memory=$2; shift 2
    clear_faults
    vok snapshot-create-as "$dom" del0 "$@" >/dev/null
    rm -f "$F.trace"
    vok snapshot-delete "$dom" del0 >/dev/null
    pts=$(points)
    [ -n "$pts" ] || fx_fail "delete of $dom passed no fault point"
    echo "    steps: $pts"
    for p in $pts; do
        name=del$cases
        clean=$(fingerprint "$dom")
        pat=$(pattern)
        write "$dom" xvda "$pat" 3M 64k
        write "$dom" xvdb "$pat" 3M 64k
        vok snapshot-create-as "$dom" "$name" "$@" >/dev/null
        write "$dom" xvda "$pat" 4M 64k
        write "$dom" xvdb "$pat" 4M 64k
        before=$(fingerprint "$dom")
        injected "$p" snapshot-delete "$dom" "$name"
        after=$(fingerprint "$dom")
        if [ "$p" = delete:disk ]; then
            same "$before" "$after" "delete of $name with a fault at $p"
        else
            # Listed and current still, the disks as after a delete.
            same "$(printf '%s\n' "$before" | grep -E '^(list|current) ')" \
                 "$(printf '%s\n' "$after" | grep -E '^(list|current) ')" \
                 "delete of $name with a fault at $p"
            same "$(without "$clean" '^(list|current|store) ')" \
                 "$(without "$after" '^(list|current|store) ')" \
                 "the disks after deleting $name with a fault at $p"
            case " $(field "$after" store) " in
                *" $name.xml "*) ;;
                *) fx_fail "the metadata of $name went with a fault at $p" ;;
            esac
            image_left=no
            case " $(field "$after" store) " in *" $name.save "*) image_left=yes ;; esac
            want=$memory
            [ "$p" = delete:metadata ] && want=no
            [ "$image_left" = "$want" ] ||
                fx_fail "memory image of $name left: $image_left, after a fault at $p"
        fi
        [ "$(field "$after" state)" = running ] || fx_fail "$dom stopped deleting $name"
        for dev in xvda xvdb; do
            has "$(image "$after" "$dev")" "$pat" 3M 64k "$pat" 4M 64k ||
                fx_fail "$dev lost data deleting $name with a fault at $p"
        done
        vok snapshot-delete "$dom" "$name" >/dev/null
        after=$(fingerprint "$dom")
        same "$clean" "$after" "after deleting $name again"
        for dev in xvda xvdb; do
            has "$(image "$after" "$dev")" "$pat" 3M 64k "$pat" 4M 64k ||
                fx_fail "$dev lost data deleting $name again"
        done
    done
}

fx_step "define fa (qcow2 xvda, raw xvdb) running, fo (the same) shut off"
DEVS="xvda xvdb"
qemu-img create -q -f qcow2 "$D/a0.qcow2" 16M || fx_fail "qemu-img"
qemu-img create -q -f raw "$D/a1.raw" 16M || fx_fail "qemu-img"
qemu-img create -q -f qcow2 "$D/o0.qcow2" 16M || fx_fail "qemu-img"
qemu-img create -q -f raw "$D/o1.raw" 16M || fx_fail "qemu-img"
define fa 01 "xvda:qcow2:$D/a0.qcow2" "xvdb:raw:$D/a1.raw"
define fo 02 "xvda:qcow2:$D/o0.qcow2" "xvdb:raw:$D/o1.raw"
vok start fa >/dev/null

fx_step "create, disk-only: raw external, qcow2 internal as asked"
write fa xvda 0x11 2M 64k
write fa xvdb 0x11 2M 64k
create_cases fa cd --disk-only --diskspec xvda,snapshot=internal
[ "$(served fa xvdb)" = "$D/a1.cd" ] || fx_fail "xvdb is not on its overlay"

fx_step "create, running with memory: internal + external"
write fa xvda 0x12 2M 64k
write fa xvdb 0x12 2M 64k
create_cases fa cm --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=external
fx_inhost test -s "$store/fa/cm.save" || fx_fail "no memory image for cm"

fx_step "create, offline: internal + external"
create_cases fo co
[ -e "$D/o1.co" ] || fx_fail "no overlay for co"

fx_step "revert with memory"
revert_cases fa cm 0x12
[ "$(mem fa 9)" = "memory-cm" ] || fx_fail "memory after the revert to cm: $(mem fa 9)"

fx_step "revert without memory, --running --force"
revert_cases fa cd 0x11 --running --force

fx_step "delete an internal snapshot with memory, running"
delete_cases fa yes --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=no

fx_step "delete an external snapshot by merge, running"
delete_cases fa no --disk-only --diskspec xvda,snapshot=no --diskspec xvdb,snapshot=external

fx_step "create --halt: after the halt, the domain comes back from its image"
create_cases fa ch --halt --diskspec xvda,snapshot=internal --diskspec xvdb,snapshot=external
[ "$(fx_virsh domstate fa)" = "shut off" ] || fx_fail "fa runs after --halt"

fx_step "the snapshot tables read above agree with qemu-img"
fp=$(fingerprint fa)
n=0
for f in "$D"/*; do
    want=$(echo $(internal_snaps "$f"))
    got=$(field "$fp" "internal ${f##*/}")
    [ "$got" = "$want" ] || fx_fail "internal snapshots of $f: read '$got', qemu-img '$want'"
    [ -n "$want" ] && n=$((n + 1))
done
[ $n -ge 2 ] || fx_fail "only $n images with internal snapshots to compare"

fx_step "done"
echo "  $cases fault cases"
