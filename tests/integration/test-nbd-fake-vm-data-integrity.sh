#!/bin/bash
# The NBD front-end moves data intact: 64 MiB of random data written with
# nbdcopy (4 connections, 64 requests in flight) and read back match the
# backing file; qemu-io aio writes, unaligned and crossing block / chunk /
# max_transfer boundaries (also unaligned at the device, via the offset
# filter, so the plugin's read-modify-write runs), match a model; trim and
# zero read back as zeroes; requests past the end fail.  No VM needed:
# tests/tools/ddvm-fake-vm plays the driver VM.
source "$(dirname "$0")/../lib/functions.sh"
source "$TOP/tests/tools/nbd-fake-lib.sh"
requires nbdkit nbdcopy qemu-io nbdinfo truncate sha256sum dd
nbd_build
nbd_tmpdir

SIZE=$((64 << 20))
sum() { sha256sum "$1" | cut -d' ' -f1; }

# model_write OFF LEN BYTE|zero: apply a write to the model file.
model_write() {
	local off=$1 len=$2 byte=$3
	if [ "$byte" = zero ]; then
		head -c "$len" /dev/zero
	else
		head -c "$len" /dev/zero | tr '\0' "\\$(printf %03o "$byte")"
	fi | dd of="$T/model.bin" bs=64K oflag=seek_bytes seek="$off" conv=notrunc status=none
}

fake_start $SIZE --nslots 64 --chunk 65536 --lbs 512 --pbs 4096 --linger-us 1000
nbdkit_start timeout=30
[ "$(nbdinfo --size "$URI")" = "$SIZE" ] || fail "export size is not $SIZE"

# 1. Bulk: nbdcopy in, nbdcopy out, both compared with the source.
head -c $SIZE /dev/urandom >"$T/model.bin"
timeout 60 nbdcopy --connections=4 --requests=64 "$T/model.bin" "$URI" || fail "nbdcopy write failed"
[ "$(sum "$T/disk.img")" = "$(sum "$T/model.bin")" ] || fail "backing file differs after nbdcopy write"
timeout 60 nbdcopy --connections=4 --requests=64 "$URI" "$T/back.bin" || fail "nbdcopy read failed"
[ "$(sum "$T/back.bin")" = "$(sum "$T/model.bin")" ] || fail "data read back differs"
note "64 MiB written and read back with nbdcopy (4 connections x 64 requests): identical"

# 2. qemu-io aio writes: unaligned, crossing 512 / 4 KiB / 64 KiB boundaries,
# adjacent ranges sharing blocks submitted concurrently.
writes=(
	"1000 3000 17" "4000 96 18" "4096 512 19" "65536-700 1400 20" "131072+1 200000 21"
	"1048576 1048576 22" "3145728-33 66 23" "3145728+33 100 24" "5000000 70001 25"
)
cmds=()
for w in "${writes[@]}"; do
	read -r off len byte <<<"$w"
	off=$((off))
	cmds+=(-c "aio_write -q -P $byte $off $len")
	model_write "$off" "$len" "$byte"
done
cmds+=(-c "aio_flush")
out=$(timeout 60 qemu-io -f raw "${cmds[@]}" "$URI" 2>&1) || fail "qemu-io aio writes failed: $out"
[ -z "$out" ] || fail "qemu-io aio writes reported: $out"
[ "$(sum "$T/disk.img")" = "$(sum "$T/model.bin")" ] || fail "backing file differs after qemu-io aio writes"
note "${#writes[@]} concurrent unaligned qemu-io aio writes: backing file matches the model"

# 3. The same through the offset filter: every request is unaligned at the
# device, so the plugin bounces reads and read-modify-writes the edges.
nbd_stop_nbdkit() { _stop_pid "$T/nbdkit.pid"; }
nbd_stop_nbdkit
SHIFT=1000
nbdkit_start timeout=30 --filter=offset offset=$SHIFT range=$((SIZE - 4096))
cmds=()
for w in "0 512 31" "512 512 32" "1024 4096 33" "65536 65536 34" "200000 300000 35"; do
	read -r off len byte <<<"$w"
	cmds+=(-c "aio_write -q -P $byte $off $len")
	model_write $((off + SHIFT)) "$len" "$byte"
done
cmds+=(-c "aio_flush")
for w in "0 512 31" "512 512 32" "1024 4096 33" "65536 65536 34" "200000 300000 35"; do
	read -r off len byte <<<"$w"
	cmds+=(-c "read -q -P $byte $off $len")
done
cmds+=(-c "write -q -z 700000 5000" -c "read -q -P 0 700000 5000")
model_write $((700000 + SHIFT)) 5000 zero
out=$(timeout 60 qemu-io -f raw "${cmds[@]}" "$URI" 2>&1) || fail "shifted qemu-io failed: $out"
[ -z "$out" ] || fail "shifted qemu-io reported: $out"
[ "$(sum "$T/disk.img")" = "$(sum "$T/model.bin")" ] || fail "backing file differs after unaligned device writes"
note "unaligned device offsets (offset filter, +$SHIFT): read-modify-write correct"
nbd_stop_nbdkit
nbdkit_start timeout=30

# 4. Trim and zero (aligned and not) read back as zeroes.
cmds=(-c "discard 8M 1M" -c "write -z 12M 2M" -c "write -z 20000001 3333" -c "discard 30M 64k")
out=$(timeout 60 qemu-io -f raw "${cmds[@]}" "$URI" 2>&1) || fail "trim/zero failed: $out"
model_write $((8 << 20)) $((1 << 20)) zero
model_write $((12 << 20)) $((2 << 20)) zero
model_write 20000001 3333 zero
model_write $((30 << 20)) 65536 zero
out=$(timeout 60 qemu-io -f raw -c "read -q -P 0 8M 1M" -c "read -q -P 0 12M 2M" \
	-c "read -q -P 0 20000001 3333" -c "read -q -P 0 30M 64k" "$URI" 2>&1) ||
	fail "zeroed ranges do not read back as zeroes: $out"
[ "$(sum "$T/disk.img")" = "$(sum "$T/model.bin")" ] || fail "backing file differs after trim/zero"
note "trim and write-zeroes read back as zeroes; nothing else changed"

# 5. Past the end: refused, and the export still works.
if timeout 20 qemu-io -f raw -c "read $SIZE 4k" "$URI" 2>&1 | grep -q '^read 4096'; then
	fail "a read past the end succeeded"
fi
if timeout 20 qemu-io -f raw -c "write $((SIZE - 512)) 4k" "$URI" 2>&1 | grep -q '^wrote 4096'; then
	fail "a write past the end succeeded"
fi
timeout 20 qemu-io -f raw -c "read -q -P 0 8M 4k" "$URI" >/dev/null 2>&1 || fail "export broken after out-of-range requests"
note "requests past the end fail"

# 6. The fake driver VM saw >= 32 requests queued at once.
nbd_stop
depth=$(sed -n 's/.*max depth \([0-9]*\).*/\1/p' "$T/fake.log" | tail -1)
[ -n "$depth" ] && [ "$depth" -ge 32 ] || fail "at most ${depth:-?} requests were in flight (want >= 32)"
note "max requests in flight at the driver VM: $depth"
grep -q 'rejecting op' "$T/fake.log" && fail "the driver VM rejected a request: $(grep 'rejecting' "$T/fake.log" | head -3)"
echo "PASS: $TEST_NAME"
