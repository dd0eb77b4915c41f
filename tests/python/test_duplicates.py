"""SPAN duplicates: every packet of a recorded capture written twice, as two monitoring
sources deliver it. counting-rules.md section 8 row 10: duplicates never make a session bad, so the
verdicts must equal the capture's ground truth; the count of duplicates is known by
construction."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO_ROOT, analyze, rewrite_records

SAMPLE = REPO_ROOT / "examples" / "data" / "sample.pcap"


def duplicate_every_record(src: Path, dst: Path) -> int:
    return rewrite_records(src, dst, lambda frame, wirelen: [(frame, wirelen)] * 2)


def test_duplicates_are_counted_and_never_loss(cli: Path, tmp_path: Path) -> None:
    truth = json.loads(SAMPLE.with_suffix(".truth.json").read_text())["totals"]
    doubled = tmp_path / "doubled.pcap"
    records = duplicate_every_record(SAMPLE, doubled)
    for extra, dropped in (((), 0), (("--drop-duplicates",), records)):
        report = analyze(cli, [doubled], tmp_path, *extra).report
        summary, ingest = report["summary"], report["ingest"]
        assert summary["total_sessions"] == truth["total_sessions"]
        assert summary["bad_sessions"] == truth["bad_sessions"]
        assert summary["bad_wireshark"] == truth["bad_sessions_wireshark"]
        assert ingest["duplicate_packets"] == records
        assert ingest["duplicates_dropped"] == dropped
        assert ingest["packets_read"] == 2 * records
