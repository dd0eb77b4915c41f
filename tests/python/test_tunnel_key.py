"""The outer tunnel in the session key (`--tunnel-key`, `tunnel_key=True`).

The sample capture is sent through two VXLAN tunnels (VNI 1 and VNI 2), every packet in both,
as a fabric mirroring two tenants with identical traffic would deliver it. Keyed by the inner
endpoints (the default), each pair of copies is one packet seen twice: the sessions and
verdicts are the sample's ground truth and every second copy is a duplicate (counting-rules.md
section 8 row 10). With the tunnel in the key, each tunnel holds its own copy of every
session: twice the ground truth, and each session's tunnel id names its VNI.
"""

from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path

from conftest import REPO_ROOT, analyze, rewrite_records

import capgap

SAMPLE = REPO_ROOT / "examples" / "data" / "sample.pcap"
OUTER = (bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))


def vxlan(frame: bytes, vni: int) -> bytes:
    inner = b"\x08\x00\x00\x00" + struct.pack(">I", vni << 8) + frame
    udp = struct.pack(">HHHH", 50000, 4789, 8 + len(inner), 0) + inner
    ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + OUTER[0] + OUTER[1] + udp


def two_tunnels(src: Path, dst: Path) -> int:
    """Writes every Ethernet record of src twice, in VNI 1 then VNI 2; returns the count."""
    assert struct.unpack("<I", src.read_bytes()[20:24])[0] == 1, "the sample is Ethernet"

    def wrap(frame: bytes, wirelen: int) -> list[tuple[bytes, int]]:
        copies = [vxlan(frame, vni) for vni in (1, 2)]
        return [(c, wirelen + len(c) - len(frame)) for c in copies]

    return rewrite_records(src, dst, wrap)


def test_tunnel_key_splits_the_tunnels_and_names_them(cli: Path, tmp_path: Path) -> None:
    truth = json.loads(SAMPLE.with_suffix(".truth.json").read_text())["totals"]
    capture = tmp_path / "two-tunnels.pcap"
    records = two_tunnels(SAMPLE, capture)

    plain = analyze(cli, [capture], tmp_path)
    assert plain.report["summary"]["total_sessions"] == truth["total_sessions"]
    assert plain.report["summary"]["bad_sessions"] == truth["bad_sessions"]
    assert plain.report["ingest"]["duplicate_packets"] == records
    assert plain.report["ingest"]["tunnels"] == []
    assert {row["tunnel"] for row in plain.sessions} == {"0"}

    keyed = analyze(cli, [capture], tmp_path, "--tunnel-key")
    summary, ingest = keyed.report["summary"], keyed.report["ingest"]
    assert summary["total_sessions"] == 2 * truth["total_sessions"]
    assert summary["bad_sessions"] == 2 * truth["bad_sessions"]
    assert summary["bad_wireshark"] == 2 * truth["bad_sessions_wireshark"]
    assert ingest["duplicate_packets"] == 0
    assert ingest["tunnels"] == [
        "VXLAN 10.9.0.1 <-> 10.9.0.2 VNI 1",
        "VXLAN 10.9.0.1 <-> 10.9.0.2 VNI 2",
    ]
    per_tunnel = Counter(row["tunnel"] for row in keyed.sessions)
    assert per_tunnel == {"1": truth["total_sessions"], "2": truth["total_sessions"]}
    bad = Counter(row["tunnel"] for row in keyed.sessions if row["bad"] == "1")
    assert bad == {"1": truth["bad_sessions"], "2": truth["bad_sessions"]}


def test_tunnel_key_from_python(tmp_path: Path) -> None:
    truth = json.loads(SAMPLE.with_suffix(".truth.json").read_text())["totals"]
    capture = tmp_path / "two-tunnels.pcap"
    two_tunnels(SAMPLE, capture)
    report = capgap.analyze(capture, tunnel_key=True)
    assert report.ingest.tunnels == [
        "VXLAN 10.9.0.1 <-> 10.9.0.2 VNI 1",
        "VXLAN 10.9.0.1 <-> 10.9.0.2 VNI 2",
    ]
    tunnels = report.sessions.to_numpy()["tunnel"]
    assert sorted(Counter(tunnels.tolist()).items()) == [
        (1, truth["total_sessions"]),
        (2, truth["total_sessions"]),
    ]
    default = capgap.analyze(capture)
    assert default.summary.total_sessions == truth["total_sessions"]
    assert set(default.sessions.to_numpy()["tunnel"].tolist()) == {0}
