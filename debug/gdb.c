/* The gdb stub's thread and vCPU control: one debugger connection, all-stop through the vCPU hooks. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gdb-int.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/metrics.h"
#include "kvm/sandbox.h"
#include "kvm/thread.h"

/* ---- the vCPU side (kvm->vcpu_hooks), on each vCPU's own thread ---- */

static void apply_debug(struct gdb *g, struct kvm_cpu *cpu)
{
	struct kvm_guest_debug dbg;
	u32 gen;

	pthread_mutex_lock(&cpu->kvm->pause_lock);
	gen = g->dbg_gen;
	if (g->applied_gen[cpu->id] == gen) {
		pthread_mutex_unlock(&cpu->kvm->pause_lock);
		return;
	}
	memset(&dbg, 0, sizeof(dbg));
	if (g->dbg_on) {
		dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
		if (g->step[cpu->id])
			dbg.control |= KVM_GUESTDBG_SINGLESTEP;
		for (unsigned int i = 0; i < GDB_MAX_HW; i++)
			if (g->hwregs.dbg_bcr[i] || g->hwregs.dbg_wcr[i])
				dbg.control |= KVM_GUESTDBG_USE_HW;
		dbg.arch = g->hwregs;
	}
	g->applied_gen[cpu->id] = gen;
	pthread_mutex_unlock(&cpu->kvm->pause_lock);
	if (ioctl(cpu->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		pr_warn("vCPU %u: KVM_SET_GUEST_DEBUG: %s", cpu->id, strerror(errno));
}

static void hook_before_run(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	struct gdb *g = kvm->gdb;

	bool held;

	/* the fast path of every exit while nobody debugs: running, and the debug state applied. Unlocked reads are
	 * safe: the stub changes these under the lock and then kicks, so a stale read ends KVM_RUN at once and the
	 * vCPU comes back here */
	if (__atomic_load_n(&g->go[cpu->id], __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&g->applied_gen[cpu->id], __ATOMIC_ACQUIRE) == __atomic_load_n(&g->dbg_gen, __ATOMIC_ACQUIRE))
		return;
	do {
		pthread_mutex_lock(&kvm->pause_lock);
		held = !g->go[cpu->id] && !kvm_is_stopping(kvm);
		if (held) {
			g->held++;
			pthread_cond_broadcast(&kvm->pause_cond);
			while (!g->go[cpu->id] && !kvm_is_stopping(kvm))
				pthread_cond_wait(&kvm->pause_cond, &kvm->pause_lock);
			g->held--;
		}
		pthread_mutex_unlock(&kvm->pause_lock);
		if (!held)
			break;
		/* the kick that stopped us may have left immediate_exit set: drop it, then look again, so that a stop
		 * asked after this point (go cleared, then a kick) is still seen */
		__atomic_store_n(&cpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	} while (!__atomic_load_n(&g->go[cpu->id], __ATOMIC_SEQ_CST));
	apply_debug(g, cpu);
}

/* A KVM_EXIT_DEBUG: note why (the first stop wins), hold every vCPU, wake the gdb thread. */
static bool hook_handle_debug(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	struct gdb *g = kvm->gdb;
	u32 ec = (u32)(cpu->run->debug.arch.hsr >> 26) & 0x3f;
	u64 one = 1;
	bool ours;

	pthread_mutex_lock(&kvm->pause_lock);
	ours = g->dbg_on;
	if (ours && !g->stop_pending) {
		g->stop_pending = true;
		g->stop_cpu = cpu->id;
		g->stop_kind = (ec == 0x34 || ec == 0x35) ? STOP_WATCH : STOP_TRAP;
		g->stop_addr = cpu->run->debug.arch.far;
	}
	if (ours)
		for (unsigned int i = 0; i < kvm->nr_cpus; i++)
			g->go[i] = false;
	pthread_mutex_unlock(&kvm->pause_lock);
	if (!ours)
		return true; /* a step or breakpoint that raced a detach: the vCPU runs on without debugging */
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		if (i != cpu->id) /* this one holds in before_run right away: no extra KVM_RUN round for it */
			kvm_cpu_kick(kvm->cpus[i]);
	if (write(g->wake_fd, &one, sizeof(one)) < 0)
		pr_debug("gdb: wake: %s", strerror(errno));
	return true;
}

static const struct kvm_cpu_hooks gdb_hooks = {
	.before_run = hook_before_run,
	.handle_debug = hook_handle_debug,
};

/* ---- run control, on the gdb thread ---- */

void gdb_stop_all(struct gdb *g)
{
	struct kvm *kvm = g->kvm;

	pthread_mutex_lock(&kvm->pause_lock);
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		g->go[i] = false;
	kvm_cpu_kick_wait(kvm, &g->held);
	pthread_mutex_unlock(&kvm->pause_lock);
}

void gdb_debug_changed(struct gdb *g)
{
	pthread_mutex_lock(&g->kvm->pause_lock);
	g->dbg_gen++;
	pthread_mutex_unlock(&g->kvm->pause_lock);
}

void gdb_resume(struct gdb *g, int step_cpu, bool others_go)
{
	struct kvm *kvm = g->kvm;

	pthread_mutex_lock(&kvm->pause_lock);
	g->stop_pending = false;
	g->stop_kind = STOP_NONE;
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		bool me = (int)i == step_cpu;
		if (g->step[i] != me)
			g->dbg_gen++;
		g->step[i] = me;
		g->go[i] = me || step_cpu < 0 || others_go;
	}
	g->running = true;
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
}

/* ---- the connection ---- */

static void send_raw(struct gdb *g, const char *buf, size_t len)
{
	while (len && g->cfd >= 0) {
		ssize_t n = send(g->cfd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the reader sees the closed socket */
		buf += n;
		len -= (size_t)n;
	}
}

void gdb_send(struct gdb *g, const char *payload)
{
	size_t len = strlen(payload), n = gdb_frame(payload, len, true, g->last, 2 * GDB_PACKET_MAX + 16);

	if (!n) {
		n = gdb_frame("E01", 3, false, g->last, 2 * GDB_PACKET_MAX + 16);
		pr_warn("gdb: a reply did not fit the packet size; sent an error");
	}
	g->last_len = n;
	send_raw(g, g->last, n);
}

void gdb_detach(struct gdb *g)
{
	struct kvm *kvm = g->kvm;

	gdb_remove_all_bps(g);
	pthread_mutex_lock(&kvm->pause_lock);
	g->dbg_on = false;
	memset(&g->hwregs, 0, sizeof(g->hwregs));
	memset(g->hw_bp, 0, sizeof(g->hw_bp));
	memset(g->hw_wp, 0, sizeof(g->hw_wp));
	g->dbg_gen++;
	g->stop_pending = false;
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		g->step[i] = false;
		g->go[i] = true;
	}
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
	if (g->cfd >= 0)
		close(g->cfd);
	g->cfd = -1;
	__atomic_store_n(&g->attached, false, __ATOMIC_RELEASE);
	g->running = false;
	g->wait = false;
	pr_info("gdb: debugger detached; the guest runs on");
}

static void attach(struct gdb *g, int fd)
{
	struct kvm *kvm = g->kvm;
	int one = 1;

	if (g->cfd >= 0) {
		static const char busy[] = "$E.lkvm: another debugger is attached#00";
		send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		pr_warn("gdb: refused a second debugger connection (one at a time)");
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->cfd = fd;
	g->noack = false;
	g->g_cpu = g->c_cpu = 0;
	gdb_rx_init(&g->rx);
	gdb_stop_all(g);
	pthread_mutex_lock(&kvm->pause_lock);
	g->dbg_on = true;
	g->dbg_gen++;
	g->stop_pending = false;
	g->stop_kind = STOP_INT;
	pthread_mutex_unlock(&kvm->pause_lock);
	g->running = false;
	__atomic_store_n(&g->attached, true, __ATOMIC_RELEASE);
	pr_info("gdb: debugger attached; the guest is stopped");
}

/* The guest stopped on its own (breakpoint, step, watchpoint): hold everyone and tell the debugger. */
static void report_stop(struct gdb *g)
{
	char reply[128];

	gdb_stop_all(g);
	g->running = false;
	gdb_stop_reply(g, reply, sizeof(reply));
	gdb_send(g, reply);
}

static void client_input(struct gdb *g)
{
	char buf[4096];
	ssize_t n = recv(g->cfd, buf, sizeof(buf), 0);

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		gdb_detach(g);
		return;
	}
	for (ssize_t i = 0; i < n && g->cfd >= 0; i++) {
		switch (gdb_rx_feed(&g->rx, (u8)buf[i])) {
		case GDB_RX_PACKET:
			if (!g->noack)
				send_raw(g, "+", 1);
			if (g->running) {
				/* all-stop: only Ctrl-C is expected while the guest runs */
				gdb_send(g, "E.the guest is running; interrupt it first");
				break;
			}
			gdb_handle_packet(g, g->rx.buf, g->rx.len);
			break;
		case GDB_RX_BADSUM:
			if (!g->noack)
				send_raw(g, "-", 1);
			break;
		case GDB_RX_OVERSIZE:
			if (!g->noack)
				send_raw(g, "+", 1);
			gdb_send(g, "E.packet too long");
			break;
		case GDB_RX_INTERRUPT:
			if (g->running) {
				pthread_mutex_lock(&g->kvm->pause_lock);
				if (!g->stop_pending) {
					g->stop_pending = true;
					g->stop_kind = STOP_INT;
					g->stop_cpu = g->g_cpu;
				}
				pthread_mutex_unlock(&g->kvm->pause_lock);
				report_stop(g);
			}
			break;
		case GDB_RX_NAK:
			if (g->last_len)
				send_raw(g, g->last, g->last_len);
			break;
		default:
			break;
		}
	}
}

static void *gdb_thread(void *arg)
{
	struct gdb *g = arg;
	struct kvm *kvm = g->kvm;
	int r;

	pthread_setname_np(pthread_self(), "lkvm-gdb");
	r = sandbox_enter(SANDBOX_GDB, kvm_sandbox_mode(kvm));
	if (r)
		die("the gdb thread cannot install its seccomp filter: %s (--no-seccomp runs without)", strerror(-r));
	while (!__atomic_load_n(&g->quit, __ATOMIC_ACQUIRE)) {
		struct pollfd p[3] = {
			{ .fd = g->lfd, .events = POLLIN },
			{ .fd = g->cfd, .events = POLLIN },
			{ .fd = g->wake_fd, .events = POLLIN },
		};
		bool pending;

		if (kvm_is_stopping(kvm))
			break;
		if (poll(p, 3, 200) < 0 && errno != EINTR)
			break;
		if (p[2].revents & POLLIN) {
			u64 v;
			if (read(g->wake_fd, &v, sizeof(v)) < 0)
				pr_debug("gdb: wake read: %s", strerror(errno));
		}
		pthread_mutex_lock(&kvm->pause_lock);
		pending = g->stop_pending;
		pthread_mutex_unlock(&kvm->pause_lock);
		if (g->cfd >= 0 && g->running && pending && !kvm_is_stopping(kvm))
			report_stop(g);
		if (p[0].revents & POLLIN) {
			int fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				attach(g, fd);
		}
		if (g->cfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			client_input(g);
	}
	return NULL;
}

void gdb_setup(struct kvm *kvm, const char *spec, bool wait)
{
	struct gdb *g = calloc(1, sizeof(*g));
	char err[400];
	int fd;

	if (!g)
		die("out of memory");
	if (gdb_addr_parse(spec, &g->addr, err, sizeof(err)))
		die("%s", err);
	for (unsigned int waited = 0;; waited += 100) {
		fd = metrics_listen_addr(&g->addr, &g->sock_dev, &g->sock_ino, err, sizeof(err));
		if (fd >= 0)
			break;
		if (fd != -2 || waited >= kvm->ctl_wait_ms) {
			if (!strncmp(err, "--metrics", 9))
				die("--gdb%s", err + 9);
			die("%s", err);
		}
		usleep(100 * 1000);
	}
	g->kvm = kvm;
	g->lfd = fd;
	g->cfd = -1;
	g->wait = wait;
	g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g->last = malloc(2 * GDB_PACKET_MAX + 16);
	if (g->wake_fd < 0 || !g->last)
		die("gdb: cannot set up: %s", strerror(errno));
	kvm->gdb = g;
}

void gdb_start(struct kvm *kvm)
{
	struct gdb *g = kvm->gdb;
	int r;

	if (!g)
		return;
	g->go = calloc(kvm->nr_cpus, sizeof(*g->go));
	g->step = calloc(kvm->nr_cpus, sizeof(*g->step));
	g->applied_gen = calloc(kvm->nr_cpus, sizeof(*g->applied_gen));
	if (!g->go || !g->step || !g->applied_gen)
		die("out of memory");
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		g->go[i] = !g->wait;
	r = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_DEBUG_HW_BPS);
	g->max_hw_bp = r > 0 ? (r > GDB_MAX_HW ? GDB_MAX_HW : (unsigned int)r) : 0;
	r = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_DEBUG_HW_WPS);
	g->max_hw_wp = r > 0 ? (r > GDB_MAX_HW ? GDB_MAX_HW : (unsigned int)r) : 0;
	__atomic_store_n(&kvm->vcpu_hooks, &gdb_hooks, __ATOMIC_RELEASE);
	r = lkvm_thread_start(&g->thread, gdb_thread, g);
	if (r)
		die("cannot start the gdb thread: %s", strerror(-r));
	g->thread_started = true;
	if (g->addr.family == AF_UNIX)
		pr_info("gdb: listening on the unix socket %s%s", g->addr.text + 5,
			g->wait ? "; the guest waits for a debugger" : "");
	else
		pr_info("gdb: listening on %s (target remote %s)%s", g->addr.text + 4, g->addr.text + 4,
			g->wait ? "; the guest waits for a debugger" : "");
}

void gdb_cleanup(struct kvm *kvm)
{
	struct gdb *g = kvm->gdb;
	struct stat st;
	u64 one = 1;

	if (!g)
		return;
	if (g->thread_started) {
		__atomic_store_n(&g->quit, true, __ATOMIC_RELEASE);
		if (write(g->wake_fd, &one, sizeof(one)) < 0)
			pr_debug("gdb: wake: %s", strerror(errno));
		pthread_join(g->thread, NULL);
		g->thread_started = false;
	}
	if (g->cfd >= 0) {
		char reply[8];
		snprintf(reply, sizeof(reply), "W%02x", kvm->exit_code & 0xff);
		gdb_send(g, reply); /* the debugger learns the guest is gone */
		gdb_remove_all_bps(g);
		close(g->cfd);
		g->cfd = -1;
	}
	if (g->addr.family == AF_UNIX) { /* unlinked before the close, as control_cleanup() does (a successor's path) */
		const char *path = ((const struct sockaddr_un *)&g->addr.sa)->sun_path;
		if (stat(path, &st) == 0 && st.st_dev == g->sock_dev && st.st_ino == g->sock_ino)
			unlink(path);
	}
	close(g->lfd);
}

bool gdb_attached(struct kvm *kvm)
{
	return kvm->gdb && __atomic_load_n(&kvm->gdb->attached, __ATOMIC_ACQUIRE);
}
