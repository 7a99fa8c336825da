/* SPDX-License-Identifier: MIT */
/*
 * logdump.c - the test OS as a client of the secure log (VEIL_PROTOCOL_LOG):
 * APPEND, HEAD and READ, the dump to COM2, and the log scenarios (names and
 * expectations: README.md).
 *
 * A dump (docs/log-format.md) is the header from HEAD, exactly `count` records
 * as READ copies them out, and no sections. It goes to COM2 (0x2F8) as string
 * I/O through the GHCB: one IOIO event carries up to 2032 bytes from the GHCB
 * shared buffer, where OUTSB through #VC would cost one event per byte.
 */
#include <veil/logdump.h>

#include "kernel.h"

#define COM2 0x2F8

/* Failures of the OS-side checks, outside the SVSM result space. */
#define LOG_BAD_READ 0x4000000000000001ULL /* READ returned nothing or too much */
#define LOG_BAD_SEQ 0x4000000000000002ULL  /* a record out of sequence */
#define LOG_BAD_DATA 0x4000000000000003ULL /* a record that is not what was appended */

#define REC_SIZE(len) (sizeof(struct veil_log_record) + (((uint64_t)(len) + 7) & ~7ULL))

static uint8_t read_buf[16384] ALIGNED(4096);

/* ---- calls ---------------------------------------------------------------- */

static uint64_t log_call(uint32_t call, uint64_t rcx, uint64_t rdx, uint64_t r8,
			 struct svsm_call_out *o)
{
	return svsm_call(this_cpu()->caa, VEIL_PROTOCOL_LOG, call, rcx, rdx, r8, 0, o);
}

/* Buffers are named by GPA: kernel memory is identity-mapped. */
uint64_t log_append(const void *p, uint32_t len, uint64_t *seq)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = log_call(VEIL_LOG_APPEND, (uint64_t)p, len, 0, &o);

	*seq = o.rcx;
	return rc;
}

uint64_t log_head(struct veil_log_head *h)
{
	return log_call(VEIL_LOG_HEAD, (uint64_t)h, 0, 0, 0);
}

typedef uint64_t (*rec_fn)(const struct veil_log_record *r, const char *payload, void *ctx);

/* Records [from, to) in order, each checked for its sequence number. */
static uint64_t log_walk(uint64_t from, uint64_t to, rec_fn fn, void *ctx)
{
	struct svsm_call_out o;
	uint64_t seq = from, off, rc;

	while (seq < to) {
		rc = log_call(VEIL_LOG_READ, seq, (uint64_t)read_buf, sizeof(read_buf), &o);
		if (rc)
			return rc;
		if (!o.rcx || o.rdx > sizeof(read_buf) || o.r8 != seq + o.rcx)
			return LOG_BAD_READ;
		for (off = 0; off < o.rdx && seq < to; seq++) {
			const struct veil_log_record *r = (const void *)(read_buf + off);

			if (r->seq != seq)
				return LOG_BAD_SEQ;
			rc = fn ? fn(r, (const char *)(r + 1), ctx) : 0;
			if (rc)
				return rc;
			off += REC_SIZE(r->len);
		}
	}
	return 0;
}

/* ---- COM2 through GHCB string I/O ----------------------------------------- */

static struct {
	uint8_t buf[GHCB_BUFFER_SIZE];
	size_t n;
	uint64_t bytes;
	bool failed;
} com2;

static void com2_flush(void)
{
	volatile uint8_t *g = this_cpu()->ghcb;
	uint64_t info1 = ((uint64_t)COM2 << SVM_IOIO_PORT_SHIFT) | SVM_IOIO_SZ8 | SVM_IOIO_STR |
			 SVM_IOIO_REP | SVM_IOIO_A64,
		 rc;

	if (!com2.n)
		return;
	memcpy((void *)(g + GHCB_BUFFER), com2.buf, com2.n);
	ghcb_clear(g);
	ghcb_set(g, GHCB_SCRATCH, (uint64_t)g + GHCB_BUFFER);
	rc = ghcb_hv_call(g, (uint64_t)g, SVM_EXIT_IOIO, info1, com2.n);
	if ((uint32_t)rc != GHCB_RESULT_OK)
		com2.failed = true;
	com2.bytes += com2.n;
	com2.n = 0;
}

static void com2_put(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t k;

	while (n) {
		k = sizeof(com2.buf) - com2.n < n ? sizeof(com2.buf) - com2.n : n;
		memcpy(com2.buf + com2.n, s, k);
		com2.n += k;
		s += k;
		n -= k;
		if (com2.n == sizeof(com2.buf))
			com2_flush();
	}
}

static uint64_t dump_record(const struct veil_log_record *r, const char *payload, void *ctx)
{
	(void)payload;
	(void)ctx;
	com2_put(r, REC_SIZE(r->len));
	return 0;
}

/* The whole log as of one HEAD: later appends are not part of this dump. */
int log_dump(void)
{
	struct veil_log_dump_hdr hdr = { .magic = VEIL_LOG_DUMP_MAGIC,
					 .version = VEIL_LOG_DUMP_VERSION };
	static struct veil_log_report_section sec;
	struct veil_log_dump_section sh = { VEIL_LOG_SECTION_REPORT, sizeof(sec) };
	bool attested = cmdline_num("log-attest", 0) != 0; /* the head, vouched for */
	struct veil_log_head h;
	uint64_t rc = attested ? (uint64_t)attest_log_head(&h, &sec) : log_head(&h);

	if (rc)
		return -1;
	hdr.sections = attested;
	hdr.count = h.count;
	hdr.drops = h.drops;
	hdr.capacity = h.capacity;
	hdr.used = h.used;
	memcpy(hdr.head, h.head, sizeof(hdr.head));
	com2.n = 0;
	com2.bytes = 0;
	com2.failed = false;
	com2_put(&hdr, sizeof(hdr));
	rc = log_walk(0, h.count, dump_record, 0);
	if (attested) {
		com2_put(&sh, sizeof(sh));
		com2_put(&sec, sizeof(sec));
	}
	com2_flush();
	kprintf("log-dump: %lu records (%lu dropped), %lu bytes to COM2\n", h.count, h.drops,
		com2.bytes);
	return rc || com2.failed ? -1 : 0;
}

int log_dump_checked(void)
{
	int rc = log_dump();

	check("log-dump", rc == 0, (uint64_t)rc);
	return rc;
}

/* ---- log-dump: a few records, then the dump -------------------------------- */

#define DUMP_RECORDS 5

static int log_dump_scenario(void)
{
	struct veil_log_head h0, h1;
	char line[80];
	uint64_t seq, first = 0, rc = 0, i;
	size_t n;

	if (log_head(&h0))
		return -1;
	for (i = 0; i < DUMP_RECORDS && !rc; i++) {
		n = ksnprintf(line, sizeof(line), "log-dump: record %lu of %u from cpu %u", i + 1,
			      DUMP_RECORDS, this_cpu()->id);
		rc = log_append(line, (uint32_t)n, &seq);
		if (!i)
			first = seq;
		else if (!rc && seq != first + i)
			rc = LOG_BAD_SEQ;
	}
	check("log-append", !rc && first == h0.count, rc ? rc : first);
	rc = log_head(&h1);
	check("log-head", !rc && h1.count == h0.count + DUMP_RECORDS && h1.drops == h0.drops,
	      rc ? rc : h1.count);
	return log_dump_checked();
}

/* ---- refusals ------------------------------------------------------------- */

static uint64_t mon_base, mon_page, buf_page;

static uint64_t append_raw(uint64_t gpa, uint64_t len)
{
	return log_call(VEIL_LOG_APPEND, gpa, len, 0, 0);
}

static uint64_t read_raw(uint64_t seq, uint64_t gpa, uint64_t len)
{
	return log_call(VEIL_LOG_READ, seq, gpa, len, 0);
}

static uint64_t ap_oversized(void)
{
	return append_raw(buf_page, VEIL_LOG_MAX_RECORD + 1);
}

/* A monitor that took the length as 32 bits would see 8. */
static uint64_t ap_len_high(void)
{
	return append_raw(buf_page, (1ULL << 32) | 8);
}

static uint64_t ap_zero(void)
{
	return append_raw(buf_page, 0);
}

static uint64_t ap_wrap(void)
{
	return append_raw(~0ULL - 15, 32);
}

static uint64_t ap_monitor(void)
{
	return append_raw(mon_page, 64);
}

static uint64_t ap_beyond(void)
{
	return append_raw(boot.mem_size, 64);
}

/* Starts in the last OS page, ends in the monitor's first. */
static uint64_t ap_straddle(void)
{
	return append_raw(mon_base - 32, 64);
}

/* The GHCB page: OS-owned but shared with the hypervisor, so not validated. */
static uint64_t ap_shared(void)
{
	return append_raw((uint64_t)this_cpu()->ghcb, 64);
}

/* Between the boot area and VEIL_BOOT_OS_MIN: no range gives it to anyone. */
static uint64_t ap_unowned(void)
{
	return append_raw(VEIL_BOOT_AREA_END, 64);
}

static uint64_t hd_unaligned(void)
{
	return log_call(VEIL_LOG_HEAD, buf_page + 4, 0, 0, 0);
}

static uint64_t hd_monitor(void)
{
	return log_call(VEIL_LOG_HEAD, mon_page, 0, 0, 0);
}

static uint64_t hd_beyond(void)
{
	return log_call(VEIL_LOG_HEAD, boot.mem_size, 0, 0, 0);
}

static uint64_t hd_wrap(void)
{
	return log_call(VEIL_LOG_HEAD, ~0ULL - 7, 0, 0, 0);
}

/* 72 bytes from 8 below the monitor: the rest would land in monitor memory. */
static uint64_t hd_straddle(void)
{
	return log_call(VEIL_LOG_HEAD, mon_base - 8, 0, 0, 0);
}

static uint64_t rd_unaligned(void)
{
	return read_raw(0, buf_page + 4, 256);
}

static uint64_t rd_zero_len(void)
{
	return read_raw(0, buf_page, 0);
}

static uint64_t rd_monitor(void)
{
	return read_raw(0, mon_page, PAGE_SIZE);
}

static uint64_t rd_beyond(void)
{
	return read_raw(0, boot.mem_size, PAGE_SIZE);
}

static uint64_t rd_wrap(void)
{
	return read_raw(0, ~0ULL - PAGE_SIZE + 1, 2 * PAGE_SIZE);
}

static uint64_t rd_straddle(void)
{
	return read_raw(0, mon_base - PAGE_SIZE, 2 * PAGE_SIZE);
}

static uint64_t log_count(void)
{
	struct veil_log_head h;

	return log_head(&h) ? ~0ULL : h.count;
}

static uint64_t rd_no_seq(void)
{
	return read_raw(log_count() + 1, buf_page, PAGE_SIZE);
}

static uint64_t rd_no_seq_max(void)
{
	return read_raw(~0ULL, buf_page, PAGE_SIZE);
}

/* Reading at the end is not an error: nothing to copy, next = count. */
static uint64_t rd_at_end(void)
{
	struct svsm_call_out o = { 0 };
	uint64_t count = log_count(), rc;

	rc = log_call(VEIL_LOG_READ, count, buf_page, PAGE_SIZE, &o);
	return rc ? rc : o.rcx || o.rdx || o.r8 != count ? LOG_BAD_READ : 0;
}

static uint64_t unknown_call(void)
{
	return log_call(3, buf_page, 0, 0, 0);
}

/* The controls: the largest record, and QUERY_PROTOCOL finding version 1. */
static uint64_t ap_max(void)
{
	memset((void *)buf_page, 'x', VEIL_LOG_MAX_RECORD);
	return append_raw(buf_page, VEIL_LOG_MAX_RECORD);
}

static uint64_t query_log(void)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = core_call(SVSM_CORE_QUERY_PROTOCOL, ((uint64_t)VEIL_PROTOCOL_LOG << 32) | 1,
				0, 0, &o);

	return rc ? rc : o.rcx == ((1ULL << 32) | 1) ? 0 : o.rcx;
}

struct log_refusal {
	const char *name;
	uint64_t (*run)(void);
	uint64_t expect;
};

/* Refusals first (none may change the log), the accepted controls last. */
static const struct log_refusal refusals[] = {
	{ "attack-log-append-oversized", ap_oversized, SVSM_ERR_INVALID_PARAMETER },
	{ "attack-log-append-len-high", ap_len_high, SVSM_ERR_INVALID_PARAMETER },
	{ "attack-log-append-zero", ap_zero, SVSM_ERR_INVALID_PARAMETER },
	{ "attack-log-append-wrap", ap_wrap, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-append-monitor", ap_monitor, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-append-beyond", ap_beyond, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-append-straddle", ap_straddle, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-append-shared", ap_shared, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-append-unowned", ap_unowned, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-head-unaligned", hd_unaligned, SVSM_ERR_INVALID_PARAMETER },
	{ "attack-log-head-monitor", hd_monitor, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-head-beyond", hd_beyond, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-head-wrap", hd_wrap, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-head-straddle", hd_straddle, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-read-unaligned", rd_unaligned, SVSM_ERR_INVALID_PARAMETER },
	{ "attack-log-read-zero-len", rd_zero_len, SVSM_ERR_INVALID_PARAMETER },
	{ "attack-log-read-monitor", rd_monitor, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-read-beyond", rd_beyond, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-read-wrap", rd_wrap, SVSM_ERR_INVALID_ADDRESS },
	{ "attack-log-read-straddle", rd_straddle, SVSM_ERR_INVALID_ADDRESS },
	{ "log-read-no-seq", rd_no_seq, VEIL_LOG_ERR_NO_SEQ },
	{ "log-read-no-seq-max", rd_no_seq_max, VEIL_LOG_ERR_NO_SEQ },
	{ "log-read-at-end", rd_at_end, SVSM_SUCCESS },
	{ "log-unknown-call", unknown_call, SVSM_ERR_UNSUPPORTED_CALL },
	{ "log-append-max", ap_max, SVSM_SUCCESS },
	{ "log-query", query_log, SVSM_SUCCESS },
};

#define FIRST_CONTROL (ARRAY_SIZE(refusals) - 2)

/* OS memory for the buffers, the monitor's first page + 4 KiB, one record to read. */
static int refusal_setup(void)
{
	static const char rec[] = "log-refusals: a record to read";
	uint64_t len, seq;

	if (mm_validate_os_memory(false))
		return -1;
	buf_page = pages_alloc(1);
	if (!buf_page || !mem_range_of(VEIL_MEM_MONITOR, &mon_base, &len) ||
	    log_append(rec, sizeof(rec) - 1, &seq)) {
		check("log-refusal-setup", false, 0);
		return -1;
	}
	mon_page = mon_base + PAGE_SIZE;
	return 0;
}

static void refusal_run(const struct log_refusal *r)
{
	uint64_t got = r->run();

	check(r->name, got == r->expect, got);
}

static bool head_same(const struct veil_log_head *a, const struct veil_log_head *b)
{
	unsigned i;

	for (i = 0; i < sizeof(a->head); i++)
		if (a->head[i] != b->head[i])
			return false;
	return a->count == b->count && a->drops == b->drops && a->used == b->used &&
	       a->capacity == b->capacity;
}

static int log_refusals(void)
{
	struct veil_log_head h0, h1;
	unsigned i;

	if (refusal_setup() || log_head(&h0))
		return -1;
	for (i = 0; i < FIRST_CONTROL; i++)
		refusal_run(&refusals[i]);
	log_head(&h1);
	check("log-refusals-unchanged", head_same(&h0, &h1), h1.count - h0.count);
	for (; i < ARRAY_SIZE(refusals); i++)
		refusal_run(&refusals[i]);
	return 0;
}

/* ---- termination scenarios: the log pages are the monitor's ---------------- */

/* Default "log-at": inside the store of a default monitor (it starts at
 * +0x15000 and is 256 KiB); any monitor page must be stopped all the same. */
static uint64_t log_target(void)
{
	uint64_t base = 0, len = 0, off = cmdline_num("log-at", 0x20000);

	if (!mem_range_of(VEIL_MEM_MONITOR, &base, &len) || off >= len)
		panic("no VEIL_MEM_MONITOR range in boot info, or log-at=0x%lx beyond it", off);
	return (base + off) & ~7ULL;
}

static int survived(const char *name)
{
	kprintf("FAIL %s: the access went through\n", name);
	nr_fail++;
	return -1;
}

static int attack_log_write(void)
{
	uint64_t p = log_target();

	kprintf("attack-log-write: writing 0x%lx; the monitor must stop the CVM\n", p);
	*(volatile uint64_t *)p = 0x5EC0DE;
	return survived("attack-log-write");
}

static int attack_log_read(void)
{
	uint64_t p = log_target();

	kprintf("attack-log-read: reading 0x%lx; the monitor must stop the CVM\n", p);
	kprintf("read 0x%lx\n", *(volatile uint64_t *)p);
	return survived("attack-log-read");
}

/* ---- log-domain-fault: a bug in the log's code is contained --------------- */

/*
 * Needs --log-domain fault-test. target=N picks what the buggy log code
 * writes: 0 a wild pointer (unmapped in its page table), 1 the first monitor
 * page, 2 this kernel's locked text (kernel code integrity), 3 a page of a
 * live enclave, 4 gpa=X (the log domain's own page table, from the console).
 * 1-4 go through a mapping a page-table bug would give it: the RMP must stop
 * the write. Afterwards the log is closed, the target is unchanged where the
 * OS can see it, and the CVM and the other services go on.
 */
static uint64_t fault_target(uint64_t kind)
{
	uint64_t base = 0, len = 0;

	switch (kind) {
	case 1:
		if (!mem_range_of(VEIL_MEM_MONITOR, &base, &len))
			panic("no VEIL_MEM_MONITOR range in boot info");
		return base;
	case 2:
		return (uint64_t)fault_target & ~0xFFFULL;
	case 3:
		return enclave_test_page();
	case 4:
		return cmdline_num("gpa", 0);
	default:
		return 0;
	}
}

static int log_domain_fault(void)
{
	uint64_t kind = cmdline_num("target", 0), gpa = fault_target(kind), seq = 0, rc;
	uint64_t text = *(volatile uint64_t *)((uint64_t)fault_target & ~0xFFFULL);
	struct veil_log_head h;
	struct svsm_call_out o;
	static const char line[] = "before the fault";

	check("log-fault-before", log_append(line, sizeof(line) - 1, &seq) == SVSM_SUCCESS, seq);
	if (kind && !gpa)
		panic("log-domain-fault: no target page for target=%lu", kind);
	kprintf("log-domain-fault: the log's code writes gpa 0x%lx (target %lu)\n", gpa, kind);
	rc = log_call(VEIL_LOG_TEST_WRITE, gpa, 0, 0, &o);
	check("log-fault-closed", rc == VEIL_LOG_ERR_CLOSED, rc);
	rc = log_append(line, sizeof(line) - 1, &seq);
	check("log-fault-append-closed", rc == VEIL_LOG_ERR_CLOSED, rc);
	rc = log_head(&h);
	check("log-fault-head-closed", rc == VEIL_LOG_ERR_CLOSED, rc);
	check("log-fault-text-intact",
	      *(volatile uint64_t *)((uint64_t)fault_target & ~0xFFFULL) == text, text);
	/* The monitor and the other services still answer. */
	rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_TEST, 0, 41, 0, 0, 0, &o);
	check("log-fault-monitor-answers", rc == SVSM_SUCCESS && o.rcx == 42, rc);
	return 0;
}

/* ---- log-full: append until refused; nothing stored may change ------------ */

static size_t full_line(char *buf, size_t cap, uint64_t i)
{
	return ksnprintf(buf, cap, "log-full record %lu", i);
}

static uint64_t full_check(const struct veil_log_record *r, const char *payload, void *ctx)
{
	uint64_t *i = ctx;
	char want[48];
	size_t n = full_line(want, sizeof(want), (*i)++);

	return r->len == n && !strncmp(payload, want, n) ? 0 : LOG_BAD_DATA;
}

#define FULL_EXTRA 3 /* appends tried after the first refusal */

static uint64_t fill_log(uint64_t capacity, uint64_t *stored)
{
	char line[48];
	uint64_t i, seq, rc = 0;

	for (i = 0; !rc && i <= capacity / REC_SIZE(1) + 1; i++)
		rc = log_append(line, (uint32_t)full_line(line, sizeof(line), i), &seq);
	*stored = i - 1;
	return rc;
}

static int log_full(void)
{
	struct veil_log_head h0, h1;
	uint64_t stored, rc, extra = 0, i, idx = 0, seq;
	char line[48];

	if (log_head(&h0))
		return -1;
	rc = fill_log(h0.capacity, &stored);
	kprintf("log-full: capacity %lu bytes, %lu records stored before the refusal\n",
		h0.capacity, stored);
	check("log-full-refused", rc == VEIL_LOG_ERR_FULL, rc);
	for (i = 0; i < FULL_EXTRA; i++)
		extra += log_append(line, (uint32_t)full_line(line, sizeof(line), stored + i),
				    &seq) == VEIL_LOG_ERR_FULL;
	check("log-full-stays-full", extra == FULL_EXTRA, extra);
	rc = log_head(&h1);
	check("log-full-drops", !rc && h1.drops - h0.drops == FULL_EXTRA + 1, h1.drops);
	check("log-full-count", h1.count - h0.count == stored && h1.used <= h1.capacity, h1.count);
	rc = log_walk(h0.count, h1.count, full_check, &idx);
	check("log-full-intact", !rc && idx == stored, rc ? rc : idx);
	return log_dump_checked();
}

/* ---- log-smp: every vCPU appends at once ----------------------------------- */

#define SMP_WAIT_SPINS 20000000

static uint64_t smp_k;
static uint32_t smp_done, smp_errors;

static size_t smp_line(char *buf, size_t cap, unsigned cpu, uint64_t i)
{
	return ksnprintf(buf, cap, "log-smp vcpu %u record %lu", cpu, i);
}

/* PAUSE hands the emulator to another vCPU, so the appends interleave; on
 * hardware they race for real. */
static void smp_append(unsigned cpu)
{
	char line[48];
	uint64_t i, seq;

	for (i = 0; i < smp_k; i++) {
		if (log_append(line, (uint32_t)smp_line(line, sizeof(line), cpu, i), &seq))
			__atomic_add_fetch(&smp_errors, 1, __ATOMIC_RELAXED);
		cpu_pause();
	}
}

NORETURN void log_ap_main(struct percpu *c);
NORETURN void log_ap_main(struct percpu *c)
{
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	cpu_tables_load(c->id);
	if (ghcb_msr_register((uint64_t)c->ghcb))
		terminate(VEIL_TERM_TEST_FAILED);
	c->ghcb_ready = true;
	smp_append(c->id);
	__atomic_add_fetch(&smp_done, 1, __ATOMIC_RELEASE);
	for (;;)
		cpu_hlt();
}

/* ap_entry of smp.c, but into log_ap_main (the call aligns the stack). */
__asm__(".text\n"
	"log_ap_entry:\n\t"
	"call log_ap_main\n"
	"1:\thlt\n\tjmp 1b\n");
extern char log_ap_entry[];

struct smp_seen {
	uint64_t next[VEIL_BOOT_MAX_VCPUS]; /* per vCPU: the record index expected next */
	uint32_t last_cpu, switches;
};

/* Each vCPU's records in its own order, from the vCPU the header names. */
static uint64_t smp_check(const struct veil_log_record *r, const char *payload, void *ctx)
{
	struct smp_seen *s = ctx;
	char want[48];
	size_t n;

	if (r->vcpu >= boot.nr_vcpus)
		return LOG_BAD_DATA;
	n = smp_line(want, sizeof(want), r->vcpu, s->next[r->vcpu]++);
	if (r->len != n || strncmp(payload, want, n))
		return LOG_BAD_DATA;
	s->switches += s->last_cpu != ~0U && r->vcpu != s->last_cpu;
	s->last_cpu = r->vcpu;
	return 0;
}

static void smp_wait(unsigned started)
{
	unsigned spins;

	for (spins = 0; spins < SMP_WAIT_SPINS; spins++) {
		if (__atomic_load_n(&smp_done, __ATOMIC_ACQUIRE) >= started)
			return;
		cpu_pause();
	}
}

static bool smp_all_seen(const struct smp_seen *s)
{
	unsigned i;

	for (i = 0; i < boot.nr_vcpus; i++)
		if (s->next[i] != smp_k)
			return false;
	return true;
}

static int log_smp(void)
{
	struct smp_seen seen = { .last_cpu = ~0U };
	struct veil_log_head h0, h1;
	unsigned apic, started = 0;
	uint64_t rc;

	smp_k = cmdline_num("k", 50);
	if (boot.nr_vcpus < 2 || mm_validate_os_memory(false) || log_head(&h0)) {
		check("log-smp-setup", false, boot.nr_vcpus);
		return -1;
	}
	for (apic = 1; apic < boot.nr_vcpus; apic++)
		started += !smp_start_ap(apic, log_ap_entry);
	smp_append(0);
	smp_wait(started);
	check("log-smp-aps", started == boot.nr_vcpus - 1 && smp_done == started, smp_done);
	rc = log_head(&h1);
	check("log-smp-count", !rc && !smp_errors && h1.count - h0.count == smp_k * boot.nr_vcpus,
	      rc ? rc : h1.count - h0.count);
	rc = log_walk(h0.count, h1.count, smp_check, &seen);
	kprintf("log-smp: %u vCPUs x %lu records, %u changes of vCPU along the log\n",
		boot.nr_vcpus, smp_k, seen.switches);
	check("log-smp-records", !rc && smp_all_seen(&seen), rc);
	check("log-smp-interleaved", seen.switches > 0, seen.switches);
	return log_dump_checked();
}

/* ---- log-forge: an OS record dressed as the monitor's ----------------------- */

/*
 * The text the monitor's fault policy logs for an RMP violation
 * (core/monitor.c), appended by the OS. The monitor stamps the record
 * VEIL_LOG_ORIGIN_OS in its hashed header, so `veil-log show` names it an
 * OS record and no edit of the dump can make it pass for the monitor's.
 */
static int log_forge(void)
{
	static const char fake[] = "violation: vcpu 0 rip ffffffff81000000 gpa 1000 "
				   "exitinfo1 100000006 (write at CPL3)";
	uint64_t seq, rc = log_append(fake, sizeof(fake) - 1, &seq);

	check("log-forge-appended", rc == 0, rc);
	kprintf("log-forge: record %lu imitates a monitor violation record\n", seq);
	return log_dump_checked();
}

/* ---- selection ------------------------------------------------------------ */

struct log_mode {
	const char *name;
	int (*run)(void);
};

static const struct log_mode modes[] = {
	{ "log-dump", log_dump_scenario },
	{ "log-audit", audit_scenario },
	{ "log-refusals", log_refusals },
	{ "log-full", log_full },
	{ "log-smp", log_smp },
	{ "log-forge", log_forge },
	{ "attack-log-write", attack_log_write },
	{ "attack-log-read", attack_log_read },
	{ "log-domain-fault", log_domain_fault },
	{ "bench-log", audit_bench },
};

static const struct log_refusal *refusal_find(const char *name)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(refusals); i++)
		if (!strncmp(refusals[i].name, name, 64))
			return &refusals[i];
	return 0;
}

static const struct log_mode *mode_find(const char *name)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strncmp(modes[i].name, name, 64))
			return &modes[i];
	return 0;
}

bool log_test_known(const char *name)
{
	return mode_find(name) || refusal_find(name);
}

int log_test_run(const char *name)
{
	const struct log_refusal *r = refusal_find(name);
	const struct log_mode *m = mode_find(name);

	if (m)
		return m->run();
	if (!r || refusal_setup())
		return -1;
	refusal_run(r);
	return 0;
}

void log_test_list(void)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		kprintf("test %s\n", modes[i].name);
	for (i = 0; i < ARRAY_SIZE(refusals); i++)
		kprintf("test %s\n", refusals[i].name);
}
