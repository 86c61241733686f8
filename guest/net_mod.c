// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ddvm_net.ko: net translation.  Serves every DDVM_QK_NET queue of every
 * ddvm channel with a netdev of this Linux (net_queue.c, net_io.c);
 * registers with ddvm_chan, which calls it per channel.
 */
#include <linux/module.h>

#include "net.h"

static const struct ddvm_kind_ops net_ops = {
	.name = "net",
	.kind = DDVM_QK_NET,
	.attach = ddvm_net_init,
	.kick = ddvm_net_kick,
	.stop = ddvm_net_stop,
	.detach = ddvm_net_free,
	.count = ddvm_net_count,
};

static int __init net_mod_init(void)
{
	return ddvm_kind_register(&net_ops);
}

static void __exit net_mod_exit(void)
{
	ddvm_kind_unregister(&net_ops);
}

module_init(net_mod_init);
module_exit(net_mod_exit);
MODULE_DESCRIPTION("ddvm net translation: a driver VM's NICs served over ddvm channels");
MODULE_LICENSE("Dual MIT/GPL");
