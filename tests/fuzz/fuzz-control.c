// SPDX-License-Identifier: MIT
/*
 * fuzz-control: both ends of the supervisor's control socket.
 *
 * Server (host/supervisor.c: on_conn, handle_request and the handlers,
 * compiled here with the VMs stubbed): connections that send anything --
 * requests cut anywhere, several per connection, overlong, with NUL bytes,
 * any JSON -- and that hang up before or after their request.  Always: no
 * crash, leak or overflow; a connection gets at most one reply, one line of
 * JSON, an object with a boolean "ok" and, when false, a non-empty "error"
 * string; the VMs are reached only with a VM the request named (or the only
 * one), a device in 1..1000, a count in 1..1000000; a request that hangs
 * (ping) is answered once or freed when its client goes.
 *
 * Client (host/client.c: request and the printers of `ddvm status`,
 * `status --json`, `ping`, `qemu-args`, `crash`, `inject`): any reply a
 * supervisor sends.  Always: no crash, leak, overflow or hang.
 *
 * Input: [0] bit 0 clear: server side, set: client side (bits 1..3: which
 * command).  Server side, repeated: a flags byte, a length byte n, n bytes
 * sent on a new connection (flags: bit 0 send it in two pieces, bit 1 hang
 * up after sending, bit 2 hang up before the reply is read, bit 3 answer a
 * pending ping now).  Client side: the rest is the supervisor's reply.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../host/supervisor.c"
#include "../../host/client.c"
#include "must.h"

/* --- the rest of the supervisor, stubbed ----------------------------------------------- */

static struct supervisor sv;
static struct ddvm_config cfg;
static struct image_info img;
static struct ctl_conn *pending_ping;
static int calls;

static void vm_ok(const struct vm *vm)
{
	MUST(vm >= sv.vms && vm < sv.vms + sv.nvms);
	calls++;
}

const char *accel_name(enum accel a) { return a == ACCEL_KVM ? "kvm" : "tcg"; }
int sdn_ready(const char *s) { (void)s; return 0; }
int sdn_status(const char *s) { (void)s; return 0; }
int sdn_stopping(const char *s) { (void)s; return 0; }
int vm_init(struct vm *vm, struct supervisor *s, const struct vm_config *c) { (void)vm; (void)s; (void)c; return 0; }
int cvm_init(struct client_vm *cl, struct supervisor *s, unsigned int i) { (void)cl; (void)s; (void)i; return 0; }
int vm_start(struct vm *vm) { vm_ok(vm); return 0; }
void vm_check(struct vm *vm) { vm_ok(vm); }
void vm_stop(struct vm *vm) { vm_ok(vm); }
void vm_kill(struct vm *vm) { vm_ok(vm); }
int vm_running(const struct vm *vm) { vm_ok(vm); return 0; }
void vm_destroy(struct vm *vm) { vm_ok(vm); }
void cvm_poke(struct client_vm *cl) { (void)cl; }
void cvm_stop(struct client_vm *cl) { (void)cl; }
void cvm_kill(struct client_vm *cl) { (void)cl; }
int cvm_running(const struct client_vm *cl) { (void)cl; return 0; }
void cvm_destroy(struct client_vm *cl) { (void)cl; }

void vm_ping_forget(struct vm *vm, struct ctl_conn *conn)
{
	vm_ok(vm);
	if (conn == pending_ping)
		pending_ping = NULL;
}

json_object *vm_status_json(struct vm *vm)
{
	json_object *o = json_object_new_object();

	vm_ok(vm);
	json_object_object_add(o, "name", json_object_new_string(vm->cfg->name));
	return o;
}

json_object *cvm_status_json(const struct client_vm *cl)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(cl->cfg->name));
	return o;
}

int vm_ping_start(struct vm *vm, struct ctl_conn *conn, uint32_t count, char *msg, size_t len)
{
	vm_ok(vm);
	MUST(count >= 1 && count <= 1000000);
	MUST(conn->busy);
	if (count % 3 == 0 || pending_ping) {		/* refused */
		strfmt(msg, len, "vm '%s': no ping now", vm->cfg->name);
		return -1;
	}
	pending_ping = conn;		/* answered later, or forgotten */
	return 0;
}

int vm_crash(struct vm *vm, char *msg, size_t len)
{
	vm_ok(vm);
	if (vm == &sv.vms[1]) {
		strfmt(msg, len, "vm '%s': fault injection is off", vm->cfg->name);
		return -1;
	}
	return 0;
}

int vm_set_link(struct vm *vm, unsigned int dev, int up, char *msg, size_t len)
{
	vm_ok(vm);
	MUST(dev >= 1 && dev <= 1000 && (up == 0 || up == 1));
	if (dev > vm->cfg->ndevs) {
		strfmt(msg, len, "vm '%s' has no device %u", vm->cfg->name, dev);
		return -1;
	}
	return 0;
}

int vm_inject(struct vm *vm, const char *fault, char *msg, size_t len)
{
	vm_ok(vm);
	MUST(fault != NULL);
	if (strcmp(fault, "kill") && strcmp(fault, "panic")) {
		strfmt(msg, len, "unknown fault '%s'", fault);
		return -1;
	}
	strfmt(msg, len, "%s injected", fault);
	return 0;
}

int cvm_qemu_params(const struct ddvm_config *c, unsigned int i, const char *rundir,
		    const struct image_info *im, struct qemu_client_params *p, char *msg, size_t len)
{
	(void)rundir;
	(void)im;
	(void)msg;
	(void)len;
	MUST(c == &cfg && i < c->nclients);
	memset(p, 0, sizeof(*p));
	p->cl = &c->clients[i];
	return 0;
}

void qemu_client_attach_args(const struct qemu_client_params *p, char *out, size_t len)
{
	strfmt(out, len, "-device ivshmem-doorbell # %s", p->cl->name);
}

/* --- server side ------------------------------------------------------------------------ */

static void cleanup(void)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/control.sock", sv.rundir);
	unlink(path);
	rmdir(sv.rundir);
}

static void setup(void)
{
	unsigned int i;

	MUST(loop_init() == 0);
	log_set_stream(fopen("/dev/null", "w"));
	snprintf(sv.rundir, sizeof(sv.rundir), "/tmp/ddvm-fuzz-control.%d", (int)getpid());
	MUST(mkdir(sv.rundir, 0700) == 0 || errno == EEXIST);
	atexit(cleanup);
	cfg.nvms = 2;
	snprintf(cfg.vms[0].name, sizeof(cfg.vms[0].name), "a");
	snprintf(cfg.vms[1].name, sizeof(cfg.vms[1].name), "b");
	cfg.vms[0].ndevs = 2;
	cfg.nclients = 1;
	snprintf(cfg.clients[0].name, sizeof(cfg.clients[0].name), "c1");
	snprintf(cfg.path, sizeof(cfg.path), "/etc/ddvm/fuzz.conf");
	snprintf(img.dir, sizeof(img.dir), "/var/lib/ddvm/images/driver");
	for (i = 0; i < cfg.nvms; i++)
		sv.vms[i].cfg = &cfg.vms[i];
	sv.clients[0].cfg = &cfg.clients[0];
	sv.stop_timer = timer_new();
	MUST(sv.stop_timer >= 0);
}

static void sv_reset(void)
{
	sv.cfg = &cfg;
	sv.img = &img;
	sv.nvms = 2;
	sv.nclients = 1;
	sv.stopping = 0;
	sv.notify_fd = -1;
	sv.down_waiters = NULL;
	pending_ping = NULL;
}

/* A new connection, as on_ctl_accept makes it; *peer is the client's end. */
static struct ctl_conn *conn_new(int *peer)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));
	int sp[2];

	MUST(c && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	c->sv = &sv;
	c->fd = sp[0];
	nconns++;
	MUST(loop_add(&c->w, c->fd, EPOLLIN, on_conn) == 0);
	*peer = sp[1];
	return c;
}

/* The client's end: at most one reply line, well formed. */
static void check_reply(int peer)
{
	char buf[1 << 16];
	size_t len = 0;
	ssize_t n;
	json_object *o, *v;
	char *nl;

	while ((n = recv(peer, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT)) > 0)
		len += (size_t)n;
	if (len == 0)
		return;
	buf[len] = '\0';
	nl = memchr(buf, '\n', len);
	MUST(nl && (size_t)(nl - buf) == len - 1);	/* exactly one line */
	*nl = '\0';
	o = json_tokener_parse(buf);
	MUST(o && json_object_is_type(o, json_type_object));
	MUST(json_object_object_get_ex(o, "ok", &v) && json_object_is_type(v, json_type_boolean));
	if (!json_object_get_boolean(v))
		MUST(json_object_object_get_ex(o, "error", &v) &&
		     json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0);
	json_object_put(o);
}

/* Is the connection's fd still open (conn_free closes it; nothing else opens fds meanwhile)? */
static int alive(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/*
 * Let the supervisor take what the connection sent: until it is freed
 * (replied, or EOF), stops watching (busy and hung up), or waits for more.
 */
static void serve(struct ctl_conn *c, int fd, int peer_open)
{
	int pending, rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
		if (!alive(fd) || c->w.fd < 0)
			return;
		MUST(ioctl(fd, FIONREAD, &pending) == 0);
		if (pending == 0 && peer_open)
			return;
		on_conn(&c->w, EPOLLIN);
	}
	MUST(!"on_conn made no progress");
}

static void fuzz_server(const uint8_t *data, size_t size)
{
	size_t i = 0;

	sv_reset();
	while (i + 2 <= size) {
		uint8_t flags = data[i];
		size_t n = data[i + 1];
		struct ctl_conn *c;
		int peer, fd, open = 1;

		i += 2;
		if (n > size - i)
			n = size - i;
		c = conn_new(&peer);
		fd = c->fd;
		if (flags & 1 && n > 1) {
			MUST(send(peer, data + i, n / 2, MSG_NOSIGNAL) == (ssize_t)(n / 2));
			serve(c, fd, 1);
			/* the rest may find it gone (EPIPE, ECONNRESET): fine */
			(void)send(peer, data + i + n / 2, n - n / 2, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else if (n) {
			MUST(send(peer, data + i, n, MSG_NOSIGNAL) == (ssize_t)n);
		}
		i += n;
		if (flags & 2) {
			shutdown(peer, SHUT_WR);
			open = 0;
		}
		serve(c, fd, open);
		if (flags & 4) {		/* gone before the reply */
			close(peer);
			peer = -1;
			serve(c, fd, 0);
		}
		if (pending_ping) {		/* as vm_ping_finish does */
			json_object *o = json_object_new_object();
			struct ctl_conn *p = pending_ping;

			MUST(p == c);
			json_object_object_add(o, "ok", json_object_new_boolean(!(flags & 8)));
			if (flags & 8)
				json_object_object_add(o, "error", json_object_new_string("timed out"));
			pending_ping = NULL;
			ctl_reply(p, o);
		}
		MUST(!sv.down_waiters);		/* no VM running: down answers at once */
		if (alive(fd)) {		/* still waiting for the rest of its line */
			MUST(!c->busy);
			conn_free(c);
		}
		if (peer >= 0) {
			check_reply(peer);
			close(peer);
		}
	}
}

/* --- client side ------------------------------------------------------------------------ */

struct reply { int lfd; const uint8_t *data; size_t size; };

static void *answer(void *arg)
{
	struct reply *r = arg;
	int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
	char line[4096];

	if (fd < 0)
		return NULL;
	(void)!recv(fd, line, sizeof(line), 0);	/* the request */
	(void)!send(fd, r->data, r->size, MSG_NOSIGNAL);
	close(fd);
	return NULL;
}

static void fuzz_client(unsigned int which, const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct reply r = { .data = data, .size = size };
	static FILE *null;
	FILE *out = stdout, *err = stderr;
	pthread_t t;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", sv.rundir);
	unlink(sa.sun_path);
	r.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	MUST(r.lfd >= 0 && bind(r.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	     listen(r.lfd, 1) == 0);
	MUST(pthread_create(&t, NULL, answer, &r) == 0);
	/* Its printing to nowhere (the streams, not fds 1 and 2: sanitizers report on fd 2). */
	if (!null)
		null = fopen("/dev/null", "w");
	stdout = stderr = null;
	switch (which) {
	case 0: client_status(sv.rundir, 0); break;
	case 1: client_status(sv.rundir, 1); break;
	case 2: client_ping(sv.rundir, "a", 10, 0); break;
	case 3: client_ping(sv.rundir, NULL, 3, 1); break;
	case 4: client_qemu_args(sv.rundir, "c1", 0); break;
	case 5: client_qemu_args(sv.rundir, "c1", 1); break;
	case 6: client_crash(sv.rundir, "a"); break;
	case 7: client_inject(sv.rundir, "a", "kill"); break;
	default: client_link(sv.rundir, "a", 1, 0); break;
	}
	stdout = out;
	stderr = err;
	pthread_join(t, NULL);
	close(r.lfd);
	unlink(sa.sun_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;

	if (!inited) {
		setup();
		inited = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_client(data[0] >> 1 & 7, data + 1, size - 1);
	else
		fuzz_server(data + 1, size - 1);
	return 0;
}
