#!/bin/bash
# ddvm-tap against a hostile net driver VM (the fake one, misbehaving on every
# 4th response): for each kind of bad response it survives, counts the drops
# by reason, and valid traffic still passes (bad offload metadata on RX
# frames too: a checksum field past the frame, GSO without CSUM, an unknown
# flag, gso_size 0 -- each dropped, counted as rx.drops.bad_meta_*); a corrupted ring index stops the
# queue (carrier off, state "corrupt") but ddvm-tap stays alive and reports
# it, or exits with status 3 when run with --exit-on-corrupt.
. "$(dirname "$0")/../lib/functions.sh"
requires ip ping jq timeout
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
TAP_BIN=$TOP/build/bin/ddvm-tap
FAKE_BIN=$TOP/build/tools/ddvm-fake-net-vm
[ -x "$TAP_BIN" ] && [ -x "$FAKE_BIN" ] || fail "build first: make ddvm-tap fake-net-vm"

DIR=$(mktemp -d "/tmp/ddvm-$TEST_NAME.XXXXXX")
NSA=ddvm-ha-$$ NSB=ddvm-hb-$$ TAPA=htap$$ WIRE=hwire$$
IPA=169.254.92.1 IPB=169.254.92.2
cleanup_fn "rm -rf '$DIR'"
cleanup_fn 'stop_pair'

inA() { ip netns exec "$NSA" "$@"; }
inB() { ip netns exec "$NSB" "$@"; }
stat_of() { jq -r "$1" "$DIR/stats.json" 2>/dev/null; }
stat_ge() { [ "$(stat_of "$1")" -ge "$2" ] 2>/dev/null; }
stat_is() { [ "$(stat_of "$1")" = "$2" ]; }
carrier_is() { [ "$(inA cat /sys/class/net/$TAPA/carrier 2>/dev/null)" = "$1" ]; }
ping_recv() { { "$@" 2>/dev/null || true; } | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
tap_exited() { ! kill -0 "$TAP_PID" 2>/dev/null; }

stop_pair() {
	local p
	for p in ${TAP_PID:-} ${FAKE_PID:-}; do kill "$p" 2>/dev/null || true; done
	for p in ${TAP_PID:-} ${FAKE_PID:-}; do
		timeout 5 tail --pid="$p" -f /dev/null || kill -9 "$p" 2>/dev/null || true
	done
	TAP_PID= FAKE_PID=
	ip netns del "$NSA" 2>/dev/null || true
	ip netns del "$NSB" 2>/dev/null || true
	ip link del "$TAPA" 2>/dev/null || true
	ip link del "$WIRE" 2>/dev/null || true
	rm -f "$DIR/stats.json" "$DIR/net.sock"
}

# start_pair EVIL [ddvm-tap options...]: fake VM + ddvm-tap, TAPs in two namespaces.
start_pair() {
	local evil=$1; shift
	"$FAKE_BIN" --socket "$DIR/net.sock" --wire "$WIRE" --evil "$evil" --every 4 \
		>"$DIR/fake-$evil.log" 2>&1 &
	FAKE_PID=$!
	wait_for "fake driver VM socket" 10 test -S "$DIR/net.sock"
	"$TAP_BIN" --socket "$DIR/net.sock" --queue 1 --tap "$TAPA" --stats "$DIR/stats.json" \
		--timeout 10 "$@" >"$DIR/tap-$evil.log" 2>&1 &
	TAP_PID=$!
	wait_for "TAP $TAPA" 10 ip link show "$TAPA"
	ip netns add "$NSA"
	ip netns add "$NSB"
	ip link set "$TAPA" netns "$NSA"
	ip link set "$WIRE" netns "$NSB"
	inA ip link set "$TAPA" up; inB ip link set "$WIRE" up
	inA ip addr add $IPA/24 dev "$TAPA"; inB ip addr add $IPB/24 dev "$WIRE"
}

for mode in bad-id bad-len bad-off bad-status bad-op bad-meta-csum bad-meta-gso bad-meta-flags \
	    bad-meta-gso-size; do
	key=.rx.drops.${mode//-/_}
	note "$mode: survives, counts $key, traffic still passes"
	start_pair "$mode"
	wait_for "carrier on" 10 carrier_is 1
	recv=$(ping_recv inA ping -c 20 -i 0.05 -W 1 $IPB)
	[ "${recv:-0}" -ge 8 ] || fail "$mode: only ${recv:-0} of 20 pings passed"
	recv=$(ping_recv inB ping -c 20 -i 0.05 -W 1 $IPA)
	[ "${recv:-0}" -ge 8 ] || fail "$mode: only ${recv:-0} of 20 pings B->A passed"
	wait_for "$mode counted in $key" 5 stat_ge "$key" 1
	kill -0 "$TAP_PID" || fail "$mode: ddvm-tap died"
	stat_is .state ready || fail "$mode: state $(stat_of .state)"
	note "$mode: $(jq -c .rx.drops "$DIR/stats.json"), pings ok"
	stop_pair
done

note "corrupt-index: queue stops, carrier off, ddvm-tap stays alive and reports it"
start_pair corrupt-index
inA ping -c 10 -i 0.1 -W 1 $IPB >/dev/null 2>&1 || true
wait_for "state corrupt in the stats" 10 stat_is .state corrupt
stat_is .link false || fail "corrupt: stats say link $(stat_of .link)"
carrier_is 0 || fail "corrupt: carrier still on"
grep -q "ring corrupt" "$DIR/tap-corrupt-index.log" || fail "corrupt: no clear log line"
rm -f "$DIR/stats.json"	# alive and still reporting: it rewrites the file each second
wait_for "stats rewritten after the corruption" 5 stat_is .state corrupt
kill -0 "$TAP_PID" || fail "corrupt: ddvm-tap died"
stop_pair

note "corrupt-index with --exit-on-corrupt: exits with status 3"
start_pair corrupt-index --exit-on-corrupt
inA ping -c 10 -i 0.1 -W 1 $IPB >/dev/null 2>&1 || true
wait_for "ddvm-tap exit" 10 tap_exited
rc=0; wait "$TAP_PID" || rc=$?
[ "$rc" = 3 ] || fail "--exit-on-corrupt: exit status $rc, want 3"
TAP_PID=
stop_pair
echo "PASS: $TEST_NAME"
