#!/bin/bash
# Block benchmark: one emulated nvme disk (one backing file, preconditioned
# with random data), driven four ways in one run:
#   ddvm       fio (nbd engine) on the host -> the NBD export of a driver VM
#              that owns the nvme (nbdkit + plugin -> channel -> ddvm_blk -> nvme)
#   in-vm-fio  the same fio job inside a driver VM on /dev/nvme0n1 itself
#              (libaio, O_DIRECT; export = false; bench image = the normal image
#              plus an initramfs overlay with the host's fio and its libraries
#              and bench/block-guest.sh, which runs it at boot; 512 MiB guest)
#   in-vm      bench/blkbench (static, O_DIRECT + Linux AIO) there instead: a
#              leaner in-VM client than fio
#   no-vm      fio (nbd engine) -> `nbdkit file` serving the backing file
# Jobs: 512 KiB sequential read / write at QD 1, 4 KiB random read / write
# at QD 1 and QD 32, each for SECONDS.  (512 KiB = the emulated nvme's max
# transfer: with 1 MiB O_DIRECT writes, which Linux splits into two nvme
# commands, QEMU 7.2's nvme under TCG lost a command after a few GiB and the
# in-VM run stalled in 30 s nvme timeouts; see docs/benchmarks.md.)  Per job:
# MB/s, IOPS, p50 / p99 latency, host CPU-seconds per GiB moved (utime+stime
# of every process involved: QEMU, nbdkit, the supervisor, fio).  Then the
# ratios ddvm / each other way, and (with perf) where the host CPU goes in
# the ddvm QD 32 random read job and where the driver VM's kernel spends its
# time in the ddvm jobs named by GUEST_PROFILE (perf inside the guest).
#   bench/block.sh [SECONDS]          (default 6; total ~9 min under TCG)
#   WAYS="ddvm in-vm-fio in-vm no-vm" which ways to run (default all four)
#   GUEST_ARGS="..."                   extra kernel args for the in-VM driver VMs
#   JOBS="NAME:rw:bs:qd ..."           other jobs (rw: read write randread randwrite)
#   GUEST_PROFILE="randread-qd1 seqread"  jobs to profile in the guest ("" = none)
#   NO_PERF=1                          no host profile
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-6}
SIZE_MB=256
TOP=$PWD
DDVM=$TOP/build/bin/ddvm
R=$(mktemp -d /tmp/ddvm-bblk.XXXXXX)
export DDVM_RUNDIR=$R/run
NBDKIT_PID=""
cleanup() {
	"$DDVM" down >/dev/null 2>&1 || true
	[ -z "$NBDKIT_PID" ] || kill "$NBDKIT_PID" 2>/dev/null || true
	[ -n "${KEEP_RUNDIR:-}" ] || rm -rf "$R"
}
trap cleanup EXIT
die() { echo "bench/block.sh: $*" >&2; exit 1; }
. bench/lib/bench-image.sh

for t in fio nbdkit jq gcc cpio gzip; do command -v $t >/dev/null || die "$t not found (scripts/install-deps.sh)"; done
fio --enghelp 2>/dev/null | grep -qw nbd || die "this fio has no nbd engine"
make -s >/dev/null
"$DDVM" image build >/dev/null
mkdir -p build/bench
gcc -static -O2 -Wall -Wextra -Werror -o build/bench/blkbench bench/blkbench.c

JOBS=${JOBS:-"seqread:read:524288:1 seqwrite:write:524288:1 randread-qd1:randread:4096:1
randwrite-qd1:randwrite:4096:1 randread-qd32:randread:4096:32 randwrite-qd32:randwrite:4096:32"}
IMG=$R/nvme.img
dd if=/dev/urandom of="$IMG" bs=1M count=$SIZE_MB status=none
HZ=$(getconf CLK_TCK)
RES=$R/results.tsv   # way job bytes ios usecs p50_us p99_us cpu_s
: >"$RES"

ticks() {  # utime+stime of the given pids (all threads), in ticks
	local p s=0
	for p in "$@"; do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo $s
}

# fio_job WAY URI SPEC PIDS...: one fio run against URI; CPU of PIDS + fio.
fio_job() {
	local way=$1 uri=$2 spec=$3 name rw bs qd c0 c1 j; shift 3
	IFS=: read -r name rw bs qd <<<"$spec"
	c0=$(ticks "$@")
	/usr/bin/time -f '%U %S' -o "$R/fio.time" fio --name="$name" --ioengine=nbd --uri="$uri" \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --time_based --runtime="$SECS" \
		--size=${SIZE_MB}M --randrepeat=0 --norandommap --output-format=json | sed -n '/^{/,$p' >"$R/fio.json"
	c1=$(ticks "$@")
	j=$(jq -r '.jobs[0] | (if .read.io_bytes > 0 then .read else .write end) |
		"\(.io_bytes) \(.total_ios) \(.runtime * 1000) \(.clat_ns.percentile["50.000000"] / 1000 | floor) \(.clat_ns.percentile["99.000000"] / 1000 | floor)"' "$R/fio.json")
	echo "$way $name $j $(awk -v t="$(cat "$R/fio.time")" -v c=$((c1 - c0)) -v hz="$HZ" \
		'BEGIN {split(t, a, " "); printf "%.3f", c / hz + a[1] + a[2]}')" >>"$RES"
	echo "  $way $name: $(tail -n 1 "$RES" | cut -d' ' -f3-)"
}

conf() {  # conf EXPORT(true|false) [MEMORY_MB]
	cat >"$R/blk.conf" <<EOF
vms = ( { name = "bench"; memory = ${2:-128}; max_restarts = 0;
  devices = ( { type = "nvme"; file = "$IMG"; serial = "ddvm-bench"; export = $1; } ); } );
EOF
}

ready() { "$DDVM" status --json | jq -e '.vms[0].exports[0] | .queue_state == "ready" and .state == "running"' >/dev/null; }

WAYS=${WAYS:-ddvm in-vm-fio in-vm no-vm}
want() { case " $WAYS " in *" $1 "*) return 0 ;; esac; return 1; }
accel=""
if want ddvm; then
# 1. ddvm: fio through the driver VM's NBD export.
echo "== ddvm (fio -> NBD export of a driver VM's nvme)"
conf true
"$DDVM" up -d "$R/blk.conf" >/dev/null
for _ in $(seq 1 300); do ready && break; sleep 0.2; done
ready || die "the export did not become ready"
st=$("$DDVM" status --json)
accel=$(echo "$st" | jq -r '.vms[0].accel')
uri=$(echo "$st" | jq -r '.vms[0].exports[0].nbd')
pids=("$(echo "$st" | jq -r '.vms[0].pid')" "$(echo "$st" | jq -r '.vms[0].exports[0].frontend_pid')"
	"$(echo "$st" | jq -r '.supervisor_pid')")
for spec in $JOBS; do fio_job ddvm "$uri" "$spec" "${pids[@]}"; done
if command -v perf >/dev/null && [ -z "${NO_PERF:-}" ]; then
	# Profile one more QD 32 random read run (not part of the numbers above).
	fio --name=perf --ioengine=nbd --uri="$uri" --rw=randread --bs=4096 --iodepth=32 \
		--time_based --runtime=$((SECS + 2)) --size=${SIZE_MB}M --output-format=json >/dev/null &
	fpid=$!
	perf record -q -e cpu-clock -F 499 -g -o "$R/perf.data" \
		-p "$(IFS=,; echo "${pids[*]},$fpid")" -- sleep "$SECS" >/dev/null 2>&1 || true
	wait $fpid
	perf report -i "$R/perf.data" --stdio --no-children --sort comm,dso 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -12 >"$R/perf.comm" || true
	perf report -i "$R/perf.data" --stdio --no-children --sort sym -g none 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -20 >"$R/perf.sym" || true
fi
"$DDVM" down >/dev/null
fi

# guest_profile: where the driver VM's kernel spends its time on the ddvm
# path.  The export's driver VM boots a bench image with perf (and its
# libraries) in the overlay; for each job named in GUEST_PROFILE the host's
# fio drives the export while perf, inside the guest, samples every CPU
# (cpu-clock) for SECONDS once it sees I/O; then the guest prints its report
# on the console.  Not part of the numbers above (perf perturbs the guest).
console_wait() {  # console_wait FILE LINE SECONDS
	local end=$((SECONDS + $3))
	while ! tr -d '\r' <"$1" | grep -qxF -- "$2"; do
		tr -d '\r' <"$1" | grep -a '^ddvm-bench: failed' && die "the driver VM's profiler failed"
		[ $SECONDS -lt $end ] || die "no '$2' from the driver VM within $3 s: $(tail -3 "$1")"
		sleep 0.1
	done
}
guest_profile() {
	local jobs="" spec name rw bs qd st uri con fpid
	for spec in $JOBS; do
		case " $GUEST_PROFILE " in *" ${spec%%:*} "*) jobs="$jobs,$spec" ;; esac
	done
	[ -n "$jobs" ] || return 0
	echo "== guest profile (perf inside the export's driver VM, ${SECS}s per job:${jobs//,/ })"
	rm -rf "$R/overlay"
	mkdir -p "$R/overlay/etc/ddvm"
	bench_copy_closure "$R/overlay" /usr/bin/perf
	install -m 755 bench/block-guest.sh "$R/overlay/etc/ddvm/bench.sh"
	bench_image build/image "$R/overlay" "$R/bench-image" "ddvm.bench=perf,/dev/nvme0n1,$SECS$jobs"
	conf true 512
	DDVM_IMAGE_DIR=$R/bench-image "$DDVM" up -d "$R/blk.conf" >/dev/null
	for _ in $(seq 1 300); do ready && break; sleep 0.2; done
	ready || die "the profiled export did not become ready"
	st=$("$DDVM" status --json)
	uri=$(echo "$st" | jq -r '.vms[0].exports[0].nbd')
	con=$(echo "$st" | jq -r '.vms[0].console_log')
	for spec in ${jobs//,/ }; do
		IFS=: read -r name rw bs qd <<<"$spec"
		fio --name="$name" --ioengine=nbd --uri="$uri" --rw="$rw" --bs="$bs" --iodepth="$qd" \
			--time_based --runtime=$((SECS + 120)) --size=${SIZE_MB}M --randrepeat=0 --norandommap \
			--output-format=json >/dev/null 2>&1 &
		fpid=$!
		console_wait "$con" "ddvm-bench: end $name" $((SECS + 100))
		kill "$fpid" 2>/dev/null || true
		wait "$fpid" 2>/dev/null || true
		console_wait "$con" "ddvm-bench: report $name" 300
		tr -d '\r' <"$con" | awk -v n="$name" '$0 == "ddvm-bench: end " n { on = 1; next }
			$0 == "ddvm-bench: report " n { on = 0 } on && sub(/^ddvm-perf: /, "")' >"$R/gprof.$name"
	done
	"$DDVM" down >/dev/null
}
GUEST_PROFILE=${GUEST_PROFILE-randread-qd1 seqread}
[ -x /usr/bin/perf ] || GUEST_PROFILE=""	# Debian's linux-perf
want ddvm && guest_profile

# in_vm WAY: the same jobs inside a driver VM on its own nvme.  WAY in-vm-fio
# runs the host's own fio binary (with its shared libraries, ~80 MB unpacked,
# hence more guest memory): the same fio job as the other ways, with libaio
# and O_DIRECT on the device.  WAY in-vm runs the lean static bench/blkbench
# (O_DIRECT + Linux AIO, no statistics machinery): a harder baseline for a
# client that is emulated instruction by instruction under TCG.
in_vm() {
local way=$1 mem=128 arg seen=0 end c j
if [ "$way" = in-vm-fio ]; then
	echo "== in-vm-fio (fio, libaio + O_DIRECT, inside the driver VM on /dev/nvme0n1)"
	mem=512
else
	echo "== in-vm (blkbench inside the driver VM on /dev/nvme0n1)"
fi
rm -rf "$R/overlay"
mkdir -p "$R/overlay/bin" "$R/overlay/etc/ddvm"
if [ "$way" = in-vm-fio ]; then
	bench_copy_closure "$R/overlay" /usr/bin/fio   # at its host path
	arg="fio,/dev/nvme0n1,$SECS,$SIZE_MB,$(echo $JOBS | tr ' ' ,)"
else
	cp build/bench/blkbench "$R/overlay/bin/blkbench"
	arg="blkbench,/dev/nvme0n1,$SECS,$(echo $JOBS | tr ' ' ,)"
fi
install -m 755 bench/block-guest.sh "$R/overlay/etc/ddvm/bench.sh"
bench_image build/image "$R/overlay" "$R/bench-image" ${GUEST_ARGS:-} "ddvm.bench=$arg"
conf false "$mem"
DDVM_IMAGE_DIR=$R/bench-image "$DDVM" up -d "$R/blk.conf" >/dev/null
st=$("$DDVM" status --json)
qpid=$(echo "$st" | jq -r '.vms[0].pid')
spid=$(echo "$st" | jq -r '.supervisor_pid')
con=$(echo "$st" | jq -r '.vms[0].console_log')
declare -A c0 cpu
end=$((SECONDS + 90 + 12 * SECS))
while [ $SECONDS -lt $end ]; do
	mapfile -t lines < <(grep -a '^ddvm-bench: ' "$con" | tr -d '\r' || true)
	while [ $seen -lt ${#lines[@]} ]; do
		set -- ${lines[$seen]}
		seen=$((seen + 1))
		case $2 in
		begin) c0[$3]=$(ticks "$qpid" "$spid") ;;
		end) cpu[$3]=$(($(ticks "$qpid" "$spid") - ${c0[$3]})) ;;
		failed) die "fio failed in the driver VM: ${lines[$((seen - 1))]}" ;;
		json)	# fio's report for job $3: the prefixed lines between "end" and "json"
			tr -d '\r' <"$con" | awk -v n="$3" '$0 == "ddvm-bench: end " n { on = 1; next }
				$0 == "ddvm-bench: json " n { on = 0 } on && sub(/^ddvm-fio: /, "")' >"$R/fio-in.json"
			j=$(jq -r '.jobs[0] | (if .read.io_bytes > 0 then .read else .write end) |
				"\(.io_bytes) \(.total_ios) \(.runtime * 1000) \(.clat_ns.percentile["50.000000"] / 1000 | floor) \(.clat_ns.percentile["99.000000"] / 1000 | floor)"' \
				"$R/fio-in.json") || die "cannot parse fio's report for $3 from the console"
			echo "$way $3 $j $(awk -v c="${cpu[$3]}" -v hz="$HZ" 'BEGIN {printf "%.3f", c / hz}')" >>"$RES"
			echo "  $way $3: $(tail -n 1 "$RES" | cut -d' ' -f3-)" ;;
		result)
			c=$(($(ticks "$qpid" "$spid") - ${c0[$3]}))
			echo "$way $3 $5 $7 $9 ${11} ${13} $(awk -v c=$c -v hz="$HZ" 'BEGIN {printf "%.3f", c / hz}')" >>"$RES"
			echo "  $way $3: $(tail -n 1 "$RES" | cut -d' ' -f3-)" ;;
		done) break 2 ;;
		esac
	done
	grep -aq 'blkbench' "$con" && ! grep -aq '^ddvm-bench: begin' "$con" && die "blkbench failed: $(grep -a blkbench "$con")"
	sleep 0.02   # poll the console for the next line
done
grep -aq '^ddvm-bench: done' "$con" || die "$way benchmark did not finish: $(tail -5 "$con")"
# A job that ran far past SECONDS hit a device stall (nvme timeout): say so.
awk -v s="$SECS" -v w="$way" '$1 == w && $5 > 2 * s * 1e6 {
	printf "WARNING: %s %s took %.0f s instead of %d: a device stall (nvme timeout?); its numbers are not valid\n", w, $2, $5 / 1e6, s }' "$RES" >&2
accel=$(echo "$st" | jq -r '.vms[0].accel')
"$DDVM" down >/dev/null
}
want in-vm-fio && in_vm in-vm-fio
want in-vm && in_vm in-vm

if want no-vm; then
# 3. no-vm: fio -> nbdkit's file plugin on the same backing file.
echo "== no-vm (fio -> nbdkit file plugin on the backing file)"
nbdkit -f -U "$R/file.sock" -P "$R/file.pid" file file="$IMG" &
NBDKIT_PID=$!
for _ in $(seq 1 100); do [ -s "$R/file.pid" ] && break; sleep 0.1; done
for spec in $JOBS; do fio_job no-vm "nbd+unix:///?socket=$R/file.sock" "$spec" "$NBDKIT_PID"; done
kill "$NBDKIT_PID"; wait "$NBDKIT_PID" 2>/dev/null || true; NBDKIT_PID=""
fi

# Report.
echo
echo "block benchmark, $(date +%F), accelerator $accel, $(nproc) host CPUs, ${SECS}s per job, nvme ${SIZE_MB} MiB"
awk -v date="$(date +%F)" -v accel="$accel" '
function mbs(w, j) { return b[w, j] / u[w, j] }            # bytes/us = MB/s
function iops(w, j) { return n[w, j] * 1e6 / u[w, j] }
function cpg(w, j) { return c[w, j] / (b[w, j] / 1073741824) }
function r(x, y) { return y > 0 ? sprintf("%.2f", x / y) : "-" }
{ w = $1; j = $2; if (!(j in seen)) { seen[j] = 1; order[++nj] = j }
  have[w] = 1; b[w, j] = $3; n[w, j] = $4; u[w, j] = $5; p50[w, j] = $6; p99[w, j] = $7; c[w, j] = $8 }
END {
  nw = split("ddvm in-vm-fio in-vm no-vm", ws, " ")
  printf "%-15s %-17s %9s %9s %9s %9s %11s\n", "job", "way", "MB/s", "IOPS", "p50 us", "p99 us", "CPU s/GiB"
  for (i = 1; i <= nj; i++) { j = order[i]
    for (k = 1; k <= nw; k++) { w = ws[k]; if (!((w, j) in u)) continue
      printf "%-15s %-17s %9.1f %9.0f %9d %9d %11.2f\n", j, w, mbs(w, j), iops(w, j), p50[w, j], p99[w, j], cpg(w, j) }
    for (k = 2; k <= nw; k++) { w = ws[k]; if (!(("ddvm", j) in u) || !((w, j) in u)) continue
      printf "%-15s %-17s %9s %9s %9s %9s %11s\n", "", "ddvm/" w, r(mbs("ddvm", j), mbs(w, j)), "",
        r(p50["ddvm", j], p50[w, j]), r(p99["ddvm", j], p99[w, j]), r(cpg("ddvm", j), cpg(w, j)) } }
  print ""
  print "Markdown (docs/benchmarks.md):"
  print "| job | way | MB/s | IOPS | p50 µs | p99 µs | host CPU s/GiB |"
  print "|---|---|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nj; i++) { j = order[i]
    for (k = 1; k <= nw; k++) { w = ws[k]; if (!((w, j) in u)) continue
      printf "| %s | %s | %.1f | %.0f | %d | %d | %.2f |\n", j, w, mbs(w, j), iops(w, j), p50[w, j], p99[w, j], cpg(w, j) }
    for (k = 2; k <= nw; k++) { w = ws[k]; if (!(("ddvm", j) in u) || !((w, j) in u)) continue
      printf "| %s | **ddvm / %s** | %s | | %s | %s | %s |\n", j, w, r(mbs("ddvm", j), mbs(w, j)),
        r(p50["ddvm", j], p50[w, j]), r(p99["ddvm", j], p99[w, j]), r(cpg("ddvm", j), cpg(w, j)) } }
}' "$RES"
for f in "$R"/gprof.*; do
	[ -s "$f" ] || continue
	echo
	echo "driver VM's kernel profile, ddvm ${f##*/gprof.} (perf in the guest, cpu-clock, all CPUs):"
	cat "$f"
done
if [ -s "$R/perf.comm" ]; then
	echo
	echo "host CPU profile, ddvm randread QD 32 (perf, cpu-clock; by process/thread and object):"
	cat "$R/perf.comm"
	echo "top symbols:"
	cat "$R/perf.sym"
fi
