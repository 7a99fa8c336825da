/* SPDX-License-Identifier: MIT */
/*
 * ghcb.h - what the VMPL0 image writes into a GHCB page itself (the console
 * and AP creation; the monitor's other requests are core code). Layout from
 * the GHCB specification (AMD 56421), section 2.5 and table 3, as
 * include/snp/arch.h defines it.
 */
#ifndef VEIL_SNP_GHCB_H
#define VEIL_SNP_GHCB_H

#include <snp/arch.h>
#include <veil/lib.h>

/* Clear the save area and the valid bitmap; set the protocol version. */
static inline void ghcb_clear(u8 *g)
{
	u16 ver = GHCB_PROTOCOL_VERSION;

	veil_memset(g, 0, GHCB_BITMAP + GHCB_BITMAP_SIZE);
	veil_memcpy(g + GHCB_VERSION, &ver, 2);
	veil_memset(g + GHCB_USAGE, 0, 4); /* GHCB_USAGE_STANDARD */
}

/* Store a save-area field and mark it valid. */
static inline void ghcb_set(u8 *g, unsigned off, u64 val)
{
	veil_st64(g + off, val);
	g[GHCB_BITMAP_BYTE(off)] |= (u8)GHCB_BITMAP_BIT(off);
}

static inline void ghcb_event_set(u8 *g, u64 code, u64 info1, u64 info2)
{
	ghcb_set(g, GHCB_EXITCODE, code);
	ghcb_set(g, GHCB_EXITINFO1, info1);
	ghcb_set(g, GHCB_EXITINFO2, info2);
}

#endif
