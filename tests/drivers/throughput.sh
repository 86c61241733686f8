#!/bin/bash
# Throughput of one controller type through ddvm and inside the driver VM,
# side by side in one run (docs/drivers.md), reusing the benchmarks:
#   disk: fio (nbd engine) on the host -> the type's NBD export, then
#         bench/blkbench inside a driver VM on the same disk, not exported
#         (bench/block-guest.sh, bench/lib/bench-image.sh): sequential read
#         and write, 128 KiB requests, queue depth 4, DRV_TPUT_SECS each
#   NIC:  bench/net.sh with NET_MODEL=TYPE (TCP both ways, netblast on the
#         host through ddvm-tap against netblast in the driver VM's own stack)
# Prints "THROUGHPUT<TAB>TYPE<TAB>METRIC<TAB>DDVM<TAB>IN_VM" lines (MB/s or
# Mbit/s), also appended to $DRV_RESULTS if set.
#   tests/drivers/throughput.sh TYPE
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/blk.sh"
. "$TOP/tests/lib/drivers.sh"
. "$TOP/bench/lib/bench-image.sh"
[ $# = 1 ] || fail "usage: tests/drivers/throughput.sh TYPE"
TYPE=$1
TEST_NAME=throughput-$TYPE
SECS=${DRV_TPUT_SECS:-4}
kind=$(drv_kind "$TYPE")

out() {
	printf 'THROUGHPUT\t%s\t%s\t%s\t%s\n' "$TYPE" "$1" "$2" "$3"
	[ -z "${DRV_RESULTS:-}" ] || printf 'THROUGHPUT\t%s\t%s\t%s\t%s\n' "$TYPE" "$1" "$2" "$3" >>"$DRV_RESULTS"
}

if [ "$kind" = nic ]; then
	[ "$(id -u)" = 0 ] || fail "needs root (network namespaces)"
	log=$(mktemp /tmp/ddvm-tput.XXXXXX)
	cleanup_fn "rm -f $log"
	NET_MODEL=$TYPE TCP_SECS=$SECS UDP_SECS=1 RTT_COUNT=100 timeout 400 "$TOP/bench/net.sh" >"$log" 2>&1 ||
		fail "bench/net.sh failed: $(tail -n 3 "$log")"
	for m in "TCP host->remote Mbit/s:tcp_out_mbit" "TCP remote->host Mbit/s:tcp_in_mbit"; do
		read -r a b <<<"$(awk -v k="${m%%:*}" 'index($0, k) == 1 { n = split($0, f, " "); print f[n - 2], f[n - 1] }' "$log")"
		[ -n "$a" ] || fail "no '${m%%:*}' row in bench/net.sh's output: $(tail -n 5 "$log")"
		out "${m#*:}" "$a" "$b"
	done
	exit 0
fi

requires jq fio gcc cpio gzip
fio --enghelp 2>/dev/null | grep -qw nbd || fail "this fio has no nbd engine"
new_rundir
R=$DDVM_RUNDIR
mkdir -p "$TOP/build/bench"
gcc -static -O2 -Wall -Wextra -Werror -o "$TOP/build/bench/blkbench" "$TOP/bench/blkbench.c"
JOBS=${DRV_TPUT_JOBS:-"read:read:131072:4 write:write:131072:4"}
conf() {	# conf EXPORT
	cat >"$R/t.conf" <<EOF
vms = ( { name = "tp"; memory = 128; max_restarts = 0;
  devices = ( { type = "$TYPE"; file = "$R/disk.img"; export = $1; } ); } );
EOF
}
dd if=/dev/urandom of="$R/disk.img" bs=1M count=64 status=none

# 1. ddvm: fio on the host through the export.
conf true
ddvm up -d "$R/t.conf" >/dev/null || fail "ddvm up failed: $(tail -n 3 "$R/ddvm.log")"
blk_wait_ready tp 0
uri=$(blk_uri tp 0)
dev=$(vm_field tp '.exports[0].dev_name')
declare -A D V
for spec in $JOBS; do
	IFS=: read -r name rw bs qd <<<"$spec"
	fio --name="$name" --ioengine=nbd --uri="$uri" --rw="$rw" --bs="$bs" --iodepth="$qd" \
		--time_based --runtime="$SECS" --size=64M --output-format=json 2>/dev/null |
		sed -n '/^{/,$p' >"$R/fio.json"
	D[$name]=$(jq -r '.jobs[0] | (if .read.io_bytes > 0 then .read else .write end) |
		.io_bytes / (.runtime * 1000) | . * 100 | floor / 100' "$R/fio.json") ||
		fail "cannot read fio's result for $name"
done
ddvm down >/dev/null

# 2. in the driver VM: blkbench on the same disk, not exported.
mkdir -p "$R/overlay/bin" "$R/overlay/etc/ddvm"
cp "$TOP/build/bench/blkbench" "$R/overlay/bin/blkbench"
install -m 755 "$TOP/bench/block-guest.sh" "$R/overlay/etc/ddvm/bench.sh"
bench_image "${DDVM_IMAGE_DIR:-$TOP/build/image}" "$R/overlay" "$R/bench-image" \
	"ddvm.bench=blkbench,/dev/$dev,$SECS,$(echo $JOBS | tr ' ' ,)"
conf false
DDVM_IMAGE_DIR=$R/bench-image ddvm up -d "$R/t.conf" >/dev/null || fail "ddvm up (in-VM run) failed"
con=$(vm_field tp .console_log)
done_or_failed() { grep -aq '^ddvm-bench: done\|^ddvm-bench: failed\|blkbench: ' "$con"; }
wait_for "the in-VM benchmark to finish" $((60 + 6 * SECS)) done_or_failed
grep -aq '^ddvm-bench: done' "$con" || fail "the in-VM benchmark failed: $(grep -a 'blkbench\|ddvm-bench' "$con" | tail -n 2)"
for spec in $JOBS; do
	name=${spec%%:*}
	V[$name]=$(tr -d '\r' <"$con" | awk -v n="$name" '$1 == "ddvm-bench:" && $2 == "result" && $3 == n {
		printf "%.2f", $5 / $9 }')
	[ -n "${V[$name]}" ] || fail "no in-VM result for $name"
done
ddvm down >/dev/null
out seq_read_mbs "${D[read]}" "${V[read]}"
out seq_write_mbs "${D[write]}" "${V[write]}"
