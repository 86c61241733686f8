/* SPDX-License-Identifier: MIT */
/*
 * Ring operations shared unchanged by every side (guest modules, host
 * programs, bare-metal clients).  Freestanding: proto.h and compiler
 * builtins only.
 *
 * A struct ddvm_ring is private to one side: it holds that side's own index
 * (never re-read from shared memory, where the peer could change it) and the
 * last peer index it validated.  Functions return 0 or a positive value on
 * success and a negative DDVM_RING_E* code on failure.
 */
#ifndef DDVM_RING_H
#define DDVM_RING_H

#include "proto.h"

#define DDVM_RING_EFULL		(-1)	/* no free slot; nothing was written */
#define DDVM_RING_EEMPTY	(-2)	/* nothing to consume */
#define DDVM_RING_ECORRUPT	(-3)	/* the peer's index is impossible */
#define DDVM_RING_EINVAL	(-4)	/* bad arguments (layout) */
#define DDVM_RING_EAGAIN	(-5)	/* not known yet: look again later */

struct ddvm_ring {
	volatile struct ddvm_ring_shared *sh;	/* ring header in the region */
	volatile struct ddvm_slot *slots;	/* nslots entries after it */
	uint32_t nslots;			/* power of two */
	uint32_t idx;		/* our index: prod if producer, cons if consumer */
	uint32_t old;		/* idx when last published (event check) */
	uint32_t peer;		/* last validated peer index */
};

/*
 * Bind r to the ring at ring_off in a region of region_size bytes at base.
 * Checks nslots is a power of two in [1, DDVM_MAX_RING_SLOTS], ring_off is
 * DDVM_ALIGN-aligned and the ring lies inside the region.  Local indices
 * start at 0; call ddvm_ring_reset (owner) or ddvm_*_resume (reattach).
 */
int ddvm_ring_bind(struct ddvm_ring *r, volatile void *base, uint64_t region_size,
		   uint64_t ring_off, uint32_t nslots);

/* Host, when laying out a region: zero all shared indices and events. */
void ddvm_ring_reset(struct ddvm_ring *r);

/*
 * Reattach after a restart: take our own index from shared memory once
 * (it is ours, so a bad value only harms this ring, and is caught by the
 * in-flight check on the next operation).
 */
void ddvm_prod_resume(struct ddvm_ring *r);
void ddvm_cons_resume(struct ddvm_ring *r);

/*
 * Driver side, attaching (each boot): as resume, but indices that are
 * impossible together (prod - cons > nslots, left by a broken instance) are
 * made an empty ring by setting our own index to the peer's, so a client
 * whose rings were broken is served again.  Returns 1 if reset.
 * ddvm_cons_attach also publishes resume_idx / resume_gen (generation gen)
 * for the request ring, before the queue goes READY: the client learns
 * exactly which requests the previous instance had taken.
 */
int ddvm_cons_attach(struct ddvm_ring *r, uint32_t gen);
int ddvm_prod_attach(struct ddvm_ring *r);

/*
 * Client (producer of a request ring) whose driver VM died: where do the
 * requests the dead instance(s) took end?  Everything pushed before that
 * index was taken (and, unanswered, is lost with the instance); what
 * follows, up to our prod, the successor serves.  With no successor yet
 * (gen 0), at the live cons.  With successor generation gen: at the cons it
 * resumed from (resume_idx, published with resume_gen == gen before its
 * queue is READY) if it speaks minor >= 2 (guest_version, major << 16 |
 * minor, from the header), else at the live cons (an older driver VM; it
 * may have taken more since).  0 with *at, DDVM_RING_EAGAIN if the successor
 * has not published it yet, DDVM_RING_ECORRUPT if the index is impossible.
 */
int ddvm_prod_taken(struct ddvm_ring *r, uint32_t gen, uint32_t guest_version, uint32_t *at);

/*
 * Put our own index back into shared memory, where whoever broke the ring
 * may have scribbled over it (published entries only: pushed ones stay
 * unpublished).  A peer attaching then finds its side impossible against
 * ours and resets it (ddvm_cons_attach / ddvm_prod_attach), so the ring
 * heals.  Event indices are re-armed by the next want_* call.
 */
void ddvm_prod_restore(struct ddvm_ring *r);
void ddvm_cons_restore(struct ddvm_ring *r);

/* Producer: free slots now (>= 0), or DDVM_RING_ECORRUPT. */
int ddvm_prod_space(struct ddvm_ring *r);

/* Producer: write one slot (not yet visible).  0, EFULL or ECORRUPT. */
int ddvm_prod_push(struct ddvm_ring *r, const struct ddvm_slot *s);

/*
 * Producer: make pushed slots visible.  Returns 1 if the consumer asked to
 * be woken (ring its doorbell), else 0.
 */
int ddvm_prod_publish(struct ddvm_ring *r);

/*
 * Producer, when the ring is full: ask to be woken when space frees up.
 * Returns the free slots after re-checking (> 0: go on without waiting),
 * 0 to wait, or DDVM_RING_ECORRUPT.
 */
int ddvm_prod_want_space(struct ddvm_ring *r);

/* Consumer: entries waiting (>= 0), or DDVM_RING_ECORRUPT. */
int ddvm_cons_avail(struct ddvm_ring *r);

/*
 * Consumer: copy the next slot to *out (one copy; validate *out before use).
 * 0, DDVM_RING_EEMPTY or DDVM_RING_ECORRUPT.
 */
int ddvm_cons_pop(struct ddvm_ring *r, struct ddvm_slot *out);

/* Consumer: release popped slots.  Returns 1 if the producer asked to be woken. */
int ddvm_cons_publish(struct ddvm_ring *r);

/*
 * Consumer, when the ring is empty: ask for a doorbell on new work.
 * Returns entries waiting after re-checking (> 0: go on, no doorbell will
 * come for them), 0 to sleep, or DDVM_RING_ECORRUPT.
 */
int ddvm_cons_want_data(struct ddvm_ring *r);

#endif /* DDVM_RING_H */
