// SPDX-License-Identifier: MIT
/* The supervisor's event loop, control socket and shutdown.  See supervisor.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "ddvm/posix/private_sock.h"
#include "sd_notify.h"
#include "privilege.h"
#include "supervisor.h"

#define CTL_MAX_LINE	4096
#define CTL_MAX_CONNS	64	/* at once; more are closed at once (bounded fds and memory) */
#define DOWN_DEFAULT_S	10

static unsigned int nconns;

struct ctl_conn {
	struct supervisor *sv;
	int fd;
	int busy;			/* a reply is pending (ping, down) */
	int closed;			/* client hung up while busy */
	struct watch w;
	struct ctl_conn *next_waiter;
	size_t len;
	char buf[CTL_MAX_LINE];
};

static void conn_free(struct ctl_conn *c)
{
	unsigned int i;

	for (i = 0; i < c->sv->nvms; i++)
		vm_ping_forget(&c->sv->vms[i], c);
	if (c->fd >= 0) {
		loop_del(&c->w);
		close(c->fd);
	}
	free(c);
	nconns--;
}

void ctl_reply(struct ctl_conn *c, json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), off = 0;

	while (!c->closed && off < len) {
		ssize_t n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (!c->closed && off == len)
		send(c->fd, "\n", 1, MSG_NOSIGNAL);
	json_object_put(reply);
	c->busy = 0;
	conn_free(c);	/* one request per connection */
}

void ctl_reply_error(struct ctl_conn *c, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	ctl_reply(c, o);
}

static json_object *status_json(struct supervisor *sv)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	unsigned int i;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "supervisor_pid", json_object_new_int(getpid()));
	json_object_object_add(o, "rundir", json_object_new_string(sv->rundir));
	json_object_object_add(o, "config", json_object_new_string(sv->cfg->path));
	json_object_object_add(o, "image", json_object_new_string(sv->img->dir));
	json_object_object_add(o, "accel", json_object_new_string(accel_name(sv->accel)));
	json_object_object_add(o, "accel_reason", json_object_new_string(sv->accel_reason));
	json_object_object_add(o, "uptime_s", json_object_new_int64((int64_t)(now_ms() - sv->started_ms) / 1000));
	for (i = 0; i < sv->nvms; i++)
		json_object_array_add(a, vm_status_json(&sv->vms[i]));
	json_object_object_add(o, "vms", a);
	a = json_object_new_array();
	for (i = 0; i < sv->nclients; i++)
		json_object_array_add(a, cvm_status_json(&sv->clients[i]));
	json_object_object_add(o, "clients", a);
	return o;
}

static void begin_stop(struct supervisor *sv, unsigned int timeout_s, const char *why);

static struct vm *find_vm(struct supervisor *sv, const char *name)
{
	unsigned int i;

	for (i = 0; i < sv->nvms; i++)
		if (!strcmp(sv->vms[i].cfg->name, name))
			return &sv->vms[i];
	return NULL;
}

/* The VM a request names ("vm"), or the only one; NULL after replying an error. */
static struct vm *request_vm(struct supervisor *sv, struct ctl_conn *c, json_object *req,
			     const char *cmd)
{
	const char *name = NULL;
	json_object *v;
	char msg[256];
	struct vm *vm;

	if (json_object_object_get_ex(req, "vm", &v) && json_object_is_type(v, json_type_string))
		name = json_object_get_string(v);
	if (!name && sv->nvms != 1) {
		strfmt(msg, sizeof(msg), "several driver VMs: name one (ddvm %s VM)", cmd);
		ctl_reply_error(c, msg);
		return NULL;
	}
	vm = name ? find_vm(sv, name) : &sv->vms[0];
	if (!vm) {
		strfmt(msg, sizeof(msg), "no driver VM named '%s'", name);
		ctl_reply_error(c, msg);
	}
	return vm;
}

static void handle_crash(struct supervisor *sv, struct ctl_conn *c, json_object *req)
{
	struct vm *vm = request_vm(sv, c, req, "crash");
	char msg[256];

	if (!vm)
		return;
	if (vm_crash(vm, msg, sizeof(msg)) < 0) {
		ctl_reply_error(c, msg);
		return;
	}
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(1));
		ctl_reply(c, o);
	}
}

static void handle_inject(struct supervisor *sv, struct ctl_conn *c, json_object *req)
{
	struct vm *vm = request_vm(sv, c, req, "inject");
	const char *fault = NULL;
	json_object *v, *o;
	char msg[512];

	if (!vm)
		return;
	if (json_object_object_get_ex(req, "fault", &v) && json_object_is_type(v, json_type_string))
		fault = json_object_get_string(v);
	if (!fault || vm_inject(vm, fault, msg, sizeof(msg)) < 0) {
		ctl_reply_error(c, fault ? msg : "inject: no fault named");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "vm", json_object_new_string(vm->cfg->name));
	json_object_object_add(o, "fault", json_object_new_string(fault));
	json_object_object_add(o, "detail", json_object_new_string(msg));
	ctl_reply(c, o);
}

static void handle_link(struct supervisor *sv, struct ctl_conn *c, json_object *req)
{
	struct vm *vm = request_vm(sv, c, req, "link");
	json_object *v, *o;
	int64_t dev = 0;
	int up = 1;
	char msg[256];

	if (!vm)
		return;
	if (json_object_object_get_ex(req, "device", &v))
		dev = json_object_get_int64(v);
	if (json_object_object_get_ex(req, "up", &v))
		up = json_object_get_boolean(v);
	if (dev < 1 || dev > 1000 || vm_set_link(vm, (unsigned int)dev, up, msg, sizeof(msg)) < 0) {
		if (dev < 1 || dev > 1000)
			strfmt(msg, sizeof(msg), "device must be a device number from the config (1, 2, ...)");
		ctl_reply_error(c, msg);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	ctl_reply(c, o);
}

static void handle_ping(struct supervisor *sv, struct ctl_conn *c, json_object *req)
{
	json_object *v;
	int64_t count = 10;
	char msg[256];
	struct vm *vm;

	if (json_object_object_get_ex(req, "count", &v))
		count = json_object_get_int64(v);
	if (count < 1 || count > 1000000) {
		ctl_reply_error(c, "count must be 1..1000000");
		return;
	}
	vm = request_vm(sv, c, req, "ping");
	if (!vm)
		return;
	c->busy = 1;
	if (vm_ping_start(vm, c, (uint32_t)count, msg, sizeof(msg)) < 0)
		ctl_reply_error(c, msg);
}

/* The QEMU options that attach a client VM to its channels. */
static void handle_qemu_args(struct supervisor *sv, struct ctl_conn *c, json_object *req)
{
	struct qemu_client_params p;
	const char *name = NULL;
	char msg[256], *args;
	json_object *v, *o;
	unsigned int i;

	if (json_object_object_get_ex(req, "client", &v) && json_object_is_type(v, json_type_string))
		name = json_object_get_string(v);
	for (i = 0; name && i < sv->nclients; i++)
		if (!strcmp(sv->clients[i].cfg->name, name))
			break;
	if (!name || i == sv->nclients) {
		strfmt(msg, sizeof(msg), "no client VM named '%s' in the config", name ? name : "");
		ctl_reply_error(c, msg);
		return;
	}
	if (cvm_qemu_params(sv->cfg, i, sv->rundir, NULL, &p, msg, sizeof(msg)) < 0) {
		ctl_reply_error(c, msg);
		return;
	}
	args = malloc(QEMU_CLIENT_MAX_CHAN * (PATH_MAX + 128));
	if (!args) {
		ctl_reply_error(c, "out of memory");
		return;
	}
	qemu_client_attach_args(&p, args, QEMU_CLIENT_MAX_CHAN * (PATH_MAX + 128));
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "client", json_object_new_string(name));
	json_object_object_add(o, "args", json_object_new_string(args));
	json_object_object_add(o, "start", json_object_new_boolean(sv->clients[i].cfg->start));
	json_object_object_add(o, "virtio", json_object_new_boolean(sv->clients[i].cfg->virtio));
	free(args);
	ctl_reply(c, o);
}

static void handle_request(struct supervisor *sv, struct ctl_conn *c, const char *line)
{
	json_object *req = json_tokener_parse(line), *v;
	const char *cmd = NULL;

	if (req && json_object_object_get_ex(req, "cmd", &v))
		cmd = json_object_get_string(v);
	if (!cmd) {
		ctl_reply_error(c, "bad request: expected {\"cmd\": ...}");
	} else if (!strcmp(cmd, "status")) {
		ctl_reply(c, status_json(sv));
	} else if (!strcmp(cmd, "ping")) {
		handle_ping(sv, c, req);
	} else if (!strcmp(cmd, "crash")) {
		handle_crash(sv, c, req);
	} else if (!strcmp(cmd, "inject")) {
		handle_inject(sv, c, req);
	} else if (!strcmp(cmd, "link")) {
		handle_link(sv, c, req);
	} else if (!strcmp(cmd, "qemu-args")) {
		handle_qemu_args(sv, c, req);
	} else if (!strcmp(cmd, "down")) {
		int64_t t = DOWN_DEFAULT_S;

		if (json_object_object_get_ex(req, "timeout", &v))
			t = json_object_get_int64(v);
		if (t < 0 || t > 3600)
			t = DOWN_DEFAULT_S;
		c->busy = 1;
		c->next_waiter = sv->down_waiters;
		sv->down_waiters = c;
		begin_stop(sv, (unsigned int)t, "ddvm down");
	} else {
		ctl_reply_error(c, "unknown command");
	}
	json_object_put(req);
}

static void on_conn(struct watch *w, uint32_t events)
{
	struct ctl_conn *c = container_of(w, struct ctl_conn, w);
	char *nl;
	ssize_t n;

	(void)events;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || c->busy) {
		/* EOF (or data after the request): stop watching */
		if (c->busy) {
			loop_del(&c->w);
			c->closed = 1;
		} else {
			conn_free(c);
		}
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = strchr(c->buf, '\n');
	if (!nl) {
		if (c->len == sizeof(c->buf) - 1)
			ctl_reply_error(c, "request too long");
		return;
	}
	*nl = '\0';
	handle_request(c->sv, c, c->buf);
}

static void on_ctl_accept(struct watch *w, uint32_t events)
{
	struct supervisor *sv = container_of(w, struct supervisor, ctl_w);
	struct timeval tv = { .tv_sec = 2 };
	char what[PATH_MAX + 32];
	struct ctl_conn *c;
	int fd;

	(void)events;
	strfmt(what, sizeof(what), "control socket %s/control.sock", sv->rundir);
	fd = ddvm_accept(sv->ctl_fd, SOCK_CLOEXEC, what);	/* survives EMFILE */
	if (fd < 0)
		return;
	if (!ddvm_admit_peer(fd, sv->cfg->allow_uids, sv->cfg->nallow, what, NULL)) {
		close(fd);
		return;
	}
	if (nconns >= CTL_MAX_CONNS) {
		static struct log_rl rl;

		pr_warn_rl(&rl, "%s: %u connections open already: refusing another", what, nconns);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = calloc(1, sizeof(*c));
	if (!c || loop_add(&c->w, fd, EPOLLIN, on_conn) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->sv = sv;
	c->fd = fd;
	nconns++;
}

static int ctl_listen(struct supervisor *sv)
{
	char path[PATH_MAX + 16];

	strfmt(path, sizeof(path), "%s/control.sock", sv->rundir);
	sv->ctl_fd = ddvm_listen_private(path, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 16);
	if (sv->ctl_fd < 0) {
		errno = -sv->ctl_fd;
		sv->ctl_fd = -1;
		return -errno;
	}
	return loop_add(&sv->ctl_w, sv->ctl_fd, EPOLLIN, on_ctl_accept);
}

/* Tell the waiting `ddvm up -d` how startup went, once. */
static void notify(struct supervisor *sv, const char *msg)
{
	char line[1024];
	int n;

	if (!strcmp(msg, "ok"))		/* under systemd (Type=notify) */
		sdn_ready("driver VMs ready");
	else
		sdn_status(msg);
	if (sv->notify_fd < 0)
		return;
	n = strfmt(line, sizeof(line), "%s\n", msg);
	if (write(sv->notify_fd, line, (size_t)n) != n)
		pr_debug("cannot notify the starting ddvm: %m");
	close(sv->notify_fd);
	sv->notify_fd = -1;
}

static int any_running(const struct supervisor *sv)
{
	unsigned int i;

	for (i = 0; i < sv->nvms; i++)
		if (vm_running(&sv->vms[i]))
			return 1;
	for (i = 0; i < sv->nclients; i++)
		if (cvm_running(&sv->clients[i]))
			return 1;
	return 0;
}

static void finish_stop(struct supervisor *sv)
{
	char path[PATH_MAX + 16];

	strfmt(path, sizeof(path), "%s/control.sock", sv->rundir);
	unlink(path);
	while (sv->down_waiters) {
		struct ctl_conn *c = sv->down_waiters;
		json_object *o = json_object_new_object();

		sv->down_waiters = c->next_waiter;
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		ctl_reply(c, o);
	}
	loop_stop(sv->exit_code);
}

static void on_stop_deadline(struct watch *w, uint32_t events)
{
	struct supervisor *sv = container_of(w, struct supervisor, stop_w);
	unsigned int i;

	(void)events;
	timer_ack(w->fd);
	for (i = 0; i < sv->nclients; i++)
		cvm_kill(&sv->clients[i]);
	for (i = 0; i < sv->nvms; i++)
		vm_kill(&sv->vms[i]);
}

static void begin_stop(struct supervisor *sv, unsigned int timeout_s, const char *why)
{
	unsigned int i;

	if (!sv->stopping) {
		pr_info("stopping all driver VMs (%s)", why);
		sdn_stopping(why);
		sv->stopping = 1;
		for (i = 0; i < sv->nclients; i++)	/* the clients first */
			cvm_stop(&sv->clients[i]);
		for (i = 0; i < sv->nvms; i++)
			vm_stop(&sv->vms[i]);
	}
	/* a later, shorter deadline wins */
	timer_arm(sv->stop_timer, timeout_s ? (uint64_t)timeout_s * 1000 : 1);
	if (!any_running(sv))
		finish_stop(sv);
}

void sv_vm_changed(struct supervisor *sv, struct vm *vm)
{
	unsigned int i, ready = 0;

	if (sv->stopping) {
		if (!any_running(sv))
			finish_stop(sv);
		return;
	}
	if (vm && vm->state == VM_FAILED && !sv->startup_done) {
		/* startup failed: report it and take everything down */
		notify(sv, vm->error);
		sv->exit_code = 1;
		begin_stop(sv, DOWN_DEFAULT_S, "a driver VM failed to start");
		return;
	}
	for (i = 0; i < sv->nvms; i++)
		ready += sv->vms[i].state == VM_READY;
	if (!sv->startup_done && ready == sv->nvms) {
		sv->startup_done = 1;
		pr_info("all %u driver VM%s ready", sv->nvms, sv->nvms == 1 ? "" : "s");
		notify(sv, "ok");
	}
	for (i = 0; i < sv->nclients; i++)	/* clients wait for their driver VMs */
		cvm_poke(&sv->clients[i]);
}

static void on_tick(struct watch *w, uint32_t events)
{
	struct supervisor *sv = container_of(w, struct supervisor, tick_w);
	unsigned int i;

	(void)events;
	timer_ack(w->fd);
	for (i = 0; i < sv->nvms; i++)
		vm_check(&sv->vms[i]);
}

static void on_signal(struct watch *w, uint32_t events)
{
	struct supervisor *sv = container_of(w, struct supervisor, sig_w);
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
		begin_stop(sv, DOWN_DEFAULT_S, strsignal((int)si.ssi_signo));
}

int supervisor_run(struct supervisor *sv)
{
	sigset_t set;
	unsigned int i;
	int ret = 1;

	sv->started_ms = now_ms();
	sv->ctl_fd = sv->sigfd = sv->tick = sv->stop_timer = -1;
	/*
	 * Whatever we and our children (QEMU, front-ends) create from here on,
	 * sockets bound by a front-end included, is for our user alone.
	 */
	umask(077);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	pr_info("supervisor pid %d, run dir %s, accelerator %s (%s)", (int)getpid(), sv->rundir,
		accel_name(sv->accel), sv->accel_reason);
	{
		char err[256];

		if (run_user_init(sv->cfg->run_user, err, sizeof(err)) < 0 ||
		    (sv->accel == ACCEL_KVM && run_user_check_kvm(err, sizeof(err)) < 0) ||
		    run_user_limit_supervisor(err, sizeof(err)) < 0) {
			pr_err("%s", err);
			notify(sv, err);
			goto out;
		}
		if (run_user.active)
			pr_info("QEMU and the front-ends run as user %s (uid %u), without capabilities "
				"(ddvm-tap: CAP_NET_ADMIN), in QEMU's sandbox; the supervisor keeps the "
				"capabilities it needs alone", run_user.name, (unsigned int)run_user.uid);
		else if (run_user_why_root())
			pr_warn("QEMU and the front-ends run as root: %s", run_user_why_root());
	}
	if (loop_init() < 0)
		goto out;
	sv->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	sv->tick = timer_new();
	sv->stop_timer = timer_new();
	if (sv->sigfd < 0 || sv->tick < 0 || sv->stop_timer < 0 ||
	    loop_add(&sv->sig_w, sv->sigfd, EPOLLIN, on_signal) < 0 ||
	    loop_add(&sv->tick_w, sv->tick, EPOLLIN, on_tick) < 0 ||
	    loop_add(&sv->stop_w, sv->stop_timer, EPOLLIN, on_stop_deadline) < 0 ||
	    timer_arm_periodic(sv->tick, 1000) < 0) {
		pr_err("event setup failed: %m");
		notify(sv, "supervisor event setup failed");
		goto out;
	}
	for (i = 0; i < sv->cfg->nvms; i++) {
		sv->nvms++;
		if (vm_init(&sv->vms[i], sv, &sv->cfg->vms[i]) < 0) {
			pr_err("%s", sv->vms[i].error);
			notify(sv, sv->vms[i].error);
			goto out;
		}
	}
	for (i = 0; i < sv->cfg->nclients; i++) {
		sv->nclients++;
		if (cvm_init(&sv->clients[i], sv, i) < 0) {
			pr_err("%s", sv->clients[i].error);
			notify(sv, sv->clients[i].error);
			goto out;
		}
	}
	if (ctl_listen(sv) < 0) {
		pr_err("cannot listen on %s/control.sock: %m", sv->rundir);
		notify(sv, "cannot create the control socket");
		goto out;
	}
	for (i = 0; i < sv->nvms && !sv->stopping; i++)
		vm_start(&sv->vms[i]);
	ret = loop_run();
	pr_info("supervisor exiting (%s)", ret ? "failed" : "clean");
out:
	for (i = 0; i < sv->nclients; i++) {
		struct client_vm *cl = &sv->clients[i];

		if (cl->pid > 0) {
			kill(cl->pid, SIGKILL);
			waitpid(cl->pid, NULL, 0);
		}
		cvm_destroy(cl);
	}
	for (i = 0; i < sv->nvms; i++) {
		struct vm *vm = &sv->vms[i];

		if (vm->pid > 0) {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, NULL, 0);
		}
		vm_destroy(vm);
	}
	if (sv->ctl_fd >= 0) {
		char path[PATH_MAX + 16];

		strfmt(path, sizeof(path), "%s/control.sock", sv->rundir);
		unlink(path);
		close(sv->ctl_fd);
	}
	notify(sv, "supervisor exited during startup");
	return ret;
}
