/* Live migration: addresses and sockets, the source side (the VM process) and the hand-over handshake. */
#ifndef KVM_MIGRATE_H
#define KVM_MIGRATE_H

#include <stddef.h>
#include <sys/socket.h>

#include "kvm/util.h"

/* The hand-over (docs/migration.md): after END the destination sends ACK once the VM is built, the source answers
 * GO once it has given the guest up; only then does the destination run it. Both are 8 bytes. */
#define MIGRATE_ACK "LKVM-ACK"
#define MIGRATE_GO "LKVM-GO!"
#define MIGRATE_HANDSHAKE_LEN 8
/* migrate --local (same host, unix: only): the stream is preceded by these 16 bytes carrying guest RAM's
 * descriptor (SCM_RIGHTS); the destination maps that memory instead of receiving pages. */
#define MIGRATE_RAM_FD_HELLO "LKVM-RAM-FD-0001"
#define MIGRATE_RAM_FD_HELLO_LEN 16

/* tcp:HOST:PORT (HOST a numeric IPv4 address, [IPv6] or localhost) or unix:PATH. */
struct migrate_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	int family;
	char text[160]; /* as given, for messages */
};

int migrate_addr_parse(const char *uri, struct migrate_addr *a, char *err, size_t errlen);
/* Listen on exactly that address; an fd or -1 with err. */
int migrate_listen(const struct migrate_addr *a, char *err, size_t errlen);
/* Accept one connection and close the listener (a second connection is then refused); fd or -1 with err. */
int migrate_accept_one(int lfd, const struct migrate_addr *a, char *err, size_t errlen);
/* Connect (refusals fail at once, an unreachable host after timeout_s); fd or -1 with err. */
int migrate_connect(const struct migrate_addr *a, int timeout_s, char *err, size_t errlen);
/*
 * Destination of a unix: migration: if the stream starts with MIGRATE_RAM_FD_HELLO, consume it and return the
 * descriptor it carried; -2 if it starts otherwise (nothing consumed: an ordinary stream); -1 with err if the
 * hello came without exactly one descriptor.
 */
int migrate_take_ram_fd(int sock, char *err, size_t errlen);

/* The destination (lkvm restore --incoming URI); each dies with one line on failure, naming what (the URI). */
int migrate_incoming_accept(const char *uri);          /* listen, accept one source: its fd (120 s receive timeout) */
int migrate_incoming_ram_fd(int fd, const char *what); /* migrate --local's RAM descriptor, or -1 for a stream */
void migrate_incoming_handover(int fd, const char *what); /* acknowledge, wait for the source's go; closes fd */

/* Source-side knobs, sent by 'lkvm migrate' in its control request. */
struct migrate_params {
	u64 max_downtime_ms; /* 300 */
	u64 max_bw;          /* bytes per second, 0: unlimited */
	u64 timeout_ms;      /* 0: none */
	bool force;          /* on timeout: finish with stop-and-copy instead of cancelling */
	bool verify;         /* send a CRC of every page last; the destination compares before it takes over */
	bool local;          /* same host: pass guest RAM's descriptor instead of copying RAM (--local) */
	int recheck;         /* enum recheck_mode (kvm/mig-recheck.h): --recheck auto (0), always, never */
	bool debug_unlogged; /* report each page the log missed to the client ("unlogged ..." lines) */
};
int migrate_params_parse(const char *args, struct migrate_params *p, char *err, size_t errlen);

struct kvm;
/* Control-socket handler for 'lkvm migrate' (VM main thread): migrate over the connected socket `out`. */
void migrate_serve(struct kvm *kvm, int ctl, int out, const char *args);
/* 'lkvm migrate' */
int cmd_migrate(int argc, const char **argv);

#endif
