#!/usr/bin/env python3
"""capgap benchmark: throughput, CPU and memory against tshark and a bare libpcap loop.

    python3 tests/bench/run_bench.py [--packets 10_000_000] [--scratch /tmp/capgap-bench]

Steps: build the project with the benchmark tools (CMake, Release, build-bench/), make a capture
with tests/bench/gen_capture and its ground truth (reused when a capture with the same generator
settings is already in the scratch directory), warm the page cache, then time on the same file:

  (a) capgap analyze FILE --format json
  (b) bare_loop FILE (libpcap pcap_next_ex, counting packets only)
  (c) the tshark workflow, one pass with the SYN and lost-segment filters; on a prefix of the
      capture when a full run is estimated to pass --tshark-limit seconds (the output says so)
  (d) capgap.analyze(FILE) from Python, when the module can be built or imported: the whole
      process, and the call alone as timed inside the interpreter
  (e) with --baseline BIN: BIN (another capgap build, e.g. the one before a change) and this
      build's capgap analyze in turn, --repeat pairs; prints the median and range of the paired
      CPU-time ratios baseline/new (1 or more: no slowdown)
  (g) the diagnosis's cost: capgap analyze with and without --no-diagnosis (the per-packet
      timeline off) in turn, --repeat pairs; prints both CPU times and the median ratio
      on / off (target: at most 1.10)
  (h) threads: capgap analyze --threads 1, --threads 2 and the bare loop in turn, --repeat
      rounds; prints the median packets/s of each and the median ratios threads 2 / threads 1
      (target: at least 1.6 on 2 cores) and threads 2 / bare loop (target: at least 0.85),
      and each round's figures beside the cores' cache-line hand-over time just before it
      (tests/bench/handover): on a virtual machine it changes as the host places the CPUs
  (f) the compressed path: capgap analyze on gzip, zstd and lz4 copies of the capture (made once
      with the command-line tools, or Python's gzip module) and on the plain file read from
      standard input, each beside a run on the plain file; prints packets/s and the ratio to
      the plain file, and checks each report equals the plain one (--no-compressed skips it)

Prints wall seconds, CPU seconds (user + sys), packets/s, MB/s and peak resident memory for each,
the ratios capgap/tshark, capgap/bare loop and Python/CLI, and checks capgap's counts (and each
session's verdict) against the generator's ground truth, and that --threads 1 and --threads 2
write the same bytes (the report, --sessions-out, --events-out). Exit status 1 when a check
fails. Speed is printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TSHARK_FILTER = (
    "(tcp.flags.syn==1 && tcp.flags.ack==0) || tcp.analysis.lost_segment"
    " || tcp.analysis.ack_lost_segment"
)


def log(msg: str) -> None:
    print(f"==> {msg}", flush=True)


# ------------------------------------------------------------------ running and measuring


class Run:
    """One measured child process."""

    def __init__(self, name: str, packets: int, file_bytes: int, note: str = "") -> None:
        self.name = name
        self.packets = packets
        self.file_bytes = file_bytes
        self.note = note
        self.wall = 0.0
        self.cpu = 0.0
        self.rss_mb = 0.0
        self.stdout = b""
        self.returncode = 0

    @property
    def pps(self) -> float:
        return self.packets / self.wall if self.wall > 0 else 0.0

    @property
    def cpu_pps(self) -> float:
        return self.packets / self.cpu if self.cpu > 0 else 0.0

    @property
    def mbps(self) -> float:
        return self.file_bytes / 1e6 / self.wall if self.wall > 0 else 0.0


def measure(cmd: list[str], env: dict[str, str] | None = None, stdout_to_null: bool = False):
    """Runs cmd; returns (wall s, user+sys CPU s, peak RSS MB, stdout bytes, exit status).

    CPU comes from os.wait4 (this child's own rusage, unlike RUSAGE_CHILDREN). Peak RSS comes
    from /usr/bin/time when present: a child forked from Python starts with a copy of Python's
    resident pages, which its ru_maxrss keeps after exec; GNU time's child starts small.
    """
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        full = [gnu_time, "-f", "%M", "-o", rss.name] + cmd if gnu_time else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(
            full,
            stdout=subprocess.DEVNULL if stdout_to_null else out,
            stderr=subprocess.PIPE,
            env=env,
        )
        # stderr is small for every tool run here; read it after the exit.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read() if proc.stderr else b""
        if proc.stderr:
            proc.stderr.close()
        out.seek(0)
        data = out.read()
        lines = rss.read().split()
        peak_kib = int(lines[-1]) if gnu_time and lines else usage.ru_maxrss
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
    return wall, usage.ru_utime + usage.ru_stime, peak_kib / 1024.0, data, proc.returncode


def timed(
    name: str,
    cmd: list[str],
    packets: int,
    file_bytes: int,
    repeat: int = 1,
    env: dict[str, str] | None = None,
    note: str = "",
    stdout_to_null: bool = False,
) -> Run:
    """Best (lowest wall) of `repeat` runs."""
    best: Run | None = None
    for _ in range(repeat):
        r = Run(name, packets, file_bytes, note)
        r.wall, r.cpu, r.rss_mb, r.stdout, r.returncode = measure(cmd, env, stdout_to_null)
        if r.returncode != 0:
            raise SystemExit(f"{name}: {' '.join(cmd)} exited with {r.returncode}")
        if best is None or r.wall < best.wall:
            best = r
    assert best is not None
    return best


def alternate(
    a: Callable[[], Run], b: Callable[[], Run], repeat: int
) -> tuple[Run, Run, list[tuple[Run, Run]]]:
    """Runs a and b in turn `repeat` times: the best (lowest wall) run of each, and every pair.

    On a shared machine the speed drifts over minutes, and the two runs of a pair meet the
    same conditions: the median of the pairs' ratios is the steadier measure of the tools.
    """
    pairs = [(a(), b()) for _ in range(repeat)]
    best_a = min((p[0] for p in pairs), key=lambda r: r.wall)
    best_b = min((p[1] for p in pairs), key=lambda r: r.wall)
    return best_a, best_b, pairs


def median(values: list[float]) -> float:
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def handover_ns(tool: Path) -> float | None:
    """The cores' cache-line hand-over time now (tests/bench/handover), or None."""
    if not tool.exists():
        return None
    out = subprocess.run([str(tool)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout).get("handover_ns")


def pair_ratios(pairs: list[tuple[float, float]]) -> str:
    """'median (min-max)' of x / y over the pairs (x, y)."""
    r = [x / y for x, y in pairs]
    return f"{median(r):9.3f}  (pairs: {min(r):.3f} to {max(r):.3f})"


# ------------------------------------------------------------------ build, capture, prefix


def cmake_build(build_dir: Path, python: str | None) -> bool:
    """Configures and builds, with the Python module when `python` has pybind11 and numpy;
    True when the module is part of the build."""
    args = [
        "cmake",
        "-S",
        str(REPO),
        "-B",
        str(build_dir),
        "-DCMAKE_BUILD_TYPE=Release",
        "-DCAPGAP_BUILD_BENCH=ON",
        "-DCAPGAP_BUILD_TESTS=OFF",
        "-DCAPGAP_BUILD_EXAMPLES=OFF",
        "-DCAPGAP_INSTALL=OFF",
    ]
    if shutil.which("ninja") and not (build_dir / "Makefile").exists():
        args += ["-G", "Ninja"]
    if python:
        probe = subprocess.run(
            [python, "-c", "import numpy, pybind11; print(pybind11.get_cmake_dir())"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0:
            args += [
                "-DCAPGAP_BUILD_PYTHON=ON",
                f"-DPython_EXECUTABLE={shutil.which(python) or python}",
                f"-Dpybind11_DIR={probe.stdout.strip()}",
            ]
        else:
            args += ["-DCAPGAP_BUILD_PYTHON=OFF"]
    log("configure: " + " ".join(args[1:]))
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    log(f"build {build_dir}")
    subprocess.run(
        ["cmake", "--build", str(build_dir), "--parallel", str(os.cpu_count() or 2)], check=True
    )
    return python_module_built(build_dir)


def python_module_built(build_dir: Path) -> bool:
    """True when build_dir is configured to build the Python module (a module left there by an
    earlier configuration may be stale and is not used)."""
    cache = build_dir / "CMakeCache.txt"
    return cache.exists() and "CAPGAP_BUILD_PYTHON:BOOL=ON" in cache.read_text()


def compressed_copy(capture: Path, kind: str) -> Path | None:
    """capture.gz, .zst or .lz4 beside the capture, made once (again when the capture is newer)
    with the command-line tool, or Python's gzip module for gzip; None when the tool is
    missing."""
    out = capture.with_name(capture.name + "." + kind)
    if out.exists() and out.stat().st_mtime >= capture.stat().st_mtime:
        return out
    tool = {"gz": "gzip", "zst": "zstd", "lz4": "lz4"}[kind]
    tmp = out.with_name(out.name + ".part")
    if shutil.which(tool):
        log(f"(f) {tool} {capture.name}")
        with capture.open("rb") as src, tmp.open("wb") as dst:
            subprocess.run([tool, "-c"], stdin=src, stdout=dst, check=True)
    elif kind == "gz":
        import gzip

        log(f"(f) gzip {capture.name} (Python's gzip module)")
        with capture.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    else:
        return None
    tmp.replace(out)
    return out


def compressed_runs(capgap: Path, capture: Path) -> list[tuple[str, Path, list[str]]]:
    """(name, file, command) of the compressed runs: the gzip, zstd and lz4 copies, and the
    plain file through standard input (`-`, read as a stream rather than by offset)."""
    out = []
    for kind, tool in (("gz", "gzip"), ("zst", "zstd"), ("lz4", "lz4")):
        path = compressed_copy(capture, kind)
        if path is None:
            log(f"(f) {tool} skipped: the {tool} command is not installed")
            continue
        out.append(
            (f"capgap {tool}", path, [str(capgap), "analyze", str(path), "--format", "json"])
        )
    stdin_cmd = f'exec "{capgap}" analyze - --format json < "{capture}"'
    out.append(("stdin", capture, ["sh", "-c", stdin_cmd]))
    return out


def gen_settings(args: argparse.Namespace) -> dict:
    return {"packets": args.packets, "seed": args.seed, "loss": args.loss}


def make_capture(args: argparse.Namespace, gen: Path, capture: Path) -> dict:
    truth_path = Path(str(capture) + ".truth.json")
    if capture.exists() and truth_path.exists() and not args.regen:
        truth = json.loads(truth_path.read_text())
        g = truth["generator"]
        if all(g[k] == v for k, v in gen_settings(args).items()):
            log(f"reuse {capture} (same generator settings; --regen to rebuild)")
            return truth
    cmd = [
        str(gen),
        "--packets",
        str(args.packets),
        "--seed",
        str(args.seed),
        "--loss",
        str(args.loss),
        "--out",
        str(capture),
    ]
    log("generate: " + " ".join(cmd))
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    log(f"generated in {time.perf_counter() - start:.1f} s")
    return json.loads(truth_path.read_text())


def cut_prefix(src: Path, dst: Path, packets: int) -> int:
    """Copies the file header and the first `packets` records of a classic pcap; returns the
    number of bytes written."""
    with open(src, "rb") as f, open(dst, "wb") as out:
        header = f.read(24)
        magic = struct.unpack("<I", header[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            raise SystemExit(f"{src}: not a little-endian classic pcap")
        out.write(header)
        written = 24
        for _ in range(packets):
            rec = f.read(16)
            if len(rec) < 16:
                break
            caplen = struct.unpack_from("<I", rec, 8)[0]
            body = f.read(caplen)
            out.write(rec)
            out.write(body)
            written += 16 + caplen
    return written


def warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


# ------------------------------------------------------------------ Python


def python_env(
    python: str | None, build_dir: Path, scratch: Path, module_built: bool
) -> tuple[list[str], dict[str, str], str] | str:
    """The interpreter, environment and a note for importing capgap, preferring the module
    built with this benchmark (the same library build as the CLI); a message when there is
    none."""
    if not python:
        return "no Python interpreter given"
    env = dict(os.environ)
    cores = sorted((build_dir / "python").glob("_core*.so")) if module_built else []
    if cores:
        pkg = scratch / "pypkg" / "capgap"
        if pkg.exists():
            shutil.rmtree(pkg)
        shutil.copytree(REPO / "python" / "capgap", pkg)
        os.symlink(cores[0], pkg / cores[0].name)
        # Compiled as pip compiles an installed package: with PYTHONDONTWRITEBYTECODE set (as
        # on some machines) every run would otherwise compile the sources again.
        subprocess.run([python, "-m", "compileall", "-q", str(pkg)], check=True)
        env["PYTHONPATH"] = str(scratch / "pypkg")
        ok = subprocess.run([python, "-c", "import capgap"], env=env, capture_output=True)
        if ok.returncode == 0:
            return [python], env, ""
    env.pop("PYTHONPATH", None)
    ok = subprocess.run([python, "-c", "import capgap"], env=env, capture_output=True, text=True)
    if ok.returncode == 0:
        # Not this build: its library may be older or built otherwise, so the Python/CLI
        # ratio compares two different builds. Say so.
        return [python], env, "installed capgap, not this build"
    return f"`import capgap` fails with {python}: {ok.stderr.strip().splitlines()[-1]}"


# The call is also timed inside the interpreter (capgap.analyze and freeing its report, as the
# CLI frees its own), apart from interpreter start and `import capgap`.
PY_SNIPPET = """
import sys, time
w0, c0 = time.perf_counter(), time.process_time()
import capgap
w1, c1 = time.perf_counter(), time.process_time()
r = capgap.analyze(sys.argv[1])
total, bad = r.total_sessions, r.bad_sessions
del r
w2, c2 = time.perf_counter(), time.process_time()
print(total, bad, w2 - w1, c2 - c1)
"""


def py_call_cpu(run: Run) -> float:
    """CPU seconds of the call alone, as PY_SNIPPET printed them."""
    return float(run.stdout.split()[3])


# ------------------------------------------------------------------ truth check


def threads_differ(capgap: Path, capture: Path, scratch: Path) -> list[str]:
    """Runs capgap with --threads 1 and 2, each writing its JSON report, --sessions-out and
    --events-out; returns the outputs whose bytes differ (empty: all identical)."""
    outputs: dict[int, dict[str, bytes]] = {}
    for threads in (1, 2):
        sessions, events = (
            scratch / f"threads{threads}-sessions.csv",
            scratch / f"threads{threads}-events.csv",
        )
        report = subprocess.run(
            [str(capgap), "analyze", str(capture), "--format", "json", "--threads", str(threads),
             "--sessions-out", str(sessions), "--events-out", str(events)],
            check=True,
            stdout=subprocess.PIPE,
        ).stdout  # fmt: skip
        outputs[threads] = {
            "report": report,
            "--sessions-out": sessions.read_bytes(),
            "--events-out": events.read_bytes(),
        }
        sessions.unlink()
        events.unlink()
    return [name for name in outputs[1] if outputs[1][name] != outputs[2][name]]


def check_sessions(capgap: Path, capture: Path, scratch: Path, limit: int = 10) -> list[str]:
    """Runs capgap with --sessions-out and compares each session's verdict with the truth file.
    Returns the differences (at most `limit` described, plus a count)."""
    sessions_csv = scratch / "capgap-sessions.csv"
    subprocess.run(
        [str(capgap), "analyze", str(capture), "--sessions-out", str(sessions_csv)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with open(sessions_csv, newline="") as f:
        got = {int(row["syn_frame"]): row for row in csv.DictReader(f)}
    with open(str(capture) + ".truth-sessions.csv", newline="") as f:
        want = {int(row["syn_frame"]): row for row in csv.DictReader(f)}
    diffs = []
    for frame, w in want.items():
        g = got.get(frame)
        if g is None:
            diffs.append(
                f"SYN frame {frame} ({w['client']} -> {w['server']}): not in capgap's list"
            )
        elif int(g["bad"]) != int(w["bad"]):
            diffs.append(
                f"SYN frame {frame} ({w['client']} -> {w['server']}): capgap bad={g['bad']} "
                f"(events={g['events']}, missing_bytes={g['missing_bytes']}, "
                f"category={g.get('category', '?')}), truth bad={w['bad']} "
                f"(drop {w['drop_dir'] or 'none'} seq={w['drop_seq']} len={w['drop_len']} "
                f"after frame {w['drop_after_frame']}, reused={w['reused']}, close={w['close']})"
            )
    for frame, g in got.items():
        if frame not in want:
            diffs.append(f"SYN frame {frame} ({g['client']} -> {g['server']}): not in the truth")
    if len(diffs) > limit:
        diffs = diffs[:limit] + [f"... {len(diffs) - limit} more"]
    return diffs


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--packets", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--loss", type=float, default=0.02, help="fraction of sessions losing a segment"
    )
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/capgap-bench"))
    ap.add_argument("--build-dir", type=Path, default=REPO / "build-bench")
    ap.add_argument("--no-build", action="store_true", help="use the existing build-dir")
    ap.add_argument("--regen", action="store_true", help="regenerate the capture")
    ap.add_argument("--repeat", type=int, default=3, help="runs of capgap and the bare loop")
    ap.add_argument(
        "--tshark-limit",
        type=float,
        default=600.0,
        help="seconds: run tshark on a prefix when a full run would take longer",
    )
    ap.add_argument("--tshark-prefix", type=int, default=500_000, help="packets in the prefix")
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument(
        "--no-compressed",
        action="store_true",
        help="skip (f), the gzip, zstd, lz4 and standard-input runs",
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        metavar="BIN",
        help="another capgap binary to time in turn with this build (--repeat pairs)",
    )
    ap.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for capgap.analyze (default: this one); '' to skip",
    )
    args = ap.parse_args()
    if args.baseline is not None and not os.access(args.baseline, os.X_OK):
        ap.error(f"--baseline {args.baseline}: not an executable file")

    args.scratch.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    build = args.build_dir
    module_built = python_module_built(build)
    if not args.no_build:
        module_built = cmake_build(build, args.python or None)
    capgap = build / "capgap"
    bare = build / "tests" / "bench" / "bare_loop"
    gen = build / "tests" / "bench" / "gen_capture"

    capture = args.scratch / f"bench-{args.packets}-s{args.seed}.pcap"
    truth = make_capture(args, gen, capture)
    size = capture.stat().st_size
    npk = truth["packets"]
    log(f"capture {capture}: {npk} packets, {size / 1e6:.1f} MB")
    log("warm the page cache")
    warm(capture)

    runs: list[Run] = []
    log(f"(a) capgap analyze --format json and (b) the bare loop in turn, best of {args.repeat}")
    # In turn, so that both meet the same conditions (on a shared machine the speed drifts
    # over minutes) and their ratio measures the tools rather than the drift.
    cg_cmd = [str(capgap), "analyze", str(capture), "--format", "json"]
    cg, bl, cg_bl_pairs = alternate(
        lambda: timed("capgap analyze", cg_cmd, npk, size),
        lambda: timed("bare libpcap loop", [str(bare), str(capture)], npk, size),
        args.repeat,
    )
    runs += [cg, bl]
    bare_count = json.loads(bl.stdout)["packets"]

    log(f"(h) --threads 1, --threads 2 and the bare loop in turn, {args.repeat} rounds")
    handover_tool = build / "tests" / "bench" / "handover"
    thread_rounds = []
    handovers: list[float | None] = []  # the cores' hand-over time before each round, ns
    for _ in range(args.repeat):
        handovers.append(handover_ns(handover_tool))
        thread_rounds.append(
            (
                timed("capgap --threads 1", cg_cmd + ["--threads", "1"], npk, size),
                timed("capgap --threads 2", cg_cmd + ["--threads", "2"], npk, size),
                timed("bare libpcap loop (h)", [str(bare), str(capture)], npk, size),
            )
        )
    for k in range(3):
        runs.append(min((r[k] for r in thread_rounds), key=lambda r: r.wall))
    if thread_rounds[0][0].stdout != thread_rounds[0][1].stdout:
        log("(h) WARNING: --threads 1 and --threads 2 reports differ")

    base: Run | None = None
    cg_base: Run | None = None  # the CLI timed alternately with the baseline
    base_pairs: list[tuple[Run, Run]] = []
    if args.baseline is not None:
        log(f"(e) the baseline {args.baseline} and capgap analyze in turn, {args.repeat} pairs")
        base_cmd = [str(args.baseline), "analyze", str(capture), "--format", "json"]
        base, cg_base, base_pairs = alternate(
            lambda: timed("baseline analyze", base_cmd, npk, size, note=str(args.baseline)),
            lambda: timed("capgap (beside baseline)", cg_cmd, npk, size, note="run alternately"),
            args.repeat,
        )
        runs += [base, cg_base]

    log(f"(g) capgap analyze with the diagnosis on and off in turn, {args.repeat} pairs")
    diag_on, diag_off, diag_pairs = alternate(
        lambda: timed("capgap (diagnosis on)", cg_cmd, npk, size, note="run alternately"),
        lambda: timed(
            "capgap --no-diagnosis", cg_cmd + ["--no-diagnosis"], npk, size, note="timeline off"
        ),
        args.repeat,
    )
    runs += [diag_on, diag_off]

    compressed: list[tuple[Run, Run, list[tuple[Run, Run]]]] = []
    compressed_differ: list[str] = []
    if not args.no_compressed:
        log("(f) compressed copies and standard input, each in turn with the plain file")
        for kind, path, cmd in compressed_runs(capgap, capture):
            psize = path.stat().st_size
            warm(path)
            c_run, p_run, pairs = alternate(
                lambda cmd=cmd, kind=kind, psize=psize: timed(
                    f"capgap {kind}",
                    cmd,
                    npk,
                    psize,
                    note=f"{psize / size * 100:.0f}% of the plain size",
                ),
                lambda kind=kind: timed(f"  plain (beside {kind})", cg_cmd, npk, size),
                args.repeat,
            )
            compressed.append((c_run, p_run, pairs))
            runs += [c_run, p_run]
            if json.loads(c_run.stdout) != json.loads(p_run.stdout):
                compressed_differ.append(kind)

    ts_full: Run | None = None
    ts_pre: Run | None = None
    cg_pre: Run | None = None
    if not args.no_tshark and shutil.which("tshark"):
        pre_n = min(args.tshark_prefix, npk)
        prefix = args.scratch / f"prefix-{pre_n}-{capture.name}"
        pre_size = cut_prefix(capture, prefix, pre_n)
        warm(prefix)
        tshark = ["tshark", "-n", "-r"]
        fields = ["-Y", TSHARK_FILTER, "-T", "fields"]
        fields += ["-e", "frame.number", "-e", "ip.src", "-e", "tcp.srcport"]
        log(f"(c) tshark on the first {pre_n} packets")
        ts_pre = timed(
            "tshark (prefix)",
            tshark + [str(prefix)] + fields,
            pre_n,
            pre_size,
            note=f"first {pre_n} packets",
            stdout_to_null=True,
        )
        cg_pre = timed(
            "capgap (same prefix)",
            [str(capgap), "analyze", str(prefix), "--format", "json"],
            pre_n,
            pre_size,
            args.repeat,
            note=f"first {pre_n} packets",
        )
        estimate = ts_pre.wall * npk / pre_n
        if pre_n < npk and estimate <= args.tshark_limit:
            log(f"(c) tshark on the whole capture (estimated {estimate:.0f} s)")
            ts_full = timed(
                "tshark", tshark + [str(capture)] + fields, npk, size, stdout_to_null=True
            )
        elif pre_n < npk:
            log(
                f"(c) tshark on the whole capture would take about {estimate:.0f} s "
                f"(> {args.tshark_limit:.0f} s): prefix only, throughput extrapolated per packet"
            )
        runs += [r for r in (ts_full, ts_pre, cg_pre) if r]
    else:
        log("(c) tshark skipped")

    py_run: Run | None = None
    cg_py: Run | None = None  # the CLI timed alternately with Python
    py_import: Run | None = None
    py_call: Run | None = None
    py_pairs: list[tuple[Run, Run]] = []
    py = python_env(args.python or None, build, args.scratch, module_built)
    if isinstance(py, str):
        log(f"(d) Python skipped: {py}")
    else:
        interp, env, py_note = py
        log(
            f"(d) Python capgap.analyze ({interp[0]}) and capgap analyze, run alternately,"
            f" best of {args.repeat} each"
        )
        if py_note:
            log(f"(d) warning: {py_note}; the Python/CLI ratio compares two builds")
        cg_py, py_run, py_pairs = alternate(
            lambda: timed("capgap (beside Python)", cg_cmd, npk, size, note="run alternately"),
            lambda: timed(
                "python capgap.analyze",
                interp + ["-c", PY_SNIPPET, str(capture)],
                npk,
                size,
                env=env,
                note=py_note,
            ),
            args.repeat,
        )
        runs.append(cg_py)
        runs.append(py_run)
        py_call = Run(
            "python: the call only",
            npk,
            size,
            note="capgap.analyze + freeing the report, timed inside Python",
        )
        fields = py_run.stdout.split()
        py_call.wall, py_call.cpu = float(fields[2]), py_call_cpu(py_run)
        py_call.rss_mb = py_run.rss_mb
        runs.append(py_call)
        py_import = timed(
            "python import capgap",
            interp + ["-c", "import capgap"],
            0,
            0,
            args.repeat,
            env=env,
            note="interpreter start + import only",
        )
        runs.append(py_import)

    # ---------------------------------------------------------------- report
    print()
    print(f"capture: {capture}")
    print(
        f"  {npk} packets, {size / 1e6:.1f} MB on disk, {truth['total_sessions']} sessions with"
        f" SYN, {truth['partial']} in flight at the start, loss rate {args.loss} of sessions,"
        f" {truth['truncated_packets']} frames cut to the snaplen"
    )
    print(
        f"  {truth['sessions_ipv6']} IPv6, {truth['sessions_vlan']} VLAN-tagged,"
        f" {truth['sessions_port_reused']} port-reused, {truth['sessions_bulk']} bulk,"
        f" {truth['fin_closed']} FIN / {truth['rst_closed']} RST closes,"
        f" {truth['isns_near_wrap']} ISNs near 2^32"
    )
    print(
        f"  warm cache, single-threaded tools; capgap, bare loop and Python: best of {args.repeat}"
    )
    load_end = os.getloadavg()[0]
    print(
        f"  load average {load_start:.2f} at the start, {load_end:.2f} at the end on"
        f" {os.cpu_count()} CPUs"
        + ("; other work competed for the CPUs: trust CPU s over wall s" if load_end > 1.5 else "")
    )
    print()
    hdr = f"{'tool':24} {'packets':>10} {'wall s':>8} {'CPU s':>8} {'Mpkt/s':>8} {'MB/s':>8}"
    hdr += f" {'Mpkt/CPU-s':>10} {'peak RSS MB':>11}  note"
    print(hdr)
    print("-" * len(hdr))
    for r in runs:
        print(
            f"{r.name:24} {r.packets:>10} {r.wall:>8.2f} {r.cpu:>8.2f} {r.pps / 1e6:>8.3f}"
            f" {r.mbps:>8.1f} {r.cpu_pps / 1e6:>10.3f} {r.rss_mb:>11.1f}  {r.note}"
        )
    print()
    print("ratios                            by wall    by CPU")
    ts = ts_full or ts_pre
    if ts:
        how = "whole capture" if ts_full else f"tshark on the first {ts.packets} packets"
        print(
            f"capgap / tshark throughput:     {cg.pps / ts.pps:8.1f}x"
            f" {cg.cpu_pps / ts.cpu_pps:8.1f}x"
            f"  ({how}, per packet)"
        )
        if cg_pre and ts_pre:
            print(
                f"  same prefix, both tools:      {cg_pre.pps / ts_pre.pps:8.1f}x"
                f" {cg_pre.cpu_pps / ts_pre.cpu_pps:8.1f}x"
            )
        if not ts_full:
            full_s = ts_pre.wall * npk / ts_pre.packets
            print(
                f"  tshark on the whole capture would take about {full_s:.0f} s"
                " (extrapolated per packet; its memory grows with packets)"
            )
    print(f"capgap / bare loop throughput:  {cg.pps / bl.pps:9.3f} {cg.cpu_pps / bl.cpu_pps:9.3f}")
    print(
        "  median of the runs in turn, CPU:" + pair_ratios([(b.cpu, c.cpu) for c, b in cg_bl_pairs])
    )
    if base and cg_base:
        print(
            f"baseline / new time:            {base.wall / cg_base.wall:9.3f}"
            f" {base.cpu / cg_base.cpu:9.3f}  (best runs; 1 or more: no slowdown)"
        )
        print(
            "  median of the runs in turn, CPU:"
            + pair_ratios([(b.cpu, c.cpu) for b, c in base_pairs])
            + "  (baseline / new)"
        )
        if json.loads(base.stdout) != json.loads(cg_base.stdout):
            print("  note: the baseline's report differs from this build's")
    t1 = median([r[0].pps for r in thread_rounds])
    t2 = median([r[1].pps for r in thread_rounds])
    tb = median([r[2].pps for r in thread_rounds])
    print(
        f"threads (median packets/s of {len(thread_rounds)} rounds in turn): --threads 1"
        f" {t1 / 1e6:.2f} M/s, --threads 2 {t2 / 1e6:.2f} M/s, bare loop {tb / 1e6:.2f} M/s"
    )
    print(
        "  threads 2 / threads 1:        "
        + pair_ratios([(r[1].pps, r[0].pps) for r in thread_rounds])
        + "  (target at least 1.6)"
    )
    print(
        "  threads 2 / bare loop:        "
        + pair_ratios([(r[1].pps, r[2].pps) for r in thread_rounds])
        + "  (target at least 0.85)"
    )
    print("  round  hand-over ns  threads 1 M/s  threads 2 M/s  bare M/s  t2/t1  t2/bare")
    for k, (r, h) in enumerate(zip(thread_rounds, handovers), 1):
        ns = f"{h:12.1f}" if h is not None else f"{'-':>12}"
        print(
            f"  {k:5d}  {ns}  {r[0].pps / 1e6:13.2f}  {r[1].pps / 1e6:13.2f}"
            f"  {r[2].pps / 1e6:8.2f}  {r[1].pps / r[0].pps:5.2f}  {r[1].pps / r[2].pps:7.2f}"
        )
    print(
        "  (hand-over: one cache line from one core to the other, tests/bench/handover, just"
        " before the round; --threads 2 hands every packet's segment over)"
    )
    print(
        f"diagnosis on / off time:        {diag_on.wall / diag_off.wall:9.3f}"
        f" {diag_on.cpu / diag_off.cpu:9.3f}  (best runs; CPU on {diag_on.cpu:.2f} s,"
        f" off {diag_off.cpu:.2f} s; target at most 1.10)"
    )
    print(
        "  median of the runs in turn, CPU:"
        + pair_ratios([(on.cpu, off.cpu) for on, off in diag_pairs])
        + "  (on / off)"
    )
    if py_run and cg_py and py_call:
        print(
            f"python / CLI time:              {py_run.wall / cg_py.wall:9.3f}"
            f" {py_run.cpu / cg_py.cpu:9.3f}"
            f"  (Python {(py_run.wall / cg_py.wall - 1) * 100:+.1f}% wall,"
            f" {(py_run.cpu / cg_py.cpu - 1) * 100:+.1f}% CPU; run alternately)"
        )
        print(
            f"python call / CLI time:         {py_call.wall / cg_py.wall:9.3f}"
            f" {py_call.cpu / cg_py.cpu:9.3f}"
            f"  (the call alone, without interpreter start and import)"
        )
        print(
            "  median of the runs in turn, CPU:"
            + pair_ratios([(py_call_cpu(p), c.cpu) for c, p in py_pairs])
            + "  (the call alone)"
        )
        print(
            "                                 "
            + pair_ratios([(p.cpu, c.cpu) for c, p in py_pairs])
            + "  (the whole process)"
        )
    for c_run, p_run, pairs in compressed:
        print(
            f"{c_run.name[:20] + ' / plain:':32}{c_run.pps / p_run.pps:9.3f}"
            f" {c_run.cpu_pps / p_run.cpu_pps:9.3f}  ({c_run.pps / 1e6:.3f} Mpkt/s by wall;"
            " throughput ratio)"
        )
        print(
            "  median of the runs in turn, CPU:"
            + pair_ratios([(p.cpu, c.cpu) for c, p in pairs])
            + "  (plain / compressed time)"
        )
    print()

    # ---------------------------------------------------------------- truth
    report = json.loads(cg.stdout)
    summary, ingest = report["summary"], report["ingest"]
    checks = [
        ("total_sessions", summary["total_sessions"], truth["total_sessions"], True),
        ("bad_sessions", summary["bad_sessions"], truth["bad_sessions"], True),
        ("partial", summary["partial"], truth["partial"], True),
        ("packets_read", ingest["packets_read"], truth["packets"], True),
        ("truncated_packets", ingest["truncated_packets"], truth["truncated_packets"], True),
        ("bare loop packets", bare_count, truth["packets"], True),
        (
            "bad_sessions_wireshark (info)",
            summary["bad_sessions_wireshark"],
            truth["bad_sessions"],
            False,
        ),
    ]
    if py_run:
        py_total, py_bad = (int(x) for x in py_run.stdout.split()[:2])
        checks += [
            ("python total_sessions", py_total, truth["total_sessions"], True),
            ("python bad_sessions", py_bad, truth["bad_sessions"], True),
        ]
    failed = False
    print("ground truth check:")
    for name, got, want, strict in checks:
        ok = got == want
        failed |= strict and not ok
        mark = "ok" if ok else ("FAIL" if strict else "differs")
        print(f"  {name:30} capgap {got:>10}  truth {want:>10}  {mark}")
    for kind in compressed_differ:
        print(f"  {kind:30} report differs from the plain file's  FAIL")
    failed |= bool(compressed_differ)
    diffs = check_sessions(capgap, capture, args.scratch)
    print(f"  per-session verdicts (by SYN frame): {'ok' if not diffs else 'FAIL'}")
    for d in diffs:
        print(f"    {d}")
    failed |= bool(diffs)
    differ = threads_differ(capgap, capture, args.scratch)
    print(
        "  --threads 1 and 2, report, --sessions-out, --events-out: "
        + ("byte-identical" if not differ else "FAIL, differ: " + ", ".join(differ))
    )
    failed |= bool(differ)
    print(f"truth check: {'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
