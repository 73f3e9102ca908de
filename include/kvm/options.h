/* Command-line option tables: long/short forms, --opt=value and --opt value, one-line errors. */
#ifndef KVM_OPTIONS_H
#define KVM_OPTIONS_H

#include <stdio.h>

#include "kvm/util.h"

enum opt_type {
	OPT_END = 0,
	OPT_BOOL,     /* sets *(bool *)value = true; never takes a value */
	OPT_STRING,   /* *(const char **)value = arg */
	OPT_UINT,     /* *(unsigned int *)value, decimal or 0x hex */
	OPT_U64,      /* *(u64 *)value */
	OPT_CALLBACK, /* cb(opt, arg, ctx); arg NULL when absent and OPT_OPTIONAL_ARG */
	OPT_GROUP,    /* a heading in --help */
};

#define OPT_OPTIONAL_ARG 1u /* value only as --opt=value; bare --opt passes arg = NULL */
#define OPT_HIDDEN 2u

struct option_desc {
	char short_name;
	const char *long_name;
	enum opt_type type;
	void *value;
	const char *argh;
	const char *help;
	int (*cb)(const struct option_desc *opt, const char *arg, void *ctx, char *err, size_t errlen);
	unsigned int flags;
};

/*
 * Parse argv[0..argc) against opts. Non-option words are collected in order into positional[]
 * (at most max_pos); "--" ends option parsing. Returns the number of positional words, or -1 with a
 * one-line reason in err.
 */
int options_parse(const struct option_desc *opts, int argc, const char **argv, void *ctx, const char **positional,
		  int max_pos, char *err, size_t errlen);

/* The index in argv of the "--" that ends the options (values of options skipped), or -1 if there is none. */
int options_dashdash(const struct option_desc *opts, int argc, const char **argv);

void options_usage(FILE *f, const char *usage, const struct option_desc *opts);

/* Strict unsigned parsers (decimal, or 0x hex); return 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, u64 *out);
int parse_uint(const char *s, unsigned int *out);

#endif
