/* 9p wire format and fid table: bounds-checked message reading/writing, fids as (share-relative path, fd). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "9p-int.h"

/* ---- message buffers: every read and write is bounds-checked; a short message sets bad ---- */

const u8 *p9_in_take(struct p9_in *in, size_t n)
{
	const u8 *r;

	if (in->bad || n > in->len - in->off) {
		in->bad = true;
		return NULL;
	}
	r = in->p + in->off;
	in->off += n;
	return r;
}

static u64 in_le(struct p9_in *in, unsigned int n)
{
	const u8 *b = p9_in_take(in, n);
	u64 v = 0;

	for (unsigned int i = 0; b && i < n; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

u8 p9_in8(struct p9_in *in)
{
	return (u8)in_le(in, 1);
}
u16 p9_in16(struct p9_in *in)
{
	return (u16)in_le(in, 2);
}
u32 p9_in32(struct p9_in *in)
{
	return (u32)in_le(in, 4);
}
u64 p9_in64(struct p9_in *in)
{
	return in_le(in, 8);
}

/* A string: a NUL-terminated copy in buf (bufsz includes the NUL); embedded NULs or overlong strings are bad. */
size_t p9_in_str(struct p9_in *in, char *buf, size_t bufsz)
{
	u16 n = p9_in16(in);
	const u8 *b = p9_in_take(in, n);

	buf[0] = '\0';
	if (!b)
		return 0;
	if (n >= bufsz || memchr(b, '\0', n)) {
		in->bad = true;
		return 0;
	}
	memcpy(buf, b, n);
	buf[n] = '\0';
	return n;
}

u8 *p9_out_take(struct p9_out *o, size_t n)
{
	u8 *r;

	if (o->full || n > o->cap - o->off) {
		o->full = true;
		return NULL;
	}
	r = o->p + o->off;
	o->off += n;
	return r;
}

void p9_out_le(struct p9_out *o, u64 v, unsigned int n)
{
	u8 *b = p9_out_take(o, n);

	for (unsigned int i = 0; b && i < n; i++)
		b[i] = (u8)(v >> (8 * i));
}


void p9_out_str(struct p9_out *o, const char *s, size_t n)
{
	u8 *b;

	out16(o, n);
	b = p9_out_take(o, n);
	if (b)
		memcpy(b, s, n);
}

static u64 qid_path(const struct stat *st)
{
	return (u64)st->st_ino ^ ((u64)st->st_dev << 48);
}

static u8 qid_type(mode_t m)
{
	return S_ISDIR(m) ? P9_QTDIR : S_ISLNK(m) ? P9_QTSYMLINK : P9_QTFILE;
}

void p9_out_qid(struct p9_out *o, const struct stat *st)
{
	out8(o, qid_type(st->st_mode));
	out32(o, 0);
	out64(o, qid_path(st));
}

/* ---- fids ---- */

static struct p9_fid **fid_slot(struct p9_server *s, u32 id)
{
	struct p9_fid **pp = &s->buckets[id % P9_FID_BUCKETS];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

struct p9_fid *p9_fid_get(struct p9_server *s, u32 id)
{
	return *fid_slot(s, id);
}

static void fid_free(struct p9_fid *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

void p9_fid_drop(struct p9_server *s, u32 id)
{
	struct p9_fid **pp = fid_slot(s, id), *f = *pp;

	if (!f)
		return;
	*pp = f->next;
	fid_free(f);
	s->nr_fids--;
}

/* Install (fd, path) as fid id, replacing an existing one; takes ownership of both. 0 or -errno. */
int p9_fid_set(struct p9_server *s, u32 id, int fd, char *path, bool opened)
{
	struct p9_fid **pp = fid_slot(s, id), *f = *pp;

	if (id == P9_NOFID) {
		close(fd);
		free(path);
		return -EBADF;
	}
	if (!f) {
		if (s->nr_fids >= P9_MAX_FIDS || !(f = calloc(1, sizeof(*f)))) {
			close(fd);
			free(path);
			return s->nr_fids >= P9_MAX_FIDS ? -EMFILE : -ENOMEM;
		}
		f->id = id;
		f->next = *pp;
		*pp = f;
		s->nr_fids++;
	} else {
		close(f->fd);
		free(f->path);
	}
	f->fd = fd;
	f->path = path;
	f->opened = opened;
	return 0;
}

void p9_fid_clear_all(struct p9_server *s)
{
	for (unsigned int i = 0; i < P9_FID_BUCKETS; i++) {
		while (s->buckets[i]) {
			struct p9_fid *f = s->buckets[i];
			s->buckets[i] = f->next;
			fid_free(f);
		}
	}
	s->nr_fids = 0;
}

/* After a rename, fids naming old (or something beneath it) name the new place. */
void p9_fid_rename(struct p9_server *s, const char *old, const char *new)
{
	size_t ol = strlen(old), nl = strlen(new);

	for (unsigned int i = 0; i < P9_FID_BUCKETS; i++) {
		for (struct p9_fid *f = s->buckets[i]; f; f = f->next) {
			size_t pl = strlen(f->path);
			char *p;
			if (strncmp(f->path, old, ol) || (pl > ol && f->path[ol] != '/') || pl < ol)
				continue;
			if (nl + (pl - ol) > P9_MAX_PATH || !(p = malloc(nl + (pl - ol) + 1)))
				continue; /* keeps the old name: later requests on it fail with ENOENT */
			memcpy(p, new, nl);
			memcpy(p + nl, f->path + ol, pl - ol + 1);
			free(f->path);
			f->path = p;
		}
	}
}

