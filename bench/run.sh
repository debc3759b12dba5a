#!/bin/sh
# Runs the snapshot benchmark for 1,000 and 10,000 snapshots, as one
# chain and as a wide tree, and prints a markdown table.
#   sh bench/run.sh [BUILDDIR] [SIZES]
# Each size and shape runs in its own process, so "max RSS" is that
# run's own peak. Output goes to stdout; docs/benchmarks.md holds a copy.
set -eu
builddir=${1:-.}
sizes=${2:-"1000 10000"}
bench=$builddir/bench/snapshotbench
tool=$builddir/tools/virt-xen-snapshot
[ -x "$bench" ] || { echo "build it first: make bench/snapshotbench" >&2; exit 1; }

echo "| snapshots | shape | operation | ms | µs per snapshot | max RSS MiB | note |"
echo "|---:|---|---|---:|---:|---:|---|"
for n in $sizes; do
    for shape in chain wide; do
        "$bench" --tool "$tool" "$n" "$shape"
    done
done
