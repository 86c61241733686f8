#!/bin/bash
# tinyos given a channel it cannot use says so on its console, names what it
# found, and stops cleanly (halted: QEMU stays up, idle, no CPU exception, no
# disk used) instead of crashing or spinning:
#   - a region whose magic is not ddvm's            -> "not a ddvm channel: magic 0x..."
#   - a region of ddvm protocol 2.0                 -> "the channel speaks ddvm protocol 2.0"
#   - a driver VM that speaks protocol 2.0 (the fake driver VM, --guest-version)
#                                                   -> "the driver VM (generation 1) speaks ..."
# The first two regions are served by a tiny ivshmem server written here
# (tests/lib has none that lays out a bad header); no driver VM is booted.
. "$(dirname "$0")/../lib/functions.sh"
source "$TOP/tests/tools/nbd-fake-lib.sh"
requires qemu-system-x86_64 python3
new_rundir
d=$DDVM_RUNDIR
make -C "$TOP" -s --no-print-directory tinyos >"$d/make.log" 2>&1 || fail "make tinyos: $(tail -n 5 "$d/make.log")"
nbd_build
nbd_tmpdir
cleanup_fn 'for p in ${QEMU_PID:-} ${SRV_PID:-}; do kill $p; done'

# An ivshmem server (protocol: docs/protocol.md, DESIGN) handing out a 1 MiB
# region whose header says MAGIC and MAJOR.MINOR, host_state SERVING.
cat >"$d/badsrv.py" <<'PY'
import array, mmap, os, signal, socket, struct, sys
path, magic, major, minor = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3]), int(sys.argv[4])
size = 1 << 20
fd = os.memfd_create("bad-region")
os.ftruncate(fd, size)
m = mmap.mmap(fd, size)
struct.pack_into("<IHH", m, 0, magic, major, minor)
struct.pack_into("<QIHHQ", m, 0x10, size, 0x1000, 0, 0, 0x400)  # size, hdr, host peer, nqueues, qtable
struct.pack_into("<I", m, 0x38, 1)                                # host_state SERVING
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
conn, _ = srv.accept()
def send(v, f=None):
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [f]))] if f is not None else []
    conn.sendmsg([struct.pack("<q", v)], anc)
send(0)          # protocol version
send(1)          # the client's peer id
send(-1, fd)     # the region
for _ in range(4):
    send(1, os.eventfd(0))   # its own doorbells
signal.pause()
PY

# tos_run NAME SOCK: boot tinyos on that one channel; console $d/NAME.console.
tos_run() {
	local name=$1 sock=$2
	: >"$d/$name.console"
	qemu-system-x86_64 -name "ddvm-tinyos-$name" -machine q35 -accel tcg -m 64 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$TOP/build/tinyos/tinyos.elf" -append "console=ttyS0 ip=169.254.98.5" \
		-serial "file:$d/$name.console" \
		-chardev "socket,id=c0,path=$sock" -device ivshmem-doorbell,chardev=c0,vectors=4 \
		>"$d/$name.qemu.log" 2>&1 &
	QEMU_PID=$!
}

# expect_stop NAME REGEX: tinyos printed REGEX, then stopped, and stays halted.
expect_stop() {
	local name=$1 want=$2 con=$d/$1.console a b
	stopped() { grep -q '^tinyos: stopped' "$con"; }
	wait_for "tinyos ($name) to stop (console $con)" 60 stopped
	grep -Eq "$want" "$con" || fail "$name: expected '$want' on the console: $(cat "$con")"
	! grep -Eq 'CPU exception|^tinyos: ready|sector0-crc32c' "$con" || fail "$name: tinyos went on: $(cat "$con")"
	kill -0 "$QEMU_PID" 2>/dev/null || fail "$name: QEMU exited ($(cat "$d/$name.qemu.log")): not a clean stop"
	a=$(awk '{ print $14 + $15 }' "/proc/$QEMU_PID/stat")
	sleep 2
	b=$(awk '{ print $14 + $15 }' "/proc/$QEMU_PID/stat")
	[ $((b - a)) -le 20 ] || fail "$name: the stopped tinyos still uses CPU ($((b - a)) ticks in 2 s)"
	note "$name: $(grep -Eo "$want.*" "$con" | tr -d '\r' | head -n 1); stopped, idle ($((b - a)) ticks in 2 s)"
	kill "$QEMU_PID"
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
}

# serve NAME MAGIC MAJOR MINOR: the bad server on $d/NAME.sock.
serve() {
	python3 "$d/badsrv.py" "$d/$1.sock" "$2" "$3" "$4" 2>"$d/$1.srv.log" &
	SRV_PID=$!
	wait_for "ivshmem server $1" 10 test -S "$d/$1.sock"
}
unserve() { kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=; }

serve magic 0x4c4c4548 1 2
tos_run magic "$d/magic.sock"
expect_stop magic 'tinyos: chan0: not a ddvm channel: magic 0x4c4c4548, expected 0x4d564444'
unserve

serve version 0x4d564444 2 0
tos_run version "$d/version.sock"
expect_stop version 'tinyos: chan0: the channel speaks ddvm protocol 2\.0, tinyos 1\.[0-9]+: not using it'
unserve

fake_start 16M --guest-version 2.0
tos_run guest "$T/iv.sock"
expect_stop guest 'tinyos: disk0: the driver VM \(generation 1\) speaks ddvm protocol 2\.0, tinyos 1\.[0-9]+: not using it'
cmp -s "$T/disk.img" <(head -c 16M /dev/zero) || fail "tinyos wrote to the disk of a driver VM it refused"
echo "PASS: $TEST_NAME"
