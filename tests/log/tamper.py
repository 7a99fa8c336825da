#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tamper with a secure-log dump (docs/log-format.md) in one way.

    tamper.py KIND IN OUT      write a modified copy of IN to OUT
    tamper.py --list           the kinds, with what `veil-log verify` must say

Each kind returns (data, expect): `expect` is a regular expression that the
verifier's output must match, naming the record or the header field at fault.
"""
import re
import struct
import sys

HDR = struct.Struct("<8sII4Q32s")  # magic, version, sections, count, drops, capacity, used, head
REC = struct.Struct("<QQIIII32s")  # seq, tsc, vcpu, len, origin, reserved, hash
OFF_REC_HASH, OFF_REC_ORIGIN = 32, 24
ORIGIN_OS, ORIGIN_MONITOR = 1, 2
OFF_SECTIONS, OFF_COUNT, OFF_DROPS, OFF_USED, OFF_HEAD = 12, 16, 24, 40, 48


def records(data):
    """Byte ranges (start, end) of the records after the header."""
    count = HDR.unpack_from(data)[3]
    out, off = [], HDR.size
    for _ in range(count):
        length = REC.unpack_from(data, off)[3]
        end = off + REC.size + ((length + 7) & ~7)
        out.append((off, end))
        off = end
    return out


def flip(data, pos):
    b = bytearray(data)
    b[pos] ^= 0x01
    return bytes(b)


def cut_tail(d):
    """Drop the last 8 bytes: the last record's payload is cut short."""
    n = len(records(d)) - 1
    return d[:-8], rf"record {n} at byte \d+: bad or truncated length"


def cut_record(d):
    """Drop the whole last record."""
    r = records(d)
    return d[: r[-1][0]], rf"truncated: the header says {len(r)} records, the file holds {len(r) - 1}"


def cut_header(d):
    return d[:40], r"bad magic"


def swap(d):
    """Exchange records 1 and 2."""
    r = records(d)
    a, b = d[r[1][0] : r[1][1]], d[r[2][0] : r[2][1]]
    return d[: r[1][0]] + b + a + d[r[2][1] :], r"record 1 at byte \d+: sequence number 2, expected 1"


def insert(d):
    """A copy of record 1 right after it."""
    r = records(d)
    return (
        d[: r[1][1]] + d[r[1][0] : r[1][1]] + d[r[1][1] :],
        r"record 2 at byte \d+: sequence number 1, expected 2",
    )


def append_copy(d):
    """A copy of the last record after the end (the header still counts n)."""
    r = records(d)
    return d + d[r[-1][0] : r[-1][1]], rf"record {len(r)}|trailing|after the last record"


def remove(d):
    """Record 2 taken out."""
    r = records(d)
    return d[: r[2][0]] + d[r[2][1] :], r"record 2 at byte \d+: sequence number 3, expected 2"


def payload(d):
    r = records(d)
    return flip(d, r[2][0] + REC.size + 3), r"record 2 at byte \d+: hash chain broken"


def hash_byte(d):
    r = records(d)
    return flip(d, r[2][0] + OFF_REC_HASH + 5), r"record 2 at byte \d+: hash chain broken"


def last_hash(d):
    r = records(d)
    n = len(r) - 1
    return flip(d, r[n][0] + OFF_REC_HASH), rf"record {n} at byte \d+: hash chain broken"


def tsc(d):
    r = records(d)
    return flip(d, r[1][0] + 8), r"record 1 at byte \d+: hash chain broken"


def vcpu(d):
    r = records(d)
    return flip(d, r[3][0] + 16), r"record 3 at byte \d+: hash chain broken"


def seq(d):
    r = records(d)
    b = bytearray(d)
    struct.pack_into("<Q", b, r[3][0], 7)
    return bytes(b), r"record 3 at byte \d+: sequence number 7, expected 3"


def count_down(d):
    b = bytearray(d)
    struct.pack_into("<Q", b, OFF_COUNT, HDR.unpack_from(d)[3] - 1)
    return bytes(b), r"head mismatch"


def count_up(d):
    n = HDR.unpack_from(d)[3]
    b = bytearray(d)
    struct.pack_into("<Q", b, OFF_COUNT, n + 1)
    return bytes(b), rf"truncated: the header says {n + 1} records, the file holds {n}"


def head(d):
    return flip(d, OFF_HEAD + 31), r"head mismatch"


def hide_last(d):
    """A consistent forged header (count - 1, used and head of record n-2)
    with the last record still in the file: only the trailing bytes betray it."""
    r = records(d)
    b = bytearray(d)
    struct.pack_into("<Q", b, OFF_COUNT, len(r) - 1)
    struct.pack_into("<Q", b, OFF_USED, r[-1][0] - HDR.size)
    b[OFF_HEAD : OFF_HEAD + 32] = d[r[-2][0] + OFF_REC_HASH : r[-2][0] + OFF_REC_HASH + 32]
    return bytes(b), r"trailing|after the last record"


def origin(d):
    """Record 2, appended by the OS, relabelled as the monitor's."""
    r = records(d)
    b = bytearray(d)
    struct.pack_into("<I", b, r[2][0] + OFF_REC_ORIGIN, ORIGIN_MONITOR)
    return bytes(b), r"record 2 at byte \d+: hash chain broken"


def reserved(d):
    r = records(d)
    return flip(d, r[1][0] + OFF_REC_ORIGIN + 4), r"record 1 at byte \d+: hash chain broken"


def padding(d):
    """A non-zero byte in the padding after record 0's payload (not hashed)."""
    r = records(d)
    n = REC.unpack_from(d, r[0][0])[3]
    assert n % 8, "record 0 has no padding"
    return flip(d, r[0][0] + REC.size + n), r"record 0 at byte \d+: padding byte 0 is not zero"


def used(d):
    b = bytearray(d)
    struct.pack_into("<Q", b, OFF_USED, HDR.unpack_from(d)[6] + 8)
    return bytes(b), r"header says \d+ bytes used, the records take \d+"


def sections_up(d):
    """The header announces a section the file does not hold."""
    b = bytearray(d)
    struct.pack_into("<I", b, OFF_SECTIONS, 1)
    return bytes(b), r"section 0 at byte \d+: truncated \(the header says 1 sections\)"


def section_trailing(d):
    """One well-formed section, then bytes no section accounts for."""
    b = bytearray(d)
    struct.pack_into("<I", b, OFF_SECTIONS, 1)
    return bytes(b) + struct.pack("<II", 1, 8) + b"x" * 8 + b"junk" * 2, r"trailing data"


KINDS = {
    f.__name__.replace("_", "-"): f
    for f in (cut_tail, cut_record, cut_header, swap, insert, append_copy, remove, payload,
              hash_byte, last_hash, tsc, vcpu, seq, count_down, count_up, head, hide_last,
              origin, reserved, padding, used, sections_up, section_trailing)
}


# Changes the chain cannot see: verify passes but must name the changed value
# as unauthenticated (docs/log-format.md).
def drops(d):
    b = bytearray(d)
    struct.pack_into("<Q", b, OFF_DROPS, 777)
    return bytes(b), r"^unauthenticated: drops 777, capacity \d+"


def add_section(d):
    b = bytearray(d)
    struct.pack_into("<I", b, OFF_SECTIONS, 1)
    return bytes(b) + struct.pack("<II", 1, 5) + b"hello\0\0\0", (
        r"^unauthenticated: drops \d+, capacity \d+, section 0 \(type 1, 5 bytes\)")


UNAUTHENTICATED = {"drops": drops, "add-section": add_section}


def tamper(kind, data):
    return KINDS[kind](data)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for k, f in KINDS.items():
            print(f"{k:12} {(f.__doc__ or '').strip().splitlines()[0] if f.__doc__ else ''}")
        return 0
    if len(argv) != 4 or argv[1] not in KINDS:
        sys.stderr.write(__doc__)
        return 2
    data, expect = tamper(argv[1], open(argv[2], "rb").read())
    open(argv[3], "wb").write(data)
    print(expect)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
