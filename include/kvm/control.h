/* The per-VM control socket: a private unix socket that 'lkvm list/stat/stop' talk to. */
#ifndef KVM_CONTROL_H
#define KVM_CONTROL_H

#include <stdio.h>

#include "kvm/util.h"

#define CONTROL_GREETING "lkvm-control 1"
#define CONTROL_MAX_LINE 512
#define CONTROL_STALE (-2) /* control_request*(): the socket exists but nobody listens */

struct kvm;

/* Directory holding the sockets: $LKVM_SOCK_DIR, $XDG_RUNTIME_DIR/lkvm, $HOME/.lkvm or /tmp/lkvm-UID. */
int control_dir(char *buf, size_t len, bool create, char *err, size_t errlen);
int control_path(const char *name, char *buf, size_t len, bool create, char *err, size_t errlen);
/* True if name is usable as a VM name (and a file name). */
bool control_name_ok(const char *name);

/* A request line as the server understands it (control-request.c). */
enum control_op {
	CONTROL_UNKNOWN = 0,
	CONTROL_INFO,
	CONTROL_STEAL,
	CONTROL_STOP,
	CONTROL_PAUSE,
	CONTROL_RESUME,
	CONTROL_SAVE,      /* "save" / "save-stop": stream the snapshot on the socket */
	CONTROL_SAVE_FILE, /* "save-file" / "save-file-stop": into the file passed with the request */
	CONTROL_MIGRATE,   /* "migrate ARGS" with the connection to the destination passed */
	CONTROL_SAMPLE,    /* "sample": state and per-vCPU counters for lkvm top and stat --watch (metrics.h) */
	CONTROL_DEBUG,     /* "debug [K]" / "debug-dump [K]": vCPU registers and the bytes at PC (lkvm debug) */
};
struct control_request {
	enum control_op op;
	bool stop;                    /* save: stop the VM once saved; debug: the full dump (debug-dump) */
	bool refused_while_migrating; /* answered with an error while a migration runs */
	const char *args;             /* migrate: the rest of the line (migrate_params_parse()); debug: the vCPU or ""; "" otherwise */
};
void control_parse_request(const char *line, struct control_request *req);

/* Server side (in the lkvm run process). */
void control_listen(struct kvm *kvm);     /* dies with one line on failure; handles stale sockets */
void control_serve_one(struct kvm *kvm);  /* accept one client, answer one request */
void control_cleanup(struct kvm *kvm);

/*
 * Client side: send one request line to VM `name`; response lines (without the final "ok") go to
 * out. Returns 0, or -1 with a one-line reason in err (not running, not an lkvm socket, refused), or
 * CONTROL_STALE if the socket file exists but nobody listens.
 */
int control_request(const char *name, const char *request, FILE *out, char *err, size_t errlen);
/* Connect to a VM's socket and check lkvm's greeting: an fd, or -1 / CONTROL_STALE with err. */
int control_open(const char *name, char *err, size_t errlen);
int control_open_path(const char *path, char *err, size_t errlen);
/* Same, against a socket path. */
int control_request_path(const char *path, const char *request, FILE *out, char *err, size_t errlen);
/* Send a request line with a file descriptor attached (SCM_RIGHTS): 0 or -1. */
int control_send_fd(int sock, const char *line, int fd);
struct msghdr;
/* The descriptors a received message carried (SCM_RIGHTS): the first into *first if that is -1, every other one
 * closed. Returns how many there were. */
int control_take_fds(struct msghdr *msg, int *first);

/* Send a whole line without SIGPIPE (MSG_NOSIGNAL): 0 or -errno (-EPIPE when the VM went away). */
int control_send_line(int fd, const char *line);
/* True if errno value e means the peer closed or died (EPIPE, ECONNRESET, ...). */
bool control_gone_errno(int e);

/* Read one line (without '\n', retrying EINTR) from fd into buf; its length, or -1 on EOF/error before any byte. */
int control_read_line(int fd, char *buf, size_t len);

#endif
