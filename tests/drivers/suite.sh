#!/bin/bash
# The driver conformance suite for one device type (tests/lib/drivers.sh),
# through a real driver VM; prints one RESULT line per item (also appended
# to $DRV_RESULTS if set) and exits 1 if an item failed.
#   tests/drivers/suite.sh TYPE          (root: NIC types use namespaces)
#   DRV_VERBOSE=1                        show the end of a failed item's log
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/blk.sh"
. "$TOP/tests/lib/netvm.sh"
. "$TOP/tests/lib/drivers.sh"
[ $# = 1 ] || fail "usage: tests/drivers/suite.sh TYPE"
TYPE=$1
TEST_NAME=drivers-$TYPE
kind=$(drv_kind "$TYPE")
if [ "$kind" = disk ]; then
	requires jq qemu-system-x86_64 qemu-io qemu-img nbdkit nbdcopy nbdinfo cmp
else
	netvm_requires
fi
new_rundir
if [ "$kind" = nic ]; then
	netvm_init 96
	cleanup_fn netvm_down
fi
drv_suite "$TYPE"
