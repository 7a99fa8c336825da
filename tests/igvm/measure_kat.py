#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Recompute every SNP launch-digest step printed by measure_kat with hashlib.

PAGE_INFO (SNP firmware ABI 56860, SNP_LAUNCH_UPDATE): current digest (48),
contents hash (48), length 0x70 (u16), page type (u8), IMI (u8), VMPL3, VMPL2,
VMPL1 permissions (u8 each), reserved (u8), GPA (u64), little-endian; the new
digest is SHA-384 of that record. Only NORMAL (1) and VMSA (2) pages hash
their contents; the other types contribute 48 zero bytes.
"""
import hashlib
import subprocess
import sys


def step(ld, ptype, gpa, imi, p1, p2, p3, fill):
    if ptype in (1, 2):
        contents = hashlib.sha384(bytes([fill]) * 4096).digest()
    else:
        contents = bytes(48)
    rec = ld + contents + (0x70).to_bytes(2, "little") + bytes([ptype, imi, p3, p2, p1, 0])
    rec += gpa.to_bytes(8, "little")
    assert len(rec) == 0x70
    return hashlib.sha384(rec).digest()


def main():
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    ld = bytes(48)
    assert lines[0] == "init " + ld.hex(), lines[0]
    for n, line in enumerate(lines[1:], 1):
        f = line.split()
        ptype, gpa, imi, p1, p2, p3, fill = (int(f[0]), int(f[1], 16), int(f[2]), int(f[3]),
                                             int(f[4]), int(f[5]), int(f[6]))
        ld = step(ld, ptype, gpa, imi, p1, p2, p3, fill)
        if f[7] != ld.hex():
            print(f"step {n} (type {ptype} gpa {gpa:#x}): C {f[7]} != hashlib {ld.hex()}")
            return 1
    if len(lines) < 9:
        print("too few steps")
        return 1
    print(f"{len(lines) - 1} PAGE_INFO steps match; final {ld.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
