/* 9p confinement: guest names checked, share-relative paths joined, every host lookup resolved beneath the share. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "9p-int.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* No symlink is followed on the host at all: the guest resolves symlinks itself (it reads them with Treadlink). */
#define P9_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

int p9_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > P9_MAX_NAME || memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

int p9_path_step(const char *path, const char *name, size_t nlen, char **out)
{
	size_t plen = strlen(path);
	char *s;

	if (nlen == 2 && name[0] == '.' && name[1] == '.') {
		/* ".." of the share's root is the root: the guest can never name anything above the share. */
		const char *slash = strrchr(path, '/');
		size_t keep = slash ? (size_t)(slash - path) : 0;
		s = strndup(path, keep);
		if (!s)
			return -ENOMEM;
		*out = s;
		return 0;
	}
	if (nlen == 1 && name[0] == '.') {
		s = strdup(path);
		if (!s)
			return -ENOMEM;
		*out = s;
		return 0;
	}
	if (p9_name_ok(name, nlen))
		return -EINVAL;
	if (plen + 1 + nlen > P9_MAX_PATH)
		return -ENAMETOOLONG;
	s = malloc(plen + 1 + nlen + 1);
	if (!s)
		return -ENOMEM;
	if (plen) {
		memcpy(s, path, plen);
		s[plen] = '/';
		memcpy(s + plen + 1, name, nlen);
		s[plen + 1 + nlen] = '\0';
	} else {
		memcpy(s, name, nlen);
		s[nlen] = '\0';
	}
	*out = s;
	return 0;
}

static int openat2_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = { .flags = (u64)(flags | O_NOFOLLOW | O_CLOEXEC), .resolve = P9_RESOLVE };
	long r;

	if (flags & O_CREAT)
		how.mode = mode;
	do {
		r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : (int)r;
}

/*
 * Without openat2: open each component with O_NOFOLLOW from the previous directory. The path is canonical (no "",
 * ".", ".." components: p9_path_step() made it), so this never climbs, and a symlink anywhere fails the open.
 */
static int walk_nofollow(int dirfd, const char *path, int flags, mode_t mode)
{
	char comp[P9_MAX_NAME + 1];
	int cur = dirfd, fd;

	for (;;) {
		const char *slash = strchr(path, '/');
		size_t n;
		if (!slash)
			break;
		n = (size_t)(slash - path);
		if (n == 0 || n > P9_MAX_NAME) {
			fd = -EINVAL;
			goto out;
		}
		memcpy(comp, path, n);
		comp[n] = '\0';
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			fd = errno == ENOTDIR ? -ELOOP : -errno;
			goto out;
		}
		if (cur != dirfd)
			close(cur);
		cur = fd;
		path = slash + 1;
	}
	fd = openat(cur, path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		fd = -errno;
out:
	if (cur != dirfd)
		close(cur);
	return fd;
}

int p9_open_beneath(struct p9_server *s, int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	if (dirfd < 0)
		dirfd = s->root_fd;
	if (!*path)
		path = ".";
	if (!s->no_openat2) {
		fd = openat2_beneath(dirfd, path, flags, mode);
		if (fd != -ENOSYS)
			return fd;
		s->no_openat2 = true;
	}
	if (!strcmp(path, "."))
		return (fd = openat(dirfd, ".", flags | O_CLOEXEC, mode)) < 0 ? -errno : fd;
	return walk_nofollow(dirfd, path, flags, mode);
}

int p9_open_parent(struct p9_server *s, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!*path)
		return -EBUSY; /* the share's root has no parent the guest may touch */
	if (!slash) {
		*base = path;
		return p9_open_beneath(s, -1, "", O_PATH | O_DIRECTORY, 0);
	}
	*base = slash + 1;
	dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	fd = p9_open_beneath(s, -1, dir, O_PATH | O_DIRECTORY, 0);
	free(dir);
	return fd;
}
