"""Every write is checked: a report or output file that cannot be written is exit status 2 with
a message naming the output and the reason, and an output file is either complete or not there
(written to a temporary beside it, renamed when complete).

The tests run as root, where permissions stop no write: the failures are made with /dev/full
(ENOSPC on every write), a path whose parent is a file (ENOTDIR), and RLIMIT_FSIZE (EFBIG once
a file would grow past the limit, with SIGXFSZ ignored so the write fails instead of killing).
"""

from __future__ import annotations

import errno
import resource
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import REPO_ROOT, run_cli

CAPTURE = REPO_ROOT / "tests" / "data" / "real" / "lo_mixed.pcap"


def test_report_to_full_stdout_is_an_error(cli: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [str(cli), "analyze", str(CAPTURE)],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert proc.returncode == 2
    assert "stdout" in proc.stderr
    assert "No space left on device" in proc.stderr


def test_help_to_full_stdout_is_an_error(cli: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [str(cli), "analyze", "--help"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert proc.returncode == 2
    assert "stdout: write failed: No space left on device" in proc.stderr


@pytest.mark.parametrize("option", ["--sessions-out", "--events-out"])
def test_output_file_on_full_device(cli: Path, option: str) -> None:
    proc = run_cli(cli, "analyze", str(CAPTURE), option, "/dev/full")
    assert proc.returncode == 2
    assert "/dev/full: write failed: No space left on device" in proc.stderr
    assert Path("/dev/full").is_char_device()  # written in place, never renamed over
    assert proc.stdout == ""  # nothing reported as if it had worked


def test_output_file_whose_parent_is_a_file(cli: Path, tmp_path: Path) -> None:
    parent = tmp_path / "not_a_dir"
    parent.write_text("x")
    target = parent / "sessions.csv"
    proc = run_cli(cli, "analyze", str(CAPTURE), "--sessions-out", str(target))
    assert proc.returncode == 2
    assert f"{target}: cannot open for writing: Not a directory" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_dir"]


def limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))


def test_failure_half_way_keeps_the_old_file_and_no_temporary(cli: Path, tmp_path: Path) -> None:
    target = tmp_path / "sessions.csv"
    target.write_text("the previous run's rows\n")
    proc = subprocess.run(
        [str(cli), "analyze", str(CAPTURE), "--sessions-out", str(target)],
        capture_output=True, text=True, timeout=60, check=False, preexec_fn=limit_file_size,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"{target}: write failed: File too large" in proc.stderr
    assert target.read_text() == "the previous run's rows\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sessions.csv"]


def test_success_leaves_the_files_and_no_temporary(cli: Path, tmp_path: Path) -> None:
    sessions, events = tmp_path / "s.csv", tmp_path / "e.csv"
    sessions.write_text("old\n")
    sessions.chmod(0o640)
    proc = run_cli(
        cli, "analyze", str(CAPTURE), "--sessions-out", str(sessions), "--events-out", str(events)
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "s.csv"]
    assert sessions.read_text().startswith("session_id,client_ip,client_port,server_ip,")
    assert events.read_text().startswith("session_id,")
    assert sessions.stat().st_mode & 0o777 == 0o640  # replaced, with its permissions kept
    # a symbolic link stays a link; its target gets the rows
    link = tmp_path / "link.csv"
    link.symlink_to(sessions)
    sessions.write_text("old\n")
    proc = run_cli(cli, "analyze", str(CAPTURE), "--sessions-out", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert sessions.read_text().startswith("session_id,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "link.csv", "s.csv"]


def test_python_writer_raises_oserror_with_the_filename(tmp_path: Path) -> None:
    capgap = pytest.importorskip("capgap")
    report = capgap.analyze(str(CAPTURE))
    with pytest.raises(OSError) as info:
        report.write_sessions_csv("/dev/full")
    assert isinstance(info.value, capgap.CaptureError)
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == "/dev/full"
    assert "No space left on device" in str(info.value)
    target = tmp_path / "not_a_dir" / "events.csv"
    (tmp_path / "not_a_dir").write_text("x")
    with pytest.raises(OSError) as info:
        report.write_events_csv(target)
    assert info.value.errno == errno.ENOTDIR
    assert info.value.filename == str(target)
    report.write_sessions_csv(tmp_path / "s.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_dir", "s.csv"]
