#!/bin/bash
# The NBD front-end survives a hostile driver VM: for each kind of bad
# response (wrong id, duplicate, bad len/status/op, corrupt ring index,
# stall) exactly the affected requests fail with EIO, every other request
# returns the right data, nbdkit logs why and keeps answering.  Outages do
# not outlive the bad instance: after a corrupt ring index, and after
# impossible parameters at start, a restarted (healthy) driver VM is served
# by the same nbdkit.  No VM needed: tests/tools/ddvm-fake-vm plays the
# driver VM (SIGUSR1 restarts it healthy).
source "$(dirname "$0")/../lib/functions.sh"
source "$TOP/tests/tools/nbd-fake-lib.sh"
requires nbdkit qemu-io nbdinfo truncate
nbd_build
nbd_tmpdir

NREADS=9 EVERY=3 TIMEOUT=2

# Block i (4 KiB) of the disk holds byte i+1.
make_pattern() {
	local i
	for ((i = 0; i < NREADS; i++)); do
		head -c 4096 /dev/zero | tr '\0' "\\$(printf %03o $((i + 1)))"
	done >"$T/pattern.bin"
}

# Read every block with pattern check; print one word per read: ok, EIO or BAD.
read_blocks() {
	local cmds=() i
	for ((i = 0; i < NREADS; i++)); do
		cmds+=(-c "read -P $((i + 1)) $((i * 4096)) 4k")
	done
	timeout 60 qemu-io -f raw "${cmds[@]}" "$URI" 2>&1 | awk '
		/^read [0-9]+\/[0-9]+ bytes/ { printf "ok " }
		/^read failed: Input\/output error/ { printf "EIO " }
		/Pattern verification failed/ { printf "BAD " }
		/^read failed: / && !/Input\/output error/ { printf "ERR " }'
}

# run_mode MODE EXPECTED LOGRE: start both sides, check results and the log.
run_mode() {
	local mode=$1 expect=$2 logre=$3 got rc start=$SECONDS
	: >"$T/nbdkit.log"
	: >"$T/fake.log"
	fake_start 1M --evil "$mode" --every "$EVERY" --nslots 8
	dd if="$T/pattern.bin" of="$T/disk.img" conv=notrunc status=none
	nbdkit_start timeout="$TIMEOUT"
	got=$(read_blocks)
	[ "$got" = "$expect" ] || {
		sed 's/^/    nbdkit| /' "$T/nbdkit.log" | grep -v debug | tail -20
		fail "$mode: reads gave '$got', expected '$expect'"
	}
	grep -Eq "$logre" "$T/nbdkit.log" || fail "$mode: no log line matching '$logre'"
	nbdkit_alive || fail "$mode: nbdkit no longer answers"
	# A further request gets an answer (data or EIO), not a hang.
	rc=0
	timeout 20 qemu-io -f raw -c "read -P 1 0 4k" "$URI" >/dev/null 2>&1 || rc=$?
	[ "$rc" -ne 124 ] || fail "$mode: a later request hung"
	[ "$rc" -eq 0 ] || [ "$mode" = corrupt-index ] || fail "$mode: a later valid read failed"
	nbdkit_alive || fail "$mode: nbdkit died after further requests"
	nbd_stop
	note "$mode: $got($((SECONDS - start))s)"
}

make_pattern
AFFECTED="ok ok EIO ok ok EIO ok ok EIO "
run_mode bad-len    "$AFFECTED" 'bad response for read .* len 4608'
run_mode bad-status "$AFFECTED" 'bad response for read .* status 77'
run_mode bad-op     "$AFFECTED" 'bad response for read .* op 17'
run_mode wrong-id   "$AFFECTED" 'unknown, stale or duplicate id'
grep -q 'not answered in 2s' "$T/nbdkit.log" || fail "wrong-id: the lost requests did not time out"
run_mode stall      "$AFFECTED" 'read of 4096 bytes at 8192 not answered in 2s.*quarantined'
run_mode dup-id     "ok ok ok ok ok ok ok ok ok " 'unknown, stale or duplicate id'

# A corrupt ring index: what the bad instance held fails, later requests wait
# for another instance (and fail at their deadline meanwhile); once the
# driver VM is restarted, the same nbdkit serves every request again.
: >"$T/nbdkit.log"
: >"$T/fake.log"
fake_start 1M --evil corrupt-index --every 3 --nslots 8
dd if="$T/pattern.bin" of="$T/disk.img" conv=notrunc status=none
nbdkit_start timeout="$TIMEOUT"
got=$(read_blocks)
[ "$got" = "ok ok EIO EIO EIO EIO EIO EIO EIO " ] || fail "corrupt-index: reads gave '$got'"
grep -q 'impossible response ring index.*waiting for a restarted driver VM' "$T/nbdkit.log" ||
	fail "corrupt-index: no clear message"
nbdkit_alive || fail "corrupt-index: nbdkit no longer answers"
kill -USR1 "$(cat "$T/fake.pid")"
wait_for "the fake driver VM to restart" 10 grep -q 'restarted: peer' "$T/fake.log"
got=$(read_blocks)
[ "$got" = "ok ok ok ok ok ok ok ok ok " ] || {
	sed 's/^/    nbdkit| /' "$T/nbdkit.log" | grep -v debug | tail -20
	fail "corrupt-index: after a restart, reads gave '$got' (the outage outlived the bad instance)"
}
grep -q 'serves the queue again' "$T/nbdkit.log" || fail "corrupt-index: recovery not logged"
nbd_stop
note "corrupt-index: failed what it held, served again after a restart"

# A driver VM that publishes impossible parameters: nbdkit says so and waits
# (it used to exit); the restarted driver VM publishes sane ones and is served.
: >"$T/nbdkit.log"
: >"$T/fake.log"
fake_start 1M --lbs 512 --max-transfer 1000
dd if="$T/pattern.bin" of="$T/disk.img" conv=notrunc status=none
rm -f "$T/nbdkit.pid.tmp" "$NBD_SOCK"
nbdkit -f --exit-with-parent -U "$NBD_SOCK" -P "$T/nbdkit.pid.tmp" "$PLUGIN" \
	socket="$T/iv.sock" ready_timeout=5 2>>"$T/nbdkit.log" &
echo $! >"$T/nbdkit.pid"
wait_for "a clear message for impossible parameters" 10 \
	grep -q 'publishes impossible parameters.*waiting for a driver VM that does better' "$T/nbdkit.log"
# Watched past ready_timeout (5 s): bad parameters are waited out, not timed out.
watch_end=$((SECONDS + 7))
while [ "$SECONDS" -lt "$watch_end" ]; do
	kill -0 "$(cat "$T/nbdkit.pid")" 2>/dev/null || fail "nbdkit exited on impossible parameters"
	sleep 0.2
done
kill -USR1 "$(cat "$T/fake.pid")"
wait_for "nbdkit to serve the restarted driver VM" 15 test -s "$T/nbdkit.pid.tmp"
got=$(read_blocks)
[ "$got" = "ok ok ok ok ok ok ok ok ok " ] || fail "impossible parameters: after a restart, reads gave '$got'"
nbd_stop
note "impossible parameters: waited out, served after a restart"
echo "PASS: $TEST_NAME"
