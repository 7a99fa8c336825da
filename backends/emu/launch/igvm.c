/* SPDX-License-Identifier: MIT */
/* igvm.c - checking reader and SNP launch walk for IGVM files (see igvm.h). */
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "igvm.h"
#include "measure.h"

#define MAX_AREAS 16

static const struct {
	uint32_t type;
	const char *name;
	uint32_t size; /* exact content size; 0 = variable */
} types[] = {
	{ IGVM_VHT_SUPPORTED_PLATFORM, "SUPPORTED_PLATFORM",
	  sizeof(struct igvm_supported_platform) },
	{ IGVM_VHT_GUEST_POLICY, "GUEST_POLICY", sizeof(struct igvm_guest_policy) },
	{ IGVM_VHT_RELOCATABLE_REGION, "RELOCATABLE_REGION", 48 },
	{ IGVM_VHT_PAGE_TABLE_RELOCATION, "PAGE_TABLE_RELOCATION_REGION", 32 },
	{ IGVM_VHT_PARAMETER_AREA, "PARAMETER_AREA", sizeof(struct igvm_parameter_area) },
	{ IGVM_VHT_PAGE_DATA, "PAGE_DATA", sizeof(struct igvm_page_data) },
	{ IGVM_VHT_PARAMETER_INSERT, "PARAMETER_INSERT", sizeof(struct igvm_parameter_insert) },
	{ IGVM_VHT_VP_CONTEXT, "VP_CONTEXT", sizeof(struct igvm_vp_context) },
	{ IGVM_VHT_REQUIRED_MEMORY, "REQUIRED_MEMORY", sizeof(struct igvm_required_memory) },
	{ IGVM_VHT_VP_COUNT_PARAMETER, "VP_COUNT_PARAMETER", sizeof(struct igvm_parameter) },
	{ IGVM_VHT_SRAT, "SRAT", sizeof(struct igvm_parameter) },
	{ IGVM_VHT_MADT, "MADT", sizeof(struct igvm_parameter) },
	{ IGVM_VHT_MMIO_RANGES, "MMIO_RANGES", sizeof(struct igvm_parameter) },
	{ IGVM_VHT_SNP_ID_BLOCK, "SNP_ID_BLOCK", sizeof(struct igvm_snp_id_block) },
	{ IGVM_VHT_MEMORY_MAP, "MEMORY_MAP", sizeof(struct igvm_parameter) },
	{ IGVM_VHT_ERROR_RANGE, "ERROR_RANGE", 16 },
	{ IGVM_VHT_COMMAND_LINE, "COMMAND_LINE", sizeof(struct igvm_parameter) },
};

const char *igvm_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == (type & ~IGVM_VHT_IGNORABLE))
			return types[i].name;
	return "unknown";
}

static int type_size(uint32_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return (int)types[i].size;
	return -1;
}

uint32_t igvm_checksum(const uint8_t *buf, size_t hdr_end)
{
	static const uint8_t zero[4];
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, buf, 20);
	crc = crc32(crc, zero, 4); /* the checksum field counts as zero */
	crc = crc32(crc, buf + 24, (uInt)(hdr_end - 24));
	return (uint32_t)crc;
}

/* Header sections must come in this order (igvm_defs: IGVM_VHT_RANGE_*). */
static int section_of(uint32_t type)
{
	type &= ~IGVM_VHT_IGNORABLE;
	if (type >= 0x1 && type <= 0x100)
		return 0;
	if (type >= 0x101 && type <= 0x200)
		return 1;
	if (type >= 0x301 && type <= 0x400)
		return 2;
	return -1;
}

bool igvm_next(const struct igvm_file *f, uint32_t *pos, struct igvm_hdr *h)
{
	uint32_t off = *pos ? *pos : f->hdr_off;
	struct igvm_vhs_header vh;

	if (*pos == UINT32_MAX || off + 8 > f->hdr_end)
		return false;
	memcpy(&vh, f->buf + off, sizeof(vh));
	h->index = off == f->hdr_off ? 0 : h->index + 1;
	h->type = vh.type;
	h->length = vh.length;
	h->file_off = off + 8;
	h->data = f->buf + off + 8;
	off += 8 + ((vh.length + 7) & ~7u);
	*pos = off >= f->hdr_end ? UINT32_MAX : off;
	return true;
}

struct emu_checker {
	const struct igvm_file *f;
	const struct igvm_hdr *h;
	char *err;
	size_t errlen;
	uint32_t areas[MAX_AREAS]; /* declared parameter area indexes */
	bool inserted[MAX_AREAS];
	unsigned nr_areas;
	unsigned vp_contexts;
	uint32_t snp_mask;
};

static int bad(struct emu_checker *c, const char *fmt, unsigned long long v)
{
	char why[160];

	snprintf(why, sizeof(why), fmt, v);
	snprintf(c->err, c->errlen, "header %u (%s at file offset %#x): %s", c->h->index,
		 igvm_type_name(c->h->type), c->h->file_off - 8, why);
	return -1;
}

/* A 4 KiB block of file data at off: inside the file, after the headers. */
static int check_data(struct emu_checker *c, uint32_t off, const char *what)
{
	char fmt[96];

	if (!off)
		return 0;
	snprintf(fmt, sizeof(fmt), "%s file offset %%#llx is outside the file data", what);
	if (off < c->f->hdr_end || (uint64_t)off + IGVM_PAGE_SIZE > c->f->len)
		return bad(c, fmt, off);
	return 0;
}

static int find_area(struct emu_checker *c, uint32_t idx)
{
	for (unsigned i = 0; i < c->nr_areas; i++)
		if (c->areas[i] == idx)
			return (int)i;
	return -1;
}

static int check_param(struct emu_checker *c, const void *d)
{
	struct igvm_parameter p;

	memcpy(&p, d, sizeof(p));
	if (find_area(c, p.parameter_area_index) < 0)
		return bad(c, "parameter area %llu is not declared before", p.parameter_area_index);
	if (p.byte_offset >= IGVM_PAGE_SIZE * 16ULL)
		return bad(c, "byte offset %#llx is beyond any parameter area", p.byte_offset);
	return 0;
}

static int check_page_data(struct emu_checker *c, const void *d)
{
	struct igvm_page_data pd;

	memcpy(&pd, d, sizeof(pd));
	if (pd.gpa & (IGVM_PAGE_SIZE - 1))
		return bad(c, "gpa %#llx is not page aligned", pd.gpa);
	if (pd.flags & ~7u)
		return bad(c, "reserved flags set (%#llx)", pd.flags);
	if (pd.data_type > IGVM_PAGE_CPUID_XF)
		return bad(c, "unknown data type %llu", pd.data_type);
	if (pd.flags & IGVM_PAGE_FLAG_2MB)
		return bad(c, "2 MiB pages are not supported (gpa %#llx)", pd.gpa);
	return check_data(c, pd.file_offset, "page data");
}

static int check_area(struct emu_checker *c, const void *d)
{
	struct igvm_parameter_area a;

	memcpy(&a, d, sizeof(a));
	if (!a.number_of_bytes || a.number_of_bytes % IGVM_PAGE_SIZE ||
	    a.number_of_bytes > 16 * IGVM_PAGE_SIZE)
		return bad(c, "size %#llx is not 1 to 16 pages", a.number_of_bytes);
	if (find_area(c, a.parameter_area_index) >= 0)
		return bad(c, "parameter area %llu declared twice", a.parameter_area_index);
	if (c->nr_areas == MAX_AREAS)
		return bad(c, "more than %llu parameter areas", MAX_AREAS);
	if (a.file_offset && ((uint64_t)a.file_offset + a.number_of_bytes > c->f->len ||
			      a.file_offset < c->f->hdr_end))
		return bad(c, "file offset %#llx is outside the file data", a.file_offset);
	c->inserted[c->nr_areas] = false;
	c->areas[c->nr_areas++] = a.parameter_area_index;
	return 0;
}

static int check_insert(struct emu_checker *c, const void *d)
{
	struct igvm_parameter_insert in;
	int i;

	memcpy(&in, d, sizeof(in));
	if (in.gpa & (IGVM_PAGE_SIZE - 1))
		return bad(c, "gpa %#llx is not page aligned", in.gpa);
	i = find_area(c, in.parameter_area_index);
	if (i < 0)
		return bad(c, "parameter area %llu is not declared before",
			   in.parameter_area_index);
	if (c->inserted[i])
		return bad(c, "parameter area %llu is inserted twice", in.parameter_area_index);
	c->inserted[i] = true;
	return 0;
}

static int check_vp(struct emu_checker *c, const void *d)
{
	struct igvm_vp_context vp;

	memcpy(&vp, d, sizeof(vp));
	if (++c->vp_contexts > 1)
		return bad(c, "more than one VP context (a file holds only one)", 0);
	if (!vp.file_offset)
		return bad(c, "no VMSA data (file offset 0)", 0);
	return check_data(c, vp.file_offset, "VMSA");
}

static int check_platform(struct emu_checker *c, const void *d)
{
	struct igvm_supported_platform p;

	memcpy(&p, d, sizeof(p));
	if (!p.compatibility_mask || (p.compatibility_mask & (p.compatibility_mask - 1)))
		return bad(c, "compatibility mask %#llx must have exactly one bit",
			   p.compatibility_mask);
	if (p.platform_type == IGVM_PLATFORM_SEV_SNP)
		c->snp_mask |= p.compatibility_mask;
	return 0;
}

static int check_one(struct emu_checker *c)
{
	const struct igvm_hdr *h = c->h;
	int size = type_size(h->type);

	if (size < 0) {
		if (h->type & IGVM_VHT_IGNORABLE)
			return 0;
		return bad(c, "unknown header type %#llx that may not be ignored", h->type);
	}
	if (h->length != (uint32_t)size)
		return bad(c, "length %llu does not match the type", h->length);
	switch (h->type) {
	case IGVM_VHT_SUPPORTED_PLATFORM:
		return check_platform(c, h->data);
	case IGVM_VHT_PAGE_DATA:
		return check_page_data(c, h->data);
	case IGVM_VHT_PARAMETER_AREA:
		return check_area(c, h->data);
	case IGVM_VHT_PARAMETER_INSERT:
		return check_insert(c, h->data);
	case IGVM_VHT_VP_CONTEXT:
		return check_vp(c, h->data);
	case IGVM_VHT_VP_COUNT_PARAMETER:
	case IGVM_VHT_MEMORY_MAP:
	case IGVM_VHT_SRAT:
	case IGVM_VHT_MADT:
	case IGVM_VHT_MMIO_RANGES:
	case IGVM_VHT_COMMAND_LINE:
		return check_param(c, h->data);
	default:
		return 0;
	}
}

static int check_fixed(struct igvm_file *f, const uint8_t *buf, size_t len, char *err,
		       size_t errlen)
{
	struct igvm_fixed_header fh;

	if (len < sizeof(fh)) {
		snprintf(err, errlen, "fixed header: file too short (%zu bytes)", len);
		return -1;
	}
	memcpy(&fh, buf, sizeof(fh));
	if (fh.magic != IGVM_MAGIC) {
		snprintf(err, errlen, "fixed header: bad magic %#x (not an IGVM file)", fh.magic);
		return -1;
	}
	if (fh.format_version != IGVM_FORMAT_VERSION) {
		snprintf(err, errlen, "fixed header: format version %u (only 1 is supported)",
			 fh.format_version);
		return -1;
	}
	if (fh.total_file_size != len) {
		snprintf(err, errlen, "fixed header: total file size %u but the file has %zu bytes",
			 fh.total_file_size, len);
		return -1;
	}
	if (fh.variable_header_offset < sizeof(fh) || fh.variable_header_offset % 8 ||
	    fh.variable_header_size < 8 ||
	    (uint64_t)fh.variable_header_offset + fh.variable_header_size > len) {
		snprintf(err, errlen,
			 "fixed header: variable headers at %#x+%#x are out of the file",
			 fh.variable_header_offset, fh.variable_header_size);
		return -1;
	}
	f->buf = buf;
	f->len = len;
	f->hdr_off = fh.variable_header_offset;
	f->hdr_end = fh.variable_header_offset + fh.variable_header_size;
	if (igvm_checksum(buf, f->hdr_end) != fh.checksum) {
		snprintf(err, errlen, "fixed header: checksum %#x does not match the headers (%#x)",
			 fh.checksum, igvm_checksum(buf, f->hdr_end));
		return -1;
	}
	return 0;
}

int igvm_open(struct igvm_file *f, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct emu_checker c = { .f = f, .err = err, .errlen = errlen };
	struct igvm_hdr h = { 0 };
	uint32_t pos = 0;
	int section = 0;

	if (check_fixed(f, buf, len, err, errlen))
		return -1;
	c.h = &h;
	while (igvm_next(f, &pos, &h)) {
		int s = section_of(h.type);

		if ((uint64_t)h.file_off + h.length > f->hdr_end)
			return bad(&c, "length %llu runs past the variable headers", h.length);
		if (s < 0 && !(h.type & IGVM_VHT_IGNORABLE))
			return bad(&c, "header type %#llx is in no section", h.type);
		if (s >= 0 && s < section)
			return bad(&c, "a section-%llu header after a later section", (unsigned)s);
		section = s > section ? s : section;
		for (uint32_t i = h.length; i < ((h.length + 7) & ~7u); i++)
			if (h.file_off + i < f->hdr_end && f->buf[h.file_off + i])
				return bad(&c, "non-zero padding byte at %#llx", h.file_off + i);
		if (check_one(&c))
			return -1;
		if (pos != UINT32_MAX && pos + 8 > f->hdr_end)
			return bad(&c, "%llu trailing bytes after the header", f->hdr_end - pos);
	}
	if (!c.snp_mask) {
		snprintf(err, errlen, "no SUPPORTED_PLATFORM header for SEV-SNP");
		return -1;
	}
	return 0;
}

static uint32_t snp_mask(const struct igvm_file *f)
{
	struct igvm_supported_platform p;
	struct igvm_hdr h = { 0 };
	uint32_t pos = 0, mask = 0;

	while (igvm_next(f, &pos, &h)) {
		if (h.type != IGVM_VHT_SUPPORTED_PLATFORM)
			continue;
		memcpy(&p, h.data, sizeof(p));
		if (p.platform_type == IGVM_PLATFORM_SEV_SNP)
			mask |= p.compatibility_mask;
	}
	return mask;
}

uint64_t igvm_policy(const struct igvm_file *f)
{
	struct igvm_guest_policy gp;
	struct igvm_hdr h = { 0 };
	uint32_t pos = 0, mask = snp_mask(f);

	while (igvm_next(f, &pos, &h)) {
		if (h.type != IGVM_VHT_GUEST_POLICY)
			continue;
		memcpy(&gp, h.data, sizeof(gp));
		if (gp.compatibility_mask & mask)
			return gp.policy;
	}
	return 0;
}

void igvm_params_of(const struct igvm_file *f, uint32_t idx, struct igvm_params *p)
{
	struct igvm_parameter prm;
	struct igvm_parameter_area a;
	struct igvm_hdr h = { 0 };
	uint32_t pos = 0;

	*p = (struct igvm_params){ .vp_count_off = -1, .memmap_off = -1 };
	while (igvm_next(f, &pos, &h)) {
		if (h.type == IGVM_VHT_PARAMETER_AREA) {
			memcpy(&a, h.data, sizeof(a));
			if (a.parameter_area_index == idx)
				p->area_size = a.number_of_bytes;
			continue;
		}
		if (h.type != IGVM_VHT_VP_COUNT_PARAMETER && h.type != IGVM_VHT_MEMORY_MAP)
			continue;
		memcpy(&prm, h.data, sizeof(prm));
		if (prm.parameter_area_index != idx)
			continue;
		if (h.type == IGVM_VHT_VP_COUNT_PARAMETER)
			p->vp_count_off = (int)prm.byte_offset;
		else
			p->memmap_off = (int)prm.byte_offset;
	}
}

static const uint8_t zero_page[IGVM_PAGE_SIZE];

static unsigned snp_type_of(const struct igvm_page_data *pd)
{
	switch (pd->data_type) {
	case IGVM_PAGE_SECRETS:
		return SNP_PAGE_SECRETS;
	case IGVM_PAGE_CPUID_DATA:
	case IGVM_PAGE_CPUID_XF:
		return SNP_PAGE_CPUID;
	default:
		if (pd->flags & IGVM_PAGE_FLAG_UNMEASURED)
			return SNP_PAGE_UNMEASURED;
		/* A page without file data is CGS_PAGE_TYPE_ZERO in QEMU's loader,
		 * which target/i386/sev.c (cgs_set_guest_state) hands to
		 * launch_update_data like a NORMAL page: for SNP that is
		 * KVM_SEV_SNP_PAGE_TYPE_NORMAL, so the firmware hashes the
		 * page of zeros. SNP_PAGE_ZERO is never used by that loader. */
		return SNP_PAGE_NORMAL;
	}
}

static int walk_fail(char *err, size_t errlen, const struct igvm_hdr *h, const char *why)
{
	snprintf(err, errlen, "header %u (%s at file offset %#x): %s", h->index,
		 igvm_type_name(h->type), h->file_off - 8, why);
	return -1;
}

static int walk_area(const struct igvm_file *f, const struct igvm_hdr *h, uint32_t mask,
		     igvm_page_fn fn, void *ctx)
{
	struct igvm_parameter_insert in;
	struct igvm_params p;
	int rc = 0;

	memcpy(&in, h->data, sizeof(in));
	if (!(in.compatibility_mask & mask))
		return 0;
	igvm_params_of(f, in.parameter_area_index, &p);
	for (uint64_t off = 0; off < p.area_size && !rc; off += IGVM_PAGE_SIZE) {
		struct igvm_launch_page pg = { .gpa = in.gpa + off,
					       .snp_type = SNP_PAGE_UNMEASURED,
					       .param_index = (int)in.parameter_area_index,
					       .param_off = off,
					       .hdr_index = h->index };
		rc = fn(ctx, &pg);
	}
	return rc;
}

int igvm_walk_launch(const struct igvm_file *f, igvm_page_fn fn, void *ctx, char *err,
		     size_t errlen)
{
	struct igvm_hdr h = { 0 }, vp_hdr = { 0 };
	struct igvm_vp_context vp;
	uint32_t pos = 0, mask = snp_mask(f);
	bool have_vp = false;
	int rc;

	while (igvm_next(f, &pos, &h)) {
		if (h.type == IGVM_VHT_PAGE_DATA) {
			struct igvm_page_data pd;
			struct igvm_launch_page pg = { .param_index = -1, .hdr_index = h.index };

			memcpy(&pd, h.data, sizeof(pd));
			if (!(pd.compatibility_mask & mask))
				continue;
			if (pd.flags & IGVM_PAGE_FLAG_SHARED)
				return walk_fail(err, errlen, &h,
						 "shared pages are not part of an SNP launch");
			pg.gpa = pd.gpa;
			pg.snp_type = snp_type_of(&pd);
			pg.data = pd.file_offset ? f->buf + pd.file_offset : zero_page;
			if ((rc = fn(ctx, &pg)))
				return rc;
		} else if (h.type == IGVM_VHT_PARAMETER_INSERT) {
			if ((rc = walk_area(f, &h, mask, fn, ctx)))
				return rc;
		} else if (h.type == IGVM_VHT_VP_CONTEXT) {
			memcpy(&vp, h.data, sizeof(vp));
			if (!(vp.compatibility_mask & mask))
				continue;
			if (vp.gpa != SNP_VMSA_GPA)
				return walk_fail(err, errlen, &h,
						 "the VMSA must be at GPA 0xFFFFFFFFF000 "
						 "(QEMU's loader and the firmware's VMSA GPA)");
			/* Measured last wherever it stands: the host adds VMSAs at
			 * SNP_LAUNCH_FINISH, after all data pages. */
			have_vp = true;
			vp_hdr = h;
		}
	}
	if (!have_vp) {
		snprintf(err, errlen, "no VP_CONTEXT (VMSA) for SEV-SNP");
		return -1;
	}
	struct igvm_launch_page pg = { .gpa = SNP_VMSA_GPA,
				       .snp_type = SNP_PAGE_VMSA,
				       .data = f->buf + vp.file_offset,
				       .param_index = -1,
				       .vp_index = vp.vp_index,
				       .hdr_index = vp_hdr.index };
	return fn(ctx, &pg);
}

const uint8_t *igvm_page_data_at(const struct igvm_file *f, uint64_t gpa)
{
	struct igvm_hdr h = { 0 };
	struct igvm_page_data pd;
	uint32_t pos = 0;

	while (igvm_next(f, &pos, &h)) {
		if (h.type != IGVM_VHT_PAGE_DATA)
			continue;
		memcpy(&pd, h.data, sizeof(pd));
		if (pd.gpa == gpa)
			return pd.file_offset ? f->buf + pd.file_offset : NULL;
	}
	return NULL;
}

const uint8_t *igvm_vmsa(const struct igvm_file *f)
{
	struct igvm_hdr h = { 0 };
	struct igvm_vp_context vp = { 0 };
	uint32_t pos = 0;

	while (igvm_next(f, &pos, &h))
		if (h.type == IGVM_VHT_VP_CONTEXT)
			memcpy(&vp, h.data, sizeof(vp));
	return vp.file_offset ? f->buf + vp.file_offset : NULL;
}
