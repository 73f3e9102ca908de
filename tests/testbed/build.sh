#!/bin/bash
# build.sh [OUTDIR] - everything before booting L1: host packages, Debian kernel + busybox, lkvm and helpers, initrds.
# LKVM=/path/to/lkvm uses that binary instead of running make. OUTDIR defaults to REPO/build/testbed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${1:-$REPO/build/testbed}
mkdir -p "$OUT"

"$HERE/setup-host.sh"
"$HERE/prepare.sh" "$OUT"
if [ -z "${LKVM:-}" ]; then
	# the Makefile cross-compiles (static, arm64) by default on x86; LKVM_MAKE_ARGS adds options (e.g. V=1)
	# shellcheck disable=SC2206
	margs=(-C "$REPO" -j"$(nproc)" ${LKVM_MAKE_ARGS:-})
	make "${margs[@]}" lkvm
	for t in tools guest; do
		make "${margs[@]}" "$t" || echo "build: warning: 'make $t' failed; continuing without it" >&2
	done
	LKVM=$REPO/lkvm
fi
"$HERE/mkl2initrd.sh" "$OUT"
"$HERE/mkl1initrd.sh" "$LKVM" "$OUT"
