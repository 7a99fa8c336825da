/* SPDX-License-Identifier: MIT */
/* enclave.h - enclaves (protocol VEIL_PROTOCOL_ENCLAVE): VMPL2 CPL3 domains. */
#ifndef VEIL_SERVICES_ENCLAVE_H
#define VEIL_SERVICES_ENCLAVE_H

#include <bearssl/bearssl_hash.h>
#include <veil/abi.h>
#include <veil/domain.h>
#include <veil/service.h>

#define VEIL_MAX_ENCLAVES 8

enum veil_enclave_state {
	ENC_FREE,
	ENC_READY, /* created and measured; may be entered */
	ENC_DEAD   /* faulted: only DESTROY is left */
};

struct veil_enclave {
	u8 state;	  /* enum veil_enclave_state */
	u32 inside;	  /* 1 + id of the vCPU running it, 0 = none (one thread) */
	u32 in_ocall;	  /* 1 + id of the vCPU whose VMSA waits for RESUME, 0 = none */
	u64 host_buf;	  /* the host's ocall buffer for this entry (an OS page), 0 = none */
	u64 ocall;	  /* GPA of the enclave's ocall page */
	u64 handle;	  /* generation << 8 | slot: stale handles never match */
	u64 pool, npages; /* the donated pages, all owned by the enclave */
	u64 used[VEIL_ENC_MAX_PAGES / 64]; /* pool pages in use */
	u64 pml4, pt, tstack;		   /* GPAs of its tables and trap stack */
	u8 measurement[48];		   /* SHA-384, see abi.h */
	br_sha384_context hash;		   /* the measurement so far (ADD extends it) */
	bool signed_image;		   /* its image carried a good veil-sign signature */
	bool entered;			   /* ADD only before the first ENTER */
	u64 heap_next, heap_pages;	   /* window page ADD maps next; pages added */
	bool interrupted;		   /* stopped by an interrupt: CONTINUE goes on */
	struct veil_domain_regs saved;	   /* its registers meanwhile (zero otherwise) */
	struct veil_domain dom;
};

struct veil_enclaves {
	u32 generation;
	u8 *scratch; /* monitor copy of the image being created */
	struct veil_enclave enc[VEIL_MAX_ENCLAVES];
};

extern const struct veil_service veil_enclave_service;

/*
 * The trusted pages every domain built like an enclave shares (layout.h):
 * the stub's code (copied into a page mapped supervisor-only at ENC_STUB_VA)
 * and the system page at ENC_SYS_VA (GDT, TSS, IDT of the trap stubs).
 */
extern const u8 veil_enclave_stub[], veil_enclave_stub_end[];
void veil_enclave_fill_system_page(u8 *sys);

/* A ring-3 domain entered and left through the enclaves' trusted stub, with
 * the system page's GDT, IDT and TSS (the log domain uses it too). */
struct veil_domain veil_enclave_domain(u8 vmpl, u8 owner, u8 id, u64 entry, u64 tls);

#endif
