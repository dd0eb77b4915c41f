#!/usr/bin/env python3
"""Compares the output of two capgap builds on every capture and CSV pair the project has.

    scripts/compare_builds.py OLD NEW        two capgap binaries
    scripts/compare_builds.py --base REV     builds git revision REV (Release, in a temporary
                                             worktree and build directory) as OLD; NEW is
                                             build/capgap unless given

A restructuring, a new fast path or a compiler upgrade must not change what capgap says. This
runs both builds on:

- every capture under ../shared/captures (recursively: *.pcap, *.pcapng, *.cap, malformed/
  included; skipped with a message when ../shared is absent, as in a user's clone),
- tests/data/**/*.pcap*, examples/data/*.pcap:
  `analyze F` (text), `analyze F --format json` (equal once parsed: spacing may differ) and
  `analyze F --sessions-out S --events-out E` (both files byte for byte), each plain, with
  `--drop-duplicates` and with `--tunnel-key`;
- the CSV pairs in tests/data/csv (see its README.md) through `capgap csv`, with the default
  join, `--join socket` and `--compare-joins`, in the same three output forms, and the broken
  CSV files that must fail;
- the project's captures together as independent captures (`--files independent`, one group
  per directory) with `--jobs 1` and `--jobs 2`, in the same three output forms.

Every run compares the exit status and standard error as well. Both builds run in scratch
directories of the same name, so relative output paths and messages match. Prints one line per
difference and a summary ("N runs, all identical" or "K of N differ"); exit status 1 when
anything differs, 2 on a usage or build error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
VARIANTS: list[list[str]] = [[], ["--drop-duplicates"], ["--tunnel-key"]]
CSV_JOINS: list[list[str]] = [[], ["--join", "socket"], ["--compare-joins"]]
# Names of the output files, relative to each build's scratch directory.
SESSIONS_OUT = "sessions.csv"
EVENTS_OUT = "events.csv"
TIMEOUT_S = 600


@dataclass
class Job:
    """One command, run by both builds; `form` says how stdout is compared."""

    label: str
    args: list[str]
    form: str  # "text", "json" or "files"


@dataclass
class Result:
    returncode: int
    stdout: bytes
    stderr: bytes
    files: dict[str, bytes | None]


def log(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ inputs


def shared_captures(shared: Path) -> list[Path]:
    if not shared.is_dir():
        print(f"note: {shared} not found: the shared captures are skipped")
        return []
    return sorted(
        p for p in shared.rglob("*") if p.is_file() and p.suffix.lower() in CAPTURE_SUFFIXES
    )


def project_captures() -> list[Path]:
    found = [p for p in (REPO / "tests" / "data").rglob("*.pcap*") if p.is_file()]
    found += [p for p in (REPO / "examples" / "data").glob("*.pcap") if p.is_file()]
    return sorted(found)


def capture_jobs(captures: list[Path]) -> list[Job]:
    jobs = []
    for cap in captures:
        for variant in VARIANTS:
            tag = " ".join([rel(cap), *variant])
            jobs.append(Job(f"analyze {tag}", ["analyze", str(cap), *variant], "text"))
            jobs.append(
                Job(
                    f"analyze {tag} --format json",
                    ["analyze", str(cap), "--format", "json", *variant],
                    "json",
                )
            )
            jobs.append(
                Job(
                    f"analyze {tag} --sessions-out --events-out",
                    [
                        "analyze",
                        str(cap),
                        "--sessions-out",
                        SESSIONS_OUT,
                        "--events-out",
                        EVENTS_OUT,
                        *variant,
                    ],
                    "files",
                )
            )
    return jobs


def independent_jobs(captures: list[Path]) -> list[Job]:
    """The project's captures as independent captures (one group per directory), over 1 and
    2 jobs, in the three output forms."""
    files = [str(c) for c in captures]
    jobs = []
    for n in ("1", "2"):
        base = ["analyze", *files, "--files", "independent", "--jobs", n]
        tag = f"analyze --files independent --jobs {n} (project captures)"
        jobs.append(Job(tag, base, "text"))
        jobs.append(Job(f"{tag} --format json", [*base, "--format", "json"], "json"))
        jobs.append(
            Job(
                f"{tag} --sessions-out --events-out",
                [*base, "--sessions-out", SESSIONS_OUT, "--events-out", EVENTS_OUT],
                "files",
            )
        )
    return jobs


def csv_pairs(csv_dir: Path) -> list[tuple[Path, Path]]:
    """Every X_syn.csv with its X_lost.csv, then each broken file against a good lost list."""
    pairs = []
    for syn in sorted(csv_dir.glob("*_syn.csv")):
        lost = syn.with_name(syn.name.replace("_syn.csv", "_lost.csv"))
        if lost.is_file():
            pairs.append((syn, lost))
    good_lost = csv_dir / "gui_new_lost.csv"
    good_syn = csv_dir / "gui_new_syn.csv"
    for broken in sorted(csv_dir.glob("*.csv")):
        if broken.name.endswith(("_syn.csv", "_lost.csv")):
            continue
        pairs.append((broken, good_lost))
        pairs.append((good_syn, broken))
    return pairs


def csv_jobs(pairs: list[tuple[Path, Path]]) -> list[Job]:
    jobs = []
    for syn, lost in pairs:
        base = ["csv", "--syn", str(syn), "--lost", str(lost)]
        for join in CSV_JOINS:
            tag = " ".join([f"csv {rel(syn)} {rel(lost)}", *join])
            jobs.append(Job(tag, [*base, *join], "text"))
            jobs.append(Job(f"{tag} --format json", [*base, *join, "--format", "json"], "json"))
            jobs.append(
                Job(
                    f"{tag} --sessions-out --events-out",
                    [*base, *join, "--sessions-out", SESSIONS_OUT, "--events-out", EVENTS_OUT],
                    "files",
                )
            )
    return jobs


# ------------------------------------------------------------------ running and comparing


def run(binary: Path, job: Job, workdir: Path) -> Result:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    try:
        proc = subprocess.run(
            [str(binary), *job.args],
            cwd=workdir,
            capture_output=True,
            timeout=TIMEOUT_S,
            env={**os.environ, "LC_ALL": "C"},
        )
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        rc, out, err = -999, b"", f"timed out after {TIMEOUT_S} s".encode()
    files: dict[str, bytes | None] = {}
    if job.form == "files":
        for name in (SESSIONS_OUT, EVENTS_OUT):
            path = workdir / name
            files[name] = path.read_bytes() if path.exists() else None
    return Result(rc, out, err, files)


def first_difference(a: bytes, b: bytes) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}: {x[:80]!r} vs {y[:80]!r}"
    return f"{len(la)} lines vs {len(lb)} lines"


def parsed(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return None


# --ignore-diagnosis: what a build with the diagnosis adds to a build without it, taken out of
# the new build's output before comparing (the findings block that leads the text report, the
# JSON `diagnosis` object and the `interface_drops` ingest counter).
IGNORE_DIAGNOSIS = False


def strip_diagnosis(stdout: bytes, form: str) -> bytes:
    if form == "json":
        doc = parsed(stdout)
        if isinstance(doc, dict):
            doc.pop("diagnosis", None)
            if isinstance(doc.get("ingest"), dict):
                doc["ingest"].pop("interface_drops", None)
            return json.dumps(doc).encode()
        return stdout
    if not stdout.startswith(b"Findings:\n"):
        return stdout
    end = stdout.find(b"\nReconstructable: ")
    if end < 0:
        return stdout
    end = stdout.find(b"\n\n", end + 1)
    text = stdout[end + 2 :] if end >= 0 else stdout
    lines = [ln for ln in text.split(b"\n") if not ln.lstrip().startswith(b"interface_drops: ")]
    return b"\n".join(lines)


def compare(job: Job, old: Result, new: Result) -> list[str]:
    if IGNORE_DIAGNOSIS:
        new = dataclasses.replace(new, stdout=strip_diagnosis(new.stdout, job.form))
        if job.form == "json" and parsed(old.stdout) is not None:
            old = dataclasses.replace(old, stdout=strip_diagnosis(old.stdout, job.form))
    diffs = []
    if old.returncode != new.returncode:
        diffs.append(f"exit status {old.returncode} vs {new.returncode}")
    if old.stderr != new.stderr:
        diffs.append(f"stderr differs, {first_difference(old.stderr, new.stderr)}")
    if job.form == "json":
        a, b = parsed(old.stdout), parsed(new.stdout)
        if a is None or b is None:
            # Not JSON (an error run, say): then the bytes must match.
            if old.stdout != new.stdout:
                diffs.append(f"stdout differs, {first_difference(old.stdout, new.stdout)}")
        elif a != b:
            diffs.append("JSON documents differ once parsed")
    elif old.stdout != new.stdout:
        diffs.append(f"stdout differs, {first_difference(old.stdout, new.stdout)}")
    for name in old.files.keys() | new.files.keys():
        a, b = old.files.get(name), new.files.get(name)
        if a == b:
            continue
        if a is None or b is None:
            diffs.append(f"{name} written by only one build")
        else:
            diffs.append(f"{name} differs, {first_difference(a, b)}")
    return diffs


def compare_all(old: Path, new: Path, jobs: list[Job], workers: int, scratch: Path) -> int:
    def one(index: int) -> tuple[Job, list[str]]:
        job = jobs[index]
        slot = scratch / f"job{index}"
        # The same directory name for both builds: messages that name an output file match.
        a = run(old, job, slot / "a" / "out")
        b = run(new, job, slot / "b" / "out")
        shutil.rmtree(slot, ignore_errors=True)
        return job, compare(job, a, b)

    differing = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job, diffs in pool.map(one, range(len(jobs))):
            if diffs:
                differing += 1
                for d in diffs:
                    print(f"DIFF {job.label}: {d}", flush=True)
    if differing == 0:
        print(f"{len(jobs)} runs, all identical")
        return 0
    print(f"{differing} of {len(jobs)} runs differ")
    return 1


# ------------------------------------------------------------------ building a revision


def build_revision(rev: str, scratch: Path) -> Path:
    """Builds the CLI of git revision `rev` in a temporary worktree; returns the binary."""
    tree = scratch / "worktree"
    build = scratch / "build"
    log(f"git worktree add --detach {tree} {rev}")
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), rev], check=True
    )
    try:
        cmd = [
            "cmake",
            "-S",
            str(tree),
            "-B",
            str(build),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DCAPGAP_BUILD_TESTS=OFF",
            "-DCAPGAP_BUILD_EXAMPLES=OFF",
            "-DCAPGAP_INSTALL=OFF",
        ]
        if shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        log(" ".join(cmd))
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        jobs = str(os.cpu_count() or 2)
        log(f"cmake --build {build} --target capgap_cli -j {jobs}")
        subprocess.run(
            ["cmake", "--build", str(build), "--target", "capgap_cli", "-j", jobs],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False
        )
    binary = build / "capgap"
    if not binary.is_file():
        raise FileNotFoundError(f"{binary} was not built")
    return binary


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Compare two capgap builds on every capture and CSV pair.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 all identical, 1 some run differs, 2 usage or build error",
    )
    ap.add_argument(
        "binaries", nargs="*", type=Path, metavar="BIN", help="OLD NEW, or NEW with --base"
    )
    ap.add_argument("--base", metavar="REV", help="build git revision REV as OLD")
    ap.add_argument(
        "--shared",
        type=Path,
        default=REPO.parent / "shared" / "captures",
        help="the shared captures (default: ../shared/captures beside the checkout)",
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="runs in parallel")
    ap.add_argument(
        "--ignore-diagnosis",
        action="store_true",
        help="compare NEW without what the diagnosis adds (findings block, JSON diagnosis, "
        "interface_drops) against an OLD without it",
    )
    args = ap.parse_args(argv)
    global IGNORE_DIAGNOSIS
    IGNORE_DIAGNOSIS = args.ignore_diagnosis

    if args.base is None and len(args.binaries) != 2:
        ap.error("give OLD and NEW, or --base REV [NEW]")
    if args.base is not None and len(args.binaries) > 1:
        ap.error("with --base, give at most NEW")

    with tempfile.TemporaryDirectory(prefix="capgap-compare-") as tmp:
        scratch = Path(tmp)
        if args.base is not None:
            try:
                old = build_revision(args.base, scratch / "base")
            except (subprocess.CalledProcessError, FileNotFoundError) as e:
                print(f"error: building {args.base} failed: {e}", file=sys.stderr)
                return 2
            new = args.binaries[0] if args.binaries else REPO / "build" / "capgap"
        else:
            old, new = args.binaries
        for b in (old, new):
            if not (b.is_file() and os.access(b, os.X_OK)):
                print(f"error: {b} is not an executable file", file=sys.stderr)
                return 2
        old, new = old.resolve(), new.resolve()

        captures = shared_captures(args.shared) + project_captures()
        jobs = capture_jobs(captures) + csv_jobs(csv_pairs(REPO / "tests" / "data" / "csv"))
        jobs += independent_jobs(project_captures())
        log(f"comparing {old} (old) with {new} (new): {len(captures)} captures, {len(jobs)} runs")
        return compare_all(old, new, jobs, max(1, args.jobs), scratch / "runs")


if __name__ == "__main__":
    sys.exit(main())
