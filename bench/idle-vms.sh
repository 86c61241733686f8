#!/bin/bash
# The host CPU of idle driver VMs (the paper's per-VM cost, 0.12 % of a core
# per extra driver VM): N = 1, 2, 4, 8 driver VMs with no devices (the
# control channel only: heartbeat, no I/O), each up and settled, then the
# CPU time of every QEMU and of the supervisor over SECONDS (default 30)
# from /proc/PID/stat, as % of one core; the cost per extra VM is the slope
# between N = 1 and N = 8.  Accelerator noted (under TCG every guest timer
# tick is emulated, so this is far above what KVM costs).
#   bench/idle-vms.sh [SECONDS]      (as root; ~3 min under TCG)
set -eu
cd "$(dirname "$0")/.."
. tests/lib/functions.sh
SECS=${1:-30}
SETTLE=10
make -s all >/dev/null
ddvm image build >/dev/null
new_rundir
d=$DDVM_RUNDIR
hz=$(getconf CLK_TCK)
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo $t; }
declare -A PCT
for n in 1 2 4 8; do
	{
		echo "vms = ("
		for i in $(seq 1 "$n"); do
			[ "$i" = 1 ] || echo ","
			echo "  { name = \"idle$i\"; memory = 96; }"
		done
		echo ");"
	} >"$d/idle$n.conf"
	ddvm up -d "$d/idle$n.conf" >/dev/null || fail "ddvm up failed with $n VMs"
	accel=$(status_json | jq -r .accel)
	sleep "$SETTLE"		# let boot-time work (module init, first heartbeats) pass
	pids=$(status_json | jq -r '.supervisor_pid, .vms[].pid')
	# shellcheck disable=SC2086
	t0=$(ticks $pids)
	sleep "$SECS"		# the measurement window itself
	# shellcheck disable=SC2086
	t1=$(ticks $pids)
	PCT[$n]=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.2f", 100 * t / hz / s }')
	echo "$n idle driver VM(s): ${PCT[$n]} % of one core (QEMU + supervisor, $SECS s)"
	ddvm down >/dev/null
done
slope=$(awk -v a="${PCT[1]}" -v b="${PCT[8]}" 'BEGIN { printf "%.2f", (b - a) / 7 }')
echo
echo "idle driver VMs, $(date +%F), accelerator $accel, $(nproc) host CPUs, ${SECS} s each"
echo "| VMs | host CPU % of one core | per VM |"
echo "|---:|---:|---:|"
for n in 1 2 4 8; do
	echo "| $n | ${PCT[$n]} | $(awk -v p="${PCT[$n]}" -v n=$n 'BEGIN { printf "%.2f", p / n }') |"
done
echo "each extra idle driver VM: $slope % of one core (slope 1 -> 8)"
