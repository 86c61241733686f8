// SPDX-License-Identifier: MIT
/* Checks before a host PCI function goes to a driver VM.  See vfio_check.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "vfio_check.h"

#define DOC "see docs/vfio.md"

const char *vfio_sysfs_root(void)
{
	const char *e = getenv("DDVM_SYSFS_ROOT");

	return e && *e ? e : "/sys";
}

void vfio_sysfs_path(char *out, size_t len, const char *fmt, ...)
{
	size_t n = (size_t)strfmt(out, len, "%s/", vfio_sysfs_root());
	va_list ap;

	if (n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, len - n, fmt, ap);
	va_end(ap);
}

/* The last component of symlink path ("" if it is not one). */
static void link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *slash;

	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	strfmt(out, len, "%s", slash ? slash + 1 : buf);
}

/* The driver bound to PCI function addr ("" if none). */
static void pci_driver(const char *addr, char *out, size_t len)
{
	char p[PATH_MAX];

	vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s/driver", addr);
	link_name(p, out, len);
}

/* First line of a sysfs file into out; 0 or -1. */
static int read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	int ok;

	out[0] = '\0';
	if (!f)
		return -1;
	ok = fgets(out, (int)len, f) != NULL;
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return ok ? 0 : -1;
}

/* Write s to an existing sysfs file (never creates one).  0 or -errno. */
static int write_attr(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : n < 0 ? -e : -EIO;
}

/* Does directory path have an entry besides . and ..?  -1 if it cannot be read. */
static int dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int found = 0;

	if (!d)
		return -1;
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return found;
}

/* A PCI-PCI or CardBus bridge (the kernel lets those stay with their driver)? */
static int is_bridge(const char *addr)
{
	char p[PATH_MAX], v[32];
	unsigned long cls;

	vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s/class", addr);
	if (read_line(p, v, sizeof(v)) < 0)
		return 0;
	cls = strtoul(v, NULL, 16) >> 8;
	return cls == 0x0604 || cls == 0x0607;
}

/* The host's devices sharing addr's group that keep the group from being used. */
static int group_blockers(const char *addr, const char *group, char *out, size_t len)
{
	char p[PATH_MAX], drv[64];
	struct dirent *e;
	size_t used = 0;
	int n = 0;
	DIR *d;

	out[0] = '\0';
	vfio_sysfs_path(p, sizeof(p), "kernel/iommu_groups/%s/devices", group);
	d = opendir(p);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, addr))
			continue;
		pci_driver(e->d_name, drv, sizeof(drv));
		if (!drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") || is_bridge(e->d_name))
			continue;
		if (used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s (driver %s)",
						 n ? ", " : "", e->d_name, drv);
		n++;
	}
	closedir(d);
	return n;
}

/*
 * Interrupt remapping: with it on, the kernel's interrupt chips are
 * "IR-IO-APIC", "IR-PCI-MSI-..." (/sys/kernel/irq/N/chip_name).  1 yes,
 * 0 no, -1 cannot tell (no /sys/kernel/irq): then the IOMMU's capability
 * (Intel: ecap bit 3; AMD-Vi always has it).
 */
static int irq_remapping(void)
{
	char p[PATH_MAX], v[64];
	struct dirent *e;
	int found = 0;
	DIR *d;

	vfio_sysfs_path(p, sizeof(p), "kernel/irq");
	d = opendir(p);
	if (d) {
		while (!found && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			vfio_sysfs_path(p, sizeof(p), "kernel/irq/%s/chip_name", e->d_name);
			found = read_line(p, v, sizeof(v)) == 0 && !strncmp(v, "IR-", 3);
		}
		closedir(d);
		return found;
	}
	vfio_sysfs_path(p, sizeof(p), "class/iommu");
	d = opendir(p);
	if (!d)
		return -1;
	while (!found && (e = readdir(d))) {
		if (!strncmp(e->d_name, "ivhd", 4)) {
			found = 1;
		} else if (!strncmp(e->d_name, "dmar", 4)) {
			vfio_sysfs_path(p, sizeof(p), "class/iommu/%s/intel-iommu/ecap", e->d_name);
			found = read_line(p, v, sizeof(v)) == 0 && (strtoull(v, NULL, 16) & 8);
		}
	}
	closedir(d);
	return found;
}

static int unsafe_interrupts_allowed(void)
{
	char p[PATH_MAX], v[8];

	vfio_sysfs_path(p, sizeof(p), "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
	return read_line(p, v, sizeof(v)) == 0 && (v[0] == 'Y' || v[0] == '1');
}

int vfio_check_device(const char *addr, char *err, size_t errlen, char *warn, size_t warnlen)
{
	char p[PATH_MAX], group[32], drv[64], who[512];
	int r;

	warn[0] = '\0';
	vfio_sysfs_path(p, sizeof(p), "kernel/iommu_groups");
	if (dir_nonempty(p) <= 0) {
		strfmt(err, errlen, "vfio %s: the IOMMU is not enabled (%s is empty): turn on VT-d or "
		       "AMD-Vi in the firmware and boot Linux with intel_iommu=on (AMD: on by "
		       "default) iommu=pt; " DOC, addr, p);
		return -1;
	}
	vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s", addr);
	if (access(p, F_OK) < 0) {
		strfmt(err, errlen, "vfio %s: no such PCI device on this host (lspci -D lists them)", addr);
		return -1;
	}
	vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s/iommu_group", addr);
	link_name(p, group, sizeof(group));
	if (!group[0]) {
		strfmt(err, errlen, "vfio %s: the device is in no IOMMU group (the IOMMU does not "
		       "cover it); " DOC, addr);
		return -1;
	}
	pci_driver(addr, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci")) {
		if (drv[0])
			strfmt(err, errlen, "vfio %s: the device is bound to driver %s, not vfio-pci: the "
			       "host still uses it (ddvm up --bind CONFIG binds it to vfio-pci; " DOC ")",
			       addr, drv);
		else
			strfmt(err, errlen, "vfio %s: the device is bound to no driver, not vfio-pci "
			       "(ddvm up --bind CONFIG binds it; " DOC ")", addr);
		return -1;
	}
	r = group_blockers(addr, group, who, sizeof(who));
	if (r) {
		strfmt(err, errlen, "vfio %s: IOMMU group %s is shared with %s, which the host still "
		       "uses: a group goes to one owner whole; bind %s to vfio-pci too, or put the "
		       "card in a slot with a group of its own; " DOC, addr, group, who,
		       r == 1 ? "it" : "them");
		return -1;
	}
	r = irq_remapping();
	if (r <= 0) {
		if (!unsafe_interrupts_allowed()) {
			strfmt(err, errlen, "vfio %s: interrupt remapping is not available (%s): without "
			       "it a device can inject interrupts into the host; enable it in the "
			       "firmware (VT-d/AMD-Vi with interrupt remapping, x2APIC) and do not boot "
			       "with intremap=off, or accept the risk with "
			       "vfio_iommu_type1.allow_unsafe_interrupts=1; " DOC, addr,
			       r == 0 ? "no IR- interrupt chip in /sys/kernel/irq" : "cannot tell");
			return -1;
		}
		strfmt(warn, warnlen, "vfio %s: no interrupt remapping; allowed by "
		       "vfio_iommu_type1.allow_unsafe_interrupts=Y (the device can inject "
		       "interrupts into the host)", addr);
	}
	return 0;
}

static int run_modprobe(const char *mod)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, 1);
		execlp("modprobe", "modprobe", mod, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int vfio_bind(const char *addr, char *err, size_t errlen)
{
	char p[PATH_MAX], drv[64], now[64];
	int r;

	vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s", addr);
	if (access(p, F_OK) < 0) {
		strfmt(err, errlen, "vfio %s: no such PCI device on this host", addr);
		return -1;
	}
	pci_driver(addr, drv, sizeof(drv));
	if (!strcmp(drv, "vfio-pci"))
		return 0;
	vfio_sysfs_path(p, sizeof(p), "bus/pci/drivers/vfio-pci");
	if (access(p, F_OK) < 0 && (getenv("DDVM_SYSFS_ROOT") || run_modprobe("vfio-pci") < 0 ||
				    access(p, F_OK) < 0)) {
		strfmt(err, errlen, "vfio %s: cannot bind it: the vfio-pci driver is not available "
		       "(modprobe vfio-pci)", addr);
		return -1;
	}
	fprintf(stderr, "ddvm: binding %s (driver %s) to vfio-pci\n", addr, drv[0] ? drv : "none");
	vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s/driver_override", addr);
	if ((r = write_attr(p, "vfio-pci")) < 0)
		goto fail;
	if (drv[0]) {
		vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s/driver/unbind", addr);
		if ((r = write_attr(p, addr)) < 0)
			goto fail;
	}
	vfio_sysfs_path(p, sizeof(p), "bus/pci/drivers_probe");
	if ((r = write_attr(p, addr)) < 0)
		goto fail;
	pci_driver(addr, now, sizeof(now));
	if (strcmp(now, "vfio-pci")) {
		strfmt(err, errlen, "vfio %s: binding it to vfio-pci did not take effect (driver now: %s)",
		       addr, now[0] ? now : "none");
		return -1;
	}
	return 0;
fail:
	strfmt(err, errlen, "vfio %s: cannot bind it to vfio-pci: %s: %s", addr, p, strerror(-r));
	return -1;
}

int vfio_check_vm(const struct vm_config *vm, int bind, char *err, size_t errlen)
{
	char msg[900], warn[512];
	unsigned int i;

	for (i = 0; i < vm->ndevs; i++) {
		const char *addr = vm->devs[i].host;

		if (vm->devs[i].type != DEV_VFIO)
			continue;
		if ((bind && vfio_bind(addr, msg, sizeof(msg)) < 0) ||
		    vfio_check_device(addr, msg, sizeof(msg), warn, sizeof(warn)) < 0) {
			strfmt(err, errlen, "vm '%s': device %u: %s", vm->name, i + 1, msg);
			return -1;
		}
		if (warn[0])
			fprintf(stderr, "ddvm: warning: vm '%s': device %u: %s\n", vm->name, i + 1, warn);
	}
	return 0;
}

int vfio_before_start(const struct vm_config *vm, int restart, char *err, size_t errlen)
{
	char p[PATH_MAX], method[128];
	unsigned int i;
	int r;

	for (i = 0; restart && i < vm->ndevs; i++) {
		const char *addr = vm->devs[i].host;

		if (vm->devs[i].type != DEV_VFIO)
			continue;
		vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s/reset_method", addr);
		if (read_line(p, method, sizeof(method)) < 0 || !method[0])
			strfmt(method, sizeof(method), "the kernel's choice");
		vfio_sysfs_path(p, sizeof(p), "bus/pci/devices/%s/reset", addr);
		r = access(p, F_OK) < 0 ? -ENOTSUP : write_attr(p, "1");
		if (r == 0)
			pr_info("vm '%s': device %u: reset %s (%s) before the restart", vm->name, i + 1,
				addr, method);
		else
			pr_warn("vm '%s': device %u: cannot reset %s before the restart (%s): it has no "
				"reset the kernel can do; state left by the driver VM that died may "
				"remain until the driver resets it", vm->name, i + 1, addr,
				strerror(-r));
	}
	return vfio_check_vm(vm, 0, err, errlen);
}
