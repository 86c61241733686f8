// SPDX-License-Identifier: MIT
/* Net queue client of ddvm-tap.  See tap_queue.h and notes on the wire in docs/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tap_queue.h"

#define LOG_FIRST	10	/* log this many bad responses of a kind, then every 1000th */

static uint64_t chunk_off(const struct tapq *q, uint32_t k)
{
	return q->q.data_off + (uint64_t)k * q->chunk;
}

static void chunk_put(struct tapq *q, uint32_t k)
{
	q->reqs[k].op = 0;
	q->free_stack[q->nfree++] = k;
}

static int chunk_get(struct tapq *q, uint32_t *k)
{
	if (q->nfree == 0)
		return -1;
	*k = q->free_stack[--q->nfree];
	return 0;
}

static void mark_broken(struct tapq *q, const char *ring)
{
	if (!q->broken)
		pr_err("queue %u: the driver VM's %s ring index is impossible (ring corrupt); "
		       "stopping this queue until the driver VM restarts", q->qi, ring);
	q->broken = 1;
}

int tapq_init(struct tapq *q, volatile void *base, const struct ddvm_layout *l, uint32_t qi,
	      struct tap_counters *c)
{
	const struct ddvm_queue_info *d = &l->q[qi];

	memset(q, 0, sizeof(*q));
	q->base = base;
	q->qi = qi;
	q->q = *d;
	q->c = c;
	q->nchunks = d->nslots;
	q->chunk = d->data_size / d->nslots / 64 * 64;
	if (q->chunk < 64 || q->nchunks < 2)
		return -EINVAL;
	if (ddvm_ring_bind(&q->req, base, l->region_size, d->req_ring_off, d->nslots) < 0 ||
	    ddvm_ring_bind(&q->resp, base, l->region_size, d->resp_ring_off, d->nslots) < 0)
		return -EINVAL;
	q->reqs = calloc(q->nchunks, sizeof(*q->reqs));
	q->free_stack = calloc(q->nchunks, sizeof(*q->free_stack));
	if (!q->reqs || !q->free_stack) {
		tapq_free(q);
		return -ENOMEM;
	}
	q->rx_target = q->nchunks / 2;
	/* Ids of a previous client of this queue (still held by the driver VM) must not match ours. */
	if (getrandom(&q->seq, sizeof(q->seq), GRND_NONBLOCK) != sizeof(q->seq))
		q->seq = (uint32_t)time(NULL) * 2654435761u;
	tapq_set_mtu(q, 1500);
	tapq_reset(q);
	return 0;
}

void tapq_free(struct tapq *q)
{
	free(q->reqs);
	free(q->free_stack);
	q->reqs = NULL;
	q->free_stack = NULL;
}

void tapq_set_mtu(struct tapq *q, uint32_t mtu)
{
	uint64_t f = (uint64_t)mtu + NET_ETH_EXTRA;

	q->max_frame = (uint32_t)(f < q->chunk ? f : q->chunk);
}

void tapq_reset(struct tapq *q)
{
	uint32_t k;

	q->nfree = 0;
	for (k = q->nchunks; k-- > 0;)
		chunk_put(q, k);
	q->rx_posted = q->rx_parked = q->tx_out = 0;
	q->pending = 0;
	ddvm_prod_resume(&q->req);
	ddvm_cons_resume(&q->resp);
	q->broken = 0;
}

/* Push one request for chunk k.  0, -ENOSPC (ring full) or -EPROTO. */
static int push_req(struct tapq *q, uint32_t k, uint16_t op, uint32_t len)
{
	struct ddvm_slot s;
	uint32_t seq = ++q->seq;
	int r;

	memset(&s, 0, sizeof(s));
	s.id = ddvm_cpu_to_le64(net_id_make(k, seq));
	s.op = ddvm_cpu_to_le16(op);
	s.buf_off = ddvm_cpu_to_le64(chunk_off(q, k));
	s.len = ddvm_cpu_to_le32(len);
	r = ddvm_prod_push(&q->req, &s);
	if (r == DDVM_RING_ECORRUPT) {
		mark_broken(q, "request");
		return -EPROTO;
	}
	if (r < 0)
		return -ENOSPC;
	q->reqs[k].op = op;
	q->reqs[k].seq = seq;
	q->reqs[k].len = len;
	if (op == DDVM_OP_NET_RX)
		q->rx_posted++;
	else
		q->tx_out++;
	q->pending = 1;
	return 0;
}

volatile uint8_t *tapq_tx_begin(struct tapq *q, uint32_t *chunk)
{
	if (q->broken || q->tx_out + q->rx_target >= q->nchunks || chunk_get(q, chunk) < 0)
		return NULL;
	return q->base + chunk_off(q, *chunk);
}

void tapq_tx_abort(struct tapq *q, uint32_t chunk)
{
	chunk_put(q, chunk);
}

int tapq_tx_commit(struct tapq *q, uint32_t chunk, uint32_t len)
{
	int r = push_req(q, chunk, DDVM_OP_NET_TX, len);

	if (r < 0) {
		chunk_put(q, chunk);
		q->c->tx_ring_full += r == -ENOSPC;
	}
	return r;
}

void tapq_rx_refill(struct tapq *q, int unpark)
{
	uint32_t k;

	if (unpark)
		q->rx_parked = 0;
	while (!q->broken && q->rx_posted + q->rx_parked < q->rx_target && chunk_get(q, &k) == 0)
		if (push_req(q, k, DDVM_OP_NET_RX, q->max_frame) < 0) {
			chunk_put(q, k);
			break;
		}
}

int tapq_publish(struct tapq *q)
{
	if (!q->pending)
		return 0;
	q->pending = 0;
	return ddvm_prod_publish(&q->req);
}

static void count_bad(struct tapq *q, enum net_verdict v, const struct ddvm_slot *s)
{
	uint64_t n = ++q->c->rx_bad[v];

	if (n <= LOG_FIRST || n % 1000 == 0)
		pr_warn("queue %u: dropped a bad response (%s: id %#llx op %u status %u len %u), "
			"%llu so far", q->qi, net_verdict_str(v),
			(unsigned long long)ddvm_le64_to_cpu(s->id), ddvm_le16_to_cpu(s->op),
			ddvm_le32_to_cpu(s->status), ddvm_le32_to_cpu(s->len), (unsigned long long)n);
}

/* A received frame: hand it to the TAP (the kernel copies it once). */
static void rx_deliver(struct tapq *q, int tap_fd, uint32_t k, uint32_t len)
{
	const void *frame = (const void *)(q->base + chunk_off(q, k));
	ssize_t n = write(tap_fd, frame, len);

	if (n == (ssize_t)len) {
		q->c->rx_frames++;
		q->c->rx_bytes += len;
	} else {
		q->c->rx_tap_error++;
	}
}

static void handle_resp(struct tapq *q, int tap_fd, const struct ddvm_slot *s)
{
	struct net_resp r;
	enum net_verdict v = net_resp_check(q->reqs, q->nchunks, q->q.data_off, q->chunk, s, &r);

	if (v == NET_RESP_BAD_ID) {
		count_bad(q, v, s);
		return;
	}
	/* The response ends request r.chunk, whatever else is wrong with it. */
	if (r.op == DDVM_OP_NET_RX)
		q->rx_posted--;
	else
		q->tx_out--;
	chunk_put(q, r.chunk);
	if (v != NET_RESP_OK) {
		count_bad(q, v, s);
		q->rx_parked += r.op == DDVM_OP_NET_RX;	/* reposted on the next tick */
		return;
	}
	if (r.op == DDVM_OP_NET_TX) {
		if (r.status == DDVM_S_OK) {
			q->c->tx_frames++;
			q->c->tx_bytes += r.len;
		} else if (r.status == DDVM_S_INVAL) {
			q->c->tx_guest_inval++;
		} else {
			q->c->tx_guest_ioerr++;
		}
		return;
	}
	if (r.status != DDVM_S_OK) {
		/* Buffer returned without a frame (driver VM detaching): no busy repost. */
		q->c->rx_guest_err++;
		q->rx_parked++;
		return;
	}
	rx_deliver(q, tap_fd, r.chunk, r.len);
	/* Repost the same buffer at once (it is on top of the free stack). */
	tapq_rx_refill(q, 0);
}

int tapq_poll(struct tapq *q, int tap_fd, int *ring_guest)
{
	struct ddvm_slot s;
	int r;

	if (q->broken)
		return -EPROTO;
	for (;;) {
		while ((r = ddvm_cons_pop(&q->resp, &s)) == 0)
			handle_resp(q, tap_fd, &s);
		if (r == DDVM_RING_ECORRUPT)
			break;
		if (ddvm_cons_publish(&q->resp))
			*ring_guest = 1;
		if (q->broken)
			return -EPROTO;
		tapq_rx_refill(q, 0);
		if (tapq_publish(q))
			*ring_guest = 1;
		r = ddvm_cons_want_data(&q->resp);
		if (r <= 0)
			break;
	}
	if (r == DDVM_RING_ECORRUPT) {
		mark_broken(q, "response");
		return -EPROTO;
	}
	return 0;
}
