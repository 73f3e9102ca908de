/* Internals shared by the 9p server's files (9p-proto.c: messages and fids, 9p-path.c: confinement). */
#ifndef LKVM_9P_INT_H
#define LKVM_9P_INT_H

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
