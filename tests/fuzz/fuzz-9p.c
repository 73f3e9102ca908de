/* Fuzz target: 9P2000.L messages into p9_handle() and p9_read_target() on a scratch share, confinement checked. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/p9.h"

/*
 * Layout, made once: TOP/share (the share: a file, a subdirectory, a symlink pointing out of it) and TOP/outside
 * (a sentinel file). Input: 9P messages back to back, each framed by its own size field as the guest's driver
 * frames them (a size past the input takes the rest); the first byte picks a read-only or writable share (made anew
 * after each writable run, so every input starts from the same tree). Oracle:
 * every reply is well formed (size field = length returned, within the buffer), and after each input the sentinel
 * directory holds exactly its one file with its content: nothing the guest names reaches outside the share.
 */
#define REPLY_CAP (128 * 1024)

static char top[64], share[96], outside[96], sentinel[128];
static u8 *reply;

static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-9p: %s\n", what);
		abort();
	}
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0700); /* a guest may have left a directory unwritable (never chmod a symlink: it follows) */
	return remove(path) && errno != ENOENT ? -1 : 0;
}

/* The share as every input finds it: a file, a directory and a symlink leading out of the share. */
static void make_share(void)
{
	int fd;

	nftw(share, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	must(!mkdir(share, 0755), "mkdir share");
	{
		char p[160];
		snprintf(p, sizeof(p), "%s/file", share);
		fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		must(fd >= 0 && write(fd, "hello 9p\n", 9) == 9, "file");
		close(fd);
		snprintf(p, sizeof(p), "%s/dir", share);
		must(!mkdir(p, 0755), "dir");
		snprintf(p, sizeof(p), "%s/out", share);
		must(!symlink("../outside", p), "symlink");
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	fz_quiet();
	snprintf(top, sizeof(top), "/tmp/lkvm-fuzz-9p-XXXXXX");
	must(mkdtemp(top) != NULL, "mkdtemp");
	snprintf(share, sizeof(share), "%s/share", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	snprintf(sentinel, sizeof(sentinel), "%s/secret", outside);
	must(!mkdir(outside, 0755), "mkdir");
	fd = open(sentinel, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	must(fd >= 0 && write(fd, "SECRET", 6) == 6, "sentinel");
	close(fd);
	make_share();
	reply = malloc(REPLY_CAP);
	return reply ? 0 : -1;
}

/* The sentinel directory still holds exactly "secret" with its content. */
static void check_outside(void)
{
	DIR *d = opendir(outside);
	struct dirent *e;
	int n = 0, fd;
	char buf[16];

	must(d != NULL, "the directory outside the share is gone");
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			must(!strcmp(e->d_name, "secret") && ++n == 1, "something was created outside the share");
	closedir(d);
	must(n == 1, "the file outside the share is gone");
	fd = open(sentinel, O_RDONLY);
	must(fd >= 0 && read(fd, buf, sizeof(buf)) == 6 && !memcmp(buf, "SECRET", 6), "the file outside was changed");
	close(fd);
	{
		struct stat sb;
		must(!stat(sentinel, &sb) && (sb.st_mode & 07777) == 0644, "the file outside changed mode");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct p9_server s;
	char err[256];
	size_t off = 1;

	if (!size)
		return 0;
	if (p9_server_init(&s, share, data[0] & 1, err, sizeof(err)))
		abort();
	while (off + 4 <= size) {
		size_t left = size - off, len, n;
		u32 want = (u32)data[off] | (u32)data[off + 1] << 8 | (u32)data[off + 2] << 16 | (u32)data[off + 3] << 24;
		len = want >= 7 && want <= left ? want : left;
		{
			/* the transport's direct-read question: only ever an open file descriptor, a sane offset */
			int rfd;
			u64 roff;
			u32 rcount;
			u16 rtag;
			if (p9_read_target(&s, data + off, len, &rfd, &roff, &rcount, &rtag))
				must(len == 23 && rfd >= 0 && fcntl(rfd, F_GETFD) >= 0 && roff <= (u64)INT64_MAX,
				     "p9_read_target gave a bad target");
		}
		n = p9_handle(&s, data + off, len, reply, REPLY_CAP);
		must(n >= 7 && n <= REPLY_CAP, "reply length out of bounds");
		must(((u32)reply[0] | (u32)reply[1] << 8 | (u32)reply[2] << 16 | (u32)reply[3] << 24) == n,
		     "reply size field disagrees with its length");
		off += len;
	}
	p9_server_destroy(&s);
	check_outside();
	if (!(data[0] & 1))
		make_share();
	return 0;
}
