"""capgap on broken input: never a crash or a hang.

Every file of ../shared/captures/malformed/ and truncations of real captures (cut inside the
file header, inside a record header, inside a packet) must give exit 0 with the problem reported
(a warning in the text, an entry in the JSON ingest problems) or exit 2 with a message naming
the file. A negative return code (a signal) or a run over 10 s fails.
"""

from __future__ import annotations

import csv
import json
import struct
import subprocess
from pathlib import Path

import pytest
from _report_text import classic_text
from conftest import REPO_ROOT, SHARED_CAPTURES, run_cli

TIMEOUT = 10
MALFORMED = SHARED_CAPTURES / "malformed"


def malformed_files() -> list[str]:
    return sorted(p.name for p in MALFORMED.iterdir()) if MALFORMED.is_dir() else []


def damaged_in_manifest() -> set[str]:
    """Malformed captures that hold readable packets before the damage (tshark cut-short or
    corrupt): capgap must report them with a problem when it exits 0."""
    manifest = MALFORMED / "MANIFEST.tsv"
    if not manifest.is_file():
        return set()
    with manifest.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {
        r["file"]
        for r in rows
        if any(s in r["notes"] for s in ("tshark_status: cut-short", "tshark_status: corrupt"))
    }


def check_run(cli: Path, path: Path, must_report_problem: bool) -> None:
    """The contract for one broken input; see the module docstring."""
    try:
        proc = run_cli(cli, "analyze", "--format", "json", str(path), timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"capgap analyze {path.name} ran longer than {TIMEOUT} s")
    assert proc.returncode >= 0, f"{path.name}: killed by signal {-proc.returncode}"
    assert proc.returncode in (0, 2), (
        f"{path.name}: exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    )
    if proc.returncode == 2:
        assert path.name in proc.stderr, f"exit 2 without naming the file: {proc.stderr!r}"
        return
    report = json.loads(proc.stdout)
    assert "total_sessions" in report["summary"]
    if must_report_problem:
        assert report["ingest"]["problems"], f"{path.name}: damage not reported: {report}"
        text = run_cli(cli, "analyze", str(path), timeout=TIMEOUT)
        assert text.returncode == 0
        assert classic_text(text.stdout).startswith("Total Sessions: ")
        assert "warning" in (text.stdout + text.stderr).lower(), text.stdout


@pytest.mark.parametrize("name", malformed_files() or ["(no ../shared/captures/malformed)"])
def test_malformed_capture(cli: Path, shared_captures: Path, name: str) -> None:
    path = MALFORMED / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    check_run(cli, path, name in damaged_in_manifest())


# --------------------------------------------------------------------------------------------
# truncations


def pcap_cuts(data: bytes) -> dict[str, int]:
    """Offsets inside the file header, the second record's header, the first packet's data."""
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    (incl,) = struct.unpack(endian + "I", data[32:36])
    second = 24 + 16 + incl
    assert second + 16 < len(data), "need at least two records"
    return {"file_header": 13, "record_header": second + 7, "packet_data": 24 + 16 + incl // 2}


def pcapng_cuts(data: bytes) -> dict[str, int]:
    """Offsets inside the section header block, a packet block's header, a packet's data."""
    endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(endian + "II", data[off : off + 8])
        if btype in (6, 3):  # enhanced or simple packet block
            return {"file_header": 10, "record_header": off + 6, "packet_data": off + 40}
        off += blen
    raise AssertionError("no packet block found")


TRUNCATED_SOURCES = [
    REPO_ROOT / "tests" / "data" / "real" / "lo_mixed.pcap",
    SHARED_CAPTURES / "pcapplusplus__nanosecs_big_endian.pcap",
    SHARED_CAPTURES / "sanders__http_ip4and6.pcapng",
    SHARED_CAPTURES / "zeek__wikipedia.pcap",
]


@pytest.mark.parametrize("where", ["file_header", "record_header", "packet_data"])
@pytest.mark.parametrize("source", TRUNCATED_SOURCES, ids=lambda p: p.name)
def test_truncated_capture(cli: Path, tmp_path: Path, source: Path, where: str) -> None:
    if not source.is_file():
        pytest.skip(f"{source} not present (../shared/captures only in the CI/dev checkout)")
    data = source.read_bytes()
    cuts = pcapng_cuts(data) if data[:4] == b"\x0a\x0d\x0d\x0a" else pcap_cuts(data)
    cut = tmp_path / f"cut-{where}-{source.name}"
    cut.write_bytes(data[: cuts[where]])
    # Cut inside the file header nothing is readable; later cuts leave complete packets before
    # the damage, which must be reported when capgap carries on.
    check_run(cli, cut, must_report_problem=where != "file_header")


def test_empty_file(cli: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    check_run(cli, empty, must_report_problem=False)
