#!/bin/bash
# A region with a protocol version the driver VM does not speak is refused by
# the guest channel module with a clear kernel log line, and `ddvm up` fails
# with an error naming both versions; no QEMU is left running.
. "$(dirname "$0")/../lib/functions.sh"
requires qemu-system-x86_64
new_rundir
conf=$(demo_config)
sed -i 's/max_restarts *= *[0-9]*/max_restarts = 0/' "$conf"

set +e
DDVM_TEST_PROTO_VERSION=99.0 "$DDVM_BIN" up -d "$conf" 2>"$DDVM_RUNDIR/err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "ddvm up succeeded with a wrong protocol version"
grep -q "refused" "$DDVM_RUNDIR/err" || fail "error does not say refused: $(cat "$DDVM_RUNDIR/err")"
grep -q "99.0" "$DDVM_RUNDIR/err" || fail "error does not name the version: $(cat "$DDVM_RUNDIR/err")"
grep -q "refusing region" "$DDVM_RUNDIR/demo/console.log" || fail "no kernel log line from ddvm_chan"
note "$(cat "$DDVM_RUNDIR/err")"
ddvm down >/dev/null 2>&1 || true
no_qemu_left || fail "QEMU left behind"
echo ok
