#!/usr/bin/env python3
"""The live benchmark: the highest packet rate `capgap live` captures without kernel drops,
beside `tcpdump -n -w /dev/null` on the same path.

Not part of the test run (needs root, and takes a minute or two). It builds the software SPAN
port of tests/tools/span.py (no HTTP traffic: only its mirror link, `mir` in the switch
namespace to `cap` in the capture namespace, offloads off), writes a capture of many complete
TCP sessions (MTU-sized data segments, delayed ACKs, handshakes and FINs; distinct 4-tuples),
and replays it onto `mir` with tcpreplay at increasing packet rates (`--pps`, preloaded into
memory, for a fixed duration). At each rate it runs, one after the other on the same path:

  - `capgap live -i cap --format jsonl` (its default 64 MB buffer), stopped with SIGTERM after
    the replay; kernel drops are the sum of the intervals' host_drops.kernel_dropped;
  - `tcpdump -n -i cap -B 65536 -w /dev/null` (the same buffer), stopped with SIGINT; kernel
    drops from its "dropped by kernel" line.

A tool "sustains" a rate when it reports no kernel drop there; the search for a tool stops at
its first rate with drops. The rate actually sent is tcpreplay's own figure (a 2-core machine
may not send the rate asked for: the table shows both). Prints one row per rate and tool, then
the highest rate each sustained.

    sudo python3 tests/bench/live_bench.py [--capgap build/capgap] [--rates 50000,100000,...]
        [--seconds 4] [--sessions 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))

import pcaptools  # noqa: E402
import span  # noqa: E402

DEFAULT_RATES = "25000,50000,100000,200000,300000,400000,600000,800000,max"
MSS = 1448


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _frame(src: int, dst: int, sport: int, dport: int, seq: int, ack: int, flags: int,
           payload: bytes) -> bytes:  # fmt: skip
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0) + payload  # fmt: skip
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     src.to_bytes(4, "big"), dst.to_bytes(4, "big"))  # fmt: skip
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp


def write_sessions(path: Path, sessions: int, segments: int = 20) -> int:
    """A capture of `sessions` complete downloads of `segments` MSS-sized segments each; returns
    its packet count. Checksums are left 0 (capgap does not check them)."""
    syn, ack, psh, fin = 0x02, 0x10, 0x08, 0x01
    pf = pcaptools.PcapFile(linktype=1, snaplen=65535, nsec=False)
    body = bytes(MSS)
    t = 1_700_000_000_000_000
    for i in range(sessions):
        c = (10 << 24) | (1 << 16) | (i % 250 + 1)
        s = (10 << 24) | (2 << 16) | 1
        cp = 20000 + i % 40000
        ci, si = 1000 + i * 7919, 5000 + i * 104729
        pk = []
        pk.append((c, s, cp, 80, ci, 0, syn, b""))
        pk.append((s, c, 80, cp, si, ci + 1, syn | ack, b""))
        pk.append((c, s, cp, 80, ci + 1, si + 1, ack, b""))
        pk.append((c, s, cp, 80, ci + 1, si + 1, psh | ack, b"GET / HTTP/1.0\r\n\r\n"))
        cseq = ci + 1 + 18
        sseq = si + 1
        for k in range(segments):
            pk.append((s, c, 80, cp, sseq, cseq, ack, body))
            sseq += MSS
            if k % 2:
                pk.append((c, s, cp, 80, cseq, sseq, ack, b""))
        pk.append((s, c, 80, cp, sseq, cseq, fin | ack, b""))
        pk.append((c, s, cp, 80, cseq, sseq + 1, fin | ack, b""))
        pk.append((s, c, 80, cp, sseq + 1, cseq + 1, ack, b""))
        for p in pk:
            data = _frame(*p)
            t += 10
            pf.records.append(pcaptools.Record(t // 1_000_000, t % 1_000_000, len(data), data))
    pcaptools.write_pcap(path, pf)
    return len(pf.records)


def replay(sp: span.SpanPort, pcap: Path, pps: int, seconds: float, senders: int = 1) -> dict:
    """tcpreplay onto mir at `pps` in all (0: --topspeed, as fast as it sends) for `seconds`,
    from `senders` processes at once, each sending its share; their figures summed (packets
    sent, actual rate)."""
    rate = f"--pps={pps / senders:.0f}" if pps else "--topspeed"
    procs = [
        subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                sp.sw,
                "tcpreplay",
                "-q",
                "-K",
                "-i",
                "mir",
                rate,
                "--loop=0",
                f"--duration={int(seconds)}",
                str(pcap),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for _ in range(senders)
    ]
    total_sent, total_pps = 0, 0.0
    for proc in procs:
        text, _ = proc.communicate(timeout=seconds + 60)
        if proc.returncode != 0:
            raise span.SpanError(f"tcpreplay failed: {text.strip()}")
        sent = re.search(r"Actual: (\d+) packets", text)
        rated = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", text)
        if not sent or not rated:
            raise span.SpanError(f"tcpreplay's figures not found: {text.strip()}")
        total_sent += int(sent.group(1))
        total_pps += float(rated.group(1))
    return {"sent": total_sent, "pps": total_pps}


def run_capgap(
    capgap: Path, sp: span.SpanPort, pcap: Path, pps: int, seconds: float, senders: int
) -> dict:
    cg = subprocess.Popen(
        ["ip", "netns", "exec", sp.cap, str(capgap), "live", "-i", "cap", "--interval", "1s",
         "--grace", "1s", "--cap", "2s", "--format", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(0.5)
        if cg.poll() is not None:
            raise span.SpanError(f"capgap live ended: {cg.stderr.read() if cg.stderr else ''}")
        sent = replay(sp, pcap, pps, seconds, senders)
        time.sleep(0.5)
        cg.send_signal(signal.SIGTERM)
        out, err = cg.communicate(timeout=60)
    finally:
        if cg.poll() is None:
            cg.kill()
            cg.communicate()
    ivs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    if cg.returncode != 0 or not ivs:
        raise span.SpanError(f"capgap live exited {cg.returncode}: {err.strip()}")
    return {
        **sent,
        "captured": sum(iv["packets"] for iv in ivs),
        "kernel_dropped": sum(iv["host_drops"].get("kernel_dropped", 0) for iv in ivs),
    }


def run_tcpdump(sp: span.SpanPort, pcap: Path, pps: int, seconds: float, senders: int) -> dict:
    td = subprocess.Popen(
        ["ip", "netns", "exec", sp.cap, "tcpdump", "-n", "-i", "cap", "-B", "65536", "-s", "0",
         "-w", "/dev/null"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert td.stderr is not None
        line = td.stderr.readline()
        if "listening" not in line:
            raise span.SpanError(f"tcpdump did not start: {line.strip()}")
        sent = replay(sp, pcap, pps, seconds, senders)
        time.sleep(0.5)
        td.send_signal(signal.SIGINT)
        rest = td.stderr.read()
        td.wait(timeout=30)
    finally:
        if td.poll() is None:
            td.kill()
            td.wait()
    stats = {}
    for ln in rest.splitlines():
        parts = ln.split()
        if len(parts) >= 3 and parts[0].isdigit():
            stats[" ".join(parts[2:])] = int(parts[0])
    return {
        **sent,
        "captured": stats.get("captured"),
        "kernel_dropped": stats.get("dropped by kernel"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--capgap", default=str(ROOT / "build" / "capgap"))
    ap.add_argument(
        "--rates", default=DEFAULT_RATES, help="packets/s, comma-separated; max: tcpreplay -t"
    )
    ap.add_argument("--seconds", type=float, default=4.0, help="replay time per rate")
    ap.add_argument("--sessions", type=int, default=3000, help="sessions in the replayed file")
    ap.add_argument(
        "--senders",
        type=int,
        default=2,
        help="tcpreplay processes sending at once (one alone "
        "reaches some 150,000 packets/s on the 2-core development machine)",
    )
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("live_bench.py: needs root (network namespaces, captures)", file=sys.stderr)
        return 2
    missing = [t for t in ("ip", "nft", "ethtool", "tcpdump", "tcpreplay") if not shutil.which(t)]
    if missing:
        print(f"live_bench.py: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    rates = [0 if r == "max" else int(r) for r in a.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="capgap-live-bench-") as tmp:
        pcap = Path(tmp) / "sessions.pcap"
        n = write_sessions(pcap, a.sessions)
        print(f"replaying {pcap.name}: {a.sessions} sessions, {n} packets, {a.seconds:g} s a rate")
        print(f"{'tool':8} {'asked pps':>10} {'sent pps':>10} {'sent':>10} {'captured':>10} "
              f"{'kernel drops':>12}")  # fmt: skip
        best: dict[str, int | None] = {"capgap": None, "tcpdump": None}
        done: set[str] = set()
        sender = 0
        with span.SpanPort(None, None) as sp:
            for pps in rates:
                for tool in ("capgap", "tcpdump"):
                    if tool in done:
                        continue
                    if tool == "capgap":
                        r = run_capgap(Path(a.capgap), sp, pcap, pps, a.seconds, a.senders)
                    else:
                        r = run_tcpdump(sp, pcap, pps, a.seconds, a.senders)
                    asked = str(pps or "max")
                    row = f"{tool:8} {asked:>10} {r['pps'] or 0:>10.0f} {r['sent'] or 0:>10} "
                    row += f"{r['captured'] or 0:>10} {r['kernel_dropped'] or 0:>12}"
                    print(row, flush=True)
                    if r["kernel_dropped"]:
                        done.add(tool)
                    else:
                        best[tool] = max(best[tool] or 0, int(r["pps"] or pps))
                        sender = max(sender, int(r["pps"] or 0))
                if len(done) == 2:
                    break
    for tool, rate in best.items():
        limit = "" if tool in done else f" (no drops at any rate; tcpreplay sent {sender} at most)"
        print(
            f"highest rate without kernel drops, {tool}: "
            f"{'none' if rate is None else f'{rate} packets/s'}{limit}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
