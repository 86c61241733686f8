# Bench-only driver VM images (sourced by bench/*.sh).
#
# A bench image is the stock image (`ddvm image build`) plus a second cpio
# archive appended to its initramfs: the kernel unpacks both, so files in the
# overlay (tools, /etc/ddvm/bench.sh, which image/init runs in the background
# once the modules are loaded) join the stock root without rebuilding it.
# The kernel and the stock initramfs are not modified.

. "$(dirname "${BASH_SOURCE[0]}")/../../image/copy-closure.sh"

# bench_copy_closure OVERLAY BIN...: each BIN and its shared-library closure
# (ldd), at their host paths under OVERLAY (image/copy-closure.sh).
bench_copy_closure() { copy_closure "$@"; }

# bench_image SRC OVERLAY OUT [CMDLINE...]: OUT/image.conf and
# OUT/initramfs-bench.cpio.gz = SRC's image + OVERLAY, booted with CMDLINE
# added to SRC's kernel command line.  Use with DDVM_IMAGE_DIR=OUT.
bench_image() {
	local src ov=$2 out=$3 kernel initrd
	src=$(cd "$1" && pwd) || return 1
	shift 3
	kernel=$(sed -n 's/^kernel = "\(.*\)";/\1/p' "$src/image.conf")
	initrd=$(sed -n 's/^initramfs = "\(.*\)";/\1/p' "$src/image.conf")
	[ -n "$kernel" ] && [ -n "$initrd" ] || { echo "bench_image: no kernel/initramfs in $src/image.conf" >&2; return 1; }
	case $kernel in /*) ;; *) kernel=$src/$kernel ;; esac
	rm -rf "$out"
	mkdir -p "$out"
	(cd "$ov" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$out/overlay.cpio.gz"
	cat "$src/$initrd" "$out/overlay.cpio.gz" >"$out/initramfs-bench.cpio.gz"
	rm -f "$out/overlay.cpio.gz"
	sed -e "s|^kernel = .*|kernel = \"$kernel\";|" \
		-e 's|^initramfs = .*|initramfs = "initramfs-bench.cpio.gz";|' \
		-e "s|^cmdline = \"\\(.*\\)\";|cmdline = \"\\1${*:+ $*}\";|" \
		"$src/image.conf" >"$out/image.conf"
	[ $# = 0 ] || grep -qF -- "$*\";" "$out/image.conf" ||
		{ echo "bench_image: could not add the command line to $out/image.conf" >&2; return 1; }
}
