"""Shared fixtures for the end-to-end tests: the repository, the capgap CLI, the public
captures beside the checkout, and tshark."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CAPTURES = REPO_ROOT.parent / "shared" / "captures"
CLI_TIMEOUT = 120


def captures_with_syns() -> list[str]:
    """The captures of ../shared/captures/MANIFEST.tsv with SYN packets (none when absent)."""
    manifest = SHARED_CAPTURES / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["file"] for r in rows if int(r["syn_noack"] or 0) > 0]


def find_cli() -> Path | None:
    """CAPGAP_CLI, else <repo>/build/capgap, else `capgap` on PATH."""
    env = os.environ.get("CAPGAP_CLI")
    if env:
        return Path(env) if Path(env).is_file() else None
    built = REPO_ROOT / "build" / "capgap"
    if built.is_file():
        return built
    on_path = shutil.which("capgap")
    return Path(on_path) if on_path else None


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def cli() -> Path:
    path = find_cli()
    if path is None:
        where = os.environ.get("CAPGAP_CLI") or f"{REPO_ROOT / 'build' / 'capgap'} or PATH"
        pytest.skip(f"capgap CLI not found ({where}): build it with `scripts/dev.sh test`")
    return path


@pytest.fixture(scope="session")
def shared_captures() -> Path:
    if not (SHARED_CAPTURES / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/captures not present (only in the project's CI/dev checkout)")
    return SHARED_CAPTURES


@pytest.fixture(scope="session")
def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark not installed (Debian package tshark)")
    return path


@dataclass
class CliResult:
    """What one `capgap analyze` run gave: the parsed JSON report (when --format json) and the
    rows of --sessions-out."""

    returncode: int
    stdout: str
    stderr: str
    report: dict | None
    sessions: list[dict[str, str]]


def run_cli(cli: Path, *args: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(cli), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _endpoint(ip: str, port: str) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def read_sessions_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a sessions CSV, each with `client` and `server` added as "ip:port" (the form
    the captures' ground truth uses)."""
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    for row in rows:
        row["client"] = _endpoint(row["client_ip"], row["client_port"])
        row["server"] = _endpoint(row["server_ip"], row["server_port"])
    return rows


def without_source(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Sessions rows without their `source` column (the input's name), to compare the sessions
    of one capture read from different files or streams."""
    return [{k: v for k, v in row.items() if k != "source"} for row in rows]


def sessions_csv_without_source(data: bytes) -> bytes:
    """A sessions CSV's bytes without the `source` column (its last), as without_source()."""
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows and rows[0][-1] == "source", rows[:1]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(row[:-1] for row in rows)
    return out.getvalue().encode()


def analyze(cli: Path, captures: list[Path], tmp_path: Path, *extra: str) -> CliResult:
    """Run `capgap analyze --format json --sessions-out` and parse both outputs; fail the test
    with capgap's stderr when it does not exit 0."""
    out = tmp_path / "sessions.csv"
    proc = run_cli(
        cli, "analyze", *map(str, captures), "--format", "json", "--sessions-out", str(out),
        *extra,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(
            f"capgap analyze {' '.join(map(str, captures))} exited {proc.returncode}:\n"
            f"{proc.stderr}"
        )
    return CliResult(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        json.loads(proc.stdout),
        read_sessions_csv(out),
    )


def rewrite_records(
    src: Path, dst: Path, rewrite: Callable[[bytes, int], list[tuple[bytes, int]]]
) -> int:
    """Copies the classic pcap `src` to `dst` record by record, writing in place of each
    (frame, on-wire length) the records rewrite() returns, with the same timestamp. Returns
    how many records src holds."""
    data = src.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off, n = [data[:24]], 24, 0
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[off : off + 16])
        for frame, length in rewrite(data[off + 16 : off + 16 + caplen], wirelen):
            out.append(struct.pack(endian + "IIII", sec, frac, len(frame), length) + frame)
        off += 16 + caplen
        n += 1
    dst.write_bytes(b"".join(out))
    return n


def as_bool(value: str) -> bool:
    """A CSV boolean cell: 1/0 or true/false."""
    v = value.strip().lower()
    if v in ("1", "true", "yes"):
        return True
    if v in ("0", "false", "no", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """With CAPGAP_REQUIRE_OPTIONAL=1 (scripts/dev.sh test sets it), a test skipped because an
    optional package (pandas, matplotlib) cannot be imported fails instead: the test command
    installs them, so such a skip would hide a broken set-up and untested code."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and os.environ.get("CAPGAP_REQUIRE_OPTIONAL") == "1"
        and "could not import" in str(report.longrepr)
    ):
        report.outcome = "failed"
