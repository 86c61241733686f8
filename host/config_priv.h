/* SPDX-License-Identifier: MIT */
/* Helpers shared by config.c and config_dev.c (not part of the config API). */
#ifndef DDVM_HOST_CONFIG_PRIV_H
#define DDVM_HOST_CONFIG_PRIV_H

#include <libconfig.h>
#include <sys/types.h>

#include "config.h"

/* Where an error is: file, vm, device; prefixes every message. */
struct ctx {
	const char *file;
	const char *vm;
	int dev;		/* 1-based, 0 = not in a device */
	char *err;
	size_t errlen;
};

extern const char *const cfg_type_names[DEV_NTYPES];

/* ddvm check: errors from here on are located in group g (its line, its key path). */
void cfg_at_group(const config_setting_t *g);
/* After an error: ddvm check reports it and goes on (1); config_load stops (0). */
int cfg_keep_going(struct ctx *c);

/* Write "FILE: vm 'X': device N: <msg>" into c->err; returns -1. */
int cfg_fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* allow_users in group g, resolved to uids[*n] (at most CFG_MAX_ALLOW).  0 or -1. */
int cfg_parse_users(struct ctx *c, const config_setting_t *g, uid_t *uids, unsigned int *n);

/* Every member of group s must be named in allowed (NULL-terminated). */
int cfg_check_keys(struct ctx *c, const config_setting_t *s, const char *const *allowed,
		   const char *what);
/* Optional members: 0 absent, 1 present (*out set), -1 wrong type/range (error set). */
int cfg_get_string(struct ctx *c, const config_setting_t *g, const char *key, const char **out);
int cfg_get_int(struct ctx *c, const config_setting_t *g, const char *key,
		long long lo, long long hi, const char *unit, unsigned int *out);
int cfg_get_bool(struct ctx *c, const config_setting_t *g, const char *key, int *out);
int cfg_get_size(struct ctx *c, const config_setting_t *g, const char *key, uint64_t *out);
/* Relative paths are taken from the config file's directory. */
void cfg_resolve_path(const struct ddvm_config *cfg, const char *p, char *out, size_t len);
/* 1 if s is 1..max-1 chars of letters, digits and chars in extra. */
int cfg_name_ok(const char *s, size_t max, const char *extra);
/* "52:54:00:12:34:56" -> 6 bytes.  0 or -1 (not of that form). */
int cfg_mac_parse(const char *s, uint8_t out[6]);
/* Device k of vm has a free place on the bus it shares with others (ahci ports, IDE)?  0 or -1. */
int cfg_check_bus(struct ctx *c, const struct vm_config *vm, unsigned int k);
/* Vm v's host-side names (TAP interfaces, TCP ports) clash with none before them? */
int cfg_check_unique(struct ctx *c, const struct ddvm_config *cfg, unsigned int v);
/* The top-level clients list (after every vm): into cfg->clients and the
 * driver VMs' attach lists.  0 or -1. */
int cfg_parse_clients(struct ctx *c, struct ddvm_config *cfg, const config_setting_t *root);
/* Parse one device group into d. */
int cfg_parse_device(struct ctx *c, const struct ddvm_config *cfg, const config_setting_t *g,
		     struct dev_config *d);

#endif
