#!/bin/bash
# One disk split among two client VMs by slices: each client VM sees its
# slice as its whole /dev/ddvm0, fills it with its own byte, and cannot
# write past it (the driver VM confines it: the write fails); the backing
# file then holds exactly each client's byte in its own half, the
# neighbour's data intact.  Overlapping slices are refused at `up`.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
requires jq qemu-system-x86_64 cpio gzip cmp
new_rundir
d=$DDVM_RUNDIR
client_image
MB=16

# client.sh for a client filling its disk with byte $1 (octal for tr).
script() {
	cat >"$d/$2.sh" <<SCRIPT
#!/bin/sh
size=\$(cat /sys/block/ddvm0/size)
echo "SIZE \$((size * 512))"
dd if=/dev/zero bs=1M count=$MB 2>/dev/null | tr '\\000' '\\$1' >/dev/ddvm0 && sync &&
	echo "FILLED" || echo "FILL failed"
# One block past the end: the block layer refuses it at the disk's size.
if dd if=/dev/zero of=/dev/ddvm0 bs=4096 seek=\$((size / 8)) count=1 conv=notrunc 2>/dev/null; then
	echo "PASTEND written"
else
	echo "PASTEND refused"
fi
dmesg | grep -E 'ddvm|I/O error' | sed 's/^/DMESG /'
echo "RESULT done"
exec sleep 100000
SCRIPT
	client_initrd "$2" "$d/$2.sh"
}
script 101 a	# 'A'
script 102 b	# 'B'
client() {
	echo "{ name = \"$1\"; memory = 192; kernel = \"$(client_kernel)\"; initrd = \"$d/$1.initrd\";
	    append = \"$(_client_conf cmdline) ddvm.wait=120\"; disks = ( $2 ); }"
}
disk="{ type = \"nvme\"; file = \"$d/nvme.img\"; size = \"$((2 * MB))M\"; create = true; export = false; }"

# Overlapping slices: refused.
printf '%s\n' "vms = ( { name = \"s\"; devices = ( $disk ); } );
clients = ( $(client a "{ disk = \"s/disk0\"; offset = \"0\"; size = \"$((MB + 4))M\"; }"),
            $(client b "{ disk = \"s/disk0\"; offset = \"${MB}M\"; size = \"${MB}M\"; }") );" >"$d/bad.conf"
expect_error "overlapping slices" "clients 'a' and 'b' both use overlapping slices of disk 's/disk0'" \
	ddvm up "$d/bad.conf"

printf '%s\n' "vms = ( { name = \"s\"; devices = ( $disk ); } );
clients = ( $(client a "{ disk = \"s/disk0\"; offset = \"0\"; size = \"${MB}M\"; }"),
            $(client b "{ disk = \"s/disk0\"; offset = \"${MB}M\"; size = \"${MB}M\"; }") );" >"$d/s.conf"
ddvm up -d "$d/s.conf" 2>"$d/up.err" || fail "ddvm up -d failed: $(cat "$d/up.err")"
for c in a b; do
	done_() { grep -q '^RESULT done' "$d/$1/console.log" 2>/dev/null; }
	wait_for "client $c to finish (console $d/$c/console.log)" 300 done_ "$c"
	con=$d/$c/console.log
	grep -qE "^SIZE $((MB << 20))\s*$" "$con" || fail "client $c: its disk is not its slice: $(grep '^SIZE' "$con")"
	grep -q '^FILLED' "$con" || fail "client $c could not fill its slice: $(tail -n 20 "$con")"
	grep -q '^PASTEND refused' "$con" || fail "client $c wrote past its slice"
	note "client $c: $(grep -o 'ddvm0: [0-9]* bytes[^(]*' "$con" | head -n 1), a write past it refused"
done
ddvm down >/dev/null
cmp -s <(head -c $((MB << 20)) "$d/nvme.img") <(head -c $((MB << 20)) /dev/zero | tr '\000' 'A') ||
	fail "the first half is not all client a's bytes"
cmp -s <(tail -c $((MB << 20)) "$d/nvme.img") <(head -c $((MB << 20)) /dev/zero | tr '\000' 'B') ||
	fail "the second half is not all client b's bytes"
note "backing file: ${MB} MiB of a's bytes, then ${MB} MiB of b's: each confined, neither touched"
echo "PASS: $TEST_NAME"
