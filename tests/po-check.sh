#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The translation template po/libvirt-xen-snapshot.pot must hold exactly
# the messages of the sources, so that it cannot drift:
#   1. po/POTFILES.in lists every file of src/ and tools/ that marks a
#      message with _() or N_(), and only files that exist;
#   2. xgettext, run as `make -C po update-po` runs it, into a temporary
#      file, gives the same messages (msgid, plural, flags such as
#      c-format, translator comments) as the template. Source locations
#      and the POT-Creation-Date header are left out of the comparison,
#      so that moving code does not fail it.
# On failure it says what differs and how to regenerate the template.
set -u
srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
domain=${PACKAGE:-libvirt-xen-snapshot}
pot=$srcdir/po/$domain.pot
xgettext=${XGETTEXT:-xgettext}
msgcat=${MSGCAT:-msgcat}
tmp=${XSNAP_TEST_TMP:-$(mktemp -d)}/po-check
mkdir -p "$tmp"
failed=0

command -v "$xgettext" >/dev/null 2>&1 || { echo "xgettext missing: skip"; exit 77; }
command -v "$msgcat" >/dev/null 2>&1 || { echo "msgcat missing: skip"; exit 77; }
[ -f "$pot" ] || { echo "FAIL: $pot is missing; run: make -C po update-po"; exit 1; }

# 1. POTFILES.in against the sources.
grep -v '^#' "$srcdir/po/POTFILES.in" | sed '/^[[:space:]]*$/d' | sort >"$tmp/listed"
(cd "$srcdir" && find src tools -name '*.[ch]' -type f |
    xargs grep -lE '(^|[^A-Za-z0-9_])N?_\("' | sort) >"$tmp/marked"
missing=$(comm -23 "$tmp/marked" "$tmp/listed")
stale=$(comm -13 "$tmp/marked" "$tmp/listed")
for f in $missing; do
    echo "FAIL: $f marks messages but is not in po/POTFILES.in"
    failed=1
done
for f in $stale; do
    if [ -f "$srcdir/$f" ]; then
        echo "FAIL: po/POTFILES.in lists $f, which marks no message"
    else
        echo "FAIL: po/POTFILES.in lists $f, which does not exist"
    fi
    failed=1
done

# 2. The messages, regenerated as po/Makefile's $(DOMAIN).pot-update does.
opts=$(sed -n 's/^XGETTEXT_OPTIONS *= *//p' "$srcdir/po/Makevars")
holder=$(sed -n 's/^COPYRIGHT_HOLDER *= *//p' "$srcdir/po/Makevars")
# shellcheck disable=SC2086 # the options are a word list
"$xgettext" --default-domain="$domain" --directory="$srcdir" \
    --add-comments=TRANSLATORS: --files-from="$srcdir/po/POTFILES.in" \
    --copyright-holder="$holder" --package-name="$domain" \
    --package-version="${VERSION:-0}" --msgid-bugs-address= \
    $opts --output="$tmp/fresh.pot" 2>"$tmp/xgettext.err" ||
    { echo "FAIL: xgettext failed:"; cat "$tmp/xgettext.err"; exit 1; }

normalise() {
    "$msgcat" --no-location --sort-output --no-wrap "$1" |
        grep -v -e '^"POT-Creation-Date:' -e '^"Project-Id-Version:'
}
normalise "$pot" >"$tmp/committed" && normalise "$tmp/fresh.pot" >"$tmp/current" ||
    { echo "FAIL: msgcat cannot read the templates"; exit 1; }
if ! diff -u "$tmp/committed" "$tmp/current" >"$tmp/diff"; then
    echo "FAIL: po/$domain.pot does not hold the messages of the sources" \
         "(- template, + sources):"
    grep '^[-+]msgid' "$tmp/diff" | head -n 40
    failed=1
fi

if [ $failed = 1 ]; then
    echo "regenerate with: make -C po update-po   (in the build tree)"
    exit 1
fi
echo "po/$domain.pot: $(grep -c '^msgid ' "$pot") messages, current;" \
     "po/POTFILES.in: $(wc -l <"$tmp/listed") files"
