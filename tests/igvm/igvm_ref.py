#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent reading of an IGVM file, for the tests: checks the fixed
header and its CRC-32 (zlib), lists the headers, and computes the SNP launch
digest with hashlib the way QEMU's IGVM loader drives SNP_LAUNCH_UPDATE:

  PAGE_DATA: unmeasured flag -> UNMEASURED (4); data type SECRETS -> 5;
             CPUID_DATA / CPUID_XF -> 6; else NORMAL (1), with or without file
             data (QEMU's target/i386/sev.c gives its ZERO pages to
             launch_update_data, KVM_SEV_SNP_PAGE_TYPE_NORMAL: a page of
             zeros hashed)
  PARAMETER_INSERT: every page of the area -> UNMEASURED (4)
  VP_CONTEXT: the VMSA (2) at 0xFFFFFFFFF000, after everything else

PAGE_INFO (SNP firmware ABI 56860): digest, contents hash, length 0x70 (u16),
type, IMI, VMPL3/2/1 perms, reserved, GPA (u64); contents hash is SHA-384 of the
page for NORMAL and VMSA, else 48 zero bytes.

usage: igvm_ref.py digest FILE | igvm_ref.py headers FILE
"""
import hashlib
import struct
import sys
import zlib


def headers(buf):
    magic, ver, off, size, total, crc = struct.unpack_from("<6I", buf, 0)
    assert magic == 0x4D564749 and ver == 1 and total == len(buf)
    calc = zlib.crc32(buf[:20] + b"\0\0\0\0" + buf[24:off + size]) & 0xFFFFFFFF
    assert calc == crc, "checksum %#x != %#x" % (calc, crc)
    pos, out = off, []
    while pos < off + size:
        typ, length = struct.unpack_from("<II", buf, pos)
        out.append((typ, bytes(buf[pos + 8:pos + 8 + length])))
        pos += 8 + ((length + 7) & ~7)
    return out


def page_info(ld, ptype, gpa, contents):
    rec = ld + contents + struct.pack("<HBBBBBBQ", 0x70, ptype, 0, 0, 0, 0, 0, gpa)
    return hashlib.sha384(rec).digest()


def digest(buf):
    hs = headers(buf)
    snp = 0
    areas = {}
    for typ, d in hs:
        if typ == 0x1 and d[5] == 2:
            snp |= struct.unpack_from("<I", d, 0)[0]
        if typ == 0x301:
            n, idx, _ = struct.unpack_from("<QII", d, 0)
            areas[idx] = n
    ld, vmsa = bytes(48), None
    for typ, d in hs:
        if typ == 0x302:
            gpa, mask, foff, flags, dtype = struct.unpack_from("<QIIIH", d, 0)
            if not mask & snp:
                continue
            if dtype == 1:
                t = 5
            elif dtype in (2, 3):
                t = 6
            elif flags & 2:
                t = 4
            else:
                t = 1
            data = buf[foff:foff + 4096] if foff else bytes(4096)
            c = hashlib.sha384(data).digest() if t == 1 else bytes(48)
            ld = page_info(ld, t, gpa, c)
        elif typ == 0x303:
            gpa, mask, idx = struct.unpack_from("<QII", d, 0)
            if mask & snp:
                for o in range(0, areas[idx], 4096):
                    ld = page_info(ld, 4, gpa + o, bytes(48))
        elif typ == 0x304:
            gpa, mask, foff = struct.unpack_from("<QII", d, 0)
            if mask & snp:
                vmsa = (gpa, buf[foff:foff + 4096])
    assert vmsa and vmsa[0] == 0xFFFFFFFFF000
    return page_info(ld, 2, vmsa[0], hashlib.sha384(vmsa[1]).digest())


def main():
    buf = open(sys.argv[2], "rb").read()
    if sys.argv[1] == "digest":
        print(digest(buf).hex())
    else:
        for typ, d in headers(buf):
            print("%#x %d" % (typ, len(d)))


if __name__ == "__main__":
    main()
