/* SPDX-License-Identifier: MIT */
/* ddvm-tap's --stats file: JSON, replaced atomically (tmp + rename). */
#ifndef DDVM_TAP_STATS_H
#define DDVM_TAP_STATS_H

#include "ddvm/net_client.h"

struct tap_status {
	const char *tap;		/* TAP name */
	int link;			/* carrier we set */
	const char *state;		/* "waiting", "ready", "corrupt" */
	uint32_t queue;
	uint64_t doorbells_in;		/* response doorbells */
};

/* Write path atomically: *st and the net client's counters.  0 or -errno. */
int tap_stats_write(const char *path, const struct tap_status *st,
		    const struct ddvm_netc_stats *n);

#endif
