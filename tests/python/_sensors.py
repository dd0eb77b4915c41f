"""Sensors for the many-captures tests: captures cut into rotated pieces, one directory each.

Each "sensor" is a directory holding one capture cut with `editcap -c` or `-i`, the pieces named so
that name order is NOT time order. Their expected totals come from the truth files the
captures were made with (tests/data/real/*.truth.json) or from the synthetic capture's
construction (_capture_builder.bulk_capture: every 7th connection acked unseen bytes).
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from _capture_builder import bulk_capture

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
# Columns compared session by session: everything but where the row came from.
SKIP_COLUMNS = {"source", "sensor", "file"}


def editcap() -> str:
    path = shutil.which("editcap")
    if path is None:
        pytest.skip("editcap (Wireshark's) not installed")
    return path


def broken_capture(path: Path) -> None:
    """A pcap whose first packet reads (grouping takes its time) but whose link type capgap
    does not decode (147, DLT_USER0): the analysis refuses it, 'no packet could be decoded'."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147)
    record = struct.pack("<IIII", 1_700_000_000, 0, 60, 60) + bytes(60)
    path.write_bytes(header + record * 3)


def cut(src: Path, sensor_dir: Path, how: list[str]) -> list[Path]:
    """Rotated pieces of `src` (nanosecond pcap: no time is rounded) in `sensor_dir`, returned
    in time order but named in reverse (the first piece has the highest number), so that only
    the packets' times give the order. `how`: editcap's cut, ["-c", packets] or ["-i", seconds]."""
    sensor_dir.mkdir(parents=True)
    tmp = sensor_dir / "cut.pcap"
    subprocess.run(
        [editcap(), "-F", "nsecpcap", *how, str(src), str(tmp)],
        check=True,
        capture_output=True,
    )
    made = sorted(sensor_dir.glob("cut_*.pcap"))  # editcap numbers them in time order
    assert len(made) >= 2, f"{src} gave {len(made)} piece(s)"
    pieces = []
    for i, piece in enumerate(made):
        name = sensor_dir / f"{len(made) - i:03d}-{src.stem}.pcap"
        piece.rename(name)
        pieces.append(name)
    return pieces


def make_sensors(root: Path) -> dict[str, dict]:
    """Three sensors: two recorded loopback captures and a synthetic one with planted loss.
    {directory: {"whole": uncut capture, "pieces": [time order], "totals": truth}}."""
    out: dict[str, dict] = {}
    # By packet count, and by time (the IPv6 capture lasts 0.13 s: three pieces).
    for name, how in (("lo_mixed", ["-c", "40"]), ("lo_v6_nsec", ["-i", "0.05"])):
        src = REAL / f"{name}.pcap"
        totals = json.loads((REAL / f"{name}.truth.json").read_text())["totals"]
        d = root / f"sensor-{name}"
        out[str(d)] = {"whole": src, "pieces": cut(src, d, how), "totals": totals}
    whole = root / "bulk.pcap"
    bulk_capture(whole, sessions=300, bad_every=7)
    d = root / "sensor-bulk"
    totals = {"total_sessions": 300, "bad_sessions": len(range(0, 300, 7))}
    out[str(d)] = {"whole": whole, "pieces": cut(whole, d, ["-c", "450"]), "totals": totals}
    return out


def all_pieces(sensors: dict[str, dict]) -> list[str]:
    files = [str(p) for s in sensors.values() for p in s["pieces"]]
    return sorted(files)  # name order: the grouping must restore time order itself
