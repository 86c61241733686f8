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
requires ip ping jq timeout qemu-system-x86_64
PY=/usr/bin/python3
[ -x "$PY" ] || fail "required tool $PY not found"
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
new_rundir
netvm_init 93
cleanup_fn netvm_down
cleanup_fn 'for p in ${SINK_PID:-} ${SRC_PID:-}; do kill $p; done'
D=$DDVM_RUNDIR

netvm_up e1000 "max_restarts = 3; fault_injection = true;"
note "e1000 up, client $NV_FE <-> remote $NV_WIRE"
tap_pid=$(nv_export .frontend_pid)

# sink: counts and hashes what arrives, "bytes" in OUT.progress as it goes.
cat >"$D/sink.py" <<'PY'
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001)); s.listen(1); s.settimeout(60)
open(sys.argv[2] + ".listening", "w").close()
c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0; mark = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
    if n - mark >= 1 << 20:
        mark = n; open(sys.argv[2] + ".progress", "w").write("%d\n" % n)
open(sys.argv[2], "w").write("%s %d\n" % (h.hexdigest(), n))
PY
# source: MIB MiB of seeded random bytes, 1 MiB at a time, paced.
cat >"$D/source.py" <<'PY'
import hashlib, random, socket, sys, time
r = random.Random(int(sys.argv[3])); h = hashlib.sha256()
s = socket.create_connection((sys.argv[1], 5001), timeout=60)
for _ in range(int(sys.argv[2])):
    b = r.randbytes(1 << 20); h.update(b); s.sendall(b); time.sleep(0.03)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print("%s %d" % (h.hexdigest(), int(sys.argv[2]) << 20))
PY

# transfer FROM_NS TO_NS TO_IP MIB CRASH: CRASH (a command) once 16 MiB arrived.
transfer() {
	local from=$1 to=$2 ip=$3 mib=$4 crash=$5 start=$SECONDS want got gen restarts
	rm -f "$D/sink.out"*
	ip netns exec "$to" timeout 150 $PY "$D/sink.py" "$ip" "$D/sink.out" &
	SINK_PID=$!
	wait_for "TCP sink listening" 10 test -e "$D/sink.out.listening"
	ip netns exec "$from" timeout 140 $PY "$D/source.py" "$ip" "$mib" $RANDOM >"$D/source.out" &
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
