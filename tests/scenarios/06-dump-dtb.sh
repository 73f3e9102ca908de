# 06-dump-dtb.sh - --dump-dtb writes the generated device tree and exits without booting; check its main nodes.
# timeout: 60
. "$(dirname "$0")/lib.sh"

# What the DTB must contain (checked when $TOOLS/fdtls exists). One check per line:
#   node PATH            node exists (PATH may be a shell pattern, e.g. /intc@*)
#   prop PATH NAME       node PATH has property NAME
#   prop PATH NAME TEXT  ... and its value, as fdtls prints it, contains TEXT
CHECKS='
node /memory@80000000
node /cpus/cpu@0
node /cpus/cpu@1
node /psci
prop /psci method hvc
node /timer
node /intc@*
node /uart@1000000
node /pci@40000000
prop /pci@40000000 compatible pci-host-ecam-generic
prop /pci@40000000 device_type pci
prop /pci@40000000 ranges
prop /pci@40000000 interrupt-map
prop /pci@40000000 interrupt-map-mask
node /chosen
prop /chosen bootargs
prop /chosen bootargs console=ttyS0
prop /chosen stdout-path
prop /chosen linux,initrd-start
prop /chosen linux,initrd-end
'

DTB="$WORK/x.dtb"
rm -f "$DTB"
lkvm_run dumpdtb 40 run -c 2 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=poweroff" --rng --dump-dtb "$DTB"
if [ "$RC" = 0 ] && ! booted "$OUT" "$ERR"; then
	ok "exit 0 in $SECS s without booting"
else
	not_ok "$(rc_text "$RC")$(booted "$OUT" "$ERR" && echo ', guest started'), stderr: \"$(first_line "$ERR")\""
fi
magic=$(od -A n -t x1 -N 4 "$DTB" 2>/dev/null | tr -d ' \n')
if [ "$magic" = d00dfeed ]; then
	ok "$(wc -c <"$DTB") bytes, FDT magic d00dfeed"
else
	not_ok "$DTB ${magic:+starts with $magic}$( [ -e "$DTB" ] || echo missing)"
	finish
fi

if [ ! -x "$TOOLS/fdtls" ]; then
	diag "no $TOOLS/fdtls: node checks skipped"
	finish
fi
"$TOOLS/fdtls" "$DTB" >"$WORK/x.fdtls" 2>>"$LOG"
log "fdtls $DTB:"
cat "$WORK/x.fdtls" >>"$LOG"
# node paths, and "PATH<TAB>NAME<TAB>VALUE" for every property line ("  name = value" or "  name")
grep -v '^[[:space:]]' "$WORK/x.fdtls" >"$WORK/x.nodes"
awk '/^[^ \t]/ { node = $0; next }
	/^[ \t]/ { sub(/^[ \t]+/, ""); name = $0; val = ""
		i = index($0, " = "); if (i) { name = substr($0, 1, i - 1); val = substr($0, i + 3) }
		print node "\t" name "\t" val }' "$WORK/x.fdtls" >"$WORK/x.props"

echo "$CHECKS" | while read -r kind path name text; do
	[ -n "$kind" ] || continue
	case $kind in
	node)
		found=
		while read -r p; do
			# shellcheck disable=SC2254
			case $p in $path) found=1 && break ;; esac
		done <"$WORK/x.nodes"
		[ -n "$found" ] || { echo "missing node $path"; continue; }
		;;
	prop)
		val=$(awk -F '\t' -v p="$path" -v n="$name" '$1 == p && $2 == n { print $3; f = 1; exit } END { exit !f }' \
			"$WORK/x.props") || { echo "missing property $path:$name"; continue; }
		if [ -n "$text" ]; then
			case $val in *"$text"*) ;; *) echo "$path:$name is '$val', lacks '$text'"; continue ;; esac
		fi
		;;
	esac
	echo pass
done >"$WORK/x.checks"
npass=$(grep -c '^pass$' "$WORK/x.checks")
problems=$(grep -v '^pass$' "$WORK/x.checks" | tr '\n' ';' | sed 's/;$//; s/;/; /g')
if [ -z "$problems" ]; then
	ok "nodes: all $npass checks pass"
else
	not_ok "nodes: $problems ($npass passed)"
fi
finish
