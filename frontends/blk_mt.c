// SPDX-License-Identifier: MIT
/* The nbdkit front-end's block client over libddvm.  See blk_mt.h. */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "blk_mt.h"

#define W_MAX	16	/* pieces of one operation in flight */

static void nbd_log(int level, const char *line)
{
	if (level <= DDVM_LOG_WARN)
		nbdkit_error("%s", line);
	else
		nbdkit_debug("%s", line);
}

static void deadline_in(struct timespec *ts, unsigned int secs)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += secs;
}

static int past(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

static void cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

/* libddvm's completion callback, called under c->lock. */
static void on_done(void *arg, uint32_t k, void *cookie, int result)
{
	struct blkc *c = arg;

	(void)cookie;
	(void)result;
	c->done[k] = 1;
	pthread_cond_signal(&c->cv[k]);
}

/* After libddvm may have freed slots (release, late answers).  Lock held. */
static void wake_claimers(struct blkc *c)
{
	if (c->free_waiters && c->core.nfree)
		pthread_cond_broadcast(&c->free_cv);
}

static void *completion_thread(void *arg)
{
	struct blkc *c = arg;
	int efd = ddvm_posix_vector_fd(&c->pt, c->core.q.resp_vector);
	uint64_t dl = UINT64_MAX;	/* nothing submitted yet; the 500 ms net still holds */

	for (;;) {
		struct pollfd pf[3] = {
			{ .fd = efd, .events = POLLIN },
			{ .fd = c->stop_efd, .events = POLLIN },
			{ .fd = ddvm_posix_server_fd(&c->pt), .events = POLLIN },
		};
		struct timespec now;
		uint64_t t;
		int ms = 500, kick;	/* 500 ms: a safety net against a lost doorbell */

		clock_gettime(CLOCK_MONOTONIC, &now);
		t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		if (dl <= t)
			ms = 0;
		else if (dl - t < 500000000ull)
			ms = (int)((dl - t + 999999) / 1000000);
		poll(pf, 3, ms);
		if (pf[1].revents)
			break;
		if (pf[2].revents)
			ddvm_posix_process(&c->pt);
		if (pf[0].revents)
			ddvm_peer_drain(efd);
		pthread_mutex_lock(&c->lock);
		ddvm_blkc_poll(&c->core);
		wake_claimers(c);
		kick = ddvm_blkc_take_kick(&c->core);
		dl = ddvm_blkc_next_deadline(&c->core);	/* for the next sleep */
		pthread_mutex_unlock(&c->lock);
		if (kick)
			ddvm_blkc_ring(&c->core);
	}
	return NULL;
}

/* Claim a slot, waiting up to dl if wait.  Lock held.  Index, -EAGAIN or -EIO. */
static int claim(struct blkc *c, int wait, const struct timespec *dl)
{
	int k;

	while ((k = ddvm_blkc_claim(&c->core)) < 0) {
		if (!wait)
			return -EAGAIN;
		c->free_waiters++;
		k = pthread_cond_timedwait(&c->free_cv, &c->lock, dl);
		c->free_waiters--;
		if (k == ETIMEDOUT && c->core.nfree == 0) {
			nbdkit_error("ddvm: queue %u: no free request slot for %us (driver VM not "
				     "answering)", c->core.qi, c->timeout_s);
			return -EIO;
		}
	}
	c->done[k] = 0;
	return k;
}

/* Wait for slot k (libddvm enforces its deadline); copy read data; release it. */
static int finish(struct blkc *c, uint32_t k, void *rbuf)
{
	struct timespec tick;
	int res;

	pthread_mutex_lock(&c->lock);
	while (!c->done[k]) {
		deadline_in(&tick, 1);
		if (pthread_cond_timedwait(&c->cv[k], &c->lock, &tick) == ETIMEDOUT) {
			ddvm_blkc_poll(&c->core);	/* should the thread be late */
			if (ddvm_blkc_take_kick(&c->core))
				ddvm_blkc_ring(&c->core);
		}
	}
	res = ddvm_blkc_state(&c->core, k);
	pthread_mutex_unlock(&c->lock);
	/* Only now, with the response for this very slot validated; the slot is ours. */
	if (res == 0 && rbuf)
		ddvm_copy_from_region(rbuf, ddvm_blkc_buf(&c->core, k), c->core.slots[k].len);
	pthread_mutex_lock(&c->lock);
	ddvm_blkc_release(&c->core, k);
	wake_claimers(c);
	pthread_mutex_unlock(&c->lock);
	return res < 0 ? res : 0;
}

int blkc_io(struct blkc *c, uint16_t op, uint16_t flags, uint64_t off, uint64_t len,
	    void *rbuf, const void *wbuf)
{
	struct { uint32_t k; uint8_t *rbuf; } win[W_MAX];
	unsigned int nwin = 0, i;
	uint64_t pos = 0;
	int err = 0, r, kick;

	do {
		if (!err && (pos < len || (pos == 0 && len == 0)) && nwin < W_MAX) {
			uint32_t n = (uint32_t)(len - pos < c->st.max_transfer ? len - pos
									  : c->st.max_transfer);
			struct timespec dl;
			int k;

			deadline_in(&dl, c->timeout_s);
			pthread_mutex_lock(&c->lock);
			k = claim(c, nwin == 0, &dl);
			pthread_mutex_unlock(&c->lock);
			if (k >= 0) {
				if (wbuf)	/* the slot is ours until submitted */
					ddvm_copy_to_region(ddvm_blkc_buf(&c->core, (uint32_t)k),
							    (const uint8_t *)wbuf + pos, n);
				pthread_mutex_lock(&c->lock);
				r = ddvm_blkc_submit(&c->core, (uint32_t)k, op, flags, off + pos, n, NULL);
				if (r < 0) {
					ddvm_blkc_release(&c->core, (uint32_t)k);
					wake_claimers(c);
				}
				kick = ddvm_blkc_take_kick(&c->core);
				pthread_mutex_unlock(&c->lock);
				if (kick)	/* the doorbell's syscall outside the lock */
					ddvm_blkc_ring(&c->core);
				if (r < 0) {
					err = r;
				} else {
					win[nwin].k = (uint32_t)k;
					win[nwin].rbuf = rbuf ? (uint8_t *)rbuf + pos : NULL;
					nwin++;
				}
				pos += n;
				if (len == 0)
					pos = 1;	/* a flush is one piece */
				continue;
			}
			if (k != -EAGAIN)
				err = k;
		}
		if (nwin == 0)
			break;
		r = finish(c, win[0].k, win[0].rbuf);
		if (r < 0 && !err)
			err = r;
		for (i = 1; i < nwin; i++)
			win[i - 1] = win[i];
		nwin--;
	} while (nwin > 0 || (!err && pos < len));
	return err;
}

/*
 * Wait until the queue is READY.  A driver VM that publishes impossible
 * parameters is waited out (libddvm logs it once per generation): a
 * restarted instance may serve the disk properly.
 */
static int wait_ready(struct blkc *c, const struct blkc_params *prm, uint16_t tag)
{
	struct timespec dl;
	int r;

	deadline_in(&dl, prm->ready_timeout_s);
	for (;;) {
		struct pollfd pf = { .fd = ddvm_posix_server_fd(&c->pt), .events = POLLIN };

		r = ddvm_blkc_ready(&c->core, c->mem, ddvm_blkc_mem_bytes(&c->core),
				    prm->timeout_s * 1000u, tag, on_done, c);
		if (r != -DDVM_EAGAIN)
			return r;
		if (c->core.st.state == DDVM_QS_ERROR)
			deadline_in(&dl, prm->ready_timeout_s);	/* bogus: not a timeout */
		else if (past(&dl)) {
			nbdkit_error("ddvm: queue %u not ready after %us (driver VM not serving it)",
				     c->core.qi, prm->ready_timeout_s);
			return -ETIMEDOUT;
		}
		/* Nobody rings us for this: look again every 50 ms. */
		if (poll(&pf, 1, 50) == 1 && ddvm_posix_process(&c->pt) < 0)
			return -EPIPE;
	}
}

static void free_tables(struct blkc *c)
{
	free(c->mem);
	free(c->cv);
	free(c->done);
	c->mem = NULL;
	c->cv = NULL;
	c->done = NULL;
}

int blkc_open(struct blkc *c, const struct blkc_params *prm)
{
	uint16_t tag = 0;
	uint32_t k;
	int r;

	memset(c, 0, sizeof(*c));
	c->stop_efd = -1;
	c->timeout_s = prm->timeout_s;
	r = ddvm_posix_open(&c->pt, prm->socket, 10000, "ddvm", nbd_log);
	if (r < 0)
		return r;
	r = ddvm_blkc_open_layout(&c->core, &c->pt.t, prm->layout, prm->queue, prm->disk);
	if (r < 0)
		goto err;
	r = -ENOMEM;
	c->mem = aligned_alloc(8, (ddvm_blkc_mem_bytes(&c->core) + 7) / 8 * 8);
	c->cv = calloc(c->core.nslots, sizeof(*c->cv));
	c->done = calloc(c->core.nslots, 1);
	if (!c->mem || !c->cv || !c->done)
		goto err;
	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		tag = (uint16_t)getpid();
	r = wait_ready(c, prm, tag);
	if (r < 0)
		goto err;
	c->st = c->core.st;
	c->core.defer_ring = 1;		/* doorbells outside c->lock */
	pthread_mutex_init(&c->lock, NULL);
	cond_init(&c->free_cv);
	for (k = 0; k < c->core.nslots; k++)
		cond_init(&c->cv[k]);
	return 0;
err:
	free_tables(c);
	ddvm_posix_close(&c->pt);
	return r;
}

int blkc_start(struct blkc *c)
{
	int r;

	c->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_efd < 0)
		return -errno;
	r = pthread_create(&c->thread, NULL, completion_thread, c);
	if (r) {
		nbdkit_error("ddvm: cannot start the completion thread: %s", strerror(r));
		return -r;
	}
	c->thread_started = 1;
	return 0;
}

void blkc_close(struct blkc *c)
{
	uint64_t one = 1;

	if (c->thread_started) {
		if (write(c->stop_efd, &one, sizeof(one)) == sizeof(one))
			pthread_join(c->thread, NULL);
		c->thread_started = 0;
	}
	if (c->stop_efd >= 0)
		close(c->stop_efd);
	c->stop_efd = -1;
	free_tables(c);
	ddvm_posix_close(&c->pt);
}
