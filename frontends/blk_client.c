// SPDX-License-Identifier: MIT
/* Block queue client for the nbdkit front-end.  See blk_client.h. */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "blk_client.h"

#define W_MAX		16	/* pieces of one operation in flight */
#define LOG_FIRST	10	/* log this many dropped responses, then every 1000th */

enum { S_FREE, S_CLAIMED, S_BUSY, S_DONE, S_LOST };

struct blkc_slot {
	int state;
	uint32_t seq;
	uint16_t op, flags;
	uint32_t len;
	uint32_t ridx;		/* request ring index it was last pushed at */
	uint64_t offset;
	int result;
	pthread_cond_t cv;
	/* a driver VM died holding it (resubmit_taken): pushed again one at a time */
	uint8_t suspect;	/* until answered */
	uint8_t queued;		/* waiting for its turn, not in the ring */
	uint64_t susno;		/* its turn: lower goes first */
};

static void deadline_in(struct timespec *ts, unsigned int secs)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += secs;
}

static int past(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

static void cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

static const char *op_name(uint16_t op)
{
	switch (op) {
	case DDVM_OP_READ: return "read";
	case DDVM_OP_WRITE: return "write";
	case DDVM_OP_FLUSH: return "flush";
	case DDVM_OP_DISCARD: return "discard";
	case DDVM_OP_WRITE_ZEROES: return "write-zeroes";
	default: return "?";
	}
}

static volatile uint8_t *chunk_ptr(struct blkc *c, uint32_t k)
{
	return c->base + c->q.data_off + (uint64_t)k * c->chunk;
}

/* Fail every waiting request; nothing is served after this.  Lock held. */
static void kill_queue(struct blkc *c, const char *why)
{
	uint32_t k;

	if (c->dead)
		return;
	c->dead = 1;
	nbdkit_error("ddvm: queue %u: %s; failing every request from now on", c->qi, why);
	for (k = 0; k < c->nslots; k++) {
		struct blkc_slot *s = &c->slots[k];

		if (s->state == S_BUSY) {
			s->state = S_DONE;
			s->result = -EIO;
			pthread_cond_signal(&s->cv);
		}
	}
	pthread_cond_broadcast(&c->free_cv);
	pthread_cond_broadcast(&c->space_cv);
	pthread_cond_broadcast(&c->serial_cv);
}

static void slot_release(struct blkc *c, uint32_t k)
{
	c->slots[k].state = S_FREE;
	c->slots[k].suspect = c->slots[k].queued = 0;
	c->free_stack[c->nfree++] = k;
	pthread_cond_signal(&c->free_cv);
}

/* Ring the driver VM's request doorbell; its peer id comes from the header. */
static void ring_guest(struct blkc *c)
{
	const volatile struct ddvm_region_hdr *h = (const volatile void *)c->base;
	uint16_t g = ddvm_le16_to_cpu(__atomic_load_n(&h->guest_peer_id, __ATOMIC_ACQUIRE));
	int r = -ENOENT;

	if (g != c->peer.id) {
		r = ddvm_peer_ring(&c->peer, g, c->q.req_vector);
		if (r == -ENOENT && ddvm_peer_process(&c->peer) == 0)
			r = ddvm_peer_ring(&c->peer, g, c->q.req_vector);
	}
	/* The driver VM also polls on its heartbeat, so this only delays. */
	if (r < 0 && c->ring_misses++ % 1000 == 0)
		nbdkit_debug("ddvm: cannot ring driver VM peer %u vector %u: %s", g,
			     c->q.req_vector, strerror(-r));
}

static int map_status(uint32_t st)
{
	switch (st) {
	case DDVM_S_OK: return 0;
	case DDVM_S_IOERR: return -EIO;
	case DDVM_S_INVAL: return -EINVAL;
	case DDVM_S_NOTSUPP: return -EOPNOTSUPP;
	case DDVM_S_RANGE: return -EINVAL;
	case DDVM_S_NOSPC: return -ENOSPC;
	default: return -EIO;
	}
}

/* The ring request for slot k as recorded: id, op, flags, offset, its chunk, len. */
static void slot_request(const struct blkc *c, uint32_t k, struct ddvm_slot *rq)
{
	const struct blkc_slot *s = &c->slots[k];

	memset(rq, 0, sizeof(*rq));
	rq->id = ddvm_cpu_to_le64(c->tag << 48 | (uint64_t)s->seq << 16 | k);
	rq->op = ddvm_cpu_to_le16(s->op);
	rq->flags = ddvm_cpu_to_le16(s->flags);
	rq->offset = ddvm_cpu_to_le64(s->offset);
	if (s->op == DDVM_OP_READ || s->op == DDVM_OP_WRITE)
		rq->buf_off = ddvm_cpu_to_le64(c->q.data_off + (uint64_t)k * c->chunk);
	rq->len = ddvm_cpu_to_le32(s->len);
}

/* Push slot k's request (again): same id, chunk and data.  Lock held.  0 or -1. */
static int push_slot(struct blkc *c, uint32_t k)
{
	struct ddvm_slot rq;

	slot_request(c, k, &rq);
	c->slots[k].ridx = c->req.idx;
	return ddvm_prod_push(&c->req, &rq) == 0 ? 0 : -1;
}

/*
 * Suspects: requests a driver VM died holding (resubmit_taken).  They go to
 * its successor one at a time, each only once nothing else is in the ring
 * (what the dead instance had not taken yet is served first), and new
 * requests wait until every suspect is answered; so if a successor dies too
 * holding a suspect, it held nothing else, and that request is what kills
 * the driver (a poison pill): it is failed instead of
 * being handed to every successor in turn (with the supervisor giving up on
 * the driver VM after max_restarts), and the requests that were merely in
 * flight beside it complete.
 *
 * The state lives in the slots only; this recounts it, and pushes the next
 * suspect if none is in the ring.  Lock held; call after any change.
 */
static void suspect_next(struct blkc *c)
{
	uint32_t k, n, best, others;
	int out;

	for (;;) {
		n = others = 0;
		out = 0;
		best = UINT32_MAX;
		for (k = 0; k < c->nslots; k++) {
			struct blkc_slot *s = &c->slots[k];

			if (!s->suspect) {
				others += s->state == S_BUSY;
				continue;
			}
			if (s->state != S_BUSY && s->state != S_LOST) {
				s->suspect = s->queued = 0;	/* answered or failed */
				continue;
			}
			n++;
			if (!s->queued)
				out = 1;
			else if (best == UINT32_MAX || s->susno < c->slots[best].susno)
				best = k;
		}
		c->serial = n;
		if (out || others || best == UINT32_MAX || c->dead)
			break;
		c->slots[best].queued = 0;
		if (c->slots[best].state == S_LOST) {	/* its waiter gave up before its turn */
			slot_release(c, best);
			continue;
		}
		if (push_slot(c, best) < 0) {	/* cannot happen: suspects hold free entries */
			kill_queue(c, "request ring full while resubmitting");
			break;
		}
		c->kick |= ddvm_prod_publish(&c->req);
		break;
	}
	if (!c->serial)
		pthread_cond_broadcast(&c->serial_cv);
}

/* One response, already copied out of the ring.  Lock held. */
static void handle_response(struct blkc *c, const struct ddvm_slot *r)
{
	uint64_t id = ddvm_le64_to_cpu(r->id);
	uint32_t k = (uint32_t)(id & 0xffff), st = 0, verdict;
	uint16_t op = ddvm_le16_to_cpu(r->op);
	uint32_t len = ddvm_le32_to_cpu(r->len);
	struct blkc_slot *s = k < c->nslots ? &c->slots[k] : NULL;

	/* The shared check reads only the entry the id names: refresh that one. */
	if (s)
		c->pend[k] = (struct ddvm_blk_pending){ .seq = s->seq, .len = s->len, .op = s->op,
			.waiting = s->state == S_BUSY || s->state == S_LOST };
	verdict = ddvm_blk_resp_check(r, (uint16_t)c->tag, c->pend, c->nslots, &k, &st);
	if (verdict == DDVM_BLK_RESP_STALE) {
		if (c->stale++ < LOG_FIRST || c->stale % 1000 == 0)
			nbdkit_error("ddvm: queue %u: dropping a response with an unknown, stale or "
				     "duplicate id 0x%016llx (%llu dropped so far)", c->qi,
				     (unsigned long long)id, (unsigned long long)c->stale);
		return;
	}
	if (s->state == S_LOST) {	/* answered after its waiter gave up */
		nbdkit_error("ddvm: queue %u: late response for id 0x%016llx; slot %u released",
			     c->qi, (unsigned long long)id, k);
		slot_release(c, k);
		if (c->serial)
			suspect_next(c);
		return;
	}
	if (verdict == DDVM_BLK_RESP_BAD) {
		st = ddvm_le32_to_cpu(r->status);
		c->bad++;
		nbdkit_error("ddvm: queue %u: bad response for %s of %u bytes at %llu (id 0x%016llx): "
			     "op %u len %u status %u; failing that request with EIO", c->qi,
			     op_name(s->op), s->len, (unsigned long long)s->offset,
			     (unsigned long long)id, op, len, st);
		s->result = -EIO;
	} else {
		s->result = map_status(st);
		if (st != DDVM_S_OK)
			nbdkit_debug("ddvm: %s at %llu: driver VM status %u", op_name(s->op),
				     (unsigned long long)s->offset, st);
	}
	s->state = S_DONE;
	pthread_cond_signal(&s->cv);
	if (c->serial)
		suspect_next(c);	/* this one, or one ahead of the suspects */
}

/* Pop every response; returns 1 if the driver VM wants a doorbell.  Lock held. */
static int reap(struct blkc *c)
{
	struct ddvm_slot r;
	int ring = 0, n;

	while (!c->dead) {
		n = ddvm_cons_pop(&c->resp, &r);
		if (n == 0) {
			handle_response(c, &r);
			continue;
		}
		if (n == DDVM_RING_EEMPTY) {
			ring |= ddvm_cons_publish(&c->resp);
			n = ddvm_cons_want_data(&c->resp);
			if (n > 0)
				continue;
			if (n == 0)
				break;
		}
		kill_queue(c, "response ring is corrupt (the driver VM published an impossible index)");
	}
	if (c->space_waiters)
		pthread_cond_broadcast(&c->space_cv);
	ring |= c->kick;	/* a suspect was pushed */
	c->kick = 0;
	return ring;
}

/* Did the instance that left take slot s's request and not answer it?  The
 * ring's last `pending` requests it had not taken; queued suspects are not in
 * the ring at all. */
static int held_by_dead(const struct blkc *c, const struct blkc_slot *s, uint32_t pending)
{
	return (s->state == S_BUSY || s->state == S_LOST) && !s->queued &&
	       c->req.idx - s->ridx > pending;
}

/*
 * The driver VM's peer left the channel (its QEMU died): no instance serves
 * the rings until a successor attaches, which resumes from the shared request
 * cons (docs/protocol.md 7b).  Requests before that cons were taken by the
 * dead instance; those still unanswered become suspects and go again, same
 * id and chunk (write data is still there), one at a time (suspect_next).
 * A suspect that the dead instance held and nothing else is failed: it
 * crashed two driver VMs.  Timed-out (quarantined) ones it took are released.  Lock held;
 * returns 1 to ring.
 */
static int resubmit_taken(struct blkc *c, uint16_t gone)
{
	uint32_t k, pending, n = 0, freed = 0, failed = 0, nheld = 0;
	int ring = reap(c), r;

	if (c->dead)
		return ring;
	r = ddvm_prod_space(&c->req);	/* validates and caches the shared cons */
	if (r < 0) {
		kill_queue(c, "request ring is corrupt (the driver VM published an impossible index)");
		return ring;
	}
	pending = c->req.idx - c->req.peer;
	for (k = 0; k < c->nslots; k++)
		nheld += held_by_dead(c, &c->slots[k], pending) && c->slots[k].state == S_BUSY;
	for (k = 0; k < c->nslots; k++) {
		struct blkc_slot *s = &c->slots[k];

		if (!held_by_dead(c, s, pending))
			continue;		/* not taken: the successor serves it */
		if (s->state == S_LOST) {
			slot_release(c, k);
			freed++;
			continue;
		}
		if (s->suspect && nheld == 1) {
			nbdkit_error("ddvm: queue %u: %s of %u bytes at %llu crashed the driver VM: "
				     "two driver VMs died holding it, the second holding nothing else; "
				     "failing it with EIO instead of handing it to another", c->qi,
				     op_name(s->op), s->len, (unsigned long long)s->offset);
			s->suspect = 0;
			s->state = S_DONE;
			s->result = -EIO;
			pthread_cond_signal(&s->cv);
			failed++;
			continue;
		}
		s->suspect = s->queued = 1;
		s->susno = c->sus_seq++;
		n++;
	}
	if (n || freed || failed)
		nbdkit_error("ddvm: queue %u: driver VM (peer %u) left holding %u unanswered "
			     "requests: %u resubmitted to its successor one at a time, %u failed, "
			     "%u timed-out slots released", c->qi, gone, n + failed + freed, n,
			     failed, freed);
	suspect_next(c);
	ring |= c->kick;
	c->kick = 0;
	return ring;
}

/*
 * After server messages: did the driver VM leave?  Either the one we knew,
 * or one the header names that left before we ever looked (it died within
 * moments of attaching, before any of its doorbells woke us): what either
 * took is held all the same.  Peer ids are not reused soon (the server
 * counts up), so an id is handled once.  Lock held.
 */
static int check_guest_left(struct blkc *c)
{
	const volatile struct ddvm_region_hdr *h = (const volatile void *)c->base;
	uint16_t g = ddvm_le16_to_cpu(__atomic_load_n(&h->guest_peer_id, __ATOMIC_ACQUIRE));

	if (c->gpeer_valid && !ddvm_peer_known(&c->peer, c->gpeer)) {
		c->gpeer_valid = 0;
		c->gone = c->gpeer;
		return resubmit_taken(c, c->gpeer);
	}
	if (g == c->peer.id || g == 0)
		return 0;		/* 0: the supervisor's id, never a driver VM's */
	if (ddvm_peer_known(&c->peer, g)) {
		c->gpeer = g;
		c->gpeer_valid = 1;
	} else if (!c->gpeer_valid && g != c->gone) {
		c->gone = g;
		return resubmit_taken(c, g);
	}
	return 0;
}

static void *completion_thread(void *arg)
{
	struct blkc *c = arg;
	int efd = ddvm_peer_eventfd(&c->peer, c->q.resp_vector);

	for (;;) {
		struct pollfd pf[3] = {
			{ .fd = efd, .events = POLLIN },
			{ .fd = c->stop_efd, .events = POLLIN },
			{ .fd = c->sock_ok ? c->peer.sock : -1, .events = POLLIN },
		};
		int ring;

		/* The timeout is only a safety net against a lost doorbell. */
		poll(pf, 3, 500);
		if (pf[1].revents)
			break;
		if (pf[2].revents && ddvm_peer_process(&c->peer) < 0) {
			nbdkit_error("ddvm: ivshmem server: %s; doorbells to new peers are lost",
				     c->peer.err);
			c->sock_ok = 0;
		}
		if (pf[0].revents)
			ddvm_peer_drain(efd);
		pthread_mutex_lock(&c->lock);
		ring = check_guest_left(c);
		ring |= reap(c);
		pthread_mutex_unlock(&c->lock);
		if (ring)
			ring_guest(c);
	}
	return NULL;
}

/* Claim a free slot.  Lock held.  Index, -EAGAIN (nowait) or -EIO. */
static int slot_claim(struct blkc *c, int wait, const struct timespec *dl)
{
	uint32_t k;

	while (!c->nfree && !c->dead) {
		if (!wait)
			return -EAGAIN;
		if (pthread_cond_timedwait(&c->free_cv, &c->lock, dl) == ETIMEDOUT && !c->nfree) {
			nbdkit_error("ddvm: queue %u: no free request slot for %us (driver VM not "
				     "answering)", c->qi, c->timeout_s);
			return -EIO;
		}
	}
	if (c->dead)
		return -EIO;
	k = c->free_stack[--c->nfree];
	c->slots[k].state = S_CLAIMED;
	return (int)k;
}

/* Publish a request for claimed slot k.  Lock held.  0 or -EIO (slot released). */
static int piece_push(struct blkc *c, uint32_t k, uint16_t op, uint16_t flags, uint64_t off,
		      uint32_t len, const struct timespec *dl, int *ring)
{
	struct blkc_slot *s = &c->slots[k];
	struct ddvm_slot rq;
	int r;

	s->seq++;
	s->op = op;
	s->flags = flags;
	s->len = len;
	s->offset = off;
	slot_request(c, k, &rq);
	while (c->serial && !c->dead) {	/* suspects go first, alone (suspect_next) */
		if (pthread_cond_timedwait(&c->serial_cv, &c->lock, dl) == ETIMEDOUT && c->serial) {
			nbdkit_error("ddvm: queue %u: requests a dead driver VM held still unanswered "
				     "after %us", c->qi, c->timeout_s);
			goto fail;
		}
	}
	for (;;) {
		if (c->dead)
			goto fail;
		s->ridx = c->req.idx;
		r = ddvm_prod_push(&c->req, &rq);
		if (r == 0)
			break;
		if (r == DDVM_RING_EFULL) {
			r = ddvm_prod_want_space(&c->req);
			if (r > 0)
				continue;
			if (r == 0) {
				c->space_waiters++;
				r = pthread_cond_timedwait(&c->space_cv, &c->lock, dl);
				c->space_waiters--;
				if (r == ETIMEDOUT) {
					nbdkit_error("ddvm: queue %u: request ring stayed full for %us",
						     c->qi, c->timeout_s);
					goto fail;
				}
				continue;
			}
		}
		kill_queue(c, "request ring is corrupt (the driver VM published an impossible index)");
		goto fail;
	}
	s->state = S_BUSY;
	*ring |= ddvm_prod_publish(&c->req);
	return 0;
fail:
	slot_release(c, k);
	return -EIO;
}

/* Wait for slot k's answer; copy read data out.  Releases the slot (or quarantines it). */
static int piece_finish(struct blkc *c, uint32_t k, void *rbuf, const struct timespec *dl)
{
	struct blkc_slot *s = &c->slots[k];
	int res, ring;

	pthread_mutex_lock(&c->lock);
	while (s->state == S_BUSY) {
		if (pthread_cond_timedwait(&s->cv, &c->lock, dl) == ETIMEDOUT && s->state == S_BUSY) {
			int queued = s->suspect && s->queued;	/* not in the ring */

			s->state = S_LOST;
			nbdkit_error("ddvm: queue %u: %s of %u bytes at %llu not answered in %us; "
				     "failing it with EIO (slot %u %s)", c->qi, op_name(s->op), s->len,
				     (unsigned long long)s->offset, c->timeout_s, k,
				     queued ? "released: it was waiting for its turn after a crash"
					    : "quarantined");
			if (s->suspect) {	/* given up like any other: others may go */
				s->suspect = s->queued = 0;
				if (queued)	/* nothing will answer it */
					slot_release(c, k);
				suspect_next(c);
			}
			ring = c->kick;		/* the next suspect went out */
			c->kick = 0;
			pthread_mutex_unlock(&c->lock);
			if (ring)
				ring_guest(c);
			return -EIO;
		}
	}
	res = s->result;
	pthread_mutex_unlock(&c->lock);
	/* Only now, with the response for this very slot validated. */
	if (res == 0 && rbuf)
		memcpy(rbuf, (const void *)chunk_ptr(c, k), s->len);
	pthread_mutex_lock(&c->lock);
	slot_release(c, k);
	pthread_mutex_unlock(&c->lock);
	return res;
}

int blkc_io(struct blkc *c, uint16_t op, uint16_t flags, uint64_t off, uint64_t len,
	    void *rbuf, const void *wbuf)
{
	struct { uint32_t k; uint8_t *rbuf; struct timespec dl; } win[W_MAX];
	unsigned int nwin = 0, i;
	uint64_t pos = 0;
	int err = 0, r, ring;

	do {
		if (!err && (pos < len || (pos == 0 && len == 0)) && nwin < W_MAX) {
			uint32_t n = (uint32_t)(len - pos < c->st.max_transfer ? len - pos
									  : c->st.max_transfer);
			struct timespec dl;
			int k;

			deadline_in(&dl, c->timeout_s);
			pthread_mutex_lock(&c->lock);
			k = slot_claim(c, nwin == 0, &dl);
			pthread_mutex_unlock(&c->lock);
			if (k >= 0) {
				if (wbuf)
					memcpy((void *)chunk_ptr(c, (uint32_t)k),
					       (const uint8_t *)wbuf + pos, n);
				ring = 0;
				pthread_mutex_lock(&c->lock);
				r = piece_push(c, (uint32_t)k, op, flags, off + pos, n, &dl, &ring);
				pthread_mutex_unlock(&c->lock);
				if (ring)
					ring_guest(c);
				if (r < 0) {
					err = r;
				} else {
					win[nwin].k = (uint32_t)k;
					win[nwin].rbuf = rbuf ? (uint8_t *)rbuf + pos : NULL;
					win[nwin].dl = dl;
					nwin++;
				}
				pos += n;
				if (len == 0)
					pos = 1;	/* a flush is one piece */
				continue;
			}
			if (k != -EAGAIN)
				err = k;
		}
		if (nwin == 0)
			break;
		r = piece_finish(c, win[0].k, win[0].rbuf, &win[0].dl);
		if (r < 0 && !err)
			err = r;
		for (i = 1; i < nwin; i++)
			win[i - 1] = win[i];
		nwin--;
	} while (nwin > 0 || (!err && pos < len));
	return err;
}

/* Find the queue, check what the driver VM publishes, wait until READY. */
static int wait_ready(struct blkc *c, const struct blkc_params *prm)
{
	struct timespec dl;
	uint32_t i, nth = 0;
	int found = -1;

	for (i = 0; i < c->lay.nqueues; i++) {
		if (prm->queue >= 0 ? (int)i == prm->queue :
		    (c->lay.q[i].kind == DDVM_QK_BLOCK && (int)nth++ == prm->disk)) {
			found = (int)i;
			break;
		}
	}
	if (found < 0 || c->lay.q[found].kind != DDVM_QK_BLOCK) {
		nbdkit_error("ddvm: %s has no block queue %s=%d (%u queues)", prm->socket,
			     prm->queue >= 0 ? "queue" : "disk",
			     prm->queue >= 0 ? prm->queue : prm->disk, c->lay.nqueues);
		return -ENOENT;
	}
	c->qi = (uint32_t)found;
	c->q = c->lay.q[found];
	deadline_in(&dl, prm->ready_timeout_s);
	for (;;) {
		struct pollfd pf = { .fd = c->peer.sock, .events = POLLIN };

		ddvm_queue_state_read(c->base, &c->lay, c->qi, &c->st);
		if (c->st.state == DDVM_QS_READY)
			return 0;
		if (c->st.state == DDVM_QS_ERROR && c->st.error == DDVM_QE_BOGUS) {
			nbdkit_error("ddvm: queue %u: the driver VM publishes impossible parameters "
				     "(block sizes %u/%u, capacity %llu, max_transfer %u)", c->qi,
				     c->st.logical_block_size, c->st.physical_block_size,
				     (unsigned long long)c->st.capacity, c->st.max_transfer);
			return -EPROTO;
		}
		if (c->st.state == DDVM_QS_ERROR) {
			nbdkit_error("ddvm: queue %u: the driver VM cannot serve its disk (error %u)",
				     c->qi, c->st.error);
			return -ENODEV;
		}
		if (past(&dl)) {
			nbdkit_error("ddvm: queue %u not ready after %us (driver VM not serving it)",
				     c->qi, prm->ready_timeout_s);
			return -ETIMEDOUT;
		}
		/* Nobody rings us for this: look again every 50 ms until the deadline. */
		if (poll(&pf, 1, 50) == 1 && ddvm_peer_process(&c->peer) < 0) {
			nbdkit_error("ddvm: ivshmem server: %s", c->peer.err);
			return -EPIPE;
		}
	}
}

static void free_tables(struct blkc *c)
{
	free(c->slots);
	free(c->pend);
	free(c->free_stack);
	c->slots = NULL;
	c->pend = NULL;
	c->free_stack = NULL;
}

int blkc_open(struct blkc *c, const struct blkc_params *prm)
{
	uint32_t refusal, detail, k;
	uint8_t rnd[2] = { 0, 0 };
	int r;

	memset(c, 0, sizeof(*c));
	c->stop_efd = -1;
	c->timeout_s = prm->timeout_s;
	r = ddvm_peer_connect(&c->peer, prm->socket, 10000);
	if (r < 0) {
		nbdkit_error("ddvm: %s", c->peer.err);
		return r;
	}
	c->base = (volatile uint8_t *)c->peer.shm;
	refusal = ddvm_region_check(c->base, c->peer.shm_size, &c->lay, &detail);
	if (refusal != DDVM_REFUSE_NONE) {
		nbdkit_error("ddvm: the region behind %s is not usable (refusal %u, detail %u)",
			     prm->socket, refusal, detail);
		r = -EPROTO;
		goto err;
	}
	r = wait_ready(c, prm);
	if (r < 0)
		goto err;
	r = -EPROTO;
	c->nslots = c->q.nslots;
	c->chunk = (c->q.data_size / c->nslots) & ~4095ull;
	if (c->chunk < c->st.max_transfer) {
		nbdkit_error("ddvm: queue %u: max_transfer %u exceeds the data chunk of %llu bytes",
			     c->qi, c->st.max_transfer, (unsigned long long)c->chunk);
		goto err;
	}
	if (ddvm_peer_eventfd(&c->peer, c->q.resp_vector) < 0) {
		nbdkit_error("ddvm: queue %u: response vector %u, but the server gave us %u vectors",
			     c->qi, c->q.resp_vector, c->peer.nvectors);
		goto err;
	}
	if (ddvm_ring_bind(&c->req, c->base, c->lay.region_size, c->q.req_ring_off, c->nslots) < 0 ||
	    ddvm_ring_bind(&c->resp, c->base, c->lay.region_size, c->q.resp_ring_off, c->nslots) < 0)
		goto err;
	/* Continue from whatever an earlier client left behind. */
	ddvm_prod_resume(&c->req);
	ddvm_cons_resume(&c->resp);
	c->req.sh->client_peer_id = ddvm_cpu_to_le32(c->peer.id);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd[0] = (uint8_t)getpid();
	c->tag = (uint64_t)rnd[0] << 8 | rnd[1];
	r = -ENOMEM;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	c->pend = calloc(c->nslots, sizeof(*c->pend));
	c->free_stack = calloc(c->nslots, sizeof(*c->free_stack));
	if (!c->slots || !c->pend || !c->free_stack)
		goto err;
	pthread_mutex_init(&c->lock, NULL);
	cond_init(&c->free_cv);
	cond_init(&c->space_cv);
	cond_init(&c->serial_cv);
	for (k = 0; k < c->nslots; k++) {
		cond_init(&c->slots[c->nslots - 1 - k].cv);
		c->free_stack[c->nfree++] = c->nslots - 1 - k;
	}
	nbdkit_debug("ddvm: peer %u, queue %u (%s): %llu bytes, blocks %u/%u, max_transfer %u, "
		     "features 0x%x, %u slots of %llu bytes", c->peer.id, c->qi, c->st.dev_name,
		     (unsigned long long)c->st.capacity, c->st.logical_block_size,
		     c->st.physical_block_size, c->st.max_transfer, c->st.features, c->nslots,
		     (unsigned long long)c->chunk);
	return 0;
err:
	free_tables(c);
	ddvm_peer_close(&c->peer);
	return r;
}

int blkc_start(struct blkc *c)
{
	int r;

	c->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_efd < 0)
		return -errno;
	c->sock_ok = 1;
	r = pthread_create(&c->thread, NULL, completion_thread, c);
	if (r) {
		nbdkit_error("ddvm: cannot start the completion thread: %s", strerror(r));
		return -r;
	}
	c->thread_started = 1;
	return 0;
}

void blkc_close(struct blkc *c)
{
	uint64_t one = 1;

	if (c->thread_started) {
		if (write(c->stop_efd, &one, sizeof(one)) == sizeof(one))
			pthread_join(c->thread, NULL);
		c->thread_started = 0;
	}
	if (c->stop_efd >= 0)
		close(c->stop_efd);
	c->stop_efd = -1;
	free_tables(c);
	ddvm_peer_close(&c->peer);
}
