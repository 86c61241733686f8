/* SPDX-License-Identifier: MIT */
/*
 * A scriptable driver VM serving a disk to libddvm's block client
 * (lib/blk_client.c) over the fake transport of fake_chan.h, shared by
 * tests/unit/test-blkc.c and tests/fuzz/fuzz-blkc-model.c.  h->ch is the
 * channel (region, transport, time, the driver VM's rings and life).
 */
#ifndef DDVM_TESTS_BLKC_HARNESS_H
#define DDVM_TESTS_BLKC_HARNESS_H

#include "ddvm/blk_client.h"
#include "fake_chan.h"

#define H_MAX_SLOTS	64u

struct harness {
	struct fake_chan ch;
	uint8_t *disk;			/* what the driver VM serves */
	uint64_t capacity;
	uint32_t lbs, max_transfer;
	struct ddvm_blkc c;
	void *cmem;
	/* completions */
	unsigned int ndone[H_MAX_SLOTS];
	int result[H_MAX_SLOTS];
	void *cookie[H_MAX_SLOTS];
	void (*on_done)(struct harness *h, uint32_t k, void *cookie, int result);
};

static volatile struct ddvm_region_hdr *h_hdr(struct harness *h)
{
	return fc_hdr(&h->ch);
}

/* The driver VM publishes its queue state (READY with the harness's parameters). */
static void h_publish(struct harness *h, uint32_t max_transfer)
{
	volatile struct ddvm_queue_state *s = fc_qstate(&h->ch);

	s->capacity = ddvm_cpu_to_le64(h->capacity);
	s->logical_block_size = ddvm_cpu_to_le32(h->lbs);
	s->physical_block_size = ddvm_cpu_to_le32(h->lbs);
	s->max_transfer = ddvm_cpu_to_le32(max_transfer);
	s->features = ddvm_cpu_to_le32(DDVM_BLK_F_FLUSH | DDVM_BLK_F_FUA | DDVM_BLK_F_DISCARD |
					DDVM_BLK_F_WRITE_ZEROES);
	s->state = ddvm_cpu_to_le32(DDVM_QS_READY);
}

/* A driver VM instance attaches (fc_boot) and serves the disk. */
static void h_boot(struct harness *h)
{
	fc_boot(&h->ch);
	h_publish(h, h->max_transfer);
}

static void h_kill(struct harness *h)
{
	fc_kill(&h->ch);
}

static int h_take(struct harness *h, struct ddvm_slot *rq)
{
	return fc_take(&h->ch, rq);
}

static void h_answer(struct harness *h, const struct ddvm_slot *rq, uint32_t st)
{
	fc_answer(&h->ch, rq, st);
}

/* Driver: execute rq against the disk honestly; the status. */
static uint32_t h_exec(struct harness *h, const struct ddvm_slot *rq)
{
	uint16_t op = ddvm_le16_to_cpu(rq->op);
	uint64_t off = ddvm_le64_to_cpu(rq->offset), buf = ddvm_le64_to_cpu(rq->buf_off);
	uint32_t len = ddvm_le32_to_cpu(rq->len);
	uint64_t size = h->ch.size;
	uint8_t *mem = h->ch.mem;

	if (op == DDVM_OP_FLUSH)
		return DDVM_S_OK;
	if (off > h->capacity || len > h->capacity - off)
		return DDVM_S_RANGE;
	if ((op == DDVM_OP_READ || op == DDVM_OP_WRITE) && (buf > size || len > size - buf))
		return DDVM_S_INVAL;
	switch (op) {
	case DDVM_OP_READ: memcpy(mem + buf, h->disk + off, len); break;
	case DDVM_OP_WRITE: memcpy(h->disk + off, mem + buf, len); break;
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

	while (h->ch.present && h_take(h, &rq) == 0) {
		h_answer(h, &rq, h_exec(h, &rq));
		n++;
	}
	return n;
}

/* fake_chan's wait() hook (ch.serve_in_wait, for ddvm_blkc_io). */
static unsigned int h_serve(void *owner)
{
	return h_serve_all(owner);
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
	if (fc_init(&h->ch, &spec, 0, peer_present, h) < 0)
		return -1;
	h->ch.serve = h_serve;
	h->disk = calloc(1, capacity);
	if (!h->disk)
		return -1;
	h->capacity = capacity;
	h->lbs = lbs;
	h->max_transfer = max_transfer;
	h_boot(h);
	r = ddvm_blkc_open(&h->c, &h->ch.t, -1, 0);
	if (r < 0)
		return -1;
	h->cmem = aligned_alloc(8, (ddvm_blkc_mem_bytes(&h->c) + 7) / 8 * 8);
	r = ddvm_blkc_ready(&h->c, h->cmem, ddvm_blkc_mem_bytes(&h->c), 1000, 0xabcd,
			    with_cb ? h_done : NULL, h);
	return r < 0 ? -1 : 0;
}

static void h_fini(struct harness *h)
{
	fc_fini(&h->ch);
	free(h->disk);
	free(h->cmem);
}

#endif
