# SPDX-License-Identifier: LGPL-2.1-or-later
# stress-processes: runs many short processes in dom0, each under a
# timeout, and counts those that hang or crash.  Under TCG a dom0 process
# sometimes spins for minutes (seen: tr in __pthread_rwlock_wrlock, ps) or
# segfaults in ld.so; this measures how often, for a given QEMU setup.
n=${RX_STRESS_N:-1500}
hang=0 crash=0 start=$(cut -d' ' -f1 /proc/uptime)
for i in $(seq "$n"); do
    out=$(timeout 10 sh -c 'printf "a\rb\n" | tr -d "\r" | tail -c +1' 2>&1)
    rc=$?
    if [ $rc -eq 124 ]; then hang=$((hang + 1)); echo "hang at $i"
    elif [ $rc -ne 0 ] || [ "$out" != ab ]; then crash=$((crash + 1)); echo "rc=$rc out='$out' at $i"
    fi
done
end=$(cut -d' ' -f1 /proc/uptime)
echo "processes: $((n * 4)), hangs: $hang, crashes: $crash, $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
[ $hang -eq 0 ] && [ $crash -eq 0 ]
