/* 'lkvm run -- CMD' set-up and result: the kernel, the initramfs with the request, the shares, the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "kvm/host-kernel.h"
#include "kvm/initramfs.h"
#include "kvm/modset.h"
#include "kvm/runcmd-spec.h"
#include "runcmd-int.h"

/* The release of a kernel file (gzip or not) from its banner, reading at most 64 MiB. */
static void file_release(const char *path, char *out, size_t outlen)
{
	enum { CHUNK = 1 << 20, OVERLAP = 256 };
	u8 *buf = malloc(CHUNK + OVERLAP);
	gzFile gz = buf ? gzopen(path, "rb") : NULL;
	size_t keep = 0;

	out[0] = '\0';
	for (int i = 0; gz && i < 64 && !out[0]; i++) {
		int n = gzread(gz, buf + keep, CHUNK);
		size_t total;
		if (n <= 0)
			break;
		total = keep + (size_t)n;
		runcmd_image_release(buf, total, out, outlen);
		keep = total < OVERLAP ? total : OVERLAP; /* a banner cut at the chunk's end is found in the next one */
		memmove(buf, buf + total - keep, keep);
	}
	if (gz)
		gzclose(gz);
	free(buf);
}

/* The kernel to boot and its release (whose modules go into the initramfs). */
static void pick_kernel(struct kvm *kvm, char *release, size_t rlen, char *moddir, size_t mlen)
{
	struct kvm_config *cfg = &kvm->cfg;
	const char *kdir = cfg->run.kdir;
	char path[600], err[1024];
	struct utsname u;
	struct stat st;
	FILE *f;

	release[0] = '\0';
	if (kdir) {
		if (cfg->kernel)
			die("-k %s and --kdir %s both name a kernel; give one of them", cfg->kernel, kdir);
		if (stat(kdir, &st) || !S_ISDIR(st.st_mode))
			die("--kdir %s: no such directory; give a kernel build tree", kdir);
		snprintf(path, sizeof(path), "%s/arch/arm64/boot/Image", kdir);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			die("--kdir %s: no arch/arm64/boot/Image in it; build the kernel there first (make Image modules)", kdir);
		{
			u8 hdr[64];
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr) || memcmp(hdr + 0x38, "ARM\x64", 4))
				die("--kdir %s: arch/arm64/boot/Image is not an arm64 kernel Image (no ARM\\x64 magic); rebuild "
				    "it (make Image)", kdir);
			close(fd);
		}
		if (!(cfg->kernel = strdup(path)))
			die("out of memory");
		snprintf(path, sizeof(path), "%s/include/config/kernel.release", kdir);
		if ((f = fopen(path, "r"))) {
			if (fgets(release, (int)rlen, f))
				release[strcspn(release, "\n")] = '\0';
			fclose(f);
		}
		if (!release[0])
			file_release(cfg->kernel, release, rlen);
		snprintf(moddir, mlen, "%s", kdir);
		return;
	}
	if (uname(&u) < 0)
		die("uname() failed: %s", strerror(errno));
	if (!cfg->kernel) {
		if (host_kernel_find("/boot", u.release, path, sizeof(path), err, sizeof(err)))
			die("%s", err);
		if (!(cfg->kernel = strdup(path)))
			die("out of memory");
		snprintf(release, rlen, "%s", u.release);
	} else {
		if (access(cfg->kernel, R_OK))
			die("Unable to open kernel %s", cfg->kernel); /* kvmtool's words */
		file_release(cfg->kernel, release, rlen);
	}
	/* a -k kernel whose banner names no release: no modules (everything it needs must be built in) */
	if (release[0])
		snprintf(moddir, mlen, "/lib/modules/%s", release);
	else
		moddir[0] = '\0';
}

/* The modules the guest init needs, into c, and the load order; a kernel without a module directory gets none. */
static void add_modules(struct kvm *kvm, struct cpio *c, const char *moddir, const char *release)
{
	const struct kvm_config *cfg = &kvm->cfg;
	const char *want[] = { cfg->virtio_transport == VIRTIO_TRANSPORT_MMIO ? "virtio_mmio" : "virtio_pci",
			       "virtio_console", "9pnet_virtio", "9p", cfg->run.rw ? NULL : "overlay" };
	const char *why[] = { "its virtio devices", "the command's channels (virtio-console)",
			      "the host's files (9p over virtio)", "the host's files (9p)",
			      "the copy-on-write root (overlayfs; --rw runs without it)" };
	char err[1024];
	struct modset ms;
	struct stat st;

	if (!cfg->run.kdir && (!moddir[0] || stat(moddir, &st) != 0))
		return; /* e.g. a -k kernel with everything built in; the guest says what it misses */
	if (modset_open(&ms, moddir, release[0] ? release : "?", cfg->run.kdir != NULL, err, sizeof(err)))
		die("%s", err);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		int r = want[i] ? modset_add(&ms, c, want[i], err, sizeof(err)) : 0;
		if (r)
			die("%s: lkvm needs it for %s", err, why[i]);
	}
	cpio_add(c, "lkvm/modules", S_IFREG | 0644, ms.list ? ms.list : "", ms.list_len, 0, 0);
	if (cfg->run.kdir) {
		/* /lib/modules/RELEASE in the guest: build -> the tree, a modules.dep naming its modules under build/ */
		size_t len;
		char *dep = modset_depfile(&ms, "build/", &len, err, sizeof(err));
		if (!dep)
			die("--kdir %s: %s", cfg->run.kdir, err);
		cpio_add(c, "lkvm/kdir", S_IFDIR | 0755, NULL, 0, 0, 0);
		cpio_add(c, "lkvm/kdir/modules.dep", S_IFREG | 0644, dep, len, 0, 0);
		if (ms.builtin)
			cpio_add(c, "lkvm/kdir/modules.builtin", S_IFREG | 0644, ms.builtin, strlen(ms.builtin), 0, 0);
		free(dep);
	}
	modset_close(&ms);
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

/* Is the build tree under /tmp or /run, which the guest replaces with its own tmpfs? */
static bool kdir_hidden(const char *kdir)
{
	char *abs = kdir ? realpath(kdir, NULL) : NULL;
	bool hidden = abs && (!strncmp(abs, "/tmp/", 5) || !strncmp(abs, "/run/", 5));

	free(abs);
	return hidden;
}

/* The request for the guest init: the command, who runs it, where, with what. */
static void make_spec(struct kvm *kvm, struct spec_buf *b, const char *cwd, bool cwd_shared)
{
	const struct runcmd_config *r = &kvm->cfg.run;
	size_t total = 0, n;
	char ttys[4] = "";
	struct winsize ws;

	if (r->exec) {
		spec_put(b, 'a', "sh");
		spec_put(b, 'a', "-c");
		spec_put(b, 'a', r->exec);
	}
	for (int i = 0; i < r->argc; i++)
		spec_put(b, 'a', r->argv[i]);
	for (int i = 0; i < r->argc || (r->exec && i == 0); i++) {
		n = strlen(r->exec ? r->exec : r->argv[i]);
		if (n >= RUNCMD_ARG_MAX)
			die("argument %d of the command is %zu bytes; the guest kernel takes at most %u per argument", i + 1,
			    n, RUNCMD_ARG_MAX - 1);
		total += n + 1;
	}
	if (r->root) {
		spec_put(b, 'u', "0");
		spec_put(b, 'g', "0");
		spec_put(b, 'e', "HOME=/root");
		spec_put(b, 'e', "USER=root");
		spec_put(b, 'e', "LOGNAME=root");
	} else {
		gid_t groups[256];
		int ng = getgroups(256, groups);
		spec_putf(b, 'u', "%u", (unsigned int)getuid());
		spec_putf(b, 'g', "%u", (unsigned int)getgid());
		for (int i = 0; i < ng; i++)
			spec_putf(b, 'G', "%u", (unsigned int)groups[i]);
		spec_putf(b, 'e', "HOME=%s", env_or("HOME", "/"));
		if (getenv("USER"))
			spec_putf(b, 'e', "USER=%s", getenv("USER"));
		if (getenv("LOGNAME"))
			spec_putf(b, 'e', "LOGNAME=%s", getenv("LOGNAME"));
	}
	spec_putf(b, 'e', "PATH=%s", env_or("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	if (isatty(STDIN_FILENO))
		spec_putf(b, 'e', "TERM=%s", env_or("TERM", "vt100"));
	for (unsigned int i = 0; i < r->nr_env; i++) {
		const char *e = r->env[i];
		if (strchr(e, '='))
			spec_put(b, 'e', e);
		else if (getenv(e))
			spec_putf(b, 'e', "%s=%s", e, getenv(e));
		n = strlen(e) + (getenv(e) ? strlen(getenv(e)) + 1 : 0);
		if (n >= RUNCMD_ARG_MAX)
			die("--env %.40s: %zu bytes; the guest kernel takes at most %u per variable", e, n, RUNCMD_ARG_MAX - 1);
		total += n + 1;
	}
	if (total > RUNCMD_ARGS_MAX)
		die("the command line and --env are %zu bytes together; lkvm passes at most %u", total, RUNCMD_ARGS_MAX);
	{
		mode_t m = umask(022);
		umask(m);
		spec_putf(b, 'm', "%o", (unsigned int)m);
	}
	spec_put(b, 'c', cwd);
	spec_put(b, 'C', cwd_shared ? "1" : "0");
	for (unsigned int i = 0; i < r->nr_rwdirs; i++)
		spec_put(b, 'w', r->rwdirs[i]);
	if (r->rw)
		spec_put(b, 'R', "1");
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd))
			ttys[strlen(ttys)] = (char)('0' + fd);
	spec_put(b, 't', ttys);
	if (isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		spec_putf(b, 'W', "%u %u", ws.ws_row, ws.ws_col);
	if (r->kdir) {
		char *abs = realpath(r->kdir, NULL);
		spec_put(b, 'k', abs ? abs : r->kdir);
		spec_put(b, 'K', kdir_hidden(r->kdir) ? "1" : "0");
		free(abs);
	}
	if (b->oom)
		die("out of memory");
}

/* A directory as an absolute path for a 9p share spec (no ',' allowed there). */
static char *share_spec(const char *dir, const char *tag, const char *what)
{
	char *abs = realpath(dir, NULL), *s;

	if (!abs)
		die("%s %s: %s", what, dir, strerror(errno));
	if (strchr(abs, ','))
		die("%s %s: a ',' in the path cannot be shared over 9p; use a directory without one", what, abs);
	if (asprintf(&s, "%s,%s", abs, tag) < 0)
		die("out of memory");
	free(abs);
	return s;
}

void runcmd_setup(struct kvm *kvm)
{
	struct kvm_config *cfg = &kvm->cfg;
	struct runcmd *rc = calloc(1, sizeof(*rc));
	char release[128], moddir[600], cwd[4096], *params;
	struct spec_buf spec = { 0 };
	struct cpio c = { 0 };
	bool cwd_shared;
	sigset_t winch;
	struct timespec t0, t1;
	size_t len;

	if (!rc)
		die("out of memory");
	log_set_fatal_status(RUNCMD_FAILED);
	rc->kvm = kvm;
	rc->klog_file = rc->winch_fd = -1;
	kvm->runcmd = rc;
	clock_gettime(CLOCK_MONOTONIC, &rc->deadline);
	rc->deadline.tv_sec += (time_t)(cfg->run.timeout_ms / 1000);
	rc->deadline.tv_nsec += (long)(cfg->run.timeout_ms % 1000) * 1000000L;
	if (rc->deadline.tv_nsec >= 1000000000L) {
		rc->deadline.tv_sec++;
		rc->deadline.tv_nsec -= 1000000000L;
	}
	if (cfg->initrd || cfg->rootdir)
		die("-i and -d DIR give the guest a userspace of their own; 'lkvm run -- CMD' runs the command on the host's "
		    "files: drop them");
	if (cfg->run.steal)
		cfg->pvtime = PVTIME_ON; /* refused in one line where the host has no stolen time */
	if (!getcwd(cwd, sizeof(cwd)))
		die("cannot find the current directory (%s); run lkvm from an existing directory", strerror(errno));
	pick_kernel(kvm, release, sizeof(release), moddir, sizeof(moddir));

	/* the shares: the host's / (read-only unless --rw), the working directory, each --rwdir */
	cwd_shared = strcmp(cwd, "/") != 0;
	if (cfg->nr_shares + 2 + cfg->run.nr_rwdirs > ARRAY_SIZE(cfg->shares))
		die("'lkvm run -- CMD' shares the host's /, the current directory and each --rwdir over 9p: at most %zu "
		    "shares in all with --9p", ARRAY_SIZE(cfg->shares));
	cfg->shares[cfg->nr_shares++] = cfg->run.rw ? "/," RUNCMD_TAG_ROOT : "/," RUNCMD_TAG_ROOT ",ro";
	if (cwd_shared)
		cfg->shares[cfg->nr_shares++] = share_spec(cwd, RUNCMD_TAG_CWD, "the current directory");
	for (unsigned int i = 0; i < cfg->run.nr_rwdirs; i++) {
		char tag[32];
		snprintf(tag, sizeof(tag), RUNCMD_TAG_RW "%u", i);
		cfg->shares[cfg->nr_shares++] = share_spec(cfg->run.rwdirs[i], tag, "--rwdir");
	}
	if (kdir_hidden(cfg->run.kdir)) {
		/* the guest's /tmp and /run are its own: a tree there is shared by itself, read-only */
		char *ro;
		if (cfg->nr_shares >= ARRAY_SIZE(cfg->shares))
			die("--kdir %s: one share too many (at most %zu in all)", cfg->run.kdir, ARRAY_SIZE(cfg->shares));
		if (asprintf(&ro, "%s,ro", share_spec(cfg->run.kdir, RUNCMD_TAG_KDIR, "--kdir")) < 0)
			die("out of memory");
		cfg->shares[cfg->nr_shares++] = ro;
	}
	if (cfg->run.rw)
		pr_warn("--rw: the command can change every host file that %s may change; nothing is copy-on-write",
			getuid() ? "the user running lkvm" : "root");

	/* the initramfs: lkvm-init, the modules it needs, the request */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	initramfs_skeleton(&c);
	add_modules(kvm, &c, moddir, release);
	make_spec(kvm, &spec, cwd, cwd_shared);
	cpio_add(&c, RUNCMD_SPEC_PATH + 1, S_IFREG | 0644, spec.buf, spec.len, 0, 0);
	free(spec.buf);
	len = c.len;
	kvm->initrd_fd = initramfs_memfd(&c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_debug("initramfs: %zu KiB built in %.1f ms", len >> 10,
		 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);

	/* quiet, and a panic resets at once (status 125 with the log's tail) */
	if (asprintf(&params, "quiet panic=-1%s%s", cfg->params ? " " : "", cfg->params ? cfg->params : "") < 0)
		die("out of memory");
	cfg->params = params;

	/* the kernel log: the console's output, through a pipe the main thread reads */
	{
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			die("cannot create a pipe for the kernel log: %s", strerror(errno));
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
		rc->klog_r = p[0];
		rc->klog_w = p[1];
		kvm->console_out_fd = p[1];
	}
	if (cfg->run.kernel_log) {
		rc->klog_file = open(cfg->run.kernel_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (rc->klog_file < 0)
			die("--kernel-log %s: %s", cfg->run.kernel_log, strerror(errno));
	}
	/* a terminal's size changes reach the guest's pty: SIGWINCH, blocked before any thread starts */
	if (isatty(STDIN_FILENO)) {
		sigemptyset(&winch);
		sigaddset(&winch, SIGWINCH);
		pthread_sigmask(SIG_BLOCK, &winch, NULL);
		rc->winch_fd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
	}
}

void runcmd_setup_devices(struct kvm *kvm)
{
	runcmd_channel_setup(kvm->runcmd);
}

/* The first "Kernel panic - not syncing: ..." of the log, or the last "lkvm-init: ..." line, as the reason. */
static void log_reason(const struct runcmd *rc, char *out, size_t outlen)
{
	const char *panic = memmem(rc->klog, rc->klog_len, "Kernel panic - not syncing: ", 28);
	const char *init = NULL, *p = rc->klog, *end = rc->klog + rc->klog_len;

	out[0] = '\0';
	if (panic) {
		size_t n = strcspn(panic, "\n");
		snprintf(out, outlen, "the guest kernel panicked: %.*s", (int)(n < 300 ? n : 300), panic + 28);
		return;
	}
	while ((p = memmem(p, (size_t)(end - p), "lkvm-init: ", 11))) {
		init = p;
		p += 11;
	}
	if (init) {
		size_t n = strcspn(init + 11, "\n");
		snprintf(out, outlen, "%.*s", (int)(n < 300 ? n : 300), init + 11);
	}
}

static void print_tail(const struct runcmd *rc)
{
	static char tail[KLOG_KEEP + 2];

	if (runcmd_tail_lines(rc->klog, rc->klog_len, KLOG_TAIL, tail, sizeof(tail)))
		fputs(tail, stderr);
}

int runcmd_finish(struct kvm *kvm, int code)
{
	struct runcmd *rc = kvm->runcmd;
	int state = __atomic_load_n(&rc->state, __ATOMIC_ACQUIRE);
	char why[512];

	runcmd_klog_drain(rc);
	if (rc->klog_file >= 0)
		close(rc->klog_file);
	if (state == RUN_EXITED) {
		code = rc->status;
		if (kvm->cfg.run.steal) {
			char line[4096];
			struct runcmd_steal_sample s = { .nr_cpus = kvm->nr_cpus, .steal_ns = rc->steal1 };
			for (unsigned int i = 0; i < kvm->nr_cpus; i++)
				rc->steal1[i] = rc->steal1[i] > rc->steal0[i] ? rc->steal1[i] - rc->steal0[i] : 0;
			s.wall_ns = (u64)((rc->t1.tv_sec - rc->t0.tv_sec) * 1000000000LL + (rc->t1.tv_nsec - rc->t0.tv_nsec));
			runcmd_steal_format(&s, kvm->cfg.run.steal == RUNCMD_STEAL_JSON, line, sizeof(line));
			fprintf(stderr, "%s\n", line);
		}
	} else if (state == RUN_FAILED) {
		fprintf(stderr, "lkvm: the guest failed before the command ran: %s\n", rc->why);
		print_tail(rc);
		code = RUNCMD_FAILED;
	} else if (rc->timed_out) {
		fprintf(stderr, "lkvm: --timeout: the command ran out of time; the guest was stopped\n");
		code = RUNCMD_TIMEOUT;
	} else if (rc->out_closed) {
		code = 128 + SIGPIPE; /* as the command would have ended, writing to a closed pipe */
	} else if (code > 128 && code != 128 + SIGSYS) {
		/* stopped by signal N: 128 + N, as a shell reports a killed command */
	} else {
		log_reason(rc, why, sizeof(why));
		if (!why[0])
			snprintf(why, sizeof(why), "%s", code == 0 ? "the guest stopped before the command finished"
							 : "lkvm stopped the guest on an error");
		fprintf(stderr, "lkvm: %s%s\n", why, state == RUN_STARTED ? " (the command had started)" : "");
		print_tail(rc);
		code = RUNCMD_FAILED;
	}
	fflush(stderr);
	return code;
}
