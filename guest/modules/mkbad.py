#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mkbad.py - make the hostile module files the test OS feeds the monitor.

  mkbad.py flip-text SIGNED OUT      flip one byte of .text after signing
  mkbad.py flip-sig SIGNED OUT       flip one byte of the signature itself
  mkbad.py reloc-outside OBJ OUT     move the first .rela.text entry so that
                                     its 4 bytes end past .text (to sign next)
  mkbad.py not-elf OUT               bytes that are not an ELF object (to sign)
  mkbad.py null-alloc OBJ OUT        turn .note.GNU-stack into an allocated
                                     SHT_NULL section whose bytes lie far past
                                     the end of the file (to sign next): a
                                     loader that trusts the type field copies
                                     monitor memory into module pages

Each file has exactly one thing wrong, so each refusal has one reason.
"""
import struct
import sys

SIG_TRAILER = 8 + 8 + 64  # struct veil_sig_trailer (guest/include/veil/abi.h)


def sections(data):
    """(name, type, offset, size, info) of every section of an ELF64 REL object."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit("mkbad.py: not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
            for i in range(shnum)]
    strtab_off = hdrs[shstrndx][4]

    def name(off):
        end = data.index(b"\0", strtab_off + off)
        return data[strtab_off + off:end].decode()

    return [(name(h[0]), h[1], h[4], h[5], h[7]) for h in hdrs]


def section_header_offset(data, index):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, = struct.unpack_from("<H", data, 0x3A)
    return shoff + index * shentsize


def find(secs, want):
    for i, s in enumerate(secs):
        if s[0] == want:
            return i, s
    sys.exit("mkbad.py: no section " + want)


def flip(data, off):
    data[off] ^= 0x01
    return data


def main(argv):
    if len(argv) == 2 and argv[0] == "not-elf":
        out = bytearray(b"VEIL-NOT-AN-ELF-OBJECT\n" * 16)
    elif len(argv) == 3 and argv[0] == "flip-text":
        data = bytearray(open(argv[1], "rb").read())
        _, text = find(sections(data[:-SIG_TRAILER]), ".text")
        out = flip(data, text[2] + text[3] // 2)
    elif len(argv) == 3 and argv[0] == "flip-sig":
        data = bytearray(open(argv[1], "rb").read())
        out = flip(data, len(data) - 20)
    elif len(argv) == 3 and argv[0] == "reloc-outside":
        data = bytearray(open(argv[1], "rb").read())
        secs = sections(data)
        _, text = find(secs, ".text")
        _, rela = find(secs, ".rela.text")
        # r_offset of entry 0: the 4-byte field now straddles the end of .text.
        struct.pack_into("<Q", data, rela[2], text[3] - 2)
        out = data
    elif len(argv) == 3 and argv[0] == "null-alloc":
        data = bytearray(open(argv[1], "rb").read())
        idx, _ = find(sections(data), ".note.GNU-stack")
        off = section_header_offset(data, idx)
        # sh_type = SHT_NULL, sh_flags = SHF_ALLOC, sh_offset = 256 KiB (the
        # end of the monitor's copy of the file), sh_size = one page.
        struct.pack_into("<I", data, off + 4, 0)
        struct.pack_into("<QQQQ", data, off + 8, 0x2, 0, 0x40000, 0x1000)
        struct.pack_into("<QQ", data, off + 48, 8, 0)
        out = data
    else:
        sys.exit(__doc__)
    open(argv[-1], "wb").write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
