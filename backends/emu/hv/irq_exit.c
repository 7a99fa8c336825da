/* SPDX-License-Identifier: MIT */
/*
 * irq_exit.c - the hypervisor's routing of an interrupt for the OS (VMPL3)
 * that arrives while the vCPU runs a domain at VMPL1 or VMPL2 (a service or
 * an enclave): the Veil hypervisor contract, as for RMP violations.
 *
 * A physical interrupt makes the running guest exit with VMEXIT_INTR (exit
 * code 0x60, APM vol 2, appendix C); on SNP the CPU saves that VMSA (and its
 * GUEST_EXIT_CODE) and the hypervisor picks the VMSA it runs next. The
 * interrupt is the OS's, and the domain must not keep the OS from it (an
 * enclave spinning forever would otherwise own the vCPU), but the hypervisor
 * may inject it only into the OS's VMSA, and only VMPL0 may decide when the
 * domain stops: so it runs VMPL0, whose monitor saves and scrubs the domain
 * and returns to the OS, or resumes the domain. The hypervisor knows whether
 * the OS can take an interrupt from RFLAGS.IF of the OS's last exit (the
 * VMCB's GUEST_INTERRUPT_MASK, APM vol 2, appendix B, offset 68h bit 1, for
 * SEV-ES guests); with IF = 0 the interrupt waits, as on VMPL3 itself.
 *
 * The model's guests run without Restricted or Alternate Injection
 * (SEV_FEATURES bits 3 and 4 clear; APM vol 2, "Restricted Injection" and
 * "Alternate Injection" in the SEV-SNP section): with Alternate Injection the
 * monitor would put the interrupt into the OS's VMSA itself (its VINTR_CTRL
 * and EVENTINJ fields); the exit to VMPL0 is the same either way.
 *
 * One exit per stay away from VMPL3 (edge, not level): the interrupt stays
 * pending in the APIC until the OS takes it, and a monitor that resumes its
 * domain after the exit (the log domain finishing a record) must get to run
 * it, not meet the same interrupt again at once. KVM's VTL patches make the
 * same choice for the same reason (one forced entry per posting).
 *
 * `exec` runs follow it too, once the program has registered VMSAs for VMPL0
 * (its own) and the OS (tests/conformance, snippet irq_exit.S).
 */
#include "apic.h"
#include "machine.h"

#define RFLAGS_IF (1ULL << 9)
#define OS_VMPL 3

bool hv_interrupt_exit(struct emu_machine *m, struct emu_vcpu *v)
{
	const uint8_t *os;

	if (v->vmpl == OS_VMPL) {
		v->apic.irq_exited = false;
		return false;
	}
	if (v->vmpl == 0 || v->apic.irq_exited || v->state != VCPU_RUNNABLE ||
	    !(v->vmsa_gpa[0] || m->native0) || apic_pending(&v->apic) < 0)
		return false;
	os = vmsa_ptr(m, v, OS_VMPL);
	if (!os || !(ld64(os + VMSA_RFLAGS) & RFLAGS_IF))
		return false;
	v->apic.irq_exited = true;
	return !vcpu_switch(m, v, 0, SVM_EXIT_INTR);
}
