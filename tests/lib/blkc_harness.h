/* SPDX-License-Identifier: MIT */
/*
 * A fake transport and a scriptable driver VM around libddvm's block client
 * (lib/blk_client.c), shared by tests/unit/test-blkc.c and
 * tests/fuzz/fuzz-blkc-model.c.  Everything happens in one process on a
 * malloc'd region laid out by ddvm_region_setup: the "driver VM" is a pair
 * of proto/ring.c views of the same rings, its death is a flag the fake
 * transport's peer_present reports, its rebirth a new peer id and the next
 * generation; time is a counter the test advances.
 */
#ifndef DDVM_TESTS_BLKC_HARNESS_H
#define DDVM_TESTS_BLKC_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/blk_client.h"
#include "ddvm/posix/region_setup.h"

#define H_MAX_SLOTS	64u
#define H_SELF		5u	/* the client's peer id */

struct harness {
	uint8_t *mem;
	uint64_t size;
	struct ddvm_layout lay;
	struct ddvm_transport t;
	struct ddvm_transport_ops ops;
	uint64_t now;			/* ns */
	uint16_t guest;			/* the driver VM's peer id */
	int present;			/* its peer is on the channel */
	unsigned int rings;		/* doorbells rung to the driver VM */
	struct ddvm_ring dreq, dresp;	/* the driver VM's views */
	uint8_t *disk;			/* what the driver VM serves */
	uint64_t capacity;
	uint32_t lbs, max_transfer, nslots;
	int serve_in_wait;		/* wait() serves everything (ddvm_blkc_io) */
	int quiet;
	char last_log[320];
	unsigned int nlog;
	struct ddvm_blkc c;
	void *cmem;
	/* completions */
	unsigned int ndone[H_MAX_SLOTS];
	int result[H_MAX_SLOTS];
	void *cookie[H_MAX_SLOTS];
	void (*on_done)(struct harness *h, uint32_t k, void *cookie, int result);
};

static struct harness *h_of(struct ddvm_transport *t)
{
	return t->priv;
}

static int h_ring(struct ddvm_transport *t, uint16_t peer, uint16_t vector)
{
	struct harness *h = h_of(t);

	(void)vector;
	if (!h->present || peer != h->guest)
		return -DDVM_ENOENT;
	h->rings++;
	return 0;
}

static uint64_t h_now(struct ddvm_transport *t)
{
	return h_of(t)->now;
}

static int h_present(struct ddvm_transport *t, uint16_t peer)
{
	struct harness *h = h_of(t);

	return peer == h->guest && h->present;
}

static void h_log(struct ddvm_transport *t, int level, const char *line)
{
	struct harness *h = h_of(t);

	(void)level;
	snprintf(h->last_log, sizeof(h->last_log), "%s", line);
	h->nlog++;
	if (!h->quiet && level < DDVM_LOG_DEBUG)
		fprintf(stderr, "  log: %s\n", line);
}

static volatile struct ddvm_region_hdr *h_hdr(struct harness *h)
{
	return (volatile struct ddvm_region_hdr *)h->mem;
}

static volatile struct ddvm_queue_state *h_qstate(struct harness *h)
{
	return (volatile struct ddvm_queue_state *)(h->mem + DDVM_QUEUE_STATE_OFF);
}

/* The driver VM publishes its queue state (READY with the harness's parameters). */
static void h_publish(struct harness *h, uint32_t max_transfer)
{
	volatile struct ddvm_queue_state *s = h_qstate(h);

	s->capacity = ddvm_cpu_to_le64(h->capacity);
	s->logical_block_size = ddvm_cpu_to_le32(h->lbs);
	s->physical_block_size = ddvm_cpu_to_le32(h->lbs);
	s->max_transfer = ddvm_cpu_to_le32(max_transfer);
	s->features = ddvm_cpu_to_le32(DDVM_BLK_F_FLUSH | DDVM_BLK_F_FUA | DDVM_BLK_F_DISCARD |
					DDVM_BLK_F_WRITE_ZEROES);
	s->state = ddvm_cpu_to_le32(DDVM_QS_READY);
}

/* A driver VM instance attaches: new peer id, next generation, rings resumed. */
static void h_boot(struct harness *h)
{
	volatile struct ddvm_region_hdr *hd = h_hdr(h);

	h->guest++;
	h->present = 1;
	hd->guest_peer_id = ddvm_cpu_to_le16(h->guest);
	hd->generation = ddvm_cpu_to_le32(ddvm_le32_to_cpu(hd->generation) + 1);
	hd->guest_state = ddvm_cpu_to_le32(DDVM_GUEST_READY);
	hd->guest_version = ddvm_cpu_to_le32((uint32_t)DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR);
	ddvm_ring_bind(&h->dreq, h->mem, h->size, h->lay.q[0].req_ring_off, h->nslots);
	ddvm_ring_bind(&h->dresp, h->mem, h->size, h->lay.q[0].resp_ring_off, h->nslots);
	ddvm_cons_attach(&h->dreq, ddvm_le32_to_cpu(hd->generation));
	ddvm_prod_attach(&h->dresp);
	h_publish(h, h->max_transfer);
}

/* The driver VM dies: its peer leaves the channel. */
static void h_kill(struct harness *h)
{
	h->present = 0;
	h_qstate(h)->state = ddvm_cpu_to_le32(DDVM_QS_ABSENT);
}

/* Driver: take one request (copy in *rq).  0 or a ring code. */
static int h_take(struct harness *h, struct ddvm_slot *rq)
{
	int r = ddvm_cons_pop(&h->dreq, rq);

	if (r == 0)
		ddvm_cons_publish(&h->dreq);
	return r;
}

/* Driver: answer request rq with status st (len and op echoed). */
static void h_answer(struct harness *h, const struct ddvm_slot *rq, uint32_t st)
{
	struct ddvm_slot rs = *rq;

	rs.status = ddvm_cpu_to_le32(st);
	ddvm_prod_push(&h->dresp, &rs);
	ddvm_prod_publish(&h->dresp);
}

/* Driver: execute rq against the disk honestly; the status. */
static uint32_t h_exec(struct harness *h, const struct ddvm_slot *rq)
{
	uint16_t op = ddvm_le16_to_cpu(rq->op);
	uint64_t off = ddvm_le64_to_cpu(rq->offset), buf = ddvm_le64_to_cpu(rq->buf_off);
	uint32_t len = ddvm_le32_to_cpu(rq->len);

	if (op == DDVM_OP_FLUSH)
		return DDVM_S_OK;
	if (off > h->capacity || len > h->capacity - off)
		return DDVM_S_RANGE;
	if ((op == DDVM_OP_READ || op == DDVM_OP_WRITE) && (buf > h->size || len > h->size - buf))
		return DDVM_S_INVAL;
	switch (op) {
	case DDVM_OP_READ: memcpy(h->mem + buf, h->disk + off, len); break;
	case DDVM_OP_WRITE: memcpy(h->disk + off, h->mem + buf, len); break;
	case DDVM_OP_DISCARD:
	case DDVM_OP_WRITE_ZEROES: memset(h->disk + off, 0, len); break;
	default: return DDVM_S_NOTSUPP;
	}
	return DDVM_S_OK;
}

/* Driver: take and honestly answer everything waiting; how many. */
static unsigned int h_serve_all(struct harness *h)
{
	struct ddvm_slot rq;
	unsigned int n = 0;

	while (h->present && h_take(h, &rq) == 0) {
		h_answer(h, &rq, h_exec(h, &rq));
		n++;
	}
	return n;
}

static int h_wait(struct ddvm_transport *t, uint16_t vector, uint64_t deadline_ns)
{
	struct harness *h = h_of(t);

	(void)vector;
	if (h->serve_in_wait && h_serve_all(h))
		return 1;
	if (deadline_ns > h->now)
		h->now = deadline_ns;	/* nothing happens: time passes */
	return 0;
}

static void h_done(void *arg, uint32_t k, void *cookie, int result)
{
	struct harness *h = arg;

	if (k < H_MAX_SLOTS) {
		h->ndone[k]++;
		h->result[k] = result;
		h->cookie[k] = cookie;
	}
	if (h->on_done)
		h->on_done(h, k, cookie, result);
}

/*
 * Set up a region with one block queue of nslots, each chunk bytes, a disk
 * of capacity bytes, boot a driver VM and open the client.  with_cb: give
 * the client h_done (else NULL, for ddvm_blkc_io); peer_present: whether the
 * transport can tell peers leaving.  0 or -1.
 */
static int h_init(struct harness *h, uint32_t nslots, uint64_t chunk, uint32_t max_transfer,
		  uint32_t lbs, uint64_t capacity, int with_cb, int peer_present)
{
	struct ddvm_region_spec spec = { .host_peer_id = 0, .heartbeat_period_ms = 100,
					 .pci_table_max = 4, .nqueues = 1 };
	int r;

	memset(h, 0, sizeof(*h));
	spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_BLOCK, .nslots = nslots,
					      .data_size = nslots * chunk, .req_vector = 1,
					      .resp_vector = 2 };
	for (h->size = DDVM_MIN_REGION_SIZE; h->size < ddvm_region_bytes_needed(&spec); h->size <<= 1)
		;
	h->mem = aligned_alloc(4096, h->size);
	h->disk = calloc(1, capacity);
	if (!h->mem || !h->disk || ddvm_region_setup(h->mem, h->size, &spec, &h->lay) < 0)
		return -1;
	h->capacity = capacity;
	h->lbs = lbs;
	h->max_transfer = max_transfer;
	h->nslots = nslots;
	h->now = 1000000000ull;
	h->guest = 10;
	h->ops = (struct ddvm_transport_ops){ .ring = h_ring, .now_ns = h_now, .wait = h_wait,
					      .peer_present = peer_present ? h_present : NULL,
					      .log = h_log };
	h->t = (struct ddvm_transport){ .ops = &h->ops, .base = h->mem, .size = h->size,
					.self_id = H_SELF, .name = "test", .priv = h };
	h_boot(h);
	r = ddvm_blkc_open(&h->c, &h->t, -1, 0);
	if (r < 0)
		return -1;
	h->cmem = aligned_alloc(8, (ddvm_blkc_mem_bytes(&h->c) + 7) / 8 * 8);
	r = ddvm_blkc_ready(&h->c, h->cmem, ddvm_blkc_mem_bytes(&h->c), 1000, 0xabcd,
			    with_cb ? h_done : NULL, h);
	return r < 0 ? -1 : 0;
}

static void h_fini(struct harness *h)
{
	free(h->mem);
	free(h->disk);
	free(h->cmem);
}

#endif
