// SPDX-License-Identifier: MIT
/* libddvm's bare-metal transport over an ivshmem-doorbell function.  See
 * include/ddvm/bare/transport.h.  Freestanding, x86-64. */
#include "ddvm/bare/transport.h"
#include "ddvm/bare/x86.h"

#define SPINS	256	/* pause iterations per wait() without interrupts or idle */

static struct ddvm_bare_transport *bare(struct ddvm_transport *t)
{
	return t->priv;
}

static int bt_ring(struct ddvm_transport *t, uint16_t peer, uint16_t vector)
{
	struct ddvm_bare_transport *bt = bare(t);

	/*
	 * The slots and the ring index (write-back memory) must be visible
	 * before the peer is interrupted: x86 keeps stores in order, sfence
	 * also covers write-combining mappings of the region.  A doorbell to
	 * a peer that left is dropped by QEMU; the driver VM also polls.
	 */
	ddvm_x86_wmb();
	ddvm_x86_mmio_write32((volatile uint8_t *)bt->regs + DDVM_IVSHMEM_DOORBELL,
			      (uint32_t)peer << 16 | vector);
	bt->rung++;
	return 0;
}

static uint64_t bt_now_ns(struct ddvm_transport *t)
{
	struct ddvm_bare_transport *bt = bare(t);

	return bt->env->now_ns(bt->env->arg);
}

static int bt_wait(struct ddvm_transport *t, uint16_t vector, uint64_t deadline_ns)
{
	struct ddvm_bare_transport *bt = bare(t);
	uint32_t bit = vector < 32 ? 1u << vector : 0, rang = 0;
	int i;

	bt->waiting = bit;	/* env->idle must not sleep once this has rung */
	for (;;) {
		rang = ddvm_bare_take(bt, bit);
		if (rang || bt->env->now_ns(bt->env->arg) >= deadline_ns)
			break;
		if (bt->env->idle) {
			bt->env->idle(bt->env->arg, bt);
		} else {
			for (i = 0; i < SPINS; i++)
				ddvm_x86_pause();
		}
		/* Without interrupts nothing sets `pending`: let the caller look
		 * at the region now (a doorbell carries no data anyway). */
		if (!bt->irqs)
			break;
	}
	bt->waiting = 0;
	return rang ? 1 : 0;
}

static void bt_log(struct ddvm_transport *t, int level, const char *line)
{
	struct ddvm_bare_transport *bt = bare(t);

	if (bt->env->log)
		bt->env->log(bt->env->arg, level, line);
}

static const struct ddvm_transport_ops bt_ops = {
	.ring = bt_ring,
	.now_ns = bt_now_ns,
	.wait = bt_wait,
	.log = bt_log,
};

void ddvm_bare_init(struct ddvm_bare_transport *bt, const struct ddvm_bare_env *env,
		    volatile void *regs, volatile void *region, uint64_t size, const char *name)
{
	*bt = (struct ddvm_bare_transport){ .regs = regs, .env = env };
	bt->t = (struct ddvm_transport){
		.ops = &bt_ops,
		.base = region,
		.size = size,
		.self_id = (uint16_t)ddvm_x86_mmio_read32((volatile uint8_t *)regs +
							   DDVM_IVSHMEM_IVPOSITION),
		.name = name,
		.priv = bt,
	};
}

void ddvm_bare_use_irqs(struct ddvm_bare_transport *bt, int on)
{
	bt->irqs = on;
}

void ddvm_bare_doorbell(struct ddvm_bare_transport *bt, uint16_t vector)
{
	if (vector < 32)
		__atomic_fetch_or(&bt->pending, 1u << vector, __ATOMIC_RELEASE);
	bt->received++;
}

uint32_t ddvm_bare_pending(const struct ddvm_bare_transport *bt)
{
	return __atomic_load_n(&bt->pending, __ATOMIC_ACQUIRE);
}

uint32_t ddvm_bare_take(struct ddvm_bare_transport *bt, uint32_t mask)
{
	if (!mask || !(__atomic_load_n(&bt->pending, __ATOMIC_RELAXED) & mask))
		return 0;
	return __atomic_fetch_and(&bt->pending, ~mask, __ATOMIC_ACQ_REL) & mask;
}
