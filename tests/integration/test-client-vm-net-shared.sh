#!/bin/bash
# A client VM and the host's TAP use one NIC at once (issue: "one NIC serves
# the host TAP and any number of client VMs at once, each with its own MAC,
# through a bridge inside the driver VM"): an e1000 exported as TAP $NV_FE
# (namespace C) and used by client VM c1 (ddvm_front's ddvmnet0), its wire a
# TAP in namespace R; link-local addresses only.  Each has a MAC of its own
# (neither the NIC's); both reach the wire and each other, pinging at the
# same time; the driver VM's counters show c1's traffic on c1's channel.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
. "$TOP/tests/lib/netvm.sh"
netvm_requires cpio gzip
new_rundir
netvm_init 98
cleanup_fn netvm_down
D=$DDVM_RUNDIR
IPK=169.254.$NV_NET.5
client_image

cat >"$D/c1.sh" <<SCRIPT
#!/bin/sh
ip link set lo up
ip link set ddvmnet0 up
ip addr add $IPK/16 dev ddvmnet0
ip -6 addr add fe80::$NV_NET:5/64 dev ddvmnet0 nodad
echo "SHARED mac \$(cat /sys/class/net/ddvmnet0/address)"
i=0; until ping -c 1 -W 1 $NV_IPR >/dev/null 2>&1 || [ \$i -ge 60 ]; do i=\$((i + 1)); done
echo "SHARED ready"
echo "SHARED wire4 \$(ping -c 20 -i 0.1 -W 2 $NV_IPR | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')"
echo "SHARED wire6 \$(ping -6 -c 5 -i 0.2 -W 2 $NV_LLR%ddvmnet0 | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')"
echo "SHARED host \$(ping -c 5 -i 0.2 -W 2 $NV_IPC | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')"
echo "SHARED done"
while :; do sleep 3600; done	# stays up for the host's pings; ddvm down ends it
SCRIPT
client_initrd c1 "$D/c1.sh"
NV_CONF_EXTRA="clients = ( { name = \"c1\"; memory = 192; max_restarts = 0; nics = [ \"nv/net0\" ];
  kernel = \"$(client_kernel)\"; initrd = \"$D/c1.initrd\";
  append = \"$(_client_conf cmdline) ddvm.wait=60\"; } );"
netvm_up e1000 "" "tap = \"$NV_FE\"; mac = \"52:54:00:bb:00:01\";"
con=$D/c1/console.log
wait_for "c1 to reach the wire (console $con)" 180 grep -q '^SHARED ready' "$con"
# The host's TAP pings the wire while c1 does.
got_c=$(ping_recv inC ping -c 20 -i 0.1 -W 2 "$NV_IPR")
wait_for "c1's pings" 120 grep -q '^SHARED done' "$con"
val() { tr -d '\r' <"$con" | sed -n "s/^SHARED $1 //p"; }
note "c1: wire v4 $(val wire4)/20, v6 $(val wire6)/5, host TAP $(val host)/5; host TAP: wire $got_c/20"
[ "$(val wire4)" -ge 18 ] || fail "c1 -> wire (IPv4): $(val wire4)/20"
[ "$(val wire6)" -ge 4 ] || fail "c1 -> wire (IPv6): $(val wire6)/5"
[ "$(val host)" -ge 4 ] || fail "c1 -> host TAP: $(val host)/5"
[ "${got_c:-0}" -ge 18 ] || fail "host TAP -> wire while c1 pinged: $got_c/20"
inR ping -c 5 -i 0.2 -W 2 "$IPK" >/dev/null || fail "wire -> c1 (IPv4)"
inC ping -c 5 -i 0.2 -W 2 "$IPK" >/dev/null || fail "host TAP -> c1"

mac_k=$(val mac) mac_c=$(inC cat "/sys/class/net/$NV_FE/address")
[ "$mac_k" = "$(status_json | jq -r '.clients[0].nics[0].mac')" ] || fail "c1's MAC $mac_k is not the one status shows"
[ "$mac_c" = "$(nv_export .mac)" ] || fail "the host TAP's MAC $mac_c is not the one status shows"
[ "$mac_k" != "$mac_c" ] && [ "$mac_k" != 52:54:00:bb:00:01 ] && [ "$mac_c" != 52:54:00:bb:00:01 ] ||
	fail "MACs not distinct: c1 $mac_k, host TAP $mac_c, NIC 52:54:00:bb:00:01"
rx=$(status_json | jq -r '.clients[0].nics[0].counters.rx_frames')
[ "${rx:-0}" -ge 30 ] || fail "c1's counters show $rx frames to it"
note "MACs: c1 $mac_k, host TAP $mac_c, NIC 52:54:00:bb:00:01; c1's channel: $(status_json | jq -c '.clients[0].nics[0].counters')"
echo ok
