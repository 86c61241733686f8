#!/bin/bash
# One NIC, several clients at once, switched by the driver VM's own Linux:
# the host's TAP (ddvm-tap of the export) and a client on a channel of its
# own (client c1, started by the user: here a second ddvm-tap on c1's
# channel, chan-net0-c1.sock) share the e1000 through bridge ddvmbr0 in the
# driver VM, each with a MAC of its own (neither the NIC's).  Both reach the
# wire (IPv4, IPv6 link-local, a TCP stream with checksums while the other
# pings), reach each other through the bridge, and do so again after the
# driver VM is killed and restarted.
#
#   netns C: $NV_FE (host TAP)  169.254.N.1      netns K: $KT (c1's TAP)  169.254.N.4
#          \__ ddvm-tap                                  \__ ddvm-tap (c1's channel)
#              driver VM: ddvmp0 + ddvmp1 + eth0 (e1000) in ddvmbr0 -- wire -- netns R: 169.254.N.2
. "$(dirname "$0")/../lib/functions.sh"
. "$(dirname "$0")/../lib/netvm.sh"
netvm_requires
new_rundir
netvm_init 95
D=$DDVM_RUNDIR
NSK=ddvm-nvk-$$ KT=nvk$$ IPK=169.254.$NV_NET.4 LLK=fe80::$NV_NET:4
cleanup_fn netvm_down
cleanup_fn 'ip netns del $NSK 2>/dev/null; ip link del $KT 2>/dev/null; [ -z "${KTAP_PID:-}" ] || kill $KTAP_PID'
inK() { ip netns exec "$NSK" "$@"; }
nv_vm() { ddvm status --json | jq -er --arg n "$NV_VM" ".vms[] | select(.name == \$n) | $1"; }
c1_nic() { ddvm status --json | jq -er ".clients[0].nics[0] | $1"; }

NV_CONF_EXTRA='clients = ( { name = "c1"; start = false; nics = [ "nv/net0" ]; } );'
netvm_up e1000 "max_restarts = 3;" "tap = \"$NV_FE\"; mac = \"52:54:00:aa:00:01\";"
grep -q "ddvm-init: bridge ddvmbr0" "$D/nv/console.log" || fail "the driver VM made no bridge: $(grep ddvm-init "$D/nv/console.log")"

# c1's side: a second ddvm-tap on c1's own channel.
sock=$(c1_nic .channel.socket)
[ "$sock" = "$D/nv/chan-net0-c1.sock" ] || fail "c1's channel is '$sock'"
"$TOP/build/bin/ddvm-tap" --socket "$sock" --queue 0 --tap "$KT" >"$D/ktap.log" 2>&1 &
KTAP_PID=$!
wait_for "c1's TAP $KT" 30 ip link show "$KT"
ip netns add "$NSK"
ip link set "$KT" netns "$NSK"
inK ip link set lo up
inK ip addr add "$IPK/16" dev "$KT"
inK ip -6 addr add "$LLK/64" dev "$KT" nodad
inK ip link set "$KT" up
k_carrier() { [ "$(inK cat "/sys/class/net/$KT/carrier" 2>/dev/null)" = 1 ]; }
wait_for "carrier on c1's TAP" 30 k_carrier

# A MAC each, neither the NIC's: what the status says, the TAPs carry.
mac_c=$(inC cat "/sys/class/net/$NV_FE/address") mac_k=$(inK cat "/sys/class/net/$KT/address")
[ "$mac_c" = "$(nv_export .mac)" ] || fail "host TAP MAC $mac_c, status says $(nv_export .mac)"
[ "$mac_k" = "$(c1_nic .mac)" ] || fail "c1's TAP MAC $mac_k, status says $(c1_nic .mac)"
[ "$mac_c" != "$mac_k" ] && [ "$mac_c" != 52:54:00:aa:00:01 ] && [ "$mac_k" != 52:54:00:aa:00:01 ] ||
	fail "MACs not distinct: host $mac_c, c1 $mac_k, NIC 52:54:00:aa:00:01"
note "host TAP $mac_c, c1 $mac_k, NIC 52:54:00:aa:00:01, all through ddvmbr0"

# pings FROM: every path, both clients, both IP versions.
pings() {
	local when=$1
	inC ping -c 5 -i 0.1 -W 2 "$NV_IPR" >/dev/null || fail "$when: host TAP -> wire (IPv4)"
	inK ping -c 5 -i 0.1 -W 2 "$NV_IPR" >/dev/null || fail "$when: c1 -> wire (IPv4)"
	inR ping -c 5 -i 0.1 -W 2 "$IPK" >/dev/null || fail "$when: wire -> c1 (IPv4)"
	inK ping -6 -c 5 -i 0.1 -W 2 "$NV_LLR%$KT" >/dev/null || fail "$when: c1 -> wire (IPv6)"
	inR ping -6 -c 5 -i 0.1 -W 2 "$NV_LLC%$NV_WIRE" >/dev/null || fail "$when: wire -> host TAP (IPv6)"
	inC ping -c 5 -i 0.1 -W 2 "$IPK" >/dev/null || fail "$when: host TAP -> c1 through the bridge"
	inK ping -6 -c 5 -i 0.1 -W 2 "$NV_LLC%$KT" >/dev/null || fail "$when: c1 -> host TAP (IPv6)"
}
pings "first boot"

# Both at once: c1 streams 32 MiB to the wire while the host TAP pings it.
TS=$TOP/tests/lib/tcpstream.py
inR timeout 120 "$NV_PY" "$TS" sink "$NV_IPR" "$D/sink.out" &
SINK=$!
wait_for "TCP sink listening" 10 test -e "$D/sink.out.listening"
inK timeout 110 "$NV_PY" "$TS" source "$NV_IPR" 32 $RANDOM >"$D/source.out" &
SRC=$!
got=$(ping_recv inC ping -c 20 -i 0.1 -W 2 "$NV_IPR")
wait "$SRC" || fail "c1's TCP stream failed: $(cat "$D/source.out")"
wait "$SINK" || fail "the wire's TCP sink failed"
[ "$(cat "$D/sink.out")" = "$(cat "$D/source.out")" ] ||
	fail "c1's 32 MiB differ: sent $(cat "$D/source.out"), received $(cat "$D/sink.out")"
[ "${got:-0}" -ge 18 ] || fail "host TAP pings during c1's stream: $got of 20"
note "c1 sent 32 MiB intact while the host TAP got $got/20 pings through"
# Per-client counters, from the driver VM: c1's channel carried the stream.
tx=$(c1_nic .counters.tx_bytes)
[ "$tx" -ge $((32 << 20)) ] || fail "c1's counters say $tx bytes sent, expected >= 32 MiB"
ddvm status | grep -A1 "nic  *nv/net0" | grep -q "tx [0-9]* (" || fail "the text status shows no counters for c1: $(ddvm status)"

# Kill the driver VM: both clients come back on the new instance's bridge.
gen=$(nv_vm .generation)
kill -9 "$(nv_vm .pid)"
back() { [ "$(nv_vm .generation)" -gt "$gen" ] && [ "$(nv_vm .state)" = ready ]; }
wait_for "the driver VM restarted" "$BOOT_SECS" back
wait_for "host TAP carrier" 30 nv_carrier_is 1
wait_for "c1's carrier" 30 k_carrier
pings "after a restart"
kill -0 "$KTAP_PID" || fail "c1's ddvm-tap died: $(tail -3 "$D/ktap.log")"
echo ok
