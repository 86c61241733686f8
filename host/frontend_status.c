// SPDX-License-Identifier: MIT
/* The "exports" array of a driver VM's status: front-ends and queue state. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ddvm/net_check.h"
#include "frontend.h"
#include "layout.h"
#include "ddvm/posix/log.h"
#include "vm.h"

#define JS(s)	json_object_new_string(s)
#define JI(i)	json_object_new_int64((int64_t)(i))
#define STATS_MAX	(64u << 10)

static const char *qs_str(uint32_t s)
{
	switch (s) {
	case DDVM_QS_ABSENT: return "absent";
	case DDVM_QS_READY: return "ready";
	default: return "error";
	}
}

static const char *qe_str(uint32_t e)
{
	switch (e) {
	case DDVM_QE_NONE: return "none";
	case DDVM_QE_NODEV: return "no such device in the driver VM";
	case DDVM_QE_OPEN: return "device could not be opened";
	case DDVM_QE_TARGET: return "malformed target";
	case DDVM_QE_BUFFERS: return "data area unusable";
	case DDVM_QE_BOGUS: return "driver VM published nonsense";
	default: return "unknown error";
	}
}

/* The front-end's stats file (a JSON object), or NULL if absent / not JSON. */
static json_object *read_stats(const char *path)
{
	struct stat st;
	json_object *o;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATS_MAX)
		return NULL;
	o = json_object_from_file(path);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* The queue error, naming a NIC's nonsense MAC or MTU (as ddvm-tap's log does). */
static void queue_error_str(const struct layout_export *ex, const struct ddvm_queue_state_info *qs,
			    char *out, size_t len)
{
	uint32_t why = ddvm_net_params_check(qs->mac, qs->mtu);
	const uint8_t *m = qs->mac;

	if (ex->kind != DDVM_QK_NET || qs->error != DDVM_QE_BOGUS || why == DDVM_NET_PARAMS_OK)
		strfmt(out, len, "%s", qe_str(qs->error));
	else if (why == DDVM_NET_PARAMS_MTU)
		strfmt(out, len, "%s: MTU %u", qe_str(qs->error), qs->mtu);
	else
		strfmt(out, len, "%s: %s %02x:%02x:%02x:%02x:%02x:%02x", qe_str(qs->error),
		       ddvm_net_params_str(why), m[0], m[1], m[2], m[3], m[4], m[5]);
}

/*
 * The driver VM's counters of the queue since it booted (display only):
 * block reads / writes / other ops, net frames to / from the client.
 */
static json_object *counters_json(const volatile void *base, const struct layout_export *ex)
{
	json_object *o = json_object_new_object();
	struct ddvm_queue_stats_info st;
	int disk = ex->kind == DDVM_QK_BLOCK;

	ddvm_queue_stats_read(base, ex->queue, &st);
	json_object_object_add(o, disk ? "reads" : "rx_frames", JI(st.rd_ops));
	json_object_object_add(o, disk ? "read_bytes" : "rx_bytes", JI(st.rd_bytes));
	json_object_object_add(o, disk ? "writes" : "tx_frames", JI(st.wr_ops));
	json_object_object_add(o, disk ? "write_bytes" : "tx_bytes", JI(st.wr_bytes));
	if (disk)
		json_object_object_add(o, "other", JI(st.other_ops));
	json_object_object_add(o, "errors", JI(st.errors));
	return o;
}

/* What the driver VM says about queue q (validated copy). */
void vm_queue_state_json(json_object *o, struct vm *vm, const struct layout_export *ex)
{
	const struct vm_chan *ch = vm_export_chan(vm, ex);
	struct ddvm_queue_state_info qs;
	int ok = ch && ch->base && ddvm_queue_state_read(ch->base, &ch->layout, ex->queue, &qs) == 0;
	char err[96];

	if (!ok) {
		memset(&qs, 0, sizeof(qs));
		qs.state = DDVM_QS_ABSENT;
	}
	json_object_object_add(o, "queue_state", JS(qs_str(qs.state)));
	queue_error_str(ex, &qs, err, sizeof(err));
	json_object_object_add(o, "queue_error", qs.state == DDVM_QS_ERROR ? JS(err) : NULL);
	json_object_object_add(o, "dev_name", qs.state == DDVM_QS_READY ? JS(qs.dev_name) : NULL);
	if (ex->kind == DDVM_QK_BLOCK) {
		int rdy = qs.state == DDVM_QS_READY;

		json_object_object_add(o, "capacity", rdy ? JI(qs.capacity) : NULL);
		json_object_object_add(o, "logical_block_size", rdy ? JI(qs.logical_block_size) : NULL);
		json_object_object_add(o, "readonly", rdy ? json_object_new_boolean(!!(qs.features & DDVM_BLK_F_RO)) : NULL);
		json_object_object_add(o, "zero_copy", rdy ? json_object_new_boolean(!!(qs.flags & DDVM_QF_ZERO_COPY)) : NULL);
	} else {
		char mac[24];
		int rdy = qs.state == DDVM_QS_READY;

		strfmt(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", qs.mac[0], qs.mac[1], qs.mac[2],
		       qs.mac[3], qs.mac[4], qs.mac[5]);
		json_object_object_add(o, "link", json_object_new_boolean(rdy && qs.link_up));
		json_object_object_add(o, "mac", rdy ? JS(mac) : NULL);
		json_object_object_add(o, "mtu", rdy ? JI(qs.mtu) : NULL);
	}
	json_object_object_add(o, "counters", ch && ch->base ? counters_json(ch->base, ex) : NULL);
}

static json_object *export_json(struct vm *vm, unsigned int i)
{
	const struct layout_export *ex = &vm->plan.ex[i];
	const struct dev_config *d = &vm->cfg->devs[ex->dev];
	const struct frontend *f = i < vm->nfe ? &vm->fe[i] : NULL;
	json_object *o = json_object_new_object();
	char buf[PATH_MAX + 64], target[80];
	int disk = ex->kind == DDVM_QK_BLOCK;

	layout_target(vm->cfg, ex->dev, target, sizeof(target));
	json_object_object_add(o, "kind", JS(disk ? "disk" : "nic"));
	json_object_object_add(o, "device", JI(ex->dev + 1));	/* as in config errors */
	json_object_object_add(o, "index", JI(ex->num));
	json_object_object_add(o, "type", JS(dev_type_name(d->type)));
	json_object_object_add(o, "queue", JI(ex->queue));
	json_object_object_add(o, "target", JS(target));
	json_object_object_add(o, "channel", vm_export_chan(vm, ex) ? vm_chan_json(vm_export_chan(vm, ex))
								     : NULL);
	if (disk) {
		char psk[PATH_MAX], user[64];
		int tls = f && fe_tls_psk(f, psk, sizeof(psk), user, sizeof(user));

		if (tls)
			strfmt(buf, sizeof(buf), "nbds+unix://%s@/?socket=%s/disk%u.sock&tls-psk-file=%s", user,
			       vm->dir, ex->num, psk);
		else
			strfmt(buf, sizeof(buf), "nbd+unix:///?socket=%s/disk%u.sock", vm->dir, ex->num);
		json_object_object_add(o, "nbd", JS(buf));
		if (tls)
			strfmt(buf, sizeof(buf), "nbds://%s@127.0.0.1:%u/?tls-psk-file=%s", user,
			       d->nbd_tcp_port, psk);
		else
			strfmt(buf, sizeof(buf), "nbd://127.0.0.1:%u", d->nbd_tcp_port);
		json_object_object_add(o, "nbd_tcp", d->nbd_tcp_port && f && f->listen_fd[1] >= 0 ? JS(buf) : NULL);
	} else {
		json_object_object_add(o, "tap", JS(d->tap));
	}
	json_object_object_add(o, "frontend_pid", f && f->pid > 0 ? JI(f->pid) : NULL);
	json_object_object_add(o, "state", JS(f ? fe_state_str(f->state) : "starting"));
	json_object_object_add(o, "restarts", JI(f ? f->restarts : 0));
	/* given up until the driver VM is ready as a generation after this one */
	json_object_object_add(o, "given_up", json_object_new_boolean(f && f->given_up));
	json_object_object_add(o, "given_up_generation",
			       f && f->given_up ? JI(f->given_up_gen) : NULL);
	json_object_object_add(o, "error", f && f->error[0] ? JS(f->error) : NULL);
	strfmt(buf, sizeof(buf), "%s/%s%u.log", vm->dir, disk ? "disk" : "net", ex->num);
	json_object_object_add(o, "log", JS(buf));
	vm_queue_state_json(o, vm, ex);
	if (!disk) {
		strfmt(buf, sizeof(buf), "%s/net%u.json", vm->dir, ex->num);
		json_object_object_add(o, "stats", read_stats(buf));
	}
	return o;
}

json_object *frontends_status_json(struct vm *vm)
{
	json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < vm->plan.nfront; i++)
		json_object_array_add(a, export_json(vm, i));
	return a;
}
