/* SPDX-License-Identifier: MIT */
/*
 * cpu.c - GDT, per-vCPU TSS and the IDT.
 *
 * One GDT keeps the boot selectors (veil/boot.h) and adds a TSS descriptor
 * per vCPU, since a TSS cannot be shared (LTR marks it busy). #DF runs on
 * IST1 so that a broken stack still reaches the handler.
 */
#include "kernel.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type; /* P | DPL | 0xE (interrupt gate) */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
};

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define NR_VECTORS 32
#define GDT_ENTRIES (5 + 2 * VEIL_BOOT_MAX_VCPUS)

static uint64_t gdt[GDT_ENTRIES] ALIGNED(16);
static struct tss tss[VEIL_BOOT_MAX_VCPUS] ALIGNED(16);
static struct idt_gate idt[IRQ_VECTOR + 1] ALIGNED(16);
extern const uint64_t isr_table[NR_VECTORS];
extern const char isr_irq[];

uint64_t gdt_base(void)
{
	return (uint64_t)gdt;
}

unsigned gdt_limit(void)
{
	return sizeof(gdt) - 1;
}

uint64_t idt_base(void)
{
	return (uint64_t)idt;
}

unsigned idt_limit(void)
{
	return sizeof(idt) - 1;
}

static void gdt_set_tss(unsigned cpu)
{
	uint64_t base = (uint64_t)&tss[cpu], limit = sizeof(struct tss) - 1;
	unsigned i = SEL_TSS(cpu) / 8;

	gdt[i] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
		 (((base >> 24) & 0xFF) << 56);
	gdt[i + 1] = base >> 32;
}

static void idt_set(unsigned vec, uint64_t handler, unsigned ist)
{
	struct idt_gate *g = &idt[vec];

	g->off_lo = (uint16_t)handler;
	g->sel = SEL_KCODE;
	g->ist = (uint8_t)ist;
	g->type = 0x8E;
	g->off_mid = (uint16_t)(handler >> 16);
	g->off_hi = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

/* Build the shared tables once, on the BSP. */
void cpu_tables_init(void)
{
	unsigned i;

	gdt[0] = 0;
	gdt[1] = 0x00AF9B000000FFFFULL; /* 0x08 kernel code64 */
	gdt[2] = 0x00CF93000000FFFFULL; /* 0x10 kernel data */
	gdt[3] = 0x00CFF3000000FFFFULL; /* 0x18 user data */
	gdt[4] = 0x00AFFB000000FFFFULL; /* 0x20 user code64 */
	for (i = 0; i < VEIL_BOOT_MAX_VCPUS; i++) {
		tss[i].iomap_base = sizeof(struct tss); /* no I/O bitmap */
		gdt_set_tss(i);
	}
	for (i = 0; i < NR_VECTORS; i++)
		idt_set(i, isr_table[i], i == 8 ? 1 : 0);
	idt_set(IRQ_VECTOR, (uint64_t)isr_irq, 0);
}

static void load_segments(void)
{
	/* Reload CS with a far return; FS/GS stay: loading them may clear GS base. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %1, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 :
			 : "i"(SEL_KCODE), "i"(SEL_KDATA)
			 : "rax", "memory");
}

/* Load GDT, IDT and this vCPU's TSS (stacks in cpus[cpu]). */
void cpu_tables_load(unsigned cpu)
{
	struct desc_ptr g = { sizeof(gdt) - 1, (uint64_t)gdt };
	struct desc_ptr d = { sizeof(idt) - 1, (uint64_t)idt };

	tss[cpu].rsp[0] = cpus[cpu].stack_top;
	tss[cpu].ist[0] = cpus[cpu].df_stack_top;
	__asm__ volatile("lgdt %0" : : "m"(g) : "memory");
	load_segments();
	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS(cpu)) : "memory");
}
