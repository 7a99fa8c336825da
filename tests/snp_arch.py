# SPDX-License-Identifier: MIT
"""The SEV-SNP constants of include/snp/arch.h for the Python tests.

One source for every layout: this reads the header's `#define NAME number`
lines (VMSA_*, GHCB_*, SVM_EXIT_*, GHCB_MSR_*...; SNP_ULL(n) is n) instead of
keeping a copy.
"""
import os
import re

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "snp",
                      "arch.h")


def _load():
    consts = {}
    with open(HEADER) as f:
        for line in f:
            m = re.match(r"#define ([A-Z][A-Z0-9_]*)\s+(?:SNP_ULL\()?(0x[0-9A-Fa-f]+|[0-9]+)\b", line)
            if m:
                consts[m.group(1)] = int(m.group(2), 0)
    return consts


globals().update(_load())
