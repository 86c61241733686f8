// SPDX-License-Identifier: MIT
/* The supervisor's event loop (epoll) and timer helpers. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "ddvm/posix/log.h"

static int loop_fd = -1;
static int loop_done, loop_code;

int loop_init(void)
{
	loop_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop_fd < 0 ? -errno : 0;
}

int loop_add(struct watch *w, int fd, uint32_t events, watch_fn fn)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->fd = fd;
	w->fn = fn;
	return epoll_ctl(loop_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void loop_del(struct watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(loop_fd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
}

/*
 * One event at a time: a callback may delete other watches (e.g. a QEMU
 * exit tears down its sockets), so no stale batch entry is ever used.
 */
int loop_run(void)
{
	while (!loop_done) {
		struct epoll_event ev;
		int n = epoll_wait(loop_fd, &ev, 1, -1);

		if (n < 0 && errno != EINTR) {
			pr_err("epoll_wait: %m");
			return 1;
		}
		if (n == 1) {
			struct watch *w = ev.data.ptr;

			w->fn(w, ev.events);
		}
	}
	return loop_code;
}

void loop_stop(int code)
{
	loop_done = 1;
	loop_code = code;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_ms(void)
{
	return now_ns() / 1000000ull;
}

int timer_new(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

static int arm(int fd, uint64_t ms, int periodic)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (periodic)
		its.it_interval = its.it_value;
	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int timer_arm(int fd, uint64_t ms)
{
	return arm(fd, ms, 0);
}

int timer_arm_periodic(int fd, uint64_t ms)
{
	return arm(fd, ms, 1);
}

uint64_t timer_ack(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}
