/* A 9P2000.L file server confined to one host directory: the protocol half of virtio-9p (no KVM, no virtio). */
#ifndef KVM_P9_H
#define KVM_P9_H

#include <stddef.h>

#include "kvm/util.h"

#define P9_MIN_MSIZE 4096      /* smaller msize proposals are refused (Rversion "unknown") */
#define P9_MAX_MSIZE (1u << 20) /* the largest message either way; Tversion is answered with min(this, proposal) */
#define P9_HDR 7               /* size[4] type[1] tag[2] */
#define P9_MAX_FIDS 65536      /* fids one guest may hold at once; more get EMFILE */
#define P9_MAX_NAME 255
#define P9_MAX_PATH 4095

struct p9_fid;

/*
 * One share. All state the server keeps lives here: the share's directory (an O_PATH fd every lookup starts from),
 * the negotiated msize, and the fid table. Not thread-safe: one request at a time (the device worker).
 */
struct p9_server {
	int root_fd;
	bool ro;
	bool no_openat2; /* openat2() is missing (ENOSYS) or forced off by tests: walk components with O_NOFOLLOW */
	u32 msize;       /* 0 until a Tversion succeeded */
	unsigned int nr_fids;
	struct p9_fid **buckets; /* hash table of fids, P9_FID_BUCKETS chains */
	bool broken;             /* set by the transport when the guest broke the virtio rules; informational */
};

/*
 * Open DIR as a share (ro: every modifying request fails with EROFS). Returns 0, or -1 with a one-line reason in err
 * (it names dir). The server then answers requests with p9_handle().
 */
int p9_server_init(struct p9_server *s, const char *dir, bool ro, char *err, size_t errlen);
/* Close every fid and the share. */
void p9_server_destroy(struct p9_server *s);

/*
 * THE PARSER ENTRY POINT (fuzz here). Handle one 9P2000.L request message: req points at `len` bytes the guest
 * wrote (hostile: any bytes, any length); the reply is written to reply[0 .. cap). Returns the reply's length
 * (always >= 7 and <= cap when cap >= 11), or 0 when no reply can be formed (cap < 11). Never reads outside
 * req[0 .. len) or writes outside reply[0 .. cap). A malformed request (sizes that disagree, strings or counts past
 * the end, unknown fids, names with '/') gets an Rlerror with EINVAL/EBADF/EPROTO; an unknown type gets Rlerror
 * EOPNOTSUPP. The tag of the reply is the request's (0xffff if the header is cut short). Touches the host only
 * beneath the share's directory: every lookup goes through openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS) from the share, so no symlink is followed on the host and ".." never leaves the share.
 */
size_t p9_handle(struct p9_server *s, const void *req, size_t len, void *reply, size_t cap);

/*
 * A Tread the transport may answer by reading straight into the guest's buffers: if req (len bytes) is a well-formed
 * Tread of an open fid, returns 1 with that file's fd, the offset, the count asked for and the request's tag;
 * otherwise 0, and p9_handle() answers it (errors included). The caller then reads at most count bytes at off into
 * the Rread's data and writes its header (size[4] type[1] tag[2] count[4]) before them.
 */
int p9_read_target(struct p9_server *s, const void *req, size_t len, int *fd, u64 *off, u32 *count, u16 *tag);
#define P9_RREAD_HDR 11
/* The header of an Rread carrying count bytes, for p9_read_target()'s caller. */
void p9_rread_header(u8 hdr[P9_RREAD_HDR], u16 tag, u32 count);

/* 9P2000.L message types (what p9_handle() answers). */
enum {
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
};

#define P9_NOFID 0xffffffffu
#define P9_MAX_WELEM 16 /* names in one Twalk */

/* Qid types. */
#define P9_QTDIR 0x80
#define P9_QTSYMLINK 0x02
#define P9_QTFILE 0x00

/* Tsetattr valid bits. */
#define P9_SETATTR_MODE 0x1
#define P9_SETATTR_UID 0x2
#define P9_SETATTR_GID 0x4
#define P9_SETATTR_SIZE 0x8
#define P9_SETATTR_ATIME 0x10
#define P9_SETATTR_MTIME 0x20
#define P9_SETATTR_CTIME 0x40
#define P9_SETATTR_ATIME_SET 0x80
#define P9_SETATTR_MTIME_SET 0x100

/* 9P2000.L open flags (Linux's P9_DOTL_*: fixed values, not the host's O_*). */
#define P9_DOTL_ACCMODE 03
#define P9_DOTL_CREATE 0100
#define P9_DOTL_EXCL 0200
#define P9_DOTL_TRUNC 01000
#define P9_DOTL_APPEND 02000
#define P9_DOTL_DSYNC 010000
#define P9_DOTL_SYNC 04000000

#endif
