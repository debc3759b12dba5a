#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# agent.sh SHARE: runs inside dom0, started by realxen-boot from the 9p
# share at every boot.  Installs this run's build, runs each test script
# listed in SHARE/scripts/list with a timeout, brings back the logs, and
# powers dom0 off (unless the run is a shell session).
#
# Everything it reports lands in SHARE/out:
#   agent.log                 this agent's own steps, with times
#   booted, installed, done   markers the host waits for
#   <script>/output.log, rc   each script's output and exit status
#   logs/                     xl dmesg, xl info, libvirtd, device models,
#                             guest consoles, journal
set -u
share=$1
out=$share/out
. "$share/config"
mkdir -p "$out/logs"
exec >>"$out/agent.log" 2>&1

t0=$(cut -d' ' -f1 /proc/uptime)
log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; echo "realxen-agent: $*" >/dev/console; }
log "dom0 up, agent started (uptime $t0 s)"
echo "$t0" >"$out/booted"

finish() {
    log "collecting logs"
    local l=$out/logs
    timeout 60 xl dmesg >"$l/xl-dmesg.log" 2>&1
    timeout 60 xl info >"$l/xl-info.log" 2>&1
    timeout 60 xl list >"$l/xl-list.log" 2>&1
    timeout 60 sh -c 'cp -r /var/log/xen "$1/xen"' sh "$l" 2>/dev/null
    timeout 60 sh -c 'cp -r /var/log/libvirt "$1/libvirt"' sh "$l" 2>/dev/null
    timeout 120 journalctl -b --no-pager >"$l/journal.log" 2>&1
    log "done"
    touch "$out/done"
    sync
    if [ "$RX_MODE" = run ]; then
        log "powering off"
        timeout 120 systemctl poweroff || poweroff -f
    fi
}

install_build() {
    log "installing the build"
    # The build's make install tree, copied over dom0 (never baked into
    # the cached image, so that each run tests the current build).
    cp -a "$share/destdir/." / || return 1
    ldconfig
    # TEST-ONLY: the CPU bits libvirtd needs under TCG (physinfo-shim.c).
    install -D -m 0644 "$share/physinfo-shim.so" /usr/local/lib/realxen/physinfo-shim.so || return 1
    mkdir -p /etc/systemd/system/libvirtd.service.d
    cat >/etc/systemd/system/libvirtd.service.d/realxen.conf <<'EOC'
[Service]
Environment=LD_PRELOAD=/usr/local/lib/realxen/physinfo-shim.so
EOC
    cat >>/etc/libvirt/libvirtd.conf <<'EOC'
log_filters="3:libxl.libxl_logger 1:libxl 1:xen 3:util 3:rpc 3:event 3:object 3:conf 3:security"
log_outputs="1:file:/var/log/libvirt/libvirtd.log"
EOC
    # No idle exit: the image has no socket units to start it again.
    echo 'LIBVIRTD_ARGS=""' >/etc/default/libvirtd
    systemctl daemon-reload
    # xenconsoled (--log=guest, see the image recipe) does not create it.
    mkdir -p /var/log/xen/console
    timeout 120 virt-xen-snapshot install || return 1
    timeout 60 "$share/guest/mkguest.sh" /var/lib/realxen/guest || return 1
    return 0
}

if install_build; then
    log "installed"
    touch "$out/installed"
else
    log "install FAILED"
    echo failed >"$out/install-failed"
    finish
    exit 0
fi

if [ "$RX_MODE" = shell ]; then
    log "shell session: dom0 stays up; log in on the serial line"
    finish
    exit 0
fi

: >"$out/dmesg-crashes"
export RX_SHARE=$share RX_LIB=$share/lib.sh RX_BREAK RX_RANDOM_SEEDS RX_RANDOM_STEPS
while read -r name; do
    [ -n "$name" ] || continue
    d=$out/$name
    mkdir -p "$d"
    log "script $name: start"
    s=$(cut -d' ' -f1 /proc/uptime)
    (cd "$d" && RX_OUT=$d timeout -k 20 "$RX_TIMEOUT" bash "$share/scripts/$name") \
        >"$d/output.log" 2>&1 </dev/null
    rc=$?
    e=$(cut -d' ' -f1 /proc/uptime)
    [ $rc -eq 124 ] && echo "TIMEOUT after $RX_TIMEOUT s" >>"$d/output.log"
    # rx_fail inside a command substitution only ends the subshell; its
    # marker still fails the script.
    if [ $rc -eq 0 ] && [ -e "$d/failed" ]; then
        echo "a check failed (see FAIL above) although the script went on" >>"$d/output.log"
        rc=1
    fi
    awk -v a="$s" -v b="$e" 'BEGIN { printf "%.1f\n", b - a }' >"$d/seconds"
    [ -s "$d/hangs" ] && log "script $name: $(wc -l <"$d/hangs") dom0 command(s) hung or crashed (see hangs)"
    # What the dom0 kernel saw crash meanwhile (any process, not only the
    # script's): the sign of a broken emulated CPU, not of the product.
    seen=$(wc -l <"$out/dmesg-crashes")
    timeout 30 dmesg | grep -a -E 'segfault at|general protection|traps: ' >"$out/dmesg-crashes" 2>/dev/null
    tail -n +"$((seen + 1))" "$out/dmesg-crashes" >"$d/crashes"
    [ -s "$d/crashes" ] && log "script $name: the dom0 kernel reported $(wc -l <"$d/crashes") crashing process(es) (see crashes)"
    echo $rc >"$d/rc"
    log "script $name: rc=$rc in $(cat "$d/seconds") s"
done <"$share/scripts/list"
finish
