// SPDX-License-Identifier: MIT
/*
 * tinyos: a tiny x86-64 OS with no disk or NIC driver of its own.  It finds
 * its ddvm channels on the PCI bus and uses a driver VM's disk and NIC
 * through libddvm's bare-metal transport.  This file: start info, interrupts
 * (IDT, local APIC, timer), time (TSC calibrated by the HPET), paging for
 * the channels' BARs, the channels themselves and the main loop.
 */
#include "ddvm/bare/x86.h"
#include "ddvm/region.h"
#include "tinyos.h"

#define PVH_MAGIC	0x336ec578u
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

/* What boot.S's isr_common leaves on the stack. */
struct frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax, vector, err, rip, cs, rflags, rsp, ss;
};

#define VEC_TIMER	0x20
#define VEC_CHAN0	0x40		/* channel c, doorbell v: VEC_CHAN0 + CHAN_VECS * c + v */
#define CHAN_VECS	8
#define VEC_SPURIOUS	0xff

#define LAPIC_ID	0x20
#define LAPIC_TPR	0x80
#define LAPIC_EOI	0xb0
#define LAPIC_SVR	0xf0
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	0x390
#define LAPIC_TIMER_DIV	0x3e0
#define HPET		0xfed00000ull
#define MS		1000000ull
#define TWO_MB		0x200000ull

static volatile uint8_t *lapic;
static uint8_t apic_id;
static uint64_t tsc0, tsc_mult;		/* ns = (tsc - tsc0) * tsc_mult >> 32 */
static struct ddvm_bare_pci pci;	/* port I/O */
static struct chan chans[MAX_CHANS];
static int nchans;

void isr(struct frame *f);
void kmain(uint32_t start_info);

__attribute__((noreturn)) void stop(void)
{
	kprintf("tinyos: stopped\n");
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/* --- time -------------------------------------------------------------------------- */

static uint64_t hpet_read(uint32_t off)
{
	return *(volatile uint64_t *)(HPET + off);
}

uint64_t now_ns(void)
{
	__extension__ unsigned __int128 x =
		(unsigned __int128)(ddvm_x86_rdtsc() - tsc0) * tsc_mult;

	return (uint64_t)(x >> 32);
}

/* The TSC's rate, measured against the HPET's counter (its period is in femtoseconds). */
static void time_init(void)
{
	uint64_t cap = hpet_read(0), period = cap >> 32, h0, h, t0, t, ns;

	if (period == 0 || period > 100000000ull) {
		kprintf("tinyos: no HPET: assuming a 1 GHz TSC\n");
		tsc_mult = 1ull << 32;
		tsc0 = ddvm_x86_rdtsc();
		return;
	}
	*(volatile uint64_t *)(HPET + 0x10) = hpet_read(0x10) | 1;	/* counter on */
	h0 = hpet_read(0xf0);
	t0 = ddvm_x86_rdtsc();
	do
		h = hpet_read(0xf0);
	while ((h - h0) * period < 20 * MS * 1000000ull);		/* 20 ms in fs */
	t = ddvm_x86_rdtsc();
	ns = (h - h0) * period / 1000000ull;
	tsc_mult = (ns << 32) / (t - t0 ? t - t0 : 1);
	tsc0 = t;
}

/* --- interrupts -------------------------------------------------------------------- */

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern char isr_stubs[];

static void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (uint64_t)idt };
	int i;

	for (i = 0; i < 256; i++) {
		uint64_t a = (uint64_t)isr_stubs + 16 * (uint64_t)i;

		idt[i] = (struct idt_gate){ (uint16_t)a, 0x08, 0, 0x8e, (uint16_t)(a >> 16),
					    (uint32_t)(a >> 32), 0 };
	}
	__asm__ __volatile__("lidt %0" : : "m"(d));
}

static uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(lapic + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(lapic + reg) = v;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

/* Local APIC on (legacy PICs masked), its timer periodic at 100 Hz: the tick
 * that bounds every sleep; doorbells come as MSI-X straight to the APIC. */
static void lapic_init(void)
{
	uint64_t base = rdmsr(0x1b), t;
	uint32_t per10ms;

	ddvm_x86_outb(0x21, 0xff);
	ddvm_x86_outb(0xa1, 0xff);
	base |= 0x800;						/* APIC global enable */
	__asm__ __volatile__("wrmsr" : : "c"(0x1b), "a"((uint32_t)base), "d"((uint32_t)(base >> 32)));
	lapic = (volatile uint8_t *)(base & ~0xfffull);
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
	apic_id = (uint8_t)(lapic_read(LAPIC_ID) >> 24);
	lapic_write(LAPIC_TIMER_DIV, 0x3);			/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, 0x10000 | VEC_TIMER);	/* masked, one-shot */
	lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
	t = now_ns();
	while (now_ns() - t < 10 * MS)
		ddvm_x86_pause();
	per10ms = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_LVT_TIMER, 0x20000 | VEC_TIMER);	/* periodic */
	lapic_write(LAPIC_TIMER_INIT, per10ms ? per10ms : 100000);
}

void isr(struct frame *f)
{
	uint64_t v = f->vector;

	if (v < 32) {
		kprintf("tinyos: CPU exception %llu (error 0x%llx) at rip 0x%llx\n",
			(unsigned long long)v, (unsigned long long)f->err,
			(unsigned long long)f->rip);
		stop();
	}
	if (v == VEC_SPURIOUS)
		return;
	if (v >= VEC_CHAN0 && v < VEC_CHAN0 + CHAN_VECS * MAX_CHANS &&
	    (int)((v - VEC_CHAN0) / CHAN_VECS) < nchans)
		ddvm_bare_doorbell(&chans[(v - VEC_CHAN0) / CHAN_VECS].bt,
				   (uint16_t)((v - VEC_CHAN0) % CHAN_VECS));
	lapic_write(LAPIC_EOI, 0);
}

/* Sleep until an interrupt, unless one this channel's waiter wants came already. */
static void env_idle(void *arg, struct ddvm_bare_transport *bt)
{
	(void)arg;
	__asm__ __volatile__("cli" ::: "memory");
	if (ddvm_bare_pending(bt) & bt->waiting)
		__asm__ __volatile__("sti" ::: "memory");
	else
		__asm__ __volatile__("sti; hlt" ::: "memory");	/* no interrupt lost between */
}

static uint64_t env_now(void *arg)
{
	(void)arg;
	return now_ns();
}

static void env_log(void *arg, int level, const char *line)
{
	static const char *const lv[] = { "error", "warning", "info", "debug" };

	(void)arg;
	if (level <= DDVM_LOG_INFO)
		kprintf("tinyos: libddvm %s: %s\n", lv[level & 3], line);
}

struct ddvm_bare_env env = { .now_ns = env_now, .idle = env_idle, .log = env_log };

void wait_chan(struct chan *ch, uint64_t ns)
{
	ch->bt.t.ops->wait(&ch->bt.t, 0, now_ns() + ns);
}

/* --- paging: the channels' BARs ------------------------------------------------------ */

extern uint64_t pml4[512];
static uint64_t pt_pool[16][512] __attribute__((aligned(4096)));
static unsigned int pt_used;

static uint64_t *pt_next(uint64_t *table, uint64_t i)
{
	if (!(table[i] & 1)) {
		if (pt_used == 16) {
			kprintf("tinyos: out of page tables\n");
			stop();
		}
		table[i] = (uint64_t)pt_pool[pt_used++] | 3;
	}
	return (uint64_t *)(table[i] & 0x000ffffffffff000ull);
}

/* Identity-map [phys, phys + size) in 2 MiB pages: write-back where a page lies
 * wholly inside and wb is set (the shared region), else uncached (registers). */
static void map_range(uint64_t phys, uint64_t size, int wb)
{
	uint64_t a, end = phys + size;

	for (a = phys & ~(TWO_MB - 1); a < end; a += TWO_MB) {
		uint64_t *pd = pt_next(pt_next(pml4, a >> 39 & 511), a >> 30 & 511);
		int inside = wb && a >= phys && a + TWO_MB <= end;

		pd[a >> 21 & 511] = a | 0x83 | (inside ? 0 : 0x18);
	}
	__asm__ __volatile__("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

/* --- channels ---------------------------------------------------------------------- */

static void chans_find(void)
{
	unsigned int nth;

	for (nth = 0; nchans < MAX_CHANS; nth++) {
		struct chan *ch = &chans[nchans];
		struct ddvm_bare_pci_fn *f = &ch->fn;
		uint32_t nvec;
		int r = ddvm_bare_ivshmem_find(&pci, nth, f);

		if (r == -DDVM_ENODEV)
			break;
		if (r < 0) {
			kprintf("tinyos: PCI %02x:%02x.%u: ivshmem without a region or MSI-X: skipped\n",
				f->bdf >> 8, f->bdf >> 3 & 31, f->bdf & 7);
			continue;
		}
		ddvm_bare_pci_enable(&pci, f);
		map_range(f->bar_phys[0], f->bar_size[0], 0);
		map_range(f->bar_phys[f->msix_bir], f->bar_size[f->msix_bir], 0);
		map_range(f->bar_phys[2], f->bar_size[2], 1);
		ch->index = nchans;
		ddvm_fmt(ch->name, sizeof(ch->name), "chan%d", nchans);
		ddvm_bare_init(&ch->bt, &env, (volatile void *)f->bar_phys[0],
			       (volatile void *)f->bar_phys[2], f->bar_size[2], ch->name);
		nvec = f->msix_vectors < CHAN_VECS ? f->msix_vectors : CHAN_VECS;
		r = ddvm_bare_msix_route(&pci, f,
					 (volatile uint8_t *)f->bar_phys[f->msix_bir] + f->msix_table_off,
					 apic_id, (uint8_t)(VEC_CHAN0 + CHAN_VECS * nchans), nvec);
		ddvm_bare_use_irqs(&ch->bt, r == 0);
		kprintf("tinyos: chan%d: PCI %02x:%02x.%u, region %llu KiB at 0x%llx, peer %u, %s\n",
			nchans, f->bdf >> 8, f->bdf >> 3 & 31, f->bdf & 7,
			(unsigned long long)(f->bar_size[2] >> 10), (unsigned long long)f->bar_phys[2],
			ch->bt.t.self_id, r == 0 ? "MSI-X doorbells" : "polling");
		nchans++;
	}
}

/* Is the channel's region one we can use?  Says why not and stops.  Its first
 * queue's kind (block or net). */
static uint16_t chan_check(struct chan *ch)
{
	uint64_t deadline = now_ns() + 60000 * MS;
	uint32_t why, detail, i;

	/* The supervisor lays a region out before it starts anyone: INIT is brief. */
	while ((why = ddvm_region_check(ch->bt.t.base, ch->bt.t.size, &ch->lay, &detail)) ==
	       DDVM_REFUSE_STATE && now_ns() < deadline)
		wait_chan(ch, 100 * MS);
	switch (why) {
	case DDVM_REFUSE_NONE:
		break;
	case DDVM_REFUSE_MAGIC:
		kprintf("tinyos: %s: not a ddvm channel: magic 0x%08x, expected 0x%08x\n", ch->name,
			detail, DDVM_MAGIC);
		stop();
	case DDVM_REFUSE_VERSION:
		kprintf("tinyos: %s: the channel speaks ddvm protocol %u.%u, tinyos %u.%u: not using it\n",
			ch->name, detail >> 16, detail & 0xffff, DDVM_PROTO_MAJOR, DDVM_PROTO_MINOR);
		stop();
	default:
		kprintf("tinyos: %s: the channel is not usable: %s (%s)\n", ch->name,
			ddvm_refusal_str(why),
			why == DDVM_REFUSE_LAYOUT ? ddvm_layout_str(detail) : "host not serving");
		stop();
	}
	for (i = 0; i < ch->lay.nqueues; i++)
		if (ch->lay.q[i].kind == DDVM_QK_BLOCK || ch->lay.q[i].kind == DDVM_QK_NET)
			return ch->lay.q[i].kind;
	return 0;
}

void check_guest_version(struct chan *ch)
{
	struct ddvm_guest_view g;

	ddvm_guest_read(ch->bt.t.base, &g);
	if (g.state == DDVM_GUEST_READY && g.guest_version >> 16 != DDVM_PROTO_MAJOR) {
		kprintf("tinyos: %s: the driver VM (generation %u) speaks ddvm protocol %u.%u, "
			"tinyos %u.%u: not using it\n", ch->name, g.generation,
			g.guest_version >> 16, g.guest_version & 0xffff, DDVM_PROTO_MAJOR,
			DDVM_PROTO_MINOR);
		stop();
	}
}

/* --- main ---------------------------------------------------------------------------- */

static const char *cmdline_ip(const char *cmd, uint8_t ip[4], int *have)
{
	const char *p;

	for (p = cmd; p && *p; p++)
		if ((p == cmd || p[-1] == ' ') && p[0] == 'i' && p[1] == 'p' && p[2] == '=') {
			*have = parse_ipv4(p + 3, ip) == 0;
			return *have ? NULL : p;
		}
	return NULL;
}

void kmain(uint32_t start_info)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)(uint64_t)start_info;
	const char *cmd = "", *bad;
	struct nic *nics[MAX_NICS];
	struct disk *disks[MAX_DISKS];
	int i, nnics = 0, ndisks = 0, have_ip = 0;
	uint8_t ip[4] = { 0 };
	uint64_t next_sec, next_check = 0;

	serial_init();
	if (si->magic == PVH_MAGIC && si->cmdline_paddr)
		cmd = (const char *)si->cmdline_paddr;
	kprintf("tinyos: booting; command line \"%s\"\n", cmd);
	idt_init();
	time_init();
	lapic_init();
	__asm__ __volatile__("sti");
	bad = cmdline_ip(cmd, ip, &have_ip);
	if (bad)
		kprintf("tinyos: cannot read the address in \"%s\": want ip=A.B.C.D\n", bad);
	chans_find();
	if (!nchans)
		kprintf("tinyos: no ddvm channel (ivshmem-doorbell function) found\n");
	for (i = 0; i < nchans; i++) {
		struct chan *ch = &chans[i];
		uint16_t kind = chan_check(ch);

		if (kind == DDVM_QK_BLOCK && ndisks < MAX_DISKS) {
			ddvm_fmt(ch->name, sizeof(ch->name), "disk%d", ndisks);
			disks[ndisks] = disk_open(ch, ndisks);
			ndisks += disks[ndisks] != NULL;
		} else if (kind == DDVM_QK_NET && nnics < MAX_NICS) {
			ddvm_fmt(ch->name, sizeof(ch->name), "net%d", nnics);
			if (!have_ip)
				kprintf("tinyos: %s: no ip=A.B.C.D on the command line: not answering\n",
					ch->name);
			else if ((nics[nnics] = nic_open(ch, nnics, ip)) != NULL)
				nnics++;
		} else {
			kprintf("tinyos: %s: no block or network queue for tinyos (%u queues)\n",
				ch->name, ch->lay.nqueues);
		}
	}
	for (i = 0; i < ndisks; i++)
		disk_boot_test(disks[i]);
	kprintf("tinyos: ready: %d disks, %d NICs\n", ndisks, nnics);
	next_sec = now_ns() + 1000 * MS;
	for (;;) {
		uint32_t pending = 0;
		uint64_t t = now_ns();
		int tick = t >= next_sec;

		if (tick)
			next_sec = t + 1000 * MS;
		for (i = 0; i < nchans; i++)
			ddvm_bare_take(&chans[i].bt, ~0u);
		for (i = 0; i < nnics; i++)
			nic_poll(nics[i], tick);
		if (t >= next_check) {
			for (i = 0; i < ndisks; i++)
				disk_check(disks[i]);
			next_check = t + 200 * MS;
		}
		__asm__ __volatile__("cli" ::: "memory");
		for (i = 0; i < nchans; i++)
			pending |= ddvm_bare_pending(&chans[i].bt);
		if (pending)
			__asm__ __volatile__("sti" ::: "memory");
		else
			__asm__ __volatile__("sti; hlt" ::: "memory");
	}
}
