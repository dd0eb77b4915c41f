#!/usr/bin/env python3
"""How capgap's cost grows with the work, and what Dask and --jobs give over many files.

Two parts, each skippable; figures are printed, never asserted:

flows   captures with 1k, 10k, 100k and 1M concurrently open flows (gen_capture --concurrency:
        the pool of sessions in flight; every one is opened by its first packet and most stay
        open to the end), then packets/s and peak memory (max RSS) of `capgap analyze` with
        --threads 1 and 2 (when the build has --threads; else one row) and of the bare loop
        (libpcap, counting packets) on the same files. Data frames are cut to 96 bytes
        (--trunc 1: the files stay small; truncation is not loss), 50 us apart on average so
        that closed flows (kept 5 s after their close) leave the table and the pool is what
        is open. The 1M case stays under the tracker's default cap (max_open_flows =
        1,000,000; past it the least active tenth is evicted): its pool is 990,000, and the
        printout shows open_flows_peak and flows_evicted, so the cap is seen not reached.
dask    8 independent captures (8 sensors, one directory each, gen_capture seeds 1-8) analysed
        by capgap.dask.analyze on a distributed.LocalCluster of 2 worker processes (1 thread
        each), beside the same grouping in one process (capgap.analyze per sensor, merged with
        capgap.concat) and beside `capgap analyze --files independent --jobs 1 / --jobs 2`:
        wall time, packets/s and the ratios. The reports must agree (checked).

    .venv/bin/python tests/bench/scaling_bench.py                  # everything, a few minutes
    .venv/bin/python tests/bench/scaling_bench.py --no-dask --flows 1000,10000
    .venv/bin/python tests/bench/scaling_bench.py --build-dir build --no-build

Needs `gen_capture` and `bare_loop` (-DCAPGAP_BUILD_BENCH=ON) and the capgap CLI in the build
directory; the dask part needs capgap installed in the interpreter with dask and distributed
(`pip install '.[dask]'`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import REPO, cmake_build, log, measure  # noqa: E402

#: TrackerOptions::max_open_flows, the default cap on open flows.
MAX_OPEN_FLOWS = 1_000_000


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def gen(gen_capture: Path, out: Path, packets: int, seed: int, extra: list[str]) -> Path:
    if out.exists():
        return out
    cmd = [str(gen_capture), "--packets", str(packets), "--seed", str(seed), "--out", str(out)]
    subprocess.run(cmd + extra, check=True, stdout=subprocess.DEVNULL)
    return out


def has_threads_option(capgap: Path) -> bool:
    out = subprocess.run([str(capgap), "analyze", "--help"], capture_output=True, text=True)
    return "--threads" in out.stdout


# ------------------------------------------------------------------ flow scaling


def flows_part(args: argparse.Namespace, capgap: Path, gen_capture: Path, bare: Path) -> None:
    threads = [1, 2] if has_threads_option(capgap) else [None]
    if threads == [None]:
        log("this capgap has no --threads option: one capgap row per capture")
    rows = []
    for flows in args.flows:
        # Under the tracker's cap (past it the least active tenth is evicted), with room for
        # the closed flows that stay 5 s after their close.
        pool = min(flows, MAX_OPEN_FLOWS * 99 // 100)
        packets = max(args.min_packets, args.packets_per_flow * flows)
        path = args.scratch / f"flows-{pool}-{packets}.pcap"
        log(f"capture with {pool:,} concurrently open flows, {packets:,} packets: {path}")
        # 50 us between packets on average: the capture lasts 50 s per million packets, so
        # the flows closed more than 5 s ago have left the table and the pool is what is open.
        gen(
            gen_capture,
            path,
            packets,
            1,
            ["--concurrency", str(pool), "--trunc", "1", "--snaplen", "96", "--gap-ns", "50000"],
        )
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm
        for t in threads:
            cmd = [str(capgap), "analyze", str(path), "--format", "json", "--quiet"]
            if t is not None:
                cmd += ["--threads", str(t)]
            best = None
            for _ in range(args.repeat):
                wall, cpu, rss, out, rc = measure(cmd)
                if rc != 0:
                    raise SystemExit(f"{' '.join(cmd)} exited with {rc}")
                if best is None or wall < best[0]:
                    best = (wall, cpu, rss, out)
            assert best is not None
            ingest = json.loads(best[3])["ingest"]
            rows.append(
                (pool, packets, f"capgap --threads {t}" if t else "capgap", best[0], best[1],
                 best[2], ingest.get("open_flows_peak"), ingest.get("flows_evicted"))
            )  # fmt: skip
        best = None
        for _ in range(args.repeat):
            wall, cpu, rss, _, rc = measure([str(bare), str(path)], stdout_to_null=True)
            if rc != 0:
                raise SystemExit(f"bare_loop {path} exited with {rc}")
            if best is None or wall < best[0]:
                best = (wall, cpu, rss)
        assert best is not None
        rows.append((pool, packets, "bare loop", best[0], best[1], best[2], None, None))
    print()
    print(f"Flow scaling (best of {args.repeat}; load average {load_average()})")
    print(
        f"{'open flows':>10}  {'packets':>9}  {'tool':<20} {'wall s':>7} {'cpu s':>7} "
        f"{'Mpkt/s':>7} {'Mpkt/cpu-s':>10} {'peak MB':>8} {'MB/1k flows':>11} "
        f"{'flows peak':>10} {'evicted':>8}"
    )
    for flows, packets, tool, wall, cpu, rss, peak, evicted in rows:
        print(
            f"{flows:>10,}  {packets:>9,}  {tool:<20} {wall:7.2f} {cpu:7.2f} "
            f"{packets / wall / 1e6:7.2f} {packets / cpu / 1e6 if cpu else 0:10.2f} "
            f"{rss:8.1f} {rss / (flows / 1000):11.3f} "
            f"{'' if peak is None else f'{peak:,}':>10} "
            f"{'' if evicted is None else f'{evicted:,}':>8}"
        )


# ------------------------------------------------------------------ dask over 8 files


def dask_part(args: argparse.Namespace, cli: Path, gen_capture: Path) -> None:
    try:
        from distributed import Client, LocalCluster

        import capgap as capgap_py
        import capgap.dask
    except ImportError as err:
        log(f"dask part skipped: {err}")
        return
    files = []
    for seed in range(1, args.files + 1):
        d = args.scratch / f"dask-sensor-{seed}"
        d.mkdir(parents=True, exist_ok=True)
        files.append(
            str(
                gen(
                    gen_capture,
                    d / f"capture-{args.dask_packets}.pcap",
                    args.dask_packets,
                    seed,
                    ["--concurrency", "3000"],
                )
            )
        )
    for f in files:
        subprocess.run(["cat", f], stdout=subprocess.DEVNULL, check=True)
    packets = args.files * args.dask_packets
    size = sum(os.path.getsize(f) for f in files)
    log(f"{args.files} captures, {packets:,} packets, {size / 1e6:.0f} MB")

    results: dict[str, tuple[float, str]] = {}

    def one_process() -> str:
        groups = capgap.dask.group_captures(files)
        return capgap_py.concat(capgap_py.analyze(g) for g in groups.values()).to_json()

    best = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        doc = one_process()
        best["one process (capgap.analyze x8 + concat)"] = min(
            best.get("one process (capgap.analyze x8 + concat)", 1e9), time.perf_counter() - start
        )
        results["one"] = (0.0, doc)
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(importlib.import_module, "capgap.dask")  # imported before the timing
        for _ in range(args.repeat):
            start = time.perf_counter()
            res = capgap.dask.analyze(files, client=client)
            wall = time.perf_counter() - start
            name = "capgap.dask, LocalCluster 2 processes"
            best[name] = min(best.get(name, 1e9), wall)
            results["dask"] = (wall, res.report.to_json())
            del res  # its pieces leave the workers' memory before the next run
    for jobs in (1, 2):
        name = f"capgap analyze --files independent --jobs {jobs}"
        for _ in range(args.repeat):
            wall, _, _, out, rc = measure(
                [str(cli), "analyze", *files, "--files", "independent", "--jobs", str(jobs),
                 "--format", "json", "--quiet"]
            )  # fmt: skip
            if rc != 0:
                raise SystemExit(f"{name} exited with {rc}")
            best[name] = min(best.get(name, 1e9), wall)
            results[f"jobs{jobs}"] = (wall, out.decode())
    one = json.loads(results["one"][1])["summary"]
    for key in ("dask", "jobs1", "jobs2"):
        got = json.loads(results[key][1])["summary"]
        if got != one:
            raise SystemExit(f"{key}: the summary differs from the one-process run")
    print()
    print(
        f"Dask over {args.files} files ({packets:,} packets, {one['total_sessions']:,} sessions; "
        f"best of {args.repeat}; load average {load_average()}; reports agree)"
    )
    base = best["one process (capgap.analyze x8 + concat)"]
    print(f"{'run':<48} {'wall s':>7} {'Mpkt/s':>7} {'vs one process':>15}")
    for name, wall in best.items():
        print(f"{name:<48} {wall:7.2f} {packets / wall / 1e6:7.2f} {base / wall:15.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/capgap-bench/scaling"))
    ap.add_argument("--build-dir", type=Path, default=REPO / "build-bench")
    ap.add_argument("--no-build", action="store_true", help="use the existing build-dir")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each, best shown")
    ap.add_argument("--no-flows", action="store_true", help="skip the flow scaling")
    ap.add_argument("--no-dask", action="store_true", help="skip Dask and --jobs over 8 files")
    ap.add_argument(
        "--flows",
        type=lambda s: [int(x.replace("_", "")) for x in s.split(",")],
        default=[1_000, 10_000, 100_000, 1_000_000],
        help="concurrently open flows, comma-separated (default 1000,10000,100000,1000000)",
    )
    ap.add_argument("--packets-per-flow", type=int, default=5, help="packets = this x flows")
    ap.add_argument("--min-packets", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=8, help="captures in the dask part")
    ap.add_argument("--dask-packets", type=int, default=500_000, help="packets per capture")
    args = ap.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        cmake_build(args.build_dir, None)
    capgap = args.build_dir / "capgap"
    gen_capture = args.build_dir / "tests" / "bench" / "gen_capture"
    bare = args.build_dir / "tests" / "bench" / "bare_loop"
    for tool in (capgap, gen_capture, bare):
        if not tool.is_file():
            raise SystemExit(f"{tool} is missing: build with -DCAPGAP_BUILD_BENCH=ON")
    if not args.no_flows:
        flows_part(args, capgap, gen_capture, bare)
    if not args.no_dask:
        dask_part(args, capgap, gen_capture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
