/* virtio-net over a host tap device (IFF_VNET_HDR): MAC and link status only, no offloads. */
#ifndef KVM_VIRTIO_NET_H
#define KVM_VIRTIO_NET_H

#include <net/if.h>

#include "kvm/virtio-dev.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr with num_buffers: the VIRTIO 1.x layout */
#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
#define VIRTIO_NET_CONFIG_SIZE 8 /* mac[6], status */
#define VIRTIO_NET_RX_BUDGET 64  /* packets per wake-up, so transmit is not starved */
#define VIRTIO_NET_MAX_FRAME 65536

/* A parsed -n/--network spec. */
struct virtio_net_params {
	bool tap;                /* false: mode=none, no device */
	char tapif[IFNAMSIZ];    /* "" : let the kernel pick tapN */
	bool have_mac;
	u8 mac[6];
};

struct virtio_net {
	struct virtio_dev vdev;
	int tap_fd;
	bool tap_broken; /* poll reported an error: receive has stopped */
	/* A packet read from the tap that waits for a guest receive buffer (rx_len 0: none). */
	size_t rx_len;
	/* Per-NIC counters (frames without the virtio-net header), relaxed atomics: the worker writes, metrics read. */
	u64 rx_packets, rx_bytes, rx_drops;
	u64 tx_packets, tx_bytes, tx_drops;
	struct ratelimit rl;
	u8 rx_buf[VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME];
};

/*
 * Parse "mode=tap[,tapif=NAME][,guest_mac=XX:XX:XX:XX:XX:XX]" or "mode=none" (also plain "none" or "tap").
 * Returns 0, or -1 with a one-line reason.
 */
int virtio_net_parse_spec(const char *spec, struct virtio_net_params *p, char *err, size_t errlen);
/* The default guest MAC: locally administered 02:4c:4b:xx:yy:index, xx:yy a hash of the VM name. */
void virtio_net_default_mac(const char *vm_name, unsigned int index, u8 mac[6]);
/*
 * Create (or attach to) tap `ifname` ("" = any) with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, a 12-byte vnet header and
 * no offloads, and bring it up. Returns the fd (non-blocking) with the name in name_out, or -1 with a reason.
 */
int virtio_net_open_tap(const char *ifname, char name_out[IFNAMSIZ], char *err, size_t errlen);
/* A virtio-net device on an open tap (not yet registered or started); NULL on allocation failure. */
struct virtio_net *virtio_net_create(const struct guest_ram *ram, int tap_fd,
				     const u8 mac[6]);

#endif
