#!/bin/bash
# SPDX-License-Identifier: MIT
# Build a ddvm driver-VM image: a stock kernel (unmodified), an initramfs
# with only the driver modules a driver VM needs (closure from modules.dep),
# our guest modules (built against the kernel's own headers) and a tiny init.
# With --client, the client-VM image instead: the same kernel, ddvm_front.ko
# (client/, on libddvm), the modules a client needs (ext4), mkfs.ext4 from
# the host and the client's init (image/client-init).
#
# Run as `ddvm image build [args]` (which execs this script) or directly.
# Outputs in the image dir (default <repo>/build/image, --client
# <repo>/build/client-image):
#   vmlinux or vmlinuz    the kernel, byte-for-byte from the package (vmlinux =
#                         the ELF inside vmlinuz, booted as PVH)
#   initramfs.cpio.gz     busybox + /init + modules (+ host tools for a client)
#   image.conf            libconfig: kernel, boot, release, initramfs, cmdline
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG="ddvm image"
NSTEPS=6

# Every controller a config's device types name (host/config.c type_modules):
# disks, then NICs; then pvpanic and the bridge for shared NICs.
DEFAULT_MODULES="nvme ahci sd_mod virtio_blk virtio_scsi sym53c8xx megaraid_sas mptsas vmw_pvscsi \
am53c974 ata_piix xhci_pci usb-storage uas sdhci-pci mmc_block \
virtio_net virtio_pci e1000 e1000e 8139too 8139cp vmxnet3 pcnet32 ne2k-pci e100 tulip cdc_ether \
pvpanic-pci bridge"
# Module options (/etc/modprobe.d/ddvm.conf in the image), one "MODULE OPTS"
# per line, for drivers that need one with QEMU's emulation (docs/drivers.md):
# QEMU 7.2's e1000e raises no interrupt for a link change in MSI-X mode
# (its LSC cause stays pending from boot), so e1000e in MSI mode, whose
# handler reads and clears ICR on each interrupt, sees a pulled cable.
DEFAULT_MODULE_OPTIONS="e1000e IntMode=1"
# A client needs no drivers (its channels are ivshmem PCI functions, which
# ddvm_front drives) but a file system for its disks: ext4 is a module in
# Debian's kernel; crc32c for its metadata checksums (a softdep).
DEFAULT_CLIENT_MODULES="crc32c_generic ext4 virtio_pci virtio_blk virtio_net"
# Host tools in the client image, with their libraries (image/copy-closure.sh).
CLIENT_TOOLS="/sbin/mke2fs /sbin/e2fsck"
# Kernel args that make a TCG boot fast and its idle cheap (see image/README.md).
# The second line silences periodic work a driver VM has no use for (memcg
# stat flushing, PSI averaging, vmstat folding, page-cache writeback: the
# block translation writes below the page cache), each a guest wakeup that
# TCG emulates at a cost.
DEFAULT_CMDLINE="console=ttyS0 quiet tsc=reliable no_timer_check i8042.noaux i8042.nokbd \
i8042.nopnp pci=noaer nowatchdog nmi_watchdog=0 audit=0 cryptomgr.notests \
rcupdate.rcu_expedited=1 \
cgroup_disable=memory psi=0 sysctl.vm.stat_interval=60 sysctl.vm.dirty_writeback_centisecs=0"
# A client keeps the fast-boot arguments, not the driver VM's silencing of
# writeback: its page cache sits above our disk.
DEFAULT_CLIENT_CMDLINE="console=ttyS0 quiet tsc=reliable no_timer_check i8042.noaux i8042.nokbd \
i8042.nopnp pci=noaer nowatchdog nmi_watchdog=0 audit=0 cryptomgr.notests \
rcupdate.rcu_expedited=1"

usage() {
	cat <<EOF
usage: ddvm image build [options]
       image/build.sh [options]

Build the driver-VM image (kernel + initramfs + image.conf), or with
--client the client-VM image (same kernel, ddvm_front.ko, mkfs.ext4).

Kernel input (default: Debian's current linux-image-amd64, downloaded with
apt-get download and unpacked into the cache; nothing is installed in /boot):
  --vmlinuz PATH        another kernel's vmlinuz (or bzImage)
  --modules DIR         its modules tree (/lib/modules/<release>); the release
                        is taken from the directory name
  --headers DIR         its headers / build dir (KDIR for our modules)
Options:
  --client              build the client-VM image (default dir \$DDVM_CLIENT_IMAGE_DIR
                        or build/client-image; the kernel package is shared with
                        the driver image's cache)
  --out DIR             image dir (default \$DDVM_IMAGE_DIR or build/image)
  --modules-list "a b"  driver modules to include (default: $DEFAULT_MODULES;
                        client: $DEFAULT_CLIENT_MODULES)
  --cmdline "ARGS"      kernel command line written to image.conf
  --force               rebuild even if the inputs did not change
  -h, --help            this help
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
step_no=0
step() { step_no=$((step_no + 1)); echo "$PROG: [$step_no/$NSTEPS] $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (install $2)"; }

OUT="" VMLINUZ="" MODDIR="" HDRDIR="" FORCE=0 CLIENT=0
MODLIST="" CMDLINE=""

while [ $# -gt 0 ]; do
	case $1 in
	--vmlinuz) [ $# -ge 2 ] || die "--vmlinuz needs a path"; VMLINUZ=$2; shift 2 ;;
	--modules) [ $# -ge 2 ] || die "--modules needs a directory"; MODDIR=$2; shift 2 ;;
	--headers) [ $# -ge 2 ] || die "--headers needs a directory"; HDRDIR=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift 2 ;;
	--modules-list) [ $# -ge 2 ] || die "--modules-list needs a list"; MODLIST=$2; shift 2 ;;
	--cmdline) [ $# -ge 2 ] || die "--cmdline needs arguments"; CMDLINE=$2; shift 2 ;;
	--force) FORCE=1; shift ;;
	--client) CLIENT=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
DRIVER_OUT=${DDVM_IMAGE_DIR:-$REPO/build/image}
if [ "$CLIENT" = 1 ]; then
	PROG="ddvm image --client"
	: "${OUT:=${DDVM_CLIENT_IMAGE_DIR:-$REPO/build/client-image}}"
	: "${MODLIST:=$DEFAULT_CLIENT_MODULES}" "${CMDLINE:=$DEFAULT_CLIENT_CMDLINE}"
	# What goes into the image, for the up-to-date check.
	SRCS="client lib proto include image/build.sh image/client-init image/copy-closure.sh"
else
	: "${OUT:=$DRIVER_OUT}" "${MODLIST:=$DEFAULT_MODULES}" "${CMDLINE:=$DEFAULT_CMDLINE}"
	SRCS="guest proto include image/build.sh image/init"
fi
MODLIST=$(echo "$MODLIST" | tr ',' ' ' | xargs)
[ -n "$MODLIST" ] || die "--modules-list is empty"
CMDLINE=$(echo "$CMDLINE" | xargs)

for t in depmod modprobe cpio gzip xz make dpkg-deb readelf sha256sum strip; do
	need "$t" "scripts/install-deps.sh"
done
BUSYBOX=/bin/busybox	# busybox-static: runs with no libraries in the initramfs
[ -x "$BUSYBOX" ] || die "busybox not found: $BUSYBOX (apt-get install busybox-static)"
if [ "$CLIENT" = 1 ]; then
	need ldd libc-bin
	for t in $CLIENT_TOOLS; do
		[ -x "$t" ] || die "$t not found (apt-get install e2fsprogs)"
	done
fi

mkdir -p "$OUT" || die "cannot create image dir $OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/cache
# One build per image dir at a time (a second caller waits, then finds it up to date).
exec 9>"$OUT/.lock"
flock 9 || die "cannot lock $OUT/.lock"
if [ "$CLIENT" = 1 ]; then
	# The kernel package is downloaded and unpacked once, in the driver
	# image's cache; hold that image's lock while using it.
	mkdir -p "$DRIVER_OUT" || die "cannot create image dir $DRIVER_OUT"
	DRIVER_OUT=$(cd "$DRIVER_OUT" && pwd)
	CACHE=$DRIVER_OUT/cache
	if [ "$DRIVER_OUT" != "$OUT" ]; then
		exec 8>"$DRIVER_OUT/.lock"
		flock 8 || die "cannot lock $DRIVER_OUT/.lock"
	fi
fi

# --- resolve the kernel ------------------------------------------------------
if [ -n "$VMLINUZ$MODDIR$HDRDIR" ]; then
	MODE=custom
	[ -n "$VMLINUZ" ] || die "--vmlinuz is required with --modules/--headers"
	[ -n "$MODDIR" ] || die "--modules is required with --vmlinuz"
	[ -n "$HDRDIR" ] || die "--headers is required with --vmlinuz"
	[ -f "$VMLINUZ" ] || die "vmlinuz not found: $VMLINUZ"
	[ -d "$MODDIR" ] || die "modules dir not found: $MODDIR"
	[ -f "$HDRDIR/Makefile" ] || die "headers not found: $HDRDIR has no Makefile"
	VMLINUZ=$(realpath "$VMLINUZ"); MODDIR=$(realpath "$MODDIR"); HDRDIR=$(realpath "$HDRDIR")
	RELEASE=$(basename "$MODDIR")
	[ -d "$MODDIR/kernel" ] || die "modules dir $MODDIR has no kernel/ subdir (want /lib/modules/<release>)"
	KIDENT="custom $VMLINUZ $(stat -c '%s %Y' "$VMLINUZ") $MODDIR $(stat -c '%Y' "$MODDIR") \
$(find "$MODDIR" -name '*.ko*' -printf '%P %s %T@\n' | sort | sha256sum | cut -c1-16) \
$HDRDIR $(stat -c '%s %Y' "$HDRDIR/Makefile")"
else
	MODE=debian
	resolve_pkg() {
		apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
	}
	KPKG=$(resolve_pkg)
	if [ -z "$KPKG" ]; then
		echo "$PROG: refreshing apt lists to resolve linux-image-amd64"
		apt-get update -qq >/dev/null 2>&1 || die "apt failed: apt-get update"
		KPKG=$(resolve_pkg)
	fi
	[ -n "$KPKG" ] || die "apt failed: cannot resolve what linux-image-amd64 depends on"
	KVER=$(apt-cache policy "$KPKG" | awk '/Candidate:/ { print $2; exit }')
	[ -n "$KVER" ] && [ "$KVER" != "(none)" ] || die "apt failed: no candidate version for $KPKG"
	RELEASE=${KPKG#linux-image-}
	KIDENT="debian $KPKG $KVER"
fi

BBVER=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null || stat -c '%s %Y' "$BUSYBOX")
if [ "$CLIENT" = 1 ]; then
	# The host tools copied in, by content (with their libraries' versions).
	BBVER="$BBVER client $(for t in $CLIENT_TOOLS; do
		sha256sum "$t" $(ldd "$t" | grep -o '/[^ ]*'); done | sha256sum)"
fi
# shellcheck disable=SC2086  # SRCS is a list of paths
SRCHASH=$(cd "$REPO" && find $SRCS -type f \
	! -name '*.o' ! -name '*.ko' ! -name '*.cmd' -print0 | sort -z |
	xargs -0 sha256sum | sha256sum | cut -c1-64)
HASH=$(printf '%s\n' "$KIDENT" "$MODLIST" "$CMDLINE" "$BBVER" "$SRCHASH" | sha256sum | cut -c1-64)

if [ "$FORCE" = 0 ] && [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$HASH" ] &&
   [ -f "$OUT/image.conf" ] && [ -f "$OUT/initramfs.cpio.gz" ]; then
	echo "$PROG: up to date ($RELEASE)"
	exit 0
fi
rm -f "$OUT/.stamp"

# --- [1] fetch ------------------------------------------------------------------
if [ "$MODE" = debian ]; then
	step "fetching $KPKG $KVER"
	mkdir -p "$CACHE/debs"
	DEB=$CACHE/debs/${KPKG}_$(echo "$KVER" | sed 's/:/%3a/')_amd64.deb
	if [ ! -s "$DEB" ]; then
		(cd "$CACHE/debs" && apt-get download -q "$KPKG=$KVER" >/dev/null 2>"$CACHE/apt.log") ||
			die "apt failed: apt-get download $KPKG=$KVER (see $CACHE/apt.log)"
		[ -s "$DEB" ] || die "apt failed: $DEB missing after apt-get download"
	fi
	KDIR=/usr/src/linux-headers-$RELEASE
	if [ ! -f "$KDIR/Makefile" ]; then
		echo "$PROG: installing linux-headers-$RELEASE"
		apt-get install -y -q -o DPkg::Lock::Timeout=300 "linux-headers-$RELEASE" \
			>"$CACHE/apt.log" 2>&1 ||
			die "apt failed: apt-get install linux-headers-$RELEASE (see $CACHE/apt.log)"
	fi
	[ -f "$KDIR/Makefile" ] || die "headers not found: $KDIR"
else
	step "using kernel $RELEASE from $VMLINUZ"
	KDIR=$HDRDIR
fi

# --- [2] extract the kernel and its modules --------------------------------------
step "extracting kernel $RELEASE"
KTREE=$CACHE/kernel-$RELEASE
if [ "$MODE" = debian ]; then
	if [ ! -f "$KTREE/.extracted" ] || [ "$(cat "$KTREE/.extracted")" != "$KVER" ]; then
		rm -rf "$KTREE"
		mkdir -p "$KTREE"
		dpkg-deb -x "$DEB" "$KTREE" || die "cannot unpack $DEB"
		echo "$KVER" >"$KTREE/.extracted"
	fi
	KSRC=$KTREE/boot/vmlinuz-$RELEASE
	[ -f "$KSRC" ] || die "vmlinuz not found in $DEB"
	MODROOT=$KTREE
else
	KSRC=$VMLINUZ
	if [ -f "$MODDIR/modules.dep" ]; then
		# Use the tree in place (read-only) through a one-link root.
		MODROOT=$CACHE/modroot-$RELEASE
		rm -rf "$MODROOT"; mkdir -p "$MODROOT/lib/modules"
		ln -s "$MODDIR" "$MODROOT/lib/modules/$RELEASE"
	else
		# No modules.dep: depmod a private copy, never the caller's tree.
		MODROOT=$KTREE
		rm -rf "$KTREE"; mkdir -p "$KTREE/lib/modules"
		cp -a "$MODDIR" "$KTREE/lib/modules/$RELEASE"
	fi
fi
MTREE=$MODROOT/lib/modules/$RELEASE
[ -d "$MTREE" ] || die "modules tree $MTREE not found"
if [ ! -f "$MTREE/modules.dep" ]; then
	depmod -b "$MODROOT" "$RELEASE" || die "depmod failed on $MTREE"
fi

# Kernel: the ELF inside vmlinuz (PVH boot) if it has a PVH entry note.
# Replaced with mv: a VM starting meanwhile (another test) boots the old
# kernel, never a missing or half-written one.
rm -f "$OUT/vmlinux.tmp"
BOOT=pvh KERNEL=vmlinux
XZOFF=$(LC_ALL=C grep -obUaP -m1 '\xFD7zXZ\x00' "$KSRC" 2>/dev/null | head -n1 | cut -d: -f1 || true)
has_pvh_note() {	# XEN_ELFNOTE_PHYS32_ENTRY = 18
	local notes
	notes=$(readelf -n "$1" 2>/dev/null) || return 1
	echo "$notes" | awk '$1 == "Xen" && /0x00000012|PHYS32_ENTRY/ { f = 1 } END { exit !f }'
}
if [ -n "$XZOFF" ] &&
   { tail -c +$((XZOFF + 1)) "$KSRC" || true; } |	# SIGPIPE: xz stops at the stream's end
	xz -dc --single-stream >"$OUT/vmlinux.tmp" 2>/dev/null &&
   [ "$(head -c4 "$OUT/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] &&
   has_pvh_note "$OUT/vmlinux.tmp"; then
	mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
	rm -f "$OUT/vmlinuz"
else
	rm -f "$OUT/vmlinux.tmp" "$OUT/vmlinux"
	echo "$PROG: no PVH entry in $KSRC's payload; booting it as bzImage"
	cp "$KSRC" "$OUT/vmlinuz"
	BOOT=linux KERNEL=vmlinuz
fi

# --- [3] build our modules --------------------------------------------------------
# Driver VM: guest/ (+ proto/).  Client: client/ + libddvm (lib/, proto/),
# compiled unchanged into the module.
if [ "$CLIENT" = 1 ]; then KSRCDIR=client WHAT="client module"; else KSRCDIR=guest WHAT="guest modules"; fi
step "building $WHAT against $KDIR"
KMOD=$OUT/kmod
rm -rf "$KMOD"
mkdir -p "$KMOD/include/ddvm"
cp "$REPO/$KSRCDIR"/*.c "$REPO/$KSRCDIR"/Kbuild "$KMOD/"
cp "$REPO/$KSRCDIR"/*.h "$KMOD/" 2>/dev/null || true
cp "$REPO"/proto/*.c "$KMOD/"
[ "$CLIENT" = 0 ] || cp "$REPO"/lib/*.c "$KMOD/"
cp "$REPO"/include/ddvm/*.h "$KMOD/include/ddvm/"
if ! make -C "$KDIR" M="$KMOD" modules >"$KMOD/build.log" 2>&1; then
	grep -E 'error|Error' "$KMOD/build.log" | head -n 20 >&2 || true
	die "$WHAT failed to build (see $KMOD/build.log)"
fi
if grep -q 'warning:' "$KMOD/build.log"; then
	grep 'warning:' "$KMOD/build.log" >&2
	die "$WHAT built with warnings (see $KMOD/build.log)"
fi
OURMODS=$(cd "$KMOD" && ls ./*.ko)

# --- [4] resolve the driver modules' closure -------------------------------------
step "resolving modules: $MODLIST"
ROOT=$OUT/initramfs.root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,dev,proc,sys,tmp,run,mnt,etc/ddvm} "$ROOT/lib/modules/$RELEASE/extra"
: >"$ROOT/etc/ddvm/modules"
for m in $MODLIST; do
	deps=$(modprobe -d "$MODROOT" -S "$RELEASE" --show-depends "$m" 2>&1) ||
		die "module '$m' not found in $MTREE"
	echo "$m" >>"$ROOT/etc/ddvm/modules"
	echo "$deps" | awk '$1 == "insmod" { print $2 }' | while read -r ko; do
		rel=${ko#"$MODROOT"/lib/modules/"$RELEASE"/}
		case $rel in /*) rel=${ko#"$(realpath "$MTREE")"/} ;; esac
		mkdir -p "$ROOT/lib/modules/$RELEASE/$(dirname "$rel")"
		cp "$ko" "$ROOT/lib/modules/$RELEASE/$rel"
	done
done
mkdir -p "$ROOT/etc/modprobe.d"
echo "$DEFAULT_MODULE_OPTIONS" | while read -r m opts; do
	[ -z "$m" ] || echo "options $m $opts"
done >"$ROOT/etc/modprobe.d/ddvm.conf"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$MTREE/$f" ] && cp "$MTREE/$f" "$ROOT/lib/modules/$RELEASE/"
done
# Without debug info (kept in $KMOD for debugging): the module loader reads
# the whole file into guest memory, ~1 MB of DWARF per module otherwise.
for ko in $OURMODS; do
	strip --strip-debug -o "$ROOT/lib/modules/$RELEASE/extra/$ko" "$KMOD/$ko"
done
depmod -b "$ROOT" "$RELEASE" || die "depmod failed on the initramfs tree"
NMODS=$(find "$ROOT/lib/modules" -name '*.ko*' | wc -l)

# --- [5] userland -----------------------------------------------------------------
step "installing busybox and /init"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -s busybox "$ROOT/bin/$a"
done
for a in modprobe insmod rmmod lsmod depmod poweroff reboot halt; do
	ln -sf ../bin/busybox "$ROOT/sbin/$a"
done
if [ "$CLIENT" = 1 ]; then
	install -m 0755 "$REPO/image/client-init" "$ROOT/init"
	. "$REPO/image/copy-closure.sh"
	copy_closure "$ROOT" $CLIENT_TOOLS
	for t in $CLIENT_TOOLS; do
		rm -f "$ROOT/bin/$(basename "$t")"	# busybox's applet of that name
	done
	ln -sf mke2fs "$ROOT/sbin/mkfs.ext4"
	rm -f "$ROOT/bin/mkfs.ext2" "$ROOT/bin/mkfs.ext4"
	[ ! -f /etc/mke2fs.conf ] || cp /etc/mke2fs.conf "$ROOT/etc/"
else
	install -m 0755 "$REPO/image/init" "$ROOT/init"
fi
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$ROOT/dev/console" c 5 1
	mknod -m 666 "$ROOT/dev/null" c 1 3
fi

# --- [6] pack ---------------------------------------------------------------------
step "packing initramfs ($NMODS modules) and image.conf"
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet | gzip -9n) >"$OUT/initramfs.cpio.gz.tmp"
mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
[ "$CLIENT" = 1 ] && ROLE=client || ROLE=driver
cat >"$OUT/image.conf.tmp" <<EOF
# ddvm $ROLE-VM image, written by image/build.sh. Paths are relative to this dir.
kernel = "$KERNEL";
boot = "$BOOT";
release = "$RELEASE";
initramfs = "initramfs.cpio.gz";
cmdline = "$CMDLINE";
modules = "$(echo "$MODLIST" | tr ' ' ',')";
EOF
mv "$OUT/image.conf.tmp" "$OUT/image.conf"
echo "$HASH" >"$OUT/.stamp"
echo "$PROG: built $OUT ($RELEASE, $BOOT boot, $(du -k "$OUT/initramfs.cpio.gz" | cut -f1) KiB initramfs)"
