/* SPDX-License-Identifier: MIT */
/*
 * audit.c - an audit hook that logs through the secure log service, and the
 * minimal user mode that gives it syscalls to audit.
 *
 * The command line picks where audited events go: "audit=on" (or
 * "audit=service") appends each one as a short text line to VEIL_PROTOCOL_LOG,
 * where the OS can no longer change or drop it; "audit=ring" keeps them in a
 * ring buffer in OS memory (what a kernel without Veil does; the baseline of
 * bench-log); anything else turns auditing off. Events: every syscall, and
 * what modules.c and kci.c report through audit_event().
 *
 * User mode: one code page and one stack page mapped at USER_BASE through a
 * PML4 slot of their own (the only user-accessible mapping), entered with
 * SYSRET and left with SYSCALL. The syscall path runs on its own stack, and
 * its state is global: one vCPU at a time runs user code. A fault at CPL3 is
 * fatal (it arrives on the boot stack through TSS.RSP0, over live frames).
 */
#include "kernel.h"

#define MSR_STAR 0xC0000081U
#define MSR_LSTAR 0xC0000082U
#define MSR_SFMASK 0xC0000084U
#define RFLAGS_MASK 0x47700ULL /* TF, IF, DF, IOPL, NT, AC: cleared on SYSCALL */

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_C (1ULL << 51)
#define PTE_NX (1ULL << 63)
#define PTE_TABLE (PTE_P | PTE_W | PTE_U | PTE_C)

/* PML4 slot 1 (512 GiB): the kernel's identity map lives in slot 0 only. */
#define USER_BASE (1ULL << 39)
#define USER_CODE USER_BASE
#define USER_STACK_TOP (USER_BASE + 2 * PAGE_SIZE)

#define RING_SIZE (64 * 1024)
#define LINE_MAX 160

#define SYS_NOP 0  /* returns its argument + 1 */
#define SYS_EXIT 1 /* back to the kernel that called user_run() */

static enum audit_mode mode;
static bool mode_parsed;

/* ---- command line --------------------------------------------------------- */

/* The value of "key=VALUE" on the command line into val; false if absent. */
bool cmdline_opt(const char *key, char *val, size_t cap)
{
	const char *p = boot.cmdline;
	size_t klen = strlen(key), n = 0;

	while (*p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			for (p += klen + 1; *p && *p != ' ' && n + 1 < cap; p++)
				val[n++] = *p;
			val[n] = 0;
			return true;
		}
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* "key=N" (decimal or 0x-hex), or `def` if absent or malformed. */
uint64_t cmdline_num(const char *key, uint64_t def)
{
	char v[24];
	const char *p = v;
	uint64_t x = 0, base = 10;

	if (!cmdline_opt(key, v, sizeof(v)) || !*v)
		return def;
	if (p[0] == '0' && p[1] == 'x') {
		base = 16;
		p += 2;
	}
	for (; *p; p++) {
		unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0') :
			     *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10) :
						      99;
		if (d >= base)
			return def;
		x = x * base + d;
	}
	return x;
}

enum audit_mode audit_mode(void)
{
	char v[16];

	if (mode_parsed)
		return mode;
	mode_parsed = true;
	mode = AUDIT_OFF;
	if (cmdline_opt("audit", v, sizeof(v))) {
		if (!strncmp(v, "on", 3) || !strncmp(v, "service", 8))
			mode = AUDIT_SERVICE;
		else if (!strncmp(v, "ring", 5))
			mode = AUDIT_RING;
	}
	return mode;
}

static const char *mode_name(void)
{
	return audit_mode() == AUDIT_SERVICE ? "service" :
	       audit_mode() == AUDIT_RING    ? "ring" :
					       "off";
}

/* ---- a line formatter (%[l]{d,u,x,s,c,%} and %p, as kprintf) -------------- */

struct line {
	char *buf;
	size_t len, cap;
};

static void put(struct line *l, char c)
{
	if (l->len + 1 < l->cap)
		l->buf[l->len++] = c;
}

static void put_u(struct line *l, uint64_t v, unsigned base)
{
	char d[24];
	int i = 0;

	do {
		d[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		put(l, d[--i]);
}

static const char *fmt_one(struct line *l, const char *f, va_list *ap)
{
	bool lng = false;
	const char *s;
	int64_t v;

	while (*f == 'l') {
		lng = true;
		f++;
	}
	switch (*f) {
	case 'd':
		v = lng ? va_arg(*ap, int64_t) : va_arg(*ap, int);
		if (v < 0)
			put(l, '-');
		put_u(l, v < 0 ? -(uint64_t)v : (uint64_t)v, 10);
		break;
	case 'u':
	case 'x':
		put_u(l, lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned), *f == 'u' ? 10 : 16);
		break;
	case 'p':
		put(l, '0');
		put(l, 'x');
		put_u(l, (uint64_t)va_arg(*ap, void *), 16);
		break;
	case 's':
		for (s = va_arg(*ap, const char *); *s; s++)
			put(l, *s);
		break;
	case 'c':
		put(l, (char)va_arg(*ap, int));
		break;
	default:
		put(l, *f ? *f : '%');
		return *f ? f + 1 : f;
	}
	return f + 1;
}

/* Format into buf (always NUL-terminated); returns the length. */
size_t kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct line l = { buf, 0, cap };
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%')
			put(&l, *fmt++);
		else
			fmt = fmt_one(&l, fmt + 1, &aq);
	}
	va_end(aq);
	if (cap)
		buf[l.len] = 0;
	return l.len;
}

size_t ksnprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- where events go ------------------------------------------------------ */

/* The baseline: records in the OS's own memory, oldest overwritten when full. */
static struct {
	uint8_t data[RING_SIZE];
	uint64_t head, seq;
} ring;

/* Copy into the ring at its head, in two pieces where it wraps. */
static void ring_copy(const void *src, size_t n)
{
	size_t at = ring.head % RING_SIZE, first = n < RING_SIZE - at ? n : RING_SIZE - at;

	memcpy(ring.data + at, src, first);
	memcpy(ring.data, (const uint8_t *)src + first, n - first);
	ring.head += n;
}

/* No timestamp: RDTSC stops the emulator (microseconds), while the service's
 * is taken natively by the monitor; the baseline should not pay for that. */
static void ring_put(const char *s, uint32_t len)
{
	struct {
		uint64_t seq;
		uint32_t cpu, len;
	} h = { ring.seq++, this_cpu()->id, len };

	ring_copy(&h, sizeof(h));
	ring_copy(s, len);
}

uint64_t audit_failures; /* service appends refused (full log, bad buffer) */

static void audit_emit(const char *s, size_t len)
{
	uint64_t seq;

	if (audit_mode() == AUDIT_RING)
		ring_put(s, (uint32_t)len);
	else if (audit_mode() == AUDIT_SERVICE && log_append(s, (uint32_t)len, &seq))
		audit_failures++;
}

void audit_event(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	size_t n;

	if (audit_mode() == AUDIT_OFF)
		return;
	va_start(ap, fmt);
	n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n)
		audit_emit(line, n);
}

/* A kernel-integrity event: what the monitor reports once the OS has locked. */
void audit_kci_state(void)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc;

	if (audit_mode() == AUDIT_OFF)
		return;
	rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_KCI, VEIL_KCI_STATUS, 0, 0, 0, 0, &o);
	audit_event("kci: status rc=0x%lx locked=%lu text-pages=%lu exports=%lu", rc, o.rcx, o.rdx,
		    o.r8);
}

/* ---- the syscall path ----------------------------------------------------- */

/* Shared with the assembly below. */
uint64_t user_saved_rsp, user_kernel_rsp;
uint8_t user_exiting;
uint8_t syscall_stack[16384] ALIGNED(16);

uint64_t user_enter(uint64_t rip, uint64_t rsp, uint64_t arg);
uint64_t syscall_dispatch(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t rip);
extern const uint8_t user_blob[], user_blob_end[];

/*
 * syscall_entry: SYSCALL left RSP at the user stack, so switch first; keep
 * the user's RIP (RCX), RFLAGS (R11) and caller-saved registers for SYSRET.
 * SYS_EXIT instead unwinds to the kernel context user_enter saved.
 */
__asm__(".text\n"
	".globl syscall_entry\n"
	"syscall_entry:\n\t"
	"movq %rsp, user_saved_rsp(%rip)\n\t"
	"leaq syscall_stack+16384(%rip), %rsp\n\t"
	"pushq %rcx\n\tpushq %r11\n\tpushq %rdi\n\tpushq %rsi\n\t"
	"pushq %rdx\n\tpushq %r8\n\tpushq %r9\n\tpushq %r10\n\t"
	"movq %rsi, %rdx\n\tmovq %rdi, %rsi\n\tmovq %rax, %rdi\n\t"
	"call syscall_dispatch\n\t"
	"cmpb $0, user_exiting(%rip)\n\t"
	"jne 1f\n\t"
	"popq %r10\n\tpopq %r9\n\tpopq %r8\n\tpopq %rdx\n\t"
	"popq %rsi\n\tpopq %rdi\n\tpopq %r11\n\tpopq %rcx\n\t"
	"movq user_saved_rsp(%rip), %rsp\n\t"
	"sysretq\n"
	"1:\tmovb $0, user_exiting(%rip)\n\t"
	"movq user_kernel_rsp(%rip), %rsp\n\t"
	"popq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbp\n\tpopq %rbx\n\t"
	"ret\n"
	/* user_enter(rip, rsp, arg): to CPL3 with RDI = arg and no kernel values
	 * left in registers; returns the SYS_EXIT code. */
	".globl user_enter\n"
	"user_enter:\n\t"
	"pushq %rbx\n\tpushq %rbp\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"
	"movq %rsp, user_kernel_rsp(%rip)\n\t"
	"movq %rdi, %rcx\n\tmovq %rdx, %rdi\n\tmovq %rsi, %rsp\n\tmovl $2, %r11d\n\t"
	"xorl %eax, %eax\n\txorl %ebx, %ebx\n\txorl %edx, %edx\n\txorl %esi, %esi\n\t"
	"xorl %ebp, %ebp\n\txorl %r8d, %r8d\n\txorl %r9d, %r9d\n\txorl %r10d, %r10d\n\t"
	"xorl %r12d, %r12d\n\txorl %r13d, %r13d\n\txorl %r14d, %r14d\n\txorl %r15d, %r15d\n\t"
	"sysretq\n"
	/* The user program, copied to USER_CODE (position-independent): RDI
	 * SYS_NOP calls, each checked (i -> i + 1), then SYS_EXIT(0), or
	 * SYS_EXIT(1) on a wrong answer. */
	".globl user_blob, user_blob_end\n"
	"user_blob:\n\t"
	"movq %rdi, %r12\n\txorl %r13d, %r13d\n"
	"2:\tcmpq %r12, %r13\n\tjae 3f\n\t"
	"movl $0, %eax\n\tmovq %r13, %rdi\n\tsyscall\n\t"
	"leaq 1(%r13), %rdx\n\tcmpq %rdx, %rax\n\tjne 4f\n\t"
	"incq %r13\n\tjmp 2b\n"
	"3:\txorl %edi, %edi\n\tmovl $1, %eax\n\tsyscall\n\tud2\n"
	"4:\tmovl $1, %edi\n\tmovl $1, %eax\n\tsyscall\n\tud2\n"
	"user_blob_end:\n");

uint64_t syscall_dispatch(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t rip)
{
	audit_event("syscall nr=%lu a0=0x%lx a1=0x%lx rip=0x%lx cpu=%u", nr, a0, a1, rip,
		    this_cpu()->id);
	switch (nr) {
	case SYS_NOP:
		return a0 + 1;
	case SYS_EXIT:
		user_exiting = 1;
		return a0;
	default:
		return ~0ULL;
	}
}

/* ---- user mode ------------------------------------------------------------ */

static bool user_ready;

/* Map the user code and stack pages at USER_BASE, U=1 on every level. */
static int user_map(void)
{
	uint64_t *pml4 = (uint64_t *)(READ_CR(3) & ~(PAGE_SIZE - 1));
	uint64_t t = pages_alloc(3), code = pages_alloc(1), stack = pages_alloc(1);
	uint64_t *pdpt = (uint64_t *)t, *pd = (uint64_t *)(t + PAGE_SIZE),
		 *pt = (uint64_t *)(t + 2 * PAGE_SIZE);

	if (!t || !code || !stack || pml4[1])
		return -1;
	memcpy((void *)code, user_blob, (size_t)(user_blob_end - user_blob));
	pt[0] = code | PTE_P | PTE_U | PTE_C;
	pt[1] = stack | PTE_P | PTE_W | PTE_U | PTE_C | PTE_NX;
	pd[0] = (uint64_t)pt | PTE_TABLE;
	pdpt[0] = (uint64_t)pd | PTE_TABLE;
	pml4[1] = (uint64_t)pdpt | PTE_TABLE;
	__asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3" : : : "rax", "memory");
	return 0;
}

/* User mode on this vCPU: the mapping (once) and the syscall MSRs. Needs the
 * page allocator (mm_validate_os_memory first). */
int user_init(void)
{
	extern char syscall_entry[];

	if (!user_ready && user_map())
		return -1;
	user_ready = true;
	/* SYSCALL: CS 0x08, SS 0x10; SYSRET: CS 0x10 + 16 = 0x20, SS 0x10 + 8 = 0x18 (RPL 3). */
	wrmsr(MSR_STAR, (0x10ULL << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, RFLAGS_MASK);
	return 0;
}

/* Run the user program: `n` syscalls from CPL3. Returns its exit code. */
uint64_t user_run(uint64_t n)
{
	return user_enter(USER_CODE, USER_STACK_TOP, n);
}

/* ---- scenarios ------------------------------------------------------------ */

#define AUDIT_SYSCALLS 16

static int user_setup(void)
{
	if (mm_validate_os_memory(false) || user_init()) {
		check("user-mode-setup", false, 0);
		return -1;
	}
	return 0;
}

/* log-audit: AUDIT_SYSCALLS syscalls from ring 3, plus SYS_EXIT. With audit=on
 * each is one record in the secure log (and the dump); with audit=ring each is
 * in the ring and none in the log; with auditing off neither grows. */
int audit_scenario(void)
{
	const uint64_t calls = AUDIT_SYSCALLS + 1;
	uint64_t rc, code, ring0 = ring.seq, logged;
	struct veil_log_head h0, h1;

	if (user_setup() || log_head(&h0))
		return -1;
	code = user_run(AUDIT_SYSCALLS);
	check("user-syscalls", code == 0, code);
	rc = log_head(&h1);
	logged = h1.count - h0.count;
	kprintf("log-audit: audit %s, %lu syscalls, %lu records in the log, %lu in the ring\n",
		mode_name(), calls, logged, ring.seq - ring0);
	check("log-audit-records",
	      !rc && !audit_failures && logged == (audit_mode() == AUDIT_SERVICE ? calls : 0) &&
		      ring.seq - ring0 == (audit_mode() == AUDIT_RING ? calls : 0),
	      rc ? rc : logged);
	return log_dump_checked();
}

/* bench-log: "n=N" audited syscalls; the host compares audit=service, ring, off. */
int audit_bench(void)
{
	uint64_t n = cmdline_num("n", 10000), t0, t1, code;
	struct veil_log_head h0, h1;

	if (user_setup() || log_head(&h0))
		return -1;
	t0 = rdtsc();
	code = user_run(n);
	t1 = rdtsc();
	log_head(&h1);
	kprintf("bench-log: audit %s, %lu syscalls, %lu TSC ticks, %lu records, %lu dropped\n",
		mode_name(), n, t1 - t0, h1.count - h0.count, h1.drops - h0.drops);
	check("bench-log", code == 0 && !audit_failures, code ? code : audit_failures);
	return 0;
}
