/* The gdb stub's packet handlers: registers (ONE_REG), guest-virtual memory (s1walk + guest-mem), threads,
 * breakpoints and watchpoints, resume, monitor commands, target.xml. Runs on the gdb thread with every vCPU held. */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "gdb-int.h"
#include "kvm/debug-dump.h"
#include "kvm/guest-mem.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"

#define BRK_INSN 0xd4200000u


static struct kvm_cpu *cpu_of(struct gdb *g, unsigned int i)
{
	return g->kvm->cpus[i < g->kvm->nr_cpus ? i : 0];
}

/* ---- memory at guest virtual addresses ---- */

static int translate(struct gdb *g, u64 va, u64 *pa, u64 *room)
{
	return debug_translate(cpu_of(g, g->g_cpu), va, pa, room);
}

/* Copy len bytes at guest virtual va to/from buf: bytes done (the first failure ends it). */
static size_t vmem(struct gdb *g, u64 va, u8 *buf, size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		u64 pa, room, chunk;
		void *host;

		if (translate(g, va + done, &pa, &room))
			break;
		chunk = len - done < room ? len - done : room;
		host = gpa_to_host(&g->kvm->ram, pa, chunk);
		if (!host)
			break;
		if (write) {
			memcpy(host, buf + done, chunk);
			guest_ram_mark_dirty(&g->kvm->ram, pa, chunk);
			__builtin___clear_cache((char *)host, (char *)host + chunk); /* it may be code */
		} else {
			memcpy(buf + done, host, chunk);
		}
		done += chunk;
	}
	return done;
}

/* ---- breakpoints ---- */

static int sw_bp_add(struct gdb *g, u64 va)
{
	u64 pa, room;
	u32 brk = BRK_INSN, *host;

	for (unsigned int i = 0; i < g->nr_bp; i++)
		if (g->bp[i].va == va)
			return 0;
	if (g->nr_bp == GDB_MAX_SW_BP || translate(g, va, &pa, &room) || room < 4)
		return -1;
	host = gpa_to_host(&g->kvm->ram, pa, 4);
	if (!host)
		return -1;
	g->bp[g->nr_bp++] = (struct gdb_sw_bp){ .va = va, .pa = pa, .orig = *host };
	memcpy(host, &brk, 4);
	guest_ram_mark_dirty(&g->kvm->ram, pa, 4);
	__builtin___clear_cache((char *)host, (char *)host + 4);
	return 0;
}

static void sw_bp_restore(struct gdb *g, unsigned int i)
{
	u32 *host = gpa_to_host(&g->kvm->ram, g->bp[i].pa, 4);

	if (host) {
		memcpy(host, &g->bp[i].orig, 4);
		guest_ram_mark_dirty(&g->kvm->ram, g->bp[i].pa, 4);
		__builtin___clear_cache((char *)host, (char *)host + 4);
	}
	g->bp[i] = g->bp[--g->nr_bp];
}

static int sw_bp_del(struct gdb *g, u64 va)
{
	for (unsigned int i = 0; i < g->nr_bp; i++)
		if (g->bp[i].va == va) {
			sw_bp_restore(g, i);
			return 0;
		}
	return -1;
}

void gdb_remove_all_bps(struct gdb *g)
{
	while (g->nr_bp)
		sw_bp_restore(g, g->nr_bp - 1);
}

/* Rebuild the DBGBCR/BVR and DBGWCR/WVR values from the slots and have each vCPU load them. */
static void hw_commit(struct gdb *g)
{
	struct kvm_guest_debug_arch a;

	memset(&a, 0, sizeof(a));
	for (unsigned int i = 0; i < g->max_hw_bp; i++)
		if (g->hw_bp[i].used) {
			a.dbg_bvr[i] = g->hw_bp[i].addr & ~3ULL;
			a.dbg_bcr[i] = 1 | (3 << 1) | (0xfULL << 5); /* enabled, EL1 and EL0, all four bytes */
		}
	for (unsigned int i = 0; i < g->max_hw_wp; i++)
		if (g->hw_wp[i].used) {
			u64 off = g->hw_wp[i].addr & 7, lsc = g->hw_wp[i].type == 2 ? 2 : g->hw_wp[i].type == 3 ? 1 : 3;
			u64 bas = ((1ULL << g->hw_wp[i].len) - 1) << off;
			a.dbg_wvr[i] = g->hw_wp[i].addr & ~7ULL;
			a.dbg_wcr[i] = 1 | (3 << 1) | (lsc << 3) | ((bas & 0xff) << 5);
		}
	pthread_mutex_lock(&g->kvm->pause_lock);
	g->hwregs = a;
	pthread_mutex_unlock(&g->kvm->pause_lock);
	gdb_debug_changed(g);
}

static int hw_add(struct gdb *g, int type, u64 addr, u64 len)
{
	struct gdb_hw *slots = type == 1 ? g->hw_bp : g->hw_wp;
	unsigned int max = type == 1 ? g->max_hw_bp : g->max_hw_wp;

	/* a watchpoint covers 1..8 bytes inside one aligned double word (BAS) */
	if (type != 1 && (len == 0 || len > 8 || (addr & 7) + len > 8))
		return -1;
	for (unsigned int i = 0; i < max; i++)
		if (!slots[i].used) {
			slots[i] = (struct gdb_hw){ .used = true, .type = type, .addr = addr, .len = len };
			hw_commit(g);
			return 0;
		}
	return -1;
}

static int hw_del(struct gdb *g, int type, u64 addr)
{
	struct gdb_hw *slots = type == 1 ? g->hw_bp : g->hw_wp;
	unsigned int max = type == 1 ? g->max_hw_bp : g->max_hw_wp;

	for (unsigned int i = 0; i < max; i++)
		if (slots[i].used && slots[i].addr == addr && slots[i].type == type) {
			slots[i].used = false;
			hw_commit(g);
			return 0;
		}
	return -1;
}

/* ---- replies ---- */

void gdb_stop_reply(struct gdb *g, char *out, size_t cap)
{
	unsigned int cpu;
	enum gdb_stop_kind k;
	u64 addr;

	pthread_mutex_lock(&g->kvm->pause_lock);
	cpu = g->stop_cpu < g->kvm->nr_cpus ? g->stop_cpu : 0;
	k = g->stop_kind;
	addr = g->stop_addr;
	pthread_mutex_unlock(&g->kvm->pause_lock);
	g->g_cpu = g->c_cpu = cpu;
	if (k == STOP_WATCH)
		snprintf(out, cap, "T05watch:%llx;thread:%x;", (unsigned long long)addr, cpu + 1);
	else
		snprintf(out, cap, "T%02xthread:%x;", k == STOP_INT ? 2 : 5, cpu + 1);
}

/* thread ids are vCPU + 1; -1 and 0 mean any: *cpu keeps its value */
static int parse_thread(struct gdb *g, const char *p, unsigned int *cpu)
{
	u64 t;

	if (!strcmp(p, "-1") || !strcmp(p, "0"))
		return 0;
	if (gdb_parse_hex(&p, &t) || *p || t == 0 || t > g->kvm->nr_cpus)
		return -1;
	*cpu = (unsigned int)(t - 1);
	return 0;
}

static void xfer_reply(struct gdb *g, const char *doc, size_t doclen, const char *args)
{
	u64 off, len;
	char *out;

	if (gdb_parse_hex(&args, &off) || *args++ != ',' || gdb_parse_hex(&args, &len)) {
		gdb_send(g, "E01");
		return;
	}
	if (len > GDB_PACKET_MAX - 16)
		len = GDB_PACKET_MAX - 16;
	if (off >= doclen) {
		gdb_send(g, "l");
		return;
	}
	if (len > doclen - off)
		len = doclen - off;
	out = malloc(len + 2);
	if (!out) {
		gdb_send(g, "E01");
		return;
	}
	out[0] = off + len < doclen ? 'm' : 'l';
	memcpy(out + 1, doc + off, len);
	out[len + 1] = '\0';
	gdb_send(g, out);
	free(out);
}

static void monitor(struct gdb *g, const char *hex)
{
	size_t n = strlen(hex) / 2;
	char cmd[128], text[2048], *reply;
	size_t t = 0;

	if (n >= sizeof(cmd) || gdb_fromhex(hex, (u8 *)cmd, n)) {
		gdb_send(g, "E01");
		return;
	}
	cmd[n] = '\0';
	if (!strcmp(cmd, "regs-el1")) {
		t = gdb_regs_el1_text(cpu_of(g, g->g_cpu), text, sizeof(text));
	} else if (!strcmp(cmd, "steal")) {
		struct kvm *kvm = g->kvm;
		for (unsigned int i = 0; i < kvm->nr_cpus && t < sizeof(text) - 80; i++) {
			u64 st = 0;
			if (kvm->arch.pvtime)
				pvtime_read_stolen(kvm, i, &st);
			t += (size_t)snprintf(text + t, sizeof(text) - t, "vCPU %u: stolen %llu ns%s\n", i,
					      (unsigned long long)st, kvm->arch.pvtime ? "" : " (PV time is off)");
		}
	} else {
		t += (size_t)snprintf(text + t, sizeof(text) - t, "lkvm monitor commands: steal, regs-el1\n");
	}
	if (t >= sizeof(text))
		t = sizeof(text) - 1;
	reply = malloc(2 * t + 1);
	if (!reply) {
		gdb_send(g, "E01");
		return;
	}
	gdb_tohex((const u8 *)text, t, reply);
	gdb_send(g, reply);
	free(reply);
}

static void do_resume(struct gdb *g, const char *p)
{
	/* vCont;ACTION[:TID];...: s on one thread (others c or held), or c everywhere */
	int step = -1;
	bool others = false;

	while (*p == ';') {
		char a = p[1];
		unsigned int cpu = g->c_cpu;
		bool all = true;
		p += 2;
		if ((a == 'S' || a == 'C') && hex_digit(p[0]) >= 0 && hex_digit(p[1]) >= 0)
			p += 2; /* the signal is not delivered to a VM */
		if (*p == ':') {
			char tid[24];
			size_t n = strcspn(p + 1, ";");
			if (n >= sizeof(tid)) {
				gdb_send(g, "E01");
				return;
			}
			memcpy(tid, p + 1, n);
			tid[n] = '\0';
			if (parse_thread(g, tid, &cpu)) {
				gdb_send(g, "E01");
				return;
			}
			all = !strcmp(tid, "-1");
			p += 1 + n;
		}
		if (a == 's' || a == 'S') {
			if (step < 0)
				step = (int)cpu;
		} else if (a == 'c' || a == 'C') {
			if (all)
				others = true;
		} else {
			gdb_send(g, "E01");
			return;
		}
	}
	if (step < 0)
		others = true;
	gdb_resume(g, step, others);
}

void gdb_handle_packet(struct gdb *g, char *pkt, size_t len)
{
	struct kvm *kvm = g->kvm;
	char *reply;
	const char *p;
	u64 addr, n;

	if (!len)
		return gdb_send(g, "");
	reply = malloc(GDB_PACKET_MAX + 1);
	if (!reply)
		return gdb_send(g, "E01");
	p = pkt + 1;
	switch (pkt[0]) {
	case '?':
		gdb_stop_reply(g, reply, GDB_PACKET_MAX);
		gdb_send(g, reply);
		break;
	case 'g': {
		struct kvm_cpu *cpu = cpu_of(g, g->g_cpu);
		size_t o = 0;
		for (unsigned int r = 0; r < GDB_NR_REGS; r++) {
			u8 b[16];
			int s = gdb_reg_get(cpu, r, b);
			if (s < 0) {
				o = 0;
				break;
			}
			gdb_tohex(b, (size_t)s, reply + o);
			o += 2 * (size_t)s;
		}
		gdb_send(g, o ? reply : "E01");
		break;
	}
	case 'G': {
		struct kvm_cpu *cpu = cpu_of(g, g->g_cpu);
		size_t o = 0;
		bool bad = false;
		for (unsigned int r = 0; r < GDB_NR_REGS && !bad; r++) {
			u8 b[16];
			u64 id;
			int s = gdb_reg_id(cpu, r, &id);
			if (o + 2 * (size_t)s > len - 1)
				break; /* a shorter G sets the first registers */
			bad = gdb_fromhex(p + o, b, (size_t)s) || gdb_reg_set(cpu, r, b);
			o += 2 * (size_t)s;
		}
		gdb_send(g, bad ? "E01" : "OK");
		break;
	}
	case 'p': {
		u8 b[16];
		int s;
		if (gdb_parse_hex(&p, &n) || *p || n >= GDB_NR_REGS || (s = gdb_reg_get(cpu_of(g, g->g_cpu), (unsigned int)n, b)) < 0) {
			gdb_send(g, "E01");
			break;
		}
		gdb_tohex(b, (size_t)s, reply);
		gdb_send(g, reply);
		break;
	}
	case 'P': {
		u8 b[16];
		u64 id;
		int s;
		if (gdb_parse_hex(&p, &n) || *p++ != '=' || n >= GDB_NR_REGS ||
		    (s = gdb_reg_id(cpu_of(g, g->g_cpu), (unsigned int)n, &id)) < 0 || strlen(p) != 2 * (size_t)s ||
		    gdb_fromhex(p, b, (size_t)s) || gdb_reg_set(cpu_of(g, g->g_cpu), (unsigned int)n, b)) {
			gdb_send(g, "E01");
			break;
		}
		gdb_send(g, "OK");
		break;
	}
	case 'm': {
		u8 *buf;
		size_t got;
		if (gdb_parse_hex(&p, &addr) || *p++ != ',' || gdb_parse_hex(&p, &n) || *p) {
			gdb_send(g, "E01");
			break;
		}
		if (n > (GDB_PACKET_MAX - 4) / 2)
			n = (GDB_PACKET_MAX - 4) / 2;
		buf = malloc(n ? n : 1);
		got = buf ? vmem(g, addr, buf, n, false) : 0;
		if (!got && n) {
			gdb_send(g, "E14"); /* EFAULT: not mapped or not RAM */
		} else {
			gdb_tohex(buf, got, reply);
			gdb_send(g, reply);
		}
		free(buf);
		break;
	}
	case 'M':
	case 'X': {
		u8 *buf;
		const char *data;
		long dl;
		if (gdb_parse_hex(&p, &addr) || *p++ != ',' || gdb_parse_hex(&p, &n) || *p++ != ':' || n > GDB_PACKET_MAX) {
			gdb_send(g, "E01");
			break;
		}
		data = p;
		buf = malloc(n ? n : 1);
		if (!buf) {
			gdb_send(g, "E01");
			break;
		}
		if (pkt[0] == 'M') {
			dl = strlen(data) == 2 * n && !gdb_fromhex(data, buf, n) ? (long)n : -1;
		} else {
			size_t raw = len - (size_t)(data - pkt);
			char *tmp = malloc(raw ? raw : 1);
			dl = -1;
			if (tmp) {
				memcpy(tmp, data, raw);
				dl = gdb_unescape(tmp, raw);
				if (dl == (long)n)
					memcpy(buf, tmp, n);
				else
					dl = -1;
				free(tmp);
			}
		}
		if (dl < 0)
			gdb_send(g, "E01");
		else
			gdb_send(g, vmem(g, addr, buf, n, true) == n ? "OK" : "E14");
		free(buf);
		break;
	}
	case 'Z':
	case 'z': {
		int type = pkt[1] - '0', r;
		u64 kind;
		p = pkt + 2;
		if (type < 0 || type > 4 || *p++ != ',' || gdb_parse_hex(&p, &addr) || *p++ != ',' ||
		    gdb_parse_hex(&p, &kind)) {
			gdb_send(g, "E01");
			break;
		}
		if (type == 0)
			r = pkt[0] == 'Z' ? sw_bp_add(g, addr) : sw_bp_del(g, addr);
		else
			r = pkt[0] == 'Z' ? hw_add(g, type, addr, kind) : hw_del(g, type, addr);
		gdb_send(g, r ? "E01" : "OK");
		break;
	}
	case 'H':
		if ((pkt[1] == 'g' || pkt[1] == 'c') && !parse_thread(g, pkt + 2, pkt[1] == 'g' ? &g->g_cpu : &g->c_cpu))
			gdb_send(g, "OK");
		else
			gdb_send(g, "E01");
		break;
	case 'T': {
		unsigned int c = 0;
		gdb_send(g, !strcmp(p, "-1") || strcmp(p, "0") ? (parse_thread(g, p, &c) ? "E01" : "OK") : "OK");
		break;
	}
	case 'c':
		gdb_resume(g, -1, true);
		break;
	case 's':
		gdb_resume(g, (int)g->c_cpu, false);
		break;
	case 'D':
		gdb_send(g, "OK");
		gdb_detach(g);
		break;
	case 'k':
		pr_info("gdb: kill requested; stopping the guest");
		gdb_detach(g);
		kvm_request_stop(kvm, 0);
		break;
	case 'v':
		if (!strcmp(pkt, "vCont?"))
			gdb_send(g, "vCont;c;C;s;S");
		else if (!strncmp(pkt, "vCont;", 6))
			do_resume(g, pkt + 5);
		else
			gdb_send(g, "");
		break;
	case 'q':
		if (!strncmp(pkt, "qSupported", 10)) {
			snprintf(reply, GDB_PACKET_MAX,
				 "PacketSize=%x;qXfer:features:read+;qXfer:threads:read+;QStartNoAckMode+;vContSupported+",
				 GDB_PACKET_MAX);
			gdb_send(g, reply);
		} else if (!strncmp(pkt, "qXfer:features:read:target.xml:", 31)) {
			xfer_reply(g, gdb_target_xml, strlen(gdb_target_xml), pkt + 31);
		} else if (!strncmp(pkt, "qXfer:threads:read::", 20)) {
			size_t o = (size_t)snprintf(reply, GDB_PACKET_MAX, "<?xml version=\"1.0\"?><threads>");
			for (unsigned int i = 0; i < kvm->nr_cpus && o < GDB_PACKET_MAX - 80; i++)
				o += (size_t)snprintf(reply + o, GDB_PACKET_MAX - o,
						      "<thread id=\"%x\" core=\"%u\" name=\"vCPU %u\"/>", i + 1, i, i);
			if (o < GDB_PACKET_MAX - 12)
				o += (size_t)snprintf(reply + o, GDB_PACKET_MAX - o, "</threads>");
			{
				char *doc = strdup(reply);
				if (doc)
					xfer_reply(g, doc, o, pkt + 20);
				else
					gdb_send(g, "E01");
				free(doc);
			}
		} else if (!strcmp(pkt, "qfThreadInfo")) {
			size_t o = 1;
			reply[0] = 'm';
			for (unsigned int i = 0; i < kvm->nr_cpus && o < GDB_PACKET_MAX - 12; i++)
				o += (size_t)snprintf(reply + o, GDB_PACKET_MAX - o, "%s%x", i ? "," : "", i + 1);
			gdb_send(g, reply);
		} else if (!strcmp(pkt, "qsThreadInfo")) {
			gdb_send(g, "l");
		} else if (!strcmp(pkt, "qC")) {
			snprintf(reply, GDB_PACKET_MAX, "QC%x", g->g_cpu + 1);
			gdb_send(g, reply);
		} else if (!strncmp(pkt, "qThreadExtraInfo,", 17)) {
			unsigned int c = 0;
			char name[32];
			if (parse_thread(g, pkt + 17, &c)) {
				gdb_send(g, "E01");
				break;
			}
			snprintf(name, sizeof(name), "vCPU %u", c);
			gdb_tohex((const u8 *)name, strlen(name), reply);
			gdb_send(g, reply);
		} else if (!strcmp(pkt, "qAttached")) {
			gdb_send(g, "1");
		} else if (!strncmp(pkt, "qRcmd,", 6)) {
			monitor(g, pkt + 6);
		} else if (!strncmp(pkt, "qSymbol", 7)) {
			gdb_send(g, "OK");
		} else {
			gdb_send(g, "");
		}
		break;
	case 'Q':
		if (!strcmp(pkt, "QStartNoAckMode")) {
			gdb_send(g, "OK");
			g->noack = true;
		} else {
			gdb_send(g, "");
		}
		break;
	default:
		gdb_send(g, "");
		break;
	}
	free(reply);
}
