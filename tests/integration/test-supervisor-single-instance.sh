#!/bin/bash
# A second `ddvm up` on a run folder already in use fails at once with a clear
# error and disturbs nothing; another run folder works side by side.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
conf=$(demo_config)

ddvm up -d "$conf" || fail "first up failed"
set +e
ddvm up -d "$conf" 2>"$DDVM_RUNDIR/err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "second up on the same run dir succeeded"
grep -q "already running" "$DDVM_RUNDIR/err" || fail "unclear error: $(cat "$DDVM_RUNDIR/err")"
vm_state_is demo ready || fail "first instance disturbed: $(vm_field demo .state)"
ddvm down || fail "down failed"
no_qemu_left || fail "QEMU left behind"
echo ok
