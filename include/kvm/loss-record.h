/* The host's record of dirty-log losses seen by earlier migrations (snapshot/loss-record.c). */
#ifndef KVM_LOSS_RECORD_H
#define KVM_LOSS_RECORD_H

#include <stddef.h>

#include "kvm/util.h"

#define LOSS_RECORD_FILE "dirty-log-losses"
#define LOSS_RECORD_MAX 4096

struct loss_record {
	u64 moves; /* migrations that found a page the dirty log missed */
	u64 pages; /* the pages they found */
	u64 wide;  /* of the moves, those with a loss outside every 2 MiB block the guest was writing (mig-recheck.h) */
};

/*
 * The text is one line per host kernel release: "RELEASE MOVES PAGES WIDE" (a line without WIDE, from before it
 * was kept, counts every move as wide). The line for release, or false (missing or malformed lines count as none).
 */
bool loss_record_find(const char *text, const char *release, struct loss_record *rec);
/*
 * text with release's line counting one more move, `pages` more pages and, if wide, one more wide move, in out; its
 * length, or 0 if too long.
 */
size_t loss_record_update(const char *text, const char *release, u64 pages, bool wide, char *out, size_t outlen);

/* This host: has a migration from here found losses under the running kernel? Fills path with the record's file. */
bool loss_record_seen(char *path, size_t pathlen, struct loss_record *rec);
/* Count a migration that found `pages` pages the log missed (best effort: a failure is reported, not fatal). */
void loss_record_add(u64 pages, bool wide);

#endif
