#!/bin/bash
# coverage.sh NAME... - line coverage of the sources each fuzz target reaches with its corpus (the scratch corpus
# in build/fuzz/corpus/NAME if a run left one, else the seeds): builds build/fuzz/cov/fuzz-NAME with clang's
# source-based coverage and prints llvm-cov's per-file report. Not part of make check.
set -eu
cd "$(dirname "$0")/../.."
CC=${FUZZ_CC:-clang-14}
OUT=build/fuzz/cov
SRCS=$(make -s -f - print <<'MK'
include Makefile
print:
	@echo $(GENERIC_SRC) $(VIRTIO_GENERIC_SRC)
MK
)
FLAGS="-std=gnu11 -Iinclude -Itests/fuzz -D_GNU_SOURCE -DLKVM_HOST_TEST -O1 -g -fprofile-instr-generate -fcoverage-mapping"
mkdir -p "$OUT"
for name in "$@"; do
	bin=$OUT/fuzz-$name
	$CC $FLAGS -fsanitize=fuzzer -o "$bin" tests/fuzz/fuzz-$name.c $SRCS -l:libfdt.so.1 -lz -lpthread
	corpus=build/fuzz/corpus/$name
	[ -d "$corpus" ] || corpus=tests/fuzz/corpus/$name
	LLVM_PROFILE_FILE=$OUT/$name.profraw "$bin" -runs=0 "$corpus" >/dev/null 2>&1 || true
	llvm-profdata-14 merge -o "$OUT/$name.profdata" "$OUT/$name.profraw"
	echo "== $name ($corpus)"
	llvm-cov-14 report "$bin" -instr-profile="$OUT/$name.profdata" $SRCS | awk 'NF > 4 && $4 != "0.00%" && $4 != "-"' | cut -c1-30,100-135
done
