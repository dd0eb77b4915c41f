"""capgap on hand-built hostile input: never a crash, a hang or an unbounded allocation.

test_malformed.py covers the shared broken captures and truncations of real ones; these files
are built here, byte by byte, to hit what a truncation cannot: record headers that lie about
their length, extreme or backward timestamps, pcapng blocks with impossible lengths or time
resolutions, very many records, and CSV text that stresses the reader (an unterminated quote,
a NUL byte, a very long line, thousands of columns, huge numbers). Each run must exit 0 or 2
(2 naming the file), within TIMEOUT seconds, and not be killed by a signal.
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli

TIMEOUT = 10

# ------------------------------------------------------------------------------------------
# pcap / pcapng builders

PCAP_USEC = 0xA1B2C3D4
PCAP_NSEC = 0xA1B23C4D


def pcap_header(magic: int = PCAP_USEC, snaplen: int = 65535, linktype: int = 1) -> bytes:
    return struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(data: bytes, sec: int = 1_700_000_000, frac: int = 0, orig: int = -1) -> bytes:
    orig_len = len(data) if orig < 0 else orig
    return struct.pack("<IIII", sec, frac, len(data), orig_len) + data


def tcp_frame(sport: int = 40000, dport: int = 80, seq: int = 1, flags: int = 0x02) -> bytes:
    """Ethernet + IPv4 + a 20-byte TCP header, no payload (checksums left zero)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))  # fmt: skip
    eth = b"\x00\x01\x02\x03\x04\x05" + b"\x00\x01\x02\x03\x04\x06" + b"\x08\x00"
    return eth + ip + tcp


def pcapng_block(btype: int, body: bytes, length: int = -1) -> bytes:
    total = 12 + len(body) if length < 0 else length
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def pcapng_shb() -> bytes:
    return pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def pcapng_idb(linktype: int = 1, tsresol: int | None = None) -> bytes:
    body = struct.pack("<HHI", linktype, 0, 65535)
    if tsresol is not None:
        body += struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    return pcapng_block(1, body)


def pcapng_epb(data: bytes, ts: int = 1_700_000_000_000_000, caplen: int = -1) -> bytes:
    cap = len(data) if caplen < 0 else caplen
    pad = b"\x00" * (-len(data) % 4)
    body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, cap, len(data)) + data + pad
    return pcapng_block(6, body)


def handshake(seq: int = 1000) -> list[bytes]:
    return [
        tcp_frame(seq=seq, flags=0x02),
        tcp_frame(sport=80, dport=40000, seq=5000, flags=0x12),
        tcp_frame(seq=seq + 1, flags=0x10),
    ]


def hostile_captures() -> dict[str, bytes]:
    frames = handshake()
    usec = pcap_header()
    return {
        # A record header claiming 4 GB of captured data.
        "huge_caplen.pcap": usec + struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"x" * 64,
        # caplen above the snaplen, and on-wire length below caplen.
        "caplen_over_snaplen.pcap": pcap_header(snaplen=64)
        + b"".join(pcap_record(f + b"\x00" * 100) for f in frames),
        "orig_below_caplen.pcap": usec + b"".join(pcap_record(f, orig=10) for f in frames),
        "snaplen_zero.pcap": pcap_header(snaplen=0) + b"".join(pcap_record(f) for f in frames),
        # Timestamps at the ends of the range, and going backwards by 2^32 seconds.
        "extreme_times.pcap": pcap_header(PCAP_NSEC)
        + pcap_record(frames[0], sec=0xFFFFFFFF, frac=999_999_999)
        + pcap_record(frames[1], sec=0, frac=0)
        + pcap_record(frames[2], sec=0xFFFFFFFF, frac=0xFFFFFFFF),
        "usec_overflow.pcap": usec + b"".join(pcap_record(f, frac=0xFFFFFFFF) for f in frames),
        # Many records: every one a full SYN of a new connection, then many empty records.
        "many_syns.pcap": usec
        + b"".join(pcap_record(tcp_frame(sport=1024 + i % 60000, seq=i)) for i in range(60000)),
        "many_empty_records.pcap": usec + pcap_record(b"") * 200_000,
        # Link types capgap does not decode, or does not exist.
        "unknown_linktype.pcap": pcap_header(linktype=0xFFFF) + pcap_record(frames[0]),
        # pcapng: block lengths that are too small, not a multiple of 4, or past the end.
        "ng_short_block.pcapng": pcapng_shb() + pcapng_idb() + pcapng_block(6, b"", length=8),
        "ng_odd_block.pcapng": pcapng_shb() + pcapng_idb() + pcapng_block(6, b"\x00" * 21),
        "ng_block_past_end.pcapng": pcapng_shb()
        + pcapng_idb()
        + pcapng_block(6, b"\x00" * 20, length=0x7FFFFFF0),
        # pcapng: a packet for an interface never described, caplen above the block.
        "ng_no_interface.pcapng": pcapng_shb() + pcapng_epb(frames[0]),
        "ng_caplen_past_block.pcapng": pcapng_shb()
        + pcapng_idb()
        + pcapng_epb(frames[0], caplen=4000),
        # pcapng: time resolutions of 10^-255 and 2^-127, and a timestamp of 2^64 - 1 units.
        "ng_tsresol_dec.pcapng": pcapng_shb()
        + pcapng_idb(tsresol=0x7F)
        + b"".join(pcapng_epb(f, ts=(1 << 64) - 1) for f in frames),
        "ng_tsresol_bin.pcapng": pcapng_shb()
        + pcapng_idb(tsresol=0xFF)
        + b"".join(pcapng_epb(f, ts=(1 << 63) + i) for i, f in enumerate(frames)),
        # pcapng: a timestamp of 2e10 seconds (year 2603), beyond int64 nanoseconds.
        "ng_far_future.pcapng": pcapng_shb()
        + pcapng_idb()
        + b"".join(pcapng_epb(f, ts=20_000_000_000 * 1_000_000 + i) for i, f in enumerate(frames)),
        "ng_tsresol_zero.pcapng": pcapng_shb()
        + pcapng_idb(tsresol=0)
        + b"".join(pcapng_epb(f, ts=(1 << 64) - 1 - i) for i, f in enumerate(frames)),
    }


HOSTILE_CAPTURES = hostile_captures()


def check_exit(proc: subprocess.CompletedProcess, name: str) -> None:
    assert proc.returncode >= 0, f"{name}: killed by signal {-proc.returncode}\n{proc.stderr}"
    assert proc.returncode in (0, 2), (
        f"{name}: exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    )
    if proc.returncode == 2:
        assert name in proc.stderr, f"{name}: exit 2 without naming the file: {proc.stderr!r}"


def run(cli: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return run_cli(cli, *args, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"capgap {' '.join(args)} ran longer than {TIMEOUT} s")


@pytest.mark.parametrize("name", sorted(HOSTILE_CAPTURES))
def test_hostile_capture(cli: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(HOSTILE_CAPTURES[name])
    proc = run(cli, "analyze", "--format", "json", str(path))
    check_exit(proc, name)
    if proc.returncode == 0:
        report = json.loads(proc.stdout)
        summary = report["summary"]
        assert 0 <= summary["bad_sessions"] <= summary["total_sessions"]


def test_many_syns_are_all_counted(cli: Path, tmp_path: Path) -> None:
    """60000 SYNs over 60000 ports: every one is a session (nothing dropped by a cap)."""
    path = tmp_path / "many_syns.pcap"
    path.write_bytes(HOSTILE_CAPTURES["many_syns.pcap"])
    proc = run(cli, "analyze", "--format", "json", str(path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["total_sessions"] == 60000


# ------------------------------------------------------------------------------------------
# CSV

GUI_HEADER = '"No.","Time","Source","Destination","Protocol","Length","Info"\n'


def gui_row(no: int, time: str, info: str) -> str:
    return f'"{no}","{time}","10.0.0.1","10.0.0.2","TCP","74","{info}"\n'


SYN_OK = GUI_HEADER + gui_row(1, "0.000000", "40000 > 80 [SYN] Seq=0 Win=65535 Len=0")


def hostile_csvs() -> dict[str, str]:
    long_info = "40000 > 80 [SYN] " + "[TCP Dup ACK 1#1] " * 20000 + "Seq=0 Len=0"
    return {
        "unterminated_quote": GUI_HEADER + '"1","0.0","10.0.0.1","10.0.0.2","TCP","74","40000',
        "nul_inside": SYN_OK + gui_row(2, "0.1", "40000 > 80 [ACK]\x00 Seq=1"),
        "bom_only": "\ufeff",
        "header_only_crlf": GUI_HEADER.replace("\n", "\r\n"),
        "long_line": GUI_HEADER + gui_row(1, "0.0", long_info),
        "many_columns": ",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" * 5000) + "\n",
        "huge_numbers": GUI_HEADER
        + gui_row(
            99999999999999999999999, "1e400", "99999999 > 80 [SYN] Seq=-1 Len=99999999999999999999"
        )
        + gui_row(2, "-99999999999999999999.999999999999", "40000 > 80 [SYN] Seq=0 Len=0"),
        "odd_times": GUI_HEADER
        + gui_row(1, "Feb 30, 2014 25:61:61.9999999999 XYZ", "40000 > 80 [SYN] Seq=0 Len=0")
        + gui_row(2, "9999-99-99 99:99:99", "40000 > 80 [SYN] Seq=0 Len=0")
        + gui_row(3, "0:0:0.", "40000 > 80 [SYN] Seq=0 Len=0"),
        "unbalanced_markers": GUI_HEADER
        + gui_row(1, "0.0", "40000 > 80 [SYN [TCP [TCP ]]] Seq= Ack= Len=")
        + gui_row(2, "0.1", "[TCP Previous segment not captured" + "[" * 5000),
        "many_quotes": GUI_HEADER + '"' * 100_001 + "\n",
    }


HOSTILE_CSVS = hostile_csvs()


@pytest.mark.parametrize("role", ["syn", "lost", "both"])
@pytest.mark.parametrize("name", sorted(HOSTILE_CSVS))
def test_hostile_csv(cli: Path, tmp_path: Path, name: str, role: str) -> None:
    hostile = tmp_path / f"{name}.csv"
    hostile.write_text(HOSTILE_CSVS[name], encoding="utf-8")
    ok = tmp_path / "ok.csv"
    ok.write_text(SYN_OK, encoding="utf-8")
    syn = hostile if role in ("syn", "both") else ok
    lost = hostile if role in ("lost", "both") else ok
    proc = run(cli, "csv", "--syn", str(syn), "--lost", str(lost), "--format", "json")
    check_exit(proc, hostile.name)
