// SPDX-License-Identifier: MIT
/*
 * ddvm-tap: exports one NET queue of a driver VM as a TAP device on the
 * host.  It joins the VM's ivshmem server as an ordinary peer (libddvm's
 * POSIX transport), adopts the NIC's MAC and MTU, follows its carrier, and
 * moves frames between the TAP and the queue through libddvm's net client
 * (ddvm/net_client.h; the protocol: docs/protocol.md 7c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ddvm/posix/bridge.h"
#include "ddvm/posix/layout_arg.h"
#include "ddvm/posix/log.h"
#include "tap_app.h"

#define DEFAULT_TIMEOUT_S	60	/* wait this long for the queue to become READY */
#define CONNECT_TIMEOUT_MS	5000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ddvm-tap --socket PATH --queue N [--tap NAME] [--bridge NAME]\n"
		"                [--stats FILE] [--tun-fd N] [--layout LAYOUT] [--timeout SECS]\n"
		"                [--exit-on-corrupt] [--help]\n"
		"Export NET queue N of the driver VM served at ivshmem socket PATH as a TAP.\n"
		"PATH fd:N: a connection to it on fd N (as ddvm hands it).\n"
		"The TAP takes the NIC's MAC and MTU and is left down: configure it and\n"
		"bring it up like any interface (ip addr add ...; ip link set NAME up).\n"
		"  --tap NAME         TAP name (default ddvm-<socket dir>-<N>)\n"
		"  --bridge NAME      make the TAP a port of host bridge NAME (which must\n"
		"                     exist) and bring it up, each time it is made\n"
		"  --stats FILE       write counters as JSON every second (atomically)\n"
		"  --tun-fd N         use /dev/net/tun open on fd N (as ddvm hands it: ddvm-tap\n"
		"                     then needs CAP_NET_ADMIN alone, not access to the device)\n"
		"  --layout LAYOUT    the channel's layout, from whoever wrote the region (the\n"
		"                     supervisor); without it, the region's own, checked\n"
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
 * Wait for the net client to be ready: the queue READY with a usable MAC and
 * MTU (in a->c.st and a->c.mtu: the ones the TAP takes).  A queue that
 * stays unpublished past the timeout is an error; a driver VM publishing
 * nonsense is not (the client logs it): it restarts the clock, so we wait
 * for a healthy instance instead of exiting into the supervisor's restart
 * loop.
 */
static int wait_ready(struct app *a)
{
	uint64_t bytes = ddvm_netc_mem_bytes(&a->c);
	struct timespec start, now;
	uint32_t seed;
	int r;

	a->cmem = calloc(1, bytes);
	if (!a->cmem)
		return -ENOMEM;
	/* Ids of a previous client of this queue (still held by the driver VM) must not match ours. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint32_t)time(NULL) * 2654435761u;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct epoll_event ev;
		uint64_t ticks;

		r = ddvm_netc_ready(&a->c, a->cmem, bytes, seed, app_rx, a);
		if (r != -DDVM_EAGAIN)
			return r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (a->c.st.state == DDVM_QS_ERROR && a->c.st.error == DDVM_QE_BOGUS)
			start = now;
		if (now.tv_sec - start.tv_sec >= (time_t)a->timeout_s) {
			struct ddvm_guest_view g;

			ddvm_guest_read(a->pt.t.base, &g);
			fprintf(stderr, "ddvm-tap: queue %u of %s not ready after %us "
				"(driver VM %s, queue state %u error %u, mtu %u)\n", a->qi, a->socket,
				a->timeout_s, ddvm_guest_state_str(g.state), a->c.st.state,
				a->c.st.error, a->c.st.mtu);
			return -ETIMEDOUT;
		}
		/* The driver VM rings us on queue state changes; re-check at least every 100 ms. */
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
		if (ddvm_posix_process(&a->pt) < 0)
			return -EPIPE;
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
	const struct ddvm_queue_state_info *s = &a->c.st;
	char tap_name[IFNAMSIZ], err[256];
	sigset_t sigs;
	int r;

	r = ddvm_posix_open(&a->pt, a->socket, CONNECT_TIMEOUT_MS, NULL, app_log);
	if (r < 0)
		return r;
	a->connected = 1;
	r = ddvm_netc_open_layout(&a->c, &a->pt.t, a->has_layout ? &a->layout : NULL, (int)a->qi,
				  0);
	if (r < 0)
		return r;
	a->resp_efd = ddvm_posix_vector_fd(&a->pt, a->c.q.resp_vector);
	if (a->resp_efd < 0) {
		fprintf(stderr, "ddvm-tap: the ivshmem server gave us no eventfd for vector %u\n",
			a->c.q.resp_vector);
		return -EPROTO;
	}
	/* TX offloads once the TAP has them (app_follow). */
	ddvm_netc_use(&a->c, DDVM_NET_F_RX_OFFLOAD);
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
	    epoll_add(a->epfd, ddvm_posix_server_fd(&a->pt), EV_SERVER) < 0 ||
	    epoll_add(a->epfd, a->tfd, EV_TIMER) < 0 || epoll_add(a->epfd, a->sfd, EV_SIGNAL) < 0) {
		fprintf(stderr, "ddvm-tap: event setup: %s\n", strerror(errno));
		return -errno;
	}
	r = wait_ready(a);
	if (r < 0)
		return r;
	a->mtu = a->c.mtu;
	default_tap_name(a->socket, a->qi, tap_name);
	r = tap_dev_open_on(&a->tap, a->tun_fd, a->tap_name ? a->tap_name : tap_name, a->mtu, s->mac,
			    1, err, sizeof(err));
	a->tun_fd = -1;		/* the TAP's now */
	if (r < 0) {
		fprintf(stderr, "ddvm-tap: %s\n", err);
		return r;
	}
	if (epoll_add(a->epfd, a->tap.fd, EV_TAP) < 0)
		return -errno;
	if (a->bridge && (r = ddvm_bridge_add_port(a->bridge, a->tap.name, err, sizeof(err))) < 0) {
		fprintf(stderr, "ddvm-tap: %s\n", err);
		return r;
	}
	pr_info("TAP %s: queue %u of %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, "
		"%u buffers of %llu bytes, driver VM features %#x", a->tap.name, a->qi, a->socket,
		s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5], a->mtu,
		a->c.nslots, (unsigned long long)a->c.chunk, s->features);
	app_follow(a);
	app_stats_write(a);
	return 0;
}

static int run(struct app *a)
{
	for (;;) {
		struct epoll_event evs[8];
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
				a->doorbells_in++;
				if (app_poll(a, 0) < 0)
					return EXIT_CORRUPT;
				break;
			case EV_SERVER:
				if (ddvm_posix_process(&a->pt) < 0) {
					pr_err("lost the ivshmem server at %s; exiting", a->socket);
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
				if (app_poll(a, 1) < 0)
					return EXIT_CORRUPT;
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
		{ "bridge", required_argument, NULL, 'b' },
		{ "stats", required_argument, NULL, 'S' },
		{ "tun-fd", required_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "layout", required_argument, NULL, 'L' },
		{ "exit-on-corrupt", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct app a;
	char err[160];
	unsigned long v;
	int o, qset = 0, ret;

	a.timeout_s = DEFAULT_TIMEOUT_S;
	a.tap.fd = a.epfd = a.tfd = a.sfd = a.resp_efd = a.tun_fd = -1;
	a.mtu = 1500;
	a.tap_offered = UINT32_MAX;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': a.socket = optarg; break;
		case 't': a.tap_name = optarg; break;
		case 'b': a.bridge = optarg; break;
		case 'S': a.stats = optarg; break;
		case 'F':
			if (parse_uint(optarg, 65535, &v) < 0 || v < 3) {
				fprintf(stderr, "ddvm-tap: --tun-fd %s: not a file descriptor (3..65535)\n",
					optarg);
				return EXIT_USAGE;
			}
			a.tun_fd = (int)v;
			break;
		case 'x': a.exit_on_corrupt = 1; break;
		case 'L':
			if (ddvm_layout_parse(optarg, &a.layout, err, sizeof(err)) < 0) {
				fprintf(stderr, "ddvm-tap: --layout: %s\n", err);
				return EXIT_USAGE;
			}
			a.has_layout = 1;
			break;
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
	if (a.connected)
		ddvm_posix_close(&a.pt);
	free(a.cmem);
	return ret;
}
