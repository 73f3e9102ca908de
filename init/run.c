/* lkvm-init's command runner, part 1: read lkvm's request and build the command's view of the host under /newroot. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "init.h"
#include "kvm/runcmd-spec.h"

int ctl_fd = -1;

void fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("%s", buf); /* the kernel log: lkvm prints it with the log's tail when the control port is not open yet */
	if (ctl_fd >= 0)
		dprintf(ctl_fd, "fail %s\n", buf);
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
		fail("cannot read %s: %s", path, strerror(errno));
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r <= 0)
			fail("cannot read %s: %s", path, r < 0 ? strerror(errno) : "short file");
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void parse(struct req *r)
{
	size_t len;
	char *buf = read_file(RUNCMD_SPEC_PATH, &len), tag;
	struct spec_iter it = { buf, buf + len };
	const char *v;
	int n = 0, k;

	/* every record may be an argument or a variable: size the arrays by the record count */
	while ((k = spec_next(&it, &tag, &v)) > 0)
		n++;
	if (k < 0)
		fail("the request %s is damaged", RUNCMD_SPEC_PATH);
	r->umask = 022;
	r->argv = calloc((size_t)n + 1, sizeof(char *));
	r->env = calloc((size_t)n + 1, sizeof(char *));
	if (!r->argv || !r->env)
		fail("out of memory");
	it = (struct spec_iter){ buf, buf + len };
	while (spec_next(&it, &tag, &v) > 0) {
		switch (tag) {
		case 'a': r->argv[r->argc++] = (char *)v; break;
		case 'e': r->env[r->envc++] = (char *)v; break;
		case 'u': r->uid = (uid_t)strtoul(v, NULL, 10); break;
		case 'g': r->gid = (gid_t)strtoul(v, NULL, 10); break;
		case 'G':
			if (r->ngroups < (int)(sizeof(r->groups) / sizeof(r->groups[0])))
				r->groups[r->ngroups++] = (gid_t)strtoul(v, NULL, 10);
			break;
		case 'c': r->cwd = v; break;
		case 'C': r->cwd_shared = *v == '1'; break;
		case 'w':
			if (r->nr_rwdirs < (int)(sizeof(r->rwdirs) / sizeof(r->rwdirs[0])))
				r->rwdirs[r->nr_rwdirs++] = v;
			break;
		case 'R': r->rw = *v == '1'; break;
		case 't': snprintf(r->ttys, sizeof(r->ttys), "%s", v); break;
		case 'W': sscanf(v, "%u %u", &r->rows, &r->cols); break;
		case 'k': r->kdir = v; break;
		case 'K': r->kdir_shared = *v == '1'; break;
		case 'm': r->umask = (mode_t)strtoul(v, NULL, 8) & 0777; break;
		default: break; /* a newer lkvm's field */
		}
	}
	if (!r->argc || !r->cwd)
		fail("the request %s names no command or no directory", RUNCMD_SPEC_PATH);
}

/* Mount at path under /newroot, creating the mount point (in the overlay or a tmpfs, never on a --rw host root). */
static int mount_at(const char *src, const char *path, const char *type, unsigned long flags, const char *opts,
		    const struct req *r)
{
	char at[4200];
	struct stat st;

	snprintf(at, sizeof(at), "/newroot%s", path);
	if (stat(at, &st) != 0 && (r->rw || mkdir_p(at)))
		return -ENOENT;
	return mount(src, at, type, flags, opts) ? -errno : 0;
}

static const char *fs_hint(int err, const char *fs)
{
	static char buf[160];

	if (err == -ENODEV) {
		snprintf(buf, sizeof(buf), " (the guest kernel has no %s filesystem: its module did not load)", fs);
		return buf;
	}
	return "";
}

/* /lib/modules/RELEASE for a --kdir kernel: build -> the tree, the modules.dep lkvm wrote. */
static void kdir_modules(const struct req *r)
{
	char dir[512], link[600];
	struct utsname u;
	int e = uname(&u) < 0 ? -errno : mount_at("tmpfs", "/lib/modules", "tmpfs", 0, "mode=755", r);

	if (e) {
		say("--kdir: cannot set up /lib/modules: %s; modprobe will not find the tree's modules", strerror(-e));
		return;
	}
	snprintf(dir, sizeof(dir), "/newroot/lib/modules/%s", u.release);
	mkdir(dir, 0755);
	snprintf(link, sizeof(link), "%s/build", dir);
	if (symlink(r->kdir, link) < 0)
		say("--kdir: cannot link %s: %s", link, strerror(errno));
	for (const char *f = "modules.dep\0modules.builtin\0"; *f; f += strlen(f) + 1) {
		char src[300], dst[700];
		size_t len;
		snprintf(src, sizeof(src), "/lkvm/kdir/%s", f);
		if (access(src, R_OK))
			continue;
		char *text = read_file(src, &len);
		int fd;
		snprintf(dst, sizeof(dst), "%s/%s", dir, f);
		fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, text, len) != (ssize_t)len)
			say("--kdir: cannot write %s", dst);
		if (fd >= 0)
			close(fd);
		free(text);
	}
}

struct share {
	const char *path, *tag;
	bool ro;
};

static int by_depth(const void *a, const void *b)
{
	return (int)strlen(((const struct share *)a)->path) - (int)strlen(((const struct share *)b)->path);
}

/* Is dir at or below under? */
static bool beneath(const char *dir, const char *under)
{
	size_t n = strlen(under);
	return !strncmp(dir, under, n) && (dir[n] == '\0' || dir[n] == '/' || (n && under[n - 1] == '/'));
}

/* The shares at their host paths, outer ones first: the working directory, each --rwdir, a hidden --kdir tree. */
static void mount_shares(const struct req *r)
{
	struct share sh[10];
	char tags[8][16];
	int n = 0, e;

	if (r->cwd_shared)
		sh[n++] = (struct share){ r->cwd, RUNCMD_TAG_CWD, false };
	for (int i = 0; i < r->nr_rwdirs; i++) {
		snprintf(tags[i], sizeof(tags[i]), RUNCMD_TAG_RW "%d", i);
		sh[n++] = (struct share){ r->rwdirs[i], tags[i], false };
	}
	if (r->kdir && r->kdir_shared) {
		bool inside = false;
		for (int i = 0; i < n; i++)
			inside |= beneath(r->kdir, sh[i].path); /* already there, writable */
		if (!inside)
			sh[n++] = (struct share){ r->kdir, RUNCMD_TAG_KDIR, true };
	}
	qsort(sh, (size_t)n, sizeof(sh[0]), by_depth);
	for (int i = 0; i < n; i++) {
		char at[4200];
		snprintf(at, sizeof(at), "/newroot%s", sh[i].path);
		if (mkdir_p(at) && !r->rw)
			fail("cannot make the mount point %s: %s", sh[i].path, strerror(errno));
		if ((e = mount_9p(sh[i].tag, at, sh[i].ro ? MS_RDONLY : 0)))
			fail("cannot mount %s (9p share %s): %s", sh[i].path, sh[i].tag, strerror(-e));
	}
}

/* The host's /: read-only 9p under a tmpfs overlay (or writable with --rw); the guest's own /proc, /dev, /tmp... */
static void build_root(const struct req *r)
{
	int e;

	mkdir("/newroot", 0755);
	if (r->rw) {
		if ((e = mount_9p(RUNCMD_TAG_ROOT, "/newroot", 0)))
			fail("cannot mount the host's / (9p share %s): %s%s", RUNCMD_TAG_ROOT, strerror(-e), fs_hint(e, "9p"));
	} else {
		mkdir("/lower", 0755);
		mkdir("/cow", 0755);
		if ((e = mount_9p(RUNCMD_TAG_ROOT, "/lower", MS_RDONLY)))
			fail("cannot mount the host's / (9p share %s): %s%s", RUNCMD_TAG_ROOT, strerror(-e), fs_hint(e, "9p"));
		if (mount("tmpfs", "/cow", "tmpfs", 0, "mode=755") || mkdir("/cow/upper", 0755) || mkdir("/cow/work", 0755))
			fail("cannot make the tmpfs for the copy-on-write root: %s", strerror(errno));
		if (mount("overlay", "/newroot", "overlay", 0, "lowerdir=/lower,upperdir=/cow/upper,workdir=/cow/work"))
			fail("cannot mount the copy-on-write root (overlayfs over the host's /): %s%s", strerror(errno),
			     fs_hint(-errno, "overlay"));
	}
	mount_at("proc", "/proc", "proc", 0, NULL, r);
	mount_at("sysfs", "/sys", "sysfs", 0, NULL, r);
	mount_at("devtmpfs", "/dev", "devtmpfs", 0, NULL, r);
	mount_at("devpts", "/dev/pts", "devpts", 0, "mode=620,ptmxmode=666", r);
	mount_at("tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777", r);
	if (!r->rw) { /* fresh, as on a booted host; with --rw the host's own are written through */
		mount_at("tmpfs", "/tmp", "tmpfs", 0, "mode=1777", r);
		mount_at("tmpfs", "/run", "tmpfs", 0, "mode=755", r);
	}
	if (r->kdir)
		kdir_modules(r);
	mount_shares(r);
}

/* Enter /newroot as / (switch_root: move the mount, chroot into it). */
static void enter_root(void)
{
	if (chdir("/newroot") || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/"))
		fail("cannot enter the new root: %s", strerror(errno));
}

/* The loopback interface up: tests that talk to 127.0.0.1 work (no other network is set up). */
static void loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

void run_main(void)
{
	static struct req r;

	parse(&r);
	build_root(&r);
	enter_root();
	loopback_up();
	sethostname("lkvm", 4);
	spawn_and_report(&r);
}
