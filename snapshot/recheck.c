/* Live migration's integrity re-check: catch pages written without a dirty-log entry, live and in the pause. */
#include <stdlib.h>
#include <string.h>

#include "kvm/mig-recheck.h"
#include "kvm/ram.h"
#include "kvm/snapshot.h"

static bool test_bit(const u64 *map, u64 i)
{
	return map[i / 64] & (1ULL << (i % 64));
}

static void set_bit(u64 *map, u64 i)
{
	map[i / 64] |= 1ULL << (i % 64);
}

int recheck_mode_parse(const char *s, enum recheck_mode *mode)
{
	static const char *const names[] = { "auto", "always", "never" };

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i]))
			return *mode = (enum recheck_mode)i, 0;
	return -1;
}

const char *recheck_mode_name(enum recheck_mode mode)
{
	return mode == RECHECK_ALWAYS ? "always" : mode == RECHECK_NEVER ? "never" : "auto";
}

const char *recheck_scope_name(enum recheck_scope scope)
{
	return scope == RECHECK_SCOPE_ALL ? "all" : "blocks";
}

static u64 block_words(u64 pages)
{
	return (pages + RECHECK_BLOCK_PAGES - 1) / RECHECK_BLOCK_PAGES / 64 + 1;
}

bool recheck_block_pending(const struct recheck *rc, u64 pg)
{
	return test_bit(rc->pending, pg / RECHECK_BLOCK_PAGES);
}

bool recheck_block_hot(const struct recheck *rc, u64 pg)
{
	u64 w0 = pg / RECHECK_BLOCK_PAGES * (RECHECK_BLOCK_PAGES / 64), words = (rc->pages + 63) / 64;

	for (u64 w = w0; w < w0 + RECHECK_BLOCK_PAGES / 64 && w < words; w++)
		if (rc->hot[w])
			return true;
	return false;
}

int recheck_init(struct recheck *rc, u64 pages, enum recheck_mode mode)
{
	u64 words = (pages + 63) / 64;
	u32 zero = snap_zero_page_hash();

	*rc = (struct recheck){ .mode = mode, .pages = pages };
	rc->sent_hash = malloc(pages * sizeof(u32));
	rc->hot = calloc(words, sizeof(u64));
	rc->cand = calloc(words, sizeof(u64));
	rc->pending = calloc(block_words(pages), sizeof(u64));
	rc->justread = calloc(block_words(pages), sizeof(u64));
	if (!rc->sent_hash || !rc->hot || !rc->cand || !rc->pending || !rc->justread) {
		recheck_free(rc);
		return -1;
	}
	for (u64 i = 0; i < pages; i++)
		rc->sent_hash[i] = zero; /* the destination's RAM starts zeroed */
	return 0;
}

void recheck_free(struct recheck *rc)
{
	free(rc->sent_hash);
	free(rc->hot);
	free(rc->cand);
	free(rc->pending);
	free(rc->justread);
	rc->sent_hash = NULL;
	rc->hot = rc->cand = rc->pending = rc->justread = NULL;
}

void recheck_note_dirty(struct recheck *rc, const u64 *send)
{
	for (u64 w = 0; w < (rc->pages + 63) / 64; w++) {
		rc->hot[w] |= send[w];
		if (send[w])
			set_bit(rc->pending, w * 64 / RECHECK_BLOCK_PAGES);
	}
}

/* Does page pg (populated or known zero) still hash to what the destination holds? */
static bool same(const struct recheck *rc, const struct guest_ram *ram, u64 pg, bool populated)
{
	u32 now = populated ? snap_page_hash(ram->host + pg * SNAP_PAGE) : snap_zero_page_hash();
	return now == rc->sent_hash[pg];
}

/* Compare the pages of [pg0, pg0 + np) that send does not list with their sent copies; changed ones are candidates. */
static u64 look(struct recheck *rc, const struct guest_ram *ram, const u64 *send, u64 pg0, u64 np)
{
	u8 populated[SNAP_CHUNK_PAGES];
	u64 read = 0;

	guest_ram_populated(ram, pg0 * SNAP_PAGE, np * SNAP_PAGE, populated);
	for (u64 i = 0; i < np; i++) {
		u64 pg = pg0 + i;
		if (test_bit(send, pg))
			continue; /* logged dirty: goes out again anyway */
		read += populated[i];
		if (!same(rc, ram, pg, populated[i]))
			set_bit(rc->cand, pg);
	}
	return read;
}

static u64 chunk_pages(const struct recheck *rc, u64 pg0)
{
	return rc->pages - pg0 < SNAP_CHUNK_PAGES ? rc->pages - pg0 : SNAP_CHUNK_PAGES;
}

u64 recheck_live(struct recheck *rc, const struct guest_ram *ram, const u64 *send, u64 budget)
{
	u64 read = 0, seen = 0;

	if (rc->mode != RECHECK_AUTO || !rc->pages)
		return 0;
	/* the pending blocks first, whole and whatever the budget: afterwards the pause need not read them */
	for (u64 b = 0; b * RECHECK_BLOCK_PAGES < rc->pages; b++) {
		if (!test_bit(rc->pending, b))
			continue;
		read += look(rc, ram, send, b * RECHECK_BLOCK_PAGES, chunk_pages(rc, b * RECHECK_BLOCK_PAGES));
		rc->pending[b / 64] &= ~(1ULL << (b % 64));
		set_bit(rc->justread, b);
	}
	rc->pending_read += read;
	/* then a share of the rest, from the cursor: a loss the model does not expect shows up here */
	while (read < budget && seen < rc->pages) { /* at most one lap, however few pages hold data */
		u64 pg0 = rc->cursor - rc->cursor % SNAP_CHUNK_PAGES, np = chunk_pages(rc, pg0);

		if (!test_bit(rc->justread, pg0 / RECHECK_BLOCK_PAGES))
			read += look(rc, ram, send, rc->cursor, pg0 + np - rc->cursor);
		seen += pg0 + np - rc->cursor;
		rc->cursor = pg0 + np;
		if (rc->cursor >= rc->pages) {
			rc->cursor = 0;
			rc->sweeps++;
		}
	}
	rc->live_read += read;
	return read;
}

/*
 * Does a loss at pg fit the model (mig-recheck.h)? Its block holds a hot page, and it is pending, or (live) the
 * self-check has just read it whole. Counts a loss that does not fit.
 */
static bool expected(struct recheck *rc, u64 pg, bool live)
{
	u64 b = pg / RECHECK_BLOCK_PAGES;

	if (!recheck_block_hot(rc, pg))
		return rc->wide_lost++, false;
	if (test_bit(rc->pending, b) || (live && test_bit(rc->justread, b)))
		return true;
	rc->unreported_lost++;
	return rc->wide_lost++, false;
}

u64 recheck_live_confirm(struct recheck *rc, u64 *send)
{
	u64 lost = 0;

	recheck_note_dirty(rc, send); /* this collection's pages are being written too */
	for (u64 w = 0; w < (rc->pages + 63) / 64; w++) {
		u64 own = rc->own ? __atomic_load_n(&rc->own[w], __ATOMIC_ACQUIRE) : 0; /* in the next collection */
		for (u64 bits = rc->cand[w] & ~send[w] & ~own; bits; bits &= bits - 1) {
			u64 pg = w * 64 + (u64)__builtin_ctzll(bits);
			bool cold = !test_bit(rc->hot, pg);
			if (rc->found)
				rc->found(rc->ctx, pg, RECHECK_LIVE, cold);
			if (cold)
				rc->live_cold++;
			if (!expected(rc, pg, true)) /* no subset of RAM is safe */
				recheck_escalate(rc, RECHECK_SCOPE_ALL, RECHECK_WHY_LIVE);
			set_bit(send, pg);
			set_bit(rc->hot, pg);
			lost++;
		}
		rc->cand[w] = 0;
	}
	memset(rc->justread, 0, block_words(rc->pages) * sizeof(u64));
	rc->live_lost += lost;
	return lost;
}

void recheck_escalate(struct recheck *rc, enum recheck_scope scope, enum recheck_why why)
{
	if (scope <= rc->scope)
		return;
	rc->why = why; /* the last widening: what set the scope the pause reads */
	rc->scope = scope;
}

/* Has a 2 MiB chunk anything for a pass over scope to read? (A chunk is a block.) */
static bool chunk_wanted(const struct recheck *rc, u64 pg0, enum recheck_scope scope)
{
	return scope == RECHECK_SCOPE_ALL || test_bit(rc->pending, pg0 / RECHECK_BLOCK_PAGES);
}

_Static_assert(SNAP_CHUNK_PAGES == RECHECK_BLOCK_PAGES, "the pause reads RAM by 2 MiB blocks");

/* One pass of the paused check over scope (SNAP_CHUNK_PAGES is RECHECK_BLOCK_PAGES: a chunk is a block). */
static u64 paused_pass(struct recheck *rc, const struct guest_ram *ram, u64 *send, enum recheck_scope scope)
{
	u8 populated[SNAP_CHUNK_PAGES];
	u64 lost = 0;

	for (u64 pg0 = 0; pg0 < rc->pages; pg0 += SNAP_CHUNK_PAGES) {
		u64 np = chunk_pages(rc, pg0);

		if (!chunk_wanted(rc, pg0, scope))
			continue; /* nothing to look at in this chunk: not even its page table is read */
		guest_ram_populated(ram, pg0 * SNAP_PAGE, np * SNAP_PAGE, populated);
		for (u64 i = 0; i < np; i++) {
			u64 pg = pg0 + i;
			if (test_bit(send, pg))
				continue;
			rc->paused_read += populated[i];
			if (same(rc, ram, pg, populated[i]))
				continue;
			if (rc->found)
				rc->found(rc->ctx, pg, RECHECK_PAUSED, !test_bit(rc->hot, pg));
			expected(rc, pg, false);
			set_bit(send, pg);
			lost++;
		}
	}
	return lost;
}

u64 recheck_paused(struct recheck *rc, const struct guest_ram *ram, u64 *send)
{
	enum recheck_scope scope = rc->mode == RECHECK_ALWAYS ? RECHECK_SCOPE_ALL : rc->scope;
	u64 lost;

	if (rc->mode == RECHECK_NEVER)
		return 0;
	lost = paused_pass(rc, ram, send, scope);
	rc->paused_scope = scope;
	rc->paused_lost += lost;
	return lost;
}
