// SPDX-License-Identifier: MIT
/* libddvm's POSIX transport.  See include/ddvm/posix/transport.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ddvm/posix/transport.h"

static struct ddvm_posix_transport *of(struct ddvm_transport *t)
{
	return (struct ddvm_posix_transport *)((char *)t - offsetof(struct ddvm_posix_transport, t));
}

static void stderr_log(int level, const char *line)
{
	static const char *const lv[] = { "error", "warn", "info", "debug" };
	const char *dbg = getenv("DDVM_DEBUG");

	if (level >= DDVM_LOG_DEBUG && !(dbg && strcmp(dbg, "1") == 0))
		return;
	fprintf(stderr, "%s: %s\n", lv[level < 0 ? 0 : level > 3 ? 3 : level], line);
}

static void tp_log(struct ddvm_transport *t, int level, const char *line)
{
	of(t)->log(level, line);
}

static int tp_ring(struct ddvm_transport *t, uint16_t peer, uint16_t vector)
{
	struct ddvm_posix_transport *pt = of(t);
	int r = ddvm_peer_ring(&pt->peer, peer, vector);

	/* A peer that joined since we last read the server socket. */
	if (r == -ENOENT && pt->sock_ok && ddvm_peer_process(&pt->peer) == 0)
		r = ddvm_peer_ring(&pt->peer, peer, vector);
	return r;
}

static uint64_t tp_now(struct ddvm_transport *t)
{
	struct timespec ts;

	(void)t;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int tp_wait(struct ddvm_transport *t, uint16_t vector, uint64_t deadline_ns)
{
	struct ddvm_posix_transport *pt = of(t);
	uint64_t n = tp_now(t);
	struct pollfd pf[2] = {
		{ .fd = ddvm_peer_eventfd(&pt->peer, vector), .events = POLLIN },
		{ .fd = pt->sock_ok ? pt->peer.sock : -1, .events = POLLIN },
	};
	int ms = deadline_ns <= n ? 0 : (deadline_ns - n) / 1000000 > 60000 ? 60000
		 : (int)((deadline_ns - n + 999999) / 1000000);

	if (poll(pf, 2, ms) < 0 && errno != EINTR)
		return -errno;
	if (pf[1].revents && ddvm_posix_process(pt) < 0)
		return -EPIPE;
	if (pf[0].revents && ddvm_peer_drain(pf[0].fd))
		return 1;
	return 0;
}

static int tp_present(struct ddvm_transport *t, uint16_t peer)
{
	return ddvm_peer_known(&of(t)->peer, peer);
}

static const struct ddvm_transport_ops posix_ops = {
	.ring = tp_ring,
	.now_ns = tp_now,
	.wait = tp_wait,
	.peer_present = tp_present,
	.log = tp_log,
};

int ddvm_posix_open(struct ddvm_posix_transport *pt, const char *path, int timeout_ms,
		    const char *name, ddvm_posix_log_fn *log)
{
	int r;

	memset(pt, 0, sizeof(*pt));
	pt->log = log ? log : stderr_log;
	pt->t.ops = &posix_ops;
	pt->t.name = name;
	r = ddvm_peer_connect(&pt->peer, path, timeout_ms);
	if (r < 0) {
		ddvm_logf(&pt->t, DDVM_LOG_ERR, "%s", pt->peer.err);
		return r;
	}
	pt->sock_ok = 1;
	pt->t.base = pt->peer.shm;
	pt->t.size = pt->peer.shm_size;
	pt->t.self_id = pt->peer.id;
	pt->t.priv = pt;
	return 0;
}

void ddvm_posix_close(struct ddvm_posix_transport *pt)
{
	ddvm_peer_close(&pt->peer);
	pt->t.base = NULL;
	pt->sock_ok = 0;
}

int ddvm_posix_process(struct ddvm_posix_transport *pt)
{
	int r;

	if (!pt->sock_ok)
		return -EPIPE;
	r = ddvm_peer_process(&pt->peer);
	if (r < 0) {
		ddvm_logf(&pt->t, DDVM_LOG_ERR, "ivshmem server: %s; doorbells to new peers are lost",
			  pt->peer.err);
		pt->sock_ok = 0;
	}
	return r;
}

int ddvm_posix_vector_fd(const struct ddvm_posix_transport *pt, unsigned int v)
{
	return ddvm_peer_eventfd(&pt->peer, v);
}

int ddvm_posix_server_fd(const struct ddvm_posix_transport *pt)
{
	return pt->sock_ok ? pt->peer.sock : -1;
}
