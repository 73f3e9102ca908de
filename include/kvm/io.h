/* Whole-buffer reads and writes that retry on EINTR and short transfers. */
#ifndef KVM_IO_H
#define KVM_IO_H

#include <stddef.h>

/* 0 on success; -errno on error; -EIO if the file ended (read) or accepted nothing (write). A write to a
 * non-blocking fd waits for it (poll) rather than fail with EAGAIN. */
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

#endif
