/* Guest RAM backing: anonymous THP memory, hugetlbfs, or a snapshot's RAM image mapped copy-on-write. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "kvm/ram.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)

static u64 host_page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (u64)p : SZ_4K;
}

/* Anonymous memory aligned to 2 MiB: map a little more, then trim both ends. */
static int alloc_anon(struct guest_ram *ram, char *err, size_t errlen)
{
	u64 len = ram->size + SZ_2M;
	u8 *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	u8 *start;
	u64 head, tail;

	if (raw == MAP_FAILED) {
		snprintf(err, errlen, "cannot reserve %llu MiB of guest RAM: %s", (unsigned long long)(ram->size >> 20),
			 strerror(errno));
		return -1;
	}
	start = (u8 *)ALIGN_UP((unsigned long)raw, SZ_2M);
	head = (u64)(start - raw);
	tail = len - head - ram->size;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap(start + ram->size, tail);
	/* THP "always" and "madvise" both honour this; "never" leaves 4 KiB pages (still correct). */
	madvise(start, ram->size, MADV_HUGEPAGE);
	/* Best effort: smaps then names the mapping "[anon:lkvm-guest-ram]" (CONFIG_ANON_VMA_NAME). */
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)start, (unsigned long)ram->size, "lkvm-guest-ram");
	ram->host = start;
	ram->fd = -1;
	ram->backing = RAM_ANON;
	ram->page_size = host_page_size();
	return 0;
}

/* Huge pages of `kib` KiB that are free and not promised to someone else; -1 if unknown. */
static long hugetlb_available(u64 kib)
{
	char path[128];
	long v[2] = { -1, -1 };
	const char *names[2] = { "free_hugepages", "resv_hugepages" };

	for (int i = 0; i < 2; i++) {
		FILE *f;
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/%s", (unsigned long long)kib,
			 names[i]);
		f = fopen(path, "re");
		if (!f)
			return -1;
		if (fscanf(f, "%ld", &v[i]) != 1)
			v[i] = -1;
		fclose(f);
	}
	if (v[0] < 0 || v[1] < 0)
		return -1;
	return v[0] > v[1] ? v[0] - v[1] : 0;
}

static int alloc_hugetlbfs(struct guest_ram *ram, const char *dir, char *err, size_t errlen)
{
	struct statfs sfs;
	char path[4200];
	u64 hps, need;
	long avail;
	int fd;
	void *p;

	if (statfs(dir, &sfs) < 0) {
		snprintf(err, errlen, "--hugetlbfs %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((unsigned long)sfs.f_type != HUGETLBFS_MAGIC_NUMBER) {
		snprintf(err, errlen, "--hugetlbfs %s is not a hugetlbfs mount (mount one: mount -t hugetlbfs none DIR)",
			 dir);
		return -1;
	}
	hps = (u64)sfs.f_bsize;
	if (!is_pow2(hps) || hps < SZ_64K) {
		snprintf(err, errlen, "--hugetlbfs %s reports an odd huge page size (%llu bytes)", dir,
			 (unsigned long long)hps);
		return -1;
	}
	if (!IS_ALIGNED(ram->size, hps)) {
		snprintf(err, errlen, "-m/--mem %llu MiB is not a multiple of %s's huge page size (%llu KiB)",
			 (unsigned long long)(ram->size >> 20), dir, (unsigned long long)(hps >> 10));
		return -1;
	}
	need = ram->size / hps;
	avail = hugetlb_available(hps >> 10);
	if (avail >= 0 && (u64)avail < need) {
		snprintf(err, errlen,
			 "--hugetlbfs %s: %llu MiB of guest RAM needs %llu huge pages of %llu KiB, only %ld are free "
			 "(raise /proc/sys/vm/nr_hugepages or lower -m)",
			 dir, (unsigned long long)(ram->size >> 20), (unsigned long long)need,
			 (unsigned long long)(hps >> 10), avail);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/lkvm-ram-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--hugetlbfs %s: cannot create a file there: %s", dir, strerror(errno));
		return -1;
	}
	unlink(path);
	if (ftruncate(fd, (off_t)ram->size) < 0) {
		snprintf(err, errlen, "--hugetlbfs %s: cannot size the RAM file: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	/* Shared and without MAP_NORESERVE: the kernel reserves every huge page now or fails with ENOMEM. */
	p = mmap(NULL, ram->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "--hugetlbfs %s: cannot reserve %llu huge pages of %llu KiB: %s%s", dir,
			 (unsigned long long)need, (unsigned long long)(hps >> 10), strerror(errno),
			 errno == ENOMEM ? " (raise /proc/sys/vm/nr_hugepages or lower -m)" : "");
		close(fd);
		return -1;
	}
	ram->host = p;
	ram->fd = fd;
	ram->backing = RAM_HUGETLBFS;
	ram->page_size = hps;
	return 0;
}

int guest_ram_alloc(struct guest_ram *ram, const char *hugetlbfs, char *err, size_t errlen)
{
	if (ram->size == 0 || !IS_ALIGNED(ram->size, SZ_64K)) {
		snprintf(err, errlen, "guest RAM must be a non-zero multiple of 64 KiB");
		return -1;
	}
	ram->file_off = 0;
	return hugetlbfs ? alloc_hugetlbfs(ram, hugetlbfs, err, errlen) : alloc_anon(ram, err, errlen);
}

int guest_ram_map_file(struct guest_ram *ram, int fd, u64 off, char *err, size_t errlen)
{
	struct stat st;
	u64 end;
	void *p;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the RAM image can only be mapped from a regular file");
		return -1;
	}
	if (!add_ok(off, ram->size, &end) || (u64)st.st_size < end) {
		snprintf(err, errlen, "the file is %llu bytes, too short for the %llu MiB RAM image at byte %llu (truncated)",
			 (unsigned long long)st.st_size, (unsigned long long)(ram->size >> 20), (unsigned long long)off);
		return -1;
	}
	if (!IS_ALIGNED(off, host_page_size())) {
		snprintf(err, errlen, "the RAM image at byte %llu is not aligned to this host's %llu-byte pages",
			 (unsigned long long)off, (unsigned long long)host_page_size());
		return -1;
	}
	p = mmap(ram->host, ram->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the RAM image: %s", strerror(errno));
		return -1;
	}
	if (ram->fd >= 0)
		close(ram->fd);
	ram->fd = fd;
	ram->file_off = off;
	ram->backing = RAM_SNAPSHOT;
	ram->page_size = host_page_size();
	return 0;
}

int guest_ram_map_shared(struct guest_ram *ram, int fd, char *err, size_t errlen)
{
	struct statfs sfs;
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fstatfs(fd, &sfs) < 0 ||
	    (unsigned long)sfs.f_type != HUGETLBFS_MAGIC_NUMBER) {
		snprintf(err, errlen, "the guest RAM passed by the source is not a hugetlbfs file");
		return -1;
	}
	if ((u64)st.st_size != ram->size || !is_pow2((u64)sfs.f_bsize) || !IS_ALIGNED(ram->size, (u64)sfs.f_bsize) ||
	    !IS_ALIGNED((unsigned long)ram->host, (u64)sfs.f_bsize)) {
		snprintf(err, errlen, "the guest RAM passed by the source is %llu bytes in %llu-byte pages, not the %llu MiB "
			 "the stream configures (corrupt stream)", (unsigned long long)st.st_size,
			 (unsigned long long)sfs.f_bsize, (unsigned long long)(ram->size >> 20));
		return -1;
	}
	p = mmap(ram->host, ram->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the guest RAM passed by the source: %s", strerror(errno));
		return -1;
	}
	if (ram->fd >= 0)
		close(ram->fd);
	ram->fd = fd;
	ram->file_off = 0;
	ram->backing = RAM_HUGETLBFS;
	ram->page_size = (u64)sfs.f_bsize;
	ram->shared_in = true;
	return 0;
}

int guest_ram_file_data(const struct guest_ram *ram, u64 off, u64 len, u8 *populated)
{
	u64 foff = ram->file_off + off, pos = foff, end = foff + len;
	int fd = ram->fd;

	while (pos < end) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;
		if (d < 0)
			return errno == ENXIO ? 0 : -1;
		if ((u64)d >= end)
			return 0;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0)
			return -1;
		for (u64 a = ALIGN_DOWN((u64)d, SZ_4K); a < (u64)h && a < end; a += SZ_4K)
			populated[(a - foff) / SZ_4K] = 1;
		pos = (u64)h;
	}
	return 0;
}

void guest_ram_populated(const struct guest_ram *ram, u64 off, u64 len, u8 *populated)
{
	u64 n = len / SZ_4K, hps = host_page_size(), first, count;
	u64 *pm = NULL;
	int fd = -1;
	bool ok = false;

	if (!IS_ALIGNED(off, hps) || !IS_ALIGNED(len, hps) || hps < SZ_4K || ram->shared_in)
		goto all; /* memory another process faulted in is not in our page table: assume data everywhere */
	first = ((unsigned long)ram->host + off) / hps;
	count = len / hps;
	pm = malloc(count * sizeof(*pm));
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (!pm || fd < 0 || pread(fd, pm, count * sizeof(*pm), (off_t)(first * sizeof(*pm))) != (ssize_t)(count * sizeof(*pm)))
		goto all;
	for (u64 i = 0; i < n; i++)
		populated[i] = (pm[i * SZ_4K / hps] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED)) != 0;
	/* hugetlbfs pages exist only where this process faulted them in: the page table tells all */
	ok = ram->backing != RAM_SNAPSHOT || guest_ram_file_data(ram, off, len, populated) == 0;
all:
	if (!ok)
		memset(populated, 1, n);
	if (fd >= 0)
		close(fd);
	free(pm);
}

int ram_usage_parse(const char *smaps, unsigned long start, unsigned long end, struct ram_usage *u)
{
	bool in = false;
	int vmas = 0;

	memset(u, 0, sizeof(*u));
	for (const char *p = smaps; p && *p;) {
		const char *nl = strchr(p, '\n');
		unsigned long a, b;
		unsigned long long kib;
		char key[32];

		if (sscanf(p, "%lx-%lx ", &a, &b) == 2 && strchr(p, ' ') && (!nl || strchr(p, ' ') < nl) &&
		    strchr(p, '-') < strchr(p, ' ')) {
			in = a < end && b > start;
			vmas += in;
		} else if (in && sscanf(p, "%31[A-Za-z_]: %llu kB", key, &kib) == 2) {
			if (!strcmp(key, "Rss"))
				u->rss_kib += kib;
			else if (!strcmp(key, "AnonHugePages") || !strcmp(key, "ShmemPmdMapped") ||
				 !strcmp(key, "FilePmdMapped") || !strcmp(key, "Shared_Hugetlb") ||
				 !strcmp(key, "Private_Hugetlb"))
				u->huge_kib += kib;
		}
		p = nl ? nl + 1 : NULL;
	}
	return vmas ? 0 : -1;
}

int guest_ram_usage(const struct guest_ram *ram, struct ram_usage *u)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int r;

	memset(u, 0, sizeof(*u));
	if (!f)
		return -1;
	for (;;) {
		if (len + 65536 + 1 > cap) {
			char *nb = realloc(buf, cap = (cap ? cap * 2 : 1 << 20));
			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	if (!buf)
		return -1;
	buf[len] = '\0';
	r = ram_usage_parse(buf, (unsigned long)ram->host, (unsigned long)ram->host + ram->size, u);
	free(buf);
	return r;
}

const char *guest_ram_backing_name(const struct guest_ram *ram)
{
	switch (ram->backing) {
	case RAM_HUGETLBFS:
		return "hugetlbfs";
	case RAM_SNAPSHOT:
		return "snapshot";
	default:
		return "anon";
	}
}
