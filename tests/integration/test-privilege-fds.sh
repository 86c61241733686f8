#!/bin/bash
# Every process the supervisor starts holds only the fds it is handed, and
# QEMU runs inside its seccomp sandbox.  Two driver VMs (a: a disk; b: a
# disk and a NIC), started from a shell holding a marker file open on fd 77
# (ddvm up, and the supervisor, inherit it).  Then, for each QEMU, nbdkit,
# ddvm-tap and log pump:
#   - not the marker: fds the supervisor did not hand over are gone at exec
#   - no listening socket of the supervisor's (control.sock, the ivshmem
#     servers' sockets, the NBD sockets of other exports), and QEMU no QMP
#     socket but its own (QEMU listens on it, the supervisor connects): a
#     child reaches the supervisor only through what it was given
#   - only its own VM's shared memory, and a front-end only its own
#     channel's (memfd:ddvm-VM-EXPORT)
#   - a log pump: its pipe, its log file and /dev/null, nothing else
# and each QEMU reports seccomp mode 2 (-sandbox on, with obsolete,
# elevateprivileges, spawn and resourcecontrol denied).  And each runs with
# the least privilege: QEMU and nbdkit as the unprivileged user ddvm with no
# capability at all (effective, permitted, bounding, ambient), ddvm-tap as
# ddvm with CAP_NET_ADMIN alone, the log pumps as uid 0 (root owns the run
# folder) with no capability; every one with no_new_privs; QEMU and the
# front-ends under the filter that lets them signal or trace nobody but
# themselves (host/confine.c; test-confine checks what it refuses).  The supervisor
# stays root with the capabilities it needs alone (bounding set too).  And
# when it is killed (SIGKILL), every one of them goes with it.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64 nbdkit
id ddvm >/dev/null 2>&1 || fail "no user ddvm (scripts/add-user.sh, run by scripts/install-deps.sh, creates it)"
new_rundir
d=$DDVM_RUNDIR
cat >"$d/two.conf" <<CONF
vms = ( { name = "a"; memory = 128;
          devices = ( { type = "nvme"; file = "$d/a.img"; size = "16M"; create = true; } ); },
        { name = "b"; memory = 128;
          devices = ( { type = "nvme"; file = "$d/b.img"; size = "16M"; create = true; },
                      { type = "e1000"; net = "isolated"; tap = "ddvt-${d##*.}"; } ); } );
CONF
: >"$d/marker"
exec 77<"$d/marker"
ddvm up -d "$d/two.conf" >/dev/null || fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"
exec 77<&-
wait_for "front-ends running" 60 bash -c "[ \$('$DDVM_BIN' status --json | jq '[.vms[].exports[] | select(.state == \"running\")] | length') = 3 ]"

# Inodes of the listening sockets in the run folder: path inode.
socks=$(awk -v d="$d/" 'NR > 1 && $8 ~ "^" d && $8 ~ /\.sock$/ { print $8, $7 }' /proc/net/unix | sort -u)
[ -n "$socks" ] || fail "found no listening socket in the run folder"
sv=$(status_json | jq -r .supervisor_pid)

# fds_ok PID WHAT VM [OWN-MEMFD [OWN-SOCKET...]]: check one process; it may
# hold the listening sockets it was handed (QEMU its qmp.sock, nbdkit its
# NBD socket), no other.
fds_ok() {
	local pid=$1 what=$2 vm=$3 own=${4:-} fd t ino n=0 listening mine
	shift 3; [ $# -eq 0 ] || shift
	mine=$(for s in "$@"; do echo "$socks" | awk -v p="$s" '$1 == p { print $2 }'; done)
	listening=$(echo "$socks" | awk '{ print $2 }' | grep -vxF "${mine:-none}" || true)
	for fd in /proc/"$pid"/fd/*; do
		t=$(readlink "$fd" 2>/dev/null) || continue
		n=$((n + 1))
		[ "$t" != "$d/marker" ] || fail "$what (pid $pid) holds the marker fd the supervisor inherited"
		case $t in
		socket:\[*)
			ino=${t#socket:[}; ino=${ino%]}
			! grep -qx "$ino" <<<"$listening" || fail "$what (pid $pid) holds a listening socket of the supervisor ($t)"
			;;
		/memfd:ddvm-*)
			t=${t% (deleted)}
			case ${t#/memfd:} in
			ddvm-$vm | ddvm-$vm-*) ;;
			*) fail "$what (pid $pid) of vm $vm holds another VM's memory: $t" ;;
			esac
			[ -z "$own" ] || [ "${t#/memfd:}" = "$own" ] ||
				fail "$what (pid $pid) holds another channel's memory: $t (its own: $own)"
			;;
		esac
	done
	note "$what (pid $pid, vm $vm): $n fds, none it was not handed"
}
# priv_ok PID WHAT USER CAPS: real, effective, saved and fs uid all USER's, and
# the capability sets (effective, permitted, bounding, ambient) all CAPS (hex).
DDVM_UID=$(id -u ddvm)
priv_ok() {
	local pid=$1 what=$2 uid=$3 caps=$4 f
	[ "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" = "$uid $uid $uid $uid" ] ||
		fail "$what (pid $pid) runs as uid $(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status"), not $uid"
	for f in CapEff CapPrm CapBnd CapAmb; do
		[ "$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$pid/status")" = "$caps" ] ||
			fail "$what (pid $pid): $f $(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$pid/status"), expected $caps"
	done
	[ "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")" = 1 ] || fail "$what (pid $pid): no no_new_privs"
	note "$what (pid $pid): uid $uid, capabilities $caps, no_new_privs"
}
# confined PID WHAT N: in seccomp mode 2 under N filters at least (ours, host/confine.c: no
# signal or trace but to itself; QEMU's -sandbox on top)
confined() {
	local n
	[ "$(awk '/^Seccomp:/ { print $2 }' "/proc/$1/status")" = 2 ] || fail "$2 (pid $1) has no seccomp filter"
	n=$(awk '/^Seccomp_filters:/ { print $2 }' "/proc/$1/status")
	[ -z "$n" ] || [ "$n" -ge "$3" ] || fail "$2 (pid $1) runs under $n seccomp filters, expected $3 at least"
}
NONE=0000000000000000 NET_ADMIN=0000000000001000
# The supervisor keeps what it needs (host/privilege.c): chown, dac_override,
# dac_read_search, fowner, kill, setgid, setuid, setpcap, net_bind_service,
# net_admin, ipc_lock, sys_ptrace, sys_admin, sys_nice, sys_resource -- so no
# sys_module, sys_rawio, sys_boot, sys_time, mknod, net_raw, bpf, ...
sv_caps=0
for c in 0 1 2 3 5 6 7 8 10 12 14 19 21 23 24; do sv_caps=$((sv_caps | (1 << c))); done
sv_caps=$(printf '%016x' $((sv_caps & 0x$(awk '/^CapPrm:/ { print $2 }' /proc/self/status))))	# of what we have
for f in CapEff CapPrm CapBnd; do
	[ "$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$sv/status")" = "$sv_caps" ] ||
		fail "supervisor (pid $sv): $f $(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$sv/status"), expected $sv_caps"
done
note "supervisor (pid $sv): root with the capabilities it needs alone ($sv_caps)"
for vm in a b; do
	q=$(vm_field "$vm" .pid)
	priv_ok "$q" "QEMU of $vm" "$DDVM_UID" $NONE
	confined "$q" "QEMU of $vm" 2
	[ "$(awk '/^Seccomp:/ { print $2 }' "/proc/$q/status")" = 2 ] || fail "QEMU of $vm is not in seccomp mode 2"
	grep -q -- '-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny' \
		"/proc/$q/cmdline" 2>/dev/null || tr '\0' ' ' <"/proc/$q/cmdline" |
		grep -q -- '-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny' ||
		fail "QEMU of $vm: not every sandbox option"
	fds_ok "$q" "QEMU" "$vm" "" "$d/$vm/qmp.sock"
	for i in $(vm_json "$vm" | jq -r '.exports | keys[]'); do
		p=$(vm_json "$vm" | jq -r ".exports[$i].frontend_pid")
		k=$(vm_json "$vm" | jq -r ".exports[$i] | if .kind == \"disk\" then \"disk\" else \"net\" end")
		n=$(vm_json "$vm" | jq -r ".exports[$i].index")
		fds_ok "$p" "front-end $k$n" "$vm" "ddvm-$vm-$k$n" "$d/$vm/disk$n.sock"
		priv_ok "$p" "front-end $k$n of $vm" "$DDVM_UID" "$([ "$k" = disk ] && echo $NONE || echo $NET_ADMIN)"
		confined "$p" "front-end $k$n of $vm" 1
	done
done
# The log pumps: their pipe (0), /dev/null (1, 2) and their log, nothing else.
pumps=$(pgrep -f "^ddvm-log __log $d/" || true)
[ "$(echo $pumps | wc -w)" -ge 7 ] || fail "expected a log pump per console, QEMU and front-end log: $pumps"
for p in $pumps; do
	n=$(ls /proc/"$p"/fd | wc -l)
	log=$(tr '\0' ' ' <"/proc/$p/cmdline" | awk '{ print $3 }')
	[ "$n" -le 4 ] || fail "log pump $p ($log) holds $n fds: $(ls -l /proc/$p/fd | tail -n +2)"
	[ "$(readlink /proc/"$p"/fd/0 | cut -c1-5)" = pipe: ] || fail "log pump $p: stdin is not its pipe"
	priv_ok "$p" "log pump $p ($log)" 0 $NONE
done
note "$(echo $pumps | wc -w) log pumps, each with its pipe and its log alone"
# Dropping to the user clears the parent-death signal: it must have been set
# again.  The supervisor killed with SIGKILL, every child goes with it.
kids=$(for vm in a b; do vm_field "$vm" .pid; vm_json "$vm" | jq -r '.exports[].frontend_pid'; done)
kill -9 "$sv"
gone() { local p; for p in $kids; do ! kill -0 "$p" 2>/dev/null || return 1; done; }
wait_for "QEMU and the front-ends gone with the supervisor (pids $(echo $kids))" 20 gone
note "supervisor killed: its $(echo $kids | wc -w) QEMUs and front-ends went with it"
echo ok
