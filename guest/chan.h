/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ddvm_chan: the driver VM's end of a ddvm channel (an ivshmem PCI device).
 * Shared between chan_main.c (PCI driver, doorbells), chan_ctrl.c (control
 * queue, heartbeat), chan_kinds.c (translation modules), pci_table.c (PCI
 * translation table) -- all in ddvm_chan.ko -- and the translation modules
 * ddvm_blk.ko (blk_*.c) and ddvm_net.ko (net_*.c), which register with
 * ddvm_chan for their queue kind and use what chan_exports.c exports.
 */
#ifndef DDVM_GUEST_CHAN_H
#define DDVM_GUEST_CHAN_H

#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "ddvm/ring.h"
#include "ddvm/region.h"

#define DDVM_CHAN_NAME		"ddvm_chan"

/* ivshmem BAR0 registers */


#define DDVM_CHAN_MAX_VECTORS	64
#define DDVM_HB_DEFAULT_MS	1000
#define DDVM_HB_MIN_MS		50
#define DDVM_HB_MAX_MS		60000

struct ddvm_blkq;
struct ddvm_net;
struct ddvm_chan;

/*
 * A translation module (ddvm_blk, ddvm_net): serves one queue kind of
 * every channel.  ddvm_chan calls attach for each channel that exists when
 * the module registers and for each channel probed later; kick from any
 * context (doorbell interrupt, heartbeat) with the doorbell vector, or -1
 * for all its queues; stop (idempotent: shutdown, then maybe remove) and
 * detach (frees; after stop) from process context.  After detach or
 * unregister returns, ddvm_chan calls none of them for that channel again.
 */
struct ddvm_kind_ops {
	const char *name;
	u16 kind;					/* DDVM_QK_* */
	int (*attach)(struct ddvm_chan *c);
	void (*kick)(struct ddvm_chan *c, int vector);
	void (*stop)(struct ddvm_chan *c);
	void (*detach)(struct ddvm_chan *c);
	unsigned int (*count)(struct ddvm_chan *c);	/* queues it serves */
};
#define DDVM_KIND_SLOTS		4	/* indexed by DDVM_QK_*: CTRL(1) is ddvm_chan's own */

/* A parsed queue target: "pci=DDDD:BB:DD.F[ n=N]" (target.c). */
struct ddvm_target {
	u16 domain;
	u8 bus, devfn;
	u32 n;
	u64 off, len;		/* block: a slice of the disk (len 0: the whole disk) */
	char br[16];		/* net: "" or the bridge the queue is a port of */
	u8 mac[6];		/* net, with br: the client's MAC there */
};

/* One control queue: we consume requests and produce responses. */
struct ddvm_ctrlq {
	struct ddvm_ring req, resp;
	u16 qidx;			/* index in the queue table */
	u16 req_vector, resp_vector;
	bool dead;			/* ring corrupt: no longer served */
};

struct ddvm_chan {
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0 */
	void *region;			/* BAR2, write-back */
	u64 region_size;
	/*
	 * region_pages: BAR2 has struct pages (ZONE_DEVICE, chan_map_region),
	 * so bios and skbs can point into the region itself (data path (b)):
	 * ddvm_chan_page() gives the page of a region offset.
	 */
	bool region_pages;
	struct dev_pagemap pgmap;
	struct ddvm_region_hdr *hdr;	/* == region; fields via READ/WRITE_ONCE */
	struct ddvm_layout layout;	/* validated copy of the host's layout */
	u16 peer_id;			/* our IVPosition */
	int nvec;			/* MSI-X vectors in use (0: poll on heartbeat) */
	unsigned int hb_ms;

	/* Translation modules serving this channel (RCU: the IRQ path reads them). */
	const struct ddvm_kind_ops __rcu *kinds[DDVM_KIND_SLOTS];
	struct list_head node;		/* chan_kinds.c's list of channels */
	bool listed;
	unsigned long data_vectors;	/* vectors only data queues use: no control work */

	struct ddvm_ctrlq ctrl[DDVM_MAX_QUEUES];
	unsigned int nctrl;
	struct work_struct ctrl_work;
	struct delayed_work hb_work;
	bool stopping;

	/* Block translation (blk_*.c): one entry per DDVM_QK_BLOCK queue. */
	struct ddvm_blkq *blk[DDVM_MAX_QUEUES];
	unsigned int nblk;
	struct workqueue_struct *blk_wq;

	/* Net translation (net_*.c): NULL if the channel has no DDVM_QK_NET queue. */
	struct ddvm_net *net;

	/* PCI translation table: what we last published, and a scratch copy. */
	struct ddvm_pci_entry *pci_cur, *pci_new;
	u32 pci_cur_count;
	u32 pci_seq;			/* even between updates */
	bool pci_published, pci_overflow_logged;
};

/* chan_main.c */
void ddvm_chan_ring(struct ddvm_chan *c, u16 vector);

/* The page holding region offset off (< region_size); only if c->region_pages. */
static inline struct page *ddvm_chan_page(const struct ddvm_chan *c, u64 off)
{
	return virt_to_page((u8 *)c->region + off);
}

/*
 * Rewrite queue qidx's state entry (qstate.c): begin marks it ABSENT and
 * returns it for the kind-specific fields; end writes dev_name (used only
 * for READY; dev_name must hold sizeof(s->dev_name) bytes), error and the
 * state, and rings the host's state vector.
 */
struct ddvm_queue_state *ddvm_qstate_begin(struct ddvm_chan *c, u32 qidx);
void ddvm_qstate_end(struct ddvm_chan *c, struct ddvm_queue_state *s, u32 state, u32 error,
		     const char *dev_name);
void ddvm_chan_ring_peer(struct ddvm_chan *c, u16 peer, u16 vector);
void ddvm_chan_set_state(struct ddvm_chan *c, u32 state);

/* chan_ctrl.c */
int ddvm_ctrl_init(struct ddvm_chan *c);
bool ddvm_chan_fault_injection(void);		/* ddvm_chan.fault_injection=1 */
void ddvm_ctrl_work(struct work_struct *w);
void ddvm_hb_work(struct work_struct *w);

/* chan_fault.c: fault injection (ddvm_chan.fault_injection=1 only; DDVM_OP_FAULT) */
void ddvm_fault_arm(struct ddvm_chan *c, u32 fault, u64 arg);
/* Before starting block request s (checked): DDVM_S_OK, or the status to answer with. */
u32 ddvm_fault_blk_request(void *region, const struct ddvm_slot *s);

/* chan_kinds.c: translation modules (exported to them: register, unregister, claim) */
int ddvm_kind_register(const struct ddvm_kind_ops *ops);
void ddvm_kind_unregister(const struct ddvm_kind_ops *ops);
void ddvm_chan_claim_vector(struct ddvm_chan *c, int vector, bool claim);
void ddvm_chan_kinds_add(struct ddvm_chan *c);		/* probe: attach registered kinds */
void ddvm_chan_kinds_kick(struct ddvm_chan *c, int vector);
void ddvm_chan_kinds_stop(struct ddvm_chan *c);
void ddvm_chan_kinds_del(struct ddvm_chan *c);		/* remove: detach them all */

/* target.c */
int ddvm_target_parse(const char *s, struct ddvm_target *t);

/* A queue's counters, private; qstate.c copies them to the header (minor 3). */
struct ddvm_qcount {
	u64 rd_ops, rd_bytes, wr_ops, wr_bytes, other_ops, errors;
};
/* Write n into queue qidx's struct ddvm_queue_stats (never read back: a client may scribble). */
void ddvm_qstats_write(struct ddvm_chan *c, u32 qidx, const struct ddvm_qcount *n);

/* blk_queue.c: block translation (ddvm_blk.ko, registered by blk_mod.c) */
int ddvm_blk_init(struct ddvm_chan *c);
void ddvm_blk_kick(struct ddvm_chan *c, int vector);	/* vector < 0: every queue */
void ddvm_blk_stop(struct ddvm_chan *c);
void ddvm_blk_free(struct ddvm_chan *c);

/* net_queue.c: net translation (ddvm_net.ko, registered by net_mod.c) */
int ddvm_net_init(struct ddvm_chan *c);
unsigned int ddvm_net_count(struct ddvm_chan *c);
void ddvm_net_kick(struct ddvm_chan *c, int vector);	/* vector < 0: every queue */
void ddvm_net_stop(struct ddvm_chan *c);
void ddvm_net_free(struct ddvm_chan *c);

/* pci_table.c */
int ddvm_pci_table_init(struct ddvm_chan *c);
void ddvm_pci_table_update(struct ddvm_chan *c);
void ddvm_pci_table_free(struct ddvm_chan *c);

#endif /* DDVM_GUEST_CHAN_H */
