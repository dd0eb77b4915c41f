"""Reports and value types cross processes (pickle), and reports merge (concat / merge).

Expected totals come from the captures' truth files (written when the captures were made,
from the action applied to each session), never from capgap's own output.
"""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import capgap
from capgap import _core

REPO = Path(__file__).resolve().parents[2]
FILES = [
    REPO / "tests" / "data" / "real" / "lo_mixed.pcap",
    REPO / "tests" / "data" / "real" / "lo_v6_nsec.pcap",
    REPO / "examples" / "data" / "sample.pcap",
]


def truth(path: Path) -> dict:
    return json.loads(path.with_suffix(".truth.json").read_text())


def assert_same_report(a: capgap.Report, b: capgap.Report) -> None:
    assert a.to_json() == b.to_json()
    assert a.to_text() == b.to_text()
    for table in ("sessions", "events"):
        ca, cb = getattr(a, table).columns(), getattr(b, table).columns()
        assert list(ca) == list(cb)
        for name in ca:
            assert ca[name].dtype == cb[name].dtype, name
            np.testing.assert_array_equal(ca[name], cb[name], err_msg=name)


# ---- pickle ----


def test_report_pickles_whole() -> None:
    report = capgap.analyze(str(FILES[0]))
    t = truth(FILES[0])["totals"]
    back = pickle.loads(pickle.dumps(report))
    assert back.total_sessions == t["total_sessions"]
    assert back.bad_sessions == t["bad_sessions"]
    assert_same_report(report, back)
    assert back.ingest.counters() == report.ingest.counters()
    assert back.ci95 == report.ci95


def test_native_report_state_is_compact() -> None:
    # The sessions travel as one bytes object, not one Python object per row.
    report = capgap.analyze(str(FILES[2]))
    state = report.native.__getstate__()
    assert isinstance(state[2], bytes)
    assert len(state[2]) == len(report.sessions) * (len(state[2]) // len(report.sessions))


def test_state_of_another_version_is_refused() -> None:
    report = capgap.analyze(str(FILES[0])).native
    state = list(report.__getstate__())
    state[0] = ("Report", "0.0.0-other", 1)
    fresh = _core.Report.__new__(_core.Report)
    with pytest.raises(ValueError, match=r"pickled by capgap 0\.0\.0-other"):
        fresh.__setstate__(tuple(state))
    state[0] = ("Summary", capgap.__version__, 1)
    with pytest.raises(ValueError, match="not of this type"):
        fresh.__setstate__(tuple(state))


def _attrs(obj: object) -> object:
    """The public data of a native object, recursively (plain values compare as themselves)."""
    if isinstance(obj, (list, tuple)):
        return [_attrs(v) for v in obj]
    if type(obj).__module__ != "capgap._core" or hasattr(type(obj), "__members__"):
        return obj
    if isinstance(obj, (_core.Timestamp, _core.IpAddress, _core.Endpoint)):
        return str(obj)
    out = {}
    for n in dir(obj):
        if n.startswith("_"):
            continue
        v = getattr(obj, n)
        if not callable(v):
            out[n] = _attrs(v)
    return out


def test_value_types_pickle() -> None:
    report = capgap.analyze(str(FILES[1]))
    session = report.sessions[0].session
    event = report.events[0]
    options = _core.Options()
    options.bpf = "tcp port 80"
    options.tunnel_key = True
    options.tracker.reorder_window_ns = 7
    match = _core.MatchOptions()
    match.window = _core.TimeWindow.parse("1.5,2024-05-01T10:00:00Z")
    match.servers = [_core.ServerFilter.parse("[2001:db8::/32]:443")]
    match.ports = [80, 443]
    match.events_in_window_only = True
    match.mode = _core.Mode.wireshark
    options.match = match
    values = [
        _core.Timestamp(123456789),
        _core.IpAddress("2001:db8::1"),
        _core.IpAddress("10.1.2.3"),
        _core.Endpoint("10.1.2.3", 443),
        _core.FlowKey(_core.Endpoint("10.1.2.3", 443), _core.Endpoint("10.0.0.1", 5)),
        session,
        event,
    ]
    for v in values:
        assert pickle.loads(pickle.dumps(v)) == v
    for v in [options, match, match.window, report.summary, report.ingest, report.tallies[0]]:
        back = pickle.loads(pickle.dumps(v))
        assert type(back) is type(v)
        assert _attrs(back) == _attrs(v), type(v).__name__
    back_opt = pickle.loads(pickle.dumps(options))
    assert back_opt.bpf == "tcp port 80" and back_opt.tunnel_key
    assert back_opt.tracker.reorder_window_ns == 7
    assert back_opt.match.ports == [80, 443]
    assert back_opt.match.mode == _core.Mode.wireshark
    assert str(back_opt.match.servers[0].network) == "2001:db8::"
    assert back_opt.match.servers[0].port == 443
    assert back_opt.match.window.begin.ns == 1_500_000_000
    assert back_opt.match.window.end.ns == 1_714_557_600_000_000_000
    # Lists of native rows.
    for rows in (report.sessions.native, report.events.native):
        back_rows = pickle.loads(pickle.dumps(rows))
        assert type(back_rows) is type(rows)
        assert len(back_rows) == len(rows) > 0
        assert _attrs(list(back_rows)) == _attrs(list(rows))
    sessions = _core.SessionList([session])
    assert list(pickle.loads(pickle.dumps(sessions))) == [session]


def test_ingest_problems_survive_pickling(tmp_path: Path) -> None:
    # A capture cut in the middle of a record: the problem (file, position) must travel.
    data = FILES[0].read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) - 7])
    report = capgap.analyze(str(cut))
    assert len(report.ingest.problems) == 1
    back = pickle.loads(pickle.dumps(report))
    (p,) = back.ingest.problems
    assert (p.source, p.position, p.reason) == (
        report.ingest.problems[0].source,
        report.ingest.problems[0].position,
        report.ingest.problems[0].reason,
    )
    assert p.source == str(cut)


def test_reports_cross_processes() -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(capgap.analyze, [str(f) for f in FILES]))
    for f, r in zip(FILES, reports):
        t = truth(f)["totals"]
        assert (r.total_sessions, r.bad_sessions) == (t["total_sessions"], t["bad_sessions"])
        assert r.bad_sessions_wireshark == t["bad_sessions_wireshark"]
        assert_same_report(r, capgap.analyze(str(f)))


# ---- concat / merge ----


def test_the_files_are_independent() -> None:
    # The premise of the concat test below: no connection appears in two of the files.
    pairs = [{(s["client"], s["server"]) for s in truth(f)["sessions"]} for f in FILES]
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            assert not pairs[i] & pairs[j], (FILES[i].name, FILES[j].name)


SUMMARY_FIELDS = [
    n for n in dir(_core.Summary) if not n.startswith("_") and n not in ("mode", "join")
]


def test_concat_of_separate_analyses_equals_one_analysis() -> None:
    paths = [str(f) for f in FILES]
    with ProcessPoolExecutor(max_workers=2) as pool:
        merged = capgap.concat(pool.map(capgap.analyze, paths))
    together = capgap.analyze(paths)

    # The truth files' totals, summed.
    totals = [truth(f)["totals"] for f in FILES]
    assert merged.total_sessions == sum(t["total_sessions"] for t in totals)
    assert merged.bad_sessions == sum(t["bad_sessions"] for t in totals)
    assert merged.bad_sessions_wireshark == sum(t["bad_sessions_wireshark"] for t in totals)
    n, k = merged.total_sessions, merged.bad_sessions
    assert merged.percentage == pytest.approx(100 * k / n)
    assert merged.ci95 == capgap.wilson_interval(k, n)

    # Everything one analysis of the three reports, apart from ids and sources.
    for name in SUMMARY_FIELDS:
        assert getattr(merged.summary, name) == getattr(together.summary, name), name
    assert [
        (t.kind, t.direction, t.count, t.missing_bytes, t.late_filled) for t in merged.tallies
    ] == [(t.kind, t.direction, t.count, t.missing_bytes, t.late_filled) for t in together.tallies]
    mc, tc = merged.ingest.counters(), together.ingest.counters()
    # How the instances were finished depends on the interleaving, not on the traffic: open at
    # once (the largest of the parts is a lower bound), and closed by time passing (in one
    # analysis another file's packets move the clock on) rather than by the end of the input.
    assert mc.pop("open_flows_peak") <= tc.pop("open_flows_peak")
    assert mc.pop("flows_closed_expired") <= tc.pop("flows_closed_expired")
    assert mc.pop("flows_idle_expired") <= tc.pop("flows_idle_expired")
    assert mc == tc
    assert merged.ingest.first_time == together.ingest.first_time
    assert merged.ingest.last_time == together.ingest.last_time

    def rows(report: capgap.Report) -> list[tuple]:
        c = report.sessions.columns()
        return sorted(
            zip(
                c["client_ip"],
                c["client_port"],
                c["server_port"],
                c["syn_time_ns"],
                c["bad"],
                c["bad_wireshark"],
                c["events"],
                c["missing_bytes"],
            )
        )

    assert rows(merged) == rows(together)

    # Sources: one per file for the merge; the joined list for the single analysis.
    assert merged.sources == paths
    assert together.sources == [", ".join(paths)]
    df = merged.sessions.to_pandas()
    for f, t in zip(paths, totals):
        assert (df["source"] == f).sum() == t["total_sessions"]
    assert set(together.sessions.columns()["source"]) == {", ".join(paths)}

    # Ids stay unique and every event names a session of the merged table.
    ids = merged.sessions.columns()["session_id"]
    assert len(set(ids.tolist())) == len(ids)
    ev = merged.events.columns()
    assert set(ev["session_id"].tolist()) <= set(ids.tolist())
    # An event's session is the one of its capture: events of a file's sessions keep pointing
    # at sessions whose source is that file (same client port as the event's endpoints).
    by_id = dict(zip(ids.tolist(), merged.sessions.columns()["source"]))
    src_ports = dict(zip(ids.tolist(), merged.sessions.columns()["client_port"]))
    for sid, sport, dport in zip(ev["session_id"], ev["src_port"], ev["dst_port"]):
        assert src_ports[int(sid)] in (sport, dport)
        assert by_id[int(sid)] in paths


def test_merge_is_associative_and_refuses_mixed_modes() -> None:
    a, b, c = (capgap.analyze(str(f)) for f in FILES)
    left = capgap.concat([a.merge(b), c])
    right = a.merge(b.merge(c))
    assert_same_report(left, right)
    assert left.sources == right.sources
    assert_same_report(capgap.concat([a]), a)
    empty = capgap.concat([])
    assert (empty.total_sessions, empty.percentage) == (0, 0.0)
    w = capgap.analyze(str(FILES[0]), mode="wireshark")
    with pytest.raises(ValueError, match="different modes"):
        a.merge(w)
    with pytest.raises(TypeError, match="capgap.Report"):
        capgap.concat([a, a.native])  # type: ignore[list-item]


def test_merged_report_pickles() -> None:
    merged = capgap.concat(capgap.analyze(str(f)) for f in FILES)
    back = pickle.loads(pickle.dumps(merged))
    assert_same_report(merged, back)
    assert back.sources == merged.sources


def test_csv_input_and_counts_pickle() -> None:
    csv = REPO / "tests" / "data" / "csv"
    read = _core.read_wireshark_csv(str(csv / "fields_syn.csv"), str(csv / "fields_lost.csv"))
    assert len(read.sessions) > 0 and read.counts.syn_rows > 0
    back = pickle.loads(pickle.dumps(read))
    assert list(back.sessions) == list(read.sessions)
    assert list(back.events) == list(read.events)
    assert _attrs(back.counts) == _attrs(read.counts)
    assert back.stats.counters() == read.stats.counters()
    assert back.unmatched_events == read.unmatched_events
    report = capgap.from_wireshark_csv(csv / "fields_syn.csv", csv / "fields_lost.csv")
    assert report.sources == [f"{csv / 'fields_syn.csv'}, {csv / 'fields_lost.csv'}"]
    assert_same_report(pickle.loads(pickle.dumps(report)), report)
