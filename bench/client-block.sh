#!/bin/bash
# Client-VM block benchmark: the same Linux client VM (the client image: the
# stock kernel) and the same fio jobs on the same emulated nvme, in one run:
#   native  the client VM owns the nvme itself (Linux's nvme driver in it)
#   ddvm    the client VM reaches it through a driver VM: ddvm_front.ko ->
#           its channel -> ddvm_blk in the driver VM -> the driver VM's nvme
#   virtio  the standard path (virtio = true): the client VM's virtio-blk on
#           QEMU's NBD client -> the export's nbdkit + ddvm plugin -> its
#           channel -> ddvm_blk -> the driver VM's nvme
# Jobs (fio, libaio, O_DIRECT, SECONDS each): 4K random read QD 1 and QD 32,
# 4K random write QD 1 and QD 32, 512K sequential read and write QD 1.
# Per job: MB/s, p50 / p99 latency from the client's fio; per way: host CPU
# seconds per GiB moved (utime + stime of every QEMU, the supervisor and
# nbdkit over the whole fio run); then ddvm / native and virtio / native.
# ROUNDS rotate the order.
#   bench/client-block.sh [SECONDS] [ROUNDS]     (defaults 6, 1; ~3 min per round)
set -eu
cd "$(dirname "$0")/.."
. tests/lib/functions.sh
. tests/lib/client_vm.sh
. bench/lib/client-extra.sh
SECS=${1:-6}
ROUNDS=${2:-1}
requires fio jq qemu-system-x86_64 cpio gzip modprobe
make -s all >/dev/null
ddvm image build >/dev/null
new_rundir
d=$DDVM_RUNDIR
client_image
hz=$(getconf CLK_TCK)
# The client's root: fio and its libraries, and (for native) the nvme
# driver's module closure from the driver image, loaded in order.
client_bench_extra "$d/extra" fio nvme
JOBS="randread-qd1:randread:4k:1 randread-qd32:randread:4k:32 randwrite-qd1:randwrite:4k:1
randwrite-qd32:randwrite:4k:32 seqread:read:512k:1 seqwrite:write:512k:1"
# client.sh DEV: fio's terse line per job ("FIO name;..."), then RESULT done.
# (The sleep at the end of a measurement is not a wait for an event: the VM
# stays up so its CPU counters can be read, then the host stops it.)
script() {
	{
		echo '#!/bin/sh'
		echo 'for m in /bench/mods/*.ko; do [ -e "$m" ] && insmod "$m" 2>/dev/null; done'
		echo "dev=$1"
		echo 'i=0; while [ ! -b $dev ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done'
		echo 'echo "BEGIN"'
		for j in $JOBS; do
			IFS=: read -r name rw bs qd <<<"$j"
			echo "fio --name=$name --filename=\$dev --rw=$rw --bs=$bs --iodepth=$qd --ioengine=libaio \\"
			echo "	--direct=1 --time_based --runtime=$SECS --size=192M --minimal | sed 's/^/FIO /'"
		done
		echo 'echo "RESULT done"'
		echo 'exec sleep 100000	# the host reads the CPU counters, then stops it'
	} >"$d/$2.sh"
}
script /dev/nvme0n1 native
script /dev/ddvm0 ddvm
script /dev/vda virtio
client_initrd native "$d/native.sh" "$d/extra"
client_initrd ddvm "$d/ddvm.sh" "$d/extra"
client_initrd virtio "$d/virtio.sh" "$d/extra"
truncate -s 256M "$d/nvme.img"
dd if=/dev/urandom of="$d/nvme.img" bs=1M count=256 conv=notrunc status=none
RES=$d/results.tsv	# way round job MB/s p50 p99, and "cpu" lines
: >"$RES"

# parse WAY ROUND CONSOLE: fio's terse lines -> RES (read fields 7/.., write 48/..)
parse() {
	tr -d '\r' <"$3" | sed -n 's/^FIO //p' | awk -F';' -v w="$1" -v r="$2" '{
		rd = $7 > 0; bw = rd ? $7 : $48
		p50 = p99 = 0; seen = 0
		for (i = 18; i <= NF; i++) if ($i ~ /^50\.000000%=/ || $i ~ /^99\.000000%=/) {
			split($i, kv, "="); seen++
			if ((rd && seen <= 2) || (!rd && seen > 2)) { if ($i ~ /^50/) p50 = kv[2]; else p99 = kv[2] } }
		printf "%s\t%s\t%s\t%.1f\t%d\t%d\n", w, r, $3, bw / 1024, p50, p99 }' >>"$RES"
}

run_native() {
	local start cpu
	: >"$d/native.console"
	qemu-system-x86_64 -name ddvm-bench-native -machine q35 -accel "$(status_accel)" -m 512 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$(client_kernel)" -initrd "$d/native.initrd" \
		-append "$(_client_conf cmdline) ddvm.wait=1" -serial "file:$d/native.console" \
		-drive "file=$d/nvme.img,if=none,id=d0,format=raw" -device nvme,drive=d0,serial=bench \
		>"$d/native.qemu.log" 2>&1 &
	local q=$!
	wait_for "the native client to start fio" 120 grep -q '^BEGIN' "$d/native.console"
	start=$(ticks $q)
	wait_for "the native client's fio (console $d/native.console)" 600 grep -q '^RESULT done' "$d/native.console"
	cpu=$(( $(ticks $q) - start ))
	kill $q 2>/dev/null || true
	wait $q 2>/dev/null || true
	parse native "$1" "$d/native.console"
	echo -e "cpu\tnative\t$1\t$cpu" >>"$RES"
}

run_ddvm() {
	local start cpu sup q c con=$d/c1/console.log
	cat >"$d/ddvm.conf" <<CONF
vms = ( { name = "drv"; memory = 128;
  devices = ( { type = "nvme"; file = "$d/nvme.img"; export = false; } ); } );
clients = ( { name = "c1"; memory = 512; max_restarts = 0; disks = [ "drv/disk0" ];
  kernel = "$(client_kernel)"; initrd = "$d/ddvm.initrd";
  append = "$(_client_conf cmdline) ddvm.wait=120"; } );
CONF
	rm -f "$con"
	ddvm up -d "$d/ddvm.conf" >/dev/null || fail "ddvm up failed: $(tail -5 "$d/ddvm.log")"
	wait_for "the ddvm client to start fio" 180 grep -q '^BEGIN' "$con"
	sup=$(status_json | jq -r .supervisor_pid)
	q=$(status_json | jq -r '.vms[0].pid')
	c=$(status_json | jq -r '.clients[0].pid')
	start=$(ticks "$sup" "$q" "$c")
	wait_for "the ddvm client's fio (console $con)" 600 grep -q '^RESULT done' "$con"
	cpu=$(( $(ticks "$sup" "$q" "$c") - start ))
	parse ddvm "$1" "$con"
	echo -e "cpu\tddvm\t$1\t$cpu" >>"$RES"
	ddvm down >/dev/null
}
run_virtio() {
	local start cpu sup q c nb con=$d/v1/console.log
	cat >"$d/virtio.conf" <<CONF
vms = ( { name = "drv"; memory = 128;
  devices = ( { type = "nvme"; file = "$d/nvme.img"; } ); } );
clients = ( { name = "v1"; memory = 512; max_restarts = 0; virtio = true; disks = [ "drv/disk0" ];
  kernel = "$(client_kernel)"; initrd = "$d/virtio.initrd";
  append = "$(_client_conf cmdline) ddvm.wait=1"; } );
CONF
	rm -f "$con"
	ddvm up -d "$d/virtio.conf" >/dev/null || fail "ddvm up failed: $(tail -5 "$d/ddvm.log")"
	wait_for "the virtio client to start fio" 180 grep -q '^BEGIN' "$con"
	sup=$(status_json | jq -r .supervisor_pid)
	q=$(status_json | jq -r '.vms[0].pid')
	c=$(status_json | jq -r '.clients[0].pid')
	nb=$(status_json | jq -r '.vms[0].exports[0].frontend_pid')
	start=$(ticks "$sup" "$q" "$c" "$nb")
	wait_for "the virtio client's fio (console $con)" 600 grep -q '^RESULT done' "$con"
	cpu=$(( $(ticks "$sup" "$q" "$c" "$nb") - start ))
	parse virtio "$1" "$con"
	echo -e "cpu\tvirtio\t$1\t$cpu" >>"$RES"
	ddvm down >/dev/null
}
status_accel() { echo "${ACCEL_USED:-tcg}"; }
ACCEL_USED=$([ "${DDVM_ACCEL:-}" = kvm ] && echo kvm || echo tcg)

for r in $(seq 1 "$ROUNDS"); do
	case $((r % 3)) in
	1) run_native "$r"; run_ddvm "$r"; run_virtio "$r" ;;
	2) run_ddvm "$r"; run_virtio "$r"; run_native "$r" ;;
	0) run_virtio "$r"; run_native "$r"; run_ddvm "$r" ;;
	esac
done

echo
echo "client-VM block benchmark, $(date +%F), accelerator $ACCEL_USED, $(nproc) host CPUs, ${SECS}s per job, $ROUNDS round(s)"
awk -F'\t' -v hz="$hz" -v secs="$SECS" '
function med(list,   n, a, i, j, t) { n = split(list, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
$1 == "cpu" { cpu[$2] += $4 / hz; next }
{ k = $1 SUBSEP $3; mb[k] = mb[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6
  tot[$1] += $4 * secs / 1024; if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 } }
END {
	printf "| job | native MB/s | ddvm MB/s | virtio MB/s | ddvm / native | virtio / native | p50 µs native / ddvm / virtio | p99 µs native / ddvm / virtio |\n"
	printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= n; i++) { j = order[i]
		a = med(mb["native" SUBSEP j]); b = med(mb["ddvm" SUBSEP j]); v = med(mb["virtio" SUBSEP j])
		printf "| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %d / %d / %d | %d / %d / %d |\n", j, a, b, v,
			(a > 0 ? b / a : 0), (a > 0 ? v / a : 0),
			med(p50["native" SUBSEP j]), med(p50["ddvm" SUBSEP j]), med(p50["virtio" SUBSEP j]),
			med(p99["native" SUBSEP j]), med(p99["ddvm" SUBSEP j]), med(p99["virtio" SUBSEP j]) }
	cn = tot["native"] > 0 ? cpu["native"] / tot["native"] : 0
	cd = tot["ddvm"] > 0 ? cpu["ddvm"] / tot["ddvm"] : 0
	cv = tot["virtio"] > 0 ? cpu["virtio"] / tot["virtio"] : 0
	printf "| host CPU s/GiB (all jobs) | %.2f | %.2f | %.2f | %.2f | %.2f | | |\n", cn, cd, cv,
		(cn > 0 ? cd / cn : 0), (cn > 0 ? cv / cn : 0)
}' "$RES"
