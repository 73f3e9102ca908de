/* The kernel modules lkvm puts into its own initramfs: found in /lib/modules/RELEASE or in a kernel build tree. */
#ifndef KVM_MODSET_H
#define KVM_MODSET_H

#include <stddef.h>

#include "kvm/cpio.h"
#include "kvm/util.h"

struct modset_mod {
	char name[64]; /* '-' folded to '_' */
	char *path;    /* absolute */
	char *rel;     /* relative to the tree (modules.dep's and modules.order's spelling) */
	char *deps;    /* comma-separated names, from modules.dep or the module's .modinfo; NULL until read */
	bool added;
};

struct modset {
	char dir[512];     /* /lib/modules/RELEASE, or the build tree */
	char release[128];
	bool kdir;         /* a build tree (modules.order, built .ko files) */
	struct modset_mod *mods;
	unsigned int n, cap;
	char *builtin;     /* modules.builtin, whole */
	char *list;        /* the load order: one file name per line (NAME.ko, NAME.ko.xz, ...) */
	size_t list_len;
	unsigned int added;
};

/*
 * Index the modules of dir: a build tree (kdir: its modules.order, the .ko files next to it) or an installed
 * /lib/modules/RELEASE (modules.dep when present, else every *.ko* file under it). 0, or -1 with one line in err.
 */
int modset_open(struct modset *ms, const char *dir, const char *release, bool kdir, char *err, size_t errlen);
void modset_close(struct modset *ms);
/* Is name built into the kernel (modules.builtin)? */
bool modset_builtin(const struct modset *ms, const char *name);
/*
 * Put module name and everything it depends on (dependencies first) into c as lkvm/FILE and the load order.
 * Returns 0 (added, or built in), 1 (no such module: err says where it looked), -1 (unreadable: err).
 */
int modset_add(struct modset *ms, struct cpio *c, const char *name, char *err, size_t errlen);
/*
 * A modules.dep for every module of a build tree, with paths under prefix ("build/" for /lib/modules/R/build ->
 * the tree): each module's dependencies read from its .modinfo. Returns a malloc'd text (*len bytes) or NULL.
 */
char *modset_depfile(struct modset *ms, const char *prefix, size_t *len, char *err, size_t errlen);

/* The "depends=" value of a module file's bytes (its .modinfo strings), or NULL: malloc'd. */
char *modinfo_depends(const u8 *buf, size_t len);

#endif
