/* 'lkvm save': the client side; writes the VM's snapshot stream atomically to a file, or to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/io.h"
#include "kvm/log.h"
#include "kvm/options.h"
#include "kvm/snapshot.h"

struct save_job {
	int sock, out;
	const char *target; /* FILE, or "-" */
	char tmp[PATH_MAX];
	bool progress;
	u64 ram_total, ram_done, bytes;
	struct timespec t0, last;
	bool gone; /* the VM closed the connection or died: nothing to tell it, and it does not keep running */
	char err[300];
};

/* One answer line from the VM; on EOF or a reset connection, marks the VM gone. */
static int vm_line(struct save_job *j, char *line, size_t len)
{
	int n;

	errno = 0;
	n = control_read_line(j->sock, line, len);
	if (n <= 0) {
		line[0] = '\0';
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			j->gone = true;
	}
	return n;
}

/* Read n bytes of the stream from the VM; a short read or a reset means it went away. */
static int vm_read(struct save_job *j, void *buf, size_t n)
{
	int r = read_full(j->sock, buf, n);
	if (r && r != -EAGAIN && r != -EWOULDBLOCK)
		j->gone = true;
	return r;
}

static double secs_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void show_progress(struct save_job *j, bool final)
{
	double el;
	if (!j->progress)
		return;
	if (!final && secs_since(&j->last) < 0.1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &j->last);
	el = secs_since(&j->t0);
	fprintf(stderr, "\r  saving: RAM %llu/%llu MiB, %.1f MiB written, %.1f MiB/s%s",
		(unsigned long long)(j->ram_done >> 20), (unsigned long long)(j->ram_total >> 20),
		(double)j->bytes / 1048576.0, el > 0 ? (double)j->bytes / 1048576.0 / el : 0.0, final ? "\n" : "");
}

static u64 le64(const u8 *p)
{
	u64 v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Copy the snapshot stream from the VM to the output, checking its framing and CRCs on the way. */
static int copy_stream(struct save_job *j)
{
	u8 hdr[SNAP_FILE_HEADER_SIZE], sh[16], *buf = malloc(SNAP_MAX_SECTION + 4);
	int r = -1;

	if (!buf)
		return snprintf(j->err, sizeof(j->err), "out of memory"), -1;
	if (vm_read(j, hdr, sizeof(hdr)) || memcmp(hdr, SNAP_MAGIC, 8)) {
		snprintf(j->err, sizeof(j->err), "the VM sent no snapshot (see its log)");
		goto out;
	}
	if (write_full(j->out, hdr, sizeof(hdr)))
		goto werr;
	j->bytes = sizeof(hdr);
	for (;;) {
		u32 type, crc, want;
		u64 len;

		if (vm_read(j, sh, sizeof(sh))) {
			snprintf(j->err, sizeof(j->err), "the VM's stream ended early (see its log)");
			goto out;
		}
		type = (u32)le64(sh) & 0xffffffffu;
		len = le64(sh + 8);
		if (len > SNAP_MAX_SECTION || vm_read(j, buf, len + 4)) {
			snprintf(j->err, sizeof(j->err), "the VM's stream is malformed or ended early (see its log)");
			goto out;
		}
		crc = (u32)crc32(crc32(0, sh, sizeof(sh)), buf, (uInt)len);
		want = (u32)buf[len] | (u32)buf[len + 1] << 8 | (u32)buf[len + 2] << 16 | (u32)buf[len + 3] << 24;
		if (crc != want) {
			snprintf(j->err, sizeof(j->err), "the VM's stream is corrupt (CRC mismatch)");
			goto out;
		}
		if (write_full(j->out, sh, sizeof(sh)) || write_full(j->out, buf, len + 4))
			goto werr;
		j->bytes += sizeof(sh) + len + 4;
		if (type == SNAP_SEC_CONFIG) {
			u64 mib;
			buf[len] = 0;
			if (!snap_config_u64((const char *)buf, "mem_mib", &mib))
				j->ram_total = mib << 20;
		} else if (type == SNAP_SEC_RAM && len >= 8) {
			j->ram_done = le64(buf) + SNAP_RAM_CHUNK;
		} else if (type == SNAP_SEC_END) {
			j->ram_done = j->ram_total;
			break;
		}
		show_progress(j, false);
	}
	r = 0;
	goto out;
werr:
	snprintf(j->err, sizeof(j->err), "cannot write %s: %s", strcmp(j->target, "-") ? j->target : "stdout",
		 strerror(errno));
out:
	free(buf);
	return r;
}

/* Check what the VM wrote: header, every section's framing and CRC, the RAM image inside the file. */
static int check_mapped_file(struct save_job *j)
{
	struct snap_reader r;
	struct snap_ram_image img;
	struct stat st;
	u64 mib = 0;
	bool have_img = false;
	char e[256];
	int fd = open(j->tmp, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return snprintf(j->err, sizeof(j->err), "cannot reopen %.200s: %s", j->tmp, strerror(errno)), -1;
	snapr_init(&r, fd);
	rc = snapr_file_header(&r) ? -1 : 1;
	while (rc == 1 && (rc = snapr_next(&r)) == 1) {
		if (r.type == SNAP_SEC_CONFIG)
			snap_config_u64((const char *)r.payload, "mem_mib", &mib);
		if (r.type == SNAP_SEC_RAM_IMAGE) {
			if (snap_image_parse(r.payload, r.len, mib << 20, &img, e, sizeof(e))) {
				snprintf(r.err, sizeof(r.err), "%s", e);
				rc = -1;
			}
			have_img = true;
		}
	}
	if (rc == 0 && (!have_img || fstat(fd, &st) < 0 || (u64)st.st_size < img.offset + img.size)) {
		snprintf(r.err, sizeof(r.err), "the RAM image is missing or the file is short");
		rc = -1;
	}
	if (rc == 0) {
		j->ram_total = j->ram_done = img.size;
		j->bytes = (u64)st.st_blocks * 512; /* allocated: the data pages and the sections */
	}
	if (rc)
		snprintf(j->err, sizeof(j->err), "the VM wrote a bad snapshot (%s)", r.err);
	snapr_free(&r);
	close(fd);
	return rc ? -1 : 0;
}

int cmd_save(int argc, const char **argv)
{
	const char *name = NULL, *pos[1];
	bool stop = false, help = false, compressed = false, mapped;
	const struct option_desc opts[] = {
		{ 'n', "name", OPT_STRING, &name, "name", "The VM to save", NULL, 0 },
		{ 0, "stop", OPT_BOOL, &stop, NULL, "Stop the VM once the snapshot is safely written (migration)", NULL, 0 },
		{ 0, "compressed", OPT_BOOL, &compressed, NULL,
		  "Write FILE as a compressed stream (smaller to copy; restores by decompressing, not by mapping)", NULL, 0 },
		{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	struct save_job j;
	char line[CONTROL_MAX_LINE], dirbuf[PATH_MAX], basebuf[PATH_MAX];
	int n;

	memset(&j, 0, sizeof(j));
	n = options_parse(opts, argc, argv, NULL, pos, 1, j.err, sizeof(j.err));
	if (n < 0)
		die("%s (see 'lkvm save --help')", j.err);
	if (help) {
		options_usage(stdout, "lkvm save --name NAME [--stop] [--compressed] FILE|-", opts);
		return 0;
	}
	if (!name || n != 1)
		die("usage: lkvm save --name NAME [--stop] FILE  (FILE '-' writes to stdout)");
	j.target = pos[0];
	j.sock = control_open(name, j.err, sizeof(j.err));
	if (j.sock < 0)
		die("%s", j.err);

	if (!strcmp(j.target, "-")) {
		j.out = STDOUT_FILENO;
	} else {
		snprintf(dirbuf, sizeof(dirbuf), "%s", j.target);
		snprintf(basebuf, sizeof(basebuf), "%s", j.target);
		snprintf(j.tmp, sizeof(j.tmp), "%s/.%s.tmp-%d", dirname(dirbuf), basename(basebuf), (int)getpid());
		j.out = open(j.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (j.out < 0)
			die("cannot create %s next to %s: %s", j.tmp, j.target, strerror(errno));
	}
	{
		struct timeval tv = { .tv_sec = 600 }; /* a big guest takes a while to compress */
		setsockopt(j.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	j.progress = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &j.t0);
	j.last = j.t0;

	/* A file is written by the VM in place, RAM as a sparse image restore can map; '-' is a compressed stream. */
	mapped = j.out != STDOUT_FILENO && !compressed;
	if (mapped) {
		line[0] = '\0';
		if (control_send_fd(j.sock, stop ? "save-file-stop\n" : "save-file\n", j.out)) {
			if (control_gone_errno(errno))
				j.gone = true;
			snprintf(j.err, sizeof(j.err), "cannot send the request: %s", strerror(errno));
			goto fail;
		}
		if (vm_line(&j, line, sizeof(line)) <= 0 || strcmp(line, "written")) {
			snprintf(j.err, sizeof(j.err), "%.200s",
				 !strncmp(line, "error: ", 7) ? line + 7 : "the VM gave no answer (see its log)");
			goto fail;
		}
		if (check_mapped_file(&j))
			goto fail;
	} else {
		int e = control_send_line(j.sock, stop ? "save-stop\n" : "save\n");
		line[0] = '\0';
		if (e && control_gone_errno(-e))
			j.gone = true;
		if (e || vm_line(&j, line, sizeof(line)) <= 0 || strcmp(line, "stream")) {
			snprintf(j.err, sizeof(j.err), "the VM refused: %.200s",
				 !strncmp(line, "error: ", 7) ? line + 7 : "no answer");
			goto fail;
		}
		if (copy_stream(&j))
			goto fail;
	}
	show_progress(&j, true);
	if (j.out != STDOUT_FILENO) {
		char dir[PATH_MAX];
		int dfd;
		/* Durable before it becomes visible: data, then the name, then the directory entry. */
		if (fsync(j.out) < 0 || close(j.out) < 0) {
			snprintf(j.err, sizeof(j.err), "cannot write %s: %s", j.target, strerror(errno));
			j.out = -1;
			goto fail;
		}
		j.out = -1;
		if (rename(j.tmp, j.target) < 0) {
			snprintf(j.err, sizeof(j.err), "cannot rename the snapshot to %s: %s", j.target, strerror(errno));
			goto fail;
		}
		j.tmp[0] = '\0';
		snprintf(dir, sizeof(dir), "%s", j.target);
		dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	} else if (fsync(STDOUT_FILENO) < 0 && errno != EINVAL && errno != EROFS) {
		/* pipes and sockets cannot be synced; a file on stdout can */
	}
	if (control_send_line(j.sock, "done\n") || vm_line(&j, line, sizeof(line)) <= 0 || strcmp(line, "ok"))
		die("VM %s did not confirm the save (%s); the snapshot at %s is complete", name,
		    j.gone ? "it went away" : line, j.target);
	close(j.sock);
	return 0;
fail:
	if (j.out >= 0 && j.out != STDOUT_FILENO)
		close(j.out);
	if (j.tmp[0])
		unlink(j.tmp);
	if (!j.gone)
		control_send_line(j.sock, "fail\n");
	close(j.sock);
	if (j.progress)
		fputc('\n', stderr);
	if (j.gone)
		die("the VM %s went away during the save (killed or crashed?); no snapshot was written and any earlier "
		    "snapshot at %s is untouched", name, j.target);
	die("save of VM %s failed: %s; the VM keeps running and any earlier snapshot at %s is untouched", name, j.err,
	    j.target);
}

