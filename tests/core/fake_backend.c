/* SPDX-License-Identifier: MIT */
/* fake_backend.c - the in-memory backend of the core unit tests (see the header). */
#define _DEFAULT_SOURCE
#include "fake_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE VEIL_PAGE_SIZE
#define PAGES_2M 512

static void die(const char *what, u64 gpa)
{
	fprintf(stderr, "fake_backend: %s (gpa %#llx)\n", what, (unsigned long long)gpa);
	abort();
}

static struct fake_vcpu *vcpu_of(struct veil_backend *b)
{
	return b->priv;
}

/* ---- log and injection ---------------------------------------------------- */

static usize log_add(struct fake_machine *m, enum fake_op op, u32 vcpu, u64 gpa, bool huge, u64 arg)
{
	struct fake_log *l;

	if (m->log_len == m->log_cap) {
		usize cap = m->log_cap ? m->log_cap * 2 : 256;
		struct fake_log *n = realloc(m->log, cap * sizeof(*n));

		if (!n)
			die("out of memory for the log", gpa);
		m->log = n;
		m->log_cap = cap;
	}
	l = &m->log[m->log_len];
	memset(l, 0, sizeof(*l));
	l->op = op;
	l->vcpu = vcpu;
	l->gpa = gpa;
	l->huge = huge;
	l->arg = arg;
	if (gpa < m->mem_size)
		l->before = m->rmp[gpa / PAGE];
	return m->log_len++;
}

/* A rule that makes this call fail: returns true and sets *rc. */
static bool injected(struct fake_machine *m, enum fake_op op, u64 gpa, u64 len, unsigned vmpl,
		     int *rc)
{
	unsigned i;

	for (i = 0; i < m->nr_rules; i++) {
		struct fake_rule *r = &m->rules[i];

		if (r->op != op || r->times == 0)
			continue;
		if (r->gpa != FAKE_ANY && (r->gpa < gpa || r->gpa - gpa >= len))
			continue;
		if (r->vmpl && r->vmpl != vmpl)
			continue;
		if (r->skip) {
			r->skip--;
			continue;
		}
		if (r->times > 0)
			r->times--;
		*rc = r->rc;
		return true;
	}
	return false;
}

/* ---- RMP ------------------------------------------------------------------ */

static void protect(struct fake_machine *m, u64 pfn)
{
	int prot = !m->trap_unvalidated || m->rmp[pfn].validated ? PROT_READ | PROT_WRITE :
								   PROT_NONE;

	if (mprotect(m->mem + pfn * PAGE, PAGE, prot))
		die("mprotect", pfn * PAGE);
}

/* The hypervisor's PSMASH after an NPF(SIZEM): split the 2 MiB entry. */
static void psmash(struct fake_machine *m, u64 pfn)
{
	u64 first = pfn & ~(u64)(PAGES_2M - 1), i;

	for (i = 0; i < PAGES_2M; i++)
		m->rmp[first + i].huge = 0;
	m->psmash++;
}

/* The entry exists and belongs to the guest; otherwise #VMEXIT(NPF). */
static bool rmp_covered(struct fake_machine *m, u64 gpa, u64 size)
{
	if (!veil_range_within(gpa, size, 0, m->mem_size) || !m->rmp[gpa / PAGE].assigned) {
		m->faults++;
		return false;
	}
	return true;
}

static int do_rmpadjust(struct fake_machine *m, u64 gpa, bool huge, u64 attrs)
{
	unsigned vmpl = attrs & 0xFF, v;
	u8 perms = (attrs >> 8) & 0xFF;
	bool vmsa = (attrs >> 16) & 1;
	u64 size = huge ? VEIL_HUGE_SIZE : PAGE, pfn, i, n;
	int rc;

	if (injected(m, FAKE_OP_RMPADJUST, gpa, size, vmpl, &rc))
		return rc;
	if (!veil_aligned(gpa, size) || (attrs >> 17) || (perms & 0xE0))
		return RMP_FAIL_INPUT;
	if (vmpl == 0) /* TARGET_VMPL <= CURRENT_VMPL */
		return RMP_FAIL_PERMISSION;
	if (vmpl > 3)
		return RMP_FAIL_INPUT;
	if (!rmp_covered(m, gpa, size))
		return RMP_FAIL_INPUT;
	pfn = gpa / PAGE;
	if (huge && !m->rmp[pfn].huge)
		return RMP_FAIL_SIZEMISMATCH;
	if (!huge && m->rmp[pfn].huge)
		psmash(m, pfn);
	n = huge ? PAGES_2M : 1;
	for (i = 0; i < n; i++) {
		struct fake_rmp *e = &m->rmp[pfn + i];
		bool was_vmsa = e->vmsa, writable = false;

		if ((e->perms[vmpl] & RMP_PERM_W) && !(perms & RMP_PERM_W))
			m->stale_w[pfn + i] |= (u8)(1u << vmpl);
		e->perms[vmpl] = perms;
		e->vmsa = vmsa;
		for (v = 1; v <= 3; v++)
			writable |= (e->perms[v] & RMP_PERM_W) != 0;
		if (vmsa && writable)
			m->vmsa_writable++;
		if (vmsa && !was_vmsa && m->stale_w[pfn + i])
			m->vmsa_stale_tlb++;
	}
	return RMP_SUCCESS;
}

static int do_pvalidate(struct fake_machine *m, u64 gpa, bool huge, bool validate, bool *unchanged)
{
	u64 size = huge ? VEIL_HUGE_SIZE : PAGE, pfn, i, n;
	int rc;

	*unchanged = false;
	if (injected(m, FAKE_OP_PVALIDATE, gpa, size, 0, &rc))
		return rc;
	if (!veil_aligned(gpa, size))
		return RMP_FAIL_INPUT;
	if (!rmp_covered(m, gpa, size))
		return RMP_FAIL_INPUT;
	pfn = gpa / PAGE;
	if (huge && !m->rmp[pfn].huge)
		return RMP_FAIL_SIZEMISMATCH;
	if (!huge && m->rmp[pfn].huge)
		psmash(m, pfn);
	if (!!m->rmp[pfn].validated == validate) {
		*unchanged = true; /* RFLAGS.CF = 1 */
		return RMP_SUCCESS;
	}
	n = huge ? PAGES_2M : 1;
	for (i = 0; i < n; i++) {
		m->rmp[pfn + i].validated = validate;
		protect(m, pfn + i);
	}
	return RMP_SUCCESS;
}

/* ---- the ops ---------------------------------------------------------------- */

static int op_rmpadjust(struct veil_backend *b, u64 gpa, bool huge, u64 attrs)
{
	struct fake_vcpu *v = vcpu_of(b);
	usize l = log_add(v->m, FAKE_OP_RMPADJUST, v->id, gpa, huge, attrs);
	int rc = do_rmpadjust(v->m, gpa, huge, attrs);

	v->m->log[l].rc = rc;
	return rc;
}

static int op_pvalidate(struct veil_backend *b, u64 gpa, bool huge, bool validate, bool *unchanged)
{
	struct fake_vcpu *v = vcpu_of(b);
	usize l = log_add(v->m, FAKE_OP_PVALIDATE, v->id, gpa, huge, validate);
	int rc = do_pvalidate(v->m, gpa, huge, validate, unchanged);

	v->m->log[l].rc = rc;
	v->m->log[l].unchanged = *unchanged;
	return rc;
}

static u64 op_ghcb_msr_read(struct veil_backend *b)
{
	return vcpu_of(b)->ghcb_msr;
}

static void op_ghcb_msr_write(struct veil_backend *b, u64 val)
{
	vcpu_of(b)->ghcb_msr = val;
}

static void op_vmgexit(struct veil_backend *b)
{
	struct fake_vcpu *v = vcpu_of(b);

	log_add(v->m, FAKE_OP_VMGEXIT, v->id, v->ghcb_msr, false, 0);
	v->m->vmgexits++;
	if (GHCB_MSR_INFO(v->ghcb_msr) == GHCB_MSR_TERM_REQ && v->m->on_terminate) {
		v->m->term_req = v->ghcb_msr;
		longjmp(*v->m->on_terminate, 1);
	}
}

static void *op_map(struct veil_backend *b, u64 gpa, u64 len)
{
	struct fake_vcpu *v = vcpu_of(b);
	struct fake_machine *m = v->m;
	usize l = log_add(m, FAKE_OP_MAP, v->id, gpa, false, len);
	int rc;

	if (!len || !veil_range_within(gpa, len, 0, m->mem_size) ||
	    injected(m, FAKE_OP_MAP, gpa, len, 0, &rc)) {
		m->log[l].rc = 1;
		return NULL;
	}
	return m->mem + gpa;
}

/* The shared view: only of a page the guest has rescinded (not validated),
 * as a GHCB is before the monitor hands it to the hypervisor. */
static void *op_map_shared(struct veil_backend *b, u64 gpa, u64 len)
{
	struct fake_vcpu *v = vcpu_of(b);
	struct fake_machine *m = v->m;
	usize l = log_add(m, FAKE_OP_MAP_SHARED, v->id, gpa, false, len);
	u64 pfn;

	if (!len || !veil_range_within(gpa, len, 0, m->mem_size)) {
		m->log[l].rc = 1;
		return NULL;
	}
	for (pfn = gpa / VEIL_PAGE_SIZE; pfn <= (gpa + len - 1) / VEIL_PAGE_SIZE; pfn++) {
		if (m->rmp[pfn].validated) {
			m->log[l].rc = 1;
			return NULL;
		}
	}
	return m->mem + gpa;
}

static void op_tlb_flush(struct veil_backend *b)
{
	struct fake_vcpu *v = vcpu_of(b);

	log_add(v->m, FAKE_OP_TLB_FLUSH, v->id, FAKE_ANY, false, 0);
	v->m->tlb_flushes++;
	memset(v->m->stale_w, 0, v->m->nr_pages);
}

static void op_console_write(struct veil_backend *b, const char *s, usize len)
{
	struct fake_machine *m = vcpu_of(b)->m;
	usize room = sizeof(m->console) - 1 - m->console_len;

	if (len > room)
		len = room;
	memcpy(m->console + m->console_len, s, len);
	m->console_len += len;
	m->console[m->console_len] = 0;
}

static u64 op_rdtsc(struct veil_backend *b)
{
	return vcpu_of(b)->m->tsc += 100;
}

static u32 op_vcpu_id(struct veil_backend *b)
{
	return vcpu_of(b)->id;
}

static void op_trace(struct veil_backend *b, u32 event, u64 a, u64 c, u64 d, u64 e)
{
	struct fake_machine *m = vcpu_of(b)->m;

	(void)a;
	(void)c;
	(void)d;
	(void)e;
	m->traces++;
	m->last_trace_event = event;
}

static const struct veil_backend_ops fake_ops = {
	.rmpadjust = op_rmpadjust,
	.pvalidate = op_pvalidate,
	.ghcb_msr_read = op_ghcb_msr_read,
	.ghcb_msr_write = op_ghcb_msr_write,
	.vmgexit = op_vmgexit,
	.map = op_map,
	.map_shared = op_map_shared,
	.tlb_flush = op_tlb_flush,
	.console_write = op_console_write,
	.rdtsc = op_rdtsc,
	.vcpu_id = op_vcpu_id,
	.trace = op_trace,
};

/* ---- set-up and inspection ------------------------------------------------------ */

struct fake_machine *fake_create(u64 mem_size, u32 nr_vcpus)
{
	struct fake_machine *m;
	u64 pfn;
	u32 i;

	if (!mem_size || !veil_aligned(mem_size, VEIL_HUGE_SIZE) || !nr_vcpus ||
	    nr_vcpus > FAKE_MAX_VCPUS)
		die("bad machine shape", mem_size);
	m = calloc(1, sizeof(*m));
	if (!m)
		die("out of memory", 0);
	m->mem_size = mem_size;
	m->nr_pages = mem_size / PAGE;
	m->mem = mmap(NULL, mem_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m->rmp = calloc(m->nr_pages, sizeof(*m->rmp));
	m->stale_w = calloc(m->nr_pages, 1);
	if (m->mem == MAP_FAILED || !m->rmp || !m->stale_w)
		die("out of memory", mem_size);
	m->trap_unvalidated = true;
	for (pfn = 0; pfn < m->nr_pages; pfn++) {
		m->rmp[pfn].assigned = 1;
		m->rmp[pfn].perms[0] = 0x1F;
	}
	m->nr_vcpus = nr_vcpus;
	for (i = 0; i < nr_vcpus; i++) {
		m->vcpus[i].be.ops = &fake_ops;
		m->vcpus[i].be.priv = &m->vcpus[i];
		m->vcpus[i].m = m;
		m->vcpus[i].id = i;
	}
	return m;
}

void fake_destroy(struct fake_machine *m)
{
	if (!m)
		return;
	munmap(m->mem, m->mem_size);
	free(m->rmp);
	free(m->stale_w);
	free(m->log);
	free(m);
}

struct veil_backend *fake_be(struct fake_machine *m, u32 id)
{
	if (id >= m->nr_vcpus)
		die("no such vCPU", id);
	return &m->vcpus[id].be;
}

void *fake_ptr(struct fake_machine *m, u64 gpa)
{
	if (gpa >= m->mem_size)
		die("fake_ptr out of range", gpa);
	return m->mem + gpa;
}

const struct fake_rmp *fake_rmp(const struct fake_machine *m, u64 gpa)
{
	if (gpa >= m->mem_size)
		die("fake_rmp out of range", gpa);
	return &m->rmp[gpa / PAGE];
}

void fake_set_validated(struct fake_machine *m, u64 gpa, bool validated)
{
	u64 pfn = gpa / PAGE;

	if (gpa >= m->mem_size)
		die("fake_set_validated out of range", gpa);
	m->rmp[pfn].validated = validated;
	protect(m, pfn);
}

void fake_set_huge(struct fake_machine *m, u64 gpa_2m, bool huge)
{
	u64 i;

	if (!veil_aligned(gpa_2m, VEIL_HUGE_SIZE) || gpa_2m >= m->mem_size)
		die("fake_set_huge: bad 2 MiB page", gpa_2m);
	for (i = 0; i < PAGES_2M; i++)
		m->rmp[gpa_2m / PAGE + i].huge = huge;
}

void fake_set_trap(struct fake_machine *m, bool on)
{
	u64 pfn;

	m->trap_unvalidated = on;
	for (pfn = 0; pfn < m->nr_pages; pfn++)
		protect(m, pfn);
}

void fake_inject(struct fake_machine *m, enum fake_op op, u64 gpa, unsigned vmpl, int rc,
		 unsigned skip, int times)
{
	if (m->nr_rules == FAKE_MAX_RULES)
		die("too many injection rules", gpa);
	m->rules[m->nr_rules++] = (struct fake_rule){ op, gpa, vmpl, rc, skip, times };
}

void fake_clear_rules(struct fake_machine *m)
{
	m->nr_rules = 0;
}

void fake_log_clear(struct fake_machine *m)
{
	m->log_len = 0;
}

long fake_log_find(const struct fake_machine *m, usize from, enum fake_op op, u64 gpa, int vmpl,
		   int perms_or_validate)
{
	usize i;

	for (i = from; i < m->log_len; i++) {
		const struct fake_log *l = &m->log[i];

		if (l->op != op || (gpa != FAKE_ANY && l->gpa != gpa))
			continue;
		if (op == FAKE_OP_RMPADJUST) {
			if (vmpl && (int)(l->arg & 0xFF) != vmpl)
				continue;
			if (perms_or_validate >= 0 &&
			    (int)((l->arg >> 8) & 0xFF) != perms_or_validate)
				continue;
		} else if (op == FAKE_OP_PVALIDATE) {
			if (perms_or_validate >= 0 && (int)l->arg != perms_or_validate)
				continue;
		}
		return (long)i;
	}
	return -1;
}

usize fake_log_count(const struct fake_machine *m, enum fake_op op)
{
	usize i, n = 0;

	for (i = 0; i < m->log_len; i++)
		n += m->log[i].op == op;
	return n;
}
