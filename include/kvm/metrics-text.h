/* The metrics text encoder: OpenMetrics 1.0 text, or the Prometheus 0.0.4 text format, into a growing buffer. */
#ifndef KVM_METRICS_TEXT_H
#define KVM_METRICS_TEXT_H

#include "kvm/util.h"

enum metrics_format {
	METRICS_OPENMETRICS = 0, /* application/openmetrics-text; version=1.0.0: UNIT lines, "# EOF" */
	METRICS_PROMETHEUS,      /* text/plain; version=0.0.4 */
};

enum metric_type {
	METRIC_COUNTER, /* samples are NAME_total */
	METRIC_GAUGE,   /* samples are NAME */
	METRIC_INFO,    /* a gauge NAME_info with value 1 whose labels say something (Prometheus's *_info convention) */
};

#define MTEXT_MAX (8u << 20) /* a scrape larger than this is refused (mtext.oom) */

struct mtext {
	enum metrics_format fmt;
	char *buf;
	size_t len, cap;
	bool oom;      /* out of memory or over MTEXT_MAX: the text is incomplete, do not serve it */
	bool bad_name; /* a family or label name was not a valid metric name (a bug in the caller) */
	/* The family being written (set by mtext_family) */
	char family[96];
	enum metric_type type;
};

void mtext_init(struct mtext *w, enum metrics_format fmt);
void mtext_free(struct mtext *w);
/* Empty the buffer (keeps its memory), e.g. for the next scrape. */
void mtext_reset(struct mtext *w, enum metrics_format fmt);

/*
 * Start a metric family. name is the family name: without "_total" for a counter and without "_info" for an info
 * metric (the encoder adds them to the samples). unit is NULL or a base unit that name ends with ("seconds",
 * "bytes"): an OpenMetrics UNIT line. help is one line of free text (escaped here).
 */
void mtext_family(struct mtext *w, const char *name, enum metric_type type, const char *unit, const char *help);

/*
 * A sample of the current family. labels: NULL, or name/value pairs ending with NULL ({"vm", "a", "vcpu", "0",
 * NULL}); values are escaped here, names must be valid label names.
 */
void mtext_u64(struct mtext *w, const char *const *labels, u64 v);
void mtext_double(struct mtext *w, const char *const *labels, double v);
/* A duration or time in nanoseconds written exactly as seconds ("12.5", "0.000000001"). */
void mtext_ns(struct mtext *w, const char *const *labels, u64 ns);

/* End of the exposition: "# EOF" in OpenMetrics, nothing in the 0.0.4 format. */
void mtext_end(struct mtext *w);

/* True if s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) / label name ([a-zA-Z_][a-zA-Z0-9_]*, no "__"). */
bool mtext_valid_name(const char *s);
bool mtext_valid_label(const char *s);

/* The Content-Type of a format. */
const char *mtext_content_type(enum metrics_format fmt);

#endif
