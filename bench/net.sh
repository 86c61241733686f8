#!/bin/bash
# Network benchmark, side by side in one run, the same emulated NIC (NET_MODEL,
# default virtio-net) on the same wire (a tap in a "remote" namespace that
# runs `netblast server`):
#   ddvm       netblast in a client namespace on the host, through ddvm-tap ->
#              channel -> driver VM (ddvm_chan) -> NIC -> wire -> remote
#   in-VM      netblast inside the driver VM's own Linux, NIC not exported
#              (export = false): guest stack -> NIC -> wire -> remote
# The in-VM run boots a bench-only image: the stock image plus a second cpio
# archive with a static netblast and /etc/ddvm/bench.sh (image/init's hook).
# Measures TCP throughput both ways, UDP 64-byte datagram rate, UDP echo RTT
# p50/p99, and host CPU-seconds per GiB moved (utime+stime of QEMU, plus
# ddvm-tap and the netblast client on the ddvm path).  Prints a table, the
# ratios ddvm / in-VM, and Markdown rows for docs/benchmarks.md.
#   bench/net.sh            (root; link-local addresses in private namespaces only)
#   NET_MODEL=e1000 TCP_SECS=8 UDP_SECS=5 RTT_COUNT=1000 bench/net.sh
set -eu
cd "$(dirname "$0")/.."
. tests/lib/functions.sh
. tests/lib/netvm.sh
. bench/lib/bench-image.sh
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
requires jq gcc cpio gzip ip
MODEL=${NET_MODEL:-virtio-net}
TCP_SECS=${TCP_SECS:-8} UDP_SECS=${UDP_SECS:-5} RTT_COUNT=${RTT_COUNT:-1000}
PORT=5201
NB=$TOP/build/bench/netblast
PHASES="tcp_send:send:$TCP_SECS tcp_recv:recv:$TCP_SECS udp:udp:$UDP_SECS:64 rtt:rtt:$RTT_COUNT"

mkdir -p "$TOP/build/bench"
gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$NB" bench/netblast.c
ddvm image build >/dev/null
new_rundir
netvm_init 95
cleanup_fn netvm_down
cleanup_fn 'for p in ${SRV_PID:-} ${TAIL_PID:-}; do kill $p; done'
R=$DDVM_RUNDIR
hz=$(getconf CLK_TCK)
cpu_s() { awk -v hz="$hz" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

start_server() {
	ip netns exec "$NV_NSR" "$NB" server "$NV_IPR" "$PORT" &	# exec: $! is netblast
	SRV_PID=$!
}
stop_server() { kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=; }

# --- bench image: stock image + netblast + the hook script -------------------
BIMG=$TOP/build/bench/image
rm -rf "$R/extra"
mkdir -p "$R/extra/bin" "$R/extra/etc/ddvm"
cp "$NB" "$R/extra/bin/netblast"
cat >"$R/extra/etc/ddvm/bench.sh" <<EOF
#!/bin/sh
# bench/net.sh's in-driver-VM run (generated).
# The NIC's netdev (a USB NIC appears once its bus is enumerated: wait up to 60 s).
n=0
while dev=\$(ls /sys/class/net | grep -v '^lo\$' | head -n 1); [ -z "\$dev" ] && [ \$n -lt 600 ]; do
	sleep 0.1; n=\$((n + 1))
done
ip link set lo up; ip link set "\$dev" up; ip addr add $NV_IPV/16 dev "\$dev"
say() { echo "netblast: \$*" >/dev/console; }
nb() { /bin/netblast client $NV_IPR $PORT "\$@" 2>&1; }
nb rtt 5 >/dev/null	# waits (retrying) for the link and the server
for p in $PHASES; do
	name=\${p%%:*}
	say "begin \$name"
	say "\$(nb \$(echo "\${p#*:}" | tr ':' ' '))"
done
say done
EOF
chmod 755 "$R/extra/etc/ddvm/bench.sh"
IMG=${DDVM_IMAGE_DIR:-$TOP/build/image}
bench_image "$IMG" "$R/extra" "$BIMG"

declare -A D V DC VC	# results: ddvm, in-VM; CPU seconds of each phase

# --- (1) ddvm: through the TAP front-end --------------------------------------
echo "== ddvm path: $MODEL exported through ddvm-tap"
netvm_up "$MODEL"
accel=$(vm_field "$NV_VM" .accel)
start_server
qpid=$(vm_field "$NV_VM" .pid)
tpid=$(nv_export .frontend_pid)
inC "$NB" client "$NV_IPR" "$PORT" rtt 5 >/dev/null	# warm up (ARP, server up)
for p in $PHASES; do
	name=${p%%:*}
	q0=$(cpu_s "$qpid") t0=$(cpu_s "$tpid")
	# shellcheck disable=SC2046
	D[$name]=$(inC "$NB" client "$NV_IPR" "$PORT" $(echo "${p#*:}" | tr ':' ' '))
	q1=$(cpu_s "$qpid") t1=$(cpu_s "$tpid")
	c=$(kv "${D[$name]}" cpu)
	DC[$name]=$(awk -v a="$(fsub "$q1" "$q0")" -v b="$(fsub "$t1" "$t0")" -v c="${c:-0}" \
		'BEGIN { printf "%.3f %.3f %.3f", a, b, c }')
	echo "  ${D[$name]}   [cpu qemu/tap/client ${DC[$name]}]"
done
tapstats=$(nv_export .stats | jq -c '{tx: .tx.frames, rx: .rx.frames, tx_drops: .tx.drops, doorbells_in, doorbells_out}')
stop_server
netvm_down

# --- (2) in-driver-VM: the VM's own stack on the same NIC --------------------
echo "== in-driver-VM path: $MODEL owned by the driver VM's Linux (bench image)"
DDVM_IMAGE_DIR=$BIMG netvm_up "$MODEL" "" "export = false;"
start_server	# the VM's hook retries connecting for 60 s
qpid=$(vm_field "$NV_VM" .pid)
con=$R/$NV_VM/console.log
exec 7< <(exec timeout 300 tail -n +1 -f "$con")
TAIL_PID=$!
cur=""
while IFS= read -r -t 240 -u 7 line; do
	line=${line%$'\r'}
	case $line in
	"netblast: begin "*) cur=${line#netblast: begin }; q0=$(cpu_s "$qpid") ;;
	"netblast: done") break ;;
	"netblast: "*)
		[ -n "$cur" ] || continue
		q1=$(cpu_s "$qpid")
		V[$cur]=${line#netblast: }
		VC[$cur]=$(fsub "$q1" "$q0")
		echo "  ${V[$cur]}   [cpu qemu ${VC[$cur]}]"
		cur="" ;;
	esac
done
kill "$TAIL_PID" 2>/dev/null || true
TAIL_PID=
[ -n "${V[rtt]:-}" ] || fail "the in-VM run did not finish (see $con)"
stop_server
netvm_down

# --- report --------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
gib() { awk -v b="$1" 'BEGIN { printf "%.4f", b / 1073741824 }'; }
cpu_per_gib() {	# RESULT CPU-FIELDS...
	local bytes; bytes=$(kv "$1" bytes); shift
	awk -v g="$(gib "$bytes")" -v s="$*" 'BEGIN { n = split(s, a, " "); t = 0;
		for (i = 1; i <= n; i++) t += a[i]; printf "%.1f", (g > 0 ? t / g : 0) }'
}
date=$(date +%F)
echo
printf '%-30s %14s %14s %8s\n' "$MODEL, $accel, $date" ddvm in-VM ratio
row() { printf '%-30s %14s %14s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
row "TCP host->remote Mbit/s" "$(kv "${D[tcp_send]}" mbit_s)" "$(kv "${V[tcp_send]}" mbit_s)"
row "TCP remote->host Mbit/s" "$(kv "${D[tcp_recv]}" mbit_s)" "$(kv "${V[tcp_recv]}" mbit_s)"
row "UDP 64 B sent/s" "$(kv "${D[udp]}" sent_pps)" "$(kv "${V[udp]}" sent_pps)"
row "UDP 64 B received/s" "$(kv "${D[udp]}" recv_pps)" "$(kv "${V[udp]}" recv_pps)"
row "UDP echo RTT p50 us" "$(kv "${D[rtt]}" p50_us)" "$(kv "${V[rtt]}" p50_us)"
row "UDP echo RTT p99 us" "$(kv "${D[rtt]}" p99_us)" "$(kv "${V[rtt]}" p99_us)"
row "CPU s/GiB TCP send" "$(cpu_per_gib "${D[tcp_send]}" ${DC[tcp_send]})" "$(cpu_per_gib "${V[tcp_send]}" ${VC[tcp_send]})"
row "CPU s/GiB TCP recv" "$(cpu_per_gib "${D[tcp_recv]}" ${DC[tcp_recv]})" "$(cpu_per_gib "${V[tcp_recv]}" ${VC[tcp_recv]})"
echo "ddvm CPU split (qemu / ddvm-tap / client s): send ${DC[tcp_send]}, recv ${DC[tcp_recv]}"
echo "ddvm-tap counters: $tapstats"
echo
echo "| $date | $accel | $MODEL | TCP h->r Mbit/s | $(kv "${D[tcp_send]}" mbit_s) | $(kv "${V[tcp_send]}" mbit_s) | $(ratio "$(kv "${D[tcp_send]}" mbit_s)" "$(kv "${V[tcp_send]}" mbit_s)") |"
echo "| $date | $accel | $MODEL | TCP r->h Mbit/s | $(kv "${D[tcp_recv]}" mbit_s) | $(kv "${V[tcp_recv]}" mbit_s) | $(ratio "$(kv "${D[tcp_recv]}" mbit_s)" "$(kv "${V[tcp_recv]}" mbit_s)") |"
echo "| $date | $accel | $MODEL | UDP 64 B recv/s | $(kv "${D[udp]}" recv_pps) | $(kv "${V[udp]}" recv_pps) | $(ratio "$(kv "${D[udp]}" recv_pps)" "$(kv "${V[udp]}" recv_pps)") |"
echo "| $date | $accel | $MODEL | RTT p50 / p99 us | $(kv "${D[rtt]}" p50_us) / $(kv "${D[rtt]}" p99_us) | $(kv "${V[rtt]}" p50_us) / $(kv "${V[rtt]}" p99_us) | $(ratio "$(kv "${D[rtt]}" p50_us)" "$(kv "${V[rtt]}" p50_us)") |"
echo "| $date | $accel | $MODEL | CPU s/GiB send | $(cpu_per_gib "${D[tcp_send]}" ${DC[tcp_send]}) | $(cpu_per_gib "${V[tcp_send]}" ${VC[tcp_send]}) | $(ratio "$(cpu_per_gib "${D[tcp_send]}" ${DC[tcp_send]})" "$(cpu_per_gib "${V[tcp_send]}" ${VC[tcp_send]})") |"
echo "| $date | $accel | $MODEL | CPU s/GiB recv | $(cpu_per_gib "${D[tcp_recv]}" ${DC[tcp_recv]}) | $(cpu_per_gib "${V[tcp_recv]}" ${VC[tcp_recv]}) | $(ratio "$(cpu_per_gib "${D[tcp_recv]}" ${DC[tcp_recv]})" "$(cpu_per_gib "${V[tcp_recv]}" ${VC[tcp_recv]})") |"
