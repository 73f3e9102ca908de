/* Network back-ends behind virtio-net: a tap device, or a passt stream socket (-n mode=user). */
#ifndef KVM_NET_BACKEND_H
#define KVM_NET_BACKEND_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "kvm/net-frame.h"
#include "kvm/util.h"

#define NET_VNET_HDR_LEN 12 /* struct virtio_net_hdr with num_buffers (VIRTIO 1.x), what the guest sees per packet */
#define NET_MAX_HOSTFWD 8

/* virtio-net feature bits (VIRTIO 1.2, 5.1.3) that a back-end decides on */
#define VIRTIO_NET_F_CSUM 0        /* the guest may send partly checksummed packets */
#define VIRTIO_NET_F_GUEST_CSUM 1  /* ... and receive them */
#define VIRTIO_NET_F_MTU 3         /* config.mtu holds the link's MTU */
#define VIRTIO_NET_F_GUEST_TSO4 7  /* the guest receives TCP segments up to 64 KiB */
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11  /* the guest sends them */
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15  /* a received packet may span several receive buffers */
#define NET_USER_MTU 65520         /* passt's own MTU: the guest's link MTU in mode=user */
#define NET_PASST_SOCKBUF (4 << 20) /* each end's send buffer with a passt lkvm starts (net/passt.c: why) */

struct net_backend;

enum net_send_result {
	NET_SEND_OK = 0,
	NET_SEND_FULL,    /* no room now: keep the packet in the ring, retry when the fd is writable */
	NET_SEND_DROPPED, /* the back-end refused this packet (counted as a drop) */
	NET_SEND_GONE,    /* the peer is gone: link down */
};

struct net_backend_ops {
	const char *name; /* "tap", "user" */
	/* The next packet as virtio-net header + frame in buf: its length, 0 if none now, -1 if the peer is gone. */
	ssize_t (*recv)(struct net_backend *b, u8 *buf, size_t cap);
	/* Whether send() can take a packet of any size now (flushing first if that makes room). */
	bool (*can_send)(struct net_backend *b);
	/* Send one packet given as virtio-net header + frame (len bytes in all). */
	enum net_send_result (*send)(struct net_backend *b, const struct iovec *iov, unsigned int n, size_t len);
	/* Push out what send() queued: NET_SEND_OK, NET_SEND_FULL (wait for POLLOUT) or NET_SEND_GONE. */
	enum net_send_result (*flush)(struct net_backend *b);
	/* Whether a received packet may be waiting in the back-end's own buffer (so poll would not report it). */
	bool (*buffered)(const struct net_backend *b);
	/* Optional, stream back-ends: read ahead what the fd has (> 0 bytes, -EAGAIN nothing, 0 or other -errno: the
	 * peer is gone), and whether there is room to (input is polled for only then, not only when lkvm needs a
	 * packet: the peer's writes must not find its socket full) */
	ssize_t (*pull)(struct net_backend *b);
	bool (*rx_room)(const struct net_backend *b);
	/* Whether send() output waits for the fd to become writable. */
	bool (*tx_pending)(const struct net_backend *b);
	/* Optional: what the driver negotiated (virtio-net feature bits), so the back-end may hand it offloaded
	 * packets (partial checksums, TSO). 0, or -errno. */
	int (*set_offload)(struct net_backend *b, u64 guest_features);
};

struct net_backend {
	const struct net_backend_ops *ops;
	int fd;
	bool dead;       /* the peer went away: no more traffic, the guest sees the link down */
	pid_t passt_pid; /* the passt lkvm started for this NIC (0: none, e.g. socket=PATH) */
	int log_fd;      /* that passt's log (read-only, its file already unlinked), -1: none */
	char desc[160];  /* for messages and lkvm stat: "tap tap0", "passt pid 123", "passt at /run/x.sock" */
	u64 features;    /* the virtio-net offload bits (CSUM, TSO) the back-end carries through */
	u16 mtu;         /* the link MTU to tell the guest (VIRTIO_NET_F_MTU), 0: the Ethernet default */
	u64 bad_frames;  /* hostile frames from the peer (short, oversized), seen by the stream reader */
	struct net_frame_rx *rx; /* stream back-ends only */
	struct net_frame_tx *tx;
};

/*
 * Create (or attach to) tap `ifname` ("" = any) with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, a 12-byte vnet header and
 * no offloads yet (set_offload turns on what the guest takes), and bring it up. Returns the fd (non-blocking) with the name in name_out, or -1 with a reason.
 */
int net_tap_open(const char *ifname, const u8 host_mac[6], char name_out[IFNAMSIZ], char *err, size_t errlen);
/* A tap back-end on an open tap fd (net_tap_open). NULL on allocation failure. */
struct net_backend *net_tap_backend(int fd, const char *ifname);
/* A passt stream back-end on a connected UNIX stream socket (made non-blocking here). NULL on allocation failure. */
struct net_backend *net_stream_backend(int fd, const char *desc);
void net_backend_free(struct net_backend *b);

/* One -n hostfwd=PROTO:[ADDR]:HOSTPORT-:GUESTPORT. */
struct net_hostfwd {
	bool udp;
	char addr[48]; /* host address to bind; default 127.0.0.1 */
	u16 host_port, guest_port;
};

/* Parse "tcp:[ADDR:]HOSTPORT-:GUESTPORT" (QEMU's spelling; udp: too): 0, or -1 with a reason in err. */
int net_hostfwd_parse(const char *s, struct net_hostfwd *f, char *err, size_t errlen);
/* The passt argument for a forward: "-t"/"-u" in *opt and "ADDR/HOSTPORT:GUESTPORT" in buf. */
void net_hostfwd_passt_arg(const struct net_hostfwd *f, const char **opt, char *buf, size_t len);

/* Find passt in $PATH: 0 with the path in out, or -1. */
int net_passt_find(char *out, size_t outlen);
/*
 * Start passt (foreground, one client, socket in a fresh private directory, the forwards given) and connect to it.
 * Returns the connected socket with *pid set, or -1 with a one-line reason. The directory is gone on return (a
 * connected socket needs no path), and passt ends when lkvm's end of the socket closes.
 */
int net_passt_start(const char *passt, const struct net_hostfwd *fwd, unsigned int nr_fwd, pid_t *pid, int *log_fd,
		    char *err, size_t errlen);
/*
 * End a passt started by net_passt_start: hang up its socket (it takes one client and ends then) and reap it,
 * waiting at most wait_ms. Returns 0 once it is gone, -1 if it is still there (it ends with lkvm's last fd anyway).
 */
int net_passt_stop(int fd, pid_t pid, unsigned int wait_ms);
/* The last line passt logged (its syslog complaints skipped) from its log fd, "" if none; any thread. */
void net_passt_last_words(int fd, char *out, size_t len);
/* Connect to a passt the caller started: the socket, or -1 with a one-line reason. */
int net_passt_connect(const char *path, char *err, size_t errlen);

#endif
