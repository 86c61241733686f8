/* SPDX-License-Identifier: MIT */
/*
 * When to restart something the supervisor runs (a driver VM's QEMU, a
 * front-end) after it died, and when to give up.
 *
 * A failure after a healthy run is restarted at once: a client waiting on a
 * driver VM should pay its boot time, not a backoff too.  Failures in a row
 * back off exponentially (0, 1 s, 2 s, 4 s, ... up to backoff_max_ms), and
 * after max of them in a row it is given up.  A run that stayed healthy for
 * stable_ms ends the row: a driver VM that crashes once a day is restarted
 * every time, one that keeps failing is reported failed.  A front-end given
 * up on is started again once its driver VM is ready as a new instance
 * (restart_revive): a healthy successor may well have removed the cause.
 */
#ifndef DDVM_HOST_RESTART_POLICY_H
#define DDVM_HOST_RESTART_POLICY_H

#include <stdint.h>

struct restart_policy {
	unsigned int max;		/* restarts in a row before giving up */
	uint64_t stable_ms;		/* a healthy run this long ends the row */
	uint64_t backoff_max_ms;
};

/*
 * The thing died after having been healthy for healthy_ms (0: never healthy
 * in this run).  *row counts the restarts in a row so far; on a restart it
 * is incremented.  Returns the delay before restarting (0: at once), or -1:
 * give up (*row restarts in a row already; *row is left as it is).
 */
int64_t restart_next(const struct restart_policy *p, unsigned int *row, uint64_t healthy_ms);

/*
 * Something given up on depends on an instance of something else (a
 * front-end on its driver VM, whose generation numbers its instances).
 * Once that comes back ready as another instance than the one it was given
 * up under, what made it fail may be gone: returns 1 and clears *row, so
 * it is started again with a fresh row of max restarts.  Else returns 0 and
 * leaves *row as it is (the same instance: it stays given up).
 */
int restart_revive(unsigned int *row, uint32_t gave_up_instance, uint32_t ready_instance);

#endif
