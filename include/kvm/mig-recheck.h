/* Live migration's integrity re-check (snapshot/recheck.c): which pages to read again, live and in the pause. */
#ifndef KVM_MIG_RECHECK_H
#define KVM_MIG_RECHECK_H

#include "kvm/guest-mem.h"

/* migrate --recheck (docs/migration.md, "The re-check"). */
enum recheck_mode {
	RECHECK_AUTO = 0, /* live self-check; paused: the 2 MiB blocks written, all of RAM after a loss outside them */
	RECHECK_ALWAYS,   /* paused: every populated page (the pause grows with RAM) */
	RECHECK_NEVER,    /* trust the dirty log: nothing is read again */
};
int recheck_mode_parse(const char *s, enum recheck_mode *mode);
const char *recheck_mode_name(enum recheck_mode mode);

/* Where a page the log missed was found. */
enum recheck_when { RECHECK_LIVE, RECHECK_PAUSED };
/*
 * What auto reads in the pause. A hot block is a 2 MiB block of guest RAM holding a hot page: where a host that maps
 * RAM with huge blocks and unlocks a whole block on one logged fault loses entries (docs/migration.md, "The cause"),
 * from the first loss on, so auto reads them from the start.
 */
enum recheck_scope {
	RECHECK_SCOPE_BLOCKS = 0, /* every populated page of the hot blocks */
	RECHECK_SCOPE_ALL,        /* every populated page */
};
#define RECHECK_BLOCK_PAGES 512ULL /* 4 KiB pages in a 2 MiB block */
const char *recheck_scope_name(enum recheck_scope scope);

/* Why auto read all of RAM. */
enum recheck_why {
	RECHECK_WHY_NONE = 0,
	RECHECK_WHY_LIVE, /* the live self-check found a loss outside every hot block */
	RECHECK_WHY_HOST, /* this host lost such an entry in an earlier migration (snapshot/loss-record.c) */
};

struct recheck {
	enum recheck_mode mode;
	u64 pages;       /* 4 KiB pages of guest RAM */
	u32 *sent_hash;  /* per page: snap_page_hash() of the copy the destination holds (a zero page's at first) */
	u64 *hot;        /* pages the log (KVM's or lkvm's) reported dirty since pass 1: the ones being written */
	u64 *cand;       /* live self-check: pages found changed, until the next collection confirms or clears them */
	u64 cursor;      /* live self-check: the next page to look at */
	u64 sweeps;      /* live self-check: complete passes over RAM */
	u64 round;       /* the migration's round, for reports */
	enum recheck_scope scope; /* auto: what the pause reads, widened by a loss outside the hot blocks (or the record) */
	enum recheck_why why;     /* what widened it */
	u64 live_read, live_lost, live_cold; /* self-check: pages read, losses found, of them outside the hot set */
	u64 paused_read, paused_lost;         /* in the pause: pages read, losses found */
	u64 wide_lost;                        /* losses outside every hot block (live or paused) */
	enum recheck_scope paused_scope;      /* what the pause read (ALL under always) */
	/* Optional: called for each page the log missed (before it is marked to be sent again). */
	void (*found)(void *ctx, u64 page, enum recheck_when when, bool cold);
	void *ctx;
};

/* Allocate for a RAM of `pages` 4 KiB pages; sent_hash starts as every page zero. 0, or -1 (out of memory). */
int recheck_init(struct recheck *rc, u64 pages, enum recheck_mode mode);
void recheck_free(struct recheck *rc);
/* After a collection of the dirty log into send (one bit per page): those pages are being written (hot). */
void recheck_note_dirty(struct recheck *rc, const u64 *send);
/*
 * Live (auto only): hash up to `budget` pages from the cursor that the destination holds and send does not list;
 * a page that differs from its sent copy becomes a candidate. Returns the pages read.
 */
u64 recheck_live(struct recheck *rc, const struct guest_ram *ram, const u64 *send, u64 budget);
/*
 * Right after the next collection into send (which joins the hot set): a candidate the log now lists was written
 * with an entry (not a loss); the others are losses: they go into send (and the hot set). A loss outside every hot
 * block widens auto's pause to all of RAM. Returns the losses.
 */
u64 recheck_live_confirm(struct recheck *rc, u64 *send);
/* auto: read at least `scope` in the pause, whatever the self-check finds (e.g. the host is known to lose entries). */
void recheck_escalate(struct recheck *rc, enum recheck_scope scope, enum recheck_why why);
/* Does page pg's 2 MiB block hold a hot page? */
bool recheck_block_hot(const struct recheck *rc, u64 pg);
/*
 * Paused, after the last collection: read again the pages the mode asks for (never: none; auto: its scope;
 * always: all populated pages) that send does not list, and add to send those that differ from their sent copy.
 * Returns the losses.
 */
u64 recheck_paused(struct recheck *rc, const struct guest_ram *ram, u64 *send);

#endif
