/* The metrics endpoint's HTTP/1.1 request reader: strict, bounded, no allocation (host-testable, fuzzed). */
#ifndef KVM_METRICS_HTTP_H
#define KVM_METRICS_HTTP_H

#include <stddef.h>

#include "kvm/metrics-text.h"

#define HTTP_HEAD_MAX 8192 /* request line and headers, blank line included */
#define HTTP_MAX_HEADERS 64

/*
 * Where the request head ends in buf[0 .. len): the length through the blank line (CRLF CRLF, or a bare LF LF),
 * 0 if it has not ended yet.
 */
size_t http_head_end(const char *buf, size_t len);

struct http_request {
	int status;               /* 200, or the error to answer with: 400, 404, 405, 406, 431, 505 */
	enum metrics_format fmt;  /* 200: the format the Accept header asks for (OpenMetrics by default) */
	const char *why;          /* an error's one-line reason, for the response body */
};

/*
 * Judge a complete head (http_head_end()'s length): only "GET /metrics" (a query string is ignored) in HTTP/1.0 or
 * 1.1, well-formed header lines, a Host header in 1.1, no body. Never reads past len.
 */
void http_parse_request(const char *head, size_t len, struct http_request *r);

/* The Accept header's choice: OpenMetrics, the 0.0.4 format, or -1 when it accepts neither. */
int http_negotiate(const char *accept, size_t len);

/* The reason phrase of a status code ("Not Found"). */
const char *http_reason(int status);

#endif
