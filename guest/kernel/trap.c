/* SPDX-License-Identifier: MIT */
/*
 * trap.c - exception handlers, the #VC handler (reference section 7) and
 * termination.
 *
 * #VC carries only the exit code; the instruction is decoded here and
 * emulated through the hypervisor: CPUID with the GHCB MSR protocol (it
 * works before any GHCB exists), IN/OUT and RDMSR/WRMSR with full GHCB
 * events. The SVSM_CAA MSR is answered locally, as Linux does.
 */
#include "kernel.h"

#define VEC_DF 8
#define VEC_PF 14
#define VEC_VC 29

static const char *const vec_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "v15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	"v22", "v23", "v24", "v25", "v26", "v27", "#HV", "#VC", "#SX", "v31",
};

NORETURN void terminate(unsigned code)
{
	ghcb_msr_terminate(VEIL_TERM_SET, code);
}

NORETURN void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kprintf("PANIC cpu %u: ", this_cpu()->id);
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
	terminate(VEIL_TERM_TEST_FAILED);
}

static NORETURN void fatal_trap(struct trap_frame *f, const char *what)
{
	panic("%s %s (vector %lu) error 0x%lx rip 0x%lx rsp 0x%lx cr2 0x%lx", what,
	      vec_names[f->vector & 31], f->vector, f->error, f->rip, f->rsp, READ_CR(2));
}

/* Check a full GHCB call's result (reference 6.1): anything but OK is fatal here. */
static void ghcb_check(struct trap_frame *f, uint64_t info1, const char *what)
{
	volatile uint8_t *g = this_cpu()->ghcb;

	if ((uint32_t)info1 == GHCB_RESULT_OK)
		return;
	panic("%s at rip 0x%lx: hypervisor answered %u (info2 0x%lx)", what, f->rip,
	      (uint32_t)info1, ghcb_get(g, GHCB_EXITINFO2));
}

static void vc_cpuid(struct trap_frame *f)
{
	uint32_t fn = (uint32_t)f->rax, v[4];
	unsigned r;

	for (r = 0; r < 4; r++)
		if (ghcb_msr_cpuid(fn, r, &v[r]))
			panic("CPUID 0x%x: GHCB MSR request failed", fn);
	f->rax = v[0];
	f->rbx = v[1];
	f->rcx = v[2];
	f->rdx = v[3];
	f->rip += 2;
}

/* Decode IN/OUT (no string forms): EXITINFO1 in SVM IOIO format, length, size. */
static int io_decode(struct trap_frame *f, uint64_t *info, unsigned *len, unsigned *size)
{
	const uint8_t *ip = (const uint8_t *)f->rip;
	unsigned i = 0, port, opsz = 4;
	uint8_t op;

	if (ip[i] == 0x66) {
		opsz = 2;
		i++;
	}
	op = ip[i++];
	if (op == 0xE4 || op == 0xE5 || op == 0xE6 || op == 0xE7)
		port = ip[i++];
	else if (op == 0xEC || op == 0xED || op == 0xEE || op == 0xEF)
		port = (uint16_t)f->rdx;
	else
		return -1;
	*size = (op & 1) ? opsz : 1;
	*len = i;
	*info = ((uint64_t)port << SVM_IOIO_PORT_SHIFT) | SVM_IOIO_A64 |
		((op & 2) ? 0 : SVM_IOIO_TYPE_IN) |
		(*size == 1 ? SVM_IOIO_SZ8 :
		 *size == 2 ? SVM_IOIO_SZ16 :
			      SVM_IOIO_SZ32);
	return 0;
}

/* IN writes only AL/AX, or EAX zero-extended, as the instruction does. */
static uint64_t io_merge(uint64_t rax, uint64_t val, unsigned size)
{
	if (size == 4)
		return (uint32_t)val;
	if (size == 2)
		return (rax & ~0xFFFFULL) | (val & 0xFFFF);
	return (rax & ~0xFFULL) | (val & 0xFF);
}

static void vc_ioio(struct trap_frame *f)
{
	struct percpu *c = this_cpu();
	uint64_t info, mask, rc;
	unsigned len, size;

	if (!c->ghcb_ready)
		terminate(VEIL_TERM_TEST_FAILED); /* no GHCB, no I/O, no way to say why */
	if (io_decode(f, &info, &len, &size))
		panic("#VC IOIO: cannot decode the instruction at rip 0x%lx", f->rip);
	mask = size == 4 ? 0xFFFFFFFFULL : (1ULL << (8 * size)) - 1;
	ghcb_clear(c->ghcb);
	if (!(info & SVM_IOIO_TYPE_IN))
		ghcb_set(c->ghcb, GHCB_RAX, f->rax & mask);
	rc = ghcb_hv_call(c->ghcb, (uint64_t)c->ghcb, SVM_EXIT_IOIO, info, 0);
	ghcb_check(f, rc, "#VC IOIO");
	if (info & SVM_IOIO_TYPE_IN) {
		if (!ghcb_is_valid(c->ghcb, GHCB_RAX))
			panic("#VC IOIO: IN from port 0x%lx returned no RAX", info >> 16);
		f->rax = io_merge(f->rax, ghcb_get(c->ghcb, GHCB_RAX), size);
	}
	f->rip += len;
}

/* Any MSR but SVSM_CAA goes to the hypervisor (a #GP answer is fatal here). */
static void vc_msr_forward(struct trap_frame *f, bool write)
{
	struct percpu *c = this_cpu();
	uint64_t rc;

	if (!c->ghcb_ready)
		terminate(VEIL_TERM_TEST_FAILED);
	ghcb_clear(c->ghcb);
	ghcb_set(c->ghcb, GHCB_RCX, (uint32_t)f->rcx);
	if (write) {
		ghcb_set(c->ghcb, GHCB_RAX, (uint32_t)f->rax);
		ghcb_set(c->ghcb, GHCB_RDX, (uint32_t)f->rdx);
	}
	rc = ghcb_hv_call(c->ghcb, (uint64_t)c->ghcb, SVM_EXIT_MSR, write, 0);
	ghcb_check(f, rc, write ? "#VC WRMSR" : "#VC RDMSR");
	if (!write) {
		if (!ghcb_is_valid(c->ghcb, GHCB_RAX) || !ghcb_is_valid(c->ghcb, GHCB_RDX))
			panic("#VC RDMSR 0x%lx: no result", f->rcx);
		f->rax = (uint32_t)ghcb_get(c->ghcb, GHCB_RAX);
		f->rdx = (uint32_t)ghcb_get(c->ghcb, GHCB_RDX);
	}
}

static void vc_msr(struct trap_frame *f)
{
	const uint8_t *ip = (const uint8_t *)f->rip;
	bool write = ip[1] == 0x30;
	uint64_t caa = this_cpu()->caa_gpa;

	if (ip[0] != 0x0F || (ip[1] != 0x30 && ip[1] != 0x32))
		panic("#VC MSR: not RDMSR/WRMSR at rip 0x%lx", f->rip);
	if ((uint32_t)f->rcx == MSR_SVSM_CAA) {
		if (write)
			panic("WRMSR to SVSM_CAA at rip 0x%lx", f->rip);
		f->rax = (uint32_t)caa;
		f->rdx = caa >> 32;
	} else {
		vc_msr_forward(f, write);
	}
	f->rip += 2;
}

static void vc_handler(struct trap_frame *f)
{
	struct percpu *c = this_cpu();

	/* #VC inside #VC is fine once (printing a panic); deeper means a loop. */
	if (++c->vc_depth > 3)
		terminate(VEIL_TERM_TEST_FAILED);
	switch (f->error) {
	case SVM_EXIT_CPUID:
		vc_cpuid(f);
		break;
	case SVM_EXIT_IOIO:
		vc_ioio(f);
		break;
	case SVM_EXIT_MSR:
		vc_msr(f);
		break;
	default:
		fatal_trap(f, "unhandled #VC");
	}
	c->vc_depth--;
}

/* An exception a test asked for: record it and skip the instruction. */
static bool trap_expected(struct trap_frame *f)
{
	struct percpu *c = this_cpu();

	if (c->trap_expect != f->vector + 1)
		return false;
	c->trap_expect = 0;
	c->trap_rip = f->rip;
	c->trap_error = f->error;
	c->trap_cr2 = READ_CR(2);
	f->rip += c->trap_skip;
	return true;
}

void trap_handler(struct trap_frame *f)
{
	if (f->vector == VEC_VC) {
		vc_handler(f);
		return;
	}
	if (f->vector == IRQ_VECTOR) {
		irq_handler(f);
		return;
	}
	if (!trap_expected(f))
		fatal_trap(f, "exception");
}
