#!/usr/bin/env python3
"""capgap under adversarial captures: peak memory against the documented bound.

    python3 tests/bench/adversarial.py [--flows 5_000_000] [--holes 1_000_000]

Writes three captures into the scratch directory (default /tmp/capgap-bench) and runs
`capgap analyze` on each, printing wall and CPU seconds, peak resident memory and the bound
README.md ("Memory and the flow table") gives for that capture:

  flows   a SYN flood: --flows SYNs, each from its own client socket, nothing answered.
          Every SYN opens a flow; past max_open_flows (1,000,000) the oldest tenth is evicted.
  holes   one connection whose client sends --holes 1-byte segments, each leaving a 1-byte gap
          before it (a hole per packet), the server ACKing all of it every 16 segments.
          Holes per direction stop at max_holes_per_direction (4,096).
  jumps   one connection whose sequence and acknowledgement numbers jump at random for
          --holes packets in each direction.

Then checks what the semantics say must come out: every SYN of the flood is a counted session,
evictions are counted and the evicted sessions marked; the hole cap is reported and the session
marked instead of growing. Exit status 1 when a check fails or a peak passes its bound. Speed
and memory are printed, never asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import REPO, cmake_build, log, measure  # noqa: E402

MAX_OPEN_FLOWS = 1_000_000  # TrackerOptions defaults, as README.md documents them

# The documented bound (README.md, "Memory and the flow table").
BASE_MB = 48  # program, libraries, buffers
PER_OPEN_FLOW_B = 832  # an open instance (704 bytes) and up to 8 index slots of 16 bytes
PER_SESSION_B = 560  # a reported session while tracking, in the report, and while lists grow
PER_CAPPED_DIRECTION_B = 1_310_720  # 1.25 MiB: 4,096 holes, runs and Wireshark flags

SERVER = bytes([192, 0, 2, 1])
ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
SYN, ACK, FIN = 0x02, 0x10, 0x01


def bound_mb(open_flows: int, sessions: int, capped_directions: int) -> float:
    per_item = (
        open_flows * PER_OPEN_FLOW_B
        + sessions * PER_SESSION_B
        + capped_directions * PER_CAPPED_DIRECTION_B
    )
    return BASE_MB + per_item / 2**20


class PcapWriter:
    """Classic pcap, Ethernet, microseconds; IPv4/TCP packets without options or payload
    bytes (the payload length is on the wire, the capture keeps 54 bytes)."""

    def __init__(self, path: Path) -> None:
        self.f = open(path, "wb")  # noqa: SIM115 (closed in close())
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 96, 1))
        self.buf = bytearray()
        self.count = 0

    def tcp(self, t_us, src, sport, dst, dport, seq, ack, flags, payload=0) -> None:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40 + payload, 0, 0x4000, 64, 6, 0, src, dst)
        tcp = struct.pack(
            ">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0
        )
        frame = ETH + ip + tcp
        self.buf += struct.pack(
            "<IIII", t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame) + payload
        )
        self.buf += frame
        self.count += 1
        if len(self.buf) > 1 << 22:
            self.f.write(self.buf)
            self.buf.clear()

    def close(self) -> None:
        self.f.write(self.buf)
        self.f.close()


def client_addr(i: int) -> tuple[bytes, int]:
    host, port = divmod(i, 60000)
    return bytes([10, (host >> 16) & 255, (host >> 8) & 255, host & 255]), 1024 + port


def write_flows(path: Path, flows: int) -> None:
    w = PcapWriter(path)
    t = 1_767_225_600_000_000
    for i in range(flows):
        src, sport = client_addr(i)
        w.tcp(t + i, src, sport, SERVER, 80, 1000 + i, 0, SYN)
    w.close()


def handshake(w: PcapWriter, t: int, cisn: int, sisn: int) -> None:
    c = bytes([10, 0, 0, 1])
    w.tcp(t, c, 40000, SERVER, 80, cisn, 0, SYN)
    w.tcp(t + 1, SERVER, 80, c, 40000, sisn, cisn + 1, SYN | ACK)
    w.tcp(t + 2, c, 40000, SERVER, 80, cisn + 1, sisn + 1, ACK)


def write_holes(path: Path, n: int) -> None:
    w = PcapWriter(path)
    c = bytes([10, 0, 0, 1])
    t, cisn, sisn = 1_767_225_600_000_000, 1000, 9000
    handshake(w, t, cisn, sisn)
    for k in range(n):
        seq = cisn + 2 + 2 * k  # byte cisn+1+2k is never sent: a 1-byte hole per packet
        w.tcp(t + 10 + 2 * k, c, 40000, SERVER, 80, seq, sisn + 1, ACK, 1)
        if k % 16 == 15:
            w.tcp(t + 11 + 2 * k, SERVER, 80, c, 40000, sisn + 1, seq + 1, ACK)
    end = t + 10 + 2 * n
    w.tcp(end, c, 40000, SERVER, 80, cisn + 2 + 2 * n, sisn + 1, FIN | ACK)
    w.tcp(end + 1, SERVER, 80, c, 40000, sisn + 1, cisn + 3 + 2 * n, FIN | ACK)
    w.close()


def write_jumps(path: Path, n: int) -> None:
    w = PcapWriter(path)
    rng = random.Random(7)
    c = bytes([10, 0, 0, 1])
    t = 1_767_225_600_000_000
    handshake(w, t, 1000, 9000)
    for k in range(n):
        seq, ack = rng.getrandbits(32), rng.getrandbits(32)
        size = rng.choice((0, 1, 100, 1448))
        if k % 2 == 0:
            w.tcp(t + 10 + k, c, 40000, SERVER, 80, seq, ack, ACK, size)
        else:
            w.tcp(t + 10 + k, SERVER, 80, c, 40000, seq, ack, ACK, size)
    w.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", type=lambda s: int(s.replace("_", "")), default=5_000_000)
    ap.add_argument("--holes", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/capgap-bench"))
    ap.add_argument("--build-dir", type=Path, default=REPO / "build-bench")
    ap.add_argument("--regen", action="store_true", help="write the captures again")
    args = ap.parse_args()

    cmake_build(args.build_dir, None)
    capgap = args.build_dir / "capgap"
    args.scratch.mkdir(parents=True, exist_ok=True)

    cases = [
        ("flows", f"adv-flows-{args.flows}.pcap", lambda p: write_flows(p, args.flows)),
        ("holes", f"adv-holes-{args.holes}.pcap", lambda p: write_holes(p, args.holes)),
        ("jumps", f"adv-jumps-{args.holes}.pcap", lambda p: write_jumps(p, args.holes)),
    ]
    failures: list[str] = []
    rows = []
    for name, file_name, write in cases:
        path = args.scratch / file_name
        if args.regen or not path.exists():
            log(f"writing {path}")
            write(path)
        log(f"capgap analyze {path.name}")
        wall, cpu, rss, out, rc = measure([str(capgap), "analyze", str(path), "--format", "json"])
        if rc != 0:
            failures.append(f"{name}: capgap exited with {rc}")
            continue
        rep = json.loads(out)
        s, ing = rep["summary"], rep["ingest"]
        if name == "flows":
            bound = bound_mb(MAX_OPEN_FLOWS, args.flows, 0)
            checks = {
                "every SYN is a counted session": s["total_sessions"] == args.flows,
                "none is bad": s["bad_sessions"] == 0,
                "open flows stay under the cap": ing["open_flows_peak"] <= MAX_OPEN_FLOWS,
                "evictions counted": ing["flows_evicted"] >= args.flows - MAX_OPEN_FLOWS,
                "evicted sessions marked": s["evicted"] == ing["flows_evicted"],
            }
        else:
            bound = bound_mb(1, 1, 2)
            checks = {
                "one counted session": s["total_sessions"] == 1,
                "hole cap reported": ing["holes_cap_hit"] >= 1,
                "the session is marked evicted": s["evicted"] == 1,
            }
            if name == "holes":
                checks["the session is bad"] = s["bad_sessions"] == 1
        checks["peak RSS within the bound"] = rss <= bound
        for what, ok in checks.items():
            if not ok:
                failures.append(f"{name}: {what}")
        rows.append((name, ing["packets_read"], wall, cpu, rss, bound))

    print()
    print(
        f"{'capture':8} {'packets':>10} {'wall s':>8} {'CPU s':>8} {'peak MB':>9} {'bound MB':>9}"
    )
    for name, packets, wall, cpu, rss, bound in rows:
        print(f"{name:8} {packets:>10,} {wall:>8.2f} {cpu:>8.2f} {rss:>9.1f} {bound:>9.1f}")
    print()
    if failures:
        for f in failures:
            print(f"FAIL {f}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
