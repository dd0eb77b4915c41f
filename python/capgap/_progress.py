"""Progress and cancellation for analyze() and Report.extract().

The native reading calls back every ~50 ms of work: it runs the signal handlers there (so
Ctrl-C and Jupyter's interrupt raise KeyboardInterrupt promptly) and, at most every 100 ms,
calls the callable built here with a ``capgap.Progress``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from . import _core

__all__ = ["Cancelled", "progress_callable"]


class Cancelled(Exception):
    """The analysis was cancelled through its ``cancel`` event."""


class _TextLine:
    """One line on standard error, redrawn in place (when tqdm is not installed)."""

    def __call__(self, p: _core.Progress) -> None:
        if p.done:
            sys.stderr.write("\r\x1b[K")
        else:
            mb = p.bytes_done / 1e6
            of = f" of {p.bytes_total / 1e6:.1f} MB" if p.bytes_total else " MB read"
            rate = p.packets / p.elapsed_seconds if p.elapsed_seconds > 0 else 0.0
            sys.stderr.write(
                f"\rcapgap: {mb:.1f}{of}, {rate:,.0f} packets/s, {p.sessions} sessions\x1b[K"
            )
        sys.stderr.flush()


class _Tqdm:
    """A tqdm bar in bytes (of the total when known), with packets and sessions beside it."""

    def __init__(self, desc: str) -> None:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]

        self._bar = tqdm(desc=desc, unit="B", unit_scale=True, unit_divisor=1000, leave=False)
        self._done = 0

    def __call__(self, p: _core.Progress) -> None:
        if p.bytes_total and self._bar.total != p.bytes_total:
            self._bar.total = p.bytes_total
        self._bar.set_postfix(packets=p.packets, sessions=p.sessions, refresh=False)
        self._bar.update(max(0, p.bytes_done - self._done))
        self._done = p.bytes_done
        if p.done:
            self._bar.close()


def _display(progress: Any, desc: str) -> Callable[[_core.Progress], Any] | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        try:
            return _Tqdm(desc)
        except ImportError:
            return _TextLine()
    if callable(progress):
        return progress  # type: ignore[no-any-return]
    raise TypeError(f"progress must be a callable, True or None, not {type(progress).__name__}")


def progress_callable(
    progress: Any, cancel: Any, desc: str = "capgap"
) -> Callable[[_core.Progress], None] | None:
    """The callable the native reading calls: the display, after the cancel check."""
    display = _display(progress, desc)
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise TypeError("cancel must have an is_set() method (a threading.Event)")
    if cancel is None:
        return display

    def poll(p: _core.Progress) -> None:
        if cancel.is_set():
            raise Cancelled("the analysis was cancelled")
        if display is not None:
            display(p)

    return poll
