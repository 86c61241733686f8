/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ddvm_front: the client end of ddvm channels in a Linux VM.
 *
 * front_main.c   PCI driver for the channel's ivshmem-doorbell function:
 *                map it, check the region, doorbell interrupts, and hand
 *                the channel's queue to its kind's code
 * front_blk.c    a DDVM_QK_BLOCK queue as a blk-mq disk /dev/ddvmN, on
 *                libddvm's block client (lib/blk_client.c)
 * front_net.c    a DDVM_QK_NET queue as a netdev ddvmnetN, on libddvm's
 *                net client (lib/net_client.c)
 * transport_kernel.c  libddvm's transport over the ivshmem registers
 */
#ifndef DDVM_FRONT_H
#define DDVM_FRONT_H

#include <linux/pci.h>

#include "ddvm/region.h"
#include "transport_kernel.h"

#define DDVM_FRONT_NAME		"ddvm_front"
#define DDVM_FRONT_MAX_VECTORS	64

struct front_blk;
struct front_net;

/* One channel: one ivshmem-doorbell function, one region. */
struct front_chan {
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0 */
	void *region;			/* BAR2, write-back */
	u64 region_size;
	struct ddvm_layout lay;		/* validated once, at probe */
	struct ddvm_ktransport kt;
	char name[16];			/* "ddvmN" / "ddvmnetN": the device's name, log prefix */
	u16 kind;			/* DDVM_QK_BLOCK or DDVM_QK_NET: the queue it serves */
	int index;			/* N (disks and NICs are numbered apart) */
	int nvec;			/* doorbell interrupts (0: polling only) */
	struct front_blk *blk;		/* kind BLOCK */
	struct front_net *net;		/* kind NET */
};

/*
 * What a queue's user last said about the driver VM (front_guest_usable),
 * so that each state and generation is logged once.  +1: 0 is "never".
 */
struct front_seen {
	u32 state, gen;
};

/*
 * Read the driver VM's part of the header into *g.  False if it cannot
 * serve us: it refused the channel, or it is READY speaking another
 * protocol major (then its queues are not used: a clear refusal, not a
 * misread ring).  Said once per state and generation.
 */
bool front_guest_usable(struct front_chan *ch, struct front_seen *seen,
			struct ddvm_guest_view *g);

/* Module parameters (front_main.c). */
extern unsigned int ddvm_front_io_timeout_s;
extern unsigned int ddvm_front_poll_ms;

/* front_blk.c: the disk of block queue qi; the disk appears once the queue is READY. */
int front_blk_register(void);
void front_blk_unregister(void);
struct front_blk *front_blk_create(struct front_chan *ch, u32 qi);
void front_blk_doorbell(struct front_blk *b);	/* any context */
void front_blk_stop(struct front_blk *b);	/* remove the disk; interrupts still on */
void front_blk_free(struct front_blk *b);	/* after the interrupts are off */

/* front_net.c: the netdev of net queue qi; it appears once the queue is READY. */
struct front_net *front_net_create(struct front_chan *ch, u32 qi);
void front_net_doorbell(struct front_net *n);	/* any context */
void front_net_stop(struct front_net *n);	/* remove the netdev; interrupts still on */
void front_net_free(struct front_net *n);	/* after the interrupts are off */

#endif /* DDVM_FRONT_H */
