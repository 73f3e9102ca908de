/* Live migration's integrity re-check (snapshot/recheck.c): which pages to read again, live and in the pause. */
#ifndef KVM_MIG_RECHECK_H
#define KVM_MIG_RECHECK_H

#include "kvm/guest-mem.h"

/* migrate --recheck (docs/migration.md, "The re-check"). */
enum recheck_mode {
	RECHECK_AUTO = 0, /* live self-check; paused: the 2 MiB blocks written since it read them, all of RAM after a
			   * loss that breaks the model of the host's losses (below) */
	RECHECK_ALWAYS,   /* paused: every populated page (the pause grows with RAM) */
	RECHECK_NEVER,    /* trust the dirty log: nothing is read again */
};
int recheck_mode_parse(const char *s, enum recheck_mode *mode);
const char *recheck_mode_name(enum recheck_mode mode);

/* Where a page the log missed was found. */
enum recheck_when { RECHECK_LIVE, RECHECK_PAUSED };
/*
 * What auto reads in the pause. A host that maps RAM with huge blocks and unlocks a whole 2 MiB block on one logged
 * fault loses entries there (docs/migration.md, "The cause"): every page of the block may change unlogged until the
 * collection that reports the faulting page write-protects the block again. So a loss lies in a block the next
 * collection reports; once the self-check has read such a block after that collection, it holds nothing stale
 * until the log reports it again. The pause reads the blocks reported since the self-check last read them (pending).
 * A loss in a block the log never reported, or in one read clean and not reported since, breaks that model: then
 * only all of RAM is safe.
 */
enum recheck_scope {
	RECHECK_SCOPE_BLOCKS = 0, /* every populated page of the pending blocks */
	RECHECK_SCOPE_ALL,        /* every populated page */
};
#define RECHECK_BLOCK_PAGES 512ULL /* 4 KiB pages in a 2 MiB block */
const char *recheck_scope_name(enum recheck_scope scope);

/* Why auto read all of RAM. */
enum recheck_why {
	RECHECK_WHY_NONE = 0,
	RECHECK_WHY_LIVE, /* the live self-check found a loss outside the model (above) */
	RECHECK_WHY_HOST, /* this host lost such an entry in an earlier migration (snapshot/loss-record.c) */
};

struct recheck {
	enum recheck_mode mode;
	u64 pages;       /* 4 KiB pages of guest RAM */
	u32 *sent_hash;  /* per page: snap_page_hash() of the copy the destination holds (a zero page's at first) */
	u64 *hot;        /* pages the log (KVM's or lkvm's) reported dirty since pass 1: the ones being written */
	u64 *cand;       /* live self-check: pages found changed, until the next collection confirms or clears them */
	u64 *pending;    /* per 2 MiB block: reported by a collection since the self-check last read it whole */
	u64 *justread;   /* per block: read whole by the last self-check (its candidates predate the clean state) */
	u64 cursor;      /* live self-check: the next page to look at */
	u64 sweeps;      /* live self-check: complete passes over RAM */
	u64 round;       /* the migration's round, for reports */
	enum recheck_scope scope; /* auto: what the pause reads, widened by a loss outside the model (or the record) */
	enum recheck_why why;     /* what widened it */
	u64 live_read, live_lost, live_cold; /* self-check: pages read, losses found, of them outside the hot set */
	u64 pending_read;                     /* self-check: of live_read, pages of pending blocks */
	u64 paused_read, paused_lost;         /* in the pause: pages read, losses found */
	u64 wide_lost;                        /* losses outside the model: no hot page in the block, or unreported */
	u64 unreported_lost;                  /* of them: in a block read clean and not reported since */
	enum recheck_scope paused_scope;      /* what the pause read (ALL under always) */
	/* Optional: lkvm's own dirty bitmap, not yet collected (a device's mark follows its write: a change the live
	 * check saw may have its mark land after the collection that confirms; such a page is no loss). */
	const u64 *own;
	/* Optional: called for each page the log missed (before it is marked to be sent again). */
	void (*found)(void *ctx, u64 page, enum recheck_when when, bool cold);
	void *ctx;
};

/* Allocate for a RAM of `pages` 4 KiB pages; sent_hash starts as every page zero. 0, or -1 (out of memory). */
int recheck_init(struct recheck *rc, u64 pages, enum recheck_mode mode);
void recheck_free(struct recheck *rc);
/* After a collection of the dirty log into send (one bit per page): those pages are hot, their blocks pending. */
void recheck_note_dirty(struct recheck *rc, const u64 *send);
/*
 * Live (auto only): read the pending blocks whole (they are then clean), then hash up to `budget` more pages from the
 * cursor; pages send lists are skipped. A page that differs from its sent copy becomes a candidate. Returns the
 * pages read.
 */
u64 recheck_live(struct recheck *rc, const struct guest_ram *ram, const u64 *send, u64 budget);
/*
 * Right after the next collection into send (which joins the hot set): a candidate the log now lists was written
 * with an entry (not a loss); the others are losses: they go into send (and the hot set). A loss outside the model
 * (no hot page in its block, or its block neither pending nor just read) widens auto's pause to all of RAM.
 * Returns the losses.
 */
u64 recheck_live_confirm(struct recheck *rc, u64 *send);
/* auto: read at least `scope` in the pause, whatever the self-check finds (e.g. the host is known to lose entries). */
void recheck_escalate(struct recheck *rc, enum recheck_scope scope, enum recheck_why why);
/* Does page pg's 2 MiB block hold a hot page? Is it pending (the pause of auto reads it)? */
bool recheck_block_hot(const struct recheck *rc, u64 pg);
bool recheck_block_pending(const struct recheck *rc, u64 pg);
/*
 * Paused, after the last collection: read again the pages the mode asks for (never: none; auto: its scope;
 * always: all populated pages) that send does not list, and add to send those that differ from their sent copy.
 * Returns the losses.
 */
u64 recheck_paused(struct recheck *rc, const struct guest_ram *ram, u64 *send);

#endif
