#!/bin/bash
# A driver VM instance that publishes an impossible MAC (multicast) does not
# make ddvm-tap exit (that made the supervisor restart it in a loop and give
# up): ddvm-tap logs one line naming the bad MAC, waits past its --timeout
# without creating the TAP, and as soon as the next instance (generation + 1)
# publishes a good MAC the TAP appears with it and carries traffic.  When the
# same instance breaks its state again the TAP loses its carrier and nothing
# passes; when that instance corrects it, traffic flows again.  No VM needed:
# the fake net driver VM plays the driver VM.
. "$(dirname "$0")/../lib/functions.sh"
requires ip ping jq timeout tail
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
TAP_BIN=$TOP/build/bin/ddvm-tap
FAKE_BIN=$TOP/build/tools/ddvm-fake-net-vm
[ -x "$TAP_BIN" ] && [ -x "$FAKE_BIN" ] || fail "build first: make ddvm-tap fake-net-vm"

DIR=$(mktemp -d "/tmp/ddvm-$TEST_NAME.XXXXXX")
NSA=ddvm-ma-$$ NSB=ddvm-mb-$$ TAPA=mtap$$ WIRE=mwire$$
IPA=169.254.93.1 IPB=169.254.93.2
BAD_MAC=01:00:5e:00:00:01 GOOD_MAC=02:dd:00:00:00:01
cleanup_fn "rm -rf '$DIR'"
cleanup_fn "ip netns del $NSA; ip netns del $NSB; ip link del $TAPA; ip link del $WIRE"
cleanup_fn 'for p in ${TAP_PID:-} ${FAKE_PID:-}; do kill $p; done; for p in ${TAP_PID:-} ${FAKE_PID:-}; do timeout 5 tail --pid=$p -f /dev/null || kill -9 $p; done'

inA() { ip netns exec "$NSA" "$@"; }
inB() { ip netns exec "$NSB" "$@"; }
stat_is() { [ "$(jq -r "$1" "$DIR/stats.json" 2>/dev/null)" = "$2" ]; }
carrier_is() { [ "$(inA cat /sys/class/net/$TAPA/carrier 2>/dev/null)" = "$1" ]; }
ping_recv() { { "$@" 2>/dev/null || true; } | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
bad_lines() { grep -c "multicast MAC $BAD_MAC" "$DIR/tap.log" || true; }
bad_lines_are() { [ "$(bad_lines)" = "$1" ]; }
tap_alive() { kill -0 "$TAP_PID" 2>/dev/null || fail "ddvm-tap exited: $(tail -5 "$DIR/tap.log")"; }

"$FAKE_BIN" --socket "$DIR/net.sock" --wire "$WIRE" --first-mac $BAD_MAC >"$DIR/fake.log" 2>&1 &
FAKE_PID=$!
wait_for "fake driver VM socket" 10 test -S "$DIR/net.sock"
"$TAP_BIN" --socket "$DIR/net.sock" --queue 1 --tap "$TAPA" --stats "$DIR/stats.json" \
	--timeout 1 >"$DIR/tap.log" 2>&1 &
TAP_PID=$!

note "generation 1 publishes the multicast MAC $BAD_MAC"
wait_for "a log line naming the multicast MAC" 10 grep -q "multicast MAC $BAD_MAC" "$DIR/tap.log"
# It must outlive its --timeout (1 s): wait (bounded) for an exit that must not come.
if timeout 3 tail --pid="$TAP_PID" -f /dev/null; then
	fail "ddvm-tap exited over a bad MAC: $(tail -5 "$DIR/tap.log")"
fi
tap_alive
[ "$(bad_lines)" = 1 ] || fail "the bad MAC was logged $(bad_lines) times in one generation, not once"
! ip link show "$TAPA" >/dev/null 2>&1 || fail "a TAP was created with no usable MAC"
note "ddvm-tap waits: $(grep "multicast MAC" "$DIR/tap.log")"

note "generation 2 publishes $GOOD_MAC: the TAP appears and carries traffic"
kill -USR2 "$FAKE_PID"
wait_for "TAP $TAPA" 10 ip link show "$TAPA"
wait_for "stats say ready in generation 2" 10 stat_is '.state + " " + (.generation | tostring)' "ready 2"
mac=$(cat "/sys/class/net/$TAPA/address")
[ "$mac" = $GOOD_MAC ] || fail "TAP has MAC $mac, expected $GOOD_MAC"
ip netns add "$NSA"
ip netns add "$NSB"
ip link set "$TAPA" netns "$NSA"
ip link set "$WIRE" netns "$NSB"
inA ip link set lo up; inB ip link set lo up
inA ip link set "$TAPA" up; inB ip link set "$WIRE" up
inA ip addr add $IPA/24 dev "$TAPA"; inB ip addr add $IPB/24 dev "$WIRE"
wait_for "carrier on $TAPA" 10 carrier_is 1
inA ping -c 10 -i 0.1 -W 2 $IPB >"$DIR/ping1.log" || fail "ping A->B: $(tail -2 "$DIR/ping1.log")"
inB ping -c 10 -i 0.1 -W 2 $IPA >"$DIR/ping2.log" || fail "ping B->A: $(tail -2 "$DIR/ping2.log")"

note "the same instance publishes the bad MAC again: carrier off, nothing passes"
kill -HUP "$FAKE_PID"
wait_for "carrier off" 10 carrier_is 0
wait_for "a line naming the bad MAC again" 10 bad_lines_are 2
[ "$(ping_recv inA ping -c 2 -i 0.2 -W 1 $IPB)" = 0 ] || fail "frames passed over a queue with a bad MAC"
tap_alive
note "it corrects its state: traffic flows again"
kill -HUP "$FAKE_PID"
wait_for "carrier on again" 10 carrier_is 1
inA ping -c 10 -i 0.1 -W 2 $IPB >"$DIR/ping3.log" || fail "no traffic after the MAC was corrected: $(tail -2 "$DIR/ping3.log")"
tap_alive
[ "$(bad_lines)" = 2 ] || fail "the bad MAC was logged $(bad_lines) times, expected 2"

kill "$TAP_PID"
wait "$TAP_PID" || fail "ddvm-tap exited non-zero on SIGTERM"
TAP_PID=
echo "PASS: $TEST_NAME"
