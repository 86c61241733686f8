// SPDX-License-Identifier: MIT
/* One driver VM: channel, QEMU lifecycle, health and restarts.  See vm.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend.h"
#include "ddvm/posix/log.h"
#include "qemu.h"
#include "ddvm/posix/region_setup.h"
#include "restart_policy.h"
#include "rundir.h"
#include "spawn.h"
#include "supervisor.h"
#include "vfio_check.h"
#include "vm.h"
#include "vm_reclaim.h"
#include "wire_tap.h"

#define BACKOFF_MAX_MS	60000
#define STABLE_MS	60000	/* ready this long: a later crash starts a new row */

const char *vm_state_str(enum vm_state s)
{
	switch (s) {
	case VM_STARTING: return "starting";
	case VM_READY: return "ready";
	case VM_RESTARTING: return "restarting";
	case VM_FAILED: return "failed";
	case VM_STOPPED: return "stopped";
	}
	return "?";
}

static void set_state(struct vm *vm, enum vm_state s)
{
	if (vm->state == s)
		return;
	vm->state = s;
	sv_vm_changed(vm->sv, vm);
}

static void path_in(const struct vm *vm, const char *name, char *out, size_t len)
{
	strfmt(out, len, "%s/%s", vm->dir, name);
}

static void on_peer(void *opaque, const struct ivs_peer *p, int connected)
{
	struct vm *vm = opaque;

	if (connected && vm->pid > 0 && p->pid == vm->pid) {
		vm->peer_id = p->id;
		pr_info("vm '%s': QEMU attached to the channel as ivshmem peer %u", vm->cfg->name, p->id);
	} else if (!connected && p->id == vm->peer_id) {
		vm->peer_id = 0;
	} else if (connected && p->pid) {	/* (pid 0: a connection we made for a child, named later) */
		pr_info("vm '%s': peer %u (pid %d) joined the channel", vm->cfg->name, p->id, (int)p->pid);
	}
}

int vm_ring_guest(struct vm *vm, unsigned int vector)
{
	if (!vm->peer_id) {
		const struct ivs_peer *p = vm->pid > 0 ? ivs_server_peer_by_pid(&vm->ivs, vm->pid) : NULL;

		if (!p)
			return -ENOENT;
		vm->peer_id = p->id;
	}
	return ivs_server_ring(&vm->ivs, vm->peer_id, vector);
}

/* --- QEMU lifecycle ------------------------------------------------------ */

static void kill_qemu(struct vm *vm, const char *reason)
{
	if (vm->pid <= 0)
		return;
	if (reason && !vm->reason[0])
		strfmt(vm->reason, sizeof(vm->reason), "%s", reason);
	kill(vm->pid, SIGKILL);
}

static void on_qmp_event(struct qmp *q, const char *event)
{
	struct vm *vm = container_of(q, struct vm, qmp);

	pr_debug("vm '%s': QMP event %s", vm->cfg->name, event);
	if (!strcmp(event, "GUEST_PANICKED")) {
		pr_warn("vm '%s': guest kernel panicked", vm->cfg->name);
		kill_qemu(vm, "guest kernel panicked");
	} else if (!strcmp(event, "SHUTDOWN") && !vm->sv->stopping && !vm->reason[0]) {
		strfmt(vm->reason, sizeof(vm->reason), "driver VM shut down");
	}
}

static void on_qemu_exit(struct watch *w, uint32_t events);

static void close_fds(const int *fds, unsigned int n)
{
	while (n--)
		close(fds[n]);
}

static void write_pidfile(struct vm *vm)
{
	char path[PATH_MAX + 16];
	FILE *f;

	path_in(vm, "qemu.pid", path, sizeof(path));
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", (int)vm->pid);
		fclose(f);
	}
}

int vm_start(struct vm *vm)
{
	struct qemu_params p = {
		.vm = vm->cfg, .img = vm->sv->img, .accel = vm->sv->accel, .dir = vm->dir,
		.fresh_logs = vm->restarts == 0 && !vm->ever_ready, .plan = &vm->plan,
		.wire_fds = vm->wire_fd,
	};
	char path[PATH_MAX + 16], err[256], cmd[8192];
	int chan_fds[LAYOUT_MAX_CHANNELS];
	uint16_t chan_ids[LAYOUT_MAX_CHANNELS];
	struct ddvm_guest_view gv;
	unsigned int timeout, c;

	if (vfio_before_start(vm->cfg, vm->restarts > 0, vm->error, sizeof(vm->error)) < 0)
		goto fail;	/* host devices: checked, reset on a restart (vfio_check.h) */
	path_in(vm, "qmp.sock", path, sizeof(path));
	p.qmp_fd = qmp_listen(path);
	if (p.qmp_fd < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot create %s: %s", vm->cfg->name,
			 path, strerror(-p.qmp_fd));
		goto fail;
	}
	/* Whatever a peer wrote over the host's part of a channel ends here. */
	vm_channels_restore(vm);
	qemu_describe(&p, cmd, sizeof(cmd));
	pr_info("vm '%s': starting: %s", vm->cfg->name, cmd);
	ddvm_guest_read(vm->base, &gv);
	vm->start_gen = gv.generation;
	vm->reason[0] = '\0';
	vm->peer_id = 0;
	for (c = 0; c < vm->plan.nchan; c++) {
		chan_fds[c] = vm_chan_pair(vm, c, 0, &chan_ids[c]);
		if (chan_fds[c] < 0) {
			strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot connect QEMU to channel %u: %s",
			       vm->cfg->name, c, strerror(-chan_fds[c]));
			close_fds(chan_fds, c);
			close(p.qmp_fd);
			goto fail;
		}
	}
	p.chan_fds = chan_fds;
	vm->pid = qemu_spawn(&p, err, sizeof(err));
	close_fds(chan_fds, vm->plan.nchan);	/* QEMU has them (or, failing, the peers go) */
	if (vm->pid > 0) {
		for (c = 0; c < vm->plan.nchan; c++)
			vm_chan_set_pid(vm, c, chan_ids[c], vm->pid);
		vm->peer_id = chan_ids[0];
		pr_info("vm '%s': QEMU attached to the channel as ivshmem peer %u", vm->cfg->name,
			vm->peer_id);
	}
	if (vm->pid < 0) {
		close(p.qmp_fd);
		vm->pid = 0;
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot start QEMU: %s", vm->cfg->name, err);
		goto fail;
	}
	if (qmp_open(&vm->qmp, path, on_qmp_event) < 0)
		pr_warn("vm '%s': cannot connect to QMP: %m", vm->cfg->name);
	close(p.qmp_fd);
	vm->pidfd = (int)syscall(SYS_pidfd_open, vm->pid, 0);
	if (vm->pidfd < 0 || loop_add(&vm->pid_w, vm->pidfd, EPOLLIN, on_qemu_exit) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': pidfd_open: %s", vm->cfg->name,
			 strerror(errno));
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
		vm->pid = 0;
		qmp_close(&vm->qmp);
		goto fail;
	}
	write_pidfile(vm);
	vm->started_ms = now_ms();
	vm->ready_ms = 0;
	timeout = vm->cfg->boot_timeout ? vm->cfg->boot_timeout
					: (vm->sv->accel == ACCEL_KVM ? 30 : 60);
	timer_arm(vm->timer, (uint64_t)timeout * 1000);
	pr_info("vm '%s': QEMU pid %d, waiting up to %u s for the driver VM", vm->cfg->name,
		(int)vm->pid, timeout);
	set_state(vm, VM_STARTING);
	return 0;
fail:
	pr_err("%s", vm->error);
	set_state(vm, VM_FAILED);
	return -1;
}

/* QEMU is gone after healthy_ms of being ready: stopped, restart or failed. */
static void after_exit(struct vm *vm, const char *what, uint64_t healthy_ms)
{
	const struct restart_policy pol = { .max = vm->cfg->max_restarts, .stable_ms = STABLE_MS,
					    .backoff_max_ms = BACKOFF_MAX_MS };
	const char *reason = vm->reason[0] ? vm->reason : what;
	const char *name = vm->cfg->name;
	int64_t delay;

	if (vm->sv->stopping) {
		pr_info("vm '%s': stopped (%s)", name, what);
		set_state(vm, VM_STOPPED);
		return;
	}
	if (vm->permanent) {
		set_state(vm, VM_FAILED);
		return;
	}
	if (!vm->ever_ready) {
		if (!vm->error[0]) {
			char path[PATH_MAX + 16], said[200];

			path_in(vm, "qemu.log", path, sizeof(path));
			spawn_log_last_line(path, said, sizeof(said), 1000);
			strfmt(vm->error, sizeof(vm->error),
				 "vm '%s': %s before the driver VM was ready%s%s%s; see %s/qemu.log and "
				 "%s/console.log", name, reason, said[0] ? " (QEMU: " : "", said,
				 said[0] ? ")" : "", vm->dir, vm->dir);
		}
		pr_err("%s", vm->error);
		set_state(vm, VM_FAILED);
		return;
	}
	delay = restart_next(&pol, &vm->restart_row, healthy_ms);
	if (delay < 0) {
		strfmt(vm->error, sizeof(vm->error),
			 "vm '%s': giving up after %u restart%s in a row (last failure: %s); see %s/console.log",
			 name, vm->restart_row, vm->restart_row == 1 ? "" : "s", reason, vm->dir);
		pr_err("%s", vm->error);
		set_state(vm, VM_FAILED);
		return;
	}
	vm->restarts++;
	if (delay)
		pr_warn("vm '%s': %s; restarting in %llu s (restart %u in a row, at most %u)", name,
			reason, (unsigned long long)delay / 1000, vm->restart_row, vm->cfg->max_restarts);
	else
		pr_warn("vm '%s': %s; restarting now (restart %u in a row, at most %u)", name, reason,
			vm->restart_row, vm->cfg->max_restarts);
	vm->error[0] = '\0';
	timer_arm(vm->timer, delay ? (uint64_t)delay : 1);	/* 0 would disarm it */
	set_state(vm, VM_RESTARTING);
}

static void on_qemu_exit(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, pid_w);
	char what[128], path[PATH_MAX + 16], msg[200];
	uint64_t healthy_ms;
	int st = 0;
	pid_t r;

	(void)events;
	r = waitpid(vm->pid, &st, WNOHANG);
	if (r == 0)
		return;
	healthy_ms = vm->ready_ms ? now_ms() - vm->ready_ms : 0;
	if (vm->injected) {	/* a deliberate fault is not one of the VM's own in a row */
		vm->injected = 0;
		vm->restart_row = 0;
	}
	spawn_describe_exit("QEMU", st, what, sizeof(what));
	pr_info("vm '%s': %s (pid %d)", vm->cfg->name, what, (int)vm->pid);
	loop_del(&vm->pid_w);
	close(vm->pidfd);
	vm->pidfd = -1;
	qmp_close(&vm->qmp);
	if (vm->peer_id)
		ivs_server_drop(&vm->ivs, vm->peer_id);
	vm->peer_id = 0;
	vm->pid = 0;
	vm->ready_ms = 0;
	timer_arm(vm->timer, 0);
	path_in(vm, "qemu.pid", path, sizeof(path));
	unlink(path);
	strfmt(msg, sizeof(msg), "vm '%s': driver VM stopped during ping (%s)", vm->cfg->name, what);
	vm_ping_finish(vm, msg);
	after_exit(vm, what, healthy_ms);
}


/* QEMU keeps the boot files mapped only for a machine reset we never do. */
static void reclaim_boot_files(struct vm *vm)
{
	const char *files[2] = { vm->sv->img->kernel, vm->sv->img->initramfs };
	long r = vm_reclaim_boot_files(vm->pid, files, 2);

	if (r < 0)
		pr_debug("vm '%s': could not page out boot files: %s", vm->cfg->name, strerror((int)-r));
	else
		pr_debug("vm '%s': paged out %ld KiB of boot-file mappings", vm->cfg->name, r / 1024);
}

static void refusal_error(struct vm *vm, const struct ddvm_guest_view *gv)
{
	char detail[160];

	switch (gv->refusal) {
	case DDVM_REFUSE_VERSION:
		strfmt(detail, sizeof(detail), " (region %u.%u, driver VM speaks %u.%u)",
			 gv->refusal_detail >> 16, gv->refusal_detail & 0xffff,
			 gv->guest_version >> 16, gv->guest_version & 0xffff);
		break;
	case DDVM_REFUSE_LAYOUT:
		strfmt(detail, sizeof(detail), ": %s", ddvm_layout_str(gv->refusal_detail));
		break;
	case DDVM_REFUSE_MAGIC:
		strfmt(detail, sizeof(detail), " (0x%08x)", gv->refusal_detail);
		break;
	default:
		strfmt(detail, sizeof(detail), " (detail %u)", gv->refusal_detail);
	}
	strfmt(vm->error, sizeof(vm->error), "vm '%s': driver VM refused the channel: %s%s",
		 vm->cfg->name, ddvm_refusal_str(gv->refusal), detail);
}

void vm_check(struct vm *vm)
{
	struct ddvm_guest_view gv;
	uint64_t now = now_ms(), limit;

	if (vm->pid <= 0 || vm->reason[0] || vm->permanent)
		return;
	ddvm_guest_read(vm->base, &gv);
	if (gv.heartbeat != vm->heartbeat) {
		vm->heartbeat = gv.heartbeat;
		vm->hb_change_ms = now;
	}
	vm->generation = gv.generation;
	if (vm->state == VM_STARTING) {
		if (gv.state == DDVM_GUEST_REFUSED) {
			refusal_error(vm, &gv);
			pr_err("%s", vm->error);
			vm->permanent = 1;
			kill_qemu(vm, "driver VM refused the channel");
		} else if (gv.state == DDVM_GUEST_READY && gv.generation != vm->start_gen) {
			vm->ready_ms = vm->hb_change_ms = now;
			vm->ever_ready = 1;
			timer_arm(vm->timer, 0);
			pr_info("vm '%s': ready after %.1f s (generation %u, kernel %s, accel %s)",
				vm->cfg->name, (double)(now - vm->started_ms) / 1000.0, gv.generation,
				gv.kernel_release[0] ? gv.kernel_release : "?", accel_name(vm->sv->accel));
			frontends_vm_ready(vm);	/* before `up -d` hears "ready" */
			reclaim_boot_files(vm);
			set_state(vm, VM_READY);
		}
		return;
	}
	if (vm->state != VM_READY)
		return;
	limit = 5ull * vm->layout.heartbeat_period_ms;
	if (limit < 10000)
		limit = 10000;
	if (now - vm->hb_change_ms > limit) {
		char why[96];

		strfmt(why, sizeof(why), "heartbeat stopped (unchanged for %llu s)",
			 (unsigned long long)(now - vm->hb_change_ms) / 1000);
		pr_warn("vm '%s': %s", vm->cfg->name, why);
		kill_qemu(vm, why);
	}
}

static void on_timer(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, timer_w);
	unsigned int timeout;

	(void)events;
	timer_ack(w->fd);
	if (vm->sv->stopping)
		return;
	if (vm->state == VM_RESTARTING) {
		vm_start(vm);
	} else if (vm->state == VM_STARTING && vm->pid > 0) {
		timeout = vm->cfg->boot_timeout ? vm->cfg->boot_timeout
						: (vm->sv->accel == ACCEL_KVM ? 30 : 60);
		if (!vm->ever_ready)
			strfmt(vm->error, sizeof(vm->error),
				 "vm '%s': not ready after %u s (accel %s); see %s/console.log",
				 vm->cfg->name, timeout, accel_name(vm->sv->accel), vm->dir);
		strfmt(vm->reason, sizeof(vm->reason), "not ready after %u s (accel %s)", timeout,
			 accel_name(vm->sv->accel));
		pr_err("vm '%s': %s; killing QEMU", vm->cfg->name, vm->reason);
		kill(vm->pid, SIGKILL);
	}
}

static void on_state_bell(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, bell_w[1]);
	uint64_t n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	vm_check(vm);
}

static void on_ivs(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, ivs_w);

	(void)events;
	ivs_server_dispatch(&vm->ivs);
}

void vm_stop(struct vm *vm)
{
	frontends_stop(vm);
	timer_arm(vm->timer, 0);
	if (vm->pid <= 0) {
		if (vm->state != VM_FAILED)
			set_state(vm, VM_STOPPED);
		return;
	}
	pr_info("vm '%s': stopping QEMU (pid %d)", vm->cfg->name, (int)vm->pid);
	if (vm->qmp.fd >= 0 && vm->qmp.ready)
		qmp_quit(&vm->qmp);
	else
		kill(vm->pid, SIGTERM);
}

void vm_kill(struct vm *vm)
{
	frontends_kill(vm);
	if (vm->pid > 0) {
		pr_warn("vm '%s': QEMU (pid %d) did not stop in time; killing it", vm->cfg->name,
			(int)vm->pid);
		kill(vm->pid, SIGKILL);
	}
}

int vm_running(const struct vm *vm)
{
	return vm->pid > 0 || frontends_running(vm);
}

/* --- setup --------------------------------------------------------------- */

static uint32_t test_version(void)
{
	const char *e = getenv("DDVM_TEST_PROTO_VERSION");
	unsigned int maj, min;

	if (!e || sscanf(e, "%u.%u", &maj, &min) != 2 || maj > 0xffff || min > 0xffff)
		return 0;
	return maj << 16 | min;
}

int vm_init(struct vm *vm, struct supervisor *sv, const struct vm_config *cfg)
{
	struct ddvm_region_spec *spec = &vm->plan.chan[0].spec;
	char path[PATH_MAX + 16], name[64], err[256];
	unsigned int i, c;
	int r, fd;

	memset(vm, 0, sizeof(*vm));
	vm->sv = sv;
	vm->cfg = cfg;
	vm->state = VM_STOPPED;
	vm->shm_fd = vm->pidfd = vm->timer = vm->ping.timer = -1;
	vm->ivs.listen_fd = vm->ivs.epfd = -1;
	vm->qmp.fd = -1;
	for (i = 0; i < CFG_MAX_DEVS; i++)
		vm->wire_fd[i] = -1;
	frontends_init(vm);
	if (layout_plan(cfg, &vm->plan, err, sizeof(err)) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': %s", cfg->name, err);
		return -1;
	}
	spec->q[0].resp_vector = DDVM_HOST_VEC_CTRL_RESP;
	for (c = 0; c < vm->plan.nchan; c++)
		vm->plan.chan[c].spec.host_peer_id = IVS_SELF_ID;
	vm->size = vm->plan.chan[0].size;
	strfmt(vm->dir, sizeof(vm->dir), "%s/%s", sv->rundir, cfg->name);
	if (rundir_private(vm->dir, err, sizeof(err)) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': %s", cfg->name, err);
		return -1;
	}
	path_in(vm, "console.log", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);

	strfmt(name, sizeof(name), "ddvm-%s", cfg->name);
	vm->shm_fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (vm->shm_fd < 0 || ftruncate(vm->shm_fd, (off_t)vm->size) < 0 ||
	    fcntl(vm->shm_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot create the channel memfd: %m", cfg->name);
		return -1;
	}
	vm->base = mmap(NULL, vm->size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->shm_fd, 0);
	if (vm->base == MAP_FAILED) {
		vm->base = NULL;
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot map the channel: %m", cfg->name);
		return -1;
	}
	spec->version_override = sv->version_override ? sv->version_override : test_version();
	for (c = 1; c < vm->plan.nchan; c++)
		vm->plan.chan[c].spec.version_override = spec->version_override;
	if (spec->version_override)
		pr_warn("vm '%s': test hook: publishing protocol version %u.%u", cfg->name,
			spec->version_override >> 16, spec->version_override & 0xffff);
	r = ddvm_region_setup(vm->base, vm->size, spec, &vm->layout);
	if (r < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot lay out the channel (%llu bytes, needs %llu): %s",
			 cfg->name, (unsigned long long)vm->size,
			 (unsigned long long)ddvm_region_bytes_needed(spec), strerror(-r));
		return -1;
	}
	vm_transport_init(vm);
	if (ddvm_ctrlc_open(&vm->ctrl, &vm->tp, &vm->layout, 0) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot bind the CTRL rings", cfg->name);
		return -1;
	}

	path_in(vm, "ivshmem.sock", path, sizeof(path));
	r = ivs_server_init(&vm->ivs, path, vm->shm_fd, vm->plan.chan[0].vectors, on_peer, vm);
	_Static_assert(CFG_MAX_ALLOW <= DDVM_ALLOW_MAX, "allow_users must fit the server's list");
	if (r == 0)
		r = ivs_server_allow(&vm->ivs, sv->cfg->allow_uids, sv->cfg->nallow);
	/* Its QEMU alone (and a successor while the old one's hang-up is pending). */
	if (r == 0)
		r = ivs_server_set_max_peers(&vm->ivs, 2);
	if (r < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot serve %s: %s", cfg->name, path,
			 strerror(-r));
		return -1;
	}
	if (vm_channels_init(vm) < 0)
		return -1;
	for (i = 0; i < cfg->ndevs; i++) {
		const struct dev_config *d = &cfg->devs[i];

		if (!dev_is_nic(d->type) || d->net != NET_TAP)
			continue;
		vm->wire_fd[i] = wire_tap_open(d->net_tap, err, sizeof(err));
		if (vm->wire_fd[i] < 0) {
			vm->wire_fd[i] = -1;
			strfmt(vm->error, sizeof(vm->error), "vm '%s': device %u (%s): %s", cfg->name, i + 1,
				 dev_type_name(d->type), err);
			return -1;
		}
	}
	vm->timer = timer_new();
	if (vm->timer < 0 || vm_ping_setup(vm) < 0 ||
	    loop_add(&vm->ivs_w, ivs_server_pollfd(&vm->ivs), EPOLLIN, on_ivs) < 0 ||
	    loop_add(&vm->bell_w[1], ivs_server_self_eventfd(&vm->ivs, DDVM_HOST_VEC_STATE), EPOLLIN, on_state_bell) < 0 ||
	    loop_add(&vm->timer_w, vm->timer, EPOLLIN, on_timer) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': event setup failed: %m", cfg->name);
		return -1;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	char path[PATH_MAX + 16];
	unsigned int i;

	if (vm->cfg == NULL)
		return;
	if (vm->ping.conn)
		vm_ping_finish(vm, "supervisor shutting down");
	frontends_destroy(vm);
	vm_channels_destroy(vm);
	if (vm->ivs.epfd >= 0) {
		loop_del(&vm->ivs_w);
		loop_del(&vm->bell_w[0]);
		loop_del(&vm->bell_w[1]);
		ivs_server_close(&vm->ivs);
	}
	if (vm->timer >= 0)
		close(vm->timer);
	if (vm->ping.timer >= 0)
		close(vm->ping.timer);
	if (vm->base)
		munmap(vm->base, vm->size);
	if (vm->shm_fd >= 0)
		close(vm->shm_fd);
	path_in(vm, "ivshmem.sock", path, sizeof(path));
	unlink(path);
	path_in(vm, "qmp.sock", path, sizeof(path));
	unlink(path);
	for (i = 0; i < CFG_MAX_DEVS; i++) {
		if (vm->wire_fd[i] >= 0)
			close(vm->wire_fd[i]);
		vm->wire_fd[i] = -1;
	}
	vm->timer = vm->ping.timer = vm->shm_fd = -1;
	vm->base = NULL;
}
