#!/bin/bash
# The driver conformance suite (tests/lib/drivers.sh) for a representative
# subset of the NICs, each in a driver VM of its own: vmxnet3 (paravirtual,
# MSI-X, offloads) and pcnet (a legacy PCI NIC on INTx, no offloads).  Every
# item must pass: ping v4 and v6 both ways, checksummed TCP both ways,
# MTU-sized frames, oversize frames dropped and counted, carrier following
# a cable pull, a restart under a TCP stream.  `make test-drivers` runs
# every type (docs/drivers.md).
#   DRIVER_TYPES="e1000e tulip"   other types
. "$(dirname "$0")/../lib/functions.sh"
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
for t in ${DRIVER_TYPES:-vmxnet3 pcnet}; do
	out=/tmp/ddvm-$TEST_NAME.$$.out
	cleanup_fn "rm -f $out"
	rc=0
	DRV_VERBOSE=1 bash "$TOP/tests/drivers/suite.sh" "$t" >"$out" 2>&1 || rc=$?
	cat "$out"
	[ $rc = 0 ] || fail "$t: $(grep '^RESULT' "$out" | grep -v '	pass	' | cut -f3- | tr '\t\n' ' ;')"
done
echo ok
