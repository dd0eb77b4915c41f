"""The CSV workflow in Python says what the reader saw: counters and bad rows (file and line)
reach the Report, and a SYN list without a usable SYN is an error, not an empty report.

Expected figures come from the hand-made files of tests/data/csv (their README states them)
and from the files this module writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO_ROOT

import capgap

DATA = REPO_ROOT / "tests" / "data" / "csv"
FIELDS_SYN = DATA / "fields_syn.csv"
FIELDS_LOST = DATA / "fields_lost.csv"

V4_ONLY_HEADER = "frame.number,frame.time_epoch,ip.src,tcp.srcport,ip.dst,tcp.dstport,_ws.col.Info"
LOST_HEADER = (
    "frame.number,frame.time_epoch,ip.src,tcp.srcport,ip.dst,tcp.dstport,"
    "tcp.analysis.lost_segment,tcp.analysis.ack_lost_segment"
)


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _empty_lost(tmp_path: Path) -> Path:
    return _write(tmp_path / "lost.csv", LOST_HEADER)


def test_the_files_read_as_documented() -> None:
    r = capgap.from_wireshark_csv(FIELDS_SYN, FIELDS_LOST)
    assert (r.total_sessions, r.bad_sessions, r.unmatched_events) == (3, 2, 1)
    assert r.csv is not None
    assert (r.csv.syn_rows, r.csv.lost_rows, r.csv.syn_merged) == (4, 3, 1)
    assert r.ingest.csv_rows == 7
    assert capgap.analyze(REPO_ROOT / "examples" / "data" / "sample.pcap").csv is None


def test_swapped_arguments_are_an_error() -> None:
    with pytest.raises(
        capgap.FormatError, match=r"fields_lost\.csv: 2 of 3 rows are not a pure SYN.*swapped"
    ):
        capgap.from_wireshark_csv(FIELDS_LOST, FIELDS_SYN)


def test_ipv6_export_without_ipv6_columns_is_an_error(tmp_path: Path) -> None:
    # tshark -e ip.src -e ip.dst only: IPv6 rows have empty addresses.
    syn = _write(
        tmp_path / "syn6.csv",
        V4_ONLY_HEADER,
        '1,1700000000.0,,40001,,443,"40001 → 443 [SYN] Seq=0 Win=64240 Len=0"',
        '4,1700000001.0,,40002,,443,"40002 → 443 [SYN] Seq=0 Win=64240 Len=0"',
    )
    with pytest.raises(capgap.FormatError, match=r"syn6\.csv: no SYN rows.*line 2.*ipv6\.src"):
        capgap.from_wireshark_csv(syn, _empty_lost(tmp_path))


def test_bad_rows_reach_the_report_with_file_and_line(tmp_path: Path) -> None:
    # One IPv4 SYN (a session) and one IPv6 row without address columns (line 3: bad).
    syn = _write(
        tmp_path / "mixed.csv",
        V4_ONLY_HEADER,
        '1,1700000000.0,192.0.2.1,40000,198.51.100.1,443,"40000 → 443 [SYN] Seq=0 Len=0"',
        '4,1700000001.0,,40002,,443,"40002 → 443 [SYN] Seq=0 Win=64240 Len=0"',
    )
    r = capgap.from_wireshark_csv(syn, _empty_lost(tmp_path))
    assert r.total_sessions == 1
    assert r.ingest.csv_bad_rows == 1
    assert r.ingest.csv_bad_lines == [3]
    problems = [(p.source, p.position) for p in r.ingest.problems]
    assert problems == [(str(syn), "line 3")]
    assert "line 3" in r.to_text()


def test_sanitized_files_list_every_bad_line() -> None:
    syn, lost = DATA / "sanitized_syn.csv", DATA / "sanitized_lost.csv"
    r = capgap.from_wireshark_csv(syn, lost)
    assert (r.total_sessions, r.bad_sessions) == (2, 1)
    assert (r.ingest.csv_rows, r.ingest.csv_bad_rows) == (7, 4)
    got = {(Path(p.source).name, p.position) for p in r.ingest.problems}
    assert got == {
        ("sanitized_syn.csv", "line 3"),
        ("sanitized_syn.csv", "line 5"),
        ("sanitized_lost.csv", "line 2"),
        ("sanitized_lost.csv", "line 4"),
    }
    assert r.csv is not None and sum(r.csv.bad_row_reasons.values()) == 4


def test_syn_rows_not_syn_reach_the_report(tmp_path: Path) -> None:
    syn = _write(
        tmp_path / "syn.csv",
        V4_ONLY_HEADER,
        '1,1700000000.0,192.0.2.1,40000,198.51.100.1,443,"40000 → 443 [SYN] Seq=0 Len=0"',
        '2,1700000000.1,198.51.100.1,443,192.0.2.1,40000,"443 → 40000 [SYN, ACK] Seq=0 Len=0"',
    )
    r = capgap.from_wireshark_csv(syn, _empty_lost(tmp_path))
    assert r.total_sessions == 1
    assert r.csv is not None
    assert (r.csv.syn_rows, r.csv.syn_rows_not_syn) == (2, 1)


def test_missing_columns_name_the_file() -> None:
    with pytest.raises(capgap.ParseError, match=r"missing_column\.csv.*missing required column"):
        capgap.from_wireshark_csv(DATA / "missing_column.csv", FIELDS_LOST)


def test_header_only_syn_list_is_an_empty_report(tmp_path: Path) -> None:
    # No rows at all is an honest empty export, not a mistake.
    r = capgap.from_wireshark_csv(_write(tmp_path / "s.csv", V4_ONLY_HEADER), _empty_lost(tmp_path))
    assert r.total_sessions == 0
