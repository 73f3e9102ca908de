/* The host's record of dirty-log losses: a migration that found one makes every later auto re-check read more. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/control.h"
#include "kvm/log.h"
#include "kvm/loss-record.h"

/* The line of `release` in text: its start and length, or NULL. */
static const char *find_line(const char *text, const char *release, size_t *len)
{
	size_t rl = strlen(release);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > rl && !strncmp(p, release, rl) && p[rl] == ' ') {
			*len = nl ? n + 1 : n;
			return p;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

bool loss_record_find(const char *text, const char *release, struct loss_record *rec)
{
	unsigned long long m, pg, wide;
	size_t len, rl = strlen(release);
	const char *p;
	char line[256];
	int end = -1, end2 = -1;

	if (!rl || strchr(release, ' ') || strchr(release, '\n') || !(p = find_line(text, release, &len)))
		return false;
	if (len - rl >= sizeof(line))
		return false;
	memcpy(line, p + rl, len - rl);
	line[len - rl] = '\0';
	if (sscanf(line, " %llu %llu%n", &m, &pg, &end) != 2 || end < 0)
		return false;
	if (sscanf(line + end, " %llu%n", &wide, &end2) == 1 && end2 >= 0)
		end += end2;
	else
		wide = m; /* a line from before the kind was kept: every move counts as wide */
	if (strspn(line + end, " \n") != strlen(line + end) || wide > m)
		return false;
	*rec = (struct loss_record){ .moves = m, .pages = pg, .wide = wide };
	return true;
}

static u64 add_sat(u64 a, u64 b)
{
	return a + b < a ? ~0ULL : a + b;
}

size_t loss_record_update(const char *text, const char *release, u64 pages, bool wide, char *out, size_t outlen)
{
	struct loss_record r = { 0, 0, 0 };
	size_t rl = strlen(release), n = 0;
	int w;

	if (!rl || strchr(release, ' ') || strchr(release, '\n'))
		return 0;
	loss_record_find(text, release, &r);
	/* the other releases' lines as they were (every line of this one dropped), then this release's */
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (!(len > rl && !strncmp(p, release, rl) && p[rl] == ' ')) {
			if (n + len + 1 >= outlen)
				return 0;
			memcpy(out + n, p, len);
			n += len;
			if (!nl)
				out[n++] = '\n';
		}
		p += len;
	}
	w = snprintf(out + n, outlen - n, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", release, add_sat(r.moves, 1),
		     add_sat(r.pages, pages), add_sat(r.wide, wide));
	if (w < 0 || (size_t)w >= outlen - n)
		return 0;
	return n + (size_t)w;
}

static bool running_release(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/osrelease", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return *buf;
}

static bool record_path(char *path, size_t pathlen)
{
	char dir[4096], err[256];

	if (control_dir(dir, sizeof(dir), false, err, sizeof(err)))
		return false;
	return snprintf(path, pathlen, "%s/" LOSS_RECORD_FILE, dir) < (int)pathlen;
}

/* The record's text (empty when there is none), or -1. */
static ssize_t read_record(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

bool loss_record_seen(char *path, size_t pathlen, struct loss_record *rec)
{
	char rel[128], text[LOSS_RECORD_MAX + 1];
	bool seen;
	int fd;

	if (!record_path(path, pathlen) || !running_release(rel, sizeof(rel)))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	seen = read_record(fd, text, sizeof(text)) >= 0 && loss_record_find(text, rel, rec) && rec->moves;
	close(fd);
	return seen;
}

void loss_record_add(u64 pages, bool wide)
{
	char path[4200], rel[128], text[LOSS_RECORD_MAX + 1], out[LOSS_RECORD_MAX + 256];
	size_t n;
	int fd;

	if (!record_path(path, sizeof(path)) || !running_release(rel, sizeof(rel)))
		return;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		pr_warn("cannot record this host's dirty-log loss in %s: %s", path, strerror(errno));
		return;
	}
	if (read_record(fd, text, sizeof(text)) < 0)
		text[0] = '\0';
	n = loss_record_update(text, rel, pages, wide, out, sizeof(out));
	if (!n || n > LOSS_RECORD_MAX)
		n = loss_record_update("", rel, pages, wide, out, sizeof(out)); /* an overgrown record starts afresh */
	if (!n || pwrite(fd, out, n, 0) != (ssize_t)n || ftruncate(fd, (off_t)n) < 0)
		pr_warn("cannot record this host's dirty-log loss in %s: %s", path, strerror(errno));
	close(fd);
}
