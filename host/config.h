/* SPDX-License-Identifier: MIT */
/*
 * Supervisor configuration (libconfig): which driver VMs to run and which
 * devices each one drives.  See examples/demo.conf for the schema.
 */
#ifndef DDVM_HOST_CONFIG_H
#define DDVM_HOST_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CFG_MAX_VMS	16
#define CFG_MAX_DEVS	16
#define CFG_MAX_MODULES	16
#define CFG_NAME_MAX	32
#define CFG_MAX_ALLOW	16	/* = DDVM_ALLOW_MAX */
#define CFG_MAX_CLIENTS	16
#define CFG_MAX_ATTACH	8	/* client disks / NICs per driver VM, and per client */

/*
 * Device types: the emulated disk controllers (DEV_NVME..DEV_SDHCI), the
 * emulated NICs (DEV_E1000..DEV_USB_NET), a host function (DEV_VFIO).  Each
 * one's QEMU device, Linux driver and why a type may be refused:
 * config.c's type tables, docs/drivers.md.
 */
enum dev_type {
	DEV_NVME, DEV_AHCI, DEV_VIRTIO_BLK, DEV_VIRTIO_SCSI, DEV_LSI53C895A, DEV_MEGASAS,
	DEV_MPTSAS1068, DEV_PVSCSI, DEV_AM53C974, DEV_IDE, DEV_USB_STORAGE, DEV_USB_UAS,
	DEV_SDHCI,
	DEV_E1000, DEV_E1000E, DEV_RTL8139, DEV_VIRTIO_NET, DEV_VMXNET3, DEV_PCNET,
	DEV_NE2K_PCI, DEV_I82559ER, DEV_TULIP, DEV_USB_NET,
	DEV_VFIO,
	DEV_NTYPES
};
#define DEV_FIRST_DISK	DEV_NVME
#define DEV_LAST_DISK	DEV_SDHCI
#define DEV_FIRST_NIC	DEV_E1000
#define DEV_LAST_NIC	DEV_USB_NET

enum net_kind { NET_ISOLATED, NET_TAP, NET_NONE };

struct dev_config {
	enum dev_type type;
	/* disks */
	char file[PATH_MAX];		/* absolute path of the backing file */
	uint64_t size;			/* bytes for create (0 = not given) */
	int create, readonly;
	char serial[24];
	/* NICs */
	enum net_kind net;		/* the NIC's wire (QEMU backend) */
	char net_tap[16];		/* net = "tap:IFNAME": the wire's host interface */
	char mac[18];			/* "" = QEMU's default */
	/* vfio */
	char host[16];			/* DDDD:BB:DD.F */
	enum dev_type vfio_as;		/* DEV_NVME (a disk), DEV_E1000 (a NIC) or DEV_VFIO */
	/* export through a front-end (disks and NICs; vfio with export = true) */
	int exported;
	char tap[16];			/* NIC: the front-end's TAP device on the host */
	unsigned int nbd_tcp_port;	/* disk: also serve NBD on 127.0.0.1:PORT (0 = no) */
	char nbd_tcp_psk[PATH_MAX];	/* its TLS-PSK keys ("" = generated in the run folder) */
	int nbd_tcp_insecure;		/* no TLS on it (the config says so explicitly) */
	unsigned int nallow;		/* allow_users: who else may join its channel */
	uid_t allow_uids[CFG_MAX_ALLOW];
	/* used by client VMs with virtio = true (through the export) */
	unsigned int nvirtio;
	char host_bridge[16];		/* NIC: the host bridge joining the TAP to them */
};

/* A disk or NIC of this driver VM that a client VM uses (config `clients`). */
struct cfg_attach {
	unsigned int dev;		/* the device (0-based) */
	int nic;			/* a NIC (else a disk) */
	unsigned int client;		/* index in ddvm_config.clients */
	char client_name[CFG_NAME_MAX];
	uint64_t off, len;		/* its slice of the disk (len 0: the whole disk) */
	uint8_t mac[6];			/* NIC: the client's MAC on a shared NIC */
};

struct vm_config {
	char name[CFG_NAME_MAX];
	unsigned int memory_mb;
	unsigned int boot_timeout;	/* seconds; 0 = default for the accelerator */
	unsigned int max_restarts;
	int fault_injection;	/* tests: the guest honours DDVM_OP_CRASH */
	int zero_copy;		/* devices DMA to/from the channel (default 1) */
	uint64_t channel_size;		/* bytes; 0 = computed from the exports */
	unsigned int nmodules;
	char modules[CFG_MAX_MODULES][56];
	unsigned int ndevs;
	struct dev_config devs[CFG_MAX_DEVS];
	unsigned int nattach;		/* its disks and NICs client VMs use, each by a channel of its own */
	struct cfg_attach attach[CFG_MAX_ATTACH];
};

/* A disk a client VM uses: vm's device dev, its disk number num. */
struct client_disk {
	unsigned int vm, dev, num;
	uint64_t off, len;		/* a slice (len 0: the whole disk) */
};

/* A NIC a client uses: vm's device dev, its NIC number num. */
struct client_nic {
	unsigned int vm, dev, num;
	char tap[16];			/* virtio: the client VM's host TAP (on dev's host_bridge) */
	int mac_set;			/* mac given in the config */
	uint8_t mac[6];			/* the client's MAC on a shared NIC (given or derived) */
};

/* A client VM (config `clients`): another VM using driver VMs' disks and NICs. */
struct client_config {
	char name[CFG_NAME_MAX];
	unsigned int memory_mb;
	unsigned int max_restarts;
	int start;			/* false: the user starts it (ddvm qemu-args) */
	int virtio;			/* standard virtio through the exports, no channels */
	char kernel[PATH_MAX];		/* "" = the client image's */
	char initrd[PATH_MAX];		/* "" = the client image's (with the default kernel) */
	char append[512];		/* extra kernel command line */
	unsigned int ndisks;
	struct client_disk disks[CFG_MAX_ATTACH];
	unsigned int nnics;
	struct client_nic nics[CFG_MAX_ATTACH];
};

struct ddvm_config {
	char path[PATH_MAX];		/* as given */
	char dir[PATH_MAX];		/* directory relative paths are taken from */
	char image_dir[PATH_MAX];	/* "" unless the config sets image = */
	/* allow_users, resolved: who may connect to our sockets besides our own euid */
	unsigned int nallow;
	uid_t allow_uids[CFG_MAX_ALLOW];
	char run_user[64];		/* user = (QEMU and front-ends run as it); "" = default */
	unsigned int nvms;
	struct vm_config vms[CFG_MAX_VMS];
	unsigned int nclients;
	struct client_config clients[CFG_MAX_CLIENTS];
};

/*
 * Read and validate the config at path.  Returns 0, or -1 with one line in
 * err ("FILE: vm 'X': device N: problem", no trailing newline).
 */
int config_load(const char *path, struct ddvm_config *out, char *err, size_t errlen);

/* Create missing backing files that have create = true (sparse). */
int config_create_backing(const struct ddvm_config *c, char *err, size_t errlen);

const char *dev_type_name(enum dev_type t);
int dev_is_disk(enum dev_type t);
int dev_is_nic(enum dev_type t);
/* Exported as a disk / as a NIC (emulated, or vfio by its PCI class)? */
int dev_exports_disk(const struct dev_config *d);
int dev_exports_nic(const struct dev_config *d);
/*
 * The MAC of client (a client VM's name, or "host" for the TAP front-end)
 * on a NIC shared through the driver VM's bridge, unless the config gives
 * one: locally administered, unicast, from a hash of "VM/netN/CLIENT".
 */
void config_port_mac(const char *vm, unsigned int nic, const char *client, uint8_t out[6]);
/* A disk / a NIC in the driver VM: an emulated one, or a VFIO one that is one. */
int dev_has_disk(const struct dev_config *d);
int dev_has_nic(const struct dev_config *d);

/* The guest modules device type t needs, comma-separated ("" for vfio). */
const char *dev_type_modules(enum dev_type t);
/*
 * Why type t cannot work in a driver VM (QEMU's emulation or the driver;
 * docs/drivers.md has the evidence), or NULL if it can.  Such a type is
 * refused at `up`.
 */
const char *dev_type_unusable(enum dev_type t);

/* Guest modules vm needs, comma-separated, deduplicated ("" if none). */
void config_vm_modules(const struct vm_config *vm, char *buf, size_t len);

/* Parse "64M" style sizes (K/M/G/T suffixes, binary).  0 or -EINVAL. */
int config_parse_size(const char *s, uint64_t *out);

#endif
