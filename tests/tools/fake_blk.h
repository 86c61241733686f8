/* SPDX-License-Identifier: MIT */
/*
 * The block queue of the fake driver VM: serves requests against a backing
 * file, validating each as the guest module does, and on request misbehaves
 * (--evil) on every Nth READ/WRITE so that tests can check the client.
 */
#ifndef DDVM_TESTS_FAKE_BLK_H
#define DDVM_TESTS_FAKE_BLK_H

#include <stdint.h>

#include "ddvm/blk_check.h"
#include "ddvm/region.h"
#include "ddvm/ring.h"

enum fake_evil {
	EVIL_NONE, EVIL_WRONG_ID, EVIL_DUP_ID, EVIL_BAD_LEN, EVIL_BAD_STATUS, EVIL_BAD_OP,
	EVIL_CORRUPT_INDEX, EVIL_STALL, EVIL_SPIN,
};

struct fake_blk {
	volatile uint8_t *base;
	uint64_t region_size;
	uint32_t qi;
	struct ddvm_queue_info q;
	struct ddvm_ring req, resp;
	uint64_t chunk;

	int fd;				/* backing file */
	uint64_t capacity;
	uint32_t lbs, pbs, max_transfer, features;

	int evil;			/* enum fake_evil */
	unsigned int every;		/* misbehave on every Nth READ/WRITE */
	unsigned int linger_us;		/* wait this long before each batch (coalescing) */
	uint64_t nio, nserved, naffected;
	uint32_t max_depth;		/* most requests seen queued at once */
	int dead;			/* a ring is corrupt (or we corrupted it) */
	int spinning;			/* EVIL_SPIN struck: garbage responses, as fast as room allows */
	uint64_t nspun;
};

/* Parse an --evil name; -1 if unknown. */
int fake_evil_parse(const char *s);

/* Bind the rings of queue qi; 0 or -EINVAL. */
int fake_blk_bind(struct fake_blk *b, volatile void *base, const struct ddvm_layout *l,
		  uint32_t qi);

/* Publish the queue's state ABSENT (a new instance starting). */
void fake_blk_unpublish(struct fake_blk *b);

/* Publish the queue's state READY with the device's parameters. */
void fake_blk_publish(struct fake_blk *b);

/* Serve everything waiting.  Returns 1 if the client wants a doorbell. */
int fake_blk_serve(struct fake_blk *b);

#endif
