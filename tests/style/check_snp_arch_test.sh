#!/usr/bin/env bash
# tests/style/check_snp_arch_test.sh CHECK - scripts/check-snp-arch.sh fails
# on copies of the SNP architecture: plant one of each kind it looks for in a
# scratch tree, and require a failure naming every planted line (file:line),
# and none of the decoys (comments, unrelated numbers, the marker).
. "$(dirname "$0")/scratch.sh"
mkdir -p "$tmp/core" "$tmp/backends/emu" "$tmp/guest" "$tmp/tests/x"

cat >"$tmp/core/planted.c" <<'C'
#define VMSA_OFF_RIP 0x178
static void f(unsigned char *g, unsigned long v)
{
	veil_st64(g + 0x3A0, v);
	g[0x3F0 + 0x1F8 / 64] |= 1;
	switch (v) {
	case 0x80000018:
		break;
	case 0x014:
		break;
	}
	wrmsr(0xC0010130, v | 0x016);
}
/* decoys: a comment names 0x3A0, g + 0x1F8 and 0x80000018 */
static const int com1 = 0x3F8, tss = 0x100, leaf = 0x8000001F;
static int k = 0x178; /* snp-arch: not SNP */
C
cat >"$tmp/backends/emu/planted.h" <<'C'
enum {
	GHCB_EXITINFO2 = 0x3A0,
};
#define EMU_EXIT_IOIO 0x7B
#define EMU_PERM_XS 0x08
#define FAKE_FAIL_SIZEMISMATCH 6
#define HOST_ICPT (ICPT(0x72))
C
cat >"$tmp/guest/planted.S" <<'S'
.set G_EXITCODE, 0x390
	mov qword ptr [rdi + 0x3B0], rax
	mov eax, 0x016
	mov eax, 0x80000013
S
cat >"$tmp/tests/x/planted.py" <<'P'
RIP = struct.unpack_from("<Q", vmsa, 0x178)[0] + vmsa[0xCA]  # vmsa[0xCA] in a comment is fine
P

run_check "planted copies"
reported core/planted.c:1 core/planted.c:4 core/planted.c:5 core/planted.c:7 core/planted.c:9 \
	core/planted.c:12 backends/emu/planted.h:2 backends/emu/planted.h:4 backends/emu/planted.h:5 \
	backends/emu/planted.h:6 backends/emu/planted.h:7 guest/planted.S:1 guest/planted.S:2 \
	guest/planted.S:3 guest/planted.S:4 tests/x/planted.py:1
not_reported "a comment, an unrelated number or the marker" core/planted.c:14 core/planted.c:15 \
	core/planted.c:16
verdict "every planted copy reported, no decoy"
