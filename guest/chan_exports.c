// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What ddvm_chan.ko offers the translation modules (ddvm_blk.ko,
 * ddvm_net.ko) besides registration (chan_kinds.c): the shared,
 * freestanding ring and region code (proto/, compiled once, into this
 * module), doorbells, queue state publishing and target parsing.  The
 * exports live here because the proto sources must stay free of kernel macros.
 */
#include <linux/module.h>

#include "chan.h"

EXPORT_SYMBOL_GPL(ddvm_chan_fault_injection);
EXPORT_SYMBOL_GPL(ddvm_ring_bind);
EXPORT_SYMBOL_GPL(ddvm_prod_resume);
EXPORT_SYMBOL_GPL(ddvm_cons_resume);
EXPORT_SYMBOL_GPL(ddvm_prod_attach);
EXPORT_SYMBOL_GPL(ddvm_cons_attach);
EXPORT_SYMBOL_GPL(ddvm_prod_space);
EXPORT_SYMBOL_GPL(ddvm_prod_push);
EXPORT_SYMBOL_GPL(ddvm_prod_publish);
EXPORT_SYMBOL_GPL(ddvm_prod_want_space);
EXPORT_SYMBOL_GPL(ddvm_cons_avail);
EXPORT_SYMBOL_GPL(ddvm_cons_pop);
EXPORT_SYMBOL_GPL(ddvm_cons_publish);
EXPORT_SYMBOL_GPL(ddvm_cons_want_data);
EXPORT_SYMBOL_GPL(ddvm_queue_target_read);
EXPORT_SYMBOL_GPL(ddvm_copy_str);

EXPORT_SYMBOL_GPL(ddvm_chan_ring_peer);
EXPORT_SYMBOL_GPL(ddvm_qstate_begin);
EXPORT_SYMBOL_GPL(ddvm_qstate_end);
EXPORT_SYMBOL_GPL(ddvm_qstats_write);
EXPORT_SYMBOL_GPL(ddvm_target_parse);
