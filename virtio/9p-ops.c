/* 9p requests that change the share's namespace or attributes: create, link, rename, remove, setattr, locks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "9p-int.h"

/*
 * Tmkdir, Tsymlink and Tmknod begin alike: the request so far is sound (sound: what else the caller checked), the
 * name is one name, the directory fid resolves, the share is writable. Reads the trailing gid (ignored: no uid
 * mapping). Returns the directory's O_PATH fd, or -errno.
 */
static int make_begin(struct p9_req *r, u32 dfid, const char *name, size_t nlen, bool sound)
{
	int dfd;

	p9_in32(r->in);
	if (r->in->bad || p9_name_ok(name, nlen) || !sound)
		return -EINVAL;
	if ((dfd = p9_dir_fd(r->s, dfid, NULL)) < 0)
		return dfd;
	if (r->s->ro) {
		close(dfd);
		return -EROFS;
	}
	return dfd;
}

/* ...and end alike: e is 0 when name was made in dfd, whose qid is then the reply. Closes dfd. */
static int make_end(struct p9_req *r, int dfd, const char *name, int e)
{
	struct stat st;

	if (!e)
		e = p9_stat_name(dfd, name, &st);
	close(dfd);
	if (!e)
		p9_out_qid(r->out, &st);
	return e;
}

int p9_h_mkdir(struct p9_req *r)
{
	char name[NAMEBUF];
	u32 dfid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, name, sizeof(name));
	u32 mode = p9_in32(r->in);
	int dfd = make_begin(r, dfid, name, nlen, true), fd, e;

	if (dfd < 0)
		return dfd;
	e = mkdirat(dfd, name, p9_guest_mode(mode)) < 0 ? -errno : 0;
	if (!e && (fd = p9_open_beneath(r->s, dfd, name, O_RDONLY | O_DIRECTORY, 0)) >= 0) {
		(void)!fchmod(fd, p9_guest_mode(mode)); /* undo lkvm's umask; on failure keep what mkdir made */
		close(fd);
	}
	return make_end(r, dfd, name, e);
}

int p9_h_symlink(struct p9_req *r)
{
	char name[NAMEBUF], target[P9_MAX_PATH + 1];
	u32 dfid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, name, sizeof(name)), tlen = p9_in_str(r->in, target, sizeof(target));
	int dfd = make_begin(r, dfid, name, nlen, tlen != 0);

	if (dfd < 0)
		return dfd;
	/* The target is only text: lkvm never follows it; the guest resolves it in its own namespace. */
	return make_end(r, dfd, name, symlinkat(target, dfd, name) < 0 ? -errno : 0);
}

int p9_h_mknod(struct p9_req *r)
{
	char name[NAMEBUF];
	u32 dfid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, name, sizeof(name));
	u32 mode = p9_in32(r->in), major = p9_in32(r->in), minor = p9_in32(r->in);
	int dfd = make_begin(r, dfid, name, nlen, true), e;

	if (dfd < 0)
		return dfd;
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISREG(mode))
		e = -EPERM; /* no device nodes in a share: they would be the host's devices */
	else
		e = mknodat(dfd, name, (mode & S_IFMT) | p9_guest_mode(mode), makedev(major, minor)) < 0 ? -errno : 0;
	return make_end(r, dfd, name, e);
}

/*
 * Attribute changes on a fid that is only an O_PATH fd go through /proc/self/fd/N: the inode the walk found, not a
 * name that could have been swapped since.
 */
int p9_h_setattr(struct p9_req *r)
{
	u32 fid = p9_in32(r->in), valid = p9_in32(r->in), mode = p9_in32(r->in), uid = p9_in32(r->in), gid = p9_in32(r->in);
	u64 size = p9_in64(r->in), as = p9_in64(r->in), ans = p9_in64(r->in), ms = p9_in64(r->in), mns = p9_in64(r->in);
	struct p9_fid *f;
	char proc[40];

	if (r->in->bad)
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if (r->s->ro)
		return -EROFS;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	if (valid & P9_SETATTR_MODE) {
		if ((f->opened ? fchmod(f->fd, p9_guest_mode(mode)) : chmod(proc, p9_guest_mode(mode))) < 0)
			return -errno;
	}
	if (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) {
		uid_t u = (valid & P9_SETATTR_UID) ? (uid_t)uid : (uid_t)-1;
		gid_t g = (valid & P9_SETATTR_GID) ? (gid_t)gid : (gid_t)-1;
		if (fchownat(f->fd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (valid & P9_SETATTR_SIZE) {
		struct stat st;
		int e;
		if (size > (u64)INT64_MAX)
			return -EINVAL;
		if ((e = p9_fstat_fd(f->fd, &st)))
			return e;
		if (!S_ISREG(st.st_mode))
			return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		if (!(f->opened && ftruncate(f->fd, (off_t)size) == 0) && truncate(proc, (off_t)size) < 0)
			return -errno;
	}
	if (valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
		if (valid & P9_SETATTR_ATIME) {
			ts[0].tv_nsec = UTIME_NOW;
			if (valid & P9_SETATTR_ATIME_SET) {
				if (ans >= 1000000000ULL)
					return -EINVAL;
				ts[0] = (struct timespec){ .tv_sec = (time_t)as, .tv_nsec = (long)ans };
			}
		}
		if (valid & P9_SETATTR_MTIME) {
			ts[1].tv_nsec = UTIME_NOW;
			if (valid & P9_SETATTR_MTIME_SET) {
				if (mns >= 1000000000ULL)
					return -EINVAL;
				ts[1] = (struct timespec){ .tv_sec = (time_t)ms, .tv_nsec = (long)mns };
			}
		}
		if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
			return -errno;
	}
	return 0;
}

int p9_h_lock(struct p9_req *r, bool get)
{
	char client[NAMEBUF];
	u32 fid = p9_in32(r->in);
	u8 type = p9_in8(r->in);
	u32 flags = get ? 0 : p9_in32(r->in);
	u64 start = p9_in64(r->in), length = p9_in64(r->in);
	u32 proc_id = p9_in32(r->in);
	size_t clen = p9_in_str(r->in, client, sizeof(client));
	struct flock fl = { 0 };
	struct p9_fid *f;
	int e;

	(void)flags; /* a blocking request is answered "blocked"; the client polls */
	if (r->in->bad || type > 2 || start > (u64)INT64_MAX || length > (u64)INT64_MAX)
		return -EINVAL;
	if (!(f = p9_open_fid(r, fid, &e)))
		return e;
	fl.l_type = type == 0 ? F_RDLCK : type == 1 ? F_WRLCK : F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)start;
	fl.l_len = (off_t)length;
	if (get) {
		if (fcntl(f->fd, F_OFD_GETLK, &fl) < 0)
			return -errno;
		out8(r->out, fl.l_type == F_RDLCK ? 0 : fl.l_type == F_WRLCK ? 1 : 2);
		out64(r->out, (u64)fl.l_start);
		out64(r->out, (u64)fl.l_len);
		out32(r->out, proc_id);
		p9_out_str(r->out, client, clen);
		return 0;
	}
	if (fcntl(f->fd, F_OFD_SETLK, &fl) == 0)
		out8(r->out, 0); /* P9_LOCK_SUCCESS */
	else if (errno == EAGAIN || errno == EACCES)
		out8(r->out, 1); /* P9_LOCK_BLOCKED */
	else
		out8(r->out, 2); /* P9_LOCK_ERROR */
	return 0;
}

int p9_h_link(struct p9_req *r)
{
	char name[NAMEBUF];
	u32 dfid = p9_in32(r->in), fid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, name, sizeof(name));
	struct p9_fid *f;
	const char *base;
	int dfd, pfd, e;

	if (r->in->bad || p9_name_ok(name, nlen))
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if ((dfd = p9_dir_fd(r->s, dfid, NULL)) < 0)
		return dfd;
	if (r->s->ro) {
		close(dfd);
		return -EROFS;
	}
	if ((pfd = p9_open_parent(r->s, f->path, &base)) < 0) {
		close(dfd);
		return pfd;
	}
	e = linkat(pfd, base, dfd, name, 0) < 0 ? -errno : 0; /* flags 0: a symlink is linked, not followed */
	close(pfd);
	close(dfd);
	return e;
}

static int do_rename(struct p9_server *s, int odfd, const char *opath, const char *oname, int ndfd, const char *npath,
		     const char *nname, size_t nlen)
{
	char *newpath;
	int e;

	if (renameat(odfd, oname, ndfd, nname) < 0)
		return -errno;
	if (!p9_path_step(npath, nname, nlen, &newpath)) {
		p9_fid_rename(s, opath, newpath);
		free(newpath);
	}
	e = 0;
	return e;
}

int p9_h_rename(struct p9_req *r)
{
	char name[NAMEBUF];
	u32 fid = p9_in32(r->in), dfid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, name, sizeof(name));
	struct p9_fid *f, *d;
	const char *base;
	char *opath;
	int pfd, dfd, e;

	if (r->in->bad || p9_name_ok(name, nlen))
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if ((dfd = p9_dir_fd(r->s, dfid, &d)) < 0)
		return dfd;
	if (r->s->ro) {
		close(dfd);
		return -EROFS;
	}
	if ((pfd = p9_open_parent(r->s, f->path, &base)) < 0) {
		close(dfd);
		return pfd;
	}
	opath = strdup(f->path);
	e = opath ? do_rename(r->s, pfd, opath, base, dfd, d->path, name, nlen) : -ENOMEM;
	free(opath);
	close(pfd);
	close(dfd);
	return e;
}

int p9_h_renameat(struct p9_req *r)
{
	char oname[NAMEBUF], nname[NAMEBUF];
	u32 ofid = p9_in32(r->in);
	size_t olen = p9_in_str(r->in, oname, sizeof(oname));
	u32 nfid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, nname, sizeof(nname));
	struct p9_fid *od, *nd;
	char *opath = NULL;
	int odfd, ndfd, e;

	if (r->in->bad || p9_name_ok(oname, olen) || p9_name_ok(nname, nlen))
		return -EINVAL;
	if ((odfd = p9_dir_fd(r->s, ofid, &od)) < 0)
		return odfd;
	if ((ndfd = p9_dir_fd(r->s, nfid, &nd)) < 0) {
		close(odfd);
		return ndfd;
	}
	if (r->s->ro)
		e = -EROFS;
	else if ((e = p9_path_step(od->path, oname, olen, &opath)) == 0)
		e = do_rename(r->s, odfd, opath, oname, ndfd, nd->path, nname, nlen);
	free(opath);
	close(odfd);
	close(ndfd);
	return e;
}

int p9_h_unlinkat(struct p9_req *r)
{
	char name[NAMEBUF];
	u32 dfid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, name, sizeof(name));
	u32 flags = p9_in32(r->in);
	int dfd, e;

	if (r->in->bad || p9_name_ok(name, nlen) || (flags & ~(u32)AT_REMOVEDIR))
		return -EINVAL;
	if ((dfd = p9_dir_fd(r->s, dfid, NULL)) < 0)
		return dfd;
	e = r->s->ro ? -EROFS : unlinkat(dfd, name, (int)flags) < 0 ? -errno : 0;
	close(dfd);
	return e;
}

int p9_h_remove(struct p9_req *r)
{
	u32 fid = p9_in32(r->in);
	struct p9_fid *f;
	struct stat st;
	const char *base;
	int pfd, e;

	if (r->in->bad)
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if (r->s->ro)
		e = -EROFS;
	else if ((e = p9_fstat_fd(f->fd, &st)) == 0 && (pfd = p9_open_parent(r->s, f->path, &base)) >= 0) {
		e = unlinkat(pfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
		close(pfd);
	} else if (!e) {
		e = -EBUSY;
	}
	p9_fid_drop(r->s, fid); /* Tremove clunks the fid whatever happened */
	return e;
}
