/* Unit tests: disk image OFD locks (one writer or many readers, the holder named, waiting for a holder to go) and
 * direct I/O (,direct) through the bounce buffer for unaligned guest buffers. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "kvm/disk-lock.h"
#include "kvm/virtio-blk.h"

static void *release_later(void *arg)
{
	usleep(300 * 1000);
	disk_unlock(*(int *)arg);
	return NULL;
}

static void test_locks(struct unit_counts *uc, const char *path)
{
	char err[300], comm[64], me[64] = "";
	int a = open(path, O_RDWR), b = open(path, O_RDWR), c = open(path, O_RDONLY);
	FILE *f = fopen("/proc/self/comm", "r");
	pthread_t t;
	int r;

	if (f) {
		if (fgets(me, sizeof(me), f))
			me[strcspn(me, "\n")] = '\0';
		fclose(f);
	}
	/* two open file descriptions in one process conflict like two processes do: that is what OFD locks are */
	CHECK(uc, disk_lock(a, path, false, 0, err, sizeof(err)) == 0, "first writer gets the exclusive lock");
	r = disk_lock(b, path, false, 0, err, sizeof(err));
	CHECK(uc, r == -1 && strstr(err, "attached twice"), "second writer refused, holder found as us: %s", err);
	r = disk_lock(c, path, true, 0, err, sizeof(err));
	CHECK(uc, r == -1 && strstr(err, path), "a reader is refused while a writer holds it: %s", err);
	CHECK(uc, disk_lock_holder(b, comm, sizeof(comm)) == getpid() && !strcmp(comm, me),
	      "holder from /proc/PID/fdinfo: pid %d comm %s", (int)getpid(), comm);
	r = disk_lock(b, path, false, 100, err, sizeof(err));
	CHECK(uc, r == -1, "waiting 100 ms for a holder that stays: still refused");
	pthread_create(&t, NULL, release_later, &a);
	r = disk_lock(b, path, false, 5000, err, sizeof(err));
	pthread_join(t, NULL);
	CHECK(uc, r == 0, "a holder that lets go within the wait: locked (%s)", r ? err : "ok");
	disk_unlock(b);
	CHECK(uc, disk_lock(c, path, true, 0, err, sizeof(err)) == 0 && disk_lock(a, path, true, 0, err, sizeof(err)) == 0,
	      "two readers share the lock");
	r = disk_lock(b, path, false, 0, err, sizeof(err));
	CHECK(uc, r == -1 && strstr(err, "while it writes") == NULL, "a writer is refused while readers hold it: %s", err);
	disk_unlock(a);
	disk_unlock(c);
	CHECK(uc, disk_lock(b, path, false, 0, err, sizeof(err)) == 0, "all released: a writer gets it");
	CHECK(uc, disk_lock_holder(a, comm, sizeof(comm)) == getpid(), "the holder of b seen from a");
	disk_unlock(b);
	CHECK(uc, disk_lock_holder(a, comm, sizeof(comm)) == -1, "no lock: no holder");
	{
		/* another process holds it: named by pid and command */
		int p[2], q[2];
		char x, want[32];
		pid_t kid;
		if (pipe(p) || pipe(q))
			return;
		kid = fork();
		if (kid == 0) {
			int k = open(path, O_RDWR);
			char e[300];
			x = disk_lock(k, path, false, 0, e, sizeof(e)) ? 'n' : 'y';
			if (write(p[1], &x, 1) != 1 || read(q[0], &x, 1) < 0)
				_exit(1);
			_exit(0);
		}
		if (read(p[0], &x, 1) != 1)
			x = '?';
		r = disk_lock(a, path, false, 0, err, sizeof(err));
		snprintf(want, sizeof(want), "(pid %d, ", (int)kid);
		CHECK(uc, x == 'y' && r == -1 && strstr(err, want) && strstr(err, "locked by another process"),
		      "a second process is refused, the holder named: %s", err);
		r = disk_lock(c, path, true, 0, err, sizeof(err));
		CHECK(uc, r == -1 && strstr(err, "with a writer"), "a reader too: %s", err);
		if (write(q[1], "x", 1) != 1)
			perror("write");
		waitpid(kid, NULL, 0);
		CHECK(uc, disk_lock(a, path, false, 0, err, sizeof(err)) == 0, "the holder exited: its lock is gone");
		disk_unlock(a);
	}
	close(a);
	close(b);
	close(c);
}

/* A request over unaligned guest buffers at an unaligned-for-4K offset on an O_DIRECT file reads back intact. */
static void test_direct(struct unit_counts *uc, const char *path)
{
	enum { SZ = 4 << 20 };
	struct virtio_blk_disk d = { .capacity = SZ / 512 };
	u8 *mem = malloc(3 << 20), *ref = malloc(SZ), status = 0xff, *back = malloc(SZ);
	struct iovec iov[3];
	struct virtio_blk_req req;
	char err[200];
	int fd = open(path, O_RDWR | O_DIRECT), plain = open(path, O_RDWR);

	if (fd < 0) {
		CHECK(uc, errno == EINVAL, "O_DIRECT not supported on this file system (%s): skipped", strerror(errno));
		close(plain);
		free(mem), free(ref), free(back);
		return;
	}
	for (int i = 0; i < SZ; i++)
		ref[i] = (u8)(i * 7 + 3);
	CHECK(uc, pwrite(plain, ref, SZ, 0) == SZ, "image filled");
	d.fd = fd;
	CHECK(uc, virtio_blk_set_direct(&d, err, sizeof(err)) == 0 && d.dio_align >= 512 && d.bounce,
	      "direct I/O alignment %u", d.dio_align);
	/* a write of 3 odd-sized pieces at sector 3: 513 + 1.5 MiB + 511 bytes, buffers at odd addresses */
	for (int i = 0; i < (3 << 20); i++)
		mem[i] = (u8)(i ^ 0x5a);
	iov[0] = (struct iovec){ mem + 1, 513 };
	iov[1] = (struct iovec){ mem + 4097, 3 << 19 };
	iov[2] = (struct iovec){ mem + (5 << 19) + 3, 510 };
	req = (struct virtio_blk_req){ .type = VIRTIO_BLK_T_OUT, .sector = 3, .data = iov, .n_data = 3,
				       .data_len = 513 + (3 << 19) + 510, .status = &status };
	virtio_blk_execute(&d, &req);
	CHECK(uc, status == VIRTIO_BLK_S_OK, "unaligned write through the bounce buffer: status %u", status);
	{
		u64 off = 3 * 512;
		memcpy(ref + off, mem + 1, 513);
		memcpy(ref + off + 513, mem + 4097, 3 << 19);
		memcpy(ref + off + 513 + (3 << 19), mem + (5 << 19) + 3, 510);
	}
	CHECK(uc, pread(plain, back, SZ, 0) == SZ && !memcmp(back, ref, SZ),
	      "the file holds exactly the written bytes, the rest of every touched block untouched");
	/* read it back unaligned, and an aligned read (the direct fast path) */
	memset(mem, 0, 3 << 20);
	status = 0xff;
	iov[0] = (struct iovec){ mem + 7, 1000 };
	iov[1] = (struct iovec){ mem + 8192 + 5, 24 };
	req = (struct virtio_blk_req){ .type = VIRTIO_BLK_T_IN, .sector = 5, .data = iov, .n_data = 2, .data_len = 1024,
				       .status = &status };
	virtio_blk_execute(&d, &req);
	CHECK(uc, status == VIRTIO_BLK_S_OK && !memcmp(mem + 7, ref + 2560, 1000) && !memcmp(mem + 8197, ref + 3560, 24),
	      "unaligned read through the bounce buffer");
	{
		u8 *al = aligned_alloc(65536, 65536);
		status = 0xff;
		iov[0] = (struct iovec){ al, 65536 };
		req = (struct virtio_blk_req){ .type = VIRTIO_BLK_T_IN, .sector = 128, .data = iov, .n_data = 1,
					       .data_len = 65536, .status = &status };
		virtio_blk_execute(&d, &req);
		CHECK(uc, status == VIRTIO_BLK_S_OK && !memcmp(al, ref + 65536, 65536), "aligned direct read");
		free(al);
	}
	close(fd);
	close(plain);
	free(d.bounce);
	free(mem), free(ref), free(back);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	/* not /tmp: it may be tmpfs, which has no O_DIRECT before Linux 6.6 */
	char path[] = "build/host/disk-lock-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, 1 << 20))
		return 1;
	close(fd);
	test_locks(&uc, path);
	test_direct(&uc, path);
	unlink(path);
	UNIT_DONE(&uc);
}
