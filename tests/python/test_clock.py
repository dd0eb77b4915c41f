"""A corrupt timestamp in a real recording: one packet dated five years ahead must give the same
sessions as the original (docs/counting-rules.md, "Time and flow expiry"), with the jump
counted in the report.

The packet is chosen with tshark: a plain segment (no SYN, FIN or RST) in the middle of a
connection on which tshark flags nothing, so its own time takes part in no reorder or duplicate
window and no session starts or ends with it. Before the clock ignored such jumps, this one
expired every open connection of the capture as idle and split them.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from conftest import REPO_ROOT, analyze, without_source

CAPTURE = REPO_ROOT / "tests" / "data" / "real" / "lo_mixed.pcap"
FIVE_YEARS_S = 5 * 365 * 86400


def pick_frame(tshark: str, capture: Path) -> int:
    """A middle frame: no SYN/FIN/RST, its connection flagged nowhere by tshark, with frames of
    that connection before and after it."""
    out = subprocess.run(
        [tshark, "-n", "-r", str(capture), "-T", "fields", "-e", "frame.number",
         "-e", "tcp.stream", "-e", "tcp.flags.syn", "-e", "tcp.flags.fin",
         "-e", "tcp.flags.reset", "-e", "tcp.analysis.flags"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    rows = [line.split("\t") for line in out.splitlines()]
    flagged = {r[1] for r in rows if len(r) > 5 and r[5]}
    frames_of: dict[str, list[int]] = {}
    for r in rows:
        frames_of.setdefault(r[1], []).append(int(r[0]))
    middle = len(rows) // 2
    candidates = [
        int(r[0])
        for r in rows
        if r[1]
        and r[1] not in flagged
        and r[2] in ("0", "False")
        and r[3] in ("0", "False")
        and r[4] in ("0", "False")
        and frames_of[r[1]][0] < int(r[0]) < frames_of[r[1]][-1]
    ]
    assert candidates, "no plain mid-connection frame in the capture"
    return min(candidates, key=lambda f: abs(f - middle))


def shift_record(src: Path, dst: Path, frame: int, seconds: int) -> None:
    """Copies the classic pcap src to dst with record `frame` (1-based) dated `seconds` later."""
    data = bytearray(src.read_bytes())
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, n = 24, 0
    while off + 16 <= len(data):
        n += 1
        sec, _, caplen, _ = struct.unpack_from(endian + "IIII", data, off)
        if n == frame:
            struct.pack_into(endian + "I", data, off, sec + seconds)
            dst.write_bytes(bytes(data))
            return
        off += 16 + caplen
    raise AssertionError(f"{src} has no frame {frame}")


def test_one_packet_years_ahead_changes_no_session(cli: Path, tshark: str, tmp_path: Path) -> None:
    frame = pick_frame(tshark, CAPTURE)
    shifted = tmp_path / "shifted.pcap"
    shift_record(CAPTURE, shifted, frame, FIVE_YEARS_S)
    # tshark sees the same packet five years later
    times = subprocess.run(
        [tshark, "-n", "-r", str(shifted), "-T", "fields", "-e", "frame.time_epoch",
         "-Y", f"frame.number == {frame - 1} || frame.number == {frame}"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()  # fmt: skip
    assert float(times[1]) - float(times[0]) > FIVE_YEARS_S - 1

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = analyze(cli, [CAPTURE], tmp_path / "a")
    got = analyze(cli, [shifted], tmp_path / "b")
    assert len(original.sessions) > 1
    assert without_source(got.sessions) == without_source(original.sessions)
    assert got.report["summary"] == original.report["summary"]

    ing, orig = got.report["ingest"], original.report["ingest"]
    assert orig["timestamp_jumps_forward"] == 0
    assert ing["timestamp_jumps_forward"] == 1
    assert ing["timestamp_steps_back"] == 0
    assert ing["timestamp_jumps_followed"] == 0
    assert ing["packets_out_of_time_order"] >= 1  # the packet after it
    assert ing["flows_idle_expired"] == orig["flows_idle_expired"]
    # first_time and last_time are the first and last packets', untouched by an outlier
    assert ing["first_time"] == orig["first_time"]
    assert ing["last_time"] == orig["last_time"]
