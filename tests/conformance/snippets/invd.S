/* INVD is intercepted for an SNP guest: #VC with exit code 0x76 (GHCB spec 56421, NAE events). */
#include "snp.inc"
.globl _start, insn, done
_start:
insn:
	invd
done:
	hlt
