/* 'lkvm run' with no kernel: the host's own kernel, lkvm's own initramfs, the host's root shared read-only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kvm/host-kernel.h"
#include "kvm/initramfs.h"
#include "kvm/kvm.h"
#include "kvm/modset.h"

/* The initramfs: lkvm-init as /init, a console node, the modules 9p needs and the order to load them. */
static int build_initramfs(const struct kvm_config *cfg, const char *release)
{
	const char *want[] = { cfg->virtio_transport == VIRTIO_TRANSPORT_MMIO ? "virtio_mmio" : "virtio_pci",
			       cfg->console == CONSOLE_VIRTIO ? "virtio_console" : NULL, "9pnet_virtio", "9p" };
	struct cpio c = { 0 };
	struct modset ms;
	char dir[300], err[768];

	snprintf(dir, sizeof(dir), "/lib/modules/%s", release);
	if (modset_open(&ms, dir, release, false, err, sizeof(err)))
		die("%s", err);
	initramfs_skeleton(&c);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (want[i] && modset_add(&ms, &c, want[i], err, sizeof(err)))
			die("%s; give a kernel with -k and a root with -d DIR", err);
	cpio_add(&c, "lkvm/modules", S_IFREG | 0644, ms.list ? ms.list : "", ms.list_len, 0, 0);
	modset_close(&ms);
	return initramfs_memfd(&c);
}

/* ~/.lkvm/NAME, created if needed: the guest's writable /root. */
static char *vm_dir(const char *name)
{
	const char *home = getenv("HOME");
	char *p;

	if (!home || !*home)
		die("no kernel given: 'lkvm run' shares ~/.lkvm/NAME with the guest, but HOME is not set; set HOME or "
		    "give -k/--kernel FILE");
	if (asprintf(&p, "%s/.lkvm", home) < 0)
		die("out of memory");
	if (mkdir(p, 0700) < 0 && errno != EEXIST) /* 0700: the control sockets live here too (control-path.c) */
		die("cannot create %s: %s", p, strerror(errno));
	free(p);
	if (asprintf(&p, "%s/.lkvm/%s", home, name) < 0)
		die("out of memory");
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die("cannot create %s: %s", p, strerror(errno));
	return p;
}

void host_shell_setup(struct kvm *kvm)
{
	struct kvm_config *cfg = &kvm->cfg;
	char kernel[512], err[1024], *dir, *spec;
	struct utsname u;

	if (uname(&u) < 0)
		die("no kernel given, and uname() failed; give one with -k/--kernel FILE");
	if (host_kernel_find("/boot", u.release, kernel, sizeof(kernel), err, sizeof(err)))
		die("%s", err);
	if (!(cfg->kernel = strdup(kernel)))
		die("out of memory");
	if (cfg->initrd || cfg->rootdir)
		return; /* the user brought a userspace: just the host's kernel */
	if (cfg->nr_shares + 2 > ARRAY_SIZE(cfg->shares))
		die("no kernel given: 'lkvm run' needs two 9p shares of its own; use at most %zu --9p",
		    ARRAY_SIZE(cfg->shares) - 2);
	kvm->initrd_fd = build_initramfs(cfg, u.release);
	dir = vm_dir(cfg->name ? cfg->name : "default");
	cfg->shares[cfg->nr_shares++] = "/,lkvm-root,ro";
	if (asprintf(&spec, "%s,lkvm-home", dir) < 0)
		die("out of memory");
	cfg->shares[cfg->nr_shares++] = spec;
	free(dir);
	pr_info("no kernel given: booting the host's %s with the host's / read-only over 9p (see README: the shell)",
		kernel);
}
