#!/bin/bash
# `make test-drivers`: the driver conformance matrix.  For every disk and NIC
# controller type (or those in DRIVER_TYPES), one at a time: the suite
# (tests/drivers/suite.sh), then throughput through ddvm and inside the driver
# VM (tests/drivers/throughput.sh); then the table, with each type's QEMU
# device, Linux driver and module closure (from the image), per item pass /
# fail, throughput ratios and boot time to ready.
#   tests/drivers/run.sh                 everything (~20 min under TCG)
#   DRIVER_TYPES="sdhci tulip"           only these
#   DRV_NO_THROUGHPUT=1                  the suite only
#   DRV_UPDATE_DOCS=1                    also put the table into docs/drivers.md
# Writes build/drivers/: results.tsv, drivers.md (the table), logs/TYPE*.log.
# Exit status 1 if an item failed that docs/drivers.md does not list as a
# known failure (tests/drivers/known-failures).
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
. tests/lib/drivers.sh
fail() { echo "tests/drivers/run.sh: $*" >&2; exit 1; }
OUT=$TOP/build/drivers
mkdir -p "$OUT/logs"
RES=$OUT/results.tsv
: >"$RES"
TYPES=${DRIVER_TYPES:-$DRV_BLK_TYPES $DRV_NET_TYPES}
build/bin/ddvm image build >"$OUT/logs/image-build.log" 2>&1 || {
	echo "image build failed: $(tail -n 3 "$OUT/logs/image-build.log")"; exit 1; }
IMG=${DDVM_IMAGE_DIR:-$TOP/build/image}
release=$(sed -n 's/^release = "\(.*\)";/\1/p' "$IMG/image.conf")

# The Linux modules of each type, from host/config.c's tables.
type_modules() {
	perl -0ne '
		my %name; my %mods;
		if (/cfg_type_names\[DEV_NTYPES\]\s*=\s*\{(.*?)\}/s) { my $b = $1; $name{$1} = $2 while $b =~ /\[(DEV_\w+)\]\s*=\s*"([^"]*)"/g }
		if (/type_modules\[DEV_NTYPES\]\s*=\s*\{(.*?)\}/s) { my $b = $1; $mods{$1} = $2 while $b =~ /\[(DEV_\w+)\]\s*=\s*"([^"]*)"/g }
		for (keys %name) { print "$mods{$_}\n" if $name{$_} eq $ENV{T} }' host/config.c
}
# The module closure in the image, load order, as modprobe resolves it there.
closure() {
	local m
	for m in $(T=$1 type_modules | tr ',' ' '); do
		modprobe -d "$IMG/initramfs.root" -S "$release" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { n = split($2, p, "/"); sub(/\.ko.*$/, "", p[n]); print p[n] }'
	done | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//'
}

failed=0
for t in $TYPES; do
	drv_kind "$t" >/dev/null || exit 1
	printf 'CLOSURE\t%s\t%s\t%s\n' "$t" "$(T=$t type_modules)" "$(closure "$t")" >>"$RES"
	echo "== $t"
	DRV_RESULTS=$RES timeout --kill-after=10 900 tests/drivers/suite.sh "$t" >"$OUT/logs/$t.log" 2>&1 || true
	grep '^RESULT' "$OUT/logs/$t.log" | cut -f3,4,6 | sed 's/^/   /'
	grep -q "^RESULT	$t	" "$RES" || { printf 'RESULT\t%s\tboot\tfail\t0\tthe suite did not run (see %s)\n' \
		"$t" "build/drivers/logs/$t.log" >>"$RES"; }
	if [ -z "${DRV_NO_THROUGHPUT:-}" ] && grep -q "^RESULT	$t	boot	pass" "$RES"; then
		DRV_RESULTS=$RES timeout --kill-after=10 900 tests/drivers/throughput.sh "$t" \
			>"$OUT/logs/$t-throughput.log" 2>&1 ||
			printf 'THROUGHPUT\t%s\tfailed\t-\t-\n' "$t" >>"$RES"
		grep '^THROUGHPUT' "$OUT/logs/$t-throughput.log" | cut -f3- | sed 's/^/   /'
	fi
done

# --- the table -------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
mark() {	# TYPE ITEM
	case $(awk -F'\t' -v t="$1" -v i="$2" '$1 == "RESULT" && $2 == t && $3 == i { s = $4 } END { print s }' "$RES") in
	pass) echo "✓" ;; fail) echo "**✗**" ;; skip) echo "–" ;; *) echo "?" ;;
	esac
}
field() { awk -F'\t' -v k="$1" -v t="$2" -v i="$3" -v f="$4" '$1 == k && $2 == t && $3 == i { v = $f } END { print v }' "$RES"; }
boot_s() { field RESULT "$1" boot 6 | sed -n 's/.* in \([0-9]*\) s (\([0-9.]*\) s to.*/\1 (\2)/p'; }
tput() {	# TYPE METRIC: "ddvm / in-VM (ratio)"
	local a b
	a=$(field THROUGHPUT "$1" "$2" 4) b=$(field THROUGHPUT "$1" "$2" 5)
	[ -n "$a" ] && [ "$a" != - ] || { echo "-"; return; }
	echo "$a / $b ($(ratio "$a" "$b"))"
}
declare -A QDEV=(
	[nvme]=nvme [ahci]="ich9-ahci (q35's)" [virtio-blk]=virtio-blk-pci [virtio-scsi]=virtio-scsi-pci
	[lsi53c895a]=lsi53c895a [megasas]=megasas [mptsas1068]=mptsas1068 [pvscsi]=pvscsi
	[am53c974]=am53c974 [ide]=piix4-ide [usb-storage]="qemu-xhci + usb-storage"
	[usb-uas]="qemu-xhci + usb-uas" [sdhci]="sdhci-pci + sd-card" [e1000]=e1000 [e1000e]=e1000e
	[rtl8139]=rtl8139 [virtio-net]=virtio-net-pci [vmxnet3]=vmxnet3 [pcnet]=pcnet
	[ne2k_pci]=ne2k_pci [i82559er]=i82559er [tulip]=tulip [usb-net]="qemu-xhci + usb-net"
)
{
	echo "Run $(date +%F): $(awk -F'\t' '$1 == "RESULT"' "$RES" | wc -l) items, accelerator" \
		"$(awk -F'\t' '$1 == "RESULT" && $3 == "boot" { if (match($6, /accel [a-z]+/)) { print substr($6, RSTART + 6, RLENGTH - 6); exit } }' "$RES")," \
		"kernel $release, QEMU $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p'), $(nproc) host CPUs."
	echo
	echo "Disks (✓ pass, **✗** fail, – not offered by the device; boot: s from \`ddvm up\` to the export ready (to the driver VM ready); MB/s sequential, 128 KiB, QD 4: through ddvm / in the driver VM (ratio)):"
	echo
	echo "| type | QEMU device | Linux driver | boot s | integrity | unaligned | past end | zeroes | discard | flush + kill | restart under I/O | final | read MB/s | write MB/s |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for t in $TYPES; do
		[ "$(drv_kind "$t")" = disk ] || continue
		echo "| $t | ${QDEV[$t]} | $(T=$t type_modules | tr ',' ' ') | $(boot_s "$t") | $(mark "$t" integrity) | $(mark "$t" unaligned) | $(mark "$t" past_end) | $(mark "$t" zeroes) | $(mark "$t" discard) | $(mark "$t" flush_kill) | $(mark "$t" restart_io) | $(mark "$t" final) | $(tput "$t" seq_read_mbs) | $(tput "$t" seq_write_mbs) |"
	done
	echo
	echo "NICs (Mbit/s TCP: through ddvm / in the driver VM (ratio)):"
	echo
	echo "| type | QEMU device | Linux driver | boot s | ping v4+v6 | TCP both ways | MTU frames | oversize dropped | carrier follows cable | restart under TCP | TCP out Mbit/s | TCP in Mbit/s |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for t in $TYPES; do
		[ "$(drv_kind "$t")" = nic ] || continue
		echo "| $t | ${QDEV[$t]} | $(T=$t type_modules | tr ',' ' ') | $(boot_s "$t") | $(mark "$t" ping) | $(mark "$t" tcp) | $(mark "$t" mtu) | $(mark "$t" oversize) | $(mark "$t" carrier) | $(mark "$t" restart) | $(tput "$t" tcp_out_mbit) | $(tput "$t" tcp_in_mbit) |"
	done
	echo
	echo "Module closures in the image (load order):"
	echo
	for t in $TYPES; do
		echo "- $t: $(awk -F'\t' -v t="$t" '$1 == "CLOSURE" && $2 == t { print $4 }' "$RES")"
	done
	echo
	echo "Failures and skips, with the suite's message:"
	echo
	awk -F'\t' '$1 == "RESULT" && $4 != "pass" { printf "- %s %s: %s: %s\n", $2, $3, $4, $6 }' "$RES"
	awk -F'\t' '$1 == "THROUGHPUT" && $3 == "failed" { printf "- %s throughput: not measured (see build/drivers/logs/%s-throughput.log)\n", $2, $2 }' "$RES"
} >"$OUT/drivers.md"

if [ -n "${DRV_UPDATE_DOCS:-}" ]; then
	awk -v f="$OUT/drivers.md" '
		/<!-- drivers-table begin -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
		/<!-- drivers-table end -->/ { skip = 0 }
		!skip' docs/drivers.md >"$OUT/drivers-doc.md" && cp "$OUT/drivers-doc.md" docs/drivers.md
fi

# Known failures (QEMU's emulation, documented in docs/drivers.md) do not fail the run.
while IFS=$'\t' read -r _ t item status _ detail; do
	[ "$status" = fail ] || continue
	if grep -qx "$t $item" tests/drivers/known-failures 2>/dev/null; then
		echo "known failure: $t $item ($detail)"
	else
		echo "FAILED: $t $item: $detail"
		failed=1
	fi
done < <(awk -F'\t' '$1 == "RESULT"' "$RES")
echo "table: build/drivers/drivers.md"
exit $failed
