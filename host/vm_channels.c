// SPDX-License-Identifier: MIT
/*
 * A driver VM's client channels: one per export (layout.h), each a memfd
 * region holding that export's queue alone, served by an ivshmem server of
 * its own on RUNDIR/<vm>/chan-<export>.sock, attached to the driver VM as an
 * ivshmem-doorbell function of its own.  A client's socket hands out only
 * its own region, so a client reaches nothing but its own queue: not the
 * other clients' data or rings, not the supervisor's control queue.
 *
 * The supervisor is peer 0 of each server and only serves it: it never
 * reads a layout back from a client channel (it keeps its own copy) and
 * writes every host-owned field again before each driver-VM start.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "ddvm/posix/region_setup.h"
#include "supervisor.h"
#include "vm.h"

static void on_client_peer(void *opaque, const struct ivs_peer *p, int connected)
{
	struct vm_chan *ch = opaque;

	pr_debug("%s: peer %u (pid %d) %s", ch->sock, p->id, (int)p->pid,
		 connected ? "joined" : "left");
}

static void on_client_ivs(struct watch *w, uint32_t events)
{
	struct vm_chan *ch = container_of(w, struct vm_chan, ivs_w);

	(void)events;
	ivs_server_dispatch(&ch->ivs);
}

/* Who may join client channel c: the config's allow_users and its device's. */
static int chan_allow(struct vm *vm, unsigned int c)
{
	const struct dev_config *d = &vm->cfg->devs[vm->plan.ex[c].dev];
	const struct ddvm_config *cfg = vm->sv->cfg;
	uid_t uids[2 * CFG_MAX_ALLOW];
	unsigned int i, n = 0;

	for (i = 0; i < cfg->nallow; i++)
		uids[n++] = cfg->allow_uids[i];
	for (i = 0; i < d->nallow; i++)
		uids[n++] = d->allow_uids[i];
	return ivs_server_allow(&vm->clients[c].ivs, uids, n);
}

/* Create client channel c (plan channel c + 1).  0 or -1 with vm->error set. */
static int chan_init(struct vm *vm, unsigned int c)
{
	const struct layout_chan *lc = &vm->plan.chan[c + 1];
	struct vm_chan *ch = &vm->clients[c];
	char name[64];
	int r;

	_Static_assert(2 * CFG_MAX_ALLOW <= DDVM_ALLOW_MAX, "allow lists must fit the server's");
	ch->size = lc->size;
	strfmt(name, sizeof(name), "ddvm-%s-%s", vm->cfg->name, lc->name);
	ch->shm_fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (ch->shm_fd < 0 || ftruncate(ch->shm_fd, (off_t)ch->size) < 0 ||
	    fcntl(ch->shm_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot create the %s channel: %m",
		       vm->cfg->name, lc->name);
		return -1;
	}
	ch->base = mmap(NULL, ch->size, PROT_READ | PROT_WRITE, MAP_SHARED, ch->shm_fd, 0);
	if (ch->base == MAP_FAILED) {
		ch->base = NULL;
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot map the %s channel: %m",
		       vm->cfg->name, lc->name);
		return -1;
	}
	r = ddvm_region_setup(ch->base, ch->size, &lc->spec, &ch->layout);
	if (r < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot lay out the %s channel: %s",
		       vm->cfg->name, lc->name, strerror(-r));
		return -1;
	}
	layout_chan_sock(&vm->plan, c + 1, name, sizeof(name));
	strfmt(ch->sock, sizeof(ch->sock), "%s/%s", vm->dir, name);
	r = ivs_server_init(&ch->ivs, ch->sock, ch->shm_fd, lc->vectors, on_client_peer, ch);
	if (r == 0)
		r = chan_allow(vm, c);
	/* The driver VM and the client, and a successor of each while its predecessor's hang-up is pending. */
	if (r == 0)
		r = ivs_server_set_max_peers(&ch->ivs, 4);
	if (r < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot serve %s: %s", vm->cfg->name,
		       ch->sock, strerror(-r));
		return -1;
	}
	ch->serving = 1;
	if (loop_add(&ch->ivs_w, ivs_server_pollfd(&ch->ivs), EPOLLIN, on_client_ivs) < 0) {
		strfmt(vm->error, sizeof(vm->error), "vm '%s': cannot watch %s: %m", vm->cfg->name,
		       ch->sock);
		return -1;
	}
	return 0;
}

int vm_channels_init(struct vm *vm)
{
	unsigned int c;

	for (c = 0; c < LAYOUT_MAX_EXPORTS; c++) {
		vm->clients[c].shm_fd = -1;
		vm->clients[c].ivs_w.fd = -1;
	}
	for (c = 0; c + 1 < vm->plan.nchan; c++) {
		if (chan_init(vm, c) < 0)
			return -1;
		vm->nclients = c + 1;
	}
	return 0;
}

void vm_channels_restore(struct vm *vm)
{
	struct ddvm_layout l;
	unsigned int c;

	if (ddvm_region_restore(vm->base, vm->size, &vm->plan.chan[0].spec, &l) < 0)
		pr_err("vm '%s': cannot rewrite the control channel's layout", vm->cfg->name);
	for (c = 0; c < vm->nclients; c++)
		if (ddvm_region_restore(vm->clients[c].base, vm->clients[c].size,
					&vm->plan.chan[c + 1].spec, &l) < 0)
			pr_err("vm '%s': cannot rewrite the layout of %s", vm->cfg->name,
			       vm->clients[c].sock);
}

void vm_channels_destroy(struct vm *vm)
{
	unsigned int c;

	for (c = 0; c < vm->nclients; c++) {
		struct vm_chan *ch = &vm->clients[c];

		if (ch->ivs_w.fd >= 0)
			loop_del(&ch->ivs_w);
		if (ch->serving) {
			ivs_server_close(&ch->ivs);
			unlink(ch->sock);
		}
		if (ch->base)
			munmap(ch->base, ch->size);
		if (ch->shm_fd >= 0)
			close(ch->shm_fd);
		memset(ch, 0, sizeof(*ch));
		ch->shm_fd = -1;
		ch->ivs_w.fd = -1;
	}
	vm->nclients = 0;
}

const struct vm_chan *vm_export_chan(const struct vm *vm, const struct layout_export *ex)
{
	return ex->chan >= 1 && ex->chan - 1 < vm->nclients ? &vm->clients[ex->chan - 1] : NULL;
}

json_object *vm_chan_json(const struct vm_chan *ch)
{
	json_object *o = json_object_new_object(), *peers = json_object_new_array();
	unsigned int i;

	json_object_object_add(o, "socket", json_object_new_string(ch->sock));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)ch->size));
	for (i = 0; ch->serving && i < ch->ivs.npeers; i++) {
		const struct ivs_peer *p = ch->ivs.peers[i];
		json_object *po;

		if (!p || p->dead)
			continue;
		po = json_object_new_object();
		json_object_object_add(po, "id", json_object_new_int(p->id));
		json_object_object_add(po, "pid", json_object_new_int(p->pid));
		json_object_array_add(peers, po);
	}
	json_object_object_add(o, "peers", peers);
	return o;
}

int vm_chan_pair(struct vm *vm, unsigned int chan, pid_t pid, uint16_t *id)
{
	struct ivs_server *s;

	if (chan == 0)
		s = &vm->ivs;
	else if (chan - 1 < vm->nclients && vm->clients[chan - 1].serving)
		s = &vm->clients[chan - 1].ivs;
	else
		return -ENOENT;
	ivs_server_dispatch(s);	/* a peer that died is gone first: it still counts otherwise */
	return ivs_server_pair(s, pid, id);
}

void vm_chan_set_pid(struct vm *vm, unsigned int chan, uint16_t id, pid_t pid)
{
	if (chan == 0)
		ivs_server_set_pid(&vm->ivs, id, pid);
	else if (chan - 1 < vm->nclients && vm->clients[chan - 1].serving)
		ivs_server_set_pid(&vm->clients[chan - 1].ivs, id, pid);
}
