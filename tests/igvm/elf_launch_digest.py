#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Recompute the launch digest of `veil-emu run --kernel ELF` (64 MiB) from the
ELF file with hashlib: every page of the image extent as NORMAL (contents: the
PT_LOAD file bytes at p_paddr, zeros elsewhere), then the 8 MiB monitor region
at the top as ZERO pages with the last page SECRETS (SNP firmware ABI 56860,
PAGE_INFO). usage: elf_launch_digest.py TOOL ELF
"""
import hashlib
import struct
import subprocess
import sys

MEM = 64 << 20


def page_info(ld, ptype, gpa, contents):
    return hashlib.sha384(ld + contents + struct.pack("<HBBBBBBQ", 0x70, ptype, 0, 0, 0, 0, 0,
                                                      gpa)).digest()


def main():
    tool, elf = sys.argv[1], sys.argv[2]
    out = subprocess.run([tool, elf], check=True, capture_output=True, text=True).stdout.split()
    start, end, got = int(out[0], 16), int(out[1], 16), out[2]
    img = open(elf, "rb").read()
    phoff, = struct.unpack_from("<Q", img, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", img, 0x36)
    mem = bytearray(end - start)
    for i in range(phnum):
        typ, _, off, _, paddr, filesz, memsz = struct.unpack_from("<IIQQQQQ", img, phoff + i * phentsize)
        if typ == 1 and memsz:
            mem[paddr - start:paddr - start + filesz] = img[off:off + filesz]
    ld = bytes(48)
    for a in range(start, end, 4096):
        ld = page_info(ld, 1, a, hashlib.sha384(mem[a - start:a - start + 4096]).digest())
    for a in range(MEM - (8 << 20), MEM, 4096):
        ld = page_info(ld, 5 if a == MEM - 4096 else 3, a, bytes(48))
    if ld.hex() != got:
        print("veil-emu measured %s, expected %s" % (got, ld.hex()))
        return 1
    print("ELF launch of %s (%#x-%#x): digest %s matches" % (elf, start, end, got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
