#!/bin/bash
# `ddvm inject VM FAULT`, each fault once through a real driver VM under a
# verified workload, with the outcome the campaign requires: bench/campaign.sh
# takes the eight faults in turn (ORDER=cycle) while fio writes through the
# NBD export with crc32c verify and a checksummed TCP stream crosses the TAP
# front-end and the driver VM's e1000.  Every acknowledged write reads back
# intact, no read is wrong, no host process (supervisor, nbdkit, ddvm-tap)
# dies, every TCP stream arrives whole; the VM-ending faults (kill, panic,
# hang, oops, poison) restart it -- poison twice, and exactly the poisoned
# write fails with EIO -- ioerr fails writes with EIO for its window, link,
# ioerr and storm need no restart.  First, inject is refused for a VM
# without fault_injection = true (it keeps running, untouched) and for an
# unknown fault.
. "$(dirname "$0")/../lib/functions.sh"
requires jq fio qemu-system-x86_64 qemu-io nbdkit
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"

new_rundir
ddvm up -d "$(demo_config)" >/dev/null || fail "ddvm up -d failed"
pid=$(vm_field demo .pid)
expect_error "inject without fault_injection" "fault injection is off" ddvm inject demo kill
expect_error "an unknown fault" "unknown fault 'meltdown'" ddvm inject demo meltdown
expect_error "an unknown VM" "no driver VM named 'nosuch'" ddvm inject nosuch panic
[ "$(vm_field demo .pid)" = "$pid" ] && vm_state_is demo ready || fail "a refused inject touched the VM"
ddvm down >/dev/null || fail "down failed"

out=$DDVM_RUNDIR/campaign.out
ORDER=cycle "$TOP/bench/campaign.sh" 8 >"$out" 2>&1 || {
	sed 's/^/    | /' "$out" | tail -30
	fail "the campaign found a problem"
}
sed 's/^/    | /' "$out"
tail -1 "$out" | grep -qx '8 injections, 0 lost writes, 0 wrong reads, 0 host crashes' ||
	fail "unexpected summary: $(tail -1 "$out")"
row() { awk -v k="$1" '$1 == k && NF == 7 { print }' "$out"; }
for k in kill panic hang oops poison ioerr link storm; do
	[ "$(row "$k" | awk '{print $2}')" = 1 ] || fail "$k was not injected once"
done
[ "$(row poison | awk '{print $6}')" = 1 ] || fail "poison: not exactly one write failed with EIO"
[ "$(row ioerr | awk '{print $6}')" -ge 1 ] || fail "ioerr: no write failed with EIO"
grep -q 'round 5/8 poison .*gen \([0-9]*\) -> ' "$out" || fail "no poison round"
gens=$(sed -n 's/^round 5\/8 poison .*gen \([0-9]*\) -> \([0-9]*\)$/\1 \2/p' "$out")
[ $(( ${gens#* } - ${gens% *} )) -eq 2 ] || fail "poison: generation $gens, expected two restarts"
for r in 6/8 7/8 8/8; do
	g=$(sed -n "s|^round $r .*gen \([0-9]*\) -> \([0-9]*\)$|\1 \2|p" "$out")
	[ "${g% *}" = "${g#* }" ] || fail "round $r restarted the driver VM ($g)"
done
grep -q '^campaign, .*, 6 driver-VM restarts' "$out" || fail "expected 6 restarts: $(grep '^campaign,' "$out")"
echo ok
