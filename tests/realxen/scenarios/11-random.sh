# SPDX-License-Identifier: LGPL-2.1-or-later
# 11-random: the seeded, model-based random test of the snapshot
# operations (tests/libxl-snapshot-random.py, docs/random-test.md) on real
# Xen, with fewer steps: the same model and checks as on the simulated
# host, with the test bed's PV guest writing its disks and keeping its
# memory slots itself (console commands), and QMP from dom0 for what the
# device model serves.  RX_RANDOM_SEEDS / RX_RANDOM_STEPS change the run.
. "$RX_LIB"
rx_step "libvirtd with the module"
rx_setup
rx_step "random steps"
export XSNAP_RANDOM_HOST=realxen
export XSNAP_RANDOM_SEEDS="${RX_RANDOM_SEEDS:-1}"
export XSNAP_RANDOM_STEPS="${RX_RANDOM_STEPS:-14}"
export XSNAP_RANDOM_STEP_TIMEOUT=300
export XSNAP_RANDOM_DIR=$RX_IMAGES/random
export XSNAP_RANDOM_GUEST=$RX_GUEST
rx_t 1500 python3 "$RX_SHARE/libxl-snapshot-random.py" || rx_fail "the random test failed (seed, history and replay above)"
rm -rf "$RX_IMAGES/random"
rx_step done
