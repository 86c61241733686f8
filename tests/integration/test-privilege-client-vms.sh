#!/bin/bash
# Client VMs the supervisor starts run as the unprivileged user ddvm too,
# in QEMU's sandbox, with no capability, and still do their I/O: a client on
# ddvm_front.ko (its channel a connection it is handed) and a virtio client
# (virtio-blk on the export's NBD socket, which QEMU reaches through an
# O_PATH fd of the socket file: the run folder is root's, 0700).  Each
# writes a pattern of its own to its disk and reads it back (sha256 on its
# console); the host then reads the virtio client's writes through the
# export.  Meanwhile each client QEMU's uids, capability sets, no_new_privs
# and seccomp mode are checked, and that it holds the channel or socket it
# was handed and no path of the run folder.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
requires jq qemu-system-x86_64 cpio gzip nbdcopy sha256sum
id ddvm >/dev/null 2>&1 || fail "no user ddvm (scripts/add-user.sh, run by scripts/install-deps.sh, creates it)"
new_rundir
d=$DDVM_RUNDIR
client_image
[ "$(stat -c %a "$d")" = 700 ] || fail "run folder $d is mode $(stat -c %a "$d"), expected 700"

# SCRIPT DEV WORD: write 1 MiB of WORD lines to DEV, read it back, print its
# sum, then wait (the host checks the QEMU meanwhile).
client_script() {
	cat >"$d/$1.sh" <<SCRIPT
#!/bin/sh
i=0
while [ ! -b $2 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
yes $3 | head -c 1048576 >/tmp/pat
dd if=/tmp/pat of=$2 bs=64k conv=fsync 2>/dev/null || { echo "RESULT fail: write $2"; exec sleep 100000; }
echo 3 >/proc/sys/vm/drop_caches
echo "SUM \$(dd if=$2 bs=64k count=16 2>/dev/null | sha256sum | cut -d' ' -f1)"
echo "RESULT done"
exec sleep 100000
SCRIPT
	client_initrd "$1" "$d/$1.sh"
}
client_script c /dev/ddvm0 ddvm-front-client
client_script v /dev/vda virtio-client
want_c=$(yes ddvm-front-client | head -c 1048576 | sha256sum | cut -d' ' -f1)
want_v=$(yes virtio-client | head -c 1048576 | sha256sum | cut -d' ' -f1)

cat >"$d/pc.conf" <<CONF
vms = ( { name = "pv"; memory = 160;
  devices = ( { type = "nvme"; file = "$d/d0.img"; size = "16M"; create = true; },
              { type = "nvme"; file = "$d/d1.img"; size = "16M"; create = true; export = false; } ); } );
clients = (
  { name = "c"; memory = 256; max_restarts = 0; disks = [ "pv/disk1" ];
    kernel = "$(client_kernel)"; initrd = "$d/c.initrd"; },
  { name = "v"; memory = 256; max_restarts = 0; virtio = true; disks = [ "pv/disk0" ];
    kernel = "$(client_kernel)"; initrd = "$d/v.initrd"; } );
CONF
ddvm up -d "$d/pc.conf" >/dev/null || fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"

DDVM_UID=$(id -u ddvm)
for c in c v; do
	wait_for "client $c's result (console $d/$c/console.log)" 240 grep -q '^RESULT' "$d/$c/console.log"
	grep -q '^RESULT done' "$d/$c/console.log" || fail "client $c: $(grep '^RESULT' "$d/$c/console.log")"
	sum=$(sed -n 's/^SUM \([0-9a-f]*\).*/\1/p' "$d/$c/console.log" | tr -d '\r')
	want=$([ $c = c ] && echo "$want_c" || echo "$want_v")
	[ "$sum" = "$want" ] || fail "client $c read back $sum, wrote $want"
	q=$(status_json | jq -r --arg n "$c" '.clients[] | select(.name == $n) | .pid')
	[ -n "$q" ] && [ "$q" != null ] && [ "$q" != 0 ] && kill -0 "$q" || fail "client $c: no QEMU pid ($q)"
	st=/proc/$q/status
	[ "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' $st)" = "$DDVM_UID $DDVM_UID $DDVM_UID $DDVM_UID" ] ||
		fail "client $c's QEMU runs as uid $(awk '/^Uid:/ { print $2, $3, $4, $5 }' $st)"
	for f in CapEff CapPrm CapBnd CapAmb; do
		[ "$(awk -v f="$f:" '$1 == f { print $2 }' $st)" = 0000000000000000 ] ||
			fail "client $c's QEMU: $f $(awk -v f="$f:" '$1 == f { print $2 }' $st)"
	done
	[ "$(awk '/^NoNewPrivs:/ { print $2 }' $st)" = 1 ] || fail "client $c's QEMU: no no_new_privs"
	[ "$(awk '/^Seccomp:/ { print $2 }' $st)" = 2 ] || fail "client $c's QEMU is not in its seccomp sandbox"
	# What it holds of the run folder besides its kernel and initrd (fds 61, 62, handed):
	# the virtio client its disk's socket file (O_PATH), nothing else.
	held=$(for fd in /proc/$q/fd/*; do case ${fd##*/} in 61 | 62) ;; *) readlink "$fd" ;; esac; done |
		grep "^$d/" | sort -u || true)
	if [ $c = v ]; then
		[ "$held" = "$d/pv/disk0.sock" ] || fail "client v's QEMU holds of the run folder: ${held:-nothing}"
	else
		[ -z "$held" ] || fail "client c's QEMU holds paths of the run folder: $held"
	fi
	note "client $c: read back what it wrote; QEMU $q: uid $DDVM_UID, no capability, no_new_privs, seccomp 2${held:+, holds $held}"
done
# The virtio client's writes are on the disk: the export reads them back.
got=$(nbdcopy "$(vm_field pv '.exports[] | select(.kind == "disk" and .index == 0) | .nbd')" - |
	head -c 1048576 | sha256sum | cut -d' ' -f1)
[ "$got" = "$want_v" ] || fail "the export reads $got where client v wrote $want_v"
note "the virtio client's 1 MiB reads back through the export"
ddvm down >/dev/null || fail "down failed"
echo ok
