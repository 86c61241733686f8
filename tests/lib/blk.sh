# Helpers for the block tests through a real driver VM (sourced after
# tests/lib/functions.sh, never run).
#   blk_conf FILE VM MEM "TYPE:SIZE" ...   write a config: one VM, one disk per
#                                          argument, backing files $DDVM_RUNDIR/VM-I.img
#   blk_img VM I                           backing file of disk I
#   blk_uri VM I                           NBD URI of disk I (from status)
#   blk_wait_ready VM I                    wait until disk I's queue is ready
#   sum FILE                               sha256 of FILE
#   model_write MODEL OFF LEN BYTE|zero    apply a write to a model file
#   blk_inflight_start VM-DISK QUEUE OUT   sample requests in flight at the driver
#   blk_inflight_stop                      VM (tests/lib/blk_inflight.py) -> OUT

blk_img() { echo "$DDVM_RUNDIR/$1-$2.img"; }

blk_conf() {
	local file=$1 vm=$2 mem=$3 i=0 spec; shift 3
	{
		echo "vms = ( { name = \"$vm\"; memory = $mem; max_restarts = 5;"
		echo "  devices = ("
		for spec in "$@"; do
			[ $i -eq 0 ] || echo ","
			printf '    { type = "%s"; file = "%s"; size = "%s"; create = true; }' \
				"${spec%%:*}" "$(blk_img "$vm" $i)" "${spec#*:}"
			i=$((i + 1))
		done
		echo
		echo "  ); } );"
	} >"$file"
}

blk_uri() {
	local u
	u=$(vm_field "$1" ".exports[] | select(.kind == \"disk\" and .index == $2) | .nbd")
	[ -n "$u" ] && [ "$u" != null ] || fail "vm $1 has no NBD export for disk $2"
	echo "$u"
}

_blk_is_ready() {
	vm_json "$1" | jq -e --argjson i "$2" \
		'.exports[] | select(.kind == "disk" and .index == $i) |
		 .queue_state == "ready" and .state == "running"'
}
blk_wait_ready() {
	wait_for "vm $1 disk $2: queue ready and nbdkit running" 60 _blk_is_ready "$1" "$2"
	wait_for "vm $1 disk $2: NBD export answers" 30 nbdinfo --size "$(blk_uri "$1" "$2")"
}

sum() { sha256sum "$1" | cut -d' ' -f1; }

model_write() {
	local model=$1 off=$2 len=$3 byte=$4
	if [ "$byte" = zero ]; then
		head -c "$len" /dev/zero
	else
		head -c "$len" /dev/zero | tr '\0' "\\$(printf %03o "$byte")"
	fi | dd of="$model" bs=64K oflag=seek_bytes seek="$off" conv=notrunc status=none
}

_blk_inflight_pid=""
blk_inflight_start() {
	local sup
	sup=$(status_json | jq -r .supervisor_pid)
	python3 "$TOP/tests/lib/blk_inflight.py" "$sup" "$1" "$2" >"$3" 2>&1 &
	_blk_inflight_pid=$!
	# Started when it printed its first line (the region is mapped).
	wait_for "in-flight sampler to map the channel" 10 grep -q '^mapped' "$3"
}
blk_inflight_stop() {
	[ -n "$_blk_inflight_pid" ] || return 0
	kill -INT "$_blk_inflight_pid" 2>/dev/null || true
	wait "$_blk_inflight_pid" 2>/dev/null || true
	_blk_inflight_pid=""
}
