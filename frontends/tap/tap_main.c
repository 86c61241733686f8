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

#include "ddvm/posix/log.h"
#include "ddvm/posix/peer.h"
#include "ddvm/posix/region_setup.h"
#include "tap_app.h"

#define DEFAULT_TIMEOUT_S	60	/* wait this long for the queue to become READY */
#define CONNECT_TIMEOUT_MS	5000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ddvm-tap --socket PATH --queue N [--tap NAME] [--stats FILE]\n"
		"                [--timeout SECS] [--exit-on-corrupt] [--help]\n"
		"Export NET queue N of the driver VM served at ivshmem socket PATH as a TAP.\n"
		"The TAP takes the NIC's MAC and MTU and is left down: configure it and\n"
		"bring it up like any interface (ip addr add ...; ip link set NAME up).\n"
		"  --tap NAME         TAP name (default ddvm-<socket dir>-<N>)\n"
		"  --stats FILE       write counters as JSON every second (atomically)\n"
		"  --timeout SECS     wait at most SECS for the queue to be READY (default %d);\n"
		"                     a driver VM publishing a MAC or MTU no NIC has is waited\n"
		"                     out however long, for a healthy instance\n"
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

/*
 * Wait for the queue to be READY; *s gets the state copy that made it so (the
 * MAC and MTU the TAP takes: never re-read, the driver VM may have changed
 * them since).  A queue that stays unpublished past the timeout is an error;
 * a driver VM publishing nonsense is not: it restarts the clock, so we wait
 * for a healthy instance instead of exiting into the supervisor's restart
 * loop.
 */
static int wait_ready(struct app *a, struct ddvm_queue_state_info *s)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct ddvm_guest_view g;

		app_state_check(a, s);
		if (a->ready)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (app_queue_bogus(s))
			start = now;
		if (now.tv_sec - start.tv_sec >= (time_t)a->timeout_s) {
			ddvm_guest_read(a->peer.shm, &g);
			fprintf(stderr, "ddvm-tap: queue %u of %s not ready after %us "
				"(driver VM %s, queue state %u error %u, mtu %u)\n", a->qi, a->socket,
				a->timeout_s, ddvm_guest_state_str(g.state), s->state, s->error, s->mtu);
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
	r = wait_ready(a, &s);
	if (r < 0)
		return r;
	default_tap_name(a->socket, a->qi, tap_name);
	r = tap_dev_open(&a->tap, a->tap_name ? a->tap_name : tap_name, a->mtu, s.mac, 1, err,
			 sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ddvm-tap: %s\n", err);
		return r;
	}
	if (epoll_add(a->epfd, a->tap.fd, EV_TAP) < 0)
		return -errno;
	pr_info("TAP %s: queue %u of %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, "
		"%u buffers of %llu bytes, driver VM features %#x", a->tap.name, a->qi, a->socket,
		s.mac[0], s.mac[1], s.mac[2], s.mac[3], s.mac[4], s.mac[5], a->mtu, a->q.nchunks,
		(unsigned long long)a->q.chunk, s.features);
	app_state_check(a, &s);
	app_stats_write(a);
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
				if (app_tap_readable(a) < 0)
					return EXIT_CORRUPT;
				break;
			case EV_RESP:
				ddvm_peer_drain(a->resp_efd);
				a->c.doorbells_in++;
				app_state_check(a, &s);
				if (app_resp_poll(a) < 0)
					return EXIT_CORRUPT;
				break;
			case EV_SERVER:
				if (ddvm_peer_process(&a->peer) < 0) {
					pr_err("ivshmem server at %s: %s; exiting", a->socket,
					       a->peer.err);
					app_set_carrier(a, 0);
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
					app_tap_pause(a, 0);
				}
				app_state_check(a, &s);
				if (app_resp_poll(a) < 0)
					return EXIT_CORRUPT;
				if (a->ready && !a->q.broken) {
					tapq_rx_refill(&a->q, 1);
					if (tapq_publish(&a->q))
						app_ring_guest(a);
				}
				app_stats_write(a);
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
	a.tap_features = UINT32_MAX;
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
	app_stats_write(&a);
	app_set_carrier(&a, 0);
	tap_dev_close(&a.tap);
	tapq_free(&a.q);
	if (a.peer.sock >= 0 || a.peer.shm)
		ddvm_peer_close(&a.peer);
	return ret;
}
