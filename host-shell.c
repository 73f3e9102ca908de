/* 'lkvm run' with no kernel: the host's own kernel, lkvm's own initramfs, the host's root shared read-only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "kvm/cpio.h"
#include "kvm/host-kernel.h"
#include "kvm/kvm.h"

/* lkvm-init, the static PID 1 of the initramfs (init/lkvm-init.c), linked in by init/blob.S. */
extern const unsigned char lkvm_init_start[], lkvm_init_end[];

#define MAX_MODS 4096

struct mod {
	char name[64]; /* '-' folded to '_' */
	char *path;
	bool added;
};

struct modset {
	const char *release;
	struct mod *mods;
	unsigned int n;
	char order[64][64]; /* names to load, dependencies first */
	unsigned int norder;
	struct cpio *cpio;
};

static void fold(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/* Index every module file under dir (recursively): its name and path. */
static void scan(struct modset *ms, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d || depth > 8) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d)) && ms->n < MAX_MODS) {
		char p[4096], *dot;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			scan(ms, p, depth + 1);
			continue;
		}
		dot = strstr(e->d_name, ".ko");
		if (!dot || (dot[3] && dot[3] != '.') || (size_t)(dot - e->d_name) >= sizeof(ms->mods[0].name))
			continue;
		snprintf(ms->mods[ms->n].name, sizeof(ms->mods[0].name), "%.*s", (int)(dot - e->d_name), e->d_name);
		fold(ms->mods[ms->n].name);
		ms->mods[ms->n].path = strdup(p);
		if (ms->mods[ms->n].path)
			ms->n++;
	}
	closedir(d);
}

/* A module file's bytes (.ko as is, .ko.gz inflated); NULL with a one-line death for anything else. */
static u8 *read_module(const char *path, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	u8 *buf = malloc(cap);
	gzFile gz;

	if (strstr(path, ".ko.xz") || strstr(path, ".ko.zst"))
		die("module %s is xz/zstd-compressed, which lkvm cannot unpack; give a kernel with -k and a root with "
		    "-d DIR", path);
	gz = gzopen(path, "rb"); /* reads plain files unchanged too */
	if (!buf || !gz)
		die("cannot read module %s: %s", path, strerror(errno ? errno : ENOMEM));
	for (;;) {
		int r;
		if (n == cap) {
			u8 *b = realloc(buf, cap *= 2);
			if (!b || cap > (64u << 20))
				die("module %s: too big or out of memory", path);
			buf = b;
		}
		r = gzread(gz, buf + n, (unsigned int)(cap - n));
		if (r < 0)
			die("cannot read module %s: damaged", path);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	gzclose(gz);
	*len = n;
	return buf;
}

static bool builtin(const struct modset *ms, const char *name)
{
	char p[300], line[512];
	bool found = false;
	FILE *f;

	snprintf(p, sizeof(p), "/lib/modules/%s/modules.builtin", ms->release);
	f = fopen(p, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *b = strrchr(line, '/'), *dot;
		b = b ? b + 1 : line;
		dot = strstr(b, ".ko");
		if (dot)
			*dot = '\0';
		fold(b);
		found = !strcmp(b, name);
	}
	fclose(f);
	return found;
}

/* Add module `name` and (first) everything it depends on to the archive. */
static void add_module(struct modset *ms, const char *want, int depth)
{
	char name[64], *deps, *save = NULL, entry[128];
	struct mod *m = NULL;
	size_t len;
	u8 *buf;

	snprintf(name, sizeof(name), "%s", want);
	fold(name);
	for (unsigned int i = 0; i < ms->n && !m; i++)
		if (!strcmp(ms->mods[i].name, name))
			m = &ms->mods[i];
	if (!m) {
		if (builtin(ms, name))
			return;
		die("the host kernel %s has no module %s (looked under /lib/modules/%s); give a kernel with -k and a root "
		    "with -d DIR", ms->release, name, ms->release);
	}
	if (m->added || depth > 16)
		return;
	m->added = true;
	buf = read_module(m->path, &len);
	deps = NULL;
	for (size_t i = 0; i + 8 < len; i++) {
		if (!memcmp(buf + i, "depends=", 8) && (i == 0 || buf[i - 1] == '\0')) {
			deps = strndup((char *)buf + i + 8, strnlen((char *)buf + i + 8, len - i - 8));
			break;
		}
	}
	for (char *d = deps ? strtok_r(deps, ",", &save) : NULL; d; d = strtok_r(NULL, ",", &save))
		if (*d)
			add_module(ms, d, depth + 1);
	free(deps);
	if (ms->norder >= 64)
		die("the 9p modules of the host kernel %s need more than 64 modules; give a kernel with -k", ms->release);
	snprintf(ms->order[ms->norder++], sizeof(ms->order[0]), "%s", name);
	snprintf(entry, sizeof(entry), "lkvm/%s.ko", name);
	cpio_add(ms->cpio, entry, S_IFREG | 0644, buf, len, 0, 0);
	free(buf);
}

/* The initramfs: lkvm-init as /init, a console node, the modules 9p needs and the order to load them. */
static int build_initramfs(const struct kvm_config *cfg, const char *release)
{
	struct cpio c = { 0 };
	struct modset ms = { .release = release, .cpio = &c };
	char dir[300], list[64 * 65] = "";
	size_t used = 0;
	int fd;

	ms.mods = calloc(MAX_MODS, sizeof(*ms.mods));
	if (!ms.mods)
		die("out of memory");
	snprintf(dir, sizeof(dir), "/lib/modules/%s", release);
	scan(&ms, dir, 0);
	for (const char *d = "dev\0proc\0sys\0newroot\0lkvm\0"; *d; d += strlen(d) + 1)
		cpio_add(&c, d, S_IFDIR | 0755, NULL, 0, 0, 0);
	cpio_add(&c, "dev/console", S_IFCHR | 0600, NULL, 0, 5, 1);
	cpio_add(&c, "init", S_IFREG | 0755, lkvm_init_start, (size_t)(lkvm_init_end - lkvm_init_start), 0, 0);
	add_module(&ms, cfg->virtio_transport == VIRTIO_TRANSPORT_MMIO ? "virtio_mmio" : "virtio_pci", 0);
	if (cfg->console == CONSOLE_VIRTIO)
		add_module(&ms, "virtio_console", 0);
	add_module(&ms, "9pnet_virtio", 0);
	add_module(&ms, "9p", 0);
	for (unsigned int i = 0; i < ms.norder; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\n", ms.order[i]);
	cpio_add(&c, "lkvm/modules", S_IFREG | 0644, list, used, 0, 0);
	for (unsigned int i = 0; i < ms.n; i++)
		free(ms.mods[i].path);
	free(ms.mods);
	if (cpio_finish(&c))
		die("out of memory building the initramfs");
	fd = memfd_create("lkvm-initramfs", MFD_CLOEXEC);
	if (fd < 0 || write(fd, c.buf, c.len) != (ssize_t)c.len)
		die("cannot build the initramfs in memory: %s", strerror(errno));
	free(c.buf);
	return fd;
}

/* ~/.lkvm/NAME, created if needed: the guest's writable /root. */
static char *vm_dir(const char *name)
{
	const char *home = getenv("HOME");
	char *p;

	if (!home || !*home)
		die("no kernel given: 'lkvm run' shares ~/.lkvm/NAME with the guest, but HOME is not set; set HOME or "
		    "give -k/--kernel FILE");
	if (asprintf(&p, "%s/.lkvm", home) < 0)
		die("out of memory");
	if (mkdir(p, 0700) < 0 && errno != EEXIST) /* 0700: the control sockets live here too (control-path.c) */
		die("cannot create %s: %s", p, strerror(errno));
	free(p);
	if (asprintf(&p, "%s/.lkvm/%s", home, name) < 0)
		die("out of memory");
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die("cannot create %s: %s", p, strerror(errno));
	return p;
}

void host_shell_setup(struct kvm *kvm)
{
	struct kvm_config *cfg = &kvm->cfg;
	char kernel[512], err[1024], *dir, *spec;
	struct utsname u;

	if (uname(&u) < 0)
		die("no kernel given, and uname() failed; give one with -k/--kernel FILE");
	if (host_kernel_find("/boot", u.release, kernel, sizeof(kernel), err, sizeof(err)))
		die("%s", err);
	if (!(cfg->kernel = strdup(kernel)))
		die("out of memory");
	if (cfg->initrd || cfg->rootdir)
		return; /* the user brought a userspace: just the host's kernel */
	if (cfg->nr_shares + 2 > ARRAY_SIZE(cfg->shares))
		die("no kernel given: 'lkvm run' needs two 9p shares of its own; use at most %zu --9p",
		    ARRAY_SIZE(cfg->shares) - 2);
	kvm->initrd_fd = build_initramfs(cfg, u.release);
	dir = vm_dir(cfg->name ? cfg->name : "default");
	cfg->shares[cfg->nr_shares++] = "/,lkvm-root,ro";
	if (asprintf(&spec, "%s,lkvm-home", dir) < 0)
		die("out of memory");
	cfg->shares[cfg->nr_shares++] = spec;
	free(dir);
	pr_info("no kernel given: booting the host's %s with the host's / read-only over 9p (see README: the shell)",
		kernel);
}
