#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# virt-xen-snapshot xml: canonical output on stdout and exit 0 for a good
# document; exit 1 and "virt-xen-snapshot: error: <message>" on stderr
# for a bad one; exit 2 for a bad command line.
set -u
srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${abs_top_builddir:-.}
tool=$builddir/tools/virt-xen-snapshot
dir=$srcdir/tests/xml/snapshot
tmp=${XSNAP_TEST_TMP:-$(mktemp -d)}/tool-xml
mkdir -p "$tmp"
[ -x "$tool" ] || { echo "$tool not built"; exit 99; }
failed=0

fail() {
    echo "FAIL: $*"
    failed=1
}

# A good document, from a file and from standard input.
XSNAP_TEST_NOW=1700000000 "$tool" xml "$dir/disks-mixed.xml" >"$tmp/out" 2>"$tmp/err" ||
    fail "good file refused: $(cat "$tmp/err")"
cmp -s "$tmp/out" "$dir/disks-mixed.out.xml" || fail "file output differs"
[ -s "$tmp/err" ] && fail "stderr not empty for a good file"
XSNAP_TEST_NOW=1700000000 "$tool" xml - <"$dir/disks-mixed.xml" >"$tmp/out" 2>"$tmp/err" ||
    fail "good stdin refused"
cmp -s "$tmp/out" "$dir/disks-mixed.out.xml" || fail "stdin output differs"

# Redefinition and internal flags.
"$tool" xml --redefine --internal "$dir/internal-active1.xml" >"$tmp/out" 2>"$tmp/err" ||
    fail "internal file refused"
cmp -s "$tmp/out" "$dir/internal-active1.out.xml" || fail "internal output differs"

# Bad documents.
check_bad() {
    # $1 file, $2 expected message, $3... flags
    f=$1; msg=$2; shift 2
    "$tool" xml "$@" "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc = 1 ] || fail "$f: exit $rc, expected 1"
    [ -s "$tmp/out" ] && fail "$f: stdout not empty"
    grep -q "^virt-xen-snapshot: error: $msg" "$tmp/err" ||
        fail "$f: stderr is '$(cat "$tmp/err")'"
}
check_bad "$dir/memory-manual.xml" "'manual' memory snapshot mode not supported"
check_bad "$dir/redefine-no-state.xml" "missing state from existing snapshot" --redefine
check_bad "$dir/name-slash.xml" "invalid snapshot name 'a/b'"
check_bad "$dir/bad-not-xml.xml" "(domain_snapshot):4: Opening and ending tag mismatch"
check_bad "$tmp/does-not-exist.xml" "cannot read"

# Bad command lines.
"$tool" xml >/dev/null 2>&1; [ $? = 2 ] || fail "no file: expected exit 2"
"$tool" xml --bogus "$dir/empty.xml" >/dev/null 2>&1; [ $? = 2 ] || fail "bad option: expected exit 2"

exit $failed
