#!/usr/bin/env python3
# mkseeds.py - write the small seed corpora in tests/fuzz/corpus/NAME/ (run once; the seeds are checked in).
# The guest-RAM layout matches tests/fuzz/fuzz.h: queue q's descriptors at q*0x400, avail +0x100, used +0x200,
# buffers from 0x800, all relative to the fake RAM base 0x40000000.
import os
import struct
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
RAM = 0x40000000
BUF = 0x800
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def put(name, seed, data):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data)


class Ram:
    """A sparse guest RAM image, trimmed to its last written byte."""

    def __init__(self):
        self.b = bytearray(0x1000)

    def w(self, off, data):
        if off + len(data) > len(self.b):
            self.b.extend(b"\0" * (off + len(data) - len(self.b)))
        self.b[off:off + len(data)] = data

    def desc(self, table, i, addr, ln, flags, nxt=0):
        self.w(table + 16 * i, struct.pack("<QIHH", addr, ln, flags, nxt))

    def avail(self, q, heads, flags=0, used_event=0, qsize=8):
        a = q * 0x400 + 0x100
        self.w(a, struct.pack("<HH", flags, len(heads)))
        for i, h in enumerate(heads):
            self.w(a + 4 + 2 * i, struct.pack("<H", h))
        self.w(a + 4 + 2 * qsize, struct.pack("<H", used_event))

    def bytes(self):
        return bytes(self.b).rstrip(b"\0") or b"\0"


def chains(q, specs, indirect_at=None, qsize=8, buf=BUF):
    """specs: per chain a list of (len, writable, data) buffers from guest offset buf. Returns the RAM image."""
    r = Ram()
    heads = []
    di = 0
    for ci, spec in enumerate(specs):
        table, base = q * 0x400, di
        if indirect_at is not None and ci == len(specs) - 1:
            # the last chain through an indirect table
            tbl = indirect_at
            r.desc(table, di, RAM + tbl, 16 * len(spec), F_INDIRECT)
            heads.append(di)
            di += 1
            for j, (ln, wr, data) in enumerate(spec):
                fl = (F_WRITE if wr else 0) | (F_NEXT if j + 1 < len(spec) else 0)
                r.desc(tbl, j, RAM + buf, ln, fl, j + 1)
                if data:
                    r.w(buf, data)
                buf += (ln + 15) & ~15
            continue
        heads.append(base)
        for j, (ln, wr, data) in enumerate(spec):
            fl = (F_WRITE if wr else 0) | (F_NEXT if j + 1 < len(spec) else 0)
            r.desc(table, di, RAM + buf, ln, fl, di + 1)
            if data:
                r.w(buf, data)
            buf += (ln + 15) & ~15
            di += 1
    r.avail(q, heads, qsize=qsize)
    return r


def blkhdr(t, sector):
    return struct.pack("<IIQ", t, 0, sector)


def seeds_virtq():
    # header: size_log2, flags, desc_off, avail_off, used_off, raw_size, rounds, written_mode, max_size, reserved
    def hdr(flags, lg=3):
        return struct.pack("<BBHHHHBBHH", lg, flags, 0, 0x100, 0x200, 0, 1, 1, 0, 0)
    r = chains(0, [[(16, False, b"A" * 16), (512, True, None), (1, True, None)], [(64, False, b"B" * 64)]])
    put("virtq", "direct", hdr(0) + r.bytes())
    r = chains(0, [[(16, False, b"x" * 16)], [(16, False, b"y" * 16), (32, True, None), (1, True, None)]],
               indirect_at=0x600)
    put("virtq", "indirect", hdr(1) + r.bytes())
    r = chains(0, [[(8, True, None)]] * 3)
    r.avail(0, [0, 1, 2], used_event=1)
    put("virtq", "event-idx", hdr(2 | 4) + r.bytes())


def seeds_blk():
    # header: ring features, queue size log2, kicks, flags
    r = chains(0, [[(16, False, blkhdr(0, 2)), (512, True, None), (1, True, None)],
                   [(16, False, blkhdr(1, 4)), (512, False, b"D" * 512), (1, True, None)],
                   [(16, False, blkhdr(4, 0)), (1, True, None)]])
    put("blk", "in-out-flush", bytes([0, 3, 1, 0]) + r.bytes())
    # buffers from page 1 on (page 0 holds the rings, marked dirty anyway), the read one straddling pages 1 and 2
    r = chains(0, [[(16, False, blkhdr(0, 2)), (512, True, None), (1, True, None)],
                   [(16, False, blkhdr(1, 4)), (512, False, b"D" * 512), (1, True, None)],
                   [(16, False, blkhdr(0, 4)), (1024, True, None), (1, True, None)]], buf=0x1f00)
    put("blk", "dirty-tracked", bytes([2, 3, 1, 4]) + r.bytes())
    r = chains(0, [[(16, False, blkhdr(8, 0)), (20, True, None), (1, True, None)],
                   [(16, False, blkhdr(0, 127)), (1024, True, None), (1, True, None)]], indirect_at=0x600)
    put("blk", "getid-indirect", bytes([1, 3, 2, 2]) + r.bytes())
    r = chains(0, [[(16, False, blkhdr(1, 0)), (512, False, b"r" * 512), (1, True, None)], [(8, False, b"s"), (1, True, None)]])
    put("blk", "ro-short", bytes([2, 3, 0, 1]) + r.bytes())


def seeds_net():
    eth = bytes(12) + bytes.fromhex("ffffffffffff024c4b010203" "0800") + bytes(46)
    # rx buffers on queue 0, tx on queue 1
    r = chains(0, [[(1526, True, None)], [(64, True, None), (1526, True, None)]])
    tx = chains(1, [[(len(eth), False, eth)], [(12, False, bytes(12)), (len(eth) - 12, False, eth[12:])]])
    # merge: queue 1's rings and buffers must not clash with queue 0's buffers; put tx buffers high
    t = Ram()
    t.b = bytearray(r.b)
    buf = 0x2000
    t.desc(0x400, 0, RAM + buf, len(eth), 0)
    t.w(buf, eth)
    t.desc(0x400, 1, RAM + buf + 0x100, 12, F_NEXT, 2)
    t.desc(0x400, 2, RAM + buf + 0x200, len(eth) - 12, 0)
    t.w(buf + 0x100, bytes(12))
    t.w(buf + 0x200, eth[12:])
    t.avail(1, [0, 1])
    pk = struct.pack("<H", len(eth)) + eth
    put("net", "rx-tx", bytes([0, 3, 3, 2]) + pk + pk + t.bytes())
    r = chains(0, [[(1526, True, None)], [(64, True, None), (1526, True, None)]], buf=0x3000)
    t.b = bytearray(r.b) + t.b[len(r.b):] if len(t.b) > len(r.b) else bytearray(r.b)
    t.desc(0x400, 0, RAM + buf, len(eth), 0)
    t.w(buf, eth)
    t.desc(0x400, 1, RAM + buf + 0x100, 12, F_NEXT, 2)
    t.desc(0x400, 2, RAM + buf + 0x200, len(eth) - 12, 0)
    t.w(buf + 0x100, bytes(12))
    t.w(buf + 0x200, eth[12:])
    t.avail(1, [0, 1])
    put("net", "dirty-tracked", bytes([4 | 2, 3, 3, 2]) + pk + pk + t.bytes())
    put("net", "rx-small", bytes([1, 3, 1, 1]) + struct.pack("<H", 8) + bytes(8) +
        chains(0, [[(20, True, None)]], indirect_at=0x600).bytes())
    del tx


def mmio_ops(ops):
    return bytes([len(ops)]) + b"".join(struct.pack("<BBHI", k, ln, off, v) for k, ln, off, v in ops)


def up_ops(nq, feats_lo=0, qsize=8):
    W = 0
    ops = [(W, 4, 0x70, 3), (W, 4, 0x24, 1), (W, 4, 0x20, 1), (W, 4, 0x24, 0), (W, 4, 0x20, feats_lo),
           (W, 4, 0x70, 0xb)]
    for q in range(nq):
        ops += [(W, 4, 0x30, q), (W, 4, 0x38, qsize), (W, 4, 0x80, RAM + q * 0x400), (W, 4, 0x84, 0),
                (W, 4, 0x90, RAM + q * 0x400 + 0x100), (W, 4, 0xa0, RAM + q * 0x400 + 0x200), (W, 4, 0x44, 1)]
    ops += [(W, 4, 0x70, 0xf)]
    return ops


def seeds_mmio():
    # u8 device (0 blk, 1 net, 2 rng, 3 console), u8 op count, ops (u8 kind, u8 len, u16 offset, u32 value), RAM
    R, POLL = 1, 2
    reads = [(R, 4, o, 0) for o in (0, 4, 8, 0xc, 0x10, 0x34, 0x60, 0x70, 0xfc)] + [(R, 1, 0x100 + i, 0) for i in range(8)]
    blk = chains(0, [[(16, False, blkhdr(0, 1)), (512, True, None), (1, True, None)]])
    put("mmio", "blk", bytes([0]) + mmio_ops(reads + up_ops(1) + [(0, 4, 0x50, 0), (POLL, 0, 0, 0), (R, 4, 0x60, 0),
                                                          (0, 4, 0x64, 1), (0, 4, 0x70, 0)]) + blk.bytes())
    rng = chains(0, [[(64, True, None)], [(32, True, None)]])
    put("mmio", "rng", bytes([2]) + mmio_ops(up_ops(1, 1 << 28) + [(0, 4, 0x50, 0), (POLL, 0, 0, 0)]) + rng.bytes())
    con = chains(0, [[(64, True, None)]])
    put("mmio", "console", bytes([3]) + mmio_ops(up_ops(2) + [(3, 5, 0, 0x6f6c6c65), (0, 4, 0x50, 0),
                                                              (POLL, 0, 0, 0)]) + con.bytes())
    put("mmio", "net-cfg", bytes([1]) + mmio_ops([(R, 1, 0x100 + i, 0) for i in range(8)] + up_ops(2) +
                                                 [(0, 2, 0x104, 0xffff), (0, 4, 0x30, 7), (R, 4, 0x34, 0)]) + b"\0")


def seeds_pci():
    # u8 device (0 rng, 1 blk, 2 net), u8 msi, u8 op count, ops (u8 kind, u8 len, u16 pad, u32 offset, u32 value), RAM
    # kinds: 0 config write, 1 config read (ECAM offset), 2 BAR write, 3 BAR read (offset from the BAR), 4 poll
    CW, CR, BW, BR, POLL = 0, 1, 2, 3, 4
    BAR = 0x50000000

    def op(k, ln, off, v=0):
        return struct.pack("<BBHII", k, ln, 0, off, v)
    probe = [op(CR, 4, o) for o in range(0, 0x100, 4)] + [op(CW, 4, 0x10, 0xffffffff), op(CR, 4, 0x10)]
    up = [op(CW, 4, 0x10, BAR), op(CW, 2, 4, 6), op(BW, 1, 0x14, 3), op(BW, 4, 0x08, 1), op(BW, 4, 0x0c, 1),
          op(BW, 1, 0x14, 0xb), op(BW, 2, 0x16, 0), op(BW, 2, 0x18, 8), op(BW, 4, 0x20, RAM), op(BW, 4, 0x28, RAM + 0x100),
          op(BW, 4, 0x30, RAM + 0x200), op(BW, 2, 0x1c, 1), op(BW, 1, 0x14, 0xf), op(BW, 2, 0x3000, 0), op(POLL, 0, 0)]
    msix = [op(CW, 2, 0x9a, 0x8000), op(BW, 4, 0x3800, 0x8090040), op(BW, 4, 0x3804, 0), op(BW, 4, 0x3808, 33),
            op(BW, 4, 0x380c, 0), op(BW, 2, 0x10, 0), op(BW, 2, 0x1a, 0), op(BR, 8, 0x3c00)]
    rng = chains(0, [[(64, True, None)]])
    ops = probe + up + msix + [op(BR, 1, 0x1000), op(BR, 4, 0x2000)]
    put("pci", "rng-msix", bytes([0, 1, len(ops)]) + b"".join(ops) + rng.bytes())
    blk = chains(0, [[(16, False, blkhdr(0, 1)), (512, True, None), (1, True, None)]])
    ops = up + [op(BR, 4, 0x2000), op(CR, 4, 0x40), op(CR, 4, 0x84), op(CW, 1, 0x88, 4), op(CW, 4, 0x94, 0x2000),
                op(CR, 4, 0x94)]
    put("pci", "blk-intx", bytes([1, 0, len(ops)]) + b"".join(ops) + blk.bytes())
    # both functions' BARs at one address (device 1 must not decode), then device 1's moved away
    ops = [op(CW, 4, 0x10, BAR), op(CW, 2, 4, 6), op(CW, 4, 0x8010, BAR), op(CW, 2, 0x8004, 6), op(BR, 4, 0),
           op(CR, 4, 0x8010), op(CW, 4, 0x8010, BAR + 0x4000), op(BR, 4, 0x4000), op(BW, 1, 0x4014, 3),
           op(CR, 4, 0x8000), op(CW, 2, 0x8004, 0), op(POLL, 0, 0, 1)]
    put("pci", "two-bars", bytes([0, 1, len(ops)]) + b"".join(ops))


def seeds_image():
    # header: u32 MiB, u64 initrd size, u16 vCPUs, u8 flags (1 pvtime, 2 u32 extra file bytes follow), then the file
    def hdr(mib, initrd, cpus, flags, extra=None):
        h = struct.pack("<IQHB", mib, initrd, cpus, flags)
        return h + (struct.pack("<I", extra) if extra is not None else b"")

    def arm64(text_offset, image_size, flags=0, pe=False):
        h = bytearray(64)
        if pe:
            h[0:2] = b"MZ"
        struct.pack_into("<QQQ", h, 8, text_offset, image_size, flags)
        struct.pack_into("<I", h, 0x38, 0x644D5241)
        struct.pack_into("<I", h, 0x3c, 0x40 if pe else 0)
        if pe:
            # PE header at 0x40: signature, machine, 1 section, optional header size 0, then one section entry
            pehdr = b"PE\0\0" + struct.pack("<HHIIIHH", 0xaa64, 1, 0, 0, 0, 0, 0)
            sec = b".text\0\0\0" + struct.pack("<IIIIIIHHI", 0x1000, 0x1000, 0x800, 0x200, 0, 0, 0, 0, 0)
            h += pehdr + sec
        return bytes(h) + b"\x14" * 64
    put("image", "image-initrd", hdr(256, 8 << 20, 1, 1, 20 << 20) + arm64(0, 24 << 20))
    put("image", "image-pe", hdr(64, 0, 4, 1) + arm64(0x80000, 0x2000, pe=True))
    put("image", "image-old", hdr(16, 1 << 20, 2, 0) + arm64(0, 0))
    put("image", "raw", hdr(1, 4096, 1, 0) + b"\x00\x00\x00\x14" * 32)
    put("image", "cpio", hdr(128, 0, 1, 0) + b"070701" + b"0" * 40)
    put("image", "big-endian", hdr(128, 0, 1, 0) + arm64(0, 0x10000, flags=1))


def seeds_control():
    for name, line in [("info", b"info\n"), ("save-stop", b"save-stop\n"), ("save-file", b"save-file-stop\n"),
                       ("migrate", b"migrate downtime_ms=300 bandwidth_mibs=100 timeout_s=5 strategy=force\n"),
                       ("migrate-bad", b"migrate downtime_ms=x tcp:[::1]:4444\n"),
                       ("answer", b"lkvm-control 1 vm1\nname=vm1 pid=1 cpus=1\nok\n"),
                       ("addr", b"tcp:127.0.0.1:4444"), ("unix", b"unix:/tmp/lkvm-mig.sock")]:
        put("control", name, line)


def seeds_options():
    def argv(*words):
        return b"\0".join(w.encode() for w in words)
    put("options", "full", argv("-c", "2", "-m", "0x200", "--name=vm1", "-k", "Image", "-i", "initrd", "-p",
                                "console=ttyS0", "-d", "disk.img,ro", "-d", "two.img", "--rng", "--console", "virtio",
                                "--irqchip=gicv3-its", "--pvtime", "--virtio-transport", "mmio", "--loglevel=debug"))
    put("options", "net", argv("-n", "mode=tap,tapif=tap0,guest_mac=02:00:00:00:00:01", "--network", "none",
                               "--no-pvtime", "--pmu", "--", "Image"))
    put("options", "bad", argv("--cpus", "-1", "--mem=18446744073709551616", "-dx", "--pvtime=maybe", "-hx"))
    put("options", "addr", argv("tcp:[::1]:4444", "unix:/run/x", "tcp:localhost:1", "auto", "0x10"))


def p9msg(mtype, tag, body):
    return struct.pack("<IBH", 7 + len(body), mtype, tag) + body


def p9s(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def seeds_9p():
    """9P2000.L sessions (the first byte: 1 = read-only share, 0 = writable); fid 0 is the root."""
    ver = p9msg(100, 0xffff, struct.pack("<I", 65536) + p9s("9P2000.L"))
    att = p9msg(104, 1, struct.pack("<II", 0, 0xffffffff) + p9s("root") + p9s("") + struct.pack("<I", 0))

    def walk(tag, fid, newfid, *names):
        return p9msg(110, tag, struct.pack("<IIH", fid, newfid, len(names)) + b"".join(p9s(n) for n in names))
    read = [ver, att, walk(2, 0, 1, "file"), p9msg(12, 3, struct.pack("<II", 1, 0)),
            p9msg(116, 4, struct.pack("<IQI", 1, 0, 4096)), p9msg(24, 5, struct.pack("<IQ", 1, 0x3fff)),
            walk(6, 0, 2), p9msg(12, 7, struct.pack("<II", 2, 0o200000)),
            p9msg(40, 8, struct.pack("<IQI", 2, 0, 8192)), p9msg(8, 9, struct.pack("<I", 0)),
            p9msg(120, 10, struct.pack("<I", 1))]
    put("9p", "read", b"\x01" + b"".join(read))
    write = [ver, att, walk(2, 0, 1), p9msg(14, 3, struct.pack("<I", 1) + p9s("new") + struct.pack("<III", 0o102, 0o644, 0)),
             p9msg(118, 4, struct.pack("<IQI", 1, 0, 5) + b"hello"), p9msg(50, 5, struct.pack("<II", 1, 0)),
             p9msg(72, 6, struct.pack("<I", 0) + p9s("sub") + struct.pack("<II", 0o755, 0)),
             p9msg(16, 7, struct.pack("<I", 0) + p9s("ln") + p9s("../outside/secret") + struct.pack("<I", 0)),
             walk(8, 0, 3, "ln"), p9msg(22, 9, struct.pack("<I", 3)),
             p9msg(74, 10, struct.pack("<I", 0) + p9s("new") + struct.pack("<I", 0) + p9s("renamed")),
             p9msg(76, 11, struct.pack("<I", 0) + p9s("renamed") + struct.pack("<I", 0))]
    put("9p", "write", b"\x00" + b"".join(write))
    escape = [ver, att, walk(2, 0, 1, "..", "..", "outside"), walk(3, 0, 2, "out", "secret"),
              p9msg(12, 4, struct.pack("<II", 2, 2)), walk(5, 0, 4, "dir", "..", "..", "etc", "passwd"),
              p9msg(14, 6, struct.pack("<I", 0) + p9s("../x") + struct.pack("<III", 0o102, 0o644, 0)),
              p9msg(14, 7, struct.pack("<I", 0) + p9s("out/x") + struct.pack("<III", 0o102, 0o644, 0))]
    put("9p", "escape", b"\x00" + b"".join(escape))


def seeds_vserial():
    # fuzz-vserial.c's own layout: queue q at q*0x200 (avail +0x100, used +0x180), buffers from 0x2000
    r = Ram()
    nxt = [0x2000]
    def q_chains(q, bufs):
        heads = []
        for i, (ln, wr, data) in enumerate(bufs):
            addr = nxt[0]
            nxt[0] += (ln + 15) & ~15
            if data:
                r.w(addr, data)
            r.w(q * 0x200 + 16 * i, struct.pack("<QIHH", RAM + addr, ln, F_WRITE if wr else 0, 0))
            heads.append(i)
        a = q * 0x200 + 0x100
        r.w(a, struct.pack("<HH", 0, len(heads)))
        for i, h in enumerate(heads):
            r.w(a + 4 + 2 * i, struct.pack("<H", h))
    ctl = lambda pid, ev, v: struct.pack("<IHH", pid, ev, v)
    q_chains(2, [(64, True, None)] * 8)
    q_chains(3, [(8, False, ctl(0xffffffff, 0, 1))] + [(8, False, ctl(p, 3, 1)) for p in range(4)] +
             [(8, False, ctl(0, 6, 1)), (4, False, b"\0\0\0\0"), (8, False, ctl(9, 6, 1))])
    q_chains(0, [(3, True, None), (64, True, None)])
    q_chains(5, [(5, False, b"hello")])
    q_chains(9, [(7, False, b"exit 0\n")])
    ops = [(0, 2), (0, 3), (1, 20), (2, 0), (0, 0), (0, 5), (0, 9), (3, 0)]
    put("vserial", "handshake", bytes([0, 3, len(ops)]) + b"".join(bytes(o) for o in ops) + r.bytes())
    put("vserial", "handshake-event-idx", bytes([2, 3, len(ops)]) + b"".join(bytes(o) for o in ops) + r.bytes())


def seeds_lossrecord():
    # the release, NUL, then the record's text (snapshot/loss-record.c)
    put("lossrecord", "two-lines", b"6.1.0-40-arm64\0" b"6.12.0-1-arm64 2 5 1\n6.1.0-40-arm64 1 17 0\n")
    put("lossrecord", "old-format", b"6.1.0-40-arm64\0" b"6.1.0-40-arm64 3 9\n")
    put("lossrecord", "other", b"6.1\0" b"other-release 1 1 1\nx 1 2\n")
    put("lossrecord", "saturated", b"r\0" b"r 18446744073709551615 1 0\nr 1 1\n")


def seeds_s1walk():
    # SCTLR, TCR, TTBR0, TTBR1, VA, then RAM from 0x40000000 holding the tables (debug/s1walk.c)
    base = 0x40000000
    def seed(name, sctlr, tcr, ttbr0, ttbr1, va, entries):
        ram = bytearray(0x4000)
        for off, d in entries:
            ram[off:off + 8] = struct.pack("<Q", d)
        put("s1walk", name, struct.pack("<5Q", sctlr, tcr, ttbr0, ttbr1, va) + bytes(ram))
    tcr_4k_39 = 25 | (25 << 16) | (2 << 30)  # T0SZ=T1SZ=25, TG0=4K, TG1=4K
    # va 0x40201234: level-1 index 1, level-2 index 1, level-3 index 1
    seed("4k-page", 1, tcr_4k_39, base, 0, 0x40201234,
         [(8, (base + 0x1000) | 3), (0x1000 + 8, (base + 0x2000) | 3), (0x2000 + 8, 0x4abcd000 | 3 | (1 << 10))])
    seed("4k-block", 1, tcr_4k_39, base, 0, 0x40412345, [(8, (base + 0x1000) | 3), (0x1000 + 16, 0x40600000 | 1)])
    # TTBR1, 64K granule (TG1=3), 42-bit VA (T1SZ=22): level 2 then 3
    seed("64k-ttbr1", 1, (22 << 16) | (3 << 30) | (1 << 7), 0, base, 0xfffffc0000012345, [(0, 0x50000000 | 1)])
    seed("mmu-off", 0, 0, 0, 0, 0x40080000, [])


def main():
    seeds_s1walk()
    seeds_lossrecord()
    seeds_image()
    seeds_control()
    seeds_options()
    seeds_virtq()
    seeds_blk()
    seeds_net()
    seeds_mmio()
    seeds_pci()
    seeds_9p()
    seeds_vserial()
    for extra in sys.argv[1:]:
        globals()["seeds_" + extra]()


if __name__ == "__main__":
    main()
