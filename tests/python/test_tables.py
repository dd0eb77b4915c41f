"""Tables: numpy columns (one dtype each), pandas DataFrames, user tables back into the Matcher,
the HTML summary and the plot."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from _capture_builder import T0_NS, bulk_capture, write_scenario

import capgap

SESSION_DTYPES = {
    "session_id": "uint64",
    "client_ip": "U",
    "client_port": "uint16",
    "server_ip": "U",
    "server_port": "uint16",
    "tunnel": "uint32",
    "category": "U",
    "syn_frame": "uint64",
    "syn_time_ns": "int64",
    "first_frame": "uint64",
    "first_time_ns": "int64",
    "last_time_ns": "int64",
    "duration_ns": "int64",
    "packets": "uint64",
    "packets_c2s": "uint64",
    "bytes_c2s": "uint64",
    "bytes_s2c": "uint64",
    "truncated_bytes": "uint64",
    "syn_count": "uint32",
    "evicted": "bool",
    "bad": "bool",
    "bad_confirmed": "bool",
    "bad_wireshark": "bool",
    "events": "uint32",
    "missing_bytes": "uint64",
    "data_missing": "bool",
    "source": "O",
}
EVENT_DTYPES = {
    "session_id": "uint64",
    "direction": "U",
    "kind": "U",
    "late_filled": "bool",
    "frame": "uint64",
    "time_ns": "int64",
    "seq_begin": "uint64",
    "seq_end": "uint64",
    "missing_bytes": "uint64",
    "src_ip": "U",
    "src_port": "uint16",
    "dst_ip": "U",
    "dst_port": "uint16",
}
SESSIONS = 20_000
BAD_EVERY = 10


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> capgap.Report:
    path = tmp_path_factory.mktemp("tables") / "bulk.pcap"
    bulk_capture(path, sessions=SESSIONS, bad_every=BAD_EVERY)
    return capgap.analyze(path)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> capgap.Report:
    return capgap.analyze(write_scenario(tmp_path_factory.mktemp("tables") / "scenario.pcap"))


def _check_dtypes(cols: dict[str, np.ndarray], expected: dict[str, str], rows: int) -> None:
    assert list(cols) == list(expected)
    for name, arr in cols.items():
        assert isinstance(arr, np.ndarray), name
        assert arr.ndim == 1 and len(arr) == rows, name
        want = expected[name]
        if want == "U":
            assert arr.dtype.kind == "U", (name, arr.dtype)
        else:
            assert arr.dtype == np.dtype(want), (name, arr.dtype)


def test_bulk_verdicts(bulk: capgap.Report) -> None:
    # bulk_capture: every BAD_EVERY-th session has 100 acknowledged, unseen client bytes.
    assert bulk.total_sessions == SESSIONS
    assert bulk.bad_sessions == SESSIONS // BAD_EVERY
    assert bulk.bad_sessions_wireshark == SESSIONS // BAD_EVERY
    cols = bulk.sessions.columns()
    expected_bad = np.arange(SESSIONS) % BAD_EVERY == 0
    np.testing.assert_array_equal(cols["bad"], expected_bad)
    assert int(cols["missing_bytes"].sum()) == 100 * (SESSIONS // BAD_EVERY)


def test_session_columns_dtypes(bulk: capgap.Report) -> None:
    cols = bulk.sessions.columns()
    _check_dtypes(cols, SESSION_DTYPES, SESSIONS)
    assert len(bulk.sessions) == SESSIONS
    np.testing.assert_array_equal(cols["session_id"], np.sort(cols["session_id"]))
    assert set(np.unique(cols["category"])) == {"complete"}
    assert (cols["server_ip"] == "10.0.0.1").all() and (cols["server_port"] == 80).all()
    assert cols["client_ip"][0] == "10.128.0.1" and cols["client_port"][0] == 1024
    assert (cols["syn_time_ns"] >= T0_NS).all()
    assert (cols["packets"] == 6).all() and (cols["syn_frame"] % 6 == 1).all()


def test_event_columns_dtypes(bulk: capgap.Report) -> None:
    cols = bulk.events.columns()
    _check_dtypes(cols, EVENT_DTYPES, len(bulk.events))
    loss = cols["kind"] == "acked_unseen"
    assert int(loss.sum()) == SESSIONS // BAD_EVERY
    assert set(cols["direction"][loss]) == {"c2s"}
    assert (cols["missing_bytes"][loss] == 100).all()


def test_columns_are_fresh_arrays(scenario: capgap.Report) -> None:
    a = scenario.sessions.columns()
    a["bad"][:] = False
    assert scenario.sessions.columns()["bad"].sum() == 2


def test_empty_tables(tmp_path: Path) -> None:
    empty = capgap.Matcher().match([], [])
    assert empty.total_sessions == 0 and len(empty.sessions) == 0
    _check_dtypes(empty.sessions.columns(), SESSION_DTYPES, 0)
    _check_dtypes(empty.events.columns(), EVENT_DTYPES, 0)


def test_rows_are_native_objects(scenario: capgap.Report) -> None:
    rows = list(scenario.sessions)
    assert len(rows) == 4
    assert sum(r.bad for r in rows) == 2
    assert isinstance(rows[0].session, capgap.Session)
    assert isinstance(scenario.events[0], capgap.LossEvent)
    assert "4 rows" in repr(scenario.sessions)


def test_to_pandas_dtypes_and_values(bulk: capgap.Report) -> None:
    pd = pytest.importorskip("pandas")
    cols = bulk.sessions.columns()
    df = bulk.sessions.to_pandas()
    assert len(df) == SESSIONS
    for name, arr in cols.items():
        if name.endswith("time_ns"):
            col = df[name[:-3]]
            assert str(col.dtype) == "datetime64[ns, UTC]", name
            np.testing.assert_array_equal(
                col.dt.tz_localize(None).to_numpy().view(np.int64), arr, err_msg=name
            )
        elif name == "duration_ns":
            assert str(df["duration"].dtype) == "timedelta64[ns]"
            np.testing.assert_array_equal(df["duration"].to_numpy().view(np.int64), arr)
        elif name == "category":
            assert isinstance(df[name].dtype, pd.CategoricalDtype)
            assert list(df[name].cat.categories) == [
                "complete",
                "syn_only",
                "one_sided",
                "synack_only",
                "partial",
            ]
            np.testing.assert_array_equal(df[name].astype(str).to_numpy(), arr)
        elif name == "source":
            # The capture's name, text as in the CSV (one of Report.sources).
            assert set(arr) == set(bulk.sources)
            np.testing.assert_array_equal(df[name].to_numpy().astype(str), arr.astype(str))
        elif arr.dtype.kind == "U":
            np.testing.assert_array_equal(df[name].to_numpy().astype(str), arr, err_msg=name)
        else:
            assert df[name].dtype == arr.dtype, name
            np.testing.assert_array_equal(df[name].to_numpy(), arr, err_msg=name)

    raw = bulk.sessions.to_pandas(datetimes=False, categorical=False)
    assert list(raw.columns) == list(cols)
    assert raw["syn_time_ns"].dtype == np.int64

    ev = bulk.events.to_pandas()
    assert len(ev) == len(bulk.events)
    assert str(ev["time"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(ev["kind"].dtype, pd.CategoricalDtype)
    assert "ws_ack_lost_segment" in list(ev["kind"].cat.categories)
    assert ev["session_id"].dtype == np.uint64


def test_pandas_frames_back_into_the_matcher(bulk: capgap.Report) -> None:
    pytest.importorskip("pandas")
    sessions = bulk.sessions.to_pandas()
    events = bulk.events.to_pandas()
    again = capgap.Matcher().match(sessions, events, bulk.ingest)
    assert (again.total_sessions, again.bad_sessions) == (bulk.total_sessions, bulk.bad_sessions)
    np.testing.assert_array_equal(again.sessions.columns()["bad"], bulk.sessions.columns()["bad"])
    # A user-made frame: a subset of the columns, events joined by key and time.
    few = sessions[["client_ip", "client_port", "server_ip", "server_port", "syn_time"]]
    ev = events[["kind", "time", "src_ip", "src_port", "dst_ip", "dst_port"]]
    joined = capgap.Matcher().match(few, ev)
    np.testing.assert_array_equal(joined.sessions.columns()["bad"], bulk.sessions.columns()["bad"])


def test_to_pandas_without_pandas(scenario: capgap.Report, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'capgap\[pandas\]'"):
        scenario.sessions.to_pandas()


def test_plot(bulk: capgap.Report, scenario: capgap.Report) -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    ax = bulk.plot()
    try:
        assert "20,000 sessions, 2,000 bad" in ax.get_title()
        legend = next(a.get_legend() for a in ax.figure.axes if a.get_legend() is not None)
        labels = [t.get_text() for t in legend.get_texts()]
        # A capture's report has a packet timeline: the traffic rate, and the bad share.
        assert labels == ["traffic (Mbit/s)", "bad sessions (% of new)"]
        assert ax.get_ylabel().startswith("Mbit/s (per ")
    finally:
        plt.close(ax.figure)
    fig, ax2 = plt.subplots()
    try:
        assert scenario.plot(ax=ax2, bins=3) is ax2
        empty = capgap.Matcher().match([], [])
        assert empty.plot(ax=ax2) is ax2
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="bins"):
        scenario.plot(bins=0)


def test_plot_without_matplotlib(scenario: capgap.Report, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'capgap\[plot\]'"):
        scenario.plot()
