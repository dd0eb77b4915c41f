#!/usr/bin/env python3
"""Plant one capture-quality cause in a recorded capture and write its ground truth.

A damage plan takes a complete recording (record_loopback.py --profile load, or span.py
without a limit) and reproduces what a real capture set-up does to it, then writes the damaged
capture and a JSON ground truth: the plan, its parameters, every packet removed, added or
changed (frames of the ORIGINAL capture), the sessions it made bad, and the diagnosis finding it
must produce with the breakdown rows that show it (docs/diagnosis.md). Expectations come from
what the plan did, never from capgap.

Plans (one per run):
    load          drop data segments only while the bit (or packet) rate over a sliding window
                  is above a threshold (an oversubscribed mirror port, microbursts)
    server        drop data segments of one server's sessions only, both directions
    s2c           drop server-to-client data segments only, every session
    one_direction remove one direction entirely (server to client by default) for the sessions
                  of one server (asymmetric routing, one tap leg missing)
    vlan_dup      tag two servers' traffic with 802.1Q VLANs and capture every packet of one
                  VLAN twice (SPAN of routed VLANs)
    snaplen       cut every packet at a snap length (payload lost, headers kept)
    skew          two halves of the traffic (by client prefix) merged in arrival order, one
                  half stamped by a clock that runs ahead (merged ports with skewed clocks)
    host_drops    the capture host drops packets and says so: pcapng with an Interface
                  Statistics Block (isb_ifdrop / isb_osdrop) and/or EPB drop counts

Usage:
    damage.py PLAN IN.pcap OUT [--truth OUT.truth.json] [--seed N] [plan options]

Only the Python standard library is used (with pcaptools.py beside this file).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pcaptools  # noqa: E402
from pcaptools import PcapFile, Record, Session, TcpPacket  # noqa: E402

PLANS = ("load", "server", "s2c", "one_direction", "vlan_dup", "snaplen", "skew", "host_drops")

# The finding each plan must produce (docs/diagnosis.md).
FINDING = {
    "load": "load_correlated_loss",
    "server": "loss_concentrated",
    "s2c": "direction_lossier",
    "one_direction": "one_direction_missing",
    "vlan_dup": "duplicates",
    "snaplen": "truncated_payload",
    "skew": "timestamps_out_of_order",
    "host_drops": "capture_host_drops",
}

# Plans after which the capture misses data (sessions become bad).
LOSSY = {"load", "server", "s2c", "one_direction", "host_drops"}


# --------------------------------------------------------------------------------------------
# the capture as packets with their sessions


@dataclass
class OutPacket:
    """One record of the damaged capture: time, bytes, on-wire length, and where it came from."""

    ts_ns: int
    data: bytes
    orig_len: int
    orig_frame: int  # 1-based frame of the original capture
    dropcount: int = 0  # pcapng EPB drop count: packets lost just before this one


@dataclass
class Capture:
    pf: PcapFile
    packets: list[TcpPacket | None]
    sessions: list[Session]
    session_of: dict[int, Session] = field(default_factory=dict)  # frame -> session

    @classmethod
    def load(cls, path: str | Path) -> Capture:
        pf = pcaptools.read_pcap(path)
        packets = pcaptools.decode_file(pf)
        sessions = pcaptools.split_sessions(packets)
        cap = cls(pf, packets, sessions)
        for s in sessions:
            for p in s.packets:
                cap.session_of[p.frame] = s
        return cap

    def out_packets(self) -> list[OutPacket]:
        return [
            OutPacket(self.pf.ts_ns(r), r.data, r.orig_len, i + 1)
            for i, r in enumerate(self.pf.records)
        ]


def server_ip(s: Session) -> str:
    ep = s.server
    return ep[1 : ep.index("]")] if ep.startswith("[") else ep.rsplit(":", 1)[0]


def client_ip(s: Session) -> str:
    ep = s.client
    return ep[1 : ep.index("]")] if ep.startswith("[") else ep.rsplit(":", 1)[0]


def client_prefix(s: Session, v4: int = 24, v6: int = 64) -> str:
    ip = ipaddress.ip_address(client_ip(s))
    return str(ipaddress.ip_network(f"{ip}/{v4 if ip.version == 4 else v6}", strict=False))


def droppable(s: Session, direction: str | None = None) -> list[TcpPacket]:
    """Data segments whose loss the capture proves: payload, no SYN/FIN/RST, not the first or
    last data segment of their direction, overlapping no other segment, and covered by a later
    ACK of the other direction (counting-rules.md section 8 row 2: acked_unseen)."""
    if s.server_isn is None:
        return []
    out = []
    # Highest ACK (of each direction's space) carried by a non-RST packet after position i.
    n = len(s.packets)
    later_ack = {"c2s": [0] * (n + 1), "s2c": [0] * (n + 1)}
    for i in range(n - 1, -1, -1):
        q = s.packets[i]
        for d in ("c2s", "s2c"):
            later_ack[d][i] = later_ack[d][i + 1]
        ra = None if q.rst else s.rel_ack(q)
        if ra is not None:
            space = "s2c" if s.direction(q) == "c2s" else "c2s"
            later_ack[space][i] = max(later_ack[space][i], ra)
    pos = {q.frame: i for i, q in enumerate(s.packets)}
    for d in ("c2s", "s2c"):
        if direction and d != direction:
            continue
        segs = [p for p in s.packets if s.direction(p) == d and p.seg_len > 0 and not p.rst]
        spans = sorted((s.rel_seq(p), s.rel_end(p), p.frame) for p in segs)
        overlapping: set[int] = set()
        for (_b1, e1, f1), (b2, _e2, f2) in zip(spans, spans[1:]):
            if b2 < e1:
                overlapping.update((f1, f2))
        data = [p for p in segs if p.payload_len > 0]
        for p in data[1:-1]:
            if p.syn or p.fin or p.frame in overlapping:
                continue
            if later_ack[d][pos[p.frame] + 1] >= s.rel_end(p):
                out.append(p)
    return out


def busiest_server(cap: Capture, rank: int = 1) -> str:
    """The server endpoint with the rank-th most sessions (0 = most); ties by name."""
    counts: dict[str, int] = {}
    for s in cap.sessions:
        if s.server_isn is not None:
            counts[s.server] = counts.get(s.server, 0) + 1
    order = sorted(counts, key=lambda k: (-counts[k], k))
    if not order:
        raise SystemExit("no answered session in the capture")
    return order[min(rank, len(order) - 1)]


# --------------------------------------------------------------------------------------------
# rates


def window_rates(cap: Capture, window_ns: int, unit: str = "bits") -> list[float]:
    """Per frame, the rate over the window ending at that frame's time, that frame included:
    on-wire bits per second, or packets per second when `unit` is "packets"."""
    times = [cap.pf.ts_ns(r) for r in cap.pf.records]
    bits = [r.orig_len * 8 if unit == "bits" else 1 for r in cap.pf.records]
    out = []
    lo = 0
    acc = 0
    for i, t in enumerate(times):
        acc += bits[i]
        while times[lo] <= t - window_ns:
            acc -= bits[lo]
            lo += 1
        out.append(acc * 1e9 / window_ns)
    return out


# --------------------------------------------------------------------------------------------
# plans: each returns the damaged packets and the plan's own part of the truth


def _drop(cap: Capture, chosen: list[TcpPacket]) -> tuple[list[OutPacket], set[int], list[dict]]:
    frames = {p.frame for p in chosen}
    rows = []
    for p in sorted(chosen, key=lambda q: q.frame):
        s = cap.session_of[p.frame]
        rows.append(
            {
                "orig_frame": p.frame,
                "client": s.client,
                "server": s.server,
                "direction": s.direction(p),
                "rel_seq": s.rel_seq(p),
                "payload_len": p.payload_len,
            }
        )
    out = [op for op in cap.out_packets() if op.orig_frame not in frames]
    return out, frames, rows


def plan_load(cap: Capture, rng: random.Random, a: argparse.Namespace) -> tuple[list, dict]:
    window_ns = int(a.window_ms * 1e6)
    rates = window_rates(cap, window_ns, a.rate_unit)
    threshold = a.threshold
    if threshold is None:
        # Four times the median rate over time (windows end to end): most of the time the
        # traffic is slow and stays under it, the fast waves go far above.
        ends: dict[int, float] = {}
        t0 = cap.pf.ts_ns(cap.pf.records[0])
        for r, rate in zip(cap.pf.records, rates):
            ends[(cap.pf.ts_ns(r) - t0) // window_ns] = rate
        per_window = sorted(ends.get(k, 0.0) for k in range(max(ends) + 1))
        threshold = 4 * per_window[len(per_window) // 2]
    chosen = []
    for s in cap.sessions:
        for p in droppable(s):
            if rates[p.frame - 1] > threshold and rng.random() < a.probability:
                chosen.append(p)
    out, _, rows = _drop(cap, chosen)
    for r in rows:
        r["rate"] = rates[r["orig_frame"] - 1]
    above = sum(1 for r in rates if r > threshold)
    return out, {
        "params": {
            "threshold": threshold,
            "rate_unit": a.rate_unit,
            "window_ms": a.window_ms,
            "probability": a.probability,
        },
        "rows": [],
        "frames_above_threshold": above,
        "dropped": rows,
    }


def plan_server(cap: Capture, rng: random.Random, a: argparse.Namespace) -> tuple[list, dict]:
    server = a.server or busiest_server(cap)
    chosen = [
        p
        for s in cap.sessions
        if s.server == server
        for p in droppable(s)
        if rng.random() < a.probability
    ]
    out, _, rows = _drop(cap, chosen)
    return out, {
        "params": {"server": server, "probability": a.probability},
        "rows": [{"table": "server", "group": server}],
        "dropped": rows,
    }


def plan_s2c(cap: Capture, rng: random.Random, a: argparse.Namespace) -> tuple[list, dict]:
    chosen = [p for s in cap.sessions for p in droppable(s, "s2c") if rng.random() < a.probability]
    out, _, rows = _drop(cap, chosen)
    return out, {
        "params": {"direction": "s2c", "probability": a.probability},
        "rows": [{"table": "direction", "group": "s2c"}],
        "dropped": rows,
    }


def plan_one_direction(
    cap: Capture, rng: random.Random, a: argparse.Namespace
) -> tuple[list, dict]:
    server = a.server or busiest_server(cap)
    chosen = [
        p
        for s in cap.sessions
        if s.server == server and s.server_isn is not None
        for p in s.packets
        if s.direction(p) == a.direction
    ]
    out, frames, _ = _drop(cap, chosen)
    hit = sorted({cap.session_of[f].client for f in frames})
    return out, {
        "params": {"server": server, "direction": a.direction},
        "rows": [{"table": "server", "group": server}],
        "removed_packets": len(frames),
        "sessions_one_direction": hit,
    }


def _tag(data: bytes, vlan: int) -> bytes:
    return data[:12] + struct.pack("!HH", 0x8100, vlan & 0x0FFF) + data[12:]


def _routed_copy(data: bytes) -> bytes:
    """The frame as the routed VLAN's SPAN source sees it: TTL (hop limit) one lower, IPv4
    header checksum fixed; the TCP segment, checksum included, is unchanged."""
    off = 14
    while struct.unpack("!H", data[off - 2 : off])[0] in (0x8100, 0x88A8):
        off += 4
    b = bytearray(data)
    if b[off] >> 4 == 4:
        b[off + 8] = max(1, b[off + 8] - 1)
        ihl = (b[off] & 0x0F) * 4
        b[off + 10 : off + 12] = b"\0\0"
        total = sum(struct.unpack(f"!{ihl // 2}H", bytes(b[off : off + ihl])))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        b[off + 10 : off + 12] = struct.pack("!H", ~total & 0xFFFF)
    elif b[off] >> 4 == 6:
        b[off + 7] = max(1, b[off + 7] - 1)
    return bytes(b)


def plan_vlan_dup(cap: Capture, rng: random.Random, a: argparse.Namespace) -> tuple[list, dict]:
    if cap.pf.linktype != pcaptools.LINKTYPE_ETHERNET:
        raise SystemExit("vlan_dup needs an Ethernet capture")
    tagged = {busiest_server(cap, 0): a.vlan_a, busiest_server(cap, 1): a.vlan_dup}
    out = []
    dups = 0
    for op in cap.out_packets():
        s = cap.session_of.get(op.orig_frame)
        vlan = tagged.get(s.server) if s else None
        if vlan is None:
            out.append(op)
            continue
        data = _tag(op.data, vlan)
        out.append(OutPacket(op.ts_ns, data, op.orig_len + 4, op.orig_frame))
        if vlan == a.vlan_dup:
            copy = _routed_copy(data)
            out.append(
                OutPacket(op.ts_ns + a.dup_delay_us * 1000, copy, op.orig_len + 4, op.orig_frame)
            )
            dups += 1
    out.sort(key=lambda o: o.ts_ns)  # stable: a copy stays after its original
    return out, {
        "params": {
            "vlans": {v: k for k, v in tagged.items()},
            "duplicated_vlan": a.vlan_dup,
            "dup_delay_us": a.dup_delay_us,
        },
        "rows": [{"table": "vlan", "group": str(a.vlan_dup)}],
        "duplicated_packets": dups,
    }


def plan_snaplen(cap: Capture, rng: random.Random, a: argparse.Namespace) -> tuple[list, dict]:
    out = []
    cut = 0
    for op in cap.out_packets():
        if len(op.data) > a.snaplen:
            cut += 1
        out.append(OutPacket(op.ts_ns, op.data[: a.snaplen], op.orig_len, op.orig_frame))
    return out, {
        "params": {"snaplen": a.snaplen},
        "rows": [],
        "truncated_packets": cut,
    }


def plan_skew(cap: Capture, rng: random.Random, a: argparse.Namespace) -> tuple[list, dict]:
    prefixes = sorted({client_prefix(s) for s in cap.sessions})
    if len(prefixes) < 2:
        raise SystemExit("skew needs clients in two prefixes (record_loopback.py --profile load)")
    ahead = a.prefix or prefixes[-1]
    shift = int(a.skew_ms * 1e6)
    out = []
    moved = 0
    steps_back = 0
    prev = None
    for op in cap.out_packets():
        s = cap.session_of.get(op.orig_frame)
        ts = op.ts_ns
        if s is not None and client_prefix(s) == ahead:
            ts += shift
            moved += 1
        if prev is not None and ts < prev:
            steps_back += 1
        prev = ts
        out.append(OutPacket(ts, op.data, op.orig_len, op.orig_frame))
    return out, {
        "params": {"prefix_ahead": ahead, "skew_ms": a.skew_ms, "order": "arrival"},
        "rows": [],
        "shifted_packets": moved,
        "timestamp_steps_back": steps_back,
    }


def plan_host_drops(cap: Capture, rng: random.Random, a: argparse.Namespace) -> tuple[list, dict]:
    pool = [p for s in cap.sessions for p in droppable(s)]
    n = max(1, round(len(pool) * a.probability))
    chosen = rng.sample(pool, min(n, len(pool)))
    out, frames, rows = _drop(cap, chosen)
    # EPB drop count: the packets lost between the one before and this one.
    pending = 0
    kept = {op.orig_frame: op for op in out}
    for f in range(1, len(cap.pf.records) + 1):
        if f in frames:
            pending += 1
        elif pending:
            kept[f].dropcount = pending
            pending = 0
    # The ISB splits the drops between the interface (isb_ifdrop) and the operating system
    # (isb_osdrop), so that a reader must add both.
    n = len(frames) if a.report in ("isb", "both") else 0
    return out, {
        "params": {"report": a.report, "probability": a.probability},
        "rows": [],
        "drops": len(frames),
        "isb": {"ifrecv": len(cap.pf.records), "ifdrop": (n + 1) // 2, "osdrop": n // 2},
        "epb_dropcount_total": len(frames) if a.report in ("epb", "both") else 0,
        "dropped": rows,
    }


PLAN_FUNCS = {
    "load": plan_load,
    "server": plan_server,
    "s2c": plan_s2c,
    "one_direction": plan_one_direction,
    "vlan_dup": plan_vlan_dup,
    "snaplen": plan_snaplen,
    "skew": plan_skew,
    "host_drops": plan_host_drops,
}


# --------------------------------------------------------------------------------------------
# writers


def write_pcap(path: str | Path, src: PcapFile, pkts: list[OutPacket], snaplen: int) -> None:
    pf = PcapFile(src.linktype, snaplen, src.nsec, src.endian, src.version)
    div = 1 if src.nsec else 1000
    for op in pkts:
        sec, frac = divmod(op.ts_ns, 1_000_000_000)
        pf.records.append(Record(sec, frac // div, op.orig_len, op.data))
    pcaptools.write_pcap(path, pf)


def _opt(code: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\0" * pad


def _block(btype: int, body: bytes) -> bytes:
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(
    path: str | Path,
    src: PcapFile,
    pkts: list[OutPacket],
    snaplen: int,
    isb: dict | None,
    epb_drops: bool,
) -> None:
    """Little-endian pcapng: one section, one interface (microsecond or nanosecond
    if_tsresol as the source), the packets as EPBs (with epb_dropcount when asked), and an
    Interface Statistics Block at the end when `isb` is given."""
    unit = 1 if src.nsec else 1000
    out = bytearray()
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _opt(0, b"")
    out += _block(0x0A0D0D0A, shb)
    idb = struct.pack("<HHI", src.linktype, 0, snaplen)
    idb += _opt(2, b"damaged0") + _opt(9, bytes([9 if src.nsec else 6])) + _opt(0, b"")
    out += _block(1, idb)
    for op in pkts:
        ts = op.ts_ns // unit
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(op.data), op.orig_len)
        body += op.data + b"\0" * ((-len(op.data)) % 4)
        if epb_drops and op.dropcount:
            body += _opt(4, struct.pack("<Q", op.dropcount)) + _opt(0, b"")
        out += _block(6, body)
    if isb is not None:
        first = pkts[0].ts_ns // unit if pkts else 0
        last = pkts[-1].ts_ns // unit if pkts else 0
        body = struct.pack("<III", 0, last >> 32, last & 0xFFFFFFFF)
        body += _opt(2, struct.pack("<II", first >> 32, first & 0xFFFFFFFF))
        body += _opt(3, struct.pack("<II", last >> 32, last & 0xFFFFFFFF))
        body += _opt(4, struct.pack("<Q", isb["ifrecv"]))
        body += _opt(5, struct.pack("<Q", isb["ifdrop"]))
        body += _opt(7, struct.pack("<Q", isb["osdrop"]))
        body += _opt(0, b"")
        out += _block(5, body)
    Path(path).write_bytes(bytes(out))


# --------------------------------------------------------------------------------------------
# the whole run


def bad_sessions(cap: Capture, part: dict) -> list[str]:
    """Clients of the sessions the plan made bad (a data segment missing, or a direction)."""
    if "sessions_one_direction" in part:
        return part["sessions_one_direction"]
    return sorted({r["client"] for r in part.get("dropped", [])})


def apply(plan: str, src: str | Path, dst: str | Path, args: argparse.Namespace) -> dict:
    """Apply `plan` to the capture `src`, write the damaged capture to `dst`, return the truth."""
    cap = Capture.load(src)
    rng = random.Random(args.seed)
    pkts, part = PLAN_FUNCS[plan](cap, rng, args)
    snaplen = args.snaplen if plan == "snaplen" else cap.pf.snaplen
    fmt = "pcapng" if plan == "host_drops" else "pcap"
    if fmt == "pcapng":
        write_pcapng(
            dst,
            cap.pf,
            pkts,
            snaplen,
            part["isb"] if args.report in ("isb", "both") else None,
            args.report in ("epb", "both"),
        )
    else:
        write_pcap(dst, cap.pf, pkts, snaplen)
    answered = [s for s in cap.sessions if s.server_isn is not None]
    bad = bad_sessions(cap, part)
    truth = {
        "capture": Path(dst).name,
        "source": Path(src).name,
        "format": fmt,
        "plan": plan,
        "seed": args.seed,
        "expected_finding": FINDING[plan],
        "lossy": plan in LOSSY,
        "note": "what the plan did to the recording; expectations never come from capgap",
        "sessions": {
            "total": len(cap.sessions),
            "answered": len(answered),
            "bad": len(bad),
            "bad_clients": bad,
            "servers": sorted({s.server for s in answered}),
            "client_prefixes": sorted({client_prefix(s) for s in answered}),
        },
        "packets": {"in": len(cap.pf.records), "out": len(pkts)},
        **part,
    }
    if not bad and plan in LOSSY:
        raise SystemExit(f"plan {plan} found nothing to damage in {src}")
    return truth


def add_plan_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--probability",
        type=float,
        default=None,
        help="share of eligible data segments dropped (load 0.05, server 0.03, "
        "s2c 0.02, host_drops 0.01)",
    )
    ap.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="load: drop only above this rate, per second (default 4x the median rate)",
    )
    ap.add_argument(
        "--rate-unit",
        choices=("bits", "packets"),
        default="bits",
        help="load: the rate is of on-wire bits (default) or of packets",
    )
    ap.add_argument(
        "--window-ms",
        type=float,
        default=100.0,
        help="load: the sliding window of the rate (default 100 ms)",
    )
    ap.add_argument(
        "--server",
        help="server/one_direction: the server endpoint (default: the one with the most sessions)",
    )
    ap.add_argument(
        "--direction",
        choices=("c2s", "s2c"),
        default="s2c",
        help="one_direction: the direction removed (default s2c)",
    )
    ap.add_argument("--vlan-a", type=int, default=10, help="vlan_dup: the VLAN seen once")
    ap.add_argument("--vlan-dup", type=int, default=20, help="vlan_dup: the VLAN seen twice")
    ap.add_argument(
        "--dup-delay-us",
        type=int,
        default=5,
        help="vlan_dup: the copy's delay after the original (default 5 us)",
    )
    ap.add_argument("--snaplen", type=int, default=96, help="snaplen: bytes kept per packet")
    ap.add_argument(
        "--skew-ms",
        type=float,
        default=40.0,
        help="skew: how far the second half's clock runs ahead (default 40 ms)",
    )
    ap.add_argument(
        "--prefix", help="skew: the client prefix whose clock runs ahead (default: the last one)"
    )
    ap.add_argument(
        "--report",
        choices=("isb", "epb", "both"),
        default="isb",
        help="host_drops: where the drops are reported (default isb)",
    )


DEFAULT_PROBABILITY = {"load": 0.05, "server": 0.03, "s2c": 0.02, "host_drops": 0.01}


def plan_args(plan: str, **kw: object) -> argparse.Namespace:
    """The options of `plan` with their defaults, overridden by kw (for use as a library)."""
    ap = argparse.ArgumentParser()
    add_plan_options(ap)
    ns = ap.parse_args([])
    for k, v in kw.items():
        if not hasattr(ns, k):
            raise TypeError(f"unknown damage option {k}")
        setattr(ns, k, v)
    if ns.probability is None:
        ns.probability = DEFAULT_PROBABILITY.get(plan, 0.0)
    return ns


def damage_file(plan: str, src: str | Path, dst: str | Path, **kw: object) -> dict:
    """Library entry point: damage `src` into `dst` with `plan`, write dst + '.truth.json'
    beside it and return the truth."""
    truth = apply(plan, src, dst, plan_args(plan, **kw))
    Path(str(dst) + ".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("plan", choices=PLANS)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--truth", help="ground-truth JSON (default: OUTPUT.truth.json)")
    add_plan_options(ap)
    args = ap.parse_args(argv)
    if args.probability is None:
        args.probability = DEFAULT_PROBABILITY.get(args.plan, 0.0)
    truth = apply(args.plan, args.input, args.output, args)
    Path(args.truth or args.output + ".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    s = truth["sessions"]
    print(
        f"{args.output}: {args.plan}: {truth['packets']['in']} -> {truth['packets']['out']} "
        f"packets, {s['bad']} of {s['answered']} sessions damaged; expect "
        f"{truth['expected_finding']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
