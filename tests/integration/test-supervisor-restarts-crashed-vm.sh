#!/bin/bash
# A driver VM whose QEMU dies is restarted on the same region: the driver VM
# bumps the generation, status counts the restart, and it is ready again.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
conf=$(demo_config)

ddvm up -d "$conf" || fail "ddvm up -d failed"
gen=$(vm_field demo .generation)
pid=$(vm_field demo .pid)
[ "$pid" -gt 1 ] || fail "no qemu pid in status"
kill -9 "$pid"
gen_bumped() { [ "$(vm_field demo .generation)" -gt "$gen" ] && vm_state_is demo ready; }
wait_for "restarted driver VM ready with generation > $gen" "$BOOT_SECS" gen_bumped
[ "$(vm_field demo .restarts)" -ge 1 ] || fail "restart not counted"
[ "$(vm_field demo .pid)" != "$pid" ] || fail "same qemu pid after restart"
ddvm ping demo -n 5 --json >/dev/null || fail "ping after restart failed"
ddvm down || fail "down failed"
no_qemu_left || fail "QEMU left behind"
echo ok
