#!/bin/bash
# A client VM whose driver VM speaks another protocol version does not use
# the channel: ddvm_front says so in the client's kernel log, naming both
# versions, and adds no disk.  (The fake driver VM plays a driver VM of
# protocol 2.0 on a channel whose region is ours.)
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
source "$TOP/tests/tools/nbd-fake-lib.sh"
requires qemu-system-x86_64 cpio gzip
new_rundir
d=$DDVM_RUNDIR
client_image
nbd_build
nbd_tmpdir
fake_start 16M --guest-version 2.0
cat >"$d/noop.sh" <<'SCRIPT'
#!/bin/sh
ls /dev/ddvm* 2>/dev/null | sed 's/^/DISK /'
echo "RESULT done"
poweroff -f
SCRIPT
client_vm_start ver "$T/iv.sock" "$d/noop.sh"
refused() { grep -q "the driver VM (generation 1) speaks ddvm protocol 2.0, this module 1\.[0-9]*: not using it" \
	"$d/ver.console"; }
wait_for "the client to refuse the driver VM's version (console $d/ver.console)" 120 refused
note "client: $(grep -o 'the driver VM.*not using it' "$d/ver.console" | head -n 1)"
kill "$CLIENT_PID" 2>/dev/null || true
wait "$CLIENT_PID" 2>/dev/null || true
# ddvm_front logs "ddvm0: N bytes, ..." when it adds a disk.
! grep -q 'ddvm[0-9]*: [0-9]* bytes' "$d/ver.console" || fail "the client added a disk anyway"
echo "PASS: $TEST_NAME"
