#!/bin/bash
# A driver VM that spins its response producer index -- a garbage response
# (an id nobody uses) in every slot the client frees, the moment it frees
# it, for ever -- cannot stall a client past its deadline: libddvm takes at
# most twice the ring's slots per pass, rings itself for the rest and
# expires deadlines in between, so the request the driver VM swallowed
# fails with EIO within its timeout (2 s) plus slack, later requests are
# answered (EIO, at their deadline) rather than hanging, nbdkit stays
# alive, its log says why in a bounded number of lines, and a restarted
# (healthy) driver VM is served again by the same nbdkit.  No VM needed:
# tests/tools/ddvm-fake-vm --evil spin plays the driver VM.
source "$(dirname "$0")/../lib/functions.sh"
source "$TOP/tests/tools/nbd-fake-lib.sh"
requires nbdkit qemu-io nbdinfo truncate
nbd_build
nbd_tmpdir

TIMEOUT=2 SLACK=6

fake_start 1M --evil spin --every 2 --nslots 8
nbdkit_start timeout="$TIMEOUT"

# The first read is answered; the second one sets the driver VM spinning.
start=$SECONDS
out=$(timeout 60 qemu-io -f raw -c "read 0 4k" -c "read 4096 4k" -c "read 8192 4k" "$URI" 2>&1) ||
	true
took=$((SECONDS - start))
echo "$out" | sed 's/^/    qemu-io| /'
[ "$took" -lt 60 ] || fail "the reads hung behind the spinning driver VM"
echo "$out" | grep -q '^read 4096/4096 bytes at offset 0' || fail "the read before the spin failed"
echo "$out" | grep -q 'read failed: Input/output error' || fail "the swallowed read did not fail with EIO"
# Two reads fail at their deadline each (sequential): within 2 x (timeout + slack).
[ "$took" -le $((2 * (TIMEOUT + SLACK))) ] ||
	fail "the reads took ${took}s, past their deadlines (${TIMEOUT}s each + ${SLACK}s slack)"
grep -q 'fake-vm: evil spin' "$T/fake.log" || fail "the fake driver VM never spun"
grep -q 'not answered in 2s' "$T/nbdkit.log" || fail "nbdkit did not time the swallowed read out"
nbdkit_alive || fail "nbdkit no longer answers while the driver VM spins"

# Logging stays bounded: the stale-response lines are rate-limited by time.
n=$(grep -c 'stale or duplicate id' "$T/nbdkit.log" || true)
note "spun for ${took}s: $n stale-response log lines"
[ "$n" -le 20 ] || fail "$n stale-response log lines: not rate-limited"

# A healthy successor is served by the same nbdkit.
kill -USR1 "$(cat "$T/fake.pid")"
wait_for "the healthy driver VM to serve a read" 30 \
	bash -c "timeout 20 qemu-io -f raw -c 'read 0 4k' '$URI' | grep -q '^read 4096/4096'"
nbdkit_alive || fail "nbdkit died"
note "healthy again after a restart (${took}s of spinning, reads failed at their deadline)"
