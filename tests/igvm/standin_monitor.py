#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Make a STAND-IN for the VMPL0 monitor image (issue 11's veil-monitor does not
exist on this branch): copy any x86-64 ELF64 executable and move its PT_LOAD
segments (p_paddr, p_vaddr) and entry point by one offset so the lowest segment
starts at BASE, the monitor region of an IGVM launch. The result is placed and
measured like the real image would be; it is never executed.

usage: standin_monitor.py IN OUT BASE
"""
import struct
import sys


def main():
    src, dst, base = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
    elf = bytearray(open(src, "rb").read())
    assert elf[:4] == b"\x7fELF" and elf[4] == 2, "not an ELF64 file"
    entry, phoff = struct.unpack_from("<QQ", elf, 0x18)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    loads = []
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", elf, off)[0] == 1:  # PT_LOAD
            loads.append(off)
    lowest = min(struct.unpack_from("<Q", elf, off + 0x18)[0] for off in loads) & ~0xFFF
    delta = base - lowest
    for off in loads:
        vaddr, paddr = struct.unpack_from("<QQ", elf, off + 0x10)
        struct.pack_into("<QQ", elf, off + 0x10, vaddr + delta, paddr + delta)
    struct.pack_into("<Q", elf, 0x18, entry + delta)
    open(dst, "wb").write(elf)


if __name__ == "__main__":
    main()
