#!/bin/bash
# Recovery benchmark: what a block client sees when its driver VM dies.
#
# One driver VM owns an nvme disk exported over NBD (fault_injection = true).
# fio on the host writes 4 KiB blocks at QD 1 through the export for a few
# seconds; LEAD seconds after its writes reach the disk the driver VM is killed, one way
# per round:
#   kill    SIGKILL to its QEMU (the supervisor sees the process exit)
#   panic   `ddvm crash`: the guest kernel panics (pvpanic -> the supervisor)
# The same nbdkit stays connected and resubmits what the dead driver VM had
# taken, so fio sees no error, only one slow request.  Per round:
#   stall     fio's longest completion latency = crash -> the first request
#             completed after it (QD 1: the request in flight at the crash)
#   ready     crash -> the supervisor reports the driver VM ready again (new
#             generation), polled every 20 ms
#   boot      the same driver VM's cold `ddvm up -d` time, for comparison
#   outage    (network, as root) the longest gap between replies of a ping
#             every 10 ms through ddvm-tap and a driver VM's NIC (NET_MODEL, default e1000), across
#             the same two crashes (namespaces and link-local addresses
#             only, as in tests/lib/netvm.sh; NO_NET=1 skips it)
# Each round starts a fresh supervisor and driver VM, so each crash hits a
# healthy driver VM (a first restart: no backoff).
# fio must finish without an error in every round, and 16 MiB written with
# fio's crc32c verify headers before a last crash must verify after it.
#   bench/recovery.sh [ROUNDS]          (default 3 per way; ~2 min under TCG)
#   LEAD=1 RUN=10                       s of writes before the crash; s per fio run
set -eu
cd "$(dirname "$0")/.."
. tests/lib/functions.sh
. tests/lib/blk.sh
requires fio jq
ROUNDS=${1:-3}
LEAD=${LEAD:-1}		# seconds of steady writes before each crash
RUN=${RUN:-10}		# seconds per fio run (the crash and the recovery fit in it)
make -s >/dev/null
ddvm image build >/dev/null
new_rundir
R=$DDVM_RUNDIR
cleanup_fn 'ddvm down >/dev/null 2>&1 || true'
now_ms() { date +%s%3N; }
wchar() { awk '$1 == "wchar:" {print $2}' "/proc/$1/io"; }
blk_conf "$R/rec.conf" rec 128 nvme:64M
sed -i 's/max_restarts = 5;/max_restarts = 3; fault_injection = true;/' "$R/rec.conf"
grep -q 'fault_injection = true' "$R/rec.conf" || fail "could not write the config"

# up: a fresh supervisor and driver VM per round, so every crash hits a
# driver VM that was healthy (no restart row, no backoff: restart_policy.h).
up() {
	local t0
	t0=$(now_ms)
	ddvm up -d "$R/rec.conf" >/dev/null 2>"$R/up.err" || fail "ddvm up failed: $(cat "$R/up.err")"
	blk_wait_ready rec 0
	boots="${boots:-} $(($(now_ms) - t0))"
	accel=$(vm_field rec .accel)
	uri=$(blk_uri rec 0)
}

declare -A stall ready
for way in kill panic; do
	for i in $(seq 1 "$ROUNDS"); do
		up
		gen=$(vm_field rec .generation)
		pid=$(vm_field rec .pid)
		fio --name=rec --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4096 --iodepth=1 \
			--time_based --runtime="$RUN" --size=64M --offset="$(( (i - 1) * 4 ))M" \
			--output-format=json --output="$R/fio.json" >"$R/fio.err" 2>&1 &
		fpid=$!
		# fio is writing once QEMU has written 1 MiB more to the backing file
		w0=$(wchar "$pid")
		moved() { [ $(($(wchar "$pid") - w0)) -gt 1048576 ]; }
		wait_for "fio writing through the driver VM" 60 moved
		sleep "$LEAD"	# the schedule of the experiment: crash LEAD s into the writes
		tc=$(now_ms)
		case $way in
		kill) kill -9 "$pid" ;;
		panic) ddvm crash rec >/dev/null ;;
		esac
		back() { [ "$(vm_field rec .generation)" -gt "$gen" ] && vm_state_is rec ready; }
		while ! back; do
			[ $(($(now_ms) - tc)) -lt $((BOOT_SECS * 1000)) ] || fail "$way round $i: not ready again within $BOOT_SECS s"
			sleep 0.02
		done
		ready[$way]="${ready[$way]:-} $(($(now_ms) - tc))"
		wait "$fpid" || fail "$way round $i: fio failed across the crash: $(tail -3 "$R/fio.err")"
		e=$(jq '.jobs[0].error' "$R/fio.json")
		[ "$e" = 0 ] || fail "$way round $i: fio error $e"
		s=$(jq '.jobs[0].write.clat_ns.max / 1000000 | floor' "$R/fio.json")
		stall[$way]="${stall[$way]:-} $s"
		echo "  $way round $i: stall ${s} ms, ready after $(echo ${ready[$way]} | awk '{print $NF}') ms"
		[ "$(vm_field rec .restarts_in_a_row)" = 1 ] || fail "$way round $i: not a first restart"
		ddvm down >/dev/null
	done
done

# Data written before a crash reads back intact after it.
up
fio --name=rec --ioengine=nbd --uri="$uri" --rw=write --bs=64k --size=16M --verify=crc32c --verify_state_save=0 \
	--do_verify=1 --output-format=json --output="$R/verify.json" >"$R/fio.err" 2>&1 ||
	fail "verify write failed: $(tail -3 "$R/fio.err")"
ddvm crash rec >/dev/null
back() { [ "$(vm_field rec .state)" = ready ] && [ "$(vm_field rec .restarts)" -ge 1 ]; }
wait_for "ready after the last crash" "$BOOT_SECS" back
fio --name=rec --ioengine=nbd --uri="$uri" --rw=read --bs=64k --size=16M --verify=crc32c --verify_state_save=0 \
	--verify_only=1 --output-format=json --output="$R/verify2.json" >"$R/fio.err" 2>&1 ||
	fail "data written before a crash did not verify after it: $(tail -3 "$R/fio.err")"

ddvm down >/dev/null

# Network: the outage a host seeing through ddvm-tap gets from the same two
# crashes of a driver VM that owns an e1000: the longest gap between ping
# replies (ping every 10 ms, client namespace -> remote namespace, link-local).
declare -A outage
if [ "$(id -u)" = 0 ] && [ -z "${NO_NET:-}" ]; then
	. tests/lib/netvm.sh
	netvm_init 92
	cleanup_fn netvm_down
	cleanup_fn '[ -z "${ppid:-}" ] || kill "$ppid" 2>/dev/null || true'
	replies() { grep -c 'bytes from' "$R/ping.out" 2>/dev/null || echo 0; }
	for way in kill panic; do
		for i in $(seq 1 "$ROUNDS"); do
			netvm_up "${NET_MODEL:-e1000}" "max_restarts = 3; fault_injection = true;"
			gen=$(vm_field nv .generation)
			ip netns exec "$NV_NSC" stdbuf -oL ping -D -i 0.01 -W 1 "$NV_IPR" >"$R/ping.out" 2>&1 &	# exec chain: $! is ping
			ppid=$!
			some() { [ "$(replies)" -ge 50 ]; }
			wait_for "ping replies before the crash" 30 some
			n0=$(replies)
			case $way in
			kill) kill -9 "$(vm_field nv .pid)" ;;
			panic) ddvm crash nv >/dev/null ;;
			esac
			more() { [ "$(vm_field nv .generation)" -gt "$gen" ] && [ "$(replies)" -ge $((n0 + 50)) ]; }
			wait_for "ping replies after the restart" "$BOOT_SECS" more
			kill "$ppid"
			wait "$ppid" 2>/dev/null || true
			ppid=
			o=$(sed -n 's/^\[\([0-9.]*\)\].*bytes from.*/\1/p' "$R/ping.out" |
				awk 'NR > 1 && ($1 - p) * 1000 > m { m = ($1 - p) * 1000 } { p = $1 } END { printf "%d", m }')
			outage[$way]="${outage[$way]:-} $o"
			echo "  net $way round $i: longest gap between ping replies $o ms"
			netvm_down
		done
	done
fi

med() { printf '%s\n' $1 | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo
echo "recovery benchmark, $(date +%F), accelerator $accel, $(nproc) host CPUs, $ROUNDS rounds per way"
boot=$(med "$boots")
printf '%-8s %14s %14s %14s   %s\n' way "stall p50 ms" "ready p50 ms" "boot p50 ms" "all stalls (ms)"
for way in kill panic; do
	printf '%-8s %14s %14s %14s   %s\n' "$way" "$(med "${stall[$way]}")" "$(med "${ready[$way]}")" "$boot" "${stall[$way]# }"
done
if [ -n "${outage[kill]:-}" ]; then
	printf '%-8s %14s   %s\n' "net way" "outage p50 ms" "all (ms): longest gap between ping replies"
	for way in kill panic; do
		printf '%-8s %14s   %s\n' "$way" "$(med "${outage[$way]}")" "${outage[$way]# }"
	done
fi
echo
echo "Markdown (docs/benchmarks.md):"
for way in kill panic; do
	echo "| $(date +%F) | $accel | $way | $(med "${stall[$way]}") | $(med "${ready[$way]}") | $boot |" \
		"${outage[$way]:+$(med "${outage[$way]}") |}"
done
