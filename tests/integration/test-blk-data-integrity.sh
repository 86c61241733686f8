#!/bin/bash
# Data moves intact through a real driver VM: one VM owning an nvme, an ahci
# and a virtio-blk disk (Linux's own drivers), each exported over NBD by the
# supervisor's nbdkit.  Per disk: random data written with nbdcopy (4
# connections x 16 requests) reads back identical; qemu-io aio writes,
# unaligned and crossing 512 / 4 KiB / 64 KiB / 1 MiB boundaries, match a
# model; trim (where offered) and write-zeroes read back as zeroes; requests
# past the end fail.  After `ddvm down` the backing files, read directly on
# the host, equal the models.  The driver VM moves the data zero-copy (the
# disks DMA into the channel; test-blk-concurrency covers the copy path).
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/blk.sh"
requires jq qemu-system-x86_64 nbdkit nbdcopy nbdinfo qemu-io sha256sum dd
new_rundir
d=$DDVM_RUNDIR
SIZE=$((64 << 20))
TYPES=(nvme ahci virtio-blk)
blk_conf "$d/blk.conf" b 128 nvme:64M ahci:64M virtio-blk:64M
ddvm up -d "$d/blk.conf" || fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"

check_disk() {
	local i=$1 type=${TYPES[$1]} uri model=$d/model$1.bin out cmds w off len byte
	blk_wait_ready b "$i"
	uri=$(blk_uri b "$i")
	[ "$(nbdinfo --size "$uri")" = "$SIZE" ] || fail "$type: export size is not $SIZE"
	[ "$(vm_field b ".exports[$i].zero_copy")" = true ] ||
		fail "$type: the driver VM does not serve the disk zero-copy: $(vm_json b | jq -c ".exports[$i]")"

	# 1. Bulk: random data in with nbdcopy, out with nbdcopy.
	head -c $SIZE /dev/urandom >"$model"
	timeout 60 nbdcopy --connections=4 --requests=16 "$model" "$uri" || fail "$type: nbdcopy write failed"
	timeout 60 nbdcopy --connections=4 --requests=16 "$uri" "$d/back.bin" || fail "$type: nbdcopy read failed"
	[ "$(sum "$d/back.bin")" = "$(sum "$model")" ] || fail "$type: data read back differs"

	# 2. qemu-io aio writes, unaligned and boundary crossing, some sharing
	# blocks with each other, all in flight together; then verified reads.
	local writes=(
		"1000 3000 17" "4000 96 18" "4096 512 19" "65536-700 1400 20" "131072+1 200000 21"
		"1048576 1048576 22" "3145728-33 66 23" "3145728+33 100 24" "5000000 70001 25"
		"$SIZE-4097 4096 26" "$SIZE-1 1 27" "12345678 2097152 28"
	)
	cmds=()
	for w in "${writes[@]}"; do
		read -r off len byte <<<"$w"
		off=$((off))
		cmds+=(-c "aio_write -q -P $byte $off $len")
		model_write "$model" "$off" "$len" "$byte"
	done
	cmds+=(-c "aio_flush")
	out=$(timeout 60 qemu-io -f raw "${cmds[@]}" "$uri" 2>&1) || fail "$type: qemu-io aio writes failed: $out"
	[ -z "$out" ] || fail "$type: qemu-io aio writes reported: $out"
	cmds=()
	for w in "${writes[@]:4}"; do  # the first four overlap each other
		read -r off len byte <<<"$w"
		cmds+=(-c "aio_read -q -P $byte $((off)) $len")
	done
	cmds+=(-c "aio_flush")
	out=$(timeout 60 qemu-io -f raw "${cmds[@]}" "$uri" 2>&1) || fail "$type: qemu-io verified reads failed: $out"
	[ -z "$out" ] || fail "$type: qemu-io verified reads reported: $out"

	# 3. Write-zeroes (always offered) and trim (where offered) read back as zeroes.
	cmds=(-c "write -q -z 12M 2M" -c "write -q -z 20000001 3333")
	model_write "$model" $((12 << 20)) $((2 << 20)) zero
	model_write "$model" 20000001 3333 zero
	local trim=no
	if nbdinfo "$uri" | grep -q 'can_trim: true'; then
		trim=yes
		cmds+=(-c "discard -q 8M 1M" -c "discard -q 30M 64k")
		model_write "$model" $((8 << 20)) $((1 << 20)) zero
		model_write "$model" $((30 << 20)) 65536 zero
	fi
	out=$(timeout 60 qemu-io -f raw "${cmds[@]}" "$uri" 2>&1) || fail "$type: trim/zero failed: $out"
	cmds=(-c "read -q -P 0 12M 2M" -c "read -q -P 0 20000001 3333")
	[ $trim = no ] || cmds+=(-c "read -q -P 0 8M 1M" -c "read -q -P 0 30M 64k")
	out=$(timeout 60 qemu-io -f raw "${cmds[@]}" "$uri" 2>&1) || fail "$type: zeroed ranges are not zero: $out"

	# 4. Past the end: refused, and the export still works.
	if timeout 20 qemu-io -f raw -c "read $SIZE 4k" "$uri" 2>&1 | grep -q '^read 4096'; then
		fail "$type: a read past the end succeeded"
	fi
	if timeout 20 qemu-io -f raw -c "write $((SIZE - 512)) 4k" "$uri" 2>&1 | grep -q '^wrote 4096'; then
		fail "$type: a write past the end succeeded"
	fi

	# 5. Everything, read back whole, equals the model.
	rm -f "$d/back.bin"
	timeout 60 nbdcopy "$uri" "$d/back.bin" || fail "$type: final nbdcopy read failed"
	[ "$(sum "$d/back.bin")" = "$(sum "$model")" ] || fail "$type: final read back differs from the model"
	rm -f "$d/back.bin"
	note "$type ($(vm_field b ".exports[$i].dev_name")): 64 MiB nbdcopy, ${#writes[@]} unaligned aio writes, write-zeroes, trim=$trim, past-end refused: data intact"
}

for i in 0 1 2; do check_disk $i; done

ddvm down || fail "ddvm down failed"
no_qemu_left || fail "QEMU left behind: $(qemu_pids)"
for i in 0 1 2; do
	[ "$(sum "$(blk_img b $i)")" = "$(sum "$d/model$i.bin")" ] \
		|| fail "${TYPES[$i]}: the backing file on the host differs from what was written"
done
note "after down: the 3 backing files on the host equal what was written"
echo ok
