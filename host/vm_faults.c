// SPDX-License-Identifier: MIT
/*
 * Fault injection for tests and demos of recovery (`ddvm inject VM FAULT`,
 * `ddvm crash`, `ddvm link`), only for a VM whose config says
 * fault_injection = true.  Each fault is a real one as far as everything
 * else can tell; the supervisor then handles its consequences exactly as
 * it would a real failure's:
 *
 *   kill    SIGKILL to QEMU
 *   panic   the guest kernel panics (CTRL op CRASH; `ddvm crash` is this)
 *   hang    the guest stops answering: heartbeat and queues (interrupts off,
 *           spinning); the heartbeat watchdog kills and restarts it
 *   oops    an oops inside the block translation's I/O path, requests in
 *           flight (driver VMs boot with oops=panic)
 *   poison  the next block write is a poison pill: it kills its driver VM
 *           and the successor, then fails with EIO (the others complete)
 *   ioerr   the disks fail every request with an I/O error for 3 s
 *   link    every NIC's cable is pulled for 2 s (QMP set_link)
 *   storm   a hostile client (`ddvm __storm`) floods garbage requests and
 *           doorbells on the VM's last channel, its own, for 5 s
 *
 * hang, oops, poison and ioerr are armed in the driver VM (CTRL op FAULT,
 * guest/chan_fault.c); kill, link and storm are the host's doing.  A driver
 * VM ended by an injected fault is restarted at once and the restart does
 * not count in its restart row (the row is for failures of its own; a
 * poison pill's second victim counts).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ddvm/posix/layout_arg.h"
#include "ddvm/posix/log.h"
#include "spawn.h"
#include "vm.h"

#define LINK_FLAP_MS	2000
#define IOERR_MS	3000
#define STORM_SECS	"5"

static const char *const fault_names[] = {
	"kill", "panic", "hang", "oops", "poison", "ioerr", "link", "storm",
};
#define NFAULTS (sizeof(fault_names) / sizeof(fault_names[0]))

int vm_fault_known(const char *name)
{
	unsigned int i;

	for (i = 0; i < NFAULTS; i++)
		if (!strcmp(name, fault_names[i]))
			return 1;
	return 0;
}

/* A cable pulled by `inject link`, plugged again by a timer. */
struct flap {
	struct vm *vm;
	int fd;
	struct watch w;
	unsigned int devs[CFG_MAX_DEVS], ndevs;
};
static struct flap flaps[CFG_MAX_VMS];

/* A storm client: reaped through its pidfd. */
struct storm {
	pid_t pid;
	struct watch w;
};
static struct storm storms[CFG_MAX_VMS];

static void on_flap_end(struct watch *w, uint32_t events)
{
	struct flap *f = container_of(w, struct flap, w);
	char msg[256];
	unsigned int i;

	(void)events;
	timer_ack(w->fd);
	loop_del(w);
	close(f->fd);
	f->fd = -1;
	for (i = 0; i < f->ndevs; i++)
		if (f->vm->state == VM_READY && vm_set_link(f->vm, f->devs[i], 1, msg, sizeof(msg)) < 0)
			pr_warn("%s (a restarted driver VM starts with its cables in)", msg);
	f->vm = NULL;
}

static int inject_link(struct vm *vm, char *msg, size_t len)
{
	struct flap *f = NULL;
	unsigned int i, n = 0;

	for (i = 0; i < CFG_MAX_VMS; i++)
		if (flaps[i].vm == vm || (!f && !flaps[i].vm))
			f = &flaps[i];
	if (f->vm == vm) {
		strfmt(msg, len, "vm '%s': a link flap is under way already", vm->cfg->name);
		return -1;
	}
	for (i = 0; i < vm->cfg->ndevs; i++) {
		const struct dev_config *d = &vm->cfg->devs[i];

		if (!dev_is_nic(d->type) || d->net == NET_NONE)
			continue;
		if (vm_set_link(vm, i + 1, 0, msg, len) < 0)
			goto undo;
		f->devs[n++] = i + 1;
	}
	if (!n) {
		strfmt(msg, len, "vm '%s' has no NIC with a wire to pull", vm->cfg->name);
		return -1;
	}
	f->ndevs = n;
	f->fd = timer_new();
	if (f->fd < 0 || timer_arm(f->fd, LINK_FLAP_MS) < 0 ||
	    loop_add(&f->w, f->fd, EPOLLIN, on_flap_end) < 0) {
		strfmt(msg, len, "vm '%s': cannot time the link flap: %m", vm->cfg->name);
		if (f->fd >= 0)
			close(f->fd);
		goto undo;
	}
	f->vm = vm;
	strfmt(msg, len, "%u cable%s pulled for %u ms", n, n == 1 ? "" : "s", LINK_FLAP_MS);
	return 0;
undo:	/* plug back what was pulled; msg keeps the first error */
	for (i = 0; i < n; i++) {
		char ignore[256];

		vm_set_link(vm, f->devs[i], 1, ignore, sizeof(ignore));
	}
	return -1;
}

static void on_storm_exit(struct watch *w, uint32_t events)
{
	struct storm *st = container_of(w, struct storm, w);
	int status = 0;

	(void)events;
	waitpid(st->pid, &status, 0);
	loop_del(w);
	close(w->fd);
	st->pid = 0;
}

static int inject_storm(struct vm *vm, char *msg, size_t len)
{
	const struct vm_chan *ch;
	struct storm *st = NULL;
	char lay[1024], path[PATH_MAX + 16], self[PATH_MAX];
	pid_t parent = getpid(), pid;
	unsigned int i;
	uint16_t cid;
	ssize_t n;
	int fd, cfd;

	if (!vm->nclients) {
		strfmt(msg, len, "vm '%s' has no client channel to storm", vm->cfg->name);
		return -1;
	}
	for (i = 0; i < CFG_MAX_VMS && !st; i++)
		if (!storms[i].pid)
			st = &storms[i];
	if (!st) {
		strfmt(msg, len, "too many storms at once");
		return -1;
	}
	ch = &vm->clients[vm->nclients - 1];	/* the last channel: give it a device of its own */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || ddvm_layout_format(&ch->layout, lay, sizeof(lay)) < 0) {
		strfmt(msg, len, "vm '%s': cannot start a storm client", vm->cfg->name);
		return -1;
	}
	self[n] = '\0';
	strfmt(path, sizeof(path), "%s/storm.log", vm->dir);
	/* a hostile client like any other: the run user, its channel an fd it is handed */
	cfd = vm_chan_pair(vm, vm->nclients, 0, &cid);
	if (cfd < 0) {
		strfmt(msg, len, "vm '%s': cannot connect a storm client: %s", vm->cfg->name,
		       strerror(-cfd));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "ddvm-storm", "__storm", "fd:3", lay, STORM_SECS, NULL };
		int three = 3;

		spawn_child_setup(parent, path, 0);
		if (spawn_place_fds(&cfd, &three, 1) < 0)
			_exit(127);
		spawn_child_exec_as(self, argv, -1);
	}
	close(cfd);
	if (pid > 0)
		vm_chan_set_pid(vm, vm->nclients, cid, pid);
	if (pid < 0) {
		strfmt(msg, len, "fork: %m");
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 || loop_add(&st->w, fd, EPOLLIN, on_storm_exit) < 0) {
		if (fd >= 0)
			close(fd);
		waitpid(pid, NULL, 0);	/* it dies with us anyway; do not leave a zombie */
		strfmt(msg, len, "cannot watch the storm client: %m");
		return -1;
	}
	st->pid = pid;
	strfmt(msg, len, "storm client pid %d on %s for %s s (log %s)", (int)pid, ch->sock, STORM_SECS,
	       path);
	return 0;
}

int vm_inject(struct vm *vm, const char *fault, char *msg, size_t len)
{
	uint32_t guest = 0;
	uint64_t param = 0;
	int r;

	if (!vm_fault_known(fault)) {
		strfmt(msg, len, "unknown fault '%s' (kill, panic, hang, oops, poison, ioerr, link, storm)",
		       fault);
		return -1;
	}
	if (!vm->cfg->fault_injection) {
		strfmt(msg, len, "vm '%s': fault injection is off (set fault_injection = true in its config)",
		       vm->cfg->name);
		return -1;
	}
	if (vm->state != VM_READY) {
		strfmt(msg, len, "vm '%s' is not ready (state %s)", vm->cfg->name, vm_state_str(vm->state));
		return -1;
	}
	if (!strcmp(fault, "panic"))
		r = vm_crash(vm, msg, len);
	else if (!strcmp(fault, "kill")) {
		r = vm->pid > 0 && kill(vm->pid, SIGKILL) == 0 ? 0 : -1;
		if (r)
			strfmt(msg, len, "vm '%s': no QEMU to kill", vm->cfg->name);
		else
			strfmt(msg, len, "QEMU pid %d killed (SIGKILL)", (int)vm->pid);
	} else if (!strcmp(fault, "link"))
		r = inject_link(vm, msg, len);
	else if (!strcmp(fault, "storm"))
		r = inject_storm(vm, msg, len);
	else {
		guest = !strcmp(fault, "hang") ? DDVM_FAULT_HANG : !strcmp(fault, "oops") ? DDVM_FAULT_OOPS
			: !strcmp(fault, "poison") ? DDVM_FAULT_POISON : DDVM_FAULT_IOERR;
		param = guest == DDVM_FAULT_IOERR ? IOERR_MS : 0;
		r = ddvm_ctrlc_fault(&vm->ctrl, guest, param);
		if (r == -DDVM_ENOSPC || r == -DDVM_EPROTO) {
			strfmt(msg, len, "vm '%s': CTRL request ring is full or corrupt", vm->cfg->name);
			return -1;
		}
		/* -ENOENT: not rung, but the driver VM also polls its queues. */
		r = 0;
		strfmt(msg, len, "%s armed in the driver VM", fault);
	}
	if (r == 0) {
		pr_warn("vm '%s': fault '%s' injected on request: %s", vm->cfg->name, fault, msg);
		/* Its end is ours, not the VM's: restarted at once, outside the restart row. */
		vm->injected = !strcmp(fault, "kill") || !strcmp(fault, "panic") || !strcmp(fault, "hang") ||
			       !strcmp(fault, "oops") || !strcmp(fault, "poison");
	}
	return r;
}

int vm_crash(struct vm *vm, char *msg, size_t len)
{
	int r;

	if (!vm->cfg->fault_injection) {
		strfmt(msg, len, "vm '%s': fault injection is off (set fault_injection = true in its config)",
		       vm->cfg->name);
		return -1;
	}
	if (vm->state != VM_READY) {
		strfmt(msg, len, "vm '%s' is not ready (state %s)", vm->cfg->name, vm_state_str(vm->state));
		return -1;
	}
	r = ddvm_ctrlc_crash(&vm->ctrl);
	if (r == -DDVM_ENOSPC || r == -DDVM_EPROTO) {
		strfmt(msg, len, "vm '%s': CTRL request ring is full or corrupt", vm->cfg->name);
		return -1;
	}
	/* -ENOENT: not rung, but the driver VM also polls its queues. */
	pr_warn("vm '%s': crash injected on request (fault injection)", vm->cfg->name);
	strfmt(msg, len, "panic requested (CTRL op CRASH)");
	return 0;
}

int vm_set_link(struct vm *vm, unsigned int dev, int up, char *msg, size_t len)
{
	const struct dev_config *d;
	char name[16];
	int ret;

	if (dev < 1 || dev > vm->cfg->ndevs) {
		strfmt(msg, len, "vm '%s' has no device %u (it has %u)", vm->cfg->name, dev,
		       vm->cfg->ndevs);
		return -1;
	}
	d = &vm->cfg->devs[dev - 1];
	if (!dev_is_nic(d->type) || d->net == NET_NONE) {
		strfmt(msg, len, "vm '%s': device %u is not a NIC with a wire (net = \"none\" or not a NIC)",
		       vm->cfg->name, dev);
		return -1;
	}
	if (vm->state != VM_READY) {
		strfmt(msg, len, "vm '%s' is not ready (state %s)", vm->cfg->name, vm_state_str(vm->state));
		return -1;
	}
	snprintf(name, sizeof(name), "net%u", dev - 1);	/* the netdev id qemu.c gives it */
	ret = qmp_set_link(&vm->qmp, name, up);
	if (ret < 0) {
		strfmt(msg, len, "vm '%s': QMP set_link failed: %s", vm->cfg->name, strerror(-ret));
		return -1;
	}
	pr_info("vm '%s': device %u cable %s (set_link)", vm->cfg->name, dev, up ? "plugged" : "pulled");
	return 0;
}
