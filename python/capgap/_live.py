"""capgap.live: continuous measurement from interfaces or a replayed file, one report per
interval (docs/live.md)."""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from . import _core, _options
from .report import Report

__all__ = ["IntervalReport", "LiveCapture", "live"]


def _seconds_ns(name: str, value: Any) -> int:
    """Seconds (a number) or a timedelta, as positive nanoseconds."""
    if isinstance(value, _dt.timedelta):
        ns = (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ns = int(round(value * 1e9))
    else:
        kind = type(value).__name__
        raise TypeError(f"{name} must be seconds (a number) or a timedelta, not {kind}")
    if ns <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return ns


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _utc(ns: int) -> _dt.datetime:
    """Nanoseconds since the epoch as a UTC datetime (to the microsecond, exact)."""
    return _EPOCH + _dt.timedelta(microseconds=ns // 1000)


class IntervalReport:
    """One interval's judgement: the sessions whose SYN fell in [begin, end).

    Attributes:
        begin, end: the interval (timezone-aware UTC datetimes); begin_ns, end_ns the same
            in nanoseconds since the epoch.
        report: a capgap.Report of the interval's sessions (both verdicts, tables, diagnosis).
        still_open: sessions judged at the cap while still active (reported as known then).
        packets, bytes: captured while the interval was current.
        host: the capture host's own drops over the same period (a CaptureDrops: received,
            kernel_dropped, interface_dropped, known).
        open_flows: sessions open at the report.
        final: True for the interval flushed by stop(), KeyboardInterrupt or the file's end.
    """

    def __init__(self, native: _core.IntervalReport) -> None:
        self._native = native
        self.begin_ns: int = native.begin.ns
        self.end_ns: int = native.end.ns
        self.report = Report(native.report)
        self.still_open: int = native.still_open
        self.packets: int = native.packets
        self.bytes: int = native.bytes
        self.host: _core.CaptureDrops = native.host
        self.open_flows: int = native.open_flows
        self.final: bool = native.final

    @property
    def begin(self) -> _dt.datetime:
        return _utc(self.begin_ns)

    @property
    def end(self) -> _dt.datetime:
        return _utc(self.end_ns)

    def to_text(self) -> str:
        """One line, as `capgap live` prints it."""
        return self._native.to_text()

    def to_json(self) -> str:
        """One JSON object, as `capgap live --format jsonl` prints it."""
        return self._native.to_json()

    def as_dict(self) -> dict[str, Any]:
        """The JSON object as a dict."""
        result: dict[str, Any] = json.loads(self.to_json())
        return result

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<capgap.IntervalReport {self.to_text()}>"


class LiveCapture:
    """An iterator of IntervalReport; see capgap.live()."""

    def __init__(self, native: _core.LiveCapture, cancel: Any = None) -> None:
        self._native = native
        self._cancel = cancel

    def __iter__(self) -> Iterator[IntervalReport]:
        return self

    def __next__(self) -> IntervalReport:
        while True:
            if self._cancel is not None and self._cancel.is_set():
                self._native.stop()
            r = self._native.poll()  # up to ~100 ms with the GIL released
            if r is not None:
                return IntervalReport(r)

    def stop(self) -> None:
        """Ends the capture, from any thread: the iteration then yields the pending
        intervals (the last one marked final) and ends."""
        self._native.stop()

    @property
    def stopped(self) -> bool:
        return self._native.stopped()

    @property
    def warnings(self) -> list[str]:
        """What libpcap warned of while opening the interfaces ("IFACE: what")."""
        return self._native.warnings()

    def totals(self) -> _core.LiveTotals:
        """Cumulative figures since the start (safe from another thread)."""
        return self._native.totals()

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def live(
    iface: str | Iterable[str] | None = None,
    *,
    file: str | None = None,
    speed: float | str = 1.0,
    interval: Any = 60,
    grace: Any = 30,
    cap: Any = 300,
    bpf: str | None = None,
    snaplen: int = 262144,
    buffer_size_mb: int = 64,
    server: str | Iterable[str] | None = None,
    port: int | Iterable[int] | None = None,
    mode: str = "confirmed",
    cancel: threading.Event | Any = None,
) -> LiveCapture:
    """Measures continuously: an iterator of IntervalReport, one per interval.

    >>> for r in capgap.live("eth0", interval=60):
    ...     print(r.begin, r.report.total_sessions, r.report.bad_sessions, r.host.kernel_dropped)

    Args:
        iface: an interface name, or several (needs CAP_NET_RAW: see the README).
        file: replay this capture instead, through the same path.
        speed: the replay's speed, N times real time; 0 or "max": as fast as it reads.
        interval: the interval length (seconds or a timedelta); intervals are aligned on its
            multiples, in capture time.
        grace: a session idle this long is judged as it stands.
        cap: an interval is reported at the latest this long after its end; the sessions
            still active then are judged as known and counted in still_open.
        bpf: a capture filter (libpcap syntax).
        snaplen, buffer_size_mb: bytes kept per packet; the kernel buffer per interface.
        server, port, mode: as for capgap.analyze.
        cancel: a threading.Event; once set the capture stops and the iteration yields the
            pending intervals, then ends.

    The GIL is released while capturing; every ~100 ms the iterator takes it back and runs
    the signal handlers: Ctrl-C raises KeyboardInterrupt and stops the capture (iterating on
    yields the final interval). ``stop()`` from another thread ends the iteration the same way.
    """
    if (iface is None) == (file is None):
        raise ValueError("give an interface (iface=) or a file to replay (file=), not both")
    interfaces = [] if iface is None else ([iface] if isinstance(iface, str) else list(iface))
    if speed == "max":
        speed = 0.0
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or speed < 0:
        raise ValueError(f"speed must be a factor >= 0 or 'max', got {speed!r}")
    opt = _options.options(server=server, port=port, mode=mode, bpf=bpf)
    native = _core.LiveCapture(
        opt,
        interfaces,
        file or "",
        float(speed),
        _seconds_ns("interval", interval),
        _seconds_ns("grace", grace),
        _seconds_ns("cap", cap),
        int(snaplen),
        int(buffer_size_mb),
    )
    return LiveCapture(native, cancel)
