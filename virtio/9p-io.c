/* The 9p server's file I/O requests: Tlopen, Tlcreate, Tread, Twrite, Treaddir and Tfsync on the confined share. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "9p-int.h"

/* 9P2000.L open flags to host flags; only what makes sense for a file server. */
static int open_flags(u32 fl)
{
	int o = (int)(fl & P9_DOTL_ACCMODE);

	if (o == 3)
		o = O_RDWR;
	if (fl & P9_DOTL_TRUNC)
		o |= O_TRUNC;
	if (fl & P9_DOTL_APPEND)
		o |= O_APPEND;
	if (fl & P9_DOTL_DSYNC)
		o |= O_DSYNC;
	if (fl & P9_DOTL_SYNC)
		o |= O_SYNC;
	return o;
}

static bool modifies(int oflags)
{
	return (oflags & O_ACCMODE) != O_RDONLY || (oflags & (O_TRUNC | O_CREAT));
}

/* Open (or create) beneath dirfd; refuse anything but regular files and directories (a FIFO would block us). */
static int open_checked(struct p9_server *s, int dirfd, const char *path, int oflags, mode_t mode, struct stat *st)
{
	int fd = p9_open_beneath(s, dirfd, path, oflags | O_NONBLOCK | O_NOCTTY | O_LARGEFILE, mode);
	int e;

	if (fd < 0)
		return fd;
	if ((e = p9_fstat_fd(fd, st))) {
		close(fd);
		return e;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
		close(fd);
		return -EOPNOTSUPP;
	}
	if (S_ISDIR(st->st_mode) && (oflags & O_ACCMODE) != O_RDONLY) {
		close(fd);
		return -EISDIR;
	}
	fcntl(fd, F_SETFL, oflags & (O_APPEND));
	return fd;
}

static u32 iounit(struct p9_server *s)
{
	return s->msize - 24; /* what fits in one Tread/Twrite after its header */
}

int p9_h_lopen(struct p9_req *r)
{
	u32 fid = p9_in32(r->in), fl = p9_in32(r->in);
	struct p9_fid *f;
	struct stat st;
	int oflags = open_flags(fl), fd;

	if (r->in->bad)
		return -EINVAL;
	if (!(f = p9_fid_get(r->s, fid)))
		return -EBADF;
	if (f->opened)
		return -EBUSY;
	if (r->s->ro && modifies(oflags))
		return -EROFS;
	fd = open_checked(r->s, -1, f->path, oflags, 0, &st);
	if (fd < 0)
		return fd;
	close(f->fd);
	f->fd = fd;
	f->opened = true;
	p9_out_qid(r->out, &st);
	out32(r->out, iounit(r->s));
	return 0;
}

/* Guest mode bits, without set-user/group-ID: the file belongs to the host user running lkvm. */
mode_t p9_guest_mode(u32 mode)
{
	return (mode_t)(mode & 01777);
}

/* A fid that is a directory, as an O_PATH fd resolved again beneath the share. */
int p9_dir_fd(struct p9_server *s, u32 dfid, struct p9_fid **out)
{
	struct p9_fid *d = p9_fid_get(s, dfid);

	if (!d)
		return -EBADF;
	if (out)
		*out = d;
	return p9_open_beneath(s, -1, d->path, O_PATH | O_DIRECTORY, 0);
}

int p9_h_lcreate(struct p9_req *r)
{
	char name[NAMEBUF];
	u32 fid = p9_in32(r->in);
	size_t nlen = p9_in_str(r->in, name, sizeof(name));
	u32 fl = p9_in32(r->in), mode = p9_in32(r->in);
	struct p9_fid *d;
	struct stat st;
	char *path;
	int dfd, fd, e, oflags = open_flags(fl) | O_CREAT;

	p9_in32(r->in); /* gid: ignored, no uid mapping */
	if (r->in->bad || p9_name_ok(name, nlen))
		return -EINVAL;
	if ((dfd = p9_dir_fd(r->s, fid, &d)) < 0)
		return dfd;
	if (d->opened) {
		close(dfd);
		return -EBUSY;
	}
	if (r->s->ro) {
		close(dfd);
		return -EROFS;
	}
	fd = open_checked(r->s, dfd, name, oflags | O_EXCL, p9_guest_mode(mode), &st);
	if (fd >= 0 && fchmod(fd, p9_guest_mode(mode)) == 0) /* the guest applied its umask already; undo ours */
		p9_fstat_fd(fd, &st);
	if (fd == -EEXIST && !(fl & P9_DOTL_EXCL))
		fd = open_checked(r->s, dfd, name, oflags & ~O_CREAT, 0, &st);
	close(dfd);
	if (fd < 0)
		return fd;
	if ((e = p9_path_step(d->path, name, nlen, &path))) {
		close(fd);
		return e;
	}
	close(d->fd);
	free(d->path);
	d->fd = fd;
	d->path = path;
	d->opened = true;
	p9_out_qid(r->out, &st);
	out32(r->out, iounit(r->s));
	return 0;
}

struct p9_fid *p9_open_fid(struct p9_req *r, u32 fid, int *e)
{
	struct p9_fid *f = p9_fid_get(r->s, fid);

	*e = !f ? -EBADF : !f->opened ? -EBADF : 0;
	return *e ? NULL : f;
}

/* Tread, Twrite and Treaddir start fid[4] offset[8] count[4] (Twrite then its data, if wdata): the open fid or NULL. */
static struct p9_fid *io_args(struct p9_req *r, u64 *off, u32 *count, const u8 **wdata, int *e)
{
	u32 fid = p9_in32(r->in);

	*off = p9_in64(r->in);
	*count = p9_in32(r->in);
	if (wdata)
		*wdata = p9_in_take(r->in, *count);
	if (r->in->bad || *off > (u64)INT64_MAX) {
		*e = -EINVAL;
		return NULL;
	}
	return p9_open_fid(r, fid, e);
}

int p9_h_read(struct p9_req *r)
{
	struct p9_fid *f;
	u8 *data;
	ssize_t n;
	u64 off;
	u32 count;
	int e;

	if (!(f = io_args(r, &off, &count, NULL, &e)))
		return e;
	if (count > r->out->cap - r->out->off - 4)
		count = (u32)(r->out->cap - r->out->off - 4);
	data = r->out->p + r->out->off + 4;
	do {
		n = pread(f->fd, data, count, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	out32(r->out, (u32)n);
	p9_out_take(r->out, (size_t)n);
	return 0;
}

int p9_read_target(struct p9_server *s, const void *req, size_t len, int *fd, u64 *off, u32 *count, u16 *tag)
{
	struct p9_in in = { .p = req, .len = len };
	u32 size = p9_in32(&in);
	u8 type = p9_in8(&in);
	struct p9_fid *f;

	*tag = p9_in16(&in);
	if (!s->msize || len != 23 || size != 23 || type != P9_TREAD)
		return 0;
	f = p9_fid_get(s, p9_in32(&in));
	*off = p9_in64(&in);
	*count = p9_in32(&in);
	if (in.bad || !f || !f->opened || *off > (u64)INT64_MAX)
		return 0;
	*fd = f->fd;
	return 1;
}

void p9_rread_header(u8 hdr[P9_RREAD_HDR], u16 tag, u32 count)
{
	struct p9_out o = { .p = hdr, .cap = P9_RREAD_HDR };

	out32(&o, P9_RREAD_HDR + count);
	out8(&o, P9_RREAD);
	out16(&o, tag);
	out32(&o, count);
}

int p9_h_write(struct p9_req *r)
{
	const u8 *data;
	struct p9_fid *f;
	ssize_t n;
	u64 off;
	u32 count;
	int e;

	if (!(f = io_args(r, &off, &count, &data, &e)))
		return e;
	if (r->s->ro)
		return -EROFS;
	do {
		n = pwrite(f->fd, data, count, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	out32(r->out, (u32)n);
	return 0;
}

struct linux_dirent64 {
	u64 d_ino;
	s64 d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int p9_h_readdir(struct p9_req *r)
{
	struct p9_fid *f;
	struct stat st;
	size_t start, used = 0;
	char *buf;
	long n;
	u64 off;
	u32 count;
	int e;

	if (!(f = io_args(r, &off, &count, NULL, &e)))
		return e;
	if ((e = p9_fstat_fd(f->fd, &st)))
		return e;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (count > r->out->cap - r->out->off - 4)
		count = (u32)(r->out->cap - r->out->off - 4);
	if (lseek(f->fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	buf = malloc(count < 4096 ? 4096 : count);
	if (!buf)
		return -ENOMEM;
	n = syscall(SYS_getdents64, f->fd, buf, count < 4096 ? 4096 : count);
	if (n < 0) {
		free(buf);
		return -errno;
	}
	out32(r->out, 0);
	start = r->out->off;
	for (long pos = 0; pos < n;) {
		struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);
		size_t nl = strnlen(d->d_name, d->d_reclen);
		size_t need = 13 + 8 + 1 + 2 + nl;
		struct stat es = { .st_ino = d->d_ino, .st_dev = st.st_dev };
		if (used + need > count)
			break;
		es.st_mode = d->d_type == DT_DIR ? S_IFDIR : d->d_type == DT_LNK ? S_IFLNK : S_IFREG;
		p9_out_qid(r->out, &es);
		out64(r->out, (u64)d->d_off);
		out8(r->out, d->d_type);
		p9_out_str(r->out, d->d_name, nl);
		used += need;
		pos += d->d_reclen;
	}
	free(buf);
	r->out->p[start - 4] = (u8)used;
	r->out->p[start - 3] = (u8)(used >> 8);
	r->out->p[start - 2] = (u8)(used >> 16);
	r->out->p[start - 1] = (u8)(used >> 24);
	return 0;
}

int p9_h_fsync(struct p9_req *r)
{
	u32 fid = p9_in32(r->in);
	struct p9_fid *f;
	int e;

	if (r->in->bad)
		return -EINVAL;
	if (!(f = p9_open_fid(r, fid, &e)))
		return e;
	return fsync(f->fd) < 0 ? -errno : 0;
}
