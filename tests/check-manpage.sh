#!/bin/bash
# check-manpage.sh - every command and option that 'lkvm --help' and 'lkvm COMMAND --help' show is in docs/lkvm.1.
#
# For each command listed by 'lkvm --help' it runs 'lkvm COMMAND --help', takes the options from the usage lines and
# the option table (long --foo and short -f), and looks for each one as a term (the line after .TP) of the man
# page's OPTIONS subsection '.SS "lkvm COMMAND..."' ('.SS "Global options"' for 'lkvm --help' itself); each command
# must be a term of COMMANDS. Prints "ok - manpage: ..." / "not ok - manpage: ..." lines and, when groff is
# installed, checks the page renders without warnings. Options documented but not in any --help are reported as
# "# note:" lines only. Exit 0 iff nothing failed.
# LKVM=path/to/lkvm (default ./lkvm) MANPAGE=path (default docs/lkvm.1). The aarch64 binary runs natively on arm64,
# elsewhere through qemu-aarch64-static or qemu-aarch64 (package qemu-user-static, in tests/testbed/setup-host.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
LKVM=${LKVM:-$PWD/lkvm}
MAN=${MANPAGE:-docs/lkvm.1}
npass=0
nfail=0
ok() {
	echo "ok - manpage: $*"
	npass=$((npass + 1))
}
notok() {
	echo "not ok - manpage: $*"
	nfail=$((nfail + 1))
}
finish() {
	echo "# manpage: $npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit
}

if [ ! -r "$MAN" ]; then
	notok "$MAN does not exist"
	finish
fi
if [ ! -x "$LKVM" ]; then
	notok "no lkvm binary at $LKVM (build it first: make lkvm)"
	finish
fi

# How to run the binary: natively (arm64 host, or binfmt_misc), else through user-mode QEMU.
RUN=()
if "$LKVM" --version >/dev/null 2>&1; then
	RUN=("$LKVM")
else
	for q in qemu-aarch64-static qemu-aarch64; do
		if command -v "$q" >/dev/null 2>&1 && "$q" "$LKVM" --version >/dev/null 2>&1; then
			RUN=("$q" "$LKVM")
			break
		fi
	done
fi
if [ ${#RUN[@]} -eq 0 ]; then
	notok "cannot run $LKVM here (not an arm64 host, and no working qemu-aarch64-static or qemu-aarch64)"
	finish
fi

# The man page as plain text: roff escapes for '-', fonts and zero-width breaks dropped.
plain=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\e/\\/g' -e 's/"//g' "$MAN")

# terms SECTION-HEADING-REGEX: the .TP terms of the OPTIONS subsection whose .SS heading matches (awk ERE)
terms() {
	printf '%s\n' "$plain" | awk -v want="$1" '
		/^\.SH/ { inopt = ($0 ~ /^\.SH OPTIONS/); insec = 0; tp = 0; next }
		/^\.SS/ { insec = inopt && ($0 ~ want); tp = 0; next }
		/^\.TP/ { tp = insec; next }
		tp && !/^\./ { next }
		tp { print; tp = 0 }'
}

# command_terms: the .TP terms of the COMMANDS section
command_terms() {
	printf '%s\n' "$plain" | awk '
		/^\.SH/ { insec = ($0 ~ /^\.SH COMMANDS/); tp = 0; next }
		/^\.TP/ { tp = insec; next }
		tp { print; tp = 0 }'
}

# help_options: read --help output on stdin, print its options (one a line: --long or -s)
help_options() {
	awk '
		/^[ \t]*usage:/ || (inusage && /^[ \t]+lkvm /) { inusage = 1; print "U " $0; next }
		{ inusage = 0 }
		/^[ \t]+-/ { print "T " $0 }' |
		while IFS= read -r line; do
			kind=${line%% *}
			text=${line#* }
			if [ "$kind" = U ]; then
				printf '%s\n' "$text" | grep -oE -- '--[a-z0-9][a-z0-9-]*'
				printf '%s\n' "$text" | grep -oE -- '(^|[][ |])-[a-zA-Z0-9]([] |]|$)' | grep -oE -- '-[a-zA-Z0-9]'
			else
				# the left column only: "-c, --cpus <n>", "--rng", "-x" (the help text may name other options)
				left=$(printf '%s\n' "$text" | sed -E 's/^[ \t]+//' |
					grep -oE -- '^(-[a-zA-Z0-9], )?--[a-z0-9][a-z0-9-]*|^-[a-zA-Z0-9]([ ]|$)')
				printf '%s\n' "$left" | grep -oE -- '--[a-z0-9][a-z0-9-]*|(^|[ ])-[a-zA-Z0-9]' | tr -d ' '
			fi
		done | awk '!seen[$0]++'
}

# documented OPT TERMS: is OPT one of the options written in TERMS (whole option, not a prefix)?
documented() {
	printf '%s\n' "$2" | grep -qE -- "(^|[^a-zA-Z0-9-])$1([^a-zA-Z0-9-]|$)"
}

# check_options LABEL SECTION-REGEX HELP-TEXT
check_options() {
	local label=$1 t opts o
	t=$(terms "$2")
	opts=$(printf '%s\n' "$3" | help_options)
	if [ -z "$opts" ]; then
		notok "'$label --help' shows no options (is its usage line missing?)"
		return
	fi
	for o in $opts; do
		if documented "$o" "$t"; then
			ok "$o ($label)"
		else
			notok "$o ($label) missing from $MAN"
		fi
	done
	# the other way round: documented options that --help does not show (reported, not failed: options can be
	# documented ahead of their merge)
	for o in $(printf '%s\n' "$t" | grep -oE -- '(^|[ ,[])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z0-9])' | tr -d ' ,[' |
		awk '!seen[$0]++'); do
		[ "$o" = -h ] && printf '%s\n' "$opts" | grep -qxF -- --help && continue # the usual alias of --help
		printf '%s\n' "$opts" | grep -qxF -- "$o" || echo "# note: $o is documented for $label in $MAN but '$label --help' does not show it"
	done
}

top=$("${RUN[@]}" --help 2>&1) || notok "'lkvm --help' failed"
check_options "lkvm" '^\.SS Global options' "$top"

cmds=$(printf '%s\n' "$top" | sed -nE 's/^   ([a-z][a-z0-9-]*)  +.*/\1/p')
if [ -z "$cmds" ]; then
	notok "'lkvm --help' lists no commands"
	finish
fi
cterms=$(command_terms)
for c in $cmds; do
	if printf '%s\n' "$cterms" | grep -qxE -- "\.B $c"; then
		ok "command $c is in COMMANDS"
	else
		notok "command $c (lkvm --help) missing from COMMANDS in $MAN"
	fi
	# 'lkvm help' is the global help itself, 'lkvm version' takes no options: both are in '.SS "lkvm help, lkvm version"'
	case $c in help | version) continue ;; esac
	if ! out=$("${RUN[@]}" "$c" --help 2>&1); then
		notok "'lkvm $c --help' failed: $(printf '%s\n' "$out" | head -n 1)"
		continue
	fi
	check_options "lkvm $c" "^\\.SS .*lkvm $c([^a-z0-9-]|\$)" "$out"
done

if command -v groff >/dev/null 2>&1; then
	w=$(groff -man -ww -z -Tutf8 "$MAN" 2>&1)
	if [ -z "$w" ]; then
		ok "$MAN renders without groff warnings"
	else
		notok "$MAN: groff warns: $(printf '%s\n' "$w" | head -n 1)"
	fi
else
	echo "# note: groff is not installed: the render check of $MAN is skipped"
fi
finish
