/* 'lkvm top': every running VM on the host, one line each (steal, exits/s, memory), refreshed like top(1). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kvm/control.h"
#include "kvm/log.h"
#include "kvm/metrics.h"
#include "kvm/options.h"
#include "kvm/vm-sample.h"

enum top_sort { SORT_STEAL, SORT_MEAN, SORT_EXITS, SORT_RSS, SORT_NAME, SORT_UPTIME };
static const char *const sort_names[] = { "steal", "mean", "exits", "rss", "name", "uptime" };

struct top_vm {
	char path[300];
	struct vm_snap snap;
	bool have_rates;
	struct vm_rates rates;
};

struct top {
	struct top_vm *vm;
	unsigned int n;
	enum top_sort sort;
};

static void top_clear(struct top *t)
{
	for (unsigned int i = 0; i < t->n; i++) {
		vm_snap_free(&t->vm[i].snap);
		vm_rates_free(&t->vm[i].rates);
	}
	free(t->vm);
	t->vm = NULL;
	t->n = 0;
}

/* Sample every VM whose control socket answers; rates against the previous round where the same process was seen. */
static void top_sample(struct top *t, struct top *prev)
{
	char dir[256], err[300];
	struct dirent *de;
	DIR *d;

	t->n = 0;
	if (control_dir(dir, sizeof(dir), false, err, sizeof(err)) || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct top_vm *v, *nv;

		if (n < 6 || strcmp(de->d_name + n - 5, ".sock"))
			continue;
		nv = realloc(t->vm, (t->n + 1) * sizeof(*t->vm));
		if (!nv)
			break;
		t->vm = nv;
		v = &t->vm[t->n];
		memset(v, 0, sizeof(*v));
		snprintf(v->path, sizeof(v->path), "%s/%s", dir, de->d_name);
		if (vm_snap_fetch_path(v->path, &v->snap, err, sizeof(err)))
			continue; /* stale, or gone meanwhile, or not answering: not listed */
		for (unsigned int k = 0; prev && k < prev->n; k++)
			if (!strcmp(prev->vm[k].path, v->path) && prev->vm[k].snap.v &&
			    !vm_rates_compute(&prev->vm[k].snap, &v->snap, &v->rates))
				v->have_rates = true;
		t->n++;
	}
	closedir(d);
}

static int cmp_vm(const struct top_vm *a, const struct top_vm *b, enum top_sort s)
{
	double x = 0, y = 0;

	switch (s) {
	case SORT_NAME:
		return strcmp(a->snap.name, b->snap.name);
	case SORT_STEAL:
		x = a->rates.steal_max, y = b->rates.steal_max;
		break;
	case SORT_MEAN:
		x = a->rates.steal_mean, y = b->rates.steal_mean;
		break;
	case SORT_EXITS:
		x = a->rates.exits_per_s, y = b->rates.exits_per_s;
		break;
	case SORT_RSS:
		x = (double)a->snap.rss_kib, y = (double)b->snap.rss_kib;
		break;
	case SORT_UPTIME:
		x = (double)a->snap.uptime_ns, y = (double)b->snap.uptime_ns;
		break;
	}
	return x < y ? 1 : x > y ? -1 : strcmp(a->snap.name, b->snap.name); /* largest first */
}

static void top_sort(struct top *t)
{
	for (unsigned int i = 1; i < t->n; i++)
		for (unsigned int j = i; j > 0 && cmp_vm(&t->vm[j - 1], &t->vm[j], t->sort) > 0; j--) {
			struct top_vm tmp = t->vm[j];
			t->vm[j] = t->vm[j - 1];
			t->vm[j - 1] = tmp;
		}
}

static void human_kib(char *buf, size_t len, u64 kib)
{
	if (kib >= 1024 * 1024)
		snprintf(buf, len, "%.1fG", (double)kib / (1024.0 * 1024.0));
	else if (kib >= 1024)
		snprintf(buf, len, "%.1fM", (double)kib / 1024.0);
	else
		snprintf(buf, len, "%lluK", (unsigned long long)kib);
}

static void human_time(char *buf, size_t len, u64 ns)
{
	u64 s = ns / 1000000000ULL;

	if (s >= 86400)
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400), (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600), (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
}

static void print_json(const struct top *t, double interval)
{
	printf("{\"interval_s\":%.3f,\"sort\":\"%s\",\"vms\":[", interval, sort_names[t->sort]);
	for (unsigned int i = 0, first = 1; i < t->n; i++) {
		const struct top_vm *v = &t->vm[i];
		if (!v->have_rates)
			continue;
		printf("%s{\"name\":\"%s\",\"pid\":%d,\"state\":\"%s\",\"vcpus\":%u,\"steal_max_pct\":%.2f,"
		       "\"steal_mean_pct\":%.2f,\"steal_pct\":[",
		       first ? "" : ",", v->snap.name, v->snap.pid, v->snap.state, v->snap.cpus, v->rates.steal_max,
		       v->rates.steal_mean);
		for (unsigned int k = 0; k < v->rates.nv; k++)
			printf("%s%.2f", k ? "," : "", v->rates.steal[k]);
		printf("],\"steal_source\":\"%s\",\"exits_per_s\":%.1f,\"rss_kib\":%llu,\"uptime_s\":%.1f}",
		       v->rates.source, v->rates.exits_per_s, (unsigned long long)v->snap.rss_kib,
		       (double)v->snap.uptime_ns / 1e9);
		first = 0;
	}
	printf("]}\n");
}

static void print_table(const struct top *t, double interval, bool tty)
{
	char now[16];
	time_t tt = time(NULL);
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(now, sizeof(now), "%H:%M:%S", &tm);
	if (tty)
		printf("\033[H\033[2J");
	printf("lkvm top - %s  %u VM%s  every %.1f s  sorted by %s%s\n", now, t->n, t->n == 1 ? "" : "s", interval,
	       sort_names[t->sort], tty ? "  (keys: s m e r n u sort, q quits)" : "");
	printf("%-20s %7s %-9s %5s %7s %7s %9s %8s %8s\n", "NAME", "PID", "STATE", "VCPUS", "STEAL%", "MEAN%", "EXITS/S",
	       "RSS", "UPTIME");
	for (unsigned int i = 0; i < t->n; i++) {
		const struct top_vm *v = &t->vm[i];
		char rss[16], up[16], st[16] = "-", mean[16] = "-", ex[16] = "-";
		human_kib(rss, sizeof(rss), v->snap.rss_kib);
		human_time(up, sizeof(up), v->snap.uptime_ns);
		if (v->have_rates) {
			snprintf(st, sizeof(st), "%.1f%s", v->rates.steal_max, strcmp(v->rates.source, "pvtime") ? "*" : "");
			snprintf(mean, sizeof(mean), "%.1f", v->rates.steal_mean);
			snprintf(ex, sizeof(ex), "%.0f", v->rates.exits_per_s);
		}
		printf("%-20.20s %7d %-9s %5u %7s %7s %9s %8s %8s\n", v->snap.name, v->snap.pid, v->snap.state, v->snap.cpus,
		       st, mean, ex, rss, up);
	}
	printf("STEAL%% is the most-stolen vCPU's share of the interval, MEAN%% the vCPUs' mean (* = host run delay: the "
	       "VM has no PV time)\n");
	if (!tty)
		putchar('\n');
	fflush(stdout);
}

static volatile sig_atomic_t top_stop;
static void on_sigint(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* Wait one interval; on a terminal, keys change the sort order or quit. */
static void wait_keys(struct top *t, double interval, bool keys)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		double left;
		char c;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = interval - ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9);
		if (left <= 0 || top_stop)
			return;
		if (poll(&p, keys ? 1 : 0, (int)(left * 1000) + 1) <= 0 || read(STDIN_FILENO, &c, 1) != 1)
			continue;
		if (c == 'q' || c == 3) {
			top_stop = 1;
			return;
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(sort_names); i++)
			if (c == sort_names[i][0])
				t->sort = (enum top_sort)i;
		return; /* redraw now with the new order */
	}
}

int cmd_top(int argc, const char **argv)
{
	const char *interval_s = "1", *sort = "steal";
	bool once = false, json = false, help = false, tty, keys;
	const struct option_desc opts[] = {
		{ 0, "once", OPT_BOOL, &once, NULL, "Print one refresh (two samples an interval apart) and exit", NULL, 0 },
		{ 0, "json", OPT_BOOL, &json, NULL, "Machine-readable output (one JSON object per refresh)", NULL, 0 },
		{ 0, "interval", OPT_STRING, &interval_s, "seconds", "Seconds between refreshes (default 1)", NULL, 0 },
		{ 0, "sort", OPT_STRING, &sort, "steal|mean|exits|rss|name|uptime",
		  "Order of the VMs (default steal: the most-stolen vCPU first)", NULL, 0 },
		{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	struct top cur = { 0 }, prev = { 0 };
	struct termios saved, raw;
	double interval;
	char err[300], *end;

	if (options_parse(opts, argc, argv, NULL, NULL, 0, err, sizeof(err)) < 0)
		die("%s (see 'lkvm top --help')", err);
	if (help) {
		options_usage(stdout, "lkvm top [--once] [--json] [--interval S] [--sort steal|mean|exits|rss|name|uptime]",
			      opts);
		return 0;
	}
	interval = strtod(interval_s, &end);
	if (end == interval_s || *end || !(interval >= 0.05 && interval <= 3600))
		die("--interval %s: give seconds between 0.05 and 3600", interval_s);
	for (cur.sort = 0; cur.sort < ARRAY_SIZE(sort_names) && strcmp(sort, sort_names[cur.sort]); cur.sort++)
		;
	if (cur.sort == ARRAY_SIZE(sort_names))
		die("--sort %s: expected steal, mean, exits, rss, name or uptime", sort);
	tty = isatty(STDOUT_FILENO) && !json;
	keys = tty && !once && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (keys) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	top_sample(&prev, NULL);
	while (!top_stop) {
		wait_keys(&cur, interval, keys);
		if (top_stop)
			break;
		top_sample(&cur, &prev);
		top_sort(&cur);
		if (json)
			print_json(&cur, interval);
		else
			print_table(&cur, interval, tty);
		top_clear(&prev);
		prev = cur;
		cur = (struct top){ .sort = prev.sort };
		if (once)
			break;
	}
	top_clear(&prev);
	top_clear(&cur);
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return 0;
}
