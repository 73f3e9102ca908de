/* Unit tests: lkvm run -- CMD's host side: the multiport console against a fake driver, the request encoding,
 * module trees (modules.dep, a build tree's modules.order), option checks, the steal report, the log's tail. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kvm/builtin.h"
#include "kvm/kvm.h"
#include "kvm/modset.h"
#include "kvm/runcmd-spec.h"
#include "kvm/runcmd.h"
#include "kvm/virtio-mmio.h"
#include "kvm/vserial.h"

static struct unit_counts uc;

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x100000ULL
#define MMIO 0x0a000000ULL
#define QN 8
#define BUFS 0x80000ULL

/* A fake driver for the ten queues of the multiport console; queue q's rings at q * 0x3000. */
struct drv {
	struct guest_ram ram;
	struct device_list bus;
	struct virtio_dev *vd;
	u16 avail_idx[VSERIAL_NR_QUEUES], used_seen[VSERIAL_NR_QUEUES], next_desc[VSERIAL_NR_QUEUES];
	u64 next_buf;
};

static u64 ring(unsigned int q, unsigned int part)
{
	return RAM_BASE + q * 0x3000ULL + part * 0x1000ULL;
}

static u8 *hp(struct drv *d, u64 gpa)
{
	return d->ram.host + (gpa - RAM_BASE);
}

static void mw(struct drv *d, u64 off, u32 v)
{
	u8 b[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(&d->bus, MMIO + off, b, 4, true);
}

static void poll_all(struct drv *d)
{
	while (virtio_dev_poll(d->vd, 0) > 0)
		;
}

static void drv_up(struct drv *d, struct virtio_dev *vd)
{
	memset(d, 0, sizeof(*d));
	d->ram = (struct guest_ram){ .base = RAM_BASE, .size = RAM_SIZE, .host = calloc(1, RAM_SIZE), .fd = -1 };
	d->next_buf = RAM_BASE + BUFS;
	d->vd = vd;
	vd->ram = &d->ram;
	if (!d->ram.host || virtio_mmio_init(vd, MMIO, 17) || virtio_mmio_register(vd, &d->bus))
		abort();
	mw(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_CONSOLE_F_MULTIPORT);
	mw(d, VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned int q = 0; q < VSERIAL_NR_QUEUES; q++) {
		mw(d, VIRTIO_MMIO_QUEUE_SEL, q);
		mw(d, VIRTIO_MMIO_QUEUE_NUM, QN);
		mw(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)ring(q, 0));
		mw(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)ring(q, 1));
		mw(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)ring(q, 2));
		mw(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mw(d, VIRTIO_MMIO_STATUS, 0xf);
	poll_all(d);
}

static u64 post(struct drv *d, unsigned int q, const void *src, u32 len, bool writable)
{
	u16 i = d->next_desc[q]++ % QN;
	u64 buf = d->next_buf;
	struct virtq_desc ds = { htole64(buf), htole32(len), htole16(writable ? VIRTQ_DESC_F_WRITE : 0), 0 };
	u16 *avail = (u16 *)hp(d, ring(q, 1));

	d->next_buf += (len + 15) & ~15u;
	if (d->next_buf >= RAM_BASE + RAM_SIZE - 0x1000)
		d->next_buf = RAM_BASE + BUFS;
	if (src)
		memcpy(hp(d, buf), src, len);
	memcpy(hp(d, ring(q, 0) + 16ULL * i), &ds, sizeof(ds));
	avail[2 + d->avail_idx[q] % QN] = htole16(i);
	d->avail_idx[q]++;
	__atomic_store_n(&avail[1], htole16(d->avail_idx[q]), __ATOMIC_RELEASE);
	return buf;
}

static void kick(struct drv *d, unsigned int q)
{
	mw(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	poll_all(d);
}

/* The next used element of queue q; its buffer's guest address is looked up by descriptor id. */
static bool used(struct drv *d, unsigned int q, u64 *buf, u32 *len)
{
	u8 *u = hp(d, ring(q, 2));
	u16 idx = le16toh(__atomic_load_n((u16 *)(u + 2), __ATOMIC_ACQUIRE));
	u32 e[2];
	struct virtq_desc ds;

	if (idx == d->used_seen[q])
		return false;
	memcpy(e, u + 4 + 8 * (d->used_seen[q] % QN), 8);
	d->used_seen[q]++;
	memcpy(&ds, hp(d, ring(q, 0) + 16ULL * (le32toh(e[0]) % QN)), sizeof(ds));
	*buf = le64toh(ds.addr);
	*len = le32toh(e[1]);
	return true;
}

static void ctrl_send(struct drv *d, u32 id, u16 event, u16 value)
{
	u8 m[8];
	u32 i = htole32(id);
	u16 ev = htole16(event), v = htole16(value);

	memcpy(m, &i, 4);
	memcpy(m + 4, &ev, 2);
	memcpy(m + 6, &v, 2);
	post(d, 3, m, 8, false);
	kick(d, 3);
}

/* Read every control message the device sent: ids, events, values, names into a log string "ev:id:val[:name] ". */
static void ctrl_recv(struct drv *d, char *log, size_t len)
{
	u64 b;
	u32 l;

	while (used(d, 2, &b, &l)) {
		u8 *m = hp(d, b);
		size_t n = strlen(log);
		u32 id;
		u16 ev, v;
		memcpy(&id, m, 4);
		memcpy(&ev, m + 4, 2);
		memcpy(&v, m + 6, 2);
		snprintf(log + n, len - n, "%u:%u:%u%s%.*s ", le16toh(ev), le32toh(id), le16toh(v), l > 8 ? ":" : "",
			 (int)(l > 8 ? l - 8 : 0), (char *)m + 8);
	}
}

struct seen {
	char ctl[256];
	size_t ctl_len;
	int out_errors;
	char order[64];
};

static int out_pipe[2];

static void on_data(void *ctx, unsigned int port, const u8 *buf, size_t len)
{
	struct seen *s = ctx;
	char tmp[64];
	ssize_t n = read(out_pipe[0], tmp, sizeof(tmp)); /* what port 1 wrote must already be out */

	strncat(s->order, n > 0 ? "out-before-ctl " : "ctl-first ", sizeof(s->order) - strlen(s->order) - 1);
	if (port == 3 && s->ctl_len + len < sizeof(s->ctl)) {
		memcpy(s->ctl + s->ctl_len, buf, len);
		s->ctl_len += len;
	}
}

static void on_error(void *ctx, unsigned int port, int err)
{
	struct seen *s = ctx;
	(void)port;
	(void)err;
	s->out_errors++;
}

static void test_vserial(void)
{
	static const char *const names[] = { "lkvm.stdin", "lkvm.stdout", "lkvm.stderr", "lkvm.ctl" };
	static const struct vserial_ops ops = { .data = on_data, .out_error = on_error };
	struct guest_ram dummy = { 0 };
	struct seen s = { 0 };
	struct drv d;
	struct vserial *vs;
	char log[1024] = "", out[64] = "";
	int fds[4] = { -1, -1, -1, -1 };
	u64 b, rx[4];
	u32 l;

	if (pipe2(out_pipe, O_NONBLOCK))
		abort();
	fds[1] = out_pipe[1];
	CHECK(&uc, !vserial_create(&dummy, 5, names, fds, &ops, &s), "more than 4 ports refused");
	vs = vserial_create(&dummy, 4, names, fds, &ops, &s);
	CHECK(&uc, vs && vs->vdev.config[4] == 4, "created; config max_nr_ports = 4");
	CHECK(&uc, vserial_input(vs, 0, (const u8 *)"hello", 5) == 5, "stdin taken before the driver is up");
	vserial_input_eof(vs, 0);
	drv_up(&d, &vs->vdev);
	for (int i = 0; i < 4; i++)
		post(&d, 2, NULL, 64, true);
	kick(&d, 2);
	ctrl_send(&d, 0xffffffff, VSERIAL_DEVICE_READY, 1);
	ctrl_recv(&d, log, sizeof(log));
	CHECK(&uc, !strcmp(log, "1:0:1 1:1:1 1:2:1 1:3:1 "), "DEVICE_READY: PORT_ADD for ports 0-3 (%s)", log);
	ctrl_send(&d, 0xffffffff, VSERIAL_DEVICE_READY, 1);
	log[0] = '\0';
	for (int i = 0; i < 8; i++)
		post(&d, 2, NULL, 64, true);
	kick(&d, 2);
	ctrl_recv(&d, log, sizeof(log));
	CHECK(&uc, !log[0], "a second DEVICE_READY adds nothing");
	for (u32 p = 0; p < 4; p++)
		ctrl_send(&d, p, VSERIAL_PORT_READY, 1);
	ctrl_recv(&d, log, sizeof(log));
	CHECK(&uc, strstr(log, "7:0:1:lkvm.stdin 6:0:1 ") && strstr(log, "7:3:1:lkvm.ctl 6:3:1 "),
	      "PORT_READY: each port named and connected (%s)", log);
	CHECK(&uc, strstr(log, "6:0:1 6:0:0") == NULL, "stdin holds data: no end of file before the guest opens it");

	/* stdin: nothing until the guest opens the port; then the data, then end of file */
	for (int i = 0; i < 4; i++)
		post(&d, 2, NULL, 64, true);
	kick(&d, 2);
	rx[0] = post(&d, 0, NULL, 3, true);
	rx[1] = post(&d, 0, NULL, 16, true);
	kick(&d, 0);
	CHECK(&uc, !used(&d, 0, &b, &l), "stdin waits for the guest to open the port");
	log[0] = '\0';
	ctrl_send(&d, 0, VSERIAL_PORT_OPEN, 1);
	CHECK(&uc, used(&d, 0, &b, &l) && b == rx[0] && l == 3 && !memcmp(hp(&d, b), "hel", 3), "stdin: first buffer");
	CHECK(&uc, used(&d, 0, &b, &l) && b == rx[1] && l == 2 && !memcmp(hp(&d, b), "lo", 2), "stdin: the rest");
	ctrl_recv(&d, log, sizeof(log));
	CHECK(&uc, !strcmp(log, "6:0:0 "), "then end of file: PORT_OPEN 0 for stdin (%s)", log);
	CHECK(&uc, vserial_input(vs, 0, (const u8 *)"late", 4) == 0, "input after end of file is refused");

	/* output: stdout to its fd; a control-port message comes after the stdout written before it */
	post(&d, 5, "out bytes\r\n", 11, false);
	post(&d, 9, "exit 3\n", 7, false);
	kick(&d, 9); /* the control port's kick first: stdout must still be written before its message */
	CHECK(&uc, !strcmp(s.order, "out-before-ctl "), "control data after earlier stdout (%s)", s.order);
	CHECK(&uc, s.ctl_len == 7 && !memcmp(s.ctl, "exit 3\n", 7), "control port data to the callback");
	post(&d, 5, "\x00\xff", 2, false);
	kick(&d, 5);
	CHECK(&uc, read(out_pipe[0], out, sizeof(out)) == 2 && out[0] == 0 && (u8)out[1] == 0xff, "binary stdout as is");
	while (used(&d, 5, &b, &l))
		;

	/* hostile control messages: short, unknown port, unknown event */
	{
		u8 shortm[4] = { 0 };
		log[0] = '\0';
		post(&d, 3, shortm, 4, false);
		kick(&d, 3);
		ctrl_send(&d, 77, VSERIAL_PORT_READY, 1);
		ctrl_send(&d, 77, VSERIAL_PORT_OPEN, 1);
		ctrl_send(&d, 1, 999, 1);
		ctrl_recv(&d, log, sizeof(log));
		CHECK(&uc, !log[0] && !(vs->vdev.status & VIRTIO_STATUS_NEEDS_RESET),
		      "short, out-of-range and unknown control messages are ignored");
	}

	/* a dead reader: one error, later output dropped, the queue keeps moving */
	close(out_pipe[0]);
	post(&d, 5, "x", 1, false);
	post(&d, 5, "y", 1, false);
	kick(&d, 5);
	CHECK(&uc, s.out_errors == 1 && used(&d, 5, &b, &l) && used(&d, 5, &b, &l),
	      "EPIPE on stdout: reported once, buffers still returned");

	/* reset: the ports are offered again */
	mw(&d, VIRTIO_MMIO_STATUS, 0);
	CHECK(&uc, !vs->device_ready && !vs->port[0].ready && !vs->port[0].guest_open, "reset clears the driver state");
	virtio_dev_destroy(&vs->vdev);
	vserial_free(vs);
	free(d.ram.host);
	close(out_pipe[1]);
}

static void test_spec(void)
{
	struct spec_buf b = { 0 };
	struct spec_iter it;
	const char *v;
	char tag, out[256] = "";
	int n = 0;

	spec_put(&b, 'a', "echo");
	spec_put(&b, 'a', "");
	spec_put(&b, 'a', "two words\nand a line");
	spec_putf(&b, 'u', "%u", 1000u);
	it = (struct spec_iter){ b.buf, b.buf + b.len };
	while (spec_next(&it, &tag, &v) > 0) {
		size_t l = strlen(out);
		snprintf(out + l, sizeof(out) - l, "%c[%s]", tag, v);
		n++;
	}
	CHECK(&uc, n == 4 && !strcmp(out, "a[echo]a[]a[two words\nand a line]u[1000]"), "round trip: %s", out);
	it = (struct spec_iter){ b.buf, b.buf + b.len - 1 }; /* the last NUL cut off */
	n = 0;
	while (spec_next(&it, &tag, &v) > 0)
		n++;
	CHECK(&uc, n == 3 && spec_next(&it, &tag, &v) == 0, "a record without its NUL is not returned");
	it = (struct spec_iter){ "\0x", (const char *)"\0x" + 2 };
	CHECK(&uc, spec_next(&it, &tag, &v) == -1, "an empty record is damage");
	free(b.buf);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

/* A fake ELF64 module: the header, .shstrtab and .modinfo with "depends=DEPS". */
static void fake_module(const char *path, const char *deps)
{
	u8 f[1024] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	const char strtab[] = "\0.shstrtab\0.modinfo\0";
	char info[128];
	size_t ilen = (size_t)snprintf(info, sizeof(info), "license=GPL%cdepends=%s%cvermagic=6.1", 0, deps, 0) + 1;
	u64 shoff = 512;
	u16 v;
	u8 *sh;

	memcpy(f + 0x28, &shoff, 8);
	v = 64;
	memcpy(f + 0x3a, &v, 2);
	v = 3;
	memcpy(f + 0x3c, &v, 2);
	v = 1;
	memcpy(f + 0x3e, &v, 2);
	memcpy(f + 256, strtab, sizeof(strtab));
	memcpy(f + 320, info, ilen);
	sh = f + shoff + 64; /* section 1: .shstrtab */
	{
		u32 name = 1;
		u64 off = 256, size = sizeof(strtab);
		memcpy(sh, &name, 4);
		memcpy(sh + 0x18, &off, 8);
		memcpy(sh + 0x20, &size, 8);
	}
	sh = f + shoff + 128; /* section 2: .modinfo */
	{
		u32 name = 11;
		u64 off = 320, size = ilen;
		memcpy(sh, &name, 4);
		memcpy(sh + 0x18, &off, 8);
		memcpy(sh + 0x20, &size, 8);
	}
	write_file(path, f, sizeof(f));
}

static void test_modset(void)
{
	char dir[] = "/tmp/lkvm-kdir-XXXXXX", p[600], err[512];
	struct modset ms;
	struct cpio c = { 0 };
	size_t len;
	char *dep;
	int r;

	if (!mkdtemp(dir))
		abort();
	CHECK(&uc, modset_open(&ms, dir, "6.1", true, err, sizeof(err)) == -1 && strstr(err, "modules.order"),
	      "a build tree without modules.order: one line (%s)", err);
	snprintf(p, sizeof(p), "mkdir -p %s/fs/9p %s/net/9p %s/fs/netfs", dir, dir, dir);
	if (system(p))
		abort();
	snprintf(p, sizeof(p), "%s/fs/9p/9p.ko", dir);
	fake_module(p, "9pnet,netfs");
	snprintf(p, sizeof(p), "%s/net/9p/9pnet.ko", dir);
	fake_module(p, "netfs");
	snprintf(p, sizeof(p), "%s/fs/netfs/netfs.ko", dir);
	fake_module(p, "");
	snprintf(p, sizeof(p), "%s/modules.order", dir);
	write_str(p, "fs/9p/9p.o\nnet/9p/9pnet.ko\nfs/netfs/netfs.ko\nfs/missing/gone.ko\n");
	snprintf(p, sizeof(p), "%s/modules.builtin", dir);
	write_str(p, "kernel/fs/overlayfs/overlay.ko\n");
	r = modset_open(&ms, dir, "6.1", true, err, sizeof(err));
	CHECK(&uc, r == 0 && ms.n == 4, "modules.order indexed (.o and .ko spellings): %u", ms.n);
	CHECK(&uc, modset_add(&ms, &c, "9p", err, sizeof(err)) == 0 && ms.list && !strcmp(ms.list, "netfs.ko\n9pnet.ko\n9p.ko\n"),
	      "9p with its dependencies, dependencies first: %s", ms.list ? ms.list : "(none)");
	CHECK(&uc, modset_add(&ms, &c, "overlay", err, sizeof(err)) == 0 && ms.added == 3, "a built-in module adds nothing");
	CHECK(&uc, modset_add(&ms, &c, "virtio-pci", err, sizeof(err)) == 1 && strstr(err, "virtio-pci") &&
	      strstr(err, "modules.order"), "a missing module: 1 and one line (%s)", err);
	dep = modset_depfile(&ms, "build/", &len, err, sizeof(err));
	CHECK(&uc, dep && strstr(dep, "build/fs/9p/9p.ko: build/net/9p/9pnet.ko build/fs/netfs/netfs.ko\n") &&
	      strstr(dep, "build/fs/netfs/netfs.ko:\n") && !strstr(dep, "gone"),
	      "modules.dep: depmod's order, unbuilt modules left out:\n%s", dep ? dep : "(null)");
	free(dep);
	free(c.buf);
	modset_close(&ms);

	/* an installed tree: modules.dep names paths and dependencies, nothing is read from the modules */
	snprintf(p, sizeof(p), "%s/modules.dep", dir);
	write_str(p, "kernel/fs/9p/9p.ko.xz: kernel/fs/netfs/netfs.ko.xz\nkernel/fs/netfs/netfs.ko.xz:\n");
	memset(&c, 0, sizeof(c));
	r = modset_open(&ms, dir, "6.1", false, err, sizeof(err));
	CHECK(&uc, r == 0 && ms.n == 2 && ms.mods[0].deps && !strcmp(ms.mods[0].deps, "netfs"),
	      "modules.dep indexed: %u modules, 9p needs %s", ms.n, ms.n ? ms.mods[0].deps : "?");
	r = modset_add(&ms, &c, "9p", err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "netfs"), "a module file that is not there: -1 naming it (%s)", err);
	free(c.buf);
	modset_close(&ms);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	if (system(p))
		abort();
}

static void test_options(void)
{
	struct kvm_config cfg;
	char err[512];
	bool help;
	const char *ok1[] = { "-m", "512", "--timeout", "2.5", "--env", "A=1", "--", "echo", "--timeout", "x" };
	const char *ok2[] = { "-p", "--", "--exec", "true" };
	const char *bad1[] = { "--timeout", "0", "--", "true" };
	const char *bad2[] = { "--env", "1A=x", "--", "true" };
	const char *bad3[] = { "--root" };
	const char *bad4[] = { "--" };
	const char *bad5[] = { "--steal-report=xml", "--", "true" };
	const char *bad6[] = { "--rwdir", "/lkvm-no-such-dir", "--", "true" };

	CHECK(&uc, run_parse_args(10, ok1, &cfg, &help, err, sizeof(err)) == 0 && cfg.ram_mib == 512 &&
	      cfg.run.timeout_ms == 2500 && cfg.run.nr_env == 1 && cfg.run.argc == 3 && !strcmp(cfg.run.argv[1], "--timeout"),
	      "options before '--', the command after it untouched (%s)", err);
	CHECK(&uc, run_parse_args(4, ok2, &cfg, &help, err, sizeof(err)) == 0 && cfg.params && !strcmp(cfg.params, "--") &&
	      cfg.run.exec && !cfg.run.argc, "'--' as an option's value is not the separator (%s)", err);
	CHECK(&uc, run_parse_args(4, bad1, &cfg, &help, err, sizeof(err)) == -1 && strstr(err, "--timeout"),
	      "--timeout 0: %s", err);
	CHECK(&uc, run_parse_args(4, bad2, &cfg, &help, err, sizeof(err)) == -1 && strstr(err, "NAME"), "--env 1A: %s", err);
	CHECK(&uc, run_parse_args(1, bad3, &cfg, &help, err, sizeof(err)) == -1 && strstr(err, "--root") &&
	      strstr(err, "--"), "--root without a command: %s", err);
	CHECK(&uc, run_parse_args(1, bad4, &cfg, &help, err, sizeof(err)) == -1 && strstr(err, "nothing after"),
	      "'--' and nothing: %s", err);
	CHECK(&uc, run_parse_args(3, bad5, &cfg, &help, err, sizeof(err)) == -1 && strstr(err, "json"),
	      "--steal-report=xml: %s", err);
	CHECK(&uc, run_parse_args(4, bad6, &cfg, &help, err, sizeof(err)) == -1 && strstr(err, "no such directory"),
	      "--rwdir missing: %s", err);
	log_set_fatal_status(1); /* run_parse_args set 125 for a command line with '--' */
}

static void test_report(void)
{
	u64 steal[2] = { 150000000ULL, 0 };
	struct runcmd_steal_sample s = { .nr_cpus = 2, .wall_ns = 300000000ULL, .steal_ns = steal };
	const char *log = "a\r\nb\nc\n\nd\r\n\n";
	char out[512], rel[64];
	static const u8 img[] = "xxLinux version %s (%s)\0Linux version 6.1.0-57-arm64 (debian-kernel@lists) #1";

	runcmd_steal_format(&s, false, out, sizeof(out));
	CHECK(&uc, !strcmp(out, "lkvm: stolen time over the command's 300.0 ms: vCPU 0 150.0 ms (50.0%), vCPU 1 0.0 ms (0.0%)"),
	      "text: %s", out);
	runcmd_steal_format(&s, true, out, sizeof(out));
	CHECK(&uc, !strcmp(out, "{\"wall_ms\":300.000,\"vcpus\":[{\"vcpu\":0,\"steal_ms\":150.000,\"steal_pct\":50.00},"
				"{\"vcpu\":1,\"steal_ms\":0.000,\"steal_pct\":0.00}]}"), "json: %s", out);
	CHECK(&uc, runcmd_tail_lines(log, strlen(log), 2, out, sizeof(out)) == 2 && !strcmp(out, "\nd\n"),
	      "the last 2 lines, CRs dropped: [%s]", out);
	CHECK(&uc, runcmd_tail_lines(log, strlen(log), 30, out, sizeof(out)) == 5 && !strcmp(out, "a\nb\nc\n\nd\n"),
	      "fewer lines than asked: all of them");
	CHECK(&uc, runcmd_tail_lines("", 0, 30, out, sizeof(out)) == 0 && !out[0], "an empty log");
	runcmd_image_release(img, sizeof(img), rel, sizeof(rel));
	CHECK(&uc, !strcmp(rel, "6.1.0-57-arm64"), "the banner's release, past the format string: %s", rel);
	runcmd_image_release((const u8 *)"no banner", 9, rel, sizeof(rel));
	CHECK(&uc, !rel[0], "no banner: empty");
}

int main(void)
{
	log_set_level(LOG_ERROR);
	signal(SIGPIPE, SIG_IGN); /* as in lkvm: a dead reader is an EPIPE */
	test_vserial();
	test_spec();
	test_modset();
	test_options();
	test_report();
	UNIT_DONE(&uc);
}
