// SPDX-License-Identifier: MIT
/* libddvm block client.  See include/ddvm/blk_client.h.  Freestanding. */
#include "ddvm/blk_client.h"
#include "ddvm/channel.h"

#define NONE		0xffffffffu
#define NO_DEADLINE	0xffffffffffffffffull

/*
 * Slot states.  FREE -> CLAIMED (claim) -> WAIT (submit: in the wait list)
 * -> BUSY (pushed, or a suspect waiting for its turn) -> DONE (done called)
 * -> FREE (release).  A BUSY request past its deadline becomes LOST: done
 * was called with -EIO but the ring still holds it, so the chunk is not
 * reused; the caller's release turns LOST into ORPHAN, and the answer (or the
 * driver VM's death) frees it.  A late answer to a LOST slot makes it DONE.
 */
enum { S_FREE, S_CLAIMED, S_WAIT, S_BUSY, S_DONE, S_LOST, S_ORPHAN };

static uint64_t now(const struct ddvm_blkc *c)
{
	return c->t->ops->now_ns(c->t);
}

static int in_ring(const struct ddvm_blkc_slot *s)
{
	return (s->state == S_BUSY && !s->squeued) || s->state == S_LOST || s->state == S_ORPHAN;
}

void ddvm_copy_to_region(volatile void *dst, const void *src, uint64_t n)
{
	volatile uint8_t *d = dst;
	const uint8_t *s = src;
	uint64_t i = 0;

	if ((((__UINTPTR_TYPE__)d | (__UINTPTR_TYPE__)s) & 7) == 0)
		for (; i + 8 <= n; i += 8)
			*(volatile uint64_t *)(d + i) = *(const uint64_t *)(s + i);
	for (; i < n; i++)
		d[i] = s[i];
}

void ddvm_copy_from_region(void *dst, const volatile void *src, uint64_t n)
{
	uint8_t *d = dst;
	const volatile uint8_t *s = src;
	uint64_t i = 0;

	if ((((__UINTPTR_TYPE__)d | (__UINTPTR_TYPE__)s) & 7) == 0)
		for (; i + 8 <= n; i += 8)
			*(uint64_t *)(d + i) = *(const volatile uint64_t *)(s + i);
	for (; i < n; i++)
		d[i] = s[i];
}

static uint16_t guest_peer(const struct ddvm_blkc *c)
{
	const volatile struct ddvm_region_hdr *h = c->t->base;

	return ddvm_le16_to_cpu(__atomic_load_n(&h->guest_peer_id, __ATOMIC_ACQUIRE));
}

static uint32_t guest_gen(const struct ddvm_blkc *c)
{
	const volatile struct ddvm_region_hdr *h = c->t->base;

	return ddvm_le32_to_cpu(__atomic_load_n(&h->generation, __ATOMIC_ACQUIRE));
}

void ddvm_blkc_ring(const struct ddvm_blkc *c)
{
	uint16_t g = guest_peer(c);

	/* A lost doorbell only delays: the driver VM also polls on its heartbeat. */
	if (g != c->t->self_id)
		(void)c->t->ops->ring(c->t, g, c->q.req_vector);
}

/* Ring the driver VM's request doorbell now, or leave it to the caller (defer_ring). */
static void ring_guest(struct ddvm_blkc *c)
{
	if (c->defer_ring)
		return;			/* c->kick stays set: ddvm_blkc_take_kick */
	c->kick = 0;
	ddvm_blkc_ring(c);
}

int ddvm_blkc_take_kick(struct ddvm_blkc *c)
{
	int k = c->kick;

	c->kick = 0;
	return k;
}

/* Tell the caller; the slot ends in state `final` (DONE, or LOST if the ring holds it). */
static void complete_as(struct ddvm_blkc *c, uint32_t k, int result, uint8_t final)
{
	struct ddvm_blkc_slot *s = &c->slots[k];

	s->state = final;
	s->result = result;
	s->suspect = s->squeued = 0;
	if (c->done)
		c->done(c->done_arg, k, s->cookie, result);
}

static void complete(struct ddvm_blkc *c, uint32_t k, int result)
{
	complete_as(c, k, result, S_DONE);
}

static void slot_free(struct ddvm_blkc *c, uint32_t k)
{
	struct ddvm_blkc_slot *s = &c->slots[k];

	s->state = S_FREE;
	s->suspect = s->squeued = 0;
	s->deadline = NO_DEADLINE;
	c->free_stack[c->nfree++] = k;
}

/*
 * A quarantined request (LOST: the caller was told at its deadline) will not
 * be answered any more, or just was: its chunk is free again.  Freed now if
 * the caller released it (ORPHAN), else at the caller's release (DONE).
 * Returns 1 if k was such a slot.
 */
static int lost_over(struct ddvm_blkc *c, uint32_t k)
{
	struct ddvm_blkc_slot *s = &c->slots[k];

	if (s->state == S_ORPHAN)
		slot_free(c, k);
	else if (s->state == S_LOST)
		s->state = S_DONE;
	else
		return 0;
	return 1;
}

static void wait_unlink(struct ddvm_blkc *c, uint32_t k)
{
	struct ddvm_blkc_slot *s = &c->slots[k];

	if (s->prev == NONE)
		c->wait_head = s->next;
	else
		c->slots[s->prev].next = s->next;
	if (s->next == NONE)
		c->wait_tail = s->prev;
	else
		c->slots[s->next].prev = s->prev;
	s->prev = s->next = NONE;
}

static void deadline_note(struct ddvm_blkc *c, uint64_t d)
{
	if (d < c->next_deadline)
		c->next_deadline = d;
}

/* The ring request for slot k as recorded: id, op, flags, offset, its chunk, len. */
static void slot_request(const struct ddvm_blkc *c, uint32_t k, struct ddvm_slot *rq)
{
	const struct ddvm_blkc_slot *s = &c->slots[k];

	*rq = (struct ddvm_slot){ 0 };
	rq->id = ddvm_cpu_to_le64(ddvm_blk_id(c->tag, s->seq, (uint16_t)k));
	rq->op = ddvm_cpu_to_le16(s->op);
	rq->flags = ddvm_cpu_to_le16(s->flags);
	rq->offset = ddvm_cpu_to_le64(s->offset);
	if (s->op == DDVM_OP_READ || s->op == DDVM_OP_WRITE)
		rq->buf_off = ddvm_cpu_to_le64(c->q.data_off + (uint64_t)k * c->chunk);
	rq->len = ddvm_cpu_to_le32(s->len);
}

/*
 * A ring index the driver VM published is impossible.  Fail what it holds
 * (nothing of it can be trusted to be answered; the slots stay quarantined,
 * as their requests may still be in the ring) and push nothing more until
 * another instance serves the queue (check_instance, unbreak); requests
 * waiting their turn stay queued for that instance, up to their deadline.
 */
/*
 * Put our own indices back where we know they are (request prod, response
 * cons; everything taken published first): whoever scribbled over them, a
 * successor attaching then finds its side impossible against ours and
 * resets it, so the rings heal.
 */
static void restore_own_indices(struct ddvm_blkc *c)
{
	(void)ddvm_prod_publish(&c->req);
	(void)ddvm_cons_publish(&c->resp);
	ddvm_prod_restore(&c->req);
	ddvm_cons_restore(&c->resp);
}

static void break_rings(struct ddvm_blkc *c, const char *which)
{
	uint32_t k;

	if (c->broken)
		return;
	c->broken = 1;
	c->broken_gen = guest_gen(c);
	ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: the driver VM (generation %u) published an "
		  "impossible %s ring index; failing the requests it holds and waiting for a "
		  "restarted driver VM", c->qi, c->broken_gen, which);
	for (k = 0; k < c->nslots; k++) {
		struct ddvm_blkc_slot *s = &c->slots[k];

		if (s->state == S_BUSY)
			complete_as(c, k, -DDVM_EIO, s->squeued ? S_DONE : S_LOST);
	}
	c->serial = 0;
}

/* Push slot k's request (again): same id, chunk and data.  0 or ring error. */
static int push_slot(struct ddvm_blkc *c, uint32_t k)
{
	struct ddvm_slot rq;
	uint32_t idx = c->req.idx;
	int r;

	slot_request(c, k, &rq);
	r = ddvm_prod_push(&c->req, &rq);
	if (r == 0)
		c->slots[k].ridx = idx;
	return r;
}

/*
 * Suspects: requests a driver VM died holding.  They go to its successor one
 * at a time, each only once nothing else is in the ring, and new requests
 * wait until every suspect is answered; so if a successor dies too holding a
 * suspect, it held nothing else, and that request is what kills the driver
 * (a poison pill): resubmit_taken fails it instead of handing it to every
 * successor in turn.  The state lives in the slots; this recounts it and
 * pushes the next suspect if none is in the ring.
 */
static void suspect_next(struct ddvm_blkc *c)
{
	uint32_t k, n, best, others;
	int out;

	for (;;) {
		n = others = 0;
		out = 0;
		best = NONE;
		for (k = 0; k < c->nslots; k++) {
			struct ddvm_blkc_slot *s = &c->slots[k];

			if (!s->suspect) {
				others += in_ring(s);
				continue;
			}
			n++;
			if (!s->squeued)
				out = 1;
			else if (best == NONE || s->susno < c->slots[best].susno)
				best = k;
		}
		c->serial = n;
		if (out || others || best == NONE || c->broken)
			return;
		c->slots[best].squeued = 0;
		if (push_slot(c, best) < 0) {	/* cannot happen: suspects own ring entries */
			break_rings(c, "request");
			return;
		}
		c->kick |= ddvm_prod_publish(&c->req);
		return;
	}
}

/* Push waiting requests in order while the ring has room and no suspect goes first. */
static void push_waiting(struct ddvm_blkc *c)
{
	int pushed = 0, r;

	while (c->wait_head != NONE && !c->serial && !c->broken) {
		uint32_t k = c->wait_head;

		r = push_slot(c, k);
		if (r == DDVM_RING_EFULL) {
			r = ddvm_prod_want_space(&c->req);
			if (r > 0)
				continue;
			if (r == 0)
				break;		/* the driver VM rings us when it takes some */
		}
		if (r < 0) {
			break_rings(c, "request");
			break;
		}
		wait_unlink(c, k);
		c->slots[k].state = S_BUSY;
		pushed = 1;
	}
	if (pushed)
		c->kick |= ddvm_prod_publish(&c->req);
}

/* One response, already copied out of the ring. */
static void handle_response(struct ddvm_blkc *c, const struct ddvm_slot *r)
{
	uint64_t id = ddvm_le64_to_cpu(r->id);
	uint32_t k = (uint32_t)(id & 0xffff), st = 0, verdict;
	struct ddvm_blkc_slot *s = k < c->nslots ? &c->slots[k] : 0;

	/* The shared check reads only the entry the id names: refresh that one. */
	if (s)
		c->pend[k] = (struct ddvm_blk_pending){ .seq = s->seq, .len = s->len, .op = s->op,
			.waiting = in_ring(s) };
	verdict = (uint32_t)ddvm_blk_resp_check(r, c->tag, c->pend, c->nslots, &k, &st);
	if (verdict == DDVM_BLK_RESP_STALE) {
		uint32_t held;

		c->n_stale++;
		if (ddvm_ratelimit(c->t, &c->rl_stale, &held))
			ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: dropping a response with an unknown, "
				  "stale or duplicate id 0x%016llx (%llu dropped so far; %u lines like "
				  "this held back)", c->qi, (unsigned long long)id,
				  (unsigned long long)c->n_stale, held);
		return;
	}
	s = &c->slots[k];
	if (lost_over(c, k)) {	/* answered after its deadline */
		ddvm_logf(c->t, DDVM_LOG_WARN, "queue %u: late response for id 0x%016llx; slot %u "
			  "usable again", c->qi, (unsigned long long)id, k);
		return;
	}
	if (verdict == DDVM_BLK_RESP_BAD) {
		uint32_t held;

		c->n_bad++;
		if (ddvm_ratelimit(c->t, &c->rl_bad, &held))
			ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: bad response for %s of %u bytes at "
				  "%llu (id 0x%016llx): op %u len %u status %u; failing that request "
				  "with EIO (%u lines like this held back)", c->qi, ddvm_op_str(s->op),
				  s->len, (unsigned long long)s->offset, (unsigned long long)id,
				  ddvm_le16_to_cpu(r->op), ddvm_le32_to_cpu(r->len),
				  ddvm_le32_to_cpu(r->status), held);
		complete(c, k, -DDVM_EIO);
		return;
	}
	switch (st) {
	case DDVM_S_OK: complete(c, k, 0); return;
	case DDVM_S_NOTSUPP: complete(c, k, -DDVM_EOPNOTSUPP); break;
	case DDVM_S_NOSPC: complete(c, k, -DDVM_ENOSPC); break;
	case DDVM_S_INVAL:
	case DDVM_S_RANGE: complete(c, k, -DDVM_EINVAL); break;
	default: complete(c, k, -DDVM_EIO); break;
	}
	ddvm_logf(c->t, DDVM_LOG_DEBUG, "queue %u: %s of %u bytes at %llu: %s", c->qi,
		  ddvm_op_str(s->op), s->len, (unsigned long long)s->offset, ddvm_status_str(st));
}

/*
 * Take the responses waiting, at most DDVM_REAP_BUDGET per slot of the ring
 * (a driver VM keeping its producer index moving must not hold us here):
 * then publish what was taken and ring our own doorbell for the rest.
 */
static void reap(struct ddvm_blkc *c)
{
	uint32_t budget = DDVM_REAP_BUDGET * c->nslots;
	struct ddvm_slot r;
	int n;

	while (!c->broken) {
		if (budget-- == 0) {
			c->kick |= ddvm_cons_publish(&c->resp);
			(void)c->t->ops->ring(c->t, c->t->self_id, c->q.resp_vector);
			break;
		}
		n = ddvm_cons_pop(&c->resp, &r);
		if (n == 0) {
			handle_response(c, &r);
			continue;
		}
		if (n == DDVM_RING_EEMPTY) {
			c->kick |= ddvm_cons_publish(&c->resp);
			n = ddvm_cons_want_data(&c->resp);
			if (n > 0)
				continue;
			if (n == 0)
				break;
		}
		break_rings(c, "response");
	}
}

/*
 * Where do the requests the dead instance(s) took end (ddvm_prod_taken)?
 * With no successor attached yet (the header's generation is the one we
 * tracked), at the live cons; else at the cons the successor resumed from.
 * 0 with *at, -DDVM_EAGAIN (the successor has not said yet) or -DDVM_EPROTO.
 */
static int taken_boundary(struct ddvm_blkc *c, uint32_t gen, uint32_t *at)
{
	const volatile struct ddvm_region_hdr *h = c->t->base;
	uint32_t ver = ddvm_le32_to_cpu(__atomic_load_n(&h->guest_version, __ATOMIC_ACQUIRE));
	int r = ddvm_prod_taken(&c->req, gen != c->gen ? gen : 0, ver, at);

	return r == 0 ? 0 : r == DDVM_RING_EAGAIN ? -DDVM_EAGAIN : -DDVM_EPROTO;
}

/* Did the dead instance take slot s's request (pushed before index `at`) and not answer it? */
static int held_by_dead(const struct ddvm_blkc *c, const struct ddvm_blkc_slot *s, uint32_t at)
{
	return in_ring(s) && c->req.idx - s->ridx > c->req.idx - at;
}

/*
 * The driver VM serving the queue is gone: a successor resumes from the
 * shared request cons (docs/protocol.md 7b).  Requests before the boundary
 * were taken by the dead instance; those unanswered become suspects and go
 * again, same id and chunk (write data is still there), one at a time
 * (suspect_next).  A suspect that the dead instance held and nothing else
 * is failed: it crashed two driver VMs.  Timed-out ones it took are freed.
 */
static void resubmit_taken(struct ddvm_blkc *c, uint16_t gone, uint32_t at)
{
	uint32_t k, n = 0, freed = 0, failed = 0, nheld = 0;

	c->n_restarts++;
	for (k = 0; k < c->nslots; k++)
		nheld += held_by_dead(c, &c->slots[k], at) && c->slots[k].state == S_BUSY;
	for (k = 0; k < c->nslots; k++) {
		struct ddvm_blkc_slot *s = &c->slots[k];

		if (!held_by_dead(c, s, at))
			continue;		/* not taken: the successor serves it */
		if (lost_over(c, k)) {
			freed++;
			continue;
		}
		if (s->suspect && nheld == 1) {
			ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: %s of %u bytes at %llu crashed the "
				  "driver VM: two driver VMs died holding it, the second holding "
				  "nothing else; failing it with EIO instead of handing it to another",
				  c->qi, ddvm_op_str(s->op), s->len, (unsigned long long)s->offset);
			c->n_poisoned++;
			complete(c, k, -DDVM_EIO);
			failed++;
			continue;
		}
		s->suspect = s->squeued = 1;
		s->susno = c->sus_seq++;
		n++;
	}
	c->n_resubmitted += n;
	if (n || freed || failed)
		ddvm_logf(c->t, DDVM_LOG_WARN, "queue %u: driver VM (peer %u) left holding %u "
			  "unanswered requests: %u resubmitted to its successor one at a time, %u "
			  "failed, %u timed-out slots freed", c->qi, gone, n + failed + freed, n,
			  failed, freed);
	suspect_next(c);
}

/*
 * Rings broken by an instance that is gone, and a successor READY: the
 * driver VM resets an impossible index of its own when it attaches (its cons
 * of the request ring to our prod, its prod of the response ring to our
 * cons).  Quarantined requests the dead instance took are freed; those
 * after the boundary the successor answers.  0, or -1 not yet.
 */
static int unbreak(struct ddvm_blkc *c, uint32_t gen)
{
	uint32_t k, at, freed = 0;

	c->req.peer = c->req.idx - c->req.nslots;	/* re-read cons on the next push */
	c->resp.peer = c->resp.idx;			/* re-read prod on the next pop */
	if (taken_boundary(c, gen, &at) < 0 || ddvm_prod_space(&c->req) < 0 ||
	    ddvm_cons_avail(&c->resp) < 0) {
		/* It may not have reset them yet: look again at the next poll. */
		if (c->unbreak_gen != gen + 1)
			ddvm_logf(c->t, DDVM_LOG_WARN, "queue %u: driver VM generation %u is READY "
				  "but the ring indices are still impossible", c->qi, gen);
		c->unbreak_gen = gen + 1;
		return -1;
	}
	for (k = 0; k < c->nslots; k++)		/* all it held was quarantined */
		if (held_by_dead(c, &c->slots[k], at))
			freed += (uint32_t)lost_over(c, k);
	c->broken = 0;
	c->dead_pending = 0;
	ddvm_logf(c->t, DDVM_LOG_INFO, "queue %u: driver VM generation %u serves the queue again "
		  "after generation %u broke its rings (%u quarantined slots freed)", c->qi, gen,
		  c->broken_gen, freed);
	return 0;
}

/*
 * Which instance serves the queue?  The transport tells us when a peer
 * leaves the channel (its QEMU died); the header names the instance's peer
 * id (possibly one that left before we ever saw it: it died moments after
 * attaching, and what it took is held all the same).  Peer ids are not
 * reused soon (the server counts up), so each is handled once.  A new
 * generation whose predecessor's departure we did not see (a transport
 * without peer_present, or a departure missed) stands for one.
 */
static void check_instance(struct ddvm_blkc *c)
{
	uint16_t g = guest_peer(c);
	uint32_t gen = guest_gen(c), at;
	int (*present)(struct ddvm_transport *, uint16_t) = c->t->ops->peer_present;
	int r;

	if (present && c->gpeer_valid && present(c->t, c->gpeer) == 0) {
		c->gpeer_valid = 0;
		c->gone = c->gpeer;
		c->dead_pending = 1;
	}
	/* The header's peer, unless it is the one just found present. */
	if (present && g != c->t->self_id && g != 0 &&	/* 0: the supervisor's id */
	    !(c->gpeer_valid && g == c->gpeer)) {
		r = present(c->t, g);
		if (r == 1) {
			c->gpeer = g;
			c->gpeer_valid = 1;
		} else if (r == 0 && !c->gpeer_valid && g != c->gone) {
			c->gone = g;
			c->dead_pending = 1;
		}
	}
	if (gen != c->gen && !c->dead_handled)
		c->dead_pending = 1;
	if (c->broken) {
		struct ddvm_queue_state_info st;

		restore_own_indices(c);	/* until a successor has attached to them */
		if (gen == c->broken_gen)
			return;
		ddvm_queue_state_read(c->t->base, &c->lay, c->qi, &st);
		if (st.state != DDVM_QS_READY || unbreak(c, gen) < 0)
			return;
	} else if (c->dead_pending) {
		r = taken_boundary(c, gen, &at);
		if (r == -DDVM_EAGAIN)
			return;		/* the successor has not said where it starts yet */
		if (r < 0) {
			break_rings(c, "request");
			return;
		}
		reap(c);		/* what it answered before dying counts */
		if (c->broken)
			return;
		resubmit_taken(c, c->gone, at);
		c->dead_pending = 0;
		c->dead_handled = 1;
	}
	if (gen != c->gen) {
		c->gen = gen;
		c->dead_handled = 0;
	}
}

/* Fail or quarantine what is past its deadline. */
static void expire(struct ddvm_blkc *c, uint64_t t)
{
	unsigned long long secs = c->timeout_ns / 1000000000ull;
	uint32_t k;

	c->next_deadline = NO_DEADLINE;
	for (k = 0; k < c->nslots; k++) {
		struct ddvm_blkc_slot *s = &c->slots[k];

		if (s->state != S_WAIT && s->state != S_BUSY)
			continue;
		if (s->deadline > t) {
			deadline_note(c, s->deadline);
			continue;
		}
		c->n_timeouts++;
		if (s->state == S_WAIT) {
			wait_unlink(c, k);
			ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: %s of %u bytes at %llu could not be "
				  "sent in %llus (%s); failing it with EIO", c->qi, ddvm_op_str(s->op),
				  s->len, (unsigned long long)s->offset, secs,
				  c->broken ? "no healthy driver VM" : "request ring full");
			complete(c, k, -DDVM_EIO);
			continue;
		}
		ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: %s of %u bytes at %llu not answered in "
			  "%llus; failing it with EIO (slot %u %s)", c->qi, ddvm_op_str(s->op), s->len,
			  (unsigned long long)s->offset, secs, k,
			  s->squeued ? "released: it was waiting for its turn after a crash"
				     : "quarantined");
		/* A suspect waiting its turn is not in the ring: nothing will answer it. */
		complete_as(c, k, -DDVM_EIO, s->squeued ? S_DONE : S_LOST);
	}
	suspect_next(c);
}

void ddvm_blkc_poll(struct ddvm_blkc *c)
{
	uint64_t t;

	if (!c->ready)
		return;
	check_instance(c);
	reap(c);
	if (c->serial)
		suspect_next(c);
	push_waiting(c);
	t = now(c);
	if (t >= c->next_deadline)
		expire(c, t);
	push_waiting(c);		/* an expired suspect may let others go */
	if (c->kick)
		ring_guest(c);
}

uint64_t ddvm_blkc_next_deadline(const struct ddvm_blkc *c)
{
	return c->next_deadline;
}

int ddvm_blkc_claim(struct ddvm_blkc *c)
{
	uint32_t k;

	if (!c->ready || !c->nfree)
		return -DDVM_EAGAIN;
	k = c->free_stack[--c->nfree];
	c->slots[k].state = S_CLAIMED;
	c->slots[k].cookie = 0;
	return (int)k;
}

volatile void *ddvm_blkc_buf(const struct ddvm_blkc *c, uint32_t k)
{
	return (volatile uint8_t *)c->t->base + c->q.data_off + (uint64_t)k * c->chunk;
}

int ddvm_blkc_submit(struct ddvm_blkc *c, uint32_t k, uint16_t op, uint16_t flags, uint64_t off,
		     uint32_t len, void *cookie)
{
	struct ddvm_blkc_slot *s;
	uint32_t lbs = c->st.logical_block_size;

	if (k >= c->nslots || c->slots[k].state != S_CLAIMED)
		return -DDVM_EINVAL;
	switch (op) {
	case DDVM_OP_FLUSH:
		off = len = 0;
		break;
	case DDVM_OP_READ:
	case DDVM_OP_WRITE:
		if (len > c->st.max_transfer)
			return -DDVM_EINVAL;
		/* fall through */
	case DDVM_OP_DISCARD:
	case DDVM_OP_WRITE_ZEROES:
		if (len == 0 || off % lbs || len % lbs || off > c->st.capacity ||
		    len > c->st.capacity - off)
			return -DDVM_EINVAL;
		break;
	default:
		return -DDVM_EINVAL;
	}
	if (flags & ~DDVM_F_FUA)
		return -DDVM_EINVAL;
	s = &c->slots[k];
	s->seq++;
	s->op = op;
	s->flags = flags;
	s->offset = off;
	s->len = len;
	s->cookie = cookie;
	s->result = 0;
	s->deadline = now(c) + c->timeout_ns;
	deadline_note(c, s->deadline);
	s->state = S_WAIT;
	s->prev = c->wait_tail;
	s->next = NONE;
	if (c->wait_tail == NONE)
		c->wait_head = k;
	else
		c->slots[c->wait_tail].next = k;
	c->wait_tail = k;
	push_waiting(c);
	if (c->kick)
		ring_guest(c);
	return 0;
}

int ddvm_blkc_state(const struct ddvm_blkc *c, uint32_t k)
{
	const struct ddvm_blkc_slot *s;

	if (k >= c->nslots)
		return -DDVM_EINVAL;
	s = &c->slots[k];
	if (s->state == S_WAIT || s->state == S_BUSY)
		return 1;
	return s->state == S_LOST || s->state == S_DONE ? s->result : 0;
}

void ddvm_blkc_release(struct ddvm_blkc *c, uint32_t k)
{
	struct ddvm_blkc_slot *s;

	if (k >= c->nslots)
		return;
	s = &c->slots[k];
	if (s->state == S_LOST)
		s->state = S_ORPHAN;	/* still in the ring: freed by its answer */
	else if (s->state == S_DONE || s->state == S_CLAIMED)
		slot_free(c, k);
}

int ddvm_blkc_open(struct ddvm_blkc *c, struct ddvm_transport *t, int queue, int disk)
{
	return ddvm_blkc_open_layout(c, t, 0, queue, disk);
}

int ddvm_blkc_open_layout(struct ddvm_blkc *c, struct ddvm_transport *t,
			  const struct ddvm_layout *lay, int queue, int disk)
{
	int qi;

	*c = (struct ddvm_blkc){ 0 };
	c->t = t;
	c->next_deadline = NO_DEADLINE;
	qi = ddvm_channel_queue(t, lay, DDVM_QK_BLOCK, queue, disk, &c->lay);
	if (qi < 0)
		return qi;
	c->qi = (uint32_t)qi;
	c->q = c->lay.q[qi];
	c->nslots = c->q.nslots;
	c->chunk = ddvm_blk_chunk(c->q.data_size, c->nslots);
	return 0;
}

uint64_t ddvm_blkc_mem_bytes(const struct ddvm_blkc *c)
{
	return (uint64_t)c->nslots * (sizeof(struct ddvm_blkc_slot) +
				      sizeof(struct ddvm_blk_pending) + sizeof(uint32_t));
}

int ddvm_blkc_ready(struct ddvm_blkc *c, void *mem, uint64_t mem_bytes, uint32_t timeout_ms,
		    uint16_t tag, ddvm_blkc_done_fn *done, void *done_arg)
{
	uint8_t *m = mem;
	uint32_t k, gen = guest_gen(c);

	if (c->ready)
		return 0;
	ddvm_queue_state_read(c->t->base, &c->lay, c->qi, &c->st);
	if (c->st.state == DDVM_QS_ERROR && c->st.error == DDVM_QE_BOGUS) {
		if (c->bogus_gen != gen + 1) {	/* +1: generation 0 is logged too */
			c->bogus_gen = gen + 1;
			ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: the driver VM (generation %u) "
				  "publishes impossible parameters (block sizes %u/%u, capacity %llu, "
				  "max_transfer %u); waiting for a driver VM that does better",
				  c->qi, gen, c->st.logical_block_size, c->st.physical_block_size,
				  (unsigned long long)c->st.capacity, c->st.max_transfer);
		}
		return -DDVM_EAGAIN;
	}
	if (c->st.state == DDVM_QS_ERROR) {
		ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: the driver VM cannot serve its disk "
			  "(error %u)", c->qi, c->st.error);
		return -DDVM_ENODEV;
	}
	if (c->st.state != DDVM_QS_READY)
		return -DDVM_EAGAIN;
	if (c->chunk < c->st.max_transfer || c->nslots > 0x10000) {
		ddvm_logf(c->t, DDVM_LOG_ERR, "queue %u: max_transfer %u exceeds the data chunk of "
			  "%llu bytes", c->qi, c->st.max_transfer, (unsigned long long)c->chunk);
		return -DDVM_EPROTO;
	}
	if (!m || mem_bytes < ddvm_blkc_mem_bytes(c) || ((__UINTPTR_TYPE__)m & 7))
		return -DDVM_ENOMEM;
	if (ddvm_ring_bind(&c->req, c->t->base, c->lay.region_size, c->q.req_ring_off,
			   c->nslots) < 0 ||
	    ddvm_ring_bind(&c->resp, c->t->base, c->lay.region_size, c->q.resp_ring_off,
			   c->nslots) < 0)
		return -DDVM_EPROTO;
	/* Continue from whatever an earlier client left behind. */
	ddvm_prod_resume(&c->req);
	ddvm_cons_resume(&c->resp);
	c->req.sh->client_peer_id = ddvm_cpu_to_le32(c->t->self_id);
	c->slots = (struct ddvm_blkc_slot *)m;
	m += (uint64_t)c->nslots * sizeof(struct ddvm_blkc_slot);
	c->pend = (struct ddvm_blk_pending *)m;
	m += (uint64_t)c->nslots * sizeof(struct ddvm_blk_pending);
	c->free_stack = (uint32_t *)m;
	c->nfree = 0;
	for (k = 0; k < c->nslots; k++) {
		uint32_t j = c->nslots - 1 - k;

		c->slots[j] = (struct ddvm_blkc_slot){ .prev = NONE, .next = NONE,
						       .deadline = NO_DEADLINE };
		c->pend[j] = (struct ddvm_blk_pending){ 0 };
		c->free_stack[c->nfree++] = j;
	}
	c->wait_head = c->wait_tail = NONE;
	c->timeout_ns = (uint64_t)(timeout_ms ? timeout_ms : 1) * 1000000ull;
	c->tag = tag;
	c->done = done;
	c->done_arg = done_arg;
	c->gen = gen;
	c->ready = 1;
	ddvm_logf(c->t, DDVM_LOG_DEBUG, "peer %u, queue %u (%s): %llu bytes, blocks %u/%u, "
		  "max_transfer %u, features 0x%x, %u slots of %llu bytes", c->t->self_id, c->qi,
		  c->st.dev_name, (unsigned long long)c->st.capacity, c->st.logical_block_size,
		  c->st.physical_block_size, c->st.max_transfer, c->st.features, c->nslots,
		  (unsigned long long)c->chunk);
	return 0;
}

void ddvm_blkc_stats(const struct ddvm_blkc *c, struct ddvm_blkc_stats *out)
{
	uint32_t k, n = 0;

	for (k = 0; c->ready && k < c->nslots; k++)
		n += c->slots[k].state == S_WAIT || c->slots[k].state == S_BUSY;
	*out = (struct ddvm_blkc_stats){ .stale = c->n_stale, .bad = c->n_bad,
		.timeouts = c->n_timeouts, .resubmitted = c->n_resubmitted,
		.poisoned = c->n_poisoned, .restarts = c->n_restarts, .generation = c->gen,
		.in_flight = n, .broken = c->broken };
}

/* --- synchronous helper ------------------------------------------------------ */

/* Wait for slot k to finish, polling; its result. */
static int wait_slot(struct ddvm_blkc *c, uint32_t k)
{
	int r;

	while ((r = ddvm_blkc_state(c, k)) == 1) {
		uint64_t dl = c->next_deadline, t = now(c);

		if (dl > t + 100000000ull)	/* look at peers at least every 100 ms */
			dl = t + 100000000ull;
		if (c->t->ops->wait && c->t->ops->wait(c->t, c->q.resp_vector, dl) < 0)
			dl = 0;
		ddvm_blkc_poll(c);
	}
	return r;
}

int ddvm_blkc_io(struct ddvm_blkc *c, uint16_t op, uint16_t flags, uint64_t off, uint64_t len,
		 void *buf)
{
	uint32_t win[64], head = 0, n = 0;
	uint8_t *p = buf;
	uint64_t pos = 0, want[64];
	int err = 0, r;

	if (!c->ready || c->done)
		return -DDVM_EINVAL;
	do {
		while (!err && (pos < len || (len == 0 && pos == 0)) && n < 64) {
			uint32_t piece = len - pos < c->st.max_transfer ? (uint32_t)(len - pos)
								       : c->st.max_transfer;
			int k = ddvm_blkc_claim(c);

			if (k < 0)
				break;
			if (op == DDVM_OP_WRITE)
				ddvm_copy_to_region(ddvm_blkc_buf(c, (uint32_t)k), p + pos, piece);
			r = ddvm_blkc_submit(c, (uint32_t)k, op, flags, off + pos, piece, 0);
			if (r < 0) {
				ddvm_blkc_release(c, (uint32_t)k);
				err = r;
				break;
			}
			win[(head + n) % 64] = (uint32_t)k;
			want[(head + n) % 64] = pos;
			n++;
			pos += piece ? piece : 1;	/* a flush is one piece */
		}
		if (!n)
			break;
		r = wait_slot(c, win[head]);
		if (r == 0 && op == DDVM_OP_READ)
			ddvm_copy_from_region(p + want[head], ddvm_blkc_buf(c, win[head]),
					      c->slots[win[head]].len);
		if (r < 0 && !err)
			err = r;
		ddvm_blkc_release(c, win[head]);
		head = (head + 1) % 64;
		n--;
	} while (n || (!err && pos < len));
	return err;
}
