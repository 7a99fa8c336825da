#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""linux-kallsyms: a Linux kernel's symbols, read out of its bzImage.

Debian's cloud kernel packages ship a placeholder System.map and no vmlinux,
but every kernel built with CONFIG_KALLSYMS carries its own symbol table (the
one /proc/kallsyms prints) inside the compressed vmlinux. This tool:

1. finds the compressed vmlinux through the x86 boot protocol's setup header
   (Linux Documentation/arch/x86/boot.rst: setup_sects at 0x1F1, "HdrS" at
   0x202, payload_offset/payload_length at 0x248/0x24C, the payload counted
   from the protected-mode code at (setup_sects + 1) * 512); the build appends
   the uncompressed size as a little-endian u32, which is checked;
2. decompresses it (zstd with the zstd command; xz, lzma, gzip with Python);
3. finds the kallsyms tables in the ELF by their shape, since nothing names
   them: kallsyms_token_table is 256 NUL-terminated strings in which the
   single characters '0'..'9' stand for themselves at indices 0x30..0x39 (the
   compressor keeps a used character as its own token), and
   kallsyms_token_index right after it holds the offset of each string;
4. decodes them in the layout Linux 6.10 and later emit (scripts/kallsyms.c):
   kallsyms_num_syms, kallsyms_names, kallsyms_markers, token_table,
   token_index, kallsyms_offsets, kallsyms_relative_base, each 8-aligned;
   a name is a ULEB128 length (one or two bytes) and that many token indices,
   whose expansion starts with the symbol's type letter; an address is
   relative_base + offset, or with CONFIG_KALLSYMS_ABSOLUTE_PERCPU a
   non-negative offset is absolute (per-CPU symbols) and a negative one gives
   relative_base - 1 - offset (kernel/kallsyms.c, kallsyms_sym_address);
5. checks the result (markers match the names, _text is the start of .text)
   and writes a System.map ("ffffffff81000000 T _text", sorted by address),
   and with --elf an ELF file of symbols only that gdb loads with
   `symbol-file` (the vmlinux's sections as NOBITS, a .symtab, no code).

The addresses are the link-time ones: valid for a kernel booted with
"nokaslr"; under KASLR everything moves by one offset the kernel keeps to
itself (gdb: `symbol-file -o OFFSET`).
"""
import argparse
import bisect
import gzip
import lzma
import os
import shutil
import struct
import subprocess
import sys


class Bad(Exception):
    """Input this tool cannot use: one line for the user."""


# ---- the bzImage and its payload ---------------------------------------------


def payload_of(img):
    """The compressed vmlinux and its expected uncompressed size."""
    if len(img) < 0x250 or img[0x202:0x206] != b"HdrS":
        raise Bad("not a bzImage (no 'HdrS' setup header at 0x202)")
    version = struct.unpack_from("<H", img, 0x206)[0]
    if version < 0x208:
        raise Bad("boot protocol %#x has no payload_offset (needs 2.08+)" % version)
    sects = img[0x1F1] or 4
    off, length = struct.unpack_from("<II", img, 0x248)
    start = (sects + 1) * 512 + off
    if length < 8 or start + length > len(img):
        raise Bad("payload_offset/payload_length point outside the file")
    data = img[start:start + length]
    return data[:-4], struct.unpack_from("<I", data, len(data) - 4)[0]


def decompress(data):
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        tool = shutil.which("zstd")
        if not tool:
            raise Bad("the kernel is zstd-compressed and there is no zstd command "
                      "(Debian package zstd; scripts/setup.sh installs it)")
        p = subprocess.run([tool, "-dcq"], input=data, capture_output=True)
        if p.returncode:
            raise Bad("zstd cannot decompress the payload: %s"
                      % p.stderr.decode(errors="replace").strip().splitlines()[-1:])
        return p.stdout
    try:
        if data.startswith(b"\xfd7zXZ\x00"):
            return lzma.decompress(data, format=lzma.FORMAT_XZ)
        if data.startswith(b"\x5d\x00\x00"):
            return lzma.decompress(data, format=lzma.FORMAT_ALONE)
        if data.startswith(b"\x1f\x8b"):
            return gzip.decompress(data)
    except (lzma.LZMAError, OSError, EOFError) as e:
        raise Bad("cannot decompress the payload: %s" % e)
    raise Bad("payload compression not supported (magic %s; zstd, xz, lzma and gzip are)"
              % data[:4].hex())


# ---- the vmlinux ELF ---------------------------------------------------------


def elf_sections(elf):
    """(name, type, flags, addr, size, align) of each section of a 64-bit ELF."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise Bad("the decompressed payload is not a 64-bit little-endian ELF")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    if shentsize != 64 or shoff + shnum * 64 > len(elf) or shstrndx >= shnum:
        raise Bad("the vmlinux's section headers are damaged")
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * 64) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = []
    for h in hdrs:
        end = elf.find(b"\0", stroff + h[0])
        out.append((elf[stroff + h[0]:end].decode("ascii", "replace"), h[1], h[2], h[3], h[5], h[8]))
    return out


def align8(x):
    return (x + 7) & ~7


def u32(d, o):
    return struct.unpack_from("<I", d, o)[0]


# ---- kallsyms ----------------------------------------------------------------


def token_tables(d):
    """File offsets of kallsyms_token_table and kallsyms_token_index; the tokens."""
    digits = b"".join(bytes([c]) + b"\0" for c in b"0123456789")
    found = []
    at = d.find(digits)
    while at >= 0:
        start = at
        for _ in range(0x30):  # back over the strings of tokens 0x2F..0x00
            start = d.rfind(b"\0", 0, start - 1) + 1
        offs, q = [], start
        for _ in range(256):
            offs.append(q - start)
            q = d.find(b"\0", q) + 1
            if q == 0:
                break
        index = align8(q)
        if len(offs) == 256 and index + 512 <= len(d) and \
                list(struct.unpack_from("<256H", d, index)) == offs:
            toks = [d[start + o:d.find(b"\0", start + o)] for o in offs]
            found.append((start, index, toks))
        at = d.find(digits, at + 1)
    if len(found) != 1:
        raise Bad("%s kallsyms token table in the vmlinux (is CONFIG_KALLSYMS set?)"
                  % ("no" if not found else "more than one"))
    return found[0]


def markers_before(d, table):
    """kallsyms_markers: u32s ending before the token table, the first 0."""
    p = table
    while p > table - 8 and u32(d, p - 4) == 0:
        p -= 4
    end, vals = p, []
    while p >= 4:
        v = u32(d, p - 4)
        p -= 4
        vals.append(v)
        if v == 0:
            break
        if len(vals) > 1 and v >= vals[-2]:
            raise Bad("no kallsyms_markers before the token table (not Linux 6.10+'s layout)")
    vals.reverse()
    if not vals or vals[0] != 0:
        raise Bad("no kallsyms_markers before the token table (not Linux 6.10+'s layout)")
    return p, end, vals


def decode_names(d, at, n, toks, limit):
    """n names from kallsyms_names at `at`; their type+name strings and stream offsets."""
    names, starts, p = [], [], at
    cache = {}
    for _ in range(n):
        if p >= limit:
            raise ValueError
        starts.append(p - at)
        ln = d[p]
        p += 1
        if ln & 0x80:
            ln = (ln & 0x7F) | (d[p] << 7)
            p += 1
        if ln == 0 or p + ln > limit:
            raise ValueError
        key = d[p:p + ln]
        s = cache.get(key)
        if s is None:
            s = b"".join(toks[c] for c in key)
            cache[key] = s
        names.append(s)
        p += ln
    return names, starts, p


def names_and_count(d, toks, mstart, markers):
    """kallsyms_num_syms and kallsyms_names, found back from the markers."""
    m = len(markers)
    # kallsyms_names ends at most 7 bytes of padding before the markers; the
    # last 256-block starts at markers[-1]: num_syms sits 8 bytes before names.
    for names_at in range(align8(mstart - markers[-1] - 8) - 8 * 0, 7, -8):
        if mstart - names_at > markers[-1] + 256 * 0x4002:
            break
        n = u32(d, names_at - 8)
        if n == 0 or (n + 255) // 256 != m:
            continue
        try:
            names, starts, end = decode_names(d, names_at, n, toks, mstart)
        except ValueError:
            continue
        if align8(end) == mstart and all(starts[i * 256] == markers[i] for i in range(m)):
            return n, names
    raise Bad("no kallsyms_num_syms/kallsyms_names matching the markers")


def addresses(d, index, n, text_addr, names):
    """Symbol addresses from kallsyms_offsets and kallsyms_relative_base."""
    offs = struct.unpack_from("<%di" % n, d, index + 512)
    base, = struct.unpack_from("<Q", d, align8(index + 512 + 4 * n))
    mask = (1 << 64) - 1
    plain = [(base + (o & 0xFFFFFFFF)) & mask for o in offs]
    percpu = [o if o >= 0 else (base - 1 - o) & mask for o in offs]
    try:
        i = names.index(b"T_text")
    except ValueError:
        raise Bad("the kallsyms tables have no _text symbol")
    for addrs in (percpu, plain):
        if addrs[i] == text_addr:
            return addrs
    raise Bad("kallsyms offsets do not put _text at the start of .text (%#x)" % text_addr)


def kallsyms(elf):
    secs = elf_sections(elf)
    text = [s for s in secs if s[0] == ".text"]
    if not text:
        raise Bad("the vmlinux has no .text section")
    table, index, toks = token_tables(elf)
    mstart, mend, markers = markers_before(elf, table)
    n, names = names_and_count(elf, toks, mstart, markers)
    addrs = addresses(elf, index, n, text[0][3], names)
    syms = []
    for a, s in zip(addrs, names):
        t, name = chr(s[0]), s[1:].decode("ascii", "replace")
        syms.append((a, t, name))
    syms.sort(key=lambda x: x[0])
    return secs, syms


# ---- outputs -----------------------------------------------------------------


def write_map(path, syms):
    with open(path, "w") as f:
        for a, t, name in syms:
            f.write("%016x %s %s\n" % (a, t, name))


def write_elf(path, elf, secs, syms):
    """An ELF with the vmlinux's sections (NOBITS) and a symbol table."""
    entry, = struct.unpack_from("<Q", elf, 0x18)
    keep = [s for s in secs[1:] if s[2] & 2 and s[4]]  # SHF_ALLOC, non-empty
    names = [b""] + [s[0].encode() for s in keep] + [b".symtab", b".strtab", b".shstrtab"]
    shstr, shname = b"", []
    for nm in names:
        shname.append(len(shstr))
        shstr += nm + b"\0"
    ranges = sorted((s[3], s[3] + s[4], i + 1) for i, s in enumerate(keep) if s[3])
    starts = [r[0] for r in ranges]

    def shndx(a):
        k = bisect.bisect_right(starts, a) - 1
        return ranges[k][2] if k >= 0 and a < ranges[k][1] else 0xFFF1  # SHN_ABS

    text_like = "tTwW"
    distinct = sorted({a for a, _, _ in syms})
    local = [s for s in syms if s[1].islower()]
    glob = [s for s in syms if not s[1].islower()]
    strtab, sym = bytearray(b"\0"), bytearray(24)
    for a, t, name in local + glob:
        kind = 2 if t in text_like else (1 if t in "dDbBrRvV" else 0)
        bind = 0 if t.islower() else 1
        size = 0
        if kind == 2:
            k = bisect.bisect_right(distinct, a)
            size = distinct[k] - a if k < len(distinct) else 0
        sym += struct.pack("<IBBHQQ", len(strtab), (bind << 4) | kind, 0, shndx(a), a, size)
        strtab += name.encode() + b"\0"
    nsec = len(names)
    symtab_i = nsec - 3
    body = bytearray(64)
    off_sym = len(body)
    body += sym
    off_str = len(body)
    body += strtab
    off_shs = len(body)
    body += shstr
    shoff = align8(len(body))
    body += b"\0" * (shoff - len(body))
    body += b"\0" * 64
    for i, s in enumerate(keep):
        body += struct.pack("<IIQQQQIIQQ", shname[i + 1], 8, s[2], s[3], 0, s[4], 0, 0, s[5], 0)
    body += struct.pack("<IIQQQQIIQQ", shname[symtab_i], 2, 0, 0, off_sym, len(sym),
                        symtab_i + 1, 1 + len(local), 8, 24)
    body += struct.pack("<IIQQQQIIQQ", shname[symtab_i + 1], 3, 0, 0, off_str, len(strtab),
                        0, 0, 1, 0)
    body += struct.pack("<IIQQQQIIQQ", shname[symtab_i + 2], 3, 0, 0, off_shs, len(shstr),
                        0, 0, 1, 0)
    body[0:64] = (b"\x7fELF\x02\x01\x01" + b"\0" * 9 +
                  struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, 0, shoff, 0, 64, 0, 0, 64,
                              nsec, nsec - 1))
    with open(path, "wb") as f:
        f.write(body)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        print("linux-kallsyms: %s (see --help)" % message, file=sys.stderr)
        sys.exit(2)


def main():
    ap = Parser(
        prog="linux-kallsyms",
        description="Write a Linux kernel's System.map (and an ELF symbol file for gdb) "
        "from the kallsyms tables inside its bzImage. The addresses are link-time "
        "ones: valid when the kernel boots with nokaslr.")
    ap.add_argument("bzimage", help="the kernel (an x86 bzImage, e.g. vmlinuz-*)")
    ap.add_argument("-o", "--output", required=True, help="the System.map to write")
    ap.add_argument("--elf", help="also write an ELF with these symbols (gdb: symbol-file)")
    a = ap.parse_args()
    try:
        with open(a.bzimage, "rb") as f:
            img = f.read()
        data, size = payload_of(img)
        elf = decompress(data)
        if len(elf) != size:
            raise Bad("decompressed %d bytes, the bzImage says %d" % (len(elf), size))
        secs, syms = kallsyms(elf)
        write_map(a.output, syms)
        if a.elf:
            write_elf(a.elf, elf, secs, syms)
    except Bad as e:
        sys.exit("linux-kallsyms: %s: %s" % (a.bzimage, e))
    except (struct.error, IndexError, ValueError, UnicodeError) as e:
        sys.exit("linux-kallsyms: %s: damaged kernel image (%s)" % (a.bzimage, e))
    except OSError as e:
        sys.exit("linux-kallsyms: %s" % (e.strerror and "%s: %s" % (e.filename, e.strerror) or e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
