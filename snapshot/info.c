/* 'lkvm restore --info FILE': check every section's framing and CRC (and a RAM image's); describe; start nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/log.h"
#include "kvm/snapshot.h"

/* 'lkvm restore --info FILE': check every section's framing and CRC (and a RAM image's), describe, start nothing. */
int snapshot_info(const char *path)
{
	static const char *const names[] = { "?", "config", "ram", "vcpu", "irqchip", "device", "ram-image" };
	struct snap_reader r;
	struct snap_ram_image img;
	struct stat sb;
	u64 ram_sections = 0, ram_bytes = 0, mem_mib = 0, data;
	u8 *image = NULL;
	size_t image_len = 0;
	char err[300];
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO, rc;

	if (fd < 0)
		die("Unable to open snapshot %s: %s", path, strerror(errno));
	snapr_init(&r, fd);
	if (snapr_file_header(&r))
		die("snapshot %s: %s", path, r.err);
	printf("snapshot %s: lkvm format %u (%s), arm64\n", path, r.version,
	       r.version == SNAP_VERSION_MAPPED ? "file with a mapped RAM image" : "stream, compressed RAM");
	while ((rc = snapr_next(&r)) == 1) {
		u64 at = r.off - r.len - 20;
		if (r.type == SNAP_SEC_CONFIG) {
			printf("%s", (const char *)r.payload);
			snap_config_u64((const char *)r.payload, "mem_mib", &mem_mib);
		}
		if (r.type == SNAP_SEC_RAM) {
			ram_sections++;
			ram_bytes += r.len;
		}
		if (r.type == SNAP_SEC_RAM_IMAGE) {
			free(image);
			image = malloc(r.len ? r.len : 1);
			if (!image)
				die("out of memory");
			memcpy(image, r.payload, r.len);
			image_len = r.len;
		}
		printf("section %llu: %s at byte %llu, %llu bytes\n", (unsigned long long)r.sections,
		       r.type < ARRAY_SIZE(names) ? names[r.type] : "?", (unsigned long long)at, (unsigned long long)r.len);
	}
	if (rc < 0)
		die("snapshot %s: %s", path, r.err);
	if (r.version == SNAP_VERSION_MAPPED) {
		if (!image || snap_image_parse(image, image_len, mem_mib << 20, &img, err, sizeof(err)))
			die("snapshot %s: %s", path, image ? err : "the RAM image section is missing (corrupt snapshot)");
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
			die("snapshot %s: a version-2 snapshot's RAM image can only be checked in a regular file", path);
		if ((u64)sb.st_size < img.offset + img.size)
			die("snapshot %s is %llu bytes but its RAM image ends at byte %llu: the file is truncated", path,
			    (unsigned long long)sb.st_size, (unsigned long long)(img.offset + img.size));
		if (snap_image_verify(fd, &img, &data, err, sizeof(err)))
			die("snapshot %s: %s", path, err);
		printf("ram image: %llu MiB at byte %llu, %llu MiB of data (%llu MiB allocated on disk), %u chunk CRCs ok\n",
		       (unsigned long long)(img.size >> 20), (unsigned long long)img.offset,
		       (unsigned long long)(data >> 20), (unsigned long long)((u64)sb.st_blocks * 512 >> 20), img.nr_chunks);
	}
	printf("ok: %llu sections (%llu RAM chunks, %llu bytes compressed), %llu bytes in all\n",
	       (unsigned long long)r.sections, (unsigned long long)ram_sections, (unsigned long long)ram_bytes,
	       (unsigned long long)(r.version == SNAP_VERSION_MAPPED ? img.offset + img.size : r.off));
	free(image);
	snapr_free(&r);
	return 0;
}
