/* Disk image locks: open-file-description (OFD) locks, exclusive for a writer and shared for readers. */
#ifndef KVM_DISK_LOCK_H
#define KVM_DISK_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Lock the whole of the open image fd: shared (readers) or exclusive (a writer). Retries for up to wait_ms while
 * another holder goes away (a migration or save --stop source). Returns 0, or -1 with a one-line reason in err that
 * names path and, when /proc tells, the holder (pid and command); -2 if the file system has no OFD locks.
 */
int disk_lock(int fd, const char *path, bool shared, unsigned int wait_ms, char *err, size_t errlen);
/* Drop the lock (the fd stays open). */
void disk_unlock(int fd);
/* Who holds an OFD lock on the file of fd (not counting fd itself)? The pid, or -1; comm gets its command name. */
pid_t disk_lock_holder(int fd, char *comm, size_t len);

#endif
