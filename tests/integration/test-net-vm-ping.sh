#!/bin/bash
# Through a REAL driver VM, for each emulated NIC model (e1000, e1000e,
# rtl8139, virtio-net; one VM each, in turn): IPv4 ping both ways and IPv6
# link-local ping both ways between a client namespace (ddvm-tap's TAP) and a
# remote namespace (the NIC's wire, QEMU's tap backend):
#   client TAP -> ddvm-tap -> channel -> ddvm_chan -> Linux's NIC driver -> wire
#   NET_MODELS="e1000 virtio-net"   run only these
. "$(dirname "$0")/../lib/functions.sh"
. "$(dirname "$0")/../lib/netvm.sh"
requires ip ping jq qemu-system-x86_64
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
new_rundir
netvm_init 93
cleanup_fn netvm_down

for model in ${NET_MODELS:-e1000 e1000e rtl8139 virtio-net}; do
	start=$SECONDS
	netvm_up "$model"
	drv=$(vm_json nv | jq -r '[.devices[] | select(.names | index("eth0")) | .driver][0]')
	inC ping -c 10 -i 0.1 -W 2 "$NV_IPR" >"$DDVM_RUNDIR/p4c.log" \
		|| fail "$model: IPv4 client->remote: $(tail -2 "$DDVM_RUNDIR/p4c.log")"
	inR ping -c 10 -i 0.1 -W 2 "$NV_IPC" >"$DDVM_RUNDIR/p4r.log" \
		|| fail "$model: IPv4 remote->client: $(tail -2 "$DDVM_RUNDIR/p4r.log")"
	inC ping -6 -c 10 -i 0.1 -W 2 "$NV_LLR%$NV_FE" >"$DDVM_RUNDIR/p6c.log" \
		|| fail "$model: IPv6 client->remote: $(tail -2 "$DDVM_RUNDIR/p6c.log")"
	inR ping -6 -c 10 -i 0.1 -W 2 "$NV_LLC%$NV_WIRE" >"$DDVM_RUNDIR/p6r.log" \
		|| fail "$model: IPv6 remote->client: $(tail -2 "$DDVM_RUNDIR/p6r.log")"
	rtt=$(sed -n 's|^rtt .* = [0-9.]*/\([0-9.]*\)/.*|\1|p' "$DDVM_RUNDIR/p4c.log")
	nv_export '[.stats.rx.drops | to_entries[] | select((.key | startswith("bad_")) and .value != 0)] | length == 0' >/dev/null \
		|| fail "$model: receive drops: $(nv_export .stats.rx.drops | jq -c .)"
	kill -0 "$(nv_export .frontend_pid)" || fail "$model: ddvm-tap died"
	note "$model (driver $drv): 4 x 10 pings ok, avg rtt ${rtt} ms, $((SECONDS - start))s"
	netvm_down
done
no_qemu_left || fail "QEMU left behind: $(qemu_pids)"
echo ok
