#!/usr/bin/env python3
"""Regenerate the project's recorded captures and their ground truth.

For each target: record loopback traffic (record_loopback.py), prove the recording is complete
(no sequence hole in any session, and tshark flags nothing), damage it with a seeded plan
(pcaptools.py), and write CAPTURE + CAPTURE.truth.json. The Wireshark-mode expectations of the
plan are checked against tshark on the damaged capture before anything is written, so the truth
never depends on capgap.

Recordings vary per run (ports, ISNs, timing): tests read the committed truth of the committed
capture, so regenerate both together. Needs root (tcpdump on lo) and tshark.

Usage: make_real_captures.py [--only NAME]... [--repo DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pcaptools  # noqa: E402
import record_loopback  # noqa: E402

# name -> (destination relative to the repo, profile, nanosecond timestamps, seed, keep fraction,
#          size limit in bytes)
TARGETS: dict[str, tuple[str, str, bool, int, float, int]] = {
    "lo_mixed": ("tests/data/real/lo_mixed.pcap", "small", False, 11, 0.15, 300_000),
    "lo_v6_nsec": ("tests/data/real/lo_v6_nsec.pcap", "v6", True, 23, 0.15, 300_000),
    "sample": ("examples/data/sample.pcap", "sample", False, 37, 0.6, 1_000_000),
}


def tshark_streams(path: Path) -> dict[int, bool]:
    """{SYN frame of each tcp.stream that starts with a pure SYN: flagged lost/ack-lost}."""
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "separator=/t",
         "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack",
         "-e", "tcp.analysis.lost_segment", "-e", "tcp.analysis.ack_lost_segment"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    first: dict[str, tuple[int, bool]] = {}
    flagged: set[str] = set()
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < 6 or not cols[1]:
            continue
        frame, stream, syn, ack, lost, acklost = cols[:6]
        pure_syn = syn in ("1", "True") and ack in ("0", "False")
        first.setdefault(stream, (int(frame), pure_syn))
        if lost or acklost:
            flagged.add(stream)
    return {f: (st in flagged) for st, (f, pure) in first.items() if pure}


def make(name: str, repo: Path, tmp: Path, attempts: int = 3) -> None:
    dest_rel, profile, nano, seed, keep, limit = TARGETS[name]
    dest = repo / dest_rel
    for attempt in range(1, attempts + 1):
        raw = tmp / f"{name}.recorded.pcap"
        print(f"==> recording {name} (profile {profile}, attempt {attempt})")
        try:
            record_loopback.record(str(raw), record_loopback.PROFILES[profile], nano)
        except RuntimeError as e:
            print(f"    {e}")
            continue
        pf = pcaptools.read_pcap(raw)
        sessions = pcaptools.split_sessions(pcaptools.decode_file(pf))
        holes = {s.client: pcaptools.holes(s) for s in sessions if pcaptools.holes(s)}
        flagged = [f for f, bad in tshark_streams(raw).items() if bad]
        expected = len(record_loopback.PROFILES[profile])
        if holes or flagged or len(sessions) != expected:
            print(f"    recording not clean: holes={holes} tshark flags={flagged} "
                  f"sessions={len(sessions)}/{expected}; again")  # fmt: skip
            continue
        new, plans = pcaptools.damage(pf, seed, keep)
        out = tmp / dest.name
        pcaptools.write_pcap(out, new)
        truth = pcaptools.build_truth(new, plans, dest.name, seed)
        ts = tshark_streams(out)
        wrong = [
            (r["syn_frame"], r["action"], ts.get(r["syn_frame"]))
            for r in truth["sessions"]
            if ts.get(r["syn_frame"]) != r["bad_wireshark_expected"]
        ]
        if wrong or len(ts) != len(truth["sessions"]):
            raise SystemExit(
                f"{name}: tshark disagrees with the plan's wireshark verdicts: {wrong}"
            )
        size = out.stat().st_size
        if size > limit:
            raise SystemExit(f"{name}: {size} bytes, over the {limit}-byte limit")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, dest)
        dest.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
        t = truth["totals"]
        acts = sorted({r["action"] for r in truth["sessions"]})
        print(f"    wrote {dest_rel} ({size} bytes): {t}, actions {acts}")
        return
    raise SystemExit(f"{name}: no clean recording in {attempts} attempts")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", action="append", choices=sorted(TARGETS))
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or list(TARGETS):
            make(name, Path(args.repo), Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
