# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the test harness for every test: keep tests away from the
# user's files and make output deterministic.
mkdir -p "$abs_top_builddir/tests/tmp"
XSNAP_TEST_TMP=$(mktemp -d "$abs_top_builddir/tests/tmp/t.XXXXXX")
HOME=$XSNAP_TEST_TMP/home
XDG_CONFIG_HOME=$XSNAP_TEST_TMP/config
XDG_CACHE_HOME=$XSNAP_TEST_TMP/cache
XDG_DATA_HOME=$XSNAP_TEST_TMP/data
XDG_RUNTIME_DIR=$XSNAP_TEST_TMP/run
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
LC_ALL=C
TZ=UTC
export HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_RUNTIME_DIR LC_ALL TZ XSNAP_TEST_TMP
