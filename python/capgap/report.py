"""The Python face of a report: summary attributes, tables as numpy/pandas, HTML and a plot.

pandas and matplotlib are optional: they are imported only when a method needs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import _core

if TYPE_CHECKING:  # pragma: no cover
    # numpy is imported where it is used (the C++ side imports it for the first table), so
    # that `import capgap` and a report's summary do not pay for it.
    import numpy as np
    import pandas  # type: ignore[import-untyped,unused-ignore]
    from matplotlib.axes import Axes

__all__ = ["Report", "Table", "concat"]

#: Columns holding names of enum values, and every value they can take (in enum order).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "category": tuple(_core.SessionCategory.__members__),
    "direction": tuple(_core.Direction.__members__),
    "kind": tuple(_core.EventKind.__members__),
}


def _import_pandas() -> Any:
    try:
        import pandas
    except ImportError as err:
        raise ImportError(
            "to_pandas() needs pandas, an optional dependency: pip install 'capgap[pandas]'"
        ) from err
    return pandas


class Table:
    """The sessions or the events of a report, held in C++ until converted.

    ``columns()`` gives a dict of numpy arrays (one dtype per column, built in C++ without
    per-row Python objects); ``to_pandas()`` a DataFrame. Iterating yields the native rows
    (``SessionRow`` or ``LossEvent``), which is convenient for a handful of rows only.

    Session columns: session_id, client_ip, client_port, server_ip, server_port, category,
    syn_frame, syn_time_ns, first_frame, first_time_ns, last_time_ns, packets, packets_c2s,
    bytes_c2s, bytes_s2c, truncated_bytes, syn_count, evicted, bad, bad_wireshark, events,
    missing_bytes, data_missing, source (the capture the session came from, see
    ``Report.sources``).

    Event columns: session_id, direction, kind, late_filled, frame, time_ns, seq_begin,
    seq_end, missing_bytes, src_ip, src_port, dst_ip, dst_port.

    Times are int64 nanoseconds since the epoch (UTC); frames are 1-based (0: none).
    """

    def __init__(self, report: _core.Report, which: str) -> None:
        if which not in ("sessions", "events"):
            raise ValueError(f"which must be 'sessions' or 'events', got {which!r}")
        self._report = report
        self._which = which

    @property
    def name(self) -> str:
        """'sessions' or 'events'."""
        return self._which

    @property
    def native(self) -> _core.SessionRowList | _core.LossEventList:
        """The C++ rows (a SessionRowList or a LossEventList)."""
        return getattr(self._report, self._which)

    def __len__(self) -> int:
        return len(self.native)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.native)

    def __getitem__(self, index: int) -> Any:
        return self.native[index]

    def columns(self) -> dict[str, np.ndarray]:
        """The table as a dict of numpy arrays, one dtype per column (fresh arrays each call)."""
        if self._which == "sessions":
            return self._report.session_columns()
        return self._report.event_columns()

    def to_numpy(self) -> dict[str, np.ndarray]:
        """Same as columns()."""
        return self.columns()

    def to_pandas(self, *, datetimes: bool = True, categorical: bool = True) -> pandas.DataFrame:
        """The table as a pandas DataFrame (pandas is imported here, lazily).

        With ``datetimes`` (the default) each ``*_time_ns`` column becomes a ``*_time`` column
        of dtype ``datetime64[ns, UTC]``; with ``categorical`` the ``category``, ``direction``
        and ``kind`` columns are pandas Categoricals over every possible value. Numeric
        columns are not copied.
        """
        pd = _import_pandas()
        data: dict[str, Any] = {}
        for name, col in self.columns().items():
            if datetimes and name.endswith("time_ns"):
                stamps = pd.DatetimeIndex(col.view("datetime64[ns]")).tz_localize("UTC")
                data[name[: -len("_ns")]] = stamps
            elif categorical and name in CATEGORIES:
                data[name] = pd.Categorical(col, categories=list(CATEGORIES[name]))
            elif categorical and name == "source":
                data[name] = pd.Categorical(
                    col, categories=list(dict.fromkeys(self._report.sources))
                )
            else:
                data[name] = col
        return pd.DataFrame(data, copy=False)

    def __repr__(self) -> str:
        return f"<capgap {self._which} table: {len(self)} rows>"


def _summary_property(name: str, doc: str) -> property:
    def get(self: Report) -> Any:
        return getattr(self._native.summary, name)

    return property(get, doc=doc)


class Report:
    """What capgap found: the summary as attributes, the sessions and events as tables.

    ``str(report)`` is the text report (the CLI's); ``report.to_json()`` the JSON one.
    """

    def __init__(self, native: _core.Report) -> None:
        if not isinstance(native, _core.Report):
            raise TypeError(f"expected a capgap._core.Report, got {type(native).__name__}")
        self._native = native

    # ---- the headline figures ----
    total_sessions: int = _summary_property(  # type: ignore[assignment]
        "total_sessions", "Sessions started by a SYN inside the window (the denominator)."
    )
    bad_sessions: int = _summary_property(  # type: ignore[assignment]
        "bad_sessions", "Bad sessions under the report's mode."
    )
    percentage: float = _summary_property(  # type: ignore[assignment]
        "percentage", "100 * bad_sessions / total_sessions (0.0 when there are no sessions)."
    )
    bad_confirmed: int = _summary_property(  # type: ignore[assignment]
        "bad_confirmed", "Bad under the default verdict (capture loss)."
    )
    bad_sessions_wireshark: int = _summary_property(  # type: ignore[assignment]
        "bad_wireshark", "Bad under Wireshark's flags (lost_segment, ack_lost_segment)."
    )
    bad_data_missing: int = _summary_property(  # type: ignore[assignment]
        "bad_data_missing", "Confirmed-bad sessions with payload missing."
    )
    bad_control_only: int = _summary_property(  # type: ignore[assignment]
        "bad_control_only", "Confirmed-bad sessions with only control packets missing."
    )
    wireshark_only: int = _summary_property(  # type: ignore[assignment]
        "wireshark_only", "Bad for Wireshark but good by default (reordering, ...)."
    )
    confirmed_only: int = _summary_property(  # type: ignore[assignment]
        "confirmed_only", "Bad by default but not for Wireshark."
    )
    syn_only: int = _summary_property(  # type: ignore[assignment]
        "syn_only", "Counted sessions with only SYNs (never bad)."
    )
    one_sided: int = _summary_property(  # type: ignore[assignment]
        "one_sided", "Counted sessions seen in one direction only."
    )
    partial: int = _summary_property(  # type: ignore[assignment]
        "partial", "Instances without a SYN (not counted)."
    )
    synack_only: int = _summary_property(  # type: ignore[assignment]
        "synack_only", "SYN-ACKs whose SYN was missed (not counted)."
    )
    before_window: int = _summary_property(  # type: ignore[assignment]
        "before_window", "SYN-started instances before the window."
    )
    after_window: int = _summary_property(  # type: ignore[assignment]
        "after_window", "SYN-started instances at or after the window's end."
    )
    filtered_out: int = _summary_property(  # type: ignore[assignment]
        "filtered_out", "Instances excluded by the server/port filter."
    )
    evicted: int = _summary_property(  # type: ignore[assignment]
        "evicted", "Counted sessions finished early by a resource cap."
    )
    unmatched_events: int = _summary_property(  # type: ignore[assignment]
        "unmatched_events", "Loss events that matched no session."
    )
    join: str = _summary_property(  # type: ignore[assignment]
        "join", "How events were attributed: 'instance' or 'socket'."
    )

    @property
    def mode(self) -> str:
        """The headline verdict: 'confirmed' or 'wireshark'."""
        return self._native.summary.mode.name

    @property
    def ci95(self) -> tuple[float, float]:
        """The 95% Wilson score interval of the percentage, in percent."""
        s = self._native.summary
        return (s.ci95_low, s.ci95_high)

    # ---- the rest ----
    @property
    def summary(self) -> _core.Summary:
        """All headline figures (native)."""
        return self._native.summary

    @property
    def ingest(self) -> _core.IngestStats:
        """Ingest counters: packets read, decoded, skipped by reason, truncated, problems."""
        return self._native.ingest

    @property
    def tallies(self) -> list[_core.EventTally]:
        """Events by kind and direction (non-zero only)."""
        return self._native.tallies

    @property
    def sessions(self) -> Table:
        """The sessions that started in the window, with their verdicts."""
        return Table(self._native, "sessions")

    @property
    def events(self) -> Table:
        """The events of those sessions (every kind)."""
        return Table(self._native, "events")

    # ---- the diagnosis (docs/diagnosis.md) ----

    def diagnosis(
        self,
        *,
        top: int | None = None,
        bucket: str | int | None = None,
        prefix_v4: int | None = None,
        prefix_v6: int | None = None,
    ) -> dict[str, Any]:
        """The diagnosis as the JSON report's ``diagnosis`` object (a dict).

        ``top`` rows per breakdown, ``bucket`` the timeline's bucket ("100ms", "1s", "1m", or
        nanoseconds), ``prefix_v4``/``prefix_v6`` the client prefix lengths; None keeps the
        report's settings (the defaults: 10 rows, a bucket from the duration, /24 and /64).
        """
        import json

        bucket_ns = _core.parse_bucket(bucket) if isinstance(bucket, str) else bucket
        text = self._native.diagnosis_json(top, bucket_ns, prefix_v4, prefix_v6)
        result: dict[str, Any] = json.loads(text)
        return result

    @property
    def findings(self) -> list[dict[str, Any]]:
        """The findings, worst first: dicts with name, severity, title, figures, rows, check."""
        result: list[dict[str, Any]] = self.diagnosis()["findings"]
        return result

    @property
    def reconstructable(self) -> dict[str, Any]:
        """Sessions with every byte of both directions captured: sessions, total, percentage."""
        result: dict[str, Any] = self.diagnosis()["reconstructable"]
        return result

    def breakdown(
        self,
        name: str,
        *,
        top: int | None = None,
        prefix_v4: int | None = None,
        prefix_v6: int | None = None,
    ) -> pandas.DataFrame:
        """One breakdown table as a DataFrame: server, server_port, client_prefix, vlan, tunnel,
        interface or direction; one row per group, worst first, then "rest"."""
        tables = self.diagnosis(top=top, prefix_v4=prefix_v4, prefix_v6=prefix_v6)["breakdowns"]
        if name not in tables:
            raise ValueError(f"no breakdown {name!r}; the tables are {', '.join(tables)}")
        pd = _import_pandas()
        columns = [
            "group", "sessions", "bad", "percentage", "ci95_low", "ci95_high",
            "missing_bytes", "events", "significant", "z", "retransmissions", "duplicates",
        ]  # fmt: skip
        return pd.DataFrame(tables[name], columns=columns)

    def timeline(self, bucket: str | int | None = None) -> pandas.DataFrame:
        """The timeline as a DataFrame indexed by each bucket's start (a UTC DatetimeIndex)."""
        pd = _import_pandas()
        rows = self.diagnosis(bucket=bucket)["timeline"]["rows"]
        columns = [
            "start", "packets", "bytes", "packets_per_s", "bits_per_s", "new_sessions",
            "bad_sessions", "loss_events", "missing_bytes", "retransmissions", "duplicates",
            "acks", "acks_above_hole", "gap_ack_ratio", "data_segments",
        ]  # fmt: skip
        frame = pd.DataFrame(rows, columns=columns)
        frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("start"), utc=True), name="start")
        return frame

    @property
    def native(self) -> _core.Report:
        """The C++ report."""
        return self._native

    @property
    def sources(self) -> list[str]:
        """The inputs the sessions came from, as the sessions' ``source`` column names them.

        One analysis has one entry: its inputs joined by ", " (several captures given to one
        ``analyze`` call are one capture merged by time, and which file held a session's SYN
        is not kept). A merged report (``concat``, ``merge``) has one entry per report merged.
        Empty for packets fed to an Analyzer or sessions given to a Matcher.
        """
        return list(self._native.sources)

    def merge(self, *others: Report) -> Report:
        """This report and others as one: ``capgap.concat([self, *others])``."""
        return concat([self, *others])

    # Pickling goes through the native report (a compact, versioned state: the tables as
    # bytes), so reports cross processes: ProcessPoolExecutor, joblib, Dask.
    def __getstate__(self) -> _core.Report:
        return self._native

    def __setstate__(self, state: _core.Report) -> None:
        self._native = state

    def to_text(self) -> str:
        """The text report, as the command line prints it."""
        return self._native.to_text()

    def to_json(self) -> str:
        """One JSON object with summary, events and ingest, as `capgap --format json`."""
        return self._native.to_json()

    def to_dict(self) -> dict[str, Any]:
        """The JSON report as a dict."""
        import json  # here, as html below: `import capgap` stays quick

        return json.loads(self._native.to_json())

    def write_sessions_csv(self, path: str | os.PathLike[str]) -> None:
        """Writes the sessions CSV (as --sessions-out: to a temporary beside it, renamed when
        complete). Raises CaptureError, an OSError with errno and filename, on failure."""
        self._native.write_sessions_csv(os.fsdecode(path))

    def write_events_csv(self, path: str | os.PathLike[str]) -> None:
        """Writes the events CSV (as --events-out: to a temporary beside it, renamed when
        complete). Raises CaptureError, an OSError with errno and filename, on failure."""
        self._native.write_events_csv(os.fsdecode(path))

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        """``<capgap.Report: 37 sessions, 9 bad (24.32%, 95% CI 13.36-40.12%)>``, followed by
        the mode when it is not 'confirmed' and by any input problem; without sessions, what
        the headline left out instead (``<capgap.Report: no sessions; 121 partial>``)."""
        s = self._native.summary
        if s.total_sessions == 0:
            left_out = [
                f"{getattr(s, name)} {label}"
                for name, label in (
                    ("partial", "partial"),
                    ("synack_only", "synack_only"),
                    ("before_window", "before the window"),
                    ("after_window", "after the window"),
                    ("filtered_out", "filtered out"),
                    ("unmatched_events", "unmatched events"),
                )
                if getattr(s, name)
            ]
            head = "no sessions" + ("; " + ", ".join(left_out) if left_out else "")
        else:
            head = (
                f"{s.total_sessions} sessions, {s.bad_sessions} bad ({s.percentage:.2f}%, "
                f"95% CI {s.ci95_low:.2f}-{s.ci95_high:.2f}%)"
            )
        parts = [head]
        if self.mode != "confirmed":
            parts.append(f"mode {self.mode}")
        ingest = self._native.ingest
        problems = len(ingest.problems)
        if problems:
            parts.append(f"{problems} input problem{'s' if problems != 1 else ''}")
        skipped = ingest.skipped()
        if skipped:
            parts.append(f"{skipped} skipped packet{'s' if skipped != 1 else ''}")
        return f"<capgap.Report: {', '.join(parts)}>"

    def _repr_html_(self) -> str:
        """A small HTML table for Jupyter."""
        import html

        pct = (
            "no sessions"
            if self.total_sessions == 0
            else f"{self.percentage:.2f}% (95% CI {self.ci95[0]:.2f}% to {self.ci95[1]:.2f}%)"
        )
        rows = [
            ("Total sessions", f"{self.total_sessions:,}"),
            ("Bad sessions", f"{self.bad_sessions:,}"),
            ("Percentage", pct),
            ("Mode", self.mode),
            ("Bad (confirmed)", f"{self.bad_confirmed:,}"),
            ("Wireshark would say", f"{self.bad_sessions_wireshark:,}"),
            (
                "Data missing / control only",
                f"{self.bad_data_missing:,} / {self.bad_control_only:,}",
            ),
            ("syn_only / one_sided", f"{self.syn_only:,} / {self.one_sided:,}"),
            ("partial / synack_only (not counted)", f"{self.partial:,} / {self.synack_only:,}"),
            ("Unmatched events", f"{self.unmatched_events:,}"),
            ("Packets read / decoded", f"{self.ingest.packets_read:,} / {self.ingest.decoded:,}"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table class='capgap-report'><tbody>{body}</tbody></table>"

    def plot(self, ax: Axes | None = None, *, bins: int = 60) -> Axes:
        """Draws new and bad sessions over time (by SYN time, UTC); needs matplotlib.

        ``bins`` is the most buckets to use; the bucket width is rounded to a readable step.
        Returns the matplotlib Axes.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as err:
            raise ImportError(
                "plot() needs matplotlib, an optional dependency: pip install 'capgap[plot]'"
            ) from err
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"bins must be a positive int, got {bins!r}")
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.5))
        cols = self._native.session_columns()
        times = cols["syn_time_ns"]
        bad = cols["bad_wireshark" if self.mode == "wireshark" else "bad"]
        ax.set_title(
            f"{self.total_sessions:,} sessions, {self.bad_sessions:,} bad"
            + ("" if self.total_sessions == 0 else f" ({self.percentage:.2f}%)")
        )
        if len(times) == 0:
            ax.text(0.5, 0.5, "no sessions", ha="center", va="center", transform=ax.transAxes)
            return ax
        width = _bucket_ns(int(times.max()) - int(times.min()), bins)
        start = int(times.min()) // width * width
        index = (times - start) // width
        count = int(index.max()) + 1
        import numpy as np

        new = np.bincount(index, minlength=count)
        bad_count = np.bincount(index[bad], minlength=count)
        edges = (start + width * np.arange(count + 1, dtype=np.int64)).view("datetime64[ns]")
        ax.stairs(new, edges, label="new sessions", color="tab:blue", linewidth=1.5)
        ax.stairs(bad_count, edges, label="bad sessions", color="tab:red", fill=True, alpha=0.6)
        ax.set_ylabel(f"sessions per {_duration_text(width)}")
        ax.set_xlabel("SYN time (UTC)")
        ax.set_ylim(0, max(1, int(new.max())) * 1.15)
        ax.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
        ax.legend(loc="upper right")
        return ax


def concat(reports: Iterable[Report]) -> Report:
    """One report from the reports of independent captures, as one analysis would give.

    For captures with no connection in common (different links, hosts or times, e.g. one
    file per capture point or per day), ``concat(map(analyze, files))`` gives the totals of
    ``analyze(files)``: sessions, bad sessions, categories, events by kind and ingest counters
    are added (``open_flows_peak`` and ``timestamp_largest_step_back_ns`` take the largest,
    the first and last times the earliest and latest, problems are listed together), the
    percentage and its interval are computed again from the sums, session ids are renumbered
    (events keep their session) and the sessions' ``source`` column names each one's capture.
    A connection split across two files is not joined again: analyse such files together.
    Counters of how instances were finished (``open_flows_peak``, ``flows_closed_expired``,
    ``flows_idle_expired``) depend on what else shared the clock, so they can be lower than
    one analysis's.

    Associative: ``concat([concat([a, b]), c])`` equals ``concat([a, b, c])``. Raises
    ValueError when the reports differ in mode or join, TypeError for a non-Report.
    """
    natives = []
    for r in reports:
        if not isinstance(r, Report):
            raise TypeError(f"concat() takes capgap.Report objects, got {type(r).__name__}")
        natives.append(r._native)
    return Report(_core.merge_reports(natives))


_STEPS_NS = [
    m * unit
    for unit in (1, 1_000, 1_000_000, 1_000_000_000)
    for m in (1, 2, 5, 10, 20, 50, 100, 200, 500)
    if m * unit < 60_000_000_000 or unit == 1
] + [s * 1_000_000_000 for s in (60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)]


def _bucket_ns(span_ns: int, bins: int) -> int:
    """The smallest readable step that covers span_ns in at most `bins` buckets."""
    for step in _STEPS_NS:
        if span_ns // step < bins:
            return step
    day = 86_400_000_000_000
    return (span_ns // (bins * day) + 1) * day


def _duration_text(ns: int) -> str:
    for unit, name in (
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "min"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ):
        if ns >= unit and ns % unit == 0:
            return f"{ns // unit} {name}"
    return f"{ns} ns"
