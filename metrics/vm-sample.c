/* lkvm top / stat --watch: fetch a VM's "sample" over its control socket, parse it, turn two into rates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/control.h"
#include "kvm/vm-sample.h"

void vm_snap_free(struct vm_snap *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static u64 num(const char *v)
{
	return strtoull(v, NULL, 10);
}

/* Apply one key=value of the VM line. */
static void vm_field(struct vm_snap *s, const char *k, const char *v)
{
	if (!strcmp(k, "name"))
		snprintf(s->name, sizeof(s->name), "%s", v);
	else if (!strcmp(k, "state"))
		snprintf(s->state, sizeof(s->state), "%s", v);
	else if (!strcmp(k, "pid"))
		s->pid = (int)num(v);
	else if (!strcmp(k, "cpus"))
		s->cpus = (unsigned int)num(v);
	else if (!strcmp(k, "now_ns"))
		s->now_ns = num(v);
	else if (!strcmp(k, "uptime_ns"))
		s->uptime_ns = num(v);
	else if (!strcmp(k, "rss_kib"))
		s->rss_kib = num(v);
}

/* Apply one key=value of a vCPU line. */
static void vcpu_field(struct vm_vcpu_snap *c, const char *k, const char *v)
{
	if (!strcmp(k, "stolen_ns"))
		c->stolen_ns = num(v);
	else if (!strcmp(k, "run_delay_ns"))
		c->delay_ns = num(v);
	else if (!strcmp(k, "guest_ns"))
		c->guest_ns = num(v);
	else if (!strcmp(k, "exits"))
		c->exits = num(v);
	else if (!strcmp(k, "user_exits"))
		c->user_exits = num(v);
	else if (!strcmp(k, "steal"))
		c->pvtime = !strcmp(v, "pvtime");
}

int vm_snap_parse(const char *text, struct vm_snap *s)
{
	const char *line = text;

	memset(s, 0, sizeof(*s));
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[CONTROL_MAX_LINE], *save = NULL, *tok;
		struct vm_vcpu_snap *c = NULL;

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
		line = end ? end + 1 : NULL;
		for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(tok, '=');
			if (!eq)
				continue;
			*eq = '\0';
			if (!strcmp(tok, "vcpu")) {
				unsigned long i = strtoul(eq + 1, NULL, 10);
				if (!s->v || i != s->nv || i >= s->cpus)
					break; /* vCPU lines come in order, after the VM line */
				c = &s->v[s->nv++];
			} else if (c) {
				vcpu_field(c, tok, eq + 1);
			} else {
				vm_field(s, tok, eq + 1);
				if (!strcmp(tok, "cpus") && !s->v && s->cpus && s->cpus <= 4096)
					s->v = calloc(s->cpus, sizeof(*s->v));
			}
		}
	}
	if (!s->name[0] || !s->cpus || !s->v || s->nv != s->cpus) {
		vm_snap_free(s);
		return -1;
	}
	return 0;
}

int vm_snap_fetch_path(const char *path, struct vm_snap *s, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *mem = open_memstream(&buf, &blen);
	int r;

	if (!mem)
		return snprintf(err, errlen, "out of memory"), -1;
	r = control_request_path(path, "sample", mem, err, errlen);
	fclose(mem);
	if (r == 0 && vm_snap_parse(buf ? buf : "", s)) {
		snprintf(err, errlen, "%s answered 'sample' with something else (an older lkvm?)", path);
		r = -1;
	}
	free(buf);
	return r;
}

int vm_snap_fetch(const char *name, struct vm_snap *s, char *err, size_t errlen)
{
	char path[300];

	if (control_path(name, path, sizeof(path), false, err, errlen))
		return -1;
	return vm_snap_fetch_path(path, s, err, errlen);
}

int vm_rates_compute(const struct vm_snap *a, const struct vm_snap *b, struct vm_rates *r)
{
	u64 exits = 0;
	bool pv = false, rd = false;

	memset(r, 0, sizeof(*r));
	if (a->pid != b->pid || a->cpus != b->cpus || b->now_ns <= a->now_ns)
		return -1;
	r->interval_s = (double)(b->now_ns - a->now_ns) / 1e9;
	r->nv = b->cpus;
	r->steal = calloc(r->nv, sizeof(double));
	if (!r->steal)
		return -1;
	for (unsigned int i = 0; i < r->nv; i++) {
		const struct vm_vcpu_snap *x = &a->v[i], *y = &b->v[i];
		u64 d = y->pvtime ? y->stolen_ns - x->stolen_ns : y->delay_ns - x->delay_ns;
		if ((y->pvtime ? y->stolen_ns < x->stolen_ns : y->delay_ns < x->delay_ns))
			d = 0; /* a reset record (the guest re-registered it): no steal to report */
		r->steal[i] = 100.0 * (double)d / (double)(b->now_ns - a->now_ns);
		if (r->steal[i] > r->steal_max)
			r->steal_max = r->steal[i];
		r->steal_mean += r->steal[i] / r->nv;
		exits += y->exits >= x->exits ? y->exits - x->exits : 0;
		pv |= y->pvtime;
		rd |= !y->pvtime;
	}
	r->exits_per_s = (double)exits / r->interval_s;
	r->source = pv && rd ? "mixed" : pv ? "pvtime" : "run_delay";
	return 0;
}

void vm_rates_free(struct vm_rates *r)
{
	free(r->steal);
	r->steal = NULL;
}

const char *vm_spark_cell(double pct, bool ascii)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char *const plain[8] = { "_", ".", "-", "~", "=", "*", "#", "@" };
	int i = (int)(pct / 100.0 * 7.0 + 0.5);

	if (i < 0 || pct != pct)
		i = 0;
	if (i > 7)
		i = 7;
	return ascii ? plain[i] : blocks[i];
}
