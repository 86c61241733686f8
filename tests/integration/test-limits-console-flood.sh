#!/bin/bash
# Logs stay within their cap while a driver VM floods its console (and a
# front-end floods its log): every log the supervisor's children write --
# the QEMU console, qemu.log, each front-end's log -- goes through a log
# pump that rotates it at DDVM_LOG_MAX bytes (here 64 KiB: FILE and
# FILE.1, each at most the cap, cut at a line's end).  The floods: QEMU is
# started through a wrapper (DDVM_QEMU) that writes 24 MiB of lines into
# the console's fd beside the guest's own output, and nbdkit through one
# (first on PATH) that writes 24 MiB to its stderr.  Meanwhile the driver VM
# boots, serves verified I/O through NBD and answers pings; the supervisor
# stays responsive; both logs rotated, never passed the cap, and end at a
# line's end; the logs kept on disk stay within the caps.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64 qemu-io nbdinfo nbdkit
new_rundir
CAP=65536 FLOOD=$((24 << 20))
export DDVM_LOG_MAX=$CAP
wrap=$DDVM_RUNDIR/wrap
mkdir -p "$wrap"
# The wrappers run as the run user (ddvm), who cannot enter the run folder:
# they say they are done in a folder of their own.
flags=$(mktemp -d /tmp/ddvm-flood-flags.XXXXXX)
chmod 0777 "$flags"
cleanup_fn "rm -rf '$flags'"
# QEMU: flood fd N of "-chardev file,id=console,path=/dev/fdset/N" (its fd set N
# holds fd N, -add-fd fd=N,set=N), then be QEMU.
cat >"$wrap/qemu" <<WRAP
#!/bin/bash
for a; do case \$a in file,id=console,path=/dev/fdset/*) fd=\${a#file,id=console,path=/dev/fdset/}; fd=\${fd%%,*} ;; esac; done
[ -n "\${fd:-}" ] || { echo "wrapper: no console fd in the arguments" >&2; exit 1; }
( yes "console flood from the driver VM: \$(date +%s%N) 0123456789abcdef" | head -c $FLOOD >&"\$fd"
  echo done >"$flags/console-flood.done" ) &
exec qemu-system-x86_64 "\$@"
WRAP
# nbdkit: flood stderr, then be nbdkit.
real_nbdkit=$(command -v nbdkit)
cat >"$wrap/nbdkit" <<WRAP
#!/bin/bash
( yes "nbdkit flood: \$(date +%s%N) 0123456789abcdef" | head -c $FLOOD >&2
  echo done >"$flags/nbdkit-flood.done" ) &
exec $real_nbdkit "\$@"
WRAP
chmod +x "$wrap/qemu" "$wrap/nbdkit"
export DDVM_QEMU=$wrap/qemu PATH=$wrap:$PATH

conf=$(demo_config)
ddvm up -d "$conf" || fail "ddvm up -d failed"
dir=$DDVM_RUNDIR/demo

# Sample the sizes until both floods are through: never past the cap.
max_seen=0
within_cap() {
	local f s
	for f in "$dir"/console.log "$dir"/console.log.1 "$dir"/qemu.log "$dir"/*.log "$dir"/*.log.1; do
		[ -f "$f" ] || continue
		s=$(stat -c %s "$f" 2>/dev/null) || continue	# rotated away meanwhile
		[ "$s" -le "$CAP" ] || fail "$f is $s bytes, past the cap of $CAP"
		[ "$s" -le "$max_seen" ] || max_seen=$s
	done
	[ -e "$flags/console-flood.done" ] && [ -e "$flags/nbdkit-flood.done" ]
}
wait_for "both floods written (sizes sampled meanwhile)" "$BOOT_SECS" within_cap
note "floods of $FLOOD bytes each written; largest log seen: $max_seen bytes (cap $CAP)"

wait_for "driver VM ready" "$BOOT_SECS" vm_state_is demo ready
uri=$(vm_field demo '.exports[] | select(.kind == "disk") | .nbd')
wait_for "NBD export answers" 60 nbdinfo --size "$uri"
# The pumps drain their pipes: give them an event to wait for, not a sleep.
wait_for "the console log rotated" 60 test -s "$dir/console.log.1"
for f in "$dir"/console.log "$dir"/console.log.1; do
	s=$(stat -c %s "$f")
	[ "$s" -le "$CAP" ] || fail "$f is $s bytes, past the cap"
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || fail "$f does not end at a line's end"
done
# The flood went through the pump, not around it: its end is in the newest
# two files.  (In which of them depends on where the last rotation fell and
# on how much the guest wrote after the flood: console.log may hold only
# the guest's lines.)
grep -q 'console flood from the driver VM' "$dir"/console.log "$dir"/console.log.1 ||
	fail "neither console.log nor console.log.1 holds any of the flood"
fe_logs=
for f in "$dir"/*.log.1; do
	case ${f##*/} in console.* | qemu.*) ;; *) [ -f "$f" ] && fe_logs="$fe_logs $f" ;; esac
done
[ -n "$fe_logs" ] || fail "no front-end log rotated (nbdkit's flood)"
for f in $fe_logs; do
	[ "$(stat -c %s "$f")" -le "$CAP" ] && [ "$(stat -c %s "${f%.1}")" -le "$CAP" ] ||
		fail "${f%.1} past the cap"
	grep -q 'nbdkit flood' "$f" || fail "$f holds none of nbdkit's flood"
done

# The driver VM works: verified I/O through NBD, pings, status.
timeout 60 qemu-io -f raw -c "write -P 0x5c 1M 256k" "$uri" >/dev/null || fail "NBD write failed"
timeout 60 qemu-io -f raw -c "read -P 0x5c 1M 256k" "$uri" | grep -q '^read 262144/262144' ||
	fail "NBD read-back did not verify"
ddvm ping demo -n 20 >/dev/null || fail "ping failed"
total=$(du -cb "$dir"/*.log "$dir"/*.log.1 2>/dev/null | tail -1 | cut -f1)
note "logs of $((2 * FLOOD)) bytes written, $total bytes kept on disk"
[ "$total" -le $((8 * CAP)) ] || fail "$total bytes of logs kept, more than the caps allow"
ddvm down || fail "down failed"
no_qemu_left || fail "QEMU left behind"
echo ok
