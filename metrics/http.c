/* The metrics endpoint's request reader: one strict HTTP/1.x GET head, judged without allocating (RFC 9110/9112). */
#include <string.h>
#include <strings.h>

#include "kvm/metrics-http.h"

size_t http_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* RFC 9110 tchar */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* A span of the head. */
struct span {
	const char *p;
	size_t n;
};

static bool span_ieq(struct span s, const char *lit)
{
	return s.n == strlen(lit) && !strncasecmp(s.p, lit, s.n);
}

static struct span trim(struct span s)
{
	while (s.n && is_ows(*s.p))
		s.p++, s.n--;
	while (s.n && is_ows(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Split s at the first c: the part before it is returned, s keeps the rest (empty when there is no c). */
static struct span cut(struct span *s, char c)
{
	const char *at = memchr(s->p, c, s->n);
	struct span head = { s->p, at ? (size_t)(at - s->p) : s->n };

	s->p += at ? head.n + 1 : head.n;
	s->n -= at ? head.n + 1 : head.n;
	return head;
}

/* A qvalue (RFC 9110 12.4.2): "0", "0.5", "1", "1.000"; in thousandths, -1 if malformed. */
static int qvalue(struct span v)
{
	int q, digits = 0;

	if (!v.n || (v.p[0] != '0' && v.p[0] != '1'))
		return -1;
	q = (v.p[0] - '0') * 1000;
	if (v.n == 1)
		return q;
	if (v.p[1] != '.' || v.n > 5)
		return -1;
	for (size_t i = 2; i < v.n; i++, digits++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		q += (v.p[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
	}
	return q > 1000 ? -1 : q;
}

/* The best match so far for one format: how specific it was (0 none, 1 any type, 2 type/any, 3 exact), its q. */
struct pick {
	int spec, q;
};

/* What an Accept header (all its lines) says about our two formats. */
struct accept {
	struct pick om, text;
	unsigned int ranges; /* media ranges seen, known or not */
};

static void offer(struct pick *p, int spec, int q)
{
	if (spec > p->spec || (spec == p->spec && q > p->q)) {
		p->spec = spec;
		p->q = q;
	}
}

/* One media range of an Accept header against both formats. */
static void judge_range(struct span r, struct accept *a)
{
	struct pick *om = &a->om, *text = &a->text;
	struct span type = trim(cut(&r, ';')), sub, version = { NULL, 0 };
	int q = 1000;

	sub = type;
	type = cut(&sub, '/');
	while (r.n) {
		struct span param = trim(cut(&r, ';')), name = trim(cut(&param, '='));
		struct span val = trim(param);
		if (val.n >= 2 && val.p[0] == '"' && val.p[val.n - 1] == '"')
			val.p++, val.n -= 2;
		if (span_ieq(name, "q"))
			q = qvalue(val);
		else if (span_ieq(name, "version"))
			version = val;
	}
	if (q < 0)
		return; /* a malformed range is ignored */
	if (span_ieq(type, "*") && span_ieq(sub, "*")) {
		offer(om, 1, q);
		offer(text, 1, q);
	} else if (span_ieq(type, "application") && span_ieq(sub, "*")) {
		offer(om, 2, q);
	} else if (span_ieq(type, "text") && span_ieq(sub, "*")) {
		offer(text, 2, q);
	} else if (span_ieq(type, "application") && span_ieq(sub, "openmetrics-text")) {
		if (!version.p || span_ieq(version, "1.0.0") || span_ieq(version, "0.0.1"))
			offer(om, 3, q);
	} else if (span_ieq(type, "text") && span_ieq(sub, "plain")) {
		if (!version.p || span_ieq(version, "0.0.4"))
			offer(text, 3, q);
	}
}

static void judge_accept(struct span v, struct accept *a)
{
	while (v.n) {
		struct span r = trim(cut(&v, ','));
		if (r.n) {
			a->ranges++;
			judge_range(r, a);
		}
	}
}

static int choose(const struct accept *a)
{
	const struct pick *om = &a->om, *text = &a->text;

	if (!a->ranges)
		return METRICS_OPENMETRICS; /* no Accept, or an empty one: the default */
	if ((!om->spec || !om->q) && (!text->spec || !text->q))
		return -1;
	if (text->spec && text->q > (om->spec ? om->q : 0))
		return METRICS_PROMETHEUS;
	return METRICS_OPENMETRICS;
}

int http_negotiate(const char *accept, size_t len)
{
	struct accept a = { { 0, 0 }, { 0, 0 }, 0 };

	judge_accept((struct span){ accept, len }, &a);
	return choose(&a);
}

/* Record an error; false, so that a check can end with return fail(...). */
static bool fail(struct http_request *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return false;
}

/* The request line: METHOD SP TARGET SP HTTP/x.y. */
static bool request_line(struct span l, struct http_request *r, bool *is11, bool *get, bool *metrics)
{
	struct span method = cut(&l, ' '), target = cut(&l, ' '), path, version = l;

	if (!method.n || !target.n || !version.n)
		return fail(r, 400, "the request line is not METHOD TARGET HTTP/1.1");
	for (size_t i = 0; i < method.n; i++)
		if (!is_tchar(method.p[i]))
			return fail(r, 400, "the method is not a token");
	for (size_t i = 0; i < target.n; i++)
		if (target.p[i] <= ' ' || target.p[i] >= 0x7f)
			return fail(r, 400, "the request target has a space or control character");
	if (version.n != 8 || strncmp(version.p, "HTTP/", 5) || version.p[5] < '0' || version.p[5] > '9' ||
	    version.p[6] != '.' || version.p[7] < '0' || version.p[7] > '9')
		return fail(r, 400, "the request line does not end with HTTP/1.1");
	if (version.p[5] != '1')
		return fail(r, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	if (target.p[0] != '/')
		return fail(r, 400, "only an origin-form target (/metrics) is served");
	*is11 = version.p[7] != '0';
	*get = method.n == 3 && !memcmp(method.p, "GET", 3);
	path = target;
	path = cut(&path, '?');
	*metrics = path.n == 8 && !memcmp(path.p, "/metrics", 8);
	return true;
}

/* One header line (not the blank one). */
static bool header_line(struct span line, struct http_request *r, unsigned int *hosts, struct accept *acc)
{
	struct span value = line, name = cut(&value, ':');

	if (is_ows(line.p[0]))
		return fail(r, 400, "a folded header line (obsolete line folding is refused)");
	if (name.n == line.n || !name.n)
		return fail(r, 400, "a header line without a field name and a colon");
	for (size_t i = 0; i < name.n; i++)
		if (!is_tchar(name.p[i]))
			return fail(r, 400, "a header field name that is not a token");
	value = trim(value);
	if (span_ieq(name, "host")) {
		(*hosts)++;
	} else if (span_ieq(name, "content-length")) {
		if (!value.n)
			return fail(r, 400, "an empty Content-Length");
		for (size_t i = 0; i < value.n; i++)
			if (value.p[i] != '0')
				return fail(r, 400, "a GET with a body (Content-Length)");
	} else if (span_ieq(name, "transfer-encoding")) {
		return fail(r, 400, "a GET with a body (Transfer-Encoding)");
	} else if (span_ieq(name, "accept")) {
		judge_accept(value, acc);
	}
	return true;
}

static bool parse(const char *head, size_t len, struct http_request *r)
{
	struct span rest = { head, len }, line;
	struct accept acc = { { 0, 0 }, { 0, 0 }, 0 };
	bool is11 = true, get = false, metrics = false, first = true;
	unsigned int nh = 0, hosts = 0;
	int f;

	if (len > HTTP_HEAD_MAX)
		return fail(r, 431, "the request head is over 8 KiB");
	while (rest.n) {
		line = cut(&rest, '\n');
		if (line.n && line.p[line.n - 1] == '\r')
			line.n--;
		for (size_t i = 0; i < line.n; i++)
			if ((line.p[i] < ' ' && line.p[i] != '\t') || line.p[i] == 0x7f)
				return fail(r, 400, "a control character in the request head");
		if (first) {
			first = false;
			if (!request_line(line, r, &is11, &get, &metrics))
				return false;
			continue;
		}
		if (!line.n)
			break; /* the blank line: the head is over */
		if (++nh > HTTP_MAX_HEADERS)
			return fail(r, 431, "more than 64 header fields");
		if (!header_line(line, r, &hosts, &acc))
			return false;
	}
	if (first)
		return fail(r, 400, "no request line");
	if (hosts > 1)
		return fail(r, 400, "more than one Host header");
	if (is11 && !hosts)
		return fail(r, 400, "an HTTP/1.1 request without a Host header");
	if (!get)
		return fail(r, 405, "only GET is served");
	if (!metrics)
		return fail(r, 404, "only /metrics is served");
	f = choose(&acc);
	if (f < 0)
		return fail(r, 406, "the Accept header takes neither application/openmetrics-text nor text/plain");
	r->fmt = (enum metrics_format)f;
	return true;
}

void http_parse_request(const char *head, size_t len, struct http_request *r)
{
	*r = (struct http_request){ .status = 200, .fmt = METRICS_OPENMETRICS, .why = "" };
	parse(head, len, r);
}
