"""The Python API: analyze(), the report, errors, the Matcher and the streaming Analyzer.

Expected verdicts come from counting-rules.md (see _capture_builder.scenario_packets), never from
capgap's own output; the CLI comparisons check that Python and the command line agree.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from _capture_builder import (
    EXPECTED,
    LINKTYPE_ETHERNET,
    SERVER,
    T0_NS,
    scenario_packets,
    write_scenario,
)
from _report_text import classic_text

import capgap

SHARED_CAPTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "captures"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("scenario") / "scenario.pcap")


def cli_program() -> str | None:
    """The capgap program installed with the package (the scripts directory), else PATH."""
    path = sysconfig.get_path("scripts") + os.pathsep + os.environ.get("PATH", "")
    return shutil.which("capgap", path=path)


def bad_ports(report: capgap.Report, column: str = "bad") -> set[int]:
    cols = report.sessions.columns()
    return {int(p) for p in cols["client_port"][cols[column]]}


# ---- the package ----


def test_version_and_exports() -> None:
    from importlib.metadata import version

    assert capgap.__version__ == version("capgap")
    for name in capgap.__all__:
        assert hasattr(capgap, name), name
    assert "_core" not in capgap.__all__


def test_numpy_imported_only_for_tables(scenario: Path) -> None:
    # numpy takes longer to import than capgap analyses a small capture: `import capgap`, an
    # analysis and its summary must not load it; the first table does.
    code = (
        "import sys, capgap\n"
        "r = capgap.analyze(sys.argv[1])\n"
        "print(r.total_sessions, r.bad_sessions, 'numpy' in sys.modules)\n"
        "r.sessions.columns()\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(scenario)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["4", "2", "False", "True"]


def test_tracker_options_mirror_cpp() -> None:
    t = capgap._core.TrackerOptions()
    assert t.header_prediction is True  # the C++ default
    t.header_prediction = False
    assert t.header_prediction is False
    assert t.max_open_flows == 1_000_000


def test_exception_hierarchy() -> None:
    assert issubclass(capgap.CaptureError, OSError)
    assert issubclass(capgap.ParseError, ValueError)
    assert issubclass(capgap.FormatError, ValueError)
    for exc in (capgap.CaptureError, capgap.ParseError, capgap.FormatError):
        assert issubclass(exc, capgap.CapgapError)


# ---- analyze() on the scenario ----


def test_analyze_scenario_verdicts(scenario: Path) -> None:
    r = capgap.analyze(scenario)
    assert r.total_sessions == EXPECTED["total_sessions"]
    assert r.bad_sessions == EXPECTED["bad_sessions"]
    assert r.bad_sessions_wireshark == EXPECTED["bad_sessions_wireshark"]
    assert r.syn_only == EXPECTED["syn_only"]
    assert r.partial == EXPECTED["partial"]
    assert r.synack_only == EXPECTED["synack_only"]
    assert r.unmatched_events == 0
    assert r.percentage == pytest.approx(50.0)
    low, high = r.ci95
    assert low < 50.0 < high
    assert r.mode == "confirmed"
    assert bad_ports(r) == EXPECTED["bad_ports"]
    cols = r.sessions.columns()
    assert set(cols["client_port"].tolist()) == EXPECTED["counted_ports"]
    # The two losses: 100 client bytes (B) and 100 server bytes (F), both acked_unseen.
    ev = r.events.columns()
    loss = np.isin(ev["kind"], ["acked_unseen", "gap_unacked", "control_missing"])
    got = sorted(
        zip(
            ev["direction"][loss].tolist(),
            ev["kind"][loss].tolist(),
            ev["missing_bytes"][loss].tolist(),
        )
    )
    assert got == [("c2s", "acked_unseen", 100), ("s2c", "acked_unseen", 100)]
    assert r.ingest.packets_read == len(scenario_packets())
    assert r.ingest.decoded == len(scenario_packets())


def test_report_text_and_json(scenario: Path) -> None:
    r = capgap.analyze(scenario)
    assert classic_text(str(r)).startswith("Total Sessions: 4\nBad Sessions: 2\nPercentage: 50.00%")
    assert str(r) == r.to_text()
    d = r.to_dict()
    assert d["summary"]["total_sessions"] == 4
    assert d["summary"]["bad_sessions"] == 2
    assert json.loads(r.to_json()) == d
    assert "4 sessions, 2 bad (50.00%" in repr(r)


def test_report_html(scenario: Path) -> None:
    page = capgap.analyze(scenario)._repr_html_()
    assert page.startswith("<table")
    assert "Total sessions" in page and "<td style='text-align:right'>4</td>" in page
    assert "50.00%" in page


def test_wireshark_mode(scenario: Path) -> None:
    r = capgap.analyze(scenario, mode="wireshark")
    assert r.mode == "wireshark"
    assert r.bad_sessions == r.bad_sessions_wireshark == EXPECTED["bad_sessions_wireshark"]
    assert bad_ports(r, "bad_wireshark") == EXPECTED["bad_ports"]


def test_path_forms_agree(scenario: Path) -> None:
    counts = {
        (r.total_sessions, r.bad_sessions)
        for r in (
            capgap.analyze(str(scenario)),
            capgap.analyze(scenario),
            capgap.analyze([scenario]),
            capgap.analyze((str(scenario),)),
        )
    }
    assert counts == {(4, 2)}


def test_server_and_port_filters(scenario: Path) -> None:
    assert capgap.analyze(scenario, port=80).total_sessions == 4
    assert capgap.analyze(scenario, port=[81, 80]).total_sessions == 4
    assert capgap.analyze(scenario, port=81).total_sessions == 0
    assert capgap.analyze(scenario, server="10.0.0.0/8").total_sessions == 4
    assert capgap.analyze(scenario, server=f"{SERVER}:80").total_sessions == 4
    none = capgap.analyze(scenario, server=["192.168.0.0/16"])
    assert none.total_sessions == 0 and none.filtered_out > 0
    assert classic_text(str(none)).startswith("Total Sessions: 0")


def test_window_forms(scenario: Path) -> None:
    # Sessions start at 0 s (A), 1 s (B), 2 s (C) and 5 s (F) from the first packet.
    for window in ("1,3", ("1", "3"), (1, 3), (1.0, 3.0), ("1", 3)):
        r = capgap.analyze(scenario, window=window)
        assert (r.total_sessions, r.bad_sessions) == (2, 1), window  # B (bad) and C
        assert r.before_window == 1 and r.after_window == 1
    r = capgap.analyze(scenario, window=(None, "2"))
    assert r.total_sessions == 2  # A and B
    start = dt.datetime.fromtimestamp(T0_NS // 10**9 + 1, tz=dt.timezone.utc)
    r = capgap.analyze(scenario, window=(start, start + dt.timedelta(seconds=2)))
    assert r.total_sessions == 2
    epoch = T0_NS // 10**9
    r = capgap.analyze(scenario, window=f"{epoch + 5},")
    assert r.total_sessions == 1 and r.bad_sessions == 1  # F


def test_bpf_filter(scenario: Path) -> None:
    r = capgap.analyze(scenario, bpf="tcp port 40001")
    assert r.total_sessions == 1 and r.bad_sessions == 1
    assert r.ingest.filtered_out == len(scenario_packets()) - r.ingest.decoded


def test_tables_csv_match_cli(scenario: Path, tmp_path: Path) -> None:
    program = cli_program()
    if program is None:
        pytest.skip("the capgap program is not installed")
    r = capgap.analyze(scenario)
    r.write_sessions_csv(tmp_path / "py_sessions.csv")
    r.write_events_csv(tmp_path / "py_events.csv")
    subprocess.run(
        [
            program,
            "analyze",
            str(scenario),
            "--sessions-out",
            str(tmp_path / "cli_sessions.csv"),
            "--events-out",
            str(tmp_path / "cli_events.csv"),
        ],
        check=True,
        capture_output=True,
    )
    for name in ("sessions", "events"):
        py = (tmp_path / f"py_{name}.csv").read_text()
        assert py == (tmp_path / f"cli_{name}.csv").read_text()
        assert len(py.splitlines()) == 1 + len(getattr(r, name))


# ---- errors ----


def test_missing_file_is_capture_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.pcap"
    with pytest.raises(capgap.CaptureError) as info:
        capgap.analyze(missing)
    assert isinstance(info.value, OSError)
    assert str(missing) in str(info.value)


def test_not_a_capture_is_format_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"\x00\x01\x02\x03 this is not a capture" * 10)
    with pytest.raises(capgap.FormatError, match="junk.pcap"):
        capgap.analyze(junk)


def test_bad_window_is_parse_error(scenario: Path) -> None:
    with pytest.raises(capgap.ParseError) as info:
        capgap.analyze(scenario, window="soon,later")
    assert isinstance(info.value, ValueError)
    assert "soon" in str(info.value)
    assert isinstance(info.value.source, str) and isinstance(info.value.line, int)
    # The message is the C++ one, unchanged.
    with pytest.raises(capgap.ParseError) as direct:
        capgap.TimeWindow.parse("soon,later")
    assert str(direct.value) == str(info.value)


def test_bad_server_and_bpf_are_parse_errors(scenario: Path) -> None:
    with pytest.raises(capgap.ParseError, match="not-an-address"):
        capgap.analyze(scenario, server="not-an-address")
    with pytest.raises(capgap.ParseError):
        capgap.analyze(scenario, bpf="tcp and and")


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"mode": "strict"}, ValueError, "mode must be one of 'confirmed', 'wireshark'"),
        ({"mode": None}, ValueError, "mode must be one of"),
        ({"port": 70000}, ValueError, "port must be in 1..65535, got 70000"),
        ({"port": 0}, ValueError, "port must be in 1..65535"),
        ({"port": "80"}, TypeError, "port"),
        ({"port": [80, True]}, TypeError, "port"),
        ({"server": 10}, TypeError, "server"),
        ({"window": 5}, TypeError, "window"),
        ({"window": ("1", "2", "3")}, TypeError, "window"),
        ({"window": (float("nan"), None)}, ValueError, "finite"),
        ({"bpf": 1}, TypeError, "bpf"),
        ({"events_in_window": "yes"}, TypeError, "events_in_window"),
        ({"reorder_window_ms": -1}, ValueError, "reorder_window_ms"),
        ({"reorder_window_ms": "3"}, TypeError, "reorder_window_ms"),
    ],
)
def test_keyword_validation(scenario: Path, kwargs: dict, exc: type, message: str) -> None:
    with pytest.raises(exc, match=message.replace("(", r"\(").replace(")", r"\)")):
        capgap.analyze(scenario, **kwargs)


def test_signature_errors(scenario: Path) -> None:
    with pytest.raises(TypeError):
        capgap.analyze(scenario, "10.0.0.1")  # type: ignore[misc]  # keyword-only
    with pytest.raises(TypeError):
        capgap.analyze(scenario, windw="1,2")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="at least one"):
        capgap.analyze([])
    with pytest.raises(TypeError, match="paths"):
        capgap.analyze(42)  # type: ignore[arg-type]


def test_reorder_window_option(scenario: Path) -> None:
    # The scenario has no reordering: any window gives the same verdicts.
    assert capgap.analyze(scenario, reorder_window_ms=0).bad_sessions == 2
    assert capgap.analyze(scenario, reorder_window_ms=50.5).bad_sessions == 2


# ---- value types ----


def test_value_types() -> None:
    a = capgap.Endpoint("10.0.0.2", 40000)
    b = capgap.Endpoint(capgap.IpAddress("10.0.0.1"), 80)
    assert str(a) == "10.0.0.2:40000"
    assert str(capgap.Endpoint("2001:db8::1", 443)) == "[2001:db8::1]:443"
    k1, k2 = capgap.FlowKey(a, b), capgap.FlowKey(b, a)
    assert k1 == k2 and hash(k1) == hash(k2)
    assert k1.lo == b and k1.hi == a
    assert len({k1, k2}) == 1
    assert capgap.IpAddress("10.0.0.1") == capgap.IpAddress.parse("10.0.0.1")
    assert capgap.IpAddress("::1").v6 and capgap.IpAddress("::1").packed == bytes(15) + b"\x01"
    with pytest.raises(capgap.ParseError):
        capgap.IpAddress("300.1.1.1")
    t = capgap.Timestamp(T0_NS)
    assert int(t) == T0_NS and t.ns == T0_NS and str(t) == "1700000000.000000000"
    assert capgap.Timestamp(1) < capgap.Timestamp(2)
    s = capgap.Session()
    s.client = a
    s.server = b
    s.syn_time = 5  # ints convert to Timestamp
    assert s.syn_time == capgap.Timestamp(5)
    s.syn_time.ns = 7
    assert s.syn_time.ns == 7
    assert "10.0.0.2:40000" in repr(s)
    e = capgap.LossEvent()
    assert e.session_id == capgap.no_session
    assert capgap.wilson_interval(0, 0) == (0.0, 0.0)
    assert capgap.link_type_name(1) == "EN10MB"


# ---- the Matcher on user tables ----


def test_matcher_report_tables_round_trip(scenario: Path) -> None:
    r = capgap.analyze(scenario)
    for sessions, events in [
        (r.sessions, r.events),
        (r.sessions.columns(), r.events.columns()),
        ({k: v.tolist() for k, v in r.sessions.columns().items()}, r.events.columns()),
    ]:
        m = capgap.Matcher().match(sessions, events, r.ingest)
        assert (m.total_sessions, m.bad_sessions, m.bad_sessions_wireshark) == (4, 2, 2)
        np.testing.assert_array_equal(m.sessions.columns()["bad"], r.sessions.columns()["bad"])


def test_matcher_round_trip_pandas(scenario: Path) -> None:
    pytest.importorskip("pandas")
    r = capgap.analyze(scenario)
    m = capgap.Matcher(mode="wireshark").match(r.sessions.to_pandas(), r.events.to_pandas())
    assert (m.total_sessions, m.bad_sessions) == (4, 2)
    assert bad_ports(m, "bad_wireshark") == EXPECTED["bad_ports"]


def test_matcher_user_built_tables() -> None:
    """Sessions and events a user builds: verdicts follow counting-rules.md section 6."""
    t = T0_NS
    sessions = {
        "session_id": [10, 11, 12],
        "client_ip": ["192.0.2.1", "192.0.2.2", "2001:db8::3"],
        "client_port": [50000, 50001, 50002],
        "server_ip": ["198.51.100.1", "198.51.100.1", "2001:db8::80"],
        "server_port": [443, 443, 443],
        "syn_time_ns": [t, t + 10**9, t + 2 * 10**9],
    }
    events = {
        "session_id": [10, 11, -1, -1],
        "kind": ["acked_unseen", "reordered", "ws_lost_segment", "ws_lost_segment"],
        "direction": ["c2s", "s2c", "s2c", "c2s"],
        "time_ns": [t + 5, t + 10**9 + 5, t + 3 * 10**9, t],
        "missing_bytes": [1460, 0, 0, 0],
        # Rows 3 and 4 join by key and time: row 3 to session 12; row 4's key has no session.
        "src_ip": ["192.0.2.1", "198.51.100.1", "2001:db8::80", "203.0.113.9"],
        "src_port": [50000, 443, 443, 1234],
        "dst_ip": ["198.51.100.1", "192.0.2.2", "2001:db8::3", "198.51.100.1"],
        "dst_port": [443, 50001, 50002, 443],
    }
    r = capgap.Matcher().match(sessions, events)
    assert (r.total_sessions, r.bad_sessions, r.bad_sessions_wireshark) == (3, 1, 1)
    assert r.unmatched_events == 1
    cols = r.sessions.columns()
    assert cols["session_id"].tolist() == [10, 11, 12]
    assert cols["bad"].tolist() == [True, False, False]  # reordering is not loss
    assert cols["bad_wireshark"].tolist() == [False, False, True]
    assert cols["missing_bytes"].tolist() == [1460, 0, 0]
    assert cols["client_ip"].tolist() == ["192.0.2.1", "192.0.2.2", "2001:db8::3"]

    w = capgap.Matcher(mode="wireshark", window=("0.5", None)).match(sessions, events)
    assert (w.total_sessions, w.bad_sessions) == (2, 1)  # window from the earliest time
    p = capgap.Matcher(server="198.51.100.0/24").match(sessions, events)
    assert p.total_sessions == 2

    # The same from numpy arrays and from native objects.
    np_sessions = {k: np.asarray(v) for k, v in sessions.items()}
    assert capgap.Matcher().match(np_sessions, events).bad_sessions == 1
    native = capgap.sessions_from(sessions)
    assert isinstance(native, capgap.SessionList) and len(native) == 3
    objs = list(native)
    ev = capgap.LossEvent()
    ev.session_id = 12
    ev.kind = capgap.EventKind.gap_unacked
    ev.time = t + 2 * 10**9 + 1
    r2 = capgap.Matcher().match(objs, [ev])
    assert r2.sessions.columns()["bad"].tolist() == [False, False, True]


def test_matcher_table_errors() -> None:
    good = {
        "client_ip": ["192.0.2.1"],
        "client_port": [1],
        "server_ip": ["192.0.2.2"],
        "server_port": [80],
        "syn_time_ns": [0],
    }
    m = capgap.Matcher()
    with pytest.raises(ValueError, match="missing required column 'syn_time_ns'"):
        m.match({k: v for k, v in good.items() if k != "syn_time_ns"})
    with pytest.raises(ValueError, match="unknown column 'sever_ip'"):
        m.match({**good, "sever_ip": ["x"]})
    with pytest.raises(ValueError, match="'client_port' has 2 rows"):
        m.match({**good, "client_port": [1, 2]})
    with pytest.raises(ValueError, match="row 0: 'nowhere' is not an IPv4 or IPv6 address"):
        m.match({**good, "client_ip": ["nowhere"]})
    with pytest.raises(ValueError, match="port 70000 out of range"):
        m.match({**good, "server_port": [70000]})
    with pytest.raises(ValueError, match="'maybe' is not one of complete"):
        m.match({**good, "category": ["maybe"]})
    with pytest.raises(ValueError, match="missing values"):
        m.match({**good, "syn_time_ns": [float("nan")]})
    with pytest.raises(ValueError, match="'src_ip'"):
        m.match(good, {"kind": ["acked_unseen"], "time_ns": [0]})
    with pytest.raises(TypeError, match="dict of columns"):
        m.match(42)


# ---- the streaming Analyzer ----


def test_analyzer_streaming_equals_analyze(scenario: Path) -> None:
    a = capgap.Analyzer()
    for t, frame in scenario_packets():
        a.feed_packet(frame, capgap.LINKTYPE_ETHERNET, t)
    assert a.stats.packets_read == len(scenario_packets())
    streamed = a.finish()
    whole = capgap.analyze(scenario)
    assert streamed.to_dict()["summary"] == whole.to_dict()["summary"]
    s, w = streamed.sessions.columns(), whole.sessions.columns()
    assert s.keys() == w.keys()
    # Packets fed directly come from no file; analyze() names its input.
    assert set(s.pop("source")) == {""}
    assert set(w.pop("source")) == {str(scenario)}
    for name in s:
        np.testing.assert_array_equal(s[name], w[name], err_msg=name)
    e, f = streamed.events.columns(), whole.events.columns()
    for name in e:
        np.testing.assert_array_equal(e[name], f[name], err_msg=name)


def test_analyzer_buffers_and_misuse() -> None:
    a = capgap.Analyzer(mode="wireshark")
    packets = scenario_packets()
    for i, (t, frame) in enumerate(packets):
        data = [frame, bytearray(frame), memoryview(frame), np.frombuffer(frame, np.uint8)][i % 4]
        a.feed_packet(data, LINKTYPE_ETHERNET, t)
    with pytest.raises(ValueError, match="wirelen"):
        a.feed_packet(packets[0][1], LINKTYPE_ETHERNET, T0_NS, wirelen=10)
    r = a.finish()
    assert (r.total_sessions, r.bad_sessions, r.mode) == (4, 2, "wireshark")
    with pytest.raises(RuntimeError, match="finished"):
        a.finish()
    with pytest.raises(RuntimeError, match="finished"):
        a.feed_packet(packets[0][1], LINKTYPE_ETHERNET, T0_NS)


def test_analyzer_unsupported_link_type() -> None:
    a = capgap.Analyzer()
    a.feed_packet(b"\x00" * 60, 147, T0_NS)  # LINKTYPE_USER0: nothing decodes
    with pytest.raises(capgap.FormatError, match="no packet could be decoded"):
        a.finish()


def test_analyzer_segments() -> None:
    a = capgap.Analyzer()
    client, server = capgap.Endpoint("192.0.2.1", 40000), capgap.Endpoint("192.0.2.2", 80)
    flags = capgap.tcp_flags
    for i, (src, dst, seq, ack, fl) in enumerate(
        [
            (client, server, 100, 0, flags.SYN),
            (server, client, 900, 101, flags.SYN | flags.ACK),
            (client, server, 101, 901, flags.ACK),
        ]
    ):
        seg = capgap.Segment()
        seg.frame, seg.time, seg.src, seg.dst = i + 1, T0_NS + i, src, dst
        seg.seq, seg.ack, seg.flags = seq, ack, fl
        a.feed_segment(seg)
    r = a.finish()
    assert (r.total_sessions, r.bad_sessions) == (1, 0)


# ---- CSV exports ----


def test_from_wireshark_csv(tmp_path: Path) -> None:
    syn = tmp_path / "syn.csv"
    lost = tmp_path / "lost.csv"
    header = "frame.number,frame.time_epoch,ip.src,ip.dst,tcp.srcport,tcp.dstport"
    syn.write_text(
        header + "\n"
        "1,1700000000.000000000,10.0.0.2,10.0.0.1,40000,80\n"
        "9,1700000001.000000000,10.0.0.2,10.0.0.1,40001,80\n"
        "20,1700000002.000000000,10.0.0.2,10.0.0.1,40002,80\n"
    )
    lost.write_text(
        header + ",tcp.analysis.lost_segment\n"
        "14,1700000001.500000000,10.0.0.2,10.0.0.1,40001,80,1\n"
    )
    r = capgap.from_wireshark_csv(syn, lost)
    assert (r.total_sessions, r.bad_sessions, r.mode) == (3, 1, "wireshark")
    assert bad_ports(r, "bad_wireshark") == {40001}
    assert capgap.from_wireshark_csv(syn, lost, port=81).total_sessions == 0
    # The lists carry only Wireshark's flags: nothing is capture loss in the confirmed sense.
    confirmed = capgap.from_wireshark_csv(syn, lost, mode="confirmed")
    assert (confirmed.mode, confirmed.bad_sessions, confirmed.bad_sessions_wireshark) == (
        "confirmed",
        0,
        1,
    )
    old = capgap.from_wireshark_csv(str(syn), str(lost), join="socket")
    assert old.join == "socket" and (old.total_sessions, old.bad_sessions) == (3, 1)
    program = cli_program()
    if program is not None:
        out = subprocess.run(
            [program, "csv", "--syn", str(syn), "--lost", str(lost), "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert json.loads(out)["summary"] == r.to_dict()["summary"]
    with pytest.raises(capgap.CaptureError, match="nope.csv"):
        capgap.from_wireshark_csv(tmp_path / "nope.csv", lost)
    with pytest.raises(ValueError, match="join"):
        capgap.from_wireshark_csv(syn, lost, join="both")


# ---- the command line installed with the package ----


def test_cli_installed_and_runs(scenario: Path) -> None:
    program = cli_program()
    assert program is not None, "pip install . should put the capgap program on PATH"
    out = subprocess.run([program, "--version"], check=True, capture_output=True, text=True)
    assert capgap.__version__ in out.stdout
    via_module = subprocess.run(
        [sys.executable, "-m", "capgap", "analyze", str(scenario)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert via_module.stdout == capgap.analyze(scenario).to_text()


def _shared_captures() -> list[Path]:
    if not SHARED_CAPTURES.is_dir():
        return []
    return sorted(p for p in SHARED_CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng"))


@pytest.mark.skipif(not _shared_captures(), reason="../shared/captures is not present")
@pytest.mark.parametrize("capture", _shared_captures(), ids=lambda p: p.name)
@pytest.mark.parametrize("mode", ["confirmed", "wireshark"])
def test_api_equals_cli_on_shared_captures(capture: Path, mode: str) -> None:
    program = cli_program()
    if program is None:
        pytest.skip("the capgap program is not installed")
    proc = subprocess.run(
        [program, "analyze", str(capture), "--mode", mode, "--format", "json"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        assert proc.returncode == 2, proc.stderr
        with pytest.raises(capgap.CapgapError) as info:
            capgap.analyze(capture, mode=mode)
        assert str(info.value) in proc.stderr
        return
    cli = json.loads(proc.stdout)
    r = capgap.analyze(capture, mode=mode)
    assert r.to_dict() == cli
    s = cli["summary"]
    assert (r.total_sessions, r.bad_sessions, r.bad_sessions_wireshark) == (
        s["total_sessions"],
        s["bad_sessions"],
        s["bad_sessions_wireshark"],
    )
    assert (r.partial, r.synack_only, r.one_sided, r.unmatched_events) == (
        s["partial"],
        s["synack_only"],
        s["one_sided"],
        s["unmatched_events"],
    )


def test_notebook_example_runs(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    root = Path(__file__).resolve().parents[2]
    if not (root / "examples" / "data" / "sample.pcap").is_file():
        pytest.skip("examples/data/sample.pcap is not present")
    env = {**os.environ, "MPLBACKEND": "Agg", "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, str(root / "examples" / "notebook.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Total Sessions:" in proc.stdout
    assert "streamed:" in proc.stdout
    assert (tmp_path / "capgap_sample_sessions.png").is_file()
