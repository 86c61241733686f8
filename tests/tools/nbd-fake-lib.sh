# Helpers for the NBD front-end tests with the fake driver VM (sourced after
# tests/lib/functions.sh, never run).
#   nbd_build               build the plugin and the fake driver VM
#   fake_start ARGS...      start ddvm-fake-vm on a fresh backing file, wait for READY
#   nbdkit_start ARGS...    start nbdkit with the plugin on $NBD_SOCK, wait for it
#   nbd_stop                stop both (also run from the cleanup trap)
# Files live in $T (a private temp dir); logs in $T/fake.log, $T/nbdkit.log.
PLUGIN=$TOP/build/frontends/nbdkit-ddvm-plugin.so
FAKE_VM=$TOP/build/tools/ddvm-fake-vm

nbd_build() {
	make -C "$TOP" --no-print-directory -s BUILD=build CC="${CC:-gcc}" \
		-f frontends/build.mk nbdkit-plugin fake-vm >/dev/null || fail "build failed"
}

nbd_tmpdir() {
	T=$(mktemp -d "/tmp/ddvm-$TEST_NAME.XXXXXX")
	NBD_SOCK=$T/nbd.sock
	URI="nbd+unix:///?socket=$NBD_SOCK"
	cleanup_fn 'nbd_stop; [ -n "${KEEP_RUNDIR:-}" ] || rm -rf "$T"'
}

_stop_pid() {
	local f=$1 p
	[ -s "$f" ] || return 0
	p=$(cat "$f")
	kill "$p" 2>/dev/null || true
	wait_for "process $p to exit" 10 bash -c "! kill -0 $p 2>/dev/null"
	rm -f "$f"
}

nbd_stop() {
	_stop_pid "$T/nbdkit.pid"
	_stop_pid "$T/fake.pid"
}

# fake_start SIZE ARGS...: backing file of SIZE (truncate syntax), then the fake VM.
fake_start() {
	local size=$1; shift
	rm -f "$T/ready" "$T/disk.img"
	truncate -s "$size" "$T/disk.img"
	"$FAKE_VM" --socket "$T/iv.sock" --backing "$T/disk.img" --ready-file "$T/ready" "$@" \
		2>>"$T/fake.log" &
	echo $! >"$T/fake.pid"
	wait_for "fake driver VM to publish READY" 10 test -e "$T/ready"
}

nbdkit_start() {
	rm -f "$T/nbdkit.pid" "$T/nbdkit.pid.tmp" "$NBD_SOCK"
	nbdkit -f -v --exit-with-parent -U "$NBD_SOCK" -P "$T/nbdkit.pid.tmp" \
		"$PLUGIN" socket="$T/iv.sock" "$@" 2>>"$T/nbdkit.log" &
	echo $! >"$T/nbdkit.pid"
	wait_for "nbdkit to listen" 15 test -s "$T/nbdkit.pid.tmp"
}

# True if nbdkit still answers (a zero-length info query).
nbdkit_alive() { kill -0 "$(cat "$T/nbdkit.pid")" 2>/dev/null && timeout 10 nbdinfo --size "$URI" >/dev/null; }
