/* 'lkvm migrate': connect to the destination, hand that connection to the VM, relay progress and the verdict. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/log.h"
#include "kvm/migrate.h"
#include "kvm/mig-recheck.h"
#include "kvm/options.h"

/* "key=value" out of a progress or done line; "?" if absent. */
static const char *field(const char *line, const char *key, char *buf, size_t len)
{
	const char *p = line;
	size_t n, k = strlen(key);

	while ((p = strstr(p, key)) && ((p != line && p[-1] != ' ') || p[k] != '='))
		p += k; /* "recheck" is not "pause_recheck_ms" */
	if (!p)
		return "?";
	p += strlen(key) + 1;
	n = strcspn(p, " ");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* The done line's pause, split into its parts: one line on stdout. */
static void pause_split(const char *line)
{
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32], i[32];

	if (!strcmp(field(line, "pause_state_ms", a, sizeof(a)), "?"))
		return;
	const char *mode = field(line, "recheck", g, sizeof(g)), *scope = field(line, "recheck_scope", f, sizeof(f));
	const char *why = field(line, "recheck_why", i, sizeof(i)), *what;
	bool all = !strcmp(scope, "all");
	const char *because = strcmp(mode, "auto")     ? ""
			      : !strcmp(why, "host") ? ", this host lost dirty-log entries outside them before"
			      : !strcmp(why, "live") ? " after a loss outside the blocks the log reported"
						     : "";

	if (!strcmp(mode, "never"))
		what = ": nothing";
	else if (all)
		what = ": all of RAM";
	else
		what = ": the 2 MiB blocks written since the self-check read them";
	printf("pause %s ms: last dirty pages %s ms (%s pages), device state %s ms, re-check %s ms (%s%s%s, %s pages "
	       "read)",
	       field(line, "pause_ms", b, sizeof(b)), field(line, "pause_pages_ms", c, sizeof(c)),
	       field(line, "last_pages", d, sizeof(d)), a, field(line, "pause_recheck_ms", e, sizeof(e)), mode, what,
	       all ? because : "", field(line, "recheck_read", h, sizeof(h)));
	if (strcmp(field(line, "pause_verify_ms", a, sizeof(a)), "0"))
		printf(", verify %s ms", a);
	printf(", destination set-up %s ms\n", field(line, "pause_dest_ms", b, sizeof(b)));
}

int cmd_migrate(int argc, const char **argv)
{
	const char *name = NULL, *strategy = "cancel", *recheck = "auto", *debug = getenv("LKVM_DEBUG_UNLOGGED"), *pos[1];
	u64 downtime = 300, bw = 0, timeout = 0;
	bool help = false, verify = false, local = false, tty = isatty(STDERR_FILENO), shown = false;
	const struct option_desc opts[] = {
		{ 'n', "name", OPT_STRING, &name, "name", "The VM to migrate", NULL, 0 },
		{ 0, "max-downtime", OPT_U64, &downtime, "ms", "Pause the guest only when the rest fits (default 300)", NULL,
		  0 },
		{ 0, "max-bandwidth", OPT_U64, &bw, "MiB/s", "Send at most this fast (default: as fast as it goes)", NULL, 0 },
		{ 0, "timeout", OPT_U64, &timeout, "s", "Give up (or force, below) after this long (default: never)", NULL,
		  0 },
		{ 0, "timeout-strategy", OPT_STRING, &strategy, "cancel|force",
		  "On timeout: cancel and keep the guest here (default), or finish with stop-and-copy", NULL, 0 },
		{ 0, "verify", OPT_BOOL, &verify, NULL,
		  "Send a CRC of every guest page while paused; the destination refuses a copy that differs", NULL, 0 },
		{ 0, "local", OPT_BOOL, &local, NULL,
		  "Same host, unix: only: hand guest RAM (--hugetlbfs) over by descriptor instead of copying it", NULL, 0 },
		{ 0, "recheck", OPT_STRING, &recheck, "auto|always|never",
		  "Catch pages written without a dirty-log entry: auto (default; hash live, re-read in the pause the 2 MiB "
		  "blocks written, all of RAM after a loss outside them, now or before on this host), always (all of RAM in "
		  "the pause), never",
		  NULL, 0 },
		{ 0, "debug-unlogged", OPT_STRING, &debug, "file",
		  "Write a line per page the dirty log missed (address, changed bytes, round) to FILE "
		  "(or LKVM_DEBUG_UNLOGGED=FILE)", NULL, 0 },
		{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	struct migrate_addr addr;
	struct timeval tv = { .tv_sec = 300 };
	char err[400], line[CONTROL_MAX_LINE], req[240], a[32], b[32], c[32], d[32];
	enum recheck_mode mode;
	FILE *dbg = NULL;
	u64 nunlogged = 0;
	int n, sock, dst;

	n = options_parse(opts, argc, argv, NULL, pos, 1, err, sizeof(err));
	if (n < 0)
		die("%s (see 'lkvm migrate --help')", err);
	if (help) {
		options_usage(stdout,
			      "lkvm migrate --name NAME [--max-downtime MS] [--max-bandwidth MIB/S] [--timeout S] "
			      "[--timeout-strategy cancel|force] [--verify] [--local] [--recheck auto|always|never] "
			      "[--debug-unlogged FILE] tcp:HOST:PORT|unix:PATH",
			      opts);
		return 0;
	}
	if (!name || n != 1)
		die("usage: lkvm migrate --name NAME [options] tcp:HOST:PORT|unix:PATH (see 'lkvm migrate --help')");
	if (strcmp(strategy, "cancel") && strcmp(strategy, "force"))
		die("--timeout-strategy %s: expected cancel or force", strategy);
	if (recheck_mode_parse(recheck, &mode))
		die("--recheck %s: expected auto, always or never", recheck);
	if (debug && !*debug)
		debug = NULL;
	if (bw >= (1ULL << 40) || timeout >= (1ULL << 40))
		die("--max-bandwidth/--timeout: value too large");
	if (migrate_addr_parse(pos[0], &addr, err, sizeof(err)))
		die("%s", err);
	if (local && addr.family != AF_UNIX)
		die("--local hands guest RAM over by descriptor, on this host: give unix:PATH, not %s", addr.text);
	if (debug && !(dbg = fopen(debug, "w")))
		die("--debug-unlogged %s: %s", debug, strerror(errno));
	/* Connect first: a closed port or a wrong path fails here, before the VM is disturbed at all. */
	dst = migrate_connect(&addr, 10, err, sizeof(err));
	if (dst < 0)
		die("migration of VM %s failed: %s; the VM keeps running here", name, err);
	sock = control_open(name, err, sizeof(err));
	if (sock < 0)
		die("%s", err);
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* the VM reports at least once a second */
	snprintf(req, sizeof(req),
		 "migrate downtime_ms=%llu bandwidth_mibs=%llu timeout_s=%llu strategy=%s verify=%d local=%d recheck=%s "
		 "debug_unlogged=%d\n",
		 (unsigned long long)downtime, (unsigned long long)bw, (unsigned long long)timeout, strategy, verify, local,
		 recheck_mode_name(mode), dbg != NULL);
	if (control_send_fd(sock, req, dst)) {
		if (control_gone_errno(errno))
			die("migration of VM %s failed: the VM went away before it got the request", name);
		die("cannot send the migrate request to VM %s: %s", name, strerror(errno));
	}
	close(dst); /* the VM holds the connection now */
	for (;;) {
		if (control_read_line(sock, line, sizeof(line)) <= 0) {
			if (shown)
				fputc('\n', stderr);
			die("migration of VM %s: the VM went away (or closed the control connection) without a verdict; "
			    "see its log and the destination's", name);
		}
		if (!strncmp(line, "progress ", 9)) {
			if (tty) {
				fprintf(stderr, "\r  migrating: round %s, %s dirty pages, %s MiB sent, %s MiB/s, pause ~%s ms   ",
					field(line, "round", a, sizeof(a)), field(line, "dirty_pages", b, sizeof(b)),
					field(line, "sent_mib", c, sizeof(c)), field(line, "rate_mibs", d, sizeof(d)),
					field(line, "expected_pause_ms", err, 32));
				shown = true;
			}
			continue;
		}
		if (!strncmp(line, "unlogged ", 9)) {
			if (dbg)
				fprintf(dbg, "%s\n", line + 9);
			nunlogged++;
			continue;
		}
		if (shown) {
			fputc('\n', stderr);
			shown = false;
		}
		if (!strncmp(line, "done ", 5)) {
			pause_split(line); /* first: scripts take the summary from the last line */
			field(line, "rounds", a, sizeof(a));
			if (!strcmp(field(line, "local", b, sizeof(b)), "1"))
				printf("migrated VM %s to %s: guest RAM handed over by descriptor, %s MiB sent, %s ms in all, "
				       "guest paused %s ms", name, addr.text, field(line, "sent_mib", b, sizeof(b)),
				       field(line, "total_ms", c, sizeof(c)), field(line, "pause_ms", d, sizeof(d)));
			else
				printf("migrated VM %s to %s: %s round%s, %s MiB sent, %s ms in all, guest paused %s ms", name,
				       addr.text, a, strcmp(a, "1") ? "s" : "", field(line, "sent_mib", b, sizeof(b)),
				       field(line, "total_ms", c, sizeof(c)), field(line, "pause_ms", d, sizeof(d)));
			field(line, "unlogged", a, sizeof(a));
			if (strcmp(a, "0") && strcmp(a, "?"))
				printf(" (%s %s without a dirty-log entry %s sent again)", a,
				       strcmp(a, "1") ? "pages changed" : "page changed", strcmp(a, "1") ? "were" : "was");
			putchar('\n');
			fflush(stdout);
			continue;
		}
		if (!strcmp(line, "ok"))
			break;
		if (!strncmp(line, "error: ", 7))
			die("migration of VM %s failed: %s; the VM keeps running here", name, line + 7);
	}
	close(sock);
	if (dbg && fclose(dbg))
		die("--debug-unlogged %s: %s", debug, strerror(errno));
	if (dbg)
		fprintf(stderr, "%llu unlogged page%s recorded in %s\n", (unsigned long long)nunlogged,
			nunlogged == 1 ? "" : "s", debug);
	/* On this host (unix:), return once the destination answers under the name, so that a script's next
	 * 'lkvm stop --name' finds it: it takes the name as it starts to run, moments after the source let go. */
	for (int i = 0; addr.family == AF_UNIX && i < 100; i++) {
		int s = control_open(name, err, sizeof(err));
		if (s >= 0) {
			close(s);
			break;
		}
		usleep(50000);
	}
	return 0;
}
