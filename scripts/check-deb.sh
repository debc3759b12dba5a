#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: scripts/check-deb.sh PATH/libvirt-xen-snapshot_VERSION_amd64.deb
#
# Installs the package into a throwaway copy of this machine's /usr, /etc
# and /var (overlays on a tmpfs, in a private mount namespace), and checks
# what its maintainer scripts do with the stock libxl module: diverted to
# .distrib on install, the wrapper in its place, put back on remove; and
# an install refused while `virt-xen-snapshot install` owns the diversion.
# Nothing reaches the real root. Needs root and Debian's
# libvirt-daemon-driver-xen. Exit 0 when every check passes, 77 to skip.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 DEB" >&2; exit 2; }
deb=$(readlink -f "$1")
[ -f "$deb" ] || { echo "$0: no file $1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }

if [ -z "${XSNAP_CHECK_DEB_INNER:-}" ]; then
    XSNAP_CHECK_DEB_INNER=1 exec unshare -m --propagation private "$0" "$deb"
fi

DIR=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver
STOCK=$DIR/libvirt_driver_libxl.so
DIVERTED=$DIR/libvirt_driver_libxl.so.distrib
PKG=libvirt-xen-snapshot
MARKER="libvirt-xen-snapshot wrapper module"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() {
    echo "  $*"
}
sum() {
    sha256sum "$1" | cut -d' ' -f1
}
diverter() {
    dpkg-divert --listpackage "$STOCK"
}

[ -f "$STOCK" ] || { echo "SKIP: $STOCK is not installed" >&2; exit 77; }
[ -z "$(diverter)" ] || { echo "SKIP: $STOCK is diverted already" >&2; exit 77; }
! dpkg -s "$PKG" >/dev/null 2>&1 || { echo "SKIP: $PKG is installed" >&2; exit 77; }

top=$(mktemp -d /tmp/check-deb.XXXXXX)
cleanup() {
    rc=$?
    cd /
    umount /var /etc /usr "$top" 2>/dev/null || true
    rmdir "$top" 2>/dev/null || true
    exit $rc
}
trap cleanup EXIT
mount -t tmpfs tmpfs "$top"
for d in usr etc var; do
    mkdir "$top/$d.upper" "$top/$d.work"
    mount -t overlay overlay \
        -o "lowerdir=/$d,upperdir=$top/$d.upper,workdir=$top/$d.work" "/$d"
done
stock_sum=$(sum "$STOCK")

step "install: the stock module is diverted, the wrapper takes its name"
dpkg -i "$deb" >"$top/install.log" 2>&1 || { cat "$top/install.log"; fail "dpkg -i"; }
[ "$(diverter)" = "$PKG" ] || fail "diverted by '$(diverter)', expected $PKG"
[ -f "$DIVERTED" ] && [ "$(sum "$DIVERTED")" = "$stock_sum" ] ||
    fail "$DIVERTED is not the stock module"
grep -qa "$MARKER" "$STOCK" || fail "$STOCK is not the wrapper"
dpkg -L "$PKG" | grep -qx "$STOCK" || fail "$PKG does not own $STOCK"
for f in /usr/bin/virt-xen-snapshot /usr/share/man/man1/virt-xen-snapshot.1.gz; do
    [ -f "$f" ] || fail "$f is not installed"
done
out=$(virt-xen-snapshot doctor --stock-dir "$DIR" -c test:///default 2>&1) || true
printf '%s\n' "$out" | grep -q "diverted to $DIVERTED" ||
    fail "doctor does not see the diversion: $out"

step "reinstall: the diversion stays, the stock module is untouched"
dpkg -i "$deb" >"$top/reinstall.log" 2>&1 || { cat "$top/reinstall.log"; fail "dpkg -i again"; }
[ "$(diverter)" = "$PKG" ] && [ "$(sum "$DIVERTED")" = "$stock_sum" ] ||
    fail "reinstall changed the diversion"

step "remove: the stock module is back under its name"
dpkg -r "$PKG" >"$top/remove.log" 2>&1 || { cat "$top/remove.log"; fail "dpkg -r"; }
[ -z "$(diverter)" ] || fail "still diverted by '$(diverter)'"
[ ! -e "$DIVERTED" ] || fail "$DIVERTED is left behind"
[ "$(sum "$STOCK")" = "$stock_sum" ] || fail "$STOCK is not the stock module"
dpkg -P "$PKG" >/dev/null 2>&1 || fail "dpkg -P"

step "install over a diversion made by 'virt-xen-snapshot install' is refused"
dpkg-divert --local --add --rename --divert "$DIVERTED" "$STOCK" >/dev/null
if dpkg -i "$deb" >"$top/refused.log" 2>&1; then
    fail "dpkg -i succeeded over a local diversion"
fi
grep -q "virt-xen-snapshot uninstall" "$top/refused.log" ||
    { cat "$top/refused.log"; fail "no hint to uninstall first"; }
[ "$(diverter)" = LOCAL ] && [ "$(sum "$DIVERTED")" = "$stock_sum" ] ||
    fail "the refused install changed the local diversion"
dpkg -P "$PKG" >/dev/null 2>&1 || true

echo "PASS: $deb"
