#!/bin/bash
# A front-end that failed max times in a row is given up (state "failed",
# an error that says it waits for the driver VM), but not forever: once its
# driver VM is ready again as a new instance (here after `ddvm crash`), the
# supervisor says so in its log, starts a fresh row of restarts and the
# front-end runs again.  The front-end is a stand-in (DDVM_TAP_BIN) that
# fails until a marker file exists and then runs the real ddvm-tap.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64 pgrep
[ -x "$TOP/build/bin/ddvm-tap" ] || fail "build first: make"
new_rundir
d=$DDVM_RUNDIR
log=$d/ddvm.log
tap="ddg$(printf '%s' "${d##*.}" | tr -dc 'a-zA-Z0-9' | head -c 10)"
cat >"$d/gu.conf" <<CONF
vms = ( { name = "gu"; memory = 128; fault_injection = true;
  devices = ( { type = "e1000"; net = "isolated"; tap = "$tap"; } ); } );
CONF
# The marker is where the stand-in can see it: it runs as the user ddvm,
# who cannot enter the run folder.
mark=$(mktemp -d /tmp/ddvm-heal.XXXXXX)
chmod 0755 "$mark"
cleanup_fn "rm -rf '$mark'"
# ... and so is the ddvm-tap it becomes (the tree may be in a folder of root's)
install -m 0755 "$TOP/build/bin/ddvm-tap" "$mark/ddvm-tap"
cat >"$d/fe-standin" <<SH
#!/bin/bash
# ddvm-tap's stand-in: fails while $mark/heal is missing, then is ddvm-tap.
[ -e "$mark/heal" ] || { echo "stand-in: no $mark/heal yet: failing"; exit 7; }
exec "$mark/ddvm-tap" "\$@"
SH
chmod +x "$d/fe-standin"

ex_field() { vm_json gu | jq -r ".exports[0] | $1"; }
ex_state_is() { [ "$(ex_field .state)" = "$1" ]; }
fe_running() {
	local pid
	pid=$(ex_field .frontend_pid)
	ex_state_is running && [ "$pid" != null ] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$mark/ddvm-tap --socket fd:9 "
}
fe_serves() { [ "$(jq -r .state "$d/gu/net0.json" 2>/dev/null)" = ready ]; }

DDVM_TAP_BIN=$d/fe-standin ddvm up -d "$d/gu.conf" >"$d/up.out" 2>&1 \
	|| fail "ddvm up -d failed: $(cat "$d/up.out")"
vm_state_is gu ready || fail "driver VM not ready: $(vm_field gu .state)"

# 5 failures in a row back off 0, 1, 2, 4, 8 s: given up within ~15 s.
wait_for "the front-end given up" 40 ex_state_is failed
err=$(ex_field .error)
case $err in
*"gave up after 5 restarts in a row"*"ready again"*) ;;
*) fail "unclear error for a given-up front-end: $err" ;;
esac
[ "$(ex_field .given_up)" = true ] || fail "status --json does not say given_up: $(vm_json gu | jq -c '.exports[0]')"
gen=$(vm_field gu .generation)
[ "$(ex_field .given_up_generation)" = "$gen" ] || fail "given_up_generation $(ex_field .given_up_generation), VM generation $gen"
ddvm status >"$d/status.txt" || fail "ddvm status failed"
grep -q "export net0 .*: failed" "$d/status.txt" || fail "human status: $(cat "$d/status.txt")"
grep -q "ready again" "$d/status.txt" || fail "human status does not say what happens next: $(cat "$d/status.txt")"
note "given up: $err"

# The cause goes away; the driver VM crashes and comes back as a new instance.
touch "$mark/heal"
ddvm crash gu >"$d/crash.out" 2>&1 || fail "ddvm crash failed: $(cat "$d/crash.out")"
gen_bumped() { [ "$(vm_field gu .generation)" -gt "$gen" ] && vm_state_is gu ready; }
wait_for "driver VM ready with generation > $gen" "$BOOT_SECS" gen_bumped
newgen=$(vm_field gu .generation)
wait_for "the front-end started again and running" 30 fe_running
grep -q "front-end net0: driver VM ready again (generation $newgen); starting it again after giving up" "$log" \
	|| fail "no clear log line: $(grep "front-end" "$log" | tail -5)"
[ "$(ex_field .restarts)" = 0 ] || fail "the row was not reset: restarts $(ex_field .restarts)"
[ "$(ex_field .given_up)" = false ] || fail "still marked given up"
wait_for "the restarted ddvm-tap serves the queue" 30 fe_serves
note "front-end running again as pid $(ex_field .frontend_pid) in generation $newgen"

ddvm down || fail "ddvm down failed"
no_qemu_left || fail "QEMU left behind"
[ -z "$(pgrep -f "ddvm-tap --socket $d/" || true)" ] || fail "front-end left behind after down"
echo ok
