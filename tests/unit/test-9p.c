/* Unit tests: the 9P2000.L server (p9_handle) as a hostile guest would drive it: traversal, symlinks, ro, garbage. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kvm/builtin.h"
#include "kvm/kvm.h"
#include "kvm/p9.h"
#include "kvm/virtio-9p.h"

static struct unit_counts uc;
static char base[256], share[300], outside[300];

/* ---- a tiny client: build a message, hand it to p9_handle, look at the reply ---- */

struct msg {
	u8 b[1 << 17];
	size_t n;
};

static void put(struct msg *m, u64 v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		m->b[m->n++] = (u8)(v >> (8 * i));
}

static void puts9(struct msg *m, const char *s)
{
	size_t l = strlen(s);
	put(m, l, 2);
	memcpy(m->b + m->n, s, l);
	m->n += l;
}

static void start(struct msg *m, u8 type)
{
	m->n = 0;
	put(m, 0, 4);
	put(m, type, 1);
	put(m, 0x1234, 2);
}

static void finish(struct msg *m)
{
	for (int i = 0; i < 4; i++)
		m->b[i] = (u8)(m->n >> (8 * i));
}

static u8 rep[1 << 17];
static size_t rlen;

static u64 get(size_t off, unsigned int bytes)
{
	u64 v = 0;
	for (unsigned int i = 0; i < bytes && off + i < rlen; i++)
		v |= (u64)rep[off + i] << (8 * i);
	return v;
}

/* Send; returns 0 when the reply is the R-message of the request, else the Rlerror errno (or -1 for nonsense). */
static int rpc(struct p9_server *s, struct msg *m)
{
	u8 type = m->b[4];
	finish(m);
	rlen = p9_handle(s, m->b, m->n, rep, sizeof(rep));
	if (rlen < 7 || get(0, 4) != rlen || get(5, 2) != 0x1234)
		return -1;
	if (rep[4] == P9_RLERROR)
		return (int)get(7, 4);
	return rep[4] == type + 1 ? 0 : -1;
}

static int version(struct p9_server *s, u32 msize, const char *v)
{
	struct msg *m = malloc(sizeof(*m));
	int r;
	start(m, P9_TVERSION);
	put(m, msize, 4);
	puts9(m, v);
	r = rpc(s, m);
	free(m);
	return r;
}

static struct msg M;

static int attach(struct p9_server *s, u32 fid)
{
	start(&M, P9_TATTACH);
	put(&M, fid, 4);
	put(&M, P9_NOFID, 4);
	puts9(&M, "user");
	puts9(&M, "");
	put(&M, 1000, 4);
	return rpc(s, &M);
}

/* Twalk fid -> newfid through n names; returns rpc()'s result; *nq gets the number of qids. */
static int walk(struct p9_server *s, u32 fid, u32 newfid, int *nq, int n, ...)
{
	va_list ap;
	int r;
	start(&M, P9_TWALK);
	put(&M, fid, 4);
	put(&M, newfid, 4);
	put(&M, (u64)n, 2);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		puts9(&M, va_arg(ap, const char *));
	va_end(ap);
	r = rpc(s, &M);
	if (nq)
		*nq = r == 0 ? (int)get(7, 2) : -1;
	return r;
}

static int lopen(struct p9_server *s, u32 fid, u32 flags)
{
	start(&M, P9_TLOPEN);
	put(&M, fid, 4);
	put(&M, flags, 4);
	return rpc(s, &M);
}

static int lcreate(struct p9_server *s, u32 fid, const char *name, u32 flags, u32 mode)
{
	start(&M, P9_TLCREATE);
	put(&M, fid, 4);
	puts9(&M, name);
	put(&M, flags, 4);
	put(&M, mode, 4);
	put(&M, 0, 4);
	return rpc(s, &M);
}

/* Tread into buf; returns bytes or -errno. */
static int readf(struct p9_server *s, u32 fid, u64 off, u32 count, char *buf, size_t bufsz)
{
	int r;
	start(&M, P9_TREAD);
	put(&M, fid, 4);
	put(&M, off, 8);
	put(&M, count, 4);
	r = rpc(s, &M);
	if (r)
		return r < 0 ? -1000 : -r;
	u32 n = (u32)get(7, 4);
	if (n >= bufsz)
		n = (u32)bufsz - 1;
	memcpy(buf, rep + 11, n);
	buf[n] = '\0';
	return (int)n;
}

static int writef(struct p9_server *s, u32 fid, u64 off, const char *data)
{
	size_t l = strlen(data);
	start(&M, P9_TWRITE);
	put(&M, fid, 4);
	put(&M, off, 8);
	put(&M, l, 4);
	memcpy(M.b + M.n, data, l);
	M.n += l;
	return rpc(s, &M);
}

static int clunk(struct p9_server *s, u32 fid)
{
	start(&M, P9_TCLUNK);
	put(&M, fid, 4);
	return rpc(s, &M);
}

static int simple_fid_op(struct p9_server *s, u8 type, u32 fid)
{
	start(&M, type);
	put(&M, fid, 4);
	if (type == P9_TGETATTR)
		put(&M, 0x7ff, 8);
	return rpc(s, &M);
}

static int mkdir9(struct p9_server *s, u32 dfid, const char *name)
{
	start(&M, P9_TMKDIR);
	put(&M, dfid, 4);
	puts9(&M, name);
	put(&M, 0755, 4);
	put(&M, 0, 4);
	return rpc(s, &M);
}

static int symlink9(struct p9_server *s, u32 dfid, const char *name, const char *target)
{
	start(&M, P9_TSYMLINK);
	put(&M, dfid, 4);
	puts9(&M, name);
	puts9(&M, target);
	put(&M, 0, 4);
	return rpc(s, &M);
}

static int unlinkat9(struct p9_server *s, u32 dfid, const char *name, u32 flags)
{
	start(&M, P9_TUNLINKAT);
	put(&M, dfid, 4);
	puts9(&M, name);
	put(&M, flags, 4);
	return rpc(s, &M);
}

static int renameat9(struct p9_server *s, u32 ofid, const char *o, u32 nfid, const char *n)
{
	start(&M, P9_TRENAMEAT);
	put(&M, ofid, 4);
	puts9(&M, o);
	put(&M, nfid, 4);
	puts9(&M, n);
	return rpc(s, &M);
}

static int setsize(struct p9_server *s, u32 fid, u64 size)
{
	start(&M, P9_TSETATTR);
	put(&M, fid, 4);
	put(&M, P9_SETATTR_SIZE, 4);
	put(&M, 0, 4);
	put(&M, 0, 4);
	put(&M, 0, 4);
	put(&M, size, 8);
	for (int i = 0; i < 4; i++)
		put(&M, 0, 8);
	return rpc(s, &M);
}

/* ---- host fixtures ---- */

static void writefile(const char *dir, const char *name, const char *data)
{
	char p[600];
	int fd;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		abort();
	close(fd);
}

static int readhost(const char *dir, const char *name, char *buf, size_t n)
{
	char p[600];
	int fd;
	ssize_t r;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	buf[r < 0 ? 0 : r] = '\0';
	return (int)r;
}

static bool exists(const char *dir, const char *name)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

static void fixtures(void)
{
	char p[600];
	snprintf(base, sizeof(base), "/tmp/lkvm-test-9p.%d", (int)getpid());
	snprintf(share, sizeof(share), "%s/share", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	if (mkdir(base, 0755) || mkdir(share, 0755) || mkdir(outside, 0755))
		abort();
	writefile(outside, "secret", "SECRET");
	writefile(share, "hello", "hello world");
	snprintf(p, sizeof(p), "%s/d", share);
	if (mkdir(p, 0755))
		abort();
	writefile(p, "inner", "inner file");
	snprintf(p, sizeof(p), "%s/out", share);
	if (symlink("../outside/secret", p))
		abort();
	snprintf(p, sizeof(p), "%s/outdir", share);
	if (symlink("../outside", p))
		abort();
	snprintf(p, sizeof(p), "%s/abs", share);
	if (symlink(outside, p))
		abort();
}

/* ---- the tests ---- */

static void test_version(void)
{
	struct p9_server s;
	char err[256];
	CHECK(&uc, p9_server_init(&s, share, false, err, sizeof(err)) == 0, "server on %s", share);
	CHECK(&uc, attach(&s, 1) == EPROTO, "attach before Tversion: Rlerror EPROTO");
	CHECK(&uc, version(&s, 1u << 24, "9P2000.L") == 0 && get(7, 4) == P9_MAX_MSIZE,
	      "msize capped at %u", P9_MAX_MSIZE);
	CHECK(&uc, version(&s, 8192, "9P2000.L") == 0 && get(7, 4) == 8192, "msize 8192 accepted as proposed");
	CHECK(&uc, version(&s, 8192, "9P2000.u") == 0 && get(11, 2) == 7 && !memcmp(rep + 13, "unknown", 7),
	      "9P2000.u: version 'unknown'");
	CHECK(&uc, version(&s, 100, "9P2000.L") == 0 && !memcmp(rep + 13, "unknown", 7), "msize 100: 'unknown'");
	{
		/* a Tversion whose reply buffer is tiny still negotiates the large msize */
		struct msg *m = malloc(sizeof(*m));
		start(m, P9_TVERSION);
		put(m, 1u << 19, 4);
		puts9(m, "9P2000.L");
		finish(m);
		rlen = p9_handle(&s, m->b, m->n, rep, 40);
		CHECK(&uc, rlen == 21 && get(7, 4) == 1u << 19, "msize 512 KiB negotiated through a 40-byte reply buffer");
		free(m);
	}
	p9_server_destroy(&s);
}

static void test_traversal(bool fallback)
{
	struct p9_server s;
	char err[256], buf[256], p[600];
	const char *how = fallback ? " (O_NOFOLLOW walk)" : " (openat2)";
	int nq;

	p9_server_init(&s, share, false, err, sizeof(err));
	s.no_openat2 = fallback;
	version(&s, 65536, "9P2000.L");
	CHECK(&uc, attach(&s, 1) == 0 && rep[7] == P9_QTDIR, "attach: root qid is a directory%s", how);
	u64 rootq = get(12, 8);

	CHECK(&uc, walk(&s, 1, 2, &nq, 1, "hello") == 0 && nq == 1, "walk hello%s", how);
	CHECK(&uc, lopen(&s, 2, 0) == 0 && readf(&s, 2, 0, 100, buf, sizeof(buf)) == 11 && !strcmp(buf, "hello world"),
	      "lopen+read hello: '%s'%s", buf, how);
	CHECK(&uc, readf(&s, 2, 6, 100, buf, sizeof(buf)) == 5 && !strcmp(buf, "world"), "read at offset 6%s", how);
	CHECK(&uc, readf(&s, 2, 1ULL << 63, 100, buf, sizeof(buf)) == -EINVAL, "read at offset 2^63: EINVAL%s", how);

	CHECK(&uc, walk(&s, 1, 3, &nq, 1, "..") == 0 && nq == 1 && get(9 + 5, 8) == rootq, "'..' of the root is the root%s",
	      how);
	CHECK(&uc, walk(&s, 1, 4, &nq, 3, "..", "..", "outside") == 0 && nq == 2, "../../outside: partial walk (2 qids)%s",
	      how);
	CHECK(&uc, simple_fid_op(&s, P9_TGETATTR, 4) == EBADF, "partial walk creates no fid%s", how);
	CHECK(&uc, walk(&s, 1, 4, &nq, 4, "d", "..", "..", "hello") == 0 && nq == 4, "d/../../hello stays inside%s", how);
	CHECK(&uc, lopen(&s, 4, 0) == 0 && readf(&s, 4, 0, 100, buf, sizeof(buf)) > 0 && !strcmp(buf, "hello world"),
	      "  and is the share's hello%s", how);
	CHECK(&uc, walk(&s, 1, 5, NULL, 1, "d/inner") == EINVAL, "a name with '/': EINVAL%s", how);
	CHECK(&uc, walk(&s, 1, 5, NULL, 1, "") == EINVAL, "an empty name: EINVAL%s", how);

	/* symlinks planted on the host */
	CHECK(&uc, walk(&s, 1, 5, &nq, 1, "out") == 0 && nq == 1 && rep[9] == P9_QTSYMLINK,
	      "walk to a symlink gives the link itself%s", how);
	CHECK(&uc, lopen(&s, 5, 0) == ELOOP, "lopen of a symlink pointing outside: ELOOP%s", how);
	CHECK(&uc, readf(&s, 5, 0, 100, buf, sizeof(buf)) == -EBADF, "  nothing can be read from it%s", how);
	start(&M, P9_TREADLINK);
	put(&M, 5, 4);
	CHECK(&uc, rpc(&s, &M) == 0 && get(7, 2) == 17 && !memcmp(rep + 9, "../outside/secret", 17),
	      "readlink returns the text for the guest to resolve%s", how);
	CHECK(&uc, walk(&s, 1, 6, &nq, 2, "outdir", "secret") == 0 && nq == 1, "walk through a dir symlink stops%s", how);
	CHECK(&uc, simple_fid_op(&s, P9_TGETATTR, 6) == EBADF, "  no fid past the symlink%s", how);
	CHECK(&uc, walk(&s, 1, 6, &nq, 2, "abs", "secret") == 0 && nq == 1, "absolute symlink: walk stops%s", how);

	/* a symlink swapped in between walk and open */
	writefile(share, "victim", "victim");
	CHECK(&uc, walk(&s, 1, 7, &nq, 1, "victim") == 0, "walk victim%s", how);
	snprintf(p, sizeof(p), "%s/victim", share);
	unlink(p);
	if (symlink("../outside/secret", p))
		abort();
	CHECK(&uc, lopen(&s, 7, 0) != 0, "victim swapped for a symlink after the walk: lopen fails%s", how);
	CHECK(&uc, readf(&s, 7, 0, 100, buf, sizeof(buf)) < 0, "  and nothing is read%s", how);
	unlink(p);

	/* a directory swapped for a symlink between walk and create */
	snprintf(p, sizeof(p), "%s/sw", share);
	mkdir(p, 0755);
	CHECK(&uc, walk(&s, 1, 8, NULL, 1, "sw") == 0, "walk sw%s", how);
	rmdir(p);
	if (symlink("../outside", p))
		abort();
	CHECK(&uc, lcreate(&s, 8, "planted", 1, 0644) != 0 && !exists(outside, "planted"),
	      "dir swapped for a symlink: lcreate fails, nothing appears outside%s", how);
	CHECK(&uc, mkdir9(&s, 8, "planted") != 0 && !exists(outside, "planted"), "  same for mkdir%s", how);
	unlink(p);

	/* a symlink the guest creates */
	CHECK(&uc, symlink9(&s, 1, "evil", outside) == 0, "guest creates a symlink to %s%s", outside, how);
	CHECK(&uc, walk(&s, 1, 9, &nq, 2, "evil", "secret") == 0 && nq == 1, "  walking through it stops%s", how);
	CHECK(&uc, walk(&s, 1, 9, NULL, 1, "evil") == 0 && lopen(&s, 9, 0) == ELOOP, "  opening it: ELOOP%s", how);
	CHECK(&uc, lcreate(&s, 1, "evil", 1 | P9_DOTL_CREATE, 0644) != 0, "  lcreate through it fails%s", how);
	CHECK(&uc, readhost(outside, "secret", buf, sizeof(buf)) == 6 && !strcmp(buf, "SECRET"),
	      "the outside file is untouched%s", how);
	clunk(&s, 9);
	unlinkat9(&s, 1, "evil", 0);
	p9_server_destroy(&s);
}

static void test_ops(void)
{
	struct p9_server s;
	char err[256], buf[256], p[600];
	struct stat st;
	int nq;

	p9_server_init(&s, share, false, err, sizeof(err));
	version(&s, 65536, "9P2000.L");
	attach(&s, 1);
	CHECK(&uc, walk(&s, 1, 2, &nq, 0) == 0 && nq == 0, "walk with no names clones the fid");
	CHECK(&uc, lcreate(&s, 2, "new", 2 | P9_DOTL_CREATE, 04755) == 0, "lcreate new (mode 04755)");
	snprintf(p, sizeof(p), "%s/new", share);
	CHECK(&uc, stat(p, &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_uid == getuid(),
	      "new is 0755 (no set-uid), owned by the user running lkvm (mode %o)", st.st_mode & 07777);
	CHECK(&uc, writef(&s, 2, 0, "written by guest") == 0 && get(7, 4) == 16, "write 16 bytes");
	CHECK(&uc, readhost(share, "new", buf, sizeof(buf)) == 16 && !strcmp(buf, "written by guest"), "host reads them");
	CHECK(&uc, simple_fid_op(&s, P9_TFSYNC, 2) == 0, "fsync");
	start(&M, P9_TLOCK);
	put(&M, 2, 4); put(&M, 1, 1); put(&M, 0, 4); put(&M, 0, 8); put(&M, 0, 8); put(&M, 1, 4); puts9(&M, "c");
	CHECK(&uc, rpc(&s, &M) == 0 && rep[7] == 0, "lock: success");
	start(&M, P9_TGETLOCK);
	put(&M, 2, 4); put(&M, 1, 1); put(&M, 0, 8); put(&M, 0, 8); put(&M, 1, 4); puts9(&M, "c");
	CHECK(&uc, rpc(&s, &M) == 0, "getlock");
	CHECK(&uc, setsize(&s, 2, 7) == 0 && stat(p, &st) == 0 && st.st_size == 7, "setattr size 7");
	CHECK(&uc, simple_fid_op(&s, P9_TGETATTR, 2) == 0 && get(7 + 8 + 13 + 4 + 4 + 4 + 8 + 8, 8) == 7,
	      "getattr size 7");
	CHECK(&uc, simple_fid_op(&s, P9_TSTATFS, 1) == 0 && get(11, 4) > 0, "statfs bsize %llu",
	      (unsigned long long)get(11, 4));
	clunk(&s, 2);
	CHECK(&uc, clunk(&s, 2) == EBADF, "clunk twice: EBADF");

	CHECK(&uc, mkdir9(&s, 1, "sub") == 0 && rep[7] == P9_QTDIR, "mkdir sub");
	CHECK(&uc, renameat9(&s, 1, "new", 1, "renamed") == 0 && exists(share, "renamed") && !exists(share, "new"),
	      "renameat new -> renamed");
	CHECK(&uc, renameat9(&s, 1, "renamed", 1, "..") == EINVAL, "renameat to '..': EINVAL");
	start(&M, P9_TLINK);
	walk(&s, 1, 3, NULL, 1, "renamed");
	start(&M, P9_TLINK);
	put(&M, 1, 4); put(&M, 3, 4); puts9(&M, "hardlink");
	CHECK(&uc, rpc(&s, &M) == 0 && exists(share, "hardlink"), "link renamed -> hardlink");
	start(&M, P9_TRENAME);
	put(&M, 3, 4); put(&M, 1, 4); puts9(&M, "again");
	CHECK(&uc, rpc(&s, &M) == 0 && exists(share, "again"), "rename (fid) renamed -> again");
	CHECK(&uc, simple_fid_op(&s, P9_TGETATTR, 3) == 0, "  the fid still works");
	CHECK(&uc, simple_fid_op(&s, P9_TREMOVE, 3) == 0 && !exists(share, "again"), "remove again");
	CHECK(&uc, unlinkat9(&s, 1, "hardlink", 0) == 0 && unlinkat9(&s, 1, "sub", 0x200) == 0 &&
	      !exists(share, "sub"), "unlinkat hardlink, rmdir sub");

	/* readdir: every name once */
	walk(&s, 1, 4, NULL, 0);
	CHECK(&uc, lopen(&s, 4, 0) == 0, "lopen the root directory");
	{
		u64 off = 0;
		int seen_hello = 0, seen_d = 0, rounds = 0;
		for (;;) {
			start(&M, P9_TREADDIR);
			put(&M, 4, 4); put(&M, off, 8); put(&M, 64, 4); /* small count: several rounds */
			if (rpc(&s, &M) || get(7, 4) == 0 || ++rounds > 100)
				break;
			for (size_t pos = 11; pos < 11 + get(7, 4);) {
				size_t nl = get(pos + 22, 2);
				off = get(pos + 13, 8);
				if (nl == 5 && !memcmp(rep + pos + 24, "hello", 5))
					seen_hello++;
				if (nl == 1 && rep[pos + 24] == 'd')
					seen_d++;
				pos += 24 + nl;
			}
		}
		CHECK(&uc, seen_hello == 1 && seen_d == 1, "readdir in 64-byte rounds lists hello and d once (%d rounds)",
		      rounds);
	}
	CHECK(&uc, writef(&s, 4, 0, "x") != 0, "write to a directory fails");
	start(&M, P9_TXATTRWALK);
	put(&M, 1, 4); put(&M, 10, 4); puts9(&M, "user.x");
	CHECK(&uc, rpc(&s, &M) == EOPNOTSUPP, "xattrwalk: EOPNOTSUPP");
	start(&M, P9_TMKNOD);
	put(&M, 1, 4); puts9(&M, "dev"); put(&M, S_IFCHR | 0600, 4); put(&M, 1, 4); put(&M, 3, 4); put(&M, 0, 4);
	CHECK(&uc, rpc(&s, &M) == EPERM && !exists(share, "dev"), "mknod of a device node: EPERM");
	start(&M, P9_TMKNOD);
	put(&M, 1, 4); puts9(&M, "fifo"); put(&M, S_IFIFO | 0600, 4); put(&M, 0, 4); put(&M, 0, 4); put(&M, 0, 4);
	CHECK(&uc, rpc(&s, &M) == 0 && exists(share, "fifo"), "mknod fifo");
	CHECK(&uc, walk(&s, 1, 5, NULL, 1, "fifo") == 0 && lopen(&s, 5, 0) == EOPNOTSUPP,
	      "opening a fifo is refused (it would block the server)");
	unlinkat9(&s, 1, "fifo", 0);

	/* large reads and writes */
	{
		static char big[60000];
		memset(big, 'z', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		walk(&s, 1, 6, NULL, 0);
		lcreate(&s, 6, "big", 2 | P9_DOTL_CREATE, 0644);
		CHECK(&uc, writef(&s, 6, 0, big) == 0 && get(7, 4) == sizeof(big) - 1, "write %zu bytes in one message",
		      sizeof(big) - 1);
		start(&M, P9_TREAD);
		put(&M, 6, 4); put(&M, 0, 8); put(&M, 0xffffffff, 4);
		CHECK(&uc, rpc(&s, &M) == 0 && get(7, 4) == sizeof(big) - 1 && rlen == 11 + sizeof(big) - 1,
		      "read count 0xffffffff is clamped to what fits (got %llu)", (unsigned long long)get(7, 4));
		clunk(&s, 6);
		unlinkat9(&s, 1, "big", 0);
	}
	p9_server_destroy(&s);
}

static int count_entries(const char *dir)
{
	char cmd[700], out[64];
	FILE *f;
	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	f = popen(cmd, "r");
	if (!f || !fgets(out, sizeof(out), f))
		return -1;
	pclose(f);
	return atoi(out);
}

static void test_ro(void)
{
	struct p9_server s;
	char err[256], buf[64];
	int before = count_entries(share);

	p9_server_init(&s, share, true, err, sizeof(err));
	version(&s, 65536, "9P2000.L");
	attach(&s, 1);
	walk(&s, 1, 2, NULL, 1, "hello");
	CHECK(&uc, lopen(&s, 2, 1) == EROFS, "ro: lopen for writing: EROFS");
	CHECK(&uc, lopen(&s, 2, P9_DOTL_TRUNC) == EROFS, "ro: lopen with O_TRUNC: EROFS");
	CHECK(&uc, setsize(&s, 2, 0) == EROFS, "ro: setattr: EROFS");
	CHECK(&uc, lopen(&s, 2, 0) == 0 && readf(&s, 2, 0, 64, buf, sizeof(buf)) == 11, "ro: reading works");
	CHECK(&uc, writef(&s, 2, 0, "x") == EROFS, "ro: write on a read-only open: EROFS");
	walk(&s, 1, 3, NULL, 0);
	CHECK(&uc, lcreate(&s, 3, "x", 1 | P9_DOTL_CREATE, 0644) == EROFS, "ro: lcreate: EROFS");
	CHECK(&uc, mkdir9(&s, 1, "x") == EROFS, "ro: mkdir: EROFS");
	CHECK(&uc, symlink9(&s, 1, "x", "y") == EROFS, "ro: symlink: EROFS");
	CHECK(&uc, unlinkat9(&s, 1, "hello", 0) == EROFS, "ro: unlinkat: EROFS");
	CHECK(&uc, renameat9(&s, 1, "hello", 1, "x") == EROFS, "ro: renameat: EROFS");
	walk(&s, 1, 4, NULL, 1, "hello");
	CHECK(&uc, simple_fid_op(&s, P9_TREMOVE, 4) == EROFS, "ro: remove: EROFS");
	CHECK(&uc, count_entries(share) == before && readhost(share, "hello", buf, sizeof(buf)) == 11,
	      "ro: the host directory is unchanged (%d entries)", before);
	p9_server_destroy(&s);
}

static void test_malformed(void)
{
	struct p9_server s;
	char err[256];
	u8 small[16];

	p9_server_init(&s, share, false, err, sizeof(err));
	version(&s, 8192, "9P2000.L");
	attach(&s, 1);
	CHECK(&uc, p9_handle(&s, "\x05\0\0", 3, rep, sizeof(rep)) == 11 && rep[4] == P9_RLERROR && get(5, 2) == 0xffff,
	      "3-byte message: Rlerror, tag 0xffff");
	CHECK(&uc, p9_handle(&s, M.b, 7, small, 10) == 0, "reply space under 11 bytes: no reply");
	start(&M, P9_TCLUNK);
	put(&M, 1, 4);
	finish(&M);
	M.b[0] = 200; /* size past the buffer */
	CHECK(&uc, p9_handle(&s, M.b, M.n, rep, sizeof(rep)) == 11 && get(7, 4) == EPROTO, "size field too big: EPROTO");
	M.b[0] = 3;
	CHECK(&uc, p9_handle(&s, M.b, M.n, rep, sizeof(rep)) == 11 && get(7, 4) == EPROTO, "size field < 7: EPROTO");
	start(&M, 99);
	CHECK(&uc, rpc(&s, &M) == EOPNOTSUPP, "unknown type: EOPNOTSUPP");
	start(&M, P9_TWALK);
	put(&M, 1, 4); put(&M, 2, 4); put(&M, 2, 2); puts9(&M, "hello");
	CHECK(&uc, rpc(&s, &M) == EINVAL, "walk with fewer names than nwname: EINVAL");
	start(&M, P9_TWALK);
	put(&M, 1, 4); put(&M, 2, 4); put(&M, 17, 2);
	for (int i = 0; i < 17; i++)
		puts9(&M, "d");
	CHECK(&uc, rpc(&s, &M) == EINVAL, "walk with 17 names: EINVAL");
	start(&M, P9_TWALK);
	put(&M, 1, 4); put(&M, 2, 4); put(&M, 1, 2); put(&M, 5, 2); memcpy(M.b + M.n, "he\0lo", 5); M.n += 5;
	CHECK(&uc, rpc(&s, &M) == EINVAL, "a name with a NUL: EINVAL");
	start(&M, P9_TWALK);
	put(&M, 1, 4); put(&M, 2, 4); put(&M, 1, 2); put(&M, 60000, 2);
	CHECK(&uc, rpc(&s, &M) == EINVAL, "string length past the message: EINVAL");
	CHECK(&uc, walk(&s, 77, 2, NULL, 1, "hello") == EBADF, "walk from an unknown fid: EBADF");
	CHECK(&uc, walk(&s, 1, 1, NULL, 1, "hello") == 0 && walk(&s, 1, 2, NULL, 0) == 0,
	      "walk onto the same fid replaces it");
	CHECK(&uc, attach(&s, 2) == EBADF, "attach onto a fid in use: EBADF");
	start(&M, P9_TWRITE);
	put(&M, 2, 4); put(&M, 0, 8); put(&M, 100000, 4);
	CHECK(&uc, rpc(&s, &M) == EINVAL, "write count past the message: EINVAL");
	start(&M, P9_TREAD);
	put(&M, 1, 4); put(&M, 0, 8); put(&M, 10, 4);
	M.b[M.n++] = 0; /* a trailing byte inside the size is fine; one outside is ignored */
	CHECK(&uc, rpc(&s, &M) == EBADF, "read from an unopened fid: EBADF");

	/* random mutations of valid messages: every reply well-formed, nothing crashes (ASan/UBSan watch) */
	{
		unsigned int seed = 12345, bad = 0;
		const u8 types[] = { P9_TWALK, P9_TLOPEN, P9_TREAD, P9_TWRITE, P9_TREADDIR, P9_TGETATTR, P9_TSETATTR,
				     P9_TLCREATE, P9_TMKDIR, P9_TRENAMEAT, P9_TUNLINKAT, P9_TLOCK, P9_TCLUNK, P9_TSYMLINK,
				     P9_TREADLINK, P9_TLINK, P9_TSTATFS, P9_TFLUSH, P9_TVERSION, P9_TATTACH };
		char p[600];
		snprintf(p, sizeof(p), "%s/fuzz", base);
		mkdir(p, 0755);
		struct p9_server fz;
		p9_server_init(&fz, p, false, err, sizeof(err));
		version(&fz, 8192, "9P2000.L");
		attach(&fz, 1);
		for (int i = 0; i < 20000; i++) {
			size_t n = 7 + (rand_r(&seed) % 60);
			start(&M, types[rand_r(&seed) % ARRAY_SIZE(types)]);
			while (M.n < n)
				M.b[M.n++] = (u8)(rand_r(&seed) % 4 == 0 ? rand_r(&seed) : rand_r(&seed) % 3);
			if (rand_r(&seed) % 8)
				finish(&M);
			size_t cap = 11 + rand_r(&seed) % 200;
			size_t r = p9_handle(&fz, M.b, M.n, rep, cap);
			if (r < 11 || r > cap || get(0, 4) != r)
				if (!(r >= 7 && r <= cap && get(0, 4) == r))
					bad++;
			if (i % 1000 == 0) {
				version(&fz, 8192, "9P2000.L");
				attach(&fz, 1);
			}
		}
		CHECK(&uc, bad == 0, "20000 mutated messages: every reply well-formed and within its buffer");
		p9_server_destroy(&fz);
	}
	p9_server_destroy(&s);
}

static void test_spec(void)
{
	struct virtio_9p_spec sp;
	char err[256];
	CHECK(&uc, virtio_9p_parse_spec("/srv/x,tag", &sp, err, sizeof(err)) == 0 && !strcmp(sp.dir, "/srv/x") &&
	      !strcmp(sp.tag, "tag") && !sp.ro, "--9p /srv/x,tag");
	free(sp.dir);
	CHECK(&uc, virtio_9p_parse_spec("/srv/x,tag,ro", &sp, err, sizeof(err)) == 0 && sp.ro, "--9p /srv/x,tag,ro");
	free(sp.dir);
	CHECK(&uc, virtio_9p_parse_spec("/srv/data/", &sp, err, sizeof(err)) == 0 && !strcmp(sp.tag, "data"),
	      "--9p /srv/data/: tag 'data'");
	free(sp.dir);
	CHECK(&uc, virtio_9p_parse_spec("/srv/x,tag,rw", &sp, err, sizeof(err)) == -1 && strstr(err, "'rw'"),
	      "--9p DIR,TAG,rw: %s", err);
	CHECK(&uc, virtio_9p_parse_spec(",tag", &sp, err, sizeof(err)) == -1, "--9p ,tag: %s", err);
	CHECK(&uc, virtio_9p_parse_spec("/x,", &sp, err, sizeof(err)) == -1, "--9p /x,: %s", err);
	{
		struct p9_server s;
		CHECK(&uc, p9_server_init(&s, "/nonexistent-9p", false, err, sizeof(err)) == -1 && strstr(err, "nonexistent"),
		      "a missing share: %s", err);
	}
}

static void test_cli(void)
{
	struct kvm_config cfg;
	char err[512];
	bool help;
	const char *a1[] = { "-d", share, "--9p", "/srv/a,a", "--9p", "/srv/b,b,ro" };
	const char *a2[] = { "-d", share, "-d", base };
	const char *a3[] = { "--9p", "/srv/a,a,bogus" };

	CHECK(&uc, run_parse_args(6, a1, &cfg, &help, err, sizeof(err)) == 0 && cfg.rootdir == share &&
	      cfg.nr_shares == 2 && cfg.nr_disks == 0, "-d DIR is the 9p root, --9p twice is two shares");
	CHECK(&uc, run_parse_args(4, a2, &cfg, &help, err, sizeof(err)) == -1, "two -d DIRs: %s", err);
	CHECK(&uc, run_parse_args(2, a3, &cfg, &help, err, sizeof(err)) == -1, "bad --9p option: %s", err);
}

int main(void)
{
	char cmd[400];
	fixtures();
	test_version();
	test_traversal(false);
	test_traversal(true);
	test_ops();
	test_ro();
	test_malformed();
	test_spec();
	test_cli();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd))
		printf("# could not remove %s\n", base);
	UNIT_DONE(&uc);
}
