#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a tiny x86-64 ELF64 executable (one PT_LOAD of one page at ADDR: a
spin loop `pause; jmp .-2` then filler bytes), a second, different OS image for
the IGVM tests. usage: tiny_os.py OUT ADDR
"""
import struct
import sys


def main():
    out, addr = sys.argv[1], int(sys.argv[2], 0)
    code = bytes([0xF3, 0x90, 0xEB, 0xFC]) + bytes(range(256)) * 4
    ehdr_size, phdr_size = 64, 56
    off = 0x1000
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, addr, ehdr_size, 0, 0, ehdr_size, phdr_size,
                        1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, off, addr, addr, len(code), len(code) + 0x2000, 0x1000)
    img = ehdr + phdr
    img += bytes(off - len(img)) + code
    open(out, "wb").write(img)


if __name__ == "__main__":
    main()
