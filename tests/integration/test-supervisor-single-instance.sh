#!/bin/bash
# A second `ddvm up` on a run folder already in use fails at once with a clear
# error and disturbs nothing -- also when the first was started with stdin,
# stdout and stderr closed (as a CI runner or a service manager may start
# it: its lock then must not land on fd 0, which the daemon points at
# /dev/null, nor QEMU's console on a fixed number by chance).
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
conf=$(demo_config)

second_up_refused() {
	local rc
	set +e
	ddvm up -d "$conf" 2>"$DDVM_RUNDIR/err"
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "$1: second up on the same run dir succeeded"
	grep -q "already running" "$DDVM_RUNDIR/err" || fail "$1: unclear error: $(cat "$DDVM_RUNDIR/err")"
	vm_state_is demo ready || fail "$1: first instance disturbed: $(vm_field demo .state)"
}

ddvm up -d "$conf" || fail "first up failed"
second_up_refused "std fds open"
ddvm down || fail "down failed"
no_qemu_left || fail "QEMU left behind"

ddvm up -d "$conf" <&- >&- 2>&- || fail "up with stdin, stdout and stderr closed failed: $(tail -3 "$DDVM_RUNDIR/ddvm.log")"
second_up_refused "std fds closed"
grep -q . "$DDVM_RUNDIR/demo/console.log" || fail "std fds closed: nothing reached QEMU's console log"
ddvm down || fail "down failed (std fds closed)"
no_qemu_left || fail "QEMU left behind (std fds closed)"
echo ok
