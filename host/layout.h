/* SPDX-License-Identifier: MIT */
/*
 * A driver VM's channels and guest PCI addresses, derived from its config.
 * One channel per client: channel 0 is the supervisor's (the CTRL queue and
 * the PCI table), then one channel per exported disk and per exported NIC,
 * in config order, then one per disk and NIC a client VM uses, each holding
 * that export's one queue and nothing else, so a client can reach nothing
 * but its own queue.  A NIC with several users is a bridge in the driver VM
 * and each user's queue a port of it (target " br=ddvmbrN mac=...").  Each queue's target
 * names the PCI function (pinned on the QEMU command line) that serves it.
 */
#ifndef DDVM_HOST_LAYOUT_H
#define DDVM_HOST_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ddvm/posix/region_setup.h"

#define LAYOUT_MIN_VECTORS	4	/* ivshmem-doorbell vectors at least */
#define LAYOUT_MAX_EXPORTS	15	/* host front-ends and client VMs' disks */
#define LAYOUT_MAX_CHANNELS	(1 + LAYOUT_MAX_EXPORTS)
#define LAYOUT_MIN_SIZE		(64u << 10)
#define LAYOUT_MAX_SIZE		(1ull << 30)

/* One exported device: which channel and queue serve it. */
struct layout_export {
	uint16_t kind;		/* DDVM_QK_BLOCK or DDVM_QK_NET */
	unsigned int dev;	/* index in the VM's device list (0-based) */
	unsigned int num;	/* disk / NIC number: its place among the VM's disks / NICs */
	unsigned int chan;	/* its channel (1..) */
	unsigned int queue;	/* index in that channel's queue table (0) */
	int client;		/* -1: the host's front-end; else the client VM (config index) */
	int bridged;		/* a NIC with several users: a port of the driver VM's bridge */
	uint8_t mac[6];		/* bridged: its user's MAC there */
};

/* One channel: a region of its own, an ivshmem server, an ivshmem device. */
struct layout_chan {
	struct ddvm_region_spec spec;
	char name[48];			/* "ctrl", "disk0", "net1", "disk0-CLIENT" */
	uint64_t needed;		/* ddvm_region_bytes_needed */
	uint64_t size;			/* configured, or needed rounded up to 2^n */
	unsigned int vectors;		/* ivshmem-doorbell vectors (every peer) */
};

struct vm_layout {
	unsigned int nchan;
	struct layout_chan chan[LAYOUT_MAX_CHANNELS];
	unsigned int nexports;
	struct layout_export ex[LAYOUT_MAX_EXPORTS];
	unsigned int ndisks, nnics;	/* exported ones */
	unsigned int nfront;		/* exports with a host front-end (the first ones) */
	uint32_t bridges;		/* NICs shared through a bridge (bit N: ddvmbrN) */
	unsigned int nbridges;
};

/*
 * Plan vm's channels.  Returns 0, or -1 with one line in err, not naming
 * the VM (too many exports; a configured channel size too small for one).
 */
int layout_plan(const struct vm_config *vm, struct vm_layout *out, char *err, size_t errlen);

/*
 * Device k's PCI slot on pcie.0 (0x4 + k; the controller of a SCSI, USB or
 * SD disk or a USB NIC), the slot of the VM's PIIX IDE controller for an
 * ide disk (the first ide disk's), or 0 if QEMU places it on a controller
 * of its own (ahci disks: q35's built-in AHCI at 00:1f.2).
 */
unsigned int layout_pci_slot(const struct vm_config *vm, unsigned int k);

/* Queue target for device k: "pci=0000:00:04.0", "pci=0000:00:1f.2 n=M" (the Mth
 * ahci disk), "pci=0000:00:05.0 n=M" (the Mth ide disk on the PIIX IDE at 00:05.0). */
void layout_target(const struct vm_config *vm, unsigned int k, char *out, size_t len);

/* The ivshmem server socket of channel c, in the VM's run folder: "ivshmem.sock"
 * for the supervisor's, "chan-disk0.sock" for a client's. */
void layout_chan_sock(const struct vm_layout *l, unsigned int c, char *out, size_t len);

/* The driver VM's kernel argument: "ddvmbr0,ddvmbr2", or "" if no NIC is shared. */
void layout_bridges_arg(const struct vm_layout *l, char *out, size_t len);

/* "4M", "512K", "1G" or bytes, for messages. */
void layout_size_str(uint64_t v, char *out, size_t len);

#endif
