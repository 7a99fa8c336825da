/* SPDX-License-Identifier: MIT */
/* launch_igvm.c - launching an IGVM file on the machine model (launch_igvm.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <veil/boot.h>
#include <veil/svsm.h>

#include "amdsp.h"
#include "hostio.h"
#include "launch_igvm.h"
#include "machine.h"
#include "measure.h"

const uint8_t *emu_launch_digest(const struct emu_machine *m)
{
	return m->launch_ms.digest;
}

/* The launch information page: the VMSA's RDI names it (launch.h). */
static int find_info(struct emu_igvm *ig, char *err, size_t errlen)
{
	const uint8_t *vmsa = igvm_vmsa(&ig->f), *page;
	uint64_t rdi = 0;

	if (vmsa)
		memcpy(&rdi, vmsa + VMSA_RDI, 8);
	if (vmsa && (page = igvm_page_data_at(&ig->f, rdi)))
		memcpy(&ig->info, page, sizeof(ig->info));
	if (ig->info.magic != VEIL_LAUNCH_MAGIC || ig->info.version != VEIL_LAUNCH_VERSION ||
	    ig->info.size != sizeof(ig->info)) {
		snprintf(err, errlen,
			 "no Veil launch information (version %d) page at the VMSA's RDI (%#llx): "
			 "not a file made by veil-igvm build",
			 VEIL_LAUNCH_VERSION, (unsigned long long)rdi);
		return -1;
	}
	ig->info.cmdline[sizeof(ig->info.cmdline) - 1] = '\0';
	return 0;
}

int emu_igvm_open(struct emu_igvm *ig, const char *path, char *err, size_t errlen)
{
	char why[200];

	memset(ig, 0, sizeof(*ig));
	if (hio_read(path, 0, &ig->buf, &ig->len, err, errlen))
		return -1; /* FIFOs, directories, empty files refused (hostio.h) */
	if (igvm_open(&ig->f, ig->buf, ig->len, why, sizeof(why)) ||
	    find_info(ig, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		emu_igvm_close(ig);
		return -1;
	}
	return 0;
}

void emu_igvm_close(struct emu_igvm *ig)
{
	free(ig->buf);
	ig->buf = NULL;
}

struct emu_igvm_launch {
	struct emu_machine *m;
	struct emu_igvm *ig;
	char *err;
	size_t errlen;
};

/* What the host (QEMU's loader) writes into parameter area idx: the vCPU
 * count and a one-entry memory map (all of guest memory is RAM). */
static void fill_params(const struct emu_igvm_launch *l, int idx, uint64_t page_off, uint8_t *page)
{
	struct igvm_params p;
	uint32_t n = l->m->cfg.nr_vcpus;
	struct veil_param_mem ram = { 0, emu_mem_size(l->m) >> 12, 0, 0, 0 };

	igvm_params_of(&l->ig->f, (uint32_t)idx, &p);
	if (p.vp_count_off >= 0 && (uint64_t)p.vp_count_off >= page_off &&
	    (uint64_t)p.vp_count_off + 4 <= page_off + 4096)
		memcpy(page + (p.vp_count_off - page_off), &n, 4);
	if (p.memmap_off >= 0 && (uint64_t)p.memmap_off >= page_off &&
	    (uint64_t)p.memmap_off + sizeof(ram) <= page_off + 4096)
		memcpy(page + (p.memmap_off - page_off), &ram, sizeof(ram));
}

/* One SNP_LAUNCH_UPDATE: place the page, make it VMPL0-private and validated
 * (lower VMPLs get no access, as the firmware leaves launched pages), and
 * extend the digest with what is now in guest memory. */
static int launch_page(void *ctx, const struct igvm_launch_page *pg)
{
	struct emu_igvm_launch *l = ctx;
	struct emu_machine *m = l->m;
	uint8_t *dst;

	if (pg->snp_type == SNP_PAGE_VMSA) {
		/* Kept outside guest memory (emu_igvm_run boots from it), as
		 * the firmware keeps a launch VMSA; measured last. */
		l->ig->vmsa = pg->data;
		snp_measure_page(&m->launch_ms, pg->gpa, pg->snp_type, pg->data, false, 0, 0, 0);
		return 0;
	}
	if (pg->snp_type == SNP_PAGE_SECRETS)
		l->ig->secrets_gpa = pg->gpa;
	if (!(dst = emu_gpa_ptr(m, pg->gpa, 4096))) {
		snprintf(l->err, l->errlen,
			 "header %u: page %#llx is outside guest memory (%llu MiB)", pg->hdr_index,
			 (unsigned long long)pg->gpa, (unsigned long long)(emu_mem_size(m) >> 20));
		return -1;
	}
	memset(dst, 0, 4096);
	if (pg->data && pg->snp_type != SNP_PAGE_SECRETS)
		memcpy(dst, pg->data, 4096);
	if (pg->param_index >= 0)
		fill_params(l, pg->param_index, pg->param_off, dst);
	emu_rmp_assign(m, pg->gpa, 4096, true);
	for (unsigned vmpl = 1; vmpl <= 3; vmpl++)
		emu_rmp_set_perms(m, pg->gpa, 4096, vmpl, 0);
	snp_measure_page(&m->launch_ms, pg->gpa, pg->snp_type, dst, false, 0, 0, 0);
	return 0;
}

/* What the emulator checks of a file before it launches it (the image
 * checks the rest): the memory size, the monitor region at the top of it
 * (veil/boot.h), a first OS image below it. */
static int check_layout(struct emu_machine *m, const struct veil_launch_info *in, char *err,
			size_t errlen)
{
	uint64_t mem = emu_mem_size(m);
	const struct veil_launch_image *im = &in->images[0];

	if (in->mem_size != mem || in->mon_base != mem - VEIL_MONITOR_SIZE) {
		snprintf(err, errlen,
			 "the file was built for %llu MiB with the monitor at %#llx; "
			 "the machine has %llu MiB",
			 (unsigned long long)(in->mem_size >> 20), (unsigned long long)in->mon_base,
			 (unsigned long long)(mem >> 20));
		return -1;
	}
	if (!in->nr_images || in->nr_images > VEIL_LAUNCH_MAX_IMAGES ||
	    im->nr_segs > VEIL_LAUNCH_MAX_SEGS || im->start < VEIL_BOOT_OS_MIN ||
	    im->end > in->mon_base || im->entry < im->start || im->entry >= im->end) {
		snprintf(err, errlen, "the launch information names no valid OS image");
		return -1;
	}
	for (unsigned i = 0; i < im->nr_segs; i++)
		if (im->segs[i].gpa < im->start || im->segs[i].len > im->end - im->segs[i].gpa) {
			snprintf(err, errlen, "OS segment %u lies outside its image", i);
			return -1;
		}
	return 0;
}

int emu_igvm_launch(struct emu_machine *m, struct emu_igvm *ig, char *err, size_t errlen)
{
	struct emu_igvm_launch l = { m, ig, err, errlen };

	if (check_layout(m, &ig->info, err, errlen))
		return -1;
	snp_measure_init(&m->launch_ms);
	err[0] = '\0';
	ig->vmsa = NULL;
	ig->secrets_gpa = 0;
	if (igvm_walk_launch(&ig->f, launch_page, &l, err, errlen))
		return -1;
	if (!ig->vmsa || !ig->secrets_gpa) {
		snprintf(err, errlen, "the file has no %s",
			 ig->vmsa ? "SECRETS page" : "VP_CONTEXT (launch VMSA)");
		return -1;
	}
	return 0;
}

int emu_igvm_run(struct emu_machine *m, const struct emu_igvm *ig, const struct emu_run_params *p,
		 struct emu_exit *out)
{
	char err[160];

	memset(&m->exit, 0, sizeof(m->exit));
	m->exit.vector = -1;
	/* The AMD-SP writes the secrets page at its LAUNCH_UPDATE (VMPCKs) and
	 * signs reports with the digest of the finished launch. */
	m->sp = amdsp_create(p->attest_seed, err, sizeof(err));
	if (!m->sp) {
		snprintf(out->message, sizeof(out->message), "%s", err);
		return -1;
	}
	amdsp_fill_secrets(m->sp, emu_gpa_ptr(m, ig->secrets_gpa, 4096));
	amdsp_set_measurement(m->sp, emu_launch_digest(m));
	if (emu_image_boot(m, ig->vmsa)) {
		snprintf(out->message, sizeof(out->message), "cannot load the file's launch VMSA");
		return -1;
	}
	m->native0 = false; /* VMPL0 is guest code: the file's image */
	emu_run_loop(m);
	*out = m->exit;
	return 0;
}

void emu_measure_elf_launch(struct emu_machine *m, const struct emu_run_params *p)
{
	uint64_t mem = emu_mem_size(m), gpa;

	snp_measure_init(&m->launch_ms);
	for (gpa = p->kernel_start; gpa < p->kernel_end; gpa += 4096)
		snp_measure_page(&m->launch_ms, gpa, SNP_PAGE_NORMAL, emu_gpa_ptr(m, gpa, 4096),
				 false, 0, 0, 0);
	for (gpa = mem - VEIL_MONITOR_SIZE; gpa < mem; gpa += 4096)
		snp_measure_page(&m->launch_ms, gpa,
				 gpa == mem - 4096 ? SNP_PAGE_SECRETS : SNP_PAGE_ZERO, NULL, false,
				 0, 0, 0);
}
