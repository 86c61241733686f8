// SPDX-License-Identifier: MIT
/* tinyos: the little C library it needs (memory, console, CRC-32C, parsing). */
#include <stdarg.h>

#include "ddvm/bare/x86.h"
#include "tinyos.h"

#define COM1 0x3f8

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	if (dp < sp)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *dp = d;

	while (n--)
		*dp++ = (uint8_t)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

/* COM1, 115200 8N1, FIFO on; output only. */
void serial_init(void)
{
	ddvm_x86_outb(COM1 + 1, 0x00);
	ddvm_x86_outb(COM1 + 3, 0x80);
	ddvm_x86_outb(COM1 + 0, 0x01);
	ddvm_x86_outb(COM1 + 1, 0x00);
	ddvm_x86_outb(COM1 + 3, 0x03);
	ddvm_x86_outb(COM1 + 2, 0xc7);
	ddvm_x86_outb(COM1 + 4, 0x03);
}

static void serial_putc(char c)
{
	int spin = 100000;

	while (!(ddvm_x86_inb(COM1 + 5) & 0x20) && spin--)
		ddvm_x86_pause();
	ddvm_x86_outb(COM1, (uint8_t)c);
}

/* One console line per call ("\n" becomes "\r\n"), formatted by libddvm's ddvm_vfmt. */
void kprintf(const char *fmt, ...)
{
	char line[512];
	const char *p;
	va_list ap;

	va_start(ap, fmt);
	ddvm_vfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (p = line; *p; p++) {
		if (*p == '\n')
			serial_putc('\r');
		serial_putc(*p);
	}
}

/* CRC-32C (Castagnoli, reflected 0x82f63b78), as iSCSI / ext4 / crc32c(1). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t n)
{
	static uint32_t table[256];
	const uint8_t *p = buf;
	uint32_t i, k, c;

	if (!table[1])
		for (i = 0; i < 256; i++) {
			for (c = i, k = 0; k < 8; k++)
				c = c & 1 ? c >> 1 ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ crc >> 8;
	return ~crc;
}

/* Memory for libddvm's clients: handed out once, never freed. */
void *arena_alloc(uint64_t bytes)
{
	static uint8_t arena[1 << 20] __attribute__((aligned(64)));
	static uint64_t used;
	void *p;

	bytes = (bytes + 63) & ~63ull;
	if (bytes > sizeof(arena) - used)
		return NULL;
	p = arena + used;
	used += bytes;
	return p;
}

unsigned long parse_ulong(const char **s)
{
	unsigned long v = 0;

	while (**s >= '0' && **s <= '9')
		v = v * 10 + (unsigned long)(*(*s)++ - '0');
	return v;
}

/* "A.B.C.D" (ends at a space or NUL) -> out.  0, or -1 if malformed. */
int parse_ipv4(const char *s, uint8_t out[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		const char *start = s;
		unsigned long v = parse_ulong(&s);

		if (s == start || s - start > 3 || v > 255 || *s != (i < 3 ? '.' : *s))
			return -1;
		out[i] = (uint8_t)v;
		if (i < 3)
			s++;
	}
	return *s == '\0' || *s == ' ' ? 0 : -1;
}
