/* Unit tests: live migration's re-check (snapshot/recheck.c): what is read live and in the pause, what is caught. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "kvm/loss-record.h"
#include "kvm/mig-recheck.h"
#include "kvm/migrate.h"
#include "kvm/snapshot.h"

#define BASE 0x80000000ULL
#define PAGES 2048ULL /* 8 MiB: four 2 MiB chunks */
#define WORDS (PAGES / 64)

static void setb(u64 *m, u64 i) { m[i / 64] |= 1ULL << (i % 64); }
static bool getb(const u64 *m, u64 i) { return m[i / 64] & (1ULL << (i % 64)); }

static u64 bits(const u64 *m)
{
	u64 n = 0;
	for (u64 w = 0; w < WORDS; w++)
		n += (u64)__builtin_popcountll(m[w]);
	return n;
}

struct seen {
	u64 n, page;
	enum recheck_when when;
	bool cold;
};

static void found(void *ctx, u64 page, enum recheck_when when, bool cold)
{
	struct seen *s = ctx;
	s->n++;
	s->page = page;
	s->when = when;
	s->cold = cold;
}

/* A migration's state after pass 1: pages 0..299 hold data and were sent (their hashes are the copies'). */
static void sent_state(struct recheck *rc, struct guest_ram *ram, enum recheck_mode mode, struct seen *s)
{
	madvise(ram->host, PAGES * 4096, MADV_DONTNEED); /* all zero, none populated */
	for (u64 pg = 0; pg < 300; pg++)
		memset(ram->host + pg * 4096, (int)(pg % 250) + 1, 4096);
	recheck_init(rc, PAGES, mode);
	for (u64 pg = 0; pg < 300; pg++)
		rc->sent_hash[pg] = snap_page_hash(ram->host + pg * 4096);
	memset(s, 0, sizeof(*s));
	rc->found = found;
	rc->ctx = s;
}

/* sent_state, then a round: the log reports page 3 (block 0), the self-check reads block 0 whole and finds it clean */
static void block0_read_clean(struct recheck *rc, struct guest_ram *ram, struct seen *s, u64 *send)
{
	sent_state(rc, ram, RECHECK_AUTO, s);
	memset(send, 0, WORDS * sizeof(u64));
	setb(send, 3);
	recheck_note_dirty(rc, send);
	memset(send, 0, WORDS * sizeof(u64));
	recheck_live(rc, ram, send, 0);
	recheck_live_confirm(rc, send);
}

static void test_modes(struct unit_counts *uc)
{
	enum recheck_mode m;
	struct migrate_params p;
	char err[200];

	CHECK(uc, recheck_mode_parse("auto", &m) == 0 && m == RECHECK_AUTO, "--recheck auto parses");
	CHECK(uc, recheck_mode_parse("always", &m) == 0 && m == RECHECK_ALWAYS, "--recheck always parses");
	CHECK(uc, recheck_mode_parse("never", &m) == 0 && m == RECHECK_NEVER, "--recheck never parses");
	CHECK(uc, recheck_mode_parse("sometimes", &m) < 0 && recheck_mode_parse("", &m) < 0, "anything else is refused");
	CHECK(uc, !strcmp(recheck_mode_name(RECHECK_NEVER), "never") && !strcmp(recheck_mode_name(RECHECK_AUTO), "auto"),
	      "names round-trip");
	CHECK(uc, migrate_params_parse("downtime_ms=5", &p, err, sizeof(err)) == 0 && p.recheck == RECHECK_AUTO &&
			  !p.debug_unlogged,
	      "a request without recheck= means auto");
	CHECK(uc, migrate_params_parse("recheck=always debug_unlogged=1", &p, err, sizeof(err)) == 0 &&
			  p.recheck == RECHECK_ALWAYS && p.debug_unlogged,
	      "recheck=always debug_unlogged=1 in a request");
	CHECK(uc, migrate_params_parse("recheck=maybe", &p, err, sizeof(err)) < 0, "recheck=maybe refused: %s", err);
	CHECK(uc, migrate_params_parse("debug_unlogged=2", &p, err, sizeof(err)) < 0, "debug_unlogged=2 refused");
}

static void test_always(struct unit_counts *uc, struct guest_ram *ram)
{
	struct recheck rc;
	struct seen s;
	u64 send[WORDS] = { 0 };

	sent_state(&rc, ram, RECHECK_ALWAYS, &s);
	ram->host[100 * 4096 + 7] ^= 0xff;  /* changed, no log entry, never written during the migration */
	ram->host[1500 * 4096 + 9] = 3;     /* a page never sent (zero at the destination) now holds data */
	setb(send, 20);                     /* logged: goes out anyway */
	ram->host[20 * 4096] ^= 1;
	CHECK(uc, recheck_paused(&rc, ram, send) == 2 && getb(send, 100) && getb(send, 1500) && bits(send) == 3,
	      "always: both unlogged changes are caught and sent (%llu in send)", (unsigned long long)bits(send));
	CHECK(uc, rc.paused_scope == RECHECK_SCOPE_ALL && rc.paused_read >= 299, "always: all populated pages read (%llu)",
	      (unsigned long long)rc.paused_read);
	CHECK(uc, rc.wide_lost == 2, "always: both losses lie outside every block being written (%llu)",
	      (unsigned long long)rc.wide_lost);
	CHECK(uc, s.n == 2 && s.when == RECHECK_PAUSED && s.cold, "the reporter hears of both, as paused and cold");
	recheck_free(&rc);
}

static void test_never(struct unit_counts *uc, struct guest_ram *ram)
{
	struct recheck rc;
	struct seen s;
	u64 send[WORDS] = { 0 }, n;

	sent_state(&rc, ram, RECHECK_NEVER, &s);
	ram->host[100 * 4096] ^= 0xff;
	setb(send, 5);
	recheck_note_dirty(&rc, send); /* even with a hot set */
	CHECK(uc, recheck_live(&rc, ram, send, 1 << 20) == 0, "never: no live self-check");
	/* any read of guest RAM now faults: the test would crash */
	CHECK(uc, mprotect(ram->host, PAGES * 4096, PROT_NONE) == 0, "guest RAM made unreadable");
	n = recheck_paused(&rc, ram, send);
	mprotect(ram->host, PAGES * 4096, PROT_READ | PROT_WRITE);
	CHECK(uc, n == 0 && rc.paused_read == 0 && bits(send) == 1 && s.n == 0,
	      "never: no page is read in the pause, nothing added");
	recheck_free(&rc);
}

static void test_auto(struct unit_counts *uc, struct guest_ram *ram)
{
	struct recheck rc;
	struct seen s;
	u64 send[WORDS] = { 0 }, n, read;

	/* nothing lost: the self-check reads the block the log reported (block 0: pages 0-511) whole, then the rest;
	 * the pause reads every populated page of the blocks reported since (block 0 again), not the rest of RAM: data
	 * in block 1 that nothing logged is not read */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(ram->host + 600 * 4096, 9, 4096);
	rc.sent_hash[600] = snap_page_hash(ram->host + 600 * 4096);
	for (u64 pg = 10; pg < 18; pg++)
		setb(send, pg); /* round 2's collection */
	recheck_note_dirty(&rc, send);
	memset(send, 0, sizeof(send)); /* round 2 sent them (their copies' hashes unchanged here) */
	read = recheck_live(&rc, ram, send, 1 << 20);
	CHECK(uc, read == 301 && rc.sweeps == 1 && recheck_live_confirm(&rc, send) == 0 && rc.scope == RECHECK_SCOPE_BLOCKS,
	      "auto: the self-check reads each populated page once (%llu) and finds nothing", (unsigned long long)read);
	CHECK(uc, rc.pending_read == 300 && !recheck_block_pending(&rc, 0), "the reported block was read whole (%llu)",
	      (unsigned long long)rc.pending_read);
	setb(send, 11); /* the last collection */
	recheck_note_dirty(&rc, send);
	n = recheck_paused(&rc, ram, send);
	CHECK(uc, n == 0 && rc.paused_scope == RECHECK_SCOPE_BLOCKS && rc.paused_read == 299 && rc.why == RECHECK_WHY_NONE,
	      "auto, no loss: the pause reads block 0's 299 populated pages not sent last, not block 1 (%llu)",
	      (unsigned long long)rc.paused_read);
	recheck_free(&rc);

	/* a block the self-check read after its report, and not reported since, holds nothing stale: the pause skips it
	 * (what keeps the pause to the last blocks written, however long pre-copy took) */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(ram->host + 600 * 4096, 9, 4096);
	rc.sent_hash[600] = snap_page_hash(ram->host + 600 * 4096);
	for (u64 pg = 10; pg < 18; pg++)
		setb(send, pg);
	recheck_note_dirty(&rc, send);
	memset(send, 0, sizeof(send));
	recheck_live(&rc, ram, send, 0);
	recheck_live_confirm(&rc, send);
	setb(send, 700); /* the pause's collection reports block 1 only */
	recheck_note_dirty(&rc, send);
	n = recheck_paused(&rc, ram, send);
	CHECK(uc, n == 0 && rc.paused_read == 1 && !recheck_block_pending(&rc, 0) && recheck_block_pending(&rc, 700),
	      "auto: block 0, read clean and not reported since, is skipped; block 1 is read (%llu pages)",
	      (unsigned long long)rc.paused_read);
	recheck_free(&rc);

	/* the bed's loss: one page of a block logged, others in it changed without an entry, after the live check
	 * looked; the pause's block read catches them all in the first migration, with no record */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	for (u64 pg = 10; pg < 18; pg++)
		setb(send, pg);
	recheck_note_dirty(&rc, send);
	memset(send, 0, sizeof(send));
	recheck_live(&rc, ram, send, 1 << 20);
	recheck_live_confirm(&rc, send);
	ram->host[12 * 4096 + 100] ^= 0x55; /* hot page, changed without an entry */
	ram->host[260 * 4096 + 7] ^= 0x21;  /* and a cold one in its block */
	setb(send, 11);                     /* the faulting page that unlocked the block: reported by the last collection */
	recheck_note_dirty(&rc, send);
	n = recheck_paused(&rc, ram, send);
	CHECK(uc, n == 2 && getb(send, 12) && getb(send, 260) && rc.paused_scope == RECHECK_SCOPE_BLOCKS &&
			  rc.why == RECHECK_WHY_NONE && rc.wide_lost == 0,
	      "auto: losses in a hot block, hot or not, are caught in the pause (%llu lost)", (unsigned long long)n);
	CHECK(uc, s.n == 2 && s.page == 260 && s.cold, "both reported, the last as cold");
	recheck_free(&rc);

	/* the self-check finds a loss beside a page being written: a block loss, the pause stays on the hot blocks */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(send, 0, sizeof(send));
	setb(send, 3);
	recheck_note_dirty(&rc, send);
	memset(send, 0, sizeof(send));
	ram->host[120 * 4096] ^= 0x10;
	recheck_live(&rc, ram, send, 1 << 20);
	CHECK(uc, recheck_live_confirm(&rc, send) == 1 && getb(send, 120) && rc.scope == RECHECK_SCOPE_BLOCKS &&
			  rc.live_cold == 1 && rc.wide_lost == 0 && rc.why == RECHECK_WHY_NONE,
	      "auto: a live loss in a hot block is caught and keeps the pause on the hot blocks");
	recheck_free(&rc);

	/* the collection that confirms a loss also makes its block hot: a page it lists counts */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(send, 0, sizeof(send));
	ram->host[130 * 4096] ^= 0x10;
	recheck_live(&rc, ram, send, 1 << 20);
	setb(send, 131); /* the collection after the hashing lists a neighbour, not page 130 */
	CHECK(uc, recheck_live_confirm(&rc, send) == 1 && rc.scope == RECHECK_SCOPE_BLOCKS && rc.wide_lost == 0,
	      "a loss beside a page of the same collection is a block loss");
	recheck_free(&rc);

	/* a loss in a block read clean and not reported since breaks the model: the self-check's lap finds it, and the
	 * pause reads all of RAM */
	block0_read_clean(&rc, ram, &s, send);
	ram->host[50 * 4096] ^= 0x40; /* after the self-check read block 0, and no report of it follows */
	CHECK(uc, recheck_live(&rc, ram, send, 1 << 20) == 300 && rc.pending_read == 300,
	      "a clean block is read by the lap only (%llu pending pages read in all)", (unsigned long long)rc.pending_read);
	CHECK(uc, recheck_live_confirm(&rc, send) == 1 && getb(send, 50) && rc.unreported_lost == 1 && rc.wide_lost == 1 &&
			  rc.scope == RECHECK_SCOPE_ALL && rc.why == RECHECK_WHY_LIVE,
	      "auto: a loss in a clean, unreported block is caught, counted as unreported, and widens the pause to all");
	recheck_free(&rc);

	/* the same loss met in an all-of-RAM pause counts as outside the model too (the host record's wide moves) */
	block0_read_clean(&rc, ram, &s, send);
	recheck_escalate(&rc, RECHECK_SCOPE_ALL, RECHECK_WHY_HOST);
	ram->host[60 * 4096] ^= 0x40;
	CHECK(uc, recheck_paused(&rc, ram, send) == 1 && rc.unreported_lost == 1 && rc.wide_lost == 1,
	      "a paused loss in a clean, unreported block counts as wide");
	recheck_free(&rc);

	/* a host known to lose entries (its record): all of RAM in the pause, though the self-check saw nothing */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(send, 0, sizeof(send));
	recheck_escalate(&rc, RECHECK_SCOPE_ALL, RECHECK_WHY_HOST);
	recheck_escalate(&rc, RECHECK_SCOPE_BLOCKS, RECHECK_WHY_LIVE); /* never narrows */
	recheck_live(&rc, ram, send, 1 << 20);
	recheck_live_confirm(&rc, send);
	ram->host[270 * 4096] ^= 0x01;
	n = recheck_paused(&rc, ram, send);
	CHECK(uc, n == 1 && getb(send, 270) && rc.paused_scope == RECHECK_SCOPE_ALL && rc.why == RECHECK_WHY_HOST &&
			  rc.paused_read >= 299,
	      "auto on a host with a loss record: the pause reads all of RAM (%llu) and catches a cold loss",
	      (unsigned long long)rc.paused_read);
	recheck_free(&rc);

	/* a write that raced the self-check's hashing has its entry at the next collection: not a loss */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(send, 0, sizeof(send));
	ram->host[200 * 4096] ^= 1;
	recheck_live(&rc, ram, send, 1 << 20);
	setb(send, 200); /* the collection after the hashing lists it */
	CHECK(uc, recheck_live_confirm(&rc, send) == 0 && rc.scope == RECHECK_SCOPE_BLOCKS && rc.live_lost == 0,
	      "a change the next collection lists is not a loss");
	recheck_free(&rc);

	/* lkvm's own write whose mark lands after the collection that follows the hashing: not a loss either */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(send, 0, sizeof(send));
	{
		u64 own[WORDS] = { 0 };
		rc.own = own;
		ram->host[210 * 4096] ^= 1; /* a device wrote it; its mark is still on the way */
		recheck_live(&rc, ram, send, 1 << 20);
		setb(own, 210); /* ...and arrives after the collection: the next one takes it */
		CHECK(uc, recheck_live_confirm(&rc, send) == 0 && rc.scope == RECHECK_SCOPE_BLOCKS && rc.wide_lost == 0 &&
				  s.n == 0,
		      "a change lkvm's own bitmap marks after the collection is not a loss");
		rc.own = NULL;
	}
	recheck_free(&rc);

	/* a host that loses an entry elsewhere: the self-check catches it, and the pause checks all of RAM */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(send, 0, sizeof(send));
	ram->host[150 * 4096 + 4000] ^= 0x80;
	read = recheck_live(&rc, ram, send, 64); /* a budget: stops after the first chunk */
	CHECK(uc, read == 300 && rc.cursor == 512 % PAGES, "a small budget still ends at a chunk (%llu read, cursor %llu)",
	      (unsigned long long)read, (unsigned long long)rc.cursor);
	CHECK(uc, recheck_live_confirm(&rc, send) == 1 && getb(send, 150) && rc.scope == RECHECK_SCOPE_ALL &&
			  rc.live_cold == 1 && rc.wide_lost == 1,
	      "auto: the self-check catches a page changed without an entry away from any written block, and sends it");
	CHECK(uc, s.n == 1 && s.when == RECHECK_LIVE && s.cold && s.page == 150, "reported as live and cold");
	memset(send, 0, sizeof(send)); /* sent again */
	rc.sent_hash[150] = snap_page_hash(ram->host + 150 * 4096);
	ram->host[250 * 4096 + 1] ^= 0x11; /* another cold page, after the self-check looked at it */
	n = recheck_paused(&rc, ram, send);
	CHECK(uc, n == 1 && getb(send, 250) && rc.paused_scope == RECHECK_SCOPE_ALL && rc.paused_read >= 299 &&
			  rc.why == RECHECK_WHY_LIVE,
	      "auto after a self-check failure: the pause reads all of RAM and catches the next one (%llu read)",
	      (unsigned long long)rc.paused_read);
	recheck_free(&rc);

	/* nothing lost anywhere: the pause of auto reads nothing when nothing was written */
	sent_state(&rc, ram, RECHECK_AUTO, &s);
	memset(send, 0, sizeof(send));
	recheck_live(&rc, ram, send, 1 << 20);
	recheck_live_confirm(&rc, send);
	CHECK(uc, mprotect(ram->host, PAGES * 4096, PROT_NONE) == 0, "guest RAM made unreadable");
	n = recheck_paused(&rc, ram, send);
	mprotect(ram->host, PAGES * 4096, PROT_READ | PROT_WRITE);
	CHECK(uc, n == 0 && rc.paused_read == 0, "auto, no loss, nothing written: the pause reads no page");
	recheck_free(&rc);
}

static void test_loss_record(struct unit_counts *uc)
{
	char out[512];
	struct loss_record r = { 0, 0, 0 };
	size_t n;

	CHECK(uc, !loss_record_find("", "6.1.0-40-arm64", &r), "an empty record: no losses");
	n = loss_record_update("", "6.1.0-40-arm64", 17, false, out, sizeof(out));
	CHECK(uc, n && !strcmp(out, "6.1.0-40-arm64 1 17 0\n"), "the first loss makes one line (%zu bytes)", n);
	n = loss_record_update("6.12.0-1-arm64 2 5 1\n6.1.0-40-arm64 1 17 0\n", "6.1.0-40-arm64", 3, true, out,
			       sizeof(out));
	CHECK(uc, n && !strcmp(out, "6.12.0-1-arm64 2 5 1\n6.1.0-40-arm64 2 20 1\n"),
	      "a second loss counts on its release's line, the others kept (%zu bytes)", n);
	CHECK(uc, loss_record_find(out, "6.1.0-40-arm64", &r) && r.moves == 2 && r.pages == 20 && r.wide == 1,
	      "read back: 2 moves, 20 pages, 1 wide");
	CHECK(uc, !loss_record_find(out, "6.1.0-40", &r), "a release that is a prefix of another's is not it");
	CHECK(uc, loss_record_find("6.1.0-40-arm64 3 9\n", "6.1.0-40-arm64", &r) && r.moves == 3 && r.wide == 3,
	      "a line from before the kind was kept counts every move as wide");
	CHECK(uc, !loss_record_find("6.1.0-40-arm64 x y\n", "6.1.0-40-arm64", &r) &&
			  !loss_record_find("6.1.0-40-arm64 1 2 3\n", "6.1.0-40-arm64", &r) &&
			  !loss_record_find("6.1.0-40-arm64 1 2 0 4\n", "6.1.0-40-arm64", &r) &&
			  !loss_record_find("6.1.0-40-arm64 1 2 0x\n", "6.1.0-40-arm64", &r),
	      "a malformed line counts as none (letters, more wide moves than moves, a fifth field)");
	n = loss_record_update("6.1.0-40-arm64 x\n", "6.1.0-40-arm64", 1, false, out, sizeof(out));
	CHECK(uc, n && !strcmp(out, "6.1.0-40-arm64 1 1 0\n"), "a malformed line of the release is replaced (%zu bytes)",
	      n);
	CHECK(uc, loss_record_update("", "a b", 1, false, out, sizeof(out)) == 0 &&
			  loss_record_update("", "rel", 1, false, out, 8) == 0,
	      "a release with a space, or no room: nothing written");
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct guest_ram ram = { .base = BASE, .size = PAGES * 4096, .fd = -1 };

	ram.host = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram.host == MAP_FAILED)
		return 1;
	test_modes(&uc);
	test_always(&uc, &ram);
	test_never(&uc, &ram);
	test_auto(&uc, &ram);
	test_loss_record(&uc);
	munmap(ram.host, PAGES * 4096);
	UNIT_DONE(&uc);
}
