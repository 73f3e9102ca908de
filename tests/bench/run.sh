#!/bin/bash
# run.sh - `make bench`: build the nested test bed if needed, run the lkvm benchmarks inside ONE L1 boot, print a
# table (median, min, max) and write build/bench/results.json and results.csv. See tests/bench/README.md.
#
# Environment:
#   BENCH_RUNS=N        runs per measurement (default 5)
#   BENCH_ONLY=a,b      subset of: info,boot,mem,steal,blk,exit,gdb,snap,transport,migrate,migscale,9p,metrics,runcmd,net (default all)
#   BENCH_SKIP_BUILD=1  use build/testbed as it is (no setup-host/prepare/make/initrds)
#   BENCH_LKVM=FILE     benchmark this static aarch64 lkvm instead of the test bed's (overlaid as L1's /lkvm)
#   REF_VMM=FILE        also measure this reference VMM (a static aarch64 upstream kvmtool; overlaid as L1's
#                       /bench/ref-vmm, never kept in the repo) side by side: ref_* figures, lkvm/reference ratios.
#                       Its commit is read from FILE.commit (or REF_VMM_COMMIT) for the report.
#   BENCH_NVHE=1        L1 KVM in nVHE mode (default VHE)
#   BENCH_TIMEOUT=S     limit for the whole L1 run (default 300 + 150 * BENCH_RUNS; 250 * with REF_VMM)
# Exit status: 0 when every measurement ran (the numbers themselves are never judged), 1 otherwise.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TB=$REPO/build/testbed
OUT=$REPO/build/bench
RUNS=${BENCH_RUNS:-5}
ONLY=${BENCH_ONLY:-info,boot,mem,steal,blk,exit,gdb,snap,transport,migrate,migscale,9p,metrics,runcmd,net}
CROSS=${CROSS_COMPILE:-aarch64-linux-gnu-}
case $RUNS in '' | *[!0-9]* | 0) echo "bench: BENCH_RUNS must be a positive integer (got '$RUNS')" >&2; exit 2 ;; esac
per_run=150
[ -n "${REF_VMM:-}" ] && per_run=250 # the reference VMM's runs and the alternation
TMO=${BENCH_TIMEOUT:-$((300 + per_run * RUNS))}

t_start=$EPOCHREALTIME
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "== $*"; }
die() { echo "bench: error: $*" >&2; echo "not ok - bench: $*"; exit 1; }
mkdir -p "$OUT"
rm -f "$OUT/results.json" "$OUT/results.csv" "$OUT/results.txt" "$OUT/run-l1.out"

# ---- 1. the test bed (idempotent; fast when already built) ----------------------------------------------------
t_b0=$EPOCHREALTIME
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
	say "build: skipped (BENCH_SKIP_BUILD=1), using $TB"
else
	say "build: tests/testbed/build.sh (log: $OUT/build.log)"
	if ! "$REPO/tests/testbed/build.sh" "$TB" >"$OUT/build.log" 2>&1; then
		tail -n 30 "$OUT/build.log" | sed 's/^/| /'
		die "building the test bed failed (see $OUT/build.log)"
	fi
fi
for f in Image l1.cpio l2.cpio; do
	[ -f "$TB/$f" ] || die "$TB/$f missing (run tests/testbed/build.sh)"
done
t_b1=$EPOCHREALTIME

# ---- 2. overlays: extra initramfs archives appended to l2.cpio (in L1) and l1.cpio -----------------------------
# The kernel unpacks concatenated newc archives in order, so the benchmark files never touch the shared test bed.
rm -rf "$OUT/l2-extra" "$OUT/l1-extra" "$OUT/l1"
mkdir -p "$OUT/l2-extra/etc/l2" "$OUT/l2-extra/bin" "$OUT/l1-extra/scenarios" "$OUT/l1-extra/bench" "$OUT/l1"
cp "$HERE"/guest/*.sh "$OUT/l2-extra/etc/l2/"
if make -C "$REPO" "$REPO/build/tools/bench-io" >"$OUT/bench-io.log" 2>&1; then
	cp "$REPO/build/tools/bench-io" "$OUT/l2-extra/bin/bench-io"
else
	echo "bench: warning: building bench-io failed (random-read IOPS will be n/a); see $OUT/bench-io.log" >&2
fi
cp "$HERE"/scenarios/*.sh "$OUT/l1-extra/scenarios/"
lkvm_l1=$TB/l1root/lkvm
if [ -n "${BENCH_LKVM:-}" ]; then
	[ -f "$BENCH_LKVM" ] || die "BENCH_LKVM=$BENCH_LKVM: no such file"
	cp "$BENCH_LKVM" "$OUT/l1-extra/lkvm"
	chmod 755 "$OUT/l1-extra/lkvm"
	lkvm_l1=$BENCH_LKVM
fi
ref=${REF_VMM:-}
rsha=
rcommit=
if [ -n "$ref" ]; then
	[ -f "$ref" ] || die "REF_VMM=$ref: no such file"
	case $(od -An -tx1 -j0 -N4 "$ref" | tr -d ' \n') in 7f454c46) ;; *) die "REF_VMM=$ref: not an ELF binary" ;; esac
	ref=$(cd "$(dirname "$ref")" && pwd)/$(basename "$ref")
	cp "$ref" "$OUT/l1-extra/bench/ref-vmm"
	chmod 755 "$OUT/l1-extra/bench/ref-vmm"
	rsha=$(sha256sum "$ref" | cut -c1-12)
	rcommit=${REF_VMM_COMMIT:-$(head -c 40 "$ref.commit" 2>/dev/null)}
	say "reference VMM: $ref (sha256 $rsha, commit ${rcommit:-unknown}), as L1's /bench/ref-vmm"
fi
mkcpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet); }
mkcpio "$OUT/l2-extra" >"$OUT/l1-extra/bench/l2-extra.cpio" || die "cpio of the L2 overlay failed"
{ cat "$TB/l1.cpio" && mkcpio "$OUT/l1-extra"; } >"$OUT/l1/l1.cpio" || die "cpio of the L1 overlay failed"
ln -s "$TB/Image" "$OUT/l1/Image"

# scenario names for run-l1.sh --scenarios (bench-info, bench-boot, ...)
scen=
for s in ${ONLY//,/ }; do
	f=$(cd "$HERE/scenarios" && ls [0-9][0-9]-bench-"$s".sh 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "BENCH_ONLY: unknown measurement '$s' (info,boot,mem,steal,blk,exit,gdb,snap,transport,migrate,migscale,9p,metrics,runcmd,net)"
	scen="$scen,bench-$s"
done
scen=${scen#,}
# the facts about L1 (kernel, CPUs, memory) always come along
case ,$scen, in *,bench-info,*) ;; *) scen="bench-info,$scen" ;; esac

# the pause against RAM size moves a guest holding 1.5 GiB: two copies of it must fit in L1
case ,$scen, in *,bench-migscale,*) export L1_MEM=${L1_MEM:-4G} ;; esac

# ---- 3. one L1 boot runs every measurement ----------------------------------------------------------------------
LOG=$OUT/l1-console.log
exec 9>/tmp/lkvm-qemu.lock
t_w0=$EPOCHREALTIME
if ! flock -n 9; then
	say "waiting for /tmp/lkvm-qemu.lock (another nested QEMU is running; only one at a time)"
	flock 9
fi
t_w1=$EPOCHREALTIME
export RUN_L1_LOCKED=1
l1args=(--outdir "$OUT/l1" --log "$LOG" --timeout "$TMO" --scenarios "$scen" --append "lkvm.bench_runs=$RUNS")
[ "${BENCH_NVHE:-0}" = 1 ] && l1args+=(--nvhe)
say "L1 run: $RUNS run(s) of $ONLY${ref:+ with the reference VMM} (console log: $LOG; limit $TMO s)"
# show the scenarios' progress lines (ok / not ok / # ...) live, not the whole console
"$REPO/tests/testbed/run-l1.sh" "${l1args[@]}" 2>"$OUT/run-l1.err" | {
	after=0
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$OUT/run-l1.out"
		case $line in "===== L1 results"*) after=1 ;; esac
		if [ $after = 0 ]; then
			case $line in "ok - "* | "not ok - "* | "# "* | "| "*) printf '   %s\n' "$line" ;; esac
		else
			case $line in "# L1 boot"* | "not ok - l1:"*) printf '   %s\n' "$line" ;; esac
		fi
	done
}
l1rc=${PIPESTATUS[0]}
exec 9>&-
t_l1=$EPOCHREALTIME

# ---- 4. parse the console and report ------------------------------------------------------------------------
clean=$OUT/l1-console.clean
tr -d '\r' <"$LOG" >"$clean" 2>/dev/null || : >"$clean"
if ! grep -q '^L1-DONE' "$clean"; then
	echo "bench: L1 did not finish (run-l1 exit $l1rc); last console lines:"
	tail -n 30 "$clean" | sed 's/^/| /'
fi
sha() { sha256sum "$1" 2>/dev/null | cut -c1-12; }
lsha=$(sha "$lkvm_l1")
lnote="the test bed's"
if [ -n "${BENCH_LKVM:-}" ]; then
	lnote="BENCH_LKVM=$BENCH_LKVM"
elif [ -n "$lsha" ] && [ -f "$REPO/lkvm" ] && [ "$lsha" != "$(sha "$REPO/lkvm")" ]; then
	lnote="the test bed's, which differs from ./lkvm (./lkvm was rebuilt after the test bed)"
fi
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ] && commit="$commit-dirty"
l1kvm=$(grep -m 1 '^L1-KVM=' "$clean" | sed 's/^L1-KVM=\(yes \)\{0,1\}//')
l1boot=$(grep -m 1 '^# L1 boot' "$OUT/run-l1.out" 2>/dev/null | sed 's/^# //')
t_end=$EPOCHREALTIME

awk -v runs="$RUNS" -v only="$ONLY" \
	-v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	-v host="$(uname -m), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
	-v qemu="$(qemu-system-aarch64 --version 2>/dev/null | head -n 1)" \
	-v l1mode="$([ "${BENCH_NVHE:-0}" = 1 ] && echo nVHE || echo VHE)" \
	-v l1kvm="$l1kvm" -v l1boot="$l1boot" \
	-v l2kernel="$(cat "$TB/kernel.pkg" 2>/dev/null || echo unknown)" \
	-v commit="$commit" -v lsha="$lsha" -v lnote="$lnote" -v ref="$ref" -v rsha="$rsha" -v rcommit="$rcommit" \
	-v t_build="$(secs "$t_b0" "$t_b1")" -v t_wait="$(secs "$t_w0" "$t_w1")" -v t_l1="$(secs "$t_w1" "$t_l1")" \
	-v t_total="$(secs "$t_start" "$t_end")" \
	-v json="$OUT/results.json" -v csv="$OUT/results.csv" -f "$HERE/report.awk" \
	"$HERE/metrics.txt" "$clean" | tee "$OUT/results.txt"
status=${PIPESTATUS[0]}

# what did not run at all (the scenarios' "not ok" lines, or L1 itself)
fails=$(grep -E '^not ok - ' "$OUT/run-l1.out" 2>/dev/null | sort -u)
if [ "$l1rc" != 0 ] || [ -n "$fails" ] || [ "$status" != 0 ]; then
	echo
	echo "bench: some measurements did not run:"
	[ -n "$fails" ] && printf '%s\n' "$fails" | sed 's/^/  /'
	[ -n "$fails" ] || echo "  run-l1.sh exit $l1rc; see $LOG"
	exit 1
fi
exit 0
