// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Translation modules and the channels they serve.
 *
 * ddvm_chan serves the control queues itself; every other queue kind is
 * served by a translation module (ddvm_blk.ko, ddvm_net.ko) that registers
 * a struct ddvm_kind_ops.  The modules load in any order relative to the
 * channel's probe: registering attaches the kind to every channel already
 * probed, and probing attaches every kind already registered.  One mutex
 * orders registration against probe and remove; the doorbell interrupt and
 * the heartbeat reach a kind through an RCU-protected pointer per channel,
 * so unregistering (module unload) first unpublishes the pointer, waits for
 * readers, then stops and detaches.
 */
#include <linux/module.h>
#include <linux/mutex.h>

#include "chan.h"

static DEFINE_MUTEX(kinds_lock);
static LIST_HEAD(chans);			/* probed channels */
static const struct ddvm_kind_ops *registered[DDVM_KIND_SLOTS];

static bool kind_ok(const struct ddvm_kind_ops *ops)
{
	return ops && ops->kind < DDVM_KIND_SLOTS && ops->kind != DDVM_QK_CTRL && ops->attach &&
	       ops->kick && ops->stop && ops->detach && ops->count;
}

/* kinds_lock held. */
static void kind_attach(struct ddvm_chan *c, const struct ddvm_kind_ops *ops)
{
	int rc = ops->attach(c);

	if (rc) {
		dev_err(&c->pdev->dev, "%s translation: cannot serve this channel (%d)\n",
			ops->name, rc);
		ops->detach(c);		/* whatever attach left half built */
		return;
	}
	rcu_assign_pointer(c->kinds[ops->kind], ops);
	if (ops->count(c))
		dev_info(&c->pdev->dev, "%s translation: %u queue(s)\n", ops->name, ops->count(c));
	ops->kick(c, -1);
}

/* kinds_lock held; unpublish first, then nobody calls ops for c any more. */
static void kind_detach(struct ddvm_chan *c, const struct ddvm_kind_ops *ops)
{
	RCU_INIT_POINTER(c->kinds[ops->kind], NULL);
	synchronize_rcu();
	ops->stop(c);
	ops->detach(c);
}

int ddvm_kind_register(const struct ddvm_kind_ops *ops)
{
	struct ddvm_chan *c;

	if (!kind_ok(ops))
		return -EINVAL;
	mutex_lock(&kinds_lock);
	if (registered[ops->kind]) {
		mutex_unlock(&kinds_lock);
		return -EBUSY;
	}
	registered[ops->kind] = ops;
	list_for_each_entry(c, &chans, node)
		kind_attach(c, ops);
	mutex_unlock(&kinds_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(ddvm_kind_register);

void ddvm_kind_unregister(const struct ddvm_kind_ops *ops)
{
	struct ddvm_chan *c;

	mutex_lock(&kinds_lock);
	if (registered[ops->kind] == ops) {
		list_for_each_entry(c, &chans, node)
			if (rcu_access_pointer(c->kinds[ops->kind]) == ops)
				kind_detach(c, ops);
		registered[ops->kind] = NULL;
	}
	mutex_unlock(&kinds_lock);
}
EXPORT_SYMBOL_GPL(ddvm_kind_unregister);

/*
 * A data queue's doorbell vector: its doorbells need not wake the control
 * work (a guest context switch saved per request).  Vectors are < 64
 * (DDVM_CHAN_MAX_VECTORS).
 */
void ddvm_chan_claim_vector(struct ddvm_chan *c, int vector, bool claim)
{
	if (vector < 0 || vector >= BITS_PER_LONG)
		return;
	if (claim)
		set_bit(vector, &c->data_vectors);
	else
		clear_bit(vector, &c->data_vectors);
}
EXPORT_SYMBOL_GPL(ddvm_chan_claim_vector);

void ddvm_chan_kinds_add(struct ddvm_chan *c)
{
	unsigned int k;

	mutex_lock(&kinds_lock);
	list_add_tail(&c->node, &chans);
	c->listed = true;
	for (k = 0; k < DDVM_KIND_SLOTS; k++)
		if (registered[k])
			kind_attach(c, registered[k]);
	mutex_unlock(&kinds_lock);
}

/* Any context. */
void ddvm_chan_kinds_kick(struct ddvm_chan *c, int vector)
{
	const struct ddvm_kind_ops *ops;
	unsigned int k;

	rcu_read_lock();
	for (k = 0; k < DDVM_KIND_SLOTS; k++) {
		ops = rcu_dereference(c->kinds[k]);
		if (ops)
			ops->kick(c, vector);
	}
	rcu_read_unlock();
}

/* Shutdown: stop serving, keep everything for a possible remove. */
void ddvm_chan_kinds_stop(struct ddvm_chan *c)
{
	const struct ddvm_kind_ops *ops;
	unsigned int k;

	mutex_lock(&kinds_lock);
	for (k = 0; k < DDVM_KIND_SLOTS; k++) {
		ops = rcu_dereference_protected(c->kinds[k], lockdep_is_held(&kinds_lock));
		if (ops)
			ops->stop(c);
	}
	mutex_unlock(&kinds_lock);
}

void ddvm_chan_kinds_del(struct ddvm_chan *c)
{
	const struct ddvm_kind_ops *ops;
	unsigned int k;

	mutex_lock(&kinds_lock);
	for (k = 0; k < DDVM_KIND_SLOTS; k++) {
		ops = rcu_dereference_protected(c->kinds[k], lockdep_is_held(&kinds_lock));
		if (ops)
			kind_detach(c, ops);
	}
	if (c->listed)
		list_del(&c->node);
	c->listed = false;
	mutex_unlock(&kinds_lock);
}
