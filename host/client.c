// SPDX-License-Identifier: MIT
/* Control-socket client: one JSON request line, one JSON reply line. */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ddvm/posix/log.h"
#include "rundir.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Send req, wait up to timeout_ms for the reply.  Returns the reply,
 * or NULL with *err: -ENOENT (no supervisor), -ETIMEDOUT, -EPROTO...
 */
static json_object *request(const char *rundir, json_object *req, int timeout_ms, int *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int64_t deadline = mono_ms() + timeout_ms;
	char buf[1 << 16];
	size_t len = 0;
	json_object *reply = NULL;
	int fd;

	*err = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", rundir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*err = errno == ECONNREFUSED || errno == ENOENT ? -ENOENT : -errno;
		goto out;
	}
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		*err = -errno;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			*err = -ETIMEDOUT;
			goto out;
		}
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) || len == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	reply = json_tokener_parse(buf);
	if (!reply)
		*err = -EPROTO;
out:
	if (fd >= 0)
		close(fd);
	json_object_put(req);
	return reply;
}

static json_object *cmd(const char *name)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string(name));
	return o;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "";
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Reply ok?  Else print its error. */
static int reply_ok(json_object *r)
{
	json_object *v;

	if (json_object_object_get_ex(r, "ok", &v) && json_object_get_boolean(v))
		return 1;
	cli_err("%s", jstr(r, "error")[0] ? jstr(r, "error") : "supervisor returned an error");
	return 0;
}

static void no_supervisor(const char *rundir, int err)
{
	if (err == -ENOENT)
		cli_err("no supervisor running in %s", rundir);
	else if (err == -ETIMEDOUT)
		cli_err("the supervisor in %s did not answer in time", rundir);
	else
		cli_err("cannot talk to the supervisor in %s: %s", rundir, strerror(-err));
}

static void fmt_duration(int64_t s, char *out, size_t len)
{
	if (s < 60)
		strfmt(out, len, "%llds", (long long)s);
	else if (s < 3600)
		strfmt(out, len, "%lldm%02llds", (long long)s / 60, (long long)s % 60);
	else
		strfmt(out, len, "%lldh%02lldm", (long long)s / 3600, (long long)(s / 60) % 60);
}

static int jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static int jnull(json_object *o, const char *key)
{
	json_object *v;

	return !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null);
}

/* o[key] if it is an array, else NULL: a reply is read, not trusted (json-c asserts on types). */
static json_object *jarray(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* One line per export: what serves it, where clients connect, what the driver VM says. */
static void print_export(json_object *e)
{
	json_object *stats;
	char pid[32] = "";

	if (!jnull(e, "frontend_pid"))
		snprintf(pid, sizeof(pid), " pid %lld", (long long)jint(e, "frontend_pid"));
	printf("  export %s%lld (%s, queue %lld, %s): %s%s", !strcmp(jstr(e, "kind"), "disk") ? "disk" : "net",
	       (long long)jint(e, "index"), jstr(e, "type"), (long long)jint(e, "queue"), jstr(e, "target"),
	       jstr(e, "state"), pid);
	if (!strcmp(jstr(e, "kind"), "disk")) {
		printf("  %s", jstr(e, "nbd"));
		if (!jnull(e, "nbd_tcp"))
			printf("  %s", jstr(e, "nbd_tcp"));
		printf("  queue %s", jstr(e, "queue_state"));
		if (!strcmp(jstr(e, "queue_state"), "ready"))
			printf(" %s %.1f MiB%s", jstr(e, "dev_name"), (double)jint(e, "capacity") / 1048576.0,
			       jbool(e, "zero_copy") ? " zero-copy" : "");
	} else {
		printf("  tap %s  link %s  queue %s", jstr(e, "tap"), jbool(e, "link") ? "up" : "down",
		       jstr(e, "queue_state"));
		if (!strcmp(jstr(e, "queue_state"), "ready"))
			printf(" %s mac %s mtu %lld", jstr(e, "dev_name"), jstr(e, "mac"), (long long)jint(e, "mtu"));
	}
	if (!strcmp(jstr(e, "queue_state"), "error"))
		printf(" (%s)", jstr(e, "queue_error"));
	printf("\n");
	if (json_object_object_get_ex(e, "stats", &stats) && json_object_is_type(stats, json_type_object)) {
		static const char *const dirs[] = { "tx", "rx" };
		int i;

		printf("   ");
		for (i = 0; i < 2; i++) {
			json_object *dir, *drops;
			int64_t dropped = 0;

			if (!json_object_object_get_ex(stats, dirs[i], &dir))
				continue;
			if (json_object_object_get_ex(dir, "drops", &drops) &&
			    json_object_is_type(drops, json_type_object)) {
				json_object_object_foreach(drops, k, v) {
					(void)k;
					dropped += json_object_get_int64(v);
				}
			}
			printf(" %s %lld frames %lld bytes %lld dropped%s", dirs[i],
			       (long long)jint(dir, "frames"), (long long)jint(dir, "bytes"),
			       (long long)dropped, i == 0 ? ";" : "");
		}
		printf("\n");
	}
	if (jstr(e, "error")[0])
		printf("    %s\n", jstr(e, "error"));
}

/* A client VM's disk or NIC: its queue, channel (and MAC). */
static void print_client_dev(json_object *d, const char *kind)
{
	json_object *ch;

	printf("  %-4s %-12s queue %-8s", kind, jstr(d, kind), jstr(d, "queue_state"));
	if (!strcmp(kind, "nic") && jstr(d, "mac")[0])
		printf(" mac %s link %s", jstr(d, "mac"), jbool(d, "link") ? "up" : "down");
	if (json_object_object_get_ex(d, "channel", &ch))
		printf(" channel %s", jstr(ch, "socket"));
	if (json_object_object_get_ex(d, "counters", &ch) && ch) {
		int disk = !strcmp(kind, "disk");

		printf("\n       %s %lld (%lld KiB), %s %lld (%lld KiB), errors %lld",
		       disk ? "reads" : "rx", (long long)jint(ch, disk ? "reads" : "rx_frames"),
		       (long long)jint(ch, disk ? "read_bytes" : "rx_bytes") >> 10,
		       disk ? "writes" : "tx", (long long)jint(ch, disk ? "writes" : "tx_frames"),
		       (long long)jint(ch, disk ? "write_bytes" : "tx_bytes") >> 10,
		       (long long)jint(ch, "errors"));
	}
	printf("\n");
}

/* Client VMs: state, pid, console, and each disk's and NIC's channel and queue. */
static void print_clients(json_object *r)
{
	json_object *cls, *cl, *disks, *nics;
	size_t i, j;

	if (!(cls = jarray(r, "clients")) || !json_object_array_length(cls))
		return;
	printf("%-12s %-10s %-8s %-8s %s\n", "CLIENT", "STATE", "RESTARTS", "PID", "CONSOLE");
	for (i = 0; i < json_object_array_length(cls); i++) {
		cl = json_object_array_get_idx(cls, i);
		printf("%-12s %-10s %-8lld %-8lld %s\n", jstr(cl, "name"), jstr(cl, "state"),
		       (long long)jint(cl, "restarts"), (long long)jint(cl, "pid"),
		       jstr(cl, "console_log"));
		if (jstr(cl, "error")[0])
			printf("  error: %s\n", jstr(cl, "error"));
		if ((disks = jarray(cl, "disks")))
			for (j = 0; j < json_object_array_length(disks); j++)
				print_client_dev(json_object_array_get_idx(disks, j), "disk");
		if ((nics = jarray(cl, "nics")))
			for (j = 0; j < json_object_array_length(nics); j++)
				print_client_dev(json_object_array_get_idx(nics, j), "nic");
	}
}

static void print_human(json_object *r)
{
	json_object *vms, *vm, *devs, *d;
	size_t i, j;

	printf("supervisor pid %lld, run dir %s, accelerator %s\n", (long long)jint(r, "supervisor_pid"),
	       jstr(r, "rundir"), jstr(r, "accel"));
	if (!(vms = jarray(r, "vms")))
		return;
	printf("%-12s %-10s %-5s %-7s %-8s %-4s %-16s %-8s %s\n", "VM", "STATE", "ACCEL", "UPTIME",
	       "RESTARTS", "GEN", "HEARTBEAT (AGE)", "PID", "CONSOLE");
	for (i = 0; i < json_object_array_length(vms); i++) {
		char up[16], hb[40], age[16] = "-";
		json_object *v;

		vm = json_object_array_get_idx(vms, i);
		fmt_duration(jint(vm, "uptime_s"), up, sizeof(up));
		if (json_object_object_get_ex(vm, "heartbeat_age_ms", &v) && !json_object_is_type(v, json_type_null))
			snprintf(age, sizeof(age), "%.1fs", (double)json_object_get_int64(v) / 1000.0);
		snprintf(hb, sizeof(hb), "%lld (%s)", (long long)jint(vm, "heartbeat"), age);
		printf("%-12s %-10s %-5s %-7s %-8lld %-4lld %-16s %-8lld %s\n", jstr(vm, "name"),
		       jstr(vm, "state"), jstr(vm, "accel"), up, (long long)jint(vm, "restarts"),
		       (long long)jint(vm, "generation"), hb, (long long)jint(vm, "pid"),
		       jstr(vm, "console_log"));
		if (jstr(vm, "error")[0])
			printf("  error: %s\n", jstr(vm, "error"));
		if ((devs = jarray(vm, "devices")))
			for (j = 0; j < json_object_array_length(devs); j++) {
				d = json_object_array_get_idx(devs, j);
				printf("  %s  %s:%s  class %s  %-10s %s\n", jstr(d, "address"), jstr(d, "vendor"),
				       jstr(d, "device"), jstr(d, "class"),
				       jstr(d, "driver")[0] ? jstr(d, "driver") : "(none)", jstr(d, "names"));
			}
		if ((devs = jarray(vm, "exports")))
			for (j = 0; j < json_object_array_length(devs); j++)
				print_export(json_object_array_get_idx(devs, j));
	}
	print_clients(r);
}

/* Send req; the reply if the supervisor answered "ok", else NULL (error printed). */
static json_object *request_ok(const char *rundir, json_object *req, int timeout_ms)
{
	int err;
	json_object *r = request(rundir, req, timeout_ms, &err);

	if (!r) {
		no_supervisor(rundir, err);
		return NULL;
	}
	if (!reply_ok(r)) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

int client_status(const char *rundir, int json)
{
	json_object *r = request_ok(rundir, cmd("status"), 10000);

	if (!r)
		return 1;
	if (json)
		printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE | JSON_C_TO_STRING_SPACED));
	else
		print_human(r);
	json_object_put(r);
	return 0;
}

/* Wait for pid to exit (pidfd), up to ms.  1 if gone. */
static int wait_gone(pid_t pid, int ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p;
	int gone;

	if (fd < 0)
		return errno == ESRCH;
	p.fd = fd;
	p.events = POLLIN;
	gone = poll(&p, 1, ms) == 1;
	close(fd);
	return gone;
}

/* Is pid a QEMU started for this run dir?  (Its command line names the dir.) */
static int is_our_qemu(pid_t pid, const char *rundir)
{
	char path[64], buf[8192];
	size_t n, i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, "qemu") && strstr(buf, rundir);
}

/* Last resort: SIGKILL every QEMU whose pid file is in the run dir. */
static void kill_leftover_qemus(const char *rundir)
{
	DIR *d = opendir(rundir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		FILE *f;
		int pid = 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/qemu.pid", rundir, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%d", &pid) == 1 && pid > 1 && is_our_qemu(pid, rundir)) {
			cli_err("killing leftover QEMU pid %d (%s)", pid, e->d_name);
			kill(pid, SIGKILL);
			wait_gone(pid, 5000);
		}
		fclose(f);
		unlink(path);
	}
	closedir(d);
}

int client_down(const char *rundir, unsigned int timeout_s)
{
	pid_t pid = rundir_lock_holder(rundir);
	json_object *req, *r;
	int err;

	if (!pid) {
		cli_err("no supervisor running in %s", rundir);
		kill_leftover_qemus(rundir);
		return 0;
	}
	req = cmd("down");
	json_object_object_add(req, "timeout", json_object_new_int64(timeout_s));
	r = request(rundir, req, (int)(timeout_s + 10) * 1000, &err);
	if (!r)
		no_supervisor(rundir, err);
	else
		json_object_put(r);
	if (!wait_gone(pid, r ? 10000 : 1000)) {
		cli_err("supervisor pid %d did not exit; killing it", (int)pid);
		kill(pid, SIGKILL);
		wait_gone(pid, 5000);
	}
	kill_leftover_qemus(rundir);
	return 0;
}

/* Send req (naming vm if given), wait for {"ok": ...}. */
static int simple_request(const char *rundir, json_object *req, const char *vm)
{
	json_object *r;

	if (vm)
		json_object_object_add(req, "vm", json_object_new_string(vm));
	r = request_ok(rundir, req, 10000);
	if (!r)
		return 1;
	json_object_put(r);
	return 0;
}

int client_crash(const char *rundir, const char *vm)
{
	return simple_request(rundir, cmd("crash"), vm);
}

int client_inject(const char *rundir, const char *vm, const char *fault)
{
	json_object *req = cmd("inject"), *r;

	if (vm)
		json_object_object_add(req, "vm", json_object_new_string(vm));
	json_object_object_add(req, "fault", json_object_new_string(fault));
	r = request_ok(rundir, req, 10000);
	if (!r)
		return 1;
	printf("%s: %s\n", jstr(r, "vm"), jstr(r, "detail"));
	json_object_put(r);
	return 0;
}

int client_link(const char *rundir, const char *vm, unsigned int dev, int up)
{
	json_object *req = cmd("link");

	json_object_object_add(req, "device", json_object_new_int64(dev));
	json_object_object_add(req, "up", json_object_new_boolean(up));
	return simple_request(rundir, req, vm);
}

int client_ping(const char *rundir, const char *vm, unsigned int count, int json)
{
	json_object *req = cmd("ping"), *r;

	if (vm)
		json_object_object_add(req, "vm", json_object_new_string(vm));
	json_object_object_add(req, "count", json_object_new_int64(count));
	r = request_ok(rundir, req, 10000 + (int)(count > 100000 ? 100000 : count) * 6000);
	if (!r)
		return 1;
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE | JSON_C_TO_STRING_SPACED));
	} else {
		json_object *v;
		double f[4] = { 0 };
		const char *k[4] = { "min_us", "p50_us", "p99_us", "max_us" };
		int i;

		for (i = 0; i < 4; i++)
			if (json_object_object_get_ex(r, k[i], &v))
				f[i] = json_object_get_double(v);
		printf("%s: %lld round trips: min %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us\n",
		       jstr(r, "vm"), (long long)jint(r, "count"), f[0], f[1], f[2], f[3]);
	}
	json_object_put(r);
	return 0;
}

int client_qemu_args(const char *rundir, const char *name, int virtio)
{
	json_object *req = cmd("qemu-args"), *r;

	json_object_object_add(req, "client", json_object_new_string(name));
	r = request_ok(rundir, req, 10000);
	if (!r)
		return 1;
	if (virtio && !jbool(r, "virtio")) {
		fprintf(stderr, "ddvm: client '%s' attaches by ddvm channels (its config has no "
			"virtio = true); with virtio = true its disks are the exports' NBD sockets "
			"and its NICs join the exports' TAPs on a host bridge\n", name);
		json_object_put(r);
		return 1;
	}
	printf("%s\n", jstr(r, "args"));
	json_object_put(r);
	return 0;
}
