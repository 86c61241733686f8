#!/bin/bash
# A driver VM that is not ready within its boot deadline is killed and
# reported with the accelerator and where to look; nothing is left running.
. "$(dirname "$0")/../lib/functions.sh"
requires qemu-system-x86_64
new_rundir
conf=$(demo_config)
# One second is far too short for a TCG boot (~2.5 s) and short even for KVM.
sed -i 's/boot_timeout *= *[0-9]*;/boot_timeout = 1;/' "$conf"
grep -q "boot_timeout = 1;" "$conf" || fail "could not set boot_timeout"

start=$SECONDS
set +e
ddvm up -d "$conf" 2>"$DDVM_RUNDIR/err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "ddvm up succeeded although the VM could not be ready in 1 s"
[ $((SECONDS - start)) -lt 30 ] || fail "the deadline was not enforced (took $((SECONDS - start)) s)"
grep -q "not ready after 1 s" "$DDVM_RUNDIR/err" || fail "unclear error: $(cat "$DDVM_RUNDIR/err")"
grep -Eq "accel (tcg|kvm)" "$DDVM_RUNDIR/err" || fail "error does not name the accelerator"
grep -q "console.log" "$DDVM_RUNDIR/err" || fail "error does not say where to look"
note "$(cat "$DDVM_RUNDIR/err")"
wait_for "QEMU gone" 10 no_qemu_left
echo ok
