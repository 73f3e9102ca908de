/* What 'lkvm run -- CMD' reads and prints: the steal report, the kernel log's tail, an Image's release. */
#include <stdio.h>
#include <string.h>

#include "kvm/runcmd.h"

void runcmd_steal_format(const struct runcmd_steal_sample *s, bool json, char *out, size_t outlen)
{
	size_t used = 0;
	double wall_ms = (double)s->wall_ns / 1e6;

	if (json)
		used += (size_t)snprintf(out, outlen, "{\"wall_ms\":%.3f,\"vcpus\":[", wall_ms);
	else
		used += (size_t)snprintf(out, outlen, "lkvm: stolen time over the command's %.1f ms:", wall_ms);
	for (unsigned int i = 0; i < s->nr_cpus && used < outlen; i++) {
		double ms = (double)s->steal_ns[i] / 1e6;
		double pct = s->wall_ns ? 100.0 * (double)s->steal_ns[i] / (double)s->wall_ns : 0.0;
		if (json)
			used += (size_t)snprintf(out + used, outlen - used, "%s{\"vcpu\":%u,\"steal_ms\":%.3f,\"steal_pct\":%.2f}",
						 i ? "," : "", i, ms, pct);
		else
			used += (size_t)snprintf(out + used, outlen - used, "%s vCPU %u %.1f ms (%.1f%%)", i ? "," : "", i, ms,
						 pct);
	}
	if (json && used < outlen)
		snprintf(out + used, outlen - used, "]}");
}

unsigned int runcmd_tail_lines(const char *text, size_t len, unsigned int n, char *out, size_t outlen)
{
	size_t end = len, start, o = 0;
	unsigned int lines = 1;

	if (!outlen)
		return 0;
	out[0] = '\0';
	while (end && (text[end - 1] == '\n' || text[end - 1] == '\r'))
		end--;
	if (!end || !n)
		return 0;
	for (start = end; start > 0; start--) {
		if (text[start - 1] != '\n')
			continue;
		if (lines == n)
			break;
		lines++;
	}
	for (size_t i = start; i < end && o + 2 < outlen; i++)
		if (text[i] != '\r')
			out[o++] = text[i];
	out[o++] = '\n';
	out[o] = '\0';
	return lines;
}

void runcmd_image_release(const u8 *img, size_t len, char *out, size_t outlen)
{
	static const char banner[] = "Linux version ";
	const u8 *p = img, *end = img + len;

	if (outlen)
		out[0] = '\0';
	while (p && p < end) {
		p = memmem(p, (size_t)(end - p), banner, sizeof(banner) - 1);
		if (!p)
			return;
		p += sizeof(banner) - 1;
		{
			size_t n = 0;
			while (p + n < end && n + 1 < outlen && p[n] > ' ' && p[n] < 0x7f)
				n++;
			/* the banner is "Linux version RELEASE (builder) #N ..."; a format string has a '%' */
			if (n && p + n < end && p[n] == ' ' && !memchr(p, '%', n)) {
				memcpy(out, p, n);
				out[n] = '\0';
				return;
			}
		}
	}
}
