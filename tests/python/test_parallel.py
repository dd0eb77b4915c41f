"""--threads N: the report, --sessions-out and --events-out are the same bytes for every N.

Every capture the project has (../shared/captures, skipped without it; tests/data; the example)
is analysed with 1, 2 and 3 tracker threads (3: an odd count, so that a bug in how the shards'
results are put back in order shows), plain, with --tunnel-key and with --drop-duplicates,
with --include all. A synthetic capture adds what sharding could get wrong and the real ones
may lack: the same ports reused by several connections, a corrupt timestamp years ahead and a
jump that persists, closed and idle expiry, and IP fragments.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from _capture_builder import ACK, PSH, RST, T0_NS, Conn, pcap_bytes
from conftest import REPO_ROOT, SHARED_CAPTURES, run_cli

import capgap

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
VARIANTS = [[], ["--tunnel-key"], ["--drop-duplicates"]]
THREADS = ["2", "3"]


def project_captures() -> list[Path]:
    found = [p for p in (REPO_ROOT / "tests" / "data").rglob("*.pcap*") if p.is_file()]
    found += sorted((REPO_ROOT / "examples" / "data").glob("*.pcap"))
    return sorted(found)


def shared_capture_files() -> list[Path]:
    if not SHARED_CAPTURES.is_dir():
        return []
    return sorted(
        p
        for p in SHARED_CAPTURES.rglob("*")
        if p.is_file() and p.suffix.lower() in CAPTURE_SUFFIXES
    )


def outputs(cli: Path, capture: Path, tmp_path: Path, threads: str, *extra: str) -> tuple:
    """Exit status, stderr, stdout (JSON), the two CSV files, and the text report."""
    sessions, events = tmp_path / f"s{threads}.csv", tmp_path / f"e{threads}.csv"
    for p in (sessions, events):
        p.unlink(missing_ok=True)
    common = ["analyze", str(capture), "--threads", threads, "--include", "all", *extra]
    proc = run_cli(
        cli, *common, "--format", "json", "--sessions-out", str(sessions),
        "--events-out", str(events),
    )  # fmt: skip
    text = run_cli(cli, *common)
    read = lambda p: p.read_bytes() if p.exists() else None  # noqa: E731
    return (
        proc.returncode,
        proc.stderr,
        proc.stdout,
        read(sessions),
        read(events),
        text.returncode,
        text.stdout,
        text.stderr,
    )


NAMES = ("status", "stderr", "json", "sessions", "events", "text status", "text", "text stderr")


def check_identical(cli: Path, capture: Path, tmp_path: Path, *extra: str) -> tuple:
    one = outputs(cli, capture, tmp_path, "1", *extra)
    for n in THREADS:
        many = outputs(cli, capture, tmp_path, n, *extra)
        for name, a, b in zip(NAMES, one, many):
            assert a == b, f"{capture.name} {' '.join(extra)}: --threads {n} differs in {name}"
    return one


@pytest.mark.parametrize("variant", VARIANTS, ids=["plain", "tunnel-key", "drop-duplicates"])
def test_project_captures_identical(cli: Path, tmp_path: Path, variant: list[str]) -> None:
    captures = project_captures()
    assert captures, "tests/data and examples/data hold captures"
    for capture in captures:
        check_identical(cli, capture, tmp_path, *variant)


@pytest.mark.parametrize("variant", VARIANTS, ids=["plain", "tunnel-key", "drop-duplicates"])
def test_shared_captures_identical(
    cli: Path, shared_captures: Path, tmp_path: Path, variant: list[str]
) -> None:
    captures = shared_capture_files()
    assert captures, f"no capture under {shared_captures}"
    for capture in captures:
        check_identical(cli, capture, tmp_path, *variant)


# ---------------------------------------------------------------- the synthetic capture

YEAR_NS = 365 * 24 * 3600 * 10**9
HOUR_NS = 3600 * 10**9


def fragmented(t: int, frame: bytes, pieces: int) -> list[tuple[int, bytes]]:
    """An Ethernet + IPv4 frame split into `pieces` IPv4 fragments (8-byte aligned)."""
    eth, ip = frame[:14], frame[14:]
    header, payload = ip[:20], ip[20:]
    step = max(8, (len(payload) // pieces + 7) // 8 * 8)
    out = []
    for off in range(0, len(payload), step):
        part = payload[off : off + step]
        more = off + step < len(payload)
        head = bytearray(header)
        struct.pack_into("!H", head, 2, 20 + len(part))
        struct.pack_into("!H", head, 6, (0x2000 if more else 0) | off // 8)
        out.append((t + len(out), eth + bytes(head) + part))
    return out


def synthetic_packets() -> list[tuple[int, bytes]]:
    """120 connections 400 ms apart on 40 client sockets: connections i, i + 40 and i + 80
    share their 4-tuple (16 s apart: a closed one has expired by then, an open one is ended by
    the next SYN). Every fifth misses a client segment its server acknowledges. From the 60th
    on, the capture is two hours later (a jump that persists: followed, and every open flow
    expires idle); one timestamp is ten years ahead and one a day back, alone. Every 50th
    packet with payload comes in three IP fragments."""
    packets: list[tuple[int, bytes]] = []
    for i in range(120):
        start = T0_NS + i * 400_000_000 + (2 * HOUR_NS if i >= 60 else 0)
        conn = Conn(f"10.1.0.{1 + i % 40}", 30000 + i % 40, "10.2.0.1", 80, start,
                    isn_c=1000 + 7919 * i, isn_s=5000 + 104729 * i)  # fmt: skip
        conn.handshake()
        conn.c2s(PSH | ACK, 100)
        conn.c2s(PSH | ACK, 100, keep=i % 5 != 1)
        conn.c2s(PSH | ACK, 300)
        conn.s2c(ACK)
        if i % 4 == 0:
            conn.close()
        elif i % 4 == 1:
            conn.c2s(RST)
        packets += conn.packets
    packets.sort(key=lambda p: p[0])
    packets[300] = (packets[300][0] + 10 * YEAR_NS, packets[300][1])
    packets[400] = (packets[400][0] - 24 * HOUR_NS, packets[400][1])
    out: list[tuple[int, bytes]] = []
    for n, (t, frame) in enumerate(packets):
        if n % 50 == 7 and len(frame) > 80:
            out += fragmented(t, frame, 3)
        else:
            out.append((t, frame))
    return out


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "synthetic.pcap"
    path.write_bytes(pcap_bytes(synthetic_packets()))
    return path


@pytest.mark.parametrize("variant", VARIANTS, ids=["plain", "tunnel-key", "drop-duplicates"])
def test_synthetic_capture_identical(cli: Path, synthetic: Path, tmp_path: Path, variant) -> None:
    check_identical(cli, synthetic, tmp_path, *variant)


def test_synthetic_capture_hits_the_traps(synthetic: Path) -> None:
    """The capture exercises what it was built for (counted by the one-thread run)."""
    r = capgap.analyze(str(synthetic), threads=1, include="all")
    ingest = r.ingest
    assert ingest.timestamp_jumps_forward == 2  # the lone one and the persistent one
    assert ingest.timestamp_steps_back == 1
    assert ingest.timestamp_jumps_followed == 1
    assert ingest.flows_idle_expired > 0  # the followed jump expires the open ones
    assert ingest.flows_closed_expired > 0
    # Every fragmented datagram completed: its pieces but the last are held (and counted).
    frag_fields = [struct.unpack("!H", f[20:22])[0] for _, f in synthetic_packets()]
    pieces = sum(1 for v in frag_fields if v & 0x3FFF)
    datagrams = sum(1 for v in frag_fields if v & 0x2000 and not v & 0x1FFF)
    assert datagrams > 0
    assert ingest.skipped_ip_fragment == pieces - datagrams
    assert ingest.skipped_fragment_incomplete == 0
    # Every connection is its own instance, whatever it shares its 4-tuple with.
    assert r.summary.total_sessions == 120
    assert r.summary.bad_sessions == 24  # every fifth missed a segment the server ACKed


def test_python_threads_keyword(synthetic: Path) -> None:
    one = capgap.analyze(str(synthetic), threads=1, include="all")
    for n in (2, 3):
        many = capgap.analyze(str(synthetic), threads=n, include="all")
        assert many.to_json() == one.to_json()
    default = capgap.analyze(str(synthetic))
    assert default.to_json() == capgap.analyze(str(synthetic), threads=1).to_json()


@pytest.mark.parametrize("bad", [0, 257, -1, 1.5, "2", True])
def test_python_threads_rejects(synthetic: Path, bad) -> None:
    with pytest.raises((TypeError, ValueError), match="threads"):
        capgap.analyze(str(synthetic), threads=bad)


@pytest.mark.parametrize("bad", ["0", "257", "x", "", "-1"])
def test_cli_threads_rejects(cli: Path, synthetic: Path, bad: str) -> None:
    proc = run_cli(cli, "analyze", str(synthetic), "--threads", bad)
    assert proc.returncode != 0
    assert "--threads" in proc.stderr
