"""`capgap analyze --files independent --jobs N`: several sensors' rotated files.

The sensors are tests/python/_sensors.py's (one capture per directory, cut into pieces whose
names do not sort in time order). The expected output is that of the same grouping done by
hand: each directory's files analysed as one capture by capgap.analyze, the reports merged
with capgap.concat; the totals are anchored on the captures' truth.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _sensors import all_pieces, broken_capture, make_sensors

import capgap
from capgap._grouping import group_captures


@pytest.fixture(scope="module")
def sensors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return make_sensors(tmp_path_factory.mktemp("sensors"))


def test_cli_jobs_equals_sequential_and_python(
    cli: Path, sensors: dict[str, dict], tmp_path: Path
) -> None:
    files = all_pieces(sensors)

    def run(*extra: str) -> tuple[str, bytes]:
        out = tmp_path / f"sessions{len(list(tmp_path.iterdir()))}.csv"
        res = subprocess.run(
            [str(cli), "analyze", *files, "--files", "independent", "--format", "json",
             "--sessions-out", str(out), "--quiet", *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        return res.stdout, out.read_bytes()

    one_json, one_csv = run("--jobs", "1")
    two_json, two_csv = run("--jobs", "2")
    assert two_json == one_json
    assert two_csv == one_csv
    # The same grouping by hand: each directory's files (time order) analysed as one capture,
    # the reports merged as independent captures.
    groups = group_captures(files)
    want = capgap.concat(capgap.analyze(g) for g in groups.values())
    want_csv = tmp_path / "want.csv"
    want.write_sessions_csv(want_csv)
    assert one_csv == want_csv.read_bytes()
    got = json.loads(one_json)
    assert got["summary"] == json.loads(want.to_json())["summary"]
    assert got["summary"]["total_sessions"] == sum(
        s["totals"]["total_sessions"] for s in sensors.values()
    )


def test_cli_sensor_regex(cli: Path, sensors: dict[str, dict], tmp_path: Path) -> None:
    # Every piece in one directory, the sensor in the name: --sensor-regex groups them again.
    flat = tmp_path / "flat"
    flat.mkdir()
    files = []
    for d, s in sensors.items():
        for p in s["pieces"]:
            dst = flat / f"{Path(d).name}--{p.name}"
            shutil.copy(p, dst)
            files.append(str(dst))
    res = subprocess.run(
        [str(cli), "analyze", *sorted(files), "--files", "independent", "--jobs", "2",
         "--sensor-regex", "/(sensor-[a-z0-9_]+)--", "--format", "json", "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    want = capgap.concat(capgap.analyze(str(s["whole"])) for s in sensors.values())
    assert json.loads(res.stdout)["summary"] == json.loads(want.to_json())["summary"]


def test_cli_usage(cli: Path, sensors: dict[str, dict]) -> None:
    one = all_pieces(sensors)[0]
    for args, msg in (
        (["--jobs", "2"], "--files independent"),
        (["--files", "independent", "--jobs", "0"], "number of jobs"),
        (["--files", "sideways"], "capture or independent"),
        (["--files", "independent", "--sensor-regex", "("], "--sensor-regex"),
    ):
        res = subprocess.run(
            [str(cli), "analyze", one, *args], capture_output=True, text=True, timeout=60
        )
        assert res.returncode == 1, args
        assert msg in res.stderr, (args, res.stderr)
    res = subprocess.run(
        [str(cli), "analyze", one, "--files", "independent", "--sensor-regex", "nomatch"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 2
    assert "does not match" in res.stderr and one in res.stderr


# ---- the groups run in child processes ----
#
# Three test hooks of the CLI (src/cli/jobs.hpp), read by the children: CAPGAP_TEST_JOBS_PID_DIR
# (each child leaves GROUP-PID-PARENTPID there), CAPGAP_TEST_JOBS_CHILD_ABORT=i and
# CAPGAP_TEST_JOBS_CHILD_HANG=i (group i's child aborts, or waits for a signal). The groups are
# the sensors in key order: 0 sensor-bulk, 1 sensor-lo_mixed, 2 sensor-lo_v6_nsec.

# Runs capgap as the child of a small Python process that is a child subreaper
# (PR_SET_CHILD_SUBREAPER): a process capgap leaves behind, running or a zombie, is handed to it
# when capgap exits, and os.waitpid(-1) shows it. argv[1] is a JSON list: capgap's arguments;
# argv[2] what to do once the file argv[3] exists ("" for nothing, "group" for SIGINT to
# capgap's process group as Ctrl-C sends it, "parent" for SIGINT to capgap alone). Prints
# {"rc", "stderr", "left"}.
REAPER = r"""
import ctypes, json, os, signal, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
args, how, ready = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                     start_new_session=True)
if how:
    deadline = time.monotonic() + 60
    where, prefix = os.path.split(ready)
    while not any(f.startswith(prefix) for f in os.listdir(where)):
        if time.monotonic() > deadline:
            os.killpg(p.pid, signal.SIGKILL)
            sys.exit("the child never started")
        time.sleep(0.02)
    if how == "group":
        os.killpg(p.pid, signal.SIGINT)
    else:
        os.kill(p.pid, signal.SIGINT)
err = p.communicate(timeout=120)[1]
left = []
while True:
    try:
        pid, status = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break  # no child left at all
    if pid == 0:  # one still running: stop it, but count it
        time.sleep(0.05)
        left.append("running")
        if len(left) > 100:
            break
        continue
    left.append(pid)
print(json.dumps({"rc": p.returncode, "stderr": err, "left": left}))
"""


def run_reaped(args: list[str], how: str = "", ready: str = "", env: dict | None = None) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", REAPER, json.dumps(args), how, ready],
        capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def analyze_args(cli: Path, files: list[str], *extra: str) -> list[str]:
    return [str(cli), "analyze", *files, "--files", "independent", "--quiet", *extra]


def test_cli_jobs_run_in_child_processes(
    cli: Path, sensors: dict[str, dict], tmp_path: Path
) -> None:
    files = all_pieces(sensors)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {**os.environ, "CAPGAP_TEST_JOBS_PID_DIR": str(pids)}
    p = subprocess.Popen(
        analyze_args(cli, files, "--jobs", "2", "--format", "json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    seen = [tuple(int(x) for x in f.name.split("-")) for f in pids.iterdir()]
    # One process per group, each a child of capgap, none capgap itself.
    assert sorted(g for g, _, _ in seen) == [0, 1, 2]
    assert len({pid for _, pid, _ in seen}) == 3
    assert all(parent == p.pid and pid != p.pid for _, pid, parent in seen)
    # And the report is the one-process run's.
    one = subprocess.run(
        analyze_args(cli, files, "--jobs", "1", "--format", "json"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out == one.stdout
    # --jobs 1 stays in the one process.
    for f in pids.iterdir():
        f.unlink()
    res = subprocess.run(
        analyze_args(cli, files, "--jobs", "1"), capture_output=True, timeout=120, env=env
    )
    assert res.returncode == 0
    assert list(pids.iterdir()) == []


def test_cli_jobs_more_than_groups_and_text(cli: Path, sensors: dict[str, dict]) -> None:
    files = all_pieces(sensors)
    outs = {
        j: subprocess.run(
            analyze_args(cli, files, "--jobs", j), capture_output=True, text=True, timeout=120
        )
        for j in ("1", "3", "8")
    }
    assert all(r.returncode == 0 for r in outs.values()), {j: r.stderr for j, r in outs.items()}
    assert outs["3"].stdout == outs["1"].stdout == outs["8"].stdout
    want = sum(s["totals"]["bad_sessions"] for s in sensors.values())
    assert f"Bad Sessions: {want}\n" in outs["1"].stdout.replace("  ", " ")


def test_cli_jobs_group_error_is_the_one_process_error(
    cli: Path, sensors: dict[str, dict], tmp_path: Path
) -> None:
    broken = tmp_path / "sensor-c-broken" / "x.pcap"  # group 1 of 4
    broken_capture(broken)
    files = [*all_pieces(sensors), str(broken)]
    alone = subprocess.run(
        [str(cli), "analyze", str(broken), "--quiet"], capture_output=True, text=True, timeout=60
    )
    assert alone.returncode == 2
    assert alone.stderr.startswith(f"capgap: {broken}: no packet could be decoded")
    for jobs in ("1", "2", "4"):
        got = run_reaped(analyze_args(cli, files, "--jobs", jobs))
        assert (got["rc"], got["stderr"]) == (2, alone.stderr), jobs
        assert got["left"] == [], jobs


def test_cli_jobs_first_error_in_group_order_when_a_later_group_fails_first(
    cli: Path, tmp_path: Path
) -> None:
    # Two groups that both fail. The first is held back a second before it starts
    # (CAPGAP_TEST_JOBS_CHILD_SLOW), so the second fails first: the first must still run to
    # its end and its error be the one reported, as in one process.
    first, second = tmp_path / "a" / "x.pcap", tmp_path / "b" / "y.pcap"
    broken_capture(first)
    broken_capture(second)
    files = [str(second), str(first)]
    one = subprocess.run(
        analyze_args(cli, files, "--jobs", "1"), capture_output=True, text=True, timeout=60
    )
    assert one.returncode == 2
    assert one.stderr.startswith(f"capgap: {first}: no packet could be decoded"), one.stderr
    got = run_reaped(
        analyze_args(cli, files, "--jobs", "2"), env={"CAPGAP_TEST_JOBS_CHILD_SLOW": "0"}
    )
    assert (got["rc"], got["stderr"]) == (2, one.stderr)
    assert got["left"] == []


def test_cli_jobs_child_killed(cli: Path, sensors: dict[str, dict]) -> None:
    files = all_pieces(sensors)
    group = sorted(str(p) for p in sensors[next(d for d in sensors if "lo_mixed" in d)]["pieces"])
    got = run_reaped(
        analyze_args(cli, files, "--jobs", "2"), env={"CAPGAP_TEST_JOBS_CHILD_ABORT": "1"}
    )
    assert got["rc"] == 2, got
    err = got["stderr"]
    assert err.startswith("capgap: the process analysing group '"), err
    assert f"was killed by signal {signal.SIGABRT.value} (" in err, err
    assert all(f in err for f in group), err
    assert got["left"] == []


@pytest.mark.parametrize("how", ["group", "parent"])
def test_cli_jobs_interrupted_leaves_nothing(
    cli: Path, sensors: dict[str, dict], tmp_path: Path, how: str
) -> None:
    # Group 1's child waits for a signal: the interruption finds it running.
    files = all_pieces(sensors)
    pids = tmp_path / "pids"
    pids.mkdir()
    got = run_reaped(
        analyze_args(cli, files, "--jobs", "2"), how, str(pids / "1-"),
        env={"CAPGAP_TEST_JOBS_PID_DIR": str(pids), "CAPGAP_TEST_JOBS_CHILD_HANG": "1"},
    )  # fmt: skip
    assert got["rc"] == 130, got
    assert got["stderr"] == "capgap: interrupted\n"
    assert got["left"] == []
    hung = [int(f.name.split("-")[1]) for f in pids.iterdir() if f.name.startswith("1-")]
    assert len(hung) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(hung[0], 0)


def progress_lines(cli: Path, files: list[str], jobs: str) -> tuple[str, list[str]]:
    """stdout, and the progress lines drawn on a terminal (a pty as standard error)."""
    master, slave = os.openpty()
    try:
        p = subprocess.Popen(
            [str(cli), "analyze", *files, "--files", "independent", "--jobs", jobs],
            stdout=subprocess.PIPE, stderr=slave, text=True,
        )  # fmt: skip
        os.close(slave)
        drawn = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        out = p.communicate(timeout=120)[0]
        assert p.returncode == 0
    finally:
        os.close(master)
    # Each draw is "\r<line>\x1b[K"; the last one erases the line.
    parts = drawn.decode().split("\r")
    assert parts[0] == "" and parts[-1] == "\x1b[K", drawn
    lines = [s.removesuffix("\x1b[K") for s in parts[1:-1]]
    return out, lines


def test_cli_jobs_progress(cli: Path, sensors: dict[str, dict]) -> None:
    files = all_pieces(sensors)
    one_out, one = progress_lines(cli, files, "1")
    two_out, two = progress_lines(cli, files, "2")
    assert two_out == one_out
    size = r"[0-9.]+( [kMGT])?B"
    line = re.compile(
        rf"capgap: {size} (read|of {size} \(\d+%\))"
        r"(, [0-9.]+( [kMGT])? packets/s)?, \d+ sessions(, ETA [0-9:]+)?"
    )
    for drawn in (one, two):
        assert drawn, "no progress line"
        assert all(line.fullmatch(s) for s in drawn), drawn

    # Every group sends its final figures: the last sum is the whole, whichever way it ran.
    def whole(s: str) -> tuple[str, str]:
        m = re.fullmatch(r"capgap: (\S+ ?\S*B) read.*, (\d+) sessions.*", s)
        assert m, s
        return m.group(1), m.group(2)

    assert whole(two[-1]) == whole(one[-1])
