// SPDX-License-Identifier: MIT
/*
 * `ddvm ping`: PING requests over a driver VM's CTRL queue, one at a time,
 * each announced by a doorbell on the guest's vector and answered by one on
 * ours; round-trip times are reported as min/p50/p99/max.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "supervisor.h"
#include "vm.h"

#define PING_TIMEOUT_MS	5000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Microseconds with one decimal, printed as such (not 8.3000000000000007). */
static json_object *us_json(uint64_t ns)
{
	char b[32];

	strfmt(b, sizeof(b), "%.1f", (double)(ns / 100) / 10.0);
	return json_object_new_double_s((double)(ns / 100) / 10.0, b);
}

void vm_ping_finish(struct vm *vm, const char *error)
{
	struct vm_ping *pg = &vm->ping;
	struct ctl_conn *conn = pg->conn;

	if (!conn)
		return;
	pg->conn = NULL;
	timer_arm(pg->timer, 0);
	ddvm_ctrlc_cancel(&vm->ctrl);
	if (error) {
		ctl_reply_error(conn, error);
	} else {
		json_object *o = json_object_new_object();
		uint32_t n = pg->count;
		uint64_t sum = 0;
		uint32_t i;

		qsort(pg->lat_ns, n, sizeof(uint64_t), cmp_u64);
		for (i = 0; i < n; i++)
			sum += pg->lat_ns[i];
#define US(ns) us_json(ns)
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "vm", json_object_new_string(vm->cfg->name));
		json_object_object_add(o, "count", json_object_new_int64(n));
		json_object_object_add(o, "min_us", US(pg->lat_ns[0]));
		json_object_object_add(o, "p50_us", US(pg->lat_ns[(n - 1) / 2]));
		json_object_object_add(o, "p99_us", US(pg->lat_ns[(n * 99 + 99) / 100 - 1]));
		json_object_object_add(o, "max_us", US(pg->lat_ns[n - 1]));
		json_object_object_add(o, "mean_us", US(sum / n));
#undef US
		ctl_reply(conn, o);
	}
	free(pg->lat_ns);
	pg->lat_ns = NULL;
}

static void ping_send(struct vm *vm)
{
	struct vm_ping *pg = &vm->ping;
	char msg[160];
	int r;

	/* The timer below reports a timeout; libddvm's deadline is a backstop. */
	r = ddvm_ctrlc_ping_send(&vm->ctrl, now_ns() * 0x9e3779b97f4a7c15ull,
				 PING_TIMEOUT_MS + 1000);
	if (r < 0) {
		strfmt(msg, sizeof(msg), "vm '%s': %s", vm->cfg->name,
		       r == -DDVM_ENOSPC ? "CTRL request ring is full (driver VM not consuming)" :
		       r == -DDVM_EPROTO ? "CTRL request ring is corrupt" :
		       r == -DDVM_ENOENT ? "driver VM is not attached to the channel" :
		       "a ping is already in flight");
		vm_ping_finish(vm, msg);
		return;
	}
	timer_arm(pg->timer, PING_TIMEOUT_MS);
}

/* Host vector 0: responses available on the CTRL queue. */
static void on_ctrl_bell(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, bell_w[0]);
	struct vm_ping *pg = &vm->ping;
	uint64_t n, rtt;
	char msg[160];
	int r;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	r = ddvm_ctrlc_poll(&vm->ctrl, &rtt);
	if (r == 0 || !pg->conn)
		return;
	if (r < 0) {
		strfmt(msg, sizeof(msg), "vm '%s': %s", vm->cfg->name,
		       r == -DDVM_EPROTO ? "CTRL response ring corrupt (driver VM wrote an impossible index)" :
		       r == -DDVM_EIO ? "bad ping response" : "ping timed out");
		if (r == -DDVM_EPROTO)
			pr_err("%s", msg);
		vm_ping_finish(vm, msg);
		return;
	}
	pg->lat_ns[pg->done++] = rtt;
	if (pg->done == pg->count)
		vm_ping_finish(vm, NULL);
	else
		ping_send(vm);
}

static void on_ping_timer(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, ping.timer_w);
	char msg[160];

	(void)events;
	timer_ack(w->fd);
	if (!vm->ping.conn)
		return;
	strfmt(msg, sizeof(msg), "vm '%s': ping %u of %u: no response within 5 s", vm->cfg->name,
		 vm->ping.done + 1, vm->ping.count);
	vm_ping_finish(vm, msg);
}

int vm_ping_start(struct vm *vm, struct ctl_conn *conn, uint32_t count, char *msg, size_t len)
{
	if (vm->ping.conn) {
		strfmt(msg, len, "vm '%s': a ping is already running", vm->cfg->name);
		return -1;
	}
	if (vm->state != VM_READY) {
		strfmt(msg, len, "vm '%s' is not ready (state %s)", vm->cfg->name, vm_state_str(vm->state));
		return -1;
	}
	vm->ping.lat_ns = calloc(count, sizeof(uint64_t));
	if (!vm->ping.lat_ns) {
		strfmt(msg, len, "out of memory");
		return -1;
	}
	vm->ping.conn = conn;
	vm->ping.count = count;
	vm->ping.done = 0;
	ping_send(vm);
	return 0;
}

void vm_ping_forget(struct vm *vm, struct ctl_conn *conn)
{
	if (vm->ping.conn == conn) {
		vm->ping.conn = NULL;
		ddvm_ctrlc_cancel(&vm->ctrl);
		timer_arm(vm->ping.timer, 0);
		free(vm->ping.lat_ns);
		vm->ping.lat_ns = NULL;
	}
}

int vm_ping_setup(struct vm *vm)
{
	vm->ping.timer = timer_new();
	if (vm->ping.timer < 0 ||
	    loop_add(&vm->bell_w[0], ivs_server_self_eventfd(&vm->ivs, DDVM_HOST_VEC_CTRL_RESP), EPOLLIN, on_ctrl_bell) < 0 ||
	    loop_add(&vm->ping.timer_w, vm->ping.timer, EPOLLIN, on_ping_timer) < 0)
		return -1;
	return 0;
}
