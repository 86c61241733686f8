#!/bin/bash
# A driver VM whose kernel panics (fault injection: DDVM_OP_CRASH) is seen
# through pvpanic/QMP and restarted on the same region: generation bumps,
# restarts are counted, it answers again.  Without fault_injection the same
# request is refused with a clear error and the VM keeps running.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
conf=$(demo_config)

# Fault injection off (the default): refused, nothing happens.
ddvm up -d "$conf" || fail "ddvm up -d failed"
set +e
ddvm crash demo 2>"$DDVM_RUNDIR/err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "crash accepted without fault_injection"
grep -q "fault injection is off" "$DDVM_RUNDIR/err" || fail "unclear error: $(cat "$DDVM_RUNDIR/err")"
vm_state_is demo ready || fail "VM disturbed by a refused crash"
ddvm down || fail "down failed"

# Fault injection on: the guest panics, the supervisor notices and restarts it.
sed -i 's/max_restarts *= *[0-9]*;/max_restarts = 3; fault_injection = true;/' "$conf"
grep -q "fault_injection = true" "$conf" || fail "could not enable fault injection"
ddvm up -d "$conf" || fail "ddvm up -d (fault injection) failed"
gen=$(vm_field demo .generation)
pid=$(vm_field demo .pid)
ddvm crash demo || fail "ddvm crash failed"
restarted() { [ "$(vm_field demo .generation)" -gt "$gen" ] && vm_state_is demo ready; }
wait_for "driver VM restarted after its panic" "$BOOT_SECS" restarted
[ "$(vm_field demo .restarts)" -ge 1 ] || fail "restart not counted"
[ "$(vm_field demo .pid)" != "$pid" ] || fail "same QEMU after a panic"
grep -q "crash injected by the host" "$DDVM_RUNDIR/demo/console.log" || fail "no panic in the console log"
grep -Eiq "panic" "$DDVM_RUNDIR/ddvm.log" || fail "supervisor log does not mention the panic"
ddvm ping demo -n 5 --json >/dev/null || fail "ping after restart failed"
ddvm down || fail "down failed"
no_qemu_left || fail "QEMU left behind"
echo ok
