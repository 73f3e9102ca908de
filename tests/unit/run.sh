#!/bin/sh
# Run the host unit-test binaries given as arguments; sum their "N passed, N failed" lines.
pass=0; fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	echo "$out" | grep -E '^(not ok|ok) ' | sed "s|^|$(basename "$t"): |"
	line=$(echo "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "not ok - $(basename "$t") crashed or printed no summary (exit $rc):"
		echo "$out" | tail -n 20 | sed 's/^/| /'
		p=0; f=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $(basename "$t") exited $rc"; f=1
	fi
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
