/* SPDX-License-Identifier: MIT */
/*
 * tinyos entry.  QEMU's -kernel loads this ELF and, finding the PVH note,
 * enters pvh_start in 32-bit protected mode, paging off, with %ebx = the
 * physical address of the hvm_start_info (command line, memory map).  We
 * identity-map the first 4 GiB with 2 MiB pages (the top GiB, where the
 * local APIC, the HPET and 32-bit PCI BARs live, uncached), enter long mode
 * and call kmain(start_info).  Also here: the 256 interrupt entry stubs.
 */
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define CR4_PAE		0x20
#define CR0_PG_PE	0x80000001
#define PTE_P_W		0x3
#define PDE_2M		0x83		/* present, writable, 2 MiB page */
#define PDE_UC		0x18		/* PCD | PWT: uncached */

/* The PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY = 18), an 8-byte address. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 8, 18
	.asciz "Xen"
	.balign 4
	.quad pvh_start

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	mov %ebx, %esi			/* start info, kept for kmain */
	mov $__bss_start, %edi		/* zero .bss (page tables, stack) */
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov $pdpt + PTE_P_W, %eax	/* pml4[0] -> pdpt */
	mov %eax, pml4
	mov $pd + PTE_P_W, %eax		/* pdpt[0..3] -> pd[0..3] */
	mov $pdpt, %edi
	mov $4, %ecx
1:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 1b
	mov $pd, %edi			/* pd: 2048 x 2 MiB = 4 GiB */
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $PDE_2M, %eax
	cmp $1536, %ecx			/* 3 GiB and up: MMIO, uncached */
	jb 3f
	or $PDE_UC, %eax
3:	mov %eax, (%edi)
	add $8, %edi
	inc %ecx
	cmp $2048, %ecx
	jb 2b
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG_PE, %eax
	mov %eax, %cr0
	lgdt gdt_ptr
	ljmp $0x08, $long_mode

	.code64
long_mode:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov $stack_top, %rsp
	mov %esi, %edi			/* kmain(start_info) */
	call kmain
4:	cli
	hlt
	jmp 4b

/*
 * Interrupt stubs, 16 bytes each at isr_stubs + 16 * vector: push an error
 * code of 0 where the CPU pushes none, then the vector, then the common
 * path saves the registers C may clobber and calls isr(frame).
 */
	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if vec != 8 && (vec < 10 || vec > 14) && vec != 17 && vec != 21 && vec != 29 && vec != 30
	push $0
	.endif
	push $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	mov %rsp, %rdi
	cld
	call isr
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	add $16, %rsp			/* vector, error code */
	iretq

	.section .rodata
	.balign 8
gdt:	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
gdt_ptr:
	.word gdt_ptr - gdt - 1
	.long gdt

	.section .bss
	.balign 4096
	.globl pml4, pd
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
	.balign 16
	.skip 65536
stack_top:
	.section .note.GNU-stack, "", @progbits
