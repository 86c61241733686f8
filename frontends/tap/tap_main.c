// SPDX-License-Identifier: MIT
/*
 * ddvm-tap: exports one NET queue of a driver VM as a TAP device on the
 * host.  It joins the VM's ivshmem server as an ordinary peer, adopts the
 * NIC's MAC and MTU, follows its carrier, and moves frames between the TAP
 * and the queue (notes: docs/protocol.md, the net wire conventions).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"
#include "region_setup.h"
#include "tap_dev.h"
#include "tap_queue.h"
#include "tap_stats.h"

#define DEFAULT_TIMEOUT_S	60	/* wait this long for the queue to become READY */
#define CONNECT_TIMEOUT_MS	5000
#define TAP_BATCH		64	/* frames read from the TAP per wakeup */
#define FRAME_MAX		65536

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
	int carrier;
	uint32_t mtu;
	int tap_paused;			/* no TX chunk: stopped reading the TAP */
	int drop_mode;			/* paused a whole tick: read and drop instead */
	uint64_t ticks, pause_tick;
	uint8_t scratch[FRAME_MAX];	/* frames that are dropped */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ddvm-tap --socket PATH --queue N [--tap NAME] [--stats FILE]\n"
		"                [--timeout SECS] [--exit-on-corrupt] [--help]\n"
		"Export NET queue N of the driver VM served at ivshmem socket PATH as a TAP.\n"
		"  --tap NAME         TAP name (default ddvm-<socket dir>-<N>)\n"
		"  --stats FILE       write counters as JSON every second (atomically)\n"
		"  --timeout SECS     wait at most SECS for the queue to be READY (default %d)\n"
		"  --exit-on-corrupt  exit with status 3 if the driver VM corrupts a ring\n"
		"                     (default: carrier off, keep running, report it)\n",
		DEFAULT_TIMEOUT_S);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *out > max ? -1 : 0;
}

/* ddvm-<tail of the socket's directory name>-<queue>, at most 15 characters. */
static void default_tap_name(const char *socket, uint32_t qi, char out[IFNAMSIZ])
{
	char dir[PATH_MAX], clean[IFNAMSIZ], suffix[16];
	const char *base, *slash;
	size_t n = 0, room, i, len;

	snprintf(dir, sizeof(dir), "%s", socket);
	slash = strrchr(dir, '/');
	if (slash)
		dir[slash - dir] = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	slash = strrchr(dir, '/');
	base = slash ? slash + 1 : dir;
	snprintf(suffix, sizeof(suffix), "-%u", qi);
	room = IFNAMSIZ - 1 - strlen("ddvm-") - strlen(suffix);
	len = strlen(base);
	for (i = len > room ? len - room : 0; i < len && n < room; i++) {
		char ch = base[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_')
			clean[n++] = ch;
	}
	clean[n] = '\0';
	strfmt(out, IFNAMSIZ, "ddvm-%s%s", n ? clean : "net", suffix);
}

static const char *state_name(const struct app *a)
{
	return a->q.broken ? "corrupt" : a->ready ? "ready" : "waiting";
}

static void stats_write(struct app *a)
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

static void ring_guest(struct app *a)
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

static void set_carrier(struct app *a, int on)
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

static int mtu_ok(uint32_t mtu)
{
	return mtu >= 68 && mtu <= 65535;
}

/*
 * Re-read the driver VM's state: generation, guest and queue state, link.
 * Called on every doorbell and timer tick.  Returns the queue state copy.
 */
static void state_check(struct app *a, struct ddvm_queue_state_info *s)
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
	ok = g.state == DDVM_GUEST_READY && s->state == DDVM_QS_READY && mtu_ok(s->mtu);
	if (ok && !a->ready) {
		if (a->need_reset)
			tapq_reset(&a->q);
		a->need_reset = 0;
		a->guest_id = g.peer_id;
		if (s->mtu != a->mtu) {
			int r = a->tap.fd >= 0 ? tap_dev_set_mtu(&a->tap, s->mtu) : 0;

			if (r < 0)
				pr_warn("TAP %s: cannot change MTU %u -> %u: %s", a->tap.name, a->mtu,
					s->mtu, strerror(-r));
			a->mtu = s->mtu;
			tapq_set_mtu(&a->q, s->mtu);
		}
		a->ready = 1;
		tapq_rx_refill(&a->q, 1);
		if (tapq_publish(&a->q))
			ring_guest(a);
		pr_info("queue %u ready (driver VM peer %u, generation %u, mtu %u)", a->qi,
			a->guest_id, a->generation, a->mtu);
	} else if (!ok && a->ready) {
		a->ready = 0;
		pr_warn("queue %u not ready: driver VM %s, queue state %u error %u", a->qi,
			ddvm_guest_state_str(g.state), s->state, s->error);
	}
	if (a->ready)
		a->guest_id = g.peer_id;
	set_carrier(a, a->ready && !a->q.broken && s->link_up);
}

/*
 * Backpressure: with every TX chunk in flight, stop reading the TAP (the
 * kernel queues, then drops, frames) until a completion frees one.  A driver
 * VM that completes nothing for a whole timer tick gets drop mode instead:
 * frames are read and dropped as ring_full, so nothing waits forever.
 */
static void tap_pause(struct app *a, int pause)
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
		tap_pause(a, 0);
	}
}

/* Responses waiting: handle them; a corrupt ring stops the queue. */
static int resp_poll(struct app *a)
{
	int ring = 0, r;

	if (!a->ready || a->q.broken)
		return 0;
	r = tapq_poll(&a->q, a->tap.fd, &ring);
	if (ring)
		ring_guest(a);
	if (a->tap_paused)
		tap_maybe_resume(a);
	if (r < 0) {
		set_carrier(a, 0);
		stats_write(a);
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

static int tap_readable(struct app *a)
{
	int i, tried_poll = 0;

	for (i = 0; i < TAP_BATCH; i++) {
		volatile uint8_t *buf;
		struct iovec iov[2];
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
			if (resp_poll(a) < 0)
				return -EPROTO;
			buf = tapq_tx_begin(&a->q, &k);
		}
		if (!buf && !a->drop_mode && !a->q.broken) {
			tap_pause(a, 1);
			break;
		}
		if (!buf) {
			if (tap_discard(a, &a->c.tx_ring_full) < 0)
				break;
			continue;
		}
		iov[0].iov_base = (void *)buf;
		iov[0].iov_len = a->q.max_frame;
		iov[1].iov_base = a->scratch;
		iov[1].iov_len = sizeof(a->scratch);
		n = readv(a->tap.fd, iov, 2);
		if (n < 0) {
			tapq_tx_abort(&a->q, k);
			if (errno != EAGAIN && errno != EINTR)
				pr_warn("TAP %s: read: %s", a->tap.name, strerror(errno));
			break;
		}
		if (n > (ssize_t)a->q.max_frame || n < (ssize_t)NET_ETH_MIN) {
			tapq_tx_abort(&a->q, k);
			if (n < (ssize_t)NET_ETH_MIN)
				a->c.tx_runt++;
			else
				a->c.tx_oversize++;
			continue;
		}
		tapq_tx_commit(&a->q, k, (uint32_t)n);
	}
	if (tapq_publish(&a->q))
		ring_guest(a);
	return 0;
}

static int wait_ready(struct app *a)
{
	struct ddvm_queue_state_info s;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct ddvm_guest_view g;

		state_check(a, &s);
		if (a->ready)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)a->timeout_s) {
			ddvm_guest_read(a->peer.shm, &g);
			fprintf(stderr, "ddvm-tap: queue %u of %s not ready after %us "
				"(driver VM %s, queue state %u error %u, mtu %u)\n", a->qi, a->socket,
				a->timeout_s, ddvm_guest_state_str(g.state), s.state, s.error, s.mtu);
			return -ETIMEDOUT;
		}
		/* The driver VM rings us on queue state changes; re-check at least every 100 ms. */
		{
			struct epoll_event ev;

			uint64_t ticks;

			if (epoll_wait(a->epfd, &ev, 1, 100) > 0) {
				if (ev.data.u32 == EV_RESP)
					ddvm_peer_drain(a->resp_efd);
				else if (ev.data.u32 == EV_TIMER && read(a->tfd, &ticks, sizeof(ticks)) < 0)
					ticks = 0;
				else if (ev.data.u32 == EV_SIGNAL) {
					fprintf(stderr, "ddvm-tap: interrupted while waiting for queue %u\n",
						a->qi);
					return -EINTR;
				}
			}
			if (ddvm_peer_process(&a->peer) < 0) {
				fprintf(stderr, "ddvm-tap: %s\n", a->peer.err);
				return -EPIPE;
			}
		}
	}
}

static int epoll_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup(struct app *a)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct ddvm_queue_state_info s;
	char tap_name[IFNAMSIZ], err[256];
	uint32_t why, detail;
	sigset_t sigs;
	int r;

	r = ddvm_peer_connect(&a->peer, a->socket, CONNECT_TIMEOUT_MS);
	if (r < 0) {
		fprintf(stderr, "ddvm-tap: %s\n", a->peer.err);
		return r;
	}
	why = ddvm_region_check(a->peer.shm, a->peer.shm_size, &a->l, &detail);
	if (why != DDVM_REFUSE_NONE) {
		fprintf(stderr, "ddvm-tap: the region served at %s is unusable: %s (%s)\n", a->socket,
			ddvm_refusal_str(why),
			why == DDVM_REFUSE_LAYOUT ? ddvm_layout_str(detail) : "see detail");
		return -EPROTO;
	}
	if (a->qi >= a->l.nqueues || a->l.q[a->qi].kind != DDVM_QK_NET) {
		fprintf(stderr, "ddvm-tap: queue %u of %s is not a network queue (%u queues)\n",
			a->qi, a->socket, a->l.nqueues);
		return -EINVAL;
	}
	a->resp_efd = ddvm_peer_eventfd(&a->peer, a->l.q[a->qi].resp_vector);
	if (a->resp_efd < 0) {
		fprintf(stderr, "ddvm-tap: the ivshmem server gave us no eventfd for vector %u\n",
			a->l.q[a->qi].resp_vector);
		return -EPROTO;
	}
	r = tapq_init(&a->q, a->peer.shm, &a->l, a->qi, &a->c);
	if (r < 0) {
		fprintf(stderr, "ddvm-tap: queue %u: data area too small for %u buffers\n", a->qi,
			a->l.q[a->qi].nslots);
		return r;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (a->epfd < 0 || a->sfd < 0 || a->tfd < 0 || timerfd_settime(a->tfd, 0, &its, NULL) < 0 ||
	    epoll_add(a->epfd, a->resp_efd, EV_RESP) < 0 ||
	    epoll_add(a->epfd, a->peer.sock, EV_SERVER) < 0 ||
	    epoll_add(a->epfd, a->tfd, EV_TIMER) < 0 || epoll_add(a->epfd, a->sfd, EV_SIGNAL) < 0) {
		fprintf(stderr, "ddvm-tap: event setup: %s\n", strerror(errno));
		return -errno;
	}
	/* The generation we attach to is not a restart. */
	{
		struct ddvm_guest_view g;

		ddvm_guest_read(a->peer.shm, &g);
		a->generation = g.generation;
	}
	r = wait_ready(a);
	if (r < 0)
		return r;
	ddvm_queue_state_read(a->peer.shm, &a->l, a->qi, &s);
	default_tap_name(a->socket, a->qi, tap_name);
	r = tap_dev_open(&a->tap, a->tap_name ? a->tap_name : tap_name, a->mtu, s.mac, err,
			 sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ddvm-tap: %s\n", err);
		return r;
	}
	if (epoll_add(a->epfd, a->tap.fd, EV_TAP) < 0)
		return -errno;
	pr_info("TAP %s: queue %u of %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, "
		"%u buffers of %llu bytes", a->tap.name, a->qi, a->socket, s.mac[0], s.mac[1],
		s.mac[2], s.mac[3], s.mac[4], s.mac[5], a->mtu, a->q.nchunks,
		(unsigned long long)a->q.chunk);
	state_check(a, &s);
	stats_write(a);
	return 0;
}

static int run(struct app *a)
{
	for (;;) {
		struct epoll_event evs[8];
		struct ddvm_queue_state_info s;
		int n, i;

		n = epoll_wait(a->epfd, evs, 8, -1);
		if (n < 0 && errno != EINTR)
			return EXIT_SETUP;
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_TAP:
				if (tap_readable(a) < 0)
					return EXIT_CORRUPT;
				break;
			case EV_RESP:
				ddvm_peer_drain(a->resp_efd);
				a->c.doorbells_in++;
				state_check(a, &s);
				if (resp_poll(a) < 0)
					return EXIT_CORRUPT;
				break;
			case EV_SERVER:
				if (ddvm_peer_process(&a->peer) < 0) {
					pr_err("ivshmem server at %s: %s; exiting", a->socket,
					       a->peer.err);
					set_carrier(a, 0);
					return EXIT_SERVER;
				}
				break;
			case EV_TIMER: {
				uint64_t ticks;

				if (read(a->tfd, &ticks, sizeof(ticks)) < 0)
					break;
				a->ticks += ticks;
				if (a->tap_paused && a->ticks - a->pause_tick >= 2) {
					pr_warn("queue %u: no TX completion for a second; dropping "
						"frames until one arrives", a->qi);
					a->drop_mode = 1;
					tap_pause(a, 0);
				}
				state_check(a, &s);
				if (resp_poll(a) < 0)
					return EXIT_CORRUPT;
				if (a->ready && !a->q.broken) {
					tapq_rx_refill(&a->q, 1);
					if (tapq_publish(&a->q))
						ring_guest(a);
				}
				stats_write(a);
				break;
			}
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(a->sfd, &si, sizeof(si)) == sizeof(si)) {
					pr_info("signal %u: exiting", si.ssi_signo);
					return 0;
				}
				break;
			}
			}
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "queue", required_argument, NULL, 'q' },
		{ "tap", required_argument, NULL, 't' },
		{ "stats", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "exit-on-corrupt", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct app a;
	unsigned long v;
	int o, qset = 0, ret;

	a.timeout_s = DEFAULT_TIMEOUT_S;
	a.tap.fd = a.epfd = a.tfd = a.sfd = a.resp_efd = -1;
	a.mtu = 1500;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': a.socket = optarg; break;
		case 't': a.tap_name = optarg; break;
		case 'S': a.stats = optarg; break;
		case 'x': a.exit_on_corrupt = 1; break;
		case 'q':
			if (parse_uint(optarg, DDVM_MAX_QUEUES - 1, &v) < 0) {
				fprintf(stderr, "ddvm-tap: --queue %s: not a queue number (0..%u)\n",
					optarg, DDVM_MAX_QUEUES - 1);
				return EXIT_USAGE;
			}
			a.qi = (uint32_t)v;
			qset = 1;
			break;
		case 'T':
			if (parse_uint(optarg, 86400, &v) < 0 || v == 0) {
				fprintf(stderr, "ddvm-tap: --timeout %s: not a number of seconds\n", optarg);
				return EXIT_USAGE;
			}
			a.timeout_s = (unsigned int)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!a.socket || !qset || optind != argc) {
		fprintf(stderr, "ddvm-tap: --socket and --queue are required\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	log_set_debug(getenv("DDVM_DEBUG") && strcmp(getenv("DDVM_DEBUG"), "1") == 0);
	ret = setup(&a) < 0 ? EXIT_SETUP : run(&a);
	stats_write(&a);
	set_carrier(&a, 0);
	tap_dev_close(&a.tap);
	tapq_free(&a.q);
	if (a.peer.sock >= 0 || a.peer.shm)
		ddvm_peer_close(&a.peer);
	return ret;
}
