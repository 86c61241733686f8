/* SPDX-License-Identifier: MIT */
/*
 * libddvm block client: the client side of one DDVM_QK_BLOCK queue.
 * Freestanding: no libc, no malloc (the caller hands in memory), no locks
 * or threads (the caller serializes calls), no clock of its own (time comes
 * from the transport).  docs/libddvm.md has the API and a complete example.
 *
 * A request occupies one slot: its own data chunk in the region and its own
 * ring entry.  The life of a slot:
 *
 *   ddvm_blkc_claim  ->  (write data into ddvm_blkc_buf)  ->  ddvm_blkc_submit
 *     ->  ... ddvm_blkc_poll calls done(slot, result) ...
 *     ->  (read data out of ddvm_blkc_buf if result == 0)  ->  ddvm_blkc_release
 *
 * Nothing the driver VM writes is trusted: a response is copied once and
 * must match an outstanding request (id = tag | per-slot sequence | slot,
 * same op and len, a known status) before anything of it is used.  A bad
 * response fails its request with -DDVM_EIO; an impossible ring index fails
 * what is in flight and holds new requests until another driver-VM instance
 * serves the queue.  A request not answered by its deadline completes with
 * -DDVM_EIO and its slot stays quarantined (not reused) until the driver VM
 * answers it or dies.  When the driver VM dies, the requests it had taken
 * and not answered go again to its successor, one at a time; one that a
 * second instance dies holding alone is failed with -DDVM_EIO (a poison pill:
 * it crashes the driver), and the others complete.
 */
#ifndef DDVM_BLK_CLIENT_H
#define DDVM_BLK_CLIENT_H

#include "blk_check.h"
#include "region.h"
#include "ring.h"
#include "transport.h"

struct ddvm_blkc_slot {			/* private to blk_client.c */
	uint8_t state, suspect, squeued, pad;
	uint16_t op, flags;
	uint32_t seq, len, ridx;
	uint32_t prev, next;		/* the wait list (submitted, not pushed) */
	int32_t result;
	uint64_t offset, deadline, susno;
	void *cookie;
};

/* Completion: result is 0 or a negated DDVM_E* code. */
typedef void ddvm_blkc_done_fn(void *arg, uint32_t slot, void *cookie, int result);

struct ddvm_blkc {
	struct ddvm_transport *t;
	struct ddvm_layout lay;		/* private, validated copy */
	uint32_t qi;			/* queue index in the table */
	struct ddvm_queue_info q;
	struct ddvm_queue_state_info st;	/* parameters served (as first READY) */
	struct ddvm_ring req, resp;
	uint32_t nslots;
	uint64_t chunk;
	uint16_t tag;			/* bits 48..63 of every id */
	uint64_t timeout_ns;		/* per request, from submit */
	ddvm_blkc_done_fn *done;
	void *done_arg;

	struct ddvm_blkc_slot *slots;
	struct ddvm_blk_pending *pend;	/* view of slots for ddvm_blk_resp_check */
	uint32_t *free_stack, nfree;
	uint32_t wait_head, wait_tail;	/* FIFO of submitted, not yet pushed */
	uint64_t next_deadline;		/* no slot expires before this */
	int ready;			/* ddvm_blkc_ready succeeded */

	/* requests a dead driver VM held, resubmitted one at a time */
	uint64_t sus_seq;
	uint32_t serial;		/* suspects unanswered: new requests wait */
	int kick;			/* something was published: ring the driver VM */

	/* which driver-VM instance serves the queue */
	uint16_t gpeer, gone;
	uint8_t gpeer_valid, broken;	/* broken: a ring index was impossible */
	uint8_t dead_pending;		/* the instance left; what it took is not handled yet */
	uint8_t dead_handled;		/* the departure of generation gen was handled */
	uint32_t gen;			/* generation last seen */
	uint32_t broken_gen;		/* the instance that broke the rings */
	uint32_t bogus_gen;		/* 1 + last generation logged for bad parameters */
	uint32_t unbreak_gen;		/* 1 + last generation logged as not healed */

	/* counters (ddvm_blkc_stats) */
	uint64_t n_stale, n_bad, n_timeouts, n_resubmitted, n_poisoned, n_restarts;
	int defer_ring;			/* set by the caller: see ddvm_blkc_take_kick */
	struct ddvm_ratelimit rl_stale, rl_bad;	/* their log lines */
};

/*
 * Phase 1: check the region behind t, pick the queue (queue >= 0: that index
 * in the queue table; else the disk-th block queue) and say how much memory
 * phase 2 needs.  0 or a negated DDVM_E* code (logged).
 */
int ddvm_blkc_open(struct ddvm_blkc *c, struct ddvm_transport *t, int queue, int disk);
/* The same with the layout given by whoever wrote the region (the supervisor),
 * instead of reading it from shared memory; checked, and against t->size. */
int ddvm_blkc_open_layout(struct ddvm_blkc *c, struct ddvm_transport *t,
			  const struct ddvm_layout *lay, int queue, int disk);
uint64_t ddvm_blkc_mem_bytes(const struct ddvm_blkc *c);

/*
 * Phase 2, called until it returns something but -DDVM_EAGAIN: is the queue
 * READY with sane parameters?  Then bind the rings, lay out the slots in mem
 * (ddvm_blkc_mem_bytes, 8-byte aligned) and return 0.  -DDVM_EAGAIN while the
 * driver VM is not serving yet or publishes impossible parameters (logged
 * once per driver-VM generation: a restarted instance may do better),
 * -DDVM_ENODEV if it cannot serve the disk, other codes for a region that
 * cannot work.  timeout_ms bounds every request; done may be NULL (then use
 * ddvm_blkc_state).
 */
int ddvm_blkc_ready(struct ddvm_blkc *c, void *mem, uint64_t mem_bytes, uint32_t timeout_ms,
		    uint16_t tag, ddvm_blkc_done_fn *done, void *done_arg);

/* A free slot, or -DDVM_EAGAIN when every slot is in use. */
int ddvm_blkc_claim(struct ddvm_blkc *c);

/* Slot k's data chunk (chunk bytes): write data before submit, read after done. */
volatile void *ddvm_blkc_buf(const struct ddvm_blkc *c, uint32_t k);

/*
 * Submit claimed slot k: READ / WRITE of len bytes at off (a multiple of the
 * logical block size, len <= st.max_transfer, data in the chunk), FLUSH,
 * DISCARD or WRITE_ZEROES (no chunk; len up to the capacity).  flags:
 * DDVM_F_FUA on writes.  0, or -DDVM_EINVAL (the slot stays claimed).
 */
int ddvm_blkc_submit(struct ddvm_blkc *c, uint32_t k, uint16_t op, uint16_t flags, uint64_t off,
		     uint32_t len, void *cookie);

/*
 * Do everything that is due: notice a driver-VM restart, take responses,
 * push waiting requests, expire deadlines, ring the driver VM.  Call it when
 * the response doorbell rings, when ddvm_blkc_next_deadline passes, and when
 * the transport reports a change of peers.  Completions call done.
 */
void ddvm_blkc_poll(struct ddvm_blkc *c);

/*
 * Doorbells outside the caller's lock: a caller that sets c->defer_ring
 * gets no doorbell rung from inside submit or poll; after them (still under
 * its lock) ddvm_blkc_take_kick says whether one is owed, and the caller
 * rings it with ddvm_blkc_ring after releasing the lock (ddvm_blkc_ring
 * reads only what never changes and the header, and the transport's ring
 * must then be callable from any thread).
 */
int ddvm_blkc_take_kick(struct ddvm_blkc *c);
void ddvm_blkc_ring(const struct ddvm_blkc *c);

/* Earliest monotonic time (ns) at which poll has something to expire, or UINT64_MAX. */
uint64_t ddvm_blkc_next_deadline(const struct ddvm_blkc *c);

/* Slot k: 1 while its request is in progress, else its result (0 or negated code). */
int ddvm_blkc_state(const struct ddvm_blkc *c, uint32_t k);

/* Give back slot k after its completion (or a claim not submitted). */
void ddvm_blkc_release(struct ddvm_blkc *c, uint32_t k);

/*
 * Synchronous helper for single-threaded clients: one operation of any
 * length on [off, off + len) (aligned to the logical block size), split at
 * max_transfer, with up to every slot in flight; buf is read into or
 * written from (NULL for FLUSH / DISCARD / WRITE_ZEROES).  Sleeps with
 * t->ops->wait.  Needs done == NULL.  0 or a negated DDVM_E* code.
 */
int ddvm_blkc_io(struct ddvm_blkc *c, uint16_t op, uint16_t flags, uint64_t off, uint64_t len,
		 void *buf);

struct ddvm_blkc_stats {
	uint64_t stale, bad, timeouts, resubmitted, poisoned, restarts;
	uint32_t generation, in_flight;
	int broken;
};
void ddvm_blkc_stats(const struct ddvm_blkc *c, struct ddvm_blkc_stats *out);

/* Copy between ordinary memory and the region (no libc; volatile on the region side). */
void ddvm_copy_to_region(volatile void *dst, const void *src, uint64_t n);
void ddvm_copy_from_region(void *dst, const volatile void *src, uint64_t n);

#endif /* DDVM_BLK_CLIENT_H */
