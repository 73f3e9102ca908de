/* The metrics HTTP server: accept, read one bounded head, answer, drain, close; nothing blocks, everything expires. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvm/metrics-server.h"

const int metrics_code_status[MC_NR] = { 200, 400, 404, 405, 406, 408, 431, 500, 503, 505 };

static u64 now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static void count(struct metrics_server *s, int status)
{
	for (unsigned int i = 0; i < MC_NR; i++)
		if (metrics_code_status[i] == status)
			__atomic_fetch_add(&s->responses[i], 1, __ATOMIC_RELAXED);
}

int metrics_server_init(struct metrics_server *s, int lfd, int (*render)(void *ctx, struct mtext *out), void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->lfd = lfd;
	s->render = render;
	s->ctx = ctx;
	s->head_timeout_ms = METRICS_HEAD_TIMEOUT_MS;
	s->send_timeout_ms = METRICS_SEND_TIMEOUT_MS;
	s->drain_ms = METRICS_DRAIN_MS;
	mtext_init(&s->text, METRICS_OPENMETRICS);
	s->conns = calloc(METRICS_MAX_CONNS, sizeof(*s->conns));
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!s->conns || s->wake_fd < 0) {
		free(s->conns);
		s->conns = NULL;
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < METRICS_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

char *metrics_http_response(int status, const char *content_type, const char *body, size_t body_len, size_t *len)
{
	char head[400], date[64] = "";
	struct timespec ts;
	struct tm tm;
	char *out;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm))
		strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n%s"
		     "Connection: close\r\n\r\n",
		     status, http_reason(status), date, content_type, body_len, status == 405 ? "Allow: GET\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return NULL;
	out = malloc((size_t)n + body_len);
	if (!out)
		return NULL;
	memcpy(out, head, (size_t)n);
	if (body_len)
		memcpy(out + n, body, body_len);
	*len = (size_t)n + body_len;
	return out;
}

static void conn_close(struct metrics_conn *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

/* Queue a response; the connection then sends it (or is closed when there is no memory for it). */
static void respond(struct metrics_server *s, struct metrics_conn *c, int status, const char *ctype, const char *body,
		    size_t len)
{
	c->out = metrics_http_response(status, ctype, body, len, &c->out_len);
	if (!c->out) {
		conn_close(c);
		return;
	}
	count(s, status);
	c->out_off = 0;
	c->state = MCONN_SEND;
	c->deadline_ms = now_ms() + s->send_timeout_ms;
}

static void respond_error(struct metrics_server *s, struct metrics_conn *c, int status, const char *why)
{
	char body[200];
	int n = snprintf(body, sizeof(body), "%d %s: %s\n", status, http_reason(status), why);
	respond(s, c, status, "text/plain; charset=utf-8", body, (size_t)n < sizeof(body) ? (size_t)n : sizeof(body) - 1);
}

static void answer(struct metrics_server *s, struct metrics_conn *c, size_t head_len)
{
	struct http_request r;

	http_parse_request(c->in, head_len, &r);
	if (r.status != 200) {
		respond_error(s, c, r.status, r.why);
		return;
	}
	mtext_reset(&s->text, r.fmt);
	if (s->render(s->ctx, &s->text) || s->text.oom || s->text.bad_name) {
		respond_error(s, c, 500, "the metrics could not be collected (see lkvm's log)");
		return;
	}
	respond(s, c, 200, mtext_content_type(r.fmt), s->text.buf, s->text.len);
}

static void on_readable(struct metrics_server *s, struct metrics_conn *c)
{
	char sink[4096];
	ssize_t n;

	if (c->state == MCONN_DRAIN) {
		do
			n = recv(c->fd, sink, sizeof(sink), 0);
		while (n > 0);
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c); /* the client has closed its end: done */
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c); /* gone before the head was complete: nobody to answer */
		return;
	}
	c->in_len += (size_t)n;
	{
		size_t end = http_head_end(c->in, c->in_len);
		if (end)
			answer(s, c, end);
		else if (c->in_len == sizeof(c->in))
			respond_error(s, c, 431, "the request head is over 8 KiB");
	}
}

static void on_writable(struct metrics_server *s, struct metrics_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* All sent: close our side, and take what the client still sends for a moment so that it gets the whole
	 * response (closing with unread bytes would reset the connection). */
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = MCONN_DRAIN;
	c->deadline_ms = now_ms() + s->drain_ms;
}

static void accept_all(struct metrics_server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned int i;

		if (fd < 0) {
			/* out of descriptors or memory: stop watching the listener a while instead of spinning on it */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				s->accept_pause_until = now_ms() + 100;
			return; /* EAGAIN, or a connection that went away: nothing more now */
		}
		for (i = 0; i < METRICS_MAX_CONNS && s->conns[i].fd >= 0; i++)
			;
		if (i == METRICS_MAX_CONNS) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
						   "Connection: close\r\nRetry-After: 1\r\n\r\n";
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				(void)0; /* best effort: the client is told if its buffer has room */
			close(fd);
			__atomic_fetch_add(&s->refused, 1, __ATOMIC_RELAXED);
			count(s, 503);
			continue;
		}
		s->conns[i] = (struct metrics_conn){ .fd = fd, .state = MCONN_HEAD,
						     .deadline_ms = now_ms() + s->head_timeout_ms };
	}
}

static void expire(struct metrics_server *s, u64 now)
{
	for (unsigned int i = 0; i < METRICS_MAX_CONNS; i++) {
		struct metrics_conn *c = &s->conns[i];
		if (c->fd < 0 || now < c->deadline_ms)
			continue;
		if (c->state == MCONN_HEAD) {
			respond_error(s, c, 408, "the request head did not arrive in time");
			if (c->fd >= 0)
				on_writable(s, c); /* one try; the drain deadline then ends it */
		} else {
			conn_close(c); /* a client that does not take its response, or lingers after it */
		}
	}
}

void metrics_server_poll(struct metrics_server *s, int timeout_ms)
{
	struct pollfd p[METRICS_MAX_CONNS + 2];
	unsigned int idx[METRICS_MAX_CONNS], n = 2;
	u64 now = now_ms(), next = now + (timeout_ms < 0 ? 3600000u : (u64)timeout_ms);

	p[0] = (struct pollfd){ .fd = now < s->accept_pause_until ? -1 : s->lfd, .events = POLLIN };
	if (now < s->accept_pause_until && s->accept_pause_until < next)
		next = s->accept_pause_until;
	p[1] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
	for (unsigned int i = 0; i < METRICS_MAX_CONNS; i++) {
		struct metrics_conn *c = &s->conns[i];
		if (c->fd < 0)
			continue;
		if (c->deadline_ms < next)
			next = c->deadline_ms;
		idx[n - 2] = i;
		p[n++] = (struct pollfd){ .fd = c->fd, .events = c->state == MCONN_SEND ? POLLOUT : POLLIN };
	}
	if (poll(p, n, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
		return;
	if (p[1].revents) {
		__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
		return;
	}
	for (unsigned int k = 2; k < n; k++) {
		struct metrics_conn *c = &s->conns[idx[k - 2]];
		if (!p[k].revents || c->fd < 0)
			continue;
		if (c->state == MCONN_SEND)
			on_writable(s, c);
		else
			on_readable(s, c);
		if (c->fd >= 0 && c->state == MCONN_SEND)
			on_writable(s, c); /* a fresh response goes out at once when the socket takes it */
	}
	if (p[0].revents)
		accept_all(s);
	expire(s, now_ms());
}

void metrics_server_stop(struct metrics_server *s)
{
	u64 one = 1;
	if (write(s->wake_fd, &one, sizeof(one)) < 0)
		(void)0; /* cannot overflow with one write */
}

void metrics_server_destroy(struct metrics_server *s)
{
	for (unsigned int i = 0; s->conns && i < METRICS_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(&s->conns[i]);
	free(s->conns);
	s->conns = NULL;
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->wake_fd = -1;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	mtext_free(&s->text);
}
