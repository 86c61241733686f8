#!/bin/bash
# An acknowledged flush (and an acknowledged FUA write) survives SIGKILL of
# the driver VM's QEMU: the data is in the backing file at once (QEMU's drive
# has no cache=unsafe, so a guest flush reaches the file).  The supervisor
# restarts the driver VM (generation bumped, ready again), the same nbdkit
# keeps serving the export, the data reads back through NBD, and a client
# connected across the crash carries on; requests in flight at a crash are
# resubmitted to the successor and complete (48 MiB written across 2 crashes).
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/blk.sh"
requires jq qemu-system-x86_64 nbdkit nbdinfo qemu-io cmp stdbuf
new_rundir
d=$DDVM_RUNDIR
blk_conf "$d/blk.conf" f 128 nvme:64M
ddvm up -d "$d/blk.conf" || fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"
blk_wait_ready f 0
uri=$(blk_uri f 0)
img=$(blk_img f 0)

# pattern BYTE LEN: LEN bytes of BYTE on stdout.
pattern() { head -c "$2" /dev/zero | tr '\0' "\\$(printf %03o "$1")"; }
file_has() { cmp -s <(dd if="$img" bs=1M skip="$1" count="$2" status=none) <(pattern "$3" $(($2 << 20))); }

out=$(timeout 60 qemu-io -f raw -c "write -q -P 0xab 0 8M" -c flush "$uri" 2>&1) || fail "write + flush failed: $out"
out=$(timeout 60 qemu-io -f raw -c "write -q -f -P 0xcd 8M 1M" "$uri" 2>&1) || fail "FUA write failed: $out"

# A client that stays connected across the crash: qemu-io reading commands
# from a FIFO.
mkfifo "$d/cmds"
stdbuf -oL qemu-io -f raw "$uri" <"$d/cmds" >"$d/client.out" 2>&1 &
client=$!
exec 7>"$d/cmds"
cleanup_fn "kill $client"
echo "read -P 0xab 0 64k" >&7
wait_for "the long-lived client's first read" 30 grep -q 'read 65536/65536' "$d/client.out"

gen=$(vm_field f .generation)
qpid=$(vm_field f .pid)
fe=$(vm_field f '.exports[0].frontend_pid')
[ "$qpid" -gt 0 ] && [ "$fe" != null ] || fail "no QEMU pid ($qpid) or nbdkit pid ($fe) in status"
kill -9 "$qpid"
wait_for "QEMU $qpid to die" 10 bash -c "! kill -0 $qpid 2>/dev/null"
t0=$SECONDS
file_has 0 8 0xab || fail "flushed data is not in the backing file after SIGKILL of QEMU"
file_has 8 1 0xcd || fail "FUA-written data is not in the backing file after SIGKILL of QEMU"
note "QEMU $qpid killed: flushed 8 MiB and FUA 1 MiB are in the backing file"

restarted() {
	vm_json f | jq -e --argjson g "$gen" --argjson p "$qpid" \
		'.state == "ready" and .generation > $g and .pid != $p and .pid > 0 and .restarts >= 1'
}
wait_for "the driver VM to be restarted (generation > $gen)" 60 restarted
blk_wait_ready f 0
note "restarted in $((SECONDS - t0))s: generation $gen -> $(vm_field f .generation), QEMU $(vm_field f .pid)"
[ "$(vm_field f '.exports[0].frontend_pid')" = "$fe" ] \
	|| fail "nbdkit was replaced ($fe -> $(vm_field f '.exports[0].frontend_pid')); expected the same one"
[ "$(vm_field f '.exports[0].restarts')" = 0 ] || fail "nbdkit restarted"

out=$(timeout 60 qemu-io -f raw -c "read -q -P 0xab 0 8M" -c "read -q -P 0xcd 8M 1M" \
	-c "write -q -P 0x11 16M 1M" -c flush -c "read -q -P 0x11 16M 1M" "$uri" 2>&1) ||
	fail "I/O through NBD after the restart failed: $out"
[ -z "$out" ] || fail "I/O through NBD after the restart reported: $out"

# The client connected before the crash still works.
echo "read -P 0xcd 8M 64k" >&7
echo "write -P 0x22 20M 64k" >&7
echo "read -P 0x22 20M 64k" >&7
exec 7>&-
wait "$client" || fail "the client connected across the crash failed: $(cat "$d/client.out")"
grep -qi 'fail\|error' "$d/client.out" && fail "the client connected across the crash saw: $(cat "$d/client.out")"
[ "$(grep -o 'read 65536/65536\|wrote 65536/65536' "$d/client.out" | wc -l)" = 4 ] \
	|| fail "the client connected across the crash: $(cat "$d/client.out")"
note "same nbdkit ($fe) serves the data after the restart; a client connected across it carries on"

# Requests in flight at a crash: 48 MiB of random data in 4 KiB requests (4
# connections x 16), QEMU killed under it.  Nothing fails, nothing is lost.
head -c 48M /dev/urandom >"$d/src.bin"
progress_at() { [ "$(tail -n 1 "$d/progress" | cut -d/ -f1)" -ge "$1" ] 2>/dev/null; }
for pct in 10 50; do
	gen=$(vm_field f .generation)
	qpid=$(vm_field f .pid)
	: >"$d/progress"
	timeout 90 nbdcopy --progress=3 --request-size=4096 --connections=4 --requests=16 \
		"$d/src.bin" "$uri" >"$d/copy.out" 2>&1 3>"$d/progress" &
	copy=$!
	wait_for "the copy to reach $pct %" 30 progress_at "$pct"
	kill -9 "$qpid"
	wait "$copy" || fail "nbdcopy across a driver VM crash failed: $(cat "$d/copy.out")"
	wait_for "the driver VM to be restarted (generation > $gen)" 60 restarted
	blk_wait_ready f 0
	rm -f "$d/back.bin"
	timeout 60 nbdcopy "$uri" "$d/back.bin" || fail "read back failed"
	cmp -s <(head -c 48M "$d/back.bin") "$d/src.bin" || fail "data written across a crash differs"
done
n=$(grep -c 'resubmitted for its successor' "$(vm_field f '.exports[0].log')" || true)
note "48 MiB in 4 KiB requests across 2 more crashes: intact ($n crash(es) found requests to resubmit)"
[ "$(vm_field f '.exports[0].frontend_pid')" = "$fe" ] || fail "nbdkit was replaced"

ddvm down || fail "ddvm down failed"
cmp -s <(head -c 48M "$img") "$d/src.bin" || fail "the backing file differs from the data written across crashes"
echo ok
