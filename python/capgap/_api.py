"""The public functions and classes: analyze, from_wireshark_csv, Matcher, Analyzer."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, Union

from . import _core, _options
from ._progress import progress_callable
from .report import Report, Table

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np  # imported where used: `import capgap` stays quick without it

__all__ = [
    "Analyzer",
    "Matcher",
    "analyze",
    "events_from",
    "from_wireshark_csv",
    "sessions_from",
]

PathLike = Union[str, "os.PathLike[str]"]
#: A capture: a path ("-" is standard input) or a binary stream (an open file, io.BytesIO, a
#: gzip.GzipFile, a socket's makefile("rb"), ...).
Capture = Union[str, "os.PathLike[str]", BinaryIO]

#: A number of milliseconds or a duration, as reorder_window_ms takes it.
Milliseconds = Union[
    float, Decimal, _dt.timedelta, "np.timedelta64", "np.floating[Any]", "np.integer[Any]"
]

#: Link types (LINKTYPE_* values) for Analyzer.feed_packet.
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276


def analyze(
    paths: Capture | Iterable[Capture],
    *,
    server: str | Iterable[str] | None = None,
    port: int | Iterable[int] | None = None,
    window: Any = None,
    mode: str = "confirmed",
    bpf: str | None = None,
    events_in_window: bool = False,
    reorder_window_ms: Milliseconds = 3.0,
    drop_duplicates: bool = False,
    tunnel_key: bool = False,
    include: str = "counted",
    threads: int | None = None,
    progress: Callable[[_core.Progress], Any] | bool | None = None,
    cancel: Any = None,
    resume: _core.FlowState | None = None,
) -> Report:
    """Analyses one capture (several files are merged by time, as mergecap does).

    Args:
        paths: a pcap/pcapng file, or a list of files forming one capture. Each is a path
            ("-" reads standard input) or a binary stream, read once from where it stands:
            ``open(path, "rb")``, ``io.BytesIO``, ``gzip.GzipFile``, a socket's
            ``makefile("rb")``, anything with ``readinto`` or ``read``. Content compressed with
            gzip, zstd or lz4 is decompressed as it is read, in files and streams alike.
        server: keep sessions whose server matches 'CIDR[:PORT]' (a list: any of them).
        port: keep sessions whose server port is this (a list: any of them).
        window: 'START,END' or (start, end); either side may be None. Sessions whose first
            SYN lies in [start, end) are counted. A bound is text (seconds, epoch seconds or
            ISO-8601), a number (int, float, Decimal, numpy: seconds from the first packet, or
            epoch seconds above 1e9), a duration (timedelta, pandas.Timedelta,
            numpy.timedelta64: from the first packet) or a time (datetime, pandas.Timestamp,
            numpy.datetime64; naive means UTC). Exact to the nanosecond; a float is read
            through its shortest repr (10.1 is 10.1 s).
        mode: 'confirmed' (capture loss, the default) or 'wireshark' (Wireshark's flags).
        bpf: a libpcap filter; packets it rejects are counted as filtered_out.
        events_in_window: count only loss events revealed inside the window.
        reorder_window_ms: an ACK seen before its data is reordering, not loss, when the data
            follows within this time (milliseconds, any number, or a duration).
        drop_duplicates: drop exact duplicate packets (two SPAN sources) before tracking;
            they are counted either way and never make a session bad.
        tunnel_key: make the outer tunnel (IP-in-IP, GRE, VXLAN, Geneve, GTP-U endpoints and
            VNI, key or TEID) part of the flow key; sessions then carry a tunnel id naming
            report.ingest.tunnels[id - 1].
        include: 'counted' (the default): the tables hold the sessions the headline counts
            and their events. 'all': also a row for each ``partial`` and ``synack_only``
            instance in the window (their ``category`` says which, with their events and
            verdicts) and each unmatched event (``session_id`` NO_SESSION), so what the
            headline excludes can be inspected. The headline and the tallies do not change.
        threads: threads, 1 to 256 (the reading thread, which also tracks a small share of
            the sessions, and threads - 1 trackers). None (the default): the machine's cores,
            at most 8, and 1 for inputs under 64 MB. Sessions are sharded by flow; the report,
            its tables and every figure are the same for every count.
        progress: a callable, called at most ten times a second with a ``capgap.Progress``
            (bytes_done, bytes_total, packets, sessions, elapsed_seconds, done) and once at
            the end with done=True; an exception it raises stops the analysis and propagates.
            True shows a tqdm bar when tqdm is installed (``pip install 'capgap[progress]'``),
            else a line on standard error.
        cancel: a ``threading.Event`` (anything with ``is_set()``); once set, from another
            thread, the analysis stops within about 100 ms with ``capgap.Cancelled``.
        resume: the ``capgap.FlowState`` the piece before ended with (``analyze_piece``):
            this call is the last piece of the chain, and reports the sessions that ended in
            it, every open one included (docs/state-format.md).

    Raises:
        CaptureError (an OSError): a file cannot be opened or read; a missing file raises
            CaptureNotFoundError (also a FileNotFoundError), an unreadable one
            CapturePermissionError (also a PermissionError), with errno, strerror and
            filename set.
        FormatError (a ValueError): a file is not a capture, or nothing in it decodes.
        ParseError (a ValueError): a window, server or BPF filter does not parse; its source
            is the keyword ('window', 'server', 'bpf') and the message quotes the value.
        ValueError, TypeError: other invalid arguments (a text stream, for one).
        Whatever a stream raises while it is read, unchanged.

    The GIL is released while the capture is read and analysed, and taken only around the
    calls into a stream's readinto/read and, every ~50 ms, to run the signal handlers: Ctrl-C
    (or Jupyter's interrupt) raises KeyboardInterrupt within a fraction of a second.

    The report remembers the capture's paths and these options, for ``report.extract()``.
    """
    files = _options.paths_arg(paths)
    opt = _options.options(
        server=server,
        port=port,
        window=window,
        mode=mode,
        bpf=bpf,
        events_in_window=events_in_window,
        reorder_window_ms=reorder_window_ms,
        drop_duplicates=drop_duplicates,
        tunnel_key=tunnel_key,
        include=include,
        threads=threads,
    )
    if resume is not None:
        native, _ = _core.analyze_piece(
            files, opt, _state_arg(resume), True, progress_callable(progress, cancel)
        )
        return Report(native)
    report = Report(_core.analyze(files, opt, progress_callable(progress, cancel)))
    if all(isinstance(f, str) for f in files):
        # Absolute, so that extract() reads the same files after a change of directory.
        report._origin = ([f if f == "-" else os.path.abspath(f) for f in files], opt)
    return report


def _state_arg(state: Any) -> _core.FlowState:
    if isinstance(state, _core.FlowState):
        return state
    if isinstance(state, (bytes, bytearray, memoryview)):
        return _core.FlowState.from_bytes(bytes(state))
    raise TypeError(f"resume must be a capgap.FlowState or bytes, not {type(state).__name__}")


def analyze_piece(
    paths: Capture | Iterable[Capture],
    *,
    resume: _core.FlowState | bytes | None = None,
    last: bool = False,
    progress: Callable[[_core.Progress], Any] | bool | None = None,
    cancel: Any = None,
    **options: Any,
) -> tuple[Report, _core.FlowState | None]:
    """Analyses one piece of a capture cut into files (rotated by size or time), to be
    chained: the open flows at its end are kept in a ``capgap.FlowState`` that the next
    piece resumes, so the pieces analysed one after the other, in separate calls or
    processes, report what one ``analyze`` over the whole capture reports.

    >>> r1, s1 = capgap.analyze_piece("cap_00.pcap")
    >>> r2, s2 = capgap.analyze_piece("cap_01.pcap", resume=s1)
    >>> r3, _ = capgap.analyze_piece("cap_02.pcap", resume=s2, last=True)
    >>> whole = r1 + r2 + r3          # capgap.concat([r1, r2, r3]): session ids kept

    Args:
        paths: the piece, as ``analyze`` takes it.
        resume: the state the piece before ended with (a FlowState, or its bytes); None for
            the first piece.
        last: finish every open flow (the chain's last piece); the state returned is None.
        progress, cancel: as in ``analyze``.
        options: ``analyze``'s keywords (server, window, mode, bpf, ...). The ones the state
            depends on (bpf, reorder_window_ms, drop_duplicates, tunnel_key) must be the
            same in every piece: a state made with others raises ParseError naming them.

    Returns:
        (report, state): the sessions that ended in this piece (closed, expired, evicted;
        with ``last``, all the rest too) with their events, this piece's counters and
        timeline; and the state for the next piece (picklable, ``bytes(state)``,
        ``state.save(path)``). Each session's ``source`` names the piece its first packet
        was in. Reports of one chain merge (``+``, ``concat``) keeping the session ids.

    Raises:
        as ``analyze``; FormatError for a state that is not one (naming the byte offset).
    """
    files = _options.paths_arg(paths)
    opt = _options.options(**options)
    native, state = _core.analyze_piece(
        files,
        opt,
        None if resume is None else _state_arg(resume),
        bool(last),
        progress_callable(progress, cancel),
    )
    return Report(native), (None if last else state)


def _check_syn_list(data: _core.CsvInput, syn_path: str, lost_path: str) -> None:
    """Lists that cannot be what they were passed as are an error, not a small report: the
    SYN list with rows but no usable SYN, or the two lists swapped."""
    counts = data.counts
    if (
        counts.syn_rows_not_syn != 0
        and counts.lost_rows != 0
        and counts.lost_rows_unflagged == counts.lost_rows
    ):
        raise _core.FormatError(
            f"{syn_path}: {counts.syn_rows_not_syn} of {counts.syn_rows} rows are not a pure "
            f"SYN and none of the {counts.lost_rows} rows of {lost_path} carries a loss flag: "
            "were the SYN and lost lists swapped? (from_wireshark_csv(syn, lost))"
        )
    if len(data.sessions) != 0 or counts.syn_rows == 0:
        return
    syn_bad = [p for p in counts.bad_rows if p.source == syn_path]
    if counts.syn_rows_not_syn != 0:
        hint = (
            f"{counts.syn_rows_not_syn} of {counts.syn_rows} rows are not a pure SYN "
            "(flags other than SYN alone: were the SYN and lost lists swapped?)"
        )
    elif syn_bad:
        first = syn_bad[0]
        hint = f"every row is bad, first at {first.position}: {first.reason}" + (
            " (IPv6 rows need the ipv6.src and ipv6.dst columns: tshark -e ipv6.src -e ipv6.dst)"
            if "address" in first.reason
            else ""
        )
    else:
        hint = f"none of its {counts.syn_rows} rows starts a session"
    raise _core.FormatError(f"{syn_path}: no SYN rows: {hint}")


def from_wireshark_csv(
    syn: PathLike,
    lost: PathLike,
    *,
    server: str | Iterable[str] | None = None,
    port: int | Iterable[int] | None = None,
    window: Any = None,
    mode: str = "wireshark",
    events_in_window: bool = False,
    join: str = "instance",
) -> Report:
    """Reads Wireshark CSV exports: the SYN list and the lost-segment list.

    The headline verdict is Wireshark's by default (the lists carry only its flags), as
    `capgap csv` reports. ``join='socket'`` reproduces the old manual join by client socket
    exactly (no window, no events), to compare with numbers computed that way.

    **Columns.** Found by name in the header, in any order (others are ignored): the frame
    number (``No.`` or ``frame.number``), a time (``Time`` or ``frame.time_epoch``,
    ``frame.time``, ``frame.time_relative``), source and destination addresses (``Source`` /
    ``Destination`` or ``ip.src`` / ``ip.dst`` and, for IPv6, ``ipv6.src`` / ``ipv6.dst``), and
    either ``Info`` or the ports ``tcp.srcport`` / ``tcp.dstport``; ``tcp.stream``,
    ``tcp.seq_raw``, ``tcp.flags.syn`` / ``tcp.flags.ack`` help; the lost list needs ``Info`` or
    ``tcp.analysis.lost_segment`` / ``tcp.analysis.ack_lost_segment``. tshark makes both
    (IPv4 and IPv6 in one file)::

        tshark -n -r cap.pcap -Y "tcp.flags.syn==1 && tcp.flags.ack==0" -T fields \
            -E header=y -E separator=, -E quote=d -e frame.number -e frame.time_epoch \
            -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e tcp.srcport -e tcp.dstport \
            -e tcp.stream -e tcp.seq_raw -e tcp.flags.syn -e tcp.flags.ack > syn.csv
        tshark -n -r cap.pcap -Y "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment" \
            -T fields -E header=y -E separator=, -E quote=d -e frame.number \
            -e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e tcp.srcport \
            -e tcp.dstport -e tcp.stream -e tcp.analysis.lost_segment \
            -e tcp.analysis.ack_lost_segment > lost.csv

    The reader's counters are ``report.csv`` (a CsvCounts: rows, ``syn_rows_not_syn``, bad
    rows by reason, ...); ``report.ingest`` has ``csv_rows`` / ``csv_bad_rows`` and each bad
    row, with its file and line, in ``report.ingest.problems``. ``report.sources`` is
    ``["SYN, LOST"]`` (the two paths in one entry, as ``capgap csv`` names them), the sessions'
    ``source`` column likewise.

    Raises CaptureError, FormatError or ParseError as analyze() does; ParseError when a list
    misses a required column; FormatError naming the file when the SYN list has rows but not
    one usable SYN (the lists swapped, or IPv6 rows without ``ipv6.src`` columns).
    """
    syn_path = _options.path_arg("syn", syn)
    lost_path = _options.path_arg("lost", lost)
    opt = _options.match_options(
        server=server, port=port, window=window, mode=mode, events_in_window=events_in_window
    )
    if join == "instance":
        data = _core.read_wireshark_csv(syn_path, lost_path)
        _check_syn_list(data, syn_path, lost_path)
        # One source, "SYN, LOST", as analyze_wireshark_csv and `capgap csv` name it.
        report = Report(_core.join_wireshark_csv(data, opt, [f"{syn_path}, {lost_path}"]))
        report._csv = data.counts
        return report
    if join == "socket":
        if window is not None or events_in_window:
            raise ValueError("join='socket' takes no window (the old join had none)")
        return Report(_core.socket_join(syn_path, lost_path, opt.servers, opt.ports))
    raise ValueError(f"join must be 'instance' or 'socket', got {join!r}")


# ---- user tables to native vectors ----

_TIME_ALIASES = {"time": "time_ns"}


def _column_array(name: str, values: Any) -> tuple[str, np.ndarray]:
    """One user column as a numpy array the native reader takes; datetimes become int64 ns."""
    import numpy as np

    dtype = getattr(values, "dtype", None)
    if dtype is not None and getattr(dtype, "tz", None) is not None:  # tz-aware pandas
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[ns]").view(np.int64)
        if not name.endswith("_ns"):
            name = _TIME_ALIASES.get(name, name + "_ns")
    elif arr.dtype.kind == "m":  # a duration (to_pandas() gives one): int64 ns, as columns()
        arr = arr.astype("timedelta64[ns]").view(np.int64)
        if not name.endswith("_ns"):
            name += "_ns"
    elif arr.dtype.kind == "f":
        missing = np.isnan(arr)
        if missing.any():
            if name != "session_id":
                raise ValueError(f"column {name!r} has {int(missing.sum())} missing values (NaN)")
            arr = np.where(missing, -1, arr)  # unattributed: join by key and time
        if not np.array_equal(arr, np.trunc(arr)):
            raise ValueError(f"column {name!r} must hold whole numbers")
        arr = arr.astype(np.int64)
    return name, arr


def _columns_of(table: Any, what: str) -> dict[str, np.ndarray]:
    import numpy as np

    if isinstance(table, Mapping):
        items = list(table.items())
    elif hasattr(table, "columns") and hasattr(table, "__getitem__") and hasattr(table, "iloc"):
        items = [(str(c), table[c]) for c in table.columns]  # a pandas DataFrame
    elif isinstance(table, np.ndarray) and table.dtype.names:
        items = [(n, table[n]) for n in table.dtype.names]
    else:
        kind = "Session" if what == "sessions" else "LossEvent"
        raise TypeError(
            f"{what}: expected a dict of columns, a pandas DataFrame, a numpy structured "
            f"array, a Table or a list of {kind} objects, got {type(table).__name__}"
        )
    out: dict[str, np.ndarray] = {}
    for name, values in items:
        key, arr = _column_array(str(name), values)
        if key in out:
            raise ValueError(f"{what}: column {key!r} given twice")
        out[key] = arr
    return out


def sessions_from(table: Any) -> _core.SessionList:
    """Sessions for the Matcher from a user table.

    Accepts a SessionList, a list of Session, a report's ``sessions`` Table, or columns: a dict
    of arrays/lists, a pandas DataFrame or a numpy structured array.

    Columns (required in bold): **client_ip**, **client_port**, **server_ip**,
    **server_port** (text addresses, IPv4 or IPv6; ports 0-65535), **syn_time_ns** (epoch ns
    of the first SYN, int64; a datetime64 column ``syn_time`` works too), and optionally
    session_id (default: the row number; events refer to it), category ('complete',
    'syn_only', 'one_sided', 'synack_only', 'partial'; default 'complete'), syn_frame
    (default row + 1), first_frame, first_time_ns, last_time_ns, packets, packets_c2s,
    bytes_c2s, bytes_s2c, truncated_bytes, syn_count, evicted. The verdict columns of a
    report's table (bad, bad_wireshark, events, missing_bytes, data_missing) and its source
    column are ignored.
    """
    if isinstance(table, _core.SessionList):
        return table
    if isinstance(table, Table):
        if table.name != "sessions":
            raise TypeError("sessions_from: got the events table, expected the sessions table")
        table = table.columns()
    elif isinstance(table, (list, tuple)) and all(isinstance(s, _core.Session) for s in table):
        return _core.SessionList(table)
    return _core.sessions_from_columns(_columns_of(table, "sessions"))


def events_from(table: Any) -> _core.LossEventList:
    """Loss events for the Matcher from a user table.

    Accepts a LossEventList, a list of LossEvent, a report's ``events`` Table, or columns (a
    dict, a DataFrame or a numpy structured array).

    Columns (required in bold): **kind** (acked_unseen, gap_unacked, control_missing,
    acked_before_data, reordered, ws_lost_segment, ws_ack_lost_segment), **time_ns** (epoch
    ns, or a datetime64 column ``time``), and session_id (-1 or NaN: join by key and time) or,
    without a session_id column, **src_ip**, **src_port**, **dst_ip**, **dst_port** (the
    packet that revealed the event); optionally direction ('c2s' or 's2c', default c2s),
    frame, late_filled, seq_begin, seq_end, missing_bytes.
    """
    if isinstance(table, _core.LossEventList):
        return table
    if isinstance(table, Table):
        if table.name != "events":
            raise TypeError("events_from: got the sessions table, expected the events table")
        return _core.LossEventList(table.native)  # type: ignore[arg-type]
    if isinstance(table, (list, tuple)) and all(isinstance(e, _core.LossEvent) for e in table):
        return _core.LossEventList(table)
    return _core.events_from_columns(_columns_of(table, "events"))


def _stats_for(
    sessions: _core.SessionList, events: _core.LossEventList, window: _core.TimeWindow
) -> _core.IngestStats:
    """Counters for user tables: the first time anchors relative window bounds."""
    stats = _core.IngestStats()
    relative = _core.WindowBound.Kind.relative
    if not any(b is not None and b.kind == relative for b in (window.begin, window.end)):
        return stats
    firsts = []
    if len(sessions):
        firsts.append(int(_core.session_list_columns(sessions)["first_time_ns"].min()))
    if len(events):
        firsts.append(int(_core.event_list_columns(events)["time_ns"].min()))
    if firsts:
        stats.have_time = True
        stats.first_time = _core.Timestamp(min(firsts))
    return stats


class Matcher:
    """The native matcher, for sessions and loss events from your own data.

    >>> m = capgap.Matcher(window=("10", "70"))
    >>> report = m.match(sessions_df, events_df)

    Events with a session_id are attributed by id; the others by endpoint pair and time (to
    the latest session of the pair whose SYN is at or before the event). See sessions_from()
    and events_from() for the columns. The keywords are analyze()'s; ``include="all"`` also
    gives rows for the partial and synack_only sessions and the unmatched events.
    """

    def __init__(
        self,
        *,
        server: str | Iterable[str] | None = None,
        port: int | Iterable[int] | None = None,
        window: Any = None,
        mode: str = "confirmed",
        events_in_window: bool = False,
        include: str = "counted",
    ) -> None:
        self._options = _options.match_options(
            server=server,
            port=port,
            window=window,
            mode=mode,
            events_in_window=events_in_window,
            include=include,
        )
        self._native = _core.Matcher(self._options)

    @property
    def options(self) -> _core.MatchOptions:
        return self._native.options

    def match(
        self, sessions: Any, events: Any = (), stats: _core.IngestStats | None = None
    ) -> Report:
        """Judges the sessions (the GIL is released while C++ matches).

        ``stats`` anchors relative window bounds at ``stats.first_time``; without it they are
        measured from the earliest session or event time.
        """
        s = sessions_from(sessions)
        e = events_from(events)
        if stats is None:
            stats = _stats_for(s, e, self._options.window)
        elif not isinstance(stats, _core.IngestStats):
            raise TypeError(f"stats must be an IngestStats, not {type(stats).__name__}")
        return Report(self._native.match(s, e, stats))


class Analyzer:
    """Streaming analysis of packets from your own source (scapy, dpkt, a live capture).

    Feed raw link-layer packets in capture order, then call finish() once:

    >>> a = capgap.Analyzer()
    >>> for pkt in scapy.utils.PcapReader("capture.pcap"):
    ...     a.feed_packet(bytes(pkt), capgap.LINKTYPE_ETHERNET, pkt.time)  # Decimal seconds
    >>> report = a.finish()

    Frames are numbered 1, 2, ... in feed order. Not for concurrent use from several threads.
    The keywords are analyze()'s (``include="all"`` included).
    """

    def __init__(
        self,
        *,
        server: str | Iterable[str] | None = None,
        port: int | Iterable[int] | None = None,
        window: Any = None,
        mode: str = "confirmed",
        events_in_window: bool = False,
        reorder_window_ms: Milliseconds = 3.0,
        drop_duplicates: bool = False,
        tunnel_key: bool = False,
        include: str = "counted",
    ) -> None:
        opt = _options.options(
            server=server,
            port=port,
            window=window,
            mode=mode,
            events_in_window=events_in_window,
            reorder_window_ms=reorder_window_ms,
            drop_duplicates=drop_duplicates,
            tunnel_key=tunnel_key,
            include=include,
        )
        self._native: _core.Analyzer | None = _core.Analyzer(opt)

    def _live(self) -> _core.Analyzer:
        if self._native is None:
            raise RuntimeError("this Analyzer has finished: create a new one")
        return self._native

    def feed_packet(
        self,
        data: Any,
        link_type: int,
        time: Any = None,
        wirelen: int | None = None,
        *,
        time_ns: int | None = None,
    ) -> None:
        """Feeds one packet: its bytes from the link layer on, its LINKTYPE_* value, its
        timestamp, and its length on the wire when the capture cut it (default: len(data)).

        ``time`` is epoch nanoseconds when it is an int (numpy integers too); epoch seconds
        when it is a float or Decimal, as dpkt and scapy give them (a float is read through
        its shortest repr, so 1.5 is exactly 1.5 s; a Decimal to the nanosecond); or a
        datetime (naive is UTC), pandas.Timestamp or numpy.datetime64. ``time_ns=`` is the
        earlier name of the argument and takes epoch nanoseconds.
        """
        if time_ns is not None:
            if time is not None:
                raise TypeError("feed_packet: give time or time_ns, not both")
            if not _options._is_int(time_ns):
                raise TypeError(f"time_ns must be an int, not {type(time_ns).__name__}")
            time = int(time_ns)
        elif time is None:
            raise TypeError("feed_packet: missing the packet time")
        ns = _options.packet_time_ns(time)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            try:
                data = memoryview(data)
            except TypeError:
                raise TypeError(
                    f"feed_packet: data must be bytes-like, not {type(data).__name__}"
                ) from None
        lt = _options.int_arg("link_type", link_type, 0, 2**31 - 1)
        wl = None if wirelen is None else _options.int_arg("wirelen", wirelen, 0, 2**32 - 1)
        self._live().feed_packet(data, lt, ns, wl)

    def feed_segment(self, segment: _core.Segment) -> None:
        """Feeds an already decoded TCP segment."""
        self._live().feed_segment(segment)

    @property
    def stats(self) -> _core.IngestStats:
        """A copy of the ingest counters so far."""
        return self._live().stats

    def resume(self, state: _core.FlowState | bytes) -> None:
        """Resumes a chain from the state the piece before ended with (``analyze_piece``,
        ``suspend``); call it before the first packet. Frames continue the chain's numbering.
        """
        self._live().resume(_state_arg(state))

    def suspend(self) -> tuple[Report, _core.FlowState]:
        """Ends a piece instead of finish(): the report of the sessions that ended so far
        and the state for the next piece. Call once."""
        native = self._live()
        self._native = None
        report, state = native.suspend()
        return Report(report), state

    def finish(self) -> Report:
        """Finishes tracking and returns the report (the GIL is released). Call once.

        Raises FormatError when packets were fed but none had a link type capgap decodes.
        """
        native = self._live()
        self._native = None
        return Report(native.finish())
