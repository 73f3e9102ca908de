/* Generic option parser used by every subcommand (host-testable, no KVM dependencies). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/options.h"

int parse_u64(const char *s, u64 *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_uint(const char *s, unsigned int *out)
{
	u64 v;
	int r = parse_u64(s, &v);
	if (r)
		return r;
	if (v > 0xffffffffULL)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

static const struct option_desc *find_long(const struct option_desc *opts, const char *name, size_t len)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->type != OPT_GROUP && opts->long_name && strlen(opts->long_name) == len &&
		    !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct option_desc *find_short(const struct option_desc *opts, char c)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->type != OPT_GROUP && opts->short_name == c)
			return opts;
	return NULL;
}

static const char *opt_name(const struct option_desc *o, char *buf, size_t len)
{
	if (o->long_name)
		snprintf(buf, len, "--%s", o->long_name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

static int apply(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	char name[64];
	int r;

	switch (o->type) {
	case OPT_BOOL:
		*(bool *)o->value = true;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_UINT:
		r = parse_uint(arg, (unsigned int *)o->value);
		break;
	case OPT_U64:
		r = parse_u64(arg, (u64 *)o->value);
		break;
	case OPT_CALLBACK:
		return o->cb(o, arg, ctx, err, errlen);
	default:
		r = -EINVAL;
	}
	if (r) {
		snprintf(err, errlen, "option %s: '%s' is not %s", opt_name(o, name, sizeof(name)), arg,
			 r == -ERANGE ? "in range" : "a number");
		return -1;
	}
	return 0;
}

static bool takes_value(const struct option_desc *o)
{
	return o->type != OPT_BOOL && !(o->flags & OPT_OPTIONAL_ARG);
}

int options_parse(const struct option_desc *opts, int argc, const char **argv, void *ctx, const char **positional,
		  int max_pos, char *err, size_t errlen)
{
	int npos = 0;
	bool only_pos = false;
	char name[64];

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct option_desc *o;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (npos >= max_pos) {
				snprintf(err, errlen, "unexpected argument '%s'", a);
				return -1;
			}
			positional[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (a[1] == '-') {
			const char *n = a + 2, *eq = strchr(n, '=');
			size_t len = eq ? (size_t)(eq - n) : strlen(n);
			o = find_long(opts, n, len);
			if (!o) {
				snprintf(err, errlen, "unknown option '%.*s'", (int)(len + 2), a);
				return -1;
			}
			if (eq) {
				if (o->type == OPT_BOOL) {
					snprintf(err, errlen, "option %s takes no value", opt_name(o, name, sizeof(name)));
					return -1;
				}
				val = eq + 1;
			}
		} else {
			o = find_short(opts, a[1]);
			if (!o) {
				snprintf(err, errlen, "unknown option '-%c'", a[1]);
				return -1;
			}
			if (a[2]) {
				if (o->type == OPT_BOOL) {
					snprintf(err, errlen, "unknown option '%s'", a);
					return -1;
				}
				val = a[2] == '=' ? a + 3 : a + 2;
			}
		}
		if (!val && takes_value(o)) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option %s needs a value (%s)", opt_name(o, name, sizeof(name)),
					 o->argh ? o->argh : "value");
				return -1;
			}
			val = argv[++i];
		}
		if (apply(o, val, ctx, err, errlen))
			return -1;
	}
	return npos;
}

int options_dashdash(const struct option_desc *opts, int argc, const char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct option_desc *o = NULL;

		if (!strcmp(a, "--"))
			return i;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] == '-') {
			if (!strchr(a, '='))
				o = find_long(opts, a + 2, strlen(a + 2));
		} else if (!a[2]) {
			o = find_short(opts, a[1]);
		}
		if (o && takes_value(o))
			i++; /* its value, even if it is "--" */
	}
	return -1;
}

void options_usage(FILE *f, const char *usage, const struct option_desc *opts)
{
	fprintf(f, " usage: %s\n\n", usage);
	for (; opts->type != OPT_END; opts++) {
		char left[80];
		if (opts->flags & OPT_HIDDEN)
			continue;
		if (opts->type == OPT_GROUP) {
			fprintf(f, "\n%s:\n", opts->help);
			continue;
		}
		snprintf(left, sizeof(left), "%s%c%s%s%s%s%s", opts->short_name ? "-" : " ",
			 opts->short_name ? opts->short_name : ' ', opts->short_name && opts->long_name ? ", " : "  ",
			 opts->long_name ? "--" : "", opts->long_name ? opts->long_name : "",
			 opts->argh ? ((opts->flags & OPT_OPTIONAL_ARG) ? "[=" : " <") : "",
			 opts->argh ? opts->argh : "");
		if (opts->argh)
			strncat(left, (opts->flags & OPT_OPTIONAL_ARG) ? "]" : ">", sizeof(left) - strlen(left) - 1);
		if (strlen(left) > 28) /* a long value list: its help on the next line, in the help column */
			fprintf(f, "    %s\n    %-28s %s\n", left, "", opts->help ? opts->help : "");
		else
			fprintf(f, "    %-28s %s\n", left, opts->help ? opts->help : "");
	}
}
