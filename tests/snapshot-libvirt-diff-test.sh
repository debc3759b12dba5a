#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Differential test against libvirt itself: every input of
# tests/xml/snapshot and tests/xml/snapshot-diff is redefined on libvirt's test driver
# (virsh -c test:///default, one virsh process per case since the
# driver's state lives in the process) and dumped with and without
# --security-info. virt-xen-snapshot xml --redefine --align must accept
# exactly what libvirt accepts and print the same XML, apart from the
# embedded <domain>/<inactiveDomain>, which libvirt re-formats from its
# own domain definition and we keep as written. Graphics passwords must
# be present in both or in neither. The <metadata> of the embedded
# <domain>, which both write with libxml2's serialiser, must be the same.
#
# The test driver's domain "test" has uuid 6695eb01-f6a4-8304-79aa-97f2502e193f:
# inputs that embed a <domain> use it, or libvirt refuses them. A parent
# named in the input is created first with snapshot-create-as, since
# libvirt refuses a redefinition whose parent does not exist.
#
# When both refuse, our message must appear in libvirt's first error line.
#
# Deliberate differences (docs/xml.md), checked as such:
#   d-name-slash, d-name-dot
#                          we refuse names that cannot name a metadata file,
#                          as libvirt's QEMU driver does; the test driver
#                          accepts them
#   d-doctype-valid        we refuse any DOCTYPE; libvirt parses it
#   bad-doctype, bad-entities, bad-external-entity, name-slash, name-dot
#                          both refuse, libvirt for another reason
#   create-ignores-redefine-parts
#                          libvirt's domain parser refuses the embedded
#                          <domain> (no os type); we keep it verbatim
#   redefine-metadata-ns-lt
#                          a '<' in a namespace name of the <metadata>:
#                          libvirt writes it raw, which no parser reads
#                          back; we write "&#60;"
set -u
srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${abs_top_builddir:-.}
tool=$builddir/tools/virt-xen-snapshot
dirs="$srcdir/tests/xml/snapshot $srcdir/tests/xml/snapshot-diff"
we_refuse="d-name-slash d-name-dot d-doctype-valid"
we_accept="create-ignores-redefine-parts"
other_reason="bad-doctype bad-entities bad-external-entity name-slash name-dot"
metadata_differs="redefine-metadata-ns-lt"

command -v virsh >/dev/null 2>&1 || { echo "virsh missing: skip"; exit 77; }
command -v xmllint >/dev/null 2>&1 || { echo "xmllint missing: skip"; exit 77; }
virsh -q -c test:///default domstate test >/dev/null 2>&1 ||
    { echo "libvirt test driver unavailable: skip"; exit 77; }
[ -x "$tool" ] || { echo "$tool not built"; exit 99; }

tmp=${XSNAP_TEST_TMP:-$(mktemp -d)}/libvirt-diff
mkdir -p "$tmp"
failed=0
same=0
refused=0
expected=0

in_list() {
    for k in $2; do
        [ "$1" = "$k" ] && return 0
    done
    return 1
}

# Drops the embedded domain definitions (formatted at indent 2).
strip_domains() {
    sed -e '/^  <domain[ >]/,/^  <\/domain>/d' \
        -e '/^  <inactiveDomain[ >]/,/^  <\/inactiveDomain>/d' "$1"
}

# The <metadata> of the embedded <domain> (formatted at indent 4).
domain_metadata() {
    sed -n '/^  <domain[ >]/,/^  <\/domain>/p' "$1" |
        sed -n '/^    <metadata>/,/^    <\/metadata>/p'
}

# Writes the Nth (1-based) <domainsnapshot> document of $1 to $3.
nth_doc() {
    awk -v n="$2" '/^<domainsnapshot>/{k++} k==n{print} /^<\/domainsnapshot>/{if(k==n) exit}' "$1" >"$3"
}

for in in $(for d in $dirs; do ls "$d"/*.xml; done); do
    case=$(basename "$in" .xml)
    case $case in *.out|domain-*) continue ;; esac

    name=$(xmllint --xpath 'string(/domainsnapshot/name)' "$in" 2>/dev/null)
    parent=$(xmllint --xpath 'string(/domainsnapshot/parent/name)' "$in" 2>/dev/null)
    pre=
    [ -n "$parent" ] && pre="snapshot-create-as test '$parent';"

    virsh -q -c test:///default \
        "$pre snapshot-create test '$in' --redefine; snapshot-dumpxml test '$name'; snapshot-dumpxml test '$name' --security-info" \
        >"$tmp/lv.out" 2>"$tmp/lv.err"
    lv_ok=0
    grep -q '^<domainsnapshot>' "$tmp/lv.out" && lv_ok=1

    ours_ok=0
    "$tool" xml --redefine --align "$in" >"$tmp/our" 2>"$tmp/our.err" &&
        "$tool" xml --redefine --align --secure "$in" >"$tmp/our.sec" 2>>"$tmp/our.err" &&
        ours_ok=1

    if in_list "$case" "$we_refuse"; then
        if [ $lv_ok = 1 ] && [ $ours_ok = 0 ]; then
            expected=$((expected + 1))
        else
            echo "FAIL: $case: expected libvirt to accept and us to refuse"
            failed=1
        fi
        continue
    fi

    if in_list "$case" "$we_accept"; then
        if [ $lv_ok = 0 ] && [ $ours_ok = 1 ]; then
            expected=$((expected + 1))
        else
            echo "FAIL: $case: expected libvirt to refuse and us to accept"
            failed=1
        fi
        continue
    fi

    if [ $lv_ok != $ours_ok ]; then
        echo "FAIL: $case: libvirt $([ $lv_ok = 1 ] && echo accepts || echo refuses), we $([ $ours_ok = 1 ] && echo accept || echo refuse)"
        sed 's/^/    libvirt: /' "$tmp/lv.err" | head -n 3
        sed 's/^/    ours: /' "$tmp/our.err" | head -n 3
        failed=1
        continue
    fi
    if [ $lv_ok = 0 ]; then
        refused=$((refused + 1))
        lv_msg=$(grep -m 1 '^error: ' "$tmp/lv.err" | sed 's/^error: //')
        our_msg=$(head -n 1 "$tmp/our.err" | sed 's/^virt-xen-snapshot: error: //')
        [ -n "${VERBOSE:-}" ] && echo "both refuse $case: $lv_msg / $our_msg"
        if ! in_list "$case" "$other_reason"; then
            case $lv_msg in
                *"$our_msg"*) ;;
                *) echo "FAIL: $case: libvirt says '$lv_msg', we say '$our_msg'"
                   failed=1 ;;
            esac
        fi
        continue
    fi

    nth_doc "$tmp/lv.out" 1 "$tmp/lv.plain"
    nth_doc "$tmp/lv.out" 2 "$tmp/lv.sec"
    ok=1
    for v in plain sec; do
        ourf=$tmp/our
        [ $v = sec ] && ourf=$tmp/our.sec
        strip_domains "$tmp/lv.$v" >"$tmp/a"
        strip_domains "$ourf" >"$tmp/b"
        if ! diff -u "$tmp/a" "$tmp/b" >"$tmp/d"; then
            echo "FAIL: $case ($v): output differs from libvirt"
            cat "$tmp/d"
            ok=0
        fi
        domain_metadata "$tmp/lv.$v" >"$tmp/a"
        domain_metadata "$ourf" >"$tmp/b"
        if in_list "$case" "$metadata_differs"; then
            if cmp -s "$tmp/a" "$tmp/b"; then
                echo "FAIL: $case ($v): expected the domain's <metadata> to differ from libvirt's"
                ok=0
            fi
        elif ! diff -u "$tmp/a" "$tmp/b" >"$tmp/d"; then
            echo "FAIL: $case ($v): the domain's <metadata> differs from libvirt's"
            cat "$tmp/d"
            ok=0
        fi
        if [ "$(grep -c "passwd=" "$tmp/lv.$v")" != "$(grep -c "passwd=" "$ourf")" ]; then
            echo "FAIL: $case ($v): graphics passwords differ from libvirt"
            ok=0
        fi
    done
    if [ $ok = 1 ]; then
        same=$((same + 1))
    else
        failed=1
    fi
done

echo "libvirt test driver: $same accepted with identical XML, $refused refused by both" \
     "with the same message, $expected deliberate differences"
exit $failed
