// SPDX-License-Identifier: MIT
/* Client VMs.  See client_vm.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_vm.h"
#include "ddvm/posix/bridge.h"
#include "ddvm/posix/log.h"
#include "frontend.h"
#include "image.h"
#include "layout.h"
#include "restart_policy.h"
#include "rundir.h"
#include "spawn.h"
#include "supervisor.h"
#include "wire_tap.h"

#define STABLE_MS	60000
#define BACKOFF_MAX_MS	60000

const char *cvm_state_str(enum client_state s)
{
	switch (s) {
	case CL_WAITING: return "waiting";
	case CL_RUNNING: return "running";
	case CL_RESTARTING: return "restarting";
	case CL_FAILED: return "failed";
	case CL_STOPPED: return "stopped";
	case CL_EXTERNAL: return "external";
	}
	return "?";
}

int cvm_qemu_params(const struct ddvm_config *cfg, unsigned int c, const char *rundir,
		       const struct image_info *img, struct qemu_client_params *p,
		       char *err, size_t errlen)
{
	const struct client_config *cl = &cfg->clients[c];
	unsigned int v, e;

	memset(p, 0, sizeof(*p));
	p->cl = cl;
	p->kernel = cl->kernel[0] ? cl->kernel : img ? img->kernel : "";
	p->initrd = cl->kernel[0] ? cl->initrd : img ? img->initramfs : "";
	p->cmdline = cl->kernel[0] ? "console=ttyS0" : img ? img->cmdline : "";
	if (cl->virtio) {
		for (e = 0; e < cl->ndisks; e++)
			snprintf(p->vdisk_sock[p->nvdisk++], PATH_MAX, "%s/%s/disk%u.sock", rundir,
				 cfg->vms[cl->disks[e].vm].name, cl->disks[e].num);
		for (e = 0; e < cl->nnics; e++) {
			snprintf(p->vnic_tap[e], sizeof(p->vnic_tap[e]), "%s", cl->nics[e].tap);
			memcpy(p->vnic_mac[e], cl->nics[e].mac, 6);
			p->vnic_fd[e] = -1;
		}
		p->nvnic = cl->nnics;
		return 0;
	}
	/* Each driver VM's plan once; the client's channels in its config order there. */
	for (v = 0; v < cfg->nvms; v++) {
		const struct vm_config *vm = &cfg->vms[v];
		struct vm_layout lay;
		char sock[80];

		if (!cvm_uses_vm(cl, v))
			continue;
		if (layout_plan(vm, &lay, err, errlen) < 0)
			return -1;
		for (e = lay.nfront; e < lay.nexports; e++) {
			if (lay.ex[e].client != (int)c)
				continue;
			if (p->nchan == QEMU_CLIENT_MAX_CHAN) {
				snprintf(err, errlen, "client '%s': more than %u channels", cl->name,
					 QEMU_CLIENT_MAX_CHAN);
				return -1;
			}
			layout_chan_sock(&lay, lay.ex[e].chan, sock, sizeof(sock));
			p->chan_vm[p->nchan] = v;
			p->chan_num[p->nchan] = lay.ex[e].chan;
			snprintf(p->chan_sock[p->nchan++], PATH_MAX, "%s/%s/%s", rundir, vm->name,
				 sock);
		}
	}
	return 0;
}

int cvm_uses_vm(const struct client_config *cl, unsigned int v)
{
	unsigned int d;

	for (d = 0; d < cl->ndisks; d++)
		if (cl->disks[d].vm == v)
			return 1;
	for (d = 0; d < cl->nnics; d++)
		if (cl->nics[d].vm == v)
			return 1;
	return 0;
}

static void set_state(struct client_vm *cl, enum client_state s)
{
	cl->state = s;
}

/* Every driver VM the client uses is ready? */
static int drivers_ready(const struct client_vm *cl)
{
	unsigned int v;

	for (v = 0; v < cl->sv->nvms; v++)
		if (cvm_uses_vm(cl->cfg, v) && cl->sv->vms[v].state != VM_READY)
			return 0;
	return 1;
}

static void on_client_exit(struct watch *w, uint32_t events);

static void start(struct client_vm *cl)
{
	struct qemu_client_params p;
	uint16_t ids[QEMU_CLIENT_MAX_CHAN];
	struct image_info img;
	char err[512];
	unsigned int c;

	if (!cl->cfg->kernel[0] && image_load_client(&img, err, sizeof(err)) < 0)
		goto fail;
	if (cvm_qemu_params(cl->sv->cfg, cl->index, cl->sv->rundir,
			       cl->cfg->kernel[0] ? NULL : &img, &p, err, sizeof(err)) < 0)
		goto fail;
	memcpy(p.vnic_fd, cl->vnic_fd, sizeof(p.vnic_fd));
	p.accel = cl->sv->accel;
	p.dir = cl->dir;
	p.fresh_logs = !cl->ever_started;
	p.handed = 1;
	for (c = 0; c < p.nchan; c++) {
		p.chan_fd[c] = vm_chan_pair(&cl->sv->vms[p.chan_vm[c]], p.chan_num[c], 0, &ids[c]);
		if (p.chan_fd[c] < 0) {
			snprintf(err, sizeof(err), "cannot connect to channel %u of driver VM '%s': %s",
				 p.chan_num[c], cl->sv->vms[p.chan_vm[c]].cfg->name, strerror(-p.chan_fd[c]));
			while (c--)
				close(p.chan_fd[c]);
			goto fail;
		}
	}
	cl->pid = qemu_client_spawn(&p, err, sizeof(err));
	for (c = 0; c < p.nchan; c++) {
		close(p.chan_fd[c]);	/* QEMU has them (or, failing, the peers go) */
		if (cl->pid > 0)
			vm_chan_set_pid(&cl->sv->vms[p.chan_vm[c]], p.chan_num[c], ids[c], cl->pid);
	}
	if (cl->pid < 0)
		goto fail;
	cl->pidfd = (int)syscall(SYS_pidfd_open, cl->pid, 0);
	if (cl->pidfd < 0 || loop_add(&cl->pid_w, cl->pidfd, EPOLLIN, on_client_exit) < 0) {
		snprintf(err, sizeof(err), "pidfd: %s", strerror(errno));
		kill(cl->pid, SIGKILL);
		goto fail;
	}
	cl->ever_started = 1;
	cl->started_ms = now_ms();
	pr_info("client '%s': QEMU pid %d, %u disk%s, console %s/console.log", cl->cfg->name,
		(int)cl->pid, p.nchan, p.nchan == 1 ? "" : "s", cl->dir);
	set_state(cl, CL_RUNNING);
	return;
fail:
	strfmt(cl->error, sizeof(cl->error), "client '%s': cannot start: %s", cl->cfg->name, err);
	pr_err("%s", cl->error);
	set_state(cl, CL_FAILED);
}

static void on_client_exit(struct watch *w, uint32_t events)
{
	struct client_vm *cl = container_of(w, struct client_vm, pid_w);
	const struct restart_policy pol = { .max = cl->cfg->max_restarts, .stable_ms = STABLE_MS,
					    .backoff_max_ms = BACKOFF_MAX_MS };
	char what[128];
	int st = 0;
	int64_t delay;

	(void)events;
	if (waitpid(cl->pid, &st, WNOHANG) == 0)
		return;
	spawn_describe_exit("QEMU", st, what, sizeof(what));
	pr_info("client '%s': %s (pid %d)", cl->cfg->name, what, (int)cl->pid);
	loop_del(&cl->pid_w);
	close(cl->pidfd);
	cl->pidfd = -1;
	cl->pid = 0;
	if (cl->sv->stopping) {
		set_state(cl, CL_STOPPED);
		sv_vm_changed(cl->sv, NULL);
		return;
	}
	/* A reboot or poweroff inside ends QEMU too: start it again. */
	delay = restart_next(&pol, &cl->restart_row, now_ms() - cl->started_ms);
	if (delay < 0) {
		strfmt(cl->error, sizeof(cl->error), "client '%s': giving up after %u restarts in a "
		       "row (last: %s); see %s/console.log", cl->cfg->name, cl->restart_row, what,
		       cl->dir);
		pr_err("%s", cl->error);
		set_state(cl, CL_FAILED);
		return;
	}
	cl->restarts++;
	pr_info("client '%s': starting it again in %llu ms (restart %u in a row)", cl->cfg->name,
		(unsigned long long)delay, cl->restart_row);
	timer_arm(cl->timer, delay ? (uint64_t)delay : 1);
	set_state(cl, CL_RESTARTING);
}

static void on_client_timer(struct watch *w, uint32_t events)
{
	struct client_vm *cl = container_of(w, struct client_vm, timer_w);

	(void)events;
	timer_ack(w->fd);
	if (cl->state == CL_RESTARTING && !cl->sv->stopping) {
		set_state(cl, CL_WAITING);
		cvm_poke(cl);
	}
}

/*
 * virtio = true: the NICs' host bridges (made once, whoever comes first),
 * and the client's TAP on each: held open if we start it (the same TAP for
 * every QEMU we start), persistent if the user does.  0 or -1 (err set).
 */
static int virtio_setup(struct client_vm *cl, char *err, size_t errlen)
{
	const struct client_config *c = cl->cfg;
	unsigned int k;

	for (k = 0; k < c->nnics; k++) {
		const struct dev_config *d = &cl->sv->cfg->vms[c->nics[k].vm].devs[c->nics[k].dev];
		const char *tap = c->nics[k].tap;

		if (ddvm_bridge_make(d->host_bridge, err, errlen) < 0)
			return -1;
		if (c->start) {
			cl->vnic_fd[k] = wire_tap_open(tap, err, errlen);
			if (cl->vnic_fd[k] < 0)
				return -1;
		} else {
			if (wire_tap_persist(tap, 1, err, errlen) < 0)
				return -1;
			cl->vnic_persist = 1;
		}
		if (ddvm_bridge_add_port(d->host_bridge, tap, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Undo virtio_setup: the TAPs go, and the host bridges (the first client to go takes them). */
static void virtio_teardown(struct client_vm *cl)
{
	unsigned int k;
	char err[256];

	for (k = 0; k < cl->cfg->nnics && cl->cfg->virtio; k++) {
		const struct client_nic *n = &cl->cfg->nics[k];

		if (cl->vnic_fd[k] >= 0)
			close(cl->vnic_fd[k]);
		cl->vnic_fd[k] = -1;
		if (cl->vnic_persist && wire_tap_persist(n->tap, 0, err, sizeof(err)) < 0)
			pr_warn("client '%s': %s", cl->cfg->name, err);
		ddvm_bridge_remove(cl->sv->cfg->vms[n->vm].devs[n->dev].host_bridge);
	}
	cl->vnic_persist = 0;
}

int cvm_init(struct client_vm *cl, struct supervisor *sv, unsigned int index)
{
	char err[256];
	unsigned int k;

	memset(cl, 0, sizeof(*cl));
	for (k = 0; k < CFG_MAX_ATTACH; k++)
		cl->vnic_fd[k] = -1;
	cl->sv = sv;
	cl->index = index;
	cl->cfg = &sv->cfg->clients[index];
	cl->pidfd = cl->timer = -1;
	cl->state = cl->cfg->start ? CL_WAITING : CL_EXTERNAL;
	strfmt(cl->dir, sizeof(cl->dir), "%s/%s", sv->rundir, cl->cfg->name);
	if (rundir_private(cl->dir, err, sizeof(err)) < 0) {
		strfmt(cl->error, sizeof(cl->error), "client '%s': %s", cl->cfg->name, err);
		return -1;
	}
	cl->timer = timer_new();
	if (cl->timer < 0 || loop_add(&cl->timer_w, cl->timer, EPOLLIN, on_client_timer) < 0) {
		strfmt(cl->error, sizeof(cl->error), "client '%s': timer: %m", cl->cfg->name);
		return -1;
	}
	if (cl->cfg->virtio && virtio_setup(cl, err, sizeof(err)) < 0) {
		strfmt(cl->error, sizeof(cl->error), "client '%s': %s", cl->cfg->name, err);
		return -1;
	}
	return 0;
}

void cvm_poke(struct client_vm *cl)
{
	if (cl->state == CL_WAITING && !cl->sv->stopping && drivers_ready(cl))
		start(cl);
}

void cvm_stop(struct client_vm *cl)
{
	if (cl->pid > 0)
		kill(cl->pid, SIGTERM);
	timer_arm(cl->timer, 0);
	if (cl->pid <= 0 && cl->state != CL_EXTERNAL && cl->state != CL_FAILED)
		set_state(cl, CL_STOPPED);
}

void cvm_kill(struct client_vm *cl)
{
	if (cl->pid > 0)
		kill(cl->pid, SIGKILL);
}

int cvm_running(const struct client_vm *cl)
{
	return cl->pid > 0;
}

void cvm_destroy(struct client_vm *cl)
{
	if (!cl->cfg)
		return;
	if (cl->pidfd >= 0) {
		loop_del(&cl->pid_w);
		close(cl->pidfd);
	}
	if (cl->timer >= 0) {
		loop_del(&cl->timer_w);
		close(cl->timer);
	}
	cl->pidfd = cl->timer = -1;
	virtio_teardown(cl);
}

/* virtio: the export's NBD socket (disk); the TAP, bridge and MAC (NIC). */
static void virtio_json(const struct client_vm *cl, json_object *j, unsigned int v,
			unsigned int dev, const char *kind, unsigned int num)
{
	const struct dev_config *d = &cl->sv->cfg->vms[v].devs[dev];
	char buf[PATH_MAX + 32];
	unsigned int k;

	json_object_object_add(j, "via", json_object_new_string("virtio"));
	if (strcmp(kind, "nic")) {
		strfmt(buf, sizeof(buf), "%s/disk%u.sock", cl->sv->vms[v].dir, num);
		json_object_object_add(j, "nbd_socket", json_object_new_string(buf));
		return;
	}
	for (k = 0; k < cl->cfg->nnics; k++) {
		const struct client_nic *n = &cl->cfg->nics[k];

		if (n->vm != v || n->dev != dev)
			continue;
		strfmt(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
		       n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		json_object_object_add(j, "mac", json_object_new_string(buf));
		json_object_object_add(j, "tap", json_object_new_string(n->tap));
		json_object_object_add(j, "bridge", json_object_new_string(d->host_bridge));
		json_object_object_add(j, "front_tap", json_object_new_string(d->tap));
	}
}

/* One disk or NIC of the client: its name, channel, queue state and counters. */
static json_object *attach_json(const struct client_vm *cl, unsigned int v, unsigned int dev,
				const char *kind, unsigned int num)
{
	struct vm *vm = &cl->sv->vms[v];
	json_object *j = json_object_new_object();
	char name[CFG_NAME_MAX + 16];
	unsigned int e;

	strfmt(name, sizeof(name), "%s/%s%u", vm->cfg->name, !strcmp(kind, "nic") ? "net" : "disk",
	       num);
	json_object_object_add(j, kind, json_object_new_string(name));
	if (cl->cfg->virtio)
		virtio_json(cl, j, v, dev, kind, num);
	for (e = vm->plan.nfront; e < vm->plan.nexports && !cl->cfg->virtio; e++) {
		const struct layout_export *ex = &vm->plan.ex[e];

		if (ex->client != (int)cl->index || ex->dev != dev)
			continue;
		if (vm_export_chan(vm, ex))
			json_object_object_add(j, "channel", vm_chan_json(vm_export_chan(vm, ex)));
		vm_queue_state_json(j, vm, ex);
	}
	return j;
}

json_object *cvm_status_json(const struct client_vm *cl)
{
	json_object *o = json_object_new_object(), *disks = json_object_new_array();
	json_object *nics = json_object_new_array();
	char path[PATH_MAX + 16];
	unsigned int d;

	json_object_object_add(o, "name", json_object_new_string(cl->cfg->name));
	json_object_object_add(o, "state", json_object_new_string(cvm_state_str(cl->state)));
	json_object_object_add(o, "pid", json_object_new_int(cl->pid > 0 ? cl->pid : 0));
	json_object_object_add(o, "restarts", json_object_new_int((int)cl->restarts));
	json_object_object_add(o, "restarts_in_a_row", json_object_new_int((int)cl->restart_row));
	json_object_object_add(o, "memory_mb", json_object_new_int((int)cl->cfg->memory_mb));
	for (d = 0; d < cl->cfg->ndisks; d++) {
		const struct client_disk *cd = &cl->cfg->disks[d];

		json_object_array_add(disks, attach_json(cl, cd->vm, cd->dev, "disk", cd->num));
	}
	json_object_object_add(o, "disks", disks);
	for (d = 0; d < cl->cfg->nnics; d++) {
		const struct client_nic *cn = &cl->cfg->nics[d];

		json_object_array_add(nics, attach_json(cl, cn->vm, cn->dev, "nic", cn->num));
	}
	json_object_object_add(o, "nics", nics);
	strfmt(path, sizeof(path), "%s/console.log", cl->dir);
	json_object_object_add(o, "console_log", json_object_new_string(path));
	json_object_object_add(o, "error", cl->error[0] ? json_object_new_string(cl->error) : NULL);
	return o;
}
