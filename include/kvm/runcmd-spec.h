/* The run request lkvm hands its guest init (/lkvm/run in the initramfs): tagged, NUL-terminated strings. */
#ifndef KVM_RUNCMD_SPEC_H
#define KVM_RUNCMD_SPEC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Each record is one tag byte, the value, and a NUL. Tags: 'a' an argument of the command (in order), 'e' an
 * environment entry NAME=VALUE, 'u' uid, 'g' gid, 'G' a supplementary gid (one each), 'c' the working directory,
 * 'C' "1" when it is shared read-write (9p tag lkvm-cwd), 'w' a --rwdir path (tag lkvm-rwN, N counting from 0),
 * 'R' "1" for --rw (the root share writable, no overlay), 't' the standard fds that are terminals ("0", "01", ...),
 * 'W' "ROWS COLS", 'k' a --kdir path, 'K' "1" when it is shared by itself (9p tag lkvm-kdir, read-only: a tree
 * under /tmp or /run, which the guest replaces with its own), 'm' the caller's umask (octal).
 */
#define RUNCMD_SPEC_PATH "/lkvm/run"
#define RUNCMD_TAG_ROOT "lkvm-root"
#define RUNCMD_TAG_CWD "lkvm-cwd"
#define RUNCMD_TAG_RW "lkvm-rw" /* + N */
#define RUNCMD_TAG_KDIR "lkvm-kdir"

struct spec_buf {
	char *buf;
	size_t len, cap;
	bool oom;
};

/* Append a record (val must hold no NUL, which C strings cannot). */
void spec_put(struct spec_buf *b, char tag, const char *val);
void spec_putf(struct spec_buf *b, char tag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct spec_iter {
	const char *p, *end;
};

/* The next record of [p, end): 1 with *tag and *val (NUL-terminated inside the buffer), 0 at the end, -1 if the
 * last record has no terminating NUL. */
int spec_next(struct spec_iter *it, char *tag, const char **val);

#endif
