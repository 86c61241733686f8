#!/bin/bash
# The driver conformance suite (tests/lib/drivers.sh) for a representative
# subset of the disk controllers, each in a driver VM of its own: a disk
# behind a USB controller the driver VM owns, SCSI over UAS (usb-uas), and
# a SAS host adapter (mptsas1068).  Every item must pass: two NBD clients
# both ways, unaligned and boundary requests, past-the-end errors, write
# zeroes, discard where offered, a flush that survives SIGKILL, a restart
# under verified I/O, the backing file after `ddvm down`.  `make
# test-drivers` runs every type (docs/drivers.md).
#   DRIVER_TYPES="sdhci ide"   other types
. "$(dirname "$0")/../lib/functions.sh"
for t in ${DRIVER_TYPES:-usb-uas mptsas1068}; do
	out=/tmp/ddvm-$TEST_NAME.$$.out
	cleanup_fn "rm -f $out"
	rc=0
	DRV_VERBOSE=1 bash "$TOP/tests/drivers/suite.sh" "$t" >"$out" 2>&1 || rc=$?
	cat "$out"
	[ $rc = 0 ] || fail "$t: $(grep '^RESULT' "$out" | grep -v '	pass	' | cut -f3- | tr '\t\n' ' ;')"
done
echo ok
