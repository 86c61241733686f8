// SPDX-License-Identifier: MIT
/* A driver VM's channel layout and guest PCI addresses.  See layout.h. */
#include <stdio.h>
#include <string.h>

#include "ddvm/net_check.h"
#include "layout.h"

/* 2 s: each beat is a guest wakeup, costly under TCG; a stall is still caught in 10 s. */
#define HEARTBEAT_MS	2000
#define PCI_TABLE_MAX	32
#define CTRL_SLOTS	64
#define CTRL_DATA	4096
#define BLK_SLOTS	32
#define BLK_CHUNK	(128u << 10)
/* Net: each chunk holds a 64 KiB GSO frame (+ header and VLAN tag), so 32 slots
 * (16 RX buffers, 16 TX frames in flight) make a 2 MiB data area. */
#define NET_SLOTS	32
#define NET_CHUNK	((DDVM_NET_GSO_MAX_FRAME + DDVM_NET_CHUNK_ALIGN - 1) / DDVM_NET_CHUNK_ALIGN * \
			 DDVM_NET_CHUNK_ALIGN)
#define AHCI_SLOT	0x1f
#define AHCI_FN		2
#define FIRST_SLOT	0x4

unsigned int layout_pci_slot(const struct vm_config *vm, unsigned int k)
{
	if (k >= vm->ndevs || vm->devs[k].type == DEV_AHCI)
		return 0;
	return FIRST_SLOT + k;
}

void layout_target(const struct vm_config *vm, unsigned int k, char *out, size_t len)
{
	unsigned int i, m = 0;

	if (k < vm->ndevs && vm->devs[k].type == DEV_AHCI) {
		for (i = 0; i < k; i++)
			m += vm->devs[i].type == DEV_AHCI;
		snprintf(out, len, "pci=0000:00:%02x.%x n=%u", AHCI_SLOT, AHCI_FN, m);
		return;
	}
	snprintf(out, len, "pci=0000:00:%02x.0", layout_pci_slot(vm, k));
}

void layout_size_str(uint64_t v, char *out, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (v >= 1024 && v % 1024 == 0 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, len, "%llu", (unsigned long long)v);
	else
		snprintf(out, len, "%llu%c", (unsigned long long)v, units[u]);
}

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = LAYOUT_MIN_SIZE;

	while (p < v && p < (1ull << 62))
		p <<= 1;
	return p;
}

static void add_queue(struct vm_layout *l, uint16_t kind, unsigned int dev, unsigned int num,
		      const struct vm_config *vm)
{
	struct ddvm_queue_spec *q = &l->spec.q[l->spec.nqueues];
	struct layout_export *e = &l->ex[l->nexports++];

	q->kind = kind;
	q->index = (uint16_t)num;
	q->nslots = kind == DDVM_QK_BLOCK ? BLK_SLOTS : NET_SLOTS;
	q->data_size = kind == DDVM_QK_BLOCK ? (uint64_t)BLK_SLOTS * BLK_CHUNK
					     : (uint64_t)NET_SLOTS * NET_CHUNK;
	q->req_vector = (uint16_t)l->spec.nqueues;	/* the driver VM's vector i */
	q->resp_vector = 0;				/* vector 0 of the front-end peer */
	layout_target(vm, dev, q->target, sizeof(q->target));
	e->kind = kind;
	e->dev = dev;
	e->num = num;
	e->queue = l->spec.nqueues++;
}

int layout_plan(const struct vm_config *vm, struct vm_layout *l, char *err, size_t errlen)
{
	unsigned int k, disks = 0, nics = 0;
	char need[32], have[32];

	memset(l, 0, sizeof(*l));
	l->spec.heartbeat_period_ms = HEARTBEAT_MS;
	l->spec.pci_table_max = PCI_TABLE_MAX;
	l->spec.nqueues = 1;
	l->spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_CTRL, .nslots = CTRL_SLOTS,
		.data_size = CTRL_DATA, .req_vector = 0, .resp_vector = 0 };
	for (k = 0; k < vm->ndevs; k++) {
		const struct dev_config *d = &vm->devs[k];
		int disk = dev_exports_disk(d), nic = dev_exports_nic(d);

		if (!disk && !nic) {
			disks += dev_is_disk(d->type) || (d->type == DEV_VFIO && d->vfio_as == DEV_NVME);
			nics += dev_is_nic(d->type) || (d->type == DEV_VFIO && d->vfio_as == DEV_E1000);
			continue;
		}
		if (l->nexports == LAYOUT_MAX_EXPORTS) {
			snprintf(err, errlen, "too many exported disks and NICs (at most %u)",
				 LAYOUT_MAX_EXPORTS);
			return -1;
		}
		add_queue(l, disk ? DDVM_QK_BLOCK : DDVM_QK_NET, k, disk ? disks : nics, vm);
		if (disk) {
			disks++;
			l->ndisks++;
		} else {
			nics++;
			l->nnics++;
		}
	}
	l->vectors = l->spec.nqueues + 1 > LAYOUT_MIN_VECTORS ? l->spec.nqueues + 1 : LAYOUT_MIN_VECTORS;
	if (l->vectors > DDVM_MAX_QUEUES)
		l->vectors = DDVM_MAX_QUEUES;	/* still covers every req_vector (< nqueues) */
	l->needed = ddvm_region_bytes_needed(&l->spec);
	l->size = vm->channel_size ? vm->channel_size : pow2_up(l->needed);
	layout_size_str(pow2_up(l->needed), need, sizeof(need));
	layout_size_str(l->size, have, sizeof(have));
	if (l->size < l->needed) {
		snprintf(err, errlen, "channel size %s is too small for %u disk%s and %u NIC%s: needs %s",
			 have, l->ndisks, l->ndisks == 1 ? "" : "s", l->nnics,
			 l->nnics == 1 ? "" : "s", need);
		return -1;
	}
	if (l->size > LAYOUT_MAX_SIZE) {
		snprintf(err, errlen, "the channel for %u disks and %u NICs would need %s (at most 1G)",
			 l->ndisks, l->nnics, need);
		return -1;
	}
	return 0;
}
