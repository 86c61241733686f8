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

/* The first device of vm of type t (vm->ndevs if none). */
static unsigned int first_of(const struct vm_config *vm, enum dev_type t)
{
	unsigned int i;

	for (i = 0; i < vm->ndevs && vm->devs[i].type != t; i++)
		;
	return i;
}

/* Device k's place among the VM's devices of its type (0-based). */
static unsigned int index_of_type(const struct vm_config *vm, unsigned int k)
{
	unsigned int i, m = 0;

	for (i = 0; i < k; i++)
		m += vm->devs[i].type == vm->devs[k].type;
	return m;
}

/*
 * Every device has a PCI slot (and so a controller) of its own, 0x4 + its
 * index, except those that share a controller: ahci disks q35's built-in
 * AHCI, ide disks the one PIIX IDE controller, at the slot of the first ide
 * disk (config_dev.c's cfg_check_bus keeps each within its places).
 */
unsigned int layout_pci_slot(const struct vm_config *vm, unsigned int k)
{
	if (k >= vm->ndevs || vm->devs[k].type == DEV_AHCI)
		return 0;
	if (vm->devs[k].type == DEV_IDE)
		return FIRST_SLOT + first_of(vm, DEV_IDE);
	return FIRST_SLOT + k;
}

void layout_target(const struct vm_config *vm, unsigned int k, char *out, size_t len)
{
	if (k < vm->ndevs && vm->devs[k].type == DEV_AHCI) {
		snprintf(out, len, "pci=0000:00:%02x.%x n=%u", AHCI_SLOT, AHCI_FN, index_of_type(vm, k));
		return;
	}
	if (k < vm->ndevs && vm->devs[k].type == DEV_IDE && index_of_type(vm, k)) {
		snprintf(out, len, "pci=0000:00:%02x.0 n=%u", layout_pci_slot(vm, k), index_of_type(vm, k));
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

void layout_chan_sock(const struct vm_layout *l, unsigned int c, char *out, size_t len)
{
	if (c == 0)
		snprintf(out, len, "ivshmem.sock");
	else
		snprintf(out, len, "chan-%s.sock", l->chan[c].name);
}

/* Size channel c: the configured size, or what it needs rounded up to 2^n. */
static int size_chan(struct layout_chan *ch, uint64_t configured, char *err, size_t errlen)
{
	char need[32], have[32];

	ch->needed = ddvm_region_bytes_needed(&ch->spec);
	ch->size = configured ? configured : pow2_up(ch->needed);
	layout_size_str(pow2_up(ch->needed), need, sizeof(need));
	layout_size_str(ch->size, have, sizeof(have));
	if (ch->size < ch->needed) {
		snprintf(err, errlen, "channel size %s is too small for %s: needs %s", have,
			 ch->name, need);
		return -1;
	}
	if (ch->size > LAYOUT_MAX_SIZE) {
		snprintf(err, errlen, "the channel for %s would need %s (at most 1G)", ch->name, need);
		return -1;
	}
	ch->vectors = LAYOUT_MIN_VECTORS;
	return 0;
}

/* A client channel for one export: its one queue, no PCI table. */
static void add_export(struct vm_layout *l, uint16_t kind, unsigned int dev, unsigned int num,
		       const struct vm_config *vm)
{
	struct layout_chan *ch = &l->chan[l->nchan];
	struct ddvm_queue_spec *q = &ch->spec.q[0];
	struct layout_export *e = &l->ex[l->nexports++];

	ch->spec.heartbeat_period_ms = HEARTBEAT_MS;
	ch->spec.nqueues = 1;
	snprintf(ch->name, sizeof(ch->name), "%s%u", kind == DDVM_QK_BLOCK ? "disk" : "net", num);
	q->kind = kind;
	q->index = (uint16_t)num;
	q->nslots = kind == DDVM_QK_BLOCK ? BLK_SLOTS : NET_SLOTS;
	q->data_size = kind == DDVM_QK_BLOCK ? (uint64_t)BLK_SLOTS * BLK_CHUNK
					     : (uint64_t)NET_SLOTS * NET_CHUNK;
	q->req_vector = 1;	/* the driver VM's vector 1 (0 stays the control one) */
	q->resp_vector = 0;	/* vector 0 of the client */
	layout_target(vm, dev, q->target, sizeof(q->target));
	e->kind = kind;
	e->dev = dev;
	e->num = num;
	e->chan = l->nchan++;
	e->queue = 0;
	e->client = -1;
}

/* Device dev's number among the VM's disks (nic = 0) or NICs (nic = 1). */
static unsigned int dev_num(const struct vm_config *vm, unsigned int dev, int nic)
{
	unsigned int i, num = 0;

	for (i = 0; i < dev; i++)
		num += nic ? dev_has_nic(&vm->devs[i]) : dev_has_disk(&vm->devs[i]);
	return num;
}

/* A disk or NIC a client VM uses: an export of its own, named after the client. */
static int add_attach(struct vm_layout *l, const struct vm_config *vm, const struct cfg_attach *a,
		      char *err, size_t errlen)
{
	unsigned int num = dev_num(vm, a->dev, a->nic);
	struct layout_export *e;

	if (l->nexports == LAYOUT_MAX_EXPORTS) {
		snprintf(err, errlen, "too many exported disks and NICs and client disks and NICs "
			 "(at most %u)", LAYOUT_MAX_EXPORTS);
		return -1;
	}
	add_export(l, a->nic ? DDVM_QK_NET : DDVM_QK_BLOCK, a->dev, num, vm);
	e = &l->ex[l->nexports - 1];
	e->client = (int)a->client;
	memcpy(e->mac, a->mac, sizeof(e->mac));
	if (a->len) {	/* the driver VM confines the client to its slice */
		struct ddvm_queue_spec *q = &l->chan[l->nchan - 1].spec.q[0];
		size_t n = strlen(q->target);

		snprintf(q->target + n, sizeof(q->target) - n, " off=%llu len=%llu",
			 (unsigned long long)a->off, (unsigned long long)a->len);
	}
	snprintf(l->chan[l->nchan - 1].name, sizeof(l->chan[0].name), "%s%u-%s",
		 a->nic ? "net" : "disk", num, a->client_name);
	return 0;
}

/*
 * A NIC with more than one user (the host's TAP, client VMs) is shared
 * through a bridge in the driver VM: every queue on it becomes a port of
 * bridge ddvmbrN (N: the NIC's number), with its user's MAC.
 */
static void plan_bridges(struct vm_layout *l, const struct vm_config *vm)
{
	unsigned int e, f, users;

	for (e = 0; e < l->nexports; e++) {
		struct layout_export *x = &l->ex[e];
		struct ddvm_queue_spec *q = &l->chan[x->chan].spec.q[x->queue];
		size_t n = strlen(q->target);

		if (x->kind != DDVM_QK_NET)
			continue;
		users = vm->devs[x->dev].nvirtio;	/* client VMs through the TAP */
		for (f = 0; f < l->nexports; f++)
			users += l->ex[f].kind == DDVM_QK_NET && l->ex[f].dev == x->dev;
		if (users < 2)
			continue;
		if (x->client < 0)
			config_port_mac(vm->name, x->num, "host", x->mac);
		x->bridged = 1;
		snprintf(q->target + n, sizeof(q->target) - n,
			 " br=ddvmbr%u mac=%02x:%02x:%02x:%02x:%02x:%02x", x->num, x->mac[0],
			 x->mac[1], x->mac[2], x->mac[3], x->mac[4], x->mac[5]);
		if (!(l->bridges & (1u << x->num)))
			l->nbridges++;
		l->bridges |= 1u << x->num;
	}
}

void layout_bridges_arg(const struct vm_layout *l, char *out, size_t len)
{
	unsigned int b, n = 0;
	size_t used = 0;

	out[0] = '\0';
	for (b = 0; b < 32 && used < len; b++)
		if (l->bridges & (1u << b))
			used += (size_t)snprintf(out + used, len - used, "%sddvmbr%u", n++ ? "," : "", b);
}

int layout_plan(const struct vm_config *vm, struct vm_layout *l, char *err, size_t errlen)
{
	unsigned int k, c, disks = 0, nics = 0;
	struct layout_chan *ctl = &l->chan[0];

	memset(l, 0, sizeof(*l));
	l->nchan = 1;
	snprintf(ctl->name, sizeof(ctl->name), "ctrl");
	ctl->spec.heartbeat_period_ms = HEARTBEAT_MS;
	ctl->spec.pci_table_max = PCI_TABLE_MAX;
	ctl->spec.nqueues = 1;
	ctl->spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_CTRL, .nslots = CTRL_SLOTS,
		.data_size = CTRL_DATA, .req_vector = 0, .resp_vector = 0 };
	for (k = 0; k < vm->ndevs; k++) {
		const struct dev_config *d = &vm->devs[k];
		int disk = dev_exports_disk(d), nic = dev_exports_nic(d);

		if (!disk && !nic) {
			disks += dev_has_disk(d);
			nics += dev_has_nic(d);
			continue;
		}
		if (l->nexports == LAYOUT_MAX_EXPORTS) {
			snprintf(err, errlen, "too many exported disks and NICs (at most %u)",
				 LAYOUT_MAX_EXPORTS);
			return -1;
		}
		add_export(l, disk ? DDVM_QK_BLOCK : DDVM_QK_NET, k, disk ? disks : nics, vm);
		if (disk) {
			disks++;
			l->ndisks++;
		} else {
			nics++;
			l->nnics++;
		}
	}
	l->nfront = l->nexports;
	for (k = 0; k < vm->nattach; k++)
		if (add_attach(l, vm, &vm->attach[k], err, errlen) < 0)
			return -1;
	plan_bridges(l, vm);
	if (size_chan(ctl, 0, err, errlen) < 0)
		return -1;
	for (c = 1; c < l->nchan; c++)
		if (size_chan(&l->chan[c], vm->channel_size, err, errlen) < 0)
			return -1;
	return 0;
}
