"""The GIL is released while C++ reads and analyses: native calls from threads overlap.

Robust on a small, noisy machine: nothing here asserts a speed-up. Two observations show the
release: (1) the [start, end] intervals of the native calls in four threads overlap, and
(2) a pure-Python heartbeat thread keeps ticking during them. With the GIL held, the
heartbeat would stop for a whole native call (hundreds of milliseconds).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from _capture_builder import bulk_capture

import capgap

THREADS = 4


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("threads") / "big.pcap"
    packets = bulk_capture(path, sessions=40_000, bad_every=7)  # 240k packets
    assert packets == 240_000
    return path


def _run_threads(work, heartbeat_gaps: list[float]) -> list[tuple[float, float]]:
    """Runs `work` in THREADS threads released together; returns their [start, end]."""
    intervals: list[tuple[float, float]] = [(0.0, 0.0)] * THREADS
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS + 1)
    stop = threading.Event()

    def worker(i: int) -> None:
        try:
            barrier.wait()
            start = time.perf_counter()
            work()
            intervals[i] = (start, time.perf_counter())
        except BaseException as err:  # noqa: BLE001 - reported in the main thread
            errors.append(err)

    def heartbeat() -> None:
        barrier.wait()
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.002)
            now = time.perf_counter()
            heartbeat_gaps.append(now - last)
            last = now

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    beat = threading.Thread(target=heartbeat)
    for t in threads:
        t.start()
    beat.start()
    for t in threads:
        t.join()
    stop.set()
    beat.join()
    if errors:
        raise errors[0]
    return intervals


def _calls_per_thread(one_call) -> int:
    """Enough repetitions that a thread's work takes at least ~0.4 s on this machine."""
    start = time.perf_counter()
    one_call()
    took = time.perf_counter() - start
    return max(1, min(20, int(0.4 / max(took, 1e-3)) + 1))


def test_analyze_threads_overlap(big_capture: Path) -> None:
    expected = capgap.analyze(big_capture)
    assert expected.total_sessions == 40_000
    reps = _calls_per_thread(lambda: capgap.analyze(big_capture))
    results: list[capgap.Report] = []

    def work() -> None:
        for _ in range(reps):
            results.append(capgap.analyze(big_capture))

    gaps: list[float] = []
    intervals = _run_threads(work, gaps)

    # Every thread got the same, correct answer.
    assert len(results) == THREADS * reps
    assert {(r.total_sessions, r.bad_sessions) for r in results} == {
        (expected.total_sessions, expected.bad_sessions)
    }
    # (1) The native calls ran at the same time: some instant lies inside every interval.
    latest_start = max(s for s, _ in intervals)
    earliest_end = min(e for _, e in intervals)
    assert latest_start < earliest_end, intervals
    # (2) Python kept running meanwhile. A held GIL would stall the heartbeat for a whole
    # call; allow generous scheduler noise but far less than the work of one thread.
    shortest = min(e - s for s, e in intervals)
    assert gaps, "the heartbeat never ran"
    assert max(gaps) < shortest / 2, (max(gaps), shortest)


def test_matcher_threads_overlap(big_capture: Path) -> None:
    report = capgap.analyze(big_capture)
    sessions = capgap.sessions_from(report.sessions)
    events = capgap.events_from(report.events)
    matcher = capgap.Matcher()
    reps = _calls_per_thread(lambda: matcher.match(sessions, events, report.ingest))
    bad: list[int] = []

    def work() -> None:
        for _ in range(reps):
            bad.append(matcher.match(sessions, events, report.ingest).bad_sessions)

    gaps: list[float] = []
    intervals = _run_threads(work, gaps)
    assert set(bad) == {report.bad_sessions}
    assert max(s for s, _ in intervals) < min(e for _, e in intervals)
