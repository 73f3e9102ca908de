#!/bin/bash
# run.sh NAME... - run each libFuzzer target build/fuzz/fuzz-NAME for $FUZZ_SECONDS seconds (default 15), one after
# the other, from a scratch copy of its seed corpus. Prints per target "fuzz NAME: N runs, K crashes" and an
# ok / not ok line; crash, leak and timeout inputs are kept in build/fuzz/artifacts/. Exit 0 iff nothing crashed.
set -u
main() { # the whole script is read before it runs: editing it meanwhile cannot derail a long run
cd "$(dirname "$0")/../.."
B=build/fuzz
SECS=${FUZZ_SECONDS:-15}
SEED=${FUZZ_SEED:-1}
mkdir -p "$B/artifacts" "$B/logs"
failed=0
for name in "$@"; do
	bin=$B/fuzz-$name
	seeds=tests/fuzz/corpus/$name
	work=$B/corpus/$name
	log=$B/logs/$name.log
	if [ ! -x "$bin" ]; then
		echo "fuzz $name: 0 runs, 1 crashes"
		echo "not ok - fuzz $name: $bin is missing (make fuzz-build)"
		failed=$((failed + 1))
		continue
	fi
	# the checked-in seeds stay as they are: the fuzzer adds its finds to a scratch copy
	rm -rf "$work"
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -a "$seeds"/. "$work"/
	before=$(ls "$B/artifacts" | grep -c "^$name-" || true)
	"$bin" -max_total_time="$SECS" -seed="$SEED" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
		-print_final_stats=1 -artifact_prefix="$B/artifacts/$name-" "$work" >"$log" 2>&1
	rc=$?
	after=$(ls "$B/artifacts" | grep -c "^$name-" || true)
	crashes=$((after - before))
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1 # died without leaving an input (e.g. in its setup)
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	[ -z "$runs" ] && runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	echo "fuzz $name: ${runs:-0} runs, $crashes crashes"
	if [ "$crashes" -eq 0 ]; then
		echo "ok - fuzz $name: ${runs:-0} runs in ${SECS} s, no crash"
	else
		art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -n 1 | sed 's/Test unit written to //')
		# the target's own oracle message or the sanitizer's summary, else libFuzzer's verdict
		why=$(grep -m1 -E '^(SUMMARY: |dirty tracking: |layout invariant |round trip: )' "$log" ||
			grep -m1 -E 'ERROR: libFuzzer: ' "$log" | sed 's/^==[0-9]*== //')
		why=$(printf '%s' "$why" | head -c 160)
		echo "not ok - fuzz $name: ${why:-exit $rc}; input ${art:-none} (log $log)"
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
}
main "$@"
