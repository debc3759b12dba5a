# SPDX-License-Identifier: LGPL-2.1-or-later
# fakexen-lib.sh: shell helpers for tests that run on the simulated Xen
# host.  Source it from a test run by `make check`, then call fx_setup.
#
#   fx_setup          skips (exit 77) when the host cannot run here, else
#                     starts one; sets FX_DIR, FX_URI, FX_CTL and exports
#                     FAKEXEN_STATE_DIR / FAKEXEN_QMP_DIR; stops it on exit
#   fx_virsh ARGS     virsh against the private libvirtd
#   fx_ctl ARGS       fakexen-ctl against the host's state
#   fx_expect_state DOM STATE
#                     fails unless `virsh domstate DOM` prints STATE
#   fx_step NAME      prints a step with the time since the previous one
#   fx_fail MSG       prints MSG and exits 1
#
# and, for the snapshot tests: vok / vfail (virsh that must succeed /
# fail with a given message), qemu_io, write (the guest writes a
# pattern), served (the image a disk's device model serves) and
# fx_image_has (an image holds a pattern).

fx_fail() {
    echo "FAIL: $*" >&2
    if [ -n "${FX_DIR:-}" ]; then
        echo "--- simulator log" >&2
        tail -n 30 "$FX_DIR/state/fakexen.log" >&2 2>/dev/null || true
        echo "--- libvirtd log" >&2
        tail -n 30 "$FX_DIR/log/libvirtd.log" >&2 2>/dev/null || true
    fi
    exit 1
}

fx_skip() {
    echo "SKIP: $*" >&2
    exit 77
}

fx_now() {
    date +%s.%N
}

fx_step() {
    now=$(fx_now)
    if [ -n "${FX_STEP_NAME:-}" ]; then
        awk -v n="$FX_STEP_NAME" -v a="$FX_STEP_START" -v b="$now" \
            'BEGIN { printf "  %-52s %6.2fs\n", n, b - a }'
    fi
    FX_STEP_NAME=$1
    FX_STEP_START=$now
}

fx_cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "${FX_DIR:-}" ]; then
        "$FX_HOST" stop "$FX_DIR" >/dev/null 2>&1 || true
        if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
            rm -rf "$FX_DIR"
        else
            echo "host directory kept for inspection: $FX_DIR" >&2
        fi
    fi
    exit "$rc"
}

fx_setup() {
    [ "$(id -u)" = 0 ] || fx_skip "the simulated host needs root"
    for prog in unshare nsenter virsh qemu-img qemu-io qemu-system-x86_64 awk /usr/bin/python3; do
        command -v "$prog" >/dev/null 2>&1 || fx_skip "$prog is not installed"
    done
    [ -x /usr/sbin/libvirtd ] || fx_skip "libvirtd is not installed"
    [ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so ] ||
        fx_skip "libvirt's libxl driver is not installed"
    unshare -m -n -p -f --propagation private true 2>/dev/null ||
        fx_skip "cannot create namespaces here"

    FX_HOST=$abs_top_srcdir/tests/fakexen/fakexen-host
    FX_CTL=$abs_top_builddir/tests/fakexen/fakexen-ctl
    FAKEXEN_PRELOAD=$abs_top_builddir/tests/fakexen/.libs/libfakexen.so
    FAKEXEN_CTL=$FX_CTL
    export FAKEXEN_PRELOAD FAKEXEN_CTL
    # Short, so that socket paths fit; removed on exit.
    FX_DIR=$(mktemp -d /tmp/fakexen-test.XXXXXX)
    trap fx_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    # Debian's module alone unless fx_use_wrapper chose ours.
    fx_which=--stock
    [ -z "${FAKEXEN_LIBXL_MODULE:-}" ] || fx_which=
    FAKEXEN_OWNER=$$ "$FX_HOST" start $fx_which "$FX_DIR" >/dev/null ||
        fx_fail "the simulated host did not start"
    . "$FX_DIR/env"
    FX_URI=$FAKEXEN_URI
}

# Makes the host's libvirtd load our wrapper module (which loads Debian's
# stock libxl module) instead of the stock module alone. Call before
# fx_setup. Skips when the wrapper is not built or is built with the
# sanitizers: Debian's libvirtd is not, so it cannot load such a module.
fx_use_wrapper() {
    wrapper=$abs_top_builddir/src/libxl_snapshot/.libs/libvirt_driver_libxl.so
    [ -e "$wrapper" ] || fx_skip "the wrapper module is not built"
    if readelf -d "$wrapper" 2>/dev/null | grep -q 'lib[a-z]*san\.so'; then
        fx_skip "the wrapper is built with sanitizers"
    fi
    FAKEXEN_LIBXL_MODULE=$wrapper
    XSNAP_STOCK_LIBXL_MODULE=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so
    export FAKEXEN_LIBXL_MODULE XSNAP_STOCK_LIBXL_MODULE
    unset XSNAP_SIMULATE_LIBVIRT_VERSION XSNAP_LIBXL_LIBDIR XSNAP_DISABLE
}

# Runs a command inside the host's namespaces (its /var, /run, ...).
fx_inhost() {
    "$FX_HOST" shell "$FX_DIR" "$@"
}

fx_virsh() {
    virsh -q -c "$FX_URI" "$@"
}

fx_ctl() {
    "$FX_CTL" "$@"
}

fx_expect_state() {
    got=$(virsh -q -c "$FX_URI" domstate "$1" 2>&1) || got="error: $got"
    [ "$got" = "$2" ] || fx_fail "domain $1 is '$got', expected '$2'"
}

# Short helpers for the end-to-end tests of the snapshot operations.

# vok ARGS: runs virsh, prints its output, fails the test if it fails.
vok() {
    out=$(fx_virsh "$@" 2>&1) || fx_fail "virsh $*: $out"
    printf '%s\n' "$out"
}

# vfail WANT ARGS: runs virsh, expecting a failure whose message holds WANT.
vfail() {
    want=$1; shift
    if out=$(fx_virsh "$@" 2>&1); then
        fx_fail "virsh $* succeeded: $out"
    fi
    case $out in
        *"$want"*) ;;
        *) fx_fail "virsh $*: expected '$want', got: $out" ;;
    esac
}

# qemu_io DOM DEV CMD: runs qemu-io on DOM's disk DEV in its device model.
qemu_io() {
    fx_ctl qmp "$1" "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io $2 \\\"$3\\\"\"}}" |
        grep -qx '{"return": ""}' || fx_fail "qemu-io $1 $2 $3"
}

# write DOM DEV PATTERN OFFSET LEN: the guest writes PATTERN, flushed.
write() {
    qemu_io "$1" "$2" "write -P $3 $4 $5"
    qemu_io "$1" "$2" "flush"
}

# fx_image_has FMT FILE PATTERN OFFSET LEN [PATTERN OFFSET LEN...]: the
# image, read from outside (sharing it with a running QEMU) through its
# backing chain, holds each pattern; FMT "" lets qemu-io probe the
# format. qemu-io prints "read N/N bytes" even after "Pattern
# verification failed", so a check must not look for that line alone:
# this one wants exit status 0 (qemu-io exits 1 on a mismatch), no such
# message, and one full "read N/N bytes" line per pattern. What qemu-io
# printed is left in FX_IMAGE_OUT.
fx_image_has() {
    fxih_fmt=$1
    fxih_file=$2
    shift 2
    [ $# -gt 0 ] && [ $(($# % 3)) -eq 0 ] ||
        fx_fail "fx_image_has: needs PATTERN OFFSET LEN triples"
    fxih_n=$(($# / 3))
    fxih_i=0
    while [ "$fxih_i" -lt "$fxih_n" ]; do
        set -- "$@" -c "read -P $1 $2 $3"
        shift 3
        fxih_i=$((fxih_i + 1))
    done
    [ -z "$fxih_fmt" ] || set -- -f "$fxih_fmt" "$@"
    FX_IMAGE_OUT=$(qemu-io -r -U "$@" "$fxih_file" 2>&1) || return 1
    case $FX_IMAGE_OUT in
        *"Pattern verification failed"*) return 1 ;;
    esac
    [ "$(printf '%s\n' "$FX_IMAGE_OUT" | grep -c '^read \([0-9]*\)/\1 bytes')" -eq "$fxih_n" ]
}

# served DOM DEV: the image DOM's device model serves for disk DEV.
served() {
    fx_ctl qmp "$1" '{"execute":"query-block"}' | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin)["return"]:
    if b["device"] == sys.argv[1]:
        print((b.get("inserted") or {}).get("file"))' "$2"
}
