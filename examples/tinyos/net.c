// SPDX-License-Identifier: MIT
/*
 * tinyos: a NIC, served by a driver VM's Linux through libddvm's net client.
 * Just enough IPv4 to be reached: ARP for our address, ICMP echo, UDP echo on
 * port 7, and on UDP port 8 disk reads on request ("read OFFSET LENGTH" ->
 * "ok crc32c=XXXXXXXX ns=N": the data's CRC-32C and how long the read took;
 * "bench N LENGTH": N reads at random offsets, their p50 and p99).
 * Replies are built while libddvm delivers frames and sent after its poll.
 */
#include "tinyos.h"

#define MS		1000000ull
#define FRAME_MAX	1536
#define TXQ		16
#define ETH_ARP		0x0806
#define ETH_IP		0x0800
#define UDP_ECHO	7
#define UDP_DISK	8

struct nic {
	struct chan *ch;
	struct ddvm_netc c;
	uint8_t ip[4];
	uint32_t gen;
	int link;
	/* a disk request from UDP port 8, run after the poll */
	uint8_t cmd[FRAME_MAX];
	uint32_t cmd_len;
};

static struct nic nic_tab[MAX_NICS];
static uint8_t rxbuf[FRAME_MAX + 64];
static struct {
	uint32_t len;
	uint8_t data[FRAME_MAX];
} txq[TXQ];
static unsigned int txq_n;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += be16(p);
	return n ? s + ((uint32_t)p[0] << 8) : s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A frame to send after the poll (len <= FRAME_MAX, padded to 60), or NULL when full. */
static uint8_t *tx_frame(uint32_t len)
{
	if (txq_n == TXQ)
		return NULL;
	txq[txq_n].len = len < 60 ? 60 : len;
	memset(txq[txq_n].data, 0, 60);
	return txq[txq_n++].data;
}

/* Ethernet header of a reply to frame `in`. */
static void eth_reply(struct nic *n, uint8_t *out, const uint8_t *in, uint16_t type)
{
	memcpy(out, in + 6, 6);
	memcpy(out + 6, n->c.st.mac, 6);
	put16(out + 12, type);
}

static void arp(struct nic *n, const uint8_t *f, uint32_t len)
{
	const uint8_t *a = f + 14;
	uint8_t *o;

	if (len < 42 || be16(a) != 1 || be16(a + 2) != ETH_IP || a[4] != 6 || a[5] != 4 ||
	    be16(a + 6) != 1 || memcmp(a + 24, n->ip, 4) != 0 || !(o = tx_frame(42)))
		return;
	eth_reply(n, o, f, ETH_ARP);
	memcpy(o + 14, a, 6);			/* htype, ptype, hlen, plen */
	put16(o + 20, 2);			/* reply */
	memcpy(o + 22, n->c.st.mac, 6);
	memcpy(o + 28, n->ip, 4);
	memcpy(o + 32, a + 8, 10);		/* the asker's MAC and address */
}

/* IPv4 header of a reply (20 bytes, no options) carrying plen bytes of proto. */
static void ip_reply(struct nic *n, uint8_t *o, const uint8_t *ip, uint8_t proto, uint32_t plen)
{
	uint8_t *h = o + 14;

	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, 20 + plen);
	memcpy(h + 4, ip + 4, 2);		/* id */
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, n->ip, 4);
	memcpy(h + 16, ip + 12, 4);
	put16(h + 10, fold(sum16(0, h, 20)));
}

static void udp_send(struct nic *n, const uint8_t *f, const uint8_t *ip, const uint8_t *udp,
		     const void *data, uint32_t dlen)
{
	uint8_t *o, *u;
	uint32_t s;
	uint16_t c;

	if (14 + 20 + 8 + dlen > FRAME_MAX || 20 + 8 + dlen > n->c.mtu ||
	    !(o = tx_frame(14 + 20 + 8 + dlen)))
		return;
	eth_reply(n, o, f, ETH_IP);
	ip_reply(n, o, ip, 17, 8 + dlen);
	u = o + 34;
	memcpy(u, udp + 2, 2);			/* ports swapped */
	memcpy(u + 2, udp, 2);
	put16(u + 4, 8 + dlen);
	put16(u + 6, 0);
	memmove(u + 8, data, dlen);
	s = sum16(0, o + 26, 8) + 17 + 8 + dlen;	/* pseudo header: addresses, proto, length */
	c = fold(sum16(s, u, 8 + dlen));
	put16(u + 6, c ? c : 0xffff);
}

static void ipv4(struct nic *n, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14, *p;
	uint32_t ihl, tot, plen;
	uint8_t *o;

	if (len < 34 || ip[0] >> 4 != 4 || (ihl = (ip[0] & 15u) * 4) < 20 ||
	    (tot = be16(ip + 2)) < ihl || 14 + tot > len || (be16(ip + 6) & 0x3fff) ||
	    memcmp(ip + 16, n->ip, 4) != 0 || fold(sum16(0, ip, ihl)) != 0)
		return;				/* not for us, fragmented or damaged */
	p = ip + ihl;
	plen = tot - ihl;
	if (ip[9] == 1 && plen >= 8 && p[0] == 8 && fold(sum16(0, p, plen)) == 0) {
		if (14 + 20 + plen > FRAME_MAX || !(o = tx_frame(14 + 20 + plen)))
			return;
		eth_reply(n, o, f, ETH_IP);	/* ICMP echo reply: same id, sequence, data */
		ip_reply(n, o, ip, 1, plen);
		memcpy(o + 34, p, plen);
		o[34] = 0;
		put16(o + 36, 0);
		put16(o + 36, fold(sum16(0, o + 34, plen)));
	} else if (ip[9] == 17 && plen >= 8 && be16(p + 4) >= 8 && be16(p + 4) <= plen) {
		if (be16(p + 2) == UDP_ECHO)
			udp_send(n, f, ip, p, p + 8, be16(p + 4) - 8u);
		else if (be16(p + 2) == UDP_DISK && !n->cmd_len) {
			memcpy(n->cmd, f, len);
			n->cmd_len = len;
		}
	}
}

static int rx(void *arg, const volatile void *frame, uint32_t len, const struct ddvm_net_hdr *h)
{
	struct nic *n = arg;

	(void)h;
	if (len < 14 || len > FRAME_MAX)
		return 0;
	ddvm_copy_from_region(rxbuf, frame, len);
	if (be16(rxbuf + 12) == ETH_ARP)
		arp(n, rxbuf, len);
	else if (be16(rxbuf + 12) == ETH_IP)
		ipv4(n, rxbuf, len);
	return 0;
}

/*
 * UDP port 8, disk0 on request: "read OFFSET LENGTH" -> "ok crc32c=X ns=N" (its
 * CRC-32C and time); "bench N LENGTH" -> "ok n=N p50_ns=.. p99_ns=.." (N reads at
 * random offsets, back to back).
 */
static void disk_cmd(struct nic *n)
{
	const uint8_t *ip = n->cmd + 14, *udp = ip + (ip[0] & 15u) * 4;
	uint32_t dlen = be16(udp + 4) - 8u, crc, alen;
	struct disk *d = disk_get(0);
	char req[64], ans[96];
	unsigned long a, b;
	uint64_t ns, p99;
	const char *s;
	int r = -DDVM_EINVAL, bench;

	if (dlen > sizeof(req) - 1)
		dlen = sizeof(req) - 1;
	memcpy(req, udp + 8, dlen);
	req[dlen] = '\0';
	bench = !memcmp(req, "bench ", 6);
	s = req + (bench ? 6 : 5);
	a = parse_ulong(&s);
	s += *s == ' ';
	b = parse_ulong(&s);
	if (d && (bench || !memcmp(req, "read ", 5)))
		r = bench ? disk_bench(d, (uint32_t)a, (uint32_t)b, &ns, &p99)
			  : disk_read_crc(d, a, (uint32_t)b, &crc, &ns);
	if (r < 0)
		alen = ddvm_fmt(ans, sizeof(ans), "error: %s (want \"read OFFSET LENGTH\" or "
				"\"bench N LENGTH\")\n", d ? ddvm_err_str(r) : "no disk");
	else if (bench)
		alen = ddvm_fmt(ans, sizeof(ans), "ok n=%lu p50_ns=%llu p99_ns=%llu\n", a,
				(unsigned long long)ns, (unsigned long long)p99);
	else
		alen = ddvm_fmt(ans, sizeof(ans), "ok crc32c=%08x ns=%llu\n", crc,
				(unsigned long long)ns);
	udp_send(n, n->cmd, ip, udp, ans, alen);
	n->cmd_len = 0;
}

static void tx_flush(struct nic *n)
{
	unsigned int i;

	for (i = 0; i < txq_n; i++) {
		int k = ddvm_netc_tx_claim(&n->c);

		if (k < 0) {
			ddvm_netc_tx_dropped(&n->c, k);
			continue;
		}
		ddvm_copy_to_region(ddvm_netc_tx_buf(&n->c, (uint32_t)k), txq[i].data, txq[i].len);
		ddvm_netc_tx_submit(&n->c, (uint32_t)k, txq[i].len, NULL);
	}
	txq_n = 0;
	ddvm_netc_flush(&n->c);
}

void nic_poll(struct nic *n, int tick)
{
	struct ddvm_netc_stats s;

	if (tick)
		ddvm_netc_tick(&n->c);
	else
		ddvm_netc_poll(&n->c);
	tx_flush(n);
	if (n->cmd_len) {
		disk_cmd(n);
		tx_flush(n);
	}
	ddvm_netc_stats(&n->c, &s);
	if (s.generation != n->gen && s.serving) {
		n->gen = s.generation;
		kprintf("tinyos: %s driver VM generation %u\n", n->ch->name, n->gen);
	}
	if (s.link_up != n->link) {
		n->link = s.link_up;
		kprintf("tinyos: %s link %s\n", n->ch->name, n->link ? "up" : "down");
	}
}

struct nic *nic_open(struct chan *ch, int index, const uint8_t ip[4])
{
	struct nic *n = &nic_tab[index];
	uint64_t deadline = now_ns() + 180000 * MS, bytes = 0;
	const uint8_t *m;
	void *mem = NULL;
	int r;

	n->ch = ch;
	memcpy(n->ip, ip, 4);
	r = ddvm_netc_open(&n->c, &ch->bt.t, -1, 0);
	if (r == 0) {
		bytes = ddvm_netc_mem_bytes(&n->c);
		mem = arena_alloc(bytes);
		r = mem ? 0 : -DDVM_ENOMEM;
	}
	while (r == 0 || r == -DDVM_EAGAIN) {
		check_guest_version(ch);
		r = ddvm_netc_ready(&n->c, mem, bytes, (uint32_t)now_ns(), rx, n);
		if (r != -DDVM_EAGAIN || now_ns() > deadline)
			break;
		wait_chan(ch, 100 * MS);
	}
	if (r < 0) {
		kprintf("tinyos: %s: the driver VM does not serve the NIC: %s\n", ch->name,
			ddvm_err_str(r));
		return NULL;
	}
	m = n->c.st.mac;
	kprintf("tinyos: %s mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u ip=%u.%u.%u.%u\n", ch->name,
		m[0], m[1], m[2], m[3], m[4], m[5], n->c.mtu, ip[0], ip[1], ip[2], ip[3]);
	nic_poll(n, 0);
	return n;
}
