#!/bin/bash
# A Linux client VM uses a driver VM's disk through ddvm_front.ko over a
# channel of its own (the paper's configuration), started and supervised by
# ddvm from the config's `clients`: the disk's limits are the export's, write
# zeroes and discard work, mkfs.ext4 on /dev/ddvm0, files written, checksums
# printed, flushes reached the disk; the client powers off and the supervisor
# starts it again (a reboot), which runs e2fsck (clean) and reads the same
# checksums back; the data is in the driver VM's backing file.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
requires jq qemu-system-x86_64 cpio gzip grep blkdiscard
new_rundir
d=$DDVM_RUNDIR
client_image
marker="ddvm-client-marker-$RANDOM$RANDOM"

bd=$(command -v blkdiscard)	# util-linux's (-z), added at its host path below
# Console lines: "QUEUE <limit> <value>", "SUM <sha256>  <file>", "STAT
# <flushes done>", then "RESULT ok" or "RESULT fail: why"; the second boot's
# with SUM2 and RESULT2.
cat >"$d/client.sh" <<SCRIPT
#!/bin/sh
die() { echo "RESULT fail: \$*"; dmesg | tail -n 30; poweroff -f; }
if mount -t ext4 -o ro /dev/ddvm0 /mnt 2>/dev/null && grep -q "$marker" /mnt/dir/marker; then
	# The second boot: check what the first one wrote.
	umount /mnt
	e2fsck -fn /dev/ddvm0 >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; die "e2fsck found errors"; }
	echo "FSCK clean"
	mount -t ext4 -o ro /dev/ddvm0 /mnt || die "mount"
	(cd /mnt && sha256sum big dir/marker dir/sub/* | sed 's/^/SUM2 /')
	umount /mnt || die "umount"
	dmesg | grep -E 'ddvm|I/O error|EXT4-fs' | sed 's/^/DMESG2 /'
	echo "RESULT2 ok"
	exec sleep 100000
fi
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

cat >"$d/cv.conf" <<CONF
vms = ( { name = "cv";
  devices = ( { type = "nvme"; file = "$d/nvme.img"; size = "64M"; create = true;
                export = false; } ); } );
clients = ( { name = "c1"; memory = 256; disks = [ "cv/disk0" ];
  kernel = "$(client_kernel)"; initrd = "$d/c1.initrd"; max_restarts = 5;
  append = "$(_client_conf cmdline) ddvm.wait=120"; } );
CONF
mkdir -p "$d/extra"
copy_closure "$d/extra" "$bd"
client_initrd c1 "$d/client.sh" "$d/extra"
start=$SECONDS
ddvm up -d "$d/cv.conf" 2>"$d/up.err" || fail "ddvm up -d failed: $(cat "$d/up.err")"
con=$d/c1/console.log
fails() { grep -q '^RESULT fail' "$con" 2>/dev/null && fail "client: $(grep '^RESULT' "$con"): $(tail -n 30 "$con")"; return 1; }
written() { fails || grep -q '^RESULT ok' "$con" 2>/dev/null; }
checked() { fails || grep -q '^RESULT2 ok' "$con" 2>/dev/null; }
wait_for "the client VM to write its files (console $con)" 300 written
grep -q '^ddvm-client: ready (1 disks: ddvm0)' "$con" || fail "/dev/ddvm0 did not appear: $(tail -n 20 "$con")"
note "first boot: $((SECONDS - start)) s; $(grep -o 'ddvm0: [0-9]* bytes.*' "$con" | head -n 1)"
wait_for "the supervisor to start the client again and the client to check (console $con)" 300 checked
[ "$(status_json | jq -r '.clients[0].restarts')" -ge 1 ] || fail "the client was not restarted"
[ "$(status_json | jq -r '.clients[0].state')" = running ] || fail "client state $(status_json | jq -c .clients)"
! grep -Eq 'I/O error|EXT4-fs error|Buffer I/O' "$con" ||
	fail "I/O errors in the client: $(grep -E 'I/O error|EXT4-fs error' "$con" | head -n 5)"
grep '^SUM ' "$con" | sed 's/^SUM //' >"$d/sums.write"
grep '^SUM2 ' "$con" | sed 's/^SUM2 //' >"$d/sums.read"
[ "$(wc -l <"$d/sums.write")" = 52 ] || fail "expected 52 checksums, got: $(cat "$d/sums.write")"
grep -q 'DMESG.*ddvm0: [0-9]* bytes, 512/512' "$con" || fail "no disk line from ddvm_front"
grep -q '^FSCK clean' "$con" || fail "e2fsck did not run"
# The export's parameters (nvme in the driver VM: 512-byte blocks, 128 KiB
# transfers, a volatile cache with FUA, discard and write zeroes; 32 slots).
lim() { sed -n "s/^QUEUE $1 //p" "$con" | tr -d '\r'; }
for kv in logical_block_size=512 max_hw_sectors_kb=128 "write_cache=write back" fua=1 \
	nr_tags=32 rotational=0; do
	[ "$(lim "${kv%%=*}")" = "${kv#*=}" ] || fail "queue ${kv%%=*} is '$(lim "${kv%%=*}")', expected '${kv#*=}'"
done
[ "$(lim discard_max_bytes)" -gt 0 ] && [ "$(lim write_zeroes_max_bytes)" -gt 0 ] ||
	fail "no discard / write zeroes: $(grep '^QUEUE' "$con" | tr '\n' ' ')"
grep -q '^ZEROES-DISCARD ok' "$con" || fail "write zeroes / discard failed"
flushes=$(sed -n 's/^STAT flushes //p' "$con" | tr -d '\r')
[ "${flushes:-0}" -gt 0 ] || fail "no flush reached the disk (STAT flushes '$flushes')"
note "limits: $(grep '^QUEUE' "$con" | cut -d' ' -f2- | tr -d '\r' | tr '\n' ',' | sed 's/,$//'); $flushes flushes; write zeroes and discard ok"
cmp -s "$d/sums.write" "$d/sums.read" ||
	fail "checksums differ after the reboot: $(diff "$d/sums.write" "$d/sums.read" | head -n 5)"
note "52 files' checksums identical after the client VM was started again; e2fsck clean ($((SECONDS - start)) s)"
# Per-client counters from the driver VM (this instance): the second boot read the files back.
rd=$(status_json | jq -r '.clients[0].disks[0].counters.read_bytes')
[ "${rd:-0}" -gt 0 ] || fail "c1's counters show no reads: $(status_json | jq -c '.clients[0].disks[0].counters')"
note "c1's disk counters: $(status_json | jq -c '.clients[0].disks[0].counters')"
ddvm down >/dev/null || fail "ddvm down failed"

# The data went through the driver VM to its disk: the backing file holds it.
grep -qa "$marker" "$d/nvme.img" || fail "the marker file is not in the driver VM's backing file"
note "the driver VM's backing file holds the data ($(du -k "$d/nvme.img" | cut -f1) KiB allocated)"
echo "PASS: $TEST_NAME"
