"""Keyword arguments to native option structs, validated with clear messages."""

from __future__ import annotations

import datetime as _dt
import io
import numbers
import os
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from . import _core

MODES = ("confirmed", "wireshark")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_stream(obj: Any) -> bool:
    return hasattr(obj, "readinto") or hasattr(obj, "read")


def _stream_arg(obj: Any) -> Any:
    if isinstance(obj, io.TextIOBase):
        raise TypeError("a capture stream must be binary: open the file with 'rb'")
    return obj


def paths_arg(paths: Any) -> list[str | Any]:
    """One capture or an iterable of them, as a list of str paths and binary streams."""
    if isinstance(paths, (str, bytes, os.PathLike)) or _is_stream(paths):
        items = [paths]
    elif isinstance(paths, Iterable):
        items = list(paths)
    else:
        raise TypeError(
            f"paths must be a path, a binary stream or a list of them, not {type(paths).__name__}"
        )
    if not items:
        raise ValueError("paths is empty: give at least one capture file")
    out: list[str | Any] = []
    for p in items:
        if isinstance(p, (str, bytes, os.PathLike)):
            out.append(os.fsdecode(p))
        elif _is_stream(p):
            out.append(_stream_arg(p))
        else:
            raise TypeError(
                f"paths: expected a str, os.PathLike or binary stream, got {type(p).__name__}"
            )
    return out


def path_arg(name: str, path: Any) -> str:
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, not {type(path).__name__}")
    return os.fsdecode(path)


def mode_arg(mode: Any) -> _core.Mode:
    if isinstance(mode, _core.Mode):
        return mode
    if isinstance(mode, str) and mode in MODES:
        return getattr(_core.Mode, mode)
    allowed = ", ".join(repr(m) for m in MODES)
    raise ValueError(f"mode must be one of {allowed}, got {mode!r}")


def servers_arg(server: Any) -> list[_core.ServerFilter]:
    if server is None:
        return []
    items = [server] if isinstance(server, (str, _core.ServerFilter)) else server
    if not isinstance(items, Iterable):
        raise TypeError(
            f"server must be a 'CIDR[:PORT]' string or a list of them, not {type(server).__name__}"
        )
    out = []
    for s in items:
        if isinstance(s, _core.ServerFilter):
            out.append(s)
        elif isinstance(s, str):
            out.append(_core.ServerFilter.parse(s))  # ParseError names the bad text
        else:
            raise TypeError(f"server: expected a 'CIDR[:PORT]' string, got {type(s).__name__}")
    return out


def ports_arg(port: Any) -> list[int]:
    if port is None:
        return []
    items = [port] if _is_int(port) else port
    if not isinstance(items, Iterable) or isinstance(items, (str, bytes)):
        raise TypeError(f"port must be an int or a list of ints, not {type(port).__name__}")
    out = []
    for p in items:
        if not _is_int(p):
            raise TypeError(f"port: expected an int, got {type(p).__name__} {p!r}")
        if not 1 <= int(p) <= 65535:
            raise ValueError(f"port must be in 1..65535, got {int(p)}")
        out.append(int(p))
    return out


_NS_PER_S = 1_000_000_000
_EPOCH = _dt.datetime(1970, 1, 1)


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy"


def exact_number(value: Any, what: str) -> Decimal:
    """A number as pandas users hold it, as an exact Decimal.

    int, numpy integers and Decimal are exact. A float (Python's or numpy's) is read through
    its shortest repr, the text that reads back as the same float: 10.1 is 10.1, not
    10.0999999999999996447. Raises TypeError for anything else (bool included), ValueError
    for NaN and infinities.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise TypeError(f"{what}: expected a number, got bool {value!r}")
    if _is_int(value):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, numbers.Real):
        # numpy's str() is the shortest repr at the scalar's own precision (float32 too);
        # repr() of a numpy 2 scalar is "np.float64(...)", which Decimal does not read.
        text = str(value) if _is_numpy(value) else repr(float(value))
        try:
            out = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{what}: not a number: {value!r}") from None
    else:
        raise TypeError(f"{what}: expected a number, got {type(value).__name__} {value!r}")
    if not out.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return out


def timedelta_ns(value: Any, what: str) -> int | None:
    """A duration (datetime.timedelta, pandas.Timedelta, numpy.timedelta64) in exact
    nanoseconds, or None when `value` is not a duration."""
    if type(value).__name__ == "NaTType":
        raise ValueError(f"{what} is NaT: give None for no value")
    if isinstance(value, _dt.timedelta):
        if hasattr(value, "value") and hasattr(value, "nanoseconds"):  # pandas.Timedelta
            return int(value.value)
        return (value.days * 86_400 + value.seconds) * _NS_PER_S + value.microseconds * 1000
    if _is_numpy(value) and type(value).__name__ == "timedelta64":
        if value != value:  # noqa: PLR0124 - NaT
            raise ValueError(f"{what} is NaT: give None for no value")
        import numpy as np

        return int(value.astype("timedelta64[ns]").astype(np.int64))
    return None


def datetime_ns(value: Any, what: str) -> int | None:
    """A point in time (datetime.datetime, pandas.Timestamp, numpy.datetime64) in exact epoch
    nanoseconds, or None when `value` is not one. A naive datetime is UTC (as pandas and
    numpy treat naive times); an aware one is converted to UTC exactly."""
    if type(value).__name__ == "NaTType":
        raise ValueError(f"{what} is NaT: give None for no value")
    if isinstance(value, _dt.datetime):
        if hasattr(value, "value") and hasattr(value, "nanosecond"):  # pandas.Timestamp
            return int(value.value)  # UTC nanoseconds, naive or aware
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        else:
            value = value.replace(tzinfo=None)
        delta: _dt.timedelta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * _NS_PER_S + delta.microseconds * 1000
    if isinstance(value, _dt.date):
        raise TypeError(f"{what}: a date has no time of day; give a datetime")
    if _is_numpy(value) and type(value).__name__ == "datetime64":
        if value != value:  # noqa: PLR0124 - NaT
            raise ValueError(f"{what} is NaT: give None for no value")
        import numpy as np

        return int(value.astype("datetime64[ns]").astype(np.int64))
    return None


def _seconds_text(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), _NS_PER_S)
    return f"{sign}{whole}.{frac:09d}"


def _iso_text(ns: int) -> str:
    whole, frac = divmod(ns, _NS_PER_S)
    t = _EPOCH + _dt.timedelta(seconds=whole)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{frac:09d}Z"


def _bound_text(value: Any, side: str) -> str:
    """One window bound as the exact text the C++ parser reads.

    Numbers are seconds (from the first packet, or epoch seconds above 1e9), as in
    'START,END'; a duration (timedelta, pandas.Timedelta, numpy.timedelta64) is seconds from
    the first packet; a datetime, pandas.Timestamp or numpy.datetime64 is an absolute time.
    """
    what = f"window {side} bound"
    if value is None:
        return ""
    if isinstance(value, str):
        if "," in value:
            raise ValueError(f"{what} {value!r} must not contain a comma")
        return value.strip()
    ns = datetime_ns(value, what)
    if ns is not None:
        return _iso_text(ns)
    ns = timedelta_ns(value, what)
    if ns is not None:
        return _seconds_text(ns)
    try:
        return format(exact_number(value, what), "f")
    except TypeError:
        raise TypeError(
            f"{what}: expected seconds (str, int, float, Decimal, a numpy number), a duration "
            f"(timedelta, pandas.Timedelta, numpy.timedelta64), a time (datetime, "
            f"pandas.Timestamp, numpy.datetime64) or None, got {type(value).__name__}"
        ) from None


def window_arg(window: Any) -> _core.TimeWindow:
    if window is None:
        return _core.TimeWindow()
    if isinstance(window, _core.TimeWindow):
        return window
    if isinstance(window, str):
        return _core.TimeWindow.parse(window)
    if isinstance(window, (tuple, list)) and len(window) == 2:
        text = f"{_bound_text(window[0], 'start')},{_bound_text(window[1], 'end')}"
        return _core.TimeWindow.parse(text)
    raise TypeError(
        "window must be 'START,END' or a (start, end) pair (either side may be None), "
        f"not {type(window).__name__}"
    )


def reorder_ns_arg(reorder_window_ms: Any) -> int:
    """Milliseconds (any number, exact as number_text reads it) or a duration, as whole ns."""
    what = "reorder_window_ms"
    ns = timedelta_ns(reorder_window_ms, what)
    if ns is None:
        try:
            ms = exact_number(reorder_window_ms, what)
        except TypeError:
            raise TypeError(
                f"{what} must be a number of milliseconds or a duration (timedelta, "
                f"pandas.Timedelta, numpy.timedelta64), not {type(reorder_window_ms).__name__}"
            ) from None
        ns = int(ms * 1_000_000)
    if ns < 0:
        raise ValueError(f"{what} must be >= 0, got {reorder_window_ms!r}")
    return ns


def packet_time_ns(time: Any) -> int:
    """A packet timestamp for Analyzer.feed_packet, as epoch nanoseconds.

    int (and numpy integers): epoch nanoseconds. float, numpy floats and Decimal: epoch
    seconds, as dpkt and scapy give them (a float through its shortest repr; Decimal exactly).
    datetime (naive = UTC), pandas.Timestamp, numpy.datetime64: that time, exactly.
    """
    what = "time"
    if isinstance(time, _core.Timestamp):
        return int(time.ns)
    if isinstance(time, bool) or type(time).__name__ == "bool_":
        raise TypeError("time: expected epoch nanoseconds (int) or seconds (float), got bool")
    if _is_int(time):
        return int(time)
    ns = datetime_ns(time, what)
    if ns is not None:
        return ns
    try:
        seconds = exact_number(time, what)
    except TypeError:
        raise TypeError(
            "time: expected epoch nanoseconds (int), epoch seconds (float, Decimal) or a "
            f"datetime (datetime, pandas.Timestamp, numpy.datetime64), got {type(time).__name__}"
        ) from None
    ns_exact = seconds * _NS_PER_S
    if ns_exact != ns_exact.to_integral_value():
        raise ValueError(f"time {time!r} has more than nine decimals (nanoseconds)")
    return int(ns_exact)


def int_arg(name: str, value: Any, low: int, high: int) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {int(value)}")
    return int(value)


def bool_arg(name: str, value: Any) -> bool:
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy.bool_ too
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {type(value).__name__} {value!r}")


def threads_arg(threads: Any) -> int:
    """threads=None (the default: the machine's cores, 1 for small inputs) or 1 to 256."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
    if not 1 <= int(threads) <= 256:
        raise ValueError(f"threads must be from 1 to 256, got {threads!r}")
    return int(threads)


def include_arg(include: Any) -> bool:
    """include='counted' (the default) or 'all': True when the excluded rows are wanted."""
    if not isinstance(include, str):
        raise TypeError(f"include must be 'counted' or 'all', not {type(include).__name__}")
    if include not in ("counted", "all"):
        raise ValueError(f"include must be 'counted' or 'all', got {include!r}")
    return include == "all"


def match_options(
    *,
    server: Any = None,
    port: Any = None,
    window: Any = None,
    mode: Any = "confirmed",
    events_in_window: Any = False,
    include: Any = "counted",
) -> _core.MatchOptions:
    opt = _core.MatchOptions()
    opt.servers = servers_arg(server)
    opt.ports = ports_arg(port)
    opt.window = window_arg(window)
    opt.mode = mode_arg(mode)
    opt.events_in_window_only = bool_arg("events_in_window", events_in_window)
    opt.include_excluded = include_arg(include)
    return opt


def options(
    *,
    server: Any = None,
    port: Any = None,
    window: Any = None,
    mode: Any = "confirmed",
    bpf: Any = None,
    events_in_window: Any = False,
    reorder_window_ms: Any = 3.0,
    drop_duplicates: Any = False,
    tunnel_key: Any = False,
    include: Any = "counted",
    threads: Any = None,
) -> _core.Options:
    opt = _core.Options()
    opt.match = match_options(
        server=server,
        port=port,
        window=window,
        mode=mode,
        events_in_window=events_in_window,
        include=include,
    )
    if bpf is not None and not isinstance(bpf, str):
        raise TypeError(f"bpf must be a str (libpcap filter syntax), not {type(bpf).__name__}")
    opt.bpf = bpf or ""
    tracker = _core.TrackerOptions()
    tracker.reorder_window_ns = reorder_ns_arg(reorder_window_ms)
    tracker.drop_duplicates = bool_arg("drop_duplicates", drop_duplicates)
    opt.tracker = tracker
    opt.tunnel_key = bool_arg("tunnel_key", tunnel_key)
    opt.threads = threads_arg(threads)
    return opt
