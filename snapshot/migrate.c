/* Live migration, source side: pre-copy RAM with KVM's dirty log and lkvm's own, then pause and send the rest. */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kvm/virtio.h"
#include "kvm/control.h"
#include "kvm/io.h"
#include "kvm/kvm.h"
#include "kvm/migrate.h"
#include "kvm/loss-record.h"
#include "kvm/mig-recheck.h"
#include "kvm/ram.h"
#include "kvm/snapshot.h"

#define MAX_ROUNDS 30          /* then stop-and-copy whatever is left */
#define STALL_ROUNDS 4         /* rounds without a new smallest dirty set: the guest dirties as fast as we send */
#define ACK_TIMEOUT_S 120      /* the destination builds the VM before it acknowledges */

struct migration {
	struct kvm *kvm;
	int ctl, out;
	struct migrate_params p;
	struct snap_writer w;
	u64 *send;     /* pages to send this pass, one bit per 4 KiB page */
	u64 *log;      /* KVM_GET_DIRTY_LOG's bitmap, one bit per host page */
	struct recheck rc; /* the copies' hashes; which pages to read again, live and paused */
	u8 *shadow;    /* --debug-unlogged: the copy of every page the destination holds, to name the changed bytes */
	u64 *unread;   /* --debug-unlogged: pages pass 1 did not read (the host's page table had nothing there) */
	u64 unlogged;  /* pages found changed since they were sent, with no dirty-log entry (live and paused) */
	u64 last_pages; /* pages sent in the pause */
	/* the pause, in ms: vCPUs paused and devices quiesced + their state, the last collection and pages, the
	 * re-check, the --verify digest, and the destination's set-up until its acknowledgement */
	u64 p_state, p_pages, p_recheck, p_verify, p_dest;
	u64 log_words, host_page;
	bool logging, tracking, paused, was_paused, quiesced, force_now, unlocked;
	u64 t0, t_pause, round_t0, round_bytes0, last_progress, last_poll;
	u64 rounds, pages_sent;
	u64 dirty; /* pages being sent in this round (for progress lines) */
	double bw; /* measured bytes per second */
	char err[300];
};

static u64 now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static int set_logging(struct migration *m, bool on)
{
	struct kvm *kvm = m->kvm;
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = kvm->ram.base,
		.memory_size = kvm->ram.size,
		.userspace_addr = (u64)(unsigned long)kvm->ram.host,
	};
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return snprintf(m->err, sizeof(m->err), "cannot %s KVM's dirty log: %s", on ? "switch on" : "switch off",
				strerror(errno)), -1;
	m->logging = on;
	return 0;
}

/* OR into m->send what the guest (KVM's log, cleared as it is read) and lkvm (own bitmap) dirtied; the page count. */
static int collect(struct migration *m, u64 *count)
{
	struct kvm *kvm = m->kvm;
	struct kvm_dirty_log dl = { .slot = 0, .dirty_bitmap = m->log };
	u64 per = m->host_page / GUEST_DIRTY_PAGE, n = 0;

	memset(m->log, 0, m->log_words * sizeof(u64));
	if (ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &dl) < 0)
		return snprintf(m->err, sizeof(m->err), "KVM_GET_DIRTY_LOG failed: %s", strerror(errno)), -1;
	for (u64 w = 0; w < m->log_words; w++) {
		for (u64 bits = m->log[w]; bits; bits &= bits - 1) {
			u64 hp = w * 64 + (u64)__builtin_ctzll(bits);
			for (u64 k = 0; k < per; k++) {
				u64 pg = hp * per + k;
				if (pg < guest_ram_pages(&kvm->ram))
					m->send[pg / 64] |= 1ULL << (pg % 64);
			}
		}
	}
	guest_ram_dirty_take(&kvm->ram, m->send);
	for (u64 w = 0; w < guest_ram_bitmap_words(&kvm->ram); w++)
		n += (u64)__builtin_popcountll(m->send[w]);
	*count = n;
	return 0;
}

static void progress(struct migration *m, bool now)
{
	u64 t = now_ms(), dirty = m->dirty;
	double expect = m->bw > 0 ? (double)dirty * GUEST_DIRTY_PAGE / m->bw * 1000 : 0;

	__atomic_store_n(&m->kvm->mig_progress.round, m->rounds, __ATOMIC_RELAXED);
	__atomic_store_n(&m->kvm->mig_progress.dirty_pages, dirty, __ATOMIC_RELAXED);
	__atomic_store_n(&m->kvm->mig_progress.bytes_sent, m->w.bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&m->kvm->mig_progress.expected_pause_ms, (u64)expect, __ATOMIC_RELAXED);
	if (!now && t - m->last_progress < 1000)
		return;
	m->last_progress = t;
	dprintf(m->ctl, "progress round=%llu dirty_pages=%llu sent_mib=%llu rate_mibs=%.1f expected_pause_ms=%.0f\n",
		(unsigned long long)m->rounds, (unsigned long long)dirty, (unsigned long long)(m->w.bytes >> 20),
		m->bw / 1048576.0, expect);
}

/*
 * Between chunks while the guest runs: answer other control clients, notice a vanished client or a stopping VM,
 * the timeout, and hold the rate under --max-bandwidth. 0, or -1 to abandon the migration (m->err set).
 */
static int service(struct migration *m)
{
	struct kvm *kvm = m->kvm;
	u64 t = now_ms();

	if (kvm_is_stopping(kvm))
		return snprintf(m->err, sizeof(m->err), "the VM is stopping"), -1;
	if (m->p.timeout_ms && t - m->t0 > m->p.timeout_ms && !m->force_now) {
		if (!m->p.force)
			return snprintf(m->err, sizeof(m->err), "timed out after %llu s (--timeout)",
					(unsigned long long)(m->p.timeout_ms / 1000)), -1;
		m->force_now = true; /* --timeout-strategy force: finish with what is left, paused */
	}
	if (m->p.max_bw) {
		u64 due = m->t0 + m->w.bytes * 1000 / m->p.max_bw;
		while (t < due && !kvm_is_stopping(kvm)) {
			u64 d = due - t > 100 ? 100 : due - t;
			usleep((useconds_t)d * 1000);
			t = now_ms();
		}
	}
	if (t - m->last_poll >= 50) {
		struct pollfd p[2] = { { .fd = m->ctl, .events = POLLIN }, { .fd = kvm->ctl_fd, .events = POLLIN } };
		m->last_poll = t;
		if (poll(p, 2, 0) > 0) {
			if (p[0].revents)
				return snprintf(m->err, sizeof(m->err), "the migrate client went away"), -1;
			if (p[1].revents & POLLIN)
				control_serve_one(kvm); /* stat, steal, stop...; save, migrate, pause, resume are refused */
		}
	}
	progress(m, false); /* at least once a second: the client knows we are alive */
	return 0;
}

/* Is no page of [pg0, pg0 + np) set in the bitmap? (pg0 is a multiple of 64.) */
static bool chunk_clean(const u64 *bits, u64 pg0, u32 np)
{
	for (u64 w = pg0 / 64; w < (pg0 + np + 63) / 64; w++)
		if (bits[w])
			return false;
	return true;
}

/* Send the pages set in m->send (and clear them); first pass: skip zero pages. */
static int send_pages(struct migration *m, bool first, bool running)
{
	struct guest_ram *ram = &m->kvm->ram;
	u8 carried[SNAP_CHUNK_PAGES / 8], populated[SNAP_CHUNK_PAGES];

	for (u64 off = 0; off < ram->size; off += SNAP_RAM_CHUNK) {
		u64 len = ram->size - off < SNAP_RAM_CHUNK ? ram->size - off : SNAP_RAM_CHUNK;
		u32 np = (u32)(len / SNAP_PAGE), sent;
		u64 pg0 = off / SNAP_PAGE;
		bool any = false;

		if (running && m->force_now)
			return 0; /* --timeout-strategy force: what is left (still set in m->send) goes in the paused pass */
		if (chunk_clean(m->send, pg0, np))
			continue; /* the pause's pass walks RAM in bitmap words: its length must not grow with RAM */
		memset(carried, 0, sizeof(carried));
		for (u32 i = 0; i < np; i++) {
			u64 pg = pg0 + i;
			if (m->send[pg / 64] & (1ULL << (pg % 64))) {
				m->send[pg / 64] &= ~(1ULL << (pg % 64));
				carried[i / 8] |= (u8)(1u << (i % 8));
				any = true;
			}
		}
		if (!any)
			continue;
		if (first) { /* never-touched pages are zero on both sides: do not read (and so allocate) them */
			guest_ram_populated(ram, off, len, populated);
			for (u32 i = 0; i < np; i++) {
				if (populated[i])
					continue;
				carried[i / 8] &= (u8) ~(1u << (i % 8));
				if (m->unread)
					m->unread[(pg0 + i) / 64] |= 1ULL << ((pg0 + i) % 64);
			}
		}
		if (snapw_ram_pages(&m->w, off, ram->host + off, np, carried, first, &sent, m->rc.sent_hash + pg0))
			return snprintf(m->err, sizeof(m->err), "sending to the destination failed: %s",
					strerror(m->w.error == EPIPE ? ECONNRESET : m->w.error)), -1;
		m->pages_sent += sent;
		if (!running)
			m->last_pages += sent;
		if (running && service(m))
			return -1;
	}
	return 0;
}

/* --debug-unlogged: one "unlogged ..." line to the client per page the log missed: where, when, which bytes. */
static void report_unlogged(void *ctx, u64 pg, enum recheck_when when, bool cold)
{
	struct migration *m = ctx;
	struct guest_ram *ram = &m->kvm->ram;
	const u8 *now = ram->host + pg * SNAP_PAGE, *was = m->shadow ? m->shadow + pg * SNAP_PAGE : NULL;
	char ranges[300] = "", bytes[80] = "";
	size_t len = 0;
	int n = 0, more = 0;

	for (u32 i = 0; was && i < SNAP_PAGE;) {
		u32 j = i;
		if (now[i] == was[i]) {
			i++;
			continue;
		}
		while (j < SNAP_PAGE && now[j] != was[j])
			j++;
		if (n == 0) /* the first changed range's bytes, old then new (at most 8 of each) */
			for (u32 k = i, o = 0; k < j && k < i + 8; k++)
				o += (u32)snprintf(bytes + o, sizeof(bytes) - o, "%02x>%02x%s", was[k], now[k],
						   k + 1 < j && k + 1 < i + 8 ? "," : "");
		if (n < 12 && len < sizeof(ranges) - 24)
			len += (size_t)snprintf(ranges + len, sizeof(ranges) - len, "%s0x%x-0x%x", n ? "," : "", i, j - 1);
		else
			more++;
		n++;
		i = j;
	}
	if (m->unlogged < 8)
		pr_warn("migration: guest page at 0x%llx changed after it was sent without a dirty-log entry (%s, round "
			"%llu); sending it again", (unsigned long long)(ram->base + pg * SNAP_PAGE),
			when == RECHECK_LIVE ? "live self-check" : "paused re-check", (unsigned long long)m->rc.round);
	m->unlogged++;
	if (!m->p.debug_unlogged)
		return;
	dprintf(m->ctl, "unlogged gpa=0x%llx round=%llu when=%s hot=%d pass1=%s ranges=%s%s%.0d%s bytes=%s\n",
		(unsigned long long)(ram->base + pg * SNAP_PAGE), (unsigned long long)m->rc.round,
		when == RECHECK_LIVE ? "live" : "paused", !cold,
		m->unread && (m->unread[pg / 64] & (1ULL << (pg % 64))) ? "unread" : "read", was ? (n ? ranges : "none") : "unknown",
		more ? ",+" : "", more, more ? "more" : "", bytes[0] ? bytes : "-");
}

/*
 * Paused, before the last pages: the pages the re-check mode asks for (mig-recheck.h) must still be what was sent;
 * one that changed all the same was written without a dirty-log entry (KVM logs vCPU writes, lkvm its own; a host
 * kernel or emulator that loses one would otherwise corrupt the guest silently): send it again.
 */
static void recheck(struct migration *m)
{
	recheck_paused(&m->rc, &m->kvm->ram, m->send);
	if (m->rc.paused_lost)
		pr_warn("migration: %llu guest pages changed without a dirty-log entry in the pause's re-check (host "
			"kernel or emulator bug?); all were sent again", (unsigned long long)m->rc.paused_lost);
}

/*
 * Live, after a round's collection (--recheck auto): hash a share of the pages the log calls clean, collect again,
 * and send again those that changed with no entry. A loss outside the pages being written makes the pause check
 * all of RAM. Returns -1 if a collection fails.
 */
static int self_check(struct migration *m, u64 round_pages)
{
	u64 budget = round_pages * 2 > 8192 ? round_pages * 2 : 8192; /* 32 MiB at least; after pass 1, all of RAM */

	if (m->rc.mode != RECHECK_AUTO)
		return 0;
	recheck_live(&m->rc, &m->kvm->ram, m->send, budget);
	if (collect(m, &m->dirty)) /* an entry for a write that raced the hashing arrives here: not a loss */
		return -1;
	m->dirty += recheck_live_confirm(&m->rc, m->send);
	recheck_note_dirty(&m->rc, m->send);
	return 0;
}

/* migrate --verify, paused: a CRC of every page, for the destination to compare before it takes the guest over. */
static int send_digest(struct migration *m)
{
	struct guest_ram *ram = &m->kvm->ram;
	u8 populated[SNAP_CHUNK_PAGES];

	for (u64 off = 0; off < ram->size; off += SNAP_RAM_CHUNK) {
		u64 len = ram->size - off < SNAP_RAM_CHUNK ? ram->size - off : SNAP_RAM_CHUNK;
		guest_ram_populated(ram, off, len, populated);
		if (snapw_ram_digest(&m->w, off, ram->host + off, (u32)(len / SNAP_PAGE), populated))
			return -1;
	}
	return 0;
}

static void measure(struct migration *m)
{
	u64 dt = now_ms() - m->round_t0, db = m->w.bytes - m->round_bytes0;

	if (dt > 0 && db > (1 << 20))
		m->bw = (double)db * 1000.0 / (double)dt;
	else if (m->bw == 0)
		m->bw = 100.0 * 1048576; /* a guess until the first real measurement */
}

/* Stop tracking and logging, let the devices and the guest go again: the source runs on, nothing lost. */
static void roll_back(struct migration *m)
{
	struct kvm *kvm = m->kvm;

	if (m->tracking)
		guest_ram_dirty_stop(&kvm->ram); /* the bitmap itself stays with the VM: a device may still hold it */
	if (m->logging)
		set_logging(m, false);
	if (m->unlocked) {
		char err[300];
		/* the destination failed: it dies and lets go of the images; take them back before the guest writes */
		if (virtio_disks_lock(kvm, 15000, err, sizeof(err)))
			pr_warn("migration rollback: %s; the guest continues here without that lock", err);
	}
	if (m->quiesced)
		snapshot_quiesce(kvm, false);
	if (m->paused && !m->was_paused)
		kvm_resume(kvm);
}

static int handover(struct migration *m)
{
	char ack[MIGRATE_HANDSHAKE_LEN];
	struct timeval tv = { .tv_sec = ACK_TIMEOUT_S };

	setsockopt(m->out, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_full(m->out, ack, sizeof(ack)))
		return snprintf(m->err, sizeof(m->err), "the destination refused the stream or went away before "
			       "acknowledging it (see its log)"), -1;
	if (memcmp(ack, MIGRATE_ACK, sizeof(ack)))
		return snprintf(m->err, sizeof(m->err), "the destination answered something else than an acknowledgement"),
		       -1;
	if (write_full(m->out, MIGRATE_GO, MIGRATE_HANDSHAKE_LEN))
		return snprintf(m->err, sizeof(m->err), "lost the destination before handing the guest over"), -1;
	return 0;
}

static int final_pass(struct migration *m, bool pages);
static int run_local(struct migration *m);

static int run(struct migration *m)
{
	struct kvm *kvm = m->kvm;
	u64 best = ~0ULL, stall = 0;

	if (snapshot_supported(kvm, m->err, sizeof(m->err)))
		return -1;
	if (m->p.local)
		return run_local(m);
	m->host_page = (u64)sysconf(_SC_PAGESIZE);
	if (m->host_page < GUEST_DIRTY_PAGE || m->host_page % GUEST_DIRTY_PAGE)
		return snprintf(m->err, sizeof(m->err), "unsupported host page size %llu",
				(unsigned long long)m->host_page), -1;
	m->log_words = (kvm->ram.size / m->host_page + 63) / 64;
	m->log = calloc(m->log_words, sizeof(u64));
	m->send = calloc(guest_ram_bitmap_words(&kvm->ram), sizeof(u64));
	if (recheck_init(&m->rc, guest_ram_pages(&kvm->ram), m->p.recheck))
		return snprintf(m->err, sizeof(m->err), "out of memory"), -1;
	m->rc.found = report_unlogged;
	m->rc.ctx = m;
	if (m->p.recheck == RECHECK_AUTO) {
		char path[4200];
		struct loss_record rec;
		if (loss_record_seen(path, sizeof(path), &rec)) {
			/* the live self-check can miss a loss that comes after it looked: on a host known to lose
			 * entries outside the model (mig-recheck.h), only all of RAM is safe */
			bool all = rec.wide > 0;
			if (all)
				recheck_escalate(&m->rc, RECHECK_SCOPE_ALL, RECHECK_WHY_HOST);
			pr_info("migration: this host's dirty log lost entries in %llu earlier migration(s), %llu of them "
				"outside the 2 MiB blocks the log reported (%s): the pause reads %s again",
				(unsigned long long)rec.moves, (unsigned long long)rec.wide, path,
				all ? "all of RAM" : "the 2 MiB blocks written since the self-check read them");
		}
	}
	if (m->p.debug_unlogged && (!(m->shadow = m->w.shadow = calloc(1, kvm->ram.size)) ||
				    !(m->unread = calloc(guest_ram_bitmap_words(&kvm->ram), sizeof(u64)))))
		return snprintf(m->err, sizeof(m->err), "out of memory for --debug-unlogged's copy of guest RAM"), -1;
	if (!kvm->mig_own_dirty)
		kvm->mig_own_dirty = calloc(guest_ram_bitmap_words(&kvm->ram), sizeof(u64));
	if (!m->log || !m->send || !kvm->mig_own_dirty || snapw_init(&m->w, m->out))
		return snprintf(m->err, sizeof(m->err), "out of memory"), -1;
	m->rc.own = kvm->mig_own_dirty;

	/* Logging first, then read: a page written after this point is in a later pass, one before it in this one. */
	if (set_logging(m, true))
		return -1;
	guest_ram_dirty_start(&kvm->ram, kvm->mig_own_dirty);
	m->tracking = true;
	if (snapw_file_header(&m->w, SNAP_VERSION_MIGRATE) || snapshot_write_config(kvm, &m->w, m->err, sizeof(m->err)))
		return m->err[0] ? -1 : (snprintf(m->err, sizeof(m->err), "cannot send: %s", strerror(m->w.error)), -1);

	/* Pass 1: every page that may hold data. Then what was dirtied meanwhile, until the rest fits the pause. */
	memset(m->send, 0xff, guest_ram_bitmap_words(&kvm->ram) * sizeof(u64));
	collect(m, &m->dirty); /* clears KVM's log: everything is sent in this pass anyway */
	for (m->rounds = 1;; m->rounds++) {
		u64 sent0 = m->pages_sent;
		m->rc.round = m->rounds;
		m->round_t0 = now_ms();
		m->round_bytes0 = m->w.bytes;
		progress(m, true);
		if (send_pages(m, m->rounds == 1, true))
			return -1;
		measure(m);
		if (collect(m, &m->dirty))
			return -1;
		recheck_note_dirty(&m->rc, m->send);
		if (self_check(m, m->pages_sent - sent0))
			return -1;
		if (m->dirty < best) {
			best = m->dirty;
			stall = 0;
		} else {
			stall++;
		}
		if ((double)m->dirty * GUEST_DIRTY_PAGE / m->bw * 1000.0 <= (double)m->p.max_downtime_ms ||
		    m->rounds >= MAX_ROUNDS || stall >= STALL_ROUNDS || m->force_now)
			break;
	}
	progress(m, true);
	return final_pass(m, true);
}

/* migrate --local: guest RAM stays where it is; the destination maps it through the descriptor passed first. */
static int run_local(struct migration *m)
{
	struct kvm *kvm = m->kvm;
	socklen_t dl = sizeof(int);
	int dom = 0;

	if (kvm->ram.backing != RAM_HUGETLBFS || kvm->ram.fd < 0)
		return snprintf(m->err, sizeof(m->err), "--local needs guest RAM another process can map: start the VM "
			       "with --hugetlbfs DIR (this VM's RAM is %s)", guest_ram_backing_name(&kvm->ram)), -1;
	if (getsockopt(m->out, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_UNIX)
		return snprintf(m->err, sizeof(m->err), "--local passes guest RAM over a unix: socket; give unix:PATH"), -1;
	if (snapw_init(&m->w, m->out))
		return snprintf(m->err, sizeof(m->err), "out of memory"), -1;
	if (control_send_fd(m->out, MIGRATE_RAM_FD_HELLO, kvm->ram.fd))
		return snprintf(m->err, sizeof(m->err), "cannot pass guest RAM to the destination: %s", strerror(errno)), -1;
	if (snapw_file_header(&m->w, SNAP_VERSION_MIGRATE) || snapshot_write_config(kvm, &m->w, m->err, sizeof(m->err)))
		return m->err[0] ? -1 : (snprintf(m->err, sizeof(m->err), "cannot send: %s", strerror(m->w.error)), -1);
	return final_pass(m, false);
}

/*
 * The final pass, paused: devices finish in-flight work and flush, ITS tables go to RAM with the state; with pages,
 * what was dirtied since the last round (and what the re-check finds) goes last. Then the hand-over.
 */
static int final_pass(struct migration *m, bool pages)
{
	struct kvm *kvm = m->kvm;
	struct timespec rt;
	u64 t;

	m->t_pause = now_ms();
	m->was_paused = kvm_is_paused(kvm);
	kvm_pause(kvm);
	m->paused = true;
	snapshot_quiesce(kvm, true);
	m->quiesced = true;
	/* Flushed and paused: the destination may lock the disks once it has everything (it does, before its ACK). */
	virtio_disks_unlock(kvm);
	m->unlocked = true;
	clock_gettime(CLOCK_REALTIME, &rt);
	snapw_begin(&m->w, SNAP_SEC_PAUSED);
	snapw_u64(&m->w, (u64)rt.tv_sec * 1000000000ULL + (u64)rt.tv_nsec);
	m->rc.round = m->rounds + 1;
	if (snapw_end(&m->w) || snapshot_write_state(kvm, &m->w, m->err, sizeof(m->err)))
		goto failed;
	t = now_ms();
	m->p_state = t - m->t_pause;
	if (pages) {
		if (collect(m, &m->dirty))
			goto failed;
		recheck_note_dirty(&m->rc, m->send);
		m->p_pages = now_ms() - t;
		t = now_ms();
		recheck(m);
		m->p_recheck = now_ms() - t;
		t = now_ms();
		if (send_pages(m, false, false))
			goto failed;
		m->p_pages += now_ms() - t;
	}
	t = now_ms();
	if (m->p.verify && send_digest(m))
		goto failed;
	m->p_verify = now_ms() - t;
	t = now_ms();
	if (snapw_finish(&m->w, kvm->ram.size))
		goto failed;
	if (handover(m))
		return -1;
	m->p_dest = now_ms() - t;
	return 0;
failed:
	return m->err[0] ? -1 : (snprintf(m->err, sizeof(m->err), "sending to the destination failed: %s",
					  strerror(m->w.error)), -1);
}

void migrate_serve(struct kvm *kvm, int ctl, int out, const char *args)
{
	struct migration m = { .kvm = kvm, .ctl = ctl, .out = out };
	struct timeval tv = { .tv_sec = 10 };
	int r;

	if (migrate_params_parse(args, &m.p, m.err, sizeof(m.err))) {
		dprintf(ctl, "error: %s\n", m.err);
		return;
	}
	setsockopt(ctl, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	m.t0 = m.last_progress = m.last_poll = now_ms();
	kvm->migrating = true;
	memset(&kvm->mig_progress, 0, sizeof(kvm->mig_progress));
	__atomic_store_n(&kvm->mig_progress.active, true, __ATOMIC_RELEASE);
	pr_info("migrating VM %s", kvm->name);
	r = run(&m);
	if (m.unlogged)
		/* later migrations from this host read more in the pause, whatever became of this one */
		loss_record_add(m.unlogged, m.rc.wide_lost > 0);
	kvm->migrating = false;
	__atomic_store_n(&kvm->mig_progress.active, false, __ATOMIC_RELEASE);
	if (r) {
		roll_back(&m);
		pr_err("migration of VM %s failed: %s; the guest continues here", kvm->name, m.err);
		dprintf(ctl, "error: %s\n", m.err);
	} else {
		u64 t = now_ms();
		pr_info("VM %s migrated: %llu rounds, %llu MiB, %llu ms, paused %llu ms, %llu unlogged pages resent",
			kvm->name, (unsigned long long)m.rounds, (unsigned long long)(m.w.bytes >> 20),
			(unsigned long long)(t - m.t0), (unsigned long long)(t - m.t_pause), (unsigned long long)m.unlogged);
		dprintf(ctl,
			"done rounds=%llu sent_mib=%.1f pages=%llu total_ms=%llu pause_ms=%llu unlogged=%llu local=%d "
			"pause_state_ms=%llu pause_pages_ms=%llu last_pages=%llu pause_recheck_ms=%llu recheck_read=%llu "
			"recheck=%s recheck_full=%d recheck_scope=%s recheck_why=%s wide_lost=%llu live_read=%llu "
			"live_lost=%llu live_cold=%llu pending_read=%llu unreported_lost=%llu pause_verify_ms=%llu pause_dest_ms=%llu\n",
			(unsigned long long)m.rounds, (double)m.w.bytes / 1048576.0, (unsigned long long)m.pages_sent,
			(unsigned long long)(t - m.t0), (unsigned long long)(t - m.t_pause), (unsigned long long)m.unlogged,
			m.p.local, (unsigned long long)m.p_state, (unsigned long long)m.p_pages,
			(unsigned long long)m.last_pages, (unsigned long long)m.p_recheck,
			(unsigned long long)m.rc.paused_read, recheck_mode_name(m.p.recheck),
			m.rc.paused_scope == RECHECK_SCOPE_ALL, recheck_scope_name(m.rc.paused_scope),
			m.rc.why == RECHECK_WHY_HOST ? "host" : m.rc.why == RECHECK_WHY_LIVE ? "live" : "none",
			(unsigned long long)m.rc.wide_lost, (unsigned long long)m.rc.live_read,
			(unsigned long long)m.rc.live_lost, (unsigned long long)m.rc.live_cold,
			(unsigned long long)m.rc.pending_read, (unsigned long long)m.rc.unreported_lost,
			(unsigned long long)m.p_verify, (unsigned long long)m.p_dest);
		control_cleanup(kvm); /* the name is the destination's from now on */
		dprintf(ctl, "ok\n");
		kvm_request_stop(kvm, 0);
	}
	snapw_free(&m.w);
	recheck_free(&m.rc);
	free(m.shadow);
	free(m.unread);
	free(m.send);
	free(m.log);
}
