"""Captures that are not plain files: `-` (standard input) in the CLI, gzip/zstd/lz4 compressed
captures, and Python binary streams. The ground truth of every test is the same capture read
as a plain file, whose reading the tshark cross-checks pin."""

from __future__ import annotations

import gzip
import io
import json
import os
import pty
import shutil
import socket
import struct
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import (
    CLI_TIMEOUT,
    REPO_ROOT,
    SHARED_CAPTURES,
    run_cli,
    sessions_csv_without_source,
)

import capgap

SAMPLE = REPO_ROOT / "examples" / "data" / "sample.pcap"
REAL = sorted((REPO_ROOT / "tests" / "data" / "real").glob("*.pcap"))
CAPTURES = [SAMPLE, *REAL]


def compress(path: Path, kind: str, out_dir: Path) -> Path:
    """`path` compressed with gzip (Python's module), zstd or lz4 (their command-line tools)."""
    out = out_dir / f"{path.name}.{kind}"
    if kind == "gz":
        out.write_bytes(gzip.compress(path.read_bytes()))
        return out
    tool = {"zst": "zstd", "lz4": "lz4"}[kind]
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed (Debian package {tool}; scripts/dev.sh installs it)")
    args = [str(path), "-o", str(out)] if tool == "zstd" else [str(path), str(out)]
    subprocess.run([tool, "-q", "-f", *args], check=True)
    return out


def report_of(cli: Path, tmp_path: Path, args: list[str], stdin: bytes | None = None):
    """(text report, --sessions-out bytes without the `source` column, which names the input)
    of one `capgap analyze`."""
    out = tmp_path / "sessions.csv"
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        [str(cli), "analyze", *args, "--sessions-out", str(out)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode(), sessions_csv_without_source(out.read_bytes())


def to_pcapng(pcap: Path, raw_ip_every: int = 0) -> bytes:
    """The classic pcap `pcap` (Ethernet) as pcapng. With raw_ip_every = n, every n-th IPv4
    frame goes on a second interface of link type raw IP, its Ethernet header removed: a
    multi-interface file libpcap refuses."""
    data = pcap.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    assert struct.unpack(endian + "I", data[20:24])[0] == 1, "an Ethernet capture"

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    def idb(linktype: int) -> bytes:  # nanosecond timestamps (if_tsresol 9)
        return block(1, struct.pack("<HHI", linktype, 0, 262144) + b"\x09\x00\x01\x00\x09\0\0\0")

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)), idb(1)]
    if raw_ip_every:
        out.append(idb(101))
    off, i = 24, 0
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[off : off + 16])
        frame = data[off + 16 : off + 16 + caplen]
        off += 16 + caplen
        ns = sec * 10**9 + (frac if nano else frac * 1000)
        iface = 0
        if raw_ip_every and i % raw_ip_every == 0 and frame[12:14] == b"\x08\x00":
            frame, wirelen, iface = frame[14:], wirelen - 14, 1
        i += 1
        head = struct.pack("<IIIII", iface, ns >> 32, ns & 0xFFFFFFFF, len(frame), wirelen)
        out.append(block(6, head + frame))
    return b"".join(out)


# ---- the CLI ----


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_cli_stdin_gives_the_files_report(cli: Path, tmp_path: Path, capture: Path) -> None:
    want = report_of(cli, tmp_path, [str(capture)])
    assert report_of(cli, tmp_path, ["-"], stdin=capture.read_bytes()) == want
    # `-` among files: merged by time like any file (here: the same capture twice).
    both = report_of(cli, tmp_path, ["-", str(capture)], stdin=capture.read_bytes())
    assert both == report_of(cli, tmp_path, [str(capture), str(capture)])


@pytest.mark.parametrize("kind", ["gz", "zst", "lz4"])
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_cli_compressed_gives_the_files_report(
    cli: Path, tmp_path: Path, capture: Path, kind: str
) -> None:
    packed = compress(capture, kind, tmp_path)
    want = report_of(cli, tmp_path, [str(capture)])
    assert report_of(cli, tmp_path, [str(packed)]) == want
    assert report_of(cli, tmp_path, ["-"], stdin=packed.read_bytes()) == want
    # With threads, a compressed file decompresses on a thread of its own.
    assert report_of(cli, tmp_path, ["--threads", "2", str(packed)]) == want


def test_cli_stdin_pcapng(cli: Path, tmp_path: Path) -> None:
    ng = tmp_path / "sample.pcapng"
    ng.write_bytes(to_pcapng(SAMPLE))
    want = report_of(cli, tmp_path, [str(SAMPLE)])
    assert report_of(cli, tmp_path, [str(ng)]) == want
    assert report_of(cli, tmp_path, ["-"], stdin=ng.read_bytes()) == want
    assert report_of(cli, tmp_path, ["-"], stdin=gzip.compress(ng.read_bytes())) == want


def test_cli_stdin_multi_interface_pcapng(cli: Path, tmp_path: Path) -> None:
    """Interfaces of two link types, which libpcap refuses: the file is reopened for the
    pcapng reader, a stream is recognised from its first blocks."""
    ng = tmp_path / "multi.pcapng"
    ng.write_bytes(to_pcapng(SAMPLE, raw_ip_every=3))
    text, sessions = report_of(cli, tmp_path, [str(ng)])
    assert report_of(cli, tmp_path, ["-"], stdin=ng.read_bytes()) == (text, sessions)
    assert report_of(cli, tmp_path, ["-"], stdin=gzip.compress(ng.read_bytes())) == (
        text,
        sessions,
    )
    # The same sessions as the single-interface original.
    assert sessions == report_of(cli, tmp_path, [str(SAMPLE)])[1]


def test_cli_stdin_shared_pcapng(cli: Path, tmp_path: Path) -> None:
    captures = sorted(SHARED_CAPTURES.glob("*.pcapng")) if SHARED_CAPTURES.is_dir() else []
    if not captures:
        pytest.skip("../shared/captures not present (only in the project's CI/dev checkout)")
    for capture in captures:
        file_run = run_cli(cli, "analyze", str(capture), "--format", "json")
        proc = subprocess.run(
            [str(cli), "analyze", "-", "--format", "json"],
            input=capture.read_bytes(),
            capture_output=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        assert proc.returncode == file_run.returncode, capture.name
        # Input problems name the input: the path, or stdin.
        assert proc.stdout.decode() == file_run.stdout.replace(f'"{capture}"', '"stdin"'), (
            capture.name
        )


def test_cli_cut_compressed_keeps_packets_and_names_the_problem(cli: Path, tmp_path: Path) -> None:
    packed = gzip.compress(SAMPLE.read_bytes())
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    proc = run_cli(cli, "analyze", str(cut), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    # Decompressed on a thread of its own (--threads 2): the same packets and problem.
    threaded = run_cli(cli, "analyze", str(cut), "--format", "json", "--threads", "2")
    assert (threaded.returncode, threaded.stdout) == (0, proc.stdout)
    report = json.loads(proc.stdout)
    ingest = report["ingest"]
    total = capgap.analyze(SAMPLE).ingest.packets_read
    assert 0 < ingest["packets_read"] < total
    [problem] = ingest["problems"]
    assert problem["source"] == str(cut)
    assert problem["position"] == f"record {ingest['packets_read'] + 1}"
    assert problem["reason"].startswith(
        f"gzip data cut short after {len(packed) // 2} compressed bytes"
    )


def test_cli_stdin_twice_is_a_usage_error(cli: Path) -> None:
    proc = run_cli(cli, "analyze", "-", "-")
    assert proc.returncode == 1
    assert "standard input (-) can be read only once" in proc.stderr


def test_cli_empty_stdin_names_stdin(cli: Path) -> None:
    proc = subprocess.run(
        [str(cli), "analyze", "-"], input=b"", capture_output=True, timeout=CLI_TIMEOUT
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("capgap: stdin:")


# ---- Python streams ----


@pytest.fixture(scope="module")
def sample_text() -> str:
    return str(capgap.analyze(str(SAMPLE)))


def test_python_open_file(sample_text: str) -> None:
    with SAMPLE.open("rb") as f:
        assert str(capgap.analyze(f)) == sample_text


def test_python_bytesio_and_gzip(sample_text: str) -> None:
    data = SAMPLE.read_bytes()
    assert str(capgap.analyze(io.BytesIO(data))) == sample_text
    # Compressed content in a stream is decompressed by capgap ...
    assert str(capgap.analyze(io.BytesIO(gzip.compress(data)))) == sample_text
    # ... and a GzipFile hands over the plain bytes.
    with gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data))) as g:
        assert str(capgap.analyze(g)) == sample_text


def test_python_stream_with_read_only(sample_text: str) -> None:
    class ReadOnly:  # read(n) and no readinto: short reads of at most 1000 bytes
        def __init__(self, data: bytes) -> None:
            self.data, self.at = data, 0

        def read(self, n: int) -> bytes:
            chunk = self.data[self.at : self.at + min(n, 1000)]
            self.at += len(chunk)
            return chunk

    assert str(capgap.analyze(ReadOnly(SAMPLE.read_bytes()))) == sample_text


def test_python_socket_makefile(sample_text: str) -> None:
    a, b = socket.socketpair()
    data = SAMPLE.read_bytes()

    def send() -> None:
        with a:
            a.sendall(data)

    t = threading.Thread(target=send)
    t.start()
    with b, b.makefile("rb") as f:
        report = capgap.analyze(f)
    t.join()
    assert str(report) == sample_text


def test_python_streams_mixed_with_paths() -> None:
    want = capgap.analyze([str(SAMPLE), str(REAL[0])])
    with REAL[0].open("rb") as f:
        got = capgap.analyze([SAMPLE, f])
    assert str(got) == str(want)
    assert (
        got.sessions.columns()["syn_frame"].tolist()
        == want.sessions.columns()["syn_frame"].tolist()
    )


def test_python_stream_errors_propagate_as_themselves() -> None:
    class Gone(Exception):
        pass

    class Failing(io.RawIOBase):
        def __init__(self, data: bytes, fail_at: int) -> None:
            self.data, self.at, self.fail_at = data, 0, fail_at

        def readable(self) -> bool:
            return True

        def readinto(self, buf) -> int:  # type: ignore[override]
            if self.at >= self.fail_at:
                raise Gone("the capture host went away")
            n = min(len(buf), self.fail_at - self.at)
            buf[:n] = self.data[self.at : self.at + n]
            self.at += n
            return n

    data = SAMPLE.read_bytes()
    for fail_at in (0, 100, len(data) // 2):
        with pytest.raises(Gone, match="the capture host went away"):
            capgap.analyze(Failing(data, fail_at))


def test_python_cut_compressed_stream_is_a_problem() -> None:
    packed = gzip.compress(SAMPLE.read_bytes())
    report = capgap.analyze(io.BytesIO(packed[: len(packed) // 2]))
    [problem] = report.ingest.problems
    assert problem.source == "<_io.BytesIO>"
    assert "gzip data cut short" in problem.reason


def test_python_text_stream_and_other_objects_are_type_errors(tmp_path: Path) -> None:
    with SAMPLE.open() as text, pytest.raises(TypeError, match="binary"):
        capgap.analyze(text)
    with pytest.raises(TypeError, match="binary stream"):
        capgap.analyze([SAMPLE, 42])  # type: ignore[list-item]


def test_cli_stdin_terminal_is_a_usage_error(cli: Path) -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [str(cli), "analyze", "-"],
            stdin=follower,
            capture_output=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
    finally:
        os.close(leader)
        os.close(follower)
    assert proc.returncode == 1
    assert b"standard input (-) is a terminal" in proc.stderr
