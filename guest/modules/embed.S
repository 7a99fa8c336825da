/* SPDX-License-Identifier: MIT */
/*
 * embed.S - the module files built in guest/modules, inside the test OS's
 * read-only data (so they are OS memory the monitor may copy from). The
 * assembler finds them through -Wa,-I<build dir> (CMakeLists.txt).
 * Each file gets mod_NAME_start and mod_NAME_end.
 */
	.macro MODULE name, file
	.section .rodata.modules, "a"
	.balign 16
	.globl mod_\name\()_start, mod_\name\()_end
mod_\name\()_start:
	.incbin "\file"
mod_\name\()_end:
	.endm

	MODULE hello, "hello.ko"
	MODULE counter, "counter.ko"
	MODULE badsig, "hello-badsig.ko"
	MODULE tampered, "hello-tampered.ko"
	MODULE nosig, "hello.o"
	MODULE wrongkey, "hello-wrongkey.ko"
	MODULE unknown, "unknown.ko"
	MODULE reloc, "reloc-outside.ko"
	MODULE notelf, "not-elf.ko"
	MODULE nullalloc, "null-alloc.ko"

	.section .note.GNU-stack, "", @progbits
