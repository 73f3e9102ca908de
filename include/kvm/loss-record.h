/* The host's record of dirty-log losses seen by earlier migrations (snapshot/loss-record.c). */
#ifndef KVM_LOSS_RECORD_H
#define KVM_LOSS_RECORD_H

#include <stddef.h>

#include "kvm/util.h"

#define LOSS_RECORD_FILE "dirty-log-losses"
#define LOSS_RECORD_MAX 4096

/*
 * The text is one line per host kernel release: "RELEASE MOVES PAGES" (migrations that found a page the dirty log
 * missed, and those pages). The line for release, or false (missing or malformed lines count as none).
 */
bool loss_record_find(const char *text, const char *release, u64 *moves, u64 *pages);
/* text with release's line counting one more move and `pages` more pages, in out; its length, or 0 if too long. */
size_t loss_record_update(const char *text, const char *release, u64 pages, char *out, size_t outlen);

/* This host: has a migration from here found losses under the running kernel? Fills path with the record's file. */
bool loss_record_seen(char *path, size_t pathlen, u64 *moves);
/* Count a migration that found `pages` pages the log missed (best effort: a failure is reported, not fatal). */
void loss_record_add(u64 pages);

#endif
