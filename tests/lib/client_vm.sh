# Helpers for tests with a Linux client VM on ddvm_front.ko (sourced after
# tests/lib/functions.sh, never run).  The client image is build/client-image
# (`ddvm image build --client`); a test adds its own /etc/ddvm/client.sh in
# an initramfs overlay, which the client's /init runs once its disks are there.
#   client_image                     build the client image (cached) or fail
#   client_kernel                    the client image's kernel
#   client_initrd NAME SCRIPT [EXTRA]
#                                    the client image's initramfs with SCRIPT as
#                                    /etc/ddvm/client.sh and the files under
#                                    EXTRA added to its root (e.g. copy_closure
#                                    EXTRA /usr/bin/fio) -> $DDVM_RUNDIR/NAME.initrd
#                                    (for a config's clients: kernel, initrd)
#   client_vm_start NAME SOCK SCRIPT [EXTRA]
#                                    start a client VM by hand whose one channel
#                                    is the ivshmem server socket SOCK, running
#                                    SCRIPT (and EXTRA, as above); console in
#                                    $DDVM_RUNDIR/NAME.console, QEMU's pid in
#                                    CLIENT_PID; CLIENT_MEM MiB of memory
#                                    (default 256; the root holds EXTRA)
#   client_vm_wait NAME SECS         wait until that VM powered itself off
#   client_console NAME              its console so far
CLIENT_IMG=${DDVM_CLIENT_IMAGE_DIR:-$TOP/build/client-image}
CLIENT_PID=""
. "$TOP/image/copy-closure.sh"

client_image() {
	"$TOP/image/build.sh" --client --out "$CLIENT_IMG" >"$DDVM_RUNDIR/client-image.log" 2>&1 ||
		fail "client image build failed: $(tail -n 3 "$DDVM_RUNDIR/client-image.log")"
}

_client_conf() { sed -n "s/^$1 = \"\(.*\)\";/\1/p" "$CLIENT_IMG/image.conf"; }

client_kernel() { echo "$CLIENT_IMG/$(_client_conf kernel)"; }

client_initrd() {
	local name=$1 script=$2 extra=${3:-} d=$DDVM_RUNDIR ov
	ov=$d/$name.overlay
	rm -rf "$ov"
	mkdir -p "$ov/etc/ddvm"
	[ -z "$extra" ] || cp -a "$extra/." "$ov/"
	install -m 0755 "$script" "$ov/etc/ddvm/client.sh"
	# The kernel unpacks both archives: the overlay's files join the image's root.
	(cd "$ov" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$d/$name.overlay.cpio.gz"
	cat "$CLIENT_IMG/$(_client_conf initramfs)" "$d/$name.overlay.cpio.gz" >"$d/$name.initrd"
}

client_vm_start() {
	local name=$1 sock=$2 script=$3 extra=${4:-} d=$DDVM_RUNDIR
	client_initrd "$name" "$script" "$extra"
	: >"$d/$name.console"
	# ivshmem-doorbell with the channel's 4 vectors (host/layout.h,
	# LAYOUT_MIN_VECTORS): the client's response doorbell is vector 0.
	qemu-system-x86_64 -name "ddvm-client-$name" -machine q35 -accel tcg -m "${CLIENT_MEM:-256}" -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$(client_kernel)" -initrd "$d/$name.initrd" \
		-append "$(_client_conf cmdline) ddvm.wait=120" \
		-serial "file:$d/$name.console" \
		-chardev "socket,id=c0,path=$sock" \
		-device ivshmem-doorbell,chardev=c0,vectors=4 \
		>"$d/$name.qemu.log" 2>&1 &
	CLIENT_PID=$!
}

client_console() { cat "$DDVM_RUNDIR/$1.console"; }

client_vm_wait() {
	local name=$1 secs=$2
	_client_gone() { ! kill -0 "$CLIENT_PID" 2>/dev/null; }
	wait_for "client VM $name to power off (console: $DDVM_RUNDIR/$name.console)" "$secs" _client_gone
	wait "$CLIENT_PID" 2>/dev/null || true
	CLIENT_PID=""
}
