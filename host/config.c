// SPDX-License-Identifier: MIT
/* Supervisor configuration: parse with libconfig, validate every field. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_check.h"
#include "config_priv.h"
#include "layout.h"

const char *const cfg_type_names[DEV_NTYPES] = {
	[DEV_NVME] = "nvme", [DEV_AHCI] = "ahci", [DEV_VIRTIO_BLK] = "virtio-blk",
	[DEV_VIRTIO_SCSI] = "virtio-scsi", [DEV_LSI53C895A] = "lsi53c895a", [DEV_MEGASAS] = "megasas",
	[DEV_MPTSAS1068] = "mptsas1068", [DEV_PVSCSI] = "pvscsi", [DEV_AM53C974] = "am53c974",
	[DEV_IDE] = "ide", [DEV_USB_STORAGE] = "usb-storage", [DEV_USB_UAS] = "usb-uas",
	[DEV_SDHCI] = "sdhci",
	[DEV_E1000] = "e1000", [DEV_E1000E] = "e1000e", [DEV_RTL8139] = "rtl8139",
	[DEV_VIRTIO_NET] = "virtio-net", [DEV_VMXNET3] = "vmxnet3", [DEV_PCNET] = "pcnet",
	[DEV_NE2K_PCI] = "ne2k_pci", [DEV_I82559ER] = "i82559er", [DEV_TULIP] = "tulip",
	[DEV_USB_NET] = "usb-net", [DEV_VFIO] = "vfio",
};

/*
 * Guest driver modules per device type (comma-separated; image/build.sh's
 * DEFAULT_MODULES must name each, it puts their closure in the initramfs).
 * A SCSI or ATA disk needs sd_mod besides its host adapter's driver, a USB
 * device the host controller's (xhci_pci).  QEMU's rtl8139 is an RTL8139C+
 * (revision 0x20), which 8139too refuses ("use 8139cp").
 */
static const char *const type_modules[DEV_NTYPES] = {
	[DEV_NVME] = "nvme", [DEV_AHCI] = "ahci,sd_mod", [DEV_VIRTIO_BLK] = "virtio_pci,virtio_blk",
	[DEV_VIRTIO_SCSI] = "virtio_pci,virtio_scsi,sd_mod", [DEV_LSI53C895A] = "sym53c8xx,sd_mod",
	[DEV_MEGASAS] = "megaraid_sas,sd_mod", [DEV_MPTSAS1068] = "mptsas,sd_mod",
	[DEV_PVSCSI] = "vmw_pvscsi,sd_mod", [DEV_AM53C974] = "am53c974,sd_mod",
	[DEV_IDE] = "ata_piix,sd_mod", [DEV_USB_STORAGE] = "xhci_pci,usb_storage,sd_mod",
	[DEV_USB_UAS] = "xhci_pci,uas,sd_mod", [DEV_SDHCI] = "sdhci_pci,mmc_block",
	[DEV_E1000] = "e1000", [DEV_E1000E] = "e1000e", [DEV_RTL8139] = "8139cp",
	[DEV_VIRTIO_NET] = "virtio_pci,virtio_net", [DEV_VMXNET3] = "vmxnet3",
	[DEV_PCNET] = "pcnet32", [DEV_NE2K_PCI] = "ne2k_pci", [DEV_I82559ER] = "e100",
	[DEV_TULIP] = "tulip", [DEV_USB_NET] = "xhci_pci,cdc_ether", [DEV_VFIO] = "",
};

/*
 * Types that cannot work, and why (docs/drivers.md has the evidence): `up`
 * refuses them rather than booting a driver VM that would never serve them.
 */
static const char *const type_unusable[DEV_NTYPES] = {
	[DEV_NVME] = NULL,
};

static const char *const top_keys[] = { "vms", "image", "allow_users", "clients", "user", NULL };
static const char *const vm_keys[] = { "name", "memory", "boot_timeout", "max_restarts",
				       "channel", "modules", "devices", "fault_injection", "zero_copy", NULL };
static const char *const chan_keys[] = { "size", NULL };

/*
 * Where an error is, for `ddvm check` (config_check.h): the group last read
 * from, the member last found in it, the member a helper failed on.  An
 * error names the member it failed on, else the member last read if the
 * message names it, else the group.
 */
static struct {
	const config_setting_t *group, *key, *failed;
	int line;
	char file[PATH_MAX], path[192];
	/* config_check(): collect errors instead of stopping at the first */
	void (*fn)(const struct cfg_error *e, void *arg);
	void *arg;
	unsigned int nerr;
} at;

static void at_group(const config_setting_t *g)
{
	at.group = g;
	at.key = NULL;
}

static void at_member(const config_setting_t *g, const config_setting_t *s)
{
	if (g != at.group)
		at_group(g);
	if (s)
		at.key = s;
}

/* "vms[0].devices[1].tap" */
static void setting_path(const config_setting_t *s, char *out, size_t len)
{
	char tmp[192];

	out[0] = '\0';
	for (; s && config_setting_parent(s); s = config_setting_parent(s)) {
		const char *name = config_setting_name(s);

		if (name)
			snprintf(tmp, sizeof(tmp), "%s%s%s", name, out[0] && out[0] != '[' ? "." : "", out);
		else
			snprintf(tmp, sizeof(tmp), "[%d]%s%s", config_setting_index(s),
				 out[0] && out[0] != '[' ? "." : "", out);
		snprintf(out, len, "%s", tmp);
	}
}

/* Does msg name word (not as part of a longer name)? */
static int names(const char *msg, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = strstr(msg, word); p; p = strstr(p + 1, word))
		if ((p == msg || (!isalnum((unsigned char)p[-1]) && p[-1] != '_')) &&
		    !isalnum((unsigned char)p[n]) && p[n] != '_')
			return 1;
	return 0;
}

static void at_locate(const char *msg)
{
	const config_setting_t *s = at.failed;
	const char *f;

	if (!s && at.key && config_setting_parent(at.key) == at.group &&
	    names(msg, config_setting_name(at.key)))
		s = at.key;
	if (!s)
		s = at.group;
	at.failed = NULL;
	at.line = s ? config_setting_source_line(s) : 0;
	f = s ? config_setting_source_file(s) : NULL;
	snprintf(at.file, sizeof(at.file), "%s", f ? f : "");
	setting_path(s, at.path, sizeof(at.path));
}

/*
 * After an error (c->err set by cfg_fail): in config_check(), report it and
 * go on (1); else 0 -- the caller stops.
 */
static int keep_going(struct ctx *c)
{
	struct cfg_error e = { .line = at.line };
	size_t n = strlen(c->file);

	if (!at.fn)
		return 0;
	snprintf(e.file, sizeof(e.file), "%s", at.file[0] ? at.file : c->file);
	snprintf(e.key, sizeof(e.key), "%s", at.path);
	/* the message without cfg_fail's "FILE: " */
	snprintf(e.msg, sizeof(e.msg), "%s",
		 !strncmp(c->err, c->file, n) && !strncmp(c->err + n, ": ", 2) ? c->err + n + 2 : c->err);
	at.fn(&e, at.arg);
	at.nerr++;
	c->err[0] = '\0';
	return 1;
}

void cfg_at_group(const config_setting_t *g)
{
	at_group(g);
}

int cfg_keep_going(struct ctx *c)
{
	return keep_going(c);
}

int cfg_fail(struct ctx *c, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(c->err, c->errlen, "%s: ", c->file);
	if (c->vm && n < c->errlen)
		n += (size_t)snprintf(c->err + n, c->errlen - n, "vm '%s': ", c->vm);
	if (c->dev && n < c->errlen)
		n += (size_t)snprintf(c->err + n, c->errlen - n, "device %d: ", c->dev);
	if (n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
		at_locate(c->err + n);
	}
	return -1;
}

const char *dev_type_name(enum dev_type t)
{
	return (unsigned int)t < DEV_NTYPES ? cfg_type_names[t] : "?";
}

int dev_is_disk(enum dev_type t)
{
	return t >= DEV_FIRST_DISK && t <= DEV_LAST_DISK;
}

int dev_is_nic(enum dev_type t)
{
	return t >= DEV_FIRST_NIC && t <= DEV_LAST_NIC;
}

const char *dev_type_modules(enum dev_type t)
{
	return (unsigned int)t < DEV_NTYPES && type_modules[t] ? type_modules[t] : "";
}

const char *dev_type_unusable(enum dev_type t)
{
	return (unsigned int)t < DEV_NTYPES ? type_unusable[t] : NULL;
}

int dev_has_disk(const struct dev_config *d)
{
	return dev_is_disk(d->type) || (d->type == DEV_VFIO && d->vfio_as == DEV_NVME);
}

int dev_has_nic(const struct dev_config *d)
{
	return dev_is_nic(d->type) || (d->type == DEV_VFIO && d->vfio_as == DEV_E1000);
}

void config_port_mac(const char *vm, unsigned int nic, const char *client, uint8_t out[6])
{
	char key[3 * CFG_NAME_MAX + 16];
	uint32_t h = 2166136261u;	/* FNV-1a */
	const char *p;

	snprintf(key, sizeof(key), "%s/net%u/%s", vm, nic, client);
	for (p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	out[0] = 0x02;			/* locally administered, unicast */
	out[1] = 0xdd;
	out[2] = (uint8_t)(h >> 24);
	out[3] = (uint8_t)(h >> 16);
	out[4] = (uint8_t)(h >> 8);
	out[5] = (uint8_t)h;
}

int dev_exports_disk(const struct dev_config *d)
{
	return d->exported && dev_has_disk(d);
}

int dev_exports_nic(const struct dev_config *d)
{
	return d->exported && dev_has_nic(d);
}

int config_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')	/* tolerate "MiB" / "MB" */
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Every child of group s must be named in allowed. */
int cfg_check_keys(struct ctx *c, const config_setting_t *s, const char *const *allowed,
		      const char *what)
{
	int i, n = config_setting_length(s);

	at_group(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *k = config_setting_get_elem(s, (unsigned int)i);
		const char *name = config_setting_name(k);
		const char *const *a;

		if (!name)
			continue;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, name))
				break;
		if (!*a) {
			char list[256] = "";

			at.failed = k;
			for (a = allowed; *a; a++) {
				strncat(list, *a, sizeof(list) - strlen(list) - 1);
				if (a[1])
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			return cfg_fail(c, "line %d: unknown key '%s' in %s (allowed: %s)",
				    config_setting_source_line(k), name, what, list);
		}
	}
	return 0;
}

int cfg_get_string(struct ctx *c, const config_setting_t *g, const char *key,
		      const char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	*out = NULL;
	at_member(g, s);
	if (!s)
		return 0;
	at.failed = s;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(c, "'%s' must be a string", key);
	at.failed = NULL;
	*out = config_setting_get_string(s);
	return 1;
}

int cfg_get_int(struct ctx *c, const config_setting_t *g, const char *key,
		   long long lo, long long hi, const char *unit, unsigned int *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	long long v;

	at_member(g, s);
	if (!s)
		return 0;
	at.failed = s;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return cfg_fail(c, "'%s' must be an integer", key);
	if (v < lo || v > hi)
		return cfg_fail(c, "%s = %lld is out of range (%lld..%lld%s)", key, v, lo, hi, unit);
	at.failed = NULL;
	*out = (unsigned int)v;
	return 1;
}

int cfg_get_bool(struct ctx *c, const config_setting_t *g, const char *key, int *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	at_member(g, s);
	if (!s)
		return 0;
	at.failed = s;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(c, "'%s' must be true or false", key);
	at.failed = NULL;
	*out = config_setting_get_bool(s);
	return 1;
}

/* A size: integer bytes or a string with a K/M/G suffix. */
int cfg_get_size(struct ctx *c, const config_setting_t *g, const char *key, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	at_member(g, s);
	if (!s)
		return 0;
	at.failed = s;
	if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long v = config_setting_get_int64(s);

		if (config_setting_type(s) == CONFIG_TYPE_INT)
			v = config_setting_get_int(s);
		if (v <= 0)
			return cfg_fail(c, "%s = %lld must be positive", key, v);
		at.failed = NULL;
		*out = (uint64_t)v;
		return 1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    config_parse_size(config_setting_get_string(s), out) < 0 || *out == 0)
		return cfg_fail(c, "%s: expected a size like \"64M\" (K, M, G suffixes)", key);
	at.failed = NULL;
	return 1;
}

/* Relative paths are taken from the config file's directory. */
void cfg_resolve_path(const struct ddvm_config *cfg, const char *p, char *out, size_t len)
{
	if (p[0] == '/')
		snprintf(out, len, "%s", p);
	else
		snprintf(out, len, "%s/%s", cfg->dir, p);
}

int cfg_name_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= max)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return 0;
	return 1;
}

static int parse_modules(struct ctx *c, const config_setting_t *vmg, struct vm_config *vm)
{
	const config_setting_t *m = config_setting_get_member(vmg, "modules");
	int i, n;

	at_member(vmg, m);
	if (!m)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_ARRAY && config_setting_type(m) != CONFIG_TYPE_LIST)
		return cfg_fail(c, "modules must be a list of names, e.g. [ \"e1000\" ]");
	n = config_setting_length(m);
	if (n > CFG_MAX_MODULES)
		return cfg_fail(c, "too many modules (at most %d)", CFG_MAX_MODULES);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(m, (unsigned int)i);
		const char *s = config_setting_get_string(e);

		at.failed = e;
		if (!s || !cfg_name_ok(s, sizeof(vm->modules[0]), "-_"))
			return cfg_fail(c, "modules[%d] is not a module name", i);
		at.failed = NULL;
		snprintf(vm->modules[vm->nmodules++], sizeof(vm->modules[0]), "%s", s);
	}
	return 0;
}

static int parse_channel(struct ctx *c, const config_setting_t *ch, struct vm_config *vm)
{
	if (config_setting_type(ch) != CONFIG_TYPE_GROUP)
		return cfg_fail(c, "channel must be a group { size = \"4M\"; }");
	if (cfg_check_keys(c, ch, chan_keys, "channel") < 0 ||
	    cfg_get_size(c, ch, "size", &vm->channel_size) < 0)
		return -1;
	if (vm->channel_size & (vm->channel_size - 1))
		return cfg_fail(c, "channel size %llu is not a power of two",
			    (unsigned long long)vm->channel_size);
	if (vm->channel_size < LAYOUT_MIN_SIZE || vm->channel_size > LAYOUT_MAX_SIZE)
		return cfg_fail(c, "channel size %llu is out of range (64K..1G)",
			    (unsigned long long)vm->channel_size);
	return 0;
}

static int parse_vm(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
		    struct vm_config *vm, int idx)
{
	const config_setting_t *ch, *devs;
	unsigned int nnic = 0, nerr = at.nerr;
	static struct vm_layout lay;
	const char *name;
	char msg[256];
	int r, i, n;

	at_group(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(c, "vms[%d] must be a group { name = ...; }", idx);
	if ((r = cfg_get_string(c, g, "name", &name)) < 0)
		return -1;
	if (!r)
		return cfg_fail(c, "vms[%d] has no name", idx);
	if (!cfg_name_ok(name, CFG_NAME_MAX, "-_"))
		return cfg_fail(c, "vm name '%s' must be 1-31 letters, digits, '-' or '_'", name);
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	c->vm = vm->name;
	/* From here on, ddvm check reports each problem and goes on (keep_going). */
	if (cfg_check_keys(c, g, vm_keys, "a vm") < 0 && !keep_going(c))
		return -1;
	vm->memory_mb = 128;
	vm->max_restarts = 3;
	vm->channel_size = 0;	/* computed from the exports */
	vm->zero_copy = 1;
	if ((cfg_get_int(c, g, "memory", 64, 1 << 20, " MiB", &vm->memory_mb) < 0 && !keep_going(c)) ||
	    (cfg_get_int(c, g, "boot_timeout", 1, 3600, " s", &vm->boot_timeout) < 0 && !keep_going(c)) ||
	    (cfg_get_int(c, g, "max_restarts", 0, 1000, "", &vm->max_restarts) < 0 && !keep_going(c)) ||
	    (cfg_get_bool(c, g, "fault_injection", &vm->fault_injection) < 0 && !keep_going(c)) ||
	    (cfg_get_bool(c, g, "zero_copy", &vm->zero_copy) < 0 && !keep_going(c)))
		return -1;
	ch = config_setting_get_member(g, "channel");
	at_member(g, ch);
	if (ch && parse_channel(c, ch, vm) < 0 && !keep_going(c))
		return -1;
	if (parse_modules(c, g, vm) < 0 && !keep_going(c))
		return -1;
	devs = config_setting_get_member(g, "devices");
	at_member(g, devs);
	if (!devs)
		goto plan;
	if (config_setting_type(devs) != CONFIG_TYPE_LIST)
		return cfg_fail(c, "devices must be a list ( { type = ...; }, ... )");
	n = config_setting_length(devs);
	if (n > CFG_MAX_DEVS)
		return cfg_fail(c, "too many devices (at most %d)", CFG_MAX_DEVS);
	for (i = 0; i < n; i++) {
		struct dev_config *d = &vm->devs[vm->ndevs];	/* = [i] unless ddvm check skipped one */

		c->dev = i + 1;
		at_group(config_setting_get_elem(devs, (unsigned int)i));
		if (cfg_parse_device(c, cfg, config_setting_get_elem(devs, (unsigned int)i), d) < 0) {
			if (!keep_going(c))
				return -1;
			memset(d, 0, sizeof(*d));
			continue;
		}
		if (cfg_check_bus(c, vm, vm->ndevs) < 0) {
			if (!keep_going(c))
				return -1;
			memset(d, 0, sizeof(*d));
			continue;
		}
		if (dev_exports_nic(d) && !d->tap[0])	/* default: ddvm-<vm><k>, IFNAMSIZ-1 */
			snprintf(d->tap, sizeof(d->tap), "ddvm-%.*s%u", 9, vm->name, nnic);
		nnic += dev_is_nic(d->type) || (d->type == DEV_VFIO && d->vfio_as == DEV_E1000);
		vm->ndevs++;
	}
	c->dev = 0;
plan:
	if (at.nerr != nerr)	/* the layout of what is left would only mislead */
		return 0;
	at_group(g);
	if (layout_plan(vm, &lay, msg, sizeof(msg)) < 0)
		return cfg_fail(c, "%s", msg);
	return 0;
}

/*
 * allow_users = [ "name", ... ]: users admitted on the supervisor's sockets
 * (SO_PEERCRED) besides the one ddvm runs as -- at the top level for every
 * socket, on a device for that export's channel alone; resolved here, so a
 * typo is an error at `ddvm up`, not a refused client later.
 */
int cfg_parse_users(struct ctx *c, const config_setting_t *g, uid_t *uids, unsigned int *n)
{
	const config_setting_t *a = config_setting_get_member(g, "allow_users");
	int i, len;

	*n = 0;
	at_member(g, a);
	if (!a)
		return 0;
	if (config_setting_type(a) != CONFIG_TYPE_ARRAY && config_setting_type(a) != CONFIG_TYPE_LIST)
		return cfg_fail(c, "allow_users must be a list of user names, e.g. [ \"alice\" ]");
	len = config_setting_length(a);
	if (len > CFG_MAX_ALLOW)
		return cfg_fail(c, "too many allow_users (at most %d)", CFG_MAX_ALLOW);
	for (i = 0; i < len; i++) {
		const char *name = config_setting_get_string(config_setting_get_elem(a, (unsigned int)i));
		struct passwd *pw;

		at.failed = config_setting_get_elem(a, (unsigned int)i);
		if (!name || !name[0] || strlen(name) >= CFG_NAME_MAX)
			return cfg_fail(c, "allow_users[%d] is not a user name (a string of 1-%d characters)",
					i, CFG_NAME_MAX - 1);
		pw = getpwnam(name);
		if (!pw)
			return cfg_fail(c, "allow_users[%d]: no such user '%s'", i, name);
		at.failed = NULL;
		uids[(*n)++] = pw->pw_uid;
	}
	return 0;
}

/*
 * user = "name": who QEMU and the front-ends run as (privilege.h); resolved
 * here so a typo fails `ddvm up`.  Left out: "ddvm" if it exists.
 */
static int parse_run_user(struct ctx *c, struct ddvm_config *cfg, const config_setting_t *root)
{
	const char *name;
	int r = cfg_get_string(c, root, "user", &name);

	if (r <= 0)
		return r;
	if (!name[0] || strlen(name) >= sizeof(cfg->run_user))
		return cfg_fail(c, "user must be a user name (1-%zu characters)", sizeof(cfg->run_user) - 1);
	if (strcmp(name, "root") && !getpwnam(name))
		return cfg_fail(c, "user '%s' does not exist (QEMU and the front-ends run as it; "
				"`make install` creates ddvm)", name);
	snprintf(cfg->run_user, sizeof(cfg->run_user), "%s", name);
	return 0;
}

static int parse_root(struct ctx *c, struct ddvm_config *cfg, const config_setting_t *root)
{
	const config_setting_t *vms;
	const char *img;
	unsigned int nerr;
	int i, j, n, r;

	at_group(root);
	if (cfg_check_keys(c, root, top_keys, "the top level") < 0 && !keep_going(c))
		return -1;
	if ((r = cfg_get_string(c, root, "image", &img)) < 0 && !keep_going(c))
		return -1;
	if (r > 0)
		cfg_resolve_path(cfg, img, cfg->image_dir, sizeof(cfg->image_dir));
	if (cfg_parse_users(c, root, cfg->allow_uids, &cfg->nallow) < 0 && !keep_going(c))
		return -1;
	if (parse_run_user(c, cfg, root) < 0 && !keep_going(c))
		return -1;
	vms = config_setting_get_member(root, "vms");
	at_member(root, vms);
	if (!vms || config_setting_type(vms) != CONFIG_TYPE_LIST || config_setting_length(vms) == 0)
		return cfg_fail(c, "no driver VMs: expected vms = ( { name = \"...\"; ... } );");
	n = config_setting_length(vms);
	if (n > CFG_MAX_VMS)
		return cfg_fail(c, "too many vms (at most %d)", CFG_MAX_VMS);
	for (i = 0; i < n; i++) {
		nerr = at.nerr;
		c->vm = NULL;
		c->dev = 0;
		if (parse_vm(c, cfg, config_setting_get_elem(vms, (unsigned int)i), &cfg->vms[i], i) < 0) {
			if (!keep_going(c))
				return -1;
		}
		at_group(config_setting_get_elem(vms, (unsigned int)i));
		for (j = 0; j < i; j++)
			if (cfg->vms[i].name[0] && !strcmp(cfg->vms[j].name, cfg->vms[i].name) &&
			    cfg_fail(c, "duplicate vm name (vms %d and %d)", j + 1, i + 1) < 0 &&
			    !keep_going(c))
				return -1;
		if (at.nerr == nerr && cfg_check_unique(c, cfg, (unsigned int)i) < 0 && !keep_going(c))
			return -1;
		cfg->nvms++;
	}
	c->vm = NULL;
	c->dev = 0;
	if (at.nerr)	/* clients refer to the driver VMs' devices: check them once those are right */
		return -1;
	at_member(root, config_setting_get_member(root, "clients"));
	return cfg_parse_clients(c, cfg, root);
}

static int load(const char *path, struct ddvm_config *out, char *err, size_t errlen)
{
	struct ctx c = { .file = path, .err = err, .errlen = errlen };
	config_t lc;
	char *slash;
	FILE *f;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "%s", path);
	f = fopen(path, "r");
	if (!f)
		return cfg_fail(&c, "cannot read config: %s", strerror(errno));
	if (path[0] == '/') {
		snprintf(out->dir, sizeof(out->dir), "%s", path);
	} else if (!getcwd(out->dir, sizeof(out->dir) / 2)) {
		fclose(f);
		return cfg_fail(&c, "cannot resolve relative path: %s", strerror(errno));
	} else {
		size_t n = strlen(out->dir);

		snprintf(out->dir + n, sizeof(out->dir) - n, "/%s", path);
	}
	slash = strrchr(out->dir, '/');
	*slash = '\0';
	if (out->dir[0] == '\0')
		strcpy(out->dir, "/");

	config_init(&lc);
	config_set_options(&lc, 0);	/* no autoconvert */
	if (config_read(&lc, f) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc),
			 config_error_text(&lc));
		if (at.fn) {
			struct cfg_error e = { .line = config_error_line(&lc) };

			snprintf(e.file, sizeof(e.file), "%s", config_error_file(&lc) ? config_error_file(&lc) : path);
			snprintf(e.msg, sizeof(e.msg), "%s", config_error_text(&lc));
			at.fn(&e, at.arg);
			at.nerr++;
			err[0] = '\0';
		}
		ret = -1;
	} else {
		ret = parse_root(&c, out, config_root_setting(&lc));
	}
	config_destroy(&lc);
	fclose(f);
	return ret;
}

int config_load(const char *path, struct ddvm_config *out, char *err, size_t errlen)
{
	memset(&at, 0, sizeof(at));
	return load(path, out, err, errlen);
}

int config_check(const char *path, struct ddvm_config *out,
		 void (*fn)(const struct cfg_error *e, void *arg), void *arg)
{
	char err[1024] = "";
	int ret;

	memset(&at, 0, sizeof(at));
	at.fn = fn;
	at.arg = arg;
	ret = load(path, out, err, sizeof(err));
	if (ret < 0 && err[0]) {	/* the one that stopped it (reported unless it was) */
		struct ctx c = { .file = path, .err = err, .errlen = sizeof(err) };

		keep_going(&c);
	}
	ret = (int)at.nerr;
	memset(&at, 0, sizeof(at));
	return ret;
}

static int mkdir_parents(char *path)
{
	char *p;

	for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

int config_create_backing(const struct ddvm_config *cfg, char *err, size_t errlen)
{
	unsigned int i, j;

	for (i = 0; i < cfg->nvms; i++) {
		const struct vm_config *vm = &cfg->vms[i];

		for (j = 0; j < vm->ndevs; j++) {
			const struct dev_config *d = &vm->devs[j];
			char tmp[PATH_MAX];
			int fd, r;

			if (!dev_is_disk(d->type) || !d->create || access(d->file, F_OK) == 0)
				continue;
			snprintf(tmp, sizeof(tmp), "%s", d->file);
			r = mkdir_parents(tmp);
			fd = r < 0 ? r : open(d->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0 || ftruncate(fd, (off_t)d->size) < 0) {
				snprintf(err, errlen, "%s: vm '%s': device %u: cannot create backing file '%s': %s",
					 cfg->path, vm->name, j + 1, d->file, strerror(fd < 0 && r < 0 ? -r : errno));
				if (fd >= 0)
					close(fd);
				return -1;
			}
			close(fd);
		}
	}
	return 0;
}

void config_vm_modules(const struct vm_config *vm, char *buf, size_t len)
{
	char list[3 * CFG_MAX_DEVS + CFG_MAX_MODULES][56];
	unsigned int n = 0, i, k;
	size_t used = 0;

	for (i = 0; i < vm->ndevs + vm->nmodules; i++) {
		char tmp[64], *tok, *save;

		snprintf(tmp, sizeof(tmp), "%s",
			 i < vm->ndevs ? dev_type_modules(vm->devs[i].type) : vm->modules[i - vm->ndevs]);
		for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			for (k = 0; k < n; k++)
				if (!strcmp(list[k], tok))
					break;
			if (k == n && n < sizeof(list) / sizeof(list[0]))
				snprintf(list[n++], sizeof(list[0]), "%s", tok);
		}
	}
	buf[0] = '\0';
	for (k = 0; k < n && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? "," : "", list[k]);
}
