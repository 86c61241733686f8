#!/bin/bash
# Many requests in flight through a real driver VM: nbdcopy (4 connections x
# 16 requests) and three qemu-io processes with 32 aio requests each run at
# once against one nvme export; the ring is seen full (>= 32 requests in
# flight at once, the driver VM holding >= 3/4 of them; sampled from the
# shared rings by tests/lib/blk_inflight.py), and
# every byte reads back as written, through NBD and in the backing file.
# The VM runs with zero_copy = false: the guest copies through its own pages
# (data path (a)), the path kernels without ZONE_DEVICE take.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/blk.sh"
requires jq qemu-system-x86_64 nbdkit nbdcopy nbdinfo qemu-io python3 sha256sum cmp
new_rundir
d=$DDVM_RUNDIR
SIZE=$((64 << 20))
blk_conf "$d/blk.conf" c 128 nvme:64M
sed -i 's/max_restarts = 5;/max_restarts = 5; zero_copy = false;/' "$d/blk.conf"
ddvm up -d "$d/blk.conf" || fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"
blk_wait_ready c 0
uri=$(blk_uri c 0)
[ "$(vm_field c '.exports[0].zero_copy')" = false ] || fail "zero_copy = false was not honoured"
queue=$(vm_field c '.exports[0].queue')
cleanup_fn blk_inflight_stop
blk_inflight_start c-disk0 "$queue" "$d/inflight.txt"

# The model: random data in [0, 32M) (nbdcopy), patterns in [32M, 64M)
# (qemu-io process P writes 32 x 64 KiB, interleaved with the others).
head -c $((32 << 20)) /dev/urandom >"$d/src.bin"
cp "$d/src.bin" "$d/model.bin"
truncate -s $SIZE "$d/model.bin"
qio_cmds() {  # qio_cmds P VERB: QIO=(32 aio requests of process P, byte 0x40+P)
	local p=$1 verb=$2 j off
	QIO=()
	for ((j = 0; j < 32; j++)); do
		off=$(((32 << 20) + (j * 3 + p) * 65536))
		QIO+=(-c "aio_$verb -q -P $((64 + p)) $off 64k")
	done
	QIO+=(-c aio_flush)
}
for p in 0 1 2; do
	for ((j = 0; j < 32; j++)); do
		model_write "$d/model.bin" $(((32 << 20) + (j * 3 + p) * 65536)) 65536 $((64 + p))
	done
done

# run_all VERB: nbdcopy and three qemu-io processes at once.
run_all() {
	local verb=$1 pids=() p rc=0
	if [ "$verb" = write ]; then
		timeout 60 nbdcopy --connections=4 --requests=16 --request-size=65536 \
			"$d/src.bin" "$uri" >"$d/nbdcopy.out" 2>&1 &
	else
		# Read [0, 32M) back with the same concurrency (a bounded filter view).
		timeout 60 nbdcopy --connections=4 --requests=16 --request-size=65536 \
			-- [ nbdkit -r nbd socket="${uri#*socket=}" --filter=truncate truncate=32M ] \
			"$d/back.bin" >"$d/nbdcopy.out" 2>&1 &
	fi
	pids+=($!)
	for p in 0 1 2; do
		qio_cmds $p "$verb"
		timeout 60 qemu-io -f raw "${QIO[@]}" "$uri" >"$d/qio$p.out" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ $rc = 0 ] || fail "a concurrent $verb failed: $(cat "$d"/nbdcopy.out "$d"/qio*.out)"
	! grep -qi 'fail\|error' "$d"/qio*.out || fail "qemu-io reported: $(cat "$d"/qio*.out)"
}
run_all write
run_all read
cmp -s "$d/back.bin" "$d/src.bin" || fail "nbdcopy's concurrent read differs from what it wrote"
rm -f "$d/back.bin"
timeout 60 nbdcopy "$uri" "$d/back.bin" || fail "read back failed"
[ "$(sum "$d/back.bin")" = "$(sum "$d/model.bin")" ] || fail "data read back differs from the model"

blk_inflight_stop
read -r _ drv _ posted _ samples < <(grep '^max_driver' "$d/inflight.txt") ||
	fail "no result from the in-flight sampler: $(cat "$d/inflight.txt")"
nslots=$(sed -n 's/^mapped queue [0-9]* nslots \([0-9]*\)$/\1/p' "$d/inflight.txt")
note "ring of $nslots slots: up to $posted requests posted at once, $drv held by the driver VM ($samples samples)"
# The clients keep 160 requests going; the ring bounds what reaches the
# driver VM (the supervisor gives each disk 32 slots).
[ "$posted" -ge 32 ] || fail "at most $posted requests were in flight in the ring at once (want >= 32)"
[ "$drv" -ge $((posted * 3 / 4)) ] || fail "the driver VM held at most $drv of $posted requests at once"

ddvm down || fail "ddvm down failed"
[ "$(sum "$(blk_img c 0)")" = "$(sum "$d/model.bin")" ] || fail "backing file differs from the model"
echo ok
