// SPDX-License-Identifier: MIT
/* QEMU command line for a driver VM, and starting it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "privilege.h"
#include "qemu.h"
#include "spawn.h"

#define MAX_ARGS 160

struct args {
	int n;
	char *v[MAX_ARGS + 1];
};

__attribute__((format(printf, 2, 3)))
static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (a->n >= MAX_ARGS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		a->v[a->n++] = s;
}

static void args_free(struct args *a)
{
	while (a->n)
		free(a->v[--a->n]);
}

/* QEMU option values: a ',' is written ',,'. */
static const char *esc(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 2 < len; in++) {
		out[o++] = *in;
		if (*in == ',')
			out[o++] = ',';
	}
	out[o] = '\0';
	return out;
}

static const char *qemu_binary(void)
{
	const char *e = getenv("DDVM_QEMU");

	return e && *e ? e : "qemu-system-x86_64";
}

#define WIRE_FD0	4	/* the first wire TAP's fd in QEMU (3 is QMP) */
/* What the child hands QEMU (place_fds), each at a number of its own. */
#define QEMU_KERNEL_FD	61
#define QEMU_INITRD_FD	62
#define QEMU_CHAN_FD0	100	/* + channel, < 100 + LAYOUT_MAX_CHANNELS */
#define QEMU_DISK_FD0	140	/* + 2 x device index (+ 1), < 140 + 2 x CFG_MAX_DEVS */

/*
 * A disk's QEMU devices: its controller where it has one of its own (at the
 * pinned slot addr, id "hbaK" / "usbK" / "sdhcK"), then the disk on it.
 * drive = its -drive id, serial = ",serial=..." (the types that take one).
 */
static void add_disk(struct args *a, const struct vm_config *vm, unsigned int k, const char *addr,
		     const char *serial)
{
	static const char *const hba[DEV_NTYPES] = {
		[DEV_VIRTIO_SCSI] = "virtio-scsi-pci", [DEV_LSI53C895A] = "lsi53c895a",
		[DEV_MEGASAS] = "megasas", [DEV_MPTSAS1068] = "mptsas1068", [DEV_PVSCSI] = "pvscsi",
		[DEV_AM53C974] = "am53c974",
	};
	const struct dev_config *d = &vm->devs[k];
	unsigned int i, m = 0;
	uint32_t h = 2166136261u;	/* FNV-1a */
	char wwn[40] = "";
	const char *p;

	for (i = 0; i < k; i++)	/* its place among the VM's disks of its type */
		m += vm->devs[i].type == d->type;
	/*
	 * Linux's mptsas ignores a SAS phy whose attached device has SAS
	 * address 0, which is what QEMU's mptsas reports for a scsi-hd without
	 * a wwn: give it one (NAA 5, QEMU's OUI 52:54:00, from VM name and k).
	 */
	if (d->type == DEV_MPTSAS1068) {
		for (p = vm->name; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		snprintf(wwn, sizeof(wwn), ",wwn=0x5525400%01x%08x", k & 0xf, h);
	}
	switch (d->type) {
	case DEV_NVME:
		add(a, "-device");
		add(a, "nvme,drive=disk%u%s%s", k, addr, serial);
		break;
	case DEV_AHCI:		/* q35's own AHCI at 00:1f.2, port m */
		add(a, "-device");
		add(a, "ide-hd,drive=disk%u,bus=ide.%u%s", k, m, serial);
		break;
	case DEV_VIRTIO_BLK:
		add(a, "-device");
		add(a, "virtio-blk-pci,drive=disk%u%s%s", k, addr, serial);
		break;
	case DEV_IDE:		/* one PIIX4 IDE for all: channel m / 2, master or slave */
		if (m == 0) {
			add(a, "-device");
			add(a, "piix4-ide,id=piix%s", addr);
		}
		add(a, "-device");
		add(a, "ide-hd,drive=disk%u,bus=piix.%u,unit=%u%s", k, m / 2, m % 2, serial);
		break;
	case DEV_USB_STORAGE:	/* the driver VM owns the USB controller */
		add(a, "-device");
		add(a, "qemu-xhci,id=usb%u%s", k, addr);
		add(a, "-device");
		add(a, "usb-storage,drive=disk%u,bus=usb%u.0%s", k, k, serial);
		break;
	case DEV_USB_UAS:
		add(a, "-device");
		add(a, "qemu-xhci,id=usb%u%s", k, addr);
		add(a, "-device");
		add(a, "usb-uas,id=uas%u,bus=usb%u.0", k, k);
		add(a, "-device");
		add(a, "scsi-hd,drive=disk%u,bus=uas%u.0,scsi-id=0,lun=0%s", k, k, serial);
		break;
	case DEV_SDHCI:		/* an SD card (no serial) in an SD host controller of its own */
		add(a, "-device");
		add(a, "sdhci-pci,id=sdhc%u%s", k, addr);
		add(a, "-device");
		add(a, "sd-card,drive=disk%u,bus=pcie.0/sdhc%u/sd-bus", k, k);
		break;
	default:		/* a SCSI host adapter of its own, the disk its target 0 */
		add(a, "-device");
		add(a, "%s,id=hba%u%s", hba[d->type], k, addr);
		add(a, "-device");
		add(a, "scsi-hd,drive=disk%u,bus=hba%u.0,scsi-id=0,lun=0%s%s", k, k, serial, wwn);
		break;
	}
}

static void add_devices(struct args *a, const struct vm_config *vm)
{
	static const char *const model[DEV_NTYPES] = {
		[DEV_E1000] = "e1000", [DEV_E1000E] = "e1000e", [DEV_RTL8139] = "rtl8139",
		[DEV_VIRTIO_NET] = "virtio-net-pci", [DEV_VMXNET3] = "vmxnet3", [DEV_PCNET] = "pcnet",
		[DEV_NE2K_PCI] = "ne2k_pci", [DEV_I82559ER] = "i82559er", [DEV_TULIP] = "tulip",
		[DEV_USB_NET] = "usb-net",
	};
	unsigned int i, ntap = 0;
	char e[2 * PATH_MAX];

	for (i = 0; i < vm->ndevs; i++) {
		const struct dev_config *d = &vm->devs[i];
		char serial[40], addr[16] = "";

		if (d->serial[0])
			snprintf(serial, sizeof(serial), ",serial=%s", d->serial);
		else
			snprintf(serial, sizeof(serial), ",serial=ddvm-%.8s-%u", vm->name, i);
		if (layout_pci_slot(vm, i))	/* pinned, so a queue target can name it */
			snprintf(addr, sizeof(addr), ",addr=0x%x", layout_pci_slot(vm, i));
		if (dev_is_disk(d->type)) {
			/* the backing file: opened by the child while still root (place_fds) */
			(void)e;
			/* QEMU opens it read-only first (probing), then read-write: both in its set */
			add(a, "-add-fd");
			add(a, "fd=%u,set=%u", QEMU_DISK_FD0 + 2 * i, QEMU_DISK_FD0 + 2 * i);
			add(a, "-add-fd");
			add(a, "fd=%u,set=%u", QEMU_DISK_FD0 + 2 * i + 1, QEMU_DISK_FD0 + 2 * i);
			add(a, "-drive");
			add(a, "file=/dev/fdset/%u,if=none,id=disk%u,format=raw,discard=unmap%s",
			    QEMU_DISK_FD0 + 2 * i, i, d->readonly ? ",readonly=on" : "");
			add_disk(a, vm, i, addr, serial);
		} else if (dev_is_nic(d->type)) {
			char mac[32] = "", netdev[32] = "";

			if (d->mac[0])
				snprintf(mac, sizeof(mac), ",mac=%s", d->mac);
			if (d->net == NET_ISOLATED) {
				add(a, "-netdev");
				add(a, "user,id=net%u,restrict=on", i);
			} else if (d->net == NET_TAP) {
				add(a, "-netdev");
				add(a, "tap,id=net%u,fd=%u", i, WIRE_FD0 + ntap++);
			}
			if (d->net != NET_NONE)
				snprintf(netdev, sizeof(netdev), ",netdev=net%u", i);
			add(a, "-device");
			if (d->type == DEV_USB_NET) {	/* on a USB controller the driver VM owns */
				add(a, "qemu-xhci,id=usb%u%s", i, addr);
				add(a, "-device");
				add(a, "usb-net,bus=usb%u.0%s%s", i, netdev, mac);
			} else {
				add(a, "%s%s%s%s,romfile=", model[d->type], addr, netdev, mac);
			}
		} else {
			add(a, "-device");
			add(a, "vfio-pci,host=%s%s", d->host, addr);
		}
	}
}

static void add_channels(struct args *a, const struct qemu_params *p);

/* What every VM we start has: the machine, the accelerator, memory, one vCPU. */
static void add_machine(struct args *a, const char *name, enum accel accel, unsigned int mem_mb)
{
	add(a, "%s", qemu_binary());
	add(a, "-name");
	add(a, "ddvm-%s", name);
	add(a, "-machine");
	add(a, "q35");
	add(a, "-accel");
	if (accel == ACCEL_KVM) {
		add(a, "kvm");
		add(a, "-cpu");
		add(a, "host");
	} else {
		/* 32 MiB of translated code: ~16 MiB less RSS than 48, same boot time. */
		add(a, "tcg,tb-size=32");
	}
	add(a, "-nodefaults");
	add(a, "-no-user-config");
	add(a, "-display");
	add(a, "none");
	add(a, "-m");
	add(a, "%u", mem_mb);
	add(a, "-smp");
	add(a, "1");
}

/*
 * The serial console: written to fd QEMU_CONSOLE_FD, which the child makes
 * the pipe of a log pump appending to DIR/console.log, capped and rotated
 * (spawn_log_fd): a guest flooding its console fills neither the disk nor
 * our memory.
 */
#define QEMU_CONSOLE_FD	60	/* above the QMP and TAP fds (3..) */

static void add_console(struct args *a, const char *dir)
{
	(void)dir;
	/* an fd set, not /dev/fd/N: the pipe is root's, and QEMU runs as the run user */
	add(a, "-add-fd");
	add(a, "fd=%d,set=%d", QEMU_CONSOLE_FD, QEMU_CONSOLE_FD);
	add(a, "-chardev");
	add(a, "file,id=console,path=/dev/fdset/%d,append=on", QEMU_CONSOLE_FD);
	add(a, "-serial");
	add(a, "chardev:console");
}

/* In the child: DIR/console.log's pump as fd QEMU_CONSOLE_FD.  0 or -1. */
static int place_console(const char *dir, int fresh)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/console.log", dir);
	fd = spawn_log_fd(path, fresh);
	if (fd < 0 || spawn_fd_to(fd, QEMU_CONSOLE_FD) < 0) {
		dprintf(2, "ddvm: cannot open the console log %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fd != QEMU_CONSOLE_FD)
		close(fd);
	return 0;
}

static void build(struct args *a, const struct qemu_params *p)
{
	const struct vm_config *vm = p->vm;
	char mods[1024], bridges[CFG_MAX_DEVS * 12];

	add_machine(a, vm->name, p->accel, vm->memory_mb);
	/* /proc/self/fd: opened by the child while still root, wherever the image is */
	add(a, "-kernel");
	add(a, "/proc/self/fd/%d", QEMU_KERNEL_FD);
	if (p->img->initramfs[0]) {
		add(a, "-initrd");
		add(a, "/proc/self/fd/%d", QEMU_INITRD_FD);
	}
	config_vm_modules(vm, mods, sizeof(mods));
	add(a, "-append");
	layout_bridges_arg(p->plan, bridges, sizeof(bridges));
	/* "none": a VM without devices loads no driver (not every one the image has). */
	/* oops=panic: an oops leaves a driver VM in no known state; it is restarted instead. */
	add(a, "%s oops=panic ddvm.modules=%s%s%s%s%s", p->img->cmdline, mods[0] ? mods : "none",
	    bridges[0] ? " ddvm.bridges=" : "", bridges,
	    vm->fault_injection ? " ddvm_chan.fault_injection=1" : "",
	    vm->zero_copy ? "" : " ddvm_chan.zero_copy=0");
	add_console(a, p->dir);
	add(a, "-chardev");
	add(a, "socket,id=qmp,fd=3,server=on,wait=off");
	add(a, "-mon");
	add(a, "chardev=qmp,mode=control");
	add_channels(a, p);
	add(a, "-device");
	add(a, "pvpanic-pci");
	add(a, "-action");
	add(a, "panic=exit-failure");
	add(a, "-no-reboot");
	add(a, "-sandbox");
	add(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	add_devices(a, vm);
	a->v[a->n] = NULL;
}

/*
 * One ivshmem-doorbell function per channel, pinned past the devices'
 * slots (4..0x13): channel c at 00:(0x14 + c/8).(c%8), so the slots the
 * devices are pinned to are never taken first.
 */
static void add_channels(struct args *a, const struct qemu_params *p)
{
	char e[PATH_MAX * 2], sock[64];
	unsigned int c, v;

	for (c = 0; c < p->plan->nchan; c++) {
		layout_chan_sock(p->plan, c, sock, sizeof(sock));
		v = p->plan->chan[c].vectors > QEMU_VECTORS ? p->plan->chan[c].vectors : QEMU_VECTORS;
		add(a, "-chardev");
		if (p->chan_fds)	/* a connection we made (ivs_server_pair) */
			add(a, "socket,id=ivsh%u,fd=%u", c, QEMU_CHAN_FD0 + c);
		else
			add(a, "socket,id=ivsh%u,path=%s/%s", c, esc(p->dir, e, sizeof(e)), sock);
		add(a, "-device");
		add(a, "ivshmem-doorbell,chardev=ivsh%u,vectors=%u,addr=0x%x.%x%s", c, v,
		    QEMU_CHAN_SLOT + c / 8, c % 8, c % 8 == 0 ? ",multifunction=on" : "");
	}
}

/*
 * The arguments as one line a shell reads back: each in '...' (a ' inside as
 * '\''), always, or only where the shell would split or expand it.
 */
static void join_quoted(const struct args *a, int always, char *out, size_t len)
{
	size_t o = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < a->n && o + 8 < len; i++) {
		int q = always || strpbrk(a->v[i], " \t\"'$\\`*?[]{}();&|<>~#!") != NULL;
		const char *c;

		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? " " : "", q ? "'" : "");
		for (c = a->v[i]; *c && o + 6 < len; c++)
			o += (size_t)snprintf(out + o, len - o, q && *c == '\'' ? "'\\''" : "%c", *c);
		if (q)
			o += (size_t)snprintf(out + o, len - o, "'");
	}
}

void qemu_describe(const struct qemu_params *p, char *out, size_t len)
{
	struct args a = { 0 };

	build(&a, p);
	join_quoted(&a, 0, out, len);
	args_free(&a);
}

/*
 * In the child, still root: QMP becomes fd 3, the wire TAPs fds 4, 5, ...
 * (device order, as add_devices numbered them), the channels' connections
 * QEMU_CHAN_FD0 + c, and what QEMU would otherwise open by path -- kernel,
 * initrd, each disk's backing file -- is opened here, so the run user QEMU
 * becomes needs no access to any folder.  Every other fd stays close-on-exec.
 */
static int place_fds(const struct qemu_params *p)
{
	int src[SPAWN_MAX_PLACED], dst[SPAWN_MAX_PLACED];
	unsigned int i, n = 0, ntap = 0;

	src[n] = p->qmp_fd;
	dst[n++] = 3;
	for (i = 0; i < p->vm->ndevs; i++) {
		const struct dev_config *d = &p->vm->devs[i];

		if (dev_is_nic(d->type) && d->net == NET_TAP) {
			src[n] = p->wire_fds ? p->wire_fds[i] : -1;
			dst[n++] = WIRE_FD0 + (int)ntap++;
		} else if (dev_is_disk(d->type)) {
			src[n] = spawn_open(d->file, O_RDONLY);
			dst[n++] = QEMU_DISK_FD0 + 2 * (int)i;
			src[n] = spawn_open(d->file, d->readonly ? O_RDONLY : O_RDWR);
			dst[n++] = QEMU_DISK_FD0 + 2 * (int)i + 1;
		}
	}
	for (i = 0; p->chan_fds && i < p->plan->nchan; i++) {
		src[n] = p->chan_fds[i];
		dst[n++] = QEMU_CHAN_FD0 + (int)i;
	}
	src[n] = spawn_open(p->img->kernel, O_RDONLY);
	dst[n++] = QEMU_KERNEL_FD;
	if (p->img->initramfs[0]) {
		src[n] = spawn_open(p->img->initramfs, O_RDONLY);
		dst[n++] = QEMU_INITRD_FD;
	}
	return spawn_place_fds(src, dst, n);
}

/*
 * In the child, still root: QEMU opens /dev/vfio/GROUP itself, so a host
 * device's IOMMU group becomes the run user's (as libvirt does for its
 * QEMU user); only root could open it otherwise.
 */
static void vfio_give_groups(const struct vm_config *vm)
{
	char link[PATH_MAX], target[PATH_MAX], dev[PATH_MAX + 16];
	unsigned int i;
	ssize_t n;

	for (i = 0; run_user.active && i < vm->ndevs; i++) {
		const char *g;

		if (vm->devs[i].type != DEV_VFIO)
			continue;
		snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", vm->devs[i].host);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;	/* QEMU says what is wrong */
		target[n] = '\0';
		g = strrchr(target, '/');
		snprintf(dev, sizeof(dev), "/dev/vfio/%s", g ? g + 1 : target);
		if (chown(dev, run_user.uid, run_user.gid) < 0)
			dprintf(2, "ddvm: cannot give %s to user %s: %s\n", dev, run_user.name,
				strerror(errno));
	}
}

/* In the child: set up fds and signals, then exec.  Never returns. */
static void child_exec(const struct qemu_params *p, struct args *a, pid_t parent)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/qemu.log", p->dir);
	spawn_child_setup(parent, path, p->fresh_logs);
	if (place_fds(p) < 0 || place_console(p->dir, p->fresh_logs) < 0)
		_exit(127);
	vfio_give_groups(p->vm);
	spawn_child_exec_as(NULL, a->v, -1);
}

pid_t qemu_spawn(const struct qemu_params *p, char *err, size_t errlen)
{
	struct args a = { 0 };
	pid_t parent = getpid(), pid;

	build(&a, p);
	pid = fork();
	if (pid == 0)
		child_exec(p, &a, parent);
	args_free(&a);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	return pid;
}

/* --- client VMs ------------------------------------------------------------ */

/* One chardev + ivshmem-doorbell per channel, from slot 3 on. */
static void add_client_channels(struct args *a, const struct qemu_client_params *p)
{
	char e[2 * PATH_MAX];
	unsigned int c;

	for (c = 0; c < p->nchan; c++) {
		add(a, "-chardev");
		if (p->handed)
			add(a, "socket,id=ddvm%u,fd=%u", c, QEMU_CHAN_FD0 + c);
		else
			add(a, "socket,id=ddvm%u,path=%s", c, esc(p->chan_sock[c], e, sizeof(e)));
		add(a, "-device");
		add(a, "ivshmem-doorbell,chardev=ddvm%u,vectors=%u", c, QEMU_VECTORS);
	}
}

/*
 * virtio = true: each disk a virtio-blk on QEMU's own NBD client (which
 * reconnects if the export's front-end restarts), each NIC a virtio-net on
 * a TAP of the host bridge, with the client's MAC.
 */
static void add_client_virtio(struct args *a, const struct qemu_client_params *p)
{
	char e[2 * PATH_MAX];
	unsigned int i, fd = 3;

	for (i = 0; i < p->nvdisk; i++) {
		add(a, "-blockdev");
		if (p->handed)	/* the socket file through an fd of it: no folder on the way */
			add(a, "driver=nbd,node-name=ddvmvd%u,server.type=unix,"
			       "server.path=/proc/self/fd/%u,reconnect-delay=60", i, QEMU_DISK_FD0 + i);
		else
			add(a, "driver=nbd,node-name=ddvmvd%u,server.type=unix,server.path=%s,"
			       "reconnect-delay=60", i, esc(p->vdisk_sock[i], e, sizeof(e)));
		add(a, "-device");
		add(a, "virtio-blk-pci,drive=ddvmvd%u", i);
	}
	for (i = 0; i < p->nvnic; i++) {
		const uint8_t *m = p->vnic_mac[i];

		add(a, "-netdev");
		if (p->vnic_fd[i] >= 0)
			add(a, "tap,id=ddvmvn%u,fd=%u", i, fd++);
		else
			add(a, "tap,id=ddvmvn%u,ifname=%s,script=no,downscript=no", i, p->vnic_tap[i]);
		add(a, "-device");
		add(a, "virtio-net-pci,netdev=ddvmvn%u,mac=%02x:%02x:%02x:%02x:%02x:%02x,romfile=", i,
		    m[0], m[1], m[2], m[3], m[4], m[5]);
	}
}

/*
 * In the child, still root: the virtio-net TAPs become fds 3, 4, ... (as
 * add_client_virtio numbered them), the channels' connections
 * QEMU_CHAN_FD0 + c, each virtio disk's NBD socket file (O_PATH: QEMU
 * reconnects through it) QEMU_DISK_FD0 + i, kernel and initrd theirs.
 */
static int place_client_fds(const struct qemu_client_params *p)
{
	int src[SPAWN_MAX_PLACED], dst[SPAWN_MAX_PLACED];
	unsigned int i, n = 0, ntap = 0;

	for (i = 0; i < p->nvnic; i++)
		if (p->vnic_fd[i] >= 0) {
			src[n] = p->vnic_fd[i];
			dst[n++] = 3 + (int)ntap++;
		}
	for (i = 0; i < p->nchan; i++) {
		src[n] = p->chan_fd[i];
		dst[n++] = QEMU_CHAN_FD0 + (int)i;
	}
	for (i = 0; i < p->nvdisk; i++) {
		src[n] = spawn_open(p->vdisk_sock[i], O_PATH);
		dst[n++] = QEMU_DISK_FD0 + (int)i;
	}
	src[n] = spawn_open(p->kernel, O_RDONLY);
	dst[n++] = QEMU_KERNEL_FD;
	if (p->initrd[0]) {
		src[n] = spawn_open(p->initrd, O_RDONLY);
		dst[n++] = QEMU_INITRD_FD;
	}
	return spawn_place_fds(src, dst, n);
}

static void build_client(struct args *a, const struct qemu_client_params *p)
{
	add_machine(a, p->cl->name, p->accel, p->cl->memory_mb);
	add(a, "-kernel");
	add(a, "/proc/self/fd/%d", QEMU_KERNEL_FD);	/* place_client_fds */
	if (p->initrd[0]) {
		add(a, "-initrd");
		add(a, "/proc/self/fd/%d", QEMU_INITRD_FD);
	}
	add(a, "-append");
	add(a, "%s%s%s", p->cmdline, p->cmdline[0] && p->cl->append[0] ? " " : "", p->cl->append);
	add_console(a, p->dir);
	add_client_channels(a, p);
	add_client_virtio(a, p);
	add(a, "-no-reboot");	/* a reboot ends QEMU; the supervisor starts it again */
	add(a, "-sandbox");
	add(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	a->v[a->n] = NULL;
}

pid_t qemu_client_spawn(const struct qemu_client_params *p, char *err, size_t errlen)
{
	struct args a = { 0 };
	char path[PATH_MAX + 16];
	pid_t parent = getpid(), pid;

	build_client(&a, p);
	snprintf(path, sizeof(path), "%s/qemu.log", p->dir);
	pid = fork();
	if (pid == 0) {
		spawn_child_setup(parent, path, p->fresh_logs);
		if (place_client_fds(p) < 0 || place_console(p->dir, p->fresh_logs) < 0)
			_exit(127);
		spawn_child_exec_as(NULL, a.v, -1);
	}
	args_free(&a);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	return pid;
}

void qemu_client_attach_args(const struct qemu_client_params *p, char *out, size_t len)
{
	struct args a = { 0 };

	add_client_channels(&a, p);
	add_client_virtio(&a, p);
	join_quoted(&a, 1, out, len);
	args_free(&a);
}
