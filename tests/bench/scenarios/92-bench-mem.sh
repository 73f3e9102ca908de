# 92-bench-mem.sh - benchmarks: the VMM's peak resident memory during a boot to poweroff (1 vCPU, 256 MiB), split
# into guest RAM (the largest mapping) and the VMM's own (everything else), plus guest RAM in huge pages; lkvm, and
# the reference VMM (ref_*, lkvm/reference ratios per round) when there is one, alternating.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"

# One sample of process PID (files /proc/PID/comm, status, smaps; awk -v want=COMM) -> "rss anon file shmem hwm
# ram own own_anon huge ram_size own_huge" (KiB), nothing while PID is not yet the VMM (the shell's child before its
# exec; the reference's wrapper script). VMM-neutral: the guest-RAM mapping is the one with the largest Size in
# smaps (>= the guest's RAM); its resident pages count as guest RAM (Rss, plus hugetlbfs pages, which Rss leaves
# out), its AnonHugePages/ShmemPmdMapped/*_Hugetlb as huge pages; own_huge: huge pages in all other mappings (e.g.
# a thread stack that got a transparent huge page). RssShmem also holds the text pages of a binary run from tmpfs.
SAMPLE_AWK='
FILENAME ~ /comm$/ { comm = $0; next }
FILENAME ~ /status$/ {
	if ($1 == "VmRSS:") rss = $2; else if ($1 == "RssAnon:") anon = $2; else if ($1 == "RssFile:") file = $2
	else if ($1 == "RssShmem:") shmem = $2; else if ($1 == "VmHWM:") hwm = $2
	next
}
/^[0-9a-f]+-[0-9a-f]+ / { n++; next }
$1 == "Size:" { sz[n] = $2; next }
$1 == "Rss:" { r[n] = $2; tot += $2; next }
$1 == "Anonymous:" { an[n] = $2; tanon += $2; next }
$1 == "AnonHugePages:" || $1 == "ShmemPmdMapped:" { hp[n] += $2; next }
$1 == "Shared_Hugetlb:" || $1 == "Private_Hugetlb:" { hp[n] += $2; ht[n] += $2; next }
END {
	m = 0
	for (i = 1; i <= n; i++) {
		if (sz[i] + 0 > sz[m] + 0) m = i
		thp += hp[i]
	}
	if (rss != "" && m > 0 && comm == want)
		print rss + 0, anon + 0, file + 0, shmem + 0, hwm + 0, r[m] + ht[m], tot - r[m], tanon - an[m], hp[m] + 0,
			sz[m] + 0, thp - hp[m]
}'

# mem_once lkvm|ref TAG: boot in the background, sample every ~0.1 s until the VMM exits; sets RC and the P_* peaks
mem_once() {
	_bin=$LKVM
	_want=$(basename "$LKVM" | cut -c1-15)
	[ "$1" = ref ] && _bin=$REF_RUN _want=$(basename "$REF" | cut -c1-15)
	OUT=$WORK/$2.out
	ERR=$WORK/$2.err
	samples=$WORK/$2.samples
	_tag=$2
	: >"$samples"
	log "[$2] $_bin run -k $L2_KERNEL -i $L2_INITRD -m 256 -c 1 -p 'quiet l2.run=poweroff' (sampled)"
	"$_bin" run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p "quiet l2.run=poweroff" </dev/null >"$OUT" 2>"$ERR" &
	pid=$!
	uptime_s
	end=${UP%.*}
	end=$((end + 120))
	while kill -0 "$pid" 2>/dev/null; do
		awk -v want="$_want" "$SAMPLE_AWK" /proc/"$pid"/comm /proc/"$pid"/status /proc/"$pid"/smaps >>"$samples" 2>/dev/null
		uptime_s
		if [ "${UP%.*}" -ge "$end" ]; then
			kill "$pid" 2>/dev/null
			log "[$2] timed out, killed"
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
	read -r N_SAMPLES P_RSS P_ANON P_FILE P_SHMEM P_HWM P_RAM P_OWN P_OWN_ANON P_HUGE P_RAMSIZE P_OWN_HUGE <<-EOS
		$(awk '{ for (i = 1; i <= 11; i++) if ($i > m[i]) m[i] = $i; n++ }
		END { if (n) print n, m[1] + 0, m[2] + 0, m[3] + 0, m[4] + 0, m[5] + 0, m[6] + 0, m[7] + 0, m[8] + 0, m[9] + 0,
			m[10] + 0, m[11] + 0; else print 0 }' "$samples")
	EOS
	log "[$_tag] rc=$RC samples=$N_SAMPLES peaks KiB: rss=$P_RSS anon=$P_ANON file=$P_FILE shmem=$P_SHMEM hwm=$P_HWM ram=$P_RAM own=$P_OWN own_anon=$P_OWN_ANON own_huge=$P_OWN_HUGE huge=$P_HUGE ram_mapping=$P_RAMSIZE"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
i=1
while [ $i -le "$BENCH_RUNS" ]; do
	for w in $(vmm_order $i); do
		tag=mem-$i
		[ "$w" = ref ] && tag=ref-mem-$i
		mem_once "$w" "$tag"
		if [ "$RC" = 0 ] && has "$OUT" L2-INIT-OK && [ "${N_SAMPLES:-0}" -ge 3 ]; then
			[ "${P_RAMSIZE:-0}" -ge 262144 ] ||
				diag "$(vmm_label "$w") run $i: largest mapping is only ${P_RAMSIZE:-?} KiB (< 256 MiB guest RAM)"
			bench_v "$w" mem_own_kib $i "$P_OWN" KiB
			bench_v "$w" mem_guest_ram_mib $i "$(mib "$P_RAM")" MiB
			bench_v "$w" mem_guest_huge_mib $i "$(mib "$P_HUGE")" MiB
			if [ "$w" = lkvm ]; then
				bench mem_own_anon_kib $i "$P_OWN_ANON" KiB
				bench mem_own_huge_kib $i "$P_OWN_HUGE" KiB
				bench mem_rss_anon_kib $i "$P_ANON" KiB
				bench mem_rss_file_kib $i "$P_FILE" KiB
				bench mem_rss_shmem_mib $i "$(mib "$P_SHMEM")" MiB
				bench mem_vmhwm_mib $i "$(mib "$P_HWM")" MiB
			fi
			diag "$(vmm_label "$w") run $i: own $P_OWN KiB (anon $P_OWN_ANON, huge pages $P_OWN_HUGE), guest RAM $(mib "$P_RAM") MiB of which $(mib "$P_HUGE") MiB huge pages, VmHWM $(mib "$P_HWM") MiB; $N_SAMPLES samples"
		else
			missed "$(vmm_label "$w") memory run $i ($(rc_text "$RC"), L2-INIT-OK $(has "$OUT" L2-INIT-OK && echo seen || echo missing), ${N_SAMPLES:-0} samples)"
		fi
	done
	i=$((i + 1))
done
bench_ratio mem_own_kib mem_own_ratio
bench_ratio mem_guest_ram_mib mem_guest_ram_ratio
bench_ratio mem_guest_huge_mib mem_guest_huge_ratio
bench_finish "$BENCH_RUNS sampled boots${REF:+ each of lkvm and the reference}"
