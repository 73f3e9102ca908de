/* Control socket server: one request line per connection, answered from the VM's state. */
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

#include "kvm/control.h"
#include "kvm/debug-dump.h"
#include "kvm/gdb.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/metrics.h"
#include "kvm/migrate.h"
#include "kvm/ram.h"
#include "kvm/snapshot.h"
#include "kvm/virtio-net.h"

static u64 now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static u64 elapsed_ns(struct kvm *kvm)
{
	return now_ns() - ((u64)kvm->start_time.tv_sec * 1000000000ULL + (u64)kvm->start_time.tv_nsec);
}

/* Host-side scheduler run delay (ns spent runnable but not running) of a vCPU thread. */
static int vcpu_run_delay(struct kvm_cpu *cpu, u64 *ns)
{
	char path[64], buf[128];
	unsigned long long run, delay;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)cpu->tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%llu %llu", &run, &delay) == 2;
	fclose(f);
	if (!ok)
		return -1;
	*ns = delay;
	return 0;
}

static int cmd_info(struct kvm *kvm, FILE *out)
{
	struct ram_usage u;
	bool have_usage = guest_ram_usage(&kvm->ram, &u) == 0;

	fprintf(out, "name=%s pid=%d cpus=%u mem_mib=%llu state=%s pvtime=%s elapsed_ns=%llu ram=%s", kvm->name,
		(int)getpid(), kvm->nr_cpus, (unsigned long long)kvm->cfg.ram_mib,
		kvm_is_stopping(kvm) ? "stopping" : kvm_is_paused(kvm) ? "paused" : "running", kvm->arch.pvtime ? "on" : "off",
		(unsigned long long)elapsed_ns(kvm), guest_ram_backing_name(&kvm->ram));
	if (have_usage)
		fprintf(out, " ram_rss_kib=%llu ram_huge_kib=%llu", (unsigned long long)u.rss_kib,
			(unsigned long long)u.huge_kib);
	fprintf(out, " ram_addr=0x%lx", (unsigned long)kvm->ram.host);
	/* each NIC's back-end and link: "net0=user:up", "net1=tap:down" (a passt that died shows here) */
	for (unsigned int i = 0, nic = 0; i < kvm->virtio_slots; i++) {
		struct virtio_dev *vd = kvm->virtio[i];
		struct virtio_net *n = vd->priv;
		if (vd->ops->device_id != VIRTIO_ID_NET)
			continue;
		fprintf(out, " net%u=%s:%s", nic++, n->be->ops->name, virtio_net_link_up(n) ? "up" : "down");
	}
	fputc('\n', out);
	return 0;
}

static int cmd_steal(struct kvm *kvm, FILE *out)
{
	u64 el = elapsed_ns(kvm);

	if (!kvm->arch.pvtime) {
		fprintf(out, "error: stolen time is off for VM %s (start it with --pvtime on a host that supports it)\n",
			kvm->name);
		return -1;
	}
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		u64 stolen = 0, delay = 0;
		int have_delay = vcpu_run_delay(kvm->cpus[i], &delay) == 0;
		pvtime_read_stolen(kvm, i, &stolen);
		fprintf(out, "vcpu=%u stolen_ns=%llu elapsed_ns=%llu run_delay_ns=%s%llu tid=%d\n", i,
			(unsigned long long)stolen, (unsigned long long)el, have_delay ? "" : "-",
			(unsigned long long)(have_delay ? delay : 1), (int)kvm->cpus[i]->tid);
	}
	return 0;
}

static int cmd_stop(struct kvm *kvm, FILE *out)
{
	(void)out;
	pr_info("stop requested through the control socket");
	kvm_request_stop(kvm, 0);
	return 0;
}

static int cmd_pause(struct kvm *kvm, FILE *out)
{
	(void)out;
	kvm_pause(kvm);
	pr_info("VM %s paused", kvm->name);
	return 0;
}

static int cmd_resume(struct kvm *kvm, FILE *out)
{
	(void)out;
	kvm_resume(kvm);
	pr_info("VM %s resumed", kvm->name);
	return 0;
}

static int (*const handlers[])(struct kvm *kvm, FILE *out) = {
	[CONTROL_INFO] = cmd_info, [CONTROL_STEAL] = cmd_steal, [CONTROL_STOP] = cmd_stop,
	[CONTROL_PAUSE] = cmd_pause, [CONTROL_RESUME] = cmd_resume, [CONTROL_SAMPLE] = metrics_control_sample,
};

void control_listen(struct kvm *kvm)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[300];
	struct stat st;
	int fd;
	mode_t old;

	if (control_path(kvm->name, kvm->ctl_path, sizeof(kvm->ctl_path), true, err, sizeof(err)))
		die("%s", err);
	memcpy(sa.sun_path, kvm->ctl_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_perror("socket");
	/* A restore may race the saved VM's exit during a migration: give it kvm->ctl_wait_ms to leave. */
	for (unsigned int waited = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0; waited += 100) {
		close(fd);
		if (waited >= kvm->ctl_wait_ms)
			die("a VM named %s is already running (socket %s is in use); pick another --name", kvm->name,
			    kvm->ctl_path);
		usleep(100 * 1000);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die_perror("socket");
	}
	if (errno == ECONNREFUSED) {
		/* A stale socket from an lkvm that was killed: take the name over. Anything else is not ours. */
		if (lstat(kvm->ctl_path, &st) == 0 && !S_ISSOCK(st.st_mode))
			die("%s exists and is not a socket; remove it or pick another --name", kvm->ctl_path);
		unlink(kvm->ctl_path);
	}
	close(fd);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die_perror("socket");
	old = umask(0177); /* the socket is created 0600 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		die("cannot create control socket %s: %s", kvm->ctl_path, strerror(errno));
	}
	umask(old);
	if (listen(fd, 8) < 0)
		die_perror("listen");
	if (stat(kvm->ctl_path, &st) == 0) {
		kvm->ctl_dev = st.st_dev;
		kvm->ctl_ino = st.st_ino;
	}
	kvm->ctl_fd = fd;
}

/* One byte of the request; the first may carry a file descriptor (SCM_RIGHTS), kept in *passed. */
static ssize_t read_byte_fd(int c, char *byte, int *passed)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t r = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);

	if (r > 0)
		control_take_fds(&msg, passed); /* one descriptor per request at most: others are closed */
	return r;
}

/* A descriptor the save client passed: it must be a regular file we may write. */
static bool writable_file(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fl >= 0 && (fl & O_ACCMODE) != O_RDONLY;
}

void control_serve_one(struct kvm *kvm)
{
	struct timeval tv = { .tv_sec = 2 };
	char line[CONTROL_MAX_LINE];
	struct control_request req;
	size_t n = 0;
	FILE *out;
	int c = accept4(kvm->ctl_fd, NULL, NULL, SOCK_CLOEXEC), passed = -1;

	if (c < 0)
		return;
	/* The listening socket is non-blocking; the accepted one must block, with a timeout. */
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	out = fdopen(c, "w");
	if (!out) {
		close(c);
		return;
	}
	fprintf(out, "%s %s\n", CONTROL_GREETING, kvm->name);
	fflush(out);
	while (n < sizeof(line) - 1) {
		ssize_t r = read_byte_fd(c, line + n, &passed);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	control_parse_request(line, &req);
	if (kvm->migrating && req.refused_while_migrating) {
		/* answered from inside the migration's loop: nothing may pause, resume or save the VM meanwhile */
		fprintf(out, "error: VM %s is being migrated; try again when 'lkvm migrate' has finished\n", kvm->name);
		fclose(out);
		if (passed >= 0)
			close(passed);
		return;
	}
	if (gdb_attached(kvm) && (req.op == CONTROL_MIGRATE || req.op == CONTROL_SAVE || req.op == CONTROL_SAVE_FILE ||
				  req.op == CONTROL_PAUSE)) {
		fprintf(out, "error: VM %s has a debugger attached (--gdb); detach it first\n", kvm->name);
		fclose(out);
		if (passed >= 0)
			close(passed);
		return;
	}
	if (req.op == CONTROL_DEBUG) {
		if (passed >= 0)
			close(passed);
		if (debug_dump(kvm, req.args, req.stop, out) == 0)
			fprintf(out, "ok\n");
		fclose(out);
		return;
	}
	if (req.op == CONTROL_MIGRATE) {
		struct stat st;
		if (passed < 0 || fstat(passed, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			fprintf(out, "error: migrate needs the connection to the destination, passed with the request\n");
		} else {
			fflush(out);
			migrate_serve(kvm, c, passed, req.args);
		}
		fclose(out);
		if (passed >= 0)
			close(passed);
		return;
	}
	if (req.op == CONTROL_SAVE) {
		fflush(out);
		snapshot_serve(kvm, c, req.stop, -1);
		fclose(out);
		if (passed >= 0)
			close(passed);
		return;
	}
	if (req.op == CONTROL_SAVE_FILE) {
		if (!writable_file(passed)) {
			fprintf(out, "error: save-file needs a regular file opened for writing, passed with the request\n");
		} else {
			fflush(out);
			snapshot_serve(kvm, c, req.stop, passed);
		}
		fclose(out);
		if (passed >= 0)
			close(passed);
		return;
	}
	if (passed >= 0)
		close(passed);
	if (req.op < ARRAY_SIZE(handlers) && handlers[req.op]) {
		if (handlers[req.op](kvm, out) == 0)
			fprintf(out, "ok\n");
		fclose(out);
		return;
	}
	fprintf(out, "error: unknown request '%.60s'\n", line);
	fclose(out);
}

void control_cleanup(struct kvm *kvm)
{
	struct stat st;

	if (kvm->ctl_fd >= 0) {
		/*
		 * Only our own socket: a restored successor may already have taken the name. Unlinked while we still
		 * listen: a successor takes the path over only once a connect is refused, so between our check and our
		 * unlink it cannot have put its own socket there (closing first let us remove the successor's).
		 */
		if (stat(kvm->ctl_path, &st) == 0 && st.st_dev == kvm->ctl_dev && st.st_ino == kvm->ctl_ino)
			unlink(kvm->ctl_path);
		close(kvm->ctl_fd);
		kvm->ctl_fd = -1;
	}
}
