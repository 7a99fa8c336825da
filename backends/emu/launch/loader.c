/* SPDX-License-Identifier: MIT */
/* loader.c - ELF64 OS images for `veil-emu run`, checked like hostile input. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <veil/boot.h>

#include "emu_run.h"
#include "hostio.h"

static int fail(char *err, size_t n, const char *path, const char *why)
{
	snprintf(err, n, "%s: %s", path, why);
	return -1;
}

int emu_load_elf(struct emu_machine *m, const char *path, struct emu_run_params *p, char *err,
		 size_t errlen)
{
	uint64_t lo = UINT64_MAX, hi = 0, limit = emu_mem_size(m) - VEIL_MONITOR_SIZE;
	const Elf64_Ehdr *eh;
	uint8_t *img = NULL;
	size_t len = 0;
	unsigned i, loads = 0;
	int rc = -1;

	p->nr_segs = 0;
	/* hostio: a FIFO, a directory or an empty file is refused by name. */
	if (hio_read(path, 0, &img, &len, err, errlen))
		return -1;
	eh = (const Elf64_Ehdr *)img;
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		fail(err, errlen, path, "not an ELF file");
		goto out;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC) {
		fail(err, errlen, path, "not an x86-64 ELF64 executable (ET_EXEC)");
		goto out;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff) {
		fail(err, errlen, path, "program headers out of the file");
		goto out;
	}
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + i;
		uint64_t end;
		uint8_t *dst;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > len ||
		    ph->p_filesz > len - ph->p_offset) {
			fail(err, errlen, path, "a segment lies outside the file");
			goto out;
		}
		if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end) ||
		    ph->p_paddr < VEIL_BOOT_OS_MIN || end > limit) {
			snprintf(err, errlen,
				 "%s: segment at %#llx+%#llx is outside OS memory [%#llx, %#llx)",
				 path, (unsigned long long)ph->p_paddr,
				 (unsigned long long)ph->p_memsz,
				 (unsigned long long)VEIL_BOOT_OS_MIN, (unsigned long long)limit);
			goto out;
		}
		dst = emu_gpa_ptr(m, ph->p_paddr, ph->p_memsz);
		memcpy(dst, img + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		if (p->nr_segs == 8) {
			fail(err, errlen, path, "more than 8 loadable segments");
			goto out;
		}
		p->segs[p->nr_segs].gpa = ph->p_paddr & ~0xFFFULL;
		p->segs[p->nr_segs].len = ((end + 0xFFF) & ~0xFFFULL) - (ph->p_paddr & ~0xFFFULL);
		p->segs[p->nr_segs++].flags = ph->p_flags;
		lo = ph->p_paddr < lo ? ph->p_paddr : lo;
		hi = end > hi ? end : hi;
		loads++;
	}
	if (!loads) {
		fail(err, errlen, path, "no loadable segment");
		goto out;
	}
	p->kernel_start = lo & ~0xFFFULL;
	p->kernel_end = (hi + 0xFFF) & ~0xFFFULL;
	p->entry = eh->e_entry;
	if (p->entry < p->kernel_start || p->entry >= p->kernel_end) {
		fail(err, errlen, path, "entry point outside the loaded image");
		goto out;
	}
	rc = 0;
out:
	free(img);
	return rc;
}
