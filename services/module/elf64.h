/* SPDX-License-Identifier: MIT */
/* elf64.h - the ELF64 structures the module and enclave loaders read (freestanding). */
#ifndef VEIL_SERVICES_ELF64_H
#define VEIL_SERVICES_ELF64_H

#include <veil/types.h>

#define ELF64_ET_REL 1
#define ELF64_EM_X86_64 62
#define ELF64_MAX_SECTIONS 64
#define ELF64_SHT_NULL 0
#define ELF64_SHT_PROGBITS 1
#define ELF64_SHT_SYMTAB 2
#define ELF64_SHT_STRTAB 3
#define ELF64_SHT_RELA 4
#define ELF64_SHT_NOBITS 8
#define ELF64_SHF_WRITE 0x1
#define ELF64_SHF_ALLOC 0x2
#define ELF64_SHF_EXECINSTR 0x4
#define ELF64_SHN_UNDEF 0
#define ELF64_R_X86_64_64 1
#define ELF64_R_X86_64_PC32 2
#define ELF64_R_X86_64_PLT32 4
#define ELF64_R_X86_64_32 10
#define ELF64_R_X86_64_32S 11

struct elf64_ehdr {
	u8 e_ident[16];
	u16 e_type, e_machine;
	u32 e_version;
	u64 e_entry, e_phoff, e_shoff;
	u32 e_flags;
	u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

#define ELF64_ET_EXEC 2
#define ELF64_PT_LOAD 1
#define ELF64_PF_X 1
#define ELF64_PF_W 2
#define ELF64_PF_R 4

struct elf64_phdr {
	u32 p_type, p_flags;
	u64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

struct elf64_shdr {
	u32 sh_name, sh_type;
	u64 sh_flags, sh_addr, sh_offset, sh_size;
	u32 sh_link, sh_info;
	u64 sh_addralign, sh_entsize;
};

struct elf64_sym {
	u32 st_name;
	u8 st_info, st_other;
	u16 st_shndx;
	u64 st_value, st_size;
};

struct elf64_rela {
	u64 r_offset, r_info;
	s64 r_addend;
};

#endif
