/* SPDX-License-Identifier: MIT */
/* Building a driver VM's QEMU command line and starting it. */
#ifndef DDVM_HOST_QEMU_H
#define DDVM_HOST_QEMU_H

#include <stddef.h>
#include <sys/types.h>

#include "accel.h"
#include "config.h"
#include "image.h"
#include "layout.h"

#define QEMU_VECTORS	4	/* ivshmem-doorbell vectors, at least */
#define QEMU_CHAN_SLOT	0x14	/* first PCI slot of the channels (after the devices') */

struct qemu_params {
	const struct vm_config *vm;
	const struct image_info *img;
	enum accel accel;
	const char *dir;		/* RUNDIR/<vm> */
	int qmp_fd;			/* listening QMP socket, passed as fd 3 */
	const int *wire_fds;		/* per device: its wire TAP fd, or -1; the
					 * taps are passed as fds 4, 5, ... in device order */
	int fresh_logs;			/* truncate qemu.log (first start) */
	const struct vm_layout *plan;	/* its channels: one ivshmem-doorbell device each */
	const int *chan_fds;		/* per channel: a connection of ivs_server_pair
					 * (NULL: QEMU connects to the sockets by path) */
};

/*
 * fork + exec QEMU (no extra privileges, own process group, killed if the
 * supervisor dies, stdin /dev/null, stdout/stderr to DIR/qemu.log).
 * Returns the pid, or -errno with err set.
 */
pid_t qemu_spawn(const struct qemu_params *p, char *err, size_t errlen);

/* The command line as one shell-readable string (for the log). */
void qemu_describe(const struct qemu_params *p, char *out, size_t len);

/* A client VM: another VM using driver VMs' disks and NICs over channels of its own. */
#define QEMU_CLIENT_MAX_CHAN	(2 * CFG_MAX_ATTACH)
struct qemu_client_params {
	const struct client_config *cl;
	enum accel accel;
	const char *dir;		/* RUNDIR/<client> */
	const char *kernel, *initrd;	/* initrd may be "" */
	const char *cmdline;		/* the image's (or "") */
	unsigned int nchan;
	char chan_sock[QEMU_CLIENT_MAX_CHAN][PATH_MAX];	/* the channels' sockets */
	unsigned int chan_vm[QEMU_CLIENT_MAX_CHAN];	/* ... the driver VM and channel each is */
	unsigned int chan_num[QEMU_CLIENT_MAX_CHAN];
	/*
	 * spawn: QEMU gets the channels as connections (chan_fd, ivs_server_pair)
	 * and the virtio disks' sockets through fds, not paths (qemu-args: 0)
	 */
	int handed;
	int chan_fd[QEMU_CLIENT_MAX_CHAN];
	/* virtio = true: virtio-blk on the exports' NBD sockets, virtio-net on TAPs */
	unsigned int nvdisk, nvnic;
	char vdisk_sock[CFG_MAX_ATTACH][PATH_MAX];
	char vnic_tap[CFG_MAX_ATTACH][16];	/* by name (qemu-args) unless vnic_fd >= 0 */
	int vnic_fd[CFG_MAX_ATTACH];		/* spawn: passed as fds 3, 4, ... */
	uint8_t vnic_mac[CFG_MAX_ATTACH][6];
	int fresh_logs;
};

/* fork + exec the client VM's QEMU (as qemu_spawn).  The pid, or -errno with err. */
pid_t qemu_client_spawn(const struct qemu_client_params *p, char *err, size_t errlen);

/*
 * The options that attach a client VM to its channels (one chardev and one
 * ivshmem-doorbell device per disk and NIC), or with virtio = true its
 * virtio-blk and virtio-net devices, shell-quoted, for `ddvm qemu-args`.
 */
void qemu_client_attach_args(const struct qemu_client_params *p, char *out, size_t len);

#endif
