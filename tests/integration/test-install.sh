#!/bin/bash
# ddvm installs and runs with the source tree gone.  `make install
# DESTDIR=STAGE` puts every piece where install.mk says (ddvm, ddvm-tap, the
# nbdkit plugin in nbdkit's plugin folder under the name `nbdkit ddvm`
# looks for, the image builder with the sources it compiles, man pages,
# docs and examples, ddvm@.service, bash completion, the image folder); the
# staged tree is copied elsewhere (so it must be relocatable) and the
# driver-VM image copied into its /var/lib/ddvm/images/driver.  Then, in a
# mount namespace where the source tree is hidden under an empty tmpfs
# (other processes still see it), from the installed files alone:
#   - the installed builder finds its inputs and its image (`ddvm image
#     build` is up to date when the build tree's is);
#   - `ddvm check` passes the installed example;
#   - the demo runs the way ddvm@.service runs it (its ExecStart, in the
#     foreground, NOTIFY_SOCKET a datagram socket of ours): READY=1 comes
#     once the driver VM is ready, nvme and e1000 are bound to Linux's
#     drivers, the front-ends are the installed plugin and ddvm-tap, QEMU
#     boots the installed image and none of them inherits NOTIFY_SOCKET;
#     4 MiB go through the NBD export and back intact; completion names the
#     driver VM; `ddvm down` ends it (STOPPING=1, exit 0, nothing left);
#   - started again, SIGTERM (systemctl stop) ends it the same way.
# Finally `make uninstall` removes what `make install` put there.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64 nbdkit nbdcopy nbdinfo unshare python3 make man cmp pkg-config
new_rundir
d=$DDVM_RUNDIR
IMG=${DDVM_IMAGE_DIR:-$TOP/build/image}
[ -f "$IMG/image.conf" ] || fail "no driver-VM image in $IMG (run 'ddvm image build')"
PLUGINDIR=$(pkg-config --variable=plugindir nbdkit)
[ -n "$PLUGINDIR" ] || fail "pkg-config knows no nbdkit plugindir"

# --- 1. make install into a staging root -------------------------------------------
stage=$d/stage
make -C "$TOP" --no-print-directory install DESTDIR="$stage" >"$d/install.log" 2>&1 ||
	fail "make install failed: $(tail -20 "$d/install.log")"
inst() { [ -e "$stage$1" ] || fail "make install did not install $1"; }
for f in /usr/local/bin/ddvm /usr/local/bin/ddvm-tap "$PLUGINDIR/nbdkit-ddvm-plugin.so" \
	/usr/local/share/ddvm/image/build.sh /usr/local/share/ddvm/image/init \
	/usr/local/share/ddvm/image/client-init /usr/local/share/ddvm/guest/Kbuild \
	/usr/local/share/ddvm/client/Kbuild /usr/local/share/ddvm/proto/ring.c \
	/usr/local/share/ddvm/lib/blk_client.c /usr/local/share/ddvm/include/ddvm/proto.h \
	/usr/local/share/man/man1/ddvm.1 /usr/local/share/man/man5/ddvm.conf.5 \
	/usr/local/share/man/man1/nbdkit-ddvm-plugin.1 /usr/local/share/doc/ddvm/README.md \
	/usr/local/share/doc/ddvm/vfio.md /usr/local/share/doc/ddvm/examples/demo.conf \
	/usr/local/lib/systemd/system/ddvm@.service \
	/usr/local/share/bash-completion/completions/ddvm /var/lib/ddvm/images /etc/ddvm; do
	inst "$f"
done
[ -x "$stage/usr/local/share/ddvm/image/build.sh" ] || fail "the image builder is not executable"
# the builder's inputs: every source file of those folders, no build output
for f in $(cd "$TOP" && find guest client proto include -name '*.[ch]' -o -name Kbuild); do
	cmp -s "$TOP/$f" "$stage/usr/local/share/ddvm/$f" || fail "installed $f differs from the source"
done
! find "$stage/usr/local/share/ddvm" -name '*.o' -o -name '*.ko' | grep -q . || fail "build output installed"
grep -q '"/var/lib/ddvm/demo/nvme.img"' "$stage/usr/local/share/doc/ddvm/examples/demo.conf" ||
	fail "the installed demo.conf still points into a build tree"
# nbdkit finds plugin NAME as PLUGINDIR/nbdkit-NAME-plugin.so: this one says it is "ddvm"
# (its stdin given: nbdkit refuses to start without one, and a runner may have closed ours)
nbdkit --dump-plugin "$stage$PLUGINDIR/nbdkit-ddvm-plugin.so" </dev/null >"$d/dump" 2>&1 || fail "nbdkit cannot load the plugin: $(cat "$d/dump")"
grep -qx "name=ddvm" "$d/dump" || fail "the plugin does not call itself ddvm: $(cat "$d/dump")"
for p in man1/ddvm.1 man5/ddvm.conf.5 man1/nbdkit-ddvm-plugin.1; do
	man -l "$stage/usr/local/share/man/$p" 2>/dev/null | grep -q . || fail "installed $p does not render"
done
unit=$stage/usr/local/lib/systemd/system/ddvm@.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$exec_start" = "/usr/local/bin/ddvm --rundir /run/ddvm/%i up /etc/ddvm/%i.conf" ] ||
	fail "unexpected ExecStart in the unit: $exec_start"
grep -qx "Type=notify" "$unit" || fail "the unit is not Type=notify"
grep -qx "ExecStartPre=/usr/local/bin/ddvm check -q /etc/ddvm/%i.conf" "$unit" || fail "the unit does not check the config first"
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/bin/ddvm|$stage/usr/local/bin/ddvm|" "$unit" >"$d/ddvm@.service"
	systemd-analyze verify "$d/ddvm@.service" >"$d/verify" 2>&1 || true
	! grep -v -e "Command 'man " -e "^$" "$d/verify" | grep -q . || fail "systemd-analyze verify: $(cat "$d/verify")"
fi
note "installed into $stage: $(find "$stage" -type f | wc -l) files"

# --- 2. the installed tree, elsewhere, with the image --------------------------------
root=$d/moved
cp -a "$stage" "$root"
rm -rf "$stage"
mkdir -p "$root/var/lib/ddvm/images/driver"
for f in image.conf initramfs.cpio.gz vmlinux vmlinuz .stamp; do
	[ ! -e "$IMG/$f" ] || cp -a "$IMG/$f" "$root/var/lib/ddvm/images/driver/"
done
# Is the build tree's image up to date?  Then so must the installed builder find
# it.  Asked on a copy, with an apt-get that fails: a stale image makes the
# builder stop at its download step, never rebuild anything.
mkdir -p "$d/noapt" "$d/imgcheck"
printf '#!/bin/sh\nexit 1\n' >"$d/noapt/apt-get"
chmod +x "$d/noapt/apt-get"
cp -a "$root/var/lib/ddvm/images/driver/." "$d/imgcheck/"
uptodate=0
PATH=$d/noapt:$PATH "$DDVM_BIN" image build --out "$d/imgcheck" 2>&1 | grep -q "up to date" && uptodate=1
rm -rf "$d/imgcheck"
# Else (sources changed since the image was built): the inputs' hash the
# builder computes must be the same from the source tree and installed.
input_hash() { PATH=$d/noapt:$PATH bash -x "$1" --out "$2" 2>&1 | sed -n 's/^+* *HASH=//p' | head -n 1; }
src_hash=""
[ $uptodate = 1 ] || src_hash=$(input_hash "$TOP/image/build.sh" "$d/h1")

# --- 3. from the installed files alone, the source tree hidden ------------------------
cat >"$d/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " | ") + "\n")
PY
cat >"$d/inner.sh" <<'INNER'
set -eu
# in a private mount namespace: hide the source (and build) tree
mount -t tmpfs -o size=64k,mode=0755 ddvm-source-tree-hidden "$TOP"
[ ! -e "$TOP/Makefile" ] && [ ! -e "$TOP/build" ] || { echo "FAIL: source tree still visible"; exit 1; }
BIN=$root/usr/local/bin/ddvm
input_hash() { PATH=$d/noapt:$PATH bash -x "$1" --out "$2" 2>&1 | sed -n 's/^+* *HASH=//p' | head -n 1; }
fail() { echo "FAIL: $TEST_NAME (installed): $*" >&2; exit 1; }
note() { echo "  $TEST_NAME: $*"; }
wait_for() {
	local desc=$1 secs=$2; shift 2
	local end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || fail "timed out after ${secs}s waiting for: $desc"
		sleep 0.2
	done
}
vm_json() { "$BIN" status --json | jq -e '.vms[] | select(.name == "demo")'; }
has_dev() { vm_json | jq -e --arg d "$1" --arg n "$2" \
	'[.devices[] | select(.driver == $d and (.names | index($n)))] | length > 0'; }
notified() { grep -q "$1" "$d/notify.log"; }
sup=""
listener=""
trap '[ -z "$sup" ] || kill -9 $sup 2>/dev/null; [ -z "$listener" ] || kill $listener 2>/dev/null' EXIT

"$BIN" --version >/dev/null || fail "the installed ddvm does not run"
if [ "$uptodate" = 1 ]; then
	out=$(PATH=$d/noapt:$PATH "$BIN" image build 2>&1) || fail "installed image build: $out"
	echo "$out" | grep -q "up to date" || fail "the installed builder does not find its image up to date: $out"
	note "installed image build: $out"
elif [ -n "$src_hash" ]; then
	inst_hash=$(DDVM_IMAGE_DIR=$d/h2 input_hash "$root/usr/local/share/ddvm/image/build.sh" "$d/h2")
	[ "$inst_hash" = "$src_hash" ] || fail "the installed builder hashes its inputs to '$inst_hash', the source tree's to '$src_hash'"
	note "build tree's image not up to date; the installed builder's input hash is the source tree's ($src_hash)"
else
	note "the build tree's image is not up to date: installed image build not compared"
fi
"$BIN" image build --help | grep -q "usage: ddvm image build" || fail "the installed image builder does not run"
"$BIN" check "$root/usr/local/share/doc/ddvm/examples/demo.conf" >/dev/null || fail "check of the installed demo.conf"
# the installed demo.conf, with a backing file and a TAP name of this test
sed -e "s|\"/var/lib/ddvm/demo/nvme.img\"|\"$d/nvme.img\"|" \
    -e "s|tap = \"ddvm-demo0\"|tap = \"ddvi-${d##*.}\"|" "$root/usr/local/share/doc/ddvm/examples/demo.conf" >"$d/demo.conf"
grep -q "$d/nvme.img" "$d/demo.conf" && grep -q "ddvi-" "$d/demo.conf" || fail "could not retarget demo.conf"
# ddvm@demo.service's ExecStart, with the paths of this tree
cmdline=$(echo "$exec_start" | sed -e "s|%i|demo|g" -e "s|/usr/local/bin/ddvm|$BIN|" \
	-e "s|/run/ddvm/demo|$DDVM_RUNDIR|" -e "s|/etc/ddvm/demo.conf|$d/demo.conf|")

# start_service: run ExecStart in the foreground under a NOTIFY_SOCKET; wait for READY=1.
start_service() {
	: >"$d/notify.log"
	rm -f "$d/notify.sock"
	python3 "$d/notify.py" "$d/notify.sock" "$d/notify.log" &
	listener=$!
	wait_for "the notify socket" 10 test -S "$d/notify.sock"
	# shellcheck disable=SC2086  # the unit's command line, split as systemd splits it
	NOTIFY_SOCKET=$d/notify.sock $cmdline >>"$d/up.log" 2>&1 &
	sup=$!
	wait_for "READY=1 from the supervisor" 120 notified "^READY=1 | STATUS=driver VMs ready"
	kill -0 $sup || fail "the supervisor exited: $(tail -5 "$d/up.log")"
	[ "$(vm_json | jq -r .state)" = ready ] || fail "READY=1 before the driver VM is ready"
}
# stop_service HOW...: stop it, the supervisor must exit 0 and leave nothing.
stop_service() {
	local rc=0
	"$@"
	wait $sup || rc=$?
	sup=""
	[ $rc = 0 ] || fail "the supervisor exited $rc after '$*': $(tail -5 "$d/up.log")"
	wait_for "STOPPING=1" 10 notified "^STOPPING=1"
	kill $listener 2>/dev/null || true
	listener=""
	! pgrep -f "qemu-system-x86_64.*$DDVM_RUNDIR/" >/dev/null || fail "QEMU left after '$*'"
	! pgrep -f "(nbdkit|ddvm-tap).*$DDVM_RUNDIR/" >/dev/null || fail "front-ends left after '$*'"
	note "'$*': $(grep STOPPING "$d/notify.log")"
}

# --- the demo, as ddvm@demo.service, stopped with ddvm down ---
start_service
note "notified: $(head -n 1 "$d/notify.log")"
wait_for "nvme bound to driver nvme producing nvme0n1" 60 has_dev nvme nvme0n1
wait_for "e1000 bound to driver e1000 producing eth0" 60 has_dev e1000 eth0
qpid=$(vm_json | jq -r .pid)
# (the kernel is handed to QEMU as fd 61: the file behind it)
case $(readlink "/proc/$qpid/fd/61") in "$root/var/lib/ddvm/images/driver/"*) ;; *)
	fail "QEMU does not boot the installed image: its kernel is $(readlink "/proc/$qpid/fd/61")" ;; esac
ex() { vm_json | jq -r ".exports[] | select(.kind == \"$1\") | $2"; }
running() { [ "$(ex "$1" .state)" = running ]; }
wait_for "nbdkit running" 60 running disk
wait_for "ddvm-tap running" 60 running nic
nbd_pid=$(ex disk .frontend_pid) tap_pid=$(ex nic .frontend_pid)
# (the plugin is handed to nbdkit as fd 10: the file behind it)
readlink "/proc/$nbd_pid/fd/10" | grep -q "^$root/usr/lib/.*/nbdkit/plugins/nbdkit-ddvm-plugin.so$" ||
	fail "nbdkit does not run the installed plugin: its fd 10 is $(readlink "/proc/$nbd_pid/fd/10")"
[ "$(readlink "/proc/$tap_pid/exe")" = "$root/usr/local/bin/ddvm-tap" ] ||
	fail "the TAP front-end is not the installed ddvm-tap: $(readlink "/proc/$tap_pid/exe")"
for p in $qpid $nbd_pid $tap_pid; do
	! tr '\0' '\n' <"/proc/$p/environ" | grep -q '^NOTIFY_SOCKET=' || fail "process $p inherited NOTIFY_SOCKET"
done
note "QEMU $qpid, nbdkit $nbd_pid, ddvm-tap $tap_pid: installed files, no NOTIFY_SOCKET"
# one data round trip through Linux's nvme driver in the driver VM
uri=$(ex disk .nbd)
wait_for "the NBD export answers" 30 nbdinfo --size "$uri"
head -c 4194304 /dev/urandom >"$d/pattern"
timeout 60 nbdcopy "$d/pattern" "$uri" || fail "nbdcopy write failed"
timeout 60 nbdcopy "$uri" - | head -c 4194304 | cmp - "$d/pattern" || fail "data read back differs"
note "4 MiB written through $uri and read back: identical"
"$BIN" ping demo -n 20 >/dev/null || fail "ping failed"
"$BIN" status | grep -q nvme0n1 || fail "human status lacks the devices"
# bash completion, installed: the running driver VM's name
names=$(bash -c '. "$1"; COMP_WORDS=("$2" --rundir "$3" ping ""); COMP_CWORD=4; _ddvm; echo "${COMPREPLY[*]}"' \
	_ "$root/usr/local/share/bash-completion/completions/ddvm" "$BIN" "$DDVM_RUNDIR")
[ "$names" = demo ] || fail "completion of 'ddvm ping' gave '$names'"
stop_service "$BIN" down

# --- again, stopped as systemctl stop does: SIGTERM ---
start_service
stop_service kill -TERM $sup
echo ok
INNER
env -u DDVM_SRCDIR -u DDVM_IMAGE_DIR -u DDVM_CLIENT_IMAGE_DIR -u DDVM_NBDKIT_PLUGIN -u DDVM_TAP_BIN \
	TOP="$TOP" root="$root" d="$d" uptodate=$uptodate exec_start="$exec_start" TEST_NAME="$TEST_NAME" \
	src_hash="$src_hash" \
	unshare --mount --propagation private -- bash "$d/inner.sh" ||
	fail "the installed ddvm failed (log: $(tail -5 "$d/up.log" 2>/dev/null))"
no_qemu_left || fail "QEMU left behind"

# --- 4. make uninstall removes what make install put there ---------------------------
stage=$d/stage2
make -C "$TOP" --no-print-directory install DESTDIR="$stage" >"$d/install2.log" 2>&1 || fail "second make install failed"
touch "$stage/var/lib/ddvm/images/built-image"		# a user's image stays
make -C "$TOP" --no-print-directory uninstall DESTDIR="$stage" >"$d/uninstall.log" 2>&1 ||
	fail "make uninstall failed: $(tail -5 "$d/uninstall.log")"
left=$(cd "$stage" && find . -type f | sort)
[ "$left" = "./var/lib/ddvm/images/built-image" ] || fail "make uninstall left: $left"
note "make uninstall: only the user's image is left"
echo ok
