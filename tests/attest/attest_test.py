#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attestation tests (CTest label "attest"): veil-testos scenarios in veil-emu
(the OS's own VMPCK3 requests, the SVSM attestation protocol through the
monitor, attacks), the bundles they write to COM2 checked by veil-attest, a
cross-check of the model's certificates and report signatures by OpenSSL's
command-line tools, and veil-attest's and `veil-emu certs`' own errors.

    attest_test.py --emu VEIL_EMU --attest VEIL_ATTEST --work DIR CASE

Exit 0 = the case passed; every failure says what was expected and what came.
"""
import argparse
import hashlib
import os
import struct
import subprocess
import sys

REPORT_SIZE = 0x4A0
SIGNED_LEN = 0x2A0
BUNDLE_HDR = struct.Struct("<QII")
DIRECT_DATA = b"veil-testos direct VMPCK3"
DEFAULT_NONCE = bytes((n * 7 + 1) & 0xFF for n in range(64))


class Failed(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Failed(what)


class Ctx:
    def __init__(self, a):
        self.emu, self.attest, self.work = a.emu, a.attest, a.work
        self.igvm, self.testos, self.src, self.log = a.igvm, a.testos, a.src, a.log
        self.monitor = a.monitor
        os.makedirs(self.work, exist_ok=True)
        self._chain = {}

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, cmd, expect=None):
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if expect is not None and p.returncode != expect:
            raise Failed("%s: status %d, expected %d\n%s%s" % (
                " ".join(cmd), p.returncode, expect, p.stdout[-3000:], p.stderr[-2000:]))
        return p

    def boot(self, test, name, extra="", seed=None, passes=()):
        """Run a scenario; it must end with status 0 and print each PASS line named."""
        out = self.path(name + ".bin")
        cmd = [self.emu, "run", "--cmdline", ("test=%s %s" % (test, extra)).strip(),
               "--com2", out]
        if seed:
            cmd += ["--attest-seed", seed]
        con = self.run(cmd, expect=0).stdout
        need("FAIL" not in con, "a check failed:\n" + con[-3000:])
        for p in passes:
            need("PASS " + p + "\n" in con, "no 'PASS %s' in the console:\n%s" % (p, con[-3000:]))
        return out

    def chain(self, seed=None):
        key = seed or ""
        if key not in self._chain:
            d = self.path("chain-" + (seed or "default"))
            os.makedirs(d, exist_ok=True)
            cmd = [self.emu, "certs", d] + (["--attest-seed", seed] if seed else [])
            self.run(cmd, expect=0)
            self._chain[key] = d
        return self._chain[key]

    def build_other(self, mon):
        """The same launch with another OS command line (measured)."""
        f = self.path("other.igvm")
        self.run([self.igvm, "build", "--monitor", mon, "--os", self.testos, "--mem", "64",
                  "--cmdline", "test=all-ok", "-o", f], expect=0)
        return f

    def verify(self, bundle, args, expect, reason=None):
        p = self.run([self.attest, "verify", bundle, "--chain", self.chain()] + args)
        need(p.returncode == expect, "veil-attest verify %s: status %d, expected %d\n%s%s" % (
            " ".join(args), p.returncode, expect, p.stdout, p.stderr))
        if reason:
            lines = p.stderr.strip().splitlines()
            need(len(lines) == 1 and reason in lines[0],
                 "expected one line naming '%s', got:\n%s" % (reason, p.stderr))
        return p.stdout


def read_bundle(path):
    data = open(path, "rb").read()
    magic, rsize, msize = BUNDLE_HDR.unpack_from(data)
    need(rsize == REPORT_SIZE and len(data) == BUNDLE_HDR.size + rsize + msize,
         "malformed bundle %s" % path)
    rep = data[BUNDLE_HDR.size:BUNDLE_HDR.size + rsize]
    return data, rep, data[BUNDLE_HDR.size + rsize:]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---- scenarios ------------------------------------------------------------------------

def scenario_direct(c):
    b = c.boot("attest-direct", "direct", passes=[
        "direct-report", "direct-report-vmpl3", "direct-report-data", "direct-report-fields",
        "direct-key", "direct-key-stable", "direct-key-fields-differ", "direct-key-vmpl2-refused",
        "direct-ext-too-small", "direct-ext", "direct-ext-certs"])
    out = c.verify(b, ["--vmpl", "3", "--nonce", DIRECT_DATA.hex()], 0)
    need("report verified: VMPL 3" in out, out)


def scenario_svsm(c):
    b = c.boot("attest-svsm", "svsm", passes=[
        "svsm-small-manifest-buffer", "svsm-attest-services", "svsm-report-vmpl0",
        "svsm-manifest-guid", "svsm-report-data", "svsm-single-log"])
    out = c.verify(b, ["--nonce", DEFAULT_NONCE.hex()], 0)
    need("report verified: VMPL 0" in out and "kernel code integrity: locked" in out and
         "secure log:" in out and "modules: 0 loaded" in out, out)


def scenario_svsm_audit(c):
    """With audit on the log holds records; the manifest carries their head."""
    nonce = os.urandom(32)
    b = c.boot("attest-svsm", "svsm-audit", extra="audit=on nonce=" + nonce.hex(),
               passes=["svsm-report-data", "svsm-single-log"])
    out = c.verify(b, ["--nonce", nonce.hex()], 0)
    need("secure log: 0 records" not in out, "the log should hold records:\n" + out)
    c.verify(b, ["--nonce", DEFAULT_NONCE.hex()], 1, "another nonce")


def scenario_smp(c):
    """With 2 vCPUs (an AP started through the monitor) the protocol still works."""
    out = c.path("smp.bin")
    con = c.run([c.emu, "run", "--vcpus", "2", "--cmdline", "test=attest-svsm",
                 "--com2", out], expect=0).stdout
    need("FAIL" not in con, con[-2000:])
    c.verify(out, ["--nonce", DEFAULT_NONCE.hex()], 0)


def scenario_igvm_measurement(c):
    """An IGVM launch of the VMPL0 image: MEASUREMENT is the digest `veil-igvm
    measure` computes, and the image's attestation protocol works from it."""
    mon = c.monitor
    f = c.path("attest.igvm")
    c.run([c.igvm, "build", "--monitor", mon, "--os", c.testos, "--mem", "64", "--cmdline",
           "test=attest-svsm", "-o", f], expect=0)
    digest = c.run([c.igvm, "measure", f], expect=0).stdout.strip()
    out = c.path("igvm.bin")
    con = c.run([c.emu, "run", "--igvm", f, "--com2", out], expect=0).stdout
    need("FAIL" not in con and "launch digest: " + digest in con and
         "veil-monitor: VMPL0 image at" in con, con[-2000:])
    c.verify(out, ["--nonce", DEFAULT_NONCE.hex(), "--measurement", digest], 0)
    other = c.run([c.igvm, "measure", c.build_other(mon)], expect=0).stdout.strip()
    need(other != digest, "another image, the same digest")
    c.verify(out, ["--nonce", DEFAULT_NONCE.hex(), "--measurement", other], 1,
             "measurement")


def attack(test, passes):
    def run(c):
        c.boot(test, test, passes=passes)
    return run


def attack_forged_manifest(c):
    """The OS (or anyone on the way) changes the manifest: the log counters."""
    b = c.boot("attest-svsm", "forge", extra="audit=on")
    data, rep, man = read_bundle(b)
    off = BUNDLE_HDR.size + REPORT_SIZE
    # The log entry is the second; its data starts with count, drops.
    _, _, n = struct.unpack_from("<16sII", man)
    guid, eoff, esize = struct.unpack_from("<16sII", man, 24 + 24)
    count, drops = struct.unpack_from("<QQ", man, eoff)
    forged = bytearray(data)
    struct.pack_into("<QQ", forged, off + eoff, count, drops + 1)
    c.verify(write(c.path("forged-drops.bin"), forged), ["--nonce", DEFAULT_NONCE.hex()], 1,
             "manifest was changed")
    forged = bytearray(data)
    struct.pack_into("<QQ", forged, off + eoff, max(count - 1, 0), drops)
    forged[off + eoff + 32] ^= 1  # and a head byte
    c.verify(write(c.path("forged-head.bin"), forged), ["--nonce", DEFAULT_NONCE.hex()], 1,
             "manifest was changed")
    # A manifest cut off: the bundle's sizes disagree, or the binding breaks.
    cut = data[:len(data) - 8]
    cut = BUNDLE_HDR.pack(*BUNDLE_HDR.unpack_from(data)[:2], len(man) - 8) + \
        cut[BUNDLE_HDR.size:]
    c.verify(write(c.path("forged-cut.bin"), cut), ["--nonce", DEFAULT_NONCE.hex()], 1,
             "manifest was changed")


def attack_swapped_report(c):
    """A report from another run (another nonce) or another chip (another seed)."""
    n1, n2 = os.urandom(64), os.urandom(64)
    b1 = c.boot("attest-svsm", "run1", extra="nonce=" + n1.hex())
    b2 = c.boot("attest-svsm", "run2", extra="nonce=" + n2.hex())
    c.verify(b1, ["--nonce", n1.hex()], 0)
    c.verify(b2, ["--nonce", n1.hex()], 1, "another nonce")
    _, rep2, _ = read_bundle(b2)
    d1, _, man1 = read_bundle(b1)
    swapped = d1[:BUNDLE_HDR.size] + rep2 + man1  # run 2's report with run 1's manifest
    c.verify(write(c.path("swapped.bin"), swapped), ["--nonce", n1.hex()], 1, "another nonce")
    b3 = c.boot("attest-svsm", "other-chip", extra="nonce=" + n1.hex(), seed="another chip")
    c.verify(b3, ["--nonce", n1.hex()], 1, "not this chip's")


def attack_tampered_report(c):
    b = c.boot("attest-svsm", "tamper")
    data, _, _ = read_bundle(b)
    for name, off in (("vmpl", 0x30), ("measurement", 0x90), ("report_data", 0x50),
                      ("policy", 0x08), ("signature", 0x2A0)):
        t = bytearray(data)
        t[BUNDLE_HDR.size + off] ^= 0x01
        c.verify(write(c.path("tampered-%s.bin" % name), t), ["--nonce", DEFAULT_NONCE.hex()],
                 1, "signature does not verify")


def attack_wrong_expectations(c):
    d = c.boot("attest-direct", "direct-expect")
    c.verify(d, ["--nonce", DIRECT_DATA.hex()], 1, "claims VMPL 3, expected 0")
    c.verify(d, ["--vmpl", "3", "--nonce", (b"x" + DIRECT_DATA).hex()], 1, "not the nonce")
    c.verify(d, ["--vmpl", "3", "--measurement", "00" * 48], 1, "measurement")
    c.verify(d, ["--vmpl", "3", "--min-tcb", "3.0.15.0"], 1, "below --min-tcb")
    c.verify(d, ["--vmpl", "3", "--min-tcb", "3.0.14.209"], 0)
    s = c.boot("attest-svsm", "svsm-expect")
    c.verify(s, [], 1, "give --nonce")
    meas = subprocess.run([c.attest, "show", s], capture_output=True, text=True).stdout
    m = [l.split()[1] for l in meas.splitlines() if l.startswith("measurement ")]
    need(len(m) == 1, meas)
    c.verify(s, ["--nonce", DEFAULT_NONCE.hex(), "--measurement", m[0]], 0)


def attack_chain(c):
    """A chain whose VCEK was not signed by the ASK, or an ARK that is not the trust anchor."""
    s = c.boot("attest-svsm", "svsm-chain")
    good, other = c.chain(), c.chain("another chip")
    mixed = c.path("chain-mixed")
    os.makedirs(mixed, exist_ok=True)
    for f, src in (("ark.pem", good), ("ask.pem", good), ("vcek.pem", other)):
        write(os.path.join(mixed, f), open(os.path.join(src, f), "rb").read())
    p = c.run([c.attest, "verify", s, "--chain", mixed, "--nonce", DEFAULT_NONCE.hex()])
    need(p.returncode == 1 and "certificate chain" in p.stderr, p.stderr)
    for f, src in (("ark.pem", other), ("ask.pem", good), ("vcek.pem", good)):
        write(os.path.join(mixed, f), open(os.path.join(src, f), "rb").read())
    p = c.run([c.attest, "verify", s, "--chain", mixed, "--nonce", DEFAULT_NONCE.hex()])
    need(p.returncode == 1 and "certificate chain" in p.stderr, p.stderr)


# ---- a verifier we did not write: OpenSSL's command-line tools -------------------------

def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def der_sig(rep):
    r = der_int(rep[0x2A0:0x2A0 + 72][::-1])
    s = der_int(rep[0x2E8:0x2E8 + 72][::-1])
    body = r + s
    return b"\x30" + bytes([len(body)]) + body


def openssl_chain(c):
    d = c.chain()
    c.run(["openssl", "verify", "-CAfile", os.path.join(d, "ark.pem"), "-untrusted",
           os.path.join(d, "ask.pem"), os.path.join(d, "vcek.pem")], expect=0)
    # The chain file (ASK then ARK) as AMD's KDS serves it.
    c.run(["openssl", "verify", "-CAfile", os.path.join(d, "cert_chain.pem"),
           os.path.join(d, "vcek.pem")], expect=0)
    # Another seed's VCEK does not chain to this ARK.
    o = c.chain("another chip")
    c.run(["openssl", "verify", "-CAfile", os.path.join(d, "ark.pem"), "-untrusted",
           os.path.join(d, "ask.pem"), os.path.join(o, "vcek.pem")], expect=2)
    txt = c.run(["openssl", "x509", "-in", os.path.join(d, "vcek.pem"), "-noout", "-text"],
                expect=0).stdout
    need("NOT AMD" in txt and "rsassaPss" in txt and "secp384r1" in txt and
         "1.3.6.1.4.1.3704.1.3.3" in txt and "1.3.6.1.4.1.3704.1.4" in txt, txt)
    for f in ("ark.pem", "ask.pem"):
        t = c.run(["openssl", "x509", "-in", os.path.join(d, f), "-noout", "-text"],
                  expect=0).stdout
        need("NOT AMD" in t and "4096 bit" in t and "rsassaPss" in t, t)


def openssl_signature(c):
    d = c.chain()
    pub = c.path("vcek-pub.pem")
    write(pub, c.run(["openssl", "x509", "-in", os.path.join(d, "vcek.pem"), "-noout",
                      "-pubkey"], expect=0).stdout.encode())
    for test, name in (("attest-svsm", "ossl-svsm"), ("attest-direct", "ossl-direct")):
        _, rep, _ = read_bundle(c.boot(test, name))
        body = write(c.path(name + ".body"), rep[:SIGNED_LEN])
        sig = write(c.path(name + ".sig"), der_sig(rep))
        p = c.run(["openssl", "dgst", "-sha384", "-verify", pub, "-signature", sig, body])
        need(p.returncode == 0 and "Verified OK" in p.stdout, p.stdout + p.stderr)
        bad = bytearray(rep[:SIGNED_LEN])
        bad[0x90] ^= 0x80
        write(body, bad)
        p = c.run(["openssl", "dgst", "-sha384", "-verify", pub, "-signature", sig, body])
        need(p.returncode == 1, "OpenSSL accepted a changed report: " + p.stdout)


def openssl_chip_id(c):
    """The VCEK's hwID extension (read by OpenSSL's asn1 parser) is the report's CHIP_ID."""
    d = c.chain()
    der = c.path("vcek.der")
    c.run(["openssl", "x509", "-in", os.path.join(d, "vcek.pem"), "-outform", "DER", "-out",
           der], expect=0)
    txt = c.run(["openssl", "asn1parse", "-inform", "DER", "-in", der], expect=0).stdout
    lines = txt.splitlines()
    idx = [i for i, l in enumerate(lines) if "1.3.6.1.4.1.3704.1.4" in l]
    need(idx and "[HEX DUMP]:" in lines[idx[0] + 1], txt)
    hw = bytes.fromhex(lines[idx[0] + 1].split("[HEX DUMP]:")[1])
    _, rep, _ = read_bundle(c.boot("attest-svsm", "chip"))
    need(hw == rep[0x1A0:0x1E0], "hwID %s != CHIP_ID %s" % (hw.hex(), rep[0x1A0:0x1E0].hex()))


# ---- attested log dumps (veil-log verify --chain) --------------------------------------

LOG_HDR = struct.Struct("<8sIIQQQQ32s")  # magic, version, sections, count, drops, capacity,
LOG_REC = 64                              # used, head; records have a 64-byte header


def log_dump(c, name, nonce=None, attested=True):
    out = c.path(name + ".log")
    extra = "audit=on" + (" log-attest=1" if attested else "") + \
        (" nonce=" + nonce.hex() if nonce else "")
    con = c.run([c.emu, "run", "--cmdline", "test=log-audit " + extra, "--com2", out],
                expect=0).stdout
    need("PASS log-dump" in con and "FAIL" not in con, con[-2000:])
    return out


def log_verify(c, path, args, expect, reason=None):
    p = c.run([c.log, "verify", path] + args)
    need(p.returncode == expect, "veil-log verify %s: status %d, expected %d\n%s%s" % (
        " ".join(args), p.returncode, expect, p.stdout, p.stderr))
    if reason:
        need(reason in p.stdout, "expected '%s', got:\n%s" % (reason, p.stdout))
    return p.stdout


def log_records(data):
    """(header fields, list of (offset, size) of records, end of records)."""
    h = list(LOG_HDR.unpack_from(data))
    off, recs = LOG_HDR.size, []
    for _ in range(h[3]):
        ln = struct.unpack_from("<I", data, off + 20)[0]
        size = LOG_REC + ((ln + 7) & ~7)
        recs.append((off, size))
        off += size
    return h, recs, off


def log_attested(c):
    nonce = os.urandom(32)
    f = log_dump(c, "attested", nonce)
    out = log_verify(c, f, ["--chain", c.chain(), "--nonce", nonce.hex()], 0, "attested:")
    need("unauthenticated" not in out, out)
    log_verify(c, f, ["--chain", c.chain(), "--nonce", os.urandom(32).hex()], 1,
               "another nonce")
    log_verify(c, f, ["--chain", c.chain("another chip")], 1, "not this chip's")
    plain = log_dump(c, "plain", attested=False)
    log_verify(c, plain, [], 0, "unauthenticated")
    log_verify(c, plain, ["--chain", c.chain()], 1, "0 sections")


def log_forged_counters(c):
    """Counters the hash chain cannot cover: plain verify passes them, --chain does not."""
    data = open(log_dump(c, "forge"), "rb").read()
    for field, idx, delta in (("drops", 4, 1), ("capacity", 5, 4096)):
        h = list(LOG_HDR.unpack_from(data))
        h[idx] += delta
        f = write(c.path("forged-%s.log" % field), LOG_HDR.pack(*h) + data[LOG_HDR.size:])
        log_verify(c, f, [], 0)  # what the issue complained about
        log_verify(c, f, ["--chain", c.chain()], 1, "attested head does not match")


def log_truncated_rechained(c):
    """Drop the last records and recompute the (unkeyed) chain and header: only the
    attested head catches it."""
    data = open(log_dump(c, "cut"), "rb").read()
    h, recs, end = log_records(data)
    keep = recs[:-2]
    body = data[LOG_HDR.size:keep[-1][0] + keep[-1][1]]
    head = bytes.fromhex(data[keep[-1][0] + 32:keep[-1][0] + 64].hex())
    h[3], h[6], h[7] = len(keep), len(body), head
    f = write(c.path("cut.log"), LOG_HDR.pack(*h) + body + data[end:])
    log_verify(c, f, [], 0)
    log_verify(c, f, ["--chain", c.chain()], 1, "attested head does not match")
    # A record changed and the chain recomputed from there on.
    recs_b = bytearray(data)
    off0, size0 = recs[0]
    recs_b[off0 + LOG_REC] ^= 1
    prev = b"\0" * 32
    for off, size in recs:
        ln = struct.unpack_from("<I", recs_b, off + 20)[0]
        hsh = hashlib.sha256(prev + bytes(recs_b[off:off + 32]) +
                             bytes(recs_b[off + LOG_REC:off + LOG_REC + ln])).digest()
        recs_b[off + 32:off + 64] = hsh
        prev = hsh
    h2 = list(LOG_HDR.unpack_from(recs_b))
    h2[7] = prev
    recs_b[:LOG_HDR.size] = LOG_HDR.pack(*h2)
    f = write(c.path("rechained.log"), bytes(recs_b))
    log_verify(c, f, [], 0)
    log_verify(c, f, ["--chain", c.chain()], 1, "attested head does not match")


def log_sections(c):
    data = open(log_dump(c, "sections"), "rb").read()
    h, recs, end = log_records(data)
    extra = struct.pack("<II", 7, 8) + b"x" * 8
    h[2] += 1
    f = write(c.path("two-sections.log"), LOG_HDR.pack(*h) + data[LOG_HDR.size:] + extra)
    log_verify(c, f, [], 0)
    log_verify(c, f, ["--chain", c.chain()], 1, "2 sections")
    t = bytearray(data)
    t[end] = 9  # the report section's type
    log_verify(c, write(c.path("retyped.log"), bytes(t)), ["--chain", c.chain()], 1,
               "not an attestation report")
    t = bytearray(data)
    t[end + 8 + 8 + 64 + 0x90] ^= 1  # the report's measurement
    log_verify(c, write(c.path("report-changed.log"), bytes(t)), ["--chain", c.chain()], 1,
               "signature does not verify")
    # A report from a direct (VMPL3) request does not vouch for a log.
    _, rep3, _ = read_bundle(c.boot("attest-direct", "vmpl3-for-log"))
    t = bytearray(data)
    t[end + 8 + 8 + 64:end + 8 + 8 + 64 + REPORT_SIZE] = rep3
    log_verify(c, write(c.path("vmpl3.log"), bytes(t)), ["--chain", c.chain()], 1,
               "VMPL 3")


# ---- the tools' own behaviour -----------------------------------------------------------

def certs_seeded(c):
    def pubkeys(d):
        return [c.run(["openssl", "x509", "-in", os.path.join(d, f), "-noout", "-pubkey"],
                      expect=0).stdout for f in ("ark.pem", "ask.pem", "vcek.pem")]
    a = pubkeys(c.chain())
    again = c.path("chain-again")
    os.makedirs(again, exist_ok=True)
    c.run([c.emu, "certs", again], expect=0)
    need(pubkeys(again) == a, "the same seed gave other keys")
    need(all(x != y for x, y in zip(pubkeys(c.chain("another chip")), a)),
         "another seed gave the same keys")


def tool_errors(c):
    def one_line(cmd, status):
        p = c.run(cmd)
        need(p.returncode == status and len(p.stderr.strip().splitlines()) == 1,
             "%s: status %d, stderr %r" % (" ".join(cmd), p.returncode, p.stderr))
    good = c.boot("attest-svsm", "tool")
    one_line([c.attest, "verify", c.path("missing.bin"), "--chain", c.chain()], 2)
    one_line([c.attest, "verify", write(c.path("short.bin"), b"x" * 100), "--chain",
              c.chain()], 2)
    one_line([c.attest, "verify", good], 2)
    one_line([c.attest, "verify", good, "--chain", c.chain(), "--nonce", "xyz"], 2)
    one_line([c.attest, "verify", good, "--chain", c.chain(), "--vmpl", "4"], 2)
    one_line([c.attest, "verify", good, "--chain", c.chain(), "--min-tcb", "1.2"], 2)
    one_line([c.attest, "verify", good, "--chain", c.path("nowhere")], 2)
    one_line([c.attest, "frobnicate", good], 2)
    one_line([c.emu, "certs", c.path("no/such/dir")], 2)
    one_line([c.emu, "certs"], 2)
    one_line([c.emu, "run", "--attest-seed", ""], 2)
    for cmd in ([c.attest, "--help"], [c.emu, "certs", "--help"]):
        p = c.run(cmd, expect=0)
        need("usage:" in p.stdout, p.stdout)
    p = c.run([c.attest, "show", good], expect=0)
    for field in ("version", "policy", "vmpl", "report_data", "measurement", "host_data",
                  "chip_id", "reported_tcb", "committed_tcb", "launch_tcb", "signature_r"):
        need("\n" + field + " " in "\n" + p.stdout, "show lacks " + field)


CASES = {
    "scenario:direct": scenario_direct,
    "scenario:svsm": scenario_svsm,
    "scenario:svsm-audit": scenario_svsm_audit,
    "scenario:smp": scenario_smp,
    "scenario:igvm-measurement": scenario_igvm_measurement,
    "attack:vmpck0": attack("attack-attest-vmpck0", [
        "secrets-vmpck0-2-zeroed", "attack-vmpck0-refused", "attack-vmpck1-refused",
        "attack-vmpck2-refused", "svsm-after-vmpck0-attack"]),
    "attack:vmpl0": attack("attack-attest-vmpl0", [
        "attack-vmpl0-report-refused", "attack-vmpl1-report-refused",
        "attack-vmpl2-report-refused", "vmpl3-report-after"]),
    "attack:replay": attack("attack-attest-replay", [
        "replay-first", "attack-replay-refused", "attack-reorder-refused",
        "attack-tamper-refused", "in-order-after"]),
    "attack:svsm-buffers": attack("attack-attest-svsm-buffers", [
        "attack-attest-report-monitor", "attack-attest-report-text",
        "attack-attest-manifest-rodata", "attack-attest-report-beyond",
        "attack-attest-nonce-monitor", "attack-attest-nonce-too-long",
        "attack-attest-nonce-empty", "attack-attest-reserved", "attack-attest-report-small",
        "attest-text-unchanged", "attack-attest-call-monitor", "attack-attest-call-misaligned",
        "attest-unknown-call", "attest-after-refusals"]),
    "attack:forged-manifest": attack_forged_manifest,
    "attack:swapped-report": attack_swapped_report,
    "attack:tampered-report": attack_tampered_report,
    "attack:expectations": attack_wrong_expectations,
    "attack:chain": attack_chain,
    "openssl:chain": openssl_chain,
    "openssl:signature": openssl_signature,
    "openssl:chip-id": openssl_chip_id,
    "log:attested": log_attested,
    "log:forged-counters": log_forged_counters,
    "log:truncated-rechained": log_truncated_rechained,
    "log:sections": log_sections,
    "tool:certs-seeded": certs_seeded,
    "tool:errors": tool_errors,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emu", required=True)
    ap.add_argument("--attest", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--igvm", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--testos", required=True)
    ap.add_argument("--monitor", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    try:
        CASES[a.case](Ctx(a))
    except Failed as e:
        print("FAILED %s: %s" % (a.case, e))
        return 1
    print("ok %s" % a.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
