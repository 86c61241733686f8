#!/bin/bash
# Fault-injection campaign: N rounds; each picks a fault at random (seeded:
# the seed is printed, SEED=... repeats a campaign) and injects it with
# `ddvm inject` into a driver VM serving a verified workload:
#
#   block  fio through the NBD export of an nvme disk: random writes of
#          4-64 KiB at queue depth 8 over the round's own 4 MiB (16 MiB of
#          writes, so blocks are overwritten), crc32c verify headers, then
#          every acknowledged write read back and checked (fio's verify:
#          a write that failed is not checked, one acknowledged is)
#   net    a checksummed TCP stream (tests/lib/tcpstream.py, 6 MiB, paced)
#          from a client namespace through ddvm-tap and the driver VM's
#          e1000 to a remote namespace on the NIC's wire; link-local
#          addresses only
#   storm  a small second disk, the driver VM's last channel: the storm's own
#
# The fault lands at a random point of the writes (after a seeded random
# amount of them reached the disk).  Per round it measures recovery (the
# fault until the first client request completed after it: a 4 KiB NBD read
# outside fio's area, a ping through the TAP for `link`) and counts:
# injections by kind; acknowledged writes lost (a verify read finds zeros
# or older data); reads that returned wrong data (another block's, or a bad
# checksum); host-side process crashes (the supervisor, nbdkit, ddvm-tap:
# a front-end whose pid changed, or any of them gone); driver-VM restarts;
# client-visible errors by kind (EIO on writes/reads: expected from poison
# and ioerr, counted as unexpected otherwise; a TCP stream that broke or
# whose checksum differs).  A poison pill or an oops armed after fio's last
# request (both strike the next block request) is taken by a 4 KiB write
# of its own.  Prints (bench/campaign-report.sh, from
# the round lines) a table, recovery p50/p99/max per kind,
# and last:
#   N injections, L lost writes, W wrong reads, C host crashes
# Exit 0 iff no write was lost, no read wrong, no host process crashed and
# no unexpected client error occurred.  Root, under KVM or TCG.
#
#   bench/campaign.sh [N]        default 1000 (hours under TCG)
#   SEED=n                       the seed (default: random)
#   FAULTS="kill panic ..."      the faults to draw from (default: all eight)
#   ORDER=cycle                  take them in turn instead (tests: each fault once)
#   LEAD_KIB=n                   the fault lands after n KiB more written (default: random,
#                                64-1087; past fio's 16 MiB: once its writes are done)
#   FROM=k                       resume a campaign that stopped (SEED= its seed): rounds
#                                before k are drawn, not run; bench/campaign-report.sh
#                                sums the outputs of both parts
#   OUT=DIR                      where round logs go (default: the run folder, removed
#                                at the end unless KEEP_RUNDIR=1)
#   DDVM_IMAGE_DIR, DDVM_BIN, DDVM_NBDKIT_PLUGIN, DDVM_TAP_BIN: a snapshot to run
#                                (the image is then used as it is, not rebuilt)
set -eu
cd "$(dirname "$0")/.."
. tests/lib/functions.sh
TEST_NAME=campaign
requires fio jq ip ping qemu-io nbdkit nbdinfo qemu-system-x86_64
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
PY=/usr/bin/python3
[ -x "$PY" ] || fail "needs $PY"
N=${1:-1000}
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] || fail "usage: bench/campaign.sh [N]"
FROM=${FROM:-1}
[[ $FROM =~ ^[0-9]+$ ]] && [ "$FROM" -ge 1 ] && [ "$FROM" -le "$N" ] || fail "FROM=$FROM: a round from 1 to $N"
FAULTS=(${FAULTS:-kill panic hang oops poison ioerr link storm})
SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
RANDOM=$SEED
[ -x "$DDVM_BIN" ] || make -s >/dev/null
# DDVM_IMAGE_DIR given: that image as it is (a long campaign runs on a snapshot,
# with DDVM_BIN, DDVM_NBDKIT_PLUGIN and DDVM_TAP_BIN, while the tree changes).
[ -n "${DDVM_IMAGE_DIR:-}" ] || ddvm image build >/dev/null
new_rundir
R=$DDVM_RUNDIR
OUT=${OUT:-$R}
mkdir -p "$OUT"
now_ms() { date +%s%3N; }

# --- the driver VM and the namespaces ---------------------------------------------------
NET=$((100 + $$ % 150))
WIRE=cw$$ FE=cf$$ NSC=ddvm-cc-$$ NSR=ddvm-cr-$$
IPC=169.254.$NET.1 IPR=169.254.$NET.2
net_down() {
	ip netns del "$NSC" 2>/dev/null || true
	ip -n "$NSR" link del "$WIRE" 2>/dev/null || true
	ip netns del "$NSR" 2>/dev/null || true
	ip link del "$WIRE" 2>/dev/null || true
	ip link del "$FE" 2>/dev/null || true
}
cleanup_fn net_down
cleanup_fn 'kill $(jobs -p) 2>/dev/null || true'
cat >"$R/campaign.conf" <<CONF
vms = ( { name = "cmp"; memory = 192; max_restarts = 100; fault_injection = true;
  devices = (
    { type = "nvme"; file = "$R/fio.img"; size = "64M"; create = true; },
    { type = "e1000"; net = "tap:$WIRE"; tap = "$FE"; },
    { type = "nvme"; file = "$R/storm.img"; size = "8M"; create = true; }
  ); } );
CONF
ip tuntap add "$WIRE" mode tap || fail "cannot create wire TAP $WIRE"
ip netns add "$NSR" && ip netns add "$NSC" || fail "cannot create namespaces"
ddvm up -d "$R/campaign.conf" >"$R/up.out" 2>&1 || fail "ddvm up failed: $(cat "$R/up.out")"
inC() { ip netns exec "$NSC" "$@"; }
inR() { ip netns exec "$NSR" "$@"; }
ip link set "$WIRE" netns "$NSR"
inR ip link set lo up
inR ip addr add "$IPR/16" dev "$WIRE"
inR ip link set "$WIRE" up
wait_for "front-end TAP $FE" 60 ip link show "$FE"
ip link set "$FE" netns "$NSC"
inC ip link set lo up
inC ip addr add "$IPC/16" dev "$FE"
inC ip link set "$FE" up
carrier() { [ "$(inC cat "/sys/class/net/$FE/carrier" 2>/dev/null)" = 1 ]; }
wait_for "carrier on $FE" 60 carrier
export_field() { vm_json cmp | jq -r --argjson i "$1" ".exports[$1]$2"; }
URI=$(export_field 0 .nbd)
wait_for "the NBD export" 60 nbdinfo --size "$URI"
wait_for "ping through the TAP" 60 inC ping -c 1 -W 1 "$IPR"
SV_PID=$(status_json | jq -r .supervisor_pid)
accel=$(vm_field cmp .accel)
# say LINE: to stdout and to what bench/campaign-report.sh makes the report of
say() { printf '%s\n' "$*" | tee -a "$R/campaign.out"; }
say "campaign: $N injections, seed $SEED, faults ${FAULTS[*]}, accelerator $accel, $(nproc) CPUs"

# --- rounds: each prints a line; campaign-report.sh counts them --------------------------
fe_pids() { status_json | jq -r '[.vms[0].exports[].frontend_pid] | map(tostring) | join(" ")'; }
FE_PIDS=$(fe_pids)
qemu_wchar() { awk '$1 == "wchar:" {print $2}' "/proc/$1/io" 2>/dev/null || echo 0; }
probe_io() { timeout 20 qemu-io -f raw -c "read 62M 4k" "$URI" 2>/dev/null | grep -q '^read 4096/4096'; }
probe_net() { inC ping -c 1 -W 1 "$IPR" >/dev/null 2>&1; }
host_alive() {
	kill -0 "$SV_PID" 2>/dev/null || return 1
	local p
	for p in $FE_PIDS; do kill -0 "$p" 2>/dev/null || return 1; done
}

# check_fio LOG: lost writes and wrong reads in a fio log (distinct offsets).
fio_counts() {
	local log=$1
	L=$(grep -E 'verify: bad (magic header 0,|header rand_seed|header numberio)' "$log" |
		grep -oE 'requested block: offset=[0-9]+' | sort -u | wc -l)
	W=$(grep -E 'verify' "$log" | grep -vE 'bad (magic header 0,|header rand_seed|header numberio)' |
		grep -oE 'requested block: offset=[0-9]+' | sort -u | wc -l)
	WE=$(grep -cE 'Input/output error: write' "$log" || true)
	RE=$(grep -cE 'Input/output error: read' "$log" || true)
}

# draw(): the next round's fault and lead from the seeded sequence (a resumed
# campaign draws the rounds it skips, so round k gets the fault it had).
draw() {
	if [ "${ORDER:-random}" = cycle ]; then
		kind=${FAULTS[(i - 1) % ${#FAULTS[@]}]}
	else
		kind=${FAULTS[RANDOM % ${#FAULTS[@]}]}
	fi
	lead_kib=$((64 + RANDOM % 1024))	# the fault lands after this much more written
	lead_kib=${LEAD_KIB:-$lead_kib}
}
for ((i = 1; i < FROM; i++)); do draw; done
[ "$FROM" = 1 ] || echo "campaign: resumed at round $FROM"
for ((i = FROM; i <= N; i++)); do
	draw
	gen0=$(vm_field cmp .generation)
	qpid=$(vm_field cmp .pid)
	off=$(( (i % 12) * 4 ))
	log=$OUT/round-$i-$kind
	# the workload: fio (block) and a TCP stream (net)
	rm -f "$log.sink" "$log.sink.listening"
	inR "$PY" tests/lib/tcpstream.py sink "$IPR" "$log.sink" >/dev/null 2>&1 &
	sink=$!
	wait_for "TCP sink listening" 30 test -e "$log.sink.listening"
	inC "$PY" tests/lib/tcpstream.py source "$IPR" 6 "$((SEED * 1000 + i))" 0.4 >"$log.source" 2>&1 &
	src=$!
	fio --name="r$i" --ioengine=nbd --uri="$URI" --rw=randwrite --bsrange=4k-64k --iodepth=8 \
		--size=4M --offset="${off}M" --io_size=16M --verify=crc32c --do_verify=1 \
		--verify_fatal=0 --verify_state_save=0 --continue_on_error=all --error_dump=1 \
		--randseed=$((SEED + i)) \
		--output-format=json --output="$log.json" >"$log.fio" 2>&1 &
	fpid=$!
	w0=$(qemu_wchar "$qpid")
	wrote() { [ $(($(qemu_wchar "$qpid") - w0)) -ge $((lead_kib * 1024)) ] || ! kill -0 "$fpid" 2>/dev/null; }
	wait_for "fio writing through the driver VM" 60 wrote
	t0=$(now_ms)
	ddvm inject cmp "$kind" >"$log.inject" 2>&1 || {
		say "round $i: inject $kind failed: $(cat "$log.inject")"
	}
	# recovery: the first client request completed after the fault
	case $kind in
	kill | panic | hang | oops | poison) restart=1 ;;
	*) restart=0 ;;
	esac
	t1= poked=
	while [ -z "$t1" ]; do
		[ $(($(now_ms) - t0)) -lt 180000 ] || { say "round $i: $kind: no recovery in 180 s"; break; }
		host_alive || break
		if { [ "$kind" = poison ] || [ "$kind" = oops ]; } && [ -z "$poked" ] &&
			! kill -0 "$fpid" 2>/dev/null &&
			[ "$(vm_field cmp .generation 2>/dev/null || echo "$gen0")" -le "$gen0" ]; then
			# fio sent its last before the fault was armed: the next request is
			# ours (outside fio's area) -- for poison the one that must fail,
			# for oops one the restart must carry through
			poked=1
			timeout 150 qemu-io -f raw -c "write -P 0x5a 61M 4k" "$URI" >"$log.poke" 2>&1 &
			poke=$!
		fi
		if [ "$restart" = 1 ] && [ "$(vm_field cmp .generation 2>/dev/null || echo "$gen0")" -le "$gen0" ]; then
			continue	# (the status query paces this loop)
		fi
		if [ "$kind" = link ]; then probe_net && t1=$(now_ms); else probe_io && t1=$(now_ms); fi
	done
	# the round's end: fio verified, the stream complete
	# (a job bash already reaped, after a round that ran out of time, is "not a child": fine)
	wait "$fpid" 2>/dev/null || true
	wait "$src" 2>/dev/null || true
	wait "$sink" 2>/dev/null || true
	fio_counts "$log.fio"
	if [ -n "$poked" ]; then
		wait "$poke" || true
		if [ "$kind" = poison ]; then	# the pill's EIO: expected, one
			! grep -q 'Input/output error' "$log.poke" || WE=$((WE + 1))
		else	# carried through the restart, or an error the round reports
			grep -q '^wrote 4096/4096' "$log.poke" || WE=$((WE + 1))
		fi
	fi
	s_src=$(awk '{print $1}' "$log.source" 2>/dev/null) s_sink=$(awk '{print $1}' "$log.sink" 2>/dev/null)
	tcp=ok
	if [ -z "$s_src" ] || [ "$s_src" != "$s_sink" ]; then tcp=BROKEN; fi
	printf 'round %d/%d %-6s recovery %6s ms  fio: %d lost, %d wrong, %d write EIO, %d read EIO  tcp %s  gen %s -> %s\n' \
		"$i" "$N" "$kind" "${t1:+$((t1 - t0))}" "$L" "$W" "$WE" "$RE" "$tcp" "$gen0" \
		"$(vm_field cmp .generation 2>/dev/null || echo '?')" | tee -a "$R/campaign.out"
	if ! host_alive; then
		say "round $i: a host process died (supervisor $SV_PID, front-ends $FE_PIDS -> $(fe_pids 2>/dev/null))"
		kill -0 "$SV_PID" 2>/dev/null || break
		FE_PIDS=$(fe_pids)
	fi
	[ "$OUT" != "$R" ] || [ "$L$W" != 00 ] || rm -f "$log".*
	# the driver VM is serving again before the next round
	wait_for "driver VM ready after round $i" 180 vm_state_is cmp ready
	wait_for "NBD export answering after round $i" 120 probe_io
done
# --- report: the same as for a campaign run in parts ------------------------------------
echo
rc=0
bench/campaign-report.sh "$R/campaign.out" || rc=$?
exit "$rc"
