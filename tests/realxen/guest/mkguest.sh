#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# mkguest.sh OUTDIR: builds the test bed's PV guest inside dom0 from
# dom0's own kernel, busybox-static and xen-blkfront.ko with the modules
# it depends on.  Writes OUTDIR/vmlinuz and OUTDIR/initrd.gz.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
kver=$(uname -r)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/proc" "$work/sys" "$work/dev" "$work/modules" "$out"
cp /bin/busybox "$work/bin/busybox"
install -m 0755 "$here/init" "$work/init"
: >"$work/modules/order"
for m in $(modprobe -S "$kver" --show-depends xen-blkfront | awk '$1 == "insmod" { print $2 }'); do
    case $m in
    *.ko.xz) xz -dc "$m" >"$work/modules/$(basename "$m" .xz)"; m=${m%.xz} ;;
    *.ko.zst) zstd -qdc "$m" >"$work/modules/$(basename "$m" .zst)"; m=${m%.zst} ;;
    *) cp "$m" "$work/modules/" ;;
    esac
    basename "$m" >>"$work/modules/order"
done
(cd "$work" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out/initrd.gz"
cp "/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "guest: kernel $kver, modules: $(tr '\n' ' ' <"$work/modules/order")"
