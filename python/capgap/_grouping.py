"""Many captures as sensors: files grouped by a key, each group in time order.

Shared by capgap.dask and anything else that spreads independent captures over workers. No
dependency beyond the standard library: a file's first packet time is read from its first
bytes (classic pcap and pcapng, plain or gzip), and only other files are read by capgap.
"""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Callable, Hashable, Iterable
from typing import Any, BinaryIO

__all__ = ["first_packet_ns", "group_captures"]

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000),  # microseconds, little-endian
    b"\xa1\xb2\xc3\xd4": (">", 1_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),  # nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
_PCAPNG_SHB = 0x0A0D0D0A


def _read_exact(f: BinaryIO, n: int) -> bytes | None:
    data = f.read(n)
    return data if len(data) == n else None


def _pcap_first(f: BinaryIO, endian: str, scale: int) -> int | None:
    if _read_exact(f, 20) is None:  # the rest of the 24-byte file header
        return None
    rec = _read_exact(f, 16)
    if rec is None:
        return None
    sec, frac, _, _ = struct.unpack(endian + "IIII", rec)
    return sec * 1_000_000_000 + frac * scale


def _tsresol_ns(value: int) -> tuple[int, int]:
    """(numerator, denominator) turning if_tsresol ticks into nanoseconds."""
    if value & 0x80:
        return 1_000_000_000, 1 << (value & 0x7F)
    return 1_000_000_000, 10 ** (value & 0x7F)


def _pcapng_first(f: BinaryIO, head: bytes) -> int | None:
    rest = _read_exact(f, 8)  # block total length, byte-order magic
    if rest is None:
        return None
    if rest[4:8] == b"\x4d\x3c\x2b\x1a":
        e = "<"
    elif rest[4:8] == b"\x1a\x2b\x3c\x4d":
        e = ">"
    else:
        return None
    (length,) = struct.unpack(e + "I", rest[:4])
    if length < 28 or _read_exact(f, length - 12) is None:
        return None
    resol: list[tuple[int, int]] = []  # per interface, in IDB order
    offsets: list[int] = []
    for _ in range(100_000):  # blocks before the first packet: a bound, never a loop forever
        header = _read_exact(f, 8)
        if header is None:
            return None
        btype, blen = struct.unpack(e + "II", header)
        if blen < 12 or blen % 4:
            return None
        body = _read_exact(f, blen - 8)
        if body is None:
            return None
        body = body[:-4]
        if btype == _PCAPNG_SHB:
            return None  # a second section before any packet: leave it to capgap
        if btype == 1:  # Interface Description Block
            num, den, off = 1_000_000_000, 1_000_000, 0
            pos = 8
            while pos + 4 <= len(body):
                code, olen = struct.unpack(e + "HH", body[pos : pos + 4])
                value = body[pos + 4 : pos + 4 + olen]
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    num, den = _tsresol_ns(value[0])
                elif code == 14 and olen >= 8:
                    (off,) = struct.unpack(e + "q", value[:8])
                pos += 4 + ((olen + 3) & ~3)
            resol.append((num, den))
            offsets.append(off)
        elif btype in (6, 2):  # Enhanced Packet Block, obsolete Packet Block
            if len(body) < 12:
                return None
            if btype == 6:
                iface, hi, lo = struct.unpack(e + "III", body[:12])
            else:
                iface, _, hi, lo = struct.unpack(e + "HHII", body[:12])
            if iface >= len(resol):
                return None
            num, den = resol[iface]
            ticks = (hi << 32) | lo
            return offsets[iface] * 1_000_000_000 + ticks * num // den
        elif btype == 3:  # Simple Packet Block: no time; let capgap read the file
            return None
    return None


def _first_from_header(f: BinaryIO) -> int | None:
    head = _read_exact(f, 4)
    if head is None:
        return None
    if head in _PCAP_MAGICS:
        endian, scale = _PCAP_MAGICS[head]
        return _pcap_first(f, endian, scale)
    if struct.unpack("<I", head)[0] == _PCAPNG_SHB:
        return _pcapng_first(f, head)
    return None


def first_packet_ns(path: str | os.PathLike[str]) -> int | None:
    """The time of a capture file's first packet, in epoch nanoseconds; None when it has none.

    Classic pcap and pcapng, plain or gzip-compressed, are read from their first bytes (a few
    blocks); anything else (zstd, lz4, a pcapng starting with a Simple Packet Block) is read
    by capgap, which costs a full reading of the file.
    """
    path = os.fsdecode(path)
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        try:
            if magic == b"\x1f\x8b":
                with gzip.open(raw, "rb") as gz:
                    t = _first_from_header(gz)  # type: ignore[arg-type]
            else:
                t = _first_from_header(raw)
        except (OSError, EOFError, struct.error):
            t = None
    if t is not None:
        return t
    from ._api import analyze  # a file the cheap reader does not know: capgap reads it

    ingest = analyze(path).ingest
    return ingest.first_time.ns if ingest.have_time else None


def parent_directory(path: str) -> str:
    """The default sensor key: the directory a file sits in (absolute)."""
    return os.path.dirname(os.path.abspath(path))


def group_captures(
    paths: Iterable[str | os.PathLike[str]],
    sensor: Callable[[str], Hashable] | None = None,
    first_time: Callable[[str], Any] = first_packet_ns,
) -> dict[Any, list[str]]:
    """Groups capture files by sensor, each group in time order.

    ``sensor(path)`` gives a file's key (default: its parent directory). Within a group files
    are ordered by their first packet's time (``first_packet_ns``; a file without packets
    first), ties by name. Groups come in the order of their keys (sorted by ``str`` of the
    key, so any hashable key works).
    """
    key_of = sensor or parent_directory
    groups: dict[Any, list[str]] = {}
    for p in paths:
        path = os.fsdecode(p)
        groups.setdefault(key_of(path), []).append(path)
    out: dict[Any, list[str]] = {}
    for key in sorted(groups, key=lambda k: (str(k), repr(k))):
        files = groups[key]
        if len(set(files)) != len(files):
            raise ValueError(f"sensor {key!r}: a file is given twice")
        stamps = {f: first_time(f) for f in files}
        out[key] = sorted(files, key=lambda f: (stamps[f] is not None, stamps[f] or 0, f))
    return out
