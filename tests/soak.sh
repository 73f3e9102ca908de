#!/bin/bash
# soak.sh - make soak: scenario 47-soak (N cold boots, N save/restore cycles, N live moves of a guest doing disk and
# memory work; counts of failures, reboots, oopses, re-sent pages, checksum mismatches; pause distributions) in one
# nested L1 boot. SOAK_N=N (default 10). Not part of make check. On an arm64 host with /dev/kvm the same scenario
# runs directly: SOAK_N=10 tests/scenarios/run.sh soak (see tests/testbed/README.md).
# Last line: "N passed, N failed"; exit 0 iff nothing failed.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
OUT=$REPO/build/testbed
N=${SOAK_N:-10}
case $N in '' | *[!0-9]* | 0) echo "soak: SOAK_N must be a positive integer (got '$N')" >&2; exit 2 ;; esac
mkdir -p "$OUT"
t0=$(date +%s)
echo "== nested test bed (log: $OUT/testbed-build.log)"
if ! tests/testbed/build.sh "$OUT" >"$OUT/testbed-build.log" 2>&1; then
	tail -n 40 "$OUT/testbed-build.log"
	echo "not ok - soak: building the nested test bed failed"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "== soak, N=$N (L1 console: $OUT/l1-soak.log)"
tests/testbed/run-l1.sh --outdir "$OUT" --quiet --timeout $((600 + N * 240)) --log "$OUT/l1-soak.log" \
	--mode "soak-$N" --scenarios soak | tee "$OUT/soak.res"
p=$(grep -c '^ok - ' "$OUT/soak.res" || true)
f=$(grep -c '^not ok - ' "$OUT/soak.res" || true)
[ "$p$f" = 00 ] && f=1 && echo "not ok - soak: no result (see $OUT/l1-soak.log)"
echo "== done in $(($(date +%s) - t0)) s"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
