# procs.sh - procs_report WHY [all]: where lkvm's threads (or, with "all", every process) wait, for hang reports.
# Sourced by run.sh (a scenario about to time out) and lib.sh (a guest that never printed what was awaited). POSIX sh.

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
			;;
		esac
	done
	# where each running VM's vCPUs are: lkvm debug (PC, PSTATE, the EL1 registers) without stopping them
	if [ -n "${LKVM:-}" ]; then
		for _n in $("$LKVM" list 2>/dev/null | awk 'NR > 2 { print $2 }'); do
			echo "== lkvm debug --name $_n"
			timeout 10 "$LKVM" debug --name "$_n" --dump 2>&1 | head -n 40
		done
	fi
}
