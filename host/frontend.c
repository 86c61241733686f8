// SPDX-License-Identifier: MIT
/* Front-end processes (nbdkit, ddvm-tap) of a driver VM.  See frontend.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend.h"
#include "image.h"
#include "layout.h"
#include "ddvm/posix/log.h"
#include "ddvm/posix/layout_arg.h"
#include "ddvm/posix/private_sock.h"
#include "restart_policy.h"
#include "supervisor.h"
#include "vm.h"
#include "privilege.h"
#include "spawn.h"

/* 5 short runs in a row, then give up; a run of 30 s ends the row */
static const struct restart_policy fe_policy = { .max = 5, .stable_ms = 30000,
						 .backoff_max_ms = 30000 };
#define FE_KILL_MS	3000	/* SIGTERM -> SIGKILL */
#define FE_MAX_ARGS	24

const char *fe_state_str(enum fe_state s)
{
	switch (s) {
	case FE_WAITING: return "starting";
	case FE_RUNNING: return "running";
	case FE_BACKOFF: return "starting";
	case FE_UNAVAILABLE: return "unavailable";
	case FE_FAILED: return "failed";
	case FE_STOPPING: return "stopping";
	case FE_STOPPED: return "stopped";
	}
	return "?";
}

static int is_disk(const struct frontend *f)
{
	return f->ex->kind == DDVM_QK_BLOCK;
}

/* The program a front-end runs: env override, else the one next to this ddvm. */
static void fe_program(const struct frontend *f, char *out, size_t len)
{
	const char *env = getenv(is_disk(f) ? "DDVM_NBDKIT_PLUGIN" : "DDVM_TAP_BIN");

	if (env && *env)
		strfmt(out, len, "%s", env);
	else
		ddvm_frontend_path(is_disk(f), out, len);
}

/* Is cmd runnable (a path, or found in $PATH)? */
static int in_path(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0;
	while (path && *path) {
		const char *end = strchrnul(path, ':');

		strfmt(buf, sizeof(buf), "%.*s/%s", (int)(end - path), path, cmd);
		if (access(buf, X_OK) == 0)
			return 1;
		path = *end ? end + 1 : end;
	}
	return 0;
}

static void fe_path(const struct frontend *f, const char *suffix, char *out, size_t len)
{
	strfmt(out, len, "%s/%s%s", f->vm->dir, f->name, suffix);
}

/* --- sockets (disks) ----------------------------------------------------- */

/* An NBD socket: 0600, never replacing anything but a stale socket of ours. */
static int listen_unix(const char *path)
{
	return ddvm_listen_private(path, SOCK_STREAM | SOCK_CLOEXEC, 64);
}

static int listen_tcp(unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int fe_tls_psk(const struct frontend *f, char *path, size_t len, char *user, size_t ulen)
{
	const struct dev_config *d = &f->vm->cfg->devs[f->ex->dev];
	char line[256], *colon;
	FILE *fp;

	if (f->ex->kind != DDVM_QK_BLOCK || !d->nbd_tcp_port || d->nbd_tcp_insecure)
		return 0;
	if (d->nbd_tcp_psk[0])
		strfmt(path, len, "%s", d->nbd_tcp_psk);
	else
		fe_path(f, ".psk", path, len);
	strfmt(user, ulen, "ddvm");
	fp = fopen(path, "re");		/* the first key's user names the URI's */
	if (fp && fgets(line, sizeof(line), fp) && (colon = strchr(line, ':')) && colon > line) {
		*colon = '\0';
		strfmt(user, ulen, "%s", line);
	}
	if (fp)
		fclose(fp);
	return 1;
}

/* A fresh TLS pre-shared key "ddvm:<256 bits in hex>" at path, mode 0600. */
static int make_psk(const char *path)
{
	unsigned char k[32];
	char hex[65];
	unsigned int i;
	FILE *fp;
	int fd;

	if (getrandom(k, sizeof(k), 0) != sizeof(k))
		return -EIO;
	for (i = 0; i < sizeof(k); i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	fp = fdopen(fd, "w");
	if (!fp) {
		close(fd);
		return -EIO;
	}
	fprintf(fp, "ddvm:%s\n", hex);
	return fclose(fp) ? -EIO : 0;
}

/* Create the disk's listening sockets once; they outlive nbdkit restarts. */
static int disk_sockets(struct frontend *f)
{
	const struct dev_config *d = &f->vm->cfg->devs[f->ex->dev];
	char path[PATH_MAX];
	int fd;

	if (f->listen_fd[0] >= 0)
		return 0;
	fe_path(f, ".sock", path, sizeof(path));
	fd = listen_unix(path);
	if (fd < 0) {
		strfmt(f->error, sizeof(f->error), "cannot listen on %s: %s", path, strerror(-fd));
		return -1;
	}
	f->listen_fd[0] = fd;
	/* a virtio client VM's QEMU, as the run user, connects to it (through an fd of its folder) */
	if (run_user.active && fchownat(AT_FDCWD, path, run_user.uid, run_user.gid, AT_SYMLINK_NOFOLLOW) < 0)
		pr_warn("vm '%s': %s: cannot give %s to user %s: %m", f->vm->cfg->name, f->name, path,
			run_user.name);
	if (d->nbd_tcp_port && !d->nbd_tcp_insecure && !d->nbd_tcp_psk[0]) {
		/* A key of this run's, for the TLS NBD over TCP requires (fe_tls_psk). */
		char psk[PATH_MAX], user[64];
		int r;

		fe_tls_psk(f, psk, sizeof(psk), user, sizeof(user));
		r = make_psk(psk);
		if (r < 0) {
			strfmt(f->error, sizeof(f->error), "cannot write TLS key %s: %s", psk, strerror(-r));
			return -1;
		}
	}
	if (d->nbd_tcp_port) {
		fd = listen_tcp(d->nbd_tcp_port);
		if (fd < 0) {
			/* The unix socket still serves; say why TCP does not. */
			strfmt(f->error, sizeof(f->error), "cannot listen on 127.0.0.1:%u: %s",
			       d->nbd_tcp_port, strerror(-fd));
			pr_warn("vm '%s': %s: %s", f->vm->cfg->name, f->name, f->error);
		} else {
			f->listen_fd[1] = fd;
		}
	}
	return 0;
}

/* --- processes ----------------------------------------------------------- */

/* What a front-end is handed (child_exec), besides its listening sockets (3, 4). */
#define FE_CHAN_FD		9	/* its channel: a connection of ivs_server_pair */
#define FE_PLUGIN_FD		10	/* nbdkit: the ddvm plugin */
/*
 * nbdkit resolves --tls-psk with realpath, so the key must be at a path the
 * run user can walk, and the run folder is root's: as the run user, nbdkit
 * gets a /tmp of its own (a mount namespace and a small tmpfs) with a copy.
 */
#define FE_PRIVATE_PSK		"/tmp/ddvm-nbd.psk"
#define FE_STATS_DIR_FD		12	/* ddvm-tap: its stats folder */
#define FE_TUN_FD		13	/* ddvm-tap: /dev/net/tun (root's alone, often) */

struct argv {
	int n;
	char *v[FE_MAX_ARGS + 1];
};

static void arg(struct argv *a, const char *s)
{
	if (a->n < FE_MAX_ARGS)
		a->v[a->n++] = strdup(s);
	a->v[a->n] = NULL;
}

static void args_free(struct argv *a)
{
	while (a->n)
		free(a->v[--a->n]);
}

static void build_args(const struct frontend *f, const char *prog, struct argv *a)
{
	char buf[PATH_MAX + 32], sock[64], lay[512];
	const struct vm_chan *ch;

	if (is_disk(f)) {
		arg(a, "nbdkit");
		arg(a, "--exit-with-parent");
		arg(a, "-f");
		if (fe_tls_psk(f, buf, sizeof(buf), sock, sizeof(sock))) {
			/* NBD over TCP: TLS-PSK, on both its sockets (one nbdkit serves them) */
			arg(a, "--tls=require");
			if (run_user.active)	/* a copy in its private /tmp (private_key) */
				strfmt(lay, sizeof(lay), "--tls-psk=%s", FE_PRIVATE_PSK);
			else
				strfmt(lay, sizeof(lay), "--tls-psk=%s", buf);
			arg(a, lay);
		}
		(void)prog;	/* opened by the child (FE_PLUGIN_FD), wherever it is */
		strfmt(buf, sizeof(buf), "/proc/self/fd/%d", FE_PLUGIN_FD);
		arg(a, buf);
		strfmt(buf, sizeof(buf), "socket=fd:%d", FE_CHAN_FD);
		arg(a, buf);
		strfmt(buf, sizeof(buf), "queue=%u", f->ex->queue);
		arg(a, buf);
		/* The layout we wrote: the front-end never reads it back from shared memory. */
		ch = vm_export_chan(f->vm, f->ex);
		if (ch && ddvm_layout_format(&ch->layout, lay, sizeof(lay)) == 0) {
			strfmt(buf, sizeof(buf), "layout=%s", lay);
			arg(a, buf);
		}
	} else {
		arg(a, prog);
		arg(a, "--socket");
		strfmt(buf, sizeof(buf), "fd:%d", FE_CHAN_FD);
		arg(a, buf);
		arg(a, "--queue");
		strfmt(buf, sizeof(buf), "%u", f->ex->queue);
		arg(a, buf);
		arg(a, "--tap");
		arg(a, f->vm->cfg->devs[f->ex->dev].tap);
		if (f->vm->cfg->devs[f->ex->dev].host_bridge[0]) {	/* virtio client VMs on it */
			arg(a, "--bridge");
			arg(a, f->vm->cfg->devs[f->ex->dev].host_bridge);
		}
		arg(a, "--tun-fd");
		strfmt(buf, sizeof(buf), "%d", FE_TUN_FD);
		arg(a, buf);
		arg(a, "--stats");	/* in its own folder: it writes it anew and renames */
		strfmt(buf, sizeof(buf), "/proc/self/fd/%d/%s.json", FE_STATS_DIR_FD, f->name);
		arg(a, buf);
		ch = vm_export_chan(f->vm, f->ex);	/* as for the plugin, above */
		if (ch && ddvm_layout_format(&ch->layout, lay, sizeof(lay)) == 0) {
			arg(a, "--layout");
			arg(a, lay);
		}
	}
}

/* In the child, still root: FE_PRIVATE_PSK, a copy of the key at path, in a /tmp of its own. */
static void private_key(const char *path)
{
	char opts[64], buf[4096];
	ssize_t n;
	int in, out;

	in = spawn_open(path, O_RDONLY);
	snprintf(opts, sizeof(opts), "mode=0700,size=64k,uid=%u,gid=%u", (unsigned int)run_user.uid,
		 (unsigned int)run_user.gid);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("ddvm-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
		dprintf(2, "ddvm: cannot give nbdkit a /tmp of its own for its TLS key: %s\n",
			strerror(errno));
		_exit(127);
	}
	out = open(FE_PRIVATE_PSK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0 || fchown(out, run_user.uid, run_user.gid) < 0) {
		dprintf(2, "ddvm: cannot write %s: %s\n", FE_PRIVATE_PSK, strerror(errno));
		_exit(127);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(127);
	close(in);
	close(out);
}

/*
 * In the child, still root: log file; listening sockets as fds 3.. (LISTEN_FDS);
 * its channel connection (FE_CHAN_FD); for nbdkit the plugin and the TLS key
 * opened here, for ddvm-tap its stats folder: so it needs no path of the run
 * folder as the run user.  Then exec as the run user (ddvm-tap keeping
 * CAP_NET_ADMIN alone: its TAP's MTU, carrier and bridge).
 */
static void child_exec(const struct frontend *f, struct argv *a, pid_t parent, int chan_fd,
		       const char *prog)
{
	char path[PATH_MAX + 16], num[16];
	int src[8], dst[8], n = 0, i;

	fe_path(f, ".log", path, sizeof(path));
	spawn_child_setup(parent, path, 0);
	for (i = 0; i < 2; i++)
		if (f->listen_fd[i] >= 0) {
			src[n] = f->listen_fd[i];
			dst[n] = 3 + n;
			n++;
		}
	unsetenv("LISTEN_FDNAMES");
	if (n) {
		strfmt(num, sizeof(num), "%d", (int)getpid());
		setenv("LISTEN_PID", num, 1);
		strfmt(num, sizeof(num), "%d", n);
		setenv("LISTEN_FDS", num, 1);
	} else {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
	}
	src[n] = chan_fd;
	dst[n++] = FE_CHAN_FD;
	if (is_disk(f)) {
		src[n] = spawn_open(prog, O_RDONLY);
		dst[n++] = FE_PLUGIN_FD;
		if (fe_tls_psk(f, path, sizeof(path), num, sizeof(num)) && run_user.active)
			private_key(path);
	} else {
		fe_path(f, ".d", path, sizeof(path));
		src[n] = spawn_open(path, O_PATH | O_DIRECTORY);
		dst[n++] = FE_STATS_DIR_FD;
		src[n] = spawn_open("/dev/net/tun", O_RDWR);
		dst[n++] = FE_TUN_FD;
	}
	if (spawn_place_fds(src, dst, (unsigned int)n) < 0)
		_exit(127);
	spawn_child_exec_as(NULL, a->v, is_disk(f) ? -1 : CAP_NET_ADMIN);
}

/* Before the fork, in the run folder: ddvm-tap's stats folder (the run user's; NAME.json a link into it). */
static int prepare_files(struct frontend *f)
{
	char dir[PATH_MAX], link[PATH_MAX], target[PATH_MAX];

	if (is_disk(f))
		return 0;
	fe_path(f, ".d", dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		strfmt(f->error, sizeof(f->error), "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (run_user.active && fchownat(AT_FDCWD, dir, run_user.uid, run_user.gid, AT_SYMLINK_NOFOLLOW) < 0) {
		strfmt(f->error, sizeof(f->error), "cannot give %s to user %s: %s", dir, run_user.name,
		       strerror(errno));
		return -1;
	}
	fe_path(f, ".json", link, sizeof(link));
	strfmt(target, sizeof(target), "%s.d/%s.json", f->name, f->name);
	if (symlink(target, link) < 0 && errno != EEXIST) {
		strfmt(f->error, sizeof(f->error), "cannot create %s: %s", link, strerror(errno));
		return -1;
	}
	return 0;
}

static void on_exit_fe(struct watch *w, uint32_t events);

/* Mark unavailable, warning once per missing program. */
static void unavailable(struct frontend *f, const char *what, const char *prog, const char *hint)
{
	static char warned[4][PATH_MAX];
	unsigned int i;

	strfmt(f->error, sizeof(f->error), "%s %s not found (%s)", what, prog, hint);
	f->state = FE_UNAVAILABLE;
	for (i = 0; i < 4 && warned[i][0]; i++)
		if (!strcmp(warned[i], prog))
			return;
	if (i < 4)
		strfmt(warned[i], sizeof(warned[i]), "%s", prog);
	pr_warn("%s %s not found: %s exports are unavailable (%s)", what, prog,
		is_disk(f) ? "disk" : "NIC", hint);
}

static void fe_spawn(struct frontend *f)
{
	const char *vmname = f->vm->cfg->name;
	char prog[PATH_MAX], cmd[1024] = "";
	struct argv a = { 0 };
	pid_t parent = getpid();
	uint16_t chan_id;
	int i, chan_fd;

	fe_program(f, prog, sizeof(prog));
	if (access(prog, R_OK) < 0) {
		unavailable(f, is_disk(f) ? "nbdkit plugin" : "TAP front-end", prog,
			    is_disk(f) ? "build it, or set DDVM_NBDKIT_PLUGIN"
				       : "build it, or set DDVM_TAP_BIN");
		return;
	}
	if (is_disk(f) && !in_path("nbdkit")) {
		unavailable(f, "program", "nbdkit", "install the nbdkit package");
		return;
	}
	if (is_disk(f) && disk_sockets(f) < 0) {
		f->state = FE_FAILED;
		pr_err("vm '%s': %s: %s", vmname, f->name, f->error);
		return;
	}
	if (prepare_files(f) < 0) {
		f->state = FE_FAILED;
		pr_err("vm '%s': %s: %s", vmname, f->name, f->error);
		return;
	}
	chan_fd = vm_chan_pair(f->vm, f->ex->chan, 0, &chan_id);
	if (chan_fd < 0) {
		strfmt(f->error, sizeof(f->error), "cannot connect to channel %u: %s", f->ex->chan,
		       strerror(-chan_fd));
		f->state = FE_FAILED;
		pr_err("vm '%s': %s: %s", vmname, f->name, f->error);
		return;
	}
	build_args(f, prog, &a);
	for (i = 0; i < a.n; i++)
		strfmt(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", a.v[i]);
	f->pid = fork();
	if (f->pid == 0)
		child_exec(f, &a, parent, chan_fd, prog);
	args_free(&a);
	close(chan_fd);
	if (f->pid > 0)
		vm_chan_set_pid(f->vm, f->ex->chan, chan_id, f->pid);
	if (f->pid < 0) {
		f->pid = 0;
		strfmt(f->error, sizeof(f->error), "fork: %s", strerror(errno));
		f->state = FE_FAILED;
		pr_err("vm '%s': %s: %s", vmname, f->name, f->error);
		return;
	}
	f->pidfd = (int)syscall(SYS_pidfd_open, f->pid, 0);
	if (f->pidfd < 0 || loop_add(&f->pid_w, f->pidfd, EPOLLIN, on_exit_fe) < 0) {
		pr_err("vm '%s': %s: pidfd_open: %m", vmname, f->name);
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		if (f->pidfd >= 0)
			close(f->pidfd);
		f->pid = 0;
		f->pidfd = -1;
		f->state = FE_FAILED;
		return;
	}
	f->started_ms = now_ms();
	f->state = FE_RUNNING;
	pr_info("vm '%s': front-end %s started (pid %d): %s", vmname, f->name, (int)f->pid, cmd);
}

/*
 * Too many failures in a row: stop restarting it, but only until the driver
 * VM is ready as a new instance (frontends_vm_ready), since what made it
 * fail (the driver VM's state, often) may be gone then.
 */
static void give_up(struct frontend *f, const char *what, const char *log)
{
	f->given_up = 1;
	f->given_up_gen = f->vm->generation;
	f->state = FE_FAILED;
	strfmt(f->error, sizeof(f->error), "front-end %s %s; gave up after %u restarts in a row; "
	       "starting it again once driver VM '%s' is ready again (after generation %u); see %s",
	       f->name, what, f->restarts, f->vm->cfg->name, f->given_up_gen, log);
	pr_err("vm '%s': %s", f->vm->cfg->name, f->error);
}

static void on_exit_fe(struct watch *w, uint32_t events)
{
	struct frontend *f = container_of(w, struct frontend, pid_w);
	const char *vmname = f->vm->cfg->name;
	char what[96], log[PATH_MAX];
	int64_t delay;
	int st = 0;

	(void)events;
	if (waitpid(f->pid, &st, WNOHANG) == 0)
		return;
	loop_del(&f->pid_w);
	close(f->pidfd);
	f->pidfd = -1;
	f->pid = 0;
	if (WIFEXITED(st))
		strfmt(what, sizeof(what), "exited with status %d", WEXITSTATUS(st));
	else
		strfmt(what, sizeof(what), "was killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	fe_path(f, ".log", log, sizeof(log));
	if (f->state == FE_STOPPING || f->vm->sv->stopping) {
		pr_info("vm '%s': front-end %s stopped (%s)", vmname, f->name, what);
		timer_arm(f->timer, 0);
		f->state = FE_STOPPED;
		sv_vm_changed(f->vm->sv, f->vm);
		return;
	}
	delay = restart_next(&fe_policy, &f->restarts, now_ms() - f->started_ms);
	if (delay < 0) {
		give_up(f, what, log);
		return;
	}
	strfmt(f->error, sizeof(f->error), "front-end %s %s (restart %u in a row, at most %u); see %s",
	       f->name, what, f->restarts, fe_policy.max, log);
	if (delay)
		pr_warn("vm '%s': front-end %s %s; restarting in %llu s; see %s", vmname, f->name, what,
			(unsigned long long)delay / 1000, log);
	else
		pr_warn("vm '%s': front-end %s %s; restarting now; see %s", vmname, f->name, what, log);
	f->state = FE_BACKOFF;
	timer_arm(f->timer, delay ? (uint64_t)delay : 1);	/* 0 would disarm it */
}

static void on_timer_fe(struct watch *w, uint32_t events)
{
	struct frontend *f = container_of(w, struct frontend, timer_w);

	(void)events;
	timer_ack(w->fd);
	if (f->state == FE_STOPPING && f->pid > 0) {
		pr_warn("vm '%s': front-end %s (pid %d) ignored SIGTERM; killing it", f->vm->cfg->name,
			f->name, (int)f->pid);
		kill(f->pid, SIGKILL);
	} else if (f->state == FE_BACKOFF && !f->vm->sv->stopping) {
		fe_spawn(f);
	}
}

/* --- the set ------------------------------------------------------------- */

void frontends_init(struct vm *vm)
{
	unsigned int i;

	vm->nfe = 0;
	for (i = 0; i < LAYOUT_MAX_EXPORTS; i++) {
		struct frontend *f = &vm->fe[i];

		memset(f, 0, sizeof(*f));
		f->pidfd = f->timer = f->listen_fd[0] = f->listen_fd[1] = -1;
		f->pid_w.fd = f->timer_w.fd = -1;
	}
}

void frontends_vm_ready(struct vm *vm)
{
	unsigned int i;

	if (vm->nfe == 0) {
		for (i = 0; i < vm->plan.nfront; i++) {	/* not the client VMs' disks */
			struct frontend *f = &vm->fe[i];

			f->vm = vm;
			f->ex = &vm->plan.ex[i];
			strfmt(f->name, sizeof(f->name), "%s%u", f->ex->kind == DDVM_QK_BLOCK ? "disk" : "net",
			       f->ex->num);
			f->state = FE_WAITING;
			f->timer = timer_new();
			if (f->timer < 0 || loop_add(&f->timer_w, f->timer, EPOLLIN, on_timer_fe) < 0) {
				strfmt(f->error, sizeof(f->error), "timer setup failed: %s", strerror(errno));
				f->state = FE_FAILED;
			}
			vm->nfe++;
		}
	}
	for (i = 0; i < vm->nfe; i++) {
		struct frontend *f = &vm->fe[i];

		if (vm->sv->stopping)
			break;
		if (f->state == FE_FAILED && f->given_up &&
		    restart_revive(&f->restarts, f->given_up_gen, vm->generation)) {
			pr_info("vm '%s': front-end %s: driver VM ready again (generation %u); "
				"starting it again after giving up", vm->cfg->name, f->name,
				vm->generation);
			f->given_up = 0;
			f->error[0] = '\0';
			f->state = FE_WAITING;
		}
		if (f->state == FE_WAITING)
			fe_spawn(f);
	}
}

void frontends_stop(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nfe; i++) {
		struct frontend *f = &vm->fe[i];

		if (f->pid > 0 && f->state != FE_STOPPING) {
			pr_info("vm '%s': stopping front-end %s (pid %d)", vm->cfg->name, f->name, (int)f->pid);
			kill(f->pid, SIGTERM);
			f->state = FE_STOPPING;
			timer_arm(f->timer, FE_KILL_MS);
		} else if (f->pid <= 0 && (f->state == FE_BACKOFF || f->state == FE_WAITING)) {
			timer_arm(f->timer, 0);
			f->state = FE_STOPPED;
		}
	}
}

void frontends_kill(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nfe; i++)
		if (vm->fe[i].pid > 0)
			kill(vm->fe[i].pid, SIGKILL);
}

int frontends_running(const struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nfe; i++)
		if (vm->fe[i].pid > 0)
			return 1;
	return 0;
}

void frontends_destroy(struct vm *vm)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < vm->nfe; i++) {
		struct frontend *f = &vm->fe[i];

		if (f->pid > 0) {
			kill(f->pid, SIGKILL);
			waitpid(f->pid, NULL, 0);
			f->pid = 0;
		}
		if (f->pidfd >= 0) {
			loop_del(&f->pid_w);
			close(f->pidfd);
		}
		if (f->timer >= 0) {
			loop_del(&f->timer_w);
			close(f->timer);
		}
		if (f->listen_fd[0] >= 0) {
			close(f->listen_fd[0]);
			fe_path(f, ".sock", path, sizeof(path));
			unlink(path);
		}
		if (f->listen_fd[1] >= 0)
			close(f->listen_fd[1]);
		f->pidfd = f->timer = f->listen_fd[0] = f->listen_fd[1] = -1;
	}
	vm->nfe = 0;
}
