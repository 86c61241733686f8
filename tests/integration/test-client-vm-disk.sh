#!/bin/bash
# A Linux client VM uses a driver VM's disk through ddvm_front.ko over the
# disk's own channel (the paper's configuration): the disk's limits are the
# export's, write zeroes and discard work, mkfs.ext4 on /dev/ddvm0, files
# written, checksums printed, flushes reached the disk; the client VM booted
# a second time, e2fsck clean and the same checksums read back; the data is
# in the driver VM's backing file.
#
# The channel has room for one client: its NBD front-end is kept out by
# naming a plugin that does not exist (the export is "unavailable", its
# channel served all the same; test-supervisor-starts-frontends).
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
requires jq qemu-system-x86_64 cpio gzip grep blkdiscard
new_rundir
d=$DDVM_RUNDIR
client_image
marker="ddvm-client-marker-$RANDOM$RANDOM"

cat >"$d/cv.conf" <<CONF
vms = ( { name = "cv";
  devices = ( { type = "nvme"; file = "$d/nvme.img"; size = "64M"; create = true; } ); } );
CONF
DDVM_NBDKIT_PLUGIN=$d/no/nbdkit-ddvm-plugin.so ddvm up -d "$d/cv.conf" 2>"$d/up.err" ||
	fail "ddvm up -d failed: $(cat "$d/up.err")"
ex_field() { vm_json cv | jq -r ".exports[0]$1"; }
queue_ready() { [ "$(ex_field .queue_state)" = ready ]; }
wait_for "the disk's queue to be ready in the driver VM" 90 queue_ready
[ "$(ex_field .state)" = unavailable ] || fail "the NBD front-end runs: state '$(ex_field .state)'"
sock=$(ex_field .channel.socket)
[ -S "$sock" ] || fail "no channel socket '$sock'"
note "driver VM ready; disk channel $sock, $(ex_field .channel.size) bytes"

bd=$(command -v blkdiscard)	# util-linux's (-z), added at its host path below
# Console lines: "QUEUE <limit> <value>", "SUM <sha256>  <file>", "STAT
# <flushes done>", then "RESULT ok" or "RESULT fail: why".
cat >"$d/write.sh" <<SCRIPT
#!/bin/sh
die() { echo "RESULT fail: \$*"; dmesg | tail -n 30; poweroff -f; }
q=/sys/block/ddvm0/queue
for f in logical_block_size physical_block_size max_hw_sectors_kb write_cache fua \
	discard_max_bytes write_zeroes_max_bytes rotational; do
	echo "QUEUE \$f \$(cat \$q/\$f)"
done
echo "QUEUE nr_tags \$(cat /sys/block/ddvm0/mq/0/nr_tags)"
# Write zeroes (util-linux blkdiscard -z: BLKZEROOUT) over random data, then discard.
dd if=/dev/urandom of=/dev/ddvm0 bs=64k count=16 2>/dev/null || die "write 1 MiB"
$bd -z -o 0 -l 1048576 /dev/ddvm0 || die "write zeroes"
cmp -n 1048576 /dev/ddvm0 /dev/zero || die "write zeroes left data"
$bd -o 1048576 -l 4194304 /dev/ddvm0 || die "discard"
echo "ZEROES-DISCARD ok"
mkfs.ext4 -q -F /dev/ddvm0 || die "mkfs.ext4"
mount -t ext4 /dev/ddvm0 /mnt || die "mount"
dd if=/dev/urandom of=/mnt/big bs=64k count=128 2>/dev/null || die "write big"
mkdir -p /mnt/dir/sub || die mkdir
i=0
while [ \$i -lt 50 ]; do
	dd if=/dev/urandom of=/mnt/dir/sub/f\$i bs=1k count=\$((i + 1)) 2>/dev/null || die "write f\$i"
	i=\$((i + 1))
done
echo "$marker" >/mnt/dir/marker
sync
(cd /mnt && sha256sum big dir/marker dir/sub/* | sed 's/^/SUM /')
umount /mnt || die "umount"
# /sys/block/X/stat field 16: flush requests completed (ext4's journal commits).
echo "STAT flushes \$(awk '{ print \$16 }' /sys/block/ddvm0/stat)"
dmesg | grep -E 'ddvm|I/O error|EXT4-fs' | sed 's/^/DMESG /'
echo "RESULT ok"
poweroff -f
SCRIPT
cat >"$d/read.sh" <<'SCRIPT'
#!/bin/sh
die() { echo "RESULT fail: $*"; dmesg | tail -n 30; poweroff -f; }
e2fsck -fn /dev/ddvm0 >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; die "e2fsck found errors"; }
echo "FSCK clean"
mount -t ext4 -o ro /dev/ddvm0 /mnt || die "mount"
(cd /mnt && sha256sum big dir/marker dir/sub/* | sed 's/^/SUM /')
umount /mnt || die "umount"
dmesg | grep -E 'ddvm|I/O error|EXT4-fs' | sed 's/^/DMESG /'
echo "RESULT ok"
poweroff -f
SCRIPT

mkdir -p "$d/extra"
copy_closure "$d/extra" "$bd"

# run_client NAME SCRIPT: boot a client VM with SCRIPT, wait for it to power off.
run_client() {
	local name=$1 start=$SECONDS
	client_vm_start "$name" "$sock" "$2" "$d/extra"
	client_vm_wait "$name" 300
	grep -q '^ddvm-client: ready (1 disks: ddvm0)' "$d/$name.console" ||
		fail "$name: /dev/ddvm0 did not appear: $(tail -n 20 "$d/$name.console")"
	grep -q '^RESULT ok' "$d/$name.console" ||
		fail "$name: $(grep '^RESULT' "$d/$name.console" || echo 'no result'): $(tail -n 30 "$d/$name.console")"
	! grep -Eq 'I/O error|EXT4-fs error|Buffer I/O' "$d/$name.console" ||
		fail "$name: I/O errors in the client: $(grep -E 'I/O error|EXT4-fs error' "$d/$name.console" | head -n 5)"
	note "$name: $((SECONDS - start)) s; $(grep -o 'ddvm0: [0-9]* bytes.*' "$d/$name.console" | head -n 1)"
}
run_client write "$d/write.sh"
grep '^SUM ' "$d/write.console" >"$d/sums.write"
[ "$(wc -l <"$d/sums.write")" = 52 ] || fail "expected 52 checksums, got: $(cat "$d/sums.write")"
grep -q 'DMESG.*ddvm0: [0-9]* bytes, 512/512' "$d/write.console" ||
	fail "no disk line from ddvm_front: $(grep DMESG "$d/write.console")"
# The export's parameters (nvme in the driver VM: 512-byte blocks, 128 KiB
# transfers, a volatile cache with FUA, discard and write zeroes; 32 slots).
lim() { sed -n "s/^QUEUE $1 //p" "$d/write.console" | tr -d '\r'; }
for kv in logical_block_size=512 max_hw_sectors_kb=128 "write_cache=write back" fua=1 \
	nr_tags=32 rotational=0; do
	[ "$(lim "${kv%%=*}")" = "${kv#*=}" ] || fail "queue ${kv%%=*} is '$(lim "${kv%%=*}")', expected '${kv#*=}'"
done
[ "$(lim discard_max_bytes)" -gt 0 ] && [ "$(lim write_zeroes_max_bytes)" -gt 0 ] ||
	fail "no discard / write zeroes: $(grep '^QUEUE' "$d/write.console" | tr '\n' ' ')"
grep -q '^ZEROES-DISCARD ok' "$d/write.console" || fail "write zeroes / discard failed"
flushes=$(sed -n 's/^STAT flushes //p' "$d/write.console" | tr -d '\r')
[ "${flushes:-0}" -gt 0 ] || fail "no flush reached the disk (STAT flushes '$flushes')"
note "limits: $(grep '^QUEUE' "$d/write.console" | cut -d' ' -f2- | tr -d '\r' | tr '\n' ',' | sed 's/,$//'); $flushes flushes; write zeroes and discard ok"

run_client read "$d/read.sh"
grep -q '^FSCK clean' "$d/read.console" || fail "e2fsck did not run"
grep '^SUM ' "$d/read.console" >"$d/sums.read"
cmp -s "$d/sums.write" "$d/sums.read" ||
	fail "checksums differ after the reboot: $(diff "$d/sums.write" "$d/sums.read" | head -n 5)"
note "52 files' checksums identical after a reboot of the client VM; e2fsck clean"

# The data went through the driver VM to its disk: the backing file holds it.
grep -qa "$marker" "$d/nvme.img" || fail "the marker file is not in the driver VM's backing file"
note "the driver VM's backing file holds the data ($(du -k "$d/nvme.img" | cut -f1) KiB allocated)"
ddvm down || fail "ddvm down failed"
echo ok
