/* SPDX-License-Identifier: MIT */
/* fiber.c - see fiber.h. x86-64 System V only. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fiber.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define ASAN 1
#else
#define ASAN 0
#endif

/* Save callee-saved registers, swap stacks, restore, return into the other. */
void fiber_swap(void **save_sp, void *new_sp);
__asm__(".text\n"
	".globl fiber_swap\n"
	".type fiber_swap,@function\n"
	"fiber_swap:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size fiber_swap, .-fiber_swap\n"
	/* First switch-in lands here: r12 = fiber. */
	".globl fiber_trampoline\n"
	"fiber_trampoline:\n"
	"	movq %r12, %rdi\n"
	"	call fiber_start\n"
	"	ud2\n");

void fiber_trampoline(void);
void fiber_start(struct emu_fiber *f);

void fiber_start(struct emu_fiber *f)
{
#if ASAN
	__sanitizer_finish_switch_fiber(NULL, &f->caller->asan_bottom, &f->caller->asan_size);
#endif
	f->entry(f->arg);
	abort(); /* an entry must never return */
}

int fiber_init(struct emu_fiber *f, size_t stack_size, void (*entry)(void *), void *arg)
{
	uint64_t *sp;

	f->stack =
		mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->stack == MAP_FAILED) {
		f->stack = NULL;
		return -1;
	}
	f->stack_size = stack_size;
	f->asan_bottom = f->stack;
	f->asan_size = stack_size;
	f->entry = entry;
	f->arg = arg;
	sp = (uint64_t *)((char *)f->stack + stack_size);
	/* After `ret` RSP is the 16-byte aligned top, as a call site needs. */
	*--sp = (uint64_t)fiber_trampoline; /* ret target */
	*--sp = 0;			    /* rbp */
	*--sp = 0;			    /* rbx */
	*--sp = (uint64_t)f;		    /* r12 */
	*--sp = 0;			    /* r13 */
	*--sp = 0;			    /* r14 */
	*--sp = 0;			    /* r15 */
	f->sp = sp;
	return 0;
}

void fiber_free(struct emu_fiber *f)
{
	if (f->stack)
		munmap(f->stack, f->stack_size);
	f->stack = NULL;
}

void fiber_switch(struct emu_fiber *from, struct emu_fiber *to)
{
#if ASAN
	__sanitizer_start_switch_fiber(&from->asan_fake, to->asan_bottom, to->asan_size);
#endif
	fiber_swap(&from->sp, to->sp);
#if ASAN
	__sanitizer_finish_switch_fiber(from->asan_fake, NULL, NULL);
#endif
}
