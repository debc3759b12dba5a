#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the snapshot benchmarks and prints markdown tables:
#   1. a metadata store of 1,000 and 10,000 snapshots, as one chain and
#      as a wide tree: write, load, every filter, the list tool;
#   2. the tree alone, in memory, from 1,000 to 200,000 snapshots;
#   3. as root, create and revert through virsh on the simulated Xen
#      host (bench/opsbench.sh; OPSBENCH_* variables tune it).
#   sh bench/run.sh [BUILDDIR] [STORE-SIZES] [MEMORY-SIZES]
# Each size and shape runs in its own process, so "max RSS" is that
# run's own peak. docs/benchmarks.md and docs/benchmarks-ops.md hold
# copies of the output.
set -eu
builddir=${1:-.}
sizes=${2:-"1000 10000"}
msizes=${3:-"1000 10000 100000 200000"}
bench=$builddir/bench/snapshotbench
tool=$builddir/tools/virt-xen-snapshot
[ -x "$bench" ] || { echo "build it first: make bench/snapshotbench" >&2; exit 1; }

header() {
    echo "| snapshots | shape | operation | ms | µs per snapshot | max RSS MiB | note |"
    echo "|---:|---|---|---:|---:|---:|---|"
}

echo "### Store, tree and list tool"
echo
header
for n in $sizes; do
    for shape in chain wide; do
        "$bench" --tool "$tool" "$n" "$shape"
    done
done
echo
echo "### The tree alone, in memory"
echo
header
for n in $msizes; do
    for shape in chain wide; do
        "$bench" --memory "$n" "$shape"
    done
done
echo
echo "### Create and revert of a running domain (simulated Xen host)"
echo
if [ "$(id -u)" = 0 ]; then
    rc=0
    sh "$(dirname "$0")/opsbench.sh" "$builddir" || rc=$?
    # 77: the simulated host cannot run here (opsbench.sh said why).
    [ $rc -eq 0 ] || [ $rc -eq 77 ] || exit $rc
else
    echo "(skipped: the simulated Xen host needs root)"
fi
