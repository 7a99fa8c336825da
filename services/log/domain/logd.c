/* SPDX-License-Identifier: MIT */
/*
 * logd.c - the log domain: the secure log's record keeping (../logcore.c) at
 * VMPL1 CPL3, in its own address space (../logdom.h). Each entry runs one
 * operation from the mailbox and leaves through the trusted SYSCALL path
 * (RDI = 0, RSI = the result), as an enclave leaves. It has no state but
 * its .data/.bss and the store, and no way to reach anything else: a bug
 * here faults into the monitor, which closes the log.
 */
#include <veil/lib.h>

#include "../logcore.h"
#include "../logdom.h"

void logd_main(u64 op) __attribute__((noreturn, used));

static struct veil_logcore lc;

extern const char logd_text_end[], logd_rodata_end[], logd_data_end[], logd_bss_end[];
void logd_start(void);

__attribute__((section(".text.header"), used)) static const struct logd_header header = {
	LOGD_MAGIC,	      (u64)logd_start,	  (u64)logd_text_end,
	(u64)logd_rodata_end, (u64)logd_data_end, (u64)logd_bss_end,
};

/* Entry: RSP and FS base were set by the monitor (LOGD_TLS), RDI = op. */
__asm__(".text\n.globl logd_start\nlogd_start:\n\t"
	"andq $-16, %rsp\n\t"
	"call logd_main\n");

static __attribute__((noreturn)) void leave(u64 result)
{
	__asm__ volatile("syscall" ::"D"(0ULL), "S"(result) : "rcx", "r11", "memory");
	__builtin_unreachable();
}

static u64 run(struct logd_mail *m, u64 op)
{
	struct veil_logcore_stamp st;

	if (!lc.store) { /* the first entry */
		if (!m->capacity || m->capacity > LOGD_STORE_MAX)
			return SVSM_ERR_INVALID_REQUEST;
		lc.store = (u8 *)LOGD_STORE_VA;
		lc.capacity = m->capacity;
	}
	switch (op) {
	case LOGD_OP_APPEND:
		if (m->len > LOGD_DATA_MAX)
			return SVSM_ERR_INVALID_REQUEST;
		st = (struct veil_logcore_stamp){ m->tsc, m->vcpu, m->origin };
		return veil_logcore_append(&lc, m->data, (u32)m->len, &st, &m->seq);
	case LOGD_OP_HEAD:
		return SVSM_SUCCESS; /* logd_main fills the head after every operation */
	case LOGD_OP_READ:
		return veil_logcore_read(&lc, m->seq, m->data,
					 m->len < LOGD_DATA_MAX ? m->len : LOGD_DATA_MAX, &m->n,
					 &m->bytes, &m->next);
	case LOGD_OP_TEST_WRITE:
		*(volatile u64 *)m->seq = 0x5EC0DE; /* the deliberate bug */
		return SVSM_SUCCESS;
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}

void logd_main(u64 op)
{
	struct logd_mail *m = (struct logd_mail *)LOGD_MAIL_VA;
	u64 rc = run(m, op);

	veil_logcore_head(&lc, &m->head); /* the monitor keeps it for attestation */
	leave(rc);
}
