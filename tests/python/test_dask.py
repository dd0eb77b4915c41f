"""capgap.dask: many sensors' rotated files on a LocalCluster of two worker processes.

The sensors are tests/python/_sensors.py's: one capture per directory cut into rotated pieces
named so that name order is NOT time order. The expected result of a sensor is one
capgap.analyze over its whole, uncut capture (a single call, no Dask, no grouping), and the
truth files the captures were made with anchor those totals; the merged report must equal
capgap.concat of the sensors' reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _sensors import SKIP_COLUMNS, all_pieces, broken_capture, make_sensors

import capgap

pd = pytest.importorskip("pandas")
dask = pytest.importorskip("dask")
pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import capgap.dask  # noqa: E402  (after the skips: needs dask)


@pytest.fixture(scope="module")
def sensors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return make_sensors(tmp_path_factory.mktemp("sensors"))


def per_sensor(sensors: dict[str, dict]) -> dict[str, capgap.Report]:
    return {d: capgap.analyze(str(s["whole"])) for d, s in sensors.items()}


def comparable(df: pd.DataFrame, by: tuple[str, ...] = ("session_id",)) -> pd.DataFrame:
    """The columns compared, rows in id order, and text as Python str: dask gives text columns
    its own string dtype (dataframe.convert-string), pandas its default one."""
    keep = [c for c in df.columns if c not in SKIP_COLUMNS]
    out = df[keep].sort_values(list(by), kind="stable").reset_index(drop=True)
    for c in out.columns:
        if isinstance(out[c].dtype, pd.StringDtype) or out[c].dtype == object:
            out[c] = out[c].astype(object)
    return out


def assert_same_totals(got: capgap.Report, want: capgap.Report) -> None:
    g, w = json.loads(got.to_json()), json.loads(want.to_json())
    assert g["summary"] == w["summary"]
    assert g["events"] == w["events"]
    gi, wi = got.ingest.counters(), want.ingest.counters()
    for name in ("files",):  # pieces are files: the count of inputs legitimately differs
        gi.pop(name, None)
        wi.pop(name, None)
    assert gi == wi


def check_result(result: capgap.dask.DaskResult, sensors: dict[str, dict]) -> None:
    # The grouping: one group per directory, each in time order despite the names.
    assert {k: [Path(f) for f in v] for k, v in result.groups.items()} == {
        d: s["pieces"] for d, s in sensors.items()
    }
    expected = per_sensor(sensors)
    for d, s in sensors.items():
        assert expected[d].total_sessions == s["totals"]["total_sessions"], d
        assert expected[d].bad_sessions == s["totals"]["bad_sessions"], d
    # The merged report: the sensors' one-run reports merged as independent captures.
    assert_same_totals(result.report, capgap.concat(expected.values()))
    assert result.report.total_sessions == sum(
        s["totals"]["total_sessions"] for s in sensors.values()
    )

    sessions = result.sessions.compute()
    events = result.events.compute()
    assert len(sessions) == result.report.total_sessions
    assert len(events) == len(result.report.events)
    for d, want in expected.items():
        got_s = sessions[sessions.sensor == d]
        assert set(got_s.file) <= {str(p) for p in sensors[d]["pieces"]} | {
            ", ".join(str(p) for p in sensors[d]["pieces"])
        }
        pd.testing.assert_frame_equal(
            comparable(got_s), comparable(want.sessions.to_pandas()), check_categorical=True
        )
        by = ("session_id", "frame", "direction", "kind")
        pd.testing.assert_frame_equal(
            comparable(events[events.sensor == d], by), comparable(want.events.to_pandas(), by)
        )
    # Some sessions are bad in every synthetic sensor: the verdicts compared are not all False.
    assert sessions.bad.sum() == result.report.bad_sessions > 0


def test_local_cluster_two_processes(sensors: dict[str, dict]) -> None:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        result = capgap.dask.analyze(all_pieces(sensors), client=client)
        # One task per file, chained through saved flow state, whenever capgap can.
        assert result.chained == hasattr(capgap, "analyze_piece")
        check_result(result, sensors)
        # The tables stay lazy and carry the schema's dtypes.
        assert result.sessions.npartitions == (
            sum(len(s["pieces"]) for s in sensors.values()) if result.chained else len(sensors)
        )
        assert str(result.sessions.dtypes["syn_time"]) == "datetime64[ns, UTC]"
        assert isinstance(result.sessions.dtypes["category"], pd.CategoricalDtype)
        distributed_report = result.report
    # The same graph on dask's synchronous scheduler (one process, one thread) gives the same.
    with dask.config.set(scheduler="synchronous"):
        local = capgap.dask.analyze(all_pieces(sensors))
    assert local.report.to_json() == distributed_report.to_json()
    check_result(local, sensors)


def test_sensor_key_and_options(sensors: dict[str, dict]) -> None:
    # A user key: every file in one group named "all" is one capture of all sensors' pieces,
    # which the one-call analysis of the same files gives.
    files = all_pieces(sensors)
    with dask.config.set(scheduler="synchronous"):
        result = capgap.dask.analyze(files, sensor=lambda p: "all", mode="wireshark")
    assert list(result.groups) == ["all"]
    want = capgap.analyze(result.groups["all"], mode="wireshark")
    assert result.report.mode == "wireshark"
    assert_same_totals(result.report, want)
    assert set(result.sessions.sensor.compute()) == {"all"}


def test_one_task_per_sensor(sensors: dict[str, dict]) -> None:
    # chain=False: each sensor is one task over its files, whatever capgap can do.
    with dask.config.set(scheduler="synchronous"):
        result = capgap.dask.analyze(all_pieces(sensors), chain=False)
    assert not result.chained
    assert result.sessions.npartitions == len(sensors)
    check_result(result, sensors)
    if not hasattr(capgap, "analyze_piece"):
        with pytest.raises(ValueError, match="analyze_piece"):
            capgap.dask.analyze(all_pieces(sensors), chain=True)


@pytest.mark.parametrize("chain", [True, False])
def test_tasks_take_one_thread_unless_told(
    sensors: dict[str, dict], monkeypatch: pytest.MonkeyPatch, chain: bool
) -> None:
    # The workers' threads are the parallelism: each task analyses on one thread by default,
    # and on the count given when threads= is given.
    seen: list[object] = []
    real_analyze, real_piece = capgap.dask._api.analyze, capgap.analyze_piece

    def analyze(*args: object, **kw: object) -> object:
        seen.append(kw.get("threads"))
        return real_analyze(*args, **kw)

    def analyze_piece(*args: object, **kw: object) -> object:
        seen.append(kw.get("threads"))
        return real_piece(*args, **kw)

    monkeypatch.setattr(capgap.dask._api, "analyze", analyze)
    monkeypatch.setattr(capgap, "analyze_piece", analyze_piece)
    files = all_pieces(sensors)
    with dask.config.set(scheduler="synchronous"):
        one = capgap.dask.analyze(files, chain=chain)
        tasks = len(seen)
        two = capgap.dask.analyze(files, chain=chain, threads=2)
    assert tasks == (len(files) if chain else len(sensors))
    assert seen == [1] * tasks + [2] * tasks
    assert_same_totals(two.report, one.report)


def test_errors(sensors: dict[str, dict], tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="progress"):
        capgap.dask.analyze(all_pieces(sensors), progress=True)
    with pytest.raises(ValueError, match="twice"):
        one = all_pieces(sensors)[0]
        capgap.dask.analyze([one, one])
    bad = tmp_path / "sensor" / "not.pcap"
    bad.parent.mkdir()
    bad.write_bytes(b"this is not a capture at all, not even close to one")
    with pytest.raises(capgap.FormatError, match="not.pcap"):
        with dask.config.set(scheduler="synchronous"):
            capgap.dask.analyze([str(bad)])


def test_import_is_optional() -> None:
    # `import capgap` never imports dask; without dask, capgap.dask says what to install.
    code = (
        "import sys, capgap\n"
        "assert 'dask' not in sys.modules, 'import capgap imported dask'\n"
        "sys.modules['dask'] = None\n"
        "try:\n"
        "    import capgap.dask\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'capgap[dask]'" in out.stdout


def test_first_packet_time_matches_tshark(sensors: dict[str, dict]) -> None:
    from capgap._grouping import first_packet_ns

    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark not installed")
    for s in sensors.values():
        for piece in s["pieces"][:2]:
            out = subprocess.run(
                [tshark, "-n", "-r", str(piece), "-c", "1", "-T", "fields",
                 "-e", "frame.time_epoch"],
                capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            sec, _, frac = out.partition(".")
            want = int(sec) * 10**9 + int((frac + "000000000")[:9])
            assert first_packet_ns(piece) == want, piece


def test_bad_sessions_are_planted(sensors: dict[str, dict]) -> None:
    # The synthetic sensor's truth: every 7th connection acked 100 unseen bytes.
    for d, s in sensors.items():
        if d.endswith("sensor-bulk"):
            r = capgap.analyze([str(p) for p in s["pieces"]])
            bad = r.sessions.columns()["bad"]
            assert np.flatnonzero(bad).tolist() == list(range(0, 300, 7))


@pytest.mark.parametrize("where", ["client", "threads"])
def test_first_error_in_group_order(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two sensors whose captures both fail. The first sensor's task is held back a second,
    # so the second fails first: the error raised must still be the first sensor's, as one
    # process reading the groups in order reports it (and `capgap analyze --jobs` does).
    first, second = tmp_path / "a" / "x.pcap", tmp_path / "b" / "y.pcap"
    broken_capture(first)
    broken_capture(second)
    files = [str(second), str(first)]
    with pytest.raises(capgap.FormatError) as one:
        with dask.config.set(scheduler="synchronous"):
            capgap.dask.analyze(files)
    assert str(first) in str(one.value)

    analyze = capgap._api.analyze

    def slow_first(path: Any, **options: Any) -> Any:
        if str(path) == str(first):
            time.sleep(1.0)
        return analyze(path, **options)

    # Tasks run in this process (threads), where the patch is seen.
    monkeypatch.setattr(capgap._api, "analyze", slow_first)
    if where == "client":
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            with pytest.raises(capgap.FormatError) as got:
                capgap.dask.analyze(files, client=client)
    else:
        with pytest.raises(capgap.FormatError) as got:
            with dask.config.set(scheduler="threads", num_workers=2):
                capgap.dask.analyze(files)
    assert str(got.value) == str(one.value)
