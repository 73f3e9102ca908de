/* Disk image locks: whole-file OFD locks (QEMU's rule: one writer, or any number of readers) and their holder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "kvm/disk-lock.h"

static int set_lock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Does /proc/PID/fdinfo/FD list an OFD lock on dev:ino? (fdinfo "lock:" lines name the file as MAJ:MIN:INO.) */
static bool fdinfo_locks(const char *file, dev_t dev, ino_t ino)
{
	char line[256];
	bool hit = false;
	FILE *f = fopen(file, "re");

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		const char *p;
		unsigned int maj, min;
		unsigned long long i;
		if (strncmp(line, "lock:", 5) || !strstr(line, "OFDLCK"))
			continue;
		/* the device field is the only one of the form x:y:z */
		for (p = line; (p = strchr(p, ' ')); p++)
			if (sscanf(p + 1, "%x:%x:%llu", &maj, &min, &i) == 3 && strchr(p + 1, ':') &&
			    maj == major(dev) && min == minor(dev) && i == (unsigned long long)ino) {
				hit = true;
				break;
			}
	}
	fclose(f);
	return hit;
}

pid_t disk_lock_holder(int fd, char *comm, size_t len)
{
	struct stat st;
	struct dirent *de;
	char self[64];
	pid_t found = -1, me = getpid();
	DIR *proc;

	if (len)
		comm[0] = '\0';
	if (fstat(fd, &st) < 0 || !(proc = opendir("/proc")))
		return -1;
	snprintf(self, sizeof(self), "/proc/%d/fdinfo/%d", (int)me, fd);
	while (found < 0 && (de = readdir(proc))) {
		char dir[64], file[320];
		struct dirent *fe;
		DIR *fds;
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
		if (!(fds = opendir(dir)))
			continue; /* gone, or not ours to look at */
		while ((fe = readdir(fds))) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", dir, fe->d_name);
			if (strcmp(file, self) && fdinfo_locks(file, st.st_dev, st.st_ino)) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	if (found > 0 && len) {
		char path[64];
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)found);
		if ((f = fopen(path, "re"))) {
			if (fgets(comm, (int)len, f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
	}
	return found;
}

int disk_lock(int fd, const char *path, bool shared, unsigned int wait_ms, char *err, size_t errlen)
{
	struct timespec pause = { .tv_nsec = 50 * 1000000L };
	unsigned int waited = 0;
	char comm[64];
	pid_t pid;

	for (;;) {
		if (!set_lock(fd, shared ? F_RDLCK : F_WRLCK))
			return 0;
		if (errno == EINVAL || errno == ENOLCK || errno == EOPNOTSUPP) {
			snprintf(err, errlen, "disk %s: its file system cannot lock it (%s)", path, strerror(errno));
			return -2;
		}
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			snprintf(err, errlen, "disk %s: cannot lock it: %s", path, strerror(errno));
			return -1;
		}
		if (waited >= wait_ms)
			break;
		nanosleep(&pause, NULL);
		waited += 50;
	}
	pid = disk_lock_holder(fd, comm, sizeof(comm));
	if (pid == getpid())
		snprintf(err, errlen, "disk %s is attached twice to this VM (give each image once)", path);
	else if (pid > 0)
		snprintf(err, errlen, "disk %s is locked by another process (pid %d, %s)%s; lkvm will not share it %s",
			 path, (int)pid, comm[0] ? comm : "?", wait_ms ? " that did not release it" : "",
			 shared ? "with a writer" : "while it writes");
	else
		snprintf(err, errlen, "disk %s is locked by another process%s; lkvm will not share it %s", path,
			 wait_ms ? " that did not release it" : "", shared ? "with a writer" : "while it writes");
	return -1;
}

void disk_unlock(int fd)
{
	set_lock(fd, F_UNLCK);
}
