/* The metrics endpoint's HTTP server: one thread, non-blocking sockets, bounded connections and deadlines. */
#ifndef KVM_METRICS_SERVER_H
#define KVM_METRICS_SERVER_H

#include "kvm/metrics-http.h"
#include "kvm/metrics-text.h"

#define METRICS_MAX_CONNS 32         /* served at once; more are answered 503 and closed */
#define METRICS_HEAD_TIMEOUT_MS 5000 /* the whole request head must arrive within this from accept */
#define METRICS_SEND_TIMEOUT_MS 10000 /* the whole response must be taken within this */
#define METRICS_DRAIN_MS 1000        /* after the response: read and drop what the client still sends, then close */

/* Responses the server counts, by status (metrics_server.responses[] index). */
enum metrics_code { MC_200, MC_400, MC_404, MC_405, MC_406, MC_408, MC_431, MC_500, MC_503, MC_505, MC_NR };
extern const int metrics_code_status[MC_NR];

struct metrics_conn {
	int fd; /* -1: free */
	enum { MCONN_HEAD, MCONN_SEND, MCONN_DRAIN } state;
	u64 deadline_ms; /* CLOCK_MONOTONIC */
	size_t in_len;
	char in[HTTP_HEAD_MAX];
	char *out; /* the response: headers and body */
	size_t out_len, out_off;
};

struct metrics_server {
	int lfd;     /* listening socket, non-blocking */
	int wake_fd; /* eventfd: metrics_server_stop() */
	bool stop;
	u64 accept_pause_until; /* ms: accept() ran out of descriptors; the listener rests until then */
	unsigned int head_timeout_ms, send_timeout_ms, drain_ms;
	/* Fill out (in out->fmt, already reset) with the exposition, ending with mtext_end(); 0, or -1 for a 500. */
	int (*render)(void *ctx, struct mtext *out);
	void *ctx;
	struct mtext text;
	struct metrics_conn *conns; /* METRICS_MAX_CONNS */
	/* Read by other threads (relaxed atomics): responses by status, connections refused for lack of room. */
	u64 responses[MC_NR];
	u64 refused;
};

/* Serve on the listening socket lfd (made non-blocking here). 0 or -errno. */
int metrics_server_init(struct metrics_server *s, int lfd, int (*render)(void *ctx, struct mtext *out), void *ctx);
/* One round: wait up to timeout_ms (-1: until something happens), accept, read, answer, expire. */
void metrics_server_poll(struct metrics_server *s, int timeout_ms);
/* Any thread: make metrics_server_poll() return and s->stop true. */
void metrics_server_stop(struct metrics_server *s);
/* Close every connection and the listener, free the buffers. */
void metrics_server_destroy(struct metrics_server *s);

/* Build a complete response (status line, headers, body) in a new buffer; NULL when out of memory. */
char *metrics_http_response(int status, const char *content_type, const char *body, size_t body_len, size_t *len);

#endif
