# Shared helpers for ddvm integration tests (sourced, never run).
#   requires CMD...          fail early with a clear message if a tool is missing
#   fail MSG                 print "FAIL: MSG" and exit 1
#   wait_for DESC SECS CMD   run CMD until it succeeds or SECS pass (then fail)
#   new_rundir               make and export a private DDVM_RUNDIR, cleaned on exit
#   ddvm ARGS                the binary under test
#   vm_json VM               `ddvm status --json` entry for VM
#   no_qemu_left             true if no QEMU of this run dir is alive
set -eu

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DDVM_BIN=${DDVM_BIN:-$TOP/build/bin/ddvm}
TEST_NAME=$(basename "$0" .sh)
# Deadlines sized for TCG on a 2-core machine; KVM is much faster.
BOOT_SECS=${DDVM_TEST_BOOT_SECS:-90}

fail() { echo "FAIL: $TEST_NAME: $*" >&2; _qemu_log_tails >&2; exit 1; }
# What each QEMU of the run dir said last: the run dir goes at exit, and with
# it what a CI log would otherwise never show.
_qemu_log_tails() {
	local f
	[ -n "${DDVM_RUNDIR:-}" ] || return 0
	for f in "$DDVM_RUNDIR"/*/qemu.log "$DDVM_RUNDIR"/*/*/qemu.log; do
		[ -s "$f" ] || continue
		tail -n 3 "$f" | sed "s|^|  ${f#"$DDVM_RUNDIR"/}: |"
	done
}
note() { echo "  $TEST_NAME: $*"; }

requires() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fail "required tool '$c' not found"
	done
}

ddvm() { "$DDVM_BIN" "$@"; }

wait_for() {
	local desc=$1 secs=$2; shift 2
	local end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || fail "timed out after ${secs}s waiting for: $desc"
		sleep 0.2
	done
}

_cleanup_fns=()
cleanup_fn() { _cleanup_fns+=("$*"); }
_run_cleanup() {
	local rc=$? i
	for ((i = ${#_cleanup_fns[@]} - 1; i >= 0; i--)); do
		eval "${_cleanup_fns[$i]}" >/dev/null 2>&1 || true
	done
	exit $rc
}
trap _run_cleanup EXIT
trap 'exit 130' INT TERM

# PIDs of QEMU processes started for the current run dir.
qemu_pids() { pgrep -f "qemu-system-x86_64.*${DDVM_RUNDIR}/" || true; }
no_qemu_left() { [ -z "$(qemu_pids)" ]; }

_kill_leftovers() {
	"$DDVM_BIN" down --timeout 20 || true
	local p
	for p in $(qemu_pids); do kill -9 "$p" 2>/dev/null || true; done
	[ -n "${KEEP_RUNDIR:-}" ] || rm -rf "$DDVM_RUNDIR"
}

new_rundir() {
	# Short path under /tmp: unix socket paths are limited to 107 bytes.
	DDVM_RUNDIR=$(mktemp -d "/tmp/ddvm-$TEST_NAME.XXXXXX")
	export DDVM_RUNDIR
	cleanup_fn _kill_leftovers
}

status_json() { "$DDVM_BIN" status --json; }
vm_json() { status_json | jq -e --arg n "$1" '.vms[] | select(.name == $n)'; }
vm_field() { vm_json "$1" | jq -r "$2"; }
vm_state_is() { [ "$(vm_field "$1" .state)" = "$2" ]; }

# A private copy of the demo config whose backing file lives in the run dir.
demo_config() {
	local out=$DDVM_RUNDIR/demo.conf
	# Own backing file and own TAP name (from the run dir's unique suffix),
	# so tests and a running demo never share either.
	sed -e "s|\"\\.\\./build/demo/nvme.img\"|\"$DDVM_RUNDIR/nvme.img\"|" \
	    -e "s|tap = \"ddvm-demo0\"|tap = \"ddvt-${DDVM_RUNDIR##*.}\"|" "$TOP/examples/demo.conf" >"$out"
	grep -q "$DDVM_RUNDIR/nvme.img" "$out" || fail "could not retarget demo.conf's backing file"
	grep -q "tap = \"ddvt-" "$out" || fail "could not rename demo.conf's TAP"
	echo "$out"
}

# expect_error DESC PATTERN CMD... : CMD fails (not by a signal) and its stderr
# matches the extended regex PATTERN (expect_error_fixed: contains the string).
_expect_error() {
	local how=$1 desc=$2 pat=$3 rc out=$DDVM_RUNDIR/expect.out err=$DDVM_RUNDIR/expect.err
	shift 3
	set +e
	"$@" >"$out" 2>"$err"
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "$desc: succeeded, expected an error"
	[ $rc -lt 128 ] || fail "$desc: died with signal $((rc - 128))"
	grep "$how" -q -- "$pat" "$err" || fail "$desc: error '$(cat "$err")' does not match '$pat'"
	note "$desc -> $(head -n 1 "$err")"
}
expect_error() { _expect_error -E "$@"; }
expect_error_fixed() { _expect_error -F "$@"; }

