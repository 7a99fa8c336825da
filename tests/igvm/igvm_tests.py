#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CTest driver for veil-igvm and `veil-emu run --igvm` (label igvm).

usage: igvm_tests.py CASE BUILD_DIR WORK_DIR
  digests   several files of the VMPL0 image veil-monitor (OS images, vCPU
            counts, memory sizes, command lines, policies, log sizes):
            veil-igvm measure == igvm_ref.py (independent) == the digest
            veil-emu prints while it launches the file; all differ; the image
            from the file boots and its OS passes (test=all-ok)
  dump      dump prints every header; the VMSA is one QEMU's loader takes and
            its page tables map the image's entry where the file put it; the
            whole monitor region is in the file; malformed files give one line
            naming the offending header and exit 1, inconsistent ones one line
            from veil-emu
  idblock   measure --id-key: the ID block carries the digest and the policy,
            its signature verifies with `openssl dgst` against the key in the
            ID auth info, a changed block does not; build --id-key embeds it
  cli       --help, usage errors (exit 2), unreadable files (exit 1)
  launchstate  the machine right after veil-emu's launch of a file
            (tests/igvm/igvm_launch_state.c): pages placed, validated, VMPL0-only;
            the loader's parameter pages filled
"""
import hashlib
import os
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import igvm_ref  # noqa: E402
import snp_arch as snp  # noqa: E402

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


class Env:
    def __init__(self, build, work):
        self.igvm = os.path.join(build, "tools", "veil-igvm")
        self.emu = os.path.join(build, "backends", "emu", "veil-emu")
        self.testos = os.path.join(build, "guest", "kernel", "veil-testos")
        self.monitor = os.path.join(build, "backends", "snp", "veil-monitor")
        self.work = work
        os.makedirs(work, exist_ok=True)

    def path(self, name):
        return os.path.join(self.work, name)

    def build(self, name, mem=64, os_images=None, extra=()):
        out = self.path(name + ".igvm")
        args = [self.igvm, "build", "--monitor", self.monitor, "--mem", str(mem), "-o", out]
        for img in os_images or [self.testos]:
            args += ["--os", img]
        r = run(args + list(extra))
        check(r.returncode == 0, "build %s: %s" % (name, r.stderr.strip()))
        return out

    def measure(self, f):
        r = run([self.igvm, "measure", f])
        check(r.returncode == 0, "measure %s: %s" % (f, r.stderr.strip()))
        return r.stdout.strip()


def case_digests(env):
    second = env.path("second-os.elf")
    subprocess.run([sys.executable, os.path.join(HERE, "tiny_os.py"), second, "0x1000000"],
                   check=True)
    specs = [
        ("a", 64, None, ["--cmdline", "test=all-ok"], True),
        ("b", 128, None, ["--vcpus", "4", "--cmdline", "test=all-ok"], True),
        ("c", 64, None, ["--cmdline", "test=all-ok", "--policy", "0x70000"], True),
        ("d", 96, [second], ["--vcpus", "2"], False),
        ("e", 64, [env.testos, second], ["--cmdline", "test=all-ok"], False),
        ("f", 64, None, ["--cmdline", "test=all-ok", "--log-size", "8192"], True),
    ]
    seen = {}
    for name, mem, images, extra, boot in specs:
        f = env.build(name, mem, images, extra)
        tool = env.measure(f)
        ref = igvm_ref.digest(open(f, "rb").read()).hex()
        check(len(tool) == 96 and tool == ref, "%s: veil-igvm %s != reference %s" % (name, tool, ref))
        args = [env.emu, "run", "--igvm", f]
        if not boot:
            # the tiny OS spins; with it second, the monitor (which knows
            # only the first image) stops at the first touch of its pages
            args += ["--max-insns", "5000000"]
        r = run(args, timeout=600)
        line = [ln for ln in r.stdout.splitlines() if ln.startswith("launch digest: ")]
        check(line == ["launch digest: " + tool],
              "%s: veil-emu printed %s, veil-igvm measure %s" % (name, line, tool))
        image = "veil-monitor: VMPL0 image at %#x," % ((mem - 8) * MIB)
        check(image in r.stdout, "%s: the file's VMPL0 image did not run: %s" %
              (name, r.stdout[:400] + r.stderr))
        if boot:
            check(r.returncode == 0 and ", 0 failed" in r.stdout,
                  "%s: the OS from the file did not pass (rc %d): %s" %
                  (name, r.returncode, r.stdout[-400:] + r.stderr))
        check(tool not in seen, "%s: same digest as %s" % (name, seen.get(tool)))
        seen[tool] = name


# VMSA fields QEMU's IGVM loader lets be non-zero (target/i386/sev.c,
# check_vmsa_supported), as [start, end) offsets (AMD64 APM vol. 2, table B-4).
VMSA_ALLOWED = [(snp.VMSA_ES, snp.VMSA_PL0_SSP), (snp.VMSA_EFER, snp.VMSA_EFER + 8),
                (snp.VMSA_CR4, snp.VMSA_DR0), (snp.VMSA_RSP, snp.VMSA_S_CET),
                (snp.VMSA_RAX, snp.VMSA_STAR), (snp.VMSA_PAT, snp.VMSA_DBGCTL),
                (snp.VMSA_RCX, snp.VMSA_R15 + 8), (snp.VMSA_SEV_FEATURES, snp.VMSA_VINTR_CTRL),
                (snp.VMSA_XCR0, snp.VMSA_XCR0 + 8), (snp.VMSA_MXCSR, snp.VMSA_X87_FTW),
                (snp.VMSA_X87_FCW, snp.VMSA_X87_FOP)]


def file_pages(buf, hs):
    """{gpa: 4 KiB} of the file's PAGE_DATA (zeros where it has no data)."""
    out = {}
    for pos, typ, _ in hs:
        if typ == 0x302:
            gpa, _, foff = struct.unpack_from("<QII", buf, pos + 8)
            out[gpa] = buf[foff:foff + 4096] if foff else bytes(4096)
    return out


def translate(pages, cr3, va, cbit=51):
    """Walk the file's launch page tables (4-level, 2 MiB or 4 KiB leaves)."""
    mask = ((1 << 52) - 1) & ~0xFFF & ~(1 << cbit)
    table = cr3 & mask
    for level, shift in enumerate((39, 30, 21, 12)):
        e = struct.unpack_from("<Q", pages[table], ((va >> shift) & 511) * 8)[0]
        if not e & 1:
            return None
        if level == 2 and e & 0x80:
            return (e & mask & ~0x1FFFFF) | (va & 0x1FFFFF)
        table = e & mask
    return table | (va & 0xFFF)


def case_vmsa(env, buf, hs):
    vp = [h for h in hs if h[1] == 0x304][0]
    gpa, _, foff = struct.unpack_from("<QII", buf, vp[0] + 8)
    vmsa = buf[foff:foff + 4096]
    bad = [i for i, b in enumerate(vmsa) if b and not any(a <= i < e for a, e in VMSA_ALLOWED)]
    check(gpa == 0xFFFFFFFFF000 and not bad, "VMSA: non-zero bytes outside QEMU's list at %s" %
          [hex(i) for i in bad[:8]])
    rip, cr3, rdi, sev = (struct.unpack_from("<Q", vmsa, o)[0]
                          for o in (snp.VMSA_RIP, snp.VMSA_CR3, snp.VMSA_RDI,
                                    snp.VMSA_SEV_FEATURES))
    check(sev == snp.SEV_FEATURES_SNP_ACTIVE and vmsa[snp.VMSA_VMPL] == 0,
          "VMSA: SNPActive only, VMPL0")
    pages = file_pages(buf, hs)
    check(rdi in pages, "VMSA: RDI names a page of the file (the launch information)")
    info = pages.get(rdi, bytes(4096))
    magic, _, _, mem, _, _, _, mon_base, mon_size, mon_used, mon_entry = struct.unpack_from(
        "<QIIQIIQQQQQ", info, 0)
    check(magic == 0x48434E4C4C494556 and mon_entry == rip and mem - 8 * MIB == mon_base and
          rip >= 0xFFFFFFFF80000000 and mon_used < mon_size,
          "VMSA: RIP at the image's entry (linked at 0xFFFFFFFF80000000)")
    # The launch page tables map the entry to where the file put the image's
    # entry code, and guest memory 1:1 (the launch information itself).
    elf = open(env.monitor, "rb").read()
    entry_pa = translate(pages, cr3, rip)
    text_off = struct.unpack_from("<Q", elf, 0x20)[0]  # e_phoff: the first PT_LOAD
    p_off, p_vaddr = struct.unpack_from("<QQ", elf, text_off + 8)
    want = elf[p_off + rip - p_vaddr:p_off + rip - p_vaddr + 16]
    check(entry_pa == mon_base + rip - 0xFFFFFFFF80000000 and
          pages.get(entry_pa & ~0xFFF, b"")[entry_pa & 0xFFF:(entry_pa & 0xFFF) + 16] == want,
          "launch page tables: the entry maps to the image's entry code")
    check(translate(pages, cr3, rdi) == rdi, "launch page tables: guest memory 1:1")
    # Every page of the monitor region is launched (validated on hardware):
    # PAGE_DATA, or one of the two parameter pages.
    inserts = [struct.unpack_from("<Q", buf, h[0] + 8)[0] for h in hs if h[1] == 0x303]
    region = set(range(mon_base, mon_base + 8 * MIB, 4096))
    check(region <= set(pages) | set(inserts) and len(set(inserts) & region) == 2,
          "the whole monitor region is in the file (%d of %d pages)" %
          (len(region & (set(pages) | set(inserts))), len(region)))


MIB = 1 << 20
INFO_IMAGE0_ENTRY = 0xC0  # offsetof(struct veil_launch_info, images[0].entry)


def rewrite(buf, mutate, fix_crc=True):
    b = bytearray(buf)
    mutate(b)
    if fix_crc:
        off, size = struct.unpack_from("<II", b, 8)
        struct.pack_into("<I", b, 20, zlib.crc32(bytes(b[:20]) + b"\0\0\0\0" + bytes(b[24:off + size])))
    return bytes(b)


def hdr_offsets(buf):
    off, size = struct.unpack_from("<II", buf, 8)
    pos, out = off, []
    while pos < off + size:
        typ, length = struct.unpack_from("<II", buf, pos)
        out.append((pos, typ, length))
        pos += 8 + ((length + 7) & ~7)
    return out


def case_dump(env):
    f = env.build("dump", 64, None, ["--cmdline", "hello"])
    buf = open(f, "rb").read()
    hs = hdr_offsets(buf)
    r = run([env.igvm, "dump", f])
    out = r.stdout.splitlines()
    lines = out[:1] + [ln for ln in out if ln.startswith("[")]
    veil = [ln for ln in out if ln.startswith("veil ")]
    check(r.returncode == 0 and len(lines) == 1 + len(hs) and
          len(out) == len(lines) + len(veil), "dump: %d lines for %d headers" %
          (len(lines), len(hs)))
    mon_base = (64 - 8) * MIB
    for want in ("veil launch information at ", "64 MiB, built for 1 vCPU(s), C-bit 51",
                 "veil monitor: region %#x+0x800000" % mon_base, "entry 0xffffffff80000000",
                 "veil os image 0 (boots): 0x200000-", 'veil os command line: "hello"'):
        check(any(want in ln for ln in veil), "dump: no '%s' in %s" % (want, veil))
    names = {0x1: "SUPPORTED_PLATFORM", 0x101: "GUEST_POLICY", 0x301: "PARAMETER_AREA",
             0x302: "PAGE_DATA", 0x303: "PARAMETER_INSERT", 0x304: "VP_CONTEXT",
             0x307: "VP_COUNT_PARAMETER", 0x30C: "MEMORY_MAP"}
    for (pos, typ, _), ln in zip(hs, lines[1:]):
        check(names[typ] in ln and ("@%#x" % pos) in ln, "dump line for %#x: %s" % (typ, ln))
    check(any("VP_CONTEXT gpa=0xfffffffff000" in ln for ln in lines), "dump: VMSA gpa")
    check(lines[-1].split()[2] == "VP_CONTEXT", "dump: the VMSA is the last header")
    case_vmsa(env, buf, hs)

    page = [h for h in hs if h[1] == 0x302][3]
    vp = [h for h in hs if h[1] == 0x304][0]
    insert = [h for h in hs if h[1] == 0x303][0]

    def poke(pos, fmt, val):
        return lambda b: struct.pack_into(fmt, b, pos, val)

    cases = [
        ("bad magic", rewrite(buf, poke(0, "<I", 0x12345678), False), "fixed header"),
        ("bad checksum", rewrite(buf, poke(page[0] + 8, "<Q", 0x5000), False), "checksum"),
        ("truncated", buf[:len(buf) - 4096], "total file size"),
        ("too short", buf[:10], "fixed header"),
        ("version 2", rewrite(buf, poke(4, "<I", 2)), "format version"),
        ("header length", rewrite(buf, poke(page[0] + 4, "<I", 20)), "header %d (PAGE_DATA" % hs.index(page)),
        ("data offset", rewrite(buf, poke(page[0] + 20, "<I", len(buf) - 100)),
         "header %d (PAGE_DATA" % hs.index(page)),
        ("unaligned gpa", rewrite(buf, poke(page[0] + 8, "<Q", 0x200010)), "not page aligned"),
        ("2 MiB page", rewrite(buf, poke(page[0] + 24, "<I", 1)), "2 MiB"),
        ("unknown type", rewrite(buf, poke(page[0], "<I", 0x3FF)), "unknown header type"),
        ("section order", rewrite(buf, poke(hs[4][0], "<I", 0x101)), "after a later section"),
        ("undeclared area", rewrite(buf, poke(insert[0] + 20, "<I", 7)), "not declared"),
        ("no VMSA data", rewrite(buf, poke(vp[0] + 20, "<I", 0)), "header %d (VP_CONTEXT" % hs.index(vp)),
        ("variable headers", rewrite(buf, poke(12, "<I", 0x7FFFFFF0), False), "variable headers"),
    ]
    for name, data, expect in cases:
        p = env.path("bad.igvm")
        open(p, "wb").write(data)
        for cmd in ("dump", "measure"):
            r = run([env.igvm, cmd, p])
            err = r.stderr.strip().splitlines()
            check(r.returncode == 1 and len(err) == 1 and expect in err[0] and r.stdout == "",
                  "%s %s: rc %d stderr %r" % (cmd, name, r.returncode, r.stderr))
        r = run([env.emu, "run", "--igvm", p])
        check(r.returncode == 2 and expect in r.stderr and len(r.stderr.strip().splitlines()) == 1,
              "veil-emu %s: rc %d stderr %r" % (name, r.returncode, r.stderr))
    # A VMSA elsewhere is a valid IGVM file that no SNP launch takes.
    p = env.path("bad.igvm")
    open(p, "wb").write(rewrite(buf, poke(vp[0] + 8, "<Q", 0x100000)))
    r = run([env.igvm, "measure", p])
    check(r.returncode == 1 and "0xFFFFFFFFF000" in r.stderr, "VMSA gpa: %r" % r.stderr)
    # Well-formed IGVM files that do not follow Veil's launch contract: veil-emu
    # refuses them in one line before anything runs.
    vmsa_off = struct.unpack_from("<QII", buf, vp[0] + 8)[2]
    rdi = struct.unpack_from("<Q", buf, vmsa_off + snp.VMSA_RDI)[0]
    info = [h for h in hs if h[1] == 0x302 and struct.unpack_from("<Q", buf, h[0] + 8)[0] == rdi][0]
    info_off = struct.unpack_from("<I", buf, info[0] + 20)[0]
    bad_info = [
        ("no launch information", poke(info_off, "<Q", 0x1234), "not a file made by veil-igvm"),
        ("old contract", poke(info_off + 8, "<I", 1), "not a file made by veil-igvm"),
        ("OS entry outside", poke(info_off + INFO_IMAGE0_ENTRY, "<Q", 0x10), "no valid OS image"),
    ]
    for name, mutate, expect in bad_info:
        open(p, "wb").write(rewrite(buf, mutate))
        r = run([env.emu, "run", "--igvm", p])
        check(r.returncode == 2 and expect in r.stderr and len(r.stderr.strip().splitlines()) == 1
              and "veil-monitor" not in r.stdout,
              "veil-emu, %s: rc %d stderr %r" % (name, r.returncode, r.stderr))


SPKI_P384 = bytes.fromhex("3076301006072a8648ce3d020106052b81040022036200")


def der_int(le72):
    v = int.from_bytes(le72, "little").to_bytes(49, "big").lstrip(b"\0")
    if v[0] & 0x80:
        v = b"\0" + v
    return b"\x02" + bytes([len(v)]) + v


def verify(env, blk, auth, tag):
    r_, s_ = auth[0x40:0x88], auth[0x88:0xD0]
    body = der_int(r_) + der_int(s_)
    sig = b"\x30" + bytes([len(body)]) + body
    qx, qy = auth[0x244:0x28C], auth[0x28C:0x2D4]
    pub = SPKI_P384 + b"\x04" + qx[:48][::-1] + qy[:48][::-1]
    for name, data in (("sig", sig), ("blk", blk), ("pub.der", pub)):
        open(env.path(tag + name), "wb").write(data)
    r = run(["openssl", "dgst", "-sha384", "-keyform", "DER", "-verify", env.path(tag + "pub.der"),
             "-signature", env.path(tag + "sig"), env.path(tag + "blk")])
    return r.returncode == 0 and "Verified OK" in r.stdout


def case_idblock(env):
    import base64
    key = env.path("id.pem")
    r = run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", key])
    check(r.returncode == 0, "openssl ecparam: " + r.stderr)
    f = env.build("id", 64, None, ["--policy", "0x30000"])
    digest = env.measure(f)
    fam = "00112233445566778899aabbccddeeff"
    r = run([env.igvm, "measure", f, "--id-key", key, "--family-id", fam, "--svn", "7"])
    out = dict(ln.split(": ", 1) for ln in r.stdout.splitlines()[1:])
    check(r.returncode == 0 and r.stdout.splitlines()[0] == digest, "measure --id-key: " + r.stderr)
    blk, auth = base64.b64decode(out["id-block"]), base64.b64decode(out["id-auth"])
    check(len(blk) == 0x60 and len(auth) == 0x1000, "id sizes %d %d" % (len(blk), len(auth)))
    check(blk[:48].hex() == digest, "the ID block carries the launch digest")
    check(blk[0x30:0x40].hex() == fam and struct.unpack_from("<IIQ", blk, 0x50) == (1, 7, 0x30000),
          "ID block fields: %s" % blk[0x30:].hex())
    check(struct.unpack_from("<II", auth, 0) == (1, 0), "ID auth algorithms")
    check(hashlib.sha384(auth[0x240:0x644]).hexdigest() == out["id-key-digest"], "id-key-digest")
    check(verify(env, blk, auth, "ok."), "the ID block signature verifies with openssl")
    bad = bytearray(blk)
    bad[0] ^= 1
    check(not verify(env, bytes(bad), auth, "bad."), "a changed ID block must not verify")
    other = env.path("other.pem")
    run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", other])
    r = run([env.igvm, "measure", f, "--id-key", other])
    check(r.returncode == 1 and "P-384" in r.stderr, "a P-256 key is refused: %r" % r.stderr)
    g = env.build("id2", 64, None, ["--policy", "0x30000", "--id-key", key])
    check(env.measure(g) == digest, "embedding the ID block leaves the digest alone")
    hs = igvm_ref.headers(open(g, "rb").read())
    ids = [d for t, d in hs if t == 0x30B]
    check(len(ids) == 1 and ids[0][8:56].hex() == digest, "build --id-key embeds SNP_ID_BLOCK")


def case_launchstate(env):
    f = env.build("state", 96, None, ["--vcpus", "2"])
    tool = os.path.join(os.path.dirname(env.igvm), "..", "tests", "igvm", "test_igvm_launch_state")
    for vcpus in ("2", "5"):
        r = run([tool, f, vcpus])
        print(r.stdout.strip())
        check(r.returncode == 0 and "0 failure(s)" in r.stdout,
              "launch state with %s vCPUs: %s %s" % (vcpus, r.stdout, r.stderr))


def case_cli(env):
    r = run([env.igvm, "--help"])
    check(r.returncode == 0 and "usage: veil-igvm" in r.stdout, "--help")
    for args, rc in (([], 2), (["frob"], 2), (["build", "--mem"], 2),
                     (["build", "--mem", "7", "--monitor", "x", "--os", "y", "-o", "z"], 2),
                     (["build", "--os", "y", "-o", "z"], 2), (["measure", "/nonexistent"], 1),
                     (["dump"], 2), (["measure", env.testos, "--bogus", "1"], 2),
                     (["dump", env.testos], 1),
                     (["build", "--monitor", env.testos, "--os", env.testos, "-o",
                       env.path("x.igvm")], 1)):
        r = run([env.igvm] + args)
        err = r.stderr.strip().splitlines()
        check(r.returncode == rc and len(err) == 1 and err[0].startswith("veil-igvm: "),
              "veil-igvm %s: rc %d stderr %r" % (args, r.returncode, r.stderr))
    f = env.build("cli", 64)
    r = run([env.emu, "run", "--igvm", f, "--mem", "128"])
    check(r.returncode == 2 and "built for 64 MiB" in r.stderr, "mismatched --mem: %r" % r.stderr)
    r = run([env.emu, "run", "--igvm", f, "--kernel", env.testos])
    check(r.returncode == 2 and "--igvm excludes" in r.stderr, "--igvm with --kernel: %r" %
          r.stderr)
    r = run([env.emu, "run", "--help"])
    check("--igvm FILE" in r.stdout and "VMPL0 image boots from the file" in r.stdout,
          "veil-emu run --help names --igvm")
    for extra in (["--cmdline", "x"], ["--monitor", env.monitor], ["--log-size", "4096"]):
        r = run([env.emu, "run", "--igvm", f] + extra)
        check(r.returncode == 2 and "--igvm excludes" in r.stderr, "--igvm with %s: %r" %
              (extra, r.stderr))


def main():
    case, build, work = sys.argv[1:4]
    env = Env(build, work)
    {"digests": case_digests, "dump": case_dump, "idblock": case_idblock, "cli": case_cli,
     "launchstate": case_launchstate}[case](env)
    print("%s: %s" % (case, "FAILED %d" % len(FAILS) if FAILS else "ok"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
