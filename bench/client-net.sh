#!/bin/bash
# Client-VM network benchmark: the same Linux client VM (the client image: the
# stock kernel) and the same iperf3 and ping jobs against the same remote (a
# namespace on the NIC's wire, a host TAP), over the same emulated e1000, in
# one run, three ways:
#   native  the client VM owns the e1000 itself (Linux's e1000 driver in it)
#   ddvm    through a driver VM that owns the e1000: ddvm_front.ko's netdev ->
#           its channel -> ddvm_net in the driver VM -> e1000 -> wire
#   virtio  the standard path (virtio = true): the client's virtio-net -> TAP
#           -> host bridge -> the TAP front-end (ddvm-tap) -> its channel ->
#           the driver VM's bridge -> e1000 -> wire
# Jobs: iperf3 TCP client -> remote and remote -> client (SECONDS each), ping
# RTT p50 / p99 (200 pings, 20 ms apart).  Per way: host CPU seconds per GiB
# moved (utime + stime of every QEMU, the supervisor and ddvm-tap over the
# iperf3 runs); then ddvm / native and virtio / native.  ROUNDS rotate the order.
#   bench/client-net.sh [SECONDS] [ROUNDS]    (root; link-local addresses in private namespaces only)
#   WAYS="native ddvm" bench/client-net.sh    only these ways
set -eu
cd "$(dirname "$0")/.."
. tests/lib/functions.sh
. tests/lib/netvm.sh
. tests/lib/client_vm.sh
. bench/lib/client-extra.sh
SECS=${1:-8}
ROUNDS=${2:-1}
netvm_requires iperf3 cpio gzip modprobe
make -s all >/dev/null
ddvm image build >/dev/null
new_rundir
netvm_init 99
d=$DDVM_RUNDIR
IPV=169.254.$NV_NET.5
cleanup_fn 'ddvm down --timeout 20 >/dev/null 2>&1; [ -z "${NQ:-}" ] || kill $NQ; wire_down'
client_image
hz=$(getconf CLK_TCK)
# The client's root: iperf3 and its libraries, and (for native) the e1000
# driver's module closure from the driver image, loaded in order.
client_bench_extra "$d/extra" iperf3 e1000
# client.sh IFACE NAME: the jobs, "RESULT ..." lines, then "RESULT done".
# (The sleep at the end is not a wait for an event: the VM stays up so its
# CPU counters can be read, then the host stops it.)
script() {
	cat >"$d/$2.sh" <<SCRIPT
#!/bin/sh
for m in /bench/mods/*.ko; do [ -e "\$m" ] && insmod "\$m" 2>/dev/null; done
i=0; while [ ! -e /sys/class/net/$1 ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
ip link set lo up; ip link set $1 up; ip addr add $IPV/16 dev $1
i=0; until ping -c 1 -W 1 $NV_IPR >/dev/null 2>&1 || [ \$i -ge 120 ]; do i=\$((i + 1)); done
echo "BEGIN"
iperf3 -c $NV_IPR -t $SECS -f m >/tmp/send 2>&1; tail -n 4 /tmp/send | sed 's/^/IPERF /'
iperf3 -c $NV_IPR -t $SECS -f m -R >/tmp/recv 2>&1; tail -n 4 /tmp/recv | sed 's/^/IPERF /'
echo "RESULT send \$(awk '/receiver/ { print \$7 }' /tmp/send)"
echo "RESULT recv \$(awk '/receiver/ { print \$7 }' /tmp/recv)"
echo "END"
ping -c 200 -i 0.02 -W 1 $NV_IPR | sed -n 's/.*time=\([0-9.]*\) ms/RTT \1/p'
echo "RESULT done"
exec sleep 100000
SCRIPT
}
script eth0 native
script ddvmnet0 ddvm
script eth0 virtio
for w in native ddvm virtio; do client_initrd "$w" "$d/$w.sh" "$d/extra"; done
RES=$d/results.tsv	# way round metric value
: >"$RES"

# The wire, for each way afresh: a TAP that the way's QEMU opens by name,
# then moved into namespace R, with the remote's address and iperf3 server.
wire_new() {
	ip tuntap add "$NV_WIRE" mode tap || fail "cannot create wire tap $NV_WIRE"
	ip netns add "$NV_NSR" || fail "cannot create netns $NV_NSR"
}
wire_up() {
	ip link set "$NV_WIRE" netns "$NV_NSR"
	inR ip link set lo up
	inR ip addr add "$NV_IPR/16" dev "$NV_WIRE"
	inR ip link set "$NV_WIRE" up
	inR iperf3 -s -B "$NV_IPR" >"$d/iperf3-server.log" 2>&1 &
	SRV=$!
}
wire_down() {
	[ -z "${SRV:-}" ] || { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null || true; SRV=; }
	ip -n "$NV_NSR" link del "$NV_WIRE" 2>/dev/null || true
	ip link del "$NV_WIRE" 2>/dev/null || true
	ip netns del "$NV_NSR" 2>/dev/null || true
}

# collect WAY ROUND CONSOLE CPU_TICKS: results -> RES
collect() {
	local con=$3 s r
	s=$(tr -d '\r' <"$con" | sed -n 's/^RESULT send //p') r=$(tr -d '\r' <"$con" | sed -n 's/^RESULT recv //p')
	echo -e "$1\t$2\tsend\t${s:-0}" >>"$RES"
	echo -e "$1\t$2\trecv\t${r:-0}" >>"$RES"
	tr -d '\r' <"$con" | sed -n 's/^RTT //p' | sort -n >"$d/rtt.$1.$2"
	echo -e "$1\t$2\tp50\t$(awk '{ a[NR] = $1 } END { print NR ? a[int(NR * 0.5) + 1] : 0 }' "$d/rtt.$1.$2")" >>"$RES"
	echo -e "$1\t$2\tp99\t$(awk '{ a[NR] = $1 } END { i = int(NR * 0.99) + 1; if (i > NR) i = NR; print NR ? a[i] : 0 }' "$d/rtt.$1.$2")" >>"$RES"
	# CPU seconds per GiB moved by the two iperf3 runs (Mbit/s * SECS / 8 / 1024 GiB)
	echo -e "$1\t$2\tcpu\t$(awk -v c="$4" -v hz="$hz" -v a="${s:-0}" -v b="${r:-0}" -v t="$SECS" \
		'BEGIN { g = (a + b) * t / 8 / 1024; print (g > 0 ? c / hz / g : 0) }')" >>"$RES"
}

# measure WAY ROUND CONSOLE PIDS...: CPU ticks of PIDS between BEGIN and END.
measure() {
	local w=$1 r=$2 con=$3 start; shift 3
	wait_for "the $w client to begin (console $con)" 240 grep -q '^BEGIN' "$con"
	start=$(ticks "$@")
	wait_for "the $w client's iperf3 runs" 300 grep -q '^END' "$con"
	cpu=$(( $(ticks "$@") - start ))
	wait_for "the $w client's pings" 120 grep -q '^RESULT done' "$con"
	collect "$w" "$r" "$con" "$cpu"
}

run_native() {
	: >"$d/native.console"
	wire_new
	qemu-system-x86_64 -name ddvm-bench-native -machine q35 -accel tcg -m 512 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$(client_kernel)" -initrd "$d/native.initrd" \
		-append "$(_client_conf cmdline) ddvm.wait=1" -serial "file:$d/native.console" \
		-netdev "tap,id=n0,ifname=$NV_WIRE,script=no,downscript=no" -device "e1000,netdev=n0,romfile=" \
		>"$d/native.qemu.log" 2>&1 &
	NQ=$!
	# A TAP gets its carrier when a program attaches: then it may move.
	ip link set "$NV_WIRE" up
	wait_for "native QEMU on the wire" 30 grep -q 1 "/sys/class/net/$NV_WIRE/carrier"
	wire_up
	measure native "$1" "$d/native.console" "$NQ"
	kill "$NQ"; wait "$NQ" 2>/dev/null || true; NQ=
	wire_down
}

# up_way WAY CONF-CLIENT-LINES DEVOPTS: a driver VM on the wire, the client VM.
up_way() {
	local w=$1 con=$d/c-$1/console.log
	cat >"$d/$w.conf" <<CONF
vms = ( { name = "drv"; memory = 128;
  devices = ( { type = "e1000"; net = "tap:$NV_WIRE"; $3 } ); } );
clients = ( { name = "c-$w"; memory = 512; max_restarts = 0; $2
  kernel = "$(client_kernel)"; initrd = "$d/$w.initrd";
  append = "$(_client_conf cmdline) ddvm.wait=1"; } );
CONF
	rm -f "$con"
	wire_new
	ddvm up -d "$d/$w.conf" >/dev/null || fail "ddvm up ($w) failed: $(tail -5 "$d/ddvm.log")"
	wire_up
	sup=$(status_json | jq -r .supervisor_pid)
	q=$(status_json | jq -r '.vms[0].pid')
	wait_for "the $w client VM" 120 sh -c "[ \"\$($DDVM_BIN status --json | jq -r '.clients[0].pid')\" -gt 0 ]"
	c=$(status_json | jq -r '.clients[0].pid')
}

run_ddvm() {
	local sup q c
	up_way ddvm 'nics = [ "drv/net0" ];' 'export = false;'
	measure ddvm "$1" "$d/c-ddvm/console.log" "$sup" "$q" "$c"
	ddvm down >/dev/null
	wire_down
}

run_virtio() {
	local sup q c tap
	up_way virtio 'virtio = true; nics = [ "drv/net0" ];' ''
	wait_for "the TAP front-end" 60 sh -c "[ \"\$($DDVM_BIN status --json | jq -r '.vms[0].exports[0].frontend_pid')\" -gt 0 ]"
	tap=$(status_json | jq -r '.vms[0].exports[0].frontend_pid')
	measure virtio "$1" "$d/c-virtio/console.log" "$sup" "$q" "$c" "$tap"
	ddvm down >/dev/null
	wire_down
}

WAYS=${WAYS:-native ddvm virtio}	# e.g. WAYS=native to look at one
way() { case " $WAYS " in *" $1 "*) "run_$1" "$2" ;; esac; }
for r in $(seq 1 "$ROUNDS"); do
	case $((r % 3)) in
	1) way native "$r"; way ddvm "$r"; way virtio "$r" ;;
	2) way ddvm "$r"; way virtio "$r"; way native "$r" ;;
	0) way virtio "$r"; way native "$r"; way ddvm "$r" ;;
	esac
done

echo
echo "client-VM network benchmark, $(date +%F), accelerator tcg, $(nproc) host CPUs, e1000, ${SECS}s per iperf3 run, $ROUNDS round(s)"
awk -F'\t' '
function med(list,   n, a, i, j, t) { n = split(list, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ v[$1 SUBSEP $3] = v[$1 SUBSEP $3] " " $4 }
END {
	printf "| metric | native | ddvm | virtio | ddvm / native | virtio / native |\n|---|---:|---:|---:|---:|---:|\n"
	n = split("send recv p50 p99 cpu", keys, " ")
	names["send"] = "TCP client -> remote, Mbit/s"; names["recv"] = "TCP remote -> client, Mbit/s"
	names["p50"] = "ping RTT p50, ms"; names["p99"] = "ping RTT p99, ms"; names["cpu"] = "host CPU s per GiB"
	for (i = 1; i <= n; i++) { k = keys[i]
		a = med(v["native" SUBSEP k]); b = med(v["ddvm" SUBSEP k]); c = med(v["virtio" SUBSEP k])
		f = (k == "send" || k == "recv") ? "%.0f" : "%.2f"
		printf "| %s | " f " | " f " | " f " | %.2f | %.2f |\n", names[k], a, b, c, (a > 0 ? b / a : 0), (a > 0 ? c / a : 0) }
}' "$RES"
echo
echo "per round (Mbit/s client -> remote / remote -> client):"
awk -F'\t' '$3 == "send" || $3 == "recv" { v[$1] = v[$1] " " $3 "=" $4 "(r" $2 ")" } END { for (w in v) print "  " w ":" v[w] }' "$RES"
