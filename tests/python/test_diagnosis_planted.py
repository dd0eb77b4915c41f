"""The diagnosis names the cause that was planted, and only that cause.

Each test records real TCP traffic at test time (tests/tools/record_loopback.py --profile
load: slow and fast waves over three servers and two client prefixes), plants one cause with
tests/tools/damage.py, and reads `capgap analyze --format json`'s "diagnosis"
(docs/diagnosis.md). What is expected comes from the ground truth damage.py writes (the finding
the plan must produce and the breakdown rows that show it), from tshark, or from counting the
packets of the capture here, never from capgap.

The load case is also recorded for real through a software SPAN port (tests/tools/span.py): an
nftables netdev `dup` mirror whose copies pass a named `limit` of N bytes/second, an
oversubscribed mirror port. Its knee must lie within one bucket's rate of the planted limit.

Recording needs root (tcpdump on lo; network namespaces and nftables for the SPAN port): those
tests skip with the reason otherwise.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import REPO_ROOT, SHARED_CAPTURES, analyze

sys.path.insert(0, str(REPO_ROOT / "tests" / "tools"))

import damage  # noqa: E402
import pcaptools  # noqa: E402
import record_loopback  # noqa: E402
import span  # noqa: E402

SEVERE = ("warning", "critical")
# Findings that say the capture (or the network) lost something.
LOSS_FINDINGS = {
    "load_correlated_loss",
    "one_direction_missing",
    "direction_lossier",
    "loss_concentrated",
    "capture_host_drops",
    "network_loss",
    "loss_unexplained",
}
# The load recording's fast waves last a few tenths of a second: 100 ms buckets resolve them.
BUCKET = "100ms"
BUCKET_NS = 100_000_000
# The SPAN port's phases last seconds.
SPAN_BUCKET = "1s"
SPAN_LIMIT_BYTES = 1_000_000  # the oversubscribed mirror port: 8 Mbit/s


def need_recording() -> None:
    if os.geteuid() != 0:
        pytest.skip("recording real traffic needs root (tcpdump on lo)")
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump not installed (Debian package tcpdump)")


def need_span() -> None:
    if os.geteuid() != 0:
        pytest.skip("the software SPAN port needs root (network namespaces, nftables)")
    missing = span.missing_tools()
    if missing:
        pytest.skip(f"the software SPAN port needs {', '.join(missing)} (nftables, ethtool)")


@pytest.fixture(scope="module")
def load_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean load recording per module, proven complete (no sequence hole)."""
    need_recording()
    out = tmp_path_factory.mktemp("load") / "load.pcap"
    why = ""
    for _ in range(3):
        try:
            record_loopback.record(str(out), [], False, record_loopback.WAVES["load"])
        except RuntimeError as e:  # tcpdump dropped packets (a busy machine): record again
            why = str(e)
            continue
        sessions = pcaptools.split_sessions(pcaptools.decode_file(pcaptools.read_pcap(out)))
        if not any(pcaptools.holes(s) for s in sessions):
            return out
        why = "sequence holes in the recording"
    pytest.fail(f"three load recordings in a row were incomplete: {why}")


def diagnosis(cli: Path, capture: Path, tmp_path: Path, bucket: str = BUCKET) -> dict:
    report = analyze(cli, [capture], tmp_path, "--bucket", bucket).report
    assert report is not None
    assert "diagnosis" in report, "capgap analyze --format json has no 'diagnosis' object"
    return report["diagnosis"]


def describe(findings: list[dict]) -> str:
    return "; ".join(f"{f['name']} ({f['severity']}) rows={f.get('rows')}" for f in findings)


def damaged(plan: str, recording: Path, tmp_path: Path, **kw: object) -> tuple[Path, dict]:
    ext = "pcapng" if plan == "host_drops" else "pcap"
    out = tmp_path / f"{plan}.{ext}"
    truth = damage.damage_file(plan, recording, out, **kw)
    return out, truth


# --------------------------------------------------------------------------------------------
# the damage itself, checked with tshark before capgap is asked anything


def tshark_loss_clients(tshark: str, capture: Path) -> set[str]:
    """Clients of the sessions where tshark flags lost_segment or ack_lost_segment."""
    proc = subprocess.run(
        [tshark, "-n", "-r", str(capture), "-Y",
         "tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment",
         "-T", "fields", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    out = set()
    for line in proc.stdout.splitlines():
        src, sport, dst, dport = line.split("\t")
        # The load profile's clients are 127.1.x.y; its servers 127.0.0.1-3.
        out.add(f"{src}:{sport}" if src.startswith("127.1.") else f"{dst}:{dport}")
    return out


@pytest.mark.parametrize("plan", damage.PLANS)
def test_damage_truth_agrees_with_tshark(
    plan: str, load_recording: Path, tmp_path: Path, tshark: str
) -> None:
    """The ground truth is right: tshark flags loss in exactly the sessions a drop plan
    damaged, and in none after a plan that loses nothing."""
    capture, truth = damaged(plan, load_recording, tmp_path)
    flagged = tshark_loss_clients(tshark, capture)
    if plan == "one_direction":
        # Nothing of the removed direction is left, so tshark has no sequence space to find a
        # hole in; the sessions are there, one way only.
        assert not flagged
        assert truth["removed_packets"] > 0 and truth["sessions"]["bad"] > 0
        return
    expected = set(truth["sessions"]["bad_clients"]) if truth["lossy"] else set()
    assert flagged == expected, (
        f"{plan}: tshark flags {sorted(flagged - expected)} not planted, "
        f"misses {sorted(expected - flagged)}"
    )


def test_load_plan_drops_only_above_its_threshold(load_recording: Path, tmp_path: Path) -> None:
    _, truth = damaged("load", load_recording, tmp_path)
    threshold = truth["params"]["threshold"]
    assert truth["params"]["rate_unit"] == "bits"
    assert truth["dropped"], "the load plan dropped nothing"
    assert all(r["rate"] > threshold for r in truth["dropped"])
    # The slow waves stay below: sessions damaged are fewer than all sessions.
    assert truth["sessions"]["bad"] < truth["sessions"]["answered"]


# --------------------------------------------------------------------------------------------
# the diagnosis of each planted cause


@pytest.mark.parametrize("plan", damage.PLANS)
def test_planted_cause_is_the_finding(
    plan: str, load_recording: Path, tmp_path: Path, cli: Path
) -> None:
    capture, truth = damaged(plan, load_recording, tmp_path)
    diag = diagnosis(cli, capture, tmp_path)
    findings = diag["findings"]
    name = truth["expected_finding"]
    planted = [f for f in findings if f["name"] == name]
    assert planted, f"{plan}: no {name} finding; findings: {describe(findings)}"
    assert planted[0]["severity"] in SEVERE, f"{plan}: {describe(planted)}"
    rows = [(r["table"], r["group"]) for f in planted for r in f.get("rows", [])]
    for want in truth["rows"]:
        assert (want["table"], want["group"]) in rows, (
            f"{plan}: {name} does not name {want}; its rows: {rows}"
        )
    others = [f for f in findings if f["name"] != name and f["severity"] in SEVERE]
    assert not others, f"{plan}: findings besides {name} above info: {describe(others)}"


@pytest.mark.parametrize("report", ["isb", "epb", "both"])
def test_host_drops_are_counted_as_reported(
    report: str, load_recording: Path, tmp_path: Path, cli: Path
) -> None:
    """The capture host's own count of its drops is the finding's figure: isb_ifdrop plus
    isb_osdrop of the Interface Statistics Block, or the EPB drop counts; with both, they
    count the same packets (the ISB totals what the EPBs say one by one), never twice. The
    ISB's isb_ifrecv (packets received) is no drop count."""
    capture, truth = damaged("host_drops", load_recording, tmp_path, report=report)
    drops = truth["drops"]
    assert drops == len(truth["dropped"]) > 0
    if report != "epb":
        assert truth["isb"]["ifdrop"] + truth["isb"]["osdrop"] == drops
    diag = diagnosis(cli, capture, tmp_path)
    found = [f for f in diag["findings"] if f["name"] == "capture_host_drops"]
    assert found and found[0]["severity"] in SEVERE, describe(diag["findings"])
    assert drops in found[0]["figures"].values(), (
        f"{drops} packets dropped and reported ({report}); the finding's figures: "
        f"{found[0]['figures']}"
    )


def test_truncated_capture_has_nothing_reconstructable(
    load_recording: Path, tmp_path: Path, cli: Path
) -> None:
    capture, truth = damaged("snaplen", load_recording, tmp_path)
    diag = diagnosis(cli, capture, tmp_path)
    # Every data segment lost payload beyond 96 bytes, so no session is whole.
    assert truth["truncated_packets"] > 0
    assert diag["reconstructable"]["sessions"] == 0


def test_clean_recording_gives_no_loss_finding(
    load_recording: Path, tmp_path: Path, cli: Path
) -> None:
    diag = diagnosis(cli, load_recording, tmp_path)
    findings = diag["findings"]
    loss = [f for f in findings if f["name"] in LOSS_FINDINGS]
    assert not loss, f"clean recording: {describe(loss)}"
    assert any(f["name"] == "clean_capture" for f in findings), describe(findings)
    sessions = pcaptools.split_sessions(pcaptools.decode_file(pcaptools.read_pcap(load_recording)))
    answered = sum(1 for s in sessions if s.server_isn is not None)
    assert diag["reconstructable"]["sessions"] == answered


def shared_without_loss() -> list[str]:
    """The public captures in which tshark sees no lost_segment nor ack_lost_segment."""
    manifest = SHARED_CAPTURES / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        r["file"]
        for r in rows
        if int(r["lost_segment"] or 0) == 0 and int(r["ack_lost_segment"] or 0) == 0
    ]


def tshark_retransmissions(tshark: str, capture: Path) -> int:
    proc = subprocess.run(
        [tshark, "-n", "-r", str(capture), "-Y",
         "tcp.analysis.retransmission or tcp.analysis.fast_retransmission", "-T", "fields",
         "-e", "frame.number"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return len(proc.stdout.split())


@pytest.mark.parametrize("name", shared_without_loss() or ["(none)"])
def test_shared_capture_without_loss_gives_no_loss_finding(
    name: str, shared_captures: Path, tmp_path: Path, cli: Path, tshark: str
) -> None:
    """No capture-loss finding where tshark sees no lost segment. `network_loss` says the
    capture is fine and the network retransmits: allowed only where tshark sees
    retransmissions too."""
    if name == "(none)":
        pytest.skip("../shared/captures/MANIFEST.tsv lists no capture without loss")
    capture = shared_captures / name
    report = analyze(cli, [capture], tmp_path).report
    assert report is not None and "diagnosis" in report, "no 'diagnosis' object"
    findings = report["diagnosis"]["findings"]
    loss = [f for f in findings if f["name"] in LOSS_FINDINGS - {"network_loss"}]
    assert not loss, f"{name}: tshark sees no loss, capgap finds {describe(loss)}"
    if any(f["name"] == "network_loss" for f in findings):
        assert tshark_retransmissions(tshark, capture) > 0, (
            f"{name}: network_loss where tshark sees no retransmission"
        )


# --------------------------------------------------------------------------------------------
# the timeline's gap/ACK ratio against a direct count


def bucket_start_ns(iso: str) -> int:
    """'2026-01-02T03:04:05.123456789Z' to nanoseconds since the epoch."""
    whole, _, frac = iso.rstrip("Z").partition(".")
    dt = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9])


def revealing_acks(capture: Path, truth: dict) -> dict[int, int]:
    """The ACKs above a hole, counted as Zeek's capture_loss counts gaps: every ACK that moves
    past bytes never captured. For each dropped segment that is the first packet of the other
    direction (capture order) whose ACK covers the segment's first byte; two adjacent dropped
    segments acknowledged one at a time are two such ACKs, one ACK covering both is one.
    Returns frame -> time (ns)."""
    pf = pcaptools.read_pcap(capture)
    sessions = pcaptools.split_sessions(pcaptools.decode_file(pf))
    by_client = {s.client: s for s in sessions}
    out: dict[int, int] = {}
    for d in truth["dropped"]:
        s = by_client[d["client"]]
        for p in s.packets:
            if s.direction(p) != d["direction"] and not p.rst:
                ra = s.rel_ack(p)
                if ra is not None and ra > d["rel_seq"]:
                    out[p.frame] = p.ts_ns
                    break
        else:
            pytest.fail(f"no ACK covers the segment dropped at {d}")
    return out


def test_timeline_gap_ack_ratio_matches_a_direct_count(
    load_recording: Path, tmp_path: Path, cli: Path
) -> None:
    capture, truth = damaged("s2c", load_recording, tmp_path)
    diag = diagnosis(cli, capture, tmp_path)
    tl = diag["timeline"]
    assert tl["bucket_ns"] == BUCKET_NS
    rows = tl["rows"]
    assert rows
    first = bucket_start_ns(rows[0]["start"])

    def bucket(t: int) -> int:
        return (t - first) // BUCKET_NS

    acks = [0] * len(rows)
    pf = pcaptools.read_pcap(capture)
    for p in pcaptools.decode_file(pf):
        if p is not None and p.has_ack:
            acks[bucket(p.ts_ns)] += 1
    above = [0] * len(rows)
    for t in revealing_acks(capture, truth).values():
        above[bucket(t)] += 1
    assert sum(above) > 0
    for i, r in enumerate(rows):
        assert bucket_start_ns(r["start"]) == first + i * BUCKET_NS
        assert (r["acks"], r["acks_above_hole"]) == (acks[i], above[i]), f"bucket {i}"
        want = above[i] / acks[i] if acks[i] else 0.0
        assert r["gap_ack_ratio"] == pytest.approx(want)


# --------------------------------------------------------------------------------------------
# the software SPAN port


def record_span(out: Path, **kw: object) -> dict:
    """span.record_span, recorded again (three tries) when tcpdump dropped packets."""
    why = ""
    for _ in range(3):
        try:
            return span.record_span(out, **kw)
        except span.SpanError as e:
            why = str(e)
            if "dropped" not in why:
                break
    pytest.fail(f"span.py: {why}")


@pytest.fixture(scope="module")
def span_limited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    need_span()
    out = tmp_path_factory.mktemp("span") / "span_limited.pcap"
    truth = record_span(out, limit_bytes=SPAN_LIMIT_BYTES)
    (out.parent / (out.name + ".truth.json")).write_text(json.dumps(truth, indent=1))
    return out, truth


def test_span_port_clean_gives_no_loss_finding(tmp_path: Path, cli: Path) -> None:
    need_span()
    out = tmp_path / "span_clean.pcap"
    truth = record_span(out, phases="1:3:250000,1:4:1000000")
    counters = truth["mirror_counters"]
    assert counters["offered"] == counters["mirrored"]
    diag = diagnosis(cli, out, tmp_path, SPAN_BUCKET)
    loss = [f for f in diag["findings"] if f["name"] in LOSS_FINDINGS]
    assert not loss, f"unlimited mirror: {describe(loss)}"


def test_span_port_random_loss_is_not_load_correlated(tmp_path: Path, cli: Path) -> None:
    """A mirror that loses 3% of its copies whatever the rate loses in slow and fast phases
    alike: there is loss, but no knee to find."""
    need_span()
    out = tmp_path / "span_random.pcap"
    truth = record_span(out, drop_percent=3, phases="2:3:250000,2:4:1000000,2:3:250000")
    counters = truth["mirror_counters"]
    assert counters["mirrored"]["packets"] < counters["offered"]["packets"]
    sessions = pcaptools.split_sessions(pcaptools.decode_file(pcaptools.read_pcap(out)))
    assert any(pcaptools.holes(s) for s in sessions), "3% random mirror loss left no hole"
    diag = diagnosis(cli, out, tmp_path, SPAN_BUCKET)
    load = [
        f
        for f in diag["findings"]
        if f["name"] == "load_correlated_loss" and f["severity"] in SEVERE
    ]
    assert not load, f"rate-independent loss called load-correlated: {describe(load)}"


def test_span_port_over_its_rate_is_load_correlated_loss(
    span_limited: tuple[Path, dict], tmp_path: Path, cli: Path
) -> None:
    capture, truth = span_limited
    counters = truth["mirror_counters"]
    assert counters["mirrored"]["packets"] < counters["offered"]["packets"], (
        "the limited mirror copied everything: the fast phases did not exceed the limit"
    )
    diag = diagnosis(cli, capture, tmp_path, SPAN_BUCKET)
    findings = diag["findings"]
    load = [f for f in findings if f["name"] == "load_correlated_loss"]
    assert load and load[0]["severity"] in SEVERE, describe(findings)

    limit_bps = truth["limit_bits_per_s"]
    assert limit_bps == SPAN_LIMIT_BYTES * 8
    knee = diag["load"]["knee_bits_per_s"]
    assert knee is not None
    # One bucket's rate: a bucket straddling the end of a fast phase and the start of a slow
    # one averages the two and has lost copies, so lossy buckets exist at any rate between the
    # slow phases' rate and the limit, and the knee can be placed no closer to the limit than
    # that gap: the planted slow rate below the limit (payload bits/s; the wire adds headers).
    slow_bps = max(
        p["connections"] * p["bytes_per_s_per_connection"] * 8
        for p in truth["phases"]
        if p["connections"] * p["bytes_per_s_per_connection"] < SPAN_LIMIT_BYTES
    )
    tolerance = limit_bps - slow_bps
    assert tolerance > 0
    assert abs(knee - limit_bps) <= tolerance, (
        f"knee {knee:.0f} bit/s, planted limit {limit_bps} bit/s, tolerance {tolerance:.0f}"
    )
