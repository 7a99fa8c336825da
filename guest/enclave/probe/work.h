/* SPDX-License-Identifier: MIT */
/*
 * work.h - the bench-enclave workloads, compiled both into the probe enclave
 * and into the test OS (the native side), so both run the same code.
 */
#ifndef VEIL_ENCLAVE_WORK_H
#define VEIL_ENCLAVE_WORK_H

#include <stdint.h>

/* Compute-bound: n rounds of xorshift64, summed. */
static inline uint64_t work_compute(uint64_t n)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL, s = 0, i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		s += x;
	}
	return s;
}

#define WORK_SYSCALLS_PER_ROUND 4 /* getpid, write, read, clock_gettime */

/* bench-enclave work=NAME for one syscall of the prototype's set (probe
 * action 17, and natively in the test OS): n rounds of that call, with the
 * close or munmap that keeps the host's tables from filling where needed. */
enum work_one {
	WORK_GETPID,
	WORK_OPEN,   /* open + close */
	WORK_READ,   /* 16 bytes from the host's input (fd 0) */
	WORK_WRITE,  /* 16 bytes to the host (counted, not printed) */
	WORK_PRINTF, /* "round N\n": formatting + one write */
	WORK_MMAP,   /* mmap + munmap of one untrusted page */
	WORK_SOCKET, /* socket + close */
	WORK_N
};
#define WORK_ONE_ARG(kind, n) (((uint64_t)(kind) << 40) | (n))

/* Probe action 16 (attack-enclave-interrupt): every register the loop does
 * not need holds this secret while it spins reading the TSC (the clock the
 * OS's timer runs on); it answers PROBE_REGS_INTACT if all still hold it at
 * the end, else PROBE_REGS_LOST + the number of registers that lost it. */
#define PROBE_REG_SECRET 0x5EC2E7A11CE5EC2EULL
#define PROBE_REGS_INTACT 0x600DULL
#define PROBE_REGS_LOST 0xBAD000ULL

#endif
