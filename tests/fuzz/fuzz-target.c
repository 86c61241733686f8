// SPDX-License-Identifier: MIT
/*
 * fuzz-target: the driver VM's queue-target parser (guest/target.c, kernel
 * C, compiled here unchanged against the small shim in kshim/) on
 * arbitrary strings.  A target is host-written, but a client can scribble
 * over its channel's copy while the driver VM runs, so the guest treats it
 * as hostile.
 *
 * Always: no crash, no read past the string's NUL; the verdict and every
 * field equal an independent model of the grammar in target.c's comment:
 *
 *   "pci=DDDD:BB:DD.F"   hex (either case), exactly 4:2:2.1 digits,
 *                        device <= 0x1f, function <= 7
 *   [" n=N"]             decimal, >= 1 digit, N <= 255
 *   [" off=B len=B"]     decimal, >= 1 digit each, each fits 64 bits, len > 0
 *   [" br=NAME mac=M"]   NAME 1..15 of ASCII letters, digits, '-', '_', '.';
 *                        M six 2-hex-digit bytes joined by ':', unicast, not 0
 *
 * and nothing after.  The string is tried as given and as the driver VM
 * sees it: through a 64-byte target field (ddvm_queue_target_read).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest/target.c"

#include "ddvm/region.h"
#include "must.h"

static int m_hex(const char **s, unsigned int n, uint32_t *out)
{
	uint32_t v = 0;

	while (n--) {
		char c = **s;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return 0;
		v = v * 16 + (uint32_t)d;
		(*s)++;
	}
	*out = v;
	return 1;
}

static int m_lit(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n))
		return 0;
	*s += n;
	return 1;
}

/* At least one digit; value <= max (as a 128-bit number, so no wrap). */
static int m_dec(const char **s, unsigned __int128 max, uint64_t *out)
{
	unsigned __int128 v = 0;
	int digits = 0, over = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++, digits++) {
		v = v * 10 + (unsigned)(**s - '0');
		if (v > max)
			over = 1, v = max + 1;	/* keep it bounded */
	}
	*out = (uint64_t)v;
	return digits && !over;
}

static int m_namech(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

static int model(const char *s, struct ddvm_target *t)
{
	uint32_t dom, bus, dev, fn, b;
	uint64_t n = 0, off = 0, len = 0;
	unsigned int i, k = 0;

	memset(t, 0, sizeof(*t));
	if (!m_lit(&s, "pci=") || !m_hex(&s, 4, &dom) || !m_lit(&s, ":") || !m_hex(&s, 2, &bus) ||
	    !m_lit(&s, ":") || !m_hex(&s, 2, &dev) || !m_lit(&s, ".") || !m_hex(&s, 1, &fn) ||
	    dev > 0x1f || fn > 7)
		return -EINVAL;
	if (m_lit(&s, " n=") && !m_dec(&s, 255, &n))
		return -EINVAL;
	if (m_lit(&s, " off=") &&
	    (!m_dec(&s, UINT64_MAX, &off) || !m_lit(&s, " len=") || !m_dec(&s, UINT64_MAX, &len) ||
	     !len))
		return -EINVAL;
	if (m_lit(&s, " br=")) {
		while (m_namech(*s)) {
			if (k == 15)
				return -EINVAL;
			t->br[k++] = *s++;
		}
		if (!k || !m_lit(&s, " mac="))
			return -EINVAL;
		for (i = 0; i < 6; i++) {
			if ((i && !m_lit(&s, ":")) || !m_hex(&s, 2, &b))
				return -EINVAL;
			t->mac[i] = (uint8_t)b;
		}
		if ((t->mac[0] & 1) || !(t->mac[0] | t->mac[1] | t->mac[2] | t->mac[3] | t->mac[4] |
					 t->mac[5]))
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	t->domain = (uint16_t)dom;
	t->bus = (uint8_t)bus;
	t->devfn = (uint8_t)(dev << 3 | fn);
	t->n = (uint32_t)n;
	t->off = off;
	t->len = len;
	return 0;
}

static void check(const char *s)
{
	struct ddvm_target got, want;
	int rg, rw;

	memset(&got, 0x5a, sizeof(got));
	rg = ddvm_target_parse(s, &got);
	rw = model(s, &want);
	if (rg != rw) {
		fprintf(stderr, "target '%s': parser %d, model %d\n", s, rg, rw);
		MUST(rg == rw);
	}
	if (rg)
		return;
	MUST(got.domain == want.domain && got.bus == want.bus && got.devfn == want.devfn);
	MUST(got.n == want.n && got.off == want.off && got.len == want.len);
	MUST(!memcmp(got.br, want.br, sizeof(got.br)) && !memcmp(got.mac, want.mac, sizeof(got.mac)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t region[DDVM_QUEUE_TARGET_OFF + DDVM_MAX_QUEUES * 64];
	char *s = malloc(size + 1), *g = malloc(65);

	/* As given: exactly size + 1 bytes, so ASan sees a read past the NUL. */
	memcpy(s, data, size);
	s[size] = '\0';
	check(s);
	/* As the driver VM reads it out of the region's 64-byte field. */
	memset(region, 0, sizeof(region));
	memcpy(region + DDVM_QUEUE_TARGET_OFF + 3 * 64, data, size < 64 ? size : 64);
	ddvm_queue_target_read(region, 3, g);
	MUST(memchr(g, '\0', 65) != NULL);
	check(g);
	free(g);
	free(s);
	return 0;
}
