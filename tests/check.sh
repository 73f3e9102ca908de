#!/bin/bash
# check.sh - the README's test command: install what is missing, build, run unit tests, the man page check and every
# nested scenario.
# Prints each result line, then one total line "N passed, N failed". Exit 0 iff nothing failed.
# NESTED=0 skips the nested suite (build, unit tests, fuzzing and the man page check only); L1_MODES="vhe nvhe" picks
# the L1 KVM modes to run; FUZZ_SECONDS (default 15) is how long each fuzz target runs.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
OUT=$REPO/build/testbed
mkdir -p "$OUT"
t0=$(date +%s)

pass=0
fail=0
# count FILE: add the ok / not ok lines of FILE to the totals
count() {
	local p f
	p=$(grep -c '^ok - ' "$1" || true)
	f=$(grep -c '^not ok - ' "$1" || true)
	pass=$((pass + p))
	fail=$((fail + f))
}

echo "== host packages"
if ! tests/testbed/setup-host.sh; then
	echo "not ok - setup: installing host packages failed"
	echo "0 passed, 1 failed"
	exit 1
fi

echo "== build"
if ! make -j2 lkvm tools guest >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log"
	echo "not ok - build: make lkvm tools guest failed"
	echo "$pass passed, 1 failed"
	exit 1
fi
echo "ok - build: lkvm, tools and guest payloads (-Wall -Wextra -Werror)" | tee "$OUT/build.res"
count "$OUT/build.res"

echo "== unit tests (host, ASan/UBSan)"
make unit >"$OUT/unit.log" 2>&1
grep -E '^(ok|not ok) - |^unit:' "$OUT/unit.log" | grep -v '^ok - ' || true
# unit binaries print "test-x: ok - ..." lines; normalise them for counting
sed -n 's/^[a-z0-9-]*: \(\(not \)\{0,1\}ok - \)/\1/p' "$OUT/unit.log" >"$OUT/unit.res"
if ! grep -q '^unit: ' "$OUT/unit.log"; then
	tail -n 30 "$OUT/unit.log"
	echo "not ok - unit: the unit tests did not build or run" >>"$OUT/unit.res"
fi
count "$OUT/unit.res"
echo "unit: $(grep -c '^ok - ' "$OUT/unit.res") passed, $(grep -c '^not ok - ' "$OUT/unit.res") failed"

FUZZ_SECONDS=${FUZZ_SECONDS:-15}
echo "== fuzz targets (libFuzzer, ASan/UBSan, ${FUZZ_SECONDS} s each)"
if make -j2 fuzz-build >"$OUT/fuzz-build.log" 2>&1; then
	make fuzz FUZZ_SECONDS="$FUZZ_SECONDS" >"$OUT/fuzz.log" 2>&1
else
	tail -n 30 "$OUT/fuzz-build.log"
	echo "not ok - fuzz: building the fuzz targets failed (clang-14, libclang-rt-14-dev)" >"$OUT/fuzz.log"
fi
grep -E '^fuzz |^not ok - ' "$OUT/fuzz.log" || true
grep -E '^(ok|not ok) - ' "$OUT/fuzz.log" >"$OUT/fuzz.res" || true
count "$OUT/fuzz.res"

echo "== man page (every command and option in --help is in docs/lkvm.1)"
LKVM=$REPO/lkvm tests/check-manpage.sh >"$OUT/manpage.log" 2>&1
grep -E '^(not ok - |# note: )' "$OUT/manpage.log" || true
grep -E '^(not )?ok - ' "$OUT/manpage.log" >"$OUT/manpage.res"
if ! grep -q '^# manpage: ' "$OUT/manpage.log"; then
	tail -n 20 "$OUT/manpage.log"
	echo "not ok - manpage: tests/check-manpage.sh did not finish" >>"$OUT/manpage.res"
fi
count "$OUT/manpage.res"
echo "manpage: $(grep -c '^ok - ' "$OUT/manpage.res") passed, $(grep -c '^not ok - ' "$OUT/manpage.res") failed"

if [ "${NESTED:-1}" = 1 ]; then
	echo "== nested test bed"
	if ! LKVM=$REPO/lkvm tests/testbed/build.sh "$OUT" >"$OUT/testbed-build.log" 2>&1; then
		tail -n 40 "$OUT/testbed-build.log"
		echo "not ok - testbed: building the nested test bed failed" | tee -a "$OUT/testbed.res"
		fail=$((fail + 1))
	else
		for mode in ${L1_MODES:-vhe nvhe}; do
			echo "== nested scenarios, L1 KVM in $mode mode"
			args=(--outdir "$OUT" --quiet --timeout 2700 --log "$OUT/l1-$mode.log")
			[ "$mode" = nvhe ] && args+=(--nvhe)
			# nVHE repeats the core boot paths only; VHE runs everything
			[ "$mode" = nvhe ] && args+=(--scenarios "${NVHE_SCENARIOS:-boot-1cpu,boot-2cpus,pvtime-linux,snapshot}")
			tests/testbed/run-l1.sh "${args[@]}" | tee "$OUT/l1-$mode.res"
			sed -i "s/^\(\(not \)\{0,1\}ok - \)/\1[$mode] /" "$OUT/l1-$mode.res"
			count "$OUT/l1-$mode.res"
		done
	fi
fi

echo "== done in $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
