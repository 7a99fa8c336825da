/* SPDX-License-Identifier: MIT */
/*
 * rdrand.c - RDRAND and RDSEED (AMD APM vol 3, "RDRAND", "RDSEED").
 *
 * SNP-capable EPYC processors have both and execute them natively in a
 * guest; Linux's decompressor relies on RDRAND unconditionally when it
 * checks the C-bit under SEV (arch/x86/boot/compressed/mem_encrypt.S,
 * sev_verify_cbit). Unicorn's CPU model lacks them (#UD), so the model
 * decodes them at the #UD and returns numbers from a per-vCPU generator
 * (splitmix64), never host entropy: runs stay deterministic and replayable.
 * Success is always reported (CF = 1), as the hardware does when its
 * entropy source is healthy.
 */
#include "machine.h"

static const int gpr[16] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
			     UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
			     UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
			     UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15 };

static uint64_t next_random(struct emu_vcpu *v)
{
	uint64_t z = (v->rng += 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)v->id << 56);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* [66] [REX] 0F C7 /6 (RDRAND) or /7 (RDSEED), register operand only; `op`
 * holds the 5 bytes at RIP. */
bool x86_emulate_rdrand(struct emu_inst *in, const uint8_t op[5])
{
	unsigned i = 0, size = 4, reg;
	uint8_t rex = 0;
	uint64_t val, old, flags;

	if (op[i] == 0x66) {
		size = 2;
		i++;
	}
	if ((op[i] & 0xF0) == 0x40)
		rex = op[i++];
	if (rex & 0x08)
		size = 8;
	if (op[i] != 0x0F || op[i + 1] != 0xC7 || (op[i + 2] & 0xC0) != 0xC0 ||
	    ((op[i + 2] >> 3) & 7) < 6)
		return false;
	reg = (op[i + 2] & 7) | ((rex & 1u) << 3);
	val = next_random(in->vcpu);
	old = rreg(in->uc, gpr[reg]);
	if (size == 2)
		val = (old & ~0xFFFFULL) | (val & 0xFFFF);
	else if (size == 4)
		val &= 0xFFFFFFFFULL; /* 32-bit results zero-extend */
	wreg(in->uc, gpr[reg], val);
	flags = rreg(in->uc, UC_X86_REG_RFLAGS) & ~0x8D5ULL; /* OF SF ZF AF PF CF */
	wreg(in->uc, UC_X86_REG_RFLAGS, flags | 1);
	inst_retire(in, i + 3);
	return true;
}
