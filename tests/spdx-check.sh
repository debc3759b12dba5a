#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every source file of the project (C, headers, shell, Python, automake
# fragments, configure.ac, the scripts without a suffix) states its
# licence, LGPL-2.1-or-later (COPYING), with an SPDX line among its first
# lines. Files made by autotools and gnulib, and test data, are left out.
set -u
srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
tag="SPDX-License-Identifier: LGPL-2.1-or-later"
failed=0
count=0

[ -f "$srcdir/COPYING" ] || { echo "FAIL: COPYING is missing"; failed=1; }
grep -q "GNU LESSER GENERAL PUBLIC LICENSE" "$srcdir/COPYING" 2>/dev/null &&
    grep -q "Version 2.1, February 1999" "$srcdir/COPYING" ||
    { echo "FAIL: COPYING is not the LGPL 2.1"; failed=1; }

cd "$srcdir" || exit 99
files=$( { find src tools tests scripts bench docs -type f \
               \( -name '*.[ch]' -o -name '*.sh' -o -name '*.py' -o -name '*.am' \) \
               ! -path 'tests/xml/*' ! -path 'tests/fuzz/corpus*'
           ls Makefile.am configure.ac autogen.sh .ci/run tests/fakexen/fakexen-host \
              debian/rules debian/preinst debian/postinst debian/postrm 2>/dev/null
         } | sort -u)
for f in $files; do
    count=$((count + 1))
    if ! head -n 5 "$f" | grep -q "$tag"; then
        echo "FAIL: $f has no '$tag' line"
        failed=1
    fi
done
[ $failed = 0 ] && echo "$count source files carry '$tag'"
exit $failed
