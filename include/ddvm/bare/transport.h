/* SPDX-License-Identifier: MIT */
/*
 * libddvm's bare-metal transport: a ddvm channel reached through QEMU's
 * ivshmem-doorbell PCI function by an OS with no libc (include/ddvm/bare/pci.h
 * finds it).  BAR0 holds the registers -- IVPosition (our peer id) and
 * Doorbell (write peer << 16 | vector) --, BAR2 is the shared region.
 *
 * The OS gives it three things (struct ddvm_bare_env): a monotonic clock,
 * optionally a way to sleep until the next interrupt, optionally a log.
 * Incoming doorbells reach the OS as MSI-X interrupts; the OS's handler
 * calls ddvm_bare_doorbell(), and wait() returns when the vector it waits
 * for has rung.  Without interrupts (ddvm_bare_use_irqs not called), wait()
 * polls: it idles once (or spins with `pause`) and returns, so libddvm
 * looks at the region again -- a doorbell carries no data anyway.
 *
 * No peer_present hook: a VM cannot see ivshmem peers come and go; libddvm
 * notices a driver-VM restart by the header's generation and the
 * successor's resume_idx (docs/libddvm.md).  Freestanding, x86-64.
 */
#ifndef DDVM_BARE_TRANSPORT_H
#define DDVM_BARE_TRANSPORT_H

#include "../transport.h"

struct ddvm_bare_transport;

struct ddvm_bare_env {
	/* Monotonic nanoseconds.  Required. */
	uint64_t (*now_ns)(void *arg);
	/*
	 * Sleep until the next interrupt (e.g. cli; if nothing pending: sti;
	 * hlt; else sti).  Return after any interrupt: wait() checks its
	 * vector and its deadline, so the OS needs a periodic timer interrupt
	 * to bound deadlines.  NULL: wait() spins with `pause`.  bt says which
	 * channel waits: if ddvm_bare_pending(bt) & bt->waiting, its doorbell
	 * has rung already, do not sleep.
	 */
	void (*idle)(void *arg, struct ddvm_bare_transport *bt);
	/* One log line (no newline).  NULL: silent. */
	void (*log)(void *arg, int level, const char *line);
	void *arg;
};

struct ddvm_bare_transport {
	struct ddvm_transport t;	/* hand &bt->t to libddvm; t.priv points back here */
	volatile void *regs;		/* BAR0, mapped uncached */
	const struct ddvm_bare_env *env;
	uint32_t pending;		/* vectors rung, not yet consumed (atomic) */
	uint32_t waiting;		/* the vectors wait() is sleeping for (for idle) */
	int irqs;			/* doorbells arrive as interrupts */
	uint64_t rung, received;	/* doorbells out, in (counters) */
};

/*
 * Fill bt for a channel: registers mapped at regs, the region at region
 * (size bytes, the size of BAR2), name prefixing libddvm's log lines
 * ("disk0"; may be NULL).  Our peer id comes from IVPosition.
 */
void ddvm_bare_init(struct ddvm_bare_transport *bt, const struct ddvm_bare_env *env,
		    volatile void *regs, volatile void *region, uint64_t size, const char *name);

/* The OS routed this channel's MSI-X vectors to handlers that call
 * ddvm_bare_doorbell: wait() sleeps until its vector rings. */
void ddvm_bare_use_irqs(struct ddvm_bare_transport *bt, int on);

/* Doorbell `vector` of ours rang: call from the interrupt handler. */
void ddvm_bare_doorbell(struct ddvm_bare_transport *bt, uint16_t vector);

/* Vectors rung and not yet consumed (bit v = vector v); 0 none. */
uint32_t ddvm_bare_pending(const struct ddvm_bare_transport *bt);

/* Consume the doorbells of the vectors in mask: the bits that were set. */
uint32_t ddvm_bare_take(struct ddvm_bare_transport *bt, uint32_t mask);

#endif /* DDVM_BARE_TRANSPORT_H */
