/* Bounds-checked DTB walker: every token, name and property is checked against the blob's blocks before use. */
#include <fdt.h>
#include <string.h>

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

/* Byte loads only: the blob may sit in Device memory (MMU off) where wider unaligned loads fault. */
uint32_t fdt_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t fdt_cells(const void *p, int cells)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (int i = 0; i < cells; i++)
		v = v << 32 | fdt_be32(b + 4 * i);
	return v;
}

int fdt_init(struct fdt *fdt, uint64_t addr)
{
	const uint8_t *h = (const uint8_t *)addr;
	uint64_t size, soff, ssize, stroff, strsize, version;

	memset(fdt, 0, sizeof(*fdt));
	if (!addr || (addr & 3))
		return -1;
	if (fdt_be32(h) != FDT_MAGIC)
		return -2;
	size = fdt_be32(h + 4);
	soff = fdt_be32(h + 8);
	stroff = fdt_be32(h + 12);
	version = fdt_be32(h + 20);
	strsize = fdt_be32(h + 32);
	if (size < 40 || size > FDT_MAX_SIZE || version < 16)
		return -3;
	ssize = version >= 17 ? fdt_be32(h + 36) : size - (soff < size ? soff : size);
	if ((soff & 3) || soff < 40 || soff + ssize > size || stroff + strsize > size || ssize < 4)
		return -4;
	fdt->blob = h;
	fdt->size = (uint32_t)size;
	fdt->struct_off = (uint32_t)soff;
	fdt->struct_end = (uint32_t)((soff + ssize) & ~3UL);
	fdt->strings_off = (uint32_t)stroff;
	fdt->strings_size = (uint32_t)strsize;
	return 0;
}

/* Offset of the NUL ending the string at off, searching below end; 0 if there is none. */
static uint32_t str_end(const struct fdt *fdt, uint32_t off, uint32_t end)
{
	for (; off < end; off++)
		if (!fdt->blob[off])
			return off;
	return 0;
}

/* Tag of the token at off and the offset of the token after it; false if the token is malformed or out of bounds. */
static bool next_tok(const struct fdt *fdt, uint32_t off, uint32_t *tag, uint32_t *next)
{
	uint32_t end = fdt->struct_end, len, nul;

	if (off < fdt->struct_off || off > end - 4 || (off & 3))
		return false;
	*tag = fdt_be32(fdt->blob + off);
	switch (*tag) {
	case FDT_BEGIN_NODE:
		nul = str_end(fdt, off + 4, end);
		if (!nul)
			return false;
		*next = (nul + 4) & ~3u;
		break;
	case FDT_PROP:
		if (end - off < 12)
			return false;
		len = fdt_be32(fdt->blob + off + 4);
		if (len > end - off - 12)
			return false;
		*next = (off + 12 + len + 3) & ~3u;
		break;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		*next = off + 4;
		break;
	default:
		return false;
	}
	return *next <= end;
}

/* Skip NOPs from off; returns the offset of the first other token (0 on error) and its tag. */
static uint32_t skip_nops(const struct fdt *fdt, uint32_t off, uint32_t *tag)
{
	uint32_t next;

	while (next_tok(fdt, off, tag, &next)) {
		if (*tag != FDT_NOP)
			return off;
		off = next;
	}
	return 0;
}

/* First token after a node's name and properties: a child's BEGIN_NODE or the node's END_NODE (0 on error). */
static uint32_t after_props(const struct fdt *fdt, int node, uint32_t *tag)
{
	uint32_t off, next;

	if (node < 0 || !next_tok(fdt, (uint32_t)node, tag, &off) || *tag != FDT_BEGIN_NODE)
		return 0;
	while (next_tok(fdt, off, tag, &next)) {
		if (*tag != FDT_PROP && *tag != FDT_NOP)
			return off;
		off = next;
	}
	return 0;
}

int fdt_root(const struct fdt *fdt)
{
	uint32_t tag, off;

	if (!fdt->blob)
		return -1;
	off = skip_nops(fdt, fdt->struct_off, &tag);
	return off && tag == FDT_BEGIN_NODE ? (int)off : -1;
}

int fdt_first_child(const struct fdt *fdt, int node)
{
	uint32_t tag, off = after_props(fdt, node, &tag);

	return off && tag == FDT_BEGIN_NODE ? (int)off : -1;
}

int fdt_next_sibling(const struct fdt *fdt, int node)
{
	uint32_t tag, next, off = (uint32_t)node;
	int depth = 0;

	if (node < 0)
		return -1;
	/* Offsets strictly increase and are bounded by struct_end, so this walk always ends. */
	while (next_tok(fdt, off, &tag, &next)) {
		if (tag == FDT_BEGIN_NODE) {
			depth++;
		} else if (tag == FDT_END_NODE) {
			if (--depth == 0) {
				off = skip_nops(fdt, next, &tag);
				return off && tag == FDT_BEGIN_NODE ? (int)off : -1;
			}
		} else if (tag == FDT_END) {
			return -1;
		}
		off = next;
	}
	return -1;
}

int fdt_next_node(const struct fdt *fdt, int node)
{
	uint32_t tag, next, off;

	if (node < 0)
		return fdt_root(fdt);
	if (!next_tok(fdt, (uint32_t)node, &tag, &off))
		return -1;
	while (next_tok(fdt, off, &tag, &next)) {
		if (tag == FDT_BEGIN_NODE)
			return (int)off;
		if (tag == FDT_END)
			return -1;
		off = next;
	}
	return -1;
}

const char *fdt_node_name(const struct fdt *fdt, int node)
{
	uint32_t tag, next;

	if (node < 0 || !next_tok(fdt, (uint32_t)node, &tag, &next) || tag != FDT_BEGIN_NODE)
		return NULL;
	return (const char *)fdt->blob + node + 4;	/* NUL-terminated: checked by next_tok */
}

/* Does a node name match one path component? "uart" matches "uart@9000000" (unit address omitted). */
static bool name_matches(const char *name, const char *comp, size_t len)
{
	if (strncmp(name, comp, len))
		return false;
	if (!name[len])
		return true;
	for (size_t i = 0; i < len; i++)
		if (comp[i] == '@')
			return false;
	return name[len] == '@';
}

int fdt_find_path(const struct fdt *fdt, const char *path, size_t len)
{
	int node = fdt_root(fdt);
	size_t i = 0;

	if (!len || path[0] != '/')
		return -1;
	while (node >= 0) {
		size_t start, clen;

		while (i < len && path[i] == '/')
			i++;
		if (i >= len || !path[i])
			return node;
		start = i;
		while (i < len && path[i] && path[i] != '/')
			i++;
		clen = i - start;
		for (node = fdt_first_child(fdt, node); node >= 0; node = fdt_next_sibling(fdt, node))
			if (name_matches(fdt_node_name(fdt, node), path + start, clen))
				break;
	}
	return -1;
}

const void *fdt_getprop(const struct fdt *fdt, int node, const char *name, uint32_t *len)
{
	uint32_t tag, next, off, nameoff, nul;

	off = after_props(fdt, node, &tag);	/* validates the node; props start right after its name */
	if (!off || !next_tok(fdt, (uint32_t)node, &tag, &off))
		return NULL;
	while (next_tok(fdt, off, &tag, &next) && (tag == FDT_PROP || tag == FDT_NOP)) {
		if (tag == FDT_PROP) {
			nameoff = fdt_be32(fdt->blob + off + 8);
			if (nameoff < fdt->strings_size) {
				nul = str_end(fdt, fdt->strings_off + nameoff, fdt->strings_off + fdt->strings_size);
				if (nul && !strcmp((const char *)fdt->blob + fdt->strings_off + nameoff, name)) {
					if (len)
						*len = fdt_be32(fdt->blob + off + 4);
					return fdt->blob + off + 12;
				}
			}
		}
		off = next;
	}
	return NULL;
}

const char *fdt_getprop_str(const struct fdt *fdt, int node, const char *name)
{
	uint32_t len;
	const char *s = fdt_getprop(fdt, node, name, &len);

	if (!s || !len || strnlen(s, len) == len)
		return NULL;
	return s;
}

bool fdt_getprop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *out)
{
	uint32_t len;
	const void *p = fdt_getprop(fdt, node, name, &len);

	if (!p || len != 4)
		return false;
	*out = fdt_be32(p);
	return true;
}

bool fdt_node_is_compatible(const struct fdt *fdt, int node, const char *compat)
{
	uint32_t len, i = 0;
	const char *list = fdt_getprop(fdt, node, "compatible", &len);

	while (list && i < len) {
		size_t n = strnlen(list + i, len - i);

		if (n < len - i && !strcmp(list + i, compat))
			return true;
		i += (uint32_t)n + 1;
	}
	return false;
}

int fdt_find_compatible(const struct fdt *fdt, const char *compat)
{
	for (int node = fdt_next_node(fdt, -1); node >= 0; node = fdt_next_node(fdt, node))
		if (fdt_node_is_compatible(fdt, node, compat))
			return node;
	return -1;
}

int fdt_address_cells(const struct fdt *fdt, int node)
{
	uint32_t v;

	if (!fdt_getprop_u32(fdt, node, "#address-cells", &v))
		return 2;
	return v <= 2 ? (int)v : -1;	/* wider addresses are not needed here: refuse rather than misdecode */
}

int fdt_size_cells(const struct fdt *fdt, int node)
{
	uint32_t v;

	if (!fdt_getprop_u32(fdt, node, "#size-cells", &v))
		return 1;
	return v <= 2 ? (int)v : -1;
}

bool fdt_get_reg(const struct fdt *fdt, int parent, int node, unsigned int idx, uint64_t *addr, uint64_t *size)
{
	int ac = fdt_address_cells(fdt, parent), sc = fdt_size_cells(fdt, parent);
	uint32_t len, entry;
	const uint8_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (ac < 1 || sc < 0)
		return false;
	entry = 4u * (uint32_t)(ac + sc);
	if (!reg || len / entry <= idx)
		return false;
	reg += entry * idx;
	*addr = fdt_cells(reg, ac);
	*size = fdt_cells(reg + 4 * ac, sc);
	return true;
}

int fdt_parent(const struct fdt *fdt, int node)
{
	int stack[FDT_MAX_DEPTH];
	int depth = 0;
	uint32_t tag, next, off = fdt->struct_off;

	if (node < 0 || !fdt->blob)
		return -1;
	while (next_tok(fdt, off, &tag, &next)) {
		if (tag == FDT_BEGIN_NODE) {
			if ((int)off == node)
				return depth ? stack[depth - 1] : -1;
			if (depth == FDT_MAX_DEPTH)
				return -1;
			stack[depth++] = (int)off;
		} else if (tag == FDT_END_NODE) {
			if (!depth)
				return -1;
			depth--;
		} else if (tag == FDT_END) {
			break;
		}
		off = next;
	}
	return -1;
}
