/* Fuzz target: the metrics endpoint's request reader (head end, request line, headers, Accept) and the encoder's
 * escaping of label values and HELP text that come from the input. */
#include <string.h>

#include "fuzz.h"
#include "kvm/metrics-http.h"
#include "kvm/metrics-text.h"

FZ_QUIET_INITIALIZE()

/* Every sample line of an exposition is NAME[{labels}] VALUE: no raw newline may come from a value. */
static void check_lines(const struct mtext *w, unsigned int samples)
{
	unsigned int lines = 0;
	for (size_t i = 0; i < w->len; i++)
		lines += w->buf[i] == '\n';
	/* HELP, TYPE, (UNIT,) the samples, (# EOF) */
	if (lines != 2 + (w->fmt == METRICS_OPENMETRICS ? 2 : 0) + samples)
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const char *p = (const char *)data;
	struct http_request r;
	size_t end = http_head_end(p, size);
	int f;

	if (end > size)
		abort();
	/* the server parses exactly the head, at most 8 KiB of it */
	http_parse_request(p, end ? end : size, &r);
	switch (r.status) {
	case 200:
		if (r.fmt != METRICS_OPENMETRICS && r.fmt != METRICS_PROMETHEUS)
			abort();
		break;
	case 400: case 404: case 405: case 406: case 431: case 505:
		if (!r.why || !*r.why)
			abort();
		break;
	default:
		abort();
	}
	f = http_negotiate(p, size);
	if (f != -1 && f != METRICS_OPENMETRICS && f != METRICS_PROMETHEUS)
		abort();
	if (size < 4096) {
		/* the input as a label value and as HELP text, in both formats */
		char *s = strndup(p, size);
		const char *labels[] = { "vm", s, "vcpu", "0", NULL };
		for (int fmt = 0; fmt < 2; fmt++) {
			struct mtext w;
			mtext_init(&w, (enum metrics_format)fmt);
			mtext_family(&w, "fuzz_seconds", METRIC_COUNTER, "seconds", s);
			mtext_ns(&w, labels, size);
			mtext_end(&w);
			if (w.oom || w.bad_name)
				abort();
			check_lines(&w, 1);
			mtext_free(&w);
		}
		free(s);
	}
	return 0;
}
