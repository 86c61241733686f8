#!/bin/bash
# Through a REAL driver VM (e1000): TCP connections survive the driver VM's
# death, as DESIGN's recovery promise says ("a restart looks like a short link
# flap; TCP connections across it survive").  A paced TCP transfer runs
# client -> remote while the driver VM's QEMU is killed (kill -9), and
# remote -> client while its kernel panics (`ddvm crash`); each time the
# supervisor restarts it, the same ddvm-tap carries on, and the data arrives
# intact (sha256 at both ends).  The NIC's wire (a TAP the test moved into
# the remote namespace) is the same wire after the restart: the supervisor
# holds it and hands it to every QEMU it starts.
. "$(dirname "$0")/../lib/functions.sh"
. "$(dirname "$0")/../lib/netvm.sh"
netvm_requires
new_rundir
netvm_init 93
cleanup_fn netvm_down
cleanup_fn 'for p in ${SINK_PID:-} ${SRC_PID:-}; do kill $p; done'
D=$DDVM_RUNDIR

netvm_up e1000 "max_restarts = 3; fault_injection = true;"
note "e1000 up, client $NV_FE <-> remote $NV_WIRE"
tap_pid=$(nv_export .frontend_pid)

# Seeded random bytes, 1 MiB every 30 ms, hashed at both ends (tests/lib/tcpstream.py).
TS=$TOP/tests/lib/tcpstream.py

# transfer FROM_NS TO_NS TO_IP MIB CRASH: CRASH (a command) once 16 MiB arrived.
transfer() {
	local from=$1 to=$2 ip=$3 mib=$4 crash=$5 start=$SECONDS want got gen restarts
	rm -f "$D/sink.out"*
	ip netns exec "$to" timeout 150 "$NV_PY" "$TS" sink "$ip" "$D/sink.out" &
	SINK_PID=$!
	wait_for "TCP sink listening" 10 test -e "$D/sink.out.listening"
	ip netns exec "$from" timeout 140 "$NV_PY" "$TS" source "$ip" "$mib" $RANDOM 0.03 >"$D/source.out" &
	SRC_PID=$!
	arrived() { [ "$(cat "$D/sink.out.progress" 2>/dev/null || echo 0)" -ge $((16 << 20)) ]; }
	wait_for "16 MiB arrived before the crash" 60 arrived
	gen=$(nv_vm .generation) restarts=$(nv_vm .restarts)
	$crash
	back() { [ "$(nv_vm .generation)" -gt "$gen" ] && [ "$(nv_vm .state)" = ready ]; }
	wait_for "driver VM restarted after '$crash'" "$BOOT_SECS" back
	[ "$(nv_vm .restarts)" = $((restarts + 1)) ] || fail "restart not counted after '$crash'"
	wait "$SRC_PID" || fail "TCP sender failed across '$crash': $(cat "$D/source.out")"
	SRC_PID=
	wait "$SINK_PID" || fail "TCP receiver failed across '$crash'"
	SINK_PID=
	want=$(cat "$D/source.out") got=$(cat "$D/sink.out")
	[ "$got" = "$want" ] || fail "TCP data across '$crash' differs: received '$got', sent '$want'"
	note "$mib MiB to $ip across '$crash' arrived intact in $((SECONDS - start))s"
}
nv_vm() { ddvm status --json | jq -er --arg n "$NV_VM" ".vms[] | select(.name == \$n) | $1"; }
kill_qemu() { kill -9 "$(nv_vm .pid)"; }
panic_guest() { ddvm crash "$NV_VM" >/dev/null; }

transfer "$NV_NSC" "$NV_NSR" "$NV_IPR" 96 kill_qemu
transfer "$NV_NSR" "$NV_NSC" "$NV_IPC" 96 panic_guest

[ "$(nv_export .frontend_pid)" = "$tap_pid" ] || fail "ddvm-tap was restarted (pid $tap_pid -> $(nv_export .frontend_pid))"
wait_for "client TAP carrier up" 20 nv_carrier_is 1
inC ping -c 3 -i 0.2 -W 2 "$NV_IPR" >/dev/null || fail "no ping after the restarts"
inC ping -6 -c 3 -i 0.2 -W 2 "$NV_LLR%$NV_FE" >/dev/null || fail "no IPv6 ping after the restarts"
echo ok
