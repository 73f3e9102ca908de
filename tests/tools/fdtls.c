/* fdtls: print every node of a DTB (full path, DT order) and its properties as "  name = value", using libfdt. */
#include <errno.h>
#include <libfdt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DTB_SIZE (64u << 20)

/* Reads the whole file; NULL (with a one-line message) on failure. */
static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "fdtls: %s: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	do {
		if (len == cap) {
			char *bigger;

			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_DTB_SIZE) {
				fprintf(stderr, "fdtls: %s: larger than %u bytes, not a device tree blob\n", path,
					MAX_DTB_SIZE);
				goto fail;
			}
			bigger = realloc(buf, cap);
			if (!bigger) {
				fprintf(stderr, "fdtls: %s: out of memory\n", path);
				goto fail;
			}
			buf = bigger;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		fprintf(stderr, "fdtls: %s: read error: %s\n", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	*size = len;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

/* A string list: non-empty, NUL-terminated, printable strings with no empty member. */
static bool is_string_list(const char *v, int len)
{
	if (len <= 0 || v[len - 1] || !v[0])
		return false;
	for (int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!c) {
			if (i + 1 < len && !v[i + 1])
				return false;
		} else if (c < 0x20 || c > 0x7e) {
			return false;
		}
	}
	return true;
}

static void print_value(const void *value, int len)
{
	const char *s = value;
	const unsigned char *b = value;

	if (is_string_list(s, len)) {
		for (int i = 0; i < len; i++) {
			if (i == 0)
				putchar('"');
			if (!s[i]) {
				fputs(i + 1 < len ? "\", \"" : "\"", stdout);
				continue;
			}
			if (s[i] == '"' || s[i] == '\\')
				putchar('\\');
			putchar(s[i]);
		}
	} else if (len % 4 == 0) {
		putchar('<');
		for (int i = 0; i < len; i += 4) {
			fdt32_t cell;

			memcpy(&cell, b + i, sizeof(cell));
			printf("%s0x%x", i ? " " : "", (unsigned int)fdt32_to_cpu(cell));
		}
		putchar('>');
	} else {
		putchar('[');
		for (int i = 0; i < len; i++)
			printf("%s%02x", i ? " " : "", b[i]);
		putchar(']');
	}
}

static int list_tree(const char *path, const void *fdt)
{
	char node_path[4096];
	int node, prop, depth = 0, err;

	for (node = fdt_next_node(fdt, -1, &depth); node >= 0; node = fdt_next_node(fdt, node, &depth)) {
		err = fdt_get_path(fdt, node, node_path, sizeof(node_path));
		if (err) {
			fprintf(stderr, "fdtls: %s: node at offset %d: %s\n", path, node, fdt_strerror(err));
			return 1;
		}
		printf("%s\n", node_path);
		fdt_for_each_property_offset(prop, fdt, node) {
			const char *name;
			int len;
			const void *value = fdt_getprop_by_offset(fdt, prop, &name, &len);

			if (!value) {
				fprintf(stderr, "fdtls: %s: property in %s: %s\n", path, node_path, fdt_strerror(len));
				return 1;
			}
			if (!len) {
				printf("  %s\n", name);	/* boolean property */
				continue;
			}
			printf("  %s = ", name);
			print_value(value, len);
			putchar('\n');
		}
		if (prop != -FDT_ERR_NOTFOUND) {
			fprintf(stderr, "fdtls: %s: properties of %s: %s\n", path, node_path, fdt_strerror(prop));
			return 1;
		}
	}
	if (node != -FDT_ERR_NOTFOUND) {
		fprintf(stderr, "fdtls: %s: walking the tree: %s\n", path, fdt_strerror(node));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	void *fdt;
	size_t size;
	int err, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: fdtls FILE.dtb\n");
		return 2;
	}
	fdt = read_file(argv[1], &size);
	if (!fdt)
		return 1;
	err = size < FDT_V1_SIZE ? -FDT_ERR_TRUNCATED : fdt_check_full(fdt, size);
	if (err) {
		fprintf(stderr, "fdtls: %s: not a valid device tree blob: %s\n", argv[1], fdt_strerror(err));
		free(fdt);
		return 1;
	}
	ret = list_tree(argv[1], fdt);
	free(fdt);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "fdtls: writing output: %s\n", strerror(errno));
		return 1;
	}
	return ret;
}
