// SPDX-License-Identifier: MIT
/*
 * The config's client VMs:
 *
 *   clients = ( { name = "c1"; memory = 256; disks = [ "demo/disk0" ];
 *                 nics = [ "demo/net0" ]; start = true; kernel = "..."; initrd = "...";
 *                 append = "..."; } );
 *
 * Each disk a client names ("VM/diskN": the driver VM's Nth disk, or a
 * slice of it: { disk = "VM/diskN"; offset = "1G"; size = "512M"; }) gets a
 * channel of its own in that driver VM, which the client VM reaches through
 * an ivshmem-doorbell device; the driver VM confines the client to its
 * slice.  Every byte has one writer: a client VM, or the host's NBD export
 * (export = true, the default) of the whole disk, and slices of one disk
 * that two clients use do not overlap.
 *
 * Each NIC a client names ("VM/netN", or { nic = "VM/netN"; mac = "..."; })
 * gets a channel of its own too.  A NIC with several users (the host's TAP,
 * client VMs) is switched by a bridge in the driver VM; each user has a MAC
 * of its own there (given, or derived from the names: config_port_mac).
 *
 * A client with virtio = true uses no channel: the standard path for any OS
 * with virtio drivers.  Its disks are the exports' NBD sockets (QEMU's own
 * NBD client under a virtio-blk); its NICs join the exports' TAPs on a host
 * bridge ddvmhbV.N (a virtio-net on TAP ddvmcvC.K, with the client's MAC),
 * which makes the NIC one with several users.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

static const char *const client_keys[] = { "name", "memory", "max_restarts", "start", "kernel",
					    "initrd", "append", "disks", "nics", "virtio", NULL };

/*
 * "VM/diskN" or "VM/netN" (what = "disk" / "net") -> the driver VM, its
 * device and its number among that VM's disks / NICs.  0 or -1 (error set).
 */
static int resolve_dev(struct ctx *c, const struct ddvm_config *cfg, const char *who,
		       const char *list, unsigned int k, const char *ref, const char *what,
		       unsigned int *vm, unsigned int *dev, unsigned int *num)
{
	const char *slash = strchr(ref, '/');
	size_t wl = strlen(what);
	unsigned int v, i, want, n = 0;
	char *end;

	if (!slash || strncmp(slash + 1, what, wl) != 0 || slash[1 + wl] < '0' ||
	    slash[1 + wl] > '9')
		return cfg_fail(c, "client '%s': %s[%u] '%s' must be \"VM/%sN\"", who, list, k, ref,
				what);
	want = (unsigned int)strtoul(slash + 1 + wl, &end, 10);
	if (*end)
		return cfg_fail(c, "client '%s': %s[%u] '%s' must be \"VM/%sN\"", who, list, k, ref,
				what);
	for (v = 0; v < cfg->nvms; v++)
		if (strlen(cfg->vms[v].name) == (size_t)(slash - ref) &&
		    !strncmp(cfg->vms[v].name, ref, (size_t)(slash - ref)))
			break;
	if (v == cfg->nvms)
		return cfg_fail(c, "client '%s': %s[%u] '%s': no driver VM '%.*s'", who, list, k, ref,
				(int)(slash - ref), ref);
	for (i = 0; i < cfg->vms[v].ndevs; i++) {
		const struct dev_config *d = &cfg->vms[v].devs[i];

		if (!(wl == 4 ? dev_has_disk(d) : dev_has_nic(d)))
			continue;
		if (n++ == want) {
			*vm = v;
			*dev = i;
			*num = want;
			return 0;
		}
	}
	return cfg_fail(c, "client '%s': %s[%u] '%s': vm '%s' has no %s %u (it has %u)", who, list,
			k, ref, cfg->vms[v].name, wl == 4 ? "disk" : "NIC", want, n);
}

/* Do [a, a + al) and [b, b + bl) overlap?  A length of 0 is the whole disk. */
static int overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	if (!al || !bl)
		return 1;
	return a < b + bl && b < a + al;
}

/* One writer per byte: not the host's NBD export and a client, not two overlapping slices. */
static int check_writer(struct ctx *c, struct ddvm_config *cfg, unsigned int ci,
			const struct client_disk *cd, const char *ref)
{
	struct vm_config *vm = &cfg->vms[cd->vm];
	const struct dev_config *d = &vm->devs[cd->dev];
	unsigned int a;

	if (d->exported)
		return cfg_fail(c, "client '%s': disk '%s' is also exported to the host over NBD: "
				"two writers on one disk; set export = false on that device",
				cfg->clients[ci].name, ref);
	for (a = 0; a < vm->nattach; a++) {
		const struct cfg_attach *o = &vm->attach[a];

		if (o->dev != cd->dev)
			continue;
		if (o->client == ci)
			return cfg_fail(c, "client '%s' uses disk '%s' twice", cfg->clients[ci].name,
					ref);
		if (overlap(o->off, o->len, cd->off, cd->len))
			return cfg_fail(c, "clients '%s' and '%s' both use %s of disk '%s': one "
					"writer per slice", o->client_name, cfg->clients[ci].name,
					o->len && cd->len ? "overlapping slices" : "all", ref);
	}
	if (vm->nattach == CFG_MAX_ATTACH)
		return cfg_fail(c, "vm '%s': more than %u disks used by client VMs", vm->name,
				CFG_MAX_ATTACH);
	vm->attach[vm->nattach] = (struct cfg_attach){ .dev = cd->dev, .client = ci,
						       .off = cd->off, .len = cd->len };
	snprintf(vm->attach[vm->nattach].client_name, CFG_NAME_MAX, "%s", cfg->clients[ci].name);
	vm->nattach++;
	return 0;
}

/*
 * A disk of a virtio client: its virtio-blk is the export's NBD socket, so
 * the disk is exported, whole, and this client is its one writer.
 */
static int check_virtio_disk(struct ctx *c, struct ddvm_config *cfg, unsigned int ci,
			     const struct client_disk *cd, const char *ref)
{
	struct dev_config *d = &cfg->vms[cd->vm].devs[cd->dev];
	const char *who = cfg->clients[ci].name;
	unsigned int j, k;

	if (cd->len)
		return cfg_fail(c, "client '%s' (virtio = true): disk '%s': a slice needs a ddvm "
				"channel (virtio = false)", who, ref);
	if (!d->exported)
		return cfg_fail(c, "client '%s' (virtio = true): disk '%s' must be exported "
				"(export = true): its virtio-blk is the export's NBD socket", who, ref);
	for (j = 0; j < ci; j++)
		for (k = 0; cfg->clients[j].virtio && k < cfg->clients[j].ndisks; k++)
			if (cfg->clients[j].disks[k].vm == cd->vm &&
			    cfg->clients[j].disks[k].dev == cd->dev)
				return cfg_fail(c, "clients '%s' and '%s' both use disk '%s': one "
						"writer per disk", cfg->clients[j].name, who, ref);
	for (k = 0; k < cfg->clients[ci].ndisks; k++)
		if (cfg->clients[ci].disks[k].vm == cd->vm && cfg->clients[ci].disks[k].dev == cd->dev)
			return cfg_fail(c, "client '%s' uses disk '%s' twice", who, ref);
	d->nvirtio++;
	return 0;
}

static const char *const slice_keys[] = { "disk", "offset", "size", NULL };

/* offset = "1G" (or 0, the default): a size that may be 0. */
static int get_offset(struct ctx *c, const struct client_config *cl, unsigned int i,
		      const config_setting_t *e, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(e, "offset");
	long long v;

	*out = 0;
	if (!s)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
		v = config_setting_type(s) == CONFIG_TYPE_INT ? config_setting_get_int(s)
							     : config_setting_get_int64(s);
		if (v >= 0) {
			*out = (uint64_t)v;
			return 0;
		}
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING &&
		   config_parse_size(config_setting_get_string(s), out) == 0) {
		return 0;
	}
	return cfg_fail(c, "client '%s': disks[%u]: offset: expected a size like \"1G\" or 0",
			cl->name, i);
}

/* { disk; offset; size; }: a slice, 4 KiB-aligned (any disk's block size divides that). */
static int parse_slice(struct ctx *c, const struct client_config *cl, unsigned int i,
		       const config_setting_t *e, struct client_disk *cd)
{
	int r;

	if (cfg_check_keys(c, e, slice_keys, "a client disk") < 0 ||
	    get_offset(c, cl, i, e, &cd->off) < 0 || (r = cfg_get_size(c, e, "size", &cd->len)) < 0)
		return -1;
	if (!r || !cd->len)
		return cfg_fail(c, "client '%s': disks[%u]: a slice needs size = \"...\" (> 0)",
				cl->name, i);
	if (cd->off % 4096 || cd->len % 4096)
		return cfg_fail(c, "client '%s': disks[%u]: offset and size must be multiples of 4K",
				cl->name, i);
	if (cd->off > (1ull << 50) || cd->len > (1ull << 50))
		return cfg_fail(c, "client '%s': disks[%u]: slice beyond 1 PiB", cl->name, i);
	return 0;
}

/*
 * A client's NIC: its MAC (given, or derived from the names) must be unicast
 * and unlike every other MAC on that NIC; one channel per client and NIC.
 */
static int add_nic(struct ctx *c, struct ddvm_config *cfg, unsigned int ci, struct client_nic *cn,
		   const char *ref)
{
	struct vm_config *vm = &cfg->vms[cn->vm];
	const struct dev_config *d = &vm->devs[cn->dev];
	const char *who = cfg->clients[ci].name;
	uint8_t own[6];
	unsigned int a, j;

	if (!cn->mac_set)
		config_port_mac(vm->name, cn->num, who, cn->mac);
	if (cn->mac[0] & 1)
		return cfg_fail(c, "client '%s': nic '%s': mac %02x:%02x:%02x:%02x:%02x:%02x is a "
				"multicast address", who, ref, cn->mac[0], cn->mac[1], cn->mac[2],
				cn->mac[3], cn->mac[4], cn->mac[5]);
	if (d->mac[0] && cfg_mac_parse(d->mac, own) == 0 && !memcmp(own, cn->mac, 6))
		return cfg_fail(c, "client '%s': nic '%s': mac %s is the NIC's own; a client on it "
				"needs a MAC of its own", who, ref, d->mac);
	for (j = 0; j <= ci; j++) {
		const struct client_config *o = &cfg->clients[j];

		for (a = 0; a < (j == ci ? cfg->clients[ci].nnics : o->nnics); a++) {
			if (o->nics[a].vm != cn->vm || o->nics[a].dev != cn->dev)
				continue;
			if (j == ci)
				return cfg_fail(c, "client '%s' uses nic '%s' twice", who, ref);
			if (!memcmp(o->nics[a].mac, cn->mac, 6))
				return cfg_fail(c, "clients '%s' and '%s' have the same mac on nic '%s'",
						o->name, who, ref);
		}
	}
	if (cfg->clients[ci].virtio) {
		struct dev_config *dv = &vm->devs[cn->dev];

		if (!dv->exported)
			return cfg_fail(c, "client '%s' (virtio = true): nic '%s' must be exported "
					"(export = true): its virtio-net joins the NIC's TAP on a host "
					"bridge", who, ref);
		dv->nvirtio++;
		snprintf(dv->host_bridge, sizeof(dv->host_bridge), "ddvmhb%u.%u", cn->vm, cn->num);
		snprintf(cn->tap, sizeof(cn->tap), "ddvmcv%u.%u", ci, cfg->clients[ci].nnics);
		return 0;
	}
	if (vm->nattach == CFG_MAX_ATTACH)
		return cfg_fail(c, "vm '%s': more than %u disks and NICs used by client VMs", vm->name,
				CFG_MAX_ATTACH);
	vm->attach[vm->nattach] = (struct cfg_attach){ .dev = cn->dev, .nic = 1, .client = ci };
	memcpy(vm->attach[vm->nattach].mac, cn->mac, 6);
	snprintf(vm->attach[vm->nattach].client_name, CFG_NAME_MAX, "%s", who);
	vm->nattach++;
	return 0;
}

static const char *const nic_ref_keys[] = { "nic", "mac", NULL };

/* nics = [ "VM/netN", { nic = "VM/netN"; mac = "..."; } ]. */
static int parse_nics(struct ctx *c, struct ddvm_config *cfg, unsigned int ci,
		      const config_setting_t *nics)
{
	struct client_config *cl = &cfg->clients[ci];
	unsigned int i, n;

	if (config_setting_type(nics) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(nics) != CONFIG_TYPE_LIST)
		return cfg_fail(c, "client '%s': nics must be a list, e.g. [ \"demo/net0\" ]",
				cl->name);
	n = (unsigned int)config_setting_length(nics);
	if (n > CFG_MAX_ATTACH)
		return cfg_fail(c, "client '%s': more than %u nics", cl->name, CFG_MAX_ATTACH);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(nics, i);
		struct client_nic *cn = &cl->nics[cl->nnics];
		const char *ref = config_setting_get_string(e), *mac = NULL;

		memset(cn, 0, sizeof(*cn));
		if (!ref && config_setting_type(e) == CONFIG_TYPE_GROUP) {
			if (cfg_check_keys(c, e, nic_ref_keys, "a client nic") < 0 ||
			    cfg_get_string(c, e, "nic", &ref) < 0 ||
			    cfg_get_string(c, e, "mac", &mac) < 0)
				return -1;
		}
		if (!ref)
			return cfg_fail(c, "client '%s': nics[%u] must be \"VM/netN\" or { nic = "
					"\"VM/netN\"; mac = \"...\"; }", cl->name, i);
		if (resolve_dev(c, cfg, cl->name, "nics", i, ref, "net", &cn->vm, &cn->dev,
				&cn->num) < 0)
			return -1;
		if (mac && cfg_mac_parse(mac, cn->mac) < 0)
			return cfg_fail(c, "client '%s': nics[%u]: mac '%s' is not of the form "
					"02:00:00:12:34:56", cl->name, i, mac);
		cn->mac_set = mac != NULL;
		if (add_nic(c, cfg, ci, cn, ref) < 0)
			return -1;
		cl->nnics++;
	}
	return 0;
}

static int parse_client(struct ctx *c, struct ddvm_config *cfg, const config_setting_t *g,
			unsigned int ci)
{
	struct client_config *cl = &cfg->clients[ci];
	const config_setting_t *disks, *nics;
	const char *s;
	unsigned int i, n;
	int r;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(c, "clients[%u] must be a group { name = \"...\"; ... }", ci + 1);
	if (cfg_get_string(c, g, "name", &s) <= 0)
		return cfg_fail(c, "clients[%u] has no name", ci + 1);
	if (!cfg_name_ok(s, CFG_NAME_MAX, "-_"))
		return cfg_fail(c, "client name '%s' must be 1-31 letters, digits, '-' or '_'", s);
	snprintf(cl->name, sizeof(cl->name), "%s", s);
	for (i = 0; i < cfg->nvms; i++)
		if (!strcmp(cfg->vms[i].name, cl->name))
			return cfg_fail(c, "client '%s' has the name of a driver VM", cl->name);
	for (i = 0; i < ci; i++)
		if (!strcmp(cfg->clients[i].name, cl->name))
			return cfg_fail(c, "duplicate client name '%s'", cl->name);
	if (cfg_check_keys(c, g, client_keys, "a client") < 0)
		return -1;
	cl->memory_mb = 256;
	cl->max_restarts = 3;
	cl->start = 1;
	if (cfg_get_int(c, g, "memory", 64, 1 << 20, " MiB", &cl->memory_mb) < 0 ||
	    cfg_get_int(c, g, "max_restarts", 0, 1000, "", &cl->max_restarts) < 0 ||
	    cfg_get_bool(c, g, "start", &cl->start) < 0 ||
	    cfg_get_bool(c, g, "virtio", &cl->virtio) < 0)
		return -1;
	if ((r = cfg_get_string(c, g, "kernel", &s)) < 0)
		return -1;
	if (r)
		cfg_resolve_path(cfg, s, cl->kernel, sizeof(cl->kernel));
	if ((r = cfg_get_string(c, g, "initrd", &s)) < 0)
		return -1;
	if (r)
		cfg_resolve_path(cfg, s, cl->initrd, sizeof(cl->initrd));
	if (cl->initrd[0] && !cl->kernel[0])
		return cfg_fail(c, "client '%s': initrd without kernel", cl->name);
	if ((r = cfg_get_string(c, g, "append", &s)) < 0)
		return -1;
	if (r && strlen(s) >= sizeof(cl->append))
		return cfg_fail(c, "client '%s': append is longer than %zu characters", cl->name,
				sizeof(cl->append) - 1);
	if (r)
		snprintf(cl->append, sizeof(cl->append), "%s", s);
	nics = config_setting_get_member(g, "nics");
	if (nics && parse_nics(c, cfg, ci, nics) < 0)
		return -1;
	disks = config_setting_get_member(g, "disks");
	if (!disks)
		return 0;
	if (config_setting_type(disks) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(disks) != CONFIG_TYPE_LIST)
		return cfg_fail(c, "client '%s': disks must be a list, e.g. [ \"demo/disk0\" ]",
				cl->name);
	n = (unsigned int)config_setting_length(disks);
	if (n > CFG_MAX_ATTACH)
		return cfg_fail(c, "client '%s': more than %u disks", cl->name, CFG_MAX_ATTACH);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(disks, i);
		struct client_disk *cd = &cl->disks[cl->ndisks];
		const char *ref = config_setting_get_string(e);

		if (!ref && config_setting_type(e) == CONFIG_TYPE_GROUP &&
		    cfg_get_string(c, e, "disk", &ref) < 0)
			return -1;
		if (!ref)
			return cfg_fail(c, "client '%s': disks[%u] must be \"VM/diskN\" or { disk = "
					"\"VM/diskN\"; offset = \"...\"; size = \"...\"; }", cl->name, i);
		if (resolve_dev(c, cfg, cl->name, "disks", i, ref, "disk", &cd->vm, &cd->dev,
				&cd->num) < 0)
			return -1;
		if (config_setting_type(e) == CONFIG_TYPE_GROUP && parse_slice(c, cl, i, e, cd) < 0)
			return -1;
		if (cl->virtio ? check_virtio_disk(c, cfg, ci, cd, ref) < 0
			       : check_writer(c, cfg, ci, cd, ref) < 0)
			return -1;
		cl->ndisks++;
	}
	return 0;
}

int cfg_parse_clients(struct ctx *c, struct ddvm_config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = config_setting_get_member(root, "clients");
	unsigned int i, n;

	if (!list)
		return 0;
	if (config_setting_type(list) != CONFIG_TYPE_LIST)
		return cfg_fail(c, "clients must be a list ( { name = \"...\"; ... } );");
	n = (unsigned int)config_setting_length(list);
	if (n > CFG_MAX_CLIENTS)
		return cfg_fail(c, "too many clients (at most %d)", CFG_MAX_CLIENTS);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);

		cfg_at_group(g);
		/* ddvm check: each client's first problem, then the next client */
		if (parse_client(c, cfg, g, i) < 0 && !cfg_keep_going(c))
			return -1;
		cfg->nclients++;
	}
	return 0;
}
