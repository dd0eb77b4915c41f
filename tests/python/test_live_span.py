"""`capgap live` on a software SPAN port: real TCP traffic in network namespaces, mirrored by
nftables, captured live on the mirror interface (tests/tools/span_live.py, on span.py's
namespaces and switch).

Four runs, each a few seconds of HTTP sessions (a GET of 20 kB each, 200 sessions from four
paced workers, so that the sessions spread over several one-second intervals):

- mirror loss planted: `numgen random` drops p = 2% of the mirrored copies (capture loss,
  the real traffic untouched). The expected number of bad sessions is derived, not read
  from capgap. A tcpdump on the server's own interface records the real path; in it every
  session's packets are known. A lost copy makes its session bad when the loss is visible from
  what the mirror still shows (docs/counting-rules.md): a segment carrying data (acked_unseen or
  gap_unacked), the SYN-ACK or a FIN (control_missing); a lost pure ACK is invisible (case 4).
  A session whose client SYN copy is lost is not counted at all (an instance without a SYN).
  With d_i such visible packets besides the SYN, session i is counted with probability 1 - p and
  then bad with probability q_i = 1 - (1 - p)^d_i, each copy's fate drawn independently. So
  the bad count is a sum of independent Bernoulli(r_i = (1 - p) q_i): mean sum(r_i), variance
  sum(r_i (1 - r_i)). Each interval's bad count (the sessions whose SYN fell in it) and the
  total must lie within 4 standard deviations (+ 2 sessions for the boundary between two
  intervals, which the two clocks may place a few microseconds apart) of that mean; the
  number of sessions within 4 standard deviations of (1 - p) N.
- nothing planted: every session counted, none bad, 0% in every interval.
- network loss: 2% of the frames dropped on the real path, before the mirror (span.py's
  network_drop_percent). The mirror sees the retransmissions: no capture loss, no bad session.
- kernel drops: a 1 MB capture buffer and capgap stopped (SIGSTOP) for 1.5 s during fast
  downloads: the capture host's kernel drops, reported in host_drops apart from the loss
  inferred upstream. That those sessions are then judged bad is checked too, marked as a
  known failure for now (it holds in some runs only: see its reason).

Needs root (namespaces, nftables, a capture on the mirror): skipped with the reason otherwise.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, find_cli

sys.path.insert(0, str(REPO_ROOT / "tests" / "tools"))

import pcaptools  # noqa: E402
import span  # noqa: E402
import span_live  # noqa: E402

INTERVAL_NS = 1_000_000_000
LIVE_ARGS = ["--interval", "1s", "--grace", "1s", "--cap", "3s"]
TRAFFIC = span_live.Traffic(sessions=200, workers=4, size=20_000, pace=0.08)
DROP_PERCENT = 2


@pytest.fixture(autouse=True)
def need_span() -> None:
    if os.geteuid() != 0:
        pytest.skip("the software SPAN port needs root (network namespaces, nftables)")
    missing = span.missing_tools()
    if missing:
        pytest.skip(f"the software SPAN port needs {', '.join(missing)} (nftables, ethtool)")


def run(cli: Path, tmp_path: Path, args: list[str] = LIVE_ARGS, **kw: object) -> span_live.LiveRun:
    try:
        r = span_live.run_live(cli, args, **kw)  # type: ignore[arg-type]
    except span.SpanError as e:
        pytest.fail(f"the SPAN port run failed: {e}")
    assert r.returncode == 0, r.stderr
    assert r.intervals, f"no interval reported: {r.stderr}"
    assert r.intervals[-1]["final"] is True
    return r


def truth_sessions(pcap: Path) -> list[tuple[int, int]]:
    """(SYN time in ns, packets whose loss would show) of every session on the real path."""
    out = []
    for s in pcaptools.split_sessions(pcaptools.decode_file(pcaptools.read_pcap(pcap))):
        syn = next(p for p in s.packets if p.pure_syn)
        visible = [p for p in s.packets if not p.pure_syn and (p.payload_len > 0 or p.syn or p.fin)]
        out.append((syn.ts_ns, len(visible)))
    return out


def by_interval(intervals: list[dict]) -> dict[int, dict]:
    return {iv["begin_ns"] // INTERVAL_NS: iv for iv in intervals}


def test_planted_mirror_loss_gives_the_expected_bad_share(cli: Path, tmp_path: Path) -> None:
    truth = tmp_path / "real_path.pcap"
    r = run(cli, tmp_path, traffic=TRAFFIC, drop_percent=DROP_PERCENT, truth_pcap=truth)
    assert r.tcpdump_stats.get("dropped by kernel", 0) == 0, r.tcpdump_stats
    sessions = truth_sessions(truth)
    assert len(sessions) == TRAFFIC.sessions
    p = DROP_PERCENT / 100
    mirrored = r.counters["mirrored"]["packets"] / r.counters["offered"]["packets"]
    assert abs(mirrored - (1 - p)) < 0.01, r.counters  # the planted share really was dropped

    def bounds(group: list[tuple[int, int]]) -> tuple[float, float]:
        rs = [(1 - p) * (1 - (1 - p) ** d) for _, d in group]
        return sum(rs), math.sqrt(sum(x * (1 - x) for x in rs))

    got = by_interval(r.intervals)
    groups: dict[int, list[tuple[int, int]]] = {}
    for ts, d in sessions:
        groups.setdefault(ts // INTERVAL_NS, []).append((ts, d))
    checked = 0
    for k, group in sorted(groups.items()):
        iv = got.get(k)
        assert iv is not None, f"no interval for second {k}: {sorted(got)}"
        mean, sd = bounds(group)
        assert abs(iv["bad_confirmed"] - mean) <= 4 * sd + 2, (k, iv, mean, sd, len(group))
        if iv["sessions"]:
            assert math.isclose(iv["percentage"], 100 * iv["bad"] / iv["sessions"])
        checked += len(group) >= 10
    assert checked >= 2, "the sessions did not spread over intervals"
    total_bad = sum(iv["bad_confirmed"] for iv in r.intervals)
    total = sum(iv["sessions"] for iv in r.intervals)
    mean, sd = bounds(sessions)
    assert abs(total_bad - mean) <= 4 * sd, (total_bad, mean, sd)
    n_sd = math.sqrt(len(sessions) * p * (1 - p))
    assert abs(total - (1 - p) * len(sessions)) <= 4 * n_sd + 1, total
    assert total_bad > 0


def test_nothing_planted_nothing_bad(cli: Path, tmp_path: Path) -> None:
    r = run(cli, tmp_path, traffic=TRAFFIC)
    assert sum(iv["sessions"] for iv in r.intervals) == TRAFFIC.sessions
    for iv in r.intervals:
        assert iv["bad_confirmed"] == 0 and iv["bad_wireshark"] == 0, iv
        assert iv["percentage"] == 0, iv
        assert iv["host_drops"].get("kernel_dropped", 0) == 0, iv


def test_network_loss_before_the_mirror_is_not_capture_loss(cli: Path, tmp_path: Path) -> None:
    """The grace is 5 s here: a segment lost twice on the network waits 200 ms + 400 ms + ...
    for its retransmission (SYNs 1 s + 2 s), and a session idle that long must not be judged
    before the retransmission fills its hole (docs/live.md: the grace is the time a session
    has to reveal its loss, or its repair)."""
    args = ["--interval", "1s", "--grace", "5s", "--cap", "10s"]
    r = run(cli, tmp_path, args, traffic=TRAFFIC, network_drop_percent=DROP_PERCENT, settle=1.5)
    assert r.counters["lost"]["packets"] > 0, r.counters  # the network did lose frames
    assert sum(iv["sessions"] for iv in r.intervals) == TRAFFIC.sessions
    for iv in r.intervals:
        assert iv["bad_confirmed"] == 0, iv
        assert iv["upstream"]["missing_bytes_c2s"] == iv["upstream"]["missing_bytes_s2c"] == 0


# Each download lasts about 4 s, well past the reader's stall (0.6 s to 2.1 s): packets of every
# session reach capgap after the drops, so the holes are seen. A session that ended inside the
# stall would leave no trace of its loss (nothing after the hole is captured), and would be
# judged good by the counting rules.
FAST = span_live.Traffic(sessions=4, workers=4, size=40_000_000, pace=0, rate=10_000_000)


@pytest.fixture(scope="module")
def stalled_run() -> span_live.LiveRun:
    """A 1 MB buffer and a reader stopped for 1.5 s under fast downloads: the kernel drops. The
    grace (5 s) outlasts the stall, so the sessions should still be open when capgap reads on."""
    if os.geteuid() != 0 or span.missing_tools():
        pytest.skip("the software SPAN port needs root, nftables and ethtool")

    def stall(proc: subprocess.Popen) -> None:
        time.sleep(0.6)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(1.5)
        proc.send_signal(signal.SIGCONT)

    args = ["--interval", "1s", "--grace", "5s", "--cap", "8s", "--buffer-size", "1"]
    try:
        r = span_live.run_live(find_cli_or_skip(), args, FAST, during=stall)
    except span.SpanError as e:
        pytest.fail(f"the SPAN port run failed: {e}")
    assert r.returncode == 0, r.stderr
    return r


def find_cli_or_skip() -> Path:
    path = find_cli()
    if path is None:
        pytest.skip("capgap CLI not found: build it with `scripts/dev.sh test`")
    return path


def test_kernel_drops_reported_apart(stalled_run: span_live.LiveRun) -> None:
    r = stalled_run
    kernel = sum(iv["host_drops"].get("kernel_dropped", 0) for iv in r.intervals)
    assert kernel > 0, r.intervals
    # What the mirror delivered is what capgap took plus what the kernel dropped for it
    # (pcap_stats' received counts both).
    packets = sum(iv["packets"] for iv in r.intervals)
    mirrored = r.counters["mirrored"]["packets"]
    assert packets < mirrored
    assert abs(packets + kernel - mirrored) <= 0.02 * mirrored, (packets, kernel, mirrored)
    received = sum(iv["host_drops"].get("received", 0) for iv in r.intervals)
    assert abs(received - mirrored) <= 0.02 * mirrored, (received, mirrored)
    assert sum(iv["sessions"] for iv in r.intervals) == FAST.sessions


def test_sessions_behind_kernel_drops_are_bad(stalled_run: span_live.LiveRun) -> None:
    """The sessions lost data to those drops: bad, with missing bytes, apart from the drops."""
    r = stalled_run
    assert sum(iv["bad_confirmed"] for iv in r.intervals) == FAST.sessions, r.intervals
    assert sum(iv["upstream"]["missing_bytes_s2c"] for iv in r.intervals) > 0
