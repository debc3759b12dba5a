#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bootstraps the build system: imports gnulib from Debian's gnulib package,
# sets up gettext, and runs autoreconf.
set -e
srcdir=$(dirname "$0")
cd "$srcdir"

GNULIB_TOOL=${GNULIB_TOOL:-/usr/share/gnulib/gnulib-tool}
if [ ! -x "$GNULIB_TOOL" ]; then
    echo "autogen.sh: $GNULIB_TOOL not found; install Debian's gnulib package" >&2
    exit 1
fi

"$GNULIB_TOOL" --import --dir=. --lib=libgnu --source-base=gl/lib \
    --m4-base=gl/m4 --doc-base=gl/doc --tests-base=gl/tests \
    --aux-dir=build-aux --no-libtool \
    --macro-prefix=gl --quiet \
    manywarnings warnings >/dev/null

autoreconf --force --install --warnings=all,no-portability,no-obsolete
