"""Keyword arguments to native option structs, validated with clear messages."""

from __future__ import annotations

import datetime as _dt
import io
import math
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


def _bound_text(value: Any, side: str) -> str:
    """One window bound as the exact text the C++ parser reads."""
    if value is None:
        return ""
    if isinstance(value, str):
        if "," in value:
            raise ValueError(f"window {side} bound {value!r} must not contain a comma")
        return value.strip()
    if isinstance(value, bool):
        raise TypeError(f"window {side} bound: expected seconds or a datetime, got bool")
    if _is_int(value):
        return str(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"window {side} bound must be finite, got {value}")
        return format(value, "f")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"window {side} bound must be finite, got {value}")
        return format(Decimal(repr(value)), "f")  # the shortest text that reads back the same
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        text = value.isoformat()  # naive: read as UTC
        nanos = getattr(value, "nanosecond", 0)  # pandas.Timestamp keeps nanoseconds
        if nanos:
            text = f"{value.strftime('%Y-%m-%dT%H:%M:%S')}.{value.microsecond * 1000 + nanos:09d}"
        return text + "Z"
    raise TypeError(
        f"window {side} bound: expected seconds (str, int, float, Decimal), a datetime or "
        f"None, got {type(value).__name__}"
    )


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
    if isinstance(reorder_window_ms, bool) or not isinstance(
        reorder_window_ms, (numbers.Real, Decimal)
    ):
        raise TypeError(
            f"reorder_window_ms must be a number, not {type(reorder_window_ms).__name__}"
        )
    try:
        ms = Decimal(
            repr(reorder_window_ms)
            if isinstance(reorder_window_ms, float)
            else str(reorder_window_ms)
        )
    except InvalidOperation:
        raise ValueError(f"reorder_window_ms is not a number: {reorder_window_ms!r}") from None
    if not ms.is_finite() or ms < 0:
        raise ValueError(f"reorder_window_ms must be a finite number >= 0, got {reorder_window_ms}")
    return int(ms * 1_000_000)


def bool_arg(name: str, value: Any) -> bool:
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy.bool_ too
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {type(value).__name__} {value!r}")


def match_options(
    *,
    server: Any = None,
    port: Any = None,
    window: Any = None,
    mode: Any = "confirmed",
    events_in_window: Any = False,
) -> _core.MatchOptions:
    opt = _core.MatchOptions()
    opt.servers = servers_arg(server)
    opt.ports = ports_arg(port)
    opt.window = window_arg(window)
    opt.mode = mode_arg(mode)
    opt.events_in_window_only = bool_arg("events_in_window", events_in_window)
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
) -> _core.Options:
    opt = _core.Options()
    opt.match = match_options(
        server=server, port=port, window=window, mode=mode, events_in_window=events_in_window
    )
    if bpf is not None and not isinstance(bpf, str):
        raise TypeError(f"bpf must be a str (libpcap filter syntax), not {type(bpf).__name__}")
    opt.bpf = bpf or ""
    tracker = _core.TrackerOptions()
    tracker.reorder_window_ns = reorder_ns_arg(reorder_window_ms)
    tracker.drop_duplicates = bool_arg("drop_duplicates", drop_duplicates)
    opt.tracker = tracker
    opt.tunnel_key = bool_arg("tunnel_key", tunnel_key)
    return opt
