"""The diagnosis on captures built in code with a planted cause (the ground truth is how the
capture was built): findings, breakdowns, timeline and load through the CLI, JSON, CSV and
Python. The recordings of real traffic with planted causes are test_diagnosis_planted.py.
"""

from __future__ import annotations

import csv
import json
import pickle
import subprocess
from pathlib import Path

import pytest
from _capture_builder import ACK, FIN, SYN, T0_NS, Conn, pcap_bytes

import capgap

SEVERITY = {"info": 0, "warning": 1, "critical": 2}


def session(
    client: str,
    cport: int,
    server: str,
    t_ns: int,
    *,
    drop_c2s: bool = False,
    drop_s2c: bool = False,
    s2c_seen: bool = True,
    server_port: int = 80,
) -> list[tuple[int, bytes]]:
    """One connection: handshake, 3 client segments of 500 bytes, 3 server segments of 1000
    bytes, each ACKed, then FINs. drop_c2s / drop_s2c leave the middle data segment of that
    direction out of the capture (its ACK stays: acked_unseen); s2c_seen=False leaves out every
    server packet (one direction missing)."""
    c = Conn(client, cport, server, server_port, t_ns)
    c.c2s(SYN)
    c.s2c(SYN | ACK, keep=s2c_seen)
    c.c2s(ACK)
    for i in range(3):
        c.c2s(ACK, 500, keep=not (drop_c2s and i == 1))
        c.s2c(ACK, keep=s2c_seen)
    for i in range(3):
        c.s2c(ACK, 1000, keep=s2c_seen and not (drop_s2c and i == 1))
        c.c2s(ACK)
    c.c2s(FIN | ACK)
    c.s2c(FIN | ACK, keep=s2c_seen)
    c.c2s(ACK)
    return c.packets


def write(path: Path, packets: list[tuple[int, bytes]]) -> Path:
    path.write_bytes(pcap_bytes(sorted(packets, key=lambda p: p[0])))
    return path


def by_name(report: capgap.Report) -> dict[str, dict]:
    return {f["name"]: f for f in report.findings}


def others_at_most_info(report: capgap.Report, name: str) -> list[str]:
    return [f["name"] for f in report.findings if f["name"] != name and SEVERITY[f["severity"]] > 0]


def test_clean_capture_says_so_with_its_interval(tmp_path: Path) -> None:
    pk = []
    for i in range(50):
        pk += session(f"10.1.0.{i + 1}", 40000 + i, "10.0.0.1", T0_NS + i * 20_000_000)
    r = capgap.analyze(write(tmp_path / "clean.pcap", pk))
    assert [f["name"] for f in r.findings] == ["clean_capture"]
    f = r.findings[0]
    assert f["severity"] == "info"
    assert f["figures"]["sessions"] == 50
    assert f["figures"]["ci95_high"] == pytest.approx(capgap._core.wilson_interval(0, 50)[1])
    assert r.reconstructable == {"sessions": 50, "total": 50, "percentage": 100}
    assert str(r).startswith("Findings:\n  [info] clean_capture: No capture loss: 0 of 50 ")


def test_loss_on_one_server_is_concentrated_and_named(tmp_path: Path) -> None:
    pk = []
    for i in range(60):
        pk += session(f"10.1.0.{i + 1}", 40000 + i, "10.0.0.1", T0_NS + i * 10_000_000)
    for i in range(30):
        pk += session(
            f"10.1.1.{i + 1}",
            41000 + i,
            "10.0.0.9",
            T0_NS + 5_000_000 + i * 20_000_000,
            drop_c2s=True,
            drop_s2c=True,
        )
    r = capgap.analyze(write(tmp_path / "server.pcap", pk))
    assert r.bad_sessions == 30
    found = by_name(r)
    assert "loss_concentrated" in found
    f = found["loss_concentrated"]
    assert f["severity"] == "warning"
    assert f["rows"][0] == {"table": "server", "group": "10.0.0.9:80"}
    assert others_at_most_info(r, "loss_concentrated") == []
    servers = r.breakdown("server")
    first = servers.iloc[0]
    assert (first["group"], first["sessions"], first["bad"]) == ("10.0.0.9:80", 30, 30)
    assert bool(first["significant"])
    assert not bool(servers.iloc[1]["significant"])
    # The direction table: every bad session lost in both directions.
    dirs = r.breakdown("direction").set_index("group")
    assert dirs.loc["c2s", "bad"] == 30
    assert dirs.loc["s2c", "bad"] == 30
    assert dirs.loc["c2s", "missing_bytes"] == 30 * 500
    assert dirs.loc["s2c", "missing_bytes"] == 30 * 1000


def test_one_direction_lossier(tmp_path: Path) -> None:
    pk = []
    for i in range(100):
        pk += session(
            f"10.1.0.{i + 1}", 40000 + i, "10.0.0.1", T0_NS + i * 10_000_000, drop_s2c=i % 4 == 0
        )
    r = capgap.analyze(write(tmp_path / "dir.pcap", pk))
    found = by_name(r)
    assert found["direction_lossier"]["severity"] == "warning"
    assert found["direction_lossier"]["rows"] == [{"table": "direction", "group": "s2c"}]
    assert found["direction_lossier"]["figures"]["bad_s2c"] == 25
    assert others_at_most_info(r, "direction_lossier") == []


def test_one_direction_missing_names_the_server(tmp_path: Path) -> None:
    pk = []
    for i in range(80):
        pk += session(f"10.1.0.{i + 1}", 40000 + i, "10.0.0.1", T0_NS + i * 10_000_000)
    for i in range(20):
        pk += session(
            f"10.1.1.{i + 1}", 41000 + i, "10.0.0.7", T0_NS + i * 30_000_000, s2c_seen=False
        )
    r = capgap.analyze(write(tmp_path / "oneway.pcap", pk))
    found = by_name(r)
    f = found["one_direction_missing"]
    assert f["severity"] == "warning"
    assert f["figures"]["one_way_sessions"] == 20
    assert {"table": "server", "group": "10.0.0.7:80"} in f["rows"]
    assert others_at_most_info(r, "one_direction_missing") == []
    assert r.reconstructable["sessions"] == 80


def test_loss_above_a_rate_finds_the_knee(tmp_path: Path) -> None:
    # 6 s at 20 sessions/s without loss, then 1 s at 200 sessions/s losing a segment each way
    # in every session, then 2 s at 20 sessions/s again. One server, one client /24.
    pk = []
    n = 0

    def add(t: int, lossy: bool) -> None:
        nonlocal n
        n += 1
        pk.extend(
            session(
                f"10.1.0.{n % 250 + 1}",
                20000 + n,
                "10.0.0.1",
                t,
                drop_c2s=lossy,
                drop_s2c=lossy,
            )
        )

    for i in range(120):
        add(T0_NS + i * 50_000_000, False)
    for i in range(200):
        add(T0_NS + 6_000_000_000 + i * 5_000_000, True)
    for i in range(40):
        add(T0_NS + 7_000_000_000 + i * 50_000_000, False)
    r = capgap.analyze(write(tmp_path / "load.pcap", pk))
    found = by_name(r)
    f = found["load_correlated_loss"]
    assert SEVERITY[f["severity"]] >= 1
    assert others_at_most_info(r, "load_correlated_loss") == []
    d = r.diagnosis()
    load = d["load"]
    assert load["knee_confidence"] in ("high", "medium")
    # Rates per bucket, from the capture as built: the lossy buckets carry 10x the traffic.
    rates = sorted(p["bits_per_s"] for p in load["points"])
    lossy = [p["bits_per_s"] for p in load["points"] if p["loss_rate"] > 0]
    clean = [p["bits_per_s"] for p in load["points"] if p["loss_rate"] == 0]
    assert max(clean) < load["knee_bits_per_s"] <= min(lossy)
    assert rates[0] > 0
    assert load["peak_bits_per_s_1ms"] >= load["peak_bits_per_s_10ms"] > 0


def test_duplicates_are_found_and_are_not_loss(tmp_path: Path) -> None:
    pk = []
    for i in range(30):
        s = session(f"10.1.0.{i + 1}", 40000 + i, "10.0.0.1", T0_NS + i * 10_000_000)
        pk += s + [(t + 1000, frame) for t, frame in s]
    r = capgap.analyze(write(tmp_path / "dup.pcap", pk))
    found = by_name(r)
    assert found["duplicates"]["severity"] == "warning"
    assert found["duplicates"]["figures"]["duplicates"] == len(pk) // 2
    assert "clean_capture" in found
    assert others_at_most_info(r, "duplicates") == []
    tl = r.timeline()
    assert tl["duplicates"].sum() == len(pk) // 2
    assert tl["packets"].sum() == len(pk)


def test_timeline_rows_against_the_capture(tmp_path: Path) -> None:
    pk = []
    for i in range(10):
        pk += session(
            f"10.1.0.{i + 1}", 40000 + i, "10.0.0.1", T0_NS + i * 1_000_000_000, drop_s2c=i < 3
        )
    r = capgap.analyze(write(tmp_path / "tl.pcap", pk))
    tl = r.timeline("1s")
    assert str(tl.index.tz) == "UTC"
    assert len(tl) == 10
    assert tl.index[0].value == T0_NS
    assert list(tl["new_sessions"]) == [1] * 10
    assert list(tl["bad_sessions"]) == [1, 1, 1] + [0] * 7
    assert list(tl["missing_bytes"]) == [1000, 1000, 1000] + [0] * 7
    # Every packet but the first SYN carries an ACK; one ACK per lossy session covers the hole.
    assert tl["acks"].sum() == len(pk) - 10
    assert list(tl["acks_above_hole"]) == [1, 1, 1] + [0] * 7
    assert tl["bytes"].sum() == sum(len(f) for _, f in pk)
    assert tl["bits_per_s"].iloc[0] == 8 * tl["bytes"].iloc[0]


def test_cli_json_and_csv_outputs(cli: Path, tmp_path: Path) -> None:
    pk = []
    for i in range(30):
        pk += session(
            f"10.1.{i % 3}.{i + 1}", 40000 + i, f"10.0.0.{i % 4 + 1}", T0_NS + i * 10_000_000
        )
    cap = write(tmp_path / "c.pcap", pk)
    b, t = tmp_path / "b.csv", tmp_path / "t.csv"
    out = subprocess.run(
        [str(cli), "analyze", str(cap), "--format", "json", "--top", "2", "--bucket", "100ms"]
        + ["--breakdown-out", str(b), "--timeline-out", str(t), "--prefix-v4", "16"],
        check=True,
        capture_output=True,
    ).stdout
    d = json.loads(out)["diagnosis"]
    assert list(d) == ["findings", "reconstructable", "breakdowns", "timeline", "load"]
    assert list(d["breakdowns"]) == [
        "server", "server_port", "client_prefix", "vlan", "tunnel", "interface", "direction"
    ]  # fmt: skip
    servers = d["breakdowns"]["server"]
    assert len(servers) == 3 and servers[-1]["group"] == "rest"
    assert sum(row["sessions"] for row in servers) == 30
    assert [row["group"] for row in d["breakdowns"]["client_prefix"]] == ["10.1.0.0/16"]
    assert d["timeline"]["bucket_ns"] == 100_000_000
    assert d["timeline"]["rows"][0]["start"].endswith("Z")
    with b.open() as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["table"] == "server"
    assert {r["table"] for r in rows} == set(d["breakdowns"])
    assert len(rows) == sum(len(v) for v in d["breakdowns"].values())
    with t.open() as f:
        trows = list(csv.DictReader(f))
    assert len(trows) == len(d["timeline"]["rows"])
    assert sum(int(r["packets"]) for r in trows) == len(pk)
    bad = subprocess.run([str(cli), "analyze", str(cap), "--bucket", "1x"], capture_output=True)
    assert bad.returncode != 0
    assert b"--bucket: '1x' is not a bucket width" in bad.stderr
    off = subprocess.run(
        [str(cli), "analyze", str(cap), "--format", "json", "--no-diagnosis"],
        check=True,
        capture_output=True,
    ).stdout
    d_off = json.loads(off)["diagnosis"]
    assert d_off["load"]["points"] == []
    assert (
        d_off["breakdowns"]["server"]
        == json.loads(
            subprocess.run(
                [str(cli), "analyze", str(cap), "--format", "json"], check=True, capture_output=True
            ).stdout
        )["diagnosis"]["breakdowns"]["server"]
    )


def test_pickle_and_merge_carry_the_timeline(tmp_path: Path) -> None:
    a = capgap.analyze(
        write(tmp_path / "a.pcap", session("10.1.0.1", 40000, "10.0.0.1", T0_NS, drop_s2c=True))
    )
    b = capgap.analyze(
        write(tmp_path / "b.pcap", session("10.1.0.2", 40001, "10.0.0.1", T0_NS + 10**9))
    )
    again = pickle.loads(pickle.dumps(a))
    assert again.diagnosis() == a.diagnosis()
    merged = capgap.concat([a, b])
    tl = merged.timeline("1s")
    assert tl["packets"].sum() == a.timeline()["packets"].sum() + b.timeline()["packets"].sum()
    assert tl["bad_sessions"].sum() == 1
    with pytest.raises(ValueError, match="no breakdown"):
        a.breakdown("nope")
