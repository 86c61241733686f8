/* SPDX-License-Identifier: MIT */
/*
 * Front-end processes of a driver VM's exports: one nbdkit (our plugin) per
 * exported disk, one ddvm-tap per exported NIC.  Each is an ordinary peer of
 * the VM's ivshmem server, which never goes away, so front-ends are started
 * once the VM is first ready and stay up across driver-VM restarts (they see
 * the generation change).  One that exits is restarted with backoff, a
 * bounded number of times; one given up on is started again (a fresh row)
 * once its driver VM is ready as a new instance.  `down` stops them
 * (SIGTERM, SIGKILL after a deadline).
 *
 * nbdkit gets its listening sockets from us (systemd socket activation:
 * LISTEN_FDS), so the unix socket RUNDIR/<vm>/disk<N>.sock exists as soon
 * as the VM is ready and across nbdkit restarts, and a disk can be served on
 * both the unix socket and 127.0.0.1:nbd_tcp_port (nbdkit's -U and -p
 * exclude each other).
 */
#ifndef DDVM_HOST_FRONTEND_H
#define DDVM_HOST_FRONTEND_H

#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

struct vm;
struct layout_export;

enum fe_state {
	FE_WAITING,		/* the driver VM was never ready yet */
	FE_RUNNING,		/* process alive */
	FE_BACKOFF,		/* exited; restart pending */
	FE_UNAVAILABLE,		/* plugin / binary not installed */
	FE_FAILED,		/* gave up restarting, or cannot be set up */
	FE_STOPPING,		/* SIGTERM sent */
	FE_STOPPED,
};

struct frontend {
	struct vm *vm;
	const struct layout_export *ex;
	char name[16];			/* "disk0", "net1": log, socket, stats file names */
	enum fe_state state;
	pid_t pid;
	int pidfd, timer;		/* timer: restart backoff / kill deadline */
	struct watch pid_w, timer_w;
	unsigned int restarts;		/* in a row (restart_policy.h) */
	int given_up;			/* FAILED after restarts in a row: waits for the VM */
	uint32_t given_up_gen;		/* the driver VM's generation when given up */
	uint64_t started_ms;
	int listen_fd[2];		/* disk: unix socket, TCP socket (-1 if none) */
	char error[320];		/* why unavailable / failed ("" if fine) */
};

/* Fill vm->fe from vm->plan (nothing started).  Called by vm_init. */
void frontends_init(struct vm *vm);
/*
 * The driver VM became ready (a new generation): start front-ends that never
 * ran, and again those given up on under an earlier generation.
 */
void frontends_vm_ready(struct vm *vm);
/* Begin stopping (SIGTERM, SIGKILL after a deadline). */
void frontends_stop(struct vm *vm);
/* SIGKILL whatever still runs (down deadline). */
void frontends_kill(struct vm *vm);
/* Any front-end process still alive? */
int frontends_running(const struct vm *vm);
/* Kill and reap everything, close sockets, unlink them. */
void frontends_destroy(struct vm *vm);

/* The "exports" array of a VM's status. */
json_object *frontends_status_json(struct vm *vm);
/* Export ex's queue as the driver VM publishes it (queue_state, capacity or MAC...) into o. */
void vm_queue_state_json(json_object *o, struct vm *vm, const struct layout_export *ex);

const char *fe_state_str(enum fe_state s);

/*
 * A disk served on TCP too (nbd_tcp_port) without nbd_tcp_insecure: its
 * nbdkit requires TLS with a pre-shared key, on both its sockets.  1 with
 * the keys file (the config's nbd_tcp_psk, or RUNDIR/VM/diskN.psk, made at
 * each start) and the user of its first key; 0 if not.
 */
int fe_tls_psk(const struct frontend *f, char *path, size_t len, char *user, size_t ulen);

#endif
