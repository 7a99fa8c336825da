/* SPDX-License-Identifier: MIT */
/*
 * igvm_launch_state.c - the machine right after `run --igvm`'s launch (before
 * the file's VMPL0 image runs): every page of the file placed with its
 * contents, assigned, validated and private to VMPL0 (VMPL1-3 no access), as
 * SNP_LAUNCH_UPDATE leaves pages; pages outside the file untouched (not
 * validated); the parameter pages filled as QEMU's loader fills them (vCPU
 * count, a memory map of all RAM). usage: igvm_launch_state FILE VCPUS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "launch_igvm.h"

static int fails;

static void expect(int ok, const char *what, unsigned long long gpa)
{
	if (!ok) {
		printf("FAIL: %s (gpa %#llx)\n", what, gpa);
		fails++;
	}
}

static void check_page(struct emu_machine *m, const struct igvm_file *f, const struct igvm_hdr *h)
{
	static const uint8_t zero[4096];
	struct igvm_page_data pd;
	struct emu_rmp_entry e;
	const uint8_t *mem;

	memcpy(&pd, h->data, sizeof(pd));
	mem = emu_gpa_ptr(m, pd.gpa, 4096);
	expect(mem && !emu_rmp_get(m, pd.gpa, &e), "page in guest memory", pd.gpa);
	if (!mem)
		return;
	expect(e.assigned && e.validated && !e.perms[1] && !e.perms[2] && !e.perms[3],
	       "launched page assigned, validated, VMPL1-3 no access", pd.gpa);
	if (pd.data_type == IGVM_PAGE_NORMAL)
		expect(!memcmp(mem, pd.file_offset ? f->buf + pd.file_offset : zero, 4096),
		       "page holds the file's data", pd.gpa);
}

int main(int argc, char **argv)
{
	struct emu_igvm ig;
	struct emu_machine *m;
	struct emu_rmp_entry e;
	struct igvm_hdr h = { 0 };
	struct veil_param_mem mm[2];
	uint32_t pos = 0, vcpus;
	unsigned pages = 0;
	char err[256];

	if (argc != 3 || emu_igvm_open(&ig, argv[1], err, sizeof(err))) {
		fprintf(stderr, "usage: igvm_launch_state FILE VCPUS (%s)\n", argc == 3 ? err : "");
		return 2;
	}
	struct emu_config cfg = { .mem_size = ig.info.mem_size,
				  .nr_vcpus = (unsigned)atoi(argv[2]) };
	if (!(m = emu_create(&cfg, err, sizeof(err))) ||
	    emu_igvm_launch(m, &ig, err, sizeof(err))) {
		fprintf(stderr, "igvm_launch_state: %s\n", err);
		return 1;
	}
	while (igvm_next(&ig.f, &pos, &h))
		if (h.type == IGVM_VHT_PAGE_DATA) {
			check_page(m, &ig.f, &h);
			pages++;
		}
	memcpy(&vcpus, emu_gpa_ptr(m, ig.info.params_gpa + VEIL_PARAM_VP_COUNT_OFF, 4), 4);
	expect(vcpus == cfg.nr_vcpus, "the parameter page holds the loader's vCPU count",
	       ig.info.params_gpa);
	memcpy(mm, emu_gpa_ptr(m, ig.info.memmap_gpa + VEIL_PARAM_MEMMAP_OFF, sizeof(mm)),
	       sizeof(mm));
	expect(mm[0].first_page == 0 && mm[0].nr_pages == cfg.mem_size >> 12 && mm[0].type == 0 &&
		       mm[1].nr_pages == 0,
	       "the memory map page holds all RAM, then the end entry", ig.info.memmap_gpa);
	expect(!emu_rmp_get(m, 0x10000, &e) && !e.validated,
	       "pages outside the file stay unvalidated", 0x10000);
	expect(ig.vmsa && ig.secrets_gpa == ig.info.secrets_gpa,
	       "the launch found the VMSA and the secrets page the information names",
	       ig.secrets_gpa);
	for (uint64_t a = ig.info.mon_base; a < ig.info.mon_base + ig.info.mon_size; a += 4096)
		expect(!emu_rmp_get(m, a, &e) && e.validated && !e.perms[3],
		       "the whole monitor region is launched (validated, no VMPL3 access)", a);
	printf("%u pages checked, %d failure(s)\n", pages, fails);
	emu_destroy(m);
	emu_igvm_close(&ig);
	return fails ? 1 : 0;
}
