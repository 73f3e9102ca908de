/* virtio-net over a network back-end (net/: tap or passt): MAC, link status, merged receive buffers, offloads. */
#ifndef KVM_VIRTIO_NET_H
#define KVM_VIRTIO_NET_H

#include <net/if.h>

#include "kvm/net-backend.h"
#include "kvm/net-vhost.h"
#include "kvm/virtio-dev.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16 /* the others: net-backend.h */
#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_HDR_LEN NET_VNET_HDR_LEN
#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
#define VIRTIO_NET_CONFIG_SIZE 8 /* mac[6], status */
#define VIRTIO_NET_CONFIG_SIZE_MTU 12 /* ... max_virtqueue_pairs, mtu (with VIRTIO_NET_F_MTU) */
#define VIRTIO_NET_RX_BUDGET 64  /* packets per wake-up, so transmit is not starved */
#define VIRTIO_NET_MAX_FRAME (65535 + 18) /* a 64 KiB TSO packet: IP's limit plus an Ethernet and VLAN header */

/* A parsed -n/--network spec. */
struct virtio_net_params {
	bool tap;                /* mode=tap */
	bool user;               /* mode=user: passt (neither: mode=none, no device) */
	bool vhost;              /* mode=tap,vhost=on (or kvmtool's vhost=1): the kernel's vhost-net moves the packets */
	char tapif[IFNAMSIZ];    /* "" : let the kernel pick tapN */
	char socket[108];        /* mode=user,socket=PATH: a passt the caller started ("": lkvm starts one) */
	bool have_mac;
	u8 mac[6];
	unsigned int nr_fwd;
	struct net_hostfwd fwd[NET_MAX_HOSTFWD];
};

struct virtio_net {
	struct virtio_dev vdev;
	struct net_backend *be; /* tap or passt; be->dead: the link is down */
	struct net_vhost *vhost; /* vhost=on: the kernel moves the tap's packets (NULL: lkvm's worker does) */
	/* A packet read from the tap that waits for a guest receive buffer (rx_len 0: none). */
	size_t rx_len;
	u64 offload_set; /* the driver features last given to the back-end's set_offload (~0: none yet) */
	/* Per-NIC counters (frames without the virtio-net header), relaxed atomics: the worker writes, metrics read. */
	u64 rx_packets, rx_bytes, rx_drops;
	u64 tx_packets, tx_bytes, tx_drops;
	struct ratelimit rl;
	/* the receive buffers one merged packet is being spread over (rx_merged) */
	u16 mrg_head[VIRTIO_NET_QUEUE_SIZE];
	u32 mrg_len[VIRTIO_NET_QUEUE_SIZE];
	u8 rx_buf[VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME];
};

/*
 * Parse "mode=tap[,tapif=NAME][,vhost=on][,guest_mac=XX:XX:XX:XX:XX:XX]", "mode=user[,socket=PATH][,hostfwd=SPEC]...[,guest_mac=]"
 * or "mode=none" (also plain "none", "tap" or "user").
 * Returns 0, or -1 with a one-line reason.
 */
int virtio_net_parse_spec(const char *spec, struct virtio_net_params *p, char *err, size_t errlen);
/* The default guest MAC: locally administered 02:4c:4b:xx:yy:index, xx:yy a hash of the VM name. */
void virtio_net_default_mac(const char *vm_name, unsigned int index, u8 mac[6]);
/* A virtio-net device on a back-end (not yet registered or started); NULL on allocation failure. */
struct virtio_net *virtio_net_create(const struct guest_ram *ram, struct net_backend *be, const u8 mac[6]);
/* vhost=on: hand the device's data path to the kernel (before the worker starts). */
void virtio_net_use_vhost(struct virtio_net *n, struct net_vhost *v);
/* Whether the link is up (the back-end's peer is there); any thread. */
bool virtio_net_link_up(const struct virtio_net *n);

#endif
