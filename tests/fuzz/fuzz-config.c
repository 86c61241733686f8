// SPDX-License-Identifier: MIT
/*
 * fuzz-config: the config loader (host/config.c, config_dev.c,
 * config_clients.c, through libconfig) on arbitrary text, in both modes:
 * config_load (stop at the first error) and config_check (report each).
 *
 * Always: no crash, leak, overflow or hang; config_load returns 0, or -1
 * with a one-line message; config_check reports errors through its
 * callback with NUL-terminated file, key and a non-empty message, and
 * returns how many it reported; the two agree (config_load succeeds
 * exactly when config_check finds nothing).  A loaded config is in
 * bounds: counts within their maxima, every name a non-empty
 * NUL-terminated string, VM names unique, each device's type known, each
 * client's disks and NICs naming an existing VM and device of that kind.
 *
 * The text is written to a memory file and loaded by its /proc path; an
 * @include (which reads other files) is not fuzzed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "config_check.h"
#include "must.h"

static unsigned int nreported;

static void on_error(const struct cfg_error *e, void *arg)
{
	(void)arg;
	MUST(memchr(e->file, '\0', sizeof(e->file)) && memchr(e->key, '\0', sizeof(e->key)));
	MUST(memchr(e->msg, '\0', sizeof(e->msg)) && e->msg[0]);
	MUST(e->line >= 0);
	nreported++;
}

static void str_ok(const char *s, size_t n, int nonempty)
{
	MUST(memchr(s, '\0', n) != NULL);
	MUST(!nonempty || s[0]);
}

static void check_loaded(const struct ddvm_config *c)
{
	unsigned int i, j, k;

	MUST(c->nvms >= 1 && c->nvms <= CFG_MAX_VMS && c->nclients <= CFG_MAX_CLIENTS);
	MUST(c->nallow <= CFG_MAX_ALLOW);
	for (i = 0; i < c->nvms; i++) {
		const struct vm_config *vm = &c->vms[i];

		str_ok(vm->name, sizeof(vm->name), 1);
		for (j = 0; j < i; j++)
			MUST(strcmp(vm->name, c->vms[j].name) != 0);
		MUST(vm->ndevs <= CFG_MAX_DEVS && vm->nmodules <= CFG_MAX_MODULES);
		MUST(vm->nattach <= CFG_MAX_ATTACH);
		for (j = 0; j < vm->nmodules; j++)
			str_ok(vm->modules[j], sizeof(vm->modules[j]), 1);
		for (j = 0; j < vm->ndevs; j++) {
			const struct dev_config *d = &vm->devs[j];

			MUST((unsigned int)d->type < DEV_NTYPES);
			MUST(d->nallow <= CFG_MAX_ALLOW);
			str_ok(d->file, sizeof(d->file), 0);
			str_ok(d->tap, sizeof(d->tap), 0);
			str_ok(d->mac, sizeof(d->mac), 0);
			str_ok(d->host, sizeof(d->host), 0);
			str_ok(d->serial, sizeof(d->serial), 0);
			str_ok(d->net_tap, sizeof(d->net_tap), 0);
			if (dev_is_disk(d->type))
				MUST(d->file[0] == '/');
		}
		for (j = 0; j < vm->nattach; j++)
			MUST(vm->attach[j].dev < vm->ndevs && vm->attach[j].client < c->nclients);
		{
			char mods[4096];

			config_vm_modules(vm, mods, sizeof(mods));
			str_ok(mods, sizeof(mods), 0);
		}
	}
	for (i = 0; i < c->nclients; i++) {
		const struct client_config *cl = &c->clients[i];

		str_ok(cl->name, sizeof(cl->name), 1);
		MUST(cl->ndisks <= CFG_MAX_ATTACH && cl->nnics <= CFG_MAX_ATTACH);
		for (k = 0; k < cl->ndisks; k++) {
			const struct client_disk *d = &cl->disks[k];

			MUST(d->vm < c->nvms && d->dev < c->vms[d->vm].ndevs);
			MUST(dev_has_disk(&c->vms[d->vm].devs[d->dev]));
		}
		for (k = 0; k < cl->nnics; k++) {
			const struct client_nic *n = &cl->nics[k];

			MUST(n->vm < c->nvms && n->dev < c->vms[n->vm].ndevs);
			MUST(dev_has_nic(&c->vms[n->vm].devs[n->dev]));
			MUST(!(n->mac[0] & 1));		/* unicast */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ddvm_config a, b;
	char path[64], err[1024];
	int fd, ra, nb;

	if (memmem(data, size, "include", 7))
		return 0;	/* @include reads other files */
	fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
	MUST(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	err[0] = '\0';
	ra = config_load(path, &a, err, sizeof(err));
	MUST(ra == 0 || ra == -1);
	str_ok(err, sizeof(err), ra != 0);
	if (ra == 0)
		check_loaded(&a);

	nreported = 0;
	nb = config_check(path, &b, on_error, NULL);
	MUST(nb >= 0 && (unsigned int)nb == nreported);
	if ((ra == 0) != (nb == 0)) {
		fprintf(stderr, "config_load %s (%s) but config_check found %d errors\n",
			ra ? "failed" : "succeeded", err, nb);
		MUST((ra == 0) == (nb == 0));
	}
	if (nb == 0)
		check_loaded(&b);
	close(fd);
	return 0;
}
