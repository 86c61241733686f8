#!/bin/bash
# Sockets and the run folder are private to the user running ddvm:
#  - a run folder (or a driver VM's subfolder) that is a symlink, owned by
#    another user or open to group/others is refused with an error naming it,
#    before anything is started, and nothing is created through the symlink;
#  - with a driver VM up, the run folder and the VM's folder are 0700, the
#    control, ivshmem and QMP sockets 0600;
#  - another user cannot even open the sockets (EACCES); one that gets past
#    the file permissions (CAP_DAC_OVERRIDE) is refused by SO_PEERCRED on the
#    control and ivshmem sockets: closed at once with no reply and no region
#    fd, and ddvm.log names its uid and pid;
#  - a user named in allow_users gets through both (status reply, shm fd);
#    a name that is no user is a config error.
. "$(dirname "$0")/../lib/functions.sh"
requires jq setpriv stat qemu-system-x86_64
[ "$(id -u)" = 0 ] || fail "needs root (switches to other uids)"
PY=/usr/bin/python3	# not a shim under /root: other users run it too
[ -x "$PY" ] || fail "$PY not found"
new_rundir
d=$DDVM_RUNDIR
ME=$(id -u)
NOBODY=$(id -u nobody)
STRANGER=65533		# in no allow list, no passwd entry needed


printf 'allow_users = [ "nobody" ];\nvms = ( { name = "p"; boot_timeout = %d; } );\n' \
	"$BOOT_SECS" >"$d/p.conf"

# 0. allow_users names users that exist.
printf 'allow_users = [ "nobody", "no-such-user-ddvm" ];\nvms = ( { name = "p"; } );\n' >"$d/bad.conf"
expect_error_fixed "unknown user in allow_users" "bad.conf: allow_users[1]: no such user 'no-such-user-ddvm'" \
	ddvm up "$d/bad.conf"
printf 'allow_users = "nobody";\nvms = ( { name = "p"; } );\n' >"$d/bad.conf"
expect_error_fixed "allow_users not a list" "allow_users must be a list of user names" ddvm up "$d/bad.conf"

# 1. Run folders that are not private are refused before anything starts
# (bounded: a ddvm that accepted one would run a supervisor in the foreground).
mkdir -m 0700 "$d/target"
ln -s "$d/target" "$d/link"
expect_error_fixed "run folder is a symlink" "run folder $d/link is a symlink: refusing it" \
	timeout -k 5 60 env DDVM_RUNDIR="$d/link" "$DDVM_BIN" up "$d/p.conf"
mkdir -m 0700 "$d/theirs"
chown "$NOBODY:$NOBODY" "$d/theirs"
expect_error_fixed "run folder owned by another user" \
	"run folder $d/theirs is owned by uid $NOBODY, not $ME: refusing it" \
	timeout -k 5 60 env DDVM_RUNDIR="$d/theirs" "$DDVM_BIN" up "$d/p.conf"
mkdir -m 0755 "$d/open"
expect_error_fixed "run folder open to others" "run folder $d/open has mode 0755, which lets group or others in" \
	timeout -k 5 60 env DDVM_RUNDIR="$d/open" "$DDVM_BIN" up "$d/p.conf"
# The same for a driver VM's subfolder (checked when the supervisor starts).
mkdir -m 0700 "$d/r1" "$d/r2" "$d/r2/p"
ln -s "$d/target" "$d/r1/p"
expect_error_fixed "VM folder is a symlink" "vm 'p': run folder $d/r1/p is a symlink: refusing it" \
	timeout -k 5 60 env DDVM_RUNDIR="$d/r1" "$DDVM_BIN" up "$d/p.conf"
chown "$NOBODY:$NOBODY" "$d/r2/p"
expect_error_fixed "VM folder owned by another user" \
	"vm 'p': run folder $d/r2/p is owned by uid $NOBODY, not $ME: refusing it" \
	timeout -k 5 60 env DDVM_RUNDIR="$d/r2" "$DDVM_BIN" up "$d/p.conf"
[ -z "$(ls -A "$d/target")" ] || fail "files were created through the symlink: $(ls -A "$d/target")"
[ -z "$(ls -A "$d/theirs")" ] || fail "files were created in another user's folder: $(ls -A "$d/theirs")"
no_qemu_left || fail "a QEMU was started for a refused run folder"

# 2. A driver VM up: folders 0700, sockets 0600, all ours.
ddvm up -d "$d/p.conf" || fail "up failed: $(tail -n 5 "$d/ddvm.log")"
mode_is() {
	local want=$1 f=$2 got
	got=$(stat -c '%a %u' "$f") || fail "no $f"
	[ "$got" = "$want $ME" ] || fail "$f: mode and owner '$got', expected '$want $ME'"
}
mode_is 700 "$d"
mode_is 700 "$d/p"
for s in "$d/control.sock" "$d/p/ivshmem.sock" "$d/p/qmp.sock"; do
	[ -S "$s" ] || fail "$s is not a socket"
	mode_is 600 "$s"
done
note "run folder and VM folder 0700; control, ivshmem and QMP sockets 0600"

# probe KIND PATH: connect to a control or ivshmem socket and say what happened:
# "pid N" first, then denied (EACCES at connect), closed (hung up with no
# reply / no message), or admitted (a status reply / version, id and shm fd).
PROBE='
import json, os, socket, struct, sys
kind, path = sys.argv[1], sys.argv[2]
print("pid", os.getpid(), flush=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(path)
except PermissionError:
    print("denied"); sys.exit(0)
try:
    if kind == "control":
        s.sendall(b"{\"cmd\":\"status\"}\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if not data:
            print("closed"); sys.exit(0)
        print("admitted" if json.loads(data).get("ok") else "garbled"); sys.exit(0)
    msgs = []
    while len(msgs) < 3:
        m, anc, _, _ = s.recvmsg(8, socket.CMSG_SPACE(4 * 4))
        if not m:
            break
        fds = [f for lvl, typ, dat in anc if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS
               for f in struct.unpack("%di" % (len(dat) // 4), dat)]
        msgs.append((struct.unpack("<q", m)[0], len(fds)))
    if not msgs:
        print("closed")
    elif msgs[0] == (0, 0) and msgs[1][0] > 0 and msgs[2] == (-1, 1):
        print("admitted")
    else:
        print("garbled", msgs)
except (ConnectionResetError, BrokenPipeError):
    print("closed")
'
# probe_as UID [caps] KIND PATH: the probe as another user (caps: past file permissions)
probe_as() {
	local uid=$1 caps=()
	shift
	if [ "$1" = caps ]; then
		caps=(--inh-caps=+dac_override --ambient-caps=+dac_override)
		shift
	fi
	(cd / && setpriv --reuid="$uid" --regid="$uid" --clear-groups "${caps[@]}" \
		timeout 20 "$PY" -c "$PROBE" "$@")
}
# expect_probe WANT UID [caps] KIND PATH: sets $probe_pid
expect_probe() {
	local want=$1 out
	shift
	out=$(probe_as "$@") || fail "probe $* failed: $out"
	probe_pid=$(sed -n 's/^pid //p' <<<"$out")
	[ "$(tail -n 1 <<<"$out")" = "$want" ] ||
		fail "uid $1 on ${*: -1}: '$(tail -n 1 <<<"$out")', expected '$want'"
}

# 3. File permissions keep other users out.
for s in "$d/control.sock" "$d/p/ivshmem.sock"; do
	expect_probe denied "$STRANGER" "${s##*/}" "$s"
	expect_probe denied "$NOBODY" "${s##*/}" "$s"
done
note "other users get EACCES at connect (allowed or not: the folder is 0700)"

# 4. Past the file permissions, SO_PEERCRED refuses a user not allowed, and says so.
expect_probe closed "$STRANGER" caps control "$d/control.sock"
grep -q "control socket $d/control.sock: refused a connection from uid $STRANGER (pid $probe_pid)" \
	"$d/ddvm.log" || fail "no log line for the refused control connection (pid $probe_pid)"
expect_probe closed "$STRANGER" caps ivshmem "$d/p/ivshmem.sock"
grep -q "$d/p/ivshmem.sock: refused a connection from uid $STRANGER (pid $probe_pid)" \
	"$d/ddvm.log" || fail "no log line for the refused ivshmem connection (pid $probe_pid)"
grep "joined the channel" "$d/ddvm.log" | grep -q "pid $probe_pid" &&
	fail "the refused client joined the channel"
note "uid $STRANGER with CAP_DAC_OVERRIDE: closed at once on both sockets, no region fd; logged"

# 5. A user allow_users names is admitted on both.
expect_probe admitted "$NOBODY" caps control "$d/control.sock"
expect_probe admitted "$NOBODY" caps ivshmem "$d/p/ivshmem.sock"
grep "joined the channel" "$d/ddvm.log" | grep -q "pid $probe_pid" ||
	fail "the allowed client's join is not in the log"
note "uid $NOBODY (allow_users = [\"nobody\"]): status reply and the region fd"

vm_state_is p ready || fail "driver VM disturbed: $(vm_field p .state)"
ddvm down || fail "down failed"
no_qemu_left || fail "QEMU left behind"
echo "PASS: $TEST_NAME"
