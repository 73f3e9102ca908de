/* The VM side of the metrics: open the endpoint early, start its sandboxed thread, KVM stats fds, clean up. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "kvm/metrics.h"
#include "kvm/sandbox.h"
#include "kvm/thread.h"

static struct metrics *metrics_of(struct kvm *kvm)
{
	if (!kvm->metrics) {
		kvm->metrics = calloc(1, sizeof(*kvm->metrics));
		if (!kvm->metrics)
			die("out of memory");
		kvm->metrics->kvm = kvm;
		kvm->metrics->srv.lfd = -1;
	}
	return kvm->metrics;
}

void metrics_listen(struct kvm *kvm, const char *spec)
{
	struct metrics *m = metrics_of(kvm);
	char err[400];
	int fd;

	if (metrics_addr_parse(spec, &m->addr, err, sizeof(err)))
		die("%s", err);
	/* a restore may start while the VM it replaces still serves there: give it kvm->ctl_wait_ms to leave */
	for (unsigned int waited = 0;; waited += 100) {
		fd = metrics_listen_addr(&m->addr, &m->sock_dev, &m->sock_ino, err, sizeof(err));
		if (fd >= 0)
			break;
		if (fd != -2 || waited >= kvm->ctl_wait_ms)
			die("%s", err);
		usleep(100 * 1000);
	}
	if (metrics_server_init(&m->srv, fd, metrics_render, m))
		die("--metrics %s: out of memory", m->addr.text);
	m->listening = true;
}

/* Seconds since the epoch when this process started: its start in ticks after boot (/proc/self/stat field 22) plus
 * the boot time (/proc/stat btime); now when either cannot be read. */
static u64 process_start_ns(void)
{
	char buf[1024], *p;
	unsigned long long start_ticks = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec now;
	FILE *f;
	int field = 2;

	clock_gettime(CLOCK_REALTIME, &now);
	f = fopen("/proc/self/stat", "re");
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		p = strrchr(buf, ')'); /* the command name may hold spaces: fields count from after it */
		for (; p && *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (p && field == 22)
			start_ticks = strtoull(p, NULL, 10);
	}
	f = fopen("/proc/stat", "re");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "btime %llu", &btime) == 1)
				break;
		fclose(f);
	}
	if (!start_ticks || !btime || hz <= 0)
		return (u64)now.tv_sec * 1000000000ULL + (u64)now.tv_nsec;
	return (u64)btime * 1000000000ULL + (u64)start_ticks * (1000000000ULL / (u64)hz);
}

static void *metrics_thread(void *arg)
{
	struct metrics *m = arg;
	int r;

	pthread_setname_np(pthread_self(), "lkvm-metrics");
	r = sandbox_enter(SANDBOX_METRICS, kvm_sandbox_mode(m->kvm));
	if (r)
		die("the metrics thread cannot install its seccomp filter: %s (--no-seccomp runs without)", strerror(-r));
	while (!__atomic_load_n(&m->srv.stop, __ATOMIC_ACQUIRE))
		metrics_server_poll(&m->srv, -1);
	return NULL;
}

void metrics_start(struct kvm *kvm)
{
	struct metrics *m = metrics_of(kvm);
	int r;

	m->start_time_ns = process_start_ns();
	m->kstats = calloc(kvm->nr_cpus, sizeof(*m->kstats));
	m->vs = calloc(kvm->nr_cpus, sizeof(*m->vs));
	if (!m->kstats || !m->vs)
		die("out of memory");
	/* KVM's own exit counters: the fds are opened now, before any sandbox; reading them is a pread */
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		kvm_stats_open(kvm->cpus[i]->fd, &m->kstats[i]);
	if (kvm->nr_cpus && m->kstats[0].fd < 0)
		pr_debug("KVM_GET_STATS_FD is not available: exits handled inside KVM are not exported");
	if (!m->listening)
		return;
	r = lkvm_thread_start(&m->thread, metrics_thread, m); /* signals stay the main thread's */
	if (r)
		die("cannot start the metrics thread: %s", strerror(-r));
	m->thread_started = true;
	if (m->addr.family == AF_UNIX)
		pr_info("metrics: serving GET /metrics on the unix socket %s", m->addr.text + 5);
	else
		pr_info("metrics: serving http://%s/metrics", m->addr.text + 4);
}

void metrics_cleanup(struct kvm *kvm)
{
	struct metrics *m = kvm->metrics;
	struct stat st;

	if (!m || !m->listening)
		return;
	if (m->addr.family == AF_UNIX) {
		const char *path = ((const struct sockaddr_un *)&m->addr.sa)->sun_path;
		/* only our own socket: a restored successor may already serve at that path */
		if (stat(path, &st) == 0 && st.st_dev == m->sock_dev && st.st_ino == m->sock_ino)
			unlink(path);
	}
	m->listening = false;
}
