/* SPDX-License-Identifier: MIT */
/*
 * enclave.c - the enclave scenarios of the test OS (VEIL_PROTOCOL_ENCLAVE):
 * the lifecycle, faults inside enclaves, refused requests, and the OS's
 * attacks on enclave pages, page tables and VMSAs. The enclave images
 * (guest/enclave) are embedded in the kernel's read-only data.
 */
#include <veil/enclave_host.h>

#include "kernel.h"
#include "../enclave/probe/work.h"

#define POOL_PAGES 32
#define PROBE_SECRET 0x5EC2E7ULL
#define PROBE(op, a) (((uint64_t)(a) << 8) | (op))
#define PROBE_SYSCALL_SET_OK 0x3FF /* probe op 13: every check of the set passed */

extern const uint8_t enc_hello_start[], enc_hello_end[], enc_probe_start[], enc_probe_end[];
extern const uint8_t enc_signer_start[], enc_signer_end[];
extern const uint8_t enc_hello_signed_start[], enc_hello_signed_end[];

struct enc {
	uint64_t handle, pool, used; /* used: pages CREATE placed (RDX) */
};

static uint64_t enc_call(uint32_t call, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9,
			 struct svsm_call_out *o)
{
	struct svsm_call_out dummy;

	return svsm_call(this_cpu()->caa, VEIL_PROTOCOL_ENCLAVE, call, rcx, rdx, r8, r9,
			 o ? o : &dummy);
}

static uint64_t create_from(const void *img, uint64_t len, uint64_t pool, uint64_t n, struct enc *e)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = enc_call(VEIL_ENC_CREATE, (uint64_t)img, len, pool, n, &o);

	e->handle = rc == SVSM_SUCCESS ? o.rcx : 0;
	e->pool = pool;
	e->used = o.rdx;
	return rc;
}

static uint64_t create(const uint8_t *s, const uint8_t *end, struct enc *e)
{
	uint64_t pool = pages_alloc(POOL_PAGES);

	if (!pool)
		panic("enclave: out of memory");
	return create_from(s, (uint64_t)(end - s), pool, POOL_PAGES, e);
}

/* For log-domain-fault: a page of a live hello enclave (its first pool page,
 * its page table's root), or 0 if CREATE fails. */
uint64_t enclave_test_page(void)
{
	struct enc e;

	return create(enc_hello_start, enc_hello_end, &e) == SVSM_SUCCESS ? e.pool : 0;
}

/* ---- the host's ocalls -------------------------------------------------- */

#define HOST_PID 4242
static const char host_input[] = "a line from the host\n";
static uint8_t ocall_pages[VEIL_BOOT_MAX_VCPUS][2 * PAGE_SIZE] ALIGNED(4096);

static int64_t os_write(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
			uint64_t *resp_len)
{
	char line[200];
	uint64_t n = len > 8 ? len - 8 : 0, fd;
	int64_t r;

	(void)ctx;
	(void)resp;
	(void)resp_len;
	if (len < 8)
		return VEIL_OCALL_EINVAL;
	memcpy(&fd, req, 8);
	if (host_fd_write(fd, req + 8, n, &r))
		return r;
	memcpy(line, req + 8, n < sizeof(line) - 1 ? n : sizeof(line) - 1);
	line[n < sizeof(line) - 1 ? n : sizeof(line) - 1] = 0;
	kprintf("enclave: %s", line);
	return (int64_t)n;
}

/* read: the host's input; *extra more bytes than asked when ctx says so
 * (a hostile host). */
static int64_t os_read(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
		       uint64_t *resp_len)
{
	uint64_t count, fd, n = sizeof(host_input) - 1, extra = ctx ? *(uint64_t *)ctx : 0;
	int64_t r;

	if (len != 16)
		return VEIL_OCALL_EINVAL;
	memcpy(&fd, req, 8);
	memcpy(&count, req + 8, 8);
	if (count > VEIL_OCALL_PAGE)
		count = VEIL_OCALL_PAGE;
	if (host_fd_read(fd, resp, count, &r)) {
		*resp_len = r > 0 ? (uint64_t)r : 0;
		return r;
	}
	n = (count < n ? count : n) + extra;
	memset(resp, 'A', n);
	memcpy(resp, host_input, n < sizeof(host_input) - 1 ? n : sizeof(host_input) - 1);
	*resp_len = n;
	return (int64_t)n;
}

static int64_t os_getpid(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
			 uint64_t *resp_len)
{
	(void)ctx;
	(void)req;
	(void)len;
	(void)resp;
	(void)resp_len;
	return HOST_PID;
}

/* A 1 GHz clock from the (deterministic) TSC. */
static int64_t os_clock(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
			uint64_t *resp_len)
{
	uint64_t t = rdtsc(), out[2] = { t / 1000000000ULL, t % 1000000000ULL };

	(void)ctx;
	(void)req;
	(void)len;
	memcpy(resp, out, sizeof(out));
	*resp_len = sizeof(out);
	return 0;
}

static struct veil_ocall_table table(void *ctx)
{
	struct veil_ocall_table t = { { os_write, os_read, os_getpid, os_clock, host_open,
					host_close, host_mmap, host_munmap, host_socket },
				      ctx,
				      ocall_pages[this_cpu()->id] };

	return t;
}

static uint64_t enter(const struct enc *e, uint64_t arg, uint64_t *out)
{
	struct veil_ocall_table t = table(0);

	return veil_enclave_call(this_cpu()->caa, e->handle, arg, &t, out);
}

static uint64_t destroy(const struct enc *e)
{
	return enc_call(VEIL_ENC_DESTROY, e->handle, 0, 0, 0, 0);
}

static uint64_t measure(const struct enc *e, uint8_t out[48])
{
	return enc_call(VEIL_ENC_MEASURE, e->handle, (uint64_t)out, 0, 0, 0);
}

/* What the hello example answers on its n-th entry. */
static uint64_t hello_expect(uint64_t arg, uint64_t n)
{
	const char *g = "hello from an enclave";
	uint64_t sum = 0;

	while (*g)
		sum += (unsigned char)*g++;
	return (arg << 16) | ((sum & 0xFF) << 8) | n;
}

/* Every page of the pool is the OS's again (else this faults) and zero. */
static bool pool_scrubbed(const struct enc *e)
{
	const volatile uint64_t *p = (const volatile uint64_t *)e->pool;
	uint64_t i, bad = 0;

	for (i = 0; i < POOL_PAGES * PAGE_SIZE / 8; i++)
		bad |= p[i];
	((volatile uint64_t *)e->pool)[0] = 1; /* and writable */
	return !bad;
}

/* ---- enclave-lifecycle ----------------------------------------------------- */

static void lifecycle_measure(struct enc *a, struct enc *b, struct enc *p)
{
	static uint8_t m1[48], m2[48], m3[48], zero[48];
	uint64_t rc;

	rc = measure(a, m1);
	rc = rc ? rc : measure(b, m2);
	rc = rc ? rc : measure(p, m3);
	check("enc-measure", rc == SVSM_SUCCESS && memcmp(m1, zero, 48), rc);
	check("enc-measure-same-image", !memcmp(m1, m2, 48), 0);
	check("enc-measure-other-image", memcmp(m1, m3, 48) != 0, 0);
}

static int lifecycle(void)
{
	struct enc a, b, p;
	uint64_t rc, v;

	rc = create(enc_hello_start, enc_hello_end, &a);
	check("enc-create", rc == SVSM_SUCCESS, rc);
	if (rc)
		return -1;
	kprintf("enclave-lifecycle: hello enclave 0x%lx, %lu pages placed of %u\n", a.handle,
		a.used, (unsigned)POOL_PAGES);
	rc = create(enc_hello_start, enc_hello_end, &b);
	rc = rc ? rc : create(enc_probe_start, enc_probe_end, &p);
	check("enc-create-more", rc == SVSM_SUCCESS, rc);
	if (rc)
		return -1;
	lifecycle_measure(&a, &b, &p);
	rc = enter(&a, 0x1234, &v);
	check("enc-enter", rc == SVSM_SUCCESS && v == hello_expect(0x1234, 1), rc ? rc : v);
	rc = enter(&a, 7, &v);
	check("enc-enter-again", rc == SVSM_SUCCESS && v == hello_expect(7, 2), rc ? rc : v);
	rc = enter(&b, 9, &v);
	check("enc-separate-memory", rc == SVSM_SUCCESS && v == hello_expect(9, 1), rc ? rc : v);
	rc = enter(&p, PROBE(0, 5), &v);
	check("enc-probe-echo", rc == SVSM_SUCCESS && v == 5 + PROBE_SECRET, rc ? rc : v);
	rc = enter(&p, PROBE(6, 0), &v);
	check("enc-unknown-request", rc == SVSM_SUCCESS && v == 0, rc ? rc : v);
	rc = destroy(&a);
	rc = rc ? rc : destroy(&b);
	rc = rc ? rc : destroy(&p);
	check("enc-destroy", rc == SVSM_SUCCESS, rc);
	check("enc-destroy-scrubbed", pool_scrubbed(&a) && pool_scrubbed(&b) && pool_scrubbed(&p),
	      0);
	rc = destroy(&a);
	check("enc-destroy-twice", rc == VEIL_ENC_ERR_NOT_FOUND, rc);
	rc = enter(&a, 1, &v);
	check("enc-enter-destroyed", rc == VEIL_ENC_ERR_NOT_FOUND, rc);
	memset((void *)a.pool, 0, PAGE_SIZE);
	rc = create_from(enc_hello_start, (uint64_t)(enc_hello_end - enc_hello_start), a.pool,
			 POOL_PAGES, &a);
	rc = rc ? rc : enter(&a, 3, &v);
	check("enc-recreate", rc == SVSM_SUCCESS && v == hello_expect(3, 1), rc ? rc : v);
	destroy(&a);
	return 0;
}

/* ---- enclave-heap: ADD pages before the first ENTER --------------------------- */

static int heap(void)
{
	static uint8_t m0[48], m1[48];
	struct svsm_call_out o = { 0 };
	uint64_t rc, v = 0;
	struct enc p;

	rc = create(enc_probe_start, enc_probe_end, &p);
	rc = rc ? rc : measure(&p, m0);
	rc = rc ? rc : enc_call(VEIL_ENC_ADD, p.handle, 4, 0, 0, &o);
	check("enc-add-heap",
	      rc == SVSM_SUCCESS && o.rcx > VEIL_ENC_VA_BASE && o.rcx < VEIL_ENC_IMAGE_END &&
		      !(o.rcx & (PAGE_SIZE - 1)),
	      rc ? rc : o.rcx);
	rc = rc ? rc : measure(&p, m1);
	check("enc-add-measured", rc == SVSM_SUCCESS && memcmp(m0, m1, 48), rc);
	rc = enter(&p, PROBE(11, 3 * PAGE_SIZE), &v);
	check("enc-heap-malloc", rc == SVSM_SUCCESS && v == 4 * PAGE_SIZE, rc ? rc : v);
	rc = enter(&p, PROBE(11, 2 * PAGE_SIZE), &v);
	check("enc-heap-exhausted", rc == SVSM_SUCCESS && v == 0xE, rc ? rc : v);
	rc = enc_call(VEIL_ENC_ADD, p.handle, 1, 0, 0, 0);
	check("enc-add-after-enter", rc == SVSM_ERR_INVALID_REQUEST, rc);
	destroy(&p);
	rc = create(enc_probe_start, enc_probe_end, &p);
	rc = rc ? rc : enc_call(VEIL_ENC_ADD, p.handle, POOL_PAGES, 0, 0, 0);
	check("enc-add-too-many", rc == VEIL_ENC_ERR_SPACE, rc);
	rc = enc_call(VEIL_ENC_ADD, p.handle, 0, 0, 0, 0);
	check("enc-add-none", rc == VEIL_ENC_ERR_SPACE || rc == SVSM_ERR_INVALID_REQUEST, rc);
	rc = destroy(&p);
	check("enc-add-destroy", rc == SVSM_SUCCESS && pool_scrubbed(&p), rc);
	return 0;
}

/* ---- enclave-faults: each ends the enclave, never the CVM -------------------- */

struct fault_case {
	const char *name;
	uint64_t arg, vector; /* VEIL_ENC_ERR_FAULT's RCX */
};

static int faults(void)
{
	static const struct fault_case cases[] = {
		{ "enc-fault-os-memory", PROBE(1, 0x200000), 0x10E },
		{ "enc-fault-write-code", PROBE(2, 0), 0x10E },
		{ "enc-fault-privileged", PROBE(3, 0), 0x10D },
		{ "enc-fault-read-stub", PROBE(4, 0), 0x10E },
	};
	struct veil_log_head h0, h1;
	struct enc e;
	uint64_t rc, v = 0;
	unsigned i;

	log_head(&h0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		rc = create(enc_probe_start, enc_probe_end, &e);
		rc = rc ? rc : enter(&e, cases[i].arg, &v);
		check(cases[i].name, rc == VEIL_ENC_ERR_FAULT && v == cases[i].vector,
		      rc == VEIL_ENC_ERR_FAULT ? v : rc);
		rc = enter(&e, PROBE(0, 1), &v);
		if (rc != VEIL_ENC_ERR_DEAD)
			check("enc-fault-dead", false, rc);
		rc = destroy(&e);
		if (rc != SVSM_SUCCESS || !pool_scrubbed(&e))
			check("enc-fault-destroy", false, rc);
	}
	log_head(&h1);
	check("enc-faults-logged", h1.count - h0.count == ARRAY_SIZE(cases), h1.count - h0.count);
	return 0;
}

/* ---- enclave-refusals: one thing wrong each ----------------------------------- */

static uint8_t img[VEIL_ENC_MAX_IMAGE] ALIGNED(4096);

static uint64_t hello_len(void)
{
	return (uint64_t)(enc_hello_end - enc_hello_start);
}

/* A copy of hello with one change, then CREATE on fresh pages. */
static uint64_t create_edited(void (*edit)(uint8_t *), struct enc *e)
{
	uint64_t pool = pages_alloc(POOL_PAGES);

	memcpy(img, enc_hello_start, hello_len());
	edit(img);
	return create_from(img, hello_len(), pool, POOL_PAGES, e);
}

static uint8_t *ph(uint8_t *f, unsigned i)
{
	uint64_t phoff;

	memcpy(&phoff, f + 32, 8);
	return f + phoff + 56 * i;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void edit_magic(uint8_t *f)
{
	f[1] = 'X';
}
static void edit_rel(uint8_t *f)
{
	f[16] = 1; /* ET_REL */
}
static void edit_vaddr(uint8_t *f)
{
	put64(ph(f, 0) + 16, get64(ph(f, 0) + 16) - 0x10000000); /* below the window */
}
static void edit_wx(uint8_t *f)
{
	ph(f, 0)[4] = 7;
}
static void edit_filesz(uint8_t *f)
{
	put64(ph(f, 0) + 32, get64(ph(f, 0) + 40) + 1);
}
static void edit_offset(uint8_t *f)
{
	put64(ph(f, 0) + 8, 0xFFFFFFFFFFFFF000ULL);
}
static void edit_entry(uint8_t *f)
{
	put64(f + 24, get64(ph(f, 2) + 16)); /* the data segment */
}
static void edit_phoff(uint8_t *f)
{
	put64(f + 32, 0x7FFFFFFFFFFFFFF8ULL);
}
static void edit_phnum(uint8_t *f)
{
	f[56] = 0xFF;
	f[57] = 0xFF;
}
static void edit_overlap(uint8_t *f)
{
	put64(ph(f, 1) + 16, get64(ph(f, 0) + 16)); /* rodata onto text */
}
static void edit_window_end(uint8_t *f)
{
	put64(ph(f, 2) + 40, 0x200000); /* data runs over the trusted pages */
}

static void refusals_images(void)
{
	static const struct {
		const char *name;
		void (*edit)(uint8_t *);
	} cases[] = {
		{ "enc-refuse-not-elf", edit_magic },
		{ "enc-refuse-not-exec", edit_rel },
		{ "enc-refuse-outside-window", edit_vaddr },
		{ "enc-refuse-wx", edit_wx },
		{ "enc-refuse-filesz", edit_filesz },
		{ "enc-refuse-offset", edit_offset },
		{ "enc-refuse-entry", edit_entry },
		{ "enc-refuse-phoff", edit_phoff },
		{ "enc-refuse-phnum", edit_phnum },
		{ "enc-refuse-overlap", edit_overlap },
		{ "enc-refuse-over-trusted", edit_window_end },
	};
	struct enc e;
	uint64_t rc;
	unsigned i;

	if (hello_len() > sizeof(img))
		panic("enclave-refusals: hello image too large");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		rc = create_edited(cases[i].edit, &e);
		check(cases[i].name, rc == VEIL_ENC_ERR_FORMAT, rc);
	}
	rc = create_from(enc_hello_start, 32, pages_alloc(POOL_PAGES), POOL_PAGES, &e);
	check("enc-refuse-truncated", rc == VEIL_ENC_ERR_FORMAT, rc);
}

static void refusals_pages(void)
{
	uint64_t mon = 0, len = 0, pool = pages_alloc(POOL_PAGES), rc;
	struct enc e, live;

	if (!mem_range_of(VEIL_MEM_MONITOR, &mon, &len))
		panic("no monitor range");
	rc = create_from(enc_hello_start, hello_len(), mon + PAGE_SIZE, POOL_PAGES, &e);
	check("enc-refuse-monitor-pages", rc == VEIL_ENC_ERR_PAGES, rc);
	rc = create_from(enc_hello_start, hello_len(), boot.kernel_start, POOL_PAGES, &e);
	check("enc-refuse-kernel-text-pages", rc == VEIL_ENC_ERR_PAGES, rc);
	rc = create_from(enc_hello_start, hello_len(), pool, 0, &e);
	check("enc-refuse-no-pages", rc == VEIL_ENC_ERR_PAGES, rc);
	rc = create_from(enc_hello_start, hello_len(), pool + 8, POOL_PAGES, &e);
	check("enc-refuse-misaligned-pages", rc == VEIL_ENC_ERR_PAGES, rc);
	rc = create_from(enc_hello_start, hello_len(), pool, 6, &e);
	check("enc-refuse-too-few-pages", rc == VEIL_ENC_ERR_SPACE, rc);
	rc = create_from(enc_hello_start, hello_len(), mon, 1, &e);
	check("enc-refuse-image-pages-count", rc == VEIL_ENC_ERR_PAGES, rc);
	rc = create_from((const void *)(mon + PAGE_SIZE), 4096, pool, POOL_PAGES, &e);
	check("enc-refuse-image-in-monitor", rc == SVSM_ERR_INVALID_ADDRESS, rc);
	/* One enclave cannot be built on (or map) another's pages. */
	rc = create_from(enc_hello_start, hello_len(), pool, POOL_PAGES, &live);
	if (rc == SVSM_SUCCESS) {
		rc = create_from(enc_probe_start, (uint64_t)(enc_probe_end - enc_probe_start),
				 pool + 4 * PAGE_SIZE, POOL_PAGES, &e);
		check("enc-refuse-other-enclave-pages", rc == VEIL_ENC_ERR_PAGES, rc);
		rc = enc_call(VEIL_ENC_MEASURE, live.handle, boot.kernel_start, 0, 0, 0);
		check("enc-refuse-measure-into-text", rc == SVSM_ERR_INVALID_ADDRESS, rc);
		rc = enc_call(VEIL_ENC_MEASURE, live.handle, pool, 0, 0, 0);
		check("enc-refuse-measure-into-enclave", rc == SVSM_ERR_INVALID_ADDRESS, rc);
		destroy(&live);
	} else {
		check("enc-refuse-other-enclave-pages", false, rc);
	}
}

static int refusals(void)
{
	uint64_t rc;

	refusals_images();
	refusals_pages();
	rc = enc_call(VEIL_ENC_ENTER, 0x12345, 0, 0, 0, 0);
	check("enc-refuse-enter-unknown", rc == VEIL_ENC_ERR_NOT_FOUND, rc);
	rc = enc_call(VEIL_ENC_DESTROY, 0, 0, 0, 0, 0);
	check("enc-refuse-destroy-unknown", rc == VEIL_ENC_ERR_NOT_FOUND, rc);
	rc = enc_call(0x99, 0, 0, 0, 0, 0);
	check("enc-refuse-unknown-call", rc == SVSM_ERR_UNSUPPORTED_CALL, rc);
	return 0;
}

/* ---- enclave-signed: images signed with the trusted key ------------------------ */

static int signed_images(void)
{
	static uint8_t m0[48], m1[48];
	struct svsm_call_out o = { 1, 0, 0, 0 };
	uint64_t len = (uint64_t)(enc_hello_signed_end - enc_hello_signed_start), rc, v = 0;
	struct enc s, u;

	rc = create(enc_hello_signed_start, enc_hello_signed_end, &s);
	rc = rc ? rc : enc_call(VEIL_ENC_MEASURE, s.handle, (uint64_t)m0, 0, 0, &o);
	check("enc-signed-create", rc == SVSM_SUCCESS && o.rcx == 1, rc ? rc : o.rcx);
	rc = enter(&s, 4, &v);
	check("enc-signed-enter", rc == SVSM_SUCCESS && v == hello_expect(4, 1), rc ? rc : v);
	rc = create(enc_hello_start, enc_hello_end, &u);
	o.rcx = 1;
	rc = rc ? rc : enc_call(VEIL_ENC_MEASURE, u.handle, (uint64_t)m1, 0, 0, &o);
	check("enc-unsigned-create", rc == SVSM_SUCCESS && o.rcx == 0, rc ? rc : o.rcx);
	check("enc-signed-same-measurement", !memcmp(m0, m1, 48), 0);
	destroy(&s);
	destroy(&u);
	if (len > sizeof(img))
		panic("enclave-signed: image too large");
	memcpy(img, enc_hello_signed_start, len);
	img[0x1010] ^= 1; /* a byte of its code */
	rc = create_from(img, len, pages_alloc(POOL_PAGES), POOL_PAGES, &s);
	check("attack-enclave-signed-tampered", rc == VEIL_ENC_ERR_SIGNATURE, rc);
	memcpy(img, enc_hello_signed_start, len);
	img[len - 1] ^= 1; /* the signature */
	rc = create_from(img, len, pages_alloc(POOL_PAGES), POOL_PAGES, &s);
	check("attack-enclave-signed-bad-signature", rc == VEIL_ENC_ERR_SIGNATURE, rc);
	return 0;
}

/* ---- the OS attacks: each must stop the CVM (status 4) or be refused --------- */

static int survived(const char *name)
{
	kprintf("FAIL %s: the access went through\n", name);
	nr_fail++;
	return -1;
}

/* A hello enclave entered once (so this vCPU has its VMSA). */
static int attack_setup(struct enc *e)
{
	uint64_t rc = create(enc_hello_start, enc_hello_end, e), v = 0;

	rc = rc ? rc : enter(e, 1, &v);
	check("enc-attack-setup", rc == SVSM_SUCCESS, rc);
	return rc ? -1 : 0;
}

/* Pool order: PML4, PDPT, PD, PT, stub, system page, trap stack, the image's
 * pages, the stack, then this vCPU's VMSA (the next page not 2 MiB aligned). */
static uint64_t page_of(const struct enc *e, const char *what)
{
	uint64_t v = e->pool + e->used * PAGE_SIZE;

	if (!strncmp(what, "vmsa", 8))
		return (v & (HUGE_SIZE - 1)) ? v : v + PAGE_SIZE;
	if (!strncmp(what, "pt", 8))
		return e->pool + 3 * PAGE_SIZE;
	return e->pool + 7 * PAGE_SIZE; /* the first image page (its code) */
}

static int attack_read(void)
{
	struct enc e;
	uint64_t t;

	if (attack_setup(&e))
		return -1;
	t = page_of(&e, "code");
	kprintf("attack-enclave-read: reading target gpa 0x%lx; the monitor must stop the CVM\n",
		t);
	kprintf("read 0x%lx\n", *(volatile uint64_t *)t);
	return survived("attack-enclave-read");
}

static int attack_write(const char *name, const char *what, unsigned off)
{
	struct enc e;
	uint64_t t;

	if (attack_setup(&e))
		return -1;
	t = page_of(&e, what) + off;
	kprintf("%s: writing target gpa 0x%lx; the monitor must stop the CVM\n", name, t);
	*(volatile uint64_t *)t = 0x41414141;
	return survived(name);
}

static int attack_code_write(void)
{
	return attack_write("attack-enclave-write", "code", 0);
}

static int attack_pt_write(void)
{
	return attack_write("attack-enclave-pt-write", "pt", 0);
}

static int attack_vmsa_rip(void)
{
	return attack_write("attack-enclave-vmsa-rip", "vmsa", VMSA_RIP);
}

static int attack_vmsa_vmpl(void)
{
	return attack_write("attack-enclave-vmsa-vmpl", "vmsa", VMSA_VMPL);
}

static int attack_vmsa_cr3(void)
{
	return attack_write("attack-enclave-vmsa-cr3", "vmsa", VMSA_CR3);
}

/* RMPADJUST at the OS's VMPL: EAX = the architectural return code. */
static uint64_t os_rmpadjust(uint64_t gpa, uint64_t attrs)
{
	uint64_t rax = gpa;

	__asm__ volatile(".byte 0xf3, 0x0f, 0x01, 0xfe"
			 : "+a"(rax)
			 : "c"((uint64_t)RMP_PAGE_4K), "d"(attrs)
			 : "memory", "cc");
	return rax;
}

/* The OS builds its own VMPL2 VMSA that starts inside the hello enclave
 * (past its entry point, on its page table) and tries every way to run it:
 * make its page a VMSA for VMPL2 (RMPADJUST at VMPL3), hand it to the
 * hypervisor for this vCPU's VMPL2 (AP creation), ask to run VMPL2 (GHCB
 * MSR). Each is refused; the enclave still answers ENTER from its entry. */
static int attack_enter_anywhere(void)
{
	struct percpu *c = this_cpu();
	uint64_t page = pages_alloc(1), adj, ap, resp, rc, v = 0, saved = ghcb_msr_read();
	uint8_t *vm = (uint8_t *)page;
	struct enc e;

	if (!page || attack_setup(&e))
		return -1;
	vmsa_build(page, c->id);
	vm[VMSA_VMPL] = 2;
	vm[VMSA_CPL] = 3;
	memcpy(vm + VMSA_RIP, &(uint64_t){ VEIL_ENC_VA_BASE + 0x10 }, 8);
	memcpy(vm + VMSA_CR3, &e.pool, 8); /* the enclave's PML4: its first pool page */
	adj = os_rmpadjust(page, RMPADJUST_ATTRS(2, RMP_PERM_ALL, true));
	ghcb_clear(c->ghcb);
	ghcb_set(c->ghcb, GHCB_RAX, sev_features());
	ap = ghcb_hv_call(c->ghcb, (uint64_t)c->ghcb, SVM_VMGEXIT_AP_CREATION,
			  SVM_VMGEXIT_AP_INFO1(SVM_VMGEXIT_AP_CREATE, 2, c->id), page);
	resp = ghcb_msr_request(GHCB_MSR_RUN_VMPL(2));
	ghcb_msr_write(saved);
	kprintf("attack-enclave-enter-anywhere: RMPADJUST 0x%lx, AP creation 0x%lx, run VMPL2 "
		"0x%lx\n",
		adj, ap, resp);
	check("attack-enclave-enter-anywhere",
	      (uint32_t)adj == RMP_FAIL_PERMISSION && (uint32_t)ap != GHCB_RESULT_OK &&
		      GHCB_MSR_INFO(resp) == GHCB_MSR_RUN_VMPL_RESP && (resp >> 32),
	      adj);
	rc = enter(&e, 4, &v);
	check("enc-enter-after-enter-anywhere", rc == SVSM_SUCCESS && v == hello_expect(4, 2),
	      rc ? rc : v);
	destroy(&e);
	return 0;
}

/* The OS remaps an enclave page behind the monitor (page state change to
 * shared through the hypervisor): the enclave faults on it, and DESTROY,
 * finding the page no longer private, stops the CVM as tampering. */
static int attack_psc(void)
{
	struct enc e;
	uint64_t t, rc, v = 0;

	if (attack_setup(&e))
		return -1;
	t = page_of(&e, "code");
	kprintf("attack-enclave-psc: making target gpa 0x%lx shared through the hypervisor\n", t);
	if (ghcb_msr_psc(t, GHCB_MSR_PSC_SHARED)) {
		check("attack-enclave-psc", false, 0);
		return -1;
	}
	rc = enter(&e, 1, &v);
	check("attack-enclave-psc-enter", rc == VEIL_ENC_ERR_FAULT, rc);
	rc = destroy(&e);
	kprintf("FAIL attack-enclave-psc: DESTROY returned 0x%lx\n", rc);
	nr_fail++;
	return -1;
}

/* The OS asks the hypervisor to start another vCPU on the enclave's VMSA
 * (AP creation at VMPL2, "create and run"): VMRUN of a VMSA whose EFER.SVME
 * is clear fails (APM vol 2, 15.5.1), and the monitor keeps it clear
 * between runs, so the enclave cannot be resumed behind the monitor. */
static int attack_ap_vmsa(void)
{
	struct percpu *c = this_cpu();
	uint64_t vmsa, rc, v = 0, info1;
	struct enc e;

	if (boot.nr_vcpus < 2) {
		kprintf("FAIL attack-enclave-ap-vmsa: needs --vcpus 2 or more\n");
		nr_fail++;
		return -1;
	}
	if (attack_setup(&e))
		return -1;
	vmsa = page_of(&e, "vmsa");
	info1 = SVM_VMGEXIT_AP_INFO1(SVM_VMGEXIT_AP_CREATE, 2, 1);
	ghcb_clear(c->ghcb);
	ghcb_set(c->ghcb, GHCB_RAX, sev_features());
	rc = ghcb_hv_call(c->ghcb, (uint64_t)c->ghcb, SVM_VMGEXIT_AP_CREATION, info1, vmsa);
	kprintf("attack-enclave-ap-vmsa: AP creation of vCPU 1 on VMSA 0x%lx: 0x%lx\n", vmsa, rc);
	check("attack-enclave-ap-vmsa", (uint32_t)rc != GHCB_RESULT_OK, rc);
	rc = enter(&e, 3, &v);
	check("enc-enter-after-ap-vmsa", rc == SVSM_SUCCESS && v == hello_expect(3, 2),
	      rc ? rc : v);
	destroy(&e);
	return 0;
}

/* ENTER with every register the call does not use set to a pattern, and
 * what the OS holds in them when the call returns (enc_enter_raw). */
#define REG_PATTERN 0x0DD0000000000000ULL
uint64_t regs_after[9], value_after;
uint64_t enc_enter_raw(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8);
__asm__(".text\n"
	".globl enc_enter_raw\n"
	"enc_enter_raw:\n\t" /* RDI = rax, RSI = rcx, RDX = rdx, RCX = r8 */
	"pushq %rbx\n\tpushq %rbp\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"
	"movq %rdi, %rax\n\tmovq %rcx, %r8\n\tmovq %rsi, %rcx\n\txorl %r9d, %r9d\n\t"
	"movabsq $0x0DD0000000000001, %rbx\n\tmovabsq $0x0DD0000000000002, %rbp\n\t"
	"movabsq $0x0DD0000000000003, %rsi\n\tmovabsq $0x0DD0000000000004, %rdi\n\t"
	"movabsq $0x0DD0000000000005, %r10\n\tmovabsq $0x0DD0000000000006, %r12\n\t"
	"movabsq $0x0DD0000000000007, %r13\n\tmovabsq $0x0DD0000000000008, %r14\n\t"
	"movabsq $0x0DD0000000000009, %r15\n\t"
	".byte 0xf3, 0x0f, 0x01, 0xd9\n\t"
	"movq %rbx, regs_after+0(%rip)\n\tmovq %rbp, regs_after+8(%rip)\n\t"
	"movq %rsi, regs_after+16(%rip)\n\tmovq %rdi, regs_after+24(%rip)\n\t"
	"movq %r10, regs_after+32(%rip)\n\tmovq %r12, regs_after+40(%rip)\n\t"
	"movq %r13, regs_after+48(%rip)\n\tmovq %r14, regs_after+56(%rip)\n\t"
	"movq %r15, regs_after+64(%rip)\n\t"
	"movq %rcx, value_after(%rip)\n\t" /* ENTER's RCX: the enclave's value */
	"popq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbp\n\tpopq %rbx\n\t"
	"ret\n");

/* An enclave leaves with its registers full of its secret: the OS's own
 * registers come back as they were (they live in the OS's VMSA; the
 * enclave's stay in its VMSA, which the OS cannot read). */
static int attack_regs(void)
{
	struct percpu *c = this_cpu();
	uint64_t saved = ghcb_msr_read(), rc, bad = 0;
	struct enc e;
	unsigned i;

	if (create(enc_probe_start, enc_probe_end, &e)) {
		check("enc-attack-setup", false, 0);
		return -1;
	}
	ghcb_msr_write(GHCB_MSR_RUN_VMPL(0));
	__atomic_store_n(&c->caa->call_pending, 1, __ATOMIC_SEQ_CST);
	rc = enc_enter_raw(SVSM_CALL(VEIL_PROTOCOL_ENCLAVE, VEIL_ENC_ENTER), e.handle, PROBE(12, 0),
			   0);
	__atomic_store_n(&c->caa->call_pending, 0, __ATOMIC_SEQ_CST);
	ghcb_msr_write(saved);
	for (i = 0; i < ARRAY_SIZE(regs_after); i++)
		if (regs_after[i] != REG_PATTERN + i + 1)
			bad = regs_after[i];
	check("attack-enclave-registers", rc == SVSM_SUCCESS && value_after == 0x77 && !bad,
	      rc  ? rc :
	      bad ? bad :
		    value_after);
	destroy(&e);
	return 0;
}

/* The OS asks the hypervisor to run VMPL2 itself: the enclave's VMSA is not
 * runnable outside ENTER, so it cannot resume it anywhere it likes. */
static int attack_run_vmpl2(void)
{
	struct enc e;
	uint64_t resp, rc, v;

	if (attack_setup(&e))
		return -1;
	resp = ghcb_msr_request(GHCB_MSR_RUN_VMPL(2));
	check("attack-enclave-run-vmpl2", (resp & 0xFFF) == GHCB_MSR_RUN_VMPL_RESP && (resp >> 32),
	      resp);
	rc = enter(&e, 2, &v);
	check("enc-enter-after-run-vmpl2", rc == SVSM_SUCCESS && v == hello_expect(2, 2),
	      rc ? rc : v);
	destroy(&e);
	return 0;
}

/* ---- enclave-ocalls: calls out of the enclave, and a host that lies --------- */

static void ocalls_raw(void)
{
	uint64_t mon = 0, len = 0, rc, v;
	struct svsm_call_out o = { 0 };
	struct enc p;

	if (!mem_range_of(VEIL_MEM_MONITOR, &mon, &len))
		panic("no monitor range");
	rc = create(enc_probe_start, enc_probe_end, &p);
	rc = rc ? rc :
		  enc_call(VEIL_ENC_ENTER, p.handle, PROBE(8, 16), (uint64_t)ocall_pages[0], 0, &o);
	check("enc-ocall-pending",
	      rc == SVSM_SUCCESS && o.rdx == VEIL_ENC_OCALL && o.rcx == VEIL_OCALL_GETPID,
	      rc ? rc : o.rcx);
	rc = enc_call(VEIL_ENC_RESUME, p.handle, 1, (uint64_t)ocall_pages[0], PAGE_SIZE + 1, 0);
	check("attack-enclave-ocall-huge-length", rc == SVSM_ERR_INVALID_PARAMETER, rc);
	rc = enc_call(VEIL_ENC_RESUME, p.handle, 1, mon + PAGE_SIZE, 8, 0);
	check("attack-enclave-ocall-monitor-response", rc == SVSM_ERR_INVALID_ADDRESS, rc);
	rc = enc_call(VEIL_ENC_RESUME, p.handle, 1, p.pool, 8, 0);
	check("attack-enclave-ocall-enclave-response", rc == SVSM_ERR_INVALID_ADDRESS, rc);
	rc = enter(&p, PROBE(0, 1), &v);
	check("enc-ocall-enter-busy", rc == SVSM_ERR_BUSY, rc);
	rc = destroy(&p);
	check("enc-ocall-destroy-pending", rc == SVSM_SUCCESS && pool_scrubbed(&p), rc);
	rc = enc_call(VEIL_ENC_RESUME, p.handle, 1, 0, 0, 0);
	check("enc-ocall-resume-destroyed", rc == VEIL_ENC_ERR_NOT_FOUND, rc);
	/* The host's buffer is the monitor's: nothing copied there. */
	rc = create(enc_probe_start, enc_probe_end, &p);
	rc = rc ? rc : enc_call(VEIL_ENC_ENTER, p.handle, PROBE(8, 16), mon, 0, &o);
	check("attack-enclave-ocall-monitor-buffer", rc == SVSM_ERR_INVALID_ADDRESS, rc);
	destroy(&p);
}

static int ocalls(void)
{
	uint64_t rc, v = 0, extra = 100, none = 0;
	struct veil_ocall_table hostile = table(&extra), lying = table(&none);
	struct svsm_call_out o = { 0 };
	struct enc h, p;

	rc = create(enc_hello_start, enc_hello_end, &h);
	rc = rc ? rc : enter(&h, 5, &v);
	check("enc-ocall-printf", rc == SVSM_SUCCESS && v == hello_expect(5, 1), rc ? rc : v);
	rc = enc_call(VEIL_ENC_ENTER, h.handle, 6, 0, 0, &o);
	check("enc-ocall-no-buffer",
	      rc == SVSM_SUCCESS && o.rdx == VEIL_ENC_DONE && o.rcx == hello_expect(6, 2),
	      rc ? rc : o.rcx);
	destroy(&h);
	rc = create(enc_probe_start, enc_probe_end, &p);
	rc = rc ? rc : enter(&p, PROBE(8, 16), &v);
	check("enc-ocall-read", rc == SVSM_SUCCESS && v == ((HOST_PID << 16) | 16), rc ? rc : v);
	rc = veil_enclave_call(this_cpu()->caa, p.handle, PROBE(8, 16), &hostile, &v);
	check("attack-enclave-ocall-oversize", rc == SVSM_SUCCESS && v == (0xBAD00000ULL | 74),
	      rc ? rc : v);
	rc = enc_call(VEIL_ENC_RESUME, p.handle, 0, 0, 0, 0);
	check("enc-ocall-resume-none", rc == VEIL_ENC_ERR_NO_OCALL, rc);
	rc = enter(&p, PROBE(13, 0), &v);
	check("enc-ocall-files-maps-sockets", rc == SVSM_SUCCESS && v == PROBE_SYSCALL_SET_OK,
	      rc ? rc : v);
	rc = veil_enclave_call(this_cpu()->caa, p.handle, PROBE(14, 0), &lying, &v);
	check("attack-enclave-ocall-mmap-into-enclave", rc == SVSM_SUCCESS && v == 1, rc ? rc : v);
	destroy(&p);
	ocalls_raw();
	return 0;
}

/* ---- enclave-signer: a key the OS never sees ---------------------------------- */

#define SIGNER_KEYGEN 0
#define SIGNER_SIGN 1

static const char signer_msg[] = "pay 10 coins to bob";

/* What the signer hands its host: the public key (fd 3), signatures (fd 4). */
struct signer_host {
	uint8_t pub[65], sig[64];
	uint64_t pub_len, sig_len;
};

static int64_t signer_write(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
			    uint64_t *resp_len)
{
	struct signer_host *h = ctx;
	uint64_t fd, n = len - 8;

	(void)resp;
	(void)resp_len;
	if (len < 8)
		return VEIL_OCALL_EINVAL;
	memcpy(&fd, req, 8);
	if (fd == 3 && n == sizeof(h->pub))
		memcpy(h->pub, req + 8, h->pub_len = n);
	else if (fd == 4 && n == sizeof(h->sig))
		memcpy(h->sig, req + 8, h->sig_len = n);
	else
		return VEIL_OCALL_EINVAL;
	return (int64_t)n;
}

static int64_t signer_read(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
			   uint64_t *resp_len)
{
	(void)ctx;
	(void)req;
	(void)len;
	memcpy(resp, signer_msg, sizeof(signer_msg) - 1);
	*resp_len = sizeof(signer_msg) - 1;
	return (int64_t)*resp_len;
}

static void hex(const char *what, const uint8_t *p, uint64_t n)
{
	char line[300];
	uint64_t i;

	for (i = 0; i < n && 2 * i + 2 < sizeof(line); i++) {
		line[2 * i] = "0123456789abcdef"[p[i] >> 4];
		line[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
	}
	line[2 * i] = 0;
	kprintf("enclave-signer: %s %s\n", what, line);
}

/* Signer: key made and kept inside; the host gets the public key and a
 * signature, printed for the host-side check (veil-sign verify). */
static int signer(struct enc *e)
{
	static struct signer_host h;
	struct veil_ocall_table t = { { signer_write, signer_read, os_getpid, os_clock },
				      &h,
				      ocall_pages[this_cpu()->id] };
	uint64_t rc, v = 0;

	rc = create(enc_signer_start, enc_signer_end, e);
	rc = rc ? rc : veil_enclave_call(this_cpu()->caa, e->handle, SIGNER_KEYGEN, &t, &v);
	check("enc-signer-keygen", rc == SVSM_SUCCESS && v == 0 && h.pub_len == 65, rc ? rc : v);
	rc = rc ? rc : veil_enclave_call(this_cpu()->caa, e->handle, SIGNER_SIGN, &t, &v);
	check("enc-signer-sign",
	      rc == SVSM_SUCCESS && v == sizeof(signer_msg) - 1 && h.sig_len == 64, rc ? rc : v);
	if (rc)
		return -1;
	kprintf("enclave-signer: message %s\n", signer_msg);
	hex("public", h.pub, h.pub_len);
	hex("signature", h.sig, h.sig_len);
	return 0;
}

static int signer_scenario(void)
{
	struct enc e;

	if (signer(&e))
		return -1;
	check("enc-signer-destroy", destroy(&e) == SVSM_SUCCESS && pool_scrubbed(&e), 0);
	return 0;
}

/* The window page of the first writable segment: where the key lives. */
static uint64_t data_page_index(const uint8_t *img)
{
	uint64_t phoff, vaddr, memsz, first = 0, i;
	uint16_t phnum;
	uint32_t flags;

	memcpy(&phoff, img + 32, 8);
	memcpy(&phnum, img + 56, 2);
	for (i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + 56 * i;

		memcpy(&flags, ph + 4, 4);
		memcpy(&vaddr, ph + 16, 8);
		memcpy(&memsz, ph + 40, 8);
		if (flags & 2)
			return first;
		first += (vaddr + memsz + PAGE_SIZE - 1) / PAGE_SIZE - vaddr / PAGE_SIZE;
	}
	return 0;
}

/* The OS goes for the key: the signer's data page (7 pages of tables and
 * trusted code come first in the pool, then the image in address order). */
static int attack_signer_key(void)
{
	struct enc e;
	uint64_t t;

	if (signer(&e))
		return -1;
	t = e.pool + (7 + data_page_index(enc_signer_start)) * PAGE_SIZE;
	kprintf("attack-enclave-signer-key: reading target gpa 0x%lx; the monitor must stop the "
		"CVM\n",
		t);
	kprintf("read 0x%lx\n", *(volatile uint64_t *)t);
	return survived("attack-enclave-signer-key");
}

/* ---- enclave-smp: other vCPUs enter (each with its own VMSA for the enclave) --- */

#define SPIN_ROUNDS 20000ULL /* the probe's PAUSE loop: the BSP acts meanwhile */

/* What the BSP asks each AP to do: one ENTER, result posted back. */
struct ap_job {
	volatile uint64_t handle, arg, go, started, done, rc, value;
};

static struct ap_job jobs[VEIL_BOOT_MAX_VCPUS];
static volatile uint32_t enc_aps_up;

NORETURN void enc_ap_main(struct percpu *c);
NORETURN void enc_ap_main(struct percpu *c)
{
	struct ap_job *j = &jobs[c->id];
	struct enc e;

	wrmsr(MSR_GS_BASE, (uint64_t)c);
	cpu_tables_load(c->id);
	if (ghcb_msr_register((uint64_t)c->ghcb))
		terminate(VEIL_TERM_TEST_FAILED);
	c->ghcb_ready = true;
	__atomic_add_fetch(&enc_aps_up, 1, __ATOMIC_RELEASE);
	for (;;) {
		while (!__atomic_load_n(&j->go, __ATOMIC_ACQUIRE))
			cpu_pause();
		j->go = 0;
		e.handle = j->handle;
		__atomic_store_n(&j->started, 1, __ATOMIC_RELEASE);
		j->rc = enter(&e, j->arg, (uint64_t *)&j->value);
		__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	}
}

static void job_start(unsigned ap, const struct enc *e, uint64_t arg)
{
	jobs[ap].handle = e->handle;
	jobs[ap].arg = arg;
	jobs[ap].started = 0;
	jobs[ap].done = 0;
	__atomic_store_n(&jobs[ap].go, 1, __ATOMIC_RELEASE);
}

static void job_wait(unsigned ap)
{
	while (!__atomic_load_n(&jobs[ap].done, __ATOMIC_ACQUIRE))
		cpu_pause();
}

static int smp_setup(void)
{
	unsigned ap, spins;

	if (boot.nr_vcpus < 2) {
		kprintf("FAIL enclave-smp: needs --vcpus 2 or more\n");
		nr_fail++;
		return -1;
	}
	for (ap = 1; ap < boot.nr_vcpus; ap++)
		if (smp_start_ap(ap, enc_ap_main))
			return -1;
	for (spins = 0; enc_aps_up < boot.nr_vcpus - 1 && spins < 10000000; spins++)
		cpu_pause();
	check("enc-smp-aps-up", enc_aps_up == boot.nr_vcpus - 1, enc_aps_up);
	return enc_aps_up == boot.nr_vcpus - 1 ? 0 : -1;
}

/* One enclave entered from every vCPU in turn: one memory, one VMSA each. */
static void smp_shared(void)
{
	struct enc h;
	uint64_t rc = create(enc_hello_start, enc_hello_end, &h), v = 0, n;
	bool ok = rc == SVSM_SUCCESS;
	unsigned ap;

	for (ap = 1, n = 1; ok && ap < boot.nr_vcpus; ap++, n++) {
		job_start(ap, &h, ap);
		job_wait(ap);
		ok = jobs[ap].rc == SVSM_SUCCESS && jobs[ap].value == hello_expect(ap, n);
		rc = ok ? 0 : jobs[ap].rc ? jobs[ap].rc : jobs[ap].value;
	}
	if (ok) {
		rc = enter(&h, 0x55, &v);
		ok = rc == SVSM_SUCCESS && v == hello_expect(0x55, n);
	}
	check("enc-smp-enter-every-vcpu", ok, rc ? rc : v);
	rc = destroy(&h);
	check("enc-smp-destroy", rc == SVSM_SUCCESS && pool_scrubbed(&h), rc);
}

/* Every AP inside its own enclave at once, then the BSP tries to destroy or
 * enter the enclave AP 1 is inside: BUSY, and AP 1's run is not disturbed. */
static void smp_inside(void)
{
	struct enc e[VEIL_BOOT_MAX_VCPUS];
	uint64_t rc, busy_destroy = 0, busy_enter = 0, v;
	unsigned ap, spins;
	bool ok = true;

	for (ap = 1; ap < boot.nr_vcpus; ap++) {
		rc = create(enc_probe_start, enc_probe_end, &e[ap]);
		if (rc)
			panic("enclave-smp: create 0x%lx", rc);
	}
	for (ap = 1; ap < boot.nr_vcpus; ap++)
		job_start(ap, &e[ap], PROBE(5, SPIN_ROUNDS + ap));
	while (!__atomic_load_n(&jobs[1].started, __ATOMIC_ACQUIRE))
		cpu_pause();
	for (spins = 0; spins < 100; spins++)
		cpu_pause(); /* let AP 1 get into its enclave */
	rc = destroy(&e[1]);
	busy_destroy = rc;
	rc = enter(&e[1], PROBE(0, 1), &v);
	busy_enter = rc;
	kprintf("enclave-smp: while vCPU 1 is inside: DESTROY 0x%lx, ENTER 0x%lx\n", busy_destroy,
		busy_enter);
	check("attack-enclave-destroy-inside", busy_destroy == SVSM_ERR_BUSY, busy_destroy);
	check("enc-smp-enter-inside", busy_enter == SVSM_ERR_BUSY, busy_enter);
	for (ap = 1; ap < boot.nr_vcpus; ap++) {
		job_wait(ap);
		ok = ok && jobs[ap].rc == SVSM_SUCCESS && jobs[ap].value == SPIN_ROUNDS + ap;
	}
	check("enc-smp-concurrent", ok, jobs[1].rc ? jobs[1].rc : jobs[1].value);
	for (ap = 1, rc = 0; ap < boot.nr_vcpus; ap++) {
		rc |= destroy(&e[ap]);
		ok = ok && pool_scrubbed(&e[ap]);
	}
	check("enc-smp-destroy-after", rc == SVSM_SUCCESS && ok, rc);
}

static int smp(void)
{
	if (smp_setup())
		return -1;
	smp_shared();
	smp_inside();
	return 0;
}

/* ---- bench-enclave: the same work inside an enclave and natively ----------- */

/* write for the bench: counted, not printed. */
static int64_t bench_write(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
			   uint64_t *resp_len)
{
	(void)ctx;
	(void)req;
	(void)resp;
	(void)resp_len;
	return len >= 8 ? (int64_t)(len - 8) : VEIL_OCALL_EINVAL;
}

/* The syscall set natively: the same handlers, called from the kernel with
 * requests built as the enclave runtime builds them (no ring change: a lower
 * bound for a native process, so the ratio overstates the enclave's cost). */
static uint64_t native_syscalls(uint64_t n)
{
	static uint8_t req[8 + 16], resp[PAGE_SIZE];
	uint64_t i, x = 0, rl, two[2] = { 0, 16 }, clk = 1;

	memcpy(req + 8, "0123456789abcde", 16);
	for (i = 0; i < n; i++) {
		x += (uint64_t)os_getpid(0, 0, 0, resp, &rl);
		x += (uint64_t)bench_write(0, req, sizeof(req), resp, &rl);
		x += (uint64_t)os_read(0, (const uint8_t *)two, sizeof(two), resp, &rl);
		x += (uint64_t)os_clock(0, (const uint8_t *)&clk, 8, resp, &rl);
	}
	return x;
}

/* The prototype's syscall set natively, request by request as the enclave
 * runtime builds them (see probe.c work_proto). */
static uint64_t native_proto(uint64_t n)
{
	static uint8_t open_req[8 + 14], w[8 + 64], resp[PAGE_SIZE];
	uint64_t i, x = 0, rl, a[2], len = 4096;
	int64_t fd, m, s;

	memcpy(open_req + 8, "/etc/hostname", 14);
	for (i = 0; i < n; i++) {
		fd = host_open(0, open_req, sizeof(open_req), resp, &rl);
		x += (uint64_t)os_getpid(0, 0, 0, resp, &rl);
		m = host_mmap(0, (const uint8_t *)&len, 8, resp, &rl);
		a[0] = (uint64_t)fd;
		a[1] = 16;
		x += (uint64_t)os_read(0, (const uint8_t *)a, sizeof(a), resp, &rl);
		x += (uint64_t)bench_write(0, w, 8 + 16, resp, &rl);
		x += (uint64_t)bench_write(0, w, 8 + ksnprintf((char *)w + 8, 56, "round %lu\n", i),
					   resp, &rl);
		a[0] = (uint64_t)m;
		a[1] = 4096;
		x += (uint64_t)host_munmap(0, (const uint8_t *)a, sizeof(a), resp, &rl);
		a[0] = 1;
		a[1] = 1;
		s = host_socket(0, (const uint8_t *)a, sizeof(a), resp, &rl);
		x += (uint64_t)host_close(0, (const uint8_t *)&s, 8, resp, &rl);
		x += (uint64_t)host_close(0, (const uint8_t *)&fd, 8, resp, &rl);
	}
	return x;
}

/* One call of the prototype's set natively (work.h), request by request as
 * the enclave runtime builds them; returns what the enclave's work_one adds. */
static uint64_t native_one_round(unsigned kind, uint64_t i)
{
	static uint8_t open_req[8 + 14] = { [8] = '/', 'e', 't', 'c', '/', 'h', 'o',
					    's',       't', 'n', 'a', 'm', 'e' };
	static uint8_t w[8 + 64], resp[PAGE_SIZE];
	uint64_t rl, a[2] = { 0, 16 }, len = PAGE_SIZE;
	int64_t fd, m;

	switch (kind) {
	case WORK_GETPID:
		return (uint64_t)os_getpid(0, 0, 0, resp, &rl);
	case WORK_OPEN:
		fd = host_open(0, open_req, sizeof(open_req), resp, &rl);
		return (uint64_t)fd + (uint64_t)host_close(0, (const uint8_t *)&fd, 8, resp, &rl);
	case WORK_READ:
		return (uint64_t)os_read(0, (const uint8_t *)a, sizeof(a), resp, &rl);
	case WORK_WRITE:
		return (uint64_t)bench_write(0, w, 8 + 16, resp, &rl);
	case WORK_PRINTF:
		return (uint64_t)bench_write(
			0, w, 8 + ksnprintf((char *)w + 8, 56, "round %lu\n", i), resp, &rl);
	case WORK_MMAP:
		m = host_mmap(0, (const uint8_t *)&len, 8, resp, &rl);
		a[0] = (uint64_t)m;
		a[1] = PAGE_SIZE;
		return (uint64_t)(m >= 0) +
		       (uint64_t)host_munmap(0, (const uint8_t *)a, sizeof(a), resp, &rl);
	case WORK_SOCKET:
		a[0] = 1;
		a[1] = 1;
		fd = host_socket(0, (const uint8_t *)a, sizeof(a), resp, &rl);
		return (uint64_t)fd + (uint64_t)host_close(0, (const uint8_t *)&fd, 8, resp, &rl);
	default:
		return ~0ULL;
	}
}

static const char *const work_one_names[WORK_N] = { "getpid", "open", "read",  "write",
						    "printf", "mmap", "socket" };

/* The work=NAME of one call, or WORK_N. */
static unsigned work_one_kind(const char *work)
{
	unsigned k;

	for (k = 0; k < WORK_N; k++)
		if (!strncmp(work, work_one_names[k], 16))
			return k;
	return WORK_N;
}

static uint64_t native_work(const char *work, uint64_t n)
{
	unsigned kind = work_one_kind(work);
	uint64_t i, x = 0;

	if (!strncmp(work, "compute", 16))
		return work_compute(n);
	if (!strncmp(work, "proto", 16))
		return native_proto(n);
	if (kind == WORK_N)
		return native_syscalls(n);
	for (i = 0; i < n; i++)
		x += native_one_round(kind, i);
	return x;
}

/* The probe's argument for the same work. */
static uint64_t enclave_work(const char *work, uint64_t n)
{
	unsigned kind = work_one_kind(work);

	if (!strncmp(work, "compute", 16))
		return PROBE(10, n);
	if (!strncmp(work, "proto", 16))
		return PROBE(15, n);
	return kind == WORK_N ? PROBE(9, n) : PROBE(17, WORK_ONE_ARG(kind, n));
}

/* "where=enclave|native work=syscalls|proto|compute|getpid|open|read|write|
 * printf|mmap|socket n=N": one run; both sides compute the same result. */
static int bench_enclave(void)
{
	char where[16] = "enclave", work[16] = "syscalls";
	uint64_t n = cmdline_num("n", 1000), t0, t1, v = 0, rc = 0;
	struct veil_ocall_table t = table(0);
	bool in_enclave;
	struct enc e;

	cmdline_opt("where", where, sizeof(where));
	cmdline_opt("work", work, sizeof(work));
	in_enclave = !strncmp(where, "enclave", 16);
	t.fn[VEIL_OCALL_WRITE] = bench_write;
	if (in_enclave && create(enc_probe_start, enc_probe_end, &e))
		return -1;
	t0 = rdtsc();
	if (in_enclave)
		rc = veil_enclave_call(this_cpu()->caa, e.handle, enclave_work(work, n), &t, &v);
	else
		v = native_work(work, n);
	t1 = rdtsc();
	kprintf("bench-enclave: where %s work %s n %lu result 0x%lx tsc %lu\n", where, work, n, v,
		t1 - t0);
	check("bench-enclave", rc == SVSM_SUCCESS && v != ~0ULL, rc ? rc : v);
	if (in_enclave)
		destroy(&e);
	return 0;
}

/* ---- selection ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(void);
} scenarios[] = {
	{ "enclave-lifecycle", lifecycle },
	{ "enclave-faults", faults },
	{ "enclave-refusals", refusals },
	{ "attack-enclave-read", attack_read },
	{ "attack-enclave-write", attack_code_write },
	{ "attack-enclave-pt-write", attack_pt_write },
	{ "attack-enclave-vmsa-rip", attack_vmsa_rip },
	{ "attack-enclave-vmsa-vmpl", attack_vmsa_vmpl },
	{ "attack-enclave-vmsa-cr3", attack_vmsa_cr3 },
	{ "attack-enclave-enter-anywhere", attack_enter_anywhere },
	{ "attack-enclave-run-vmpl2", attack_run_vmpl2 },
	{ "attack-enclave-psc", attack_psc },
	{ "attack-enclave-registers", attack_regs },
	{ "attack-enclave-ap-vmsa", attack_ap_vmsa },
	{ "enclave-smp", smp },
	{ "enclave-ocalls", ocalls },
	{ "enclave-heap", heap },
	{ "enclave-signed", signed_images },
	{ "enclave-signer", signer_scenario },
	{ "attack-enclave-signer-key", attack_signer_key },
	{ "bench-enclave", bench_enclave },
	{ "attack-enclave-interrupt", enclave_irq_attack },
	{ "attack-enclave-interrupt-vmsa", enclave_irq_vmsa_attack },
};

int enclave_run_test(const char *name)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (!strncmp(scenarios[i].name, name, 64))
			return scenarios[i].run();
	return TEST_UNKNOWN;
}

void enclave_list_tests(void)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		kprintf("test %s\n", scenarios[i].name);
}
