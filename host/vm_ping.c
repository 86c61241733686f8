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
	struct ddvm_slot s;
	char msg[160];
	int r;

	memset(&s, 0, sizeof(s));
	pg->id++;
	pg->cookie = (pg->id * 0x9e3779b97f4a7c15ull) ^ now_ns();
	s.id = ddvm_cpu_to_le64(pg->id);
	s.op = ddvm_cpu_to_le16(DDVM_OP_PING);
	s.arg0 = ddvm_cpu_to_le64(pg->cookie);
	r = ddvm_prod_push(&vm->req, &s);
	if (r < 0) {
		strfmt(msg, sizeof(msg), "vm '%s': CTRL request ring %s", vm->cfg->name,
			 r == DDVM_RING_EFULL ? "is full (driver VM not consuming)" : "is corrupt");
		vm_ping_finish(vm, msg);
		return;
	}
	pg->t0 = now_ns();
	if (ddvm_prod_publish(&vm->req) && vm_ring_guest(vm, vm->layout.q[0].req_vector) < 0) {
		strfmt(msg, sizeof(msg), "vm '%s': driver VM is not attached to the channel", vm->cfg->name);
		vm_ping_finish(vm, msg);
		return;
	}
	timer_arm(pg->timer, PING_TIMEOUT_MS);
}

static void ping_response(struct vm *vm, const struct ddvm_slot *s)
{
	struct vm_ping *pg = &vm->ping;
	uint64_t id = ddvm_le64_to_cpu(s->id), arg0 = ddvm_le64_to_cpu(s->arg0);
	uint32_t status = ddvm_le32_to_cpu(s->status);
	char msg[200];

	if (!pg->conn || id != pg->id) {
		pr_debug("vm '%s': stale CTRL response id %llu", vm->cfg->name, (unsigned long long)id);
		return;
	}
	if (status != DDVM_S_OK || arg0 != pg->cookie) {
		strfmt(msg, sizeof(msg), "vm '%s': bad ping response (status %u, cookie %s)",
			 vm->cfg->name, status, arg0 == pg->cookie ? "ok" : "wrong");
		vm_ping_finish(vm, msg);
		return;
	}
	pg->lat_ns[pg->done++] = now_ns() - pg->t0;
	if (pg->done == pg->count)
		vm_ping_finish(vm, NULL);
	else
		ping_send(vm);
}

/* Host vector 0: responses available on the CTRL queue. */
static void on_ctrl_bell(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, bell_w[0]);
	struct ddvm_slot s;
	uint64_t n;
	int r;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	for (;;) {
		r = ddvm_cons_pop(&vm->resp, &s);
		if (r == 0) {
			ping_response(vm, &s);
			continue;
		}
		if (r == DDVM_RING_EEMPTY) {
			if (ddvm_cons_publish(&vm->resp))
				vm_ring_guest(vm, vm->layout.q[0].req_vector);
			r = ddvm_cons_want_data(&vm->resp);
			if (r > 0)
				continue;
		}
		break;
	}
	if (r == DDVM_RING_ECORRUPT) {
		char msg[128];

		strfmt(msg, sizeof(msg), "vm '%s': CTRL response ring corrupt (driver VM wrote an impossible index)",
			 vm->cfg->name);
		pr_err("%s", msg);
		vm_ping_finish(vm, msg);
	}
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
		timer_arm(vm->ping.timer, 0);
		free(vm->ping.lat_ns);
		vm->ping.lat_ns = NULL;
	}
}

int vm_ping_setup(struct vm *vm)
{
	vm->ping.timer = timer_new();
	if (vm->ping.timer < 0 ||
	    loop_add(&vm->bell_w[0], ivs_server_self_eventfd(&vm->ivs, VM_VEC_CTRL), EPOLLIN, on_ctrl_bell) < 0 ||
	    loop_add(&vm->ping.timer_w, vm->ping.timer, EPOLLIN, on_ping_timer) < 0)
		return -1;
	return 0;
}
