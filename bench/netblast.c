// SPDX-License-Identifier: MIT
/*
 * netblast: a tiny static network benchmark (TCP throughput, UDP small-packet
 * rate, UDP echo round trips) used on BOTH sides of bench/net.sh, on the host
 * and inside the driver VM (whose image has busybox only), so the two paths
 * are measured with the same tool.  Not a test; numeric IPv4 addresses only.
 *
 *   netblast server ADDR PORT
 *       TCP control on ADDR:PORT, UDP on the same port; serves clients one at
 *       a time, forever (stop it with a signal).
 *   netblast client ADDR PORT send SECS        TCP, client -> server
 *   netblast client ADDR PORT recv SECS        TCP, server -> client
 *   netblast client ADDR PORT udp SECS SIZE    SIZE-byte datagrams, client -> server
 *   netblast client ADDR PORT rtt COUNT        UDP echo, one at a time, 1 ms apart
 * The client retries connecting for 60 s, then prints one line:
 *   MODE key=value ...   (cpu= is the client's own user+system seconds)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { M_SEND = 1, M_RECV, M_UDP, M_RTT };
#define MAGIC	0x6e626c31u	/* "nbl1" */
#define BUFSZ	(64 * 1024)

struct req { uint32_t magic, mode, secs, size; };

static char buf[BUFSZ];

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "netblast: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int full_io(int fd, void *p, size_t n, int wr)
{
	char *c = p;

	while (n) {
		ssize_t r = wr ? write(fd, c, n) : read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static struct sockaddr_in addr_of(const char *ip, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "netblast: '%s' is not an IPv4 address\n", ip);
		exit(2);
	}
	return a;
}

static double cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* UDP phase on the server: count (M_UDP) or echo (M_RTT) until the client's TCP word. */
static uint64_t serve_udp(int c, int u, uint32_t mode)
{
	struct pollfd p[2] = { { .fd = c, .events = POLLIN }, { .fd = u, .events = POLLIN } };
	uint64_t n = 0, done;

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll");
		if (p[1].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t r;

			while ((r = recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT, (void *)&from, &fl)) >= 0) {
				n++;
				if (mode == M_RTT)
					sendto(u, buf, (size_t)r, 0, (void *)&from, fl);
				fl = sizeof(from);
			}
		}
		if (p[0].revents) {
			full_io(c, &done, sizeof(done), 0);
			return n;
		}
	}
}

static _Noreturn void server(const char *ip, const char *port)
{
	struct sockaddr_in a = addr_of(ip, port);
	int one = 1, l, u;

	l = socket(AF_INET, SOCK_STREAM, 0);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	if (l < 0 || u < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (void *)&a, sizeof(a)) < 0 || bind(u, (void *)&a, sizeof(a)) < 0)
		die("bind");
	if (listen(l, 4) < 0)
		die("listen");
	for (;;) {
		struct req q;
		uint64_t n = 0;
		int c = accept(l, NULL, NULL);
		ssize_t r;

		if (c < 0)
			continue;
		if (full_io(c, &q, sizeof(q), 0) < 0 || q.magic != MAGIC)
			goto next;
		if (q.mode == M_SEND) {
			while ((r = read(c, buf, sizeof(buf))) > 0)
				n += (uint64_t)r;
			full_io(c, &n, sizeof(n), 1);
		} else if (q.mode == M_RECV) {
			double end = now() + q.secs;

			while (now() < end && full_io(c, buf, sizeof(buf), 1) == 0)
				;
		} else if (q.mode == M_UDP || q.mode == M_RTT) {
			while (recv(u, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
				;	/* stale datagrams of an earlier run */
			full_io(c, &n, sizeof(n), 1);	/* ready */
			n = serve_udp(c, u, q.mode);
			full_io(c, &n, sizeof(n), 1);
		}
next:
		close(c);
	}
}

static int connect_retry(struct sockaddr_in *a)
{
	double end = now() + 60;

	for (;;) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0)
			die("socket");
		if (connect(s, (void *)a, sizeof(*a)) == 0)
			return s;
		close(s);
		if (now() > end)
			die("connect");
		usleep(200 * 1000);	/* the server or the link is not up yet */
	}
}

static int cmp_dbl(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static int client(const char *ip, const char *port, const char *mode, uint32_t arg, uint32_t size)
{
	struct sockaddr_in a = addr_of(ip, port);
	struct req q = { .magic = MAGIC, .secs = arg, .size = size };
	uint64_t n = 0, got;
	double t0, t1, end;
	int s, u;
	ssize_t r;

	q.mode = !strcmp(mode, "send") ? M_SEND : !strcmp(mode, "recv") ? M_RECV :
		 !strcmp(mode, "udp") ? M_UDP : !strcmp(mode, "rtt") ? M_RTT : 0;
	if (!q.mode || !arg || (q.mode == M_UDP && (size < 1 || size > 1472))) {
		fprintf(stderr, "netblast: bad client mode or argument\n");
		return 2;
	}
	s = connect_retry(&a);
	if (full_io(s, &q, sizeof(q), 1) < 0)
		die("request");
	t0 = now();
	if (q.mode == M_SEND) {
		for (end = t0 + arg; now() < end;)
			if (full_io(s, buf, sizeof(buf), 1) < 0)
				die("send");
		shutdown(s, SHUT_WR);
		if (full_io(s, &got, sizeof(got), 0) < 0)
			die("server count");
		t1 = now();
		printf("tcp_send bytes=%llu secs=%.3f mbit_s=%.1f cpu=%.3f\n", (unsigned long long)got,
		       t1 - t0, got * 8 / (t1 - t0) / 1e6, cpu_self());
	} else if (q.mode == M_RECV) {
		while ((r = read(s, buf, sizeof(buf))) > 0)
			n += (uint64_t)r;
		t1 = now();
		printf("tcp_recv bytes=%llu secs=%.3f mbit_s=%.1f cpu=%.3f\n", (unsigned long long)n,
		       t1 - t0, n * 8 / (t1 - t0) / 1e6, cpu_self());
	} else {
		double *rtt = NULL;
		uint64_t lost = 0, i;
		struct timeval tv = { 1, 0 };

		u = socket(AF_INET, SOCK_DGRAM, 0);
		if (u < 0 || connect(u, (void *)&a, sizeof(a)) < 0)
			die("udp socket");
		if (full_io(s, &got, sizeof(got), 0) < 0)
			die("server ready");
		t0 = now();
		if (q.mode == M_UDP) {
			memset(buf, 0x5a, size);
			for (end = t0 + arg; now() < end;)
				if (send(u, buf, size, 0) == (ssize_t)size)
					n++;
			t1 = now();
			usleep(500 * 1000);	/* datagrams still queued on the way */
		} else {
			rtt = calloc(arg, sizeof(*rtt));
			setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			for (i = 0; i < arg; i++) {
				uint64_t seq = i, back;
				double ts = now();

				send(u, &seq, sizeof(seq), 0);
				do
					r = recv(u, &back, sizeof(back), 0);
				while (r == sizeof(back) && back != seq);
				if (r != sizeof(back)) {
					lost++;
					continue;
				}
				rtt[n++] = (now() - ts) * 1e6;
				usleep(1000);
			}
			t1 = now();
		}
		full_io(s, &n, sizeof(n), 1);	/* done */
		if (full_io(s, &got, sizeof(got), 0) < 0)
			die("server count");
		if (q.mode == M_UDP) {
			printf("udp size=%u sent=%llu received=%llu secs=%.3f sent_pps=%.0f recv_pps=%.0f cpu=%.3f\n",
			       size, (unsigned long long)n, (unsigned long long)got, t1 - t0,
			       n / (t1 - t0), got / (t1 - t0), cpu_self());
		} else {
			qsort(rtt, n, sizeof(*rtt), cmp_dbl);
			printf("rtt count=%llu lost=%llu p50_us=%.0f p99_us=%.0f min_us=%.0f max_us=%.0f\n",
			       (unsigned long long)n, (unsigned long long)lost, n ? rtt[n / 2] : 0,
			       n ? rtt[n * 99 / 100] : 0, n ? rtt[0] : 0, n ? rtt[n - 1] : 0);
		}
		free(rtt);
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		server(argv[2], argv[3]);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], argv[4], (uint32_t)atoi(argv[5]),
			      argc == 7 ? (uint32_t)atoi(argv[6]) : 0);
	fprintf(stderr, "usage: netblast server ADDR PORT\n"
		"       netblast client ADDR PORT send|recv SECS | udp SECS SIZE | rtt COUNT\n");
	return 2;
}
