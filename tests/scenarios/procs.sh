# procs.sh - procs_report WHY [all]: where lkvm's threads (or, with "all", every process) wait, for hang reports.
# Sourced by run.sh (a scenario about to time out) and lib.sh (a guest that never printed what was awaited). POSIX sh.

# _ticks STATFILE: "user system guest" CPU ticks of a thread (fields 14, 15 and 43 of /proc/.../stat)
_ticks() { sed 's/^.*) //' "$1" 2>/dev/null | awk '{ print $12, $13, $41 }'; }

procs_report() {
	echo "== processes: $1"
	for _pd in /proc/[0-9]*; do
		_cmd=$(tr '\0' ' ' <"$_pd/cmdline" 2>/dev/null)
		[ -n "$_cmd" ] || continue # kernel threads and processes gone meanwhile
		case $_cmd in
		*lkvm*) ;;
		*) [ "${2:-}" = all ] || continue ;;
		esac
		read -r _ _ _st _ <"$_pd/stat" 2>/dev/null
		echo "${_pd#/proc/} $_st $(cat "$_pd/wchan" 2>/dev/null) $_cmd" | cut -c 1-200
		case $_cmd in
		*/lkvm\ * | lkvm\ *)
			for _tk in "$_pd"/task/*; do
				read -r _ _ _st _ <"$_tk/stat" 2>/dev/null
				echo "  thread ${_tk##*/} $(cat "$_tk/comm" 2>/dev/null) $_st $(cat "$_tk/wchan" 2>/dev/null)"
				sed 's/^/    /' "$_tk/stack" 2>/dev/null | head -n 8
			done
			# where a busy thread spends its time (a vCPU in the guest, in lkvm or in the host kernel): one second
			_t0=$(for _tk in "$_pd"/task/*; do echo "${_tk##*/} $(_ticks "$_tk/stat")"; done)
			sleep 1
			for _tk in "$_pd"/task/*; do
				echo "${_tk##*/} $(cat "$_tk/comm" 2>/dev/null) $(_ticks "$_tk/stat")"
			done | awk -v t0="$_t0" 'BEGIN { n = split(t0, a, "\n"); for (i = 1; i <= n; i++) { split(a[i], f, " "); u[f[1]] = f[2]; s[f[1]] = f[3]; g[f[1]] = f[4] } }
				($1 in u) && $3 + $4 + $5 > u[$1] + s[$1] + g[$1] { printf "  busy over 1 s: thread %s %s: %d ticks user (%d of them in the guest), %d system\n", $1, $2, $3 - u[$1], $5 - g[$1], $4 - s[$1] }'
			;;
		esac
	done
	# where each running VM's vCPUs are: lkvm debug (PC, PSTATE; then the EL1 registers and the code at PC)
	if [ -n "${LKVM:-}" ]; then
		for _n in $("$LKVM" list 2>/dev/null | awk 'NR > 2 { print $2 }'); do
			echo "== lkvm debug --name $_n"
			timeout 10 "$LKVM" debug --name "$_n" 2>&1 | head -n 8
			timeout 10 "$LKVM" debug --name "$_n" --dump 2>&1 | head -n 40
		done
	fi
	# the host kernel's last words (a process killed by a signal, KVM's warnings)
	echo "== dmesg (last 8 lines)"
	dmesg 2>/dev/null | tail -n 8
}
