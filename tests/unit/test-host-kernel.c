/* Unit tests: the host-kernel lookup under /boot, gzip kernels unpacked to a memfd, the newc cpio writer. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "kvm/cpio.h"
#include "kvm/host-kernel.h"

static struct unit_counts uc;

static void test_find(void)
{
	char dir[] = "/tmp/lkvm-boot-XXXXXX", out[512], err[1024], p[600];
	int fd;

	if (!mkdtemp(dir))
		abort();
	CHECK(&uc, host_kernel_find(dir, "6.1.0-9-arm64", out, sizeof(out), err, sizeof(err)) == -1 &&
	      !strchr(err, '\n') && strstr(err, "Image-6.1.0-9-arm64") && strstr(err, "vmlinuz-6.1.0-9-arm64") &&
	      strstr(err, "-k/--kernel"), "empty /boot: one line naming every place: %s", err);
	snprintf(p, sizeof(p), "%s/vmlinuz", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	close(fd);
	CHECK(&uc, host_kernel_find(dir, "6.1.0-9-arm64", out, sizeof(out), err, sizeof(err)) == 0 && !strcmp(out, p),
	      "plain vmlinuz found last: %s", out);
	snprintf(p, sizeof(p), "%s/vmlinuz-6.1.0-9-arm64", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	close(fd);
	CHECK(&uc, host_kernel_find(dir, "6.1.0-9-arm64", out, sizeof(out), err, sizeof(err)) == 0 && !strcmp(out, p),
	      "the running release's vmlinuz preferred: %s", out);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	if (system(p))
		abort();
}

static void test_gunzip(void)
{
	char path[] = "/tmp/lkvm-gz-XXXXXX", err[256];
	static u8 data[300000], back[300000];
	u64 size = 0;
	int fd, mfd;
	gzFile gz;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 7 + (i >> 9));
	fd = mkstemp(path);
	gz = gzdopen(dup(fd), "wb");
	gzwrite(gz, data, sizeof(data));
	gzclose(gz);
	mfd = gunzip_to_memfd(fd, 1 << 20, &size, err, sizeof(err));
	CHECK(&uc, mfd >= 0 && mfd != fd && size == sizeof(data) && pread(mfd, back, sizeof(back), 0) == sizeof(back) &&
	      !memcmp(back, data, sizeof(data)), "gzip file inflated to a memfd (%llu bytes)", (unsigned long long)size);
	close(mfd);
	fd = open(path, O_RDONLY);
	CHECK(&uc, gunzip_to_memfd(fd, 1000, &size, err, sizeof(err)) == -1 && strstr(err, "more than"),
	      "inflating past the limit: %s", err);
	fd = open(path, O_RDWR | O_TRUNC);
	if (write(fd, "\x1f\x8b\x08garbage", 10) != 10)
		abort();
	CHECK(&uc, gunzip_to_memfd(fd, 1 << 20, &size, err, sizeof(err)) == -1, "damaged gzip: %s", err);
	fd = open(path, O_RDWR | O_TRUNC);
	if (write(fd, "ARMd", 4) != 4)
		abort();
	CHECK(&uc, gunzip_to_memfd(fd, 1 << 20, &size, err, sizeof(err)) == fd, "not gzip: the same fd back");
	close(fd);
	unlink(path);
}

static void test_cpio(void)
{
	struct cpio c = { 0 };
	cpio_add(&c, "dev", S_IFDIR | 0755, NULL, 0, 0, 0);
	cpio_add(&c, "dev/console", S_IFCHR | 0600, NULL, 0, 5, 1);
	cpio_add(&c, "init", S_IFREG | 0755, "hello", 5, 0, 0);
	CHECK(&uc, cpio_finish(&c) == 0 && c.len % 4 == 0, "archive built, %zu bytes, 4-byte aligned", c.len);
	CHECK(&uc, !memcmp(c.buf, "070701", 6) && !memcmp(c.buf + 110, "dev", 4), "first entry: newc magic, name dev");
	{
		/* the file's data sits after its 110-byte header and padded name */
		const u8 *p = memmem(c.buf, c.len, "init", 5);
		CHECK(&uc, p && !memcmp(p + 6, "hello", 5), "init's data follows its name, padded to 4");
	}
	CHECK(&uc, memmem(c.buf, c.len, "TRAILER!!!", 11) != NULL, "ends with the trailer");
	{
		/* let cpio itself read it back when it is installed */
		char cmd[200], path[] = "/tmp/lkvm-cpio-XXXXXX";
		int fd = mkstemp(path);
		FILE *f;
		char out[200] = "";
		if (write(fd, c.buf, c.len) != (ssize_t)c.len)
			abort();
		close(fd);
		snprintf(cmd, sizeof(cmd), "cpio -t < %s 2>/dev/null | tr '\\n' ' '", path);
		f = popen(cmd, "r");
		if (f && fgets(out, sizeof(out), f) && *out)
			CHECK(&uc, !strcmp(out, "dev dev/console init "), "cpio -t lists: %s", out);
		if (f)
			pclose(f);
		unlink(path);
	}
	free(c.buf);
}

int main(void)
{
	test_find();
	test_gunzip();
	test_cpio();
	UNIT_DONE(&uc);
}
