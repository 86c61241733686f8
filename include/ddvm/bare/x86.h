/* SPDX-License-Identifier: MIT */
/*
 * x86-64 primitives for libddvm's bare-metal transport and the OS around it:
 * port I/O, barriers, pause, the time-stamp counter.  Freestanding, header
 * only; gcc and clang.
 *
 * Barriers: the ring code orders its accesses to the shared region with C11
 * atomics (acquire / release / seq_cst fences), which on x86-64 (TSO) cost
 * nothing but the seq_cst fence.  What atomics do not cover is the order
 * between stores to the region (write-back memory) and the doorbell store
 * to BAR0 (uncached MMIO): ddvm_x86_wmb() before ringing.
 */
#ifndef DDVM_BARE_X86_H
#define DDVM_BARE_X86_H

#include <stdint.h>

static inline void ddvm_x86_outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t ddvm_x86_inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void ddvm_x86_outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint32_t ddvm_x86_inl(uint16_t port)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/* Compiler barrier only. */
static inline void ddvm_x86_barrier(void)
{
	__asm__ __volatile__("" : : : "memory");
}

/* Full barrier: every earlier load and store before every later one. */
static inline void ddvm_x86_mb(void)
{
	__asm__ __volatile__("mfence" : : : "memory");
}

/* Earlier stores (also write-combining and non-temporal) before later ones. */
static inline void ddvm_x86_wmb(void)
{
	__asm__ __volatile__("sfence" : : : "memory");
}

/* Earlier loads before later loads. */
static inline void ddvm_x86_rmb(void)
{
	__asm__ __volatile__("lfence" : : : "memory");
}

/* Spin-wait hint (and a compiler barrier: the loop re-reads memory). */
static inline void ddvm_x86_pause(void)
{
	__asm__ __volatile__("pause" : : : "memory");
}

static inline uint64_t ddvm_x86_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* 32-bit MMIO (e.g. the ivshmem registers in BAR0, mapped uncached). */
static inline uint32_t ddvm_x86_mmio_read32(const volatile void *addr)
{
	return *(const volatile uint32_t *)addr;
}

static inline void ddvm_x86_mmio_write32(volatile void *addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

#endif /* DDVM_BARE_X86_H */
