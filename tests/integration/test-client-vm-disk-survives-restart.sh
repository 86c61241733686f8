#!/bin/bash
# fio with crc32c verification inside a client VM on ddvm_front while the
# driver VM serving its disk is killed (SIGKILL of its QEMU) twice, each time
# holding requests: fio succeeds, the requests the dead instances held are
# resubmitted to their successors, and no I/O error reaches the client's
# kernel log.  The client VM is one the user starts (start = false): its QEMU
# attaches to the channel `ddvm qemu-args` names.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
requires jq qemu-system-x86_64 cpio gzip python3 fio
new_rundir
d=$DDVM_RUNDIR
client_image

cat >"$d/cr.conf" <<CONF
vms = ( { name = "cr"; max_restarts = 5;
  devices = ( { type = "nvme"; file = "$d/nvme.img"; size = "64M"; create = true;
                export = false; } ); } );
clients = ( { name = "c1"; start = false; disks = [ "cr/disk0" ]; } );
CONF
ddvm up -d "$d/cr.conf" 2>"$d/up.err" || fail "ddvm up -d failed: $(cat "$d/up.err")"
cd_field() { status_json | jq -r ".clients[0].disks[0]$1"; }
queue_ready() { [ "$(cd_field .queue_state)" = ready ]; }
wait_for "the client's disk to be ready in the driver VM" 90 queue_ready
sock=$(cd_field .channel.socket)
ddvm qemu-args c1 | grep -qF "path=$sock'" || fail "qemu-args does not name $sock: $(ddvm qemu-args c1)"
queue=0

# Passes of random writes (4k..128k, 16 in flight) each verified by crc32c,
# until the client has seen two driver-VM restarts.  Console lines:
# "PASS n start", "PASS n done restarts=R ...", "RESULT ok" / "RESULT fail: why".
cat >"$d/fio.sh" <<'SCRIPT'
#!/bin/sh
die() { echo "RESULT fail: $*"; dmesg | grep -E 'ddvm|error' | tail -n 40; poweroff -f; }
st() { cat /sys/block/ddvm0/ddvm/$1; }
t0=$(date +%s)
pass=0
while :; do
	pass=$((pass + 1))
	echo "PASS $pass start"
	fio --name=p$pass --filename=/dev/ddvm0 --rw=randwrite --bsrange=4k-128k --size=32M \
		--ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c --do_verify=1 \
		--randseed=$pass --eta=never --output=/tmp/fio.log || { cat /tmp/fio.log; die "fio pass $pass failed"; }
	grep -q 'err= 0' /tmp/fio.log || { cat /tmp/fio.log; die "fio pass $pass reported errors"; }
	echo "PASS $pass done restarts=$(st restarts) resubmitted=$(st resubmitted) timeouts=$(st timeouts) poisoned=$(st poisoned) generation=$(st generation)"
	[ "$(st restarts)" -ge 2 ] && break
	[ $(($(date +%s) - t0)) -lt 600 ] || die "no second driver-VM restart in 600 s"
done
dmesg | grep -E 'ddvm|I/O error|blk_update_request|Buffer I/O' | sed 's/^/DMESG /'
dmesg | grep -qE 'I/O error|blk_update_request|Buffer I/O' && die "I/O errors in the kernel log"
echo "RESULT ok"
poweroff -f
SCRIPT
mkdir -p "$d/extra"
copy_closure "$d/extra" "$(command -v fio)"
# fio's library closure is ~80 MB (librbd, ICU data...): room for it in the root.
CLIENT_MEM=512 client_vm_start fio "$sock" "$d/fio.sh" "$d/extra"
con=$d/fio.console
wait_for "fio to start in the client VM (console $con)" 240 grep -q '^PASS 1 start' "$con"

# kill_driver_vm N: SIGKILL the driver VM's QEMU the moment it holds requests
# of the client, wait for its successor, then for a verified fio pass after
# the restart.
kill_driver_vm() {
	local n=$1 pid gen t0 sup
	pid=$(vm_field cr .pid) gen=$(vm_field cr .generation) sup=$(status_json | jq -r .supervisor_pid)
	! grep -q '^RESULT' "$con" || fail "client ended early: $(tail -n 30 "$con")"
	t0=$SECONDS
	python3 "$TOP/tests/lib/blk_kill_holding.py" "$sup" cr-disk0-c1 "$queue" "$pid" 60 "$total_held" >"$d/held$n" ||
		fail "the driver VM never held a request of the client (kill $n): $(tail -n 5 "$con")"
	held=$(cut -d' ' -f2 "$d/held$n")
	total_held=$((total_held + held))
	restarted() { [ "$(vm_field cr .state)" = ready ] && [ "$(vm_field cr .generation)" -gt "$gen" ]; }
	wait_for "the driver VM to be restarted after kill $n" 120 restarted
	note "kill $n: driver VM pid $pid killed holding $held requests; generation $gen -> $(vm_field cr .generation) in $((SECONDS - t0)) s"
	wait_for "a verified fio pass after restart $n" 300 grep -q "^PASS .* done restarts=$n " "$con"
	! grep -q '^RESULT fail' "$con" || fail "client: $(grep '^RESULT' "$con"): $(tail -n 30 "$con")"
	note "$(grep -m1 "^PASS .* done restarts=$n " "$con")"
}
total_held=0
kill_driver_vm 1
kill_driver_vm 2
[ "$total_held" -gt 0 ] || fail "neither dead driver VM held a request at its death"
client_vm_wait fio 300
grep -q '^RESULT ok' "$con" ||
	fail "client: $(grep '^RESULT' "$con" || echo 'no result'): $(tail -n 30 "$con")"
! grep -Eq 'I/O error|blk_update_request|Buffer I/O' "$con" ||
	fail "I/O errors in the client: $(grep -E 'I/O error|blk_update_request' "$con" | head -n 5)"
grep -q 'DMESG.*resubmitted to its successor' "$con" ||
	fail "the client never resubmitted a request: $(grep DMESG "$con" | tail -n 10)"
note "$(grep -c '^PASS .* done' "$con") fio passes verified; $(grep 'DMESG.*resubmitted to its successor' "$con" | sed 's/.*ddvm0: //' | head -n 2 | tr '\n' ';')"
ddvm down || fail "ddvm down failed"
echo ok
