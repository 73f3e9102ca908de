/* jsonck: is stdin exactly one JSON value (RFC 8259, strict)? Prints JSON-OK, or JSON-BAD with the offset; exit 0/1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct in {
	const char *p, *s, *end;
	int depth;
};

static void ws(struct in *in)
{
	while (in->p < in->end && strchr(" \t\r\n", *in->p))
		in->p++;
}

static int value(struct in *in);

static int string(struct in *in)
{
	if (in->p >= in->end || *in->p != '"')
		return -1;
	for (in->p++; in->p < in->end; in->p++) {
		unsigned char c = (unsigned char)*in->p;
		if (c == '"') {
			in->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			in->p++;
			if (in->p >= in->end || !strchr("\"\\/bfnrtu", *in->p))
				return -1;
			if (*in->p == 'u')
				for (int i = 0; i < 4; i++)
					if (++in->p >= in->end || !strchr("0123456789abcdefABCDEF", *in->p))
						return -1;
		}
	}
	return -1;
}

static int digits(struct in *in)
{
	const char *s = in->p;
	while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
		in->p++;
	return in->p > s ? 0 : -1;
}

static int number(struct in *in)
{
	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p < in->end && *in->p == '0')
		in->p++;
	else if (digits(in))
		return -1;
	if (in->p < in->end && *in->p == '.') {
		in->p++;
		if (digits(in))
			return -1;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (digits(in))
			return -1;
	}
	return 0;
}

static int members(struct in *in, char close, int object)
{
	if (++in->depth > 512)
		return -1;
	in->p++;
	ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		in->depth--;
		return 0;
	}
	for (;;) {
		ws(in);
		if (object) {
			if (string(in))
				return -1;
			ws(in);
			if (in->p >= in->end || *in->p++ != ':')
				return -1;
		}
		if (value(in))
			return -1;
		ws(in);
		if (in->p < in->end && *in->p == ',') {
			in->p++;
			continue;
		}
		if (in->p < in->end && *in->p == close) {
			in->p++;
			in->depth--;
			return 0;
		}
		return -1;
	}
}

static int word(struct in *in, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(in->end - in->p) < n || memcmp(in->p, w, n))
		return -1;
	in->p += n;
	return 0;
}

static int value(struct in *in)
{
	ws(in);
	if (in->p >= in->end)
		return -1;
	switch (*in->p) {
	case '{': return members(in, '}', 1);
	case '[': return members(in, ']', 0);
	case '"': return string(in);
	case 't': return word(in, "true");
	case 'f': return word(in, "false");
	case 'n': return word(in, "null");
	default: return number(in);
	}
}

int main(void)
{
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), stdin);
	struct in in = { buf, buf, buf + n, 0 };

	if (value(&in) == 0) {
		ws(&in);
		if (in.p == in.end) {
			printf("JSON-OK\n");
			return 0;
		}
	}
	printf("JSON-BAD at byte %ld\n", (long)(in.p - in.s));
	return 1;
}
