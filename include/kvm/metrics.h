/* A VM's live metrics: the --metrics endpoint (its own thread and sandbox), and the samples 'lkvm top' and 'stat --watch' read. */
#ifndef KVM_METRICS_H
#define KVM_METRICS_H

#include <pthread.h>
#include <stdio.h>
#include <sys/types.h>

#include "kvm/kvm-cpu.h"
#include "kvm/kvm-stats.h"
#include "kvm/metrics-server.h"
#include "kvm/migrate.h"

struct kvm;

/* One vCPU's figures at one moment (every field 0 and its have_ flag false when it could not be read). */
struct vcpu_sample {
	bool have_stolen, have_sched, have_guest, have_kvm;
	u64 stolen_ns;           /* the PV-time record (the guest's view of steal) */
	u64 cpu_ns, delay_ns;    /* schedstat of the vCPU thread: on a host CPU / runnable but waiting (host run delay) */
	u64 guest_ns;            /* /proc/.../stat guest_time: running guest code (tick resolution) */
	u64 kvm[KSTAT_NR];       /* KVM's binary stats (exits it handles itself) */
	u64 user_exits[VCPU_EXIT_NR]; /* exits that came to lkvm (cpu->stats) */
};

struct metrics {
	struct kvm *kvm;
	struct kvm_stats *kstats; /* per vCPU; fd -1 where the host has none */
	u64 start_time_ns;        /* when this lkvm process started (CLOCK_REALTIME) */
	/* the endpoint (--metrics) */
	bool listening;
	struct migrate_addr addr;
	dev_t sock_dev; /* unix: our socket file, so that only ours is removed */
	ino_t sock_ino;
	struct metrics_server srv;
	pthread_t thread;
	bool thread_started;
	struct vcpu_sample *vs; /* the metrics thread's per-vCPU scratch */
};

/* --metrics unix:PATH | tcp:[ADDR:]PORT (ADDR default 127.0.0.1): 0, or -1 with a one-line reason. */
int metrics_addr_parse(const char *spec, struct migrate_addr *a, char *err, size_t errlen);
/*
 * Listen on a (unix: a live socket there is refused, a stale one replaced, created 0660). The fd, or -1 with
 * err (-2 when another process has the address); for unix, *dev and *ino identify the socket file created.
 */
int metrics_listen_addr(const struct migrate_addr *a, dev_t *dev, ino_t *ino, char *err, size_t errlen);

/* Early, before the guest is built (run, restore): open the --metrics endpoint; dies with one line on failure. */
void metrics_listen(struct kvm *kvm, const char *spec);
/* In kvm_run_vm() once the vCPUs exist and before the sandboxes: KVM stats fds, and the endpoint's thread. */
void metrics_start(struct kvm *kvm);
/* On the way out: remove our unix socket. */
void metrics_cleanup(struct kvm *kvm);

/* Read vCPU i's figures (any thread). */
void metrics_sample_vcpu(struct kvm *kvm, unsigned int i, struct vcpu_sample *s);
/* The whole exposition in w's format (the endpoint's render callback; ctx is the struct metrics). */
int metrics_render(void *ctx, struct mtext *w);
/* The control socket's "sample" request: one VM line and one line per vCPU (key=value), for top and stat --watch. */
int metrics_control_sample(struct kvm *kvm, FILE *out);

/* Front-ends (metrics/top.c, metrics/watch.c). */
int cmd_top(int argc, const char **argv);
int metrics_watch(const char *name, double interval_s, bool ascii, bool json);

#endif
