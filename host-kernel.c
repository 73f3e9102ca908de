/* Find the host's own kernel for 'lkvm run' with no -k, and inflate gzip-compressed kernel Images into a memfd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "kvm/host-kernel.h"

int host_kernel_find(const char *bootdir, const char *release, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *fmt[] = { "%s/Image-%s", "%s/vmlinuz-%s", "%s/Image", "%s/vmlinuz" };
	char looked[1024] = "";
	size_t used = 0;

	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		struct stat st;
		char p[512];
		snprintf(p, sizeof(p), fmt[i], bootdir, release);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0) {
			snprintf(out, outlen, "%s", p);
			return 0;
		}
		used += (size_t)snprintf(looked + used, sizeof(looked) - used, "%s%s", i ? ", " : "", p);
		if (used >= sizeof(looked))
			used = sizeof(looked) - 1;
	}
	snprintf(err, errlen, "no kernel given and none found for the running kernel %s (looked at %s); give one with "
		 "-k/--kernel FILE", release, looked);
	return -1;
}

int gunzip_to_memfd(int fd, u64 max, u64 *size, char *err, size_t errlen)
{
	unsigned char magic[2], buf[65536];
	u64 total = 0;
	gzFile gz;
	int dup_fd, mfd;

	if (pread(fd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
		return fd;
	mfd = memfd_create("lkvm-kernel", MFD_CLOEXEC);
	dup_fd = dup(fd);
	if (mfd < 0 || dup_fd < 0 || lseek(dup_fd, 0, SEEK_SET) < 0 || !(gz = gzdopen(dup_fd, "rb"))) {
		snprintf(err, errlen, "cannot unpack it: %s", strerror(errno ? errno : ENOMEM));
		if (mfd >= 0)
			close(mfd);
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	for (;;) {
		int n = gzread(gz, buf, sizeof(buf));
		if (n < 0) {
			int e;
			snprintf(err, errlen, "is a damaged gzip file (%s)", gzerror(gz, &e));
			goto fail;
		}
		if (n == 0)
			break;
		total += (u64)n;
		if (total > max) {
			snprintf(err, errlen, "unpacks to more than %llu MiB; that is no kernel Image",
				 (unsigned long long)(max >> 20));
			goto fail;
		}
		if (write(mfd, buf, (size_t)n) != n) {
			snprintf(err, errlen, "cannot unpack it into memory: %s", strerror(errno));
			goto fail;
		}
	}
	gzclose(gz);
	close(fd);
	*size = total;
	return mfd;
fail:
	gzclose(gz);
	close(mfd);
	return -1;
}
