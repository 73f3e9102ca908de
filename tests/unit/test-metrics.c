/* Unit tests: the metrics text encoder (HELP/TYPE/UNIT, escaping, "# EOF"), the HTTP request reader and Accept
 * negotiation, the --metrics address, KVM's binary stats layout, and the "sample" parser and rates of top/watch. */
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "kvm/kvm-stats.h"
#include "kvm/metrics-http.h"
#include "kvm/metrics-text.h"
#include "kvm/metrics.h"
#include "kvm/sandbox.h"
#include "kvm/arm64-syscalls.h"
#include "kvm/vm-sample.h"

static bool has(const struct mtext *w, const char *s)
{
	return w->buf && strstr(w->buf, s);
}

static void test_encoder(struct unit_counts *uc)
{
	struct mtext w;
	const char *l[] = { "vm", "a\"b\\c\nd", "vcpu", "0", NULL };

	/* OpenMetrics: counter family without _total, samples with it, UNIT, HELP escaping, # EOF */
	mtext_init(&w, METRICS_OPENMETRICS);
	mtext_family(&w, "lkvm_vcpu_steal_seconds", METRIC_COUNTER, "seconds", "Stolen \"time\" \\ per\nvCPU");
	mtext_ns(&w, l, 1500000000ULL);
	mtext_family(&w, "lkvm_build", METRIC_INFO, NULL, "Build");
	mtext_u64(&w, (const char *const[]){ "version", "0.1", NULL }, 1);
	mtext_family(&w, "lkvm_vm_vcpus", METRIC_GAUGE, NULL, "vCPUs");
	mtext_u64(&w, NULL, 2);
	mtext_end(&w);
	CHECK(uc, !w.oom && !w.bad_name, "OpenMetrics: encoded without errors (%zu bytes)", w.len);
	CHECK(uc, has(&w, "# HELP lkvm_vcpu_steal_seconds Stolen \\\"time\\\" \\\\ per\\nvCPU\n"),
	      "OpenMetrics: HELP names the family and escapes backslash, newline and quote");
	CHECK(uc, has(&w, "# TYPE lkvm_vcpu_steal_seconds counter\n# UNIT lkvm_vcpu_steal_seconds seconds\n"),
	      "OpenMetrics: TYPE counter then UNIT, both on the family name");
	CHECK(uc, has(&w, "lkvm_vcpu_steal_seconds_total{vm=\"a\\\"b\\\\c\\nd\",vcpu=\"0\"} 1.5\n"),
	      "OpenMetrics: sample NAME_total, label value escaped, 1.5 s exact");
	CHECK(uc, has(&w, "# HELP lkvm_build_info Build\n# TYPE lkvm_build_info gauge\nlkvm_build_info{version=\"0.1\"} 1\n"),
	      "OpenMetrics: an _info metric is a gauge named NAME_info");
	CHECK(uc, has(&w, "lkvm_vm_vcpus 2\n"), "a sample without labels has no braces");
	CHECK(uc, w.len >= 6 && !strcmp(w.buf + w.len - 6, "# EOF\n"), "OpenMetrics: ends with # EOF");

	/* Prometheus 0.0.4: family named as its samples, no UNIT, info as gauge, HELP keeps quotes, no # EOF */
	mtext_reset(&w, METRICS_PROMETHEUS);
	mtext_family(&w, "lkvm_vcpu_steal_seconds", METRIC_COUNTER, "seconds", "Stolen \"time\" \\ per\nvCPU");
	mtext_ns(&w, l, 1000000001ULL);
	mtext_family(&w, "lkvm_build", METRIC_INFO, NULL, "Build");
	mtext_u64(&w, (const char *const[]){ "version", "0.1", NULL }, 1);
	mtext_end(&w);
	CHECK(uc, has(&w, "# HELP lkvm_vcpu_steal_seconds_total Stolen \"time\" \\\\ per\\nvCPU\n"
			  "# TYPE lkvm_vcpu_steal_seconds_total counter\n"),
	      "0.0.4: HELP and TYPE on NAME_total, quotes in HELP left alone");
	CHECK(uc, !has(&w, "# UNIT"), "0.0.4: no UNIT lines");
	CHECK(uc, has(&w, "} 1.000000001\n"), "0.0.4: nanoseconds kept exactly");
	CHECK(uc, has(&w, "# TYPE lkvm_build_info gauge\nlkvm_build_info{version=\"0.1\"} 1\n"), "0.0.4: info as gauge");
	CHECK(uc, !has(&w, "# EOF"), "0.0.4: no # EOF");

	/* values */
	mtext_reset(&w, METRICS_OPENMETRICS);
	mtext_family(&w, "x", METRIC_GAUGE, NULL, "");
	mtext_ns(&w, NULL, 0);
	mtext_ns(&w, NULL, 42000000000ULL);
	mtext_double(&w, NULL, 0.25);
	mtext_double(&w, NULL, 1.0 / 0.0);
	mtext_double(&w, NULL, 0.0 / 0.0);
	mtext_u64(&w, NULL, 18446744073709551615ULL);
	CHECK(uc, has(&w, "x 0\nx 42\nx 0.25\nx +Inf\nx NaN\nx 18446744073709551615\n"),
	      "values: whole seconds without a point, doubles, +Inf, NaN, u64 max");

	/* refusals: bad names never reach the text */
	mtext_reset(&w, METRICS_OPENMETRICS);
	mtext_family(&w, "9bad", METRIC_GAUGE, NULL, "");
	mtext_u64(&w, NULL, 1);
	CHECK(uc, w.bad_name && w.len == 0, "a family name starting with a digit is refused, its samples dropped");
	mtext_reset(&w, METRICS_OPENMETRICS);
	mtext_family(&w, "x_total", METRIC_COUNTER, NULL, "");
	CHECK(uc, w.bad_name, "a family name ending in _total is refused (the encoder adds it)");
	mtext_reset(&w, METRICS_OPENMETRICS);
	mtext_family(&w, "x_bytes", METRIC_GAUGE, "seconds", "");
	CHECK(uc, w.bad_name, "a unit that is not the name's suffix is refused");
	mtext_reset(&w, METRICS_OPENMETRICS);
	mtext_family(&w, "x", METRIC_GAUGE, NULL, "");
	mtext_u64(&w, (const char *const[]){ "__name", "v", NULL }, 1);
	CHECK(uc, w.bad_name, "a reserved label name (__) is refused");
	CHECK(uc, mtext_valid_name("lkvm_9p_requests") && mtext_valid_name("a:b") && !mtext_valid_name("") &&
			  !mtext_valid_name("a-b") && mtext_valid_label("vcpu") && !mtext_valid_label("a:b"),
	      "name and label name rules");
	CHECK(uc, strstr(mtext_content_type(METRICS_OPENMETRICS), "application/openmetrics-text; version=1.0.0") &&
			  strstr(mtext_content_type(METRICS_PROMETHEUS), "text/plain; version=0.0.4"),
	      "content types");
	mtext_free(&w);
}

static int req(const char *head, struct http_request *r)
{
	http_parse_request(head, strlen(head), r);
	return r->status;
}

static void test_http(struct unit_counts *uc)
{
	struct http_request r;
	char big[HTTP_HEAD_MAX + 64];

	CHECK(uc, http_head_end("GET / HTTP/1.1\r\nHost: x\r\n", 25) == 0, "head end: not yet");
	CHECK(uc, http_head_end("GET / HTTP/1.1\r\n\r\nbody", 22) == 18, "head end: CRLF CRLF");
	CHECK(uc, http_head_end("GET / HTTP/1.0\n\n", 16) == 16, "head end: bare LF LF");

	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 200 && r.fmt == METRICS_OPENMETRICS,
	      "GET /metrics: 200, OpenMetrics by default");
	CHECK(uc, req("GET /metrics HTTP/1.0\r\n\r\n", &r) == 200, "HTTP/1.0 needs no Host");
	CHECK(uc, req("GET /metrics?x=1 HTTP/1.1\r\nhost: a\r\n\r\n", &r) == 200, "a query string is ignored");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain;version=0.0.4\r\n\r\n", &r) == 200 &&
			  r.fmt == METRICS_PROMETHEUS,
	      "Accept text/plain;version=0.0.4: the 0.0.4 format");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;version=1.0.0,"
		      "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\n",
		      &r) == 200 &&
			  r.fmt == METRICS_OPENMETRICS,
	      "Prometheus's own Accept: OpenMetrics");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;q=0.2, text/plain\r\n\r\n",
		      &r) == 200 && r.fmt == METRICS_PROMETHEUS,
	      "q-values decide");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain;q=0, */*\r\n\r\n", &r) == 200 &&
			  r.fmt == METRICS_OPENMETRICS,
	      "text/plain;q=0 with */*: OpenMetrics");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n", &r) == 406, "406 for json");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain; version=9.9\r\n\r\n", &r) == 406,
	      "406 for an unknown text version");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: TEXT/*\r\n\r\n", &r) == 200 &&
			  r.fmt == METRICS_PROMETHEUS,
	      "media types are case-insensitive; text/* means the 0.0.4 format");
	CHECK(uc, http_negotiate("", 0) == METRICS_OPENMETRICS && http_negotiate("*/*;q=0", 7) == -1,
	      "negotiate: empty is the default, everything at q=0 is nothing");

	CHECK(uc, req("POST /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 405, "POST: 405");
	CHECK(uc, req("HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 405, "HEAD: 405");
	CHECK(uc, req("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 404, "GET /: 404");
	CHECK(uc, req("GET /metricsx HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 404, "GET /metricsx: 404");
	CHECK(uc, req("GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n", &r) == 505, "HTTP/2.0: 505");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\n\r\n", &r) == 400, "HTTP/1.1 without Host: 400");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r) == 400, "two Hosts: 400");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &r) == 400, "obs-fold: 400");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n", &r) == 400, "space before the colon: 400");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &r) == 400, "a body: 400");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r) == 200, "Content-Length 0");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r) == 400,
	      "Transfer-Encoding: 400");
	CHECK(uc, req("GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400, "two spaces: 400");
	CHECK(uc, req("GET http://a/metrics HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400, "absolute form: 400");
	CHECK(uc, req("GET /metrics HTTP/1.1\r\nHost: a\x01\r\n\r\n", &r) == 400, "a control byte: 400");
	CHECK(uc, req("G(T /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400, "a method that is not a token: 400");
	CHECK(uc, req("\r\n\r\n", &r) == 400, "an empty request line: 400");
	CHECK(uc, req("GET /metrics HTTX/1.1\r\nHost: a\r\n\r\n", &r) == 400 && r.why && *r.why,
	      "a bad version: 400 with a reason");
	{
		char *p = big;
		int n = 0;
		p += sprintf(p, "GET /metrics HTTP/1.1\r\nHost: a\r\n");
		while (n++ < 70)
			p += sprintf(p, "X-%d: y\r\n", n);
		strcpy(p, "\r\n");
		CHECK(uc, req(big, &r) == 431, "more than 64 header lines: 431");
		memset(big, 'a', sizeof(big));
		http_parse_request(big, sizeof(big), &r);
		CHECK(uc, r.status == 431, "a head over 8 KiB: 431");
	}
	CHECK(uc, !strcmp(http_reason(404), "Not Found") && !strcmp(http_reason(431), "Request Header Fields Too Large"),
	      "reason phrases");
}

static void test_addr(struct unit_counts *uc)
{
	struct migrate_addr a;
	char err[300];

	CHECK(uc, !metrics_addr_parse("tcp:9100", &a, err, sizeof(err)) && a.family == AF_INET &&
			  !strcmp(a.text, "tcp:127.0.0.1:9100"),
	      "tcp:PORT listens on 127.0.0.1");
	CHECK(uc, !metrics_addr_parse("tcp:0.0.0.0:9100", &a, err, sizeof(err)) && a.family == AF_INET, "tcp:ADDR:PORT");
	CHECK(uc, !metrics_addr_parse("tcp:[::1]:9100", &a, err, sizeof(err)) && a.family == AF_INET6, "tcp:[::1]:PORT");
	CHECK(uc, !metrics_addr_parse("unix:/run/vm.metrics", &a, err, sizeof(err)) && a.family == AF_UNIX, "unix:PATH");
	CHECK(uc, metrics_addr_parse("tcp:0", &a, err, sizeof(err)) && strstr(err, "--metrics"), "port 0 refused");
	CHECK(uc, metrics_addr_parse("tcp:70000", &a, err, sizeof(err)), "port 70000 refused");
	CHECK(uc, metrics_addr_parse("http://x:1", &a, err, sizeof(err)) && strstr(err, "unix:PATH or tcp:"),
	      "another scheme refused with the forms named");
	CHECK(uc, metrics_addr_parse("unix:", &a, err, sizeof(err)), "an empty path refused");
}

static void put_desc(u8 *d, const char *name, u32 off, u16 size, u32 name_size)
{
	memset(d, 0, sizeof(struct kvm_stats_desc) + name_size);
	memcpy(d + 6, &size, 2);
	memcpy(d + 8, &off, 4);
	strncpy((char *)d + sizeof(struct kvm_stats_desc), name, name_size);
}

static void test_kvm_stats(struct unit_counts *uc)
{
	u8 blob[4096];
	struct kvm_stats st;
	u32 hdr[6] = { 0, 48, 3, 24, 24 + 0, 1024 }; /* flags, name_size, num_desc, id_offset, desc_offset, data */
	u32 ds = (u32)sizeof(struct kvm_stats_desc) + 48;

	hdr[4] = 24 + 48; /* the id string sits between header and descriptors */
	memset(blob, 0, sizeof(blob));
	memcpy(blob, hdr, sizeof(hdr));
	put_desc(blob + hdr[4], "halt_wait_ns", 0, 1, 48);
	put_desc(blob + hdr[4] + ds, "exits", 800, 1, 48);
	put_desc(blob + hdr[4] + 2 * ds, "wfi_exit_stat", 792, 1, 48);
	CHECK(uc, !kvm_stats_layout(blob, hdr[4] + 3 * ds, &st) && st.off[KSTAT_EXITS] == 800 &&
			  st.off[KSTAT_WFI] == 792 && st.off[KSTAT_HALT_WAIT_NS] == 0 && st.off[KSTAT_HVC] == KSTAT_MISSING &&
			  st.data_offset == 1024 && st.data_size == 808,
	      "stats layout: found by name, missing ones marked, data read up to the last one used");
	CHECK(uc, kvm_stats_layout(blob, hdr[4] + 3 * ds - 1, &st), "a truncated descriptor table is refused");
	CHECK(uc, kvm_stats_layout(blob, 10, &st), "a truncated header is refused");
	hdr[1] = 0;
	memcpy(blob, hdr, sizeof(hdr));
	CHECK(uc, kvm_stats_layout(blob, sizeof(blob), &st), "a zero name size is refused");
	hdr[1] = 48;
	hdr[2] = 0xffffffffu;
	memcpy(blob, hdr, sizeof(hdr));
	CHECK(uc, kvm_stats_layout(blob, sizeof(blob), &st), "a huge descriptor count is refused");
	hdr[2] = 1;
	memcpy(blob, hdr, sizeof(hdr));
	memset(blob + hdr[4] + sizeof(struct kvm_stats_desc), 'x', 48); /* no NUL in the name */
	CHECK(uc, !kvm_stats_layout(blob, sizeof(blob), &st) && st.off[KSTAT_HALT_WAIT_NS] == KSTAT_MISSING,
	      "an unterminated name is skipped");
	put_desc(blob + hdr[4], "exits", 1u << 20, 1, 48);
	CHECK(uc, !kvm_stats_layout(blob, sizeof(blob), &st) && st.off[KSTAT_EXITS] == KSTAT_MISSING,
	      "a value beyond the first 4 KiB is not used");
}

static void test_sample(struct unit_counts *uc)
{
	struct vm_snap a, b;
	struct vm_rates r;
	const char *s1 = "name=vm1 pid=42 state=running cpus=2 now_ns=1000000000 uptime_ns=5 rss_kib=100 pvtime=on\n"
			 "vcpu=0 stolen_ns=100 run_delay_ns=100 guest_ns=0 exits=10 user_exits=1 steal=pvtime\n"
			 "vcpu=1 stolen_ns=0 run_delay_ns=0 guest_ns=0 exits=0 user_exits=0 steal=pvtime\nok\n";
	const char *s2 = "name=vm1 pid=42 state=running cpus=2 now_ns=2000000000 uptime_ns=6 rss_kib=100 pvtime=on\n"
			 "vcpu=0 stolen_ns=500000100 run_delay_ns=500000100 guest_ns=0 exits=1010 user_exits=1 steal=pvtime\n"
			 "vcpu=1 stolen_ns=100000000 run_delay_ns=0 guest_ns=0 exits=1000 user_exits=0 steal=pvtime\n";

	CHECK(uc, !vm_snap_parse(s1, &a) && !strcmp(a.name, "vm1") && a.pid == 42 && a.cpus == 2 && a.nv == 2 &&
			  a.v[0].exits == 10 && a.v[0].pvtime,
	      "sample: VM line and vCPU lines parsed");
	CHECK(uc, !vm_snap_parse(s2, &b), "sample: a second one");
	CHECK(uc, !vm_rates_compute(&a, &b, &r) && r.nv == 2 && r.steal[0] > 49.9 && r.steal[0] < 50.1 &&
			  r.steal[1] > 9.9 && r.steal[1] < 10.1 && r.steal_max == r.steal[0] &&
			  r.steal_mean > 29.9 && r.steal_mean < 30.1 && r.exits_per_s > 1999 && r.exits_per_s < 2001 &&
			  !strcmp(r.source, "pvtime"),
	      "rates: 50%% and 10%% steal, mean 30%%, 2000 exits/s");
	vm_rates_free(&r);
	b.pid = 43;
	CHECK(uc, vm_rates_compute(&a, &b, &r), "rates: another process (a restore) does not compare");
	vm_snap_free(&a);
	vm_snap_free(&b);
	CHECK(uc, vm_snap_parse("error: unknown request 'sample'\n", &a) && !a.v, "an older lkvm's answer is refused");
	CHECK(uc, vm_snap_parse("name=x pid=1 cpus=2 now_ns=1\nvcpu=0 stolen_ns=1\n", &a),
	      "a sample missing a vCPU line is refused");
	CHECK(uc, vm_snap_parse("name=x pid=1 cpus=1 now_ns=1\nvcpu=5 stolen_ns=1\n", &a),
	      "a vCPU line out of order is refused");
	CHECK(uc, !strcmp(vm_spark_cell(0, false), "\u2581") && !strcmp(vm_spark_cell(100, false), "\u2588") &&
			  !strcmp(vm_spark_cell(50, true), "=") && !strcmp(vm_spark_cell(250, true), "@") &&
			  !strcmp(vm_spark_cell(-3, true), "_"),
	      "sparkline cells: 8 levels, clamped");
}

static void test_sandbox_class(struct unit_counts *uc)
{
	const struct sandbox_policy *p = sandbox_policy(SANDBOX_METRICS);
	bool accept = false, ioctl = false, sock = false;

	for (size_t i = 0; p && i < p->nr_syscalls; i++) {
		accept |= p->syscalls[i] == SC_accept4;
		ioctl |= p->syscalls[i] == SC_ioctl;
		sock |= p->syscalls[i] == 198 /* socket */ || p->syscalls[i] == 203 /* connect */;
	}
	CHECK(uc, p && !strcmp(p->name, "metrics") && accept && !ioctl && !sock && p->nr_ioctls == 0,
	      "sandbox: the metrics class accepts connections, has no ioctl, cannot open sockets");
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };

	test_encoder(&uc);
	test_http(&uc);
	test_addr(&uc);
	test_kvm_stats(&uc);
	test_sample(&uc);
	test_sandbox_class(&uc);
	UNIT_DONE(&uc);
}
