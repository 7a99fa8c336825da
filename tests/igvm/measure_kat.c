/* SPDX-License-Identifier: MIT */
/*
 * measure_kat.c - runs one fixed LAUNCH_UPDATE sequence through
 * snp_measure_page and prints each step as "type gpa imi p1 p2 p3 fill digest",
 * so measure_kat.py can recompute every PAGE_INFO step independently with
 * Python's hashlib and compare.
 */
#include <stdio.h>
#include <string.h>

#include "measure.h"

struct step {
	unsigned type;
	uint64_t gpa;
	int fill; /* page contents: every byte = fill, or -1 for no contents */
	bool imi;
	uint8_t p1, p2, p3;
};

static const struct step steps[] = {
	{ SNP_PAGE_NORMAL, 0x100000, 0xA5, false, 0, 0, 0 },
	{ SNP_PAGE_NORMAL, 0x101000, 0x00, false, 0, 0, 0 },
	{ SNP_PAGE_ZERO, 0x102000, -1, false, 0, 0, 0 },
	{ SNP_PAGE_UNMEASURED, 0x103000, -1, false, 0, 0, 0 },
	{ SNP_PAGE_SECRETS, 0x104000, -1, false, 0, 0, 0 },
	{ SNP_PAGE_CPUID, 0x105000, -1, false, 0, 0, 0 },
	{ SNP_PAGE_NORMAL, 0x7ffff000, 0x3C, true, 0x0F, 0x07, 0x01 },
	/* contents given for a secrets page must still hash as zero */
	{ SNP_PAGE_SECRETS, 0x106000, 0x77, false, 0, 0, 0 },
	{ SNP_PAGE_VMSA, SNP_VMSA_GPA, 0x5A, false, 0, 0, 0 },
};

int main(void)
{
	static uint8_t page[4096];
	struct snp_measure ms;
	char hex[2 * SNP_DIGEST_SIZE + 1];

	snp_measure_init(&ms);
	snp_measure_hex(&ms, hex);
	printf("init %s\n", hex);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];

		if (s->fill >= 0)
			memset(page, s->fill, sizeof(page));
		snp_measure_page(&ms, s->gpa, s->type, s->fill >= 0 ? page : NULL, s->imi, s->p1,
				 s->p2, s->p3);
		snp_measure_hex(&ms, hex);
		printf("%u %llx %d %u %u %u %d %s\n", s->type, (unsigned long long)s->gpa, s->imi,
		       s->p1, s->p2, s->p3, s->fill, hex);
	}
	return 0;
}
