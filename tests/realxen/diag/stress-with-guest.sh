# SPDX-License-Identifier: LGPL-2.1-or-later
# stress-with-guest: stress-processes.sh while a PV guest runs and ticks
# every second, the situation in which dom0 processes were seen to spin.
. "$RX_LIB"
rx_setup
rx_cleanup_guest stress
rm -f "$RX_IMAGES/stress.qcow2"
timeout 60 qemu-img create -q -f qcow2 "$RX_IMAGES/stress.qcow2" 64M
RX_TICK=1 rx_guest_define stress "$RX_IMAGES/stress.qcow2:qcow2"
vok start stress
rx_wait_tick stress 2 180 >/dev/null || exit 1
n=${RX_STRESS_N:-300}
hang=0 crash=0 start=$(rx_now)
for i in $(seq "$n"); do
    out=$(timeout 10 sh -c 'printf "a\rb\n" | tr -d "\r" | tail -c +1' 2>&1)
    r=$?
    if [ $r -eq 124 ]; then hang=$((hang + 1)); echo "hang at $i"
    elif [ $r -ne 0 ] || [ "$out" != ab ]; then crash=$((crash + 1)); echo "rc=$r out='$out' at $i"
    fi
done
echo "processes: $((n * 4)), hangs: $hang, crashes: $crash, $(awk -v a="$start" -v b="$(rx_now)" 'BEGIN { printf "%.1f", b - a }') s"
rc=0
[ $hang -eq 0 ] && [ $crash -eq 0 ] || rc=1
echo "guest: $(rx_last_tick stress)"
vok destroy stress
rx_cleanup_guest stress
exit $rc
