#!/bin/bash
# `make demo`: build the driver-VM image (once), start the demo driver VM,
# show what its Linux found over the channel, ring the doorbell, shut down.
set -eu
cd "$(dirname "$0")/.."
DDVM=build/bin/ddvm
export DDVM_RUNDIR=${DDVM_RUNDIR:-$PWD/build/demo/run}
mkdir -p build/demo
# ddvm creates its run folder (0700) and refuses one others can enter: the
# demo's own, made 0755 by an older demo, is made private here.
[ ! -d build/demo/run ] || chmod 0700 build/demo/run
passed=0 failed=0
step() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "demo: step failed: $*" >&2; fi; }

"$DDVM" image build
"$DDVM" down >/dev/null 2>&1 || true
echo "== ddvm up -d examples/demo.conf"
step "$DDVM" up -d examples/demo.conf
echo "== ddvm status"
# Disks appear a moment after the driver binds: wait (bounded) for nvme0n1.
for _ in $(seq 1 100); do
	"$DDVM" status --json 2>/dev/null | grep -q nvme0n1 && break
	sleep 0.2
done
step "$DDVM" status
echo "== ddvm ping -n 100 (doorbell round trips host -> driver VM -> host)"
step "$DDVM" ping demo -n 100
uri=$("$DDVM" status --json | jq -r '.vms[0].exports[] | select(.kind == "disk") | .nbd' | head -n 1)
echo "== the driver VM's nvme disk over NBD: $uri"
nbd_roundtrip() {
	nbdinfo "$uri" | grep -E "export-size|block_size_preferred" &&
	head -c 4194304 /dev/urandom >build/demo/pattern &&
	nbdcopy build/demo/pattern "$uri" &&
	nbdcopy "$uri" - | head -c 4194304 | cmp - build/demo/pattern &&
	echo "4 MiB written through Linux's nvme driver in the driver VM and read back: identical"
}
step nbd_roundtrip
echo "== ddvm down"
step "$DDVM" down
echo "demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
