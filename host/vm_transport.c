// SPDX-License-Identifier: MIT
/*
 * The supervisor's side of libddvm's transport for a VM's control channel:
 * the supervisor is the channel's ivshmem server (peer 0), so it rings the
 * driver VM through the server's eventfds, takes time from the event loop's
 * clock and logs through its own log.
 */
#include "ddvm/posix/log.h"
#include "loop.h"
#include "vm.h"

static struct vm *vm_of(struct ddvm_transport *t)
{
	return t->priv;
}

static int vt_ring(struct ddvm_transport *t, uint16_t peer, uint16_t vector)
{
	struct vm *vm = vm_of(t);

	/* Ourselves (libddvm asking to come back for more): our own eventfd. */
	if (peer == t->self_id)
		return ivs_server_ring(&vm->ivs, IVS_SELF_ID, vector);
	/* The header names the driver VM; we ring the QEMU we started. */
	return vm_ring_guest(vm, vector);
}

static uint64_t vt_now(struct ddvm_transport *t)
{
	(void)t;
	return now_ns();
}

static void vt_log(struct ddvm_transport *t, int level, const char *line)
{
	struct vm *vm = vm_of(t);

	if (level <= DDVM_LOG_ERR)
		pr_err("vm '%s': %s", vm->cfg->name, line);
	else if (level == DDVM_LOG_WARN)
		pr_warn("vm '%s': %s", vm->cfg->name, line);
	else if (level == DDVM_LOG_INFO)
		pr_info("vm '%s': %s", vm->cfg->name, line);
	else
		pr_debug("vm '%s': %s", vm->cfg->name, line);
}

static const struct ddvm_transport_ops vm_transport_ops = {
	.ring = vt_ring,
	.now_ns = vt_now,
	.log = vt_log,
};

void vm_transport_init(struct vm *vm)
{
	vm->tp = (struct ddvm_transport){ .ops = &vm_transport_ops, .base = vm->base,
					  .size = vm->size, .self_id = 0, .priv = vm };
}
