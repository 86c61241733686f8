/* SPDX-License-Identifier: MIT */
/*
 * ddvm-tap's process state and event handlers (tap_loop.c), shared with
 * tap_main.c.  The net queue itself is libddvm's net client
 * (ddvm/net_client.h); ddvm-tap adds the TAP device, the event loop and the
 * stats file.
 */
#ifndef DDVM_TAP_APP_H
#define DDVM_TAP_APP_H

#include <stdint.h>

#include "ddvm/net_client.h"
#include "ddvm/posix/tap_dev.h"
#include "ddvm/posix/transport.h"

#define FRAME_MAX		65536
#define TAP_BATCH		64	/* frames read from the TAP per wakeup */

enum { EV_TAP = 1, EV_RESP, EV_SERVER, EV_TIMER, EV_SIGNAL };
enum { EXIT_SETUP = 1, EXIT_USAGE = 2, EXIT_CORRUPT = 3, EXIT_SERVER = 4 };

struct app {
	const char *socket, *tap_name, *stats;
	int tun_fd;			/* --tun-fd, or -1 */
	const char *bridge;		/* --bridge: the TAP joins it, up */
	struct ddvm_layout layout;	/* --layout, the supervisor's */
	int has_layout;
	uint32_t qi;
	unsigned int timeout_s;
	int exit_on_corrupt;

	struct ddvm_posix_transport pt;
	int connected;
	struct ddvm_netc c;
	void *cmem;			/* the client's memory (ddvm_netc_mem_bytes) */
	struct tap_dev tap;
	int epfd, tfd, sfd, resp_efd;

	int carrier;
	int corrupt_said;		/* the stats said "corrupt" since the queue broke */
	uint32_t mtu;			/* the TAP's */
	uint32_t tap_offered;		/* offloads last offered to the TAP (UINT32_MAX: none yet) */
	int tap_paused;			/* no TX chunk: stopped reading the TAP */
	int drop_mode;			/* paused a whole tick: read and drop instead */
	uint64_t ticks, pause_tick;
	uint64_t doorbells_in;
	uint8_t scratch[FRAME_MAX];	/* frames that are dropped */
};

/* libddvm's log lines, through ddvm-tap's log. */
void app_log(int level, const char *line);
/* The net client's rx function: a received frame goes to the TAP. */
int app_rx(void *arg, const volatile void *frame, uint32_t len, const struct ddvm_net_hdr *h);

/* Write the --stats file (if asked for). */
void app_stats_write(struct app *a);
/* Set the TAP's carrier (logged on change). */
void app_set_carrier(struct app *a, int on);
/*
 * Follow what the net client serves: the TAP's MTU, the offloads the host
 * stack may use on it (and so the client), the carrier.
 */
void app_follow(struct app *a);
/*
 * The driver VM rang, or the timer ticked (tick: RX buffers held back after
 * errors go out again): let the client do what is due, follow it.
 * -EPROTO if a ring is corrupt and --exit-on-corrupt.
 */
int app_poll(struct app *a, int tick);
/* The TAP is readable: frames -> NET_TX (batch); -EPROTO as app_poll. */
int app_tap_readable(struct app *a);
/* Stop (1) or resume (0) reading the TAP. */
void app_tap_pause(struct app *a, int pause);

#endif
