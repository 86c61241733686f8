/* SPDX-License-Identifier: MIT */
/*
 * `ddvm check CONFIG`: the config loader (config.c) in a mode that reports
 * each problem with where it is and goes on, instead of stopping at the
 * first: every top-level setting, every setting of a vm, every device (the
 * first problem of each device; a device with one is left out of the rest
 * of the checks), duplicate names; the clients once the driver VMs have no
 * errors (they refer to the driver VMs' devices), the first problem of each;
 * a syntax error ends it.
 */
#ifndef DDVM_HOST_CONFIG_CHECK_H
#define DDVM_HOST_CONFIG_CHECK_H

#include <limits.h>

#include "config.h"

struct cfg_error {
	char file[PATH_MAX];	/* the config (or the file it @included) */
	int line;		/* 0: not in the file (e.g. it cannot be read) */
	char key[192];		/* "vms[0].devices[1].tap", "" = the file as a whole */
	char msg[1024];		/* "vm 'x': device 2: tap 'eth 0!': interface name ..." */
};

/*
 * Load path as config_load() does, calling fn for each error found.
 * Returns the number of errors (0: the config is valid; out is then loaded).
 */
int config_check(const char *path, struct ddvm_config *out,
		 void (*fn)(const struct cfg_error *e, void *arg), void *arg);

#endif
