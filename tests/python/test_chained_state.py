"""A capture cut into pieces (editcap -c, editcap -i), analysed as chained pieces with the flow
state carried from one to the next (docs/state-format.md), reports what one analysis of the
whole capture reports: summary, counters, every session and event, the timeline.

The expected values are always a single ``capgap.analyze`` over the uncut file, computed in the
test; the sessions that span the cuts are asserted to exist (by frame numbers, known from the
cut), so the test cannot pass on a capture whose sessions all fit in one piece.
"""

from __future__ import annotations

import glob
import pickle
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from _capture_builder import ACK, PSH, T0_NS, Conn, pcap_bytes, tcp_frame

import capgap

EDITCAP = shutil.which("editcap")
needs_editcap = pytest.mark.skipif(EDITCAP is None, reason="editcap (Wireshark) not installed")

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "captures"

# ---- a capture with every hard case near a cut ------------------------------------------------


def _fragments(frame: bytes, first_len: int) -> list[bytes]:
    """An Ethernet + IPv4 frame cut into two IPv4 fragments, the first carrying first_len
    bytes of the IP payload (a multiple of 8)."""
    eth, ip = frame[:14], frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    head, payload = ip[:ihl], ip[ihl:]
    out = []
    for off, part, more in (
        (0, payload[:first_len], True),
        (first_len, payload[first_len:], False),
    ):
        h = bytearray(head)
        struct.pack_into("!H", h, 2, ihl + len(part))
        struct.pack_into("!H", h, 4, 0x4242)
        struct.pack_into("!H", h, 6, (0x2000 if more else 0) | (off // 8))
        out.append(eth + bytes(h) + part)
    return out


def hard_capture(path: Path) -> Path:
    """Connections that span the whole capture, with holes, duplicates, fragments, a clock
    outlier, closed and idle expiry, written as a nanosecond pcap (sorted by time)."""
    packets: list[tuple[int, bytes]] = []
    # A: long-lived, data both ways every 0.3 s for 12 s, with a hole the server ACKs (acked
    # unseen) and one that is never acked (gap at the end).
    a = Conn("10.0.0.2", 40000, "10.0.0.1", 80, T0_NS)
    a.handshake()
    for i in range(40):
        a.t += 300_000_000
        a.c2s(ACK | PSH, 100, keep=i not in (7, 31))
        a.s2c(ACK, 0)
        a.s2c(ACK | PSH, 200)
        a.c2s(ACK)
    a.close()
    packets += a.packets
    # B: duplicates (SPAN copies) of every data packet, 20 us apart.
    b = Conn("10.0.0.3", 40001, "10.0.0.1", 80, T0_NS + 50_000_000)
    b.handshake()
    for _ in range(20):
        b.t += 200_000_000
        b.c2s(ACK | PSH, 300)
        t, f = b.packets[-1]
        b.packets.append((t + 20_000, f))
        b.s2c(ACK)
    b.close()
    packets += b.packets
    # C: data segments fragmented at the IP layer (the cut may fall between the pieces).
    c = Conn("10.0.0.4", 40002, "10.0.0.1", 443, T0_NS + 70_000_000)
    c.handshake()
    for _ in range(15):
        c.t += 400_000_000
        c.c2s(ACK | PSH, 1000)
        t, f = c.packets.pop()
        for k, piece in enumerate(_fragments(f, 512)):
            c.packets.append((t + k * 10_000, piece))
        c.s2c(ACK)
    c.close()
    packets += c.packets
    # D: short connections, one every 0.5 s, closed (closed_timeout 5 s expires them later).
    for i in range(24):
        d = Conn(f"10.0.1.{i + 1}", 50000 + i, "10.0.0.1", 8080, T0_NS + i * 500_000_000)
        d.handshake()
        d.c2s(ACK | PSH, 50)
        d.s2c(ACK | PSH, 70, keep=i % 5 != 0)
        d.c2s(ACK)
        d.close()
        packets += d.packets
    # E: opened and left idle (finished at the end, or by the idle timeout if shorter).
    e = Conn("10.0.2.1", 41000, "10.0.0.1", 22, T0_NS + 100_000_000)
    e.handshake()
    e.c2s(ACK | PSH, 10)
    packets += e.packets
    packets.sort(key=lambda p: p[0])
    # A clock outlier: one packet of A's dated two hours ahead, in the middle of the capture.
    mid = len(packets) // 2
    t, _ = packets[mid]
    packets.insert(
        mid + 1, (t + 7_200_000_000_000, tcp_frame("10.0.0.2", 40000, "10.0.0.1", 80, 1, 1, ACK))
    )
    path.write_bytes(pcap_bytes(packets))
    return path


# ---- the comparison ---------------------------------------------------------------------------


def split(path: Path, out_dir: Path, *args: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [EDITCAP, "-F", "nsecpcap", *args, str(path), str(out_dir / "piece.pcap")],
        check=True,
        capture_output=True,
    )
    pieces = sorted(Path(p) for p in glob.glob(str(out_dir / "piece_*.pcap")))
    assert pieces, f"editcap {args} gave no pieces"
    return pieces


def chain(pieces: list[Path], **options: object) -> list[capgap.Report]:
    reports = []
    state = None
    for i, p in enumerate(pieces):
        last = i == len(pieces) - 1
        r, state = capgap.analyze_piece(str(p), resume=state, last=last, **options)
        reports.append(r)
    assert state is None
    return reports


def piece_frames(pieces: list[Path]) -> list[int]:
    """The number of records of each piece (tshark-free: pcap record headers)."""
    counts = []
    for p in pieces:
        data = p.read_bytes()
        off, n = 24, 0
        while off + 16 <= len(data):
            incl = struct.unpack_from("<I", data, off + 8)[0]
            off += 16 + incl
            n += 1
        counts.append(n)
    return counts


SUMMARY_FIELDS = [
    "total_sessions",
    "bad_sessions",
    "bad_confirmed",
    "bad_wireshark",
    "bad_data_missing",
    "bad_control_only",
    "wireshark_only",
    "confirmed_only",
    "syn_only",
    "one_sided",
    "partial",
    "synack_only",
    "before_window",
    "after_window",
    "filtered_out",
    "evicted",
    "unmatched_events",
    "percentage",
    "ci95_low",
    "ci95_high",
]


def assert_same(whole: capgap.Report, merged: capgap.Report, pieces: list[Path]) -> None:
    for f in SUMMARY_FIELDS:
        assert getattr(merged.summary, f) == getattr(whole.summary, f), f
    for c in _counter_names():
        if c == "files":  # each piece is a file: counts the pieces
            continue
        assert getattr(merged.ingest, c) == getattr(whole.ingest, c), c
    assert merged.ingest.files == len(pieces)
    assert merged.ingest.first_time == whole.ingest.first_time
    assert merged.ingest.last_time == whole.ingest.last_time
    assert merged.ingest.tunnels == whole.ingest.tunnels
    assert [
        (t.kind, t.direction, t.count, t.missing_bytes, t.late_filled) for t in merged.tallies
    ] == [(t.kind, t.direction, t.count, t.missing_bytes, t.late_filled) for t in whole.tallies]
    ws = whole.sessions.to_pandas().drop(columns=["source"])
    ms = merged.sessions.to_pandas()
    assert ms.drop(columns=["source"]).equals(ws)
    we, me = whole.events.to_pandas(), merged.events.to_pandas()
    assert me.equals(we)
    # The timeline: buckets and both peaks, exactly.
    assert merged.native.__getstate__()[7] == whole.native.__getstate__()[7]
    # Each session's source is the piece that holds its first frame.
    assert merged.sources == [str(p) for p in pieces]
    ends = []
    total = 0
    for n in piece_frames(pieces):
        total += n
        ends.append(total)
    for first, src in zip(ms["first_frame"], ms["source"]):
        k = next(i for i, e in enumerate(ends) if first <= e)
        assert src == str(pieces[k])


def _counter_names() -> list[str]:
    return [
        n
        for n in dir(capgap.IngestStats())
        if not n.startswith("_") and isinstance(getattr(capgap.IngestStats(), n), int)
    ]


def spanning(report: capgap.Report, pieces: list[Path]) -> int:
    """Sessions whose packets lie in more than one piece (first and last frame apart)."""
    ends, total = [], 0
    for n in piece_frames(pieces):
        total += n
        ends.append(total)

    def piece_of(frame: int) -> int:
        return next(i for i, e in enumerate(ends) if frame <= e)

    df = report.sessions.to_pandas()
    # The last frame of a session is not a column: its events' and its last_time's piece are
    # bounded by the piece of its last packet; the time-ordered capture makes last_time's
    # piece the piece of the latest frame at or before last_time.
    times = []
    for p in pieces:
        data = p.read_bytes()
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl = struct.unpack_from("<III", data, off)
            times.append(sec * 10**9 + frac)
            off += 16 + incl
    count = 0
    for first, last in zip(df["first_frame"], df["last_time"]):
        last_ns = int(last.value)
        last_frame = max(i + 1 for i, t in enumerate(times) if t <= last_ns)
        if piece_of(int(first)) != piece_of(last_frame):
            count += 1
    return count


# ---- the tests --------------------------------------------------------------------------------


@needs_editcap
@pytest.mark.parametrize(
    "cut",
    [
        ["-c", "1"],
        ["-c", "7"],
        ["-c", "100"],
        # The clock outlier opens a piece of its own time: the piece buckets on the chain's
        # timeline grid (carried in the state), not on a grid of its first packet's time.
        ["-i", "1"],
        ["-i", "3"],
    ],
)
def test_hard_capture_chained_equals_one_run(tmp_path: Path, cut: list[str]) -> None:
    cap = hard_capture(tmp_path / "hard.pcap")
    whole = capgap.analyze(str(cap), include="all")
    pieces = split(cap, tmp_path / "pieces", *cut)
    assert len(pieces) > 1
    reports = chain(pieces, include="all")
    merged = capgap.concat(reports)
    assert_same(whole, merged, pieces)
    assert spanning(whole, pieces) >= 3
    # What the capture was built with shows in the one run (so the cases are really there).
    assert whole.ingest.duplicate_packets == 20
    assert whole.ingest.timestamp_jumps_forward == 1
    assert whole.summary.bad_confirmed >= 2


@needs_editcap
def test_pieces_in_separate_processes(tmp_path: Path) -> None:
    """Each piece in its own Python process, the state passed on as bytes, the reports as
    pickles: the merge equals the one run."""
    cap = hard_capture(tmp_path / "hard.pcap")
    pieces = split(cap, tmp_path / "pieces", "-c", "40")
    state_file = tmp_path / "state.bin"
    code = (
        "import pickle, sys, capgap\n"
        "piece, state_in, state_out, out, last = sys.argv[1:]\n"
        "resume = open(state_in, 'rb').read() if state_in != '-' else None\n"
        "r, s = capgap.analyze_piece(piece, resume=resume, last=last == '1')\n"
        "if s is not None: open(state_out, 'wb').write(bytes(s))\n"
        "open(out, 'wb').write(pickle.dumps(r))\n"
    )
    reports = []
    for i, p in enumerate(pieces):
        out = tmp_path / f"r{i}.pickle"
        subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                str(p),
                str(state_file) if i else "-",
                str(state_file),
                str(out),
                "1" if i == len(pieces) - 1 else "0",
            ],
            check=True,
        )
        reports.append(pickle.loads(out.read_bytes()))
    whole = capgap.analyze(str(cap))
    assert_same(whole, capgap.concat(reports), pieces)


@needs_editcap
def test_merge_is_associative_over_chains_and_captures(tmp_path: Path) -> None:
    cap = hard_capture(tmp_path / "hard.pcap")
    pieces = split(cap, tmp_path / "pieces", "-c", "60")
    assert len(pieces) >= 3
    r = chain(pieces)
    other = capgap.analyze(str(cap))  # an independent capture in the mix
    a, b, c = r[0], r[1], capgap.concat(r[2:])
    m3 = capgap.concat([a, b, c])
    assert_same(capgap.analyze(str(cap)), m3, pieces)
    for x, y in (
        ((a + b) + c, a + (b + c)),
        ((a + other) + b, a + (other + b)),
        ((other + a) + (b + c), other + ((a + b) + c)),
    ):
        assert x.sessions.to_pandas().equals(y.sessions.to_pandas())
        assert x.events.to_pandas().equals(y.events.to_pandas())
        assert [(p.chain, p.first_piece, p.last_piece, p.id_offset, p.ids) for p in x.parts] == [
            (p.chain, p.first_piece, p.last_piece, p.id_offset, p.ids) for p in y.parts
        ]
        assert x.sources == y.sources
        assert x.summary.total_sessions == y.summary.total_sessions
    # An independent capture between two pieces: both stay, renumbered past each other.
    mixed = capgap.concat([a, other, b, c])
    n = other.summary.total_sessions + sum(x.summary.total_sessions for x in r)
    assert mixed.summary.total_sessions == n
    assert mixed.sessions.to_pandas()["session_id"].is_unique


@needs_editcap
@pytest.mark.parametrize("name", ["lo_mixed.pcap", "lo_v6_nsec.pcap"])
def test_repository_captures(tmp_path: Path, name: str) -> None:
    cap = REPO / "tests" / "data" / "real" / name
    whole = capgap.analyze(str(cap))
    for cut in (["-c", "3"], ["-i", "1"]):
        pieces = split(cap, tmp_path / "-".join(cut), *cut)
        if len(pieces) < 2:
            continue
        assert_same(whole, capgap.concat(chain(pieces)), pieces)


# One long connection cut many times (the others are covered by the CLI over every capture;
# the per-session span count below is quadratic, so the set stays small).
SHARED_SET = [
    "zeek__http_1000-requests-one-dropped-response.pcap",
]


@needs_editcap
@pytest.mark.parametrize("name", SHARED_SET)
def test_shared_captures(tmp_path: Path, name: str) -> None:
    cap = SHARED / name
    if not cap.is_file():
        pytest.skip(
            f"../shared/captures/{name} not present (only in the project's CI/dev checkout)"
        )
    whole = capgap.analyze(str(cap))
    total_spanning = 0
    for cut in (["-c", "97"], ["-i", "2"]):
        pieces = split(cap, tmp_path / "-".join(cut), *cut)
        assert_same(whole, capgap.concat(chain(pieces)), pieces)
        total_spanning += spanning(whole, pieces)
    assert total_spanning > 0


# ---- errors -------------------------------------------------------------------------------------


@pytest.fixture()
def state(tmp_path: Path) -> capgap.FlowState:
    cap = hard_capture(tmp_path / "hard.pcap")
    _, s = capgap.analyze_piece(str(cap))
    assert s is not None and s.open_sessions > 0
    return s


def test_state_round_trip_and_pickle(state: capgap.FlowState, tmp_path: Path) -> None:
    data = bytes(state)
    again = capgap.FlowState.from_bytes(data)
    assert bytes(again) == data
    assert bytes(pickle.loads(pickle.dumps(state))) == data
    state.save(str(tmp_path / "s"))
    assert bytes(capgap.FlowState.load(str(tmp_path / "s"))) == data
    assert data[:8] == b"CAPGAPFS"


def test_wrong_version(state: capgap.FlowState) -> None:
    data = bytearray(bytes(state))
    data[8] = 2
    with pytest.raises(capgap.FormatError, match=r"st:offset 8: flow state format version 2"):
        capgap.FlowState.from_bytes(bytes(data), "st")


def test_flipped_byte(state: capgap.FlowState) -> None:
    data = bytearray(bytes(state))
    data[len(data) // 2] ^= 0x10
    with pytest.raises(capgap.FormatError, match=r"st:offset 24: body CRC-32 mismatch"):
        capgap.FlowState.from_bytes(bytes(data), "st")


def test_truncated(state: capgap.FlowState) -> None:
    data = bytes(state)
    with pytest.raises(capgap.FormatError, match=r"st:offset 16: body of \d+ bytes, \d+ present"):
        capgap.FlowState.from_bytes(data[:-5], "st")
    with pytest.raises(capgap.FormatError, match=r"st:offset 0: not a capgap flow state"):
        capgap.FlowState.from_bytes(data[:5], "st")


def test_options_mismatch(state: capgap.FlowState, tmp_path: Path) -> None:
    cap = hard_capture(tmp_path / "again.pcap")
    with pytest.raises(
        capgap.ParseError, match=r"tracker.duplicate_window_ns|tracker.drop_duplicates"
    ):
        capgap.analyze_piece(str(cap), resume=state, drop_duplicates=True)
    with pytest.raises(
        capgap.ParseError, match=r"tracker.reorder_window_ns = 3000000, this analysis has 5000000"
    ):
        capgap.analyze_piece(str(cap), resume=state, reorder_window_ms=5)
    with pytest.raises(capgap.ParseError, match=r"filter"):
        capgap.analyze_piece(str(cap), resume=state, bpf="tcp")


def test_resumed_into_an_earlier_file_is_counted(state: capgap.FlowState, tmp_path: Path) -> None:
    """A state resumed into a file whose packets lie long before its clock: counted as one
    run over the files concatenated in that order counts it (a step back of the clock)."""
    early = Conn("10.9.0.2", 40000, "10.9.0.1", 80, T0_NS - 3 * 3_600 * 10**9)
    early.handshake()
    early.c2s(ACK | PSH, 10)
    early.close()
    path = tmp_path / "early.pcap"
    path.write_bytes(pcap_bytes(early.packets))
    r, _ = capgap.analyze_piece(str(path), resume=state)
    assert r.ingest.timestamp_steps_back == 1
    assert r.ingest.timestamp_jumps_followed == 1
    assert r.ingest.packets_out_of_time_order == 1


def test_cli_save_and_resume(tmp_path: Path) -> None:
    cli = REPO / "build" / "capgap"
    if not cli.is_file() or EDITCAP is None:
        pytest.skip("the capgap CLI (build/capgap) or editcap is missing")
    cap = hard_capture(tmp_path / "hard.pcap")
    pieces = split(cap, tmp_path / "pieces", "-c", "80")
    whole = subprocess.run(
        [str(cli), "analyze", str(cap), "--quiet", "--sessions-out", str(tmp_path / "w.csv")],
        check=True,
        capture_output=True,
    )
    assert whole.returncode == 0
    prev = None
    for i, p in enumerate(pieces):
        args = [
            str(cli),
            "analyze",
            str(p),
            "--quiet",
            "--sessions-out",
            str(tmp_path / f"s{i}.csv"),
        ]
        if prev is not None:
            args += ["--resume-state", str(prev)]
        if i < len(pieces) - 1:
            prev = tmp_path / f"state{i}"
            args += ["--save-state", str(prev)]
        subprocess.run(args, check=True, capture_output=True)
    w = (tmp_path / "w.csv").read_text().splitlines()
    rows = []
    for i in range(len(pieces)):
        rows += (tmp_path / f"s{i}.csv").read_text().splitlines()[1:]

    def strip(line: str) -> str:  # the source column is last
        return line.rsplit(",", 1)[0]

    assert sorted((int(r.split(",")[0]), strip(r)) for r in rows) == [
        (int(r.split(",")[0]), strip(r)) for r in w[1:]
    ]
    bad = tmp_path / "bad"
    bad.write_bytes(b"CAPGAPFS" + bytes(30))
    res = subprocess.run(
        [str(cli), "analyze", str(pieces[1]), "--quiet", "--resume-state", str(bad)],
        capture_output=True,
    )
    assert res.returncode == 2
    assert f"{bad}:offset 8: flow state format version 0" in res.stderr.decode()
