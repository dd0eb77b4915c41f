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

__all__ = [
    "Report",
    "Table",
    "concat",
    "read_csv_options",
    "read_events_csv",
    "read_sessions_csv",
]

#: Columns holding names of enum values, and every value they can take (in enum order).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "category": tuple(_core.SessionCategory.__members__),
    "direction": tuple(_core.Direction.__members__),
    "kind": tuple(_core.EventKind.__members__),
}


#: The sessions table (docs/tables.md): column name and numpy dtype in columns() order, as
#: to_pandas(), the CSV files and to_arrow() name them. In columns() the times and the
#: duration carry an ``_ns`` suffix and hold int64 nanoseconds.
SESSION_SCHEMA: dict[str, str] = {
    "session_id": "uint64",
    "client_ip": "str",
    "client_port": "uint16",
    "server_ip": "str",
    "server_port": "uint16",
    "tunnel": "uint32",
    "category": "category",
    "syn_frame": "uint64",
    "syn_time": "time",
    "first_frame": "uint64",
    "first_time": "time",
    "last_time": "time",
    "duration": "duration",
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
    "source": "str",
}

#: The events table, as SESSION_SCHEMA.
EVENT_SCHEMA: dict[str, str] = {
    "session_id": "uint64",
    "direction": "category",
    "kind": "category",
    "late_filled": "bool",
    "frame": "uint64",
    "time": "time",
    "seq_begin": "uint64",
    "seq_end": "uint64",
    "missing_bytes": "uint64",
    "src_ip": "str",
    "src_port": "uint16",
    "dst_ip": "str",
    "dst_port": "uint16",
}

#: session_id of an event that matched no session (empty in the events CSV).
NO_SESSION = 2**64 - 1


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

    The columns are those of the CSV files, in their order (SESSION_SCHEMA, EVENT_SCHEMA;
    docs/tables.md says what each means): ``bad`` follows the report's mode, ``events`` counts
    the confirmed-loss events only, ``source`` names the capture a session came from (see
    ``Report.sources``). In columns() times and the duration are int64 nanoseconds (UTC
    since the epoch) under an ``_ns`` suffix; frames are 1-based (0: none).
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
        of dtype ``datetime64[ns, UTC]`` and ``duration_ns`` a ``duration`` column of dtype
        ``timedelta64[ns]``; with ``categorical`` the ``category``, ``direction`` and ``kind``
        columns are pandas Categoricals over every possible value. Numeric columns are not
        copied. The columns are those of the CSV files (docs/tables.md); read those back with
        read_sessions_csv() / read_events_csv() for the same DataFrame.
        """
        pd = _import_pandas()
        data: dict[str, Any] = {}
        for name, col in self.columns().items():
            if datetimes and name.endswith("time_ns"):
                stamps = pd.DatetimeIndex(col.view("datetime64[ns]")).tz_localize("UTC")
                data[name[: -len("_ns")]] = stamps
            elif datetimes and name == "duration_ns":
                data["duration"] = pd.TimedeltaIndex(col.view("timedelta64[ns]"))
            elif categorical and name in CATEGORIES:
                data[name] = pd.Categorical(col, categories=list(CATEGORIES[name]))
            else:
                data[name] = col
        return pd.DataFrame(data, copy=False)

    def to_arrow(self) -> Any:
        """The table as a ``pyarrow.Table`` (pyarrow is optional and imported here, lazily).

        Same column names as to_pandas(): times are ``timestamp[ns, tz=UTC]``, the duration
        ``duration[ns]``, ``category`` / ``direction`` / ``kind`` dictionary arrays over every
        possible value. Numeric, time and duration columns wrap the numpy buffers without a
        copy; booleans (bit-packed in Arrow) and strings are converted. polars
        (``pl.from_arrow``) and DuckDB read the result directly.
        """
        try:
            import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        except ImportError as err:
            raise ImportError(
                "to_arrow() needs pyarrow, an optional dependency: pip install 'capgap[arrow]'"
            ) from err
        arrays: list[Any] = []
        names: list[str] = []
        for name, col in self.columns().items():
            if name.endswith("time_ns"):
                arr = pa.Array.from_buffers(
                    pa.timestamp("ns", tz="UTC"), len(col), [None, pa.py_buffer(col)]
                )
                name = name[: -len("_ns")]
            elif name == "duration_ns":
                arr = pa.Array.from_buffers(pa.duration("ns"), len(col), [None, pa.py_buffer(col)])
                name = "duration"
            elif name in CATEGORIES:
                import numpy as np

                values = list(CATEGORIES[name])
                codes = np.zeros(len(col), dtype=np.int8)
                for i, v in enumerate(values):  # a handful of values: vectorised per value
                    codes[col == v] = i
                arr = pa.DictionaryArray.from_arrays(
                    pa.array(codes), pa.array(values, type=pa.string())
                )
            elif col.dtype.kind == "U":
                arr = pa.array(col, type=pa.string())
            else:
                arr = pa.array(col)  # numbers: zero-copy; bool: packed to bits
            arrays.append(arr)
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names)

    def __repr__(self) -> str:
        return f"<capgap {self._which} table: {len(self)} rows>"


def _iso(ns: int) -> str:
    import datetime as dt

    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{frac:09d}Z"


def _rows(cols: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Row dicts under the CSV's column names and value forms (JSON-ready)."""
    values: dict[str, list[Any]] = {}
    for name, col in cols.items():
        if name.endswith("time_ns"):
            values[name[: -len("_ns")]] = [_iso(v) for v in col.tolist()]
        elif name == "duration_ns":
            values["duration"] = col.tolist()
        else:
            values[name] = col.tolist()
    names = list(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]


def _read_table_csv(path: str | os.PathLike[str], schema: dict[str, str]) -> pandas.DataFrame:
    pd = _import_pandas()
    import numpy as np

    # Everything is read as text first: no column is guessed, and nothing passes through float.
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    if list(raw.columns) != list(schema):
        raise ValueError(
            f"{os.fsdecode(path)}: not a capgap CSV table: columns {list(raw.columns)}, "
            f"expected {list(schema)}"
        )
    data: dict[str, Any] = {}
    for name, kind in schema.items():
        col = raw[name].to_numpy(dtype=object)
        if kind == "time":
            stamps = pd.to_datetime(col, utc=True, format="ISO8601")
            data[name] = stamps.astype("datetime64[ns, UTC]")
        elif kind == "duration":
            data[name] = pd.TimedeltaIndex(col.astype(np.int64).view("timedelta64[ns]"))
        elif kind == "category":
            data[name] = pd.Categorical(col.astype(str), categories=list(CATEGORIES[name]))
        elif kind == "bool":
            data[name] = col.astype(np.uint8).astype(bool)
        elif kind == "str":
            data[name] = col.astype(str)
        elif name == "session_id":
            data[name] = np.array([int(v) if v else NO_SESSION for v in col], dtype=np.uint64)
        else:
            data[name] = np.array([int(v) for v in col], dtype=kind)
    return pd.DataFrame(data, copy=False)


def _ns_to_timedelta(text: str) -> Any:
    import numpy as np

    return np.timedelta64(int(text), "ns")


def _session_id(text: str) -> Any:
    import numpy as np

    return np.uint64(int(text) if text else NO_SESSION)


def read_csv_options(table: str) -> dict[str, Any]:
    """Keyword arguments for ``pandas.read_csv`` that read a capgap CSV table into exactly the
    DataFrame ``to_pandas()`` gives, dtypes included (docs/tables.md)::

        df = pd.read_csv("sessions.csv", **capgap.read_csv_options("sessions"))
        ev = pd.read_csv("events.csv", **capgap.read_csv_options("events"))

    ``dtype`` gives each column its numpy type (``bool`` from 0/1, a Categorical over every
    value), ``parse_dates`` with ``date_format="ISO8601"`` the times to the nanosecond,
    ``converters`` the duration (integer nanoseconds) as a Timedelta and an empty event
    ``session_id`` as NO_SESSION; ``keep_default_na=False`` keeps an empty ``source`` as "".
    A file with no rows gives those two converted columns as ``object``: read_sessions_csv()
    and read_events_csv() give the dtypes in every case.
    """
    pd = _import_pandas()
    if table not in ("sessions", "events"):
        raise ValueError(f"table must be 'sessions' or 'events', got {table!r}")
    schema = SESSION_SCHEMA if table == "sessions" else EVENT_SCHEMA
    dtype: dict[str, Any] = {}
    converters: dict[str, Any] = {}
    times: list[str] = []
    for name, kind in schema.items():
        if kind == "time":
            times.append(name)
        elif kind == "duration":
            converters[name] = _ns_to_timedelta
        elif name == "session_id" and table == "events":
            converters[name] = _session_id
        elif kind == "category":
            dtype[name] = pd.CategoricalDtype(list(CATEGORIES[name]))
        else:
            dtype[name] = kind
    return {
        "dtype": dtype,
        "converters": converters,
        "parse_dates": times,
        "date_format": "ISO8601",
        "keep_default_na": False,
    }


def read_sessions_csv(path: str | os.PathLike[str]) -> pandas.DataFrame:
    """Reads a sessions CSV (``--sessions-out`` or Report.write_sessions_csv) into the DataFrame
    ``report.sessions.to_pandas()`` gives: same columns, dtypes and values to the nanosecond.

    Plain pandas reads it too: ``pd.read_csv(path, **read_csv_options("sessions"))`` (see
    docs/tables.md). Raises ValueError when the columns are not those of the sessions table.
    """
    return _read_table_csv(path, SESSION_SCHEMA)


def read_events_csv(path: str | os.PathLike[str]) -> pandas.DataFrame:
    """Reads an events CSV (``--events-out`` or Report.write_events_csv) into the DataFrame
    ``report.events.to_pandas()`` gives (an empty session_id reads as NO_SESSION)."""
    return _read_table_csv(path, EVENT_SCHEMA)


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
        self._csv: _core.CsvCounts | None = None

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
    def csv(self) -> _core.CsvCounts | None:
        """The CSV reader's counters (rows, syn_rows_not_syn, bad rows by reason, ...) for a
        report of from_wireshark_csv(); None for a capture's report."""
        return self._csv

    @property
    def tallies(self) -> list[_core.EventTally]:
        """Events by kind and direction (non-zero only)."""
        return self._native.tallies

    @property
    def sessions(self) -> Table:
        """The sessions that started in the window, with their verdicts; with include="all"
        also the partial and synack_only instances (their ``category`` tells them apart)."""
        return Table(self._native, "sessions")

    @property
    def events(self) -> Table:
        """The events of those sessions (every kind); with include="all" also the unmatched
        events (``session_id`` NO_SESSION, last)."""
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

    #: (paths, options) of the analyze() call that made the report, for extract(); None when
    #: it was made otherwise (streams, CSV lists, merged or unpickled reports).
    _origin: tuple[list[str], _core.Options] | None = None

    def extract(
        self,
        path: str | os.PathLike[str],
        sessions: Any = "bad",
        *,
        capture: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
        progress: Any = None,
        cancel: Any = None,
    ) -> _core.ExtractResult:
        """Writes every packet of the chosen sessions to ``path`` as pcapng, for Wireshark.

        The capture is read a second time with the options of the analysis, so every packet
        goes to the session the tracker counted it in (also when a 4-tuple was reused). Each
        packet where a loss event was revealed carries a comment (``frame.comment``), e.g.
        "capgap: acked_unseen c2s, 1448 bytes missing before this ACK (relative seq ...)".

        Args:
            path: the pcapng file to write (to a temporary beside it, renamed when complete).
            sessions: "bad" (bad under the report's mode, the default), a session id, or ids:
                a list, a numpy array, a pandas Series, or a DataFrame with a ``session_id``
                column (e.g. ``df[df.missing_bytes > 0]`` of ``report.sessions.to_pandas()``).
                Every id must be a session of the report.
            capture: the capture files to read. Default: those ``capgap.analyze`` read, by
                absolute path; a report made otherwise (streams, merged, unpickled) needs
                them here, and is then read with default options.
            progress, cancel: as in ``capgap.analyze``.

        Returns:
            ExtractResult: sessions, packets written and notes (comments) written.

        Raises:
            CaptureError: a capture cannot be read twice (standard input, a pipe, a stream)
                or read at all, or the output cannot be written; or the second reading
                disagrees with the report (the file changed).
            ValueError: an id is not a session of the report.
        """
        from ._progress import progress_callable

        origin = self._origin
        if capture is not None:
            if isinstance(capture, (str, bytes, os.PathLike)):
                files = [os.fsdecode(capture)]
            else:
                files = [os.fsdecode(c) for c in capture]
            options = origin[1] if origin is not None else _core.Options()
        elif origin is not None:
            files, options = origin
        else:
            raise ValueError(
                "this report does not know its capture files (it was read from a stream, "
                "merged or unpickled): pass capture=PATH"
            )
        ids = _session_ids(self._native, sessions)
        return _core.extract_sessions(
            files,
            options,
            self._native,
            ids,
            os.fsdecode(path),
            progress_callable(progress, cancel, "capgap extract"),
        )

    def merge(self, *others: Report) -> Report:
        """This report and others as one: ``capgap.concat([self, *others])``."""
        return concat([self, *others])

    def __add__(self, other: Report) -> Report:
        """``capgap.concat([self, other])``: pieces of one chain join, keeping session ids."""
        if not isinstance(other, Report):
            return NotImplemented
        return concat([self, other])

    @property
    def parts(self) -> list[_core.ReportPart]:
        """Where the sessions came from when pieces of a chain are in the report
        (``analyze_piece``): one entry per run of consecutive pieces of one chain, or of
        reports of no chain; empty for a report of no chain."""
        return list(self._native.parts)

    # Pickling goes through the native report (a compact, versioned state: the tables as
    # bytes), so reports cross processes: ProcessPoolExecutor, joblib, Dask.
    # A report of from_wireshark_csv() carries the reader's counters along.
    def __getstate__(self) -> _core.Report | tuple[_core.Report, _core.CsvCounts]:
        return self._native if self._csv is None else (self._native, self._csv)

    def __setstate__(self, state: _core.Report | tuple[_core.Report, _core.CsvCounts]) -> None:
        if isinstance(state, tuple):
            self._native, self._csv = state
        else:
            self._native, self._csv = state, None

    def to_text(self) -> str:
        """The text report, as the command line prints it."""
        return self._native.to_text()

    def to_json(self) -> str:
        """One JSON object with summary, events and ingest, as `capgap --format json`."""
        return self._native.to_json()

    def to_dict(self, *, tables: bool = False) -> dict[str, Any]:
        """The JSON report as a dict: ``summary``, ``events`` (tallies by kind and direction)
        and ``ingest``. With ``tables``, also ``sessions`` and ``event_rows``: one dict per row
        with the columns of docs/tables.md, times as the CSV writes them (ISO-8601 UTC with
        nine decimals), the duration in integer nanoseconds.
        """
        import json  # here, as html below: `import capgap` stays quick

        doc: dict[str, Any] = json.loads(self._native.to_json())
        if tables:
            doc["sessions"] = _rows(self.sessions.columns())
            doc["event_rows"] = _rows(self.events.columns())
        return doc

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
        the instances not counted (``121 partial and 2 synack_only not counted``), the mode
        when it is not 'confirmed' and any input problem; without sessions, what the headline
        left out instead (``<capgap.Report: no sessions; 121 partial>``)."""
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
        excluded = [
            f"{n} {name}"
            for n, name in ((s.partial, "partial"), (s.synack_only, "synack_only"))
            if n and s.total_sessions != 0
        ]
        if excluded:  # instances the headline does not count (include="all" lists them)
            parts.append(" and ".join(excluded) + " not counted")
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

    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        title: str | None = None,
        window: str | None = None,
        max_sessions: int = 300_000,
        max_events: int = 100_000,
    ) -> str | None:
        """The report as one self-contained HTML page, the page ``capgap analyze --html`` writes.

        The page needs nothing but a browser: Chart.js and capgap's renderer are inlined and
        it makes no request. It shows the headline, the findings (the categories when the
        report has no diagnosis), input problems, the timeline and loss against load, sortable
        breakdowns, and the sessions and events as filterable, paged tables.

        Args:
            path: where to write it (to a temporary beside it, renamed when complete); None
                returns the page as a str instead.
            title: the page's title (default: "capgap report: " and the report's sources).
            window: the window the analysis used, as text to show (e.g. "10,70").
            max_sessions: the most sessions the page carries (every bad one first; the page
                says how many it left out). About 50 bytes of page per session.
            max_events: the most loss events the page lists.

        Raises CaptureError (an OSError with errno and filename) when the file cannot be written.
        """
        for name, value in (("max_sessions", max_sessions), ("max_events", max_events)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        args = (title or "", window or "", max_sessions, max_events)
        if path is None:
            return self._native.to_html(*args)
        self._native.write_html(os.fsdecode(path), *args)
        return None

    def _diagnosis(self) -> dict[str, Any] | None:
        """The report's diagnosis (findings, breakdowns, timeline, load) when it has one."""
        import json

        diagnosis = json.loads(self._native.diagnosis_json())
        return diagnosis if isinstance(diagnosis, dict) else None

    def _repr_html_(self) -> str:
        """Jupyter's view: the headline, the findings (the categories when the report has no
        diagnosis) and any input problem. Small: no chart, no script."""
        import html

        esc = html.escape
        s = self._native.summary
        pct = (
            "no sessions"
            if s.total_sessions == 0
            else f"{s.percentage:.2f}% (95% CI {s.ci95_low:.2f}% to {s.ci95_high:.2f}%)"
        )
        rows = [
            ("Total sessions", f"{s.total_sessions:,}"),
            ("Bad sessions", f"{s.bad_sessions:,} ({self.mode})"),
            ("Percentage", pct),
            ("Bad (confirmed)", f"{s.bad_confirmed:,}"),
            ("Wireshark would say", f"{s.bad_wireshark:,}"),
        ]
        sources = ", ".join(self._native.sources)
        parts = ["<div class='capgap-report'>"]
        if sources:
            parts.append(f"<div><b>capgap report</b>: {esc(sources)}</div>")
        parts.append("<table class='capgap-headline'><tbody>")
        parts.extend(
            f"<tr><th style='text-align:left'>{esc(k)}</th>"
            f"<td style='text-align:right'>{esc(v)}</td></tr>"
            for k, v in rows
        )
        parts.append("</tbody></table>")
        diagnosis = self._diagnosis()
        findings = diagnosis.get("findings") if diagnosis else None
        if findings is not None:
            parts.append("<div><b>Findings</b></div><ul class='capgap-findings'>")
            colours = {"critical": "#c62828", "warning": "#b26a00", "info": "#1f5fa8"}
            for f in findings:
                sev = str(f.get("severity", "info"))
                check = f.get("check")
                parts.append(
                    f"<li><span style='color:{colours.get(sev, '#1f5fa8')};font-weight:bold'>"
                    f"{esc(sev)}</span> {esc(str(f.get('title') or f.get('name', '')))}"
                    + (f"<br><small>Check: {esc(str(check))}</small>" if check else "")
                    + "</li>"
                )
            if not findings:
                parts.append("<li>no findings</li>")
            parts.append("</ul>")
        else:
            cats = [
                ("complete", s.total_sessions - s.syn_only - s.one_sided),
                ("syn_only", s.syn_only),
                ("one_sided", s.one_sided),
                ("evicted", s.evicted),
                ("partial (not counted)", s.partial),
                ("synack_only (not counted)", s.synack_only),
            ]
            parts.append(
                "<div><b>Sessions by category</b> (no diagnosis in this report)</div>"
                "<table class='capgap-categories'><tbody>"
            )
            parts.extend(
                f"<tr><th style='text-align:left'>{esc(k)}</th>"
                f"<td style='text-align:right'>{v:,}</td></tr>"
                for k, v in cats
            )
            parts.append("</tbody></table>")
        ingest = self._native.ingest
        problems = [f"{p.source}:{p.position}: {p.reason}" for p in ingest.problems]
        counters = self.to_dict()["ingest"]
        problems.extend(
            f"{name}: {value:,}"
            for name, value in counters.items()
            if name.startswith("skipped_") and isinstance(value, int) and value
        )
        if problems:
            parts.append("<div><b>Input problems</b></div><ul class='capgap-problems'>")
            parts.extend(f"<li>{esc(p)}</li>" for p in problems)
            parts.append("</ul>")
        else:
            parts.append("<div class='capgap-problems'>No input problems.</div>")
        parts.append("</div>")
        return "".join(parts)

    def plot(
        self,
        kind: str = "timeline",
        *,
        ax: Axes | None = None,
        bins: int = 60,
        table: str = "server",
        top: int = 10,
    ) -> Axes:
        """Draws the report with matplotlib (an optional dependency) and returns the Axes.

        kind:
            ``"timeline"``: over time (UTC, date-aware ticks): the traffic rate and the share
            of new sessions that are bad when the report has a diagnosis timeline; else new
            sessions by SYN time and the share of them that are bad (``bins``: the most
            buckets, the width rounded to a readable step).
            ``"load"``: loss against load, one point per timeline bucket, with the knee when
            the diagnosis found one; without a diagnosis, the bad share against new sessions
            per second.
            ``"breakdown"``: the bad percentage of the groups of ``table`` ("server",
            "server_port", ... as the diagnosis names them; "server" and "server_port" are
            computed from the sessions when the report has no diagnosis), with the 95%
            interval, the worst ``top`` groups.

        The bad percentage has its own axis; the legend sits outside the data.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as err:
            raise ImportError(
                "plot() needs matplotlib, an optional dependency: pip install 'capgap[plot]'"
            ) from err
        if not isinstance(kind, str) and ax is None and hasattr(kind, "plot"):
            ax, kind = kind, "timeline"  # plot(ax): the old signature
        if kind not in ("timeline", "load", "breakdown"):
            raise ValueError(f"kind must be 'timeline', 'load' or 'breakdown', got {kind!r}")
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"bins must be a positive int, got {bins!r}")
        if not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a positive int, got {top!r}")
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 4), layout="constrained")
        from . import _plots

        diagnosis = self._diagnosis()
        if kind == "timeline":
            _plots.timeline(self, ax, diagnosis, bins)
        elif kind == "load":
            _plots.load(self, ax, diagnosis, bins)
        else:
            _plots.breakdown(self, ax, diagnosis, table, top)
        return ax


def _session_ids(native: _core.Report, sessions: Any) -> list[int]:
    """Report.extract's `sessions` as a list of ids."""
    if isinstance(sessions, str):
        if sessions != "bad":
            raise ValueError(f"sessions: expected 'bad' or session ids, got {sessions!r}")
        return list(_core.bad_session_ids(native))
    if hasattr(sessions, "columns") and hasattr(sessions, "__getitem__"):  # a DataFrame
        if "session_id" not in sessions.columns:
            raise ValueError("sessions: a DataFrame needs a 'session_id' column")
        sessions = sessions["session_id"]
    if isinstance(sessions, bool):
        raise TypeError("sessions: expected 'bad' or session ids, got a bool")
    if isinstance(sessions, int) or (
        hasattr(sessions, "dtype") and getattr(sessions, "ndim", 1) == 0
    ):
        return [int(sessions)]
    if not isinstance(sessions, Iterable):
        raise TypeError(f"sessions: expected 'bad' or session ids, got {type(sessions).__name__}")
    ids = []
    for v in sessions:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"sessions: a session id must be an integer, got {v!r}")
        ids.append(int(v))
    return ids


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

    Pieces of one chain (``analyze_piece``) are the exception: neighbouring pieces of a
    chain, in order, join without renumbering, so the reports of a whole chain merge into
    what one ``analyze`` of the whole capture reports (docs/state-format.md, "Merging");
    the ``source`` of each session names the piece its first packet was in.

    Associative, chains or not: ``concat([concat([a, b]), c])`` equals ``concat([a, b, c])``
    and ``(a + b) + c`` equals ``a + (b + c)``. Raises
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
