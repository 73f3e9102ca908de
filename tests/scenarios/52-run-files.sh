# 52-run-files.sh - 'lkvm run -- CMD' run by an unprivileged user (lkvmuser, uid 1000): the command runs as that
# user (uid, gid, groups, HOME) in the caller's directory, shared read-write (files it makes belong to the user on
# the host); the rest of the host's / is copy-on-write (a write to /etc succeeds as --root and the host's /etc is
# unchanged); --rwdir persists, --env passes variables, --rw writes through with one warning; and a terminal on
# lkvm's stdin gives the command a pty with the terminal's size, resized live.
# timeout: 900
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runlib.sh"

U=lkvmuser
if ! run_boot_setup; then
	not_ok "no host kernel for lkvm run -- CMD"
	finish
fi
if ! id "$U" >/dev/null 2>&1 || ! su "$U" -s /bin/sh -c "test -r /dev/kvm -a -w /dev/kvm"; then
	not_ok "user $U missing or without /dev/kvm (the test bed's L1 has it)"
	run_boot_cleanup
	finish
fi
F=$WORK/files
R=$WORK/rwdir
X=$WORK/rwroot
rm -rf "$F" "$R" "$X"
mkdir -p "$F" "$R" "$X"
chown "$U:$U" "$F" "$R" "$X"
chmod 755 "$WORK"
cd "$F" || exit 1
uid=$(id -u "$U")
gid=$(id -g "$U")
home=$(su "$U" -s /bin/sh -c 'echo $HOME')
etc_before=$(ls -la /etc | md5sum)

RUN_AS=$U run_cmd user 200 -- sh -c 'id -u; id -g; id -G; echo "$HOME"; pwd; echo made-in-guest >created;
	mkdir sub && echo x >sub/y; echo e >/etc/lkvm-user-test 2>/dev/null && echo ETC-WRITTEN || echo ETC-DENIED;
	echo t >/tmp/t && echo TMP-OK; grep -q "^root:" /etc/passwd && echo HOST-ROOT-SEEN'
check "as $U: status 0 ($RC)" [ "$RC" = 0 ]
check "the command's uid is the caller's ($(sed -n 1p "$OUT"))" [ "$(sed -n 1p "$OUT")" = "$uid" ]
check "the command's gid is the caller's ($(sed -n 2p "$OUT"))" [ "$(sed -n 2p "$OUT")" = "$gid" ]
check "its groups are the caller's, kvm (36) among them ($(sed -n 3p "$OUT"))" \
	sh -c "sed -n 3p '$OUT' | tr ' ' '\n' | grep -qx 36"
check "HOME is the caller's ($(sed -n 4p "$OUT"))" [ "$(sed -n 4p "$OUT")" = "$home" ]
check "the working directory is the caller's ($(sed -n 5p "$OUT"))" [ "$(sed -n 5p "$OUT")" = "$F" ]
check "a file written in the working directory is on the host" [ "$(cat "$F/created" 2>/dev/null)" = made-in-guest ]
check "... owned by the caller ($(stat -c %u:%g "$F/created" 2>/dev/null))" \
	[ "$(stat -c %u:%g "$F/created" 2>/dev/null)" = "$uid:$gid" ]
check "... and a directory with a file in it ($(stat -c %u "$F/sub/y" 2>/dev/null))" \
	sh -c "[ -d '$F/sub' ] && [ \"\$(stat -c %u '$F/sub/y')\" = '$uid' ]"
check "as the user, /etc is not writable (permissions, as on the host)" has "$OUT" ETC-DENIED
check "/tmp is writable, the host's / is seen" sh -c "grep -q TMP-OK '$OUT' && grep -q HOST-ROOT-SEEN '$OUT'"

RUN_AS=$U run_cmd root 200 --root -- sh -c 'id -u; echo "$HOME"; echo root-was-here >/etc/lkvm-root-test &&
	cat /etc/lkvm-root-test; echo byroot >byroot; echo gone >/lkvm-not-kept && echo TOP-WRITTEN'
check "--root: the command sees uid 0 ($(sed -n 1p "$OUT"))" sh -c "[ \"\$(sed -n 1p '$OUT')\" = 0 ] && [ '$RC' = 0 ]"
check "--root: HOME is /root" [ "$(sed -n 2p "$OUT")" = /root ]
check "--root: a write to /etc succeeds inside" has "$OUT" root-was-here
check "--root: the host's /etc is unchanged" sh -c "[ ! -e /etc/lkvm-root-test ] && [ \"\$(ls -la /etc | md5sum)\" = '$etc_before' ]"
check "--root: a write to / succeeds inside and is not on the host" sh -c "grep -q TOP-WRITTEN '$OUT' && [ ! -e /lkvm-not-kept ]"
check "--root: a file made in the working directory belongs to the caller ($(stat -c %u "$F/byroot" 2>/dev/null))" \
	[ "$(stat -c %u "$F/byroot" 2>/dev/null)" = "$uid" ]

LKVM_FROM_HOST=hostval LKVM_NOT_PASSED=leak RUN_AS=$U run_cmd rwdir 200 --rwdir "$R" --env LKVM_FOO=bar \
	--env LKVM_FROM_HOST -- sh -c "echo persisted >'$R/kept'; echo nope >'$X/not-kept';
	echo \"\$LKVM_FOO/\$LKVM_FROM_HOST/\${LKVM_NOT_PASSED-unset}\""
check "--rwdir: a file written there persists on the host" [ "$(cat "$R/kept" 2>/dev/null)" = persisted ]
check "without --rwdir, a host directory is copy-on-write" [ ! -e "$X/not-kept" ]
check "--env NAME=VALUE and --env NAME (the host's value) pass; others do not ($(cat "$OUT"))" \
	[ "$(cat "$OUT")" = "bar/hostval/unset" ]

RUN_AS=$U run_cmd rw 200 --rw -- sh -c "echo through >'$X/written'"
check "--rw: the write reached the host" [ "$(cat "$X/written" 2>/dev/null)" = through ]
check "--rw: one warning line ($(head -c 120 "$ERR"))" sh -c "[ \$(grep -c . '$ERR') = 1 ] && grep -q -- --rw '$ERR'"

# a terminal on stdin: the command gets a pty of the terminal's size, and a resize reaches it
PTY=$TOOLS/ptyrun
if [ -x "$PTY" ]; then
	PTYRUN_SIZE="30 100" PTYRUN_RESIZE="40 120" timeout 200 "$PTY" READY-FOR-KEY '\n' -- "$LKVM" run -- sh -c \
		'test -t 0 && test -t 1 && echo TTY-YES; echo "SIZE1 $(stty size)"; echo READY-FOR-KEY; read x;
		echo "SIZE2 $(stty size)"' >"$WORK/pty.out" 2>&1
	tr -d '\r' <"$WORK/pty.out" >"$WORK/pty.clean"
	sed 's/^/pty: /' "$WORK/pty.clean" >>"$LOG"
	check "a terminal on stdin: the command's stdin and stdout are a terminal" has "$WORK/pty.clean" TTY-YES
	check "... of the terminal's size (30 rows, 100 columns)" has "$WORK/pty.clean" "SIZE1 30 100"
	check "... resized live (40 x 120)" has "$WORK/pty.clean" "SIZE2 40 120"
	check "... and lkvm exits 0 with the command" has "$WORK/pty.clean" "PTYRUN exit=0 "
	# stdin and stderr a terminal, stdout redirected: stdout stays byte-exact, stderr comes through the pty
	timeout 200 "$PTY" NO-MARKER '' -- sh -c "'$LKVM' run -- sh -c 'test -t 0 && echo IN-TTY; test -t 1 ||
		echo OUT-NOT-TTY; echo to-err >&2' >'$WORK/pty-redir.out'" >"$WORK/pty2.out" 2>&1
	check "stdout redirected under a terminal: exactly the command's bytes, no CR ($(od -c "$WORK/pty-redir.out" | head -n 2 | tr -s ' '))" \
		[ "$(cat "$WORK/pty-redir.out")" = "$(printf 'IN-TTY\nOUT-NOT-TTY')" ]
	check "... and stderr on the terminal" has "$WORK/pty2.out" to-err
else
	not_ok "helper $PTY missing (make tools)"
fi

run_boot_cleanup
cd /
rm -rf "$F" "$R" "$X"
finish
