// SPDX-License-Identifier: MIT
/* A driver VM's status as JSON (the data behind `ddvm status`). */
#include <stdio.h>

#include "accel.h"
#include "ddvm/posix/log.h"
#include "ddvm/posix/region_setup.h"
#include "supervisor.h"
#include "vm.h"

#define JS(s)	json_object_new_string(s)
#define JI(i)	json_object_new_int64((int64_t)(i))

static json_object *hex(unsigned int v, int digits)
{
	char b[16];

	strfmt(b, sizeof(b), "%0*x", digits, v);
	return JS(b);
}

static json_object *devices_json(struct vm *vm)
{
	struct ddvm_pci_info info[32];
	json_object *a = json_object_new_array();
	uint32_t n = 0, i;

	if (vm->state != VM_READY || !vm->base)
		return a;
	if (ddvm_pci_read(vm->base, &vm->layout, info, 32, &n) != DDVM_PCI_OK)
		return a;
	for (i = 0; i < n; i++) {
		const struct ddvm_pci_info *p = &info[i];
		json_object *d = json_object_new_object();
		char addr[32];

		strfmt(addr, sizeof(addr), "%04x:%02x:%02x.%x", p->domain, p->bus, p->dev, p->fn);
		json_object_object_add(d, "address", JS(addr));
		json_object_object_add(d, "vendor", hex(p->vendor, 4));
		json_object_object_add(d, "device", hex(p->device, 4));
		json_object_object_add(d, "subsystem_vendor", hex(p->subsystem_vendor, 4));
		json_object_object_add(d, "subsystem_device", hex(p->subsystem_device, 4));
		json_object_object_add(d, "class", hex(p->class_code, 6));
		json_object_object_add(d, "revision", JI(p->revision));
		json_object_object_add(d, "driver", JS(p->driver));
		json_object_object_add(d, "names", JS(p->names));
		json_object_array_add(a, d);
	}
	return a;
}

json_object *vm_status_json(struct vm *vm)
{
	json_object *o = json_object_new_object();
	struct ddvm_guest_view gv;
	uint64_t now = now_ms();
	char path[PATH_MAX + 16];

	ddvm_guest_read(vm->base, &gv);
	json_object_object_add(o, "name", JS(vm->cfg->name));
	json_object_object_add(o, "state", JS(vm_state_str(vm->state)));
	json_object_object_add(o, "accel", JS(accel_name(vm->sv->accel)));
	json_object_object_add(o, "uptime_s",
			       JI(vm->state == VM_READY && vm->ready_ms ? (now - vm->ready_ms) / 1000 : 0));
	json_object_object_add(o, "restarts", JI(vm->restarts));
	json_object_object_add(o, "restarts_in_a_row", JI(vm->restart_row));
	json_object_object_add(o, "max_restarts", JI(vm->cfg->max_restarts));
	json_object_object_add(o, "generation", JI(gv.generation));
	json_object_object_add(o, "heartbeat", JI(gv.heartbeat));
	json_object_object_add(o, "heartbeat_age_ms",
			       vm->hb_change_ms && vm->state == VM_READY ? JI(now - vm->hb_change_ms) : NULL);
	json_object_object_add(o, "guest_state", JS(ddvm_guest_state_str(gv.state)));
	json_object_object_add(o, "kernel_release", JS(gv.kernel_release));
	json_object_object_add(o, "pid", JI(vm->pid > 0 ? vm->pid : 0));
	json_object_object_add(o, "memory_mb", JI(vm->cfg->memory_mb));
	json_object_object_add(o, "channel_size", JI(vm->size));
	json_object_object_add(o, "channel_vectors", JI(vm->plan.chan[0].vectors));
	json_object_object_add(o, "ivshmem_peer", JI(vm->peer_id));
	json_object_object_add(o, "dir", JS(vm->dir));
	strfmt(path, sizeof(path), "%s/console.log", vm->dir);
	json_object_object_add(o, "console_log", JS(path));
	strfmt(path, sizeof(path), "%s/qemu.log", vm->dir);
	json_object_object_add(o, "qemu_log", JS(path));
	json_object_object_add(o, "error", vm->error[0] ? JS(vm->error) : NULL);
	json_object_object_add(o, "devices", devices_json(vm));
	json_object_object_add(o, "exports", frontends_status_json(vm));
	return o;
}
