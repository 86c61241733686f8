// SPDX-License-Identifier: MIT
/* Net queue client of ddvm-tap.  See tap_queue.h and notes on the wire in docs/. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
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
	tapq_set_params(q, 1500, 0);
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

static uint32_t cap_chunk(const struct tapq *q, uint64_t f)
{
	return (uint32_t)(f < q->chunk ? f : q->chunk);
}

void tapq_set_params(struct tapq *q, uint32_t mtu, uint32_t features)
{
	int tso = (features & DDVM_NET_F_CSUM) &&
		  (features & (DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6));

	q->mtu = mtu;
	q->features = features;
	q->max_frame = cap_chunk(q, tso ? DDVM_NET_GSO_MAX_FRAME : (uint64_t)mtu + NET_ETH_EXTRA);
	if (features & DDVM_NET_F_RX_OFFLOAD) {
		q->rx_cap = cap_chunk(q, DDVM_NET_GSO_MAX_FRAME);
		q->rx_flags = DDVM_F_NET_OFFLOAD;
	} else {
		q->rx_cap = cap_chunk(q, (uint64_t)mtu + NET_ETH_EXTRA);
		q->rx_flags = 0;
	}
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
static int push_req(struct tapq *q, uint32_t k, uint16_t op, uint32_t len, uint16_t flags,
		    uint64_t arg0)
{
	struct ddvm_slot s;
	uint32_t seq = ++q->seq;
	int r;

	memset(&s, 0, sizeof(s));
	s.id = ddvm_cpu_to_le64(net_id_make(k, seq));
	s.op = ddvm_cpu_to_le16(op);
	s.buf_off = ddvm_cpu_to_le64(chunk_off(q, k));
	s.len = ddvm_cpu_to_le32(len);
	s.flags = ddvm_cpu_to_le16(flags);
	s.arg0 = ddvm_cpu_to_le64(arg0);
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
	q->reqs[k].flags = flags;
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

int tapq_tx_commit(struct tapq *q, uint32_t chunk, uint32_t len, uint16_t flags, uint64_t arg0)
{
	int r = push_req(q, chunk, DDVM_OP_NET_TX, len, flags, arg0);

	if (r < 0) {
		chunk_put(q, chunk);
		q->c->tx_ring_full += r == -ENOSPC;
		return r;
	}
	q->c->tx_gso += !!(flags & DDVM_F_NET_GSO_MASK);
	q->c->tx_csum += !!(flags & DDVM_F_NET_CSUM);
	return 0;
}

void tapq_rx_refill(struct tapq *q, int unpark)
{
	uint32_t k;

	if (unpark)
		q->rx_parked = 0;
	while (!q->broken && q->rx_posted + q->rx_parked < q->rx_target && chunk_get(q, &k) == 0)
		if (push_req(q, k, DDVM_OP_NET_RX, q->rx_cap, q->rx_flags, 0) < 0) {
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

static void count_bad(struct tapq *q, enum net_verdict v, uint32_t why, const struct ddvm_slot *s)
{
	uint64_t n = ++q->c->rx_bad[v];

	if (n <= LOG_FIRST || n % 1000 == 0)
		pr_warn("queue %u: dropped a bad response (%s%s%s: id %#llx op %u flags %#x status %u "
			"len %u arg0 %#llx), %llu so far", q->qi, net_verdict_str(v),
			v == NET_RESP_BAD_META ? " " : "",
			v == NET_RESP_BAD_META ? ddvm_net_meta_str(why) : "",
			(unsigned long long)ddvm_le64_to_cpu(s->id), ddvm_le16_to_cpu(s->op),
			ddvm_le16_to_cpu(s->flags), ddvm_le32_to_cpu(s->status),
			ddvm_le32_to_cpu(s->len), (unsigned long long)ddvm_le64_to_cpu(s->arg0),
			(unsigned long long)n);
}

/*
 * A received frame: hand it to the TAP behind a virtio_net_hdr with its
 * (validated) offload metadata; the kernel copies it once.
 */
static void rx_deliver(struct tapq *q, int tap_fd, uint32_t k, uint32_t len,
		       const struct ddvm_net_meta *m)
{
	struct virtio_net_hdr h;
	struct iovec iov[2];
	ssize_t n;

	memset(&h, 0, sizeof(h));
	if (m->flags & DDVM_F_NET_CSUM) {
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = ddvm_cpu_to_le16(m->csum_start);
		h.csum_offset = ddvm_cpu_to_le16(m->csum_offset);
	} else if (m->flags & DDVM_F_NET_CSUM_VALID) {
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if (m->gso_type) {
		h.gso_type = m->gso_type == DDVM_F_NET_GSO_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4
								 : VIRTIO_NET_HDR_GSO_TCPV6;
		if (m->flags & DDVM_F_NET_GSO_ECN)
			h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
		h.gso_size = ddvm_cpu_to_le16(m->gso_size);
		h.hdr_len = ddvm_cpu_to_le16(m->hdr_len);
	}
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(q->base + chunk_off(q, k));
	iov[1].iov_len = len;
	n = writev(tap_fd, iov, 2);
	if (n == (ssize_t)(sizeof(h) + len)) {
		q->c->rx_frames++;
		q->c->rx_bytes += len;
		q->c->rx_gso += m->gso_type != 0;
		q->c->rx_csum += !!(m->flags & DDVM_F_NET_CSUM);
		q->c->rx_csum_valid += !!(m->flags & DDVM_F_NET_CSUM_VALID);
	} else {
		q->c->rx_tap_error++;
	}
}

static void handle_resp(struct tapq *q, int tap_fd, const struct ddvm_slot *s)
{
	struct net_resp r;
	enum net_verdict v = net_resp_check(q->reqs, q->nchunks, q->q.data_off, q->chunk, q->mtu,
					    s, &r);

	if (v == NET_RESP_BAD_ID) {
		count_bad(q, v, 0, s);
		return;
	}
	/* The response ends request r.chunk, whatever else is wrong with it. */
	if (r.op == DDVM_OP_NET_RX)
		q->rx_posted--;
	else
		q->tx_out--;
	chunk_put(q, r.chunk);
	if (v != NET_RESP_OK) {
		if (v == NET_RESP_BAD_META && r.meta_why < DDVM_NET_META_NREASONS)
			q->c->rx_bad_meta[r.meta_why]++;
		count_bad(q, v, r.meta_why, s);
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
	rx_deliver(q, tap_fd, r.chunk, r.len, &r.meta);
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
