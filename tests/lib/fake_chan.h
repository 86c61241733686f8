/* SPDX-License-Identifier: MIT */
/*
 * A fake transport and a fake driver VM serving one queue of a channel, for
 * the libddvm client harnesses (blkc_harness.h, netc_harness.h).
 * Everything happens in one process on a malloc'd region laid out by
 * ddvm_region_setup: the "driver VM" is a pair of proto/ring.c views of the
 * queue's rings, its death is a flag the fake transport's peer_present
 * reports, its rebirth a new peer id and the next generation; time is a
 * counter the test advances.  What a driver VM publishes in the queue state
 * is the harness's business.
 */
#ifndef DDVM_TESTS_FAKE_CHAN_H
#define DDVM_TESTS_FAKE_CHAN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/ring.h"
#include "ddvm/transport.h"
#include "ddvm/posix/region_setup.h"

#define FC_SELF		5u	/* the client's peer id */

struct fake_chan {
	uint8_t *mem;
	uint64_t size;
	struct ddvm_layout lay;
	struct ddvm_transport t;
	struct ddvm_transport_ops ops;
	uint32_t qi, nslots;		/* the queue the driver VM serves */
	uint64_t now;			/* ns */
	uint16_t guest;			/* the driver VM's peer id */
	int present;			/* its peer is on the channel */
	unsigned int rings;		/* doorbells rung to the driver VM */
	struct ddvm_ring dreq, dresp;	/* the driver VM's views */
	int quiet;
	char last_log[320];
	unsigned int nlog;
	/* wait(): with serve_in_wait, serve(owner) plays the driver VM (0: nothing to do) */
	int serve_in_wait;
	unsigned int (*serve)(void *owner);
	void *owner;
};

static struct fake_chan *fc_of(struct ddvm_transport *t)
{
	return t->priv;
}

static int fc_ring(struct ddvm_transport *t, uint16_t peer, uint16_t vector)
{
	struct fake_chan *fc = fc_of(t);

	(void)vector;
	if (!fc->present || peer != fc->guest)
		return -DDVM_ENOENT;
	fc->rings++;
	return 0;
}

static uint64_t fc_now(struct ddvm_transport *t)
{
	return fc_of(t)->now;
}

static int fc_present(struct ddvm_transport *t, uint16_t peer)
{
	struct fake_chan *fc = fc_of(t);

	return peer == fc->guest && fc->present;
}

static void fc_log(struct ddvm_transport *t, int level, const char *line)
{
	struct fake_chan *fc = fc_of(t);

	snprintf(fc->last_log, sizeof(fc->last_log), "%s", line);
	fc->nlog++;
	if (!fc->quiet && level < DDVM_LOG_DEBUG)
		fprintf(stderr, "  log: %s\n", line);
}

static int fc_wait(struct ddvm_transport *t, uint16_t vector, uint64_t deadline_ns)
{
	struct fake_chan *fc = fc_of(t);

	(void)vector;
	if (fc->serve_in_wait && fc->serve && fc->serve(fc->owner))
		return 1;
	if (deadline_ns > fc->now)
		fc->now = deadline_ns;	/* nothing happens: time passes */
	return 0;
}

static volatile struct ddvm_region_hdr *fc_hdr(struct fake_chan *fc)
{
	return (volatile struct ddvm_region_hdr *)fc->mem;
}

/* The queue state entry of the served queue. */
static volatile struct ddvm_queue_state *fc_qstate(struct fake_chan *fc)
{
	return (volatile struct ddvm_queue_state *)(fc->mem + DDVM_QUEUE_STATE_OFF) + fc->qi;
}

/* A driver VM instance attaches: new peer id, next generation, rings resumed. */
static void fc_boot(struct fake_chan *fc)
{
	volatile struct ddvm_region_hdr *hd = fc_hdr(fc);
	const struct ddvm_queue_info *q = &fc->lay.q[fc->qi];

	fc->guest++;
	fc->present = 1;
	hd->guest_peer_id = ddvm_cpu_to_le16(fc->guest);
	hd->generation = ddvm_cpu_to_le32(ddvm_le32_to_cpu(hd->generation) + 1);
	hd->guest_state = ddvm_cpu_to_le32(DDVM_GUEST_READY);
	hd->guest_version = ddvm_cpu_to_le32((uint32_t)DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR);
	ddvm_ring_bind(&fc->dreq, fc->mem, fc->size, q->req_ring_off, fc->nslots);
	ddvm_ring_bind(&fc->dresp, fc->mem, fc->size, q->resp_ring_off, fc->nslots);
	ddvm_cons_attach(&fc->dreq, ddvm_le32_to_cpu(hd->generation));
	ddvm_prod_attach(&fc->dresp);
}

/* The driver VM dies: its peer leaves the channel. */
static void fc_kill(struct fake_chan *fc)
{
	fc->present = 0;
	fc_qstate(fc)->state = ddvm_cpu_to_le32(DDVM_QS_ABSENT);
}

/* Driver: take one request (copy in *rq).  0 or a ring code. */
static int fc_take(struct fake_chan *fc, struct ddvm_slot *rq)
{
	int r = ddvm_cons_pop(&fc->dreq, rq);

	if (r == 0)
		ddvm_cons_publish(&fc->dreq);
	return r;
}

/* Driver: answer request rq with status st (the rest echoed). */
static void fc_answer(struct fake_chan *fc, const struct ddvm_slot *rq, uint32_t st)
{
	struct ddvm_slot rs = *rq;

	rs.status = ddvm_cpu_to_le32(st);
	ddvm_prod_push(&fc->dresp, &rs);
	ddvm_prod_publish(&fc->dresp);
}

/*
 * A region holding the queues of *spec, in the smallest power-of-two size
 * that fits; the driver VM serves queue qi.  peer_present: whether the
 * transport can tell peers leaving.  No instance has booted yet (fc_boot).
 * 0 or -1.
 */
static int fc_init(struct fake_chan *fc, const struct ddvm_region_spec *spec, uint32_t qi,
		   int peer_present, void *owner)
{
	memset(fc, 0, sizeof(*fc));
	for (fc->size = DDVM_MIN_REGION_SIZE; fc->size < ddvm_region_bytes_needed(spec);
	     fc->size <<= 1)
		;
	fc->mem = aligned_alloc(4096, fc->size);
	if (!fc->mem || ddvm_region_setup(fc->mem, fc->size, spec, &fc->lay) < 0)
		return -1;
	fc->qi = qi;
	fc->nslots = spec->q[qi].nslots;
	fc->now = 1000000000ull;
	fc->guest = 10;
	fc->owner = owner;
	fc->ops = (struct ddvm_transport_ops){ .ring = fc_ring, .now_ns = fc_now, .wait = fc_wait,
					       .peer_present = peer_present ? fc_present : NULL,
					       .log = fc_log };
	fc->t = (struct ddvm_transport){ .ops = &fc->ops, .base = fc->mem, .size = fc->size,
					 .self_id = FC_SELF, .name = "test", .priv = fc };
	return 0;
}

static void fc_fini(struct fake_chan *fc)
{
	free(fc->mem);
	fc->mem = NULL;
}

#endif
