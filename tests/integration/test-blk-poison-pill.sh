#!/bin/bash
# A request that crashes the driver (a "poison pill") is contained: the
# driver VM dies on it, the supervisor restarts it, the nbdkit plugin hands
# the requests the dead driver VM held to its successor one at a time, and
# when the second driver VM dies holding the pill alone, the plugin fails
# that one request with EIO instead of crashing every successor.  The writes
# that were in flight beside it complete and read back, the driver VM is up
# (2 restarts, well under max_restarts), and the pill never reached the disk.
#
# The pill: with fault_injection = true, ddvm_blk panics the driver VM on a
# WRITE whose data starts with 64 bytes of 0xde (guest/blk_io.c), without
# answering it, as a buggy driver would.
. "$(dirname "$0")/../lib/functions.sh"
. "$(dirname "$0")/../lib/blk.sh"
requires jq qemu-io qemu-system-x86_64
new_rundir
d=$DDVM_RUNDIR
blk_conf "$d/p.conf" p 128 nvme:64M
sed -i 's/max_restarts = 5;/max_restarts = 5; fault_injection = true;/' "$d/p.conf"
grep -q 'fault_injection = true' "$d/p.conf" || fail "could not write the config"
ddvm up -d "$d/p.conf" >/dev/null || fail "ddvm up failed"
blk_wait_ready p 0
uri=$(blk_uri p 0)
img=$(blk_img p 0)

# Innocent writes in flight together with the pill, from one client.
out=$(timeout 150 qemu-io -f raw \
	-c "aio_write -P 0x11 0 64k" -c "aio_write -P 0x22 64k 64k" \
	-c "aio_write -P 0xde 1M 4k" \
	-c "aio_write -P 0x33 128k 64k" -c "aio_write -P 0x44 192k 64k" \
	-c aio_flush "$uri" 2>&1) || true
note "client: $(echo "$out" | tr '\n' ';')"
[ "$(echo "$out" | grep -c 'wrote 65536/65536')" = 4 ] || fail "the innocent writes did not all complete: $out"
echo "$out" | grep -qi 'aio_write failed: Input/output error' || fail "the pill was not failed with EIO: $out"
[ "$(echo "$out" | grep -ci 'failed')" = 1 ] || fail "more than the pill failed: $out"

vm_state_is p ready || wait_for "driver VM ready after the pill" "$BOOT_SECS" vm_state_is p ready
restarts=$(vm_field p .restarts)
[ "$restarts" = 2 ] || fail "expected 2 restarts (the pill killed two driver VMs), got $restarts"
grep -q "poison pill (fault injection)" "$d/p/console.log" || fail "no poison-pill panic in the console log"
log=$(vm_field p '.exports[0].log')
grep -q "write of 4096 bytes at 1048576 crashed the driver VM" "$log" \
	|| fail "the plugin did not say which request it failed: $(grep -i ddvm "$log" | tail -5)"

# The innocents are on the disk, the pill is not, and the disk still works.
out=$(timeout 60 qemu-io -f raw -c "read -q -P 0x11 0 64k" -c "read -q -P 0x22 64k 64k" \
	-c "read -q -P 0x33 128k 64k" -c "read -q -P 0x44 192k 64k" -c "read -q -P 0 1M 4k" \
	-c "write -q -P 0x55 2M 64k" -c flush -c "read -q -P 0x55 2M 64k" "$uri" 2>&1) ||
	fail "after the pill: $out"
[ -z "$out" ] || fail "after the pill, reads did not match: $out"
[ "$(vm_field p .restarts)" = 2 ] || fail "the driver VM crashed again after the pill"
ddvm down >/dev/null || fail "down failed"
cmp -s <(head -c 4096 /dev/zero) <(dd if="$img" bs=4096 skip=256 count=1 status=none) \
	|| fail "the pill's data reached the backing file"
cmp -s <(head -c 65536 /dev/zero | tr '\0' '\021') <(dd if="$img" bs=64k count=1 status=none) \
	|| fail "the first innocent write is not in the backing file"
echo ok
