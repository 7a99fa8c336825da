#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""signer_check.py - the signer enclave's signature, checked outside the CVM.

usage: signer_check.py VEIL_EMU VEIL_SIGN

Boots the test OS with test=enclave-signer, takes the message, the public key
and the signature the enclave gave its host from the console, and checks them
with `veil-sign verify` (ECDSA P-256 over SHA-256, the module-signature
format: the message, then "VEILSIG1", its length and r || s). The same
signature over a changed message must be refused.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile


def verify(veil_sign, pub, msg, sig, tmp):
    pub_path = os.path.join(tmp, "enclave.pub")
    file_path = os.path.join(tmp, "signed.bin")
    with open(pub_path, "wb") as f:
        f.write(b"VEILKEY1" + bytes([2]) + pub)
    with open(file_path, "wb") as f:
        f.write(msg + b"VEILSIG1" + struct.pack("<Q", len(msg)) + sig)
    r = subprocess.run([veil_sign, "verify", pub_path, file_path], capture_output=True, text=True)
    return r.returncode == 0 and "good signature" in r.stdout


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    emu, veil_sign = sys.argv[1:]
    run = subprocess.run([emu, "run", "--vcpus", "1", "--cmdline", "test=enclave-signer"],
                         capture_output=True, text=True, timeout=170)
    out = run.stdout
    fields = dict(re.findall(r"^enclave-signer: (message|public|signature) (.*)$", out, re.M))
    if run.returncode != 0 or len(fields) != 3:
        print(f"FAIL: run ended {run.returncode}, fields {sorted(fields)}\n{out}{run.stderr}")
        return 1
    msg = fields["message"].encode()
    pub, sig = bytes.fromhex(fields["public"]), bytes.fromhex(fields["signature"])
    with tempfile.TemporaryDirectory() as tmp:
        if not verify(veil_sign, pub, msg, sig, tmp):
            print("FAIL: the enclave's signature does not verify")
            return 1
        if verify(veil_sign, pub, msg.replace(b"10", b"99"), sig, tmp):
            print("FAIL: the signature verifies over a changed message")
            return 1
    print(f"ok: signature by the enclave's key {fields['public'][:16]}... verifies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
