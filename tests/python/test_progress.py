"""Progress and interruption: the progress line on a terminal (and nowhere else), the
progress callback, Ctrl-C (SIGINT) and a cancel event stopping an analysis promptly.

The long capture: 24 million packets (4 million short connections) in a 1.5 MB zstd file,
made of one block of connections repeated (zstd's long mode finds the repeats), so that an
analysis takes seconds while the file stays small.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from _capture_builder import bulk_capture

import capgap

REPEATS = 200
BLOCK_SESSIONS = 20_000


@pytest.fixture(scope="module")
def long_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    zstd = subprocess.run(["which", "zstd"], capture_output=True, check=False).stdout.strip()
    if not zstd:
        pytest.skip("the zstd command is not installed (Debian package zstd)")
    d = tmp_path_factory.mktemp("progress")
    bulk_capture(d / "block.pcap", BLOCK_SESSIONS, bad_every=9)
    raw = (d / "block.pcap").read_bytes()
    header, body = raw[:24], raw[24:]
    out = d / "long.pcap.zst"
    with open(out, "wb") as f:
        p = subprocess.Popen(["zstd", "-q", "-1", "--long=24", "-c"], stdin=subprocess.PIPE,
                             stdout=f)  # fmt: skip
        assert p.stdin is not None
        p.stdin.write(header)
        for _ in range(REPEATS):
            p.stdin.write(body)
        p.stdin.close()
        assert p.wait() == 0
    return out


@pytest.fixture(scope="module")
def small_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "small.pcap"
    bulk_capture(path, 100_000, bad_every=7)
    return path


# ---- the command line ----


def read_until(fd: int, done, timeout: float) -> bytes:
    """Reads `fd` until done(data) or the timeout; returns what was read."""
    data = b""
    end = time.monotonic() + timeout
    while not done(data) and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the pty's other end closed
                break
            if not chunk:
                break
            data += chunk
    return data


def test_cli_progress_line_on_a_terminal_and_ctrl_c(cli: Path, long_capture: Path) -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen([str(cli), "analyze", str(long_capture)], stdout=subprocess.PIPE,
                            stderr=slave)  # fmt: skip
    os.close(slave)
    try:
        seen = read_until(master, lambda d: d.count(b"\r") >= 2 and b"ETA" in d, 60)
        # One line redrawn in place: bytes of the total (the compressed file's size),
        # packets/s, sessions and ETA.
        size = long_capture.stat().st_size
        assert b"\rcapgap: " in seen, seen
        line = seen.split(b"\r")[-2 if seen.endswith(b"\r") else -1]
        m = re.match(
            rb"capgap: [\d.]+ [kMG]?B of ([\d.]+) ([kMG]?)B \(\d+%\), [\d.]+ [kM]? ?packets/s, "
            rb"\d+ sessions, ETA \d+:\d\d\x1b\[K$",
            line,
        )
        assert m, line
        total = float(m[1]) * {b"": 1, b"k": 1e3, b"M": 1e6, b"G": 1e9}[m[2]]
        assert abs(total - size) <= size * 0.005  # three significant digits
        assert b"\n" not in seen
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10)
        stopped = time.monotonic() - sent
        rest = read_until(master, lambda d: b"interrupted" in d, 2)
        assert proc.stdout is not None
        out = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        if proc.stdout is not None:
            proc.stdout.close()
    assert rc == 130
    assert stopped < 1.0
    assert b"capgap: interrupted" in rest
    assert out == b""  # no report: stopped


def test_cli_no_progress_line_in_a_pipe_or_with_quiet(cli: Path, long_capture: Path) -> None:
    proc = subprocess.Popen([str(cli), "analyze", str(long_capture)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(1.0)  # a terminal would have had ten lines by now
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert err == b"capgap: interrupted\n"

    master, slave = os.openpty()
    proc = subprocess.Popen([str(cli), "analyze", "--quiet", str(long_capture)],
                            stdout=subprocess.PIPE, stderr=slave)  # fmt: skip
    os.close(slave)
    try:
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        seen = read_until(master, lambda d: b"interrupted" in d, 5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        if proc.stdout is not None:
            proc.stdout.close()
    assert b"\r" not in seen.replace(b"\r\n", b"\n")  # the terminal's own CRLF aside
    assert b"capgap: interrupted" in seen


# ---- Python ----


def test_keyboard_interrupt_within_a_second(long_capture: Path) -> None:
    sent: list[float] = []

    def interrupt() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.5, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            capgap.analyze(long_capture)
        caught = time.monotonic()
    finally:
        timer.cancel()
        timer.join()
    assert sent, "the analysis ended before the signal: the capture is too small"
    assert caught - sent[0] < 1.0
    # Nothing is left half-done: the next analysis runs normally.
    assert capgap.analyze(long_capture, window=(0, 0.001)).total_sessions > 0


def test_cancel_from_another_thread(long_capture: Path) -> None:
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    start = time.monotonic()
    with pytest.raises(capgap.Cancelled):
        capgap.analyze(long_capture, cancel=cancel)
    assert time.monotonic() - start < 1.3
    timer.join()


def test_progress_callback(small_capture: Path) -> None:
    calls: list[capgap.Progress] = []
    report = capgap.analyze(small_capture, progress=calls.append)
    assert calls and calls[-1].done and not any(p.done for p in calls[:-1])
    last = calls[-1]
    size = small_capture.stat().st_size
    assert last.bytes_total == size and last.bytes_done == size
    assert last.packets == report.ingest.packets_read == 600_000
    assert last.sessions == 100_000  # bulk_capture's connections, one instance each
    # Monotonic, and at most ten calls a second.
    for a, b in zip(calls, calls[1:]):
        assert a.bytes_done <= b.bytes_done and a.packets <= b.packets
        if not b.done:
            assert b.elapsed_seconds - a.elapsed_seconds >= 0.1 - 1e-3

    class Stop(Exception):
        pass

    def stop(p: capgap.Progress) -> None:
        raise Stop

    with pytest.raises(Stop):  # an exception from the callback stops the analysis as itself
        capgap.analyze(small_capture, progress=stop)
    with pytest.raises(TypeError, match="progress"):
        capgap.analyze(small_capture, progress=3)


def test_progress_true_draws_tqdm(small_capture: Path, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("tqdm")
    capgap.analyze(small_capture, progress=True)
    assert "capgap" in capsys.readouterr().err


def test_cli_ctrl_c_during_extraction_leaves_no_file(
    cli: Path, long_capture: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bad.pcapng"
    proc = subprocess.Popen([str(cli), "analyze", str(long_capture), "--extract-bad", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        # The second reading writes to a temporary beside the target; stop it there.
        deadline = time.monotonic() + 60
        while not any(tmp_path.iterdir()) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert [p.name for p in tmp_path.iterdir()] == [f".bad.pcapng.tmp-{proc.pid}"]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert err == b"capgap: interrupted\n"
    assert list(tmp_path.iterdir()) == []
