"""capgap over many captures with Dask: sensors in parallel, each sensor's files in order.

>>> import capgap.dask
>>> from distributed import Client, LocalCluster
>>> client = Client(LocalCluster(n_workers=4, threads_per_worker=1))
>>> result = capgap.dask.analyze(glob.glob("/captures/*/*.pcap"), client=client)
>>> result.report                      # one capgap.Report over every sensor
>>> result.sessions.groupby("sensor").bad.mean().compute()

Files are grouped by sensor (``sensor=``, a function of the path; default the directory a
file sits in). A sensor's files are the rotated pieces of one capture: they are put in time
order (by each file's first packet, ties by name) and analysed as one capture. When capgap
saves flow state between files (``capgap.analyze_piece``), each file is its own task,
resumed from the state the previous file's task saved, so a sensor's files run one after the
other while sensors run side by side; otherwise each sensor is one task over all its files.
Either way the result is that of one ``capgap.analyze`` per sensor, merged with
``capgap.concat``: sensors are independent captures (their session ids are renumbered in the
merged report).

dask and distributed are optional: ``pip install 'capgap[dask]'``. ``import capgap`` never
imports them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from typing import Any

try:
    import dask
    import dask.dataframe as dd
except ImportError as _err:  # pragma: no cover - depends on what is installed
    raise ImportError(
        f"capgap.dask needs dask[dataframe] and distributed ({_err}): pip install 'capgap[dask]'"
    ) from _err

from . import _api, _core
from ._grouping import first_packet_ns, group_captures
from .report import Report, Table, concat

__all__ = ["DaskResult", "analyze", "first_packet_ns", "group_captures"]

#: Columns every partition gains after those of docs/tables.md.
EXTRA_COLUMNS = ("sensor", "file")


def _chain_api() -> Any:
    """capgap.analyze_piece when this capgap saves flow state between pieces, else None."""
    import capgap

    piece = getattr(capgap, "analyze_piece", None)
    return piece if piece is not None and hasattr(capgap, "FlowState") else None


# ---- the tasks (module-level functions: workers unpickle them by name) ----


class _Failed:
    """A task's exception, kept as the task's result.

    A task that raised would fail the graph with whichever error reached the scheduler
    first, which depends on timing. Kept as a value, every error waits its turn, and
    analyze() raises the first in sensor and time order: the error one process reading the
    groups in order reports (as ``capgap analyze --jobs`` does).
    """

    def __init__(self, error: Exception) -> None:
        self.error = error


def _analyze_group(files: list[str], options: dict[str, Any]) -> Report | _Failed:
    """One sensor's files as one capture (merged by time)."""
    try:
        return _api.analyze(files, **options)
    except Exception as e:
        return _Failed(e)


def _analyze_piece(path: str, previous: Any, last: bool, options: dict[str, Any]) -> Any:
    """One file of a chain, resumed from the state the previous file's task saved: (report,
    state) for the next one, or the report alone for the chain's last file. A failure of
    the previous file is the chain's failure: it is passed on, this file is not read."""
    if isinstance(previous, _Failed):
        return previous
    state = None if previous is None else previous[1]
    resume = {} if state is None else {"resume": state}
    try:
        if last:
            return _api.analyze(path, **resume, **options)
        return tuple(_chain_api()(path, **resume, **options))
    except Exception as e:
        return _Failed(e)


def _failure(piece: Any) -> Exception | None:
    """A task's error (None when it succeeded): what the client fetches to check a piece."""
    return piece.error if isinstance(piece, _Failed) else None


def _report_of(piece: Any) -> Report:
    """The report of a task's result: a Report, or (report, state) of a chain's piece."""
    report = piece[0] if isinstance(piece, tuple) else piece
    return report if isinstance(report, Report) else Report(report)


def _merge(*reports: Any) -> Report:
    return concat([_report_of(r) for r in reports])


def _frame(piece: Any, which: str, sensor: str, file: str) -> Any:
    table = Table(_report_of(piece).native, which).to_pandas()
    table["sensor"] = sensor
    table["file"] = file
    return table


def _meta(which: str) -> Any:
    return _frame(Report(_core.merge_reports([])), which, "", "")


def _current_client() -> Any:
    """The distributed Client dask would use now (None: none, or a scheduler set in
    dask.config, such as "synchronous", which then wins)."""
    if dask.config.get("scheduler", None) is not None:
        return None
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:  # no Client made
        return None


def _tree(items: list[Any], fan_in: int = 8) -> Any:
    """Reports merged pairwise in order, ``fan_in`` at a time (merging is associative)."""
    level = items
    while len(level) > 1:
        level = [
            dask.delayed(_merge, pure=True)(*level[i : i + fan_in])
            for i in range(0, len(level), fan_in)
        ]
    return level[0]


class DaskResult:
    """What capgap.dask.analyze() returns.

    Attributes:
        report: the merged capgap.Report over every sensor (computed).
        sessions, events: dask DataFrames, one partition per task (per file when chained,
            per sensor otherwise), with the columns of ``report.sessions.to_pandas()`` /
            ``report.events.to_pandas()`` (docs/tables.md) plus ``sensor`` (the group's key
            as text) and ``file`` (the file whose task reported the row; ``source`` names the
            file the session began in). Session ids are those of each sensor's own analysis:
            (sensor, session_id) names a session, and events refer to it the same way.
        groups: {sensor key: [files in time order]}.
        chained: True when each file was its own task, resumed from saved flow state.
    """

    def __init__(
        self,
        report: Report,
        sessions: Any,
        events: Any,
        groups: dict[Any, list[str]],
        chained: bool,
    ) -> None:
        self.report = report
        self.sessions = sessions
        self.events = events
        self.groups = groups
        self.chained = chained

    def __repr__(self) -> str:
        files = sum(len(f) for f in self.groups.values())
        return (
            f"<capgap.dask.DaskResult: {len(self.groups)} sensors, {files} files, "
            f"{self.sessions.npartitions} partitions; {self.report!r}>"
        )


def analyze(
    paths: Iterable[str | os.PathLike[str]],
    *,
    sensor: Callable[[str], Hashable] | None = None,
    client: Any = None,
    chain: bool | None = None,
    **options: Any,
) -> DaskResult:
    """Analyses many capture files with Dask: sensors in parallel, each sensor's files in order.

    Args:
        paths: capture files (paths every worker can read: a shared file system on a real
            cluster).
        sensor: ``sensor(path) -> key`` groups the files (any hashable key; its ``str`` is
            the ``sensor`` column). Default: the file's parent directory (absolute).
        client: a ``distributed.Client`` to run on; None uses dask's current scheduler (a
            Client made earlier becomes the default, else local threads: capgap releases the
            GIL).
        chain: True: one task per file, each resumed from the previous file's saved flow
            state (needs ``capgap.analyze_piece``); False: one task per sensor over all its
            files. None (default): chain when capgap can.
        **options: capgap.analyze's keywords (window, mode, server, port, bpf, include, ...),
            the same for every file. ``threads`` defaults to 1 here: the workers' threads
            are the parallelism (a task on more threads shares its worker's cores with the
            other tasks); give ``threads=`` for workers with spare cores. A window given in
            seconds from the first packet counts from each sensor's first packet; give epoch
            or ISO-8601 times for one window over every sensor.

    Returns:
        DaskResult: the merged report (computed) and lazy ``sessions`` / ``events`` dask
        DataFrames over the tasks' results (kept in the cluster's memory, not recomputed).

    Raises whatever capgap.analyze raises for a file (from the task that read it): the
    first error in sensor and time order, whichever task failed first, as one process
    reading the groups in order would; and ValueError for a file given twice, TypeError for
    options analyze() does not take.
    """
    for name in ("progress", "cancel"):
        if name in options:
            raise TypeError(f"capgap.dask.analyze() takes no {name}= (tasks run on workers)")
    # One thread per task unless told otherwise: the cluster runs tasks side by side, as
    # `capgap analyze --jobs` runs its children (the results are the same for any count).
    options.setdefault("threads", 1)
    groups = group_captures(paths, sensor)
    if not groups:
        raise ValueError("capgap.dask.analyze() needs at least one capture file")
    can_chain = _chain_api() is not None
    if chain is None:
        chain = can_chain
    elif chain and not can_chain:
        raise ValueError("chain=True needs capgap.analyze_piece (flow state between files)")

    pieces: list[Any] = []  # delayed (report, state) or report, in sensor then time order
    labels: list[tuple[str, str]] = []  # (sensor, file) of each piece
    for key, files in groups.items():
        if chain:
            previous = None
            for i, path in enumerate(files):
                task = dask.delayed(_analyze_piece, pure=False)(
                    path, previous, i == len(files) - 1, options
                )
                pieces.append(task)
                labels.append((str(key), path))
                previous = task
        else:
            pieces.append(dask.delayed(_analyze_group, pure=False)(files, options))
            labels.append((str(key), ", ".join(files)))

    # Tasks are impure (new keys each call): the files are read again by every call, never
    # taken from an earlier call's results still held by the cluster.
    # Every task runs once: the pieces are kept (in the workers' memory with a Client, here
    # otherwise) and both the merged report and the tables are made from them.
    if client is None:
        client = _current_client()
    if client is not None:
        pieces = list(client.persist(pieces))
        # Each piece's error alone (not its report) comes back, in order: once one failed,
        # the pieces after it are not wanted, and are cancelled.
        failures = client.compute([dask.delayed(_failure, pure=True)(p) for p in pieces])
        for i, failure in enumerate(failures):
            error = failure.result()
            if error is not None:
                client.cancel(failures[i + 1 :] + pieces[i + 1 :])
                raise error
        report = _report_of(client.compute(_tree(pieces)).result())
    else:
        pieces = list(dask.compute(*pieces))
        for piece in pieces:
            if isinstance(piece, _Failed):
                raise piece.error
        report = _merge(*pieces)

    frames = {}
    for which in ("sessions", "events"):
        parts = [
            dask.delayed(_frame, pure=client is not None)(piece, which, s, f)
            for piece, (s, f) in zip(pieces, labels)
        ]
        frames[which] = dd.from_delayed(parts, meta=_meta(which), verify_meta=False)
    return DaskResult(report, frames["sessions"], frames["events"], groups, bool(chain))
