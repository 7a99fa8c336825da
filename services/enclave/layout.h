/* SPDX-License-Identifier: MIT */
/*
 * layout.h - the trusted pages at the top of every enclave's window, and the
 * offsets in the stub code the monitor recognises. Shared by enclave.c and
 * the stub (stub.c); plain numbers so the assembler can use them.
 */
#ifndef VEIL_SERVICES_ENCLAVE_LAYOUT_H
#define VEIL_SERVICES_ENCLAVE_LAYOUT_H

/* Page indexes in the enclave's one page table (VEIL_ENC_VA_BASE + i * 4 KiB). */
#define ENC_PT_STUB 508	  /* trusted code, CPL0 only: R + Xs at VMPL2 */
#define ENC_PT_SYS 509	  /* GDT, TSS, IDT: R at VMPL2, supervisor-only */
#define ENC_PT_TSTACK 510 /* trap stack (IST1) and the SYSCALL save slot */

#define ENC_STUB_VA 0x401FC000
#define ENC_SYS_VA 0x401FD000
#define ENC_TSTACK_VA 0x401FE000
#define ENC_TSAVE 0x401FEFF8	 /* the enclave's RIP across a SYSCALL exit */
#define ENC_IST_TOP 0x401FEFF0	 /* IST1: a trap frame ends here */
#define ENC_SYS_TSS_OFF 0x100	 /* in the system page */
#define ENC_SYS_IDT_OFF 0x800	 /* 32 gates */
#define ENC_STUB_TRAPS_OFF 0x100 /* 32 trap entries of 16 bytes */
#define ENC_STUB_SYS_BACK 0x40	 /* RIP right after the SYSCALL path's VMGEXIT */
#define ENC_STUB_TRAP_BACK 0x340 /* RIP right after the trap path's VMGEXIT */
#define ENC_NR_TRAPS 32
/* A trap frame below ENC_IST_TOP: the CPU's SS, RSP, RFLAGS, CS, RIP, error
 * code (APM vol 2, 8.9.3), then the stub's vector: RIP and vector at these
 * distances below the top. */
#define ENC_TRAP_RIP_BELOW 40
#define ENC_TRAP_VECTOR_BELOW 56

#endif
