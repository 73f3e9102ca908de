/* 'lkvm run' with no kernel: the host's own kernel, lkvm's own initramfs, the host's root shared read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "kvm/host-kernel.h"
#include "kvm/kvm.h"

void host_shell_setup(struct kvm *kvm)
{
	char kernel[512];
	struct utsname u;
	char err[1024];

	if (uname(&u) < 0)
		die("no kernel given, and uname() failed; give one with -k/--kernel FILE");
	if (host_kernel_find("/boot", u.release, kernel, sizeof(kernel), err, sizeof(err)))
		die("%s", err);
	kvm->cfg.kernel = strdup(kernel);
	if (!kvm->cfg.kernel)
		die("out of memory");
}
