/* SPDX-License-Identifier: MIT */
/* The supervisor's single event loop: epoll over fds, each with a callback. */
#ifndef DDVM_HOST_LOOP_H
#define DDVM_HOST_LOOP_H

#include <stdint.h>

struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);

/* Embed one in whatever owns the fd; container_of gets back to the owner. */
struct watch {
	int fd;
	watch_fn fn;
};

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

int loop_init(void);
/* Watch fd for events (EPOLLIN...).  0 or -errno. */
int loop_add(struct watch *w, int fd, uint32_t events, watch_fn fn);
/* Stop watching (does not close the fd). */
void loop_del(struct watch *w);
/* Run callbacks until loop_stop(); returns the code given to loop_stop. */
int loop_run(void);
void loop_stop(int code);

/* Monotonic clock in milliseconds / nanoseconds. */
uint64_t now_ms(void);
uint64_t now_ns(void);

/* A one-shot timerfd (CLOCK_MONOTONIC); arm with ms = 0 to disarm. */
int timer_new(void);
int timer_arm(int fd, uint64_t ms);
int timer_arm_periodic(int fd, uint64_t ms);
/* Consume expirations; returns how many. */
uint64_t timer_ack(int fd);

#endif
