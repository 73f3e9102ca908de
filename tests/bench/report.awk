# report.awk - turn the BENCH lines of an L1 console log into the benchmark table, results.json and results.csv.
# Usage: awk -v runs=N -v json=FILE -v csv=FILE [-v ref=PATH -v rsha=SHA -v rcommit=C] [-v META=...] -f report.awk
#        metrics.txt console.log
# (POSIX awk: runs under mawk, gawk and busybox awk.) Exit 1 if a listed metric has neither data nor an n/a reason;
# rows flagged "ref" appear only with a reference VMM (ref non-empty) and are n/a, never missing, without data.

function jstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	gsub(/\t/, " ", s)
	return "\"" s "\""
}
function csvq(s) {
	gsub(/"/, "\"\"", s)
	return "\"" s "\""
}
# field K=V of the current line (V runs to the next space; "reason" runs to the end of the line)
function kv(k,   i, p) {
	for (i = 2; i <= NF; i++) {
		p = index($i, "=")
		if (p && substr($i, 1, p - 1) == k)
			return substr($i, p + 1)
	}
	return ""
}
# sort a[1..n] numerically (insertion sort: n is small)
function nsort(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}
function num(fmt, x) { return sprintf(fmt, x) }
BEGIN {
	nw = split(only, w, ",")
	for (i = 1; i <= nw; i++)
		want[w[i]] = 1
}

FNR == NR {
	if ($0 ~ /^#/ || $0 ~ /^[ \t]*$/)
		next
	if ($0 ~ /^@/) {
		split(substr($0, 2), f, "|")
		sect = f[1]
		if (!(sect in want))
			next
		nitems++
		title[nitems] = f[2]
		next
	}
	split($0, f, "|")
	listed[f[1]] = 1
	if (!(sect in want) || (f[6] ~ /ref/ && ref == ""))
		next
	isref[f[1]] = (f[6] ~ /ref/)
	nitems++
	key[nitems] = f[1]
	fmt[f[1]] = f[2]
	unit[f[1]] = f[3]
	label[f[1]] = f[4]
	goal[f[1]] = f[5]
	next
}
/^BENCH metric=/ {
	m = kv("metric")
	r = kv("run")
	v = kv("value")
	if (m == "" || v == "" || v == "nan")
		next
	if (!(m in listed)) {
		# not in metrics.txt: still reported, at the end
		nitems++
		key[nitems] = m
		fmt[m] = "%.4g"
		unit[m] = kv("unit")
		label[m] = m
		listed[m] = 1
	}
	cnt[m]++
	val[m, cnt[m]] = v
	raw[m] = raw[m] (raw[m] == "" ? "" : " ") v
	next
}
/^BENCH-NA metric=/ {
	m = kv("metric")
	p = index($0, "reason=")
	na[m] = p ? substr($0, p + 7) : "n/a"
	next
}
/^BENCH-INFO / {
	p = index($2, "=")
	if (p) {
		k = substr($2, 1, p - 1)
		if (!(k in info))
			infok[++ninfo] = k
		info[k] = substr($0, index($0, "=") + 1)
	}
	next
}
/^L1-INIT-OK / && l1k == "" { l1k = kv("kernel") }

END {
	if (!("l1_kernel" in info))
		info["l1_kernel"] = (l1k == "" ? "unknown" : l1k)
	hdr = sprintf("lkvm benchmarks  %s  BENCH_RUNS=%s  (%s)", date, runs, only)
	print hdr
	printf "  lkvm    %s, binary sha256 %s (%s)\n", commit, lsha, lnote
	printf "  host    %s; %s\n", host, qemu
	printf "  L1      Linux %s, %s CPUs, %s MiB, KVM %s (%s)\n", info["l1_kernel"], info["l1_cpus"], info["l1_mem_mib"],
		l1mode, l1kvm
	printf "  L2      %s (the same Image as L1)%s\n", l2kernel,
		("blk_mode" in info) ? "; blk dd " info["blk_mode"] ", timed by " info["blk_timer"] : ""
	if (ref != "")
		printf "  ref     %s, binary sha256 %s, commit %s%s\n", ref, rsha, (rcommit == "" ? "unknown" : rcommit),
			("ref_version" in info) ? " (" info["ref_version"] ")" : ""
	if (l1boot != "")
		printf "  timing  %s\n", l1boot
	printf "\n%-44s %10s %10s %10s  %-7s %3s  %s\n", "", "median", "min", "max", "unit", "n", "note"

	printf "{\n" > json
	printf "  \"date\": %s,\n  \"bench_runs\": %d,\n  \"measurements\": %s,\n", jstr(date), runs, jstr(only) > json
	printf "  \"lkvm_commit\": %s,\n  \"lkvm_sha256_12\": %s,\n  \"lkvm_binary\": %s,\n", jstr(commit), jstr(lsha),
		jstr(lnote) > json
	printf "  \"host\": %s,\n  \"qemu\": %s,\n", jstr(host), jstr(qemu) > json
	printf "  \"ref_vmm\": %s,\n  \"ref_sha256_12\": %s,\n  \"ref_commit\": %s,\n", jstr(ref), jstr(rsha),
		jstr(rcommit) > json
	printf "  \"l1_kernel\": %s,\n  \"l1_kvm_mode\": %s,\n  \"l1_kvm\": %s,\n  \"l2_kernel\": %s,\n", jstr(info["l1_kernel"]),
		jstr(l1mode), jstr(l1kvm), jstr(l2kernel) > json
	printf "  \"timing_s\": {\"total\": %.1f, \"build\": %.1f, \"lock_wait\": %.1f, \"l1_run\": %.1f},\n", t_total,
		t_build, t_wait, t_l1 > json
	printf "  \"info\": {" > json
	for (i = 1; i <= ninfo; i++)
		printf "%s%s: %s", (i > 1 ? ", " : ""), jstr(infok[i]), jstr(info[infok[i]]) > json
	printf "},\n  \"metrics\": {" > json
	print "metric,label,unit,median,min,max,n,samples,goal,note" > csv

	bad = 0
	nj = 0
	for (i = 1; i <= nitems; i++) {
		if (!(i in key)) {
			printf "%s\n", title[i]
			continue
		}
		m = key[i]
		n = cnt[m] + 0
		note = ""
		med = mn = mx = ""
		if (n > 0) {
			for (j = 1; j <= n; j++)
				s[j] = val[m, j]
			nsort(s, n)
			mn = s[1]
			mx = s[n]
			med = (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
			split(goal[m], g, ":")
			if (g[1] == "max")
				note = sprintf("goal <= %s %s: %s", g[2], unit[m], (mx + 0 <= g[2] + 0) ? "met (max)" : "NOT met (max)")
			else if (g[1] == "near") {
				d = med - g[2]
				if (d < 0)
					d = -d
				note = sprintf("goal %s +/- %s%%: %s (median off by %.2f%%)", g[2], g[3],
					(d * 100 <= g[3] * g[2]) ? "met" : "NOT met", 100 * d / g[2])
			}
			if (n < runs + 0)
				note = note (note == "" ? "" : "; ") "only " n " of " runs " runs"
			printf "  %-42s %10s %10s %10s  %-7s %3d  %s\n", label[m], num(fmt[m], med), num(fmt[m], mn),
				num(fmt[m], mx), unit[m], n, note
		} else if ((m in na) || isref[m]) {
			note = "n/a (" ((m in na) ? na[m] : "no reference figure") ")"
			printf "  %-42s %10s %10s %10s  %-7s %3d  %s\n", label[m], "-", "-", "-", unit[m], 0, note
		} else {
			note = "NO DATA: the measurement did not run"
			printf "  %-42s %10s %10s %10s  %-7s %3d  %s\n", label[m], "-", "-", "-", unit[m], 0, note
			bad = 1
		}
		printf "%s\n    %s: {\"label\": %s, \"unit\": %s, \"n\": %d", (nj++ ? "," : ""), jstr(m), jstr(label[m]),
			jstr(unit[m]), n > json
		if (n > 0)
			printf ", \"median\": %s, \"min\": %s, \"max\": %s, \"samples\": [%s]", num(fmt[m], med), num(fmt[m], mn),
				num(fmt[m], mx), raw[m] == "" ? "" : gensep(raw[m]) > json
		else
			printf ", \"median\": null, \"min\": null, \"max\": null, \"samples\": []" > json
		printf ", \"goal\": %s, \"note\": %s}", jstr(goal[m]), jstr(note) > json
		printf "%s,%s,%s,%s,%s,%s,%d,%s,%s,%s\n", m, csvq(label[m]), csvq(unit[m]), n ? num(fmt[m], med) : "",
			n ? num(fmt[m], mn) : "", n ? num(fmt[m], mx) : "", n, csvq(raw[m]), csvq(goal[m]), csvq(note) > csv
	}
	printf "\n  }\n}\n" > json
	close(json)
	close(csv)
	printf "\ntotal %s s (build %s s, waiting for the QEMU lock %s s, L1 run %s s)\n", t_total, t_build, t_wait, t_l1
	printf "results: %s, %s\n", json, csv
	exit bad
}
# "1 2 3" -> "1, 2, 3"
function gensep(s) {
	gsub(/ /, ", ", s)
	return s
}
