# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh: helpers for the scenario scripts that the agent runs inside the
# real-Xen dom0 (bash).  Every call that can hang has a timeout: under TCG
# one `ps` once stayed in state R for 10 minutes.
#
#   rx_setup                 starts libvirtd (with our module) if needed
#   rx_step NAME             prints the previous step's time, starts NAME
#   rx_fail MSG / rx_note MSG
#   vok ARGS / vfail PATTERN ARGS
#                            virsh that must succeed / fail with PATTERN
#   rx_guest_define NAME DISK...
#                            defines the PV guest with these disks
#                            (FILE:FORMAT, on xvda, xvdb, ...)
#   rx_domid NAME / rx_console NAME (the guest's console log)
#   rx_mark NAME             prints the console log's current size
#   rx_wait_tick NAME MIN [SECS] [MARK]
#                            waits for a tick >= MIN after MARK, prints it
#   rx_last_tick NAME [MARK] prints the last "tick ..." line after MARK
#   rx_cmd NAME OP ARGS...   sends "cmd ID OP ARGS" to the guest's console,
#                            prints its result line; 0 if "ok"
#   rx_expect CHECK GOT WANT fails unless GOT = WANT; REALXEN_BREAK='CHECK...'
#                            changes WANT, to show those checks failing
#   rx_check CHECK GOT WANT  the same, but records the failure and goes on,
#                            so that one run reports every broken check
#
# virsh runs with glibc's malloc checking (libc_malloc_debug.so.0 with
# MALLOC_CHECK_=3 and MALLOC_PERTURB_), to catch heap corruption in the
# client on what our module sends back.

RX_IMAGES=/var/lib/libvirt/images
RX_GUEST=/var/lib/realxen/guest
RX_CMD_ID=0
: "${RX_BREAK:=}"

rx_now() { cut -d' ' -f1 /proc/uptime; }

rx_step() {
    local now
    now=$(rx_now)
    if [ -n "${RX_STEP_NAME:-}" ]; then
        awk -v n="$RX_STEP_NAME" -v a="$RX_STEP_START" -v b="$now" \
            'BEGIN { printf "  %-58s %6.1fs\n", n, b - a }'
    fi
    RX_STEP_NAME=$1
    RX_STEP_START=$now
}

rx_note() { echo "NOTE: $*"; }

# Failures go to stderr, so that they show even from a helper whose
# stdout is captured or thrown away.
rx_fail() {
    echo "FAIL: $*" >&2
    [ -n "${RX_OUT:-}" ] && echo "$*" >>"$RX_OUT/failed"
    echo "--- libvirtd log (last 30 lines)" >&2
    tail -n 30 /var/log/libvirt/libvirtd.log 2>/dev/null | grep -v ' debug : ' >&2
    exit 1
}

# rx_broken CHECK: is CHECK one of REALXEN_BREAK's (space-separated)?
rx_broken() {
    case " $RX_BREAK " in *" $1 "*) return 0 ;; esac
    return 1
}

rx_virsh() {
    rx_t "${RX_VIRSH_TIMEOUT:-300}" env LD_PRELOAD=libc_malloc_debug.so.0 \
        MALLOC_CHECK_=3 MALLOC_PERTURB_=165 virsh -q "$@"
}

vok() {
    local out
    if ! out=$(rx_virsh "$@" 2>&1); then
        echo "$out"
        rx_fail "virsh $* failed"
    fi
    [ -n "$out" ] && echo "$out"
    return 0
}

vfail() {
    local pat=$1 out
    shift
    if out=$(rx_virsh "$@" 2>&1); then
        echo "$out"
        rx_fail "virsh $* succeeded, expected a failure matching '$pat'"
    fi
    echo "$out" | grep -q -- "$pat" || { echo "$out"; rx_fail "virsh $* failed, but not with '$pat'"; }
    echo "refused as expected: $(echo "$out" | grep -- "$pat" | head -n1)"
}

rx_expect() {
    local check=$1 got=$2 want=$3
    rx_broken "$check" && want="$want-broken-on-purpose"
    if [ "$got" != "$want" ]; then
        rx_fail "$check: got '$got', expected '$want'"
    fi
    echo "ok: $check = $got"
}

rx_check() {
    local check=$1 got=$2 want=$3
    rx_broken "$check" && want="$want-broken-on-purpose"
    if [ "$got" != "$want" ]; then
        echo "FAIL: $check: got '$got', expected '$want'" >&2
        [ -n "${RX_OUT:-}" ] && echo "$check" >>"$RX_OUT/failed"
        return 1
    fi
    echo "ok: $check = $got"
}

rx_setup() {
    if ! timeout 30 systemctl is-active -q libvirtd; then
        timeout -k 10 180 systemctl start libvirtd || rx_fail "libvirtd did not start"
    fi
    local i=0
    until timeout 30 virsh -q list >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge 60 ] && rx_fail "libvirtd does not answer"
        sleep 1
    done
    timeout 60 virt-xen-snapshot doctor >/dev/null 2>&1 ||
        { timeout 60 virt-xen-snapshot doctor; rx_fail "virt-xen-snapshot doctor says the module is not active"; }
    mkdir -p "$RX_IMAGES"
}

rx_guest_define() {
    local name=$1 xml=$RX_OUT/$1.xml letters=abcdefgh i=0 d file fmt
    shift
    {
        echo "<domain type='xen'>"
        echo "  <name>$name</name>"
        echo "  <memory unit='MiB'>256</memory>"
        echo "  <vcpu>1</vcpu>"
        echo "  <os>"
        echo "    <type arch='x86_64' machine='xenpv'>linux</type>"
        echo "    <kernel>$RX_GUEST/vmlinuz</kernel>"
        echo "    <initrd>$RX_GUEST/initrd.gz</initrd>"
        echo "    <cmdline>console=hvc0 loglevel=4 realxen.tick=${RX_TICK:-3}</cmdline>"
        echo "  </os>"
        echo "  <on_poweroff>destroy</on_poweroff>"
        echo "  <on_reboot>restart</on_reboot>"
        echo "  <on_crash>destroy</on_crash>"
        echo "  <devices>"
        for d in "$@"; do
            file=${d%:*}
            fmt=${d##*:}
            echo "    <disk type='file' device='disk'>"
            echo "      <driver name='qemu' type='$fmt'/>"
            echo "      <source file='$file'/>"
            echo "      <target dev='xvd${letters:$i:1}' bus='xen'/>"
            echo "    </disk>"
            i=$((i + 1))
        done
        echo "    <console type='pty'><target type='xen' port='0'/></console>"
        echo "  </devices>"
        echo "</domain>"
    } >"$xml"
    vok define "$xml" >/dev/null
}

# Retried: under TCG a single dom0 process sometimes hangs or crashes.
rx_domid() {
    local i id
    for i in 1 2 3 4 5; do
        id=$(timeout -k 5 60 virsh -q domid "$1" 2>/dev/null | tr -d ' ')
        case $id in [0-9]*) echo "$id"; return 0 ;; esac
        sleep 1
    done
    echo "rx_domid: no domain id for $1" >&2
    return 1
}

rx_console() { echo "/var/log/xen/console/guest-$1.log"; }

rx_mark() {
    local f
    f=$(rx_console "$1")
    if [ -f "$f" ]; then rx_t 20 stat -c %s "$f"; else echo 0; fi
}

# Each small command here has its own timeout: under TCG a dom0 process
# sometimes spins for minutes (docs/realxen.md); the polling loops then
# just try again.
# rx_t SECS CMD...: CMD with a timeout; a timeout is counted in
# $RX_OUT/hangs, so that a run reports how often dom0 processes hung.
rx_t() {
    local secs=$1 rc
    shift
    timeout -k 5 "$secs" "$@"
    rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "$(rx_now) hung for ${secs}s: $*" >>"${RX_OUT:-/tmp}/hangs"
    elif [ $rc -ge 128 ]; then
        echo "$(rx_now) killed by signal $((rc - 128)): $*" >>"${RX_OUT:-/tmp}/hangs"
    fi
    return $rc
}

rx_since() {
    local f
    f=$(rx_console "$1")
    [ -f "$f" ] && rx_t 20 tail -c +"$(( ${2:-0} + 1 ))" "$f" | rx_t 20 tr -d '\r'
}

rx_last_tick() {
    rx_since "$1" "${2:-0}" | grep -a '^tick ' | tail -n1
}

# tick_n LINE: the counter of a tick line.
rx_tick_n() { echo "$1" | awk '{ print $2 }'; }
# rx_tick_disk LINE: the counter the guest found on its disk before writing.
rx_tick_disk() { echo "$1" | sed -n 's/.*disk=XRX n=\([0-9]*\).*/\1/p'; }

# rx_ticks_upto NAME MARK N: the tick lines after MARK whose counter is at
# most N (after a revert: those of the restored guest, not of the one it
# replaced, whose counter was already past N).  Not the uptime: on real
# Xen a restored guest's uptime counts the time it spent saved.
rx_ticks_upto() {
    rx_since "$1" "$2" | grep -a '^tick ' | awk -v n="$3" '$2 + 0 <= n + 0'
}

# rx_tick_up LINE: the guest's uptime in a tick line.
rx_tick_up() { echo "$1" | awk '{ split($3, a, "="); print a[2] }'; }

rx_wait_tick() {
    local name=$1 min=$2 secs=${3:-120} mark=${4:-0} t=0 line
    while [ "$t" -lt "$secs" ]; do
        line=$(rx_last_tick "$name" "$mark")
        if [ -n "$line" ] && [ "$(rx_tick_n "$line")" -ge "$min" ]; then
            echo "$line"
            return 0
        fi
        sleep 1
        t=$((t + 1))
    done
    echo "--- console of $name since mark $mark:"
    rx_since "$name" "$mark" | tail -n 20
    rx_fail "$name: no tick >= $min within $secs s"
}

# The first tick line after MARK.
rx_first_tick() {
    rx_since "$1" "${2:-0}" | grep -a '^tick ' | head -n1
}

rx_cmd() {
    local name=$1 id tty mark t=0 line
    shift
    RX_CMD_ID=$((RX_CMD_ID + 1))
    id=$$.$RX_CMD_ID
    for t in 1 2 3 4 5; do
        tty=$(timeout -k 5 30 xenstore-read "/local/domain/$(rx_domid "$name")/console/tty") &&
            [ -c "$tty" ] && break
        tty=
        sleep 1
    done
    [ -n "$tty" ] || rx_fail "$name: no console tty in xenstore"
    t=0
    mark=$(rx_mark "$name")
    printf 'cmd %s %s\n' "$id" "$*" | timeout 30 tee "$tty" >/dev/null ||
        rx_fail "$name: cannot write to its console $tty"
    while [ $t -lt 120 ]; do
        line=$(rx_since "$name" "$mark" | grep -a "^result $id " | head -n1)
        if [ -n "$line" ]; then
            echo "$line"
            case $line in "result $id ok"*) return 0 ;; *) return 1 ;; esac
        fi
        sleep 0.5
        t=$((t + 1))
    done
    rx_fail "$name: no answer to 'cmd $id $*' within 60 s"
}

# rx_image_has FILE KIB_OFFSET KIB_LEN BYTE: does the image (read with
# force-share, while the guest runs) hold that pattern there?
rx_image_has() {
    local out
    out=$(timeout 60 qemu-io -U -r -f "$(rx_image_format "$1")" \
              -c "read -P $4 $2k $3k" "$1" 2>&1)
    case $out in
    *"Pattern verification failed"*) return 1 ;;
    *"read "*) return 0 ;;
    *) echo "$out" >&2; return 2 ;;
    esac
}

# rx_layer_has FILE KIB_OFFSET KIB_LEN BYTE: the same for a qcow2 file
# alone, without its backing chain (is the data in this overlay itself?).
rx_layer_has() {
    local out
    out=$(timeout 60 qemu-io -U -r \
              --image-opts "driver=qcow2,backing=null,file.driver=file,file.filename=$1" \
              -c "read -P $4 $2k $3k" 2>&1)
    case $out in
    *"Pattern verification failed"*) return 1 ;;
    *"read "*) return 0 ;;
    *) echo "$out" >&2; return 2 ;;
    esac
}

rx_image_format() {
    timeout 60 qemu-img info -U --output=json "$1" |
        sed -n 's/^ *"format": "\([a-z0-9]*\)".*/\1/p' | head -n1
}

# rx_sector0 FILE: "XRX n=..." as the image holds it (force-share).
rx_sector0() {
    local h
    for h in $(timeout 60 qemu-io -U -r -f "$(rx_image_format "$1")" -c 'read -v 0 48' "$1" |
               awk '/^[0-9a-f]+:/ { for (i = 2; i <= 17; i++) if ($i ~ /^[0-9a-f][0-9a-f]$/) print $i }'); do
        [ "$h" = 0a ] || [ "$h" = 00 ] && break
        printf "\\x$h"
    done
    echo
}

rx_cleanup_guest() {
    timeout 120 virsh -q destroy "$1" >/dev/null 2>&1
    timeout 120 virsh -q undefine "$1" --snapshots-metadata --managed-save >/dev/null 2>&1 ||
        timeout 120 virsh -q undefine "$1" >/dev/null 2>&1
    return 0
}
