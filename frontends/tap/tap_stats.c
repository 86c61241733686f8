// SPDX-License-Identifier: MIT
/* ddvm-tap stats file.  See tap_stats.h. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap_stats.h"

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static json_object *build(const struct tap_status *st, const struct ddvm_netc_stats *n)
{
	json_object *root = json_object_new_object(), *tx = json_object_new_object();
	json_object *rx = json_object_new_object(), *txd = json_object_new_object();
	json_object *rxd = json_object_new_object(), *out = json_object_new_object();
	char key[32];
	uint32_t i;

	json_object_object_add(root, "tap", json_object_new_string(st->tap));
	json_object_object_add(root, "link", json_object_new_boolean(st->link));
	json_object_object_add(root, "state", json_object_new_string(st->state));
	add_u64(root, "queue", st->queue);
	add_u64(root, "generation", n->generation);
	add_u64(root, "features", n->features);

	add_u64(tx, "frames", n->tx_frames);
	add_u64(tx, "bytes", n->tx_bytes);
	add_u64(txd, "oversize", n->tx_oversize);
	add_u64(txd, "runt", n->tx_runt);
	add_u64(txd, "ring_full", n->tx_ring_full);
	add_u64(txd, "not_ready", n->tx_not_ready);
	add_u64(txd, "guest_inval", n->tx_guest_inval);
	add_u64(txd, "guest_ioerr", n->tx_guest_ioerr);
	add_u64(txd, "offload", n->tx_bad_meta);
	add_u64(txd, "restart", n->tx_restart_dropped);
	add_u64(tx, "gso_frames", n->tx_gso);
	add_u64(tx, "csum_frames", n->tx_csum);
	json_object_object_add(tx, "drops", txd);

	add_u64(rx, "frames", n->rx_frames);
	add_u64(rx, "bytes", n->rx_bytes);
	/* bad_id, bad_op, ...; bad metadata by reason: bad_meta_flags, ... */
	for (i = DDVM_NET_RESP_OK + 1; i < DDVM_NET_RESP_NVERDICTS; i++)
		if (i != DDVM_NET_RESP_BAD_META)
			add_u64(rxd, ddvm_net_resp_str(i), n->rx_bad[i]);
	for (i = DDVM_NET_META_OK + 1; i < DDVM_NET_META_NREASONS; i++) {
		snprintf(key, sizeof(key), "bad_meta_%s", ddvm_net_meta_str(i));
		add_u64(rxd, key, n->rx_bad_meta[i]);
	}
	add_u64(rx, "gso_frames", n->rx_gso);
	add_u64(rx, "csum_frames", n->rx_csum);
	add_u64(rx, "csum_valid_frames", n->rx_csum_valid);
	add_u64(rxd, "stale", n->rx_stale);
	add_u64(rxd, "guest_error", n->rx_guest_error);
	add_u64(rxd, "tap_error", n->rx_deliver_error);
	json_object_object_add(rx, "drops", rxd);

	add_u64(out, "rx", n->rx_posted);
	add_u64(out, "tx", n->tx_in_flight);
	json_object_object_add(root, "tx", tx);
	json_object_object_add(root, "rx", rx);
	json_object_object_add(root, "outstanding", out);
	add_u64(root, "doorbells_in", st->doorbells_in);
	add_u64(root, "doorbells_out", n->doorbells_out);
	return root;
}

int tap_stats_write(const char *path, const struct tap_status *st,
		    const struct ddvm_netc_stats *n)
{
	char tmp[4096];
	json_object *root;
	const char *text;
	size_t len;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	root = build(st, n);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		ret = -EIO;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
out:
	json_object_put(root);
	return ret;
}
