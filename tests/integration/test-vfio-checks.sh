#!/bin/bash
# Before QEMU gets a host PCI function (type = "vfio"), ddvm checks what VFIO
# needs, against sysfs -- here a fake tree (DDVM_SYSFS_ROOT): a ready NIC
# passes `ddvm check`; no IOMMU, the device bound to a host driver or to
# none, its IOMMU group shared with a device the host still uses, and no
# interrupt remapping are each refused with their reason by `ddvm check`
# (naming file, line and key) and by `ddvm up` (before any QEMU starts);
# bridges, pci-stub, unbound and vfio-pci group members are fine, and
# allow_unsafe_interrupts=Y lets a host without interrupt remapping through
# with a warning.  `ddvm up --bind` binds the device the way the kernel
# wants (driver_override, unbind, drivers_probe) and says so when the
# binding did not take (the fake kernel never binds).  No VM boots.
. "$(dirname "$0")/../lib/functions.sh"
new_rundir
d=$DDVM_RUNDIR
NIC=0000:01:00.0

# mk_sys DIR: a host with a VT-d IOMMU, interrupt remapping, and a NIC at
# $NIC bound to vfio-pci, alone in IOMMU group 7 with its PCIe root port.
mk_sys() {
	local s=$1
	rm -rf "$s"
	mkdir -p "$s/kernel/iommu_groups/7/devices" "$s/kernel/iommu_groups/0/devices" \
		"$s/bus/pci/drivers/vfio-pci" "$s/bus/pci/drivers/e1000e" "$s/bus/pci/drivers/pcieport" \
		"$s/bus/pci/drivers/pci-stub" "$s/kernel/irq/24" "$s/kernel/irq/0" \
		"$s/module/vfio_iommu_type1/parameters"
	: >"$s/bus/pci/drivers_probe"
	: >"$s/bus/pci/drivers/e1000e/unbind"
	echo N >"$s/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
	echo IR-IO-APIC >"$s/kernel/irq/0/chip_name"
	echo IR-PCI-MSIX-0000:01:00.0 >"$s/kernel/irq/24/chip_name"
	mk_dev "$s" $NIC 0x020000 7 vfio-pci
	mk_dev "$s" 0000:00:1c.0 0x060400 7 pcieport	# its root port: a bridge, may keep its driver
	mk_dev "$s" 0000:00:00.0 0x060000 0 ""		# host bridge, another group
}
# mk_dev DIR ADDR CLASS GROUP DRIVER("" = none)
mk_dev() {
	local s=$1 a=$2 dev=$1/bus/pci/devices/$2
	mkdir -p "$dev"
	echo "$3" >"$dev/class"
	: >"$dev/driver_override"
	: >"$dev/reset"
	echo flr >"$dev/reset_method"
	ln -sfn "../../../../kernel/iommu_groups/$4" "$dev/iommu_group"
	ln -sfn "../../../../bus/pci/devices/$a" "$s/kernel/iommu_groups/$4/devices/$a"
	rm -f "$dev/driver"
	[ -z "$5" ] || ln -sfn "../../../../bus/pci/drivers/$5" "$dev/driver"
}

cat >"$d/vfio.conf" <<CONF
# a NIC of the host, passed through
vms = (
  { name = "nic";
    devices = (
      { type = "e1000"; net = "isolated"; export = false; },
      { type = "vfio"; host = "01:00.0"; export = false; }
    );
  }
);
CONF
line=$(grep -n 'type = "vfio"' "$d/vfio.conf" | cut -d: -f1)
export DDVM_SYSFS_ROOT=$d/sys

# refused DESC PATTERN: ddvm check and ddvm up both refuse, with PATTERN.
refused() {
	local desc=$1 pat=$2
	expect_error "$desc (check)" "^$d/vfio.conf:$line: vms\[0\]\.devices\[1\]\.host: vm 'nic': device 2: vfio $NIC: $pat" \
		ddvm check "$d/vfio.conf"
	expect_error "$desc (up)" "vm 'nic': device 2: vfio $NIC: $pat" ddvm up -d "$d/vfio.conf"
	no_qemu_left || fail "$desc: a QEMU was started"
}

# 0. All is well: check passes.
mk_sys "$d/sys"
out=$(ddvm check "$d/vfio.conf" 2>&1) || fail "a ready device is refused: $out"
[ "$out" = "$d/vfio.conf: ok" ] || fail "unexpected check output: $out"
note "ready device: $out"

# 1. No IOMMU (the firmware's VT-d off, or no intel_iommu=on): no groups at all.
mk_sys "$d/sys"
rm -rf "$d/sys/kernel/iommu_groups"/*
refused "no IOMMU" "the IOMMU is not enabled \(.*iommu_groups is empty\): turn on VT-d"

# 2. The device still bound to its host driver; then to none.
mk_sys "$d/sys"
mk_dev "$d/sys" $NIC 0x020000 7 e1000e
refused "bound to the host driver" "the device is bound to driver e1000e, not vfio-pci: the host still uses it \(ddvm up --bind CONFIG"
mk_dev "$d/sys" $NIC 0x020000 7 ""
refused "bound to no driver" "the device is bound to no driver, not vfio-pci"

# 3. Its IOMMU group shared with a function the host still drives.
mk_sys "$d/sys"
mk_dev "$d/sys" 0000:01:00.1 0x020000 7 e1000e
refused "group shared with a host device" "IOMMU group 7 is shared with 0000:01:00.1 \(driver e1000e\), which the host still uses"
#    ... fine once that one is bound to vfio-pci, to pci-stub, or to nothing.
for drv in vfio-pci pci-stub ""; do
	mk_dev "$d/sys" 0000:01:00.1 0x020000 7 "$drv"
	ddvm check -q "$d/vfio.conf" || fail "group member with driver '$drv' refused"
done

# 4. No interrupt remapping: refused, unless the admin allowed unsafe interrupts.
mk_sys "$d/sys"
echo IO-APIC >"$d/sys/kernel/irq/0/chip_name"
echo PCI-MSIX-0000:01:00.0 >"$d/sys/kernel/irq/24/chip_name"
refused "no interrupt remapping" "interrupt remapping is not available \(no IR- interrupt chip in /sys/kernel/irq\)"
echo Y >"$d/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
ddvm check "$d/vfio.conf" >"$d/out" 2>"$d/err" || fail "allow_unsafe_interrupts=Y still refused: $(cat "$d/err")"
grep -q "warning: vm 'nic': device 2: vfio $NIC: no interrupt remapping; allowed by vfio_iommu_type1.allow_unsafe_interrupts=Y" \
	"$d/err" || fail "no warning about unsafe interrupts: $(cat "$d/err")"
note "unsafe interrupts allowed -> $(cat "$d/err")"

# 5. No such device: the config itself is wrong.
mk_sys "$d/sys"
rm -rf "$d/sys/bus/pci/devices/$NIC"
expect_error "no such device" "^$d/vfio.conf:$line: vms\[0\]\.devices\[1\]\.host: vm 'nic': device 2: vfio host address $NIC: no such PCI device on this host" \
	ddvm check "$d/vfio.conf"

# 6. --bind: override, unbind from e1000e, probe -- then it must be vfio-pci's.
mk_sys "$d/sys"
mk_dev "$d/sys" $NIC 0x020000 7 e1000e
expect_error "bind that does not take" "vfio $NIC: binding it to vfio-pci did not take effect \(driver now: e1000e\)" \
	ddvm up -d --bind "$d/vfio.conf"
grep -q "ddvm: binding $NIC (driver e1000e) to vfio-pci" "$d/expect.err" || fail "--bind did not say what it binds"
[ "$(cat "$d/sys/bus/pci/devices/$NIC/driver_override")" = vfio-pci ] || fail "driver_override not set"
[ "$(cat "$d/sys/bus/pci/drivers/e1000e/unbind")" = $NIC ] || fail "not unbound from e1000e"
[ "$(cat "$d/sys/bus/pci/drivers_probe")" = $NIC ] || fail "drivers_probe not written"
no_qemu_left || fail "a QEMU was started"
#    no vfio-pci driver (and no modprobe against a fake tree): said so
mk_sys "$d/sys"
mk_dev "$d/sys" $NIC 0x020000 7 e1000e
rmdir "$d/sys/bus/pci/drivers/vfio-pci"
expect_error "bind without vfio-pci" "the vfio-pci driver is not available" ddvm up -d --bind "$d/vfio.conf"
echo ok
