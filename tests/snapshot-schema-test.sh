#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Validates every expected output of snapshotxml2xmltest, and what
# virt-xen-snapshot prints for every good input, against libvirt's own
# domainsnapshot.rng.
#
# Known exceptions, where libvirt 9.0.0 itself writes XML its schema
# refuses (we reproduce libvirt, not the schema):
#   redefine-delete-in-progress  <snapshotDeleteInProgress/> is not in the schema
#   redefine-pmsuspended         the schema's state list lacks pmsuspended
set -u
srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${abs_top_builddir:-.}
schema=${XSNAP_SCHEMA:-/usr/share/libvirt/schemas/domainsnapshot.rng}
tool=$builddir/tools/virt-xen-snapshot
dir=$srcdir/tests/xml/snapshot

command -v xmllint >/dev/null 2>&1 || { echo "xmllint missing: skip"; exit 77; }
[ -r "$schema" ] || { echo "$schema missing: skip"; exit 77; }
[ -x "$tool" ] || { echo "$tool not built"; exit 99; }

tmp=${XSNAP_TEST_TMP:-$(mktemp -d)}/schema
mkdir -p "$tmp"
known_bad="redefine-delete-in-progress redefine-pmsuspended"
failed=0
checked=0

is_known_bad() {
    for k in $known_bad; do
        [ "$1" = "$k" ] && return 0
    done
    return 1
}

validate() {
    # $1 file, $2 label
    checked=$((checked + 1))
    if ! xmllint --noout --relaxng "$schema" "$1" >"$tmp/log" 2>&1; then
        echo "FAIL: $2"
        cat "$tmp/log"
        failed=1
    fi
}

for out in "$dir"/*.out.xml; do
    case=$(basename "$out" .out.xml)
    is_known_bad "$case" && continue
    validate "$out" "$case.out.xml"
done

# What the tool prints, with the flags the name suggests.
for in in "$dir"/*.xml; do
    case $in in *.out.xml) continue ;; esac
    case=$(basename "$in" .xml)
    [ -f "$dir/$case.out.xml" ] || continue
    is_known_bad "$case" && continue
    flags=
    case $case in
        redefine-*|align-redefine-*|align-by-path) flags=--redefine ;;
        internal-*) flags="--redefine --internal" ;;
        cookie-offline|offline-*) flags=--offline ;;
    esac
    # shellcheck disable=SC2086
    if XSNAP_TEST_NOW=1700000000 "$tool" xml $flags "$in" >"$tmp/$case.xml" 2>"$tmp/err"; then
        validate "$tmp/$case.xml" "virt-xen-snapshot xml $flags $case.xml"
    else
        echo "FAIL: virt-xen-snapshot xml $flags $case.xml: $(cat "$tmp/err")"
        failed=1
    fi
done

echo "$checked documents checked against $schema"
exit $failed
