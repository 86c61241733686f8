#!/bin/bash
# Through a REAL driver VM (NET_MODEL, default e1000): a 256 MiB TCP transfer
# client -> remote and 64 MiB remote -> client arrive intact (sha256 at both
# ends) and went through the offload path (GSO frames with their metadata
# counted both ways: the host's TSO frames to the NIC's TSO, the driver VM's
# GRO frames to the host); MTU-sized frames pass (ping -s 1472 -M do) both ways while an
# oversize frame is dropped and counted in tx.drops.oversize (never
# truncated); a ping flood of 1000 frames loses at most 2 %; with the wire
# down on the remote side nothing passes, and traffic resumes when it is up.
#
# A pulled cable (`ddvm link VM 1 down`: QMP set_link on the NIC's backend,
# which the emulated NIC reports to its Linux driver as loss of carrier)
# shows as carrier down on the client TAP and link false in status, and
# plugging it back restores both and the traffic.  (QEMU's tap backend has no
# link state of its own, so `ip link set WIRE down` in the remote namespace
# stops frames but is not seen as a carrier change; that is reported only.)
. "$(dirname "$0")/../lib/functions.sh"
. "$(dirname "$0")/../lib/netvm.sh"
netvm_requires
MODEL=${NET_MODEL:-e1000}
new_rundir
netvm_init 94
cleanup_fn netvm_down
cleanup_fn 'for p in ${SINK_PID:-}; do kill $p; done'
D=$DDVM_RUNDIR

netvm_up "$MODEL"
note "$MODEL up, client $NV_FE <-> remote $NV_WIRE"
stat_of() { nv_export ".stats$1"; }
stat_ge() { [ "$(stat_of "$1")" -ge "$2" ]; }

# A deterministic stream of random-looking bytes (no file): the sender and the
# receiver each give "sha256 bytes" (tests/lib/tcpstream.py).
TS=$TOP/tests/lib/tcpstream.py
# transfer FROM_NS TO_NS TO_IP MIB
transfer() {
	local from=$1 to=$2 ip=$3 mib=$4 start=$SECONDS want got
	rm -f "$D/sink.out" "$D/sink.out.listening"
	ip netns exec "$to" timeout 100 "$NV_PY" "$TS" sink "$ip" "$D/sink.out" &
	SINK_PID=$!
	wait_for "TCP sink listening" 10 test -e "$D/sink.out.listening"
	want=$(ip netns exec "$from" timeout 90 "$NV_PY" "$TS" source "$ip" "$mib" $RANDOM) \
		|| fail "TCP transfer of $mib MiB to $ip failed"
	wait "$SINK_PID" || fail "TCP sink failed"
	SINK_PID=
	got=$(cat "$D/sink.out")
	[ "$got" = "$want" ] || fail "TCP data corrupted: received '$got', sent '$want'"
	note "$mib MiB to $ip arrived intact in $((SECONDS - start))s"
}
transfer "$NV_NSC" "$NV_NSR" "$NV_IPR" 256
wait_for "GSO frames sent (tx.gso_frames > 0)" 5 stat_ge .tx.gso_frames 1
transfer "$NV_NSR" "$NV_NSC" "$NV_IPC" 64
wait_for "GSO frames received (rx.gso_frames > 0)" 5 stat_ge .rx.gso_frames 1
note "offloads: driver VM features $(stat_of .features), $(nv_export .stats | \
	jq -c '{tx_gso: .tx.gso_frames, tx_csum: .tx.csum_frames, rx_gso: .rx.gso_frames, rx_csum: .rx.csum_frames}')"

note "MTU-sized frames pass both ways; an oversize one is dropped and counted"
inC ping -c 3 -i 0.1 -W 2 -s 1472 -M do "$NV_IPR" >/dev/null || fail "MTU-sized ping client->remote failed"
inR ping -c 3 -i 0.1 -W 2 -s 1472 -M do "$NV_IPC" >/dev/null || fail "MTU-sized ping remote->client failed"
over0=$(stat_of .tx.drops.oversize)
inC ip link set "$NV_FE" mtu 2000	# let the stack hand ddvm-tap 1542-byte frames
[ "$(ping_recv inC ping -c 3 -i 0.1 -W 1 -s 1500 -M do "$NV_IPR")" = 0 ] || fail "an oversize frame got through"
inC ip link set "$NV_FE" mtu 1500
wait_for "3 oversize drops counted (had $over0)" 5 stat_ge .tx.drops.oversize $((over0 + 3))
inC ping -c 2 -i 0.1 -W 2 "$NV_IPR" >/dev/null || fail "no traffic after the oversize frames"

note "ping flood: 1000 frames, at most 2 % lost"
start=$SECONDS
recv=$(ping_recv inC ping -f -c 1000 -w 60 "$NV_IPR")
[ "${recv:-0}" -ge 980 ] || fail "ping flood: only ${recv:-0} of 1000 replies"
note "flood: $recv of 1000 in $((SECONDS - start))s"

note "wire down on the remote side: nothing passes; up again: traffic flows"
inR ip link set "$NV_WIRE" down
[ "$(ping_recv inC ping -c 3 -i 0.2 -W 1 "$NV_IPR")" = 0 ] || fail "frames passed with the wire down"
note "with the wire down: status link $(nv_export .link), client carrier" \
	"$(inC cat "/sys/class/net/$NV_FE/carrier") (QEMU's tap backend has no link state)"
inR ip link set "$NV_WIRE" up
wait_for "traffic after the wire came back" 20 inC ping -c 1 -W 1 "$NV_IPR"

note "cable pulled: carrier down on the client TAP, link false in status; plugged: back"
link_is() { [ "$(nv_export .link)" = "$1" ]; }
ddvm link "$NV_VM" 1 down || fail "ddvm link down failed"
wait_for "client TAP carrier down after the cable pull" 20 nv_carrier_is 0
wait_for "status link false" 10 link_is false
[ "$(ping_recv inC ping -c 3 -i 0.2 -W 1 "$NV_IPR")" = 0 ] || fail "frames passed with the cable pulled"
ddvm link "$NV_VM" 1 up || fail "ddvm link up failed"
wait_for "client TAP carrier up after plugging the cable" 20 nv_carrier_is 1
wait_for "status link true" 10 link_is true
wait_for "traffic after the cable came back" 30 inC ping -c 1 -W 1 "$NV_IPR"
set +e
ddvm link "$NV_VM" 7 down 2>"$DDVM_RUNDIR/err"; rc=$?
set -e
[ $rc -ne 0 ] && grep -q "no device 7" "$DDVM_RUNDIR/err" || fail "bad device number not refused clearly: $(cat "$DDVM_RUNDIR/err")"

kill -0 "$(nv_export .frontend_pid)" || fail "ddvm-tap died"
nv_export '[.stats.rx.drops | to_entries[] | select((.key | startswith("bad_")) and .value != 0)] | length == 0' \
	>/dev/null || fail "honest driver VM, yet receive drops: $(nv_export .stats.rx.drops | jq -c .)"
nv_export .stats | jq -c '{tx: .tx, rx: .rx}'
echo ok
