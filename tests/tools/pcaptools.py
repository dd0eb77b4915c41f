#!/usr/bin/env python3
"""Pure-Python pcap tools for the project's test data.

- read/write classic pcap files (either byte order, microsecond or nanosecond timestamps);
- a minimal decoder for the link types the project records or ships (Ethernet with VLAN tags,
  BSD null/loopback, raw IP, Linux cooked SLL/SLL2) carrying IPv4/IPv6 and TCP;
- a drop/reorder tool that damages a clean capture on purpose, one action per TCP session, and
  writes the ground truth of what it did (the expected verdicts come from the actions, never
  from capgap).

Usage:
    pcaptools.py drop IN.pcap OUT.pcap --seed N [--truth OUT.truth.json] [--keep-fraction F]
    pcaptools.py check IN.pcap      # prove a recorded capture is complete (no sequence holes)
    pcaptools.py sessions IN.pcap   # list the TCP sessions

Only the Python standard library is used, so the tools run before anything is built.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAGIC_USEC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D
SEQ_MASK = 0xFFFFFFFF

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_ACK = 0x10


# --------------------------------------------------------------------------------------------
# pcap files


@dataclass
class Record:
    """One pcap record: timestamp (seconds + fraction in the file's unit), lengths, bytes."""

    ts_sec: int
    ts_frac: int
    orig_len: int
    data: bytes


@dataclass
class PcapFile:
    linktype: int
    snaplen: int
    nsec: bool
    endian: str = "<"
    version: tuple[int, int] = (2, 4)
    records: list[Record] = field(default_factory=list)

    def ts_ns(self, rec: Record) -> int:
        return rec.ts_sec * 1_000_000_000 + (rec.ts_frac if self.nsec else rec.ts_frac * 1000)


class PcapFormatError(ValueError):
    pass


def read_pcap(path: str | Path) -> PcapFile:
    """Read a classic pcap file completely; raise PcapFormatError when it is cut short."""
    raw = Path(path).read_bytes()
    if len(raw) < 24:
        raise PcapFormatError(f"{path}: shorter than a pcap file header")
    for endian in ("<", ">"):
        (magic,) = struct.unpack(endian + "I", raw[:4])
        if magic in (MAGIC_USEC, MAGIC_NSEC):
            break
    else:
        raise PcapFormatError(f"{path}: not a classic pcap file")
    vmaj, vmin, _zone, _sigfigs, snaplen, network = struct.unpack(endian + "HHiIII", raw[4:24])
    pf = PcapFile(
        linktype=network & 0x0FFFFFFF,
        snaplen=snaplen,
        nsec=magic == MAGIC_NSEC,
        endian=endian,
        version=(vmaj, vmin),
    )
    off = 24
    while off < len(raw):
        if off + 16 > len(raw):
            raise PcapFormatError(f"{path}: record header cut short at offset {off}")
        ts_sec, ts_frac, incl, orig = struct.unpack(endian + "IIII", raw[off : off + 16])
        off += 16
        if off + incl > len(raw):
            raise PcapFormatError(f"{path}: packet data cut short at offset {off}")
        pf.records.append(Record(ts_sec, ts_frac, orig, raw[off : off + incl]))
        off += incl
    return pf


def write_pcap(path: str | Path, pf: PcapFile) -> None:
    """Write `pf` as a classic pcap file in its own byte order and timestamp unit."""
    e = pf.endian
    out = bytearray()
    magic = MAGIC_NSEC if pf.nsec else MAGIC_USEC
    out += struct.pack(e + "IHHiIII", magic, pf.version[0], pf.version[1], 0, 0, pf.snaplen,
                       pf.linktype)  # fmt: skip
    for r in pf.records:
        out += struct.pack(e + "IIII", r.ts_sec, r.ts_frac, len(r.data), r.orig_len)
        out += r.data
    Path(path).write_bytes(bytes(out))


# --------------------------------------------------------------------------------------------
# decoding


@dataclass
class TcpPacket:
    """A decoded TCP segment. `frame` is 1-based, as in Wireshark."""

    frame: int
    ts_ns: int
    src: str
    sport: int
    dst: str
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    payload_len: int

    @property
    def syn(self) -> bool:
        return bool(self.flags & TCP_SYN)

    @property
    def fin(self) -> bool:
        return bool(self.flags & TCP_FIN)

    @property
    def rst(self) -> bool:
        return bool(self.flags & TCP_RST)

    @property
    def has_ack(self) -> bool:
        return bool(self.flags & TCP_ACK)

    @property
    def pure_syn(self) -> bool:
        return self.syn and not self.has_ack

    @property
    def synack(self) -> bool:
        return self.syn and self.has_ack

    @property
    def pure_ack(self) -> bool:
        return (
            self.has_ack
            and self.payload_len == 0
            and not (self.flags & (TCP_SYN | TCP_FIN | TCP_RST))
        )

    @property
    def seg_len(self) -> int:
        """Sequence numbers covered: payload plus one phantom each for SYN and FIN."""
        return self.payload_len + int(self.syn) + int(self.fin)

    @property
    def src_ep(self) -> str:
        return endpoint(self.src, self.sport)

    @property
    def dst_ep(self) -> str:
        return endpoint(self.dst, self.dport)


def endpoint(ip: str, port: int) -> str:
    """Format an endpoint as capgap prints it: 192.0.2.1:80 or [2001:db8::1]:80."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _ip_payload(linktype: int, data: bytes) -> bytes | None:
    if linktype == LINKTYPE_ETHERNET:
        if len(data) < 14:
            return None
        off = 12
        (etype,) = struct.unpack("!H", data[off : off + 2])
        off += 2
        while etype in (0x8100, 0x88A8, 0x9100):
            if len(data) < off + 4:
                return None
            (etype,) = struct.unpack("!H", data[off + 2 : off + 4])
            off += 4
        return data[off:] if etype in (0x0800, 0x86DD) else None
    if linktype == LINKTYPE_NULL:
        return data[4:] if len(data) > 4 else None
    if linktype in (LINKTYPE_RAW, 12, 14, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return data
    if linktype == LINKTYPE_LINUX_SLL:
        return data[16:] if len(data) > 16 else None
    if linktype == LINKTYPE_LINUX_SLL2:
        return data[20:] if len(data) > 20 else None
    return None


def decode_tcp(linktype: int, data: bytes, frame: int, ts_ns: int) -> TcpPacket | None:
    """Decode one frame to a TcpPacket, or None when it is not a complete-header TCP segment."""
    ip = _ip_payload(linktype, data)
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4:
        if len(ip) < 20:
            return None
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        frag = struct.unpack("!H", ip[6:8])[0]
        if ip[9] != 6 or (frag & 0x1FFF) != 0 or ihl < 20:
            return None
        src = str(ipaddress.IPv4Address(ip[12:16]))
        dst = str(ipaddress.IPv4Address(ip[16:20]))
        l4 = ip[ihl:]
        wire_l4 = (total - ihl) if total else len(l4)
    elif version == 6:
        if len(ip) < 40:
            return None
        plen = struct.unpack("!H", ip[4:6])[0]
        nxt = ip[6]
        src = str(ipaddress.IPv6Address(ip[8:24]))
        dst = str(ipaddress.IPv6Address(ip[24:40]))
        off = 40
        ext = 0
        while nxt in (0, 43, 60, 44):
            if len(ip) < off + 8:
                return None
            if nxt == 44:
                if struct.unpack("!H", ip[off + 2 : off + 4])[0] & 0xFFF8:
                    return None  # not the first fragment
                hlen = 8
            else:
                hlen = (ip[off + 1] + 1) * 8
            nxt = ip[off]
            off += hlen
            ext += hlen
        if nxt != 6:
            return None
        l4 = ip[off:]
        wire_l4 = (plen - ext) if plen else len(l4)
    else:
        return None
    if len(l4) < 20:
        return None
    sport, dport, seq, ack, off_flags, window = struct.unpack("!HHIIHH", l4[:16])
    doff = (off_flags >> 12) * 4
    if doff < 20 or doff > wire_l4:
        return None
    return TcpPacket(
        frame=frame,
        ts_ns=ts_ns,
        src=src,
        sport=sport,
        dst=dst,
        dport=dport,
        seq=seq,
        ack=ack,
        flags=off_flags & 0x3F,
        window=window,
        payload_len=wire_l4 - doff,
    )


def decode_file(pf: PcapFile) -> list[TcpPacket | None]:
    """One entry per record (None for a record that is not TCP)."""
    return [decode_tcp(pf.linktype, r.data, i + 1, pf.ts_ns(r)) for i, r in enumerate(pf.records)]


# --------------------------------------------------------------------------------------------
# sessions


@dataclass
class Session:
    """A TCP session instance that starts with a pure SYN (enough for the project's own
    recordings, where every session starts inside the capture)."""

    client: str
    server: str
    packets: list[TcpPacket] = field(default_factory=list)
    client_isn: int = 0
    server_isn: int | None = None
    closed: bool = False  # a RST, or a FIN from both sides, after the SYN-ACK

    @property
    def syn_frame(self) -> int:
        return next(p.frame for p in self.packets if p.pure_syn)

    def direction(self, p: TcpPacket) -> str:
        return "c2s" if p.src_ep == self.client else "s2c"

    def isn(self, d: str) -> int | None:
        return self.client_isn if d == "c2s" else self.server_isn

    def rel_seq(self, p: TcpPacket) -> int:
        base = self.isn(self.direction(p))
        return (p.seq - (base or 0)) & SEQ_MASK

    def rel_end(self, p: TcpPacket) -> int:
        return self.rel_seq(p) + p.seg_len

    def rel_ack(self, p: TcpPacket) -> int | None:
        """The ACK number relative to the other direction's ISN (None without the ACK flag)."""
        if not p.has_ack:
            return None
        other = "s2c" if self.direction(p) == "c2s" else "c2s"
        base = self.isn(other)
        return None if base is None else (p.ack - base) & SEQ_MASK


def split_sessions(packets: list[TcpPacket | None]) -> list[Session]:
    """Group packets into session instances (a subset of counting-rules.md section 2: a pure SYN
    opens an instance when none is open for the key, its ISN differs, or the open one closed)."""
    open_by_key: dict[tuple[str, str], Session] = {}
    sessions: list[Session] = []
    fins: dict[int, set[str]] = {}
    for p in packets:
        if p is None:
            continue
        key = tuple(sorted((p.src_ep, p.dst_ep)))
        s = open_by_key.get(key)
        if p.pure_syn and (s is None or s.client_isn != p.seq or s.closed):
            s = Session(client=p.src_ep, server=p.dst_ep, client_isn=p.seq)
            open_by_key[key] = s
            sessions.append(s)
        if s is None:
            continue  # mid-stream packets before any SYN
        if p.synack and p.src_ep == s.server and s.server_isn is None:
            s.server_isn = p.seq
        s.packets.append(p)
        if p.rst and s.server_isn is not None:
            s.closed = True
        if p.fin:
            fins.setdefault(id(s), set()).add(p.src_ep)
            if len(fins[id(s)]) == 2:
                s.closed = True
    return sessions


def holes(s: Session) -> dict[str, list[tuple[int, int]]]:
    """Sequence ranges never seen in each direction, below what was sent or acknowledged
    (relative to the ISN). A complete recording has none."""
    out: dict[str, list[tuple[int, int]]] = {}
    for d in ("c2s", "s2c"):
        if s.isn(d) is None:
            continue
        spans = []
        top = 0
        for p in s.packets:
            if s.direction(p) == d and not p.rst:
                spans.append((s.rel_seq(p), s.rel_end(p)))
                top = max(top, s.rel_end(p) if p.seg_len else s.rel_seq(p))
            elif s.direction(p) != d and not p.rst:
                ra = s.rel_ack(p)
                if ra is not None:
                    top = max(top, ra)
        spans.sort()
        cur = 0
        gaps = []
        for b, e in spans:
            if b > cur:
                gaps.append((cur, b))
            cur = max(cur, e)
        if top > cur:
            gaps.append((cur, top))
        if gaps:
            out[d] = gaps
    return out


# --------------------------------------------------------------------------------------------
# damage: one action per session, with its expected verdicts

# action -> (bad by default (counting-rules.md section 6 `confirmed`), bad in wireshark mode,
#            the counting-rules.md section 8 row it exercises)
ACTIONS: dict[str, tuple[bool, bool, str]] = {
    "none": (False, False, "row 1: clean session"),
    "drop_data_acked": (True, True, "row 2/24: data segment missed, later ACK seen"),
    "drop_data_and_ack": (True, True, "row 3: data segment and its ACK missed"),
    "drop_pure_ack": (False, False, "row 4: only a pure ACK missed"),
    "swap_adjacent": (False, True, "rows 6/8: capture reordering within the reorder window"),
    "drop_synack": (True, False, "row 27: SYN-ACK missed, handshake ACK seen"),
    "drop_fin_acked": (True, True, "row 28: FIN missed, its ACK seen"),
}


def _overlaps_other(s: Session, p: TcpPacket) -> bool:
    """True when another packet of p's direction covers any of p's sequence numbers."""
    d = s.direction(p)
    b, e = s.rel_seq(p), s.rel_end(p)
    for q in s.packets:
        if q is p or s.direction(q) != d or q.rst or q.seg_len == 0:
            continue
        if s.rel_seq(q) < e and b < s.rel_end(q):
            return True
    return False


def _later_acks(s: Session, p: TcpPacket, upto: int) -> list[TcpPacket]:
    """Non-RST packets of the other direction after p whose ACK covers everything below upto."""
    d = s.direction(p)
    return [
        q
        for q in s.packets
        if q.frame > p.frame and s.direction(q) != d and not q.rst and (s.rel_ack(q) or 0) >= upto
    ]


def candidates(s: Session, action: str) -> list[list[TcpPacket]]:
    """Ways to apply `action` to `s`: each a list of packets (for swap_adjacent: the pair)."""
    if s.server_isn is None and action != "none":
        return []  # refused or unanswered connect: nothing to damage
    data = {
        d: [p for p in s.packets if s.direction(p) == d and p.payload_len > 0 and not p.rst]
        for d in ("c2s", "s2c")
    }
    out: list[list[TcpPacket]] = []
    if action == "none":
        return [[]]
    if action in ("drop_data_acked", "drop_data_and_ack"):
        for d in ("c2s", "s2c"):
            segs = data[d]
            for p in segs[1:-1]:  # mid segments: a later segment of the same direction exists
                if p.syn or p.fin or _overlaps_other(s, p):
                    continue
                acks = _later_acks(s, p, s.rel_end(p))
                if action == "drop_data_acked" and acks:
                    out.append([p])
                elif action == "drop_data_and_ack" and len(acks) >= 2 and acks[0].pure_ack:
                    out.append([p, acks[0]])
    elif action == "drop_pure_ack":
        out = [[p] for p in s.packets if p.pure_ack]
    elif action == "swap_adjacent":
        # Two consecutive data segments of one direction, at most 1 ms apart; only packets of
        # the other direction (ACKs) may lie between them. After the swap the second is seen
        # first, and the first fills the hole within the 3 ms reorder window.
        pos = {p.frame: i for i, p in enumerate(s.packets)}
        for d in ("c2s", "s2c"):
            for a, b in zip(data[d], data[d][1:]):
                if (a.flags | b.flags) & (TCP_SYN | TCP_FIN | TCP_RST):
                    continue
                if s.rel_seq(b) != s.rel_end(a) or b.ts_ns - a.ts_ns > 1_000_000:
                    continue
                between = s.packets[pos[a.frame] + 1 : pos[b.frame]]
                if any(s.direction(q) == d for q in between):
                    continue
                if _overlaps_other(s, a) or _overlaps_other(s, b):
                    continue
                out.append([a, b])
    elif action == "drop_synack":
        synacks = [p for p in s.packets if p.synack]
        if len(synacks) == 1:
            sa = synacks[0]
            follow = [
                q
                for q in s.packets
                if q.frame > sa.frame
                and s.direction(q) == "c2s"
                and not q.rst
                and s.rel_ack(q) == 1
            ]
            if follow:
                out.append([sa])
    elif action == "drop_fin_acked":
        for d in ("c2s", "s2c"):
            fins = [p for p in s.packets if s.direction(p) == d and p.fin and not p.rst]
            if len(fins) != 1 or fins[0].payload_len != 0:
                continue
            f = fins[0]
            if _later_acks(s, f, s.rel_end(f)):
                out.append([f])
    return out


def damage(pf: PcapFile, seed: int, keep_fraction: float = 0.3) -> tuple[PcapFile, list[dict]]:
    """Choose one action per session (seeded), apply them, and return the new capture and the
    per-session plan (frames of the ORIGINAL capture)."""
    rng = random.Random(seed)
    packets = decode_file(pf)
    sessions = split_sessions(packets)
    kinds = [k for k in ACTIONS if k != "none"]
    order = list(range(len(sessions)))
    rng.shuffle(order)
    plan: dict[int, tuple[str, list[TcpPacket]]] = {}
    cycle: list[str] = []
    for si in order:
        s = sessions[si]
        if rng.random() < keep_fraction:
            plan[si] = ("none", [])
            continue
        if not cycle:
            cycle = kinds[:]
            rng.shuffle(cycle)
        chosen = None
        # The next kind of the cycle that applies to this session; when none of the kinds left
        # applies (a rare kind can stall the cycle), any kind that does.
        for k in list(cycle) + rng.sample(kinds, len(kinds)):
            opts = candidates(s, k)
            if opts:
                chosen = (k, rng.choice(opts))
                if k in cycle:
                    cycle.remove(k)
                break
        plan[si] = chosen or ("none", [])

    drop_frames: set[int] = set()
    swaps: list[tuple[int, int]] = []
    plans: list[dict] = []
    for si, s in enumerate(sessions):
        kind, pkts = plan[si]
        if kind == "swap_adjacent":
            swaps.append((pkts[0].frame, pkts[1].frame))
        else:
            drop_frames.update(p.frame for p in pkts)
        bad, bad_ws, row = ACTIONS[kind]
        plans.append(
            {
                "client": s.client,
                "server": s.server,
                "orig_syn_frame": s.syn_frame,
                "action": kind,
                "semantics": row,
                "bad_expected": bad,
                "bad_wireshark_expected": bad_ws,
                "touched": [
                    {
                        "orig_frame": p.frame,
                        "direction": s.direction(p),
                        "rel_seq": s.rel_seq(p),
                        "payload_len": p.payload_len,
                        "flags": flag_string(p.flags),
                    }
                    for p in pkts
                ],
            }
        )

    # Swaps exchange the two records' contents; each slot keeps its timestamp, so time stays
    # monotonic in capture order, as a reordering tap would record it.
    recs = [Record(r.ts_sec, r.ts_frac, r.orig_len, r.data) for r in pf.records]
    for fa, fb in swaps:
        ra, rb = recs[fa - 1], recs[fb - 1]
        ra.data, rb.data = rb.data, ra.data
        ra.orig_len, rb.orig_len = rb.orig_len, ra.orig_len
    new = PcapFile(pf.linktype, pf.snaplen, pf.nsec, pf.endian, pf.version)
    new.records = [r for i, r in enumerate(recs) if i + 1 not in drop_frames]
    return new, plans


def flag_string(flags: int) -> str:
    names = [(TCP_SYN, "S"), (TCP_FIN, "F"), (TCP_RST, "R"), (0x08, "P"), (TCP_ACK, ".")]
    return "".join(n for bit, n in names if flags & bit)


def build_truth(new: PcapFile, plans: list[dict], capture_name: str, seed: int) -> dict:
    """Join the plan (made on the original capture) to the sessions of the damaged one."""
    sessions = split_sessions(decode_file(new))
    by_client: dict[str, list[Session]] = {}
    for s in sessions:
        by_client.setdefault(s.client, []).append(s)
    rows = []
    for pl in plans:
        match = by_client.get(pl["client"], [])
        if len(match) != 1:
            raise SystemExit(f"cannot map session {pl['client']} to the damaged capture")
        s = match[0]
        row = {
            "client": s.client,
            "server": s.server,
            "syn_frame": s.syn_frame,
            "packets": len(s.packets),
        }
        row.update({k: v for k, v in pl.items() if k not in ("client", "server")})
        rows.append(row)
    rows.sort(key=lambda r: r["syn_frame"])
    return {
        "capture": capture_name,
        "seed": seed,
        "note": "bad_expected follows from the action applied to each session "
        "(counting-rules.md section 6/8), never from capgap's output",
        "totals": {
            "total_sessions": len(rows),
            "bad_sessions": sum(r["bad_expected"] for r in rows),
            "bad_sessions_wireshark": sum(r["bad_wireshark_expected"] for r in rows),
        },
        "sessions": rows,
    }


# --------------------------------------------------------------------------------------------
# command line


def _cmd_drop(args: argparse.Namespace) -> int:
    pf = read_pcap(args.input)
    new, plans = damage(pf, args.seed, args.keep_fraction)
    write_pcap(args.output, new)
    truth = build_truth(new, plans, Path(args.output).name, args.seed)
    text = json.dumps(truth, indent=1) + "\n"
    if args.truth:
        Path(args.truth).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    pf = read_pcap(args.input)
    bad = 0
    for s in split_sessions(decode_file(pf)):
        h = holes(s)
        if h:
            bad += 1
            print(f"{s.client} -> {s.server} (SYN frame {s.syn_frame}): holes {h}")
    print(f"{args.input}: {bad} session(s) with sequence holes")
    return 1 if bad else 0


def _cmd_sessions(args: argparse.Namespace) -> int:
    pf = read_pcap(args.input)
    for s in split_sessions(decode_file(pf)):
        flags = "".join(sorted({flag_string(p.flags) for p in s.packets if p.rst or p.fin}))
        print(f"{s.syn_frame:6d} {s.client:>28} -> {s.server:<28} {len(s.packets):5d} {flags}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("drop", help="damage a capture and write its ground truth")
    d.add_argument("input")
    d.add_argument("output")
    d.add_argument("--seed", type=int, required=True)
    d.add_argument("--truth", help="where to write the ground-truth JSON (default: stdout)")
    d.add_argument("--keep-fraction", type=float, default=0.3,
                   help="share of sessions left untouched (default 0.3)")  # fmt: skip
    d.set_defaults(func=_cmd_drop)
    c = sub.add_parser("check", help="exit 1 when a session has sequence holes")
    c.add_argument("input")
    c.set_defaults(func=_cmd_check)
    s = sub.add_parser("sessions", help="list the sessions")
    s.add_argument("input")
    s.set_defaults(func=_cmd_sessions)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
