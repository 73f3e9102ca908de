/* The 9P2000.L server: p9_handle() parses each hostile request and answers it from the confined share. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "9p-int.h"

/* ---- request handlers: return 0 with the reply body in out, or -errno (sent as Rlerror) ---- */


int p9_fstat_fd(int fd, struct stat *st)
{
	return fstat(fd, st) < 0 ? -errno : 0;
}

static int h_version(struct p9_req *r)
{
	u32 msize = p9_in32(r->in);
	u16 vlen = p9_in16(r->in);
	const u8 *ver = p9_in_take(r->in, vlen);
	static const char mine[] = "9P2000.L";

	if (r->in->bad)
		return -EPROTO;
	p9_fid_clear_all(r->s); /* a new session: every fid of the old one is gone */
	/*
	 * Not capped by this reply's buffer: Linux sizes each request's reply buffer to what that reply can need (a
	 * few bytes for Rversion). Every reply is bounded by its own request's buffer instead (reads and readdirs
	 * return less).
	 */
	if (msize > P9_MAX_MSIZE)
		msize = P9_MAX_MSIZE;
	if (vlen != sizeof(mine) - 1 || memcmp(ver, mine, vlen) || msize < P9_MIN_MSIZE) {
		r->s->msize = 0;
		out32(r->out, msize);
		p9_out_str(r->out, "unknown", 7);
		return 0;
	}
	r->s->msize = msize;
	out32(r->out, msize);
	p9_out_str(r->out, mine, sizeof(mine) - 1);
	return 0;
}

static int h_attach(struct p9_req *r)
{
	char uname[NAMEBUF], aname[P9_MAX_PATH + 1];
	u32 fid = p9_in32(r->in), afid = p9_in32(r->in);
	struct stat st;
	char *path;
	int fd, e;

	p9_in_str(r->in, uname, sizeof(uname));
	p9_in_str(r->in, aname, sizeof(aname));
	p9_in32(r->in); /* n_uname: no uid mapping, everything is done as the user running lkvm */
	if (r->in->bad)
		return -EINVAL;
	if (afid != P9_NOFID)
		return -EOPNOTSUPP;
	if (p9_fid_get(r->s, fid))
		return -EBADF;
	fd = p9_open_beneath(r->s, -1, "", O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	if ((e = p9_fstat_fd(fd, &st))) {
		close(fd);
		return e;
	}
	if (!(path = strdup(""))) {
		close(fd);
		return -ENOMEM;
	}
	if ((e = p9_fid_set(r->s, fid, fd, path, false)))
		return e;
	p9_out_qid(r->out, &st);
	return 0;
}

static int h_walk(struct p9_req *r)
{
	u32 fid = p9_in32(r->in), newfid = p9_in32(r->in);
	u16 n = p9_in16(r->in);
	char names[P9_MAX_WELEM][NAMEBUF];
	size_t lens[P9_MAX_WELEM];
	struct p9_fid *f;
	char *path;
	int fd = -1, e = 0;
	u8 *nwqid;
	u16 done;

	if (r->in->bad)
		return -EINVAL;
	if (n > P9_MAX_WELEM)
		return -EINVAL;
	for (u16 i = 0; i < n; i++)
		lens[i] = p9_in_str(r->in, names[i], sizeof(names[i]));
	if (r->in->bad)
		return -EINVAL;
	for (u16 i = 0; i < n; i++) {
		if (lens[i] == 0 || strchr(names[i], '/'))
			return -EINVAL;
	}
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if (newfid != fid && p9_fid_get(r->s, newfid))
		return -EBADF;
	if (!(path = strdup(f->path)))
		return -ENOMEM;
	nwqid = r->out->p + r->out->off;
	out16(r->out, 0); /* nwqid, patched below */
	for (done = 0; done < n; done++) {
		struct stat st;
		char *next;
		e = p9_path_step(path, names[done], lens[done], &next);
		if (e)
			break;
		free(path);
		path = next;
		if (fd >= 0)
			close(fd);
		fd = p9_open_beneath(r->s, -1, path, O_PATH, 0);
		if (fd < 0) {
			e = fd;
			break;
		}
		if ((e = p9_fstat_fd(fd, &st)))
			break;
		p9_out_qid(r->out, &st);
	}
	if (done < n) {
		if (fd >= 0)
			close(fd);
		free(path);
		if (done == 0)
			return e;
		/* a partial walk: the qids that worked, and newfid is not created */
		nwqid[0] = (u8)done;
		nwqid[1] = (u8)(done >> 8);
		return 0;
	}
	if (n == 0) {
		fd = p9_open_beneath(r->s, -1, path, O_PATH, 0);
		if (fd < 0) {
			free(path);
			return fd;
		}
	}
	nwqid[0] = (u8)n;
	nwqid[1] = (u8)(n >> 8);
	return p9_fid_set(r->s, newfid, fd, path, false);
}

/* stat of name in dirfd without following it, for the qid of something just made. */
int p9_stat_name(int dirfd, const char *name, struct stat *st)
{
	return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int h_readlink(struct p9_req *r)
{
	u32 fid = p9_in32(r->in);
	struct p9_fid *f;
	char buf[P9_MAX_PATH + 1];
	ssize_t n;

	if (r->in->bad)
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	n = readlinkat(f->fd, "", buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	p9_out_str(r->out, buf, (size_t)n);
	return 0;
}

static int h_getattr(struct p9_req *r)
{
	u32 fid = p9_in32(r->in);
	struct p9_fid *f;
	struct stat st;
	int e;

	p9_in64(r->in); /* request_mask: we always answer the basic set */
	if (r->in->bad)
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if ((e = p9_fstat_fd(f->fd, &st)))
		return e;
	out64(r->out, 0x7ff); /* P9_GETATTR_BASIC */
	p9_out_qid(r->out, &st);
	out32(r->out, st.st_mode);
	out32(r->out, st.st_uid);
	out32(r->out, st.st_gid);
	out64(r->out, st.st_nlink);
	out64(r->out, st.st_rdev);
	out64(r->out, (u64)st.st_size);
	out64(r->out, (u64)st.st_blksize);
	out64(r->out, (u64)st.st_blocks);
	out64(r->out, (u64)st.st_atim.tv_sec);
	out64(r->out, (u64)st.st_atim.tv_nsec);
	out64(r->out, (u64)st.st_mtim.tv_sec);
	out64(r->out, (u64)st.st_mtim.tv_nsec);
	out64(r->out, (u64)st.st_ctim.tv_sec);
	out64(r->out, (u64)st.st_ctim.tv_nsec);
	for (int i = 0; i < 4; i++)
		out64(r->out, 0); /* btime sec/nsec, gen, data_version */
	return 0;
}

static int h_statfs(struct p9_req *r)
{
	u32 fid = p9_in32(r->in);
	struct p9_fid *f;
	struct statfs sf;

	if (r->in->bad)
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if (fstatfs(f->fd, &sf) < 0)
		return -errno;
	out32(r->out, (u32)sf.f_type);
	out32(r->out, (u32)sf.f_bsize);
	out64(r->out, sf.f_blocks);
	out64(r->out, sf.f_bfree);
	out64(r->out, sf.f_bavail);
	out64(r->out, sf.f_files);
	out64(r->out, sf.f_ffree);
	out64(r->out, (u64)(u32)sf.f_fsid.__val[0] | ((u64)(u32)sf.f_fsid.__val[1] << 32));
	out32(r->out, (u32)sf.f_namelen);
	return 0;
}

static int h_clunk(struct p9_req *r)
{
	u32 fid = p9_in32(r->in);

	if (r->in->bad)
		return -EINVAL;
	if (!p9_fid_get(r->s, fid))
		return -EBADF;
	p9_fid_drop(r->s, fid);
	return 0;
}

static int h_flush(struct p9_req *r)
{
	p9_in16(r->in); /* every request is answered before the next is read: nothing is ever in flight */
	return r->in->bad ? -EINVAL : 0;
}

static int h_xattrwalk(struct p9_req *r)
{
	u32 fid = p9_in32(r->in);

	p9_in32(r->in);
	if (r->in->bad)
		return -EINVAL;
	return p9_fid_get(r->s, fid) ? -EOPNOTSUPP : -EBADF;
}

/* ---- the entry point ---- */

static int dispatch(struct p9_req *r, u8 type)
{
	if (type != P9_TVERSION && !r->s->msize)
		return -EPROTO; /* nothing but Tversion until a version is agreed */
	switch (type) {
	case P9_TVERSION: return h_version(r);
	case P9_TATTACH: return h_attach(r);
	case P9_TWALK: return h_walk(r);
	case P9_TLOPEN: return p9_h_lopen(r);
	case P9_TLCREATE: return p9_h_lcreate(r);
	case P9_TREAD: return p9_h_read(r);
	case P9_TWRITE: return p9_h_write(r);
	case P9_TREADDIR: return p9_h_readdir(r);
	case P9_TGETATTR: return h_getattr(r);
	case P9_TSETATTR: return p9_h_setattr(r);
	case P9_TMKDIR: return p9_h_mkdir(r);
	case P9_TSYMLINK: return p9_h_symlink(r);
	case P9_TMKNOD: return p9_h_mknod(r);
	case P9_TREADLINK: return h_readlink(r);
	case P9_TLINK: return p9_h_link(r);
	case P9_TRENAME: return p9_h_rename(r);
	case P9_TRENAMEAT: return p9_h_renameat(r);
	case P9_TUNLINKAT: return p9_h_unlinkat(r);
	case P9_TREMOVE: return p9_h_remove(r);
	case P9_TCLUNK: return h_clunk(r);
	case P9_TSTATFS: return h_statfs(r);
	case P9_TFSYNC: return p9_h_fsync(r);
	case P9_TLOCK: return p9_h_lock(r, false);
	case P9_TGETLOCK: return p9_h_lock(r, true);
	case P9_TFLUSH: return h_flush(r);
	case P9_TXATTRWALK: return h_xattrwalk(r);
	case P9_TXATTRCREATE: return r->s->ro ? -EROFS : -EOPNOTSUPP;
	default: return -EOPNOTSUPP;
	}
}

static void put_hdr(u8 *p, u32 size, u8 type, u16 tag)
{
	p[0] = (u8)size;
	p[1] = (u8)(size >> 8);
	p[2] = (u8)(size >> 16);
	p[3] = (u8)(size >> 24);
	p[4] = type;
	p[5] = (u8)tag;
	p[6] = (u8)(tag >> 8);
}

size_t p9_handle(struct p9_server *s, const void *req, size_t len, void *reply, size_t cap)
{
	struct p9_in in = { .p = req, .len = len };
	struct p9_out out = { .p = reply };
	struct p9_req r = { .s = s, .in = &in, .out = &out };
	u32 size = p9_in32(&in);
	u8 type = p9_in8(&in);
	u16 tag = p9_in16(&in);
	int e;

	if (cap < P9_HDR + 4)
		return 0;
	if (s->msize && cap > s->msize)
		cap = s->msize;
	out.cap = cap;
	out.off = P9_HDR;
	if (in.bad) {
		tag = 0xffff;
		e = -EPROTO;
	} else if (size < P9_HDR || size > len || (s->msize && size > s->msize)) {
		e = -EPROTO;
	} else {
		in.len = size; /* bytes past the message are not ours to read */
		e = dispatch(&r, type);
		if (!e && out.full)
			e = -ENOBUFS; /* cannot happen with cap >= msize, but a reply never overruns */
	}
	if (e) {
		out.off = P9_HDR;
		out.full = false;
		out32(&out, (u32)-e);
		type = P9_TLERROR; /* +1 below: Rlerror */
	}
	put_hdr(out.p, (u32)out.off, (u8)(type + 1), tag);
	return out.off;
}

int p9_server_init(struct p9_server *s, const char *dir, bool ro, char *err, size_t errlen)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->ro = ro;
	s->root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		int e = errno;
		snprintf(err, errlen, "9p share %s: %s", dir,
			 e == ENOTDIR ? "not a directory; give a directory to share"
			 : e == ENOENT ? "no such directory; give an existing directory to share"
				       : strerror(e));
		return -1;
	}
	if (fstat(s->root_fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "9p share %s: not a directory; give a directory to share", dir);
		close(s->root_fd);
		return -1;
	}
	s->buckets = calloc(P9_FID_BUCKETS, sizeof(*s->buckets));
	if (!s->buckets) {
		snprintf(err, errlen, "9p share %s: out of memory", dir);
		close(s->root_fd);
		return -1;
	}
	return 0;
}

void p9_server_destroy(struct p9_server *s)
{
	if (s->buckets)
		p9_fid_clear_all(s);
	free(s->buckets);
	s->buckets = NULL;
	if (s->root_fd >= 0)
		close(s->root_fd);
	s->root_fd = -1;
}
