/* SPDX-License-Identifier: MIT */
/* ddvm-tap's --stats file: JSON, replaced atomically (tmp + rename). */
#ifndef DDVM_TAP_STATS_H
#define DDVM_TAP_STATS_H

#include "tap_queue.h"

struct tap_status {
	const char *tap;		/* TAP name */
	int link;			/* carrier we set */
	const char *state;		/* "waiting", "ready", "corrupt" */
	uint32_t generation;
	uint32_t queue;
};

/* Write path atomically.  0 or -errno. */
int tap_stats_write(const char *path, const struct tap_status *st, const struct tapq *q);

#endif
