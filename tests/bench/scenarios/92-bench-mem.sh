# 92-bench-mem.sh - benchmarks: lkvm's peak resident memory during a boot to poweroff (1 vCPU, 256 MiB), split into
# guest RAM (the memfd mapping) and lkvm's own (everything else: heap, stacks, kvm_run pages, the binary's text).
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

# one sample of process $1 -> "rss anon file shmem hwm ram own own_anon" (KiB); the guest-RAM mapping is the
# memfd one in smaps ("/memfd:NAME (deleted)"); RssShmem also holds text pages of binaries run from tmpfs
SAMPLE_AWK='
FILENAME ~ /status$/ {
	if ($1 == "VmRSS:") rss = $2; else if ($1 == "RssAnon:") anon = $2; else if ($1 == "RssFile:") file = $2
	else if ($1 == "RssShmem:") shmem = $2; else if ($1 == "VmHWM:") hwm = $2
	next
}
/^[0-9a-f]+-[0-9a-f]+ / { ram_map = ($0 ~ /memfd:/); next }
$1 == "Rss:" { if (ram_map) ram += $2; else own += $2; next }
$1 == "Anonymous:" { if (!ram_map) own_anon += $2; next }
END { if (rss != "" && own != "") print rss + 0, anon + 0, file + 0, shmem + 0, hwm + 0, ram + 0, own + 0, own_anon + 0 }'

# mem_once TAG: boot in the background, sample every ~0.1 s until lkvm exits; sets RC and the P_* peaks
mem_once() {
	OUT=$WORK/$1.out
	ERR=$WORK/$1.err
	samples=$WORK/$1.samples
	: >"$samples"
	log "[$1] $LKVM run -k $L2_KERNEL -i $L2_INITRD -m 256 -c 1 -p 'quiet l2.run=poweroff' (sampled)"
	"$LKVM" run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p "quiet l2.run=poweroff" </dev/null >"$OUT" 2>"$ERR" &
	pid=$!
	uptime_s
	end=${UP%.*}
	end=$((end + 120))
	while kill -0 "$pid" 2>/dev/null; do
		awk "$SAMPLE_AWK" /proc/"$pid"/status /proc/"$pid"/smaps >>"$samples" 2>/dev/null
		uptime_s
		if [ "${UP%.*}" -ge "$end" ]; then
			kill "$pid" 2>/dev/null
			log "[$1] timed out, killed"
			break
		fi
		sleep 0.1
	done
	wait "$pid"
	RC=$?
	{
		sed 's/^/out: /' "$OUT"
		sed 's/^/err: /' "$ERR"
	} >>"$LOG"
	# peaks over the samples; VmHWM is the kernel's own high-water mark (last sample = largest)
	set -- $(awk '{ for (i = 1; i <= 8; i++) if ($i > m[i]) m[i] = $i; n++ }
		END { if (n) print n, m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8] }' "$samples")
	N_SAMPLES=${1:-0} P_RSS=${2:-} P_ANON=${3:-} P_FILE=${4:-} P_SHMEM=${5:-} P_HWM=${6:-} P_RAM=${7:-} P_OWN=${8:-}
	P_OWN_ANON=${9:-}
	log "[$1] rc=$RC samples=$N_SAMPLES peaks KiB: rss=$P_RSS anon=$P_ANON file=$P_FILE shmem=$P_SHMEM hwm=$P_HWM ram=$P_RAM own=$P_OWN own_anon=$P_OWN_ANON"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
i=1
while [ $i -le "$BENCH_RUNS" ]; do
	mem_once mem-$i
	if [ "$RC" = 0 ] && has "$OUT" L2-INIT-OK && [ "${N_SAMPLES:-0}" -ge 3 ]; then
		bench mem_own_kib $i "$P_OWN" KiB
		bench mem_own_anon_kib $i "$P_OWN_ANON" KiB
		bench mem_rss_anon_kib $i "$P_ANON" KiB
		bench mem_rss_file_kib $i "$P_FILE" KiB
		bench mem_guest_ram_mib $i "$(mib "$P_RAM")" MiB
		bench mem_rss_shmem_mib $i "$(mib "$P_SHMEM")" MiB
		bench mem_vmhwm_mib $i "$(mib "$P_HWM")" MiB
		diag "run $i: own $P_OWN KiB (anon $P_OWN_ANON), guest RAM $(mib "$P_RAM") MiB, VmHWM $(mib "$P_HWM") MiB; $N_SAMPLES samples"
	else
		missed "memory run $i ($(rc_text "$RC"), L2-INIT-OK $(has "$OUT" L2-INIT-OK && echo seen || echo missing), ${N_SAMPLES:-0} samples)"
	fi
	i=$((i + 1))
done
bench_finish "$BENCH_RUNS sampled boots"
