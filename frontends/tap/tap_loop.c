// SPDX-License-Identifier: MIT
/* ddvm-tap's event handlers: the net client's state, frames both ways.  See tap_app.h. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "tap_app.h"
#include "tap_stats.h"

void app_log(int level, const char *line)
{
	switch (level) {
	case DDVM_LOG_ERR: pr_err("%s", line); break;
	case DDVM_LOG_WARN: pr_warn("%s", line); break;
	case DDVM_LOG_INFO: pr_info("%s", line); break;
	default: pr_debug("%s", line); break;
	}
}

/* A received frame behind its virtio_net_hdr: the kernel copies it once. */
int app_rx(void *arg, const volatile void *frame, uint32_t len, const struct ddvm_net_hdr *h)
{
	struct app *a = arg;
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = sizeof(*h) },
		{ .iov_base = (void *)frame, .iov_len = len },
	};

	return writev(a->tap.fd, iov, 2) == (ssize_t)(sizeof(*h) + len) ? 0 : -1;
}

static const char *state_name(const struct ddvm_netc_stats *s)
{
	return s->broken ? "corrupt" : s->serving ? "ready" : "waiting";
}

void app_stats_write(struct app *a)
{
	struct ddvm_netc_stats s;
	struct tap_status st;
	int r;

	if (!a->stats || !a->cmem)
		return;
	ddvm_netc_stats(&a->c, &s);
	st = (struct tap_status){ .tap = a->tap.name, .link = a->carrier, .state = state_name(&s),
				  .queue = a->qi, .doorbells_in = a->doorbells_in };
	r = tap_stats_write(a->stats, &st, &s);
	if (r < 0)
		pr_warn("cannot write stats file %s: %s", a->stats, strerror(-r));
}

void app_set_carrier(struct app *a, int on)
{
	int r;

	if (a->carrier == on || a->tap.fd < 0)
		return;
	r = tap_dev_carrier(&a->tap, on);
	if (r < 0) {
		pr_warn("TAP %s: cannot set carrier %s: %s", a->tap.name, on ? "on" : "off",
			strerror(-r));
		return;
	}
	a->carrier = on;
	{
		static struct log_rl rl;	/* a driver VM flapping its link at will */

		log_msg_rl(&rl, "info", "TAP %s: carrier %s", a->tap.name, on ? "on" : "off");
	}
}

/*
 * Offer the host stack on the TAP the offloads the queue can use
 * (TUNSETOFFLOAD); the client uses those the TAP took.  The TAP cannot
 * refuse RX offload (frames we write): it is the client's alone.
 */
static void follow_offloads(struct app *a, uint32_t offered)
{
	uint32_t use = offered;
	int r;

	if (offered == a->tap_offered)
		return;
	r = tap_dev_set_offload(&a->tap, offered);
	if (r < 0) {
		pr_warn("TAP %s: cannot set offloads for driver VM features %#x: %s; without TX "
			"offloads", a->tap.name, offered, strerror(-r));
		use &= DDVM_NET_F_RX_OFFLOAD;
		if (tap_dev_set_offload(&a->tap, 0) < 0)
			use = 0;
	} else {
		pr_info("TAP %s: offloads from driver VM features %#x", a->tap.name, offered);
	}
	a->tap_offered = offered;
	ddvm_netc_use(&a->c, use);
}

void app_follow(struct app *a)
{
	struct ddvm_netc_stats s;
	int r;

	ddvm_netc_stats(&a->c, &s);
	if (s.serving && a->tap.fd >= 0) {
		if (s.mtu != a->mtu) {
			r = tap_dev_set_mtu(&a->tap, s.mtu);
			if (r < 0)
				pr_warn("TAP %s: cannot change MTU %u -> %u: %s", a->tap.name, a->mtu,
					s.mtu, strerror(-r));
			a->mtu = s.mtu;
		}
		follow_offloads(a, ddvm_netc_offered(&a->c));
	}
	app_set_carrier(a, s.serving && !s.broken && s.link_up);
}

/*
 * Backpressure: with every TX chunk in flight, stop reading the TAP (the
 * kernel queues, then drops, frames) until a completion frees one.  A driver
 * VM that completes nothing for a whole timer tick gets drop mode instead:
 * frames are read and dropped as ring_full, so nothing waits forever.
 */
void app_tap_pause(struct app *a, int pause)
{
	struct epoll_event ev = { .events = pause ? 0 : EPOLLIN, .data.u32 = EV_TAP };

	if (a->tap_paused == pause)
		return;
	if (epoll_ctl(a->epfd, EPOLL_CTL_MOD, a->tap.fd, &ev) < 0)
		return;
	a->tap_paused = pause;
	a->pause_tick = a->ticks;
}

int app_poll(struct app *a, int tick)
{
	int r = tick ? ddvm_netc_tick(&a->c) : ddvm_netc_poll(&a->c);

	app_follow(a);
	if (a->tap_paused && ddvm_netc_tx_room(&a->c) > 0) {
		a->drop_mode = 0;
		app_tap_pause(a, 0);
	}
	if (r == 0) {
		a->corrupt_said = 0;
		return 0;
	}
	if (!a->corrupt_said)		/* report it now, not at the next tick */
		app_stats_write(a);
	a->corrupt_said = 1;
	return a->exit_on_corrupt ? -EPROTO : 0;
}

/* Read one frame we cannot send; -1 once the TAP is empty. */
static int tap_discard(struct app *a)
{
	return read(a->tap.fd, a->scratch, sizeof(a->scratch)) < 0 ? -1 : 0;
}

int app_tap_readable(struct app *a)
{
	int i, k, tried_poll = 0;

	for (i = 0; i < TAP_BATCH; i++) {
		struct ddvm_net_hdr h;
		struct iovec iov[3];
		ssize_t n;

		k = ddvm_netc_tx_claim(&a->c);
		if (k == -DDVM_EAGAIN && !tried_poll) {
			tried_poll = 1;		/* completions may be waiting */
			if (app_poll(a, 0) < 0)
				return -EPROTO;
			k = ddvm_netc_tx_claim(&a->c);
		}
		if (k == -DDVM_EAGAIN && !a->drop_mode) {
			app_tap_pause(a, 1);
			break;
		}
		if (k < 0) {
			if (tap_discard(a) < 0)
				break;
			ddvm_netc_tx_dropped(&a->c, k);
			continue;
		}
		/* The frame goes straight into the chunk; what does not fit, to scratch. */
		iov[0] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
		iov[1] = (struct iovec){ .iov_base = (void *)ddvm_netc_tx_buf(&a->c, (uint32_t)k),
					 .iov_len = ddvm_netc_tx_max(&a->c) };
		iov[2] = (struct iovec){ .iov_base = a->scratch, .iov_len = sizeof(a->scratch) };
		n = readv(a->tap.fd, iov, 3);
		if (n < 0) {
			ddvm_netc_tx_abort(&a->c, (uint32_t)k);
			if (errno != EAGAIN && errno != EINTR)
				pr_warn("TAP %s: read: %s", a->tap.name, strerror(errno));
			break;
		}
		n -= (ssize_t)sizeof(h);
		/* Checked there: runts, oversize frames and metadata are counted and dropped. */
		ddvm_netc_tx_submit(&a->c, (uint32_t)k, n < 0 ? 0 : (uint32_t)n, &h);
	}
	ddvm_netc_flush(&a->c);
	return 0;
}
