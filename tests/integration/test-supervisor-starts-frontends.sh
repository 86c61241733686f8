#!/bin/bash
# A driver VM with an exported nvme disk and e1000 NIC gets one queue per
# export, with targets naming the pinned PCI functions; the supervisor starts
# one front-end per export (nbdkit with our plugin, ddvm-tap), restarts one
# that dies, marks an export "unavailable" with a clear warning when its
# plugin / binary is missing, and `ddvm down` leaves no front-end behind.
# (Data through the front-ends is tested by the block and net tests.)
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
d=$DDVM_RUNDIR
# A TAP name of our own: tests may run side by side.
tap="ddt$(printf '%s' "${d##*.}" | tr -dc 'a-zA-Z0-9' | head -c 10)"
cat >"$d/fe.conf" <<CONF
vms = ( { name = "fe";
  devices = (
    { type = "nvme"; file = "$d/nvme.img"; size = "64M"; create = true; },
    { type = "e1000"; net = "isolated"; tap = "$tap"; }
  ); } );
CONF

ex() { vm_json fe | jq -e ".exports[$1]"; }
ex_field() { ex "$1" | jq -r "$2"; }
fe_procs() { pgrep -f "(nbdkit|ddvm-tap).*$d/" || true; }
no_fe_left() { [ -z "$(fe_procs)" ]; }

# check_export I KIND QUEUE TARGET PROG_PATTERN MISSING(0|1)
check_export() {
	local i=$1 kind=$2 q=$3 target=$4 pat=$5 missing=$6 pid
	ex "$i" | jq -e --arg k "$kind" --argjson q "$q" --arg t "$target" \
		'.kind == $k and .queue == $q and .target == $t' >/dev/null \
		|| fail "export $i: expected $kind on queue $q, target $target: $(ex "$i" | jq -c .)"
	ex "$i" | jq -e '.queue_state | IN("absent", "ready", "error")' >/dev/null \
		|| fail "export $i: bad queue_state: $(ex "$i" | jq -c .)"
	if [ "$missing" = 1 ]; then
		[ "$(ex_field "$i" .state)" = unavailable ] \
			|| fail "export $i: front-end missing but state '$(ex_field "$i" .state)'"
		ex_field "$i" .error | grep -q "not found" || fail "export $i: unclear error '$(ex_field "$i" .error)'"
		[ "$(ex_field "$i" .frontend_pid)" = null ] || fail "export $i: a pid without a front-end"
		note "export $i ($kind): unavailable: $(ex_field "$i" .error)"
		return
	fi
	pid=$(ex_field "$i" .frontend_pid)
	[ "$pid" != null ] && kill -0 "$pid" 2>/dev/null \
		|| fail "export $i: no live front-end (pid $pid, state $(ex_field "$i" .state))"
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eq -- "$pat" \
		|| fail "export $i: front-end $pid runs '$(tr '\0' ' ' <"/proc/$pid/cmdline")', expected /$pat/"
	note "export $i ($kind): pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-100)"
}

# run_case PLUGIN TAPBIN : boot, check both exports, kill a front-end, down.
run_case() {
	local plugin=$1 tapbin=$2 pm=0 tm=0 pid
	[ -f "$plugin" ] && command -v nbdkit >/dev/null || pm=1
	[ -f "$tapbin" ] || tm=1
	note "plugin $plugin (missing=$pm), tap $tapbin (missing=$tm)"
	DDVM_NBDKIT_PLUGIN=$plugin DDVM_TAP_BIN=$tapbin ddvm up -d "$d/fe.conf" 2>"$d/up.err" \
		|| fail "ddvm up -d failed: $(cat "$d/up.err")"
	vm_state_is fe ready || fail "state '$(vm_field fe .state)'"
	[ "$(vm_field fe '.exports | length')" = 2 ] || fail "expected 2 exports: $(vm_field fe .exports)"
	# One channel per client: the supervisor's own is small, each export's holds its queue alone.
	[ "$(vm_field fe .channel_size)" = 65536 ] || fail "control channel size $(vm_field fe .channel_size), expected 64K"
	[ "$(ex_field 0 .channel.size)" = 8388608 ] || fail "disk channel size $(ex_field 0 .channel.size), expected 8M computed"
	[ "$(ex_field 1 .channel.size)" = 4194304 ] || fail "NIC channel size $(ex_field 1 .channel.size), expected 4M computed"
	[ "$(ex_field 0 .channel.socket)" = "$d/fe/chan-disk0.sock" ] || fail "disk channel socket $(ex_field 0 .channel.socket)"
	[ "$(vm_field fe .channel_vectors)" -ge 4 ] || fail "too few doorbell vectors"
	# What they use they are handed: the channel a connection (fd 9), the plugin an fd
	# (10), ddvm-tap's stats folder an fd (12) -- no path in the run folder.
	check_export 0 disk 0 "pci=0000:00:04.0" "^nbdkit .*--exit-with-parent.* /proc/self/fd/10 socket=fd:9 queue=0" $pm
	check_export 1 nic 0 "pci=0000:00:05.0" "^$tapbin --socket fd:9 --queue 0 --tap $tap --tun-fd 13 --stats /proc/self/fd/12/net0.json" $tm
	if [ $pm = 0 ]; then
		[ "$(readlink "/proc/$(ex_field 0 .frontend_pid)/fd/10")" = "$(readlink -f "$plugin")" ] ||
			fail "nbdkit's fd 10 is $(readlink "/proc/$(ex_field 0 .frontend_pid)/fd/10"), not the plugin"
	fi
	if [ $tm = 0 ]; then
		[ "$(readlink "/proc/$(ex_field 1 .frontend_pid)/fd/12")" = "$d/fe/net0.d" ] ||
			fail "ddvm-tap's fd 12 is $(readlink "/proc/$(ex_field 1 .frontend_pid)/fd/12"), not $d/fe/net0.d"
		wait_for "ddvm-tap's stats through $d/fe/net0.json" 30 test -s "$d/fe/net0.json"
	fi
	ex_field 0 .nbd | grep -qx "nbd+unix:///?socket=$d/fe/disk0.sock" || fail "nbd URI '$(ex_field 0 .nbd)'"
	[ "$(ex_field 1 .tap)" = "$tap" ] || fail "tap name '$(ex_field 1 .tap)'"
	for m in "$pm:nbdkit plugin" "$tm:TAP front-end"; do
		[ "${m%%:*}" = 1 ] || continue
		grep -q "warn: ${m#*:} .* not found" "$d/ddvm.log" || fail "no warning about the missing ${m#*:}"
		[ "$(grep -c "warn: ${m#*:} .* not found" "$d/ddvm.log")" = 1 ] || fail "warned more than once"
	done
	# The pinned addresses are where the driver VM's Linux finds the devices.
	has_dev() { vm_json fe | jq -e --arg a "$1" --arg drv "$2" \
		'[.devices[] | select(.address == $a and .driver == $drv)] | length == 1'; }
	wait_for "nvme at 0000:00:04.0" 60 has_dev 0000:00:04.0 nvme
	wait_for "e1000 at 0000:00:05.0" 60 has_dev 0000:00:05.0 e1000
	ddvm status >"$d/status.txt" || fail "human status failed"
	grep -q "export disk0 .*nbd+unix" "$d/status.txt" || fail "human status lacks the disk export: $(cat "$d/status.txt")"
	grep -q "export net0 .*tap $tap" "$d/status.txt" || fail "human status lacks the NIC export: $(cat "$d/status.txt")"
	if [ $pm = 0 ]; then
		[ -S "$d/fe/disk0.sock" ] || fail "no NBD socket $d/fe/disk0.sock"
		pid=$(ex_field 0 .frontend_pid)
		kill -9 "$pid"
		restarted() { p=$(ex_field 0 .frontend_pid); [ "$p" != null ] && [ "$p" != "$pid" ] &&
			[ "$(ex_field 0 .state)" = running ]; }
		wait_for "nbdkit restarted after kill -9 $pid" 20 restarted
		note "nbdkit $pid killed, restarted as $(ex_field 0 .frontend_pid)"
	fi
	ddvm down || fail "ddvm down failed"
	no_qemu_left || fail "QEMU left behind: $(qemu_pids)"
	no_fe_left || fail "front-ends left behind after down: $(fe_procs)"
	[ ! -e "$d/fe/disk0.sock" ] || fail "NBD socket left behind"
	: >"$d/ddvm.log"
}

run_case "${DDVM_NBDKIT_PLUGIN:-$TOP/build/frontends/nbdkit-ddvm-plugin.so}" "${DDVM_TAP_BIN:-$TOP/build/bin/ddvm-tap}"
# And the other branch, whatever is installed: nothing there.
run_case "$d/no/nbdkit-ddvm-plugin.so" "$d/no/ddvm-tap"
echo ok
