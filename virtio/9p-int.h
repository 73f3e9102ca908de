/* Internals of the 9p server: 9p-wire.c (messages, fids), 9p-proto.c, 9p-io.c, 9p-ops.c (requests), 9p-path.c. */
#ifndef LKVM_9P_INT_H
#define LKVM_9P_INT_H

#include <sys/stat.h>
#include <sys/types.h>

#include "kvm/p9.h"

#define P9_FID_BUCKETS 1024

struct p9_fid {
	u32 id;
	int fd;      /* O_PATH until Tlopen/Tlcreate, then the open file */
	bool opened; /* fd is an open file (not O_PATH) */
	char *path;  /* share-relative, canonical ("" = the share's root, "a/b"); never contains "." or ".." */
	struct p9_fid *next;
};

/* Bounds-checked views of the request (a short read sets bad) and the reply (an overrun sets full). */
struct p9_in {
	const u8 *p;
	size_t len, off;
	bool bad;
};

struct p9_out {
	u8 *p;
	size_t cap, off;
	bool full;
};

struct p9_req {
	struct p9_server *s;
	struct p9_in *in;
	struct p9_out *out;
};

#define NAMEBUF (P9_MAX_NAME + 1)

/* Wire helpers (9p-wire.c). Strings: a NUL-terminated copy, bad if longer than bufsz - 1 or holding a NUL. */
const u8 *p9_in_take(struct p9_in *in, size_t n);
u8 p9_in8(struct p9_in *in);
u16 p9_in16(struct p9_in *in);
u32 p9_in32(struct p9_in *in);
u64 p9_in64(struct p9_in *in);
size_t p9_in_str(struct p9_in *in, char *buf, size_t bufsz);
u8 *p9_out_take(struct p9_out *o, size_t n);
void p9_out_le(struct p9_out *o, u64 v, unsigned int n);
#define out8(o, v) p9_out_le(o, v, 1)
#define out16(o, v) p9_out_le(o, v, 2)
#define out32(o, v) p9_out_le(o, v, 4)
#define out64(o, v) p9_out_le(o, v, 8)
void p9_out_str(struct p9_out *o, const char *s, size_t n);
void p9_out_qid(struct p9_out *o, const struct stat *st);

/* The fid table (9p-wire.c). p9_fid_set installs (fd, path) as fid id, replacing one; it owns both either way. */
struct p9_fid *p9_fid_get(struct p9_server *s, u32 id);
int p9_fid_set(struct p9_server *s, u32 id, int fd, char *path, bool opened);
void p9_fid_drop(struct p9_server *s, u32 id);
void p9_fid_clear_all(struct p9_server *s);
/* After a rename, fids naming old (or something beneath it) name new. */
void p9_fid_rename(struct p9_server *s, const char *old, const char *new);

/* Host helpers (9p-proto.c, 9p-io.c). */
struct p9_fid *p9_open_fid(struct p9_req *r, u32 fid, int *e);
int p9_fstat_fd(int fd, struct stat *st);
int p9_dir_fd(struct p9_server *s, u32 dfid, struct p9_fid **out);
mode_t p9_guest_mode(u32 mode);
int p9_stat_name(int dirfd, const char *name, struct stat *st);

/* Request handlers in 9p-io.c and 9p-ops.c: 0 with the reply body written, or -errno. */
int p9_h_lopen(struct p9_req *r);
int p9_h_lcreate(struct p9_req *r);
int p9_h_read(struct p9_req *r);
int p9_h_write(struct p9_req *r);
int p9_h_readdir(struct p9_req *r);
int p9_h_fsync(struct p9_req *r);
int p9_h_mkdir(struct p9_req *r);
int p9_h_symlink(struct p9_req *r);
int p9_h_mknod(struct p9_req *r);
int p9_h_setattr(struct p9_req *r);
int p9_h_lock(struct p9_req *r, bool get);
int p9_h_link(struct p9_req *r);
int p9_h_rename(struct p9_req *r);
int p9_h_renameat(struct p9_req *r);
int p9_h_unlinkat(struct p9_req *r);
int p9_h_remove(struct p9_req *r);

/* A single name from the guest: no '/', no NUL, not "", "." or "..", at most P9_MAX_NAME bytes. 0 or -EINVAL. */
int p9_name_ok(const char *name, size_t len);
/* path joined with one walk element (".." stops at the share's root, "." stays); *out is malloc'd. 0 or -errno. */
int p9_path_step(const char *path, const char *name, size_t nlen, char **out);
/*
 * Open path (canonical, share-relative; "" = the root) beneath dirfd (-1: the share's root) with flags | O_NOFOLLOW
 * | O_CLOEXEC: openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or a per-component
 * O_NOFOLLOW walk when openat2 is missing. Returns an fd or -errno (ELOOP/EXDEV for symlinks on the way).
 */
int p9_open_beneath(struct p9_server *s, int dirfd, const char *path, int flags, mode_t mode);
/* An O_PATH fd of path's parent directory; *base points at path's last name. -EBUSY for the root. */
int p9_open_parent(struct p9_server *s, const char *path, const char **base);

#endif
