/* Endless loop, for the instruction limit. */
#include "snp.inc"
.globl _start
_start:
	jmp _start
