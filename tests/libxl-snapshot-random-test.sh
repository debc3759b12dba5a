#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The seeded, model-based random test of the snapshot operations
# (docs/random-test.md): tests/libxl-snapshot-random.py runs random
# steps on domains of a simulated Xen host whose libvirtd loads the
# wrapper, and compares disks, memory, state and snapshot tree with its
# model after every step.
#
# make check runs seeds 1 2 3 4 with 40 steps each. Replay or soak:
#   XSNAP_RANDOM_SEED=N XSNAP_RANDOM_STEPS=M make check TESTS=tests/libxl-snapshot-random-test.sh
#   XSNAP_RANDOM_SEEDS="$(seq 1 20)" XSNAP_RANDOM_STEPS=100 make check TESTS=...
set -u
. "$abs_top_srcdir/tests/fakexen/fakexen-lib.sh"

fx_use_wrapper
/usr/bin/python3 -c 'import libvirt' 2>/dev/null || fx_skip "python3-libvirt is not installed"
command -v qemu-io >/dev/null 2>&1 || fx_skip "qemu-io is not installed"

fx_setup
FX_HOST=$abs_top_srcdir/tests/fakexen/fakexen-host
export FX_URI FX_CTL FX_HOST FX_DIR
/usr/bin/python3 "$abs_top_srcdir/tests/libxl-snapshot-random.py" ||
    fx_fail "the random test failed (the seed, history and replay command are above)"
