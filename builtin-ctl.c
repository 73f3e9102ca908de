/* 'lkvm list', 'lkvm stat', 'lkvm stop', 'lkvm pause', 'lkvm resume': clients of the per-VM control sockets. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/log.h"
#include "kvm/metrics.h"
#include "kvm/options.h"

/* Value of key=... in a space-separated line, copied into buf; NULL if absent. */
static const char *kv_get(const char *line, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = line; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " ");
			if (n >= len)
				n = len - 1;
			memcpy(buf, p + kl + 1, n);
			buf[n] = '\0';
			return buf;
		}
	}
	return NULL;
}

static u64 kv_u64(const char *line, const char *key)
{
	char buf[32];
	return kv_get(line, key, buf, sizeof(buf)) ? strtoull(buf, NULL, 10) : 0;
}

int cmd_list(int argc, const char **argv)
{
	char dir[256], err[300];
	struct dirent *de;
	DIR *d;
	bool help = false;
	const struct option_desc opts[] = {
		{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};

	if (options_parse(opts, argc, argv, NULL, NULL, 0, err, sizeof(err)) < 0)
		die("'lkvm list' takes no arguments: %s", err);
	if (help) {
		options_usage(stdout, "lkvm list", opts);
		return 0;
	}
	if (control_dir(dir, sizeof(dir), false, err, sizeof(err))) {
		printf("  PID NAME                 STATE\n------------------------------------\n");
		return 0; /* no directory yet: no VMs */
	}
	d = opendir(dir);
	if (!d)
		die("cannot read %s", dir);
	printf("  PID NAME                 STATE\n------------------------------------\n");
	while ((de = readdir(d))) {
		char path[600], line[CONTROL_MAX_LINE] = "", name[80], pid[16], state[16];
		size_t n = strlen(de->d_name);
		FILE *mem;
		char *buf = NULL;
		size_t blen = 0;
		int r;

		if (n < 6 || strcmp(de->d_name + n - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		mem = open_memstream(&buf, &blen);
		r = control_request_path(path, "info", mem, err, sizeof(err));
		fclose(mem);
		if (r == CONTROL_STALE) {
			unlink(path); /* left behind by a killed lkvm */
		} else if (r == 0 && buf) {
			snprintf(line, sizeof(line), "%s", buf);
			line[strcspn(line, "\n")] = '\0';
			printf("%5s %-20s %s\n", kv_get(line, "pid", pid, sizeof(pid)) ? pid : "?",
			       kv_get(line, "name", name, sizeof(name)) ? name : "?",
			       kv_get(line, "state", state, sizeof(state)) ? state : "?");
		} else {
			fprintf(stderr, "  Warning: %s\n", err);
		}
		free(buf);
	}
	closedir(d);
	return 0;
}

static int print_steal(const char *name, const char *answer, bool json)
{
	char line[CONTROL_MAX_LINE];
	const char *p = answer;
	bool first = true;

	if (json)
		printf("{\"name\":\"%s\",\"vcpus\":[", name);
	else
		printf("VM %s\n%-5s %16s %8s %16s %16s\n", name, "vcpu", "stolen_ns", "stolen%", "elapsed_ns",
		       "run_delay_ns");
	while (*p) {
		size_t n = strcspn(p, "\n");
		char rd[32];
		u64 stolen, el;
		double pct;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (strncmp(line, "vcpu=", 5))
			continue;
		stolen = kv_u64(line, "stolen_ns");
		el = kv_u64(line, "elapsed_ns");
		pct = el ? 100.0 * (double)stolen / (double)el : 0.0;
		kv_get(line, "run_delay_ns", rd, sizeof(rd));
		if (json)
			printf("%s{\"vcpu\":%" PRIu64 ",\"stolen_ns\":%" PRIu64 ",\"stolen_pct\":%.3f,\"elapsed_ns\":%" PRIu64
			       ",\"run_delay_ns\":%s}",
			       first ? "" : ",", kv_u64(line, "vcpu"), stolen, pct, el, rd[0] == '-' ? "null" : rd);
		else
			printf("%-5" PRIu64 " %16" PRIu64 " %8.2f %16" PRIu64 " %16s\n", kv_u64(line, "vcpu"), stolen, pct, el,
			       rd[0] == '-' ? "n/a" : rd);
		first = false;
	}
	if (json)
		printf("]}\n");
	return 0;
}

int cmd_stat(int argc, const char **argv)
{
	const char *name = NULL, *interval = "1";
	bool steal = false, json = false, help = false, watch = false, ascii = false;
	const struct option_desc opts[] = {
		{ 'n', "name", OPT_STRING, &name, "name", "The VM to query", NULL, 0 },
		{ 0, "steal", OPT_BOOL, &steal, NULL, "Per-vCPU stolen time read from the PV-time records", NULL, 0 },
		{ 0, "json", OPT_BOOL, &json, NULL, "Machine-readable output", NULL, 0 },
		{ 0, "watch", OPT_BOOL, &watch, NULL,
		  "Live: each vCPU's steal % per interval and a sparkline of the last minute (a line per interval without "
		  "a terminal)", NULL, 0 },
		{ 0, "interval", OPT_STRING, &interval, "seconds", "With --watch: seconds between refreshes (default 1)", NULL,
		  0 },
		{ 0, "ascii", OPT_BOOL, &ascii, NULL, "With --watch: plain ASCII sparklines", NULL, 0 },
		{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	char err[400], *buf = NULL;
	size_t blen = 0;
	FILE *mem;
	int r;

	if (options_parse(opts, argc, argv, NULL, NULL, 0, err, sizeof(err)) < 0)
		die("%s (see 'lkvm stat --help')", err);
	if (help) {
		options_usage(stdout, "lkvm stat --name NAME [--steal] [--json]\n"
				      "       lkvm stat --name NAME --watch [--interval S] [--ascii] [--json]", opts);
		return 0;
	}
	if (!name)
		die("lkvm stat: which VM? give --name NAME (see 'lkvm list')");
	if (watch) {
		char *end;
		double s = strtod(interval, &end);
		if (end == interval || *end)
			die("--interval %s: give seconds, e.g. --interval 0.5", interval);
		return metrics_watch(name, s, ascii, json);
	}
	mem = open_memstream(&buf, &blen);
	r = control_request(name, steal ? "steal" : "info", mem, err, sizeof(err));
	fclose(mem);
	if (r)
		die("VM %s: %s", name, err);
	if (steal)
		print_steal(name, buf, json);
	else if (json) {
		char v[7][80];
		buf[strcspn(buf, "\n")] = '\0';
		/* the guest-RAM figures are absent when the VM could not read its smaps: null then */
		printf("{\"name\":\"%s\",\"pid\":%s,\"cpus\":%s,\"mem_mib\":%s,\"state\":\"%s\",\"pvtime\":\"%s\","
		       "\"ram_backing\":\"%s\",\"ram_rss_kib\":%s,\"ram_huge_kib\":%s}\n",
		       name, kv_get(buf, "pid", v[0], sizeof(v[0])) ? v[0] : "0",
		       kv_get(buf, "cpus", v[1], sizeof(v[1])) ? v[1] : "0", kv_get(buf, "mem_mib", v[2], sizeof(v[2])) ? v[2] : "0",
		       kv_get(buf, "state", v[3], sizeof(v[3])) ? v[3] : "", strstr(buf, "pvtime=on") ? "on" : "off",
		       kv_get(buf, "ram", v[4], sizeof(v[4])) ? v[4] : "",
		       kv_get(buf, "ram_rss_kib", v[5], sizeof(v[5])) ? v[5] : "null",
		       kv_get(buf, "ram_huge_kib", v[6], sizeof(v[6])) ? v[6] : "null");
	} else
		fputs(buf, stdout);
	free(buf);
	return 0;
}

/* A request that takes only --name and answers "ok". */
static int simple_request(int argc, const char **argv, const char *req)
{
	const char *name = NULL;
	bool help = false;
	const struct option_desc opts[] = {
		{ 'n', "name", OPT_STRING, &name, "name", "The VM", NULL, 0 },
		{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	char err[400], usage[64];

	if (options_parse(opts, argc, argv, NULL, NULL, 0, err, sizeof(err)) < 0)
		die("%s (see 'lkvm %s --help')", err, req);
	if (help) {
		snprintf(usage, sizeof(usage), "lkvm %s --name NAME", req);
		options_usage(stdout, usage, opts);
		return 0;
	}
	if (!name)
		die("lkvm %s: which VM? give --name NAME (see 'lkvm list')", req);
	if (control_request(name, req, NULL, err, sizeof(err)))
		die("VM %s: %s", name, err);
	return 0;
}

int cmd_stop(int argc, const char **argv)
{
	return simple_request(argc, argv, "stop");
}

int cmd_pause(int argc, const char **argv)
{
	return simple_request(argc, argv, "pause");
}

int cmd_resume(int argc, const char **argv)
{
	return simple_request(argc, argv, "resume");
}
