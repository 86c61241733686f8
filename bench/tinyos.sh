#!/bin/bash
# tinyos beside a Linux client VM, in one run, on one driver VM: what a
# minimal client (tinyos: ~1,300 lines, libddvm's bare-metal transport, no
# drivers) costs against a full Linux one (the client image's stock kernel
# with ddvm_front.ko).  Both use the same driver VM "bt": a slice each of its
# nvme, and its e1000 (a bridge in the driver VM switches the two; the wire
# is a TAP in a namespace made here, link-local addresses).
#   ping RTT p50 / p99    from the wire's namespace, PINGS pings each, one at a time
#   4 KiB read p50 / p99  inside each OS, one read at a time at random offsets:
#                         tinyos times READS synchronous reads back to back (asked
#                         on its UDP port 8: "bench READS 4096"); the Linux client
#                         runs fio randread 4k QD 1 O_DIRECT on /dev/ddvm0 for
#                         SECS s (its completion latency percentiles)
# The Linux client's fio runs first, while tinyos idles; then the pings, then
# tinyos's reads: nothing overlaps.
#   bench/tinyos.sh [PINGS] [READS] [SECS]     (defaults 200, 500, 10; ~2 min)
set -eu
cd "$(dirname "$0")/.."
. tests/lib/functions.sh
. tests/lib/client_vm.sh
PINGS=${1:-200}
READS=${2:-500}
SECS=${3:-10}
requires fio jq ip ping python3 qemu-system-x86_64 cpio gzip
[ "$(id -u)" = 0 ] || fail "needs root (network namespace, TAP device)"
make -s all tinyos >/dev/null
ddvm image build >/dev/null
new_rundir
d=$DDVM_RUNDIR
client_image
NS=ddvm-btos-$$ WIRE=btw$$ IPR=169.254.94.2 IPT=169.254.94.5 IPL=169.254.94.6
cleanup_fn "ip netns del $NS 2>/dev/null; ip link del $WIRE 2>/dev/null"
inR() { ip netns exec "$NS" "$@"; }

# The Linux client: its address, then fio, then idle until stopped.
mkdir -p "$d/extra"
copy_closure "$d/extra" "$(command -v fio)"
cat >"$d/linux.sh" <<SCRIPT
#!/bin/sh
ip addr add $IPL/16 dev ddvmnet0 && ip link set ddvmnet0 up || echo "RESULT fail: ddvmnet0"
fio --name=randread-qd1 --filename=/dev/ddvm0 --rw=randread --bs=4k --iodepth=1 --ioengine=libaio \
	--direct=1 --time_based --runtime=$SECS --size=128M --minimal | sed 's/^/FIO /'
echo "RESULT done"
exec sleep 100000	# stays up to answer pings; the host stops it
SCRIPT
client_initrd lx "$d/linux.sh" "$d/extra"
cat >"$d/bt.conf" <<CONF
vms = ( { name = "bt"; memory = 128;
  devices = ( { type = "nvme"; file = "$d/nvme.img"; size = "256M"; create = true; export = false; },
              { type = "e1000"; net = "tap:$WIRE"; export = false; } ); } );
clients = (
  { name = "tos"; memory = 64; max_restarts = 0; kernel = "$TOP/build/tinyos/tinyos.elf";
    append = "ip=$IPT"; nics = [ "bt/net0" ];
    disks = ( { disk = "bt/disk0"; offset = "0"; size = "128M"; } ); },
  { name = "lx"; memory = 384; max_restarts = 0; kernel = "$(client_kernel)"; initrd = "$d/lx.initrd";
    append = "$(_client_conf cmdline) ddvm.wait=120"; nics = [ "bt/net0" ];
    disks = ( { disk = "bt/disk0"; offset = "128M"; size = "128M"; } ); } );
CONF
ip tuntap add "$WIRE" mode tap || fail "cannot create wire tap $WIRE"
ip netns add "$NS"
ddvm up -d "$d/bt.conf" >"$d/up.out" 2>&1 || fail "ddvm up failed: $(cat "$d/up.out")"
ip link set "$WIRE" netns "$NS"
inR ip link set lo up
inR ip addr add "$IPR/16" dev "$WIRE"
inR ip link set "$WIRE" up
tcon=$d/tos/console.log lcon=$d/lx/console.log
wait_for "tinyos ready (console $tcon)" 120 grep -q '^tinyos: net0 link up' "$tcon"
wait_for "the Linux client's fio (console $lcon)" 300 grep -aq '^RESULT' "$lcon"
grep -aq '^RESULT done' "$lcon" || fail "Linux client: $(grep -a '^RESULT' "$lcon")"
# fio's terse line: the read clat percentiles are the first 50% and 99% fields (usec).
read -r lx50 lx99 < <(tr -d '\r' <"$lcon" | sed -n 's/^FIO //p' | awk -F';' '{
	for (i = 18; i <= NF; i++) if ($i ~ /^50\.000000%=/ && !a) { split($i, kv, "="); a = kv[2] }
	else if ($i ~ /^99\.000000%=/ && !b) { split($i, kv, "="); b = kv[2] }
	print a, b }')

# pcts FILE: p50 and p99 of the numbers in FILE (one a line).
pcts() { sort -n "$1" | awk '{ v[NR] = $1 } END { i = int(NR * 0.5 + 0.5); j = int(NR * 0.99 + 0.5);
	if (i < 1) i = 1; if (j < 1) j = 1; printf "%s %s\n", v[i], v[j] }'; }
rtts() {	# rtts IP OUT: PINGS RTTs in ms
	inR ping -c "$PINGS" -i 0.05 -W 2 "$1" | sed -n 's/.* time=\([0-9.]*\) ms/\1/p' >"$2"
	[ "$(wc -l <"$2")" -ge $((PINGS * 9 / 10)) ] || fail "pings to $1: $(wc -l <"$2") of $PINGS answered"
}
inR ping -c 3 -W 2 "$IPL" >/dev/null || fail "the Linux client does not answer ping"
inR ping -c 3 -W 2 "$IPT" >/dev/null || fail "tinyos does not answer ping"
rtts "$IPT" "$d/rtt.tos"
rtts "$IPL" "$d/rtt.lx"
# tinyos's reads: "bench N 4096" on its UDP port 8 (examples/tinyos/net.c).
ans=$(inR python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(120)
s.sendto(b"bench %s 4096" % sys.argv[2].encode(), (sys.argv[1], 8))
print(s.recv(2048).decode().strip())' "$IPT" "$READS") || fail "tinyos did not answer its disk bench"
case $ans in "ok n=$READS "*) ;; *) fail "tinyos: $ans" ;; esac
r50=$(echo "$ans" | sed -n 's/.* p50_ns=\([0-9]*\).*/\1/p' | awk '{ printf "%.0f", $1 / 1000 }')
r99=$(echo "$ans" | sed -n 's/.* p99_ns=\([0-9]*\).*/\1/p' | awk '{ printf "%.0f", $1 / 1000 }')
read -r t50 t99 < <(pcts "$d/rtt.tos")
read -r l50 l99 < <(pcts "$d/rtt.lx")
printf '%-28s %18s %22s\n' "" "tinyos" "Linux client VM"
printf '%-28s %18s %22s\n' "ping RTT p50 / p99 (ms)" "$t50 / $t99" "$l50 / $l99"
printf '%-28s %18s %22s\n' "4 KiB read p50 / p99 (us)" "$r50 / $r99" "$lx50 / $lx99"
echo "($PINGS pings each; tinyos $READS synchronous reads, Linux fio randread QD 1 for $SECS s; accelerator $(status_json | jq -r '.accel // .vms[0].accel'))"
ddvm down >/dev/null
