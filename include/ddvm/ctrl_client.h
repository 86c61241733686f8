/* SPDX-License-Identifier: MIT */
/*
 * libddvm control client: the client side of a DDVM_QK_CTRL queue (ping,
 * crash) and the driver VM's state as the header shows it.  Freestanding,
 * like the block client (ddvm/blk_client.h): one request in flight at a
 * time, no allocation, the caller serializes calls and drives time through
 * the transport.  The supervisor's `ddvm ping` / `ddvm crash` use it.
 */
#ifndef DDVM_CTRL_CLIENT_H
#define DDVM_CTRL_CLIENT_H

#include "region.h"
#include "ring.h"
#include "transport.h"

struct ddvm_ctrlc {
	struct ddvm_transport *t;
	uint32_t qi;
	struct ddvm_queue_info q;
	struct ddvm_ring req, resp;
	uint64_t seq;			/* the last ping's id */
	uint64_t id;			/* of the request in flight (0: none) */
	uint64_t cookie;		/* its expected echo */
	uint64_t t0, deadline;		/* ns */
	uint64_t stale, bad;		/* responses dropped / refused */
};

/* Bind queue qi of a validated layout (a CTRL queue).  0 or -DDVM_EINVAL / -DDVM_EPROTO. */
int ddvm_ctrlc_open(struct ddvm_ctrlc *c, struct ddvm_transport *t, const struct ddvm_layout *l,
		    uint32_t qi);

/*
 * Send one PING carrying cookie, answered within timeout_ms.  0,
 * -DDVM_EAGAIN (one in flight already), -DDVM_ENOSPC (request ring full:
 * the driver VM is not consuming), -DDVM_EPROTO (an impossible index),
 * -DDVM_ENOENT (the driver VM's peer cannot be rung: not attached).
 */
int ddvm_ctrlc_ping_send(struct ddvm_ctrlc *c, uint64_t cookie, uint32_t timeout_ms);

/*
 * Ask the driver VM to panic (fault injection: it answers NOTSUPP unless it
 * was booted with fault injection allowed; a crashing one does not answer).
 * Codes as ddvm_ctrlc_ping_send.
 */
int ddvm_ctrlc_crash(struct ddvm_ctrlc *c);
/*
 * Arm fault DDVM_FAULT_* (param: its parameter, e.g. IOERR's milliseconds)
 * in the driver VM (DDVM_OP_FAULT; honoured only with fault injection
 * allowed).  Sent like crash: 0, -DDVM_ENOSPC or -DDVM_EPROTO; its answer
 * is dropped as stale.
 */
int ddvm_ctrlc_fault(struct ddvm_ctrlc *c, uint32_t fault, uint64_t param);

/*
 * Take responses.  1 and *rtt_ns: the ping in flight was answered
 * correctly; 0: nothing yet; -DDVM_EIO: it was answered wrongly (status or
 * cookie); -DDVM_ETIMEDOUT: its deadline passed; -DDVM_EPROTO: the
 * response ring is corrupt.  The request is over after anything but 0.
 */
int ddvm_ctrlc_poll(struct ddvm_ctrlc *c, uint64_t *rtt_ns);

/* Give up on the request in flight (its late answer is dropped as stale). */
void ddvm_ctrlc_cancel(struct ddvm_ctrlc *c);

/* Synchronous ping with t->ops->wait: 0 with *rtt_ns, or a code as above. */
int ddvm_ctrlc_ping(struct ddvm_ctrlc *c, uint32_t timeout_ms, uint64_t *rtt_ns);

/* The driver VM's state, generation and heartbeat, validated (ddvm_guest_read). */
void ddvm_ctrlc_guest(const struct ddvm_ctrlc *c, struct ddvm_guest_view *out);

#endif /* DDVM_CTRL_CLIENT_H */
