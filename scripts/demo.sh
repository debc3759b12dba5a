#!/bin/sh
# Demo: checks snapshot XML and lists a snapshot store with virt-xen-snapshot.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
tool=${VIRT_XEN_SNAPSHOT:-$top/tools/virt-xen-snapshot}
[ -x "$tool" ] || tool=$top/build/tools/virt-xen-snapshot
echo "demo: not yet implemented"
