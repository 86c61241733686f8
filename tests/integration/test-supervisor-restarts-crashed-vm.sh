#!/bin/bash
# A driver VM whose QEMU dies is restarted on the same region: at once the
# first time (it had been healthy), after a backoff when it keeps failing; the
# driver VM bumps the generation, status counts the restarts, it is ready
# again and answers.  After max_restarts restarts in a row the supervisor
# gives up with an error that says so, and `ddvm down` still works.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
conf=$DDVM_RUNDIR/restarts.conf
sed 's/max_restarts *= *[0-9]*;/max_restarts = 2;/' "$(demo_config)" >"$conf"
grep -q 'max_restarts = 2;' "$conf" || fail "could not set max_restarts"
log=$DDVM_RUNDIR/ddvm.log

ddvm up -d "$conf" || fail "ddvm up -d failed"
crash_and_back() {  # crash_and_back N: kill QEMU, wait for restart N to be ready
	local gen pid
	gen=$(vm_field demo .generation)
	pid=$(vm_field demo .pid)
	[ "$pid" -gt 1 ] || fail "no qemu pid in status"
	kill -9 "$pid"
	gen_bumped() { [ "$(vm_field demo .generation)" -gt "$gen" ] && vm_state_is demo ready; }
	wait_for "restarted driver VM ready with generation > $gen" "$BOOT_SECS" gen_bumped
	[ "$(vm_field demo .restarts)" = "$1" ] || fail "restarts = $(vm_field demo .restarts), expected $1"
	[ "$(vm_field demo .restarts_in_a_row)" = "$1" ] || fail "restarts_in_a_row is not $1"
	[ "$(vm_field demo .pid)" != "$pid" ] || fail "same qemu pid after restart"
	ddvm ping demo -n 5 --json >/dev/null || fail "ping after restart $1 failed"
}
crash_and_back 1
grep -q "vm 'demo': QEMU was killed by signal 9.*; restarting now (restart 1 in a row, at most 2)" "$log" \
	|| fail "the first restart was not immediate: $(grep restart "$log")"
crash_and_back 2
grep -q "restarting in 1 s (restart 2 in a row, at most 2)" "$log" \
	|| fail "the second restart in a row did not back off: $(grep restart "$log")"

# The third crash in a row: given up, with a clear error.
kill -9 "$(vm_field demo .pid)"
wait_for "driver VM marked failed" 30 vm_state_is demo failed
err=$(vm_field demo .error)
case $err in
*"giving up after 2 restarts in a row"*"killed by signal 9"*) ;;
*) fail "unclear error after giving up: $err" ;;
esac
[ "$(vm_field demo .restarts)" = 2 ] || fail "restarted past max_restarts"
ddvm down || fail "down failed"
no_qemu_left || fail "QEMU left behind"
echo ok
