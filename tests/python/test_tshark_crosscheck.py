"""Cross-check capgap's Wireshark-mode verdicts against tshark on the public captures.

For every capture of ../shared/captures/MANIFEST.tsv with SYN packets, tshark (4.0.17 on Debian
12) gives per tcp.stream its first frame and whether any packet of the stream carries
tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment. Streams whose first frame is a pure
SYN are the sessions; capgap's --sessions-out rows are joined to them on syn_frame.

Every difference must be listed in KNOWN_DIFFERENCES with the SEMANTICS.md rule that explains
it; anything else fails with a table. Over all captures at least 99.5% of sessions must agree.
"""

from __future__ import annotations

import csv
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from conftest import SHARED_CAPTURES, as_bool, read_sessions_csv, run_cli

# (capture file, syn_frame) -> the reason, citing the SEMANTICS.md rule.
KNOWN_DIFFERENCES: dict[tuple[str, int], str] = {}

MIN_AGREEMENT = 0.995
TSHARK_TIMEOUT = 300


def manifest_captures() -> list[str]:
    manifest = SHARED_CAPTURES / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["file"] for r in rows if int(r["syn_noack"] or 0) > 0]


CAPTURES = manifest_captures()


@dataclass
class Crosscheck:
    capture: str
    tshark: dict[int, bool]  # SYN frame of a stream starting with a pure SYN -> flagged
    capgap: dict[int, bool]  # syn_frame -> bad_wireshark
    total_sessions: int
    differences: list[tuple[int, str]] = field(default_factory=list)  # (syn_frame, what)

    @property
    def agreeing(self) -> int:
        return len(set(self.tshark) | set(self.capgap)) - len(self.differences)


def _values(cell: str) -> list[str]:
    return cell.split(",") if cell else []


def tshark_streams(tshark: str, path: Path) -> dict[int, bool]:
    """{first frame of each tcp.stream that starts with a pure SYN: any loss flag in it}.

    A frame with several TCP layers (a tunnel) lists one stream per layer; its loss flags are
    given to each of them."""
    proc = subprocess.run(
        [tshark, "-n", "-r", str(path), "-T", "fields", "-E", "separator=/t",
         "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack",
         "-e", "tcp.analysis.lost_segment", "-e", "tcp.analysis.ack_lost_segment"],
        capture_output=True, text=True, timeout=TSHARK_TIMEOUT, check=False,
    )  # fmt: skip
    if not proc.stdout and proc.returncode != 0:
        pytest.fail(f"tshark failed on {path.name}: {proc.stderr}")
    first: dict[str, tuple[int, bool]] = {}
    flagged: set[str] = set()
    for line in proc.stdout.splitlines():
        cols = (line.split("\t") + [""] * 6)[:6]
        frame, streams, syns, acks, lost, acklost = cols
        st_list = _values(streams)
        syn_list, ack_list = _values(syns), _values(acks)
        for i, st in enumerate(st_list):
            syn = syn_list[i] if i < len(syn_list) else ""
            ack = ack_list[i] if i < len(ack_list) else ""
            pure = syn in ("1", "True") and ack in ("0", "False")
            first.setdefault(st, (int(frame), pure))
            if lost or acklost:
                flagged.add(st)
    return {f: st in flagged for st, (f, pure) in first.items() if pure}


@cache
def crosscheck(cli: str, tshark: str, capture: str) -> Crosscheck:
    path = SHARED_CAPTURES / capture
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sessions.csv"
        proc = run_cli(Path(cli), "analyze", str(path), "--sessions-out", str(out))
        if proc.returncode == 2 and "unsupported link type" in proc.stderr:
            # A link type capgap does not decode: no sessions on its side, so every tshark
            # session is a difference that must be listed.
            rows, total = [], 0
        elif proc.returncode != 0:
            pytest.fail(f"capgap analyze {capture} exited {proc.returncode}: {proc.stderr}")
        else:
            rows = read_sessions_csv(out)
            total = next(
                int(ln.split(":", 1)[1])
                for ln in proc.stdout.splitlines()
                if ln.startswith("Total Sessions:")
            )
    cg = {int(r["syn_frame"]): as_bool(r["bad_wireshark"]) for r in rows}
    ts = tshark_streams(tshark, path)
    res = Crosscheck(capture, ts, cg, total)
    for f in sorted(set(ts) | set(cg)):
        if f not in cg:
            res.differences.append((f, f"tshark-only stream (flagged={ts[f]})"))
        elif f not in ts:
            res.differences.append((f, f"capgap-only session (bad_wireshark={cg[f]})"))
        elif cg[f] != ts[f]:
            res.differences.append((f, f"bad_wireshark={cg[f]}, tshark flagged={ts[f]}"))
    return res


@pytest.fixture(scope="module")
def tools(cli: Path, tshark: str, shared_captures: Path) -> tuple[str, str]:
    return str(cli), tshark


def _table(rows: list[tuple[str, int, str]]) -> str:
    width = max(len(c) for c, _, _ in rows)
    lines = [f"{'capture':<{width}}  syn_frame  difference"]
    lines += [f"{c:<{width}}  {f:>9}  {what}" for c, f, what in rows]
    return "\n".join(lines)


@pytest.mark.parametrize("capture", CAPTURES or ["(no ../shared/captures)"])
def test_sessions_agree_with_tshark(tools: tuple[str, str], capture: str) -> None:
    res = crosscheck(*tools, capture)
    assert res.total_sessions == len(res.capgap), "the report and --sessions-out disagree"
    unknown = [
        (capture, f, what) for f, what in res.differences if (capture, f) not in KNOWN_DIFFERENCES
    ]
    assert not unknown, "differences not in KNOWN_DIFFERENCES:\n" + _table(unknown)
    # With every difference explained, the session counts differ only by the explained ones.
    capgap_only = sum(1 for f, _ in res.differences if f not in res.tshark)
    tshark_only = sum(1 for f, _ in res.differences if f not in res.capgap)
    assert len(res.capgap) - capgap_only == len(res.tshark) - tshark_only


def test_known_differences_still_occur(tools: tuple[str, str]) -> None:
    """An entry of KNOWN_DIFFERENCES that no longer differs must be removed."""
    stale = [
        (c, f, reason)
        for (c, f), reason in KNOWN_DIFFERENCES.items()
        if c in CAPTURES and f not in {d for d, _ in crosscheck(*tools, c).differences}
    ]
    assert not stale, "KNOWN_DIFFERENCES entries that agree now:\n" + _table(stale)


def test_overall_agreement(tools: tuple[str, str]) -> None:
    if not CAPTURES:
        pytest.skip("MANIFEST.tsv lists no capture with SYN packets")
    results = [crosscheck(*tools, c) for c in CAPTURES]
    sessions = sum(len(set(r.tshark) | set(r.capgap)) for r in results)
    agreeing = sum(r.agreeing for r in results)
    assert sessions > 0
    assert agreeing / sessions >= MIN_AGREEMENT, (
        f"{agreeing} of {sessions} sessions agree ({100 * agreeing / sessions:.2f}%)"
    )


def test_tshark_parsing_on_a_known_capture(tools: tuple[str, str]) -> None:
    """The tshark side alone, on a capture whose manifest row says 1 of 1 SYN streams is
    flagged, so a parsing mistake cannot make the cross-check pass vacuously."""
    name = "suricata__http-gap-simple.pcap"
    if name not in CAPTURES:
        pytest.skip(f"{name} not in MANIFEST.tsv")
    assert tshark_streams(tools[1], SHARED_CAPTURES / name) == {1: True}
