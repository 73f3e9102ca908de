/* Fuzz target: the host's dirty-log loss record (snapshot/loss-record.c): its reader and its rewriting. */
#include <string.h>

#include "fuzz.h"
#include "kvm/loss-record.h"

FZ_QUIET_INITIALIZE()

/* The input: a release up to the first NUL, then the record's text (as read from the file, NUL-terminated). */
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char release[130], text[LOSS_RECORD_MAX + 1], out[LOSS_RECORD_MAX + 256], again[LOSS_RECORD_MAX + 512];
	const u8 *nul = memchr(data, 0, size);
	size_t rl = nul ? (size_t)(nul - data) : 0, tl = nul ? size - rl - 1 : size;
	struct loss_record before = { 0, 0, 0 }, after = { 0, 0, 0 }, other = { 0, 0, 0 };
	bool found, wide = size & 1;
	size_t n;

	if (rl >= sizeof(release))
		rl = sizeof(release) - 1;
	memcpy(release, data, rl);
	release[rl] = '\0';
	if (tl > LOSS_RECORD_MAX)
		tl = LOSS_RECORD_MAX;
	memcpy(text, nul ? nul + 1 : data, tl);
	text[tl] = '\0';

	found = loss_record_find(text, release, &before);
	if (found && before.wide > before.moves)
		abort(); /* a line with more wide moves than moves is malformed */
	n = loss_record_update(text, release, 7, wide, out, sizeof(out));
	if (n >= sizeof(out) || (n && out[n] != '\0') || (n && strlen(out) != n))
		abort();
	if (!n)
		return 0;
	/* the new line reads back, one move more than before */
	if (!loss_record_find(out, release, &after) || after.moves == 0 || after.wide > after.moves)
		abort();
	if (found && before.moves != ~0ULL && after.moves != before.moves + 1)
		abort();
	if (!found && (after.moves != 1 || after.pages != 7 || after.wide != (u64)wide))
		abort();
	/* another release's line is kept as it was */
	if (strcmp(release, "other-release") && loss_record_find(text, "other-release", &before) &&
	    (!loss_record_find(out, "other-release", &other) || memcmp(&before, &other, sizeof(other))))
		abort();
	/* rewriting the rewritten record works too, and still ends in one line for release */
	n = loss_record_update(out, release, 0, false, again, sizeof(again));
	if (n && (!loss_record_find(again, release, &other) || (after.moves != ~0ULL && other.moves != after.moves + 1)))
		abort();
	return 0;
}
