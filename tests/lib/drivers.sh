# The driver conformance suite: the same checks for every disk and NIC
# controller type (docs/drivers.md), through a REAL driver VM.  Sourced after
# tests/lib/functions.sh (and, for NICs, tests/lib/netvm.sh); never run.
#
#   drv_suite TYPE            run every item for TYPE; 0 if all passed
#   drv_kind TYPE             "disk" or "nic" (else fails)
#   DRV_BLK_TYPES, DRV_NET_TYPES   every type, in the order of the table
#
# Each item runs in a subshell (a failed item does not stop the others) and
# prints one line, also appended to $DRV_RESULTS if set (tab-separated):
#   RESULT  TYPE  ITEM  pass|fail|skip  SECONDS  DETAIL
# Block items (one VM, one disk of TYPE, 64 MiB):
#   boot        ddvm up to the disk's queue ready and its NBD export answering
#   integrity   two NBD clients at once, each writing its half of the disk,
#               then each reading back the other's half
#   unaligned   qemu-io aio writes, unaligned, crossing 512 B / 4 KiB /
#               64 KiB / 1 MiB boundaries, all in flight, then verified reads
#   past_end    reads and writes past the end fail; the export still works
#   zeroes      write-zeroes read back as zeroes
#   discard     trim reads back as zeroes (skip: the device offers none)
#   flush_kill  an acknowledged flush and FUA write are in the backing file
#               after SIGKILL of QEMU; the restarted driver VM reads them
#   restart_io  24 MiB in 4 KiB requests with QEMU killed at 30 %: intact
#   final       the whole disk through NBD, then the backing file after
#               `ddvm down`, equal the model of every write above
# NIC items (one VM, one NIC of TYPE on a TAP wire, netvm.sh's namespaces):
#   boot        ddvm up to carrier on the client's TAP
#   ping        IPv4 and IPv6 (link-local) ping both ways
#   tcp         a checksummed TCP transfer each way ($DRV_TCP_MIB MiB)
#   mtu         MTU-sized frames (ping -s 1472 -M do) both ways
#   oversize    a frame over the MTU is dropped and counted, never truncated
#   carrier     `ddvm link` cable pull: carrier off on the TAP, no traffic;
#               plugged: carrier on, traffic again
#   restart     a paced TCP stream across a SIGKILL of QEMU arrives intact

DRV_BLK_TYPES="nvme ahci virtio-blk virtio-scsi lsi53c895a megasas mptsas1068 pvscsi am53c974 ide usb-storage usb-uas sdhci"
DRV_NET_TYPES="e1000 e1000e rtl8139 virtio-net vmxnet3 pcnet ne2k_pci i82559er tulip usb-net"
DRV_SIZE=$((64 << 20))
DRV_TCP_MIB=${DRV_TCP_MIB:-32}
# Deadline of one bulk I/O step: generous, so that a device whose commands
# sometimes stall until the SCSI layer's 30 s timeout and recovery
# (am53c974, docs/drivers.md) is judged on its data, not its speed.
DRV_IO_SECS=${DRV_IO_SECS:-180}

drv_kind() {
	case " $DRV_BLK_TYPES " in *" $1 "*) echo disk; return ;; esac
	case " $DRV_NET_TYPES " in *" $1 "*) echo nic; return ;; esac
	fail "unknown device type '$1' (disks: $DRV_BLK_TYPES; NICs: $DRV_NET_TYPES)"
}

_drv_failed=0
# drv_item TYPE ITEM FUNC [ARGS]: FUNC in a subshell; its last "FAIL:" line or
# the last line of $D/detail is the detail; exit 77 means skip.
drv_item() {
	local type=$1 item=$2 fn=$3 start=$SECONDS rc status detail log
	shift 3
	log=$D/item-$item.log
	rm -f "$D/detail"
	set +e
	( set -e; "$fn" "$@" ) >"$log" 2>&1
	rc=$?
	set -e
	case $rc in
	0) status=pass; detail=$(tail -n 1 "$D/detail" 2>/dev/null || true) ;;
	77) status=skip; detail=$(tail -n 1 "$D/detail" 2>/dev/null || true) ;;
	*) status=fail _drv_failed=1
	   detail=$(grep -a '^FAIL: ' "$log" | tail -n 1 | sed "s/^FAIL: $TEST_NAME: //")
	   [ -n "$detail" ] || detail="exit $rc: $(tail -n 1 "$log")" ;;
	esac
	detail=$(echo "$detail" | tr '\t\n' '  ')
	printf 'RESULT\t%s\t%s\t%s\t%d\t%s\n' "$type" "$item" "$status" $((SECONDS - start)) "$detail"
	[ -z "${DRV_RESULTS:-}" ] ||
		printf 'RESULT\t%s\t%s\t%s\t%d\t%s\n' "$type" "$item" "$status" $((SECONDS - start)) \
			"$detail" >>"$DRV_RESULTS"
	if [ $status = fail ] && [ -n "${DRV_VERBOSE:-}" ]; then
		sed 's/^/    | /' "$log" | tail -n 20
	fi
	return 0
}
detail() { echo "$*" >>"$D/detail"; }
# wait_for_quiet SECS CMD...: like wait_for, but 1 instead of failing.
wait_for_quiet() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
skip() { detail "$*"; exit 77; }

# --- block ---------------------------------------------------------------------

_blk_sock() { local u; u=$(blk_uri dv 0); echo "${u#*socket=}"; }
# raw_opts OFF LEN: qemu's raw driver on a window of the export (--image-opts)
_blk_window() {
	echo "driver=raw,offset=$1,size=$2,file.driver=nbd,file.server.type=unix,file.server.path=$(_blk_sock)"
}
# _pci_driver VM: the Linux driver bound to the PCI function of VM's first export.
_pci_driver() {
	local t
	t=$(vm_field "$1" '.exports[0].target')
	t=${t#pci=}
	vm_json "$1" | jq -r --arg a "${t%% *}" '[.devices[] | select(.address == $a) | .driver][0] // "?"'
}

_blk_boot() {
	local t0=$SECONDS
	blk_conf "$D/dv.conf" dv 128 "$1:64M"
	ddvm up -d "$D/dv.conf" >"$D/up.out" 2>&1 || fail "ddvm up -d failed: $(tail -n 3 "$D/up.out")"
	blk_wait_ready dv 0
	[ "$(nbdinfo --size "$(blk_uri dv 0)")" = "$DRV_SIZE" ] || fail "export size is not $DRV_SIZE"
	head -c "$DRV_SIZE" /dev/zero >"$D/model"
	detail "$(vm_field dv '.exports[0].dev_name') under $(_pci_driver dv), ready in $((SECONDS - t0)) s" \
		"($(grep -o 'ready after [0-9.]* s' "$D/ddvm.log" | head -n 1 | sed 's/ready after //') to the driver VM's ready), accel $(vm_field dv .accel)"
}

_blk_integrity() {
	local half=$((DRV_SIZE / 2)) pa pb
	head -c $half /dev/urandom >"$D/a.bin"
	head -c $half /dev/urandom >"$D/b.bin"
	# Two clients at once, each with its own NBD connection(s): A the first half, B the second.
	timeout "$DRV_IO_SECS" qemu-img convert -n -W -m 8 -f raw "$D/a.bin" --target-image-opts "$(_blk_window 0 $half)" &
	pa=$!
	timeout "$DRV_IO_SECS" qemu-img convert -n -W -m 8 -f raw "$D/b.bin" --target-image-opts "$(_blk_window $half $half)" &
	pb=$!
	wait $pa || fail "client A's write failed"
	wait $pb || fail "client B's write failed"
	cat "$D/a.bin" "$D/b.bin" >"$D/model"
	# Each reads back what the other wrote, again at once.
	rm -f "$D/ra.bin" "$D/rb.bin"
	timeout "$DRV_IO_SECS" qemu-img convert --image-opts "$(_blk_window $half $half)" -O raw "$D/ra.bin" &
	pa=$!
	timeout "$DRV_IO_SECS" qemu-img convert --image-opts "$(_blk_window 0 $half)" -O raw "$D/rb.bin" &
	pb=$!
	wait $pa || fail "client A's read failed"
	wait $pb || fail "client B's read failed"
	cmp -s "$D/ra.bin" "$D/b.bin" || fail "client A read back something else than client B wrote"
	cmp -s "$D/rb.bin" "$D/a.bin" || fail "client B read back something else than client A wrote"
	detail "2 clients x 32 MiB written at once, each read back by the other"
}

_blk_unaligned() {
	local uri w off len byte out cmds=() n=0
	uri=$(blk_uri dv 0)
	local writes=(
		"1000 3000 17" "4000 96 18" "4096 512 19" "65536-700 1400 20" "131072+1 200000 21"
		"1048576 1048576 22" "3145728-33 66 23" "3145728+33 100 24" "5000000 70001 25"
		"$DRV_SIZE-4097 4096 26" "$DRV_SIZE-1 1 27" "12345678 2097152 28"
	)
	for w in "${writes[@]}"; do
		read -r off len byte <<<"$w"
		off=$((off))
		cmds+=(-c "aio_write -q -P $byte $off $len")
		model_write "$D/model" "$off" "$len" "$byte"
		n=$((n + 1))
	done
	cmds+=(-c "aio_flush")
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw "${cmds[@]}" "$uri" 2>&1) || fail "qemu-io aio writes failed: $out"
	[ -z "$out" ] || fail "qemu-io aio writes reported: $out"
	cmds=()
	for w in "${writes[@]:4}"; do	# the first four overlap each other
		read -r off len byte <<<"$w"
		cmds+=(-c "aio_read -q -P $byte $((off)) $len")
	done
	cmds+=(-c "aio_flush")
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw "${cmds[@]}" "$uri" 2>&1) || fail "verified reads failed: $out"
	[ -z "$out" ] || fail "verified reads reported: $out"
	detail "$n unaligned and boundary-crossing aio writes in flight together, read back"
}

_blk_past_end() {
	local uri
	uri=$(blk_uri dv 0)
	if timeout 20 qemu-io -f raw -c "read $DRV_SIZE 4k" "$uri" 2>&1 | grep -q '^read 4096'; then
		fail "a read past the end succeeded"
	fi
	if timeout 20 qemu-io -f raw -c "write $((DRV_SIZE - 512)) 4k" "$uri" 2>&1 | grep -q '^wrote 4096'; then
		fail "a write across the end succeeded"
	fi
	timeout 20 qemu-io -f raw -c "read -q -P 27 $((DRV_SIZE - 1)) 1" "$uri" >"$D/pe.out" 2>&1 ||
		fail "the export does not work after the refused requests: $(cat "$D/pe.out")"
	detail "read at the end and write across it refused; the export still answers"
}

_blk_zeroes() {
	local uri out feat
	uri=$(blk_uri dv 0)
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw -c "write -q -z 12M 2M" -c "write -q -z 20000001 3333" "$uri" 2>&1) ||
		fail "write-zeroes failed: $out"
	model_write "$D/model" $((12 << 20)) $((2 << 20)) zero
	model_write "$D/model" 20000001 3333 zero
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw -c "read -q -P 0 12M 2M" -c "read -q -P 0 20000001 3333" "$uri" 2>&1) ||
		fail "zeroed ranges are not zero: $out"
	feat=$(nbdinfo "$uri" | sed -n 's/^\tcan_\([a-z_]*\): true/\1/p' | tr '\n' ' ')
	detail "2 MiB and an unaligned 3333 B read back as zeroes (NBD export can: ${feat% })"
}

# _blk_same_as_model OFF LEN: the export's bytes there equal the model's.
_blk_same_as_model() {
	rm -f "$D/win.bin"
	timeout "$DRV_IO_SECS" qemu-img convert --image-opts "$(_blk_window "$1" "$2")" -O raw "$D/win.bin" &&
		cmp -s "$D/win.bin" <(tail -c +$(($1 + 1)) "$D/model" | head -c "$2")
}

# A discarded range reads back as something (ddvm never promises zeroes:
# protocol ZEROES_READ is never set); what it reads must be stable, and the
# data around it intact.  The model takes what it reads.
_blk_discard() {
	local uri out r what=""
	uri=$(blk_uri dv 0)
	nbdinfo "$uri" | grep -q 'can_trim: true' || skip "the device offers no discard (can_trim false)"
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw -c "discard -q 8M 1M" -c "discard -q 30M 64k" "$uri" 2>&1) ||
		fail "discard failed: $out"
	for r in "$((8 << 20)) $((1 << 20))" "$((30 << 20)) 65536"; do
		set -- $r
		rm -f "$D/dz1.bin" "$D/dz2.bin"
		timeout "$DRV_IO_SECS" qemu-img convert --image-opts "$(_blk_window "$1" "$2")" -O raw "$D/dz1.bin" ||
			fail "reading a discarded range failed"
		timeout "$DRV_IO_SECS" qemu-img convert --image-opts "$(_blk_window "$1" "$2")" -O raw "$D/dz2.bin" ||
			fail "reading a discarded range again failed"
		cmp -s "$D/dz1.bin" "$D/dz2.bin" || fail "a discarded range reads back differently twice"
		dd if="$D/dz1.bin" of="$D/model" bs=64K oflag=seek_bytes seek="$1" conv=notrunc status=none
		if cmp -s "$D/dz1.bin" <(head -c "$2" /dev/zero); then
			what="$what zeroes"
		elif cmp -s "$D/dz1.bin" <(_pattern 255 "$2"); then
			what="$what 0xff"
		else
			what="$what old-or-mixed"
		fi
	done
	_blk_same_as_model $((7 << 20)) $((1 << 20)) || fail "the MiB before a discarded range changed"
	_blk_same_as_model $((30 << 20 + 65536)) $((1 << 20)) || fail "the MiB after a discarded range changed"
	detail "1 MiB and 64 KiB discarded; they read back as:$what (stable), neighbours intact"
}

_blk_restarted() {
	vm_json dv | jq -e --argjson g "$1" --argjson p "$2" \
		'.state == "ready" and .generation > $g and .pid != $p and .pid > 0'
}

# pattern BYTE LEN: LEN bytes of BYTE on stdout.
_pattern() { head -c "$2" /dev/zero | tr '\0' "\\$(printf %03o "$1")"; }
_file_has() {	# MIB_OFF MIB_LEN BYTE
	cmp -s <(dd if="$(blk_img dv 0)" bs=1M skip="$1" count="$2" status=none) <(_pattern "$3" $(($2 << 20)))
}

_blk_flush_kill() {
	local uri out gen qpid t0
	uri=$(blk_uri dv 0)
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw -c "write -q -P 0xab 40M 8M" -c flush "$uri" 2>&1) || fail "write + flush failed: $out"
	model_write "$D/model" $((40 << 20)) $((8 << 20)) 171
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw -c "write -q -f -P 0xcd 48M 1M" "$uri" 2>&1) || fail "FUA write failed: $out"
	model_write "$D/model" $((48 << 20)) $((1 << 20)) 205
	gen=$(vm_field dv .generation) qpid=$(vm_field dv .pid)
	kill -9 "$qpid"
	wait_for "QEMU $qpid to die" 10 bash -c "! kill -0 $qpid 2>/dev/null"
	t0=$SECONDS
	_file_has 40 8 0xab || fail "flushed data is not in the backing file after SIGKILL of QEMU"
	_file_has 48 1 0xcd || fail "FUA-written data is not in the backing file after SIGKILL of QEMU"
	wait_for "the driver VM to be restarted (generation > $gen)" "$BOOT_SECS" _blk_restarted "$gen" "$qpid"
	blk_wait_ready dv 0
	out=$(timeout "$DRV_IO_SECS" qemu-io -f raw -c "read -q -P 0xab 40M 8M" -c "read -q -P 0xcd 48M 1M" "$uri" 2>&1) ||
		fail "reading back after the restart failed: $out"
	detail "flushed 8 MiB and FUA 1 MiB in the backing file after SIGKILL; restarted in $((SECONDS - t0)) s, read back"
}

_blk_restart_io() {
	local uri gen qpid copy fe
	uri=$(blk_uri dv 0)
	head -c 24M /dev/urandom >"$D/src.bin"
	: >"$D/progress"
	gen=$(vm_field dv .generation) qpid=$(vm_field dv .pid) fe=$(vm_field dv '.exports[0].frontend_pid')
	timeout $((2 * DRV_IO_SECS)) nbdcopy --progress=3 --request-size=4096 --connections=4 --requests=16 \
		"$D/src.bin" "$uri" >"$D/copy.out" 2>&1 3>"$D/progress" &
	copy=$!
	progress_at() { [ "$(tail -n 1 "$D/progress" | cut -d/ -f1)" -ge "$1" ] 2>/dev/null; }
	wait_for "the copy to reach 30 %" "$DRV_IO_SECS" progress_at 30
	kill -9 "$qpid"
	wait "$copy" || fail "nbdcopy across the driver VM's SIGKILL failed: $(tail -n 2 "$D/copy.out")"
	wait_for "the driver VM to be restarted (generation > $gen)" "$BOOT_SECS" _blk_restarted "$gen" "$qpid"
	blk_wait_ready dv 0
	dd if="$D/src.bin" of="$D/model" conv=notrunc status=none
	rm -f "$D/back.bin"
	timeout "$DRV_IO_SECS" nbdcopy "$uri" "$D/back.bin" || fail "reading back failed"
	cmp -s <(head -c 24M "$D/back.bin") "$D/src.bin" || fail "data written across the SIGKILL differs"
	[ "$(vm_field dv '.exports[0].frontend_pid')" = "$fe" ] || fail "nbdkit was restarted"
	detail "24 MiB in 4 KiB requests (4 connections x 16) across a SIGKILL at 30 %: intact, same nbdkit"
}

_blk_final() {
	rm -f "$D/back.bin"
	timeout "$DRV_IO_SECS" nbdcopy "$(blk_uri dv 0)" "$D/back.bin" || fail "final read failed"
	cmp -s "$D/back.bin" "$D/model" || fail "the disk read through NBD differs from the model"
	ddvm down >/dev/null || fail "ddvm down failed"
	cmp -s "$(blk_img dv 0)" "$D/model" || fail "the backing file differs from the model after down"
	detail "64 MiB through NBD and the backing file after down equal the model"
}

drv_blk_suite() {
	local type=$1 booted=0 item
	drv_item "$type" boot _blk_boot "$type"
	grep -q "^RESULT	$type	boot	pass" "$D/results.local" 2>/dev/null && booted=1
	for item in integrity unaligned past_end zeroes discard flush_kill restart_io final; do
		if [ $booted = 1 ]; then
			drv_item "$type" $item "_blk_$item"
		else
			drv_item "$type" $item false
		fi
	done
	ddvm down >/dev/null 2>&1 || true
}

# --- NICs ----------------------------------------------------------------------

_net_boot() {
	local t0=$SECONDS
	netvm_up "$1" "max_restarts = 5;"
	detail "$(nv_export .dev_name) under $(_pci_driver nv), carrier in $((SECONDS - t0)) s" \
		"($(grep -o 'ready after [0-9.]* s' "$D/ddvm.log" | head -n 1 | sed 's/ready after //') to the driver VM's ready), accel $(vm_field nv .accel)"
}

_net_ping() {
	inC ping -c 5 -i 0.1 -W 2 "$NV_IPR" >"$D/p.log" || fail "IPv4 client->remote: $(tail -n 2 "$D/p.log")"
	inR ping -c 5 -i 0.1 -W 2 "$NV_IPC" >"$D/p.log" || fail "IPv4 remote->client: $(tail -n 2 "$D/p.log")"
	inC ping -6 -c 5 -i 0.1 -W 2 "$NV_LLR%$NV_FE" >"$D/p.log" || fail "IPv6 client->remote: $(tail -n 2 "$D/p.log")"
	inR ping -6 -c 5 -i 0.1 -W 2 "$NV_LLC%$NV_WIRE" >"$D/p6.log" ||
		fail "IPv6 remote->client: $(tail -n 2 "$D/p6.log")"
	detail "IPv4 and IPv6 both ways, avg rtt $(sed -n 's|^rtt .* = [0-9.]*/\([0-9.]*\)/.*|\1|p' "$D/p6.log") ms"
}

# _transfer FROM_NS TO_NS TO_IP MIB [PACE CRASH]: a checksummed TCP stream
# (tests/lib/tcpstream.py); with CRASH, that command once 8 MiB arrived.
_transfer() {
	local from=$1 to=$2 ip=$3 mib=$4 pace=${5:-} crash=${6:-} sink src want got
	rm -f "$D/sink.out"*
	ip netns exec "$to" timeout 170 "$NV_PY" "$TOP/tests/lib/tcpstream.py" sink "$ip" "$D/sink.out" &
	sink=$!
	wait_for "TCP sink listening" 10 test -e "$D/sink.out.listening"
	ip netns exec "$from" timeout 160 "$NV_PY" "$TOP/tests/lib/tcpstream.py" source "$ip" "$mib" $RANDOM $pace \
		>"$D/source.out" &
	src=$!
	if [ -n "$crash" ]; then
		arrived() { [ "$(cat "$D/sink.out.progress" 2>/dev/null || echo 0)" -ge $((8 << 20)) ]; }
		wait_for "8 MiB arrived before the crash" 60 arrived
		$crash
	fi
	wait "$src" || { kill "$sink" 2>/dev/null; fail "TCP sender failed: $(cat "$D/source.out")"; }
	wait "$sink" || fail "TCP receiver failed"
	want=$(cat "$D/source.out") got=$(cat "$D/sink.out")
	[ "$got" = "$want" ] || fail "TCP data differs: received '$got', sent '$want'"
}

_net_tcp() {
	local t0=$SECONDS t1
	_transfer "$NV_NSC" "$NV_NSR" "$NV_IPR" "$DRV_TCP_MIB"
	t1=$SECONDS
	_transfer "$NV_NSR" "$NV_NSC" "$NV_IPC" "$DRV_TCP_MIB"
	detail "$DRV_TCP_MIB MiB each way intact (sha256): out $((t1 - t0)) s, in $((SECONDS - t1)) s;" \
		"driver VM offloads $(nv_export .stats.features)"
}

_net_mtu() {
	inC ping -c 3 -i 0.1 -W 2 -s 1472 -M do "$NV_IPR" >/dev/null || fail "MTU-sized ping client->remote failed"
	inR ping -c 3 -i 0.1 -W 2 -s 1472 -M do "$NV_IPC" >/dev/null || fail "MTU-sized ping remote->client failed"
	detail "1500-byte IP packets (1514-byte frames) both ways"
}

_net_oversize() {
	local over0
	stat_ge() { [ "$(nv_export ".stats$1")" -ge "$2" ]; }
	over0=$(nv_export .stats.tx.drops.oversize)
	inC ip link set "$NV_FE" mtu 2000	# the stack hands ddvm-tap 1542-byte frames
	[ "$(ping_recv inC ping -c 3 -i 0.1 -W 1 -s 1500 -M do "$NV_IPR")" = 0 ] || fail "an oversize frame got through"
	inC ip link set "$NV_FE" mtu 1500
	wait_for "3 oversize drops counted (had $over0)" 5 stat_ge .tx.drops.oversize $((over0 + 3))
	inC ping -c 2 -i 0.1 -W 2 "$NV_IPR" >/dev/null || fail "no traffic after the oversize frames"
	detail "3 frames of 1542 bytes dropped and counted (tx.drops.oversize), traffic continues"
}

_net_carrier() {
	local passed
	link_is() { [ "$(nv_export .link)" = "$1" ]; }
	trap 'ddvm link "$NV_VM" 1 up >/dev/null 2>&1' EXIT	# plugged again whatever happens
	ddvm link "$NV_VM" 1 down >/dev/null || fail "ddvm link down failed"
	passed=$(ping_recv inC ping -c 3 -i 0.2 -W 1 "$NV_IPR")
	[ "$passed" = 0 ] || fail "frames passed with the cable pulled ($passed of 3 pings)"
	if ! wait_for_quiet 20 nv_carrier_is 0; then
		fail "the cable is pulled (no frame passes) but the carrier stays on: the driver VM's" \
			"$(nv_export .dev_name) reports link $(nv_export .link) (QEMU's $1 has no link state" \
			"to report, or its driver does not look)"
	fi
	wait_for "status link false" 10 link_is false
	ddvm link "$NV_VM" 1 up >/dev/null || fail "ddvm link up failed"
	wait_for "client TAP carrier up after plugging the cable" 20 nv_carrier_is 1
	wait_for "status link true" 10 link_is true
	wait_for "traffic after the cable came back" 30 inC ping -c 1 -W 1 "$NV_IPR"
	detail "cable pulled: nothing passes, carrier off on the TAP; plugged: carrier on, traffic"
}

_net_restart() {
	local gen qpid tap t0
	nv_vm() { ddvm status --json | jq -er --arg n "$NV_VM" ".vms[] | select(.name == \$n) | $1"; }
	back() { [ "$(nv_vm .generation)" -gt "$gen" ] && [ "$(nv_vm .state)" = ready ]; }
	kill_qemu() { kill -9 "$qpid"; t0=$SECONDS; }
	gen=$(nv_vm .generation) qpid=$(nv_vm .pid) tap=$(nv_export .frontend_pid)
	_transfer "$NV_NSC" "$NV_NSR" "$NV_IPR" 48 0.03 kill_qemu
	back || fail "the driver VM was not restarted"
	[ "$(nv_export .frontend_pid)" = "$tap" ] || fail "ddvm-tap was restarted"
	inC ping -c 2 -i 0.2 -W 2 "$NV_IPR" >/dev/null || fail "no ping after the restart"
	detail "48 MiB paced stream across a SIGKILL of QEMU intact; same ddvm-tap"
}

drv_net_suite() {
	local type=$1 booted=0 item
	drv_item "$type" boot _net_boot "$type"
	grep -q "^RESULT	$type	boot	pass" "$D/results.local" 2>/dev/null && booted=1
	for item in ping tcp mtu oversize carrier restart; do
		if [ $booted = 1 ]; then
			drv_item "$type" $item "_net_$item" "$type"
		else
			drv_item "$type" $item false
		fi
	done
	netvm_down
}

# drv_suite TYPE: every item; returns 1 if one failed.
drv_suite() {
	local type=$1 kind
	kind=$(drv_kind "$type")
	D=$DDVM_RUNDIR
	_drv_failed=0
	: >"$D/results.local"
	DRV_RESULTS_OUTER=${DRV_RESULTS:-}
	if [ "$kind" = disk ]; then
		DRV_RESULTS=$D/results.local drv_blk_suite "$type"
	else
		DRV_RESULTS=$D/results.local drv_net_suite "$type"
	fi
	[ -z "$DRV_RESULTS_OUTER" ] || cat "$D/results.local" >>"$DRV_RESULTS_OUTER"
	return $_drv_failed
}
