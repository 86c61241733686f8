// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ddvm_blk.ko: block translation.  Serves every DDVM_QK_BLOCK queue of
 * every ddvm channel with a disk of this Linux (blk_queue.c, blk_io.c,
 * blk_target.c); registers with ddvm_chan, which calls it per channel.
 */
#include <linux/module.h>

#include "blk.h"

static int blk_attach(struct ddvm_chan *c)
{
	unsigned int i;
	int rc = ddvm_blk_init(c);

	for (i = 0; !rc && i < c->nblk; i++)
		ddvm_chan_claim_vector(c, c->blk[i]->req_vector, true);
	return rc;
}

static void blk_detach(struct ddvm_chan *c)
{
	unsigned int i;

	for (i = 0; i < c->nblk; i++)
		ddvm_chan_claim_vector(c, c->blk[i]->req_vector, false);
	ddvm_blk_free(c);
}

static unsigned int blk_count(struct ddvm_chan *c)
{
	return c->nblk;
}

static const struct ddvm_kind_ops blk_ops = {
	.name = "block",
	.kind = DDVM_QK_BLOCK,
	.attach = blk_attach,
	.kick = ddvm_blk_kick,
	.stop = ddvm_blk_stop,
	.detach = blk_detach,
	.count = blk_count,
};

static int __init blk_mod_init(void)
{
	return ddvm_kind_register(&blk_ops);
}

static void __exit blk_mod_exit(void)
{
	ddvm_kind_unregister(&blk_ops);
}

module_init(blk_mod_init);
module_exit(blk_mod_exit);
MODULE_DESCRIPTION("ddvm block translation: a driver VM's disks served over ddvm channels");
MODULE_LICENSE("Dual MIT/GPL");
