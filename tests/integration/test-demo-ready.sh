#!/bin/bash
# The demo driver VM comes up, reports nvme and e1000 bound to Linux's own
# drivers, keeps its heartbeat going, answers doorbell round trips, and
# `ddvm down` leaves no QEMU process behind.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
conf=$(demo_config)

ddvm up -d "$conf" || fail "ddvm up -d failed"
vm_state_is demo ready || fail "state is '$(vm_field demo .state)', expected ready"
accel=$(vm_field demo .accel)
case "$accel" in kvm|tcg) note "accelerator: $accel" ;; *) fail "accel '$accel'" ;; esac
[ "$(vm_field demo .generation)" -ge 1 ] || fail "generation not bumped by the driver VM"

# nvme namespaces are scanned asynchronously: wait for the disk name too.
has_dev() { vm_json demo | jq -e --arg d "$1" --arg n "$2" \
	'[.devices[] | select(.driver == $d and (.names | index($n)))] | length > 0'; }
wait_for "nvme bound to driver nvme producing nvme0n1" 60 has_dev nvme nvme0n1
wait_for "e1000 bound to driver e1000 producing eth0" 60 has_dev e1000 eth0
vm_json demo | jq -e '.devices[] | select(.driver == "nvme") | .vendor == "1b36" and .class == "010802"' \
	>/dev/null || fail "nvme entry has wrong vendor/class: $(vm_json demo | jq -c .devices)"
vm_json demo | jq -e '.devices[] | select(.driver == "e1000") | .vendor == "8086" and .device == "100e"' \
	>/dev/null || fail "e1000 entry has wrong ids: $(vm_json demo | jq -c .devices)"

hb=$(vm_field demo .heartbeat)
beat_advanced() { [ "$(vm_field demo .heartbeat)" -gt "$hb" ]; }
wait_for "heartbeat to advance past $hb" 30 beat_advanced

out=$(ddvm ping demo -n 50 --json) || fail "ping failed: $out"
echo "$out" | jq -e '.count == 50 and .p50_us > 0 and .max_us >= .p50_us' >/dev/null \
	|| fail "unexpected ping result: $out"
note "ping: $(echo "$out" | jq -c .)"

ddvm status >"$DDVM_RUNDIR/status.txt" || fail "human status failed"
grep -q nvme0n1 "$DDVM_RUNDIR/status.txt" || fail "human status lacks the device list"

ddvm down || fail "ddvm down failed"
no_qemu_left || fail "QEMU still running after ddvm down: $(qemu_pids)"
ddvm status >/dev/null 2>&1 && fail "status still answers after down"
echo ok
