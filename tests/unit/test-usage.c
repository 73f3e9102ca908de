/* Unit tests: the --help table of options_usage() (column alignment, long value lists, hidden options). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kvm/options.h"

/* The column (0-based) where the text after the option's left part starts on the line naming opt. */
static long help_column(const char *out, const char *opt, const char *help)
{
	const char *l = strstr(out, opt), *h;
	if (!l)
		return -1;
	while (l > out && l[-1] != '\n')
		l--;
	h = strstr(l, help);
	if (!h)
		return -1;
	for (const char *p = h; p > l; p--) /* help text on the next line: measure from that line's start */
		if (p[-1] == '\n')
			return h - p;
	return h - l;
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	bool b = false;
	const char *s = NULL;
	const struct option_desc opts[] = {
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Group", NULL, 0 },
		{ 'c', "cpus", OPT_STRING, &s, "n", "HELP-SHORT-AND-LONG", NULL, 0 },
		{ 0, "rng", OPT_BOOL, &b, NULL, "HELP-LONG-ONLY", NULL, 0 },
		{ 0, "irqchip", OPT_STRING, &s, "auto|gicv3|gicv3-its|gicv2|gicv2m", "HELP-LONG-VALUES", NULL, 0 },
		{ 0, "secret", OPT_BOOL, &b, NULL, "HELP-HIDDEN", NULL, OPT_HIDDEN },
		{ 0, "pvtime", OPT_STRING, &s, "on|off", "HELP-OPTIONAL", NULL, OPT_OPTIONAL_ARG },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	options_usage(f, "lkvm test [OPTIONS]", opts);
	fclose(f);
	CHECK(&uc, !strncmp(out, " usage: lkvm test [OPTIONS]\n", 28), "usage line first");
	CHECK(&uc, strstr(out, "\nGroup:\n") != NULL, "group heading");
	CHECK(&uc, strstr(out, "\n    -c, --cpus <n> ") != NULL, "short and long option: '-c, --cpus <n>'");
	CHECK(&uc, strstr(out, "\n        --rng ") != NULL, "a long-only option starts where '--cpus' does");
	CHECK(&uc, help_column(out, "--cpus", "HELP-SHORT-AND-LONG") == 33, "help text in column 33 (%ld)",
	      help_column(out, "--cpus", "HELP-SHORT-AND-LONG"));
	CHECK(&uc, help_column(out, "--rng", "HELP-LONG-ONLY") == 33, "long-only option's help in column 33 (%ld)",
	      help_column(out, "--rng", "HELP-LONG-ONLY"));
	CHECK(&uc, strstr(out, "--irqchip <auto|gicv3|gicv3-its|gicv2|gicv2m>\n") != NULL &&
			   help_column(out, "--irqchip", "HELP-LONG-VALUES") == 33,
	      "an overlong value list: help on the next line, column 33 (%ld)",
	      help_column(out, "--irqchip", "HELP-LONG-VALUES"));
	CHECK(&uc, strstr(out, "--pvtime[=on|off] ") != NULL, "optional value shown as --pvtime[=on|off]");
	CHECK(&uc, !strstr(out, "secret") && !strstr(out, "HELP-HIDDEN"), "hidden options are not shown");
	free(out);
	UNIT_DONE(&uc);
}
