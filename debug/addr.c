/* The --gdb address: tcp:[ADDR:]PORT or unix:PATH, the syntax --metrics has (host-testable). */
#include <stdio.h>
#include <string.h>

#include "kvm/gdb.h"
#include "kvm/metrics.h"
#include "kvm/migrate.h"

int gdb_addr_parse(const char *spec, struct migrate_addr *a, char *err, size_t errlen)
{
	if (metrics_addr_parse(spec, a, err, errlen) == 0)
		return 0;
	if (!strncmp(err, "--metrics", 9)) { /* the same address syntax: say which option it was */
		char why[400];
		snprintf(why, sizeof(why), "%s", err + 9);
		snprintf(err, errlen, "--gdb%s", why);
	}
	return -1;
}
