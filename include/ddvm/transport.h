/* SPDX-License-Identifier: MIT */
/*
 * libddvm transport: what a client's environment gives the protocol code.
 * Freestanding (proto.h, <stdarg.h>).  libddvm never calls the OS itself:
 * everything it needs from outside goes through these hooks, so porting
 * libddvm to a new OS means writing one struct ddvm_transport_ops
 * (docs/libddvm.md).  Implementations: POSIX (lib/posix/transport.c: an
 * ivshmem client over the server socket and eventfds); the Linux-kernel and
 * bare-metal ones follow the same interface.
 *
 * libddvm takes no locks and starts no threads: a caller that uses one
 * client object from several threads serializes every call itself.
 */
#ifndef DDVM_TRANSPORT_H
#define DDVM_TRANSPORT_H

#ifdef __KERNEL__
#include <linux/stdarg.h>	/* a kernel build has no <stdarg.h> */
#else
#include <stdarg.h>
#endif
#include "proto.h"
#include "region.h"	/* ddvm_refusal_str and friends */

/*
 * Error codes, returned negated.  They have the values of Linux's errno
 * numbers, so a POSIX or Linux-kernel caller may pass them on unchanged.
 */
#define DDVM_ENOENT	2
#define DDVM_EIO	5
#define DDVM_EAGAIN	11
#define DDVM_ENOMEM	12
#define DDVM_ENODEV	19
#define DDVM_EINVAL	22
#define DDVM_ENOSPC	28
#define DDVM_EPROTO	71
#define DDVM_EOPNOTSUPP	95
#define DDVM_ETIMEDOUT	110

/* Log levels for ddvm_transport_ops.log. */
#define DDVM_LOG_ERR	0
#define DDVM_LOG_WARN	1
#define DDVM_LOG_INFO	2
#define DDVM_LOG_DEBUG	3

struct ddvm_transport;

struct ddvm_transport_ops {
	/* Ring doorbell `vector` of ivshmem peer `peer`.  0, or < 0 if that
	 * peer or vector is unknown (the driver VM also polls, so a lost
	 * doorbell only delays).  Required. */
	int (*ring)(struct ddvm_transport *t, uint16_t peer, uint16_t vector);
	/* Monotonic time in nanoseconds.  Required. */
	uint64_t (*now_ns)(struct ddvm_transport *t);
	/* Sleep until doorbell `vector` of ours rings (consuming it) or the
	 * monotonic time reaches deadline_ns; may return early.  1 rang,
	 * 0 timed out or woke early, < 0 the channel is gone.  Needed only by
	 * the synchronous helpers (ddvm_blkc_io, ddvm_ctrl_ping); NULL means
	 * they poll. */
	int (*wait)(struct ddvm_transport *t, uint16_t vector, uint64_t deadline_ns);
	/* Is ivshmem peer `peer` still on the channel?  1 yes, 0 it left,
	 * -1 cannot tell (then libddvm notices a driver-VM restart by its
	 * generation number only).  May be NULL (= -1). */
	int (*peer_present)(struct ddvm_transport *t, uint16_t peer);
	/* One log line, without a trailing newline.  May be NULL. */
	void (*log)(struct ddvm_transport *t, int level, const char *line);
};

struct ddvm_transport {
	const struct ddvm_transport_ops *ops;
	volatile void *base;	/* the channel's shared region, mapped */
	uint64_t size;		/* bytes mapped */
	uint16_t self_id;	/* our own ivshmem peer id */
	const char *name;	/* prefix of log lines, e.g. "ddvm: disk0"; may be NULL */
	void *priv;		/* the implementation's */
};

/*
 * Format like snprintf for the conversions %s %c %d %u %x %p %%, with
 * l / ll / z length modifiers, a field width and 0 / - flags.  Always
 * NUL-terminates (n > 0); returns the length written.
 */
unsigned int ddvm_vfmt(char *buf, unsigned int n, const char *fmt, va_list ap);
unsigned int ddvm_fmt(char *buf, unsigned int n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log one line through t->ops->log, prefixed with t->name. */
void ddvm_logf(struct ddvm_transport *t, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Rate limit by time for lines a driver VM can trigger at will (stale or
 * bad responses, bad frames): at most DDVM_RL_BURST lines per
 * DDVM_RL_INTERVAL_NS (the transport's clock) per limiter.  Returns 1 if
 * this line may go out, with *suppressed set to how many were held back
 * since the last one that did (then reset); 0 if it is held back.
 * Zero-initialise one per kind of line.
 */
#define DDVM_RL_BURST		5u
#define DDVM_RL_INTERVAL_NS	10000000000ull
struct ddvm_ratelimit {
	uint64_t start_ns;
	uint32_t n, suppressed;
};
int ddvm_ratelimit(struct ddvm_transport *t, struct ddvm_ratelimit *rl, uint32_t *suppressed);

/*
 * Consuming a ring is bounded per call (DDVM_REAP_BUDGET responses per
 * slot of the ring), so a driver VM that keeps its producer index moving
 * cannot hold a caller in a loop past its deadlines.  What is left then
 * is taken at the next call: the client rings its own response doorbell
 * (through t->ops->ring with t->self_id), so a caller that waits for that
 * doorbell comes back at once; with a transport that cannot ring itself
 * the caller's periodic poll takes it.
 */
#define DDVM_REAP_BUDGET	2u

/* Text for a DDVM_S_* status, an op, a negated DDVM_E* code. */
const char *ddvm_status_str(uint32_t status);
const char *ddvm_op_str(uint16_t op);
const char *ddvm_err_str(int err);
/* (Text for DDVM_REFUSE_*, DDVM_LAYOUT_*, DDVM_GUEST_* codes: region.h.) */

#endif /* DDVM_TRANSPORT_H */
