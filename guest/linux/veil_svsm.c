// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * veil_svsm.c - SVSM calls from a Linux module to the Veil monitor.
 *
 * How the module calls, and why this way. An SVSM call (SVSM specification
 * 58019, "SVSM Calling Convention") is: RAX = protocol << 32 | call, the
 * arguments in RCX, RDX, R8, R9, call_pending = 1 in this vCPU's Calling
 * Area (CAA), then VMGEXIT asking the hypervisor to run VMPL0 (GHCB
 * specification 56421, "SNP Run VMPL", by the MSR protocol or the GHCB page),
 * and call_pending exchanged with 0 afterwards. Linux 6.12 does exactly that
 * in svsm_perform_call_protocol() (arch/x86/coco/sev/core.c), with the
 * current CPU's CAA from its per-CPU variable svsm_caa, but exports neither:
 * the one exported caller, snp_issue_svsm_attest_req(), fixes RCX, RDX and R8
 * for the attestation protocol.
 *
 * Issuing the VMGEXIT ourselves would race Linux: the CAA must be the one
 * Linux registered for this vCPU (SVSM_CORE_REMAP_CA), and the GHCB page or
 * MSR is per CPU state Linux's #VC handler uses too. An NMI taking a #VC
 * between our MSR write and our VMGEXIT rewrites the GHCB MSR with the GHCB's
 * address, and our VMGEXIT would then replay the NMI's request instead of
 * ours; Linux avoids this with __sev_get_ghcb(), which switches nested users
 * to a backup GHCB. So the module calls Linux's own function, found by name
 * through kallsyms (kallsyms_lookup_name's address from a kprobe, since the
 * kernel stopped exporting it in 5.7): the same GHCB discipline, retries on
 * SVSM_ERR_BUSY, and CAA as Linux's own SVSM users, so the module never
 * disturbs them. The price is a dependency on two non-exported names of the
 * kernel the module is built for, checked at load (the module refuses to
 * load if they are missing) and on the prototype in <asm/sev.h>.
 *
 * Indirect branch tracking: objtool seals (removes the ENDBR of) functions
 * whose address is never taken, so with IBT on, an indirect call to
 * svsm_perform_call_protocol would fault. AMD's SNP processors implement CET
 * shadow stacks but not IBT, so IBT is never on in an SNP guest; the module
 * checks and refuses to load if it is.
 */
#include <linux/cc_platform.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/irqflags.h>
#include <asm/cpufeature.h>
#include <asm/sev.h>

#include "veil_svsm.h"

static int (*perform_call)(struct svsm_call *call);
static struct svsm_ca *__percpu *svsm_caa_ptr;

/*
 * kallsyms_lookup_name is not exported; registering a kprobe on it (never
 * armed) reports its address.
 */
unsigned long veil_lookup_name(const char *name)
{
	static unsigned long (*kln)(const char *name);
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name", .flags = KPROBE_FLAG_DISABLED };

	if (!kln) {
		if (register_kprobe(&kp) < 0)
			return 0;
		kln = (unsigned long (*)(const char *))kp.addr;
		unregister_kprobe(&kp);
	}
	return kln ? kln(name) : 0;
}

unsigned int veil_svsm_vmpl(void)
{
	return snp_vmpl;
}

int veil_svsm_init(void)
{
	if (!cc_platform_has(CC_ATTR_GUEST_SEV_SNP) || !snp_vmpl) {
		pr_err("veil: not an SEV-SNP guest below VMPL0: there is no SVSM to call\n");
		return -ENODEV;
	}
	if (cpu_feature_enabled(X86_FEATURE_IBT)) {
		pr_err("veil: indirect branch tracking is on: cannot call Linux's SVSM path\n");
		return -EOPNOTSUPP;
	}
	perform_call = (int (*)(struct svsm_call *))veil_lookup_name("svsm_perform_call_protocol");
	svsm_caa_ptr = (struct svsm_ca * __percpu *)veil_lookup_name("svsm_caa");
	if (!perform_call || !svsm_caa_ptr) {
		pr_err("veil: this kernel has no svsm_perform_call_protocol/svsm_caa\n");
		return -ENOENT;
	}
	return 0;
}

static bool is_svsm_error(u64 rax)
{
	return (rax >> 32) == 0 && (rax & 0x80000000ULL);
}

u64 veil_svsm_call(u32 protocol, u32 call, struct veil_svsm_regs *r)
{
	struct svsm_call c = {
		.rax = ((u64)protocol << 32) | call,
		.rcx = r->rcx,
		.rdx = r->rdx,
		.r8 = r->r8,
		.r9 = r->r9,
	};
	unsigned long flags;
	int ret;

	if (!perform_call)
		return VEIL_SVSM_ERR_CALL;
	/* The CAA is this CPU's: stay on it until the call is done. */
	local_irq_save(flags);
	c.caa = *this_cpu_ptr(svsm_caa_ptr);
	ret = c.caa ? perform_call(&c) : -ENODEV;
	local_irq_restore(flags);
	r->rcx = c.rcx_out;
	r->rdx = c.rdx_out;
	r->r8 = c.r8_out;
	r->r9 = c.r9_out;
	if (!ret)
		return c.rax_out; /* SVSM_SUCCESS */
	/* Linux returns -EINVAL for every failure: the monitor's code, if the
	 * monitor answered, is in RAX; anything else never got there. */
	return ret == -EINVAL && is_svsm_error(c.rax_out) ? c.rax_out : VEIL_SVSM_ERR_CALL;
}

int veil_svsm_errno(u64 rc)
{
	switch (rc) {
	case SVSM_SUCCESS:
		return 0;
	case SVSM_ERR_UNSUPPORTED_PROTOCOL:
	case SVSM_ERR_UNSUPPORTED_CALL:
		return -EOPNOTSUPP;
	case SVSM_ERR_INVALID_ADDRESS:
		return -EFAULT;
	case SVSM_ERR_INVALID_FORMAT:
	case SVSM_ERR_INVALID_PARAMETER:
	case SVSM_ERR_INVALID_REQUEST:
		return -EINVAL;
	case SVSM_ERR_BUSY:
		return -EBUSY;
	case VEIL_SVSM_ERR_CALL:
		return -EIO;
	default:
		return -EPERM; /* a protocol's own refusal */
	}
}
