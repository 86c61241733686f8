/* SPDX-License-Identifier: MIT */
/*
 * The supervisor: one event loop serving every driver VM's channel, its
 * QEMU, health checks, and the control socket (one JSON line per request).
 */
#ifndef DDVM_HOST_SUPERVISOR_H
#define DDVM_HOST_SUPERVISOR_H

#include <json-c/json.h>
#include <limits.h>

#include "accel.h"
#include "client_vm.h"
#include "config.h"
#include "image.h"
#include "loop.h"
#include "vm.h"

struct ctl_conn;

struct supervisor {
	const struct ddvm_config *cfg;
	const struct image_info *img;
	enum accel accel;
	char accel_reason[256];
	char rundir[PATH_MAX];
	uint32_t version_override;	/* DDVM_TEST_PROTO_VERSION, 0 = ours */
	int notify_fd;			/* `up -d` parent's pipe; -1 once told */
	int startup_done;		/* all VMs were ready once */
	int stopping;
	int exit_code;
	uint64_t started_ms;

	unsigned int nvms;
	struct vm vms[CFG_MAX_VMS];
	unsigned int nclients;
	struct client_vm clients[CFG_MAX_CLIENTS];

	int tick, stop_timer, sigfd, ctl_fd;
	struct watch tick_w, stop_w, sig_w, ctl_w;
	struct ctl_conn *down_waiters;
};

/*
 * Run until `ddvm down`, SIGINT/SIGTERM, or a VM failing during startup.
 * Returns the process exit code (0 clean, 1 failed).
 */
int supervisor_run(struct supervisor *sv);

/* A VM changed state (called by vm.c; vm NULL: a client VM, by client_vm.c). */
void sv_vm_changed(struct supervisor *sv, struct vm *vm);

/* Send one JSON reply line and end the request (takes the reference). */
void ctl_reply(struct ctl_conn *c, json_object *reply);
/* {"ok":false,"error":msg} */
void ctl_reply_error(struct ctl_conn *c, const char *msg);

#endif
