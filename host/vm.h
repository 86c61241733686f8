/* SPDX-License-Identifier: MIT */
/*
 * One driver VM: its channel (a memfd region the supervisor owns, served
 * over ivshmem), its QEMU process, health checks and restarts.
 */
#ifndef DDVM_HOST_VM_H
#define DDVM_HOST_VM_H

#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ddvm/region.h"
#include "ddvm/ctrl_client.h"
#include "ddvm/ring.h"
#include "frontend.h"
#include "ddvm/posix/ivshmem_server.h"
#include "layout.h"
#include "loop.h"
#include "qmp.h"

struct supervisor;
struct ctl_conn;


enum vm_state { VM_STARTING, VM_READY, VM_RESTARTING, VM_FAILED, VM_STOPPED };

/* One `ddvm ping` in progress on this VM. */
struct vm_ping {
	struct ctl_conn *conn;		/* who gets the reply (NULL = none running) */
	uint32_t count, done;
	uint64_t *lat_ns;
	int timer;
	struct watch timer_w;
};

/* A client channel (vm_channels.c): one export's region, server and socket. */
struct vm_chan {
	int shm_fd;
	void *base;
	uint64_t size;
	struct ddvm_layout layout;	/* as we wrote it; never read back */
	struct ivs_server ivs;
	int serving;			/* ivs is initialised */
	struct watch ivs_w;
	char sock[PATH_MAX];
};

struct vm {
	struct supervisor *sv;
	const struct vm_config *cfg;
	char dir[PATH_MAX];		/* RUNDIR/<name> */
	enum vm_state state;
	char error[768];		/* why it failed ("" if not failed) */

	/* channels: outlive QEMU.  The control channel (the supervisor's own) here: */
	struct vm_layout plan;		/* channels, queues, targets, sizes (from the config) */
	int shm_fd;
	void *base;
	uint64_t size;
	struct ddvm_layout layout;
	struct ddvm_transport tp;	/* libddvm's view of the channel (vm_transport.c) */
	struct ddvm_ctrlc ctrl;		/* its CTRL queue: ping, crash */
	struct ivs_server ivs;
	struct watch ivs_w, bell_w[2];
	/* and one channel per client (export i: clients[i]) */
	unsigned int nclients;
	struct vm_chan clients[LAYOUT_MAX_EXPORTS];

	/* one QEMU instance */
	pid_t pid;
	int pidfd;
	int wire_fd[CFG_MAX_DEVS];	/* net = "tap:X" wires, held across restarts */
	struct watch pid_w;
	struct qmp qmp;
	uint16_t peer_id;		/* QEMU's ivshmem peer id (0 = not attached) */
	uint64_t started_ms, ready_ms;
	uint32_t start_gen;		/* generation before this boot */
	char reason[256];		/* why we killed it (restart reason) */
	int injected;			/* `ddvm inject` will end it: restart at once, no row */
	int permanent;			/* do not restart (refused) */

	/* health */
	unsigned int restarts;		/* in all */
	unsigned int restart_row;	/* in a row (restart_policy.h) */
	int ever_ready;
	uint32_t generation;
	uint64_t heartbeat, hb_change_ms;
	int timer;			/* boot deadline / restart backoff */
	struct watch timer_w;

	struct vm_ping ping;

	/* front-ends (nbdkit, ddvm-tap): peers of our server, outlive QEMU restarts */
	unsigned int nfe;
	struct frontend fe[LAYOUT_MAX_EXPORTS];
};

/* Lay out the region, start the ivshmem server.  0 or -1 with vm->error set. */
int vm_init(struct vm *vm, struct supervisor *sv, const struct vm_config *cfg);
/* Start QEMU (state STARTING).  0 or -1 (then the VM is FAILED). */
int vm_start(struct vm *vm);
/* Re-read the guest's state: readiness, refusal, heartbeat.  Once a second and on doorbells. */
void vm_check(struct vm *vm);
/* Ask QEMU and the front-ends to quit (down); vm_kill forces them. */
void vm_stop(struct vm *vm);
void vm_kill(struct vm *vm);
/* QEMU or a front-end process still alive? */
int vm_running(const struct vm *vm);
/* Release everything (after QEMU is gone). */
void vm_destroy(struct vm *vm);

const char *vm_state_str(enum vm_state s);
json_object *vm_status_json(struct vm *vm);

/* Start `count` ping round trips; the reply goes to conn.  0 or -1 with msg set. */
int vm_ping_start(struct vm *vm, struct ctl_conn *conn, uint32_t count, char *msg, size_t len);

/*
 * Fault injection: ask the driver VM to panic (DDVM_OP_CRASH on the CTRL
 * queue).  Only for a VM configured with fault_injection = true; the
 * supervisor then notices the crash as it would a real one.
 */
int vm_crash(struct vm *vm, char *msg, size_t len);

/*
 * Pull or plug the cable of NIC `dev` (1-based, as in the config): QMP
 * set_link on its QEMU backend, so the driver VM's driver sees carrier
 * change exactly as with real hardware.  For tests and demos.
 */
int vm_set_link(struct vm *vm, unsigned int dev, int up, char *msg, size_t len);
/*
 * `ddvm inject VM FAULT` (vm_faults.c): kill, panic, hang, oops, poison,
 * ioerr, link or storm, for a ready VM with fault_injection = true.  0 with
 * what was done in msg, or -1 with why not.
 */
int vm_inject(struct vm *vm, const char *fault, char *msg, size_t len);
/* Is name one of inject's faults? */
int vm_fault_known(const char *name);
/* Create the ping timer and watch our CTRL doorbell (vm_init). */
int vm_ping_setup(struct vm *vm);
/* End the running ping (if any) with an error, or success if error is NULL. */
void vm_ping_finish(struct vm *vm, const char *error);
/* Ring the driver VM's doorbell vector.  0 or -ENOENT if QEMU is not attached. */
int vm_ring_guest(struct vm *vm, unsigned int vector);
/* Client channels (vm_channels.c): create them (vm_init), write their
 * host-owned fields again (every start), release them; an export's channel. */
int vm_channels_init(struct vm *vm);
void vm_channels_restore(struct vm *vm);
void vm_channels_destroy(struct vm *vm);
const struct vm_chan *vm_export_chan(const struct vm *vm, const struct layout_export *ex);

/*
 * A connection to channel chan (0: the VM's own) for a child to inherit
 * (ivs_server_pair): the fd, close-on-exec, and the peer's id in *id; or
 * -errno.  vm_chan_set_pid names the process once it is forked.
 */
int vm_chan_pair(struct vm *vm, unsigned int chan, pid_t pid, uint16_t *id);
void vm_chan_set_pid(struct vm *vm, unsigned int chan, uint16_t id, pid_t pid);
json_object *vm_chan_json(const struct vm_chan *ch);

/* Fill in vm->tp for the mapped channel (vm_transport.c). */
void vm_transport_init(struct vm *vm);
/* The control connection went away: forget it. */
void vm_ping_forget(struct vm *vm, struct ctl_conn *conn);

#endif
