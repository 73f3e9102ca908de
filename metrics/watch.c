/* 'lkvm stat --watch': each vCPU's steal over the last interval, live, with a sparkline of the last minute. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm/log.h"
#include "kvm/metrics.h"
#include "kvm/vm-sample.h"

#define WATCH_HISTORY_S 60.0 /* the sparkline covers the last minute */
#define WATCH_MAX_COLS 120

struct watch {
	const char *name;
	double interval_s;
	bool ascii, json, tty;
	unsigned int cols; /* sparkline cells: one per interval, a minute's worth */
	unsigned int nv, filled;
	float *hist;       /* nv rows of cols, a ring; the newest at (filled - 1) % cols */
};

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
	while (nanosleep(&ts, &ts) < 0)
		;
}

static void stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Without a terminal: one line per interval, key=value (or one JSON object). */
static void print_line(struct watch *w, const struct vm_snap *s, const struct vm_rates *r)
{
	char t[32];

	stamp(t, sizeof(t));
	if (w->json) {
		printf("{\"time\":\"%s\",\"name\":\"%s\",\"state\":\"%s\",\"interval_s\":%.3f,\"source\":\"%s\",\"steal_pct\":[",
		       t, s->name, s->state, r->interval_s, r->source);
		for (unsigned int i = 0; i < r->nv; i++)
			printf("%s%.2f", i ? "," : "", r->steal[i]);
		printf("],\"steal_mean_pct\":%.2f,\"steal_max_pct\":%.2f,\"exits_per_s\":%.1f}\n", r->steal_mean,
		       r->steal_max, r->exits_per_s);
	} else {
		printf("%s vm=%s state=%s interval_s=%.3f source=%s steal_pct=", t, s->name, s->state, r->interval_s,
		       r->source);
		for (unsigned int i = 0; i < r->nv; i++)
			printf("%s%.2f", i ? "," : "", r->steal[i]);
		printf(" steal_mean_pct=%.2f steal_max_pct=%.2f exits_per_s=%.1f\n", r->steal_mean, r->steal_max,
		       r->exits_per_s);
	}
	fflush(stdout);
}

/* On a terminal: redraw in place. */
static void draw(struct watch *w, const struct vm_snap *s, const struct vm_rates *r)
{
	char t[32];
	unsigned int shown = w->filled < w->cols ? w->filled : w->cols;

	stamp(t, sizeof(t));
	printf("\033[H\033[2J");
	printf("lkvm stat --watch  VM %s (pid %d)  %s  %u vCPUs  every %.1f s  %s\n", s->name, s->pid, s->state, s->cpus,
	       w->interval_s, t);
	printf("steal measured by %s; the line is the last %.0f s, one cell per interval, 0-100 %%\n\n",
	       !strcmp(r->source, "pvtime") ? "the guest's PV-time records" : "the host run delay of each vCPU thread",
	       w->cols * w->interval_s);
	printf("vcpu  steal%%  last minute\n");
	for (unsigned int i = 0; i < w->nv; i++) {
		printf("%4u  %5.1f%%  ", i, r->steal[i]);
		for (unsigned int k = 0; k < shown; k++) {
			unsigned int at = (w->filled - shown + k) % w->cols;
			fputs(vm_spark_cell(w->hist[i * w->cols + at], w->ascii), stdout);
		}
		putchar('\n');
	}
	printf("mean  %5.1f%%   max %.1f%%   exits %.0f/s\n", r->steal_mean, r->steal_max, r->exits_per_s);
	printf("(Ctrl-C ends)\n");
	fflush(stdout);
}

static void record(struct watch *w, const struct vm_rates *r)
{
	unsigned int at = w->filled % w->cols;
	for (unsigned int i = 0; i < w->nv && i < r->nv; i++)
		w->hist[i * w->cols + at] = (float)r->steal[i];
	w->filled++;
}

int metrics_watch(const char *name, double interval_s, bool ascii, bool json)
{
	struct watch w = { .name = name, .interval_s = interval_s, .ascii = ascii, .json = json };
	struct vm_snap prev, cur;
	char err[400];

	if (!(interval_s >= 0.05 && interval_s <= 3600))
		die("--interval %g: give seconds between 0.05 and 3600", interval_s);
	w.tty = isatty(STDOUT_FILENO) && !json;
	w.cols = (unsigned int)ceil(WATCH_HISTORY_S / interval_s);
	if (w.cols > WATCH_MAX_COLS)
		w.cols = WATCH_MAX_COLS;
	if (w.cols < 1)
		w.cols = 1;
	if (vm_snap_fetch(name, &prev, err, sizeof(err)))
		die("VM %s: %s", name, err);
	w.nv = prev.cpus;
	w.hist = calloc((size_t)w.nv * w.cols, sizeof(float));
	if (!w.hist)
		die("out of memory");
	for (;;) {
		struct vm_rates r;

		sleep_s(interval_s);
		if (vm_snap_fetch(name, &cur, err, sizeof(err))) {
			/* the VM ended (or moved): say so once and stop, as tail -f would not */
			fprintf(stderr, "  Info: VM %s: %s; stopping\n", name, err);
			vm_snap_free(&prev);
			free(w.hist);
			return 0;
		}
		if (vm_rates_compute(&prev, &cur, &r)) {
			fprintf(stderr, "  Info: VM %s is another process now (pid %d, was %d): counting afresh\n", name,
				cur.pid, prev.pid);
		} else {
			record(&w, &r);
			if (w.tty)
				draw(&w, &cur, &r);
			else
				print_line(&w, &cur, &r);
			vm_rates_free(&r);
		}
		vm_snap_free(&prev);
		prev = cur;
		if (prev.cpus != w.nv)
			die("VM %s changed its number of vCPUs", name);
	}
}
