/* SPDX-License-Identifier: MIT */
/*
 * probe.c - the enclave the attack tests use: the argument's low byte picks
 * one action, the rest is its operand. Each forbidden action must end in a
 * fault the monitor reports (VEIL_ENC_ERR_FAULT), never in a value.
 */
#include <veil/enclave.h>

#include "work.h"

#define STUB_VA 0x401FC000ULL /* the trusted stub page (supervisor-only) */

static volatile uint64_t secret = 0x5EC2E7;

/* Leave with every register the SYSCALL path keeps holding `v` (the test:
 * none of it may reach the OS's registers); ENTER returns 0x77. */
__attribute__((noreturn)) void exit_dirty(uint64_t v);
__asm__(".text\n"
	"exit_dirty:\n\t"
	"movq %rdi, %rbx\n\tmovq %rdi, %rbp\n\tmovq %rdi, %r8\n\tmovq %rdi, %r9\n\t"
	"movq %rdi, %r10\n\tmovq %rdi, %r12\n\tmovq %rdi, %r13\n\tmovq %rdi, %r14\n\t"
	"movq %rdi, %r15\n\tmovq %rdi, %rsp\n\tmovl $0x77, %esi\n\txorl %edi, %edi\n\t"
	"syscall\n\tud2\n");

/*
 * spin_secret(rounds, secret): RBX, RBP, RSI, RDI, R8-R15 and both halves of
 * XMM0-15 hold the secret for `rounds` RDTSCs (RCX counts, RAX/RDX take the
 * TSC), then every one is compared: the count of those that lost it.
 */
uint64_t spin_secret(uint64_t rounds, uint64_t secret);
/* clang-format off */
__asm__(".text\n"
	"spin_secret:\n\t"
	"pushq %rbx\n\tpushq %rbp\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"
	"movq %rdi, %rcx\n\t"
	"movq %rsi, %rbx\n\tmovq %rsi, %rbp\n\tmovq %rsi, %rdi\n\tmovq %rsi, %r8\n\t"
	"movq %rsi, %r9\n\tmovq %rsi, %r10\n\tmovq %rsi, %r11\n\tmovq %rsi, %r12\n\t"
	"movq %rsi, %r13\n\tmovq %rsi, %r14\n\tmovq %rsi, %r15\n\t"
	"movq %rsi, %xmm0\n\tpunpcklqdq %xmm0, %xmm0\n\t"
	".irp r,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
	"movdqa %xmm0, %xmm\\r\n\t"
	".endr\n"
	"1:\trdtsc\n\t"
	"decq %rcx\n\t"
	"jnz 1b\n\t"
	"xorl %eax, %eax\n\t"
	".irp r,rbx,rbp,rdi,r8,r9,r10,r11,r12,r13,r14,r15\n\t"
	"cmpq %rsi, %\\r\n\tsetne %dl\n\tmovzbl %dl, %edx\n\taddq %rdx, %rax\n\t"
	".endr\n\t"
	"cmpq %rbx, %rsi\n\tsetne %dl\n\tmovzbl %dl, %edx\n\taddq %rdx, %rax\n\t"
	".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
	"movq %xmm\\r, %rdx\n\tcmpq %rsi, %rdx\n\tsetne %dl\n\tmovzbl %dl, %edx\n\taddq %rdx, %rax\n\t"
	"punpckhqdq %xmm\\r, %xmm\\r\n\t"
	"movq %xmm\\r, %rdx\n\tcmpq %rsi, %rdx\n\tsetne %dl\n\tmovzbl %dl, %edx\n\taddq %rdx, %rax\n\t"
	".endr\n\t"
	"popq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbp\n\tpopq %rbx\n\t"
	"ret\n");
/* clang-format on */

static uint64_t syscall_set(void)
{
	char buf[64];
	uint64_t ok = 0;
	int fd = open("/etc/hostname", 0), s;
	void *m;

	ok |= fd >= 3;
	ok |= (uint64_t)(read(fd, buf, sizeof(buf)) == 12 && !memcmp(buf, "veil-testos\n", 12))
	      << 1;
	ok |= (uint64_t)(close(fd) == 0) << 2;
	ok |= (uint64_t)(close(fd) == -9) << 3;		      /* EBADF */
	ok |= (uint64_t)(open("/nonexistent", 0) == -2) << 4; /* ENOENT */
	m = mmap(0, 8192, 3, 0x22, -1, 0);
	ok |= (uint64_t)(m != MAP_FAILED && !enclave_owns(m, 8192)) << 5;
	ok |= (uint64_t)(munmap(m, 8192) == 0) << 6;
	s = socket(1, 1, 0);
	ok |= (uint64_t)(s >= 3) << 7;
	ok |= (uint64_t)(write(s, "ping", 4) == 4 && read(s, buf, 16) == 4 &&
			 !memcmp(buf, "ping", 4))
	      << 8;
	ok |= (uint64_t)(close(s) == 0) << 9;
	return ok;
}

/* The prototype's syscall set (VEIL's enclave benchmark): open, getpid, mmap,
 * read, write, printf, munmap, socket (+ the two closes), once per round. */
static uint64_t work_proto(uint64_t rounds)
{
	char buf[16];
	uint64_t i, x = 0;

	for (i = 0; i < rounds; i++) {
		int fd = open("/etc/hostname", 0), s;
		void *m;

		x += (uint64_t)getpid();
		m = mmap(0, 4096, 3, 0x22, -1, 0);
		x += (uint64_t)read(fd, buf, sizeof(buf));
		x += (uint64_t)write(1, buf, sizeof(buf));
		x += (uint64_t)printf("round %lu\n", (unsigned long)i);
		x += (uint64_t)munmap(m, 4096);
		s = socket(1, 1, 0);
		x += (uint64_t)close(s) + (uint64_t)close(fd);
	}
	return x;
}

/* bench: n rounds of one call of the prototype's set (work.h). */
static uint64_t work_one(unsigned kind, uint64_t n)
{
	char buf[16] = "0123456789abcde";
	uint64_t i, x = 0;

	for (i = 0; i < n; i++) {
		int fd;
		void *m;

		switch (kind) {
		case WORK_GETPID:
			x += (uint64_t)getpid();
			break;
		case WORK_OPEN:
			fd = open("/etc/hostname", 0);
			x += (uint64_t)fd + (uint64_t)close(fd);
			break;
		case WORK_READ:
			x += (uint64_t)read(0, buf, sizeof(buf));
			break;
		case WORK_WRITE:
			x += (uint64_t)write(5, buf, sizeof(buf));
			break;
		case WORK_PRINTF:
			x += (uint64_t)printf("round %lu\n", (unsigned long)i);
			break;
		case WORK_MMAP:
			m = mmap(0, 4096, 3, 0x22, -1, 0);
			x += (uint64_t)(m != MAP_FAILED) + (uint64_t)munmap(m, 4096);
			break;
		case WORK_SOCKET:
			fd = socket(1, 1, 0);
			x += (uint64_t)fd + (uint64_t)close(fd);
			break;
		default:
			return ~0ULL;
		}
	}
	return x;
}

uint64_t enclave_main(uint64_t arg)
{
	uint64_t op = arg >> 8, i, x = 0;

	switch (arg & 0xFF) {
	case 0: /* echo, plus the secret it keeps */
		return op + secret;
	case 1: /* read any address (outside its window: not mapped) */
		return *(volatile uint64_t *)op;
	case 2: /* write its own code */
		*(volatile uint8_t *)(uintptr_t)enclave_main = 0xCC;
		return 0;
	case 3: /* a privileged instruction at CPL3 */
		__asm__ volatile("cli");
		return 0;
	case 4: /* read the trusted stub */
		return *(volatile uint64_t *)STUB_VA;
	case 5: /* spin op rounds (PAUSE lets other vCPUs run), then answer */
		for (i = 0; i < op; i++) {
			x += i ^ secret;
			__asm__ volatile("pause");
		}
		__asm__ volatile("" : : "r"(x));
		return op;
	case 6: /* an unknown request: answered ~0, then leave */
		return enclave_syscall(0x77, 0) + 1;
	case 8: { /* ocalls: getpid, then read op bytes from the host */
		char buf[64];
		long pid = getpid(), n = read(0, buf, op < sizeof(buf) ? op : sizeof(buf));

		if (n < 0)
			return 0xBAD00000ULL | ((uint64_t)-n & 0xFFFF);
		printf("probe: pid %ld, read %ld bytes\n", pid, n);
		return ((uint64_t)pid << 16) | (uint64_t)n;
	}
	case 9: { /* bench: op rounds of the forwarded syscall set */
		struct enclave_timespec ts;
		char buf[16] = "0123456789abcde";

		for (i = 0; i < op; i++) {
			x += (uint64_t)getpid();
			x += (uint64_t)write(5, buf, sizeof(buf));
			x += (uint64_t)read(0, buf, sizeof(buf));
			x += (uint64_t)clock_gettime(1, &ts);
		}
		return x;
	}
	case 10: /* bench: compute-bound */
		return work_compute(op);
	case 11: { /* heap: allocate op bytes, fill them, answer the heap size */
		uint8_t *p = malloc(op);

		if (!p)
			return 0xE;
		memset(p, 0x5A, op);
		return enclave_heap_size();
	}
	case 13: /* open/read/close, mmap/munmap, a loopback socket: one bit per check */
		return syscall_set();
	case 14: { /* mmap: 1 if an answer inside the enclave was refused */
		void *m = mmap(0, 4096, 3, 0x22, -1, 0);

		return m == MAP_FAILED;
	}
	case 15: /* bench: op rounds of the prototype's syscall set */
		return work_proto(op);
	case 17: /* bench: one call of the prototype's set, op = WORK_ONE_ARG */
		return work_one((unsigned)(op >> 40), op & ((1ULL << 40) - 1));
	case 16: { /* registers full of a secret across interrupts, op RDTSCs */
		uint64_t lost = spin_secret(op ? op : 1, PROBE_REG_SECRET);

		return lost ? PROBE_REGS_LOST + lost : PROBE_REGS_INTACT;
	}
	case 12: /* registers full of the secret, then leave */
		exit_dirty(secret);
	case 7: /* int $0x80: a gate the enclave may not use */
		__asm__ volatile("int $0x80");
		return 0;
	default:
		return ~0ULL;
	}
}
