"""`capgap csv` end to end: the hand-checkable CSVs of tests/data/csv, the input errors, and a
cross-check on every capture of ../shared/captures with SYNs.

For each capture, tshark (4.0.17) exports the SYN list (`tcp.flags.syn==1 && tcp.flags.ack==0`)
and the lost list (`tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment`) at test time in
two styles:

- fields: tshark field names with tcp.stream (the join is on the stream);
- GUI: the GUI's columns (`-e _ws.col.No. ... -e _ws.col.Info`) under the GUI's header
  "No.","Time","Source","Destination","Protocol","Length","Info" (no stream column: the join is
  by 4-tuple and time, counting-rules.md section 7).

The reference is tshark's own per-stream join of the fields-style lists, computed here: the
streams in the SYN list are the sessions (a stream whose SYN is not its first packet in capture
order, as in zeek__tcp_handshake-reorder, still has one), and a session is bad when its stream
has a row in the lost list (a packet carrying either flag). Both styles must give the
reference total and bad counts; the GUI style may differ only where KNOWN_GUI_DIFFERENCES
says why. `capgap analyze --mode wireshark` on the capture itself must give the same figures,
apart from KNOWN_ANALYZE_DIFFERENCES (expected failures only while they differ).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT, captures_with_syns, run_cli

DATA = REPO_ROOT / "tests" / "data" / "csv"
TSHARK_TIMEOUT = 300

SYN_FILTER = "tcp.flags.syn==1 && tcp.flags.ack==0"
LOST_FILTER = "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment"
FIELDS = [
    "frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
    "ipv6.dst", "tcp.dstport", "tcp.stream", "tcp.seq_raw", "_ws.col.Info",
]  # fmt: skip
LOST_FLAGS = ["tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment"]
GUI_FIELDS = [
    "_ws.col.No.", "_ws.col.Time", "_ws.col.Source", "_ws.col.Destination",
    "_ws.col.Protocol", "_ws.col.Length", "_ws.col.Info",
]  # fmt: skip
GUI_HEADER = '"No.","Time","Source","Destination","Protocol","Length","Info"\n'

# capture -> ((total, bad) that the GUI-style export gives, why it differs from tshark's
# per-stream join). Each is a limit of the GUI export, not of the join: when an application
# dissector (HTTP "Continuation", TPKT) replaces the Info column, a lost row keeps its
# addresses but loses its ports; with two connections between the same addresses open at the
# row's time nothing in the export says which one it belongs to, so capgap reports the row as
# unmatched (ambiguous) instead of guessing (counting-rules.md section 7: never dropped silently).
KNOWN_GUI_DIFFERENCES: dict[str, tuple[tuple[int, int], str]] = {
    "pcapplusplus__many-protocols.pcap": (
        (124, 2),
        "frames 2940 and 2943 ('[TCP Previous segment not captured] Continuation', "
        "212.58.246.107 -> 10.0.0.1) have no ports and two connections between those "
        "addresses were open: 2 ambiguous unmatched events, that stream is missed",
    ),
    "zeek__rdp_rdp-proprietary-encryption.pcap": (
        (2, 0),
        "all 9 lost rows are TPKT 'Continuation' rows without ports, and both sessions join "
        "the same two addresses: 9 ambiguous unmatched events",
    ),
}

# capture -> why `capgap analyze --mode wireshark` may differ from the CSV workflow's figures
# (the CSV figures are tshark's). Such a capture is an expected failure only while it differs.
KNOWN_ANALYZE_DIFFERENCES: dict[str, str] = {
    "markofu__ftp-crack.pcap": (
        "the trace is recorded twice (frame 9877 repeats frame 12 with the same time and "
        "ISNs): each repeated SYN comes after its connection closed with FINs, so capgap starts "
        "a new instance (counting-rules.md 2.2c, edge case 14) where tshark keeps one stream"
    ),
    "suricata__bug-76.pcap": (
        "frame 46 is a malformed SYN ([Malformed Packet], data offset below 5): capgap skips "
        "it as bad_tcp_header, tshark still gives it a stream with a SYN (counting-rules.md 4)"
    ),
    "suricata__tcp-fastopen-10-syn-data-ignore.pcap": (
        "frame 14 is a SYN-ACK with a new ISN answering the instance's own SYN: it stays in "
        "the instance and is not a loss; tshark 4.0.17 flags the jump (counting-rules.md 2.3, edge "
        "case 36)"
    ),
}


CAPTURES = captures_with_syns()
#: The per-capture tests' parameters: without ../shared, one skipped that says why.
CAPTURE_PARAMS = CAPTURES or [
    pytest.param(
        "none",
        marks=pytest.mark.skip(
            reason="../shared/captures not present (only in the project's CI/dev checkout)"
        ),
    )
]


def tshark_fields(
    tshark: str, capture: Path, display_filter: str, fields: list[str], header: bool
) -> str:
    cmd = [tshark, "-n", "-r", str(capture), "-Y", display_filter, "-T", "fields"]
    cmd += ["-E", "separator=,", "-E", "quote=d"]
    if header:
        cmd += ["-E", "header=y"]
    for name in fields:
        cmd += ["-e", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TSHARK_TIMEOUT, check=False)
    if proc.returncode != 0:
        pytest.fail(f"tshark failed on {capture.name}: {proc.stderr}")
    return proc.stdout


def tshark_reference(syn_csv: Path, lost_csv: Path) -> tuple[int, int]:
    """tshark's own per-stream join of its two lists: (streams in the SYN list, of which
    streams with a row in the lost list). Computed here, independently of capgap."""
    with syn_csv.open(newline="") as f:
        syn = {row["tcp.stream"] for row in csv.DictReader(f) if row["tcp.stream"]}
    with lost_csv.open(newline="") as f:
        lost = {row["tcp.stream"] for row in csv.DictReader(f) if row["tcp.stream"]}
    return len(syn), len(syn & lost)


@dataclass
class CsvRun:
    total: int
    bad: int
    unmatched: int
    report: dict


def capgap_csv(cli: Path, syn: Path, lost: Path, *extra: str) -> CsvRun:
    proc = run_cli(
        cli, "csv", "--syn", str(syn), "--lost", str(lost), "--format", "json",
        "--mode", "wireshark", *extra,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"capgap csv {syn.name} {lost.name} exited {proc.returncode}:\n{proc.stderr}")
    report = json.loads(proc.stdout)
    s = report["summary"]
    return CsvRun(s["total_sessions"], s["bad_sessions"], s["unmatched_events"], report)


def export_both_styles(tshark: str, capture: Path, out: Path) -> dict[str, tuple[Path, Path]]:
    """The four CSVs of a capture: fields style and GUI style, SYN list and lost list."""
    files = {
        "fields": (out / "fields_syn.csv", out / "fields_lost.csv"),
        "gui": (out / "gui_syn.csv", out / "gui_lost.csv"),
    }
    files["fields"][0].write_text(tshark_fields(tshark, capture, SYN_FILTER, FIELDS, True))
    files["fields"][1].write_text(
        tshark_fields(tshark, capture, LOST_FILTER, FIELDS + LOST_FLAGS, True)
    )
    # The GUI's header, as "Export Packet Dissections > As CSV" writes it.
    files["gui"][0].write_text(
        GUI_HEADER + tshark_fields(tshark, capture, SYN_FILTER, GUI_FIELDS, False)
    )
    files["gui"][1].write_text(
        GUI_HEADER + tshark_fields(tshark, capture, LOST_FILTER, GUI_FIELDS, False)
    )
    return files


# ---------------------------------------------------------------------------------------------
# Hand-checkable files (tests/data/csv/README.md)

HAND_CHECKED = [
    # (pair, extra arguments, total, bad, unmatched events)
    ("gui_new", (), 3, 2, 1),
    ("gui_new", ("--server", "192.168.80.12:443"), 2, 1, 1),
    ("gui_old", (), 3, 1, 0),
    ("fields", (), 3, 2, 1),
    ("sanitized", (), 2, 1, 0),
]


@pytest.mark.parametrize(("pair", "extra", "total", "bad", "unmatched"), HAND_CHECKED)
def test_hand_checked(cli, pair, extra, total, bad, unmatched):
    run = capgap_csv(cli, DATA / f"{pair}_syn.csv", DATA / f"{pair}_lost.csv", *extra)
    assert (run.total, run.bad, run.unmatched) == (total, bad, unmatched)
    assert run.report["summary"]["join"] == "instance"


def test_bad_rows_are_counted_with_lines(cli):
    run = capgap_csv(cli, DATA / "sanitized_syn.csv", DATA / "sanitized_lost.csv")
    ingest = run.report["ingest"]
    assert ingest["csv_rows"] == 7
    assert ingest["csv_bad_rows"] == 4
    assert ingest["csv_bad_lines"] == [3, 5, 2, 4]


@pytest.mark.parametrize(
    ("pair", "total", "bad"),
    [("gui_old", 4, 3), ("gui_new", 4, 1)],
)
def test_socket_join(cli, pair, total, bad):
    run = capgap_csv(cli, DATA / f"{pair}_syn.csv", DATA / f"{pair}_lost.csv", "--join", "socket")
    assert (run.total, run.bad) == (total, bad)
    assert run.report["summary"]["join"] == "socket"


def test_compare_joins(cli):
    proc = run_cli(
        cli, "csv", "--syn", str(DATA / "gui_old_syn.csv"), "--lost",
        str(DATA / "gui_old_lost.csv"), "--compare-joins",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Total Sessions: 3" in proc.stdout
    assert "socket" in proc.stdout
    assert "75.00%" in proc.stdout
    assert "33.33%" in proc.stdout


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("missing_column.csv", "missing required column"),
        ("empty.csv", "empty file"),
        ("binary.csv", "binary file"),
        ("semicolon.csv", "wrong delimiter"),
    ],
)
@pytest.mark.parametrize("which", ["--syn", "--lost"])
def test_input_errors_exit_2(cli, name, problem, which):
    good = {"--syn": DATA / "gui_old_syn.csv", "--lost": DATA / "gui_old_lost.csv"}
    good[which] = DATA / name
    proc = run_cli(cli, "csv", "--syn", str(good["--syn"]), "--lost", str(good["--lost"]))
    assert proc.returncode == 2, proc.stdout
    assert name in proc.stderr
    assert problem in proc.stderr
    if name == "missing_column.csv":
        assert '"No.","Source","Destination","Info"' in proc.stderr


# ---------------------------------------------------------------------------------------------
# Cross-check against tshark and against `capgap analyze`


@dataclass
class Exported:
    reference: tuple[int, int]  # tshark's per-stream join
    files: dict[str, tuple[Path, Path]]  # style -> (SYN list, lost list)


@pytest.fixture(scope="module")
def exported(shared_captures, tshark, tmp_path_factory) -> dict[str, Exported]:
    """Every capture's reference and CSVs, made once, several tshark processes at a time."""
    root = tmp_path_factory.mktemp("csv_exports")

    def one(capture: str) -> Exported:
        path = shared_captures / capture
        out = root / path.stem
        out.mkdir()
        files = export_both_styles(tshark, path, out)
        return Exported(tshark_reference(*files["fields"]), files)

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return dict(zip(CAPTURES, pool.map(one, CAPTURES)))


@pytest.mark.parametrize("capture", CAPTURE_PARAMS)
def test_csv_matches_tshark_stream_join(cli, exported, capture):
    reference = exported[capture].reference
    files = exported[capture].files

    fields = capgap_csv(cli, *files["fields"])
    assert (fields.total, fields.bad) == reference, "tshark field names with tcp.stream"

    gui = capgap_csv(cli, *files["gui"])
    expected, _why = KNOWN_GUI_DIFFERENCES.get(capture, (reference, ""))
    assert (gui.total, gui.bad) == expected, "GUI columns, joined by 4-tuple and time"


@pytest.mark.parametrize("capture", CAPTURE_PARAMS)
def test_csv_matches_analyze_wireshark_mode(cli, shared_captures, exported, capture):
    fields = capgap_csv(cli, *exported[capture].files["fields"])
    proc = run_cli(
        cli, "analyze", str(shared_captures / capture), "--mode", "wireshark", "--format", "json"
    )
    got = None
    if proc.returncode == 0:
        summary = json.loads(proc.stdout)["summary"]
        got = (summary["total_sessions"], summary["bad_wireshark"])
    if got != (fields.total, fields.bad) and capture in KNOWN_ANALYZE_DIFFERENCES:
        pytest.xfail(KNOWN_ANALYZE_DIFFERENCES[capture])
    assert proc.returncode == 0, proc.stderr
    assert got == (fields.total, fields.bad)
