# 90-bench-info.sh - benchmarks: facts about the L1 test bed (kernel, CPUs, lkvm build, virtio-blk support, the
# reference VMM if any).
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

bench_info l1_kernel "$(uname -r)"
bench_info l1_cpus "$(grep -c '^processor' /proc/cpuinfo)"
bench_info l1_mem_mib "$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
bench_info bench_runs "$BENCH_RUNS"
bench_info lkvm_version "$("$LKVM" version 2>&1 | head -n 1 | tr ' ' '_')"
if "$LKVM" run --help 2>&1 | grep -qE -- '(^|[ ,])(-d|--disk)([ ,=<]|$)'; then
	bench_info lkvm_disk yes
else
	bench_info lkvm_disk no
fi
if [ -n "$REF" ]; then
	bench_info ref_version "$("$REF_RUN" version 2>&1 | grep -v '^[[:space:]]*$' | head -n 1 | tr -s ' ' '_')"
	bench_info ref_disk "$("$REF_RUN" run --help 2>&1 | grep -qE -- '(^|[ ,])(-d|--disk)([ ,=<]|$)' && echo yes || echo no)"
fi
ok "L1 $(uname -r), $(grep -c '^processor' /proc/cpuinfo) CPUs, BENCH_RUNS=$BENCH_RUNS${REF:+, reference VMM present}"
finish
