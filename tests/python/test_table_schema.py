"""One schema for the sessions and events tables (docs/tables.md): the CSV files (CLI and
Python), columns(), to_pandas() and to_arrow() carry the same columns with the same meaning.

The CSV files must read back, with capgap.read_sessions_csv / read_events_csv or the documented
pd.read_csv options, into exactly the DataFrame to_pandas() gives (dtypes and nanoseconds
included), on the synthetic scenario, the sample capture and a real capture.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from _capture_builder import EXPECTED, write_scenario
from conftest import REPO_ROOT, SHARED_CAPTURES, run_cli

import capgap
from capgap.report import EVENT_SCHEMA, SESSION_SCHEMA

pd = pytest.importorskip("pandas")

SAMPLE = REPO_ROOT / "examples" / "data" / "sample.pcap"
#: A real capture with SYN-started sessions and loss events (9 SYN sessions, 6 flagged).
REAL = SHARED_CAPTURES / "markofu__dns.pcap"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("schema") / "scenario.pcap")


def _capture(which: str, scenario: Path) -> Path:
    path = {"scenario": scenario, "sample": SAMPLE, "real": REAL}[which]
    if not path.is_file():
        pytest.skip(f"{path} is not present (examples/data or ../shared/captures)")
    return path


def test_columns_follow_the_schema(scenario: Path) -> None:
    r = capgap.analyze(scenario)
    df = r.sessions.to_pandas()
    assert list(df.columns) == list(SESSION_SCHEMA)
    assert list(r.events.to_pandas().columns) == list(EVENT_SCHEMA)
    # columns(): the same names, times and the duration with their _ns suffix.
    ns = {"syn_time", "first_time", "last_time", "duration", "time"}
    assert list(r.sessions.columns()) == [n + "_ns" if n in ns else n for n in SESSION_SCHEMA]
    assert list(r.events.columns()) == [n + "_ns" if n in ns else n for n in EVENT_SCHEMA]
    assert (df["duration"] == df["last_time"] - df["first_time"]).all()
    assert (df["duration"] >= pd.Timedelta(0)).all()


@pytest.mark.parametrize("which", ["scenario", "sample", "real"])
def test_cli_csv_reads_back_as_to_pandas(
    which: str, scenario: Path, cli: Path, tmp_path: Path
) -> None:
    capture = _capture(which, scenario)
    sessions, events = tmp_path / "sessions.csv", tmp_path / "events.csv"
    proc = run_cli(
        cli, "analyze", str(capture), "--sessions-out", str(sessions), "--events-out", str(events)
    )
    assert proc.returncode == 0, proc.stderr
    report = capgap.analyze(capture)
    want = report.sessions.to_pandas()
    assert len(want) == report.total_sessions > 0
    got = capgap.read_sessions_csv(sessions)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    pd.testing.assert_frame_equal(
        capgap.read_events_csv(events), report.events.to_pandas(), check_exact=True
    )

    # pd.read_csv with the documented options gives the same frames, dtypes included.
    pd.testing.assert_frame_equal(
        pd.read_csv(sessions, **capgap.read_csv_options("sessions")), want, check_exact=True
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(events, **capgap.read_csv_options("events")),
        report.events.to_pandas(),
        check_exact=True,
    )

    # The times alone need only parse_dates: they keep every nanosecond.
    plain = pd.read_csv(
        sessions, parse_dates=["syn_time", "first_time", "last_time"], date_format="ISO8601"
    )
    for name in ("syn_time", "first_time", "last_time"):
        np.testing.assert_array_equal(
            plain[name].dt.as_unit("ns").astype("int64").to_numpy(),
            want[name].astype("int64").to_numpy(),
            err_msg=name,
        )
    np.testing.assert_array_equal(plain["duration"].to_numpy(), want["duration"].astype("int64"))


def test_python_writers_match_the_cli(scenario: Path, cli: Path, tmp_path: Path) -> None:
    proc = run_cli(
        cli, "analyze", str(scenario), "--mode", "wireshark",
        "--sessions-out", str(tmp_path / "cli_s.csv"), "--events-out", str(tmp_path / "cli_e.csv"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    r = capgap.analyze(scenario, mode="wireshark")
    r.write_sessions_csv(tmp_path / "py_s.csv")
    r.write_events_csv(tmp_path / "py_e.csv")
    assert (tmp_path / "py_s.csv").read_bytes() == (tmp_path / "cli_s.csv").read_bytes()
    assert (tmp_path / "py_e.csv").read_bytes() == (tmp_path / "cli_e.csv").read_bytes()


def test_csv_times_are_iso8601_with_nanoseconds(scenario: Path, tmp_path: Path) -> None:
    r = capgap.analyze(scenario)
    r.write_sessions_csv(tmp_path / "s.csv")
    lines = (tmp_path / "s.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = dict(zip(header, lines[1].split(","), strict=True))
    syn_ns = int(r.sessions.columns()["syn_time_ns"][0])
    seconds, frac = divmod(syn_ns, 1_000_000_000)
    import datetime as dt

    stamp = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    assert row["syn_time"] == f"{stamp}.{frac:09d}Z"
    assert row["client_ip"] and ":" not in row["client_ip"]  # no "ip:port" any more


@pytest.mark.parametrize("which", ["scenario", "sample", "real"])
@pytest.mark.parametrize("mode", ["confirmed", "wireshark"])
def test_bad_follows_the_headline_mode(which: str, mode: str, scenario: Path) -> None:
    r = capgap.analyze(_capture(which, scenario), mode=mode)
    df = r.sessions.to_pandas()
    assert int(df["bad"].sum()) == r.bad_sessions
    assert int(df["bad_confirmed"].sum()) == r.bad_confirmed
    assert int(df["bad_wireshark"].sum()) == r.bad_sessions_wireshark
    verdict = "bad_wireshark" if mode == "wireshark" else "bad_confirmed"
    assert (df["bad"] == df[verdict]).all()
    if which == "scenario":  # ground truth of the built capture (counting-rules.md)
        ports = set(df.loc[df["bad"], "client_port"].astype(int))
        assert ports == EXPECTED["bad_ports"]


def test_sample_wireshark_mode_counts_in_the_table() -> None:
    """The quoted case: the sample in wireshark mode has a headline of bad sessions that the
    table's `bad` column summed to 0."""
    if not SAMPLE.is_file():
        pytest.skip("examples/data/sample.pcap is not present")
    r = capgap.analyze(SAMPLE, mode="wireshark")
    df = r.sessions.to_pandas()
    assert r.bad_sessions > 0
    assert r.bad_sessions != r.bad_confirmed  # the two verdicts differ on this capture
    assert int(df.bad.sum()) == r.bad_sessions


def test_to_dict_tables_use_the_csv_form(scenario: Path, tmp_path: Path) -> None:
    r = capgap.analyze(scenario)
    assert set(r.to_dict()) == {"summary", "events", "ingest", "diagnosis"}
    d = r.to_dict(tables=True)
    assert d["summary"]["total_sessions"] == EXPECTED["total_sessions"] == len(d["sessions"])
    assert len(d["event_rows"]) == len(r.events)
    r.write_sessions_csv(tmp_path / "s.csv")
    import csv

    with (tmp_path / "s.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [list(row) for row in d["sessions"]] == [list(SESSION_SCHEMA)] * len(rows)
    for mine, theirs in zip(d["sessions"], rows, strict=True):
        as_text = {k: str(int(v)) if isinstance(v, bool) else str(v) for k, v in mine.items()}
        assert as_text == theirs


# ---- Arrow ----


@pytest.mark.parametrize("which", ["scenario", "real"])
def test_to_arrow_schema_and_values(which: str, scenario: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    r = capgap.analyze(_capture(which, scenario))
    for table, schema in ((r.sessions, SESSION_SCHEMA), (r.events, EVENT_SCHEMA)):
        t = table.to_arrow()
        df = table.to_pandas()
        assert t.column_names == list(schema) == list(df.columns)
        assert t.num_rows == len(df)
        for name, kind in schema.items():
            col = t.column(name)
            if kind == "time":
                assert col.type == pa.timestamp("ns", tz="UTC"), name
            elif kind == "duration":
                assert col.type == pa.duration("ns"), name
            elif kind == "category":
                assert pa.types.is_dictionary(col.type), name
                assert col.chunk(0).dictionary.to_pylist() == list(df[name].cat.categories)
            elif kind == "str":
                assert col.type == pa.string(), name
            elif kind == "bool":
                assert col.type == pa.bool_(), name
            else:
                assert col.type == pa.from_numpy_dtype(np.dtype(kind)), name
        pd.testing.assert_frame_equal(t.to_pandas(), df, check_exact=True, check_dtype=False)
        # check_dtype=False above only for the string columns' pandas flavour; the times:
        for name, kind in schema.items():
            if kind in ("time", "duration"):
                np.testing.assert_array_equal(
                    t.column(name).cast(pa.int64()).to_numpy(), df[name].astype("int64")
                )


def test_to_arrow_without_pyarrow(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"capgap\[arrow\]"):
        capgap.analyze(scenario).sessions.to_arrow()


def test_read_csv_rejects_other_tables(scenario: Path, tmp_path: Path) -> None:
    r = capgap.analyze(scenario)
    r.write_events_csv(tmp_path / "e.csv")
    with pytest.raises(ValueError, match="e.csv: not a capgap CSV table"):
        capgap.read_sessions_csv(tmp_path / "e.csv")
