#!/bin/bash
# One channel per client: a hostile client reaches nothing but its own queue.
# A driver VM serves two disks, each through a channel of its own.  A client
# admitted to disk1's channel only (allow_users on that device; it runs as
# another user) scribbles random bytes over its whole region and rings every
# doorbell it knows, in a loop, while disk0's client writes, reads back and
# compares through NBD without a single error; the same client, trying
# disk0's channel and the supervisor's control channel, is refused (and the
# refusal logged).  Then the driver VM is restarted: the supervisor writes
# every host-owned field of every channel again, so disk1 is served again.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/blk.sh"
requires jq qemu-system-x86_64 nbdkit qemu-io setpriv
new_rundir
d=$DDVM_RUNDIR
HOSTILE=$TOP/build/tools/ddvm-hostile-client
[ -x "$HOSTILE" ] || fail "build first: make all (no $HOSTILE)"
NOBODY=$(id -u nobody)

cat >"$d/iso.conf" <<EOF
vms = ( { name = "iso"; memory = 160; max_restarts = 5; fault_injection = true;
  devices = (
    { type = "nvme"; file = "$(blk_img iso 0)"; size = "32M"; create = true; },
    { type = "nvme"; file = "$(blk_img iso 1)"; size = "32M"; create = true;
      allow_users = [ "nobody" ]; }
  ); } );
EOF
ddvm up -d "$d/iso.conf" || fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"
blk_wait_ready iso 0
blk_wait_ready iso 1
chan0=$(vm_field iso '.exports[0].channel.socket')
chan1=$(vm_field iso '.exports[1].channel.socket')
[ "$chan0" != "$chan1" ] && [ -S "$chan0" ] && [ -S "$chan1" ] ||
	fail "no separate channel sockets: '$chan0' '$chan1'"
gen=$(vm_field iso .generation)
for s in "$chan0" "$chan1" "$d/iso/disk0.sock" "$d/iso/disk1.sock"; do
	[ "$(stat -c %a "$s")" = 600 ] || fail "$s is mode $(stat -c %a "$s"), not 600"
done

# Verified I/O on disk0 until told to stop: 64 KiB at rotating offsets, each
# written with its own pattern and read back with that pattern checked.
uri0=$(blk_uri iso 0)
: >"$d/io.log"
(
	i=0
	while [ ! -e "$d/stop" ]; do
		# (never 0xde: 64 bytes of it are fault injection's poison pill)
		p=$(((i % 200) + 1)) off=$(((i % 64) * 65536))
		if timeout 30 qemu-io -f raw -c "write -q -P $p $off 64k" -c "read -q -P $p $off 64k" \
			"$uri0" >>"$d/io.log" 2>&1; then
			echo ok >>"$d/io.count"
		else
			echo "round $i FAILED" >>"$d/io.log"
		fi
		i=$((i + 1))
	done
) &
io=$!
cleanup_fn "touch $d/stop; kill $io 2>/dev/null"
wait_for "verified I/O on disk0 under way" 30 test -s "$d/io.count"

# The hostile client, as nobody (past the 0700 folder with CAP_DAC_OVERRIDE,
# as a user given the path would be): other channels first, then 12 s of havoc.
(cd / && setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
	--inh-caps=+dac_override --ambient-caps=+dac_override \
	timeout 60 "$HOSTILE" --try "$chan0" --try "$d/iso/ivshmem.sock" \
	--socket "$chan1" --seconds 12) >"$d/hostile.out" 2>&1 || fail "hostile client: $(cat "$d/hostile.out")"
cat "$d/hostile.out" | sed 's/^/    hostile| /'
grep -q "^$chan0: refused" "$d/hostile.out" || fail "another client's channel was not refused"
grep -q "^$d/iso/ivshmem.sock: refused" "$d/hostile.out" || fail "the control channel was not refused"
grep -q "^$chan1: joined" "$d/hostile.out" || fail "the client did not get its own channel"
grep -Eq "scribbled [1-9][0-9]* times, rang [1-9][0-9]* doorbells" "$d/hostile.out" ||
	fail "the hostile client did nothing"
grep -q "$chan0: refused a connection from uid $NOBODY" "$d/ddvm.log" || fail "refusal on disk0's channel not logged"

n_before=$(wc -l <"$d/io.count")
more_io() { [ "$(wc -l <"$d/io.count")" -gt $((n_before + 2)) ]; }
wait_for "more verified I/O after the havoc" 30 more_io
touch "$d/stop"
wait "$io" 2>/dev/null || true
! grep -q FAILED "$d/io.log" || fail "verified I/O on disk0 failed: $(grep -m3 -B3 FAILED "$d/io.log")"
note "disk0: $(wc -l <"$d/io.count") verified write+read rounds, none failed"
[ "$(vm_field iso .restarts)" = 0 ] || fail "the driver VM restarted under the hostile client"
[ "$(vm_field iso '.exports[0].queue_state')" = ready ] || fail "disk0's queue is no longer ready"

# A restart heals disk1: its host-owned fields are written again before the start.
ddvm crash iso >/dev/null || fail "ddvm crash failed"
restarted() { [ "$(vm_field iso .generation)" -gt "$gen" ] && vm_state_is iso ready; }
wait_for "the driver VM to restart" 60 restarted
blk_wait_ready iso 1
out=$(timeout 60 qemu-io -f raw -c "write -q -P 0x42 0 64k" -c "read -q -P 0x42 0 64k" "$(blk_uri iso 1)" 2>&1) || {
	grep -v debug "$d/iso/disk1.log" | tail -8 | sed 's/^/    disk1| /'
	fail "disk1 not served after the restart: $out"
}
note "disk1 served again after a driver-VM restart"
echo "PASS: $TEST_NAME"
