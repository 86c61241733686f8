#!/bin/bash
# The driver-VM image holds the unmodified kernel (PVH vmlinux or vmlinuz),
# only the requested drivers' modules.dep closure (byte-identical to the
# package's), ddvm_chan.ko, ddvm_blk.ko, ddvm_net.ko, busybox and /init; image.conf names them; a
# second build with the same inputs is a no-op.
. "$(dirname "$0")/../lib/functions.sh"
requires cpio gzip readelf cmp
IMG=${DDVM_IMAGE_DIR:-$TOP/build/image}
tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

"$TOP/image/build.sh" --out "$IMG" >"$tmp/build1" 2>&1 || fail "build failed: $(tail -n 3 "$tmp/build1")"
"$TOP/image/build.sh" --out "$IMG" >"$tmp/build2" 2>&1 || fail "rebuild failed"
grep -q "up to date" "$tmp/build2" || fail "second build was not a no-op: $(cat "$tmp/build2")"

conf=$IMG/image.conf
get() { sed -n "s/^$1 = \"\(.*\)\";/\1/p" "$conf"; }
kernel=$(get kernel) boot=$(get boot) rel=$(get release) initrd=$(get initramfs) cmdline=$(get cmdline)
for k in kernel boot release initramfs cmdline; do
	[ -n "$(get $k)" ] || fail "image.conf has no $k"
done
[ -f "$IMG/$kernel" ] || fail "kernel $kernel missing"
case $boot in
pvh) readelf -n "$IMG/$kernel" | grep -q 'Xen.*0x00000012' || fail "vmlinux has no PVH note" ;;
linux) ;;
*) fail "unknown boot '$boot'" ;;
esac
case " $cmdline " in *" console=ttyS0 "*) ;; *) fail "cmdline lacks console=ttyS0" ;; esac
case " $cmdline " in *" panic=-1 "*) fail "cmdline must not set panic=-1" ;; esac

mkdir "$tmp/root"
(cd "$tmp/root" && gzip -dc "$IMG/$initrd" | cpio -id --quiet 2>/dev/null) || fail "cannot unpack $initrd"
[ -x "$tmp/root/init" ] || fail "no /init"
[ -x "$tmp/root/bin/busybox" ] || fail "no busybox"
mods=$tmp/root/lib/modules/$rel
[ -f "$mods/modules.dep" ] || fail "initramfs has no modules.dep"
for m in ddvm_chan ddvm_blk ddvm_net; do
	[ -f "$mods/extra/$m.ko" ] || fail "no $m.ko"
done
# The translation modules need the channel: depmod recorded it.
grep -q '^extra/ddvm_blk.ko: extra/ddvm_chan.ko' "$mods/modules.dep" || fail "modules.dep: ddvm_blk does not depend on ddvm_chan"
grep -q '^extra/ddvm_net.ko: extra/ddvm_chan.ko' "$mods/modules.dep" || fail "modules.dep: ddvm_net does not depend on ddvm_chan"
for m in nvme nvme-core t10-pi e1000 pvpanic-pci; do
	find "$mods" -name "$m.ko" | grep -q . || fail "module $m.ko not in the initramfs"
done
grep -q '^kernel/drivers/nvme/host/nvme.ko:.*nvme-core.ko' "$mods/modules.dep" ||
	fail "modules.dep does not record nvme -> nvme-core"

# Driver modules are copied byte-for-byte from the kernel's own tree.
tree=$IMG/cache/kernel-$rel/lib/modules/$rel
if [ -d "$tree" ]; then
	n=0
	while read -r ko; do
		cmp -s "$mods/$ko" "$tree/$ko" || fail "$ko differs from the kernel package"
		n=$((n + 1))
	done < <(cd "$mods" && find kernel -name '*.ko')
	note "$n driver modules identical to the package's"
fi
! grep -q 'warning:' "$IMG/kmod/build.log" || fail "the guest modules built with warnings"
note "kernel $kernel ($boot), release $rel, $(du -k "$IMG/$initrd" | cut -f1) KiB initramfs"
echo ok
