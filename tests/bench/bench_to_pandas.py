"""Benchmark: report.sessions.columns() and .to_pandas() on a capture with 100k sessions.

Run after `pip install .` (pandas installed):

    python tests/bench/bench_to_pandas.py [--sessions 100000] [--repeat 5]

Builds the capture in a temporary directory (tests/python/_capture_builder.py), analyses it
once, then times the table conversions (best of --repeat) and checks the dtypes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from _capture_builder import bulk_capture  # noqa: E402

import capgap  # noqa: E402


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pcap"
        start = time.perf_counter()
        packets = bulk_capture(path, sessions=args.sessions, bad_every=10)
        print(
            f"capture: {args.sessions:,} sessions, {packets:,} packets "
            f"({path.stat().st_size / 1e6:.1f} MB) built in {time.perf_counter() - start:.2f} s"
        )
        start = time.perf_counter()
        report = capgap.analyze(path)
        took = time.perf_counter() - start
        print(f"analyze: {took:.3f} s ({packets / took / 1e6:.2f} M packets/s)")

    assert report.total_sessions == args.sessions, report.total_sessions
    t_cols = best_of(args.repeat, report.sessions.columns)
    t_pd = best_of(args.repeat, report.sessions.to_pandas)
    t_ev = best_of(args.repeat, report.events.to_pandas)
    df = report.sessions.to_pandas()
    assert len(df) == args.sessions
    assert str(df["syn_time"].dtype) == "datetime64[ns, UTC]"
    assert df["bad"].dtype == bool and df["session_id"].dtype == "uint64"
    assert str(df["category"].dtype) == "category"
    print(f"sessions.columns():   {t_cols * 1e3:8.1f} ms  (best of {args.repeat})")
    print(
        f"sessions.to_pandas(): {t_pd * 1e3:8.1f} ms  ({args.sessions:,} rows, "
        f"{len(df.columns)} columns)"
    )
    print(f"events.to_pandas():   {t_ev * 1e3:8.1f} ms  ({len(report.events):,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
