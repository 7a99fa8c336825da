#!/bin/sh
# SPDX-License-Identifier: MIT
# bad_image.sh VEIL_EMU IMAGE TEXT - `veil-emu run --monitor IMAGE` must refuse
# the image: exit status 1 (an input that cannot be used: README, Exit status), exactly one line on stderr containing TEXT, and
# no console output (nothing ran).
set -u
EMU=${1:?} IMAGE=${2:?} TEXT=${3:?}
OUT=$(mktemp) && ERR=$(mktemp) || exit 1
trap 'rm -f "$OUT" "$ERR"' EXIT
"$EMU" run --monitor "$IMAGE" >"$OUT" 2>"$ERR"
rc=$?
ok=1
[ "$rc" -eq 1 ] || { echo "FAIL: exit status $rc, expected 1"; ok=0; }
[ "$(wc -l <"$ERR")" -eq 1 ] || { echo "FAIL: expected one line on stderr"; ok=0; }
grep -qF -- "$TEXT" "$ERR" || { echo "FAIL: stderr lacks '$TEXT'"; ok=0; }
[ ! -s "$OUT" ] || { echo "FAIL: console output from a refused image"; ok=0; }
[ "$ok" -eq 1 ] || { echo "--- stderr"; cat "$ERR"; echo "--- stdout"; cat "$OUT"; exit 1; }
