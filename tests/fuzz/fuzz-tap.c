// SPDX-License-Identifier: MIT
/*
 * fuzz-tap: how ddvm-tap (frontends/tap/tap_loop.c over libddvm's net
 * client, lib/net_client.c) follows what a hostile driver VM publishes:
 * queue state and error, MAC, MTU, offload features, link, guest state,
 * restarts, deaths -- interleaved with doorbells, timer ticks, frames from
 * the host and answers from the driver VM.  The TAP device is stubbed (it
 * records what ddvm-tap asks of it); the channel is tests/lib's fake one.
 *
 * Input: [0] slots (4 << (b % 5)), [1] chunk (2 KiB, 4 KiB, 64 KiB + 64),
 * then ops, the low 3 bits of a byte:
 *   0 publish: state, error, MAC (6), MTU (4, LE), features (4, LE), link
 *   1 the guest state word (READY if bit 3)
 *   2 the driver VM dies (bit 3) or a new instance attaches
 *   3 doorbell (app_poll)   4 timer tick   5 the driver VM answers all:
 *     TX OK, RX posts with a frame of the next byte's length (x 16)
 *   6 a frame of the next byte's length (x 64) from the host stack
 *   7 the TAP refuses offloads from now on (bit 3) or takes them
 *
 * Always: no crash or overflow; the TAP's MTU is only ever set to one in
 * 68..65535 that the serving queue published; the carrier is on only while
 * the client serves a READY queue with link up and intact rings; the
 * offloads offered to the TAP are ones the queue published and can use
 * (TSO only when a 64 KiB frame fits a chunk); the client uses only
 * offloads the TAP took (RX offload aside) and never sends a frame longer
 * than a chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/netc_harness.h"
#include "../../frontends/tap/tap_loop.c"
#include "must.h"

/* --- the TAP, stubbed ------------------------------------------------------------------- */

static struct {
	int carrier;
	uint32_t mtu;
	uint32_t offered;		/* what the TAP took */
	int refuse;			/* TUNSETOFFLOAD fails */
} tap;

int tap_dev_set_offload(struct tap_dev *t, uint32_t f)
{
	(void)t;
	MUST((f & ~DDVM_NETC_F_ALL) == 0);
	if (tap.refuse && f)
		return -EINVAL;
	tap.offered = f;
	return 0;
}

int tap_dev_carrier(struct tap_dev *t, int up)
{
	(void)t;
	tap.carrier = up;
	return 0;
}

int tap_dev_set_mtu(struct tap_dev *t, uint32_t mtu)
{
	(void)t;
	MUST(mtu >= DDVM_NET_MTU_MIN && mtu <= DDVM_NET_MTU_MAX);
	tap.mtu = mtu;
	return 0;
}

int tap_stats_write(const char *path, const struct tap_status *st, const struct ddvm_netc_stats *n)
{
	(void)path;
	(void)st;
	(void)n;
	return 0;
}

/* --- the harness ------------------------------------------------------------------------ */

static struct nharness h;
static struct app a;
static int host_end;		/* the host stack's end of the "TAP" */
static int log_quiet;

static void check(void)
{
	struct ddvm_netc_stats s;
	uint32_t offered;

	ddvm_netc_stats(&a.c, &s);
	if (tap.carrier)
		MUST(s.serving && !s.broken && s.link_up && a.c.st.state == DDVM_QS_READY);
	MUST(tap.mtu >= DDVM_NET_MTU_MIN && tap.mtu <= DDVM_NET_MTU_MAX);
	MUST(a.mtu == tap.mtu);
	if (s.serving)
		MUST(a.c.mtu == a.c.st.mtu);
	offered = ddvm_netc_offered(&a.c);
	MUST((offered & ~a.c.published) == 0);
	if (a.c.chunk < DDVM_NET_GSO_MAX_FRAME)
		MUST(!(offered & (DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | DDVM_NET_F_TSO_ECN)));
	MUST((a.c.features & ~(tap.offered | DDVM_NET_F_RX_OFFLOAD)) == 0);
	MUST(ddvm_netc_tx_max(&a.c) <= a.c.chunk);
}

static void serve(uint8_t len16)
{
	struct ddvm_slot rq;
	static uint8_t frame[4096];

	while (fc_take(&h.ch, &rq) == 0) {
		if (ddvm_le16_to_cpu(rq.op) == DDVM_OP_NET_RX && len16) {
			uint32_t len = (uint32_t)len16 * 16, cap = ddvm_le32_to_cpu(rq.len);

			if (len > cap)
				len = cap;
			memset(frame, 0xab, sizeof(frame));
			n_answer_rx(&h, &rq, frame, len < sizeof(frame) ? len : sizeof(frame), 0, 0);
		} else {
			fc_answer(&h.ch, &rq, DDVM_S_OK);
		}
	}
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t chunks[] = { 2048, 4096, 65536 + 64 };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_TAP };
	int sp[2];
	size_t i;

	(void)n_init;
	if (!log_quiet) {
		log_set_stream(fopen("/dev/null", "w"));
		log_quiet = 1;
	}
	if (size < 2)
		return 0;
	if (n_setup(&h, 4u << (data[0] % 5), chunks[data[1] % 3], DDVM_NETC_F_ALL) < 0)
		return 0;
	memset(&tap, 0, sizeof(tap));
	memset(&a, 0, offsetof(struct app, scratch));
	a.qi = N_QUEUE;
	a.mtu = tap.mtu = 1500;
	a.tap_offered = UINT32_MAX;
	a.carrier = 0;
	MUST(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) == 0);
	a.tap.fd = sp[0];
	host_end = sp[1];
	a.epfd = epoll_create1(EPOLL_CLOEXEC);
	MUST(a.epfd >= 0 && epoll_ctl(a.epfd, EPOLL_CTL_ADD, a.tap.fd, &ev) == 0);
	if (ddvm_netc_open(&a.c, &h.ch.t, N_QUEUE, 0) < 0)
		goto out;
	ddvm_netc_use(&a.c, DDVM_NET_F_RX_OFFLOAD);
	a.cmem = aligned_alloc(8, ddvm_netc_mem_bytes(&a.c));
	if (ddvm_netc_ready(&a.c, a.cmem, ddvm_netc_mem_bytes(&a.c), 7, app_rx, &a) < 0)
		goto out;
	app_follow(&a);
	check();

	for (i = 2; i < size; i++) {
		uint8_t op = data[i];

		switch (op & 7) {
		case 0: {
			uint8_t p[17] = { 0 };
			volatile struct ddvm_queue_state *s = fc_qstate(&h.ch);
			size_t n = size - i - 1 < sizeof(p) ? size - i - 1 : sizeof(p);
			unsigned int k;

			memcpy(p, data + i + 1, n);
			i += n;
			s->state = ddvm_cpu_to_le32(DDVM_QS_ABSENT);
			for (k = 0; k < 6; k++)
				s->mac[k] = p[2 + k];
			s->mtu = ddvm_cpu_to_le32(le32(p + 8));
			s->features = ddvm_cpu_to_le32(le32(p + 12));
			s->link_up = ddvm_cpu_to_le16(p[16] & 1);
			s->error = ddvm_cpu_to_le32(p[1] % 8);
			s->state = ddvm_cpu_to_le32(p[0] % 6);
			break;
		}
		case 1:
			fc_hdr(&h.ch)->guest_state = ddvm_cpu_to_le32(op & 8 ? DDVM_GUEST_READY : op >> 4);
			break;
		case 2:
			if (op & 8)
				fc_kill(&h.ch);
			else
				fc_boot(&h.ch);
			break;
		case 3:
			app_poll(&a, 0);
			break;
		case 4:
			h.ch.now += 1000000000ull;
			a.ticks++;
			app_poll(&a, 1);
			break;
		case 5:
			serve(i + 1 < size ? data[++i] : 0);
			break;
		case 6: {
			static uint8_t frame[sizeof(struct ddvm_net_hdr) + 16384];
			size_t len = sizeof(struct ddvm_net_hdr) + (size_t)(i + 1 < size ? data[++i] : 0) * 64;

			memset(frame, 0, sizeof(struct ddvm_net_hdr));
			memset(frame + sizeof(struct ddvm_net_hdr), 0x11, len - sizeof(struct ddvm_net_hdr));
			(void)send(host_end, frame, len, MSG_DONTWAIT);
			app_tap_readable(&a);
			break;
		}
		case 7:
			tap.refuse = op >> 3 & 1;
			break;
		}
		check();
	}
out:
	close(a.epfd);
	close(sp[0]);
	close(sp[1]);
	free(a.cmem);
	a.cmem = NULL;
	n_fini(&h);
	return 0;
}
