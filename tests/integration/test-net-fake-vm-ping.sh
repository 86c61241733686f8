#!/bin/bash
# ddvm-tap over the fake net driver VM (no VM needed): IPv4 and IPv6 ping both
# ways, a 100 MiB TCP transfer arriving intact (sha256), an MTU-sized frame
# passes while an oversize one is dropped and counted, a ping flood loses
# (almost) nothing, the fake NIC's link shows as the TAP's carrier, and a
# driver VM restart (generation + 1) is a short flap after which traffic flows.
. "$(dirname "$0")/../lib/functions.sh"
requires ip ping jq sha256sum head timeout
PY=/usr/bin/python3
[ -x "$PY" ] || fail "required tool $PY not found"
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
TAP_BIN=$TOP/build/bin/ddvm-tap
FAKE_BIN=$TOP/build/tools/ddvm-fake-net-vm
[ -x "$TAP_BIN" ] && [ -x "$FAKE_BIN" ] || fail "build first: make ddvm-tap fake-net-vm"

DIR=$(mktemp -d "/tmp/ddvm-$TEST_NAME.XXXXXX")
NSA=ddvm-na-$$ NSB=ddvm-nb-$$ TAPA=dtap$$ WIRE=dwire$$
IPA=169.254.91.1 IPB=169.254.91.2 LLA=fe80::91:1 LLB=fe80::91:2
cleanup_fn "rm -rf '$DIR'"
cleanup_fn "ip netns del $NSA; ip netns del $NSB; ip link del $TAPA; ip link del $WIRE"
cleanup_fn 'for p in ${TAP_PID:-} ${FAKE_PID:-} ${SINK_PID:-}; do kill $p; done; sleep 0.2; for p in ${TAP_PID:-} ${FAKE_PID:-} ${SINK_PID:-}; do kill -9 $p; done'

inA() { ip netns exec "$NSA" "$@"; }
inB() { ip netns exec "$NSB" "$@"; }
stat_of() { jq -r "$1" "$DIR/stats.json"; }
stat_ge() { [ "$(stat_of "$1")" -ge "$2" ]; }
stat_is() { [ "$(stat_of "$1")" = "$2" ]; }
carrier_is() { [ "$(inA cat /sys/class/net/$TAPA/carrier 2>/dev/null)" = "$1" ]; }
# received count of a ping run: ping_recv ARGS...
ping_recv() { { "$@" 2>/dev/null || true; } | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }

"$FAKE_BIN" --socket "$DIR/net.sock" --wire "$WIRE" >"$DIR/fake.log" 2>&1 &
FAKE_PID=$!
wait_for "fake driver VM socket" 10 test -S "$DIR/net.sock"

# A queue that is not a NET queue is refused with a clear error.
if "$TAP_BIN" --socket "$DIR/net.sock" --queue 0 --tap "$TAPA" 2>"$DIR/q0.err"; then
	fail "ddvm-tap accepted the CTRL queue"
fi
grep -q "not a network queue" "$DIR/q0.err" || fail "unclear error for queue 0: $(cat "$DIR/q0.err")"

"$TAP_BIN" --socket "$DIR/net.sock" --queue 1 --tap "$TAPA" --stats "$DIR/stats.json" \
	--timeout 10 >"$DIR/tap.log" 2>&1 &
TAP_PID=$!
wait_for "TAP $TAPA" 10 ip link show "$TAPA"
wait_for "stats file" 10 test -s "$DIR/stats.json"
[ "$(stat_of .state)" = ready ] || fail "ddvm-tap not ready: $(cat "$DIR/stats.json")"
mac=$(cat /sys/class/net/$TAPA/address)
[ "$mac" = 02:dd:00:00:00:01 ] || fail "TAP did not adopt the NIC's MAC (has $mac)"
[ "$(cat /sys/class/net/$TAPA/mtu)" = 1500 ] || fail "TAP did not adopt the NIC's MTU"

ip netns add "$NSA"
ip netns add "$NSB"
ip link set "$TAPA" netns "$NSA"	# ddvm-tap's fd stays valid across the move
ip link set "$WIRE" netns "$NSB"
inA ip link set lo up; inB ip link set lo up
inA ip link set "$TAPA" up; inB ip link set "$WIRE" up
inA ip addr add $IPA/24 dev "$TAPA"; inB ip addr add $IPB/24 dev "$WIRE"
inA ip -6 addr add $LLA/64 dev "$TAPA" nodad; inB ip -6 addr add $LLB/64 dev "$WIRE" nodad
wait_for "carrier on $TAPA" 10 carrier_is 1

note "IPv4 ping both ways"
inA ping -c 20 -i 0.05 -W 2 $IPB >"$DIR/ping-ab.log" || fail "ping A->B: $(tail -2 "$DIR/ping-ab.log")"
inB ping -c 20 -i 0.05 -W 2 $IPA >"$DIR/ping-ba.log" || fail "ping B->A: $(tail -2 "$DIR/ping-ba.log")"
note "IPv6 link-local ping both ways"
inA ping -6 -c 5 -i 0.1 -W 2 "$LLB%$TAPA" >/dev/null || fail "ping -6 A->B failed"
inB ping -6 -c 5 -i 0.1 -W 2 "$LLA%$WIRE" >/dev/null || fail "ping -6 B->A failed"

note "frame of exactly MTU passes, one over is dropped and counted"
inA ping -c 3 -i 0.1 -W 2 -s 1472 -M do $IPB >/dev/null || fail "MTU-sized ping (1500-byte IP) failed"
inB ping -c 3 -i 0.1 -W 2 -s 1472 -M do $IPA >/dev/null || fail "MTU-sized ping B->A failed"
over0=$(stat_of .tx.drops.oversize)
inA ip link set "$TAPA" mtu 2000	# let the stack hand ddvm-tap a 1542-byte frame
[ "$(ping_recv inA ping -c 3 -i 0.1 -W 1 -s 1500 -M do $IPB)" = 0 ] || fail "an oversize frame got through"
inA ip link set "$TAPA" mtu 1500
wait_for "oversize drops counted" 5 stat_ge .tx.drops.oversize $((over0 + 3))

note "100 MiB TCP transfer A -> B"
head -c 100M /dev/urandom >"$DIR/data"
want=$(sha256sum "$DIR/data" | cut -d' ' -f1)
cat >"$DIR/sink.py" <<'PY'
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001)); s.listen(1); s.settimeout(60)
open(sys.argv[2] + ".listening", "w").close()
c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
open(sys.argv[2], "w").write("%s %d\n" % (h.hexdigest(), n))
PY
cat >"$DIR/source.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 5001), timeout=60)
with open(sys.argv[2], "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b: break
        s.sendall(b)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
PY
inB timeout 90 $PY "$DIR/sink.py" $IPB "$DIR/sink.out" &
SINK_PID=$!
wait_for "TCP sink listening" 10 test -e "$DIR/sink.out.listening"
start=$SECONDS
inA timeout 90 $PY "$DIR/source.py" $IPB "$DIR/data" || fail "TCP transfer failed"
wait "$SINK_PID" || fail "TCP sink failed"
SINK_PID=
got=$(cut -d' ' -f1 "$DIR/sink.out")
[ "$got" = "$want" ] || fail "TCP data corrupted: sha256 $got, want $want ($(cat "$DIR/sink.out"))"
note "100 MiB arrived intact in $((SECONDS - start))s"
rm -f "$DIR/data"

note "ping flood: 2000 frames, bounded loss"
recv=$(ping_recv inA ping -f -c 2000 -w 30 $IPB)
[ "${recv:-0}" -ge 1960 ] || fail "ping flood: only ${recv:-0} of 2000 replies"

note "link toggle shows as carrier"
kill -USR1 "$FAKE_PID"
wait_for "carrier off after link down" 5 carrier_is 0
wait_for "stats say link down" 5 stat_is .link false
[ "$(ping_recv inA ping -c 2 -i 0.2 -W 1 $IPB)" = 0 ] || fail "frames passed while the link was down"
kill -USR1 "$FAKE_PID"
wait_for "carrier on after link up" 5 carrier_is 1
inA ping -c 3 -i 0.2 -W 2 $IPB >/dev/null || fail "no traffic after the link came back"

note "driver VM restart (generation + 1) is a short flap"
kill -USR2 "$FAKE_PID"
wait_for "ddvm-tap saw generation 2" 5 stat_is .generation 2
recv=$(ping_recv inA ping -c 10 -i 0.2 -W 2 $IPB)
[ "${recv:-0}" -ge 8 ] || fail "after the restart only ${recv:-0} of 10 pings passed"

kill -0 "$TAP_PID" || fail "ddvm-tap died"
jq . "$DIR/stats.json"
for k in .rx.drops.bad_id .rx.drops.bad_len .rx.drops.bad_op .rx.drops.bad_status; do
	[ "$(stat_of $k)" = 0 ] || fail "honest driver VM, yet $k = $(stat_of $k)"
done
kill "$TAP_PID"
wait "$TAP_PID" || fail "ddvm-tap exited non-zero on SIGTERM"
TAP_PID=
echo "PASS: $TEST_NAME"
