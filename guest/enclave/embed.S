/* SPDX-License-Identifier: MIT */
/*
 * embed.S - the enclave images built here, inside the test OS's read-only
 * data (OS memory the monitor may copy from). Each gets enc_NAME_start and
 * enc_NAME_end.
 */
	.macro ENCLAVE name, file
	.section .rodata.enclaves, "a"
	.balign 16
	.globl enc_\name\()_start, enc_\name\()_end
enc_\name\()_start:
	.incbin "\file"
enc_\name\()_end:
	.endm

	ENCLAVE hello, "enclave-hello.elf"
	ENCLAVE probe, "enclave-probe.elf"
	ENCLAVE signer, "enclave-signer.elf"
	ENCLAVE hello_signed, "enclave-hello-signed.elf"

	.section .note.GNU-stack, "", @progbits
