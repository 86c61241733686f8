#!/bin/bash
# The NBD front-end survives a hostile driver VM: for each kind of bad
# response (wrong id, duplicate, bad len/status/op, corrupt ring index,
# stall) exactly the affected requests fail with EIO, every other request
# returns the right data, nbdkit logs why and keeps answering.  No VM needed:
# tests/tools/ddvm-fake-vm plays the driver VM.
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
run_mode corrupt-index "ok ok EIO EIO EIO EIO EIO EIO EIO " 'response ring is corrupt'
grep -q 'failing every request from now on' "$T/nbdkit.log" || fail "corrupt-index: no clear message"

# A driver VM that publishes impossible parameters is refused at start.
: >"$T/nbdkit.log"
fake_start 1M --lbs 512 --max-transfer 1000
if timeout 20 nbdkit -f -U "$NBD_SOCK" "$PLUGIN" socket="$T/iv.sock" ready_timeout=5 \
	2>"$T/nbdkit.log"; then
	fail "nbdkit started against impossible block parameters"
fi
grep -q 'impossible parameters' "$T/nbdkit.log" || fail "no clear message for impossible parameters"
nbd_stop
note "impossible parameters refused at start"
echo "PASS: $TEST_NAME"
