"""capgap on the project's recorded loopback captures, against their ground truth.

Each capture under tests/data/real (and the README's sample) was recorded with tcpdump and then
damaged on purpose by tests/tools/pcaptools.py, one action per session (a dropped data segment,
a dropped SYN-ACK, a swapped pair...). The *.truth.json beside it says what was done and the
verdict that follows from counting-rules.md; the expected numbers come only from that file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _report_text import classic_text
from conftest import REPO_ROOT, analyze, as_bool, run_cli

CAPTURES = sorted((REPO_ROOT / "tests" / "data" / "real").glob("*.pcap")) + [
    REPO_ROOT / "examples" / "data" / "sample.pcap"
]


def truth_of(capture: Path) -> dict:
    return json.loads(capture.with_suffix(".truth.json").read_text())


def test_captures_are_committed() -> None:
    assert len(CAPTURES) >= 3
    for cap in CAPTURES:
        assert cap.is_file(), cap
        assert cap.with_suffix(".truth.json").is_file(), cap
        truth = truth_of(cap)
        assert truth["totals"]["total_sessions"] == len(truth["sessions"])
        assert truth["totals"]["bad_sessions"] == sum(s["bad_expected"] for s in truth["sessions"])
        # each committed capture exercises detectable and undetectable damage
        assert {s["bad_expected"] for s in truth["sessions"]} == {True, False}


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_sessions_match_truth(cli: Path, capture: Path, tmp_path: Path) -> None:
    truth = truth_of(capture)
    res = analyze(cli, [capture], tmp_path)
    got = {(row["client"], int(row["syn_frame"])): row for row in res.sessions}
    want = {(s["client"], s["syn_frame"]): s for s in truth["sessions"]}

    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing, f"sessions in the truth that capgap did not report: {missing}"
    assert not extra, f"sessions capgap reported that the truth does not have: {extra}"

    wrong = []
    for key, exp in sorted(want.items(), key=lambda kv: kv[0][1]):
        row = got[key]
        if row["server"] != exp["server"]:
            wrong.append(f"{key}: server {row['server']} != {exp['server']}")
        if as_bool(row["bad"]) != exp["bad_expected"]:
            wrong.append(
                f"{key}: bad={row['bad']}, expected {exp['bad_expected']} "
                f"after {exp['action']} ({exp['semantics']})"
            )
        if as_bool(row["bad_wireshark"]) != exp["bad_wireshark_expected"]:
            wrong.append(
                f"{key}: bad_wireshark={row['bad_wireshark']}, expected "
                f"{exp['bad_wireshark_expected']} after {exp['action']}"
            )
    assert not wrong, "\n".join(wrong)

    summary = res.report["summary"]
    totals = truth["totals"]
    assert summary["total_sessions"] == totals["total_sessions"]
    assert summary["bad_sessions"] == totals["bad_sessions"]
    assert summary["bad_sessions_wireshark"] == totals["bad_sessions_wireshark"]
    assert summary["partial"] == 0
    assert summary["synack_only"] == 0
    assert summary["unmatched_events"] == 0


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_wireshark_mode_headline(cli: Path, capture: Path, tmp_path: Path) -> None:
    res = analyze(cli, [capture], tmp_path, "--mode", "wireshark")
    assert (
        res.report["summary"]["bad_sessions"]
        == truth_of(capture)["totals"]["bad_sessions_wireshark"]
    )


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_text_report_first_lines(cli: Path, capture: Path) -> None:
    proc = run_cli(cli, "analyze", str(capture))
    assert proc.returncode == 0, proc.stderr
    lines = classic_text(proc.stdout).splitlines()
    assert len(lines) >= 3, proc.stdout
    totals = truth_of(capture)["totals"]
    n, m = totals["total_sessions"], totals["bad_sessions"]
    assert lines[0] == f"Total Sessions: {n}"
    assert lines[1] == f"Bad Sessions: {m}"
    assert re.fullmatch(r"Percentage: \d+\.\d\d%", lines[2]), lines[2]
    assert lines[2] == f"Percentage: {100 * m / n:.2f}%"


def test_damaged_frames_are_gone(cli: Path, tmp_path: Path) -> None:
    """The truth's frame numbers refer to the damaged capture: a session whose SYN-ACK was
    dropped has no SYN-ACK in capgap's packet count either (packets = truth's packets)."""
    capture = CAPTURES[0]
    res = analyze(cli, [capture], tmp_path)
    got = {(row["client"], int(row["syn_frame"])): row for row in res.sessions}
    for s in truth_of(capture)["sessions"]:
        assert int(got[(s["client"], s["syn_frame"])]["packets"]) == s["packets"], s["client"]
