/* The metrics text encoder: families with HELP/TYPE/UNIT, samples with escaped labels, "# EOF" (OpenMetrics). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/metrics-text.h"

void mtext_init(struct mtext *w, enum metrics_format fmt)
{
	memset(w, 0, sizeof(*w));
	w->fmt = fmt;
}

void mtext_free(struct mtext *w)
{
	free(w->buf);
	mtext_init(w, w->fmt);
}

void mtext_reset(struct mtext *w, enum metrics_format fmt)
{
	w->fmt = fmt;
	w->len = 0;
	w->oom = w->bad_name = false;
	w->family[0] = '\0';
	if (w->buf)
		w->buf[0] = '\0';
}

static bool grow(struct mtext *w, size_t more)
{
	size_t want = w->len + more + 1, cap = w->cap ? w->cap : 4096;
	char *nb;

	if (w->oom)
		return false;
	if (want > MTEXT_MAX) {
		w->oom = true;
		return false;
	}
	if (want <= w->cap)
		return true;
	while (cap < want)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		w->oom = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

static void put(struct mtext *w, const char *s, size_t n)
{
	if (!grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void puts_(struct mtext *w, const char *s)
{
	put(w, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct mtext *w, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/*
 * Escaped text: backslash and newline always; the double quote inside label values (both formats) and in
 * OpenMetrics HELP text (the 0.0.4 format leaves it alone there). Other bytes pass through: UTF-8 is fine.
 */
static void put_escaped(struct mtext *w, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(w, "\\\\");
		else if (*s == '\n')
			puts_(w, "\\n");
		else if (*s == '"' && quote)
			puts_(w, "\\\"");
		else
			put(w, s, 1);
	}
}

bool mtext_valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == ':'))
			return false;
	return true;
}

bool mtext_valid_label(const char *s)
{
	return mtext_valid_name(s) && !strchr(s, ':') && strncmp(s, "__", 2);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a > b && s[a - b - 1] == '_' && !strcmp(s + a - b, suffix);
}

static const char *sample_suffix(enum metric_type t)
{
	return t == METRIC_COUNTER ? "_total" : t == METRIC_INFO ? "_info" : "";
}

void mtext_family(struct mtext *w, const char *name, enum metric_type type, const char *unit, const char *help)
{
	bool om = w->fmt == METRICS_OPENMETRICS;
	/* OpenMetrics names a counter family without its samples' _total; the 0.0.4 format names it as its samples.
	 * An _info metric is a gauge in both (OpenMetrics' info type would stop promtool's 0.0.4 parser). */
	const char *suffix = om && type == METRIC_COUNTER ? "" : sample_suffix(type);
	const char *tname = type == METRIC_COUNTER ? "counter" : "gauge";

	if (!mtext_valid_name(name) || strlen(name) + 6 >= sizeof(w->family) || (unit && !ends_with(name, unit)) ||
	    ends_with(name, "total") || ends_with(name, "info")) {
		w->bad_name = true;
		w->family[0] = '\0';
		return;
	}
	snprintf(w->family, sizeof(w->family), "%s", name);
	w->type = type;
	putf(w, "# HELP %s%s ", name, suffix);
	put_escaped(w, help ? help : "", om);
	putf(w, "\n# TYPE %s%s %s\n", name, suffix, tname);
	if (unit && om)
		putf(w, "# UNIT %s %s\n", name, unit);
}

/* NAME{labels} : everything of a sample line before its value */
static bool sample_head(struct mtext *w, const char *const *labels)
{
	if (!w->family[0])
		return false; /* no family, or a bad one: nothing is written */
	puts_(w, w->family);
	puts_(w, sample_suffix(w->type));
	if (labels && labels[0]) {
		put(w, "{", 1);
		for (size_t i = 0; labels[i]; i += 2) {
			if (!labels[i + 1] || !mtext_valid_label(labels[i])) {
				w->bad_name = true;
				break;
			}
			if (i)
				put(w, ",", 1);
			puts_(w, labels[i]);
			put(w, "=\"", 2);
			put_escaped(w, labels[i + 1], true);
			put(w, "\"", 1);
		}
		put(w, "}", 1);
	}
	put(w, " ", 1);
	return true;
}

void mtext_u64(struct mtext *w, const char *const *labels, u64 v)
{
	if (sample_head(w, labels))
		putf(w, "%llu\n", (unsigned long long)v);
}

void mtext_double(struct mtext *w, const char *const *labels, double v)
{
	if (!sample_head(w, labels))
		return;
	if (isnan(v))
		puts_(w, "NaN\n");
	else if (isinf(v))
		puts_(w, v > 0 ? "+Inf\n" : "-Inf\n");
	else
		putf(w, "%.17g\n", v);
}

void mtext_ns(struct mtext *w, const char *const *labels, u64 ns)
{
	char frac[16];
	int n;

	if (!sample_head(w, labels))
		return;
	n = snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)(ns % 1000000000ULL));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	if (n)
		putf(w, "%llu.%s\n", (unsigned long long)(ns / 1000000000ULL), frac);
	else
		putf(w, "%llu\n", (unsigned long long)(ns / 1000000000ULL));
}

void mtext_end(struct mtext *w)
{
	if (w->fmt == METRICS_OPENMETRICS)
		puts_(w, "# EOF\n");
}

const char *mtext_content_type(enum metrics_format fmt)
{
	return fmt == METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
					  : "text/plain; version=0.0.4; charset=utf-8";
}
