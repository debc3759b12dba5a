#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# virt-xen-snapshot install / uninstall, in scratch directories only:
# the dpkg-divert way as a dry run, the driver-dir way for real.
set -eu
tool=$abs_top_builddir/tools/virt-xen-snapshot
wrapper=$abs_top_builddir/src/libxl_snapshot/.libs/libvirt_driver_libxl.so
t=$XSNAP_TEST_TMP
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$t/stock" "$t/dropin"
echo stock-libxl > "$t/stock/libvirt_driver_libxl.so"
echo stock-qemu > "$t/stock/libvirt_driver_qemu.so"
echo other > "$t/stock/README"

out=$("$tool" install --dry-run --module "$wrapper" --stock-dir "$t/stock")
echo "$out" | grep -q "would run: dpkg-divert --local --add --rename --divert $t/stock/libvirt_driver_libxl.so.distrib $t/stock/libvirt_driver_libxl.so" ||
    fail "divert dry run: $out"
[ "$(cat "$t/stock/libvirt_driver_libxl.so")" = stock-libxl ] || fail "dry run changed a file"
"$tool" uninstall --dry-run --stock-dir "$t/stock" >/dev/null 2>&1 &&
    fail "uninstall without a diversion succeeded"

"$tool" install --module "$wrapper" --stock-dir "$t/stock" --driver-dir "$t/drivers" \
    --systemd-dropin-dir "$t/dropin" >/dev/null || fail "install --driver-dir"
[ "$(readlink "$t/drivers/libvirt_driver_qemu.so")" = "$t/stock/libvirt_driver_qemu.so" ] ||
    fail "no link to the qemu module"
[ ! -e "$t/drivers/README" ] || fail "linked a non-module"
cmp -s "$wrapper" "$t/drivers/libvirt_driver_libxl.so" || fail "wrapper not installed"
grep -qx "Environment=LIBVIRT_DRIVER_DIR=$t/drivers" "$t/dropin/libvirt-xen-snapshot.conf" ||
    fail "drop-in"
grep -qx "Environment=XSNAP_STOCK_LIBXL_MODULE=$t/stock/libvirt_driver_libxl.so" \
    "$t/dropin/libvirt-xen-snapshot.conf" || fail "drop-in stock path"

"$tool" uninstall --stock-dir "$t/stock" --driver-dir "$t/drivers" \
    --systemd-dropin-dir "$t/dropin" >/dev/null || fail "uninstall --driver-dir"
[ ! -e "$t/drivers" ] && [ ! -e "$t/dropin/libvirt-xen-snapshot.conf" ] ||
    fail "uninstall left files"
[ "$(cat "$t/stock/libvirt_driver_libxl.so")" = stock-libxl ] || fail "stock module touched"
# A directory without the wrapper is never emptied.
mkdir -p "$t/other" && : > "$t/other/libvirt_driver_libxl.so"
"$tool" uninstall --driver-dir "$t/other" --systemd-dropin-dir "$t/dropin" >/dev/null 2>&1 &&
    fail "uninstall touched a foreign directory"
[ -e "$t/other/libvirt_driver_libxl.so" ] || fail "foreign file removed"
echo ok
