// SPDX-License-Identifier: MIT
/* libddvm net client.  See include/ddvm/net_client.h.  Freestanding. */
#include "ddvm/net_client.h"

#define TSO_FEATURES	(DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | DDVM_NET_F_TSO_ECN)

/* Ring the request doorbell of the driver VM the header named at the last look. */
static void ring_guest(struct ddvm_netc *c)
{
	int r = -DDVM_ENOENT;

	c->kick = 0;
	if (c->gpeer != c->t->self_id)
		r = c->t->ops->ring(c->t, c->gpeer, c->q.req_vector);
	if (r == 0)
		c->n.doorbells_out++;
	/* The driver VM also polls on its heartbeat, so a lost doorbell only delays. */
	else if (c->ring_misses++ % 1000 == 0)
		ddvm_logf(c->t, DDVM_LOG_DEBUG, "cannot ring driver VM peer %u vector %u", c->gpeer,
			  c->q.req_vector);
}

/*
 * Our peer id in the request ring header: the driver VM rings us there.
 * Written on every look at the state: whoever lays out the region again
 * before a driver-VM start may have cleared it.
 */
static void announce(struct ddvm_netc *c)
{
	__atomic_store_n(&c->req.sh->client_peer_id, ddvm_cpu_to_le32(c->t->self_id),
			 __ATOMIC_RELEASE);
}

/* --- chunks ------------------------------------------------------------------------------ */

static uint64_t chunk_off(const struct ddvm_netc *c, uint32_t k)
{
	return c->q.data_off + (uint64_t)k * c->chunk;
}

static void chunk_put(struct ddvm_netc *c, uint32_t k)
{
	c->pend[k].op = 0;
	c->free_stack[c->nfree++] = k;
}

static int chunk_get(struct ddvm_netc *c, uint32_t *k)
{
	if (c->nfree == 0)
		return -1;
	*k = c->free_stack[--c->nfree];
	return 0;
}

/* A request on chunk k is no longer outstanding (answered or forgotten). */
static void chunk_end(struct ddvm_netc *c, uint32_t k)
{
	if (c->pend[k].op == DDVM_OP_NET_RX)
		c->rx_posted--;
	else
		c->tx_out--;
	chunk_put(c, k);
}

static void mark_broken(struct ddvm_netc *c, const char *ring)
{
	if (!c->broken)
		ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: the driver VM's %s ring index is impossible "
			  "(ring corrupt); stopping this queue until the driver VM restarts", c->qi,
			  ring);
	c->broken = 1;
}

/* --- parameters -------------------------------------------------------------------------- */

static uint32_t cap_chunk(const struct ddvm_netc *c, uint64_t bytes)
{
	return (uint32_t)(bytes < c->chunk ? bytes : c->chunk);
}

uint32_t ddvm_netc_offered(const struct ddvm_netc *c)
{
	uint32_t f = c->published & DDVM_NETC_F_ALL;

	/* A GSO frame must fit one chunk (protocol.md 7c.1, Buffers). */
	if (c->chunk < DDVM_NET_GSO_MAX_FRAME)
		f &= ~(uint32_t)TSO_FEATURES;
	return f;
}

/* Frame limits from the MTU and the offloads in use; for the next requests. */
static void apply(struct ddvm_netc *c)
{
	uint32_t f = ddvm_netc_offered(c) & c->use;
	int tso = (f & DDVM_NET_F_CSUM) && (f & (DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6));

	c->features = f;
	c->max_frame = cap_chunk(c, tso ? DDVM_NET_GSO_MAX_FRAME
					: (uint64_t)c->mtu + DDVM_NET_TX_EXTRA);
	if (f & DDVM_NET_F_RX_OFFLOAD) {
		c->rx_cap = cap_chunk(c, DDVM_NET_GSO_MAX_FRAME);
		c->rx_flags = DDVM_F_NET_OFFLOAD;
	} else {
		c->rx_cap = cap_chunk(c, (uint64_t)c->mtu + DDVM_NET_TX_EXTRA);
		c->rx_flags = 0;
	}
}

/* Take the MTU and features of a READY queue state copy (c->st). */
static void follow(struct ddvm_netc *c)
{
	c->mtu = c->st.mtu;
	c->published = c->st.features;
	apply(c);
}

void ddvm_netc_use(struct ddvm_netc *c, uint32_t features)
{
	c->use = features & DDVM_NETC_F_ALL;
	apply(c);
}

/* --- requests ---------------------------------------------------------------------------- */

/* Push one request for chunk k.  0, -DDVM_ENOSPC (ring full) or -DDVM_EPROTO. */
static int push_req(struct ddvm_netc *c, uint32_t k, uint16_t op, uint32_t len, uint16_t flags,
		    uint64_t arg0)
{
	struct ddvm_slot s = { 0 };
	uint32_t at = c->req.idx;
	int r;

	if (++c->seq == 0)		/* 0 marks "no stale request" */
		c->seq = 1;
	s.id = ddvm_cpu_to_le64(ddvm_net_id(c->seq, k));
	s.op = ddvm_cpu_to_le16(op);
	s.flags = ddvm_cpu_to_le16(flags);
	s.buf_off = ddvm_cpu_to_le64(chunk_off(c, k));
	s.len = ddvm_cpu_to_le32(len);
	s.arg0 = ddvm_cpu_to_le64(arg0);
	r = ddvm_prod_push(&c->req, &s);
	if (r == DDVM_RING_ECORRUPT) {
		mark_broken(c, "request");
		return -DDVM_EPROTO;
	}
	if (r < 0)
		return -DDVM_ENOSPC;
	c->pend[k] = (struct ddvm_net_pending){ .op = op, .flags = flags, .seq = c->seq, .len = len };
	c->ridx[k] = at;
	if (op == DDVM_OP_NET_RX)
		c->rx_posted++;
	else
		c->tx_out++;
	c->pushed = 1;
	return 0;
}

/* Post RX buffers up to the target (parked ones wait for the next tick). */
static void rx_refill(struct ddvm_netc *c)
{
	uint32_t k;

	while (c->serving && !c->broken && c->rx_posted + c->rx_parked < c->rx_target &&
	       chunk_get(c, &k) == 0) {
		if (push_req(c, k, DDVM_OP_NET_RX, c->rx_cap, c->rx_flags, 0) < 0) {
			chunk_put(c, k);
			break;
		}
	}
}

static void publish(struct ddvm_netc *c)
{
	if (!c->pushed)
		return;
	c->pushed = 0;
	c->kick |= ddvm_prod_publish(&c->req);
}

void ddvm_netc_flush(struct ddvm_netc *c)
{
	if (!c->bound)
		return;
	publish(c);
	if (c->kick)
		ring_guest(c);
}

/* --- responses --------------------------------------------------------------------------- */

static void count_bad(struct ddvm_netc *c, uint32_t v, uint32_t why, const struct ddvm_slot *s)
{
	uint64_t n = ++c->n.rx_bad[v];
	uint32_t held;

	if (ddvm_ratelimit(c->t, &c->rl_bad[v], &held))
		ddvm_logf(c->t, DDVM_LOG_WARN, "queue %u: dropped a bad response (%s%s%s: id 0x%llx "
			  "op %u flags 0x%x status %u len %u arg0 0x%llx), %llu so far (%u lines like "
			  "this held back)", c->qi,
			  ddvm_net_resp_str(v), v == DDVM_NET_RESP_BAD_META ? " " : "",
			  v == DDVM_NET_RESP_BAD_META ? ddvm_net_meta_str(why) : "",
			  (unsigned long long)ddvm_le64_to_cpu(s->id), ddvm_le16_to_cpu(s->op),
			  ddvm_le16_to_cpu(s->flags), ddvm_le32_to_cpu(s->status),
			  ddvm_le32_to_cpu(s->len), (unsigned long long)ddvm_le64_to_cpu(s->arg0),
			  (unsigned long long)n, held);
}

/* An answer that matches nothing: one a restart made us forget, or a bad one. */
static void unmatched(struct ddvm_netc *c, const struct ddvm_slot *s)
{
	uint64_t id = ddvm_le64_to_cpu(s->id);
	uint32_t k = (uint32_t)id, seq = (uint32_t)(id >> 32);

	if (k < c->nslots && c->stale[k] != 0 && c->stale[k] == seq) {
		c->stale[k] = 0;		/* a second one is bad */
		c->n.rx_stale++;
		return;
	}
	count_bad(c, DDVM_NET_RESP_BAD_ID, 0, s);
}

/* A checked RX frame in chunk k: to the caller with its metadata. */
static void deliver(struct ddvm_netc *c, uint32_t k, const struct ddvm_net_resp *r)
{
	struct ddvm_net_hdr h;
	const struct ddvm_net_meta *m = &r->meta;

	ddvm_net_slot_to_hdr(m, &h);
	if (!c->rx || c->rx(c->rx_arg, (const volatile uint8_t *)c->t->base + chunk_off(c, k),
			    r->len, &h) < 0) {
		c->n.rx_deliver_error++;
		return;
	}
	c->n.rx_frames++;
	c->n.rx_bytes += r->len;
	c->n.rx_gso += m->gso_type != 0;
	c->n.rx_csum += !!(m->flags & DDVM_F_NET_CSUM);
	c->n.rx_csum_valid += !!(m->flags & DDVM_F_NET_CSUM_VALID);
}

static void handle_resp(struct ddvm_netc *c, const struct ddvm_slot *s)
{
	struct ddvm_net_resp r;
	uint32_t v = ddvm_net_resp_check(s, c->pend, c->nslots, c->q.data_off, c->chunk, c->mtu,
					 &r);

	if (v == DDVM_NET_RESP_BAD_ID) {
		unmatched(c, s);
		return;
	}
	if (v == DDVM_NET_RESP_OK && r.op == DDVM_OP_NET_RX && r.status == DDVM_S_OK) {
		deliver(c, r.chunk, &r);	/* before the chunk can be claimed again */
		chunk_end(c, r.chunk);
		rx_refill(c);		/* the same buffer again: it is on top of the free stack */
		return;
	}
	/* The response ends request r.chunk, whatever else is wrong with it. */
	chunk_end(c, r.chunk);
	if (v != DDVM_NET_RESP_OK) {
		if (v == DDVM_NET_RESP_BAD_META && r.meta_why < DDVM_NET_META_NREASONS)
			c->n.rx_bad_meta[r.meta_why]++;
		count_bad(c, v, r.meta_why, s);
		c->rx_parked += r.op == DDVM_OP_NET_RX;	/* posted again on the next tick */
		return;
	}
	if (r.op == DDVM_OP_NET_TX) {
		if (r.status == DDVM_S_OK) {
			c->n.tx_frames++;
			c->n.tx_bytes += r.len;
		} else if (r.status == DDVM_S_INVAL) {
			c->n.tx_guest_inval++;
		} else {
			c->n.tx_guest_ioerr++;
		}
		return;
	}
	/* An RX buffer given back without a frame (driver VM detaching): no busy repost. */
	c->n.rx_guest_error++;
	c->rx_parked++;
}

/*
 * Take every response, publish what we took and pushed, then ask for a
 * doorbell and look once more (an answer may have come meanwhile).  At
 * most DDVM_REAP_BUDGET responses per slot of the ring per call: a driver
 * VM keeping its producer index moving must not hold us here; the rest is
 * for the next call, which our own doorbell asks for.
 */
static void reap(struct ddvm_netc *c)
{
	uint32_t budget = DDVM_REAP_BUDGET * c->nslots;
	struct ddvm_slot s;
	int r = 0;

	for (;;) {
		while (budget && (r = ddvm_cons_pop(&c->resp, &s)) == 0) {
			budget--;
			handle_resp(c, &s);
		}
		if (!budget) {
			c->kick |= ddvm_cons_publish(&c->resp);
			if (!c->broken) {
				rx_refill(c);
				publish(c);
			}
			(void)c->t->ops->ring(c->t, c->t->self_id, c->q.resp_vector);
			return;
		}
		if (r == DDVM_RING_ECORRUPT)
			break;
		c->kick |= ddvm_cons_publish(&c->resp);
		if (c->broken)
			return;
		rx_refill(c);
		publish(c);
		r = ddvm_cons_want_data(&c->resp);
		if (r <= 0)
			break;
	}
	if (r == DDVM_RING_ECORRUPT)
		mark_broken(c, "response");
}

/* --- which instance serves the queue ----------------------------------------------------- */

/*
 * Generation gen is READY after another served the rings.  What the old
 * instance answered before it died counts (reap); what it took and did not
 * answer is forgotten (TX frames dropped, RX buffers posted again later),
 * and an answer to it, should one still come, counts as stale; what it had
 * not taken stays outstanding for its successor.  Rings broken by the old
 * instance are usable again if the successor reset the impossible indices
 * when it attached.  0, or -DDVM_EAGAIN: look again at the next poll.
 */
static int take_over(struct ddvm_netc *c, const struct ddvm_guest_view *g)
{
	uint32_t gen = g->generation;
	uint32_t k, at = c->req.idx, tx = 0, rx = 0, kept = 0;
	int r;

	c->broken = 0;
	c->req.peer = c->req.idx - c->nslots;	/* re-read the successor's cons ... */
	c->resp.peer = c->resp.idx;		/* ... and prod */
	if (ddvm_prod_space(&c->req) < 0)
		mark_broken(c, "request");
	else if (ddvm_cons_avail(&c->resp) < 0)
		mark_broken(c, "response");
	if (!c->broken)
		reap(c);
	if (!c->broken) {
		r = ddvm_prod_taken(&c->req, gen, g->guest_version, &at);
		if (r == DDVM_RING_EAGAIN)
			return -DDVM_EAGAIN;	/* it has not said where it resumed yet */
		if (r < 0)
			mark_broken(c, "request");
	}
	for (k = 0; k < c->nslots; k++) {
		struct ddvm_net_pending *p = &c->pend[k];

		if (!p->op)
			continue;
		/* Pushed before the boundary: taken by the dead instance (all, if broken). */
		if (!c->broken && c->req.idx - c->ridx[k] <= c->req.idx - at) {
			kept++;
			continue;
		}
		c->stale[k] = p->seq;
		if (p->op == DDVM_OP_NET_TX)
			tx++;
		else
			rx++;
		chunk_end(c, k);
	}
	c->n.tx_restart_dropped += tx;
	c->n.restarts++;
	c->rx_parked = 0;
	ddvm_logf(c->t, DDVM_LOG_INFO, "queue %u: driver VM generation %u took over from "
		  "generation %u: %u TX frames and %u RX buffers the old one had taken are "
		  "forgotten, %u requests go to the new one", c->qi, gen, c->gen, tx, rx, kept);
	c->gen = gen;
	return 0;
}

/*
 * Name what a bogus queue state got wrong, once per generation: a hostile
 * driver VM flipping its MAC must not flood the log.  Serving again in
 * between re-arms it (each transition logs a line anyway).
 */
static void report_bogus(struct ddvm_netc *c, uint32_t gen)
{
	const struct ddvm_queue_state_info *s = &c->st;
	uint32_t why = ddvm_net_params_check(s->mac, s->mtu);
	const uint8_t *m = s->mac;
	char what[96];

	if (c->bogus_gen == gen + 1)	/* +1: generation 0 is logged too */
		return;
	c->bogus_gen = gen + 1;
	if (why == DDVM_NET_PARAMS_MTU)
		ddvm_fmt(what, sizeof(what), "an MTU of %u (not in %u..%u)", s->mtu,
			 DDVM_NET_MTU_MIN, DDVM_NET_MTU_MAX);
	else if (why != DDVM_NET_PARAMS_OK)
		ddvm_fmt(what, sizeof(what), "a %s %02x:%02x:%02x:%02x:%02x:%02x",
			 ddvm_net_params_str(why), m[0], m[1], m[2], m[3], m[4], m[5]);
	else
		ddvm_fmt(what, sizeof(what), "a queue state that does not exist");
	ddvm_logf(c->t, DDVM_LOG_WARN, "queue %u: driver VM generation %u published %s; queue not "
		  "served (link down) until a driver VM publishes usable parameters", c->qi, gen,
		  what);
}

static int queue_bogus(const struct ddvm_queue_state_info *s)
{
	return s->state == DDVM_QS_ERROR && s->error == DDVM_QE_BOGUS;
}

/* The queue is served from now on: parameters, RX buffers, a line in the log. */
static void start_serving(struct ddvm_netc *c)
{
	uint32_t held;

	c->serving = 1;
	c->bogus_gen = 0;
	c->rx_parked = 0;
	follow(c);
	rx_refill(c);
	publish(c);
	if (ddvm_ratelimit(c->t, &c->rl_state, &held))
		ddvm_logf(c->t, DDVM_LOG_INFO, "queue %u ready (driver VM peer %u, generation %u, mtu %u)%s",
			  c->qi, c->gpeer, c->gen, c->mtu, held ? " (state lines held back before this)" : "");
}

/*
 * Follow the driver VM: generation, guest and queue state, link, MTU,
 * features.  A new generation stops serving until it is READY and has
 * taken over (take_over); impossible parameters stop it until a driver VM
 * publishes usable ones.
 */
static void check_state(struct ddvm_netc *c)
{
	struct ddvm_guest_view g;
	uint32_t gen, gstate, held;
	int ok;

	ddvm_guest_read(c->t->base, &g);
	ddvm_queue_state_read(c->t->base, &c->lay, c->qi, &c->st);
	announce(c);
	if (c->broken) {		/* until a successor has attached to them */
		ddvm_prod_restore(&c->req);
		ddvm_cons_restore(&c->resp);
	}
	gen = g.generation;
	gstate = g.state;
	c->gpeer = g.peer_id;
	if (gen != c->seen_gen) {
		ddvm_logf(c->t, DDVM_LOG_INFO, "queue %u: driver VM generation %u -> %u (restart): "
			  "%u RX buffers and %u TX frames in flight", c->qi, c->seen_gen, gen,
			  c->rx_posted, c->tx_out);
		c->seen_gen = gen;
	}
	if (gen != c->gen)
		c->serving = 0;
	ok = gstate == DDVM_GUEST_READY && c->st.state == DDVM_QS_READY;
	if (ok && !c->serving) {
		if (gen != c->gen && take_over(c, &g) < 0)
			return;
		start_serving(c);
	} else if (!ok && c->serving) {
		c->serving = 0;
		if (!queue_bogus(&c->st) && ddvm_ratelimit(c->t, &c->rl_state, &held))	/* else report_bogus */
			ddvm_logf(c->t, DDVM_LOG_WARN, "queue %u not ready: driver VM %s, queue state "
				  "%u error %u%s", c->qi, ddvm_guest_state_str(gstate), c->st.state,
				  c->st.error, held ? " (state lines held back before this)" : "");
	}
	if (!ok && gstate == DDVM_GUEST_READY && queue_bogus(&c->st))
		report_bogus(c, gen);
	if (c->serving)
		follow(c);
}

int ddvm_netc_poll(struct ddvm_netc *c)
{
	if (!c->bound)
		return 0;
	check_state(c);
	if (c->serving && !c->broken)
		reap(c);
	ddvm_netc_flush(c);
	return c->broken ? -DDVM_EPROTO : 0;
}

int ddvm_netc_tick(struct ddvm_netc *c)
{
	c->rx_parked = 0;
	return ddvm_netc_poll(c);
}

/* --- TX ---------------------------------------------------------------------------------- */

int ddvm_netc_tx_claim(struct ddvm_netc *c)
{
	uint32_t k;

	if (!c->bound || !c->serving || c->broken)
		return -DDVM_ENODEV;
	if (c->tx_out + c->tx_claimed + c->rx_target >= c->nslots || chunk_get(c, &k) < 0)
		return -DDVM_EAGAIN;
	c->claimed[k] = 1;
	c->tx_claimed++;
	return (int)k;
}

volatile void *ddvm_netc_tx_buf(const struct ddvm_netc *c, uint32_t k)
{
	return (volatile uint8_t *)c->t->base + chunk_off(c, k);
}

uint32_t ddvm_netc_tx_max(const struct ddvm_netc *c)
{
	return c->max_frame;
}

uint32_t ddvm_netc_tx_room(const struct ddvm_netc *c)
{
	uint32_t busy = c->tx_out + c->tx_claimed + c->rx_target;

	if (!c->bound || !c->serving || c->broken || busy >= c->nslots)
		return 0;
	return c->nslots - busy < c->nfree ? c->nslots - busy : c->nfree;
}

void ddvm_netc_tx_abort(struct ddvm_netc *c, uint32_t k)
{
	if (!c->bound || k >= c->nslots || !c->claimed[k])
		return;
	c->claimed[k] = 0;
	c->tx_claimed--;
	chunk_put(c, k);
}

void ddvm_netc_tx_dropped(struct ddvm_netc *c, int err)
{
	if (err == -DDVM_EAGAIN)
		c->n.tx_ring_full++;
	else
		c->n.tx_not_ready++;
}

int ddvm_netc_tx_submit(struct ddvm_netc *c, uint32_t k, uint32_t len,
			const struct ddvm_net_hdr *h)
{
	uint16_t flags = 0;
	uint64_t arg0 = 0;
	int r = -DDVM_EINVAL;

	if (!c->bound || k >= c->nslots || !c->claimed[k])
		return -DDVM_EINVAL;
	c->claimed[k] = 0;
	c->tx_claimed--;
	if (len < DDVM_NET_ETH_MIN) {
		c->n.tx_runt++;
	} else if (len > c->max_frame ||
		   ((!h || h->gso_type == DDVM_VNET_HDR_GSO_NONE) &&
		    len > (uint64_t)c->mtu + DDVM_NET_TX_EXTRA)) {
		c->n.tx_oversize++;	/* never truncated */
	} else if (h && ddvm_net_hdr_to_slot(h, len, c->mtu, c->features, DDVM_NET_META_TX, &flags,
					     &arg0) != DDVM_NET_META_OK) {
		c->n.tx_bad_meta++;
	} else if (!c->serving || c->broken) {
		c->n.tx_not_ready++;	/* a restart or a broken ring since the claim */
		r = -DDVM_ENODEV;
	} else {
		r = push_req(c, k, DDVM_OP_NET_TX, len, flags, arg0);
		if (r == 0) {
			c->n.tx_gso += !!(flags & DDVM_F_NET_GSO_MASK);
			c->n.tx_csum += !!(flags & DDVM_F_NET_CSUM);
			return 0;
		}
		c->n.tx_ring_full += r == -DDVM_ENOSPC;
	}
	chunk_put(c, k);
	return r;
}

/* --- setting up -------------------------------------------------------------------------- */

int ddvm_netc_open(struct ddvm_netc *c, struct ddvm_transport *t, int queue, int nic)
{
	return ddvm_netc_open_layout(c, t, 0, queue, nic);
}

int ddvm_netc_open_layout(struct ddvm_netc *c, struct ddvm_transport *t,
			  const struct ddvm_layout *lay, int queue, int nic)
{
	int found;

	*c = (struct ddvm_netc){ 0 };
	c->t = t;
	found = ddvm_channel_queue(t, lay, DDVM_QK_NET, queue, nic, &c->lay);
	if (found < 0)
		return found;
	c->qi = (uint32_t)found;
	c->q = c->lay.q[found];
	c->nslots = c->q.nslots;
	c->chunk = ddvm_net_chunk(c->q.data_size, c->nslots);
	if (c->chunk < DDVM_NET_CHUNK_ALIGN || c->nslots < 2) {
		ddvm_logf(t, DDVM_LOG_ERR, "queue %u: data area of %llu bytes too small for %u "
			  "buffers", c->qi, (unsigned long long)c->q.data_size, c->nslots);
		return -DDVM_EPROTO;
	}
	if (ddvm_ring_bind(&c->req, t->base, c->lay.region_size, c->q.req_ring_off,
			   c->nslots) < 0 ||
	    ddvm_ring_bind(&c->resp, t->base, c->lay.region_size, c->q.resp_ring_off,
			   c->nslots) < 0)
		return -DDVM_EPROTO;	/* cannot happen: the layout was validated */
	c->rx_target = c->nslots / 2;
	announce(c);
	return 0;
}

/* Per chunk: pend, ridx, stale, free_stack, claimed (the 4-aligned arrays first). */
#define PER_CHUNK (sizeof(struct ddvm_net_pending) + 3 * sizeof(uint32_t) + sizeof(uint8_t))

uint64_t ddvm_netc_mem_bytes(const struct ddvm_netc *c)
{
	return ((uint64_t)c->nslots * PER_CHUNK + 7) & ~7ull;
}

/* Lay out the per-chunk arrays in mem, every chunk free. */
static void lay_out(struct ddvm_netc *c, uint8_t *m)
{
	uint32_t k, n = c->nslots;

	c->pend = (struct ddvm_net_pending *)m;
	m += n * sizeof(*c->pend);
	c->ridx = (uint32_t *)m;
	m += n * sizeof(uint32_t);
	c->stale = (uint32_t *)m;
	m += n * sizeof(uint32_t);
	c->free_stack = (uint32_t *)m;
	m += n * sizeof(uint32_t);
	c->claimed = m;
	c->nfree = 0;
	for (k = n; k-- > 0;) {
		c->ridx[k] = c->stale[k] = 0;
		c->claimed[k] = 0;
		chunk_put(c, k);
	}
}

int ddvm_netc_ready(struct ddvm_netc *c, void *mem, uint64_t mem_bytes, uint32_t seed,
		    ddvm_netc_rx_fn *rx, void *rx_arg)
{
	struct ddvm_guest_view g;
	uint32_t gen, gstate;

	if (c->bound)
		return 0;
	ddvm_guest_read(c->t->base, &g);
	gen = c->seen_gen = g.generation;
	gstate = g.state;
	c->gpeer = g.peer_id;
	announce(c);
	ddvm_queue_state_read(c->t->base, &c->lay, c->qi, &c->st);
	if (gstate == DDVM_GUEST_READY && queue_bogus(&c->st)) {
		report_bogus(c, gen);
		return -DDVM_EAGAIN;
	}
	if (gstate != DDVM_GUEST_READY || c->st.state != DDVM_QS_READY)
		return -DDVM_EAGAIN;
	if (!mem || mem_bytes < ddvm_netc_mem_bytes(c) || ((__UINTPTR_TYPE__)mem & 7))
		return -DDVM_ENOMEM;
	lay_out(c, mem);
	/* Continue from whatever an earlier client of the queue left behind. */
	ddvm_prod_resume(&c->req);
	ddvm_cons_resume(&c->resp);
	c->seq = seed;
	c->rx = rx;
	c->rx_arg = rx_arg;
	c->gen = gen;
	c->bound = 1;
	ddvm_logf(c->t, DDVM_LOG_DEBUG, "peer %u, queue %u (%s): %u chunks of %llu bytes",
		  c->t->self_id, c->qi, c->st.dev_name, c->nslots, (unsigned long long)c->chunk);
	start_serving(c);
	ddvm_netc_flush(c);
	return 0;
}

void ddvm_netc_stats(const struct ddvm_netc *c, struct ddvm_netc_stats *out)
{
	*out = c->n;
	out->generation = c->seen_gen;
	out->mtu = c->mtu;
	out->features = c->features;
	out->rx_posted = c->rx_posted;
	out->tx_in_flight = c->tx_out;
	out->serving = c->serving;
	out->broken = c->broken;
	out->link_up = c->serving && c->st.link_up;
}
