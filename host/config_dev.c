// SPDX-License-Identifier: MIT
/* Supervisor configuration: one device entry (disk, NIC or vfio), validated. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_priv.h"
#include "vfio_check.h"

static const char *const disk_keys[] = { "type", "file", "size", "create", "serial", "readonly",
					 "export", "nbd_tcp_port", "nbd_tcp_psk", "nbd_tcp_insecure",
					 "allow_users", NULL };
static const char *const nic_keys[] = { "type", "net", "mac", "export", "tap", "allow_users",
					NULL };
static const char *const vfio_keys[] = { "type", "host", "export", "tap", "nbd_tcp_port",
					 "nbd_tcp_psk", "nbd_tcp_insecure", "allow_users", NULL };

/* A Linux interface name: 1-15 of letters, digits, '-', '_', '.'; not "." or "..". */
static int ifname_ok(const char *s)
{
	return cfg_name_ok(s, 16, "-_.") && strcmp(s, ".") && strcmp(s, "..");
}

/*
 * NBD over TCP is TLS with a pre-shared key (nbdkit's TLS-PSK) unless the
 * config says nbd_tcp_insecure = true; the keys are nbd_tcp_psk's file, or
 * ones the supervisor makes in the run folder.
 */
static int parse_tcp_tls(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
			 struct dev_config *d)
{
	const char *s;
	int r;

	if (cfg_get_bool(c, g, "nbd_tcp_insecure", &d->nbd_tcp_insecure) < 0)
		return -1;
	if ((r = cfg_get_string(c, g, "nbd_tcp_psk", &s)) < 0)
		return -1;
	if ((r || d->nbd_tcp_insecure) && !d->nbd_tcp_port)
		return cfg_fail(c, "'%s' needs nbd_tcp_port", r ? "nbd_tcp_psk" : "nbd_tcp_insecure");
	if (!r)
		return 0;
	if (d->nbd_tcp_insecure)
		return cfg_fail(c, "nbd_tcp_psk and nbd_tcp_insecure = true exclude each other");
	if (!*s)
		return cfg_fail(c, "nbd_tcp_psk = \"\": give the keys file, or leave it out");
	cfg_resolve_path(cfg, s, d->nbd_tcp_psk, sizeof(d->nbd_tcp_psk));
	if (access(d->nbd_tcp_psk, R_OK) < 0)
		return cfg_fail(c, "nbd_tcp_psk '%s': %s", d->nbd_tcp_psk, strerror(errno));
	return 0;
}

/* export, tap, nbd_tcp_port: what the front-end makes of this device. */
static int parse_export(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
			struct dev_config *d, int disk, int nic)
{
	const char *s;
	int r;

	d->exported = disk || nic;
	if (cfg_get_bool(c, g, "export", &d->exported) < 0)
		return -1;
	if (d->exported && !disk && !nic)
		return cfg_fail(c, "export = true: vfio device %s is neither a storage nor a network "
			    "function, so it cannot be exported", d->host);
	if ((r = cfg_get_string(c, g, "tap", &s)) < 0)
		return -1;
	if (r) {
		if (!nic)
			return cfg_fail(c, "'tap' applies only to network devices");
		if (!d->exported)
			return cfg_fail(c, "tap = \"%s\" needs export = true", s);
		if (!ifname_ok(s))
			return cfg_fail(c, "tap '%s': interface name must be 1-15 letters, digits, '-', '_', '.'", s);
		snprintf(d->tap, sizeof(d->tap), "%s", s);
	}
	if ((r = cfg_get_int(c, g, "nbd_tcp_port", 1, 65535, "", &d->nbd_tcp_port)) < 0)
		return -1;
	if (r && !disk)
		return cfg_fail(c, "'nbd_tcp_port' applies only to disks");
	if (r && !d->exported)
		return cfg_fail(c, "nbd_tcp_port = %u needs export = true", d->nbd_tcp_port);
	if (disk && parse_tcp_tls(c, cfg, g, d) < 0)
		return -1;
	/* Who else may join this export's channel (its own ivshmem socket). */
	if (cfg_parse_users(c, g, d->allow_uids, &d->nallow) < 0)
		return -1;
	if (d->nallow && !d->exported)
		return cfg_fail(c, "allow_users on a device needs export = true");
	return 0;
}

int cfg_mac_parse(const char *m, uint8_t out[6])
{
	unsigned int i;

	if (strlen(m) != 17)
		return -1;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
			return -1;
	for (i = 0; i < 6; i++)
		out[i] = (uint8_t)strtoul(m + 3 * i, NULL, 16);
	return 0;
}

/* "BB:DD.F" or "DDDD:BB:DD.F" -> canonical lower-case "dddd:bb:dd.f". */
static int pci_addr_parse(const char *s, char *out, size_t len)
{
	unsigned int d = 0, b, dev, f;
	char tail;

	if (sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &dev, &f, &tail) != 4) {
		d = 0;
		if (sscanf(s, "%2x:%2x.%1x%c", &b, &dev, &f, &tail) != 3)
			return -1;
	}
	if (dev > 0x1f || f > 7)
		return -1;
	snprintf(out, len, "%04x:%02x:%02x.%x", d, b, dev, f);
	return 0;
}

static int parse_disk(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
		      struct dev_config *d)
{
	const char *s;
	struct stat st;
	int r;

	if (cfg_check_keys(c, g, disk_keys, "a disk device") < 0)
		return -1;
	if ((r = cfg_get_string(c, g, "file", &s)) < 0)
		return -1;
	if (!r || !*s)
		return cfg_fail(c, "%s needs file = \"PATH\"", dev_type_name(d->type));
	cfg_resolve_path(cfg, s, d->file, sizeof(d->file));
	if (cfg_get_size(c, g, "size", &d->size) < 0 || cfg_get_bool(c, g, "create", &d->create) < 0 ||
	    cfg_get_bool(c, g, "readonly", &d->readonly) < 0)
		return -1;
	if ((r = cfg_get_string(c, g, "serial", &s)) < 0)
		return -1;
	if (r) {
		if (!cfg_name_ok(s, 21, "-_."))
			return cfg_fail(c, "serial '%s' must be 1-20 letters, digits, '-', '_' or '.'", s);
		snprintf(d->serial, sizeof(d->serial), "%s", s);
	}
	if (stat(d->file, &st) == 0) {
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return cfg_fail(c, "backing file '%s' is not a regular file or block device", d->file);
	} else if (errno != ENOENT) {
		return cfg_fail(c, "backing file '%s': %s", d->file, strerror(errno));
	} else if (!d->create) {
		return cfg_fail(c, "backing file '%s' does not exist (set create = true to create it)",
			    d->file);
	} else if (!d->size) {
		return cfg_fail(c, "backing file '%s' does not exist and has no size = to create it with",
			    d->file);
	} else if (d->size % 512) {
		return cfg_fail(c, "size must be a multiple of 512 bytes");
	}
	/* QEMU's sd-card refuses any other size ("Invalid SD card size"). */
	if (d->type == DEV_SDHCI) {
		uint64_t sz = stat(d->file, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : d->size;

		if (sz && (sz & (sz - 1)))
			return cfg_fail(c, "an sdhci disk (QEMU's sd-card) must be a power of two in size; "
				    "'%s' is %llu bytes", d->file, (unsigned long long)sz);
	}
	return parse_export(c, cfg, g, d, 1, 0);
}

static int parse_nic(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
		     struct dev_config *d)
{
	const char *s;
	int r;

	if (cfg_check_keys(c, g, nic_keys, "a network device") < 0)
		return -1;
	if ((r = cfg_get_string(c, g, "net", &s)) < 0)
		return -1;
	d->net = NET_ISOLATED;
	if (r && !strcmp(s, "none")) {
		d->net = NET_NONE;
	} else if (r && !strncmp(s, "tap:", 4)) {
		if (!ifname_ok(s + 4))
			return cfg_fail(c, "net '%s': tap interface name must be 1-15 letters, digits, '-', '_', '.'", s);
		d->net = NET_TAP;
		snprintf(d->net_tap, sizeof(d->net_tap), "%s", s + 4);
	} else if (r && strcmp(s, "isolated")) {
		return cfg_fail(c, "net '%s' is not one of \"isolated\", \"tap:IFNAME\", \"none\"", s);
	}
	if ((r = cfg_get_string(c, g, "mac", &s)) < 0)
		return -1;
	if (r) {
		uint8_t mac[6];

		if (cfg_mac_parse(s, mac) < 0)
			return cfg_fail(c, "mac '%s' is not of the form 52:54:00:12:34:56", s);
		snprintf(d->mac, sizeof(d->mac), "%s", s);
	}
	return parse_export(c, cfg, g, d, 0, 1);
}

/* The host function's PCI base class (/sys/.../class "0x020000" -> 0x02), or -1. */
static int pci_base_class(const char *addr)
{
	char path[PATH_MAX];
	unsigned int cls;
	FILE *f;
	int r;

	vfio_sysfs_path(path, sizeof(path), "bus/pci/devices/%s/class", addr);
	f = fopen(path, "re");
	if (!f)
		return -1;
	r = fscanf(f, "%x", &cls);
	fclose(f);
	return r == 1 ? (int)(cls >> 16) : -1;
}

static int parse_vfio(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
		      struct dev_config *d)
{
	char sys[PATH_MAX];
	const char *s;
	int r;

	if (cfg_check_keys(c, g, vfio_keys, "a vfio device") < 0)
		return -1;
	if ((r = cfg_get_string(c, g, "host", &s)) < 0)
		return -1;
	if (!r)
		return cfg_fail(c, "vfio needs host = \"DDDD:BB:DD.F\"");
	if (pci_addr_parse(s, d->host, sizeof(d->host)) < 0)
		return cfg_fail(c, "vfio host address '%s' is not a PCI address (expected DDDD:BB:DD.F)", s);
	vfio_sysfs_path(sys, sizeof(sys), "bus/pci/devices/%s", d->host);	/* $DDVM_SYSFS_ROOT */
	if (access(sys, F_OK) < 0)
		return cfg_fail(c, "vfio host address %s: no such PCI device on this host", d->host);
	switch (pci_base_class(d->host)) {
	case 0x01: d->vfio_as = DEV_NVME; break;	/* mass storage */
	case 0x02: d->vfio_as = DEV_E1000; break;	/* network */
	default: d->vfio_as = DEV_VFIO; break;
	}
	return parse_export(c, cfg, g, d, d->vfio_as == DEV_NVME, d->vfio_as == DEV_E1000);
}

/* "nvme, ahci, ..., vfio": every type, for messages. */
static const char *type_list(void)
{
	static char list[512];
	size_t n = 0;
	unsigned int t;

	if (!list[0])
		for (t = 0; t < DEV_NTYPES && n < sizeof(list); t++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", t ? ", " : "",
					      cfg_type_names[t]);
	return list;
}

int cfg_parse_device(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
			struct dev_config *d)
{
	const char *type, *why;
	unsigned int t;
	int r;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(c, "expected a group { type = ...; }");
	if ((r = cfg_get_string(c, g, "type", &type)) < 0)
		return -1;
	if (!r)
		return cfg_fail(c, "missing type = (%s)", type_list());
	for (t = 0; t < DEV_NTYPES; t++)
		if (!strcmp(type, cfg_type_names[t]))
			break;
	if (t == DEV_NTYPES)
		return cfg_fail(c, "unknown type '%s' (expected %s)", type, type_list());
	d->type = (enum dev_type)t;
	why = dev_type_unusable(d->type);
	if (why)
		return cfg_fail(c, "type '%s' cannot work in a driver VM: %s (docs/drivers.md)", type, why);
	if (dev_is_disk(d->type))
		return parse_disk(c, cfg, g, d);
	if (dev_is_nic(d->type))
		return parse_nic(c, cfg, g, d);
	return parse_vfio(c, cfg, g, d);
}

/*
 * Where device k of vm sits on a bus that several devices share, and
 * whether that place is free: q35's one AHCI controller has 6 ports; the
 * one PIIX IDE controller (its legacy ports 0x1f0/0x170 and ISA IRQs 14/15
 * allow no second one in a VM) has 2 channels x master/slave.  Every other
 * device gets a PCI slot (and controller) of its own (host/layout.c).
 */
int cfg_check_bus(struct ctx *c, const struct vm_config *vm, unsigned int k)
{
	static const struct { enum dev_type t; unsigned int max; const char *bus; } shared[] = {
		{ DEV_AHCI, 6, "port on q35's AHCI controller (00:1f.2), which has 6" },
		{ DEV_IDE, 4, "place on the PIIX IDE controller, which has 4 (primary and secondary "
			      "channel, master and slave; a VM can have only one: legacy ports "
			      "0x1f0/0x170 and IRQs 14/15)" },
	};
	const struct dev_config *d = &vm->devs[k];
	unsigned int i, s, n = 0;
	char taken[96] = "";
	size_t used = 0;

	for (s = 0; s < sizeof(shared) / sizeof(shared[0]); s++) {
		if (d->type != shared[s].t)
			continue;
		for (i = 0; i < k; i++)
			if (vm->devs[i].type == d->type && ++n <= 8 && used < sizeof(taken))
				used += (size_t)snprintf(taken + used, sizeof(taken) - used, "%s%u",
							 n > 1 ? ", " : "", i + 1);
		if (n >= shared[s].max)
			return cfg_fail(c, "%s disk: no free %s, all taken by devices %s",
				    cfg_type_names[d->type], shared[s].bus, taken);
	}
	return 0;
}

/* Host-side names must be unique: TAP interfaces (front-ends' and wires') and TCP ports;
 * and a host PCI function (vfio) belongs to one device. */
int cfg_check_unique(struct ctx *c, const struct ddvm_config *cfg, unsigned int v)
{
	const struct vm_config *vm = &cfg->vms[v];
	unsigned int i, j, k;

	for (k = 0; k < vm->ndevs; k++) {
		const struct dev_config *d = &vm->devs[k];

		c->vm = vm->name;
		c->dev = (int)k + 1;
		if (d->tap[0] && d->net == NET_TAP && !strcmp(d->tap, d->net_tap))
			return cfg_fail(c, "tap '%s' is also this NIC's wire (net = \"tap:%s\"); "
				    "give the front-end another name", d->tap, d->net_tap);
		for (i = 0; i <= v; i++)
			for (j = 0; j < (i == v ? k : cfg->vms[i].ndevs); j++) {
				const struct dev_config *o = &cfg->vms[i].devs[j];
				const char *names[2] = { d->tap, d->net == NET_TAP ? d->net_tap : "" };
				const char *onames[2] = { o->tap, o->net == NET_TAP ? o->net_tap : "" };
				int a, b;

				for (a = 0; a < 2; a++)
					for (b = 0; b < 2; b++)
						if (names[a][0] && !strcmp(names[a], onames[b]))
							return cfg_fail(c, "host interface '%s' is also used by vm '%s' device %u%s",
								    names[a], cfg->vms[i].name, j + 1,
								    a == 0 ? " (set tap = \"NAME\" to pick another)" : "");
				if (d->nbd_tcp_port && d->nbd_tcp_port == o->nbd_tcp_port)
					return cfg_fail(c, "nbd_tcp_port %u is also used by vm '%s' device %u",
						    d->nbd_tcp_port, cfg->vms[i].name, j + 1);
				if (d->type == DEV_VFIO && o->type == DEV_VFIO && !strcmp(d->host, o->host))
					return cfg_fail(c, "vfio host PCI function %s is also vm '%s' device %u: "
						    "a function can be passed to one device only",
						    d->host, cfg->vms[i].name, j + 1);
			}
	}
	c->dev = 0;
	return 0;
}
