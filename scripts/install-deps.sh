#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs every build, test, demo and packaging (debian/) dependency from
# Debian 12 packages (virt-manager, xvfb and python3-dogtail for the GUI
# test, tests/virt-manager-test.sh).
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    gcc clang libclang-rt-14-dev make autoconf automake libtool autopoint \
    gettext pkg-config gnulib diffutils util-linux procps \
    libglib2.0-dev libxml2-dev libxml2-utils libjson-c-dev \
    libzstd-dev liblz4-dev zstd lz4 \
    libvirt-dev libvirt-clients libvirt-daemon libvirt-daemon-driver-xen \
    libxen-dev qemu-system-x86 qemu-utils python3 python3-libvirt valgrind \
    debhelper dpkg-dev lintian mmdebstrap e2fsprogs \
    virt-manager xvfb dbus at-spi2-core python3-dogtail python3-pyatspi \
    gir1.2-atspi-2.0 gir1.2-gtk-3.0 dconf-gsettings-backend libglib2.0-bin
