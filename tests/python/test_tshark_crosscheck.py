"""Cross-check capgap's Wireshark-mode verdicts against tshark on the public captures.

For every capture of ../shared/captures/MANIFEST.tsv with SYN packets, tshark (4.0.17 on Debian
12) gives per tcp.stream its first frame and whether any packet of the stream carries
tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment. Streams whose first frame is a pure
SYN are the sessions; capgap's --sessions-out rows are joined to them on syn_frame.

Every difference must be listed in KNOWN_DIFFERENCES with the counting-rules.md rule that explains
it; anything else fails with a table. Over all captures at least 99.5% of sessions must agree.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from conftest import SHARED_CAPTURES, as_bool, captures_with_syns, read_sessions_csv, run_cli

# (capture file, syn_frame) -> the reason, citing the counting-rules.md rule. Differences that the
# rules below recognise from tshark's own fields need no entry.
KNOWN_DIFFERENCES: dict[tuple[str, int], str] = {
    ("suricata__tcp-fastopen-10-syn-data-ignore.pcap", 1): (
        "counting-rules.md section 2.3 and section 8 row 36: SYN-ACKs with two ISNs answer one SYN "
        "before the client's ACK; the server's space starts again, tshark 4.0.17 flags the jump"
    ),
}

# Rule differences recognised from tshark's fields (see explain()).
RULE_2_2C = (
    "counting-rules.md section 2.2(c): a SYN repeating the ISN after the answered connection ended "
    "(FIN or RST) starts a new instance; tshark 4.0.17 keeps one stream"
)
RULE_2_8 = (
    "counting-rules.md section 2.8: a SYN captured after its SYN-ACK joins that instance and is "
    "counted; tshark's stream starts with the SYN-ACK"
)
RULE_4 = (
    "counting-rules.md section 4 and section 8 row 42: a malformed TCP header is skipped "
    "(bad_tcp_header); tshark still gives the SYN a stream"
)

MIN_AGREEMENT = 0.995
TSHARK_TIMEOUT = 300


CAPTURES = captures_with_syns()


@dataclass
class Packet:
    frame: int
    syn: bool
    ack: bool
    fin_or_rst: bool
    seq: int
    ack_no: int
    malformed: bool


@dataclass
class Stream:
    packets: list[Packet] = field(default_factory=list)
    flagged: bool = False

    @property
    def first(self) -> Packet:
        return self.packets[0]

    @property
    def starts_with_syn(self) -> bool:
        return self.first.syn and not self.first.ack


@dataclass
class Crosscheck:
    capture: str
    streams: dict[str, Stream]
    stream_of: dict[int, str]  # frame -> tcp.stream
    capgap: dict[int, bool]  # syn_frame -> bad_wireshark
    total_sessions: int
    bad_tcp_header: int
    sessions: int = 0  # tshark sessions (streams starting with a pure SYN)
    agreeing: int = 0  # of which capgap gives the same verdict
    differences: list[tuple[int, str]] = field(default_factory=list)  # unexplained
    explained: list[tuple[int, str]] = field(default_factory=list)  # by a rule above


def _values(cell: str) -> list[str]:
    return cell.split(",") if cell else []


def _int(cell: str) -> int:
    return int(cell) if cell else 0


TSHARK_FIELDS = [
    "frame.number", "tcp.stream", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
    "tcp.flags.reset", "tcp.seq_raw", "tcp.ack_raw", "tcp.analysis.lost_segment",
    "tcp.analysis.ack_lost_segment", "_ws.expert.message",
]  # fmt: skip


def tshark_streams(tshark: str, path: Path) -> tuple[dict[str, Stream], dict[int, str]]:
    """Every tcp.stream with its packets and whether any carries a loss flag.

    A frame with several TCP layers (a tunnel) lists one stream per layer; its loss flags are
    given to each of them."""
    args = [tshark, "-n", "-r", str(path), "-T", "fields", "-E", "separator=/t"]
    for f in TSHARK_FIELDS:
        args += ["-e", f]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=TSHARK_TIMEOUT, check=False)
    if not proc.stdout and proc.returncode != 0:
        pytest.fail(f"tshark failed on {path.name}: {proc.stderr}")
    streams: dict[str, Stream] = {}
    stream_of: dict[int, str] = {}
    n = len(TSHARK_FIELDS)
    for line in proc.stdout.splitlines():
        cols = (line.split("\t") + [""] * n)[:n]
        frame, sts, syns, acks, fins, rsts, seqs, ack_nos, lost, acklost, expert = cols
        for i, st in enumerate(_values(sts)):

            def col(cell: str, i: int = i) -> str:
                v = _values(cell)
                return v[i] if i < len(v) else ""

            pkt = Packet(
                frame=int(frame),
                syn=col(syns) in ("1", "True"),
                ack=col(acks) in ("1", "True"),
                fin_or_rst=col(fins) in ("1", "True") or col(rsts) in ("1", "True"),
                seq=_int(col(seqs)),
                ack_no=_int(col(ack_nos)),
                malformed="Short segment" in expert or "Bogus TCP header" in expert,
            )
            stream = streams.setdefault(st, Stream())
            stream.packets.append(pkt)
            stream_of.setdefault(pkt.frame, st)
            if lost or acklost:
                stream.flagged = True
    return streams, stream_of


def explain_split(stream: Stream, syn_frame: int) -> str | None:
    """RULE_2_2C when the SYN at syn_frame repeats the stream's first ISN after the
    connection was answered and ended."""
    first = stream.first
    answered = ended = False
    for p in stream.packets:
        if p.frame == syn_frame:
            same_isn = p.syn and not p.ack and p.seq == first.seq
            return RULE_2_2C if same_isn and answered and ended else None
        answered |= p.syn and p.ack
        ended |= answered and p.fin_or_rst
    return None


def explain_late_syn(stream: Stream, syn_frame: int) -> str | None:
    """RULE_2_8 when the stream starts with a SYN-ACK that the later SYN at syn_frame
    matches."""
    first = stream.first
    syn = next((p for p in stream.packets if p.frame == syn_frame), None)
    if first.syn and first.ack and syn and syn.syn and not syn.ack:
        if (syn.seq + 1) % 2**32 == first.ack_no:
            return RULE_2_8
    return None


@cache
def crosscheck(cli: str, tshark: str, capture: str) -> Crosscheck:
    path = SHARED_CAPTURES / capture
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sessions.csv"
        proc = run_cli(
            Path(cli), "analyze", str(path), "--format", "json", "--sessions-out", str(out)
        )
        if proc.returncode == 2 and "unsupported link type" in proc.stderr:
            # A link type capgap does not decode: no sessions on its side, so every tshark
            # session is a difference that must be listed.
            rows, total, bad_header = [], 0, 0
        elif proc.returncode != 0:
            pytest.fail(f"capgap analyze {capture} exited {proc.returncode}: {proc.stderr}")
        else:
            rows = read_sessions_csv(out)
            report = json.loads(proc.stdout)
            total = report["summary"]["total_sessions"]
            bad_header = report["ingest"]["skipped_bad_tcp_header"]
    streams, stream_of = tshark_streams(tshark, path)
    res = Crosscheck(
        capture,
        streams,
        stream_of,
        {int(r["syn_frame"]): as_bool(r["bad_wireshark"]) for r in rows},
        total,
        bad_header,
    )

    # Group capgap's sessions by the tshark stream of their SYN frame.
    groups: dict[str, list[int]] = {}
    for f in sorted(res.capgap):
        st = stream_of.get(f)
        if st is None:
            res.differences.append((f, "capgap session on a frame tshark has no stream for"))
            continue
        groups.setdefault(st, []).append(f)

    for st, stream in streams.items():
        frames = groups.get(st, [])
        if stream.starts_with_syn:
            res.sessions += 1
        if not frames:
            if not stream.starts_with_syn:
                continue
            if stream.first.malformed and res.bad_tcp_header > 0:
                res.explained.append((stream.first.frame, RULE_4))
            else:
                res.differences.append(
                    (stream.first.frame, f"tshark-only session (flagged={stream.flagged})")
                )
            continue
        # capgap's verdict for the stream: any of its instances flagged.
        bad = any(res.capgap[f] for f in frames)
        lead = frames[0]
        if stream.starts_with_syn:
            if lead != stream.first.frame:
                res.differences.append((lead, f"first SYN {lead} != stream start"))
            elif bad == stream.flagged:
                res.agreeing += 1
            else:
                res.differences.append(
                    (lead, f"bad_wireshark={bad}, tshark flagged={stream.flagged}")
                )
            extra = frames[1:]
        else:
            extra = frames
            why = explain_late_syn(stream, lead)
            if why and len(frames) == 1:
                res.explained.append((lead, why))
                extra = []
        for f in extra:
            why = explain_split(stream, f)
            if why:
                res.explained.append((f, why))
            else:
                res.differences.append((f, f"capgap-only session (bad_wireshark={res.capgap[f]})"))
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
    # Session counts differ only by what the rules and the known differences explain.
    only_capgap = sum(1 for _, why in res.explained if why in (RULE_2_2C, RULE_2_8))
    only_tshark = sum(1 for _, why in res.explained if why == RULE_4)
    assert len(res.capgap) - only_capgap == res.sessions - only_tshark or any(
        (capture, f) in KNOWN_DIFFERENCES for f, _ in res.differences
    )


def test_known_differences_still_occur(tools: tuple[str, str]) -> None:
    """An entry of KNOWN_DIFFERENCES that no longer differs must be removed."""
    stale = [
        (c, f, reason)
        for (c, f), reason in KNOWN_DIFFERENCES.items()
        if c in CAPTURES and f not in {d for d, _ in crosscheck(*tools, c).differences}
    ]
    assert not stale, "KNOWN_DIFFERENCES entries that agree now:\n" + _table(stale)


def test_overall_agreement(tools: tuple[str, str]) -> None:
    """At least 99.5% of tshark's sessions get capgap's verdict (per tshark stream: an
    instance split by a rule is flagged when any part is)."""
    if not CAPTURES:
        pytest.skip("MANIFEST.tsv lists no capture with SYN packets")
    results = [crosscheck(*tools, c) for c in CAPTURES]
    sessions = sum(r.sessions for r in results)
    agreeing = sum(r.agreeing for r in results)
    assert sessions > 0
    assert agreeing / sessions >= MIN_AGREEMENT, (
        f"{agreeing} of {sessions} sessions agree ({100 * agreeing / sessions:.2f}%)"
    )


def test_rules_are_recognised_where_they_apply(tools: tuple[str, str]) -> None:
    """The rule explanations are not vacuous: the captures known to exercise them do."""
    expected = {
        "markofu__ftp-crack.pcap": RULE_2_2C,
        "zeek__tcp_handshake-reorder.pcap": RULE_2_8,
        "suricata__bug-76.pcap": RULE_4,
    }
    for capture, rule in expected.items():
        if capture not in CAPTURES:
            continue
        assert rule in {why for _, why in crosscheck(*tools, capture).explained}, capture


def test_tshark_parsing_on_a_known_capture(tools: tuple[str, str]) -> None:
    """The tshark side alone, on a capture whose manifest row says 1 of 1 SYN streams is
    flagged, so a parsing mistake cannot make the cross-check pass vacuously."""
    name = "suricata__http-gap-simple.pcap"
    if name not in CAPTURES:
        pytest.skip(f"{name} not in MANIFEST.tsv")
    streams, _ = tshark_streams(tools[1], SHARED_CAPTURES / name)
    sessions = {s.first.frame: s.flagged for s in streams.values() if s.starts_with_syn}
    assert sessions == {1: True}
