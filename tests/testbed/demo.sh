#!/bin/bash
# demo.sh [run-l1 options] - build everything, boot L1 and run demo scenarios there, showing the L2 guest's console.
# DEMO_SCENARIOS (default boot-1cpu) picks the scenarios; LKVM=/path/to/lkvm skips make (see build.sh).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/build/testbed

"$HERE/build.sh" "$OUT"
exec "$HERE/run-l1.sh" --outdir "$OUT" --scenarios "${DEMO_SCENARIOS:-demo-pvtime}" --mode demo "$@"
