/* SPDX-License-Identifier: MIT */
/*
 * Client VMs (config `clients`): VMs that use driver VMs' disks, each over
 * a channel of its own (an ivshmem-doorbell device on the driver VM's
 * chan-diskN-CLIENT socket).  The supervisor starts one once every driver
 * VM it uses is ready, watches its QEMU, restarts it with the restart
 * policy (a reboot inside it ends QEMU: -no-reboot), and stops it first at
 * `ddvm down`.  A client with start = false is left to the user
 * (`ddvm qemu-args CLIENT` prints how to attach it).  A client with
 * virtio = true gets no channel: virtio-blk on the exports' NBD sockets and
 * virtio-net on TAPs (ddvmcvC.K) that the supervisor joins to the NICs' host
 * bridges (ddvmhbV.N, which the TAP front-ends join too).
 */
#ifndef DDVM_HOST_CLIENT_VM_H
#define DDVM_HOST_CLIENT_VM_H

#include <json-c/json.h>
#include <limits.h>
#include <sys/types.h>

#include "config.h"
#include "loop.h"
#include "qemu.h"

struct supervisor;

enum client_state { CL_WAITING, CL_RUNNING, CL_RESTARTING, CL_FAILED, CL_STOPPED, CL_EXTERNAL };

struct client_vm {
	struct supervisor *sv;
	const struct client_config *cfg;
	unsigned int index;		/* in the config */
	char dir[PATH_MAX];		/* RUNDIR/<client> */
	enum client_state state;
	char error[512];
	pid_t pid;
	int pidfd, timer;
	struct watch pid_w, timer_w;
	unsigned int restarts, restart_row;
	uint64_t started_ms;
	int ever_started;
	int vnic_fd[CFG_MAX_ATTACH];	/* virtio, started by us: its TAPs (held across restarts) */
	int vnic_persist;		/* virtio, started by the user: we made its TAPs persistent */
};

/* Set up (run folder, timer).  0, or -1 with cl->error set. */
int cvm_init(struct client_vm *cl, struct supervisor *sv, unsigned int index);
/* Its driver VMs changed: start it if they are all ready and it is waiting. */
void cvm_poke(struct client_vm *cl);
/* `ddvm down`: ask QEMU to go (SIGTERM); cvm_kill forces it. */
void cvm_stop(struct client_vm *cl);
void cvm_kill(struct client_vm *cl);
int cvm_running(const struct client_vm *cl);
void cvm_destroy(struct client_vm *cl);
json_object *cvm_status_json(const struct client_vm *cl);

/*
 * The QEMU parameters of client c of cfg, its channels' sockets taken from
 * the driver VMs' layouts under rundir (also for `ddvm qemu-args`, without a
 * supervisor).  kernel/initrd/cmdline point into img (the client image) unless
 * the client names its own.  0, or -1 with err.
 */
/* Does client cl use a disk or NIC of driver VM v? */
int cvm_uses_vm(const struct client_config *cl, unsigned int v);

int cvm_qemu_params(const struct ddvm_config *cfg, unsigned int c, const char *rundir,
		       const struct image_info *img, struct qemu_client_params *p,
		       char *err, size_t errlen);

const char *cvm_state_str(enum client_state s);

#endif
