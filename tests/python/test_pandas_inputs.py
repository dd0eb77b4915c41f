"""Numbers, times and errors as pandas users hold them, and the reprs of the native objects.

Each failing example of issue 18 (points 1, 2 and 7) is a test here. Expected counts come from
the scenario's construction (_capture_builder.scenario_packets: sessions start 0, 1, 2 and 5 s
after the first packet, each SYN 100 us after its whole second; B at 1 s and F are bad),
never from capgap's own output.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _capture_builder import LINKTYPE_ETHERNET, SERVER, T0_NS, scenario_packets, write_scenario

import capgap
from capgap import _options


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("scenario") / "scenario.pcap")


def counts(report: capgap.Report) -> tuple[int, int]:
    return report.total_sessions, report.bad_sessions


# ---- 1. numbers and times ----


@pytest.mark.parametrize(
    "start",
    [
        np.float64(1.0),
        np.float32(1.0),
        np.int64(1),
        np.int32(1),
        Decimal("1.000000000"),
        dt.timedelta(seconds=1),
        pd.Timedelta(seconds=1),
        np.timedelta64(1_000_000_000, "ns"),
        np.timedelta64(1, "s"),
        pd.Timestamp(T0_NS + 10**9, unit="ns"),
        pd.Timestamp(T0_NS + 10**9, unit="ns", tz="UTC").tz_convert("Europe/Paris"),
        np.datetime64(T0_NS + 10**9, "ns"),
        dt.datetime.fromtimestamp((T0_NS + 10**9) // 10**9, tz=dt.timezone.utc),
        dt.datetime.fromtimestamp((T0_NS + 10**9) // 10**9, tz=dt.timezone.utc).replace(
            tzinfo=None
        ),  # naive: UTC
    ],
    ids=repr,
)
def test_window_start_as_pandas_holds_it(scenario: Path, start: object) -> None:
    # [1 s, end): B (bad), C and F; the start is exactly B's SYN.
    assert counts(capgap.analyze(scenario, window=(start, None))) == (3, 2)


def test_window_float_with_fraction(scenario: Path) -> None:
    # The example: decimal.InvalidOperation before. 1.5 s excludes A and B.
    assert counts(capgap.analyze(scenario, window=(np.float64(1.5), None))) == (2, 1)
    r = capgap.analyze(scenario, window=(np.float64(10.5), None))
    assert counts(r) == (0, 0)


def test_window_bounds_exact_to_the_nanosecond(scenario: Path) -> None:
    b_syn = T0_NS + 10**9 + 100_000  # Conn sends every packet 100 us after the last
    end = pd.Timestamp(T0_NS + 3 * 10**9, unit="ns")
    assert counts(capgap.analyze(scenario, window=(pd.Timestamp(b_syn, unit="ns"), end))) == (2, 1)
    later = pd.Timestamp(b_syn + 1, unit="ns")  # one ns after B's SYN: only C
    assert counts(capgap.analyze(scenario, window=(later, end))) == (1, 0)
    later64 = np.datetime64(b_syn + 1, "ns")
    assert counts(capgap.analyze(scenario, window=(later64, end))) == (1, 0)
    assert counts(capgap.analyze(scenario, window=(Decimal("1.000000001"), 3))) == (1, 0)
    assert counts(capgap.analyze(scenario, window=(pd.Timedelta(1_000_000_001), 3))) == (1, 0)


def test_window_bad_bounds_are_clear() -> None:
    with pytest.raises(ValueError, match="finite"):
        _options.window_arg((np.float64("nan"), None))
    with pytest.raises(ValueError, match="NaT"):
        _options.window_arg((pd.NaT, None))
    with pytest.raises(ValueError, match="NaT"):
        _options.window_arg((np.datetime64("NaT"), None))
    with pytest.raises(TypeError, match="window start bound: expected seconds"):
        _options.window_arg((object(), None))
    with pytest.raises(TypeError, match="bool"):
        _options.window_arg((np.bool_(True), None))


def test_float_read_through_shortest_repr() -> None:
    assert _options.exact_number(0.1, "x") == Decimal("0.1")
    assert _options.exact_number(np.float64(10.1), "x") == Decimal("10.1")
    assert _options.exact_number(np.float32(10.1), "x") == Decimal("10.1")


@pytest.mark.parametrize(
    "value",
    [
        np.float64(3.0),
        np.int64(3),
        Decimal("3"),
        3,
        pd.Timedelta(milliseconds=3),
        dt.timedelta(milliseconds=3),
        np.timedelta64(3, "ms"),
    ],
    ids=repr,
)
def test_reorder_window_ms_numbers_and_durations(value: object) -> None:
    assert _options.reorder_ns_arg(value) == 3_000_000


def test_reorder_window_ms_numpy_accepted(scenario: Path) -> None:
    # The example: refused before.
    assert counts(capgap.analyze(scenario, reorder_window_ms=np.float64(3.0))) == (4, 2)
    with pytest.raises(ValueError, match=">= 0"):
        capgap.analyze(scenario, reorder_window_ms=-1)
    with pytest.raises(TypeError, match="milliseconds"):
        capgap.analyze(scenario, reorder_window_ms="3")


def feed_all(times: list[object]) -> capgap.Report:
    a = capgap.Analyzer()
    for t, (_, frame) in zip(times, scenario_packets()):
        a.feed_packet(frame, LINKTYPE_ETHERNET, t)
    return a.finish()


def test_feed_packet_time_forms() -> None:
    ns = [t for t, _ in scenario_packets()]
    whole = feed_all(ns)
    forms = {
        "Decimal seconds (scapy, dpkt)": [Decimal(t) / 10**9 for t in ns],
        "numpy int ns": [np.int64(t) for t in ns],
        "pandas.Timestamp": [pd.Timestamp(t, unit="ns") for t in ns],
        "numpy.datetime64": [np.datetime64(t, "ns") for t in ns],
    }
    first = whole.sessions.columns()["syn_time_ns"]
    for name, times in forms.items():
        r = feed_all(times)
        assert counts(r) == counts(whole) == (4, 2), name
        np.testing.assert_array_equal(r.sessions.columns()["syn_time_ns"], first, err_msg=name)


def test_feed_packet_float_seconds() -> None:
    # The issue's example: pybind11's "incompatible function arguments" before.
    a = capgap.Analyzer()
    a.feed_packet(b"", 1, 1.5)
    a.feed_packet(b"", 1, np.float64(1.25))
    assert a.stats.packets_read == 2
    assert a.stats.first_time.ns == 1_500_000_000
    with pytest.raises(TypeError, match="time: expected epoch nanoseconds"):
        a.feed_packet(b"", 1, "1.5")
    with pytest.raises(ValueError, match="nine decimals"):
        a.feed_packet(b"", 1, Decimal("1.0000000001"))
    with pytest.raises(TypeError, match="data must be bytes-like"):
        a.feed_packet("text", 1, 1)
    with pytest.raises(TypeError, match="link_type must be an int"):
        a.feed_packet(b"", 1.0, 1)
    a.feed_packet(b"", np.int64(1), time_ns=5)  # the earlier keyword still works


# ---- 2. errors in Python's terms ----


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.pcap"
    with pytest.raises(FileNotFoundError) as info:
        capgap.analyze(missing)
    e = info.value
    assert isinstance(e, capgap.CaptureError) and isinstance(e, capgap.CapgapError)
    assert e.errno == errno.ENOENT
    assert e.strerror == os.strerror(errno.ENOENT)
    assert e.filename == str(missing)
    assert str(missing) in str(e)


def test_unreadable_file_is_permission_error(tmp_path: Path) -> None:
    # Root reads files whatever their mode: as root the check runs in a child that drops to
    # nobody (setpriv), on a file in a directory anyone may enter.
    import shutil
    import stat
    import subprocess
    import sys
    import tempfile

    check = (
        "import errno, sys, capgap\n"
        "try:\n"
        "    capgap.analyze(sys.argv[1])\n"
        "except PermissionError as e:\n"
        "    assert isinstance(e, capgap.CaptureError), type(e)\n"
        "    assert (e.errno, e.filename) == (errno.EACCES, sys.argv[1]), (e.errno, e.filename)\n"
        "    assert e.strerror, e\n"
        "    print('PermissionError')\n"
    )
    if os.geteuid() != 0:
        locked = write_scenario(tmp_path / "locked.pcap")
        locked.chmod(0)
        out = subprocess.run([sys.executable, "-c", check, str(locked)], capture_output=True)
    else:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop to an unprivileged user")
        shared = Path(tempfile.mkdtemp())
        try:
            shared.chmod(0o755)
            locked = write_scenario(shared / "locked.pcap")
            locked.chmod(0)
            cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
            out = subprocess.run([*cmd, "-c", check, str(locked)], capture_output=True)
        finally:
            (shared / "locked.pcap").chmod(stat.S_IRUSR | stat.S_IWUSR)
            shutil.rmtree(shared)
    if b"No module named" in out.stderr:
        pytest.skip("the unprivileged user cannot import capgap from this environment")
    assert out.stdout.strip() == b"PermissionError", out.stderr.decode()


def test_capture_error_subclasses() -> None:
    # The classes themselves: each is both a CaptureError and the builtin OSError subclass.
    assert issubclass(capgap.CaptureNotFoundError, FileNotFoundError)
    assert issubclass(capgap.CapturePermissionError, PermissionError)
    assert issubclass(capgap.CapturePermissionError, capgap.CaptureError)


def test_directory_is_a_capture_error(tmp_path: Path) -> None:
    with pytest.raises(capgap.CaptureError) as info:
        capgap.analyze(tmp_path)
    assert isinstance(info.value, IsADirectoryError)
    assert info.value.filename == str(tmp_path)


def test_messages_name_the_keyword(scenario: Path) -> None:
    with pytest.raises(capgap.ParseError) as info:
        capgap.analyze(scenario, server="")
    assert info.value.source == "server"
    assert str(info.value).startswith("server: '': ")
    with pytest.raises(capgap.ParseError) as info:
        capgap.analyze(scenario, bpf="tcp port banana")
    assert info.value.source == "bpf"
    assert str(info.value).startswith("bpf: 'tcp port banana': ")
    with pytest.raises(capgap.ParseError) as info:
        capgap.analyze(scenario, window="x,")
    assert info.value.source == "window" and "'x'" in str(info.value)


def test_cli_keeps_its_flag_names(scenario: Path) -> None:
    cli = os.environ.get("CAPGAP_CLI")
    if not cli:
        pytest.skip("CAPGAP_CLI (the capgap program to test) is not set")
    import subprocess

    out = subprocess.run(
        [cli, "analyze", str(scenario), "--server", ""], capture_output=True, text=True
    )
    assert out.returncode != 0 and "--server: '': " in out.stderr


# ---- 7. reprs ----


def test_report_repr(scenario: Path) -> None:
    r = capgap.analyze(scenario)
    # 4 counted sessions, 2 bad (B, F): 50%, with the Wilson interval of 2 of 4; D (no SYN)
    # and E (SYN-ACK only) are the instances the headline does not count.
    low, high = capgap.wilson_interval(2, 4)
    assert repr(r) == (
        f"<capgap.Report: 4 sessions, 2 bad (50.00%, 95% CI {low:.2f}-{high:.2f}%), "
        "1 partial and 1 synack_only not counted>"
    )
    w = capgap.analyze(scenario, mode="wireshark")
    assert repr(w).endswith(", mode wireshark>")


def test_report_repr_without_sessions(scenario: Path) -> None:
    r = capgap.analyze(scenario, window=(100, None))  # every session before the window
    assert repr(r) == "<capgap.Report: no sessions; 4 before the window>"
    r = capgap.analyze(scenario, port=81)
    assert repr(r).startswith("<capgap.Report: no sessions; ")
    assert "filtered out" in repr(r)


def test_report_repr_names_input_problems(tmp_path: Path) -> None:
    packets = scenario_packets()
    a = capgap.Analyzer()
    for t, frame in packets:
        a.feed_packet(frame, LINKTYPE_ETHERNET, t)
    a.feed_packet(packets[0][1][:20], LINKTYPE_ETHERNET, packets[-1][0])  # a cut frame
    r = a.finish()
    assert r.ingest.skipped() >= 1
    assert f"{r.ingest.skipped()} skipped packet" in repr(r)


def test_native_reprs(scenario: Path) -> None:
    r = capgap.analyze(scenario, window=(1, None), reorder_window_ms=2.5)
    texts = {
        "Summary": repr(r.summary),
        "IngestStats": repr(r.ingest),
        "Options": repr(capgap._core.Options()),
        "TrackerOptions": repr(capgap.TrackerOptions()),
        "MatchOptions": repr(capgap.MatchOptions()),
        "TimeWindow": repr(capgap.TimeWindow.parse("1,2.5")),
        "ServerFilter": repr(capgap.ServerFilter.parse("10.0.0.0/8:80")),
        "Session": repr(r.sessions[0].session),
        "LossEvent": repr(r.events[0]),
        "Endpoint": repr(capgap.Endpoint(capgap.IpAddress(SERVER), 80)),
        "IpAddress": repr(capgap.IpAddress(SERVER)),
        "Segment": repr(capgap.Segment()),
    }
    for name, text in texts.items():
        assert " object at 0x" not in text, name
    assert texts["Summary"].startswith("Summary(total_sessions=3, bad_sessions=2")
    assert "packets_read=" in texts["IngestStats"]
    assert texts["TimeWindow"] == "TimeWindow('1,2.5')"
    assert repr(capgap.TimeWindow()) == "TimeWindow(',')"
    assert "reorder_window_ns=3000000" in texts["TrackerOptions"]
    assert texts["ServerFilter"] == "ServerFilter('10.0.0.0/8:80')"
    assert texts["Endpoint"] == f"Endpoint('{SERVER}', 80)"
    assert str(capgap.Endpoint(capgap.IpAddress(SERVER), 80)) == f"{SERVER}:80"
