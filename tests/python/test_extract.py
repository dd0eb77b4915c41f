"""Extraction (--extract-bad, --extract*, Report.extract): tshark reads the pcapng written, and
its TCP sessions are exactly the chosen ones, every packet of them, with the loss notes.

The capture is built here with its ground truth: which connections lost a packet, and which
packet revealed it. The expected packets come from tshark's view of the original capture
(its tcp.stream of each connection, found by 4-tuple and SYN), never from capgap's output.
"""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import pytest
from _capture_builder import ACK, PSH, SERVER, SYN, T0_NS, Conn, pcap_bytes, scenario_packets
from conftest import run_cli

import capgap

REUSED_PORT = 41000
FIELDS = [
    "frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "tcp.stream", "ip.src",
    "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags", "tcp.len",
]  # fmt: skip


def reuse_packets() -> list[tuple[int, bytes]]:
    """One 4-tuple used twice: the first connection is clean, the second (a new SYN with a new
    ISN after the first closed) loses a client segment that the server acknowledges."""
    first = Conn("10.0.0.9", REUSED_PORT, SERVER, 80, T0_NS + 6 * 10**9)
    first.handshake()
    first.c2s(PSH | ACK, 300)
    first.s2c(ACK)
    first.close()
    second = Conn("10.0.0.9", REUSED_PORT, SERVER, 80, T0_NS + 6 * 10**9 + 500_000_000,
                  isn_c=50_000, isn_s=90_000)  # fmt: skip
    second.handshake()
    second.c2s(PSH | ACK, 100)
    second.c2s(PSH | ACK, 100, keep=False)  # the capture misses it
    second.c2s(PSH | ACK, 100)
    second.s2c(ACK)  # acknowledges all 300 bytes: reveals the loss
    second.close()
    return first.packets + second.packets


#: The bad connections (client port, client ISN), the sender of the missing bytes, and the
#: (source port, ACK number) of the packet that reveals the loss: the first ACK past the hole.
BAD = {
    (40001, 1000): ("c2s", (80, 1000 + 1 + 300)),  # scenario B
    (40005, 1000): ("s2c", (40005, 5000 + 1 + 200)),  # scenario F
    (REUSED_PORT, 50_000): ("c2s", (80, 50_000 + 1 + 300)),
}


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    packets = sorted(scenario_packets() + reuse_packets(), key=lambda p: p[0])
    path = tmp_path_factory.mktemp("extract") / "capture.pcap"
    path.write_bytes(pcap_bytes(packets))
    return path


_original_rows: dict[Path, list[dict]] = {}


def original_rows(tshark: str, capture: Path) -> list[dict]:
    """tshark_rows of the capture built above, read once per module."""
    if capture not in _original_rows:
        _original_rows[capture] = tshark_rows(tshark, capture)
    return _original_rows[capture]


def tshark_rows(tshark: str, path: Path) -> list[dict]:
    """Every frame as tshark sees it: FIELDS, its comments (a list) and its raw bytes."""
    args = [tshark, "-n", "-r", str(path), "-T", "json"]
    fields = json.loads(
        subprocess.run(
            [*args, *[x for f in [*FIELDS, "frame.comment"] for x in ("-e", f)]],
            capture_output=True,
            text=True,
            check=True,
        ).stdout  # fmt: skip
    )
    raw = json.loads(subprocess.run([*args, "-x"], capture_output=True, text=True,
                                    check=True).stdout)  # fmt: skip
    assert len(raw) == len(fields)
    rows = []
    for f, r in zip(fields, raw):
        layers = f["_source"]["layers"]
        row = {k: layers[k][0] for k in FIELDS}
        row["comments"] = layers.get("frame.comment", [])
        row["raw"] = r["_source"]["layers"]["frame_raw"][0]
        rows.append(row)
    return rows


def key(row: dict) -> tuple:
    """A packet, without its position or stream number in its file."""
    return tuple(row[k] for k in FIELDS if k not in ("frame.number", "tcp.stream")) + (row["raw"],)


def expected_rows(tshark: str, capture: Path, chosen: set[tuple[int, int]]) -> list[dict]:
    """tshark's packets of the original capture in the streams whose SYN (client port, ISN)
    is in `chosen`, in capture order."""
    rows = original_rows(tshark, capture)
    streams = {
        r["tcp.stream"]
        for r in rows
        if int(r["tcp.flags"], 16) & (SYN | ACK) == SYN
        and (int(r["tcp.srcport"]), int(r["tcp.seq_raw"])) in chosen
    }
    assert len(streams) == len(chosen), "tshark must see one stream per connection"
    return [r for r in rows if r["tcp.stream"] in streams]


def check_extracted(tshark: str, capture: Path, out: Path, chosen: set[tuple[int, int]]) -> None:
    got = tshark_rows(tshark, out)
    want = expected_rows(tshark, capture, chosen)
    # Every packet of the chosen sessions, nothing else, in capture order, bytes and
    # lengths and times as in the original.
    assert [key(r) for r in got] == [key(r) for r in want]
    # The sessions tshark finds in the extract, by 4-tuple and SYN, are the chosen ones.
    syns = {
        (int(r["tcp.srcport"]), int(r["tcp.seq_raw"]))
        for r in got
        if int(r["tcp.flags"], 16) & (SYN | ACK) == SYN
    }
    assert syns == chosen
    assert len({r["tcp.stream"] for r in got}) == len(chosen)


def test_cli_extract_bad(cli: Path, tshark: str, capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "bad.pcapng"
    proc = run_cli(cli, "analyze", str(capture), "--extract-bad", str(out))
    assert proc.returncode == 0, proc.stderr
    check_extracted(tshark, capture, out, set(BAD))

    got = tshark_rows(tshark, out)
    # The loss notes sit on the packets that revealed the loss (ground truth), and only there.
    notes = {
        (int(r["tcp.srcport"]), int(r["tcp.ack_raw"])): c
        for r in got
        for c in r["comments"]
        if "acked_unseen" in c
    }
    assert set(notes) == {reveal for _, reveal in BAD.values()}
    for direction, reveal in BAD.values():
        assert notes[reveal].startswith(
            f"capgap: acked_unseen {direction}, 100 bytes missing before this ACK"
        )


def test_port_reuse_extracts_only_the_bad_instance(
    cli: Path, tshark: str, capture: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bad.pcapng"
    assert run_cli(cli, "analyze", str(capture), "--extract-bad", str(out)).returncode == 0
    original = [r for r in original_rows(tshark, capture) if REUSED_PORT in
                (int(r["tcp.srcport"]), int(r["tcp.dstport"]))]  # fmt: skip
    assert len({r["tcp.stream"] for r in original}) == 2
    second = [r for r in original if r["tcp.stream"] == original[-1]["tcp.stream"]]
    got = [r for r in tshark_rows(tshark, out) if REUSED_PORT in
           (int(r["tcp.srcport"]), int(r["tcp.dstport"]))]  # fmt: skip
    assert 0 < len(got) == len(second) < len(original)
    assert [key(r) for r in got] == [key(r) for r in second]


def test_cli_extract_ids_server_and_category(
    cli: Path, tshark: str, capture: Path, tmp_path: Path
) -> None:
    sessions = tmp_path / "sessions.csv"
    out = tmp_path / "some.pcapng"
    # Ids as --sessions-out numbers them: the clean first use of the reused port, and B.
    proc = run_cli(cli, "analyze", str(capture), "--sessions-out", str(sessions), "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = sessions.read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    port_of = {int(r["session_id"]): int(r["client_port"]) for r in rows}
    first_reuse = min(i for i, p in port_of.items() if p == REUSED_PORT)
    b = next(i for i, p in port_of.items() if p == 40001)
    proc = run_cli(cli, "analyze", str(capture), "--extract-out", str(out),
                   "--extract", f"{first_reuse},{b}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    check_extracted(tshark, capture, out, {(REUSED_PORT, 1000), (40001, 1000)})

    # The SYN-only connection C by its category; the bad ones of one client by server + bad.
    proc = run_cli(cli, "analyze", str(capture), "--extract-out", str(out),
                   "--extract-category", "syn_only")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    check_extracted(tshark, capture, out, {(40002, 1000)})
    proc = run_cli(cli, "analyze", str(capture), "--extract-bad", str(out),
                   "--extract-server", f"{SERVER}:80", "--extract", f"{b}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    check_extracted(tshark, capture, out, {(40001, 1000)})


def test_cli_extract_errors(cli: Path, capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.pcapng"
    proc = subprocess.run([str(cli), "analyze", "-", "--extract-bad", str(out)],
                          input=capture.read_bytes(), capture_output=True, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert b"standard input is read once" in proc.stderr
    assert proc.stdout == b""  # said before the first reading, not after the report
    assert not out.exists()
    proc = run_cli(cli, "analyze", str(capture), "--extract", "1")
    assert proc.returncode == 1 and "--extract-out" in proc.stderr
    proc = run_cli(cli, "analyze", str(capture), "--extract-out", str(out), "--extract", "999")
    assert proc.returncode == 2 and "session 999 is not in the report" in proc.stderr
    assert not out.exists()
    proc = run_cli(cli, "analyze", str(capture), "--extract-out", str(out), "--extract", "2-x")
    assert proc.returncode == 1 and "'2-x'" in proc.stderr
    proc = run_cli(cli, "analyze", str(capture), "--extract-out", str(out),
                   "--extract-category", "partial")  # fmt: skip
    assert proc.returncode == 1 and "not in the report" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no temporary left behind


def test_python_extract(tshark: str, capture: Path, tmp_path: Path) -> None:
    report = capgap.analyze(capture)
    out = tmp_path / "bad.pcapng"
    result = report.extract(out)
    assert result.sessions == 3
    check_extracted(tshark, capture, out, set(BAD))
    assert result.packets == len(tshark_rows(tshark, out))

    # Ids from a DataFrame, a Series, a list, one int: the same sessions.
    df = report.sessions.to_pandas()
    chosen = df[df.client_port == 40005]
    for sessions in (
        chosen,
        chosen.session_id,
        list(chosen.session_id),
        int(chosen.session_id.iloc[0]),
    ):
        assert report.extract(out, sessions).sessions == 1
        check_extracted(tshark, capture, out, {(40005, 1000)})

    # A report that does not know its capture (unpickled) needs it given.
    copy = pickle.loads(pickle.dumps(report))
    with pytest.raises(ValueError, match="capture="):
        copy.extract(out)
    assert copy.extract(out, capture=capture).sessions == 3
    check_extracted(tshark, capture, out, set(BAD))

    with pytest.raises(ValueError, match="not in the report"):
        report.extract(out, [10_000])
    with open(capture, "rb") as f:
        streamed = capgap.analyze(f)
    with pytest.raises(ValueError, match="capture="):
        streamed.extract(out)


def test_extract_from_a_pipe_says_why(capture: Path, tmp_path: Path) -> None:
    report = capgap.analyze(capture)
    with pytest.raises(capgap.CaptureError, match="read once"):
        report.extract(tmp_path / "x.pcapng", capture="/dev/stdin")
