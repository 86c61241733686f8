// SPDX-License-Identifier: MIT
/*
 * Fault injection for tests and demos of recovery: make a driver VM's
 * kernel panic (DDVM_OP_CRASH on its CTRL queue), pull or plug a NIC's
 * cable (QMP set_link).  The supervisor then sees the consequences exactly
 * as it would see real ones.
 */
#include <string.h>

#include "ddvm/posix/log.h"
#include "vm.h"

int vm_crash(struct vm *vm, char *msg, size_t len)
{
	int r;

	if (!vm->cfg->fault_injection) {
		strfmt(msg, len, "vm '%s': fault injection is off (set fault_injection = true in its config)",
		       vm->cfg->name);
		return -1;
	}
	if (vm->state != VM_READY) {
		strfmt(msg, len, "vm '%s' is not ready (state %s)", vm->cfg->name, vm_state_str(vm->state));
		return -1;
	}
	r = ddvm_ctrlc_crash(&vm->ctrl);
	if (r == -DDVM_ENOSPC || r == -DDVM_EPROTO) {
		strfmt(msg, len, "vm '%s': CTRL request ring is full or corrupt", vm->cfg->name);
		return -1;
	}
	/* -ENOENT: not rung, but the driver VM also polls its queues. */
	pr_warn("vm '%s': crash injected on request (fault injection)", vm->cfg->name);
	return 0;
}

int vm_set_link(struct vm *vm, unsigned int dev, int up, char *msg, size_t len)
{
	const struct dev_config *d;
	char name[16];
	int ret;

	if (dev < 1 || dev > vm->cfg->ndevs) {
		strfmt(msg, len, "vm '%s' has no device %u (it has %u)", vm->cfg->name, dev,
		       vm->cfg->ndevs);
		return -1;
	}
	d = &vm->cfg->devs[dev - 1];
	if (!dev_is_nic(d->type) || d->net == NET_NONE) {
		strfmt(msg, len, "vm '%s': device %u is not a NIC with a wire (net = \"none\" or not a NIC)",
		       vm->cfg->name, dev);
		return -1;
	}
	if (vm->state != VM_READY) {
		strfmt(msg, len, "vm '%s' is not ready (state %s)", vm->cfg->name, vm_state_str(vm->state));
		return -1;
	}
	snprintf(name, sizeof(name), "net%u", dev - 1);	/* the netdev id qemu.c gives it */
	ret = qmp_set_link(&vm->qmp, name, up);
	if (ret < 0) {
		strfmt(msg, len, "vm '%s': QMP set_link failed: %s", vm->cfg->name, strerror(-ret));
		return -1;
	}
	pr_info("vm '%s': device %u cable %s (set_link)", vm->cfg->name, dev, up ? "plugged" : "pulled");
	return 0;
}
