/* SPDX-License-Identifier: MIT */
/* ddvm-tap's process state and event handlers (tap_loop.c), shared with tap_main.c. */
#ifndef DDVM_TAP_APP_H
#define DDVM_TAP_APP_H

#include <stdint.h>

#include "ddvm/posix/peer.h"
#include "ddvm/posix/tap_dev.h"
#include "tap_queue.h"

#define FRAME_MAX		65536
#define TAP_BATCH		64	/* frames read from the TAP per wakeup */

enum { EV_TAP = 1, EV_RESP, EV_SERVER, EV_TIMER, EV_SIGNAL };
enum { EXIT_SETUP = 1, EXIT_USAGE = 2, EXIT_CORRUPT = 3, EXIT_SERVER = 4 };

struct app {
	const char *socket, *tap_name, *stats;
	uint32_t qi;
	unsigned int timeout_s;
	int exit_on_corrupt;

	struct ddvm_peer peer;
	struct ddvm_layout l;
	struct tap_counters c;
	struct tapq q;
	struct tap_dev tap;
	int epfd, tfd, sfd, resp_efd;

	uint32_t generation;
	int need_reset;			/* the driver VM restarted: forget, resume */
	uint16_t guest_id;
	int ready;			/* driver VM and queue READY, rings usable */
	int bogus_said;			/* logged that the queue state is nonsense ... */
	uint32_t bogus_gen;		/* ... in this generation (since it was last ready) */
	int carrier;
	uint32_t mtu;
	uint32_t tap_features;		/* DDVM_NET_F_* applied to the TAP (UINT32_MAX: none yet) */
	int tap_paused;			/* no TX chunk: stopped reading the TAP */
	int drop_mode;			/* paused a whole tick: read and drop instead */
	uint64_t ticks, pause_tick;
	uint8_t scratch[FRAME_MAX];	/* frames that are dropped */
};

/* Write the --stats file (if asked for). */
void app_stats_write(struct app *a);
/* Ring the driver VM's request doorbell. */
void app_ring_guest(struct app *a);
/* Set the TAP's carrier (logged on change). */
void app_set_carrier(struct app *a, int on);
/*
 * The driver VM published the queue READY with parameters no NIC has (a zero
 * or multicast MAC, an impossible MTU) or a state that does not exist
 * (ddvm_queue_state_read made it ERROR / BOGUS): not a queue that fails to
 * come up, an instance to wait out until a healthy one publishes.
 */
static inline int app_queue_bogus(const struct ddvm_queue_state_info *s)
{
	return s->state == DDVM_QS_ERROR && s->error == DDVM_QE_BOGUS;
}

/*
 * Re-read the driver VM's state (generation, guest and queue state, link),
 * reset on a restart, follow the link with the carrier.  *s gets the queue
 * state copy.  Called on every doorbell and timer tick.  A bogus queue state
 * is not served and is logged once per generation (again only after the
 * queue was usable in between).
 */
void app_state_check(struct app *a, struct ddvm_queue_state_info *s);
/* Handle waiting responses; -EPROTO if a ring is corrupt and --exit-on-corrupt. */
int app_resp_poll(struct app *a);
/* The TAP is readable: frames -> NET_TX (batch); -EPROTO as app_resp_poll. */
int app_tap_readable(struct app *a);
/* Stop (1) or resume (0) reading the TAP. */
void app_tap_pause(struct app *a, int pause);

#endif
