// SPDX-License-Identifier: MIT
/* ddvm-tap's event handlers: driver VM state, responses, TAP frames.  See tap_app.h. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ddvm/net_check.h"
#include "ddvm/posix/log.h"
#include "ddvm/posix/region_setup.h"
#include "tap_app.h"
#include "tap_stats.h"

static const char *state_name(const struct app *a)
{
	return a->q.broken ? "corrupt" : a->ready ? "ready" : "waiting";
}

void app_stats_write(struct app *a)
{
	struct tap_status st = { .tap = a->tap.name, .link = a->carrier, .state = state_name(a),
				 .generation = a->generation, .queue = a->qi };
	int r;

	if (!a->stats || !a->q.c)
		return;
	r = tap_stats_write(a->stats, &st, &a->q);
	if (r < 0)
		pr_warn("cannot write stats file %s: %s", a->stats, strerror(-r));
}

void app_ring_guest(struct app *a)
{
	int r = ddvm_peer_ring(&a->peer, a->guest_id, a->q.q.req_vector);

	if (r == 0)
		a->c.doorbells_out++;
	else
		pr_debug("cannot ring driver VM peer %u vector %u: %s", a->guest_id,
			 a->q.q.req_vector, strerror(-r));
}

/* Our peer id in the request ring header: the driver VM rings us there. */
static void announce_self(struct app *a)
{
	__atomic_store_n(&a->q.req.sh->client_peer_id, ddvm_cpu_to_le32(a->peer.id),
			 __ATOMIC_RELEASE);
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
	pr_info("TAP %s: carrier %s", a->tap.name, on ? "on" : "off");
}

#define NET_F_KNOWN	(DDVM_NET_F_CSUM | DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | DDVM_NET_F_TSO_ECN | \
			 DDVM_NET_F_RX_OFFLOAD)

/*
 * Follow the NIC's MTU and the driver VM's offloads: the TAP's MTU, the
 * offloads the host stack may use on it (TUNSETOFFLOAD), and the queue's
 * frame limits.  Offloads the TAP refuses are not used.
 */
static void app_follow(struct app *a, uint32_t mtu, uint32_t features)
{
	int r;

	features &= NET_F_KNOWN;
	if (a->q.chunk < DDVM_NET_GSO_MAX_FRAME)	/* a GSO frame would not fit a chunk */
		features &= ~(DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | DDVM_NET_F_TSO_ECN);
	if (mtu != a->mtu) {
		r = a->tap.fd >= 0 ? tap_dev_set_mtu(&a->tap, mtu) : 0;
		if (r < 0)
			pr_warn("TAP %s: cannot change MTU %u -> %u: %s", a->tap.name, a->mtu, mtu,
				strerror(-r));
		a->mtu = mtu;
	}
	if (a->tap.fd >= 0 && features != a->tap_features) {
		r = tap_dev_set_offload(&a->tap, features);
		if (r < 0) {
			pr_warn("TAP %s: cannot set offloads for driver VM features %#x: %s; "
				"without TX offloads", a->tap.name, features, strerror(-r));
			features &= DDVM_NET_F_RX_OFFLOAD;
			if (tap_dev_set_offload(&a->tap, 0) < 0)
				features = 0;
		} else {
			pr_info("TAP %s: offloads from driver VM features %#x", a->tap.name, features);
		}
		a->tap_features = features;
	}
	if (a->tap.fd >= 0)
		features = a->tap_features;
	else
		features &= DDVM_NET_F_RX_OFFLOAD;	/* TX offloads once the TAP has them */
	if (mtu != a->q.mtu || features != a->q.features)
		tapq_set_params(&a->q, mtu, features);
}

/*
 * Name what a bogus queue state got wrong, once per generation: a hostile
 * driver VM flipping its MAC must not flood the log.  ready -> !ready -> ready
 * re-arms it (each transition already logs a line).
 */
static void report_bogus(struct app *a, const struct ddvm_queue_state_info *s)
{
	uint32_t why = ddvm_net_params_check(s->mac, s->mtu);
	const uint8_t *m = s->mac;
	char what[96];

	if (a->bogus_said && a->bogus_gen == a->generation)
		return;
	a->bogus_said = 1;
	a->bogus_gen = a->generation;
	if (why == DDVM_NET_PARAMS_MTU)
		strfmt(what, sizeof(what), "an MTU of %u (not in %u..%u)", s->mtu, DDVM_NET_MTU_MIN,
		       DDVM_NET_MTU_MAX);
	else if (why != DDVM_NET_PARAMS_OK)
		strfmt(what, sizeof(what), "a %s %02x:%02x:%02x:%02x:%02x:%02x",
		       ddvm_net_params_str(why), m[0], m[1], m[2], m[3], m[4], m[5]);
	else
		strfmt(what, sizeof(what), "a queue state that does not exist");
	pr_warn("queue %u: driver VM generation %u published %s; %s until a driver VM publishes "
		"usable parameters", a->qi, a->generation, what,
		a->tap.fd >= 0 ? "TAP carrier off, queue not served" : "no TAP, queue not served");
}

/*
 * Re-read the driver VM's state: generation, guest and queue state, link.
 * Called on every doorbell and timer tick.  Returns the queue state copy.
 */
void app_state_check(struct app *a, struct ddvm_queue_state_info *s)
{
	struct ddvm_guest_view g;
	int ok;

	ddvm_guest_read(a->peer.shm, &g);
	ddvm_queue_state_read(a->peer.shm, &a->l, a->qi, s);
	announce_self(a);
	if (g.generation != a->generation) {
		pr_info("driver VM generation %u -> %u (restart): forgetting %u RX buffers and "
			"%u TX frames in flight", a->generation, g.generation, a->q.rx_posted,
			a->q.tx_out);
		a->generation = g.generation;
		a->need_reset = 1;
		a->ready = 0;
	}
	/* READY implies a usable MAC and MTU (ddvm_queue_state_read checked them) */
	ok = g.state == DDVM_GUEST_READY && s->state == DDVM_QS_READY;
	if (ok && !a->ready) {
		if (a->need_reset)
			tapq_reset(&a->q);
		a->need_reset = 0;
		a->guest_id = g.peer_id;
		app_follow(a, s->mtu, s->features);
		a->ready = 1;
		a->bogus_said = 0;
		tapq_rx_refill(&a->q, 1);
		if (tapq_publish(&a->q))
			app_ring_guest(a);
		pr_info("queue %u ready (driver VM peer %u, generation %u, mtu %u)", a->qi,
			a->guest_id, a->generation, a->mtu);
	} else if (!ok && a->ready) {
		a->ready = 0;
		if (!app_queue_bogus(s))	/* else report_bogus says why */
			pr_warn("queue %u not ready: driver VM %s, queue state %u error %u", a->qi,
				ddvm_guest_state_str(g.state), s->state, s->error);
	}
	if (!ok && g.state == DDVM_GUEST_READY && app_queue_bogus(s))
		report_bogus(a, s);
	if (a->ready) {
		a->guest_id = g.peer_id;
		app_follow(a, s->mtu, s->features);
	}
	app_set_carrier(a, a->ready && !a->q.broken && s->link_up);
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

/* After responses: resume reading once a TX chunk is free. */
static void tap_maybe_resume(struct app *a)
{
	if (a->q.tx_out + a->q.rx_target < a->q.nchunks) {
		a->drop_mode = 0;
		app_tap_pause(a, 0);
	}
}

/* Responses waiting: handle them; a corrupt ring stops the queue. */
int app_resp_poll(struct app *a)
{
	int ring = 0, r;

	if (!a->ready || a->q.broken)
		return 0;
	r = tapq_poll(&a->q, a->tap.fd, &ring);
	if (ring)
		app_ring_guest(a);
	if (a->tap_paused)
		tap_maybe_resume(a);
	if (r < 0) {
		app_set_carrier(a, 0);
		app_stats_write(a);
		if (a->exit_on_corrupt)
			return -EPROTO;
	}
	return 0;
}

/* Read one frame we cannot send; -1 once the TAP is empty. */
static int tap_discard(struct app *a, uint64_t *counter)
{
	ssize_t n = read(a->tap.fd, a->scratch, sizeof(a->scratch));

	if (n < 0)
		return -1;
	(*counter)++;
	return 0;
}

/*
 * The offload metadata of a frame read from the TAP (its virtio_net_hdr),
 * as slot flags and arg0, checked against what the driver VM takes.  0, or
 * -1: the frame cannot go (counted).  DATA_VALID means nothing on TX.
 */
static int tx_meta(struct app *a, const struct virtio_net_hdr *h, uint32_t len, uint16_t *flags,
		   uint64_t *arg0)
{
	uint16_t f = 0;
	struct ddvm_net_meta m;

	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		f |= DDVM_F_NET_CSUM;
	switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE: break;
	case VIRTIO_NET_HDR_GSO_TCPV4: f |= DDVM_F_NET_GSO_TCPV4; break;
	case VIRTIO_NET_HDR_GSO_TCPV6: f |= DDVM_F_NET_GSO_TCPV6; break;
	default: a->c.tx_offload++; return -1;	/* never offered (UFO, USO) */
	}
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		f |= DDVM_F_NET_GSO_ECN;
	*flags = f;
	*arg0 = ddvm_net_arg0(ddvm_le16_to_cpu(h->csum_start), ddvm_le16_to_cpu(h->csum_offset),
			      ddvm_le16_to_cpu(h->gso_size), ddvm_le16_to_cpu(h->hdr_len));
	if (ddvm_net_meta_check(f, *arg0, len, a->q.mtu, a->q.features, DDVM_NET_META_TX, &m) !=
	    DDVM_NET_META_OK) {
		a->c.tx_offload++;
		return -1;
	}
	return 0;
}

int app_tap_readable(struct app *a)
{
	int i, tried_poll = 0;

	for (i = 0; i < TAP_BATCH; i++) {
		volatile uint8_t *buf;
		struct virtio_net_hdr h;
		struct iovec iov[3];
		uint16_t flags;
		uint64_t arg0;
		uint32_t k;
		ssize_t n;

		if (!a->ready || a->q.broken) {
			if (tap_discard(a, &a->c.tx_not_ready) < 0)
				break;
			continue;
		}
		buf = tapq_tx_begin(&a->q, &k);
		if (!buf && !tried_poll) {
			tried_poll = 1;		/* completions may be waiting */
			if (app_resp_poll(a) < 0)
				return -EPROTO;
			buf = tapq_tx_begin(&a->q, &k);
		}
		if (!buf && !a->drop_mode && !a->q.broken) {
			app_tap_pause(a, 1);
			break;
		}
		if (!buf) {
			if (tap_discard(a, &a->c.tx_ring_full) < 0)
				break;
			continue;
		}
		iov[0].iov_base = &h;
		iov[0].iov_len = sizeof(h);
		iov[1].iov_base = (void *)buf;
		iov[1].iov_len = a->q.max_frame;
		iov[2].iov_base = a->scratch;
		iov[2].iov_len = sizeof(a->scratch);
		n = readv(a->tap.fd, iov, 3);
		if (n < 0) {
			tapq_tx_abort(&a->q, k);
			if (errno != EAGAIN && errno != EINTR)
				pr_warn("TAP %s: read: %s", a->tap.name, strerror(errno));
			break;
		}
		n -= (ssize_t)sizeof(h);
		if (n > (ssize_t)a->q.max_frame || n < (ssize_t)NET_ETH_MIN) {
			tapq_tx_abort(&a->q, k);
			if (n < (ssize_t)NET_ETH_MIN)
				a->c.tx_runt++;
			else
				a->c.tx_oversize++;
			continue;
		}
		if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
		    n > (ssize_t)a->q.mtu + (ssize_t)NET_ETH_EXTRA) {
			tapq_tx_abort(&a->q, k);
			a->c.tx_oversize++;	/* a plain frame over the MTU: never truncated */
			continue;
		}
		if (tx_meta(a, &h, (uint32_t)n, &flags, &arg0) < 0) {
			tapq_tx_abort(&a->q, k);
			continue;
		}
		tapq_tx_commit(&a->q, k, (uint32_t)n, flags, arg0);
	}
	if (tapq_publish(&a->q))
		app_ring_guest(a);
	return 0;
}
