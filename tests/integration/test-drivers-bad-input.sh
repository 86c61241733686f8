#!/bin/bash
# Bad device configs are refused at `ddvm up` (and counted by `ddvm check`)
# with one clear line naming the device and the reason, and no QEMU starts:
# an unknown type (the message lists the known ones); a type whose driver
# the image lacks (an image whose module list has no megaraid_sas); two
# devices that would need the same bus address (a fifth ide disk on the one
# PIIX IDE controller, a seventh ahci disk on q35's 6-port AHCI, one host
# PCI function given to two vfio devices); an SD card whose size QEMU's
# sd-card refuses.
. "$(dirname "$0")/../lib/functions.sh"
new_rundir
d=$DDVM_RUNDIR
conf() { printf '%s\n' "$2" >"$d/$1.conf"; echo "$d/$1.conf"; }
disk() { echo "{ type = \"$1\"; file = \"$d/$2.img\"; size = \"${3:-64M}\"; create = true; }"; }

expect_error "unknown type" "device 1: unknown type 'scsi' \(expected nvme, ahci, virtio-blk, virtio-scsi, .*usb-net, vfio\)" \
	ddvm up "$(conf unknown "vms = ( { name = \"a\"; devices = ( $(disk scsi u) ); } );")"

# An image whose driver list lacks megaraid_sas (the same kernel and initramfs).
img=$TOP/build/image
[ -f "$img/image.conf" ] || fail "no image in $img (ddvm image build)"
mkdir -p "$d/img-nomega"
sed -e "s|^kernel = \"\\([^/\"]*\\)\";|kernel = \"$img/\\1\";|" \
    -e "s|^initramfs = \"\\([^/\"]*\\)\";|initramfs = \"$img/\\1\";|" \
    -e 's/megaraid_sas,//' "$img/image.conf" >"$d/img-nomega/image.conf"
! grep -q megaraid "$d/img-nomega/image.conf" || fail "could not drop megaraid_sas from the test image's list"
c=$(conf nodrv "vms = ( { name = \"a\"; devices = ( $(disk nvme n), $(disk megasas m) ); } );")
expect_error_fixed "a type the image has no driver for" \
	"vm 'a': device 2 (megasas): the image has no driver for it: module 'megaraid_sas' is not in the image's module list" \
	env DDVM_IMAGE_DIR="$d/img-nomega" "$DDVM_BIN" up "$c"
expect_error_fixed "ddvm check counts it" "device 2 (megasas): the image has no driver for it" \
	env DDVM_IMAGE_DIR="$d/img-nomega" "$DDVM_BIN" check "$c"
DDVM_IMAGE_DIR=$img ddvm check "$c" >/dev/null || fail "the same config fails ddvm check with the full image"

expect_error_fixed "a fifth ide disk" \
	"device 5: ide disk: no free place on the PIIX IDE controller, which has 4 (primary and secondary channel, master and slave; a VM can have only one: legacy ports 0x1f0/0x170 and IRQs 14/15), all taken by devices 1, 2, 3, 4" \
	ddvm up "$(conf ide "vms = ( { name = \"a\"; devices = ( $(disk ide i0), $(disk ide i1), $(disk ide i2),
	  $(disk ide i3), $(disk ide i4) ); } );")"
expect_error_fixed "a seventh ahci disk" \
	"device 8: ahci disk: no free port on q35's AHCI controller (00:1f.2), which has 6, all taken by devices 1, 2, 3, 4, 6, 7" \
	ddvm up "$(conf ahci "vms = ( { name = \"a\"; devices = ( $(disk ahci a0), $(disk ahci a1), $(disk ahci a2),
	  $(disk ahci a3), $(disk nvme n0), $(disk ahci a4), $(disk ahci a5), $(disk ahci a6) ); } );")"

# One host PCI function for two vfio devices (a fake sysfs has it: DDVM_SYSFS_ROOT).
mkdir -p "$d/sys/bus/pci/devices/0000:01:00.0"
echo 0x020000 >"$d/sys/bus/pci/devices/0000:01:00.0/class"
expect_error_fixed "one host function, two vfio devices" \
	"vm 'b': device 1: vfio host PCI function 0000:01:00.0 is also vm 'a' device 1: a function can be passed to one device only" \
	env DDVM_SYSFS_ROOT="$d/sys" "$DDVM_BIN" up "$(conf vfio 'vms = ( { name = "a"; devices = ( { type = "vfio"; host = "01:00.0"; } ); },
	  { name = "b"; devices = ( { type = "vfio"; host = "0000:01:00.0"; } ); } );')"

expect_error_fixed "an SD card QEMU refuses" \
	"device 1: an sdhci disk (QEMU's sd-card) must be a power of two in size; '$d/s.img' is 100663296 bytes" \
	ddvm up "$(conf sd "vms = ( { name = \"a\"; devices = ( $(disk sdhci s 96M) ); } );")"

no_qemu_left || fail "a QEMU was started by a refused config"
echo ok
