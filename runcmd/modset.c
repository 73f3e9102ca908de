/* Kernel modules for lkvm's initramfs: index a module tree or a build tree, resolve dependencies, pack them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "kvm/modset.h"

#define MAX_MODS 65536
#define MAX_MODULE_BYTES (64u << 20)
#define MAX_TEXT_BYTES (16u << 20) /* modules.dep, modules.order, modules.builtin */

static void fold(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/* The module name of a path: its last component up to ".ko", folded. False if it is no module file name. */
static bool mod_name(const char *path, char *out, size_t outlen)
{
	const char *b = strrchr(path, '/'), *dot;

	b = b ? b + 1 : path;
	dot = strstr(b, ".ko");
	if (!dot || (dot[3] && dot[3] != '.') || (size_t)(dot - b) >= outlen || dot == b)
		return false;
	snprintf(out, outlen, "%.*s", (int)(dot - b), b);
	fold(out);
	return true;
}

static char *read_text(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_TEXT_BYTES ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static struct modset_mod *add_entry(struct modset *ms, const char *rel)
{
	struct modset_mod *m;
	char name[64];

	if (!mod_name(rel, name, sizeof(name)) || ms->n >= MAX_MODS)
		return NULL;
	if (ms->n == ms->cap) {
		unsigned int cap = ms->cap ? ms->cap * 2 : 256;
		struct modset_mod *b = realloc(ms->mods, cap * sizeof(*b));
		if (!b)
			return NULL;
		ms->mods = b;
		ms->cap = cap;
	}
	m = &ms->mods[ms->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->rel = strdup(rel);
	if (asprintf(&m->path, "%s/%s", ms->dir, rel) < 0)
		m->path = NULL;
	if (!m->rel || !m->path) {
		free(m->rel);
		free(m->path);
		return NULL;
	}
	ms->n++;
	return m;
}

/* Every module file under dir (recursively), when there is no modules.dep. */
static void scan(struct modset *ms, const char *rel, int depth)
{
	char p[4096];
	DIR *d;
	struct dirent *e;

	snprintf(p, sizeof(p), "%s%s%s", ms->dir, *rel ? "/" : "", rel);
	d = depth <= 8 ? opendir(p) : NULL;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char r[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (e->d_type == DT_DIR)
			scan(ms, r, depth + 1);
		else if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN)
			add_entry(ms, r);
	}
	closedir(d);
}

/* modules.dep: "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko" per line. */
static void index_dep(struct modset *ms, char *text)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *dsave = NULL, deps[4096] = "";
		size_t used = 0;
		struct modset_mod *m;
		if (!colon)
			continue;
		*colon = '\0';
		for (char *d = strtok_r(colon + 1, " \t", &dsave); d; d = strtok_r(NULL, " \t", &dsave)) {
			char dn[64];
			if (mod_name(d, dn, sizeof(dn)) && used + strlen(dn) + 2 < sizeof(deps))
				used += (size_t)snprintf(deps + used, sizeof(deps) - used, "%s%s", used ? "," : "", dn);
		}
		m = add_entry(ms, line);
		if (m)
			m->deps = strdup(deps);
	}
}

/* modules.order of a build tree: "fs/9p/9p.ko" (or "fs/9p/9p.o" since Linux 6.2) for each module built. */
static void index_order(struct modset *ms, char *text)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char rel[4096];
		size_t l = strlen(line);
		if (l > 2 && !strcmp(line + l - 2, ".o"))
			snprintf(rel, sizeof(rel), "%.*s.ko", (int)(l - 2), line);
		else
			snprintf(rel, sizeof(rel), "%s", line);
		add_entry(ms, rel);
	}
}

int modset_open(struct modset *ms, const char *dir, const char *release, bool kdir, char *err, size_t errlen)
{
	char p[600], *text;

	memset(ms, 0, sizeof(*ms));
	snprintf(ms->dir, sizeof(ms->dir), "%s", dir);
	snprintf(ms->release, sizeof(ms->release), "%s", release);
	ms->kdir = kdir;
	snprintf(p, sizeof(p), "%s/modules.builtin", dir);
	ms->builtin = read_text(p, NULL);
	snprintf(p, sizeof(p), "%s/%s", dir, kdir ? "modules.order" : "modules.dep");
	text = read_text(p, NULL);
	if (kdir && !text) {
		snprintf(err, errlen, "--kdir %s: no readable modules.order (build the kernel and its modules there: make "
			 "Image modules)", dir);
		return -1;
	}
	if (kdir)
		index_order(ms, text);
	else if (text)
		index_dep(ms, text);
	else
		scan(ms, "", 0);
	free(text);
	return 0;
}

void modset_close(struct modset *ms)
{
	for (unsigned int i = 0; i < ms->n; i++) {
		free(ms->mods[i].path);
		free(ms->mods[i].rel);
		free(ms->mods[i].deps);
	}
	free(ms->mods);
	free(ms->builtin);
	free(ms->list);
	memset(ms, 0, sizeof(*ms));
}

bool modset_builtin(const struct modset *ms, const char *want)
{
	char name[64], line[512];
	const char *p = ms->builtin;

	snprintf(name, sizeof(name), "%s", want);
	fold(name);
	while (p && *p) {
		size_t l = strcspn(p, "\n");
		char n[64];
		snprintf(line, sizeof(line), "%.*s", (int)(l < sizeof(line) - 1 ? l : sizeof(line) - 1), p);
		if (mod_name(line, n, sizeof(n)) && !strcmp(n, name))
			return true;
		p += l + (p[l] ? 1 : 0);
	}
	return false;
}

char *modinfo_depends(const u8 *buf, size_t len)
{
	for (size_t i = 0; i + 8 <= len; i++)
		if (!memcmp(buf + i, "depends=", 8) && (i == 0 || buf[i - 1] == '\0'))
			return strndup((const char *)buf + i + 8, strnlen((const char *)buf + i + 8, len - i - 8));
	return NULL;
}

static u64 le(const u8 *p, unsigned int n)
{
	u64 v = 0;
	for (unsigned int i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* The .modinfo section of an uncompressed ELF64 little-endian module, read alone; NULL if not found. */
static u8 *read_modinfo(int fd, size_t *len)
{
	u8 eh[64], sh[64], *shdrs = NULL, *strs = NULL, *info = NULL;
	u64 shoff, stroff, strsize;
	unsigned int shnum, shentsize, shstrndx;

	if (pread(fd, eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh, "\177ELF\2\1", 6))
		return NULL;
	shoff = le(eh + 0x28, 8);
	shentsize = (unsigned int)le(eh + 0x3a, 2);
	shnum = (unsigned int)le(eh + 0x3c, 2);
	shstrndx = (unsigned int)le(eh + 0x3e, 2);
	if (shentsize != 64 || !shnum || shstrndx >= shnum || !(shdrs = malloc((size_t)shnum * 64)) ||
	    pread(fd, shdrs, (size_t)shnum * 64, (off_t)shoff) != (ssize_t)shnum * 64)
		goto out;
	memcpy(sh, shdrs + (size_t)shstrndx * 64, 64);
	stroff = le(sh + 0x18, 8);
	strsize = le(sh + 0x20, 8);
	if (!strsize || strsize > (1u << 20) || !(strs = malloc(strsize + 1)) ||
	    pread(fd, strs, strsize, (off_t)stroff) != (ssize_t)strsize)
		goto out;
	strs[strsize] = '\0';
	for (unsigned int i = 0; i < shnum; i++) {
		const u8 *s = shdrs + (size_t)i * 64;
		u64 name = le(s, 4), off = le(s + 0x18, 8), size = le(s + 0x20, 8);
		if (name >= strsize || strcmp((char *)strs + name, ".modinfo"))
			continue;
		if (size > (1u << 20) || !(info = malloc(size ? size : 1)) || pread(fd, info, size, (off_t)off) != (ssize_t)size) {
			free(info);
			info = NULL;
		}
		*len = size;
		break;
	}
out:
	free(shdrs);
	free(strs);
	return info;
}

/* A module file's bytes: .ko as is, .ko.gz inflated. NULL with err for anything else. */
static u8 *read_module(const char *path, size_t *len, char *err, size_t errlen)
{
	size_t cap = 1 << 20, n = 0;
	u8 *buf = malloc(cap);
	gzFile gz = buf ? gzopen(path, "rb") : NULL; /* reads plain files unchanged too */

	if (!gz) {
		snprintf(err, errlen, "cannot read module %s: %s", path, strerror(errno ? errno : ENOMEM));
		free(buf);
		return NULL;
	}
	for (;;) {
		int r;
		if (n == cap) {
			u8 *b = cap * 2 <= MAX_MODULE_BYTES ? realloc(buf, cap * 2) : NULL;
			if (!b) {
				snprintf(err, errlen, "module %s: larger than %u MiB, or out of memory", path,
					 MAX_MODULE_BYTES >> 20);
				goto fail;
			}
			buf = b;
			cap *= 2;
		}
		r = gzread(gz, buf + n, (unsigned int)(cap - n));
		if (r < 0) {
			snprintf(err, errlen, "cannot read module %s: damaged", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	gzclose(gz);
	*len = n;
	return buf;
fail:
	gzclose(gz);
	free(buf);
	return NULL;
}

static bool compressed_kernel_side(const char *path)
{
	return strstr(path, ".ko.xz") || strstr(path, ".ko.zst");
}

static struct modset_mod *find(struct modset *ms, const char *want)
{
	char name[64];

	snprintf(name, sizeof(name), "%s", want);
	fold(name);
	for (unsigned int i = 0; i < ms->n; i++)
		if (!strcmp(ms->mods[i].name, name))
			return &ms->mods[i];
	return NULL;
}

/* Fill m->deps from the module's .modinfo if modules.dep did not. 0 or -1 with err. */
static int load_deps(struct modset_mod *m, char *err, size_t errlen)
{
	int fd;
	size_t len = 0;
	u8 *info;

	if (m->deps)
		return 0;
	if (compressed_kernel_side(m->path)) {
		snprintf(err, errlen, "module %s is xz/zstd-compressed and there is no modules.dep beside it to name its "
			 "dependencies; run depmod, or give a kernel with -k", m->path);
		return -1;
	}
	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read module %s: %s", m->path, strerror(errno));
		return -1;
	}
	info = read_modinfo(fd, &len);
	close(fd);
	if (!info) { /* not a plain ELF64 module (e.g. .ko.gz): read it all */
		if (!(info = read_module(m->path, &len, err, errlen)))
			return -1;
	}
	m->deps = modinfo_depends(info, len);
	free(info);
	if (!m->deps)
		m->deps = strdup("");
	return m->deps ? 0 : -1;
}

static int add(struct modset *ms, struct cpio *c, const char *want, int depth, char *err, size_t errlen)
{
	struct modset_mod *m = find(ms, want);
	char *deps, *save = NULL, entry[128], file[96];
	const char *ext;
	size_t len;
	u8 *buf;

	if (!m) {
		if (modset_builtin(ms, want))
			return 0;
		snprintf(err, errlen, "the kernel %s has no module %s (looked in %s%s and its modules.builtin)",
			 ms->release, want, ms->dir, ms->kdir ? "/modules.order" : "");
		return 1;
	}
	if (m->added || depth > 16)
		return 0;
	m->added = true;
	if (load_deps(m, err, errlen))
		return -1;
	deps = strdup(m->deps);
	for (char *d = deps ? strtok_r(deps, ",", &save) : NULL; d; d = strtok_r(NULL, ",", &save)) {
		int r = *d ? add(ms, c, d, depth + 1, err, errlen) : 0;
		if (r) {
			free(deps);
			return r;
		}
	}
	free(deps);
	/* xz/zstd modules go in as they are: the guest kernel unpacks them (finit_module, MODULE_INIT_COMPRESSED_FILE) */
	ext = strstr(m->path, ".ko.xz") ? ".ko.xz" : strstr(m->path, ".ko.zst") ? ".ko.zst" : ".ko";
	if (!strcmp(ext, ".ko")) {
		buf = read_module(m->path, &len, err, errlen);
	} else {
		buf = (u8 *)read_text(m->path, &len);
		if (!buf)
			snprintf(err, errlen, "cannot read module %s: %s", m->path, strerror(errno ? errno : EFBIG));
	}
	if (!buf)
		return -1;
	snprintf(file, sizeof(file), "%s%s", m->name, ext);
	snprintf(entry, sizeof(entry), "lkvm/%s", file);
	cpio_add(c, entry, S_IFREG | 0644, buf, len, 0, 0);
	free(buf);
	{
		size_t fl = strlen(file);
		char *l = realloc(ms->list, ms->list_len + fl + 2);
		if (!l) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ms->list = l;
		memcpy(ms->list + ms->list_len, file, fl);
		ms->list[ms->list_len + fl] = '\n';
		ms->list_len += fl + 1;
		ms->list[ms->list_len] = '\0';
	}
	ms->added++;
	return 0;
}

int modset_add(struct modset *ms, struct cpio *c, const char *name, char *err, size_t errlen)
{
	return add(ms, c, name, 0, err, errlen);
}

/* Post-order walk of m's dependencies (deepest first) into order[]; mark[] holds the walk's generation. */
static int dep_walk(struct modset *ms, struct modset_mod *m, unsigned int *mark, unsigned int gen, unsigned int *order,
		    unsigned int *n, int depth, char *err, size_t errlen)
{
	char *deps, *save = NULL;

	if (depth > 16 || load_deps(m, err, errlen))
		return depth > 16 ? 0 : -1;
	deps = strdup(m->deps);
	for (char *d = deps ? strtok_r(deps, ",", &save) : NULL; d; d = strtok_r(NULL, ",", &save)) {
		struct modset_mod *dm = *d ? find(ms, d) : NULL;
		unsigned int k = dm ? (unsigned int)(dm - ms->mods) : 0;
		if (!dm || mark[k] == gen)
			continue;
		mark[k] = gen;
		if (dep_walk(ms, dm, mark, gen, order, n, depth + 1, err, errlen)) {
			free(deps);
			return -1;
		}
		order[(*n)++] = k;
	}
	free(deps);
	return 0;
}

char *modset_depfile(struct modset *ms, const char *prefix, size_t *len, char *err, size_t errlen)
{
	size_t used = 0, cap = 4096;
	char *out = malloc(cap);
	unsigned int *mark = calloc(ms->n + 1, sizeof(*mark)), *order = calloc(ms->n + 1, sizeof(*order));

	for (unsigned int i = 0; out && mark && order && i < ms->n; i++) {
		struct modset_mod *m = &ms->mods[i];
		unsigned int n = 0;
		char line[8192];
		size_t l;
		if (access(m->path, R_OK))
			continue; /* listed in modules.order but not built: left out */
		mark[i] = i + 1;
		if (dep_walk(ms, m, mark, i + 1, order, &n, 0, err, errlen)) {
			free(out);
			free(mark);
			free(order);
			return NULL;
		}
		/* depmod's convention: the full closure, the module to load first named last */
		l = (size_t)snprintf(line, sizeof(line), "%s%s:", prefix, m->rel);
		while (n-- > 0 && l < sizeof(line))
			l += (size_t)snprintf(line + l, sizeof(line) - l, " %s%s", prefix, ms->mods[order[n]].rel);
		if (l >= sizeof(line) - 1)
			continue;
		line[l++] = '\n';
		if (used + l + 1 > cap) {
			char *b = realloc(out, (cap = (used + l + 1) * 2));
			if (!b) {
				free(out);
				out = NULL;
				break;
			}
			out = b;
		}
		memcpy(out + used, line, l);
		used += l;
	}
	if (!mark || !order) {
		free(out);
		out = NULL;
	}
	free(mark);
	free(order);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	out[used] = '\0';
	*len = used;
	return out;
}
