// SPDX-License-Identifier: MIT
/*
 * host/vfio_check.c against a fake sysfs (DDVM_SYSFS_ROOT), for what the
 * integration test cannot reach without a driver VM on real hardware: a
 * restarted driver VM's vfio functions are reset through sysfs before its
 * QEMU starts (the reset attribute is written "1"), a first start resets
 * nothing, a function with no reset method is a warning, not a refusal; and
 * interrupt remapping is judged from the IOMMU's capability where the kernel
 * has no /sys/kernel/irq (Intel: ecap bit 3; AMD-Vi: always).
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "vfio_check.c"			/* unit.mk links only the protocol library */
#include "../../lib/posix/log.c"

static char root[128];

static void put(const char *rel, const char *text)
{
	char p[512], cmd[700];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	CHECK_EQ(system(cmd), 0);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void link_at(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	CHECK_EQ(symlink(target, p), 0);
}

static const char *get(const char *rel)
{
	static char buf[64];
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	buf[0] = '\0';
	f = fopen(p, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

int main(void)
{
	struct vm_config vm = { .name = "nic", .ndevs = 2 };
	char err[1024], warn[512], cmd[256];

	snprintf(root, sizeof(root), "/tmp/ddvm-test-vfio-%d", (int)getpid());
	setenv("DDVM_SYSFS_ROOT", root, 1);
	log_set_stream(stderr);
	vm.devs[0].type = DEV_E1000;
	vm.devs[1].type = DEV_VFIO;
	snprintf(vm.devs[1].host, sizeof(vm.devs[1].host), "0000:01:00.0");

	/* A ready device: vfio-pci, alone in group 3, interrupt remapping on. */
	put("bus/pci/devices/0000:01:00.0/class", "0x010802\n");
	put("bus/pci/devices/0000:01:00.0/reset", "");
	put("bus/pci/devices/0000:01:00.0/reset_method", "flr bus\n");
	put("bus/pci/drivers/vfio-pci/new_id", "");
	put("kernel/irq/5/chip_name", "IR-PCI-MSIX-0000:01:00.0\n");
	put("kernel/iommu_groups/3/devices/.keep", "");
	link_at("../../../../kernel/iommu_groups/3", "bus/pci/devices/0000:01:00.0/iommu_group");
	link_at("../../../../bus/pci/drivers/vfio-pci", "bus/pci/devices/0000:01:00.0/driver");
	link_at("../../../../bus/pci/devices/0000:01:00.0", "kernel/iommu_groups/3/devices/0000:01:00.0");

	/* First start: checked, not reset. */
	CHECK_EQ(vfio_before_start(&vm, 0, err, sizeof(err)), 0);
	CHECK(!strcmp(get("bus/pci/devices/0000:01:00.0/reset"), ""));
	/* A restart: reset first. */
	CHECK_EQ(vfio_before_start(&vm, 1, err, sizeof(err)), 0);
	CHECK(!strcmp(get("bus/pci/devices/0000:01:00.0/reset"), "1"));
	/* No reset method: a warning, the restart goes on. */
	snprintf(cmd, sizeof(cmd), "rm %s/bus/pci/devices/0000:01:00.0/reset", root);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(vfio_before_start(&vm, 1, err, sizeof(err)), 0);
	/* ... but a device taken back by the host is refused at the restart. */
	snprintf(cmd, sizeof(cmd), "rm %s/bus/pci/devices/0000:01:00.0/driver", root);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(vfio_before_start(&vm, 1, err, sizeof(err)), -1);
	CHECK(strstr(err, "vm 'nic': device 2: vfio 0000:01:00.0: the device is bound to no driver") != NULL);
	link_at("../../../../bus/pci/drivers/vfio-pci", "bus/pci/devices/0000:01:00.0/driver");

	/* No /sys/kernel/irq: the IOMMU's capability decides. */
	snprintf(cmd, sizeof(cmd), "rm -r %s/kernel/irq", root);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(vfio_check_device("0000:01:00.0", err, sizeof(err), warn, sizeof(warn)), -1);
	CHECK(strstr(err, "interrupt remapping is not available (cannot tell)") != NULL);
	put("class/iommu/dmar0/intel-iommu/ecap", "f020df\n");	/* bit 3: IR */
	CHECK_EQ(vfio_check_device("0000:01:00.0", err, sizeof(err), warn, sizeof(warn)), 0);
	put("class/iommu/dmar0/intel-iommu/ecap", "f020d7\n");
	CHECK_EQ(vfio_check_device("0000:01:00.0", err, sizeof(err), warn, sizeof(warn)), -1);
	CHECK(strstr(err, "interrupt remapping is not available") != NULL);
	put("class/iommu/ivhd0/amd-iommu/cap", "0x1\n");
	CHECK_EQ(vfio_check_device("0000:01:00.0", err, sizeof(err), warn, sizeof(warn)), 0);
	CHECK(!strcmp(warn, ""));

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK_EQ(system(cmd), 0);
	return check_summary("test-vfio-reset");
}
