#!/bin/bash
# The client-VM image (`ddvm image build --client`) holds the driver image's
# kernel (same release), ddvm_front.ko built without warnings and binding
# ivshmem (1af4:1110), ext4 with its modules.dep closure and crc32c,
# mkfs.ext4 / e2fsck from the host with every library and the loader, and
# the client's /init; image.conf names them; a second build is a no-op.
. "$(dirname "$0")/../lib/functions.sh"
requires cpio gzip readelf modinfo
IMG=${DDVM_CLIENT_IMAGE_DIR:-$TOP/build/client-image}
tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

"$DDVM_BIN" image build --client --out "$IMG" >"$tmp/build1" 2>&1 ||
	fail "ddvm image build --client failed: $(tail -n 3 "$tmp/build1")"
"$DDVM_BIN" image build --client --out "$IMG" >"$tmp/build2" 2>&1 || fail "rebuild failed"
grep -q "up to date" "$tmp/build2" || fail "second build was not a no-op: $(cat "$tmp/build2")"

get() { sed -n "s/^$1 = \"\(.*\)\";/\1/p" "$IMG/image.conf"; }
kernel=$(get kernel) boot=$(get boot) rel=$(get release) initrd=$(get initramfs)
for k in kernel boot release initramfs cmdline modules; do
	[ -n "$(get $k)" ] || fail "image.conf has no $k"
done
[ -f "$IMG/$kernel" ] || fail "kernel $kernel missing"
[ "$boot" != pvh ] || readelf -n "$IMG/$kernel" | grep -q 'Xen.*0x00000012' || fail "vmlinux has no PVH note"
drv=${DDVM_IMAGE_DIR:-$TOP/build/image}
if [ -f "$drv/image.conf" ]; then
	[ "$(sed -n 's/^release = "\(.*\)";/\1/p' "$drv/image.conf")" = "$rel" ] ||
		fail "the client image's kernel $rel is not the driver image's"
fi
case " $(get cmdline) " in *" console=ttyS0 "*) ;; *) fail "cmdline lacks console=ttyS0" ;; esac

mkdir "$tmp/root"
(cd "$tmp/root" && gzip -dc "$IMG/$initrd" | cpio -id --quiet 2>/dev/null) || fail "cannot unpack $initrd"
cmp -s "$tmp/root/init" "$TOP/image/client-init" || fail "/init is not image/client-init"
[ -x "$tmp/root/bin/busybox" ] || fail "no busybox"
mods=$tmp/root/lib/modules/$rel
ko=$mods/extra/ddvm_front.ko
[ -f "$ko" ] || fail "no ddvm_front.ko"
[ ! -e "$mods/extra/ddvm_chan.ko" ] || fail "the driver VM's modules are in the client image"
modinfo -F alias "$ko" | grep -qi 'pci:v00001AF4d00001110' || fail "ddvm_front does not bind ivshmem: $(modinfo -F alias "$ko")"
[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$rel" ] || fail "ddvm_front built for $(modinfo -F vermagic "$ko")"
grep -q '^extra/ddvm_front.ko:' "$mods/modules.dep" || fail "modules.dep lacks ddvm_front"
grep -q '^kernel/fs/ext4/ext4.ko:.*jbd2.ko.*' "$mods/modules.dep" || fail "modules.dep does not record ext4 -> jbd2"
for m in ext4 jbd2 mbcache crc16 crc32c_generic; do
	find "$mods" -name "$m.ko" | grep -q . || fail "module $m.ko not in the initramfs"
done
for t in /sbin/mke2fs /sbin/e2fsck; do
	[ -x "$tmp/root$t" ] || fail "no $t"
	for lib in $(ldd "$t" | grep -o '/[^ ]*'); do
		[ -f "$tmp/root$lib" ] || fail "$t needs $lib, not in the image"
	done
done
[ "$(readlink "$tmp/root/sbin/mkfs.ext4")" = mke2fs ] || fail "no mkfs.ext4 -> mke2fs"
[ ! -e "$tmp/root/bin/mke2fs" ] || fail "busybox's mke2fs shadows the host's"
! grep -q 'warning:' "$IMG/kmod/build.log" || fail "ddvm_front built with warnings"
note "kernel $kernel ($boot), release $rel, $(du -k "$IMG/$initrd" | cut -f1) KiB initramfs, $(find "$mods" -name '*.ko' | wc -l) modules"
echo ok
