/* SPDX-License-Identifier: MIT */
/*
 * kernel.h - the Veil test OS: shared declarations.
 *
 * The test OS boots per veil/boot.h at VMPL3/CPL0, identity-mapped
 * (GVA = GPA), and talks to the monitor and the hypervisor through
 * guest/lib/veil_call.h.
 */
#ifndef VEIL_TESTOS_KERNEL_H
#define VEIL_TESTOS_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veil/abi.h>
#include <veil/boot.h>

#include "veil_call.h"

#define PAGE_SIZE ((uint64_t)4096)
#define HUGE_SIZE ((uint64_t)2 << 20)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGNED(n) __attribute__((aligned(n)))
#define NORETURN __attribute__((noreturn))

/* GDT layout: the boot selectors, then one TSS descriptor per vCPU. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS(cpu) (0x28 + 16 * (cpu))

#define MSR_EFER 0xC0000080U
#define MSR_GS_BASE 0xC0000101U
#define EFER_SVME (1ULL << 12)

/* ---- per-vCPU state (GS base points at it) -------------------------------- */
struct percpu {
	struct percpu *self; /* %gs:0 */
	uint32_t id;	     /* APIC ID = vCPU index */
	uint32_t vc_depth;   /* nested #VC count */
	struct svsm_caa *caa;
	uint64_t caa_gpa;
	volatile uint8_t *ghcb; /* mapped C=0 at GVA = GPA */
	bool ghcb_ready;
	uint64_t stack_top;
	uint64_t df_stack_top; /* IST1, for #DF */
	uint64_t vmsa_gpa;     /* this vCPU's VMSA as CREATE_VCPU got it (APs) */
	/* One exception a test expects: recorded, then skipped over. */
	uint32_t trap_expect; /* vector + 1, 0 = none */
	uint32_t trap_skip;   /* bytes of the faulting instruction */
	uint64_t trap_rip, trap_error, trap_cr2;
};

extern struct percpu cpus[VEIL_BOOT_MAX_VCPUS];

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* ---- x86 helpers ---------------------------------------------------------- */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline void cpu_hlt(void)
{
	__asm__ volatile("hlt" : : : "memory");
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

#define READ_CR(n)                                                  \
	({                                                          \
		uint64_t __v;                                       \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(__v)); \
		__v;                                                \
	})

/* ---- string.c ------------------------------------------------------------- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int strncmp(const char *a, const char *b, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memmove(void *d, const void *s, size_t n);
size_t strlen(const char *s);

/* ---- console.c ------------------------------------------------------------ */
void console_puts(const char *s);
__attribute__((format(printf, 1, 2))) void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);

/* ---- cpu.c ---------------------------------------------------------------- */
void cpu_tables_init(void);
void cpu_tables_load(unsigned cpu);
uint64_t gdt_base(void);
unsigned gdt_limit(void);
uint64_t idt_base(void);
unsigned idt_limit(void);

/* ---- trap.c --------------------------------------------------------------- */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

void trap_handler(struct trap_frame *f);
/* The x2APIC timer's vector (enclave_irq.c): the only interrupt the OS takes,
 * and only where a test enables interrupts. */
#define IRQ_VECTOR 32
void irq_handler(struct trap_frame *f);
NORETURN void terminate(unsigned code);
NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- mm.c ----------------------------------------------------------------- */
extern uint8_t ghcb_pages[VEIL_BOOT_MAX_VCPUS][PAGE_SIZE];

void mm_init(void);
int ghcb_share(unsigned cpu);
int page_share(uint64_t gpa);
int mm_validate_os_memory(bool pattern);
uint64_t pages_alloc(unsigned n);
uint64_t vmsa_page_alloc(void);
uint64_t page_alloc_2m_aligned(void);

/* ---- smp.c ---------------------------------------------------------------- */
uint64_t sev_features(void);
unsigned guest_vmpl(void);
void vmsa_build(uint64_t vmsa_gpa, unsigned apic);
uint64_t caa_gpa_of(unsigned apic);
uint64_t create_vcpu(uint64_t vmsa_gpa, uint64_t caa_gpa, uint64_t apic);
int smp_start_aps(void);
/* Start AP `apic` (VMSA, CREATE_VCPU, AP creation) at `entry`, which is
 * entered with RDI = its struct percpu and RSP on its own stack. */
int smp_start_ap(unsigned apic, const void *entry);
/* APs that reached ap_main; ap_busy = 1 makes new APs call the monitor once and
 * spin (running their OS VMSA) instead of halting. */
uint32_t smp_aps_up(void);
extern uint32_t ap_busy;
extern char ap_entry[];

/* ---- main.c --------------------------------------------------------------- */
extern struct veil_boot_info boot;
extern unsigned nr_pass, nr_fail, nr_skip;

uint64_t core_call(uint32_t call, uint64_t rcx, uint64_t rdx, uint64_t r8,
		   struct svsm_call_out *out);
void check(const char *name, bool ok, uint64_t got);
void skip(const char *name, const char *why);
bool mem_range_of(uint32_t type, uint64_t *gpa, uint64_t *len);

/* ---- audit.c, logdump.c: audit hook, user mode, secure log client --------- */
/* Where audit_event() sends events: cmdline audit=on (the service), audit=ring. */
enum audit_mode {
	AUDIT_OFF,
	AUDIT_SERVICE,
	AUDIT_RING
};
__attribute__((format(printf, 1, 2))) void audit_event(const char *fmt, ...);
void audit_kci_state(void); /* after the boot lock: a kernel-integrity event */
enum audit_mode audit_mode(void);
bool cmdline_opt(const char *key, char *val, size_t cap);
uint64_t cmdline_num(const char *key, uint64_t def);
size_t kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4))) size_t ksnprintf(char *buf, size_t cap, const char *fmt, ...);
int user_init(void);
uint64_t user_run(uint64_t n);
int audit_scenario(void);
int audit_bench(void);
uint64_t log_append(const void *p, uint32_t len, uint64_t *seq);
uint64_t log_head(struct veil_log_head *h);
int log_dump(void);
int log_dump_checked(void);
bool log_test_known(const char *name);
int log_test_run(const char *name);
void log_test_list(void);

/* ---- kci.c, modules.c: kernel code integrity, modules (kci.h) ------------- */
#define TEST_UNKNOWN (-2)
extern uint64_t module_counter;	    /* exported to modules */
void kci_boot(const char *test);    /* validate OS memory, lock kernel code */
int kci_run_test(const char *test); /* TEST_UNKNOWN if not one of kci.c/modules.c */
void kci_list_tests(void);
int modules_selftest(void);

/* ---- attest.c: SNP guest messages and the SVSM attestation protocol ------- */
int attest_run_test(const char *test); /* TEST_UNKNOWN if not one of attest.c */
struct veil_log_report_section;
/* The log's head as the monitor attests it (ATTEST_SINGLE_SERVICE), for a dump. */
int attest_log_head(struct veil_log_head *h, struct veil_log_report_section *sec);
void attest_list_tests(void);
/* ---- enclave.c: enclave scenarios ---------------------------------------- */
int enclave_run_test(const char *test); /* TEST_UNKNOWN if not an enclave scenario */
void enclave_list_tests(void);
uint64_t enclave_test_page(void); /* a page of a live enclave, 0 if none */
/* enclave_irq.c: an interrupt in the middle of an enclave */
int enclave_irq_attack(void);
int enclave_irq_vmsa_attack(void);

/* ---- host_io.c: files, mappings and loopback sockets for enclave hosts ---- */
int64_t host_open(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len);
int64_t host_close(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len);
/* ctx non-NULL: a lying host that answers with an address inside the enclave. */
int64_t host_mmap(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len);
int64_t host_munmap(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len);
int64_t host_socket(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len);
/* read/write on a descriptor host_io.c gave out: true and the result in *n;
 * false for any other descriptor. */
bool host_fd_read(uint64_t fd, uint8_t *out, uint64_t count, int64_t *n);
bool host_fd_write(uint64_t fd, const uint8_t *data, uint64_t count, int64_t *n);

/* ---- tests.c -------------------------------------------------------------- */
int run_test(const char *name);

#endif
