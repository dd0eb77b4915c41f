"""capgap: how many TCP sessions did a packet capture damage?

>>> import capgap
>>> report = capgap.analyze("capture.pcapng", window=("10", "70"))
>>> print(report)                       # Total Sessions / Bad Sessions / Percentage ...
>>> report.bad_sessions, report.percentage, report.ci95
>>> df = report.sessions.to_pandas()    # one row per session, with its verdicts

The work is done by a C++ library (the GIL is released while it reads and analyses);
counting-rules.md defines what is counted.
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as _err:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "capgap's native extension (capgap._core) could not be loaded: "
        f"{_err}. Install capgap with `pip install .` from the source tree (it needs a C++17 "
        "compiler, CMake >= 3.16, libpcap-dev and libboost-regex-dev/libboost-container-dev), "
        "and do not run Python from inside the source directory's python/ folder."
    ) from _err

from ._api import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    Analyzer,
    Matcher,
    analyze,
    analyze_piece,
    events_from,
    from_wireshark_csv,
    sessions_from,
)
from ._core import (
    CapgapError,
    CaptureError,
    CaptureIsADirectoryError,
    CaptureNotFoundError,
    CapturePermissionError,
    Direction,
    Endpoint,
    EventKind,
    ExtractResult,
    FlowKey,
    FlowState,
    FormatError,
    IngestStats,
    IpAddress,
    LossEvent,
    LossEventList,
    MatchOptions,
    Mode,
    Options,
    ParseError,
    Progress,
    ReportPart,
    Segment,
    ServerFilter,
    Session,
    SessionCategory,
    SessionList,
    Timestamp,
    TimeWindow,
    TrackerOptions,
    link_type_name,
    no_frame,
    no_session,
    tcp_flags,
    wilson_interval,
)
from ._live import IntervalReport, LiveCapture, live
from ._progress import Cancelled
from .report import (
    Report,
    Table,
    concat,
    read_csv_options,
    read_events_csv,
    read_sessions_csv,
)

__version__: str = _core.__version__

__all__ = [
    "LINKTYPE_ETHERNET",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_NULL",
    "LINKTYPE_RAW",
    "Analyzer",
    "Cancelled",
    "CapgapError",
    "CaptureError",
    "CaptureIsADirectoryError",
    "CaptureNotFoundError",
    "CapturePermissionError",
    "Direction",
    "Endpoint",
    "EventKind",
    "ExtractResult",
    "FlowKey",
    "FlowState",
    "FormatError",
    "IngestStats",
    "IntervalReport",
    "IpAddress",
    "LiveCapture",
    "LossEvent",
    "LossEventList",
    "MatchOptions",
    "Matcher",
    "Mode",
    "Options",
    "ParseError",
    "Progress",
    "Report",
    "ReportPart",
    "Segment",
    "ServerFilter",
    "Session",
    "SessionCategory",
    "SessionList",
    "Table",
    "TimeWindow",
    "Timestamp",
    "TrackerOptions",
    "__version__",
    "analyze",
    "analyze_piece",
    "concat",
    "events_from",
    "from_wireshark_csv",
    "link_type_name",
    "live",
    "no_frame",
    "no_session",
    "read_csv_options",
    "read_events_csv",
    "read_sessions_csv",
    "sessions_from",
    "tcp_flags",
    "wilson_interval",
]
