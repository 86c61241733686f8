#!/bin/bash
# The fault-injection campaign, short: bench/campaign.sh 12 -- twelve faults
# drawn at random (the seed is printed: SEED=n repeats it) from kill, panic,
# hang, oops, poison, ioerr, link and storm, each injected into a driver VM
# serving fio with crc32c verify through NBD and a checksummed TCP stream
# through ddvm-tap.  Passes iff the campaign's last line is
# "12 injections, 0 lost writes, 0 wrong reads, 0 host crashes" and it saw
# no unexpected client error.
. "$(dirname "$0")/../lib/functions.sh"
requires jq fio qemu-system-x86_64 qemu-io nbdkit
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
out=$(mktemp /tmp/ddvm-test-campaign.XXXXXX)
cleanup_fn "rm -f $out"
rc=0
"$TOP/bench/campaign.sh" 12 >"$out" 2>&1 || rc=$?
sed 's/^/    | /' "$out"
[ "$rc" = 0 ] || fail "the campaign found a problem (exit $rc)"
tail -1 "$out" | grep -qx '12 injections, 0 lost writes, 0 wrong reads, 0 host crashes' ||
	fail "unexpected summary: $(tail -1 "$out")"
echo ok
