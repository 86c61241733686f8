#!/bin/bash
# tinyos (examples/tinyos: a tiny OS with no disk driver of its own) reads
# and writes a disk that Linux's nvme driver drives in a driver VM, checked
# from the host both ways through the same disk's NBD export (one writer at
# a time, so three configs in turn):
#   1. driver VM "td" exports its nvme over NBD: the host writes random data
#      to sectors 0 and 1 (qemu-io);
#   2. the same driver VM serves the disk to tinyos, a client VM (export =
#      false; tinyos's QEMU has no disk at all, only ivshmem channels):
#      tinyos prints the disk's size, block size and the CRC-32C of sector 0,
#      which is the host's; it writes its pattern to sector 1 and prints that
#      sector's CRC;
#   3. the NBD export again: the host reads sector 1 back with the CRC tinyos
#      printed and tinyos's pattern in it; sector 0 is untouched.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/blk.sh"
requires jq qemu-system-x86_64 qemu-io qemu-img python3
new_rundir
d=$DDVM_RUNDIR
make -C "$TOP" -s --no-print-directory tinyos >"$d/make.log" 2>&1 || fail "make tinyos: $(tail -n 5 "$d/make.log")"
crc() { python3 "$TOP/examples/tinyos/crc32c.py" "$@"; }
con=$d/tos/console.log

conf() {	# conf FILE EXPORT [CLIENTS]
	cat >"$1" <<CONF
vms = ( { name = "td"; memory = 128;
  devices = ( { type = "nvme"; file = "$d/nvme.img"; size = "64M"; create = true; export = $2; } ); } );
${3:-}
CONF
}
conf "$d/nbd.conf" true
conf "$d/tinyos.conf" false 'clients = ( { name = "tos"; memory = 64; max_restarts = 0;
  kernel = "'"$TOP"'/build/tinyos/tinyos.elf"; disks = [ "td/disk0" ]; } );'

# 1. The host writes sectors 0 and 1 through NBD.
start=$SECONDS
head -c 1024 /dev/urandom >"$d/host.bin"
ddvm up -d "$d/nbd.conf" >"$d/up1.out" 2>&1 || fail "ddvm up (NBD export) failed: $(cat "$d/up1.out")"
blk_wait_ready td 0
uri=$(blk_uri td 0)
qemu-io -f raw "$uri" -c "write -s $d/host.bin 0 1024" >"$d/qemu-io.log" 2>&1 ||
	fail "qemu-io write failed: $(cat "$d/qemu-io.log")"
ddvm down >/dev/null || fail "ddvm down failed"
s0=$(crc "$d/host.bin" 0 512)
note "host wrote sectors 0-1 through $uri: sector 0 crc32c=$s0 ($((SECONDS - start)) s)"

# 2. tinyos uses the disk through its own channel.
ddvm up -d "$d/tinyos.conf" >"$d/up2.out" 2>&1 || fail "ddvm up (tinyos) failed: $(cat "$d/up2.out")"
tos_line() { tr -d '\r' <"$con" 2>/dev/null | grep -E "$1" | head -n 1; }
# What tinyos says when something went wrong (fail from inside wait_for: fd 9 is stderr).
exec 9>&2
TOS_BAD='^tinyos: (stopped$|CPU exception|disk[0-9]+: (reading|writing) sector|disk[0-9]+ read sector 1 (failed|.*DIFFERS)|.*: the driver VM does not serve)'
tos_ok() {
	[ -z "$(tos_line "$TOS_BAD")" ] || fail "tinyos: $(tos_line "$TOS_BAD"): $(tail -n 20 "$con")" 2>&9
}
written() { tos_ok && [ -n "$(tos_line '^tinyos: disk0 wrote sector 1 ')" ]; }
wait_for "tinyos to write sector 1 (console $con)" 120 written
pid=$(status_json | jq -r '.clients[0].pid')
args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || fail "no QEMU for tinyos (pid $pid)"
# its kernel is handed as an fd (/proc/self/fd/61): the file behind it is tinyos's
case $args in *"-kernel /proc/self/fd/61"*) ;; *) fail "pid $pid is not a client VM's QEMU: $args" ;; esac
case $(readlink "/proc/$pid/fd/61") in *tinyos.elf) ;; *) fail "pid $pid's kernel is $(readlink "/proc/$pid/fd/61"), not tinyos" ;; esac
case $args in *-drive*|*nvme*|*virtio-blk*|*ide-hd*) fail "tinyos's QEMU has a disk of its own: $args" ;; esac
grep -q 'ivshmem-doorbell' <<<"$args" || fail "tinyos's QEMU has no ddvm channel: $args"
line=$(tos_line '^tinyos: disk0 size=')
[ "$line" = "tinyos: disk0 size=67108864 block=512 sector0-crc32c=$s0" ] ||
	fail "tinyos says '$line', expected size=67108864 block=512 sector0-crc32c=$s0"
s1=$(tos_line '^tinyos: disk0 wrote sector 1 ' | sed -n 's/.* crc32c=\([0-9a-f]\{8\}\)$/\1/p')
[ -n "$s1" ] || fail "no CRC in '$(tos_line '^tinyos: disk0 wrote sector 1 ')'"
note "tinyos: '$line'; wrote sector 1 crc32c=$s1 ($((SECONDS - start)) s)"
ddvm down >/dev/null || fail "ddvm down failed"

# 3. The host reads sectors 0 and 1 back through NBD.
ddvm up -d "$d/nbd.conf" >"$d/up3.out" 2>&1 || fail "ddvm up (NBD export again) failed: $(cat "$d/up3.out")"
blk_wait_ready td 0
qemu-img dd -f raw -O raw if="$(blk_uri td 0)" of="$d/back.bin" bs=512 count=2 >"$d/dd.log" 2>&1 ||
	fail "qemu-img dd failed: $(cat "$d/dd.log")"
ddvm down >/dev/null || fail "ddvm down failed"
[ "$(crc "$d/back.bin" 0 512)" = "$s0" ] || fail "sector 0 changed: crc32c $(crc "$d/back.bin" 0 512), was $s0"
[ "$(crc "$d/back.bin" 512 512)" = "$s1" ] ||
	fail "sector 1 as the host reads it: crc32c $(crc "$d/back.bin" 512 512), tinyos printed $s1"
head -c 1024 "$d/back.bin" | tail -c 512 | grep -qa 'tinyos wrote this sector through ddvm' ||
	fail "sector 1 does not hold tinyos's pattern"
note "host read sector 1 back through NBD: crc32c=$s1 as tinyos printed, tinyos's pattern; sector 0 unchanged ($((SECONDS - start)) s)"
echo "PASS: $TEST_NAME"
