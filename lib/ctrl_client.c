// SPDX-License-Identifier: MIT
/* libddvm control client.  See include/ddvm/ctrl_client.h.  Freestanding. */
#include "ddvm/ctrl_client.h"

#define CRASH_ID	0xffffffffffffffffull	/* never a ping's id */

static uint64_t now(const struct ddvm_ctrlc *c)
{
	return c->t->ops->now_ns(c->t);
}

int ddvm_ctrlc_open(struct ddvm_ctrlc *c, struct ddvm_transport *t, const struct ddvm_layout *l,
		    uint32_t qi)
{
	*c = (struct ddvm_ctrlc){ .t = t, .qi = qi };
	if (qi >= l->nqueues || l->q[qi].kind != DDVM_QK_CTRL)
		return -DDVM_EINVAL;
	c->q = l->q[qi];
	if (ddvm_ring_bind(&c->req, t->base, l->region_size, c->q.req_ring_off, c->q.nslots) < 0 ||
	    ddvm_ring_bind(&c->resp, t->base, l->region_size, c->q.resp_ring_off, c->q.nslots) < 0)
		return -DDVM_EPROTO;
	/* Continue from the indices as they are: ours are ours, the peer's validated on use. */
	ddvm_prod_resume(&c->req);
	ddvm_cons_resume(&c->resp);
	return 0;
}

/* Push one request and ring the driver VM if it asked.  0 or a code. */
static int send(struct ddvm_ctrlc *c, const struct ddvm_slot *s)
{
	const volatile struct ddvm_region_hdr *h = c->t->base;
	uint16_t g;
	int r = ddvm_prod_push(&c->req, s);

	if (r == DDVM_RING_EFULL)
		return -DDVM_ENOSPC;
	if (r < 0)
		return -DDVM_EPROTO;
	if (!ddvm_prod_publish(&c->req))
		return 0;
	g = ddvm_le16_to_cpu(__atomic_load_n(&h->guest_peer_id, __ATOMIC_ACQUIRE));
	if (g == c->t->self_id || c->t->ops->ring(c->t, g, c->q.req_vector) < 0)
		return -DDVM_ENOENT;
	return 0;
}

int ddvm_ctrlc_ping_send(struct ddvm_ctrlc *c, uint64_t cookie, uint32_t timeout_ms)
{
	struct ddvm_slot s = { 0 };
	int r;

	if (c->id)
		return -DDVM_EAGAIN;
	c->id = ++c->seq;
	if (c->id == CRASH_ID || c->id == 0)
		c->id = c->seq = 1;
	c->cookie = cookie;
	s.id = ddvm_cpu_to_le64(c->id);
	s.op = ddvm_cpu_to_le16(DDVM_OP_PING);
	s.arg0 = ddvm_cpu_to_le64(cookie);
	c->t0 = now(c);
	c->deadline = c->t0 + (uint64_t)timeout_ms * 1000000ull;
	r = send(c, &s);
	if (r < 0)
		c->id = 0;	/* not sent, or nobody to look at it: over */
	return r;
}

int ddvm_ctrlc_crash(struct ddvm_ctrlc *c)
{
	struct ddvm_slot s = { 0 };

	s.id = ddvm_cpu_to_le64(CRASH_ID);
	s.op = ddvm_cpu_to_le16(DDVM_OP_CRASH);
	return send(c, &s);
}

int ddvm_ctrlc_fault(struct ddvm_ctrlc *c, uint32_t fault, uint64_t param)
{
	struct ddvm_slot s = { 0 };

	s.id = ddvm_cpu_to_le64(CRASH_ID);	/* never a ping's: its answer is stale */
	s.op = ddvm_cpu_to_le16(DDVM_OP_FAULT);
	s.arg0 = ddvm_cpu_to_le64(fault);
	s.offset = ddvm_cpu_to_le64(param);
	return send(c, &s);
}

int ddvm_ctrlc_poll(struct ddvm_ctrlc *c, uint64_t *rtt_ns)
{
	uint32_t budget = DDVM_REAP_BUDGET * c->q.nslots;
	struct ddvm_slot s;
	int r, res = 0;

	/*
	 * Drain to empty and arm the doorbell, whatever is found on the way;
	 * at most DDVM_REAP_BUDGET responses per slot, then our own doorbell
	 * brings us back for the rest (a driver VM spinning its producer
	 * index must not hold the caller -- the supervisor's only loop).
	 */
	for (;;) {
		if (budget-- == 0) {
			ddvm_cons_publish(&c->resp);
			(void)c->t->ops->ring(c->t, c->t->self_id, c->q.resp_vector);
			break;
		}
		r = ddvm_cons_pop(&c->resp, &s);
		if (r == DDVM_RING_EEMPTY) {
			if (ddvm_cons_publish(&c->resp)) {
				const volatile struct ddvm_region_hdr *h = c->t->base;

				c->t->ops->ring(c->t, ddvm_le16_to_cpu(h->guest_peer_id),
						c->q.req_vector);
			}
			r = ddvm_cons_want_data(&c->resp);
			if (r > 0)
				continue;
			if (r == 0)
				break;
		}
		if (r < 0) {
			c->id = 0;
			return -DDVM_EPROTO;
		}
		if (!c->id || ddvm_le64_to_cpu(s.id) != c->id) {
			c->stale++;	/* an answer to a crash, or to a ping given up on */
			continue;
		}
		c->id = 0;
		if (ddvm_le32_to_cpu(s.status) != DDVM_S_OK ||
		    ddvm_le16_to_cpu(s.op) != DDVM_OP_PING || ddvm_le64_to_cpu(s.arg0) != c->cookie) {
			c->bad++;
			ddvm_logf(c->t, DDVM_LOG_ERR, "bad ping response (status %u, op %u, cookie %s)",
				  ddvm_le32_to_cpu(s.status), ddvm_le16_to_cpu(s.op),
				  ddvm_le64_to_cpu(s.arg0) == c->cookie ? "ok" : "wrong");
			res = -DDVM_EIO;
			continue;
		}
		*rtt_ns = now(c) - c->t0;
		res = 1;
	}
	if (!res && c->id && now(c) >= c->deadline) {
		c->id = 0;
		return -DDVM_ETIMEDOUT;
	}
	return res;
}

void ddvm_ctrlc_cancel(struct ddvm_ctrlc *c)
{
	c->id = 0;
}

int ddvm_ctrlc_ping(struct ddvm_ctrlc *c, uint32_t timeout_ms, uint64_t *rtt_ns)
{
	int r = ddvm_ctrlc_ping_send(c, now(c) * 0x9e3779b97f4a7c15ull, timeout_ms);

	while (r == 0) {
		r = ddvm_ctrlc_poll(c, rtt_ns);
		if (r == 0 && c->t->ops->wait)
			c->t->ops->wait(c->t, c->q.resp_vector, c->deadline);
	}
	return r == 1 ? 0 : r;
}

void ddvm_ctrlc_guest(const struct ddvm_ctrlc *c, struct ddvm_guest_view *out)
{
	ddvm_guest_read(c->t->base, out);
}
