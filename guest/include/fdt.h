/* A small, bounds-checked flattened device tree (DTB) reader: path lookup, children, properties, reg decoding. */
#ifndef GUEST_FDT_H
#define GUEST_FDT_H

#include <types.h>

#define FDT_MAX_SIZE (16u << 20)	/* refuse larger blobs: keeps every offset well inside an int */
#define FDT_MAX_DEPTH 32		/* deepest node fdt_parent() can place */

struct fdt {
	const uint8_t *blob;
	uint32_t size;			/* totalsize */
	uint32_t struct_off, struct_end;	/* structure block [struct_off, struct_end) */
	uint32_t strings_off, strings_size;	/* strings block */
};

/* Nodes are handles (offset of their BEGIN_NODE token); a negative handle means "none". */
int fdt_init(struct fdt *fdt, uint64_t addr);
int fdt_root(const struct fdt *fdt);
int fdt_first_child(const struct fdt *fdt, int node);
int fdt_next_sibling(const struct fdt *fdt, int node);
int fdt_next_node(const struct fdt *fdt, int node);	/* every node in DT order; start with -1 */
const char *fdt_node_name(const struct fdt *fdt, int node);
int fdt_parent(const struct fdt *fdt, int node);
int fdt_find_path(const struct fdt *fdt, const char *path, size_t len);
int fdt_find_compatible(const struct fdt *fdt, const char *compat);

const void *fdt_getprop(const struct fdt *fdt, int node, const char *name, uint32_t *len);
const char *fdt_getprop_str(const struct fdt *fdt, int node, const char *name);
bool fdt_getprop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *out);
bool fdt_node_is_compatible(const struct fdt *fdt, int node, const char *compat);

/* #address-cells / #size-cells of node (defaults 2 / 1); -1 when wider than 2 cells. */
int fdt_address_cells(const struct fdt *fdt, int node);
int fdt_size_cells(const struct fdt *fdt, int node);
/* Entry idx of node's "reg", decoded with the cell counts of its parent. */
bool fdt_get_reg(const struct fdt *fdt, int parent, int node, unsigned int idx, uint64_t *addr, uint64_t *size);

uint32_t fdt_be32(const void *p);
uint64_t fdt_cells(const void *p, int cells);

#endif
