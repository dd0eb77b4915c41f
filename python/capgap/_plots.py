"""The drawings behind Report.plot (matplotlib, imported only when a plot is asked for).

Each draws onto a given Axes: times on a date axis in UTC (matplotlib.dates' concise
formatter), the bad percentage on an axis of its own, and the legend outside the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .report import _bucket_ns, _duration_text

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from .report import Report

BLUE, RED, ORANGE = "tab:blue", "tab:red", "tab:orange"


def _date_axis(ax: Axes, label: str) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz="UTC")
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC"))
    ax.set_xlabel(label)


def _legend_outside(ax: Axes, handles: list[Any]) -> None:
    """One legend for the handles of both y axes, to the right of the axes."""
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.1, 1.0),
        borderaxespad=0.0,
        frameon=False,
    )


def _title(report: Report, ax: Axes) -> None:
    s = report.summary
    ax.set_title(
        f"{s.total_sessions:,} sessions, {s.bad_sessions:,} bad"
        + ("" if s.total_sessions == 0 else f" ({s.percentage:.2f}%)")
    )


def _bucket_start(text: str) -> np.datetime64:
    """A bucket start as the diagnosis writes it ("2026-01-02T03:04:05.000000000Z")."""
    return np.datetime64(text.rstrip("Z"), "ns")


def _counted_columns(report: Report) -> dict[str, Any]:
    """The session columns of the sessions the headline counts (without the partial and
    synack_only rows of include="all")."""
    cols = report.native.session_columns()
    counted = ~np.isin(cols["category"], ["partial", "synack_only"])
    return {name: values[counted] for name, values in cols.items()}


def _session_buckets(report: Report, bins: int) -> dict[str, Any] | None:
    """New and bad sessions per bucket of SYN time: bucket edges (datetime64), counts."""
    cols = _counted_columns(report)
    times = cols["syn_time_ns"]
    if len(times) == 0:
        return None
    bad = cols["bad_wireshark" if report.mode == "wireshark" else "bad"]
    width = _bucket_ns(int(times.max()) - int(times.min()), bins)
    start = int(times.min()) // width * width
    index = (times - start) // width
    count = int(index.max()) + 1
    new = np.bincount(index, minlength=count)
    bad_count = np.bincount(index[bad], minlength=count)
    edges = (start + width * np.arange(count + 1, dtype=np.int64)).view("datetime64[ns]")
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(new > 0, 100.0 * bad_count / np.maximum(new, 1), np.nan)
    return {"width": width, "edges": edges, "new": new, "bad": bad_count, "pct": pct}


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def timeline(report: Report, ax: Axes, diagnosis: dict[str, Any] | None, bins: int) -> None:
    _title(report, ax)
    rows = ((diagnosis or {}).get("timeline") or {}).get("rows") or []
    if rows:
        starts = np.array([_bucket_start(r["start"]) for r in rows])
        rate = np.array([float(r.get("bits_per_s") or 0.0) for r in rows]) / 1e6
        new = np.array([float(r.get("new_sessions") or 0) for r in rows])
        bad = np.array([float(r.get("bad_sessions") or 0) for r in rows])
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(new > 0, 100.0 * bad / np.maximum(new, 1), np.nan)
        width_ns = int((diagnosis or {}).get("timeline", {}).get("bucket_ns") or 1_000_000_000)
        (traffic,) = ax.plot(starts, rate, color=BLUE, linewidth=1.5, label="traffic (Mbit/s)")
        ax.set_ylabel(f"Mbit/s (per {_duration_text(width_ns)})")
        ax.set_ylim(bottom=0)
        right = ax.twinx()
        (loss,) = right.plot(
            starts, pct, color=RED, marker=".", linewidth=1.2, label="bad sessions (% of new)"
        )
        right.set_ylabel("bad sessions (%)")
        right.set_ylim(0, max(5.0, float(np.nanmax(pct)) * 1.15 if np.isfinite(pct).any() else 5.0))
        _date_axis(ax, "time (UTC)")
        _legend_outside(right, [traffic, loss])
        return
    b = _session_buckets(report, bins)
    if b is None:
        _no_data(ax, "no sessions")
        return
    stairs = ax.stairs(b["new"], b["edges"], label="new sessions", color=BLUE, linewidth=1.5)
    ax.set_ylabel(f"sessions per {_duration_text(b['width'])}")
    ax.set_ylim(0, max(1, int(b["new"].max())) * 1.15)
    ax.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    right = ax.twinx()
    mids = b["edges"][:-1] + (b["edges"][1:] - b["edges"][:-1]) // 2
    (loss,) = right.plot(
        mids, b["pct"], color=RED, marker=".", linewidth=1.2, label="bad sessions (% of new)"
    )
    right.set_ylabel("bad sessions (%)")
    finite = b["pct"][np.isfinite(b["pct"])]
    right.set_ylim(0, max(5.0, float(finite.max()) * 1.15 if len(finite) else 5.0))
    _date_axis(ax, "SYN time (UTC)")
    _legend_outside(right, [stairs, loss])


def load(report: Report, ax: Axes, diagnosis: dict[str, Any] | None, bins: int) -> None:
    _title(report, ax)
    data = (diagnosis or {}).get("load")
    if data and data.get("points"):
        pts = data["points"]
        x = np.array([float(p["bits_per_s"]) for p in pts]) / 1e6
        # loss_rate: missing bytes / (bytes + missing bytes), drawn in percent.
        y = 100.0 * np.array([float(p["loss_rate"] or 0.0) for p in pts])
        handles: list[Any] = [
            ax.scatter(x, y, s=12, color=BLUE, alpha=0.7, label="timeline buckets")
        ]
        knee = data.get("knee_bits_per_s")
        if knee is not None:
            conf = data.get("knee_confidence")
            handles.append(
                ax.axvline(
                    float(knee) / 1e6,
                    color=RED,
                    linestyle="--",
                    label=f"knee {float(knee) / 1e6:.3g} Mbit/s" + (f" ({conf})" if conf else ""),
                )
            )
        ax.set_xlabel("traffic rate (Mbit/s)")
        ax.set_ylabel("bytes missing (%)")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        _legend_outside(ax, handles)
        return
    b = _session_buckets(report, bins)
    if b is None:
        _no_data(ax, "no sessions")
        return
    keep = b["new"] > 0
    per_s = b["new"][keep] * 1e9 / b["width"]
    handles = [
        ax.scatter(
            per_s,
            b["pct"][keep],
            s=12,
            color=BLUE,
            alpha=0.7,
            label=f"{_duration_text(b['width'])} buckets",
        )
    ]
    ax.set_xlabel("new sessions per second (no packet timeline in this report)")
    ax.set_ylabel("bad sessions (%)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    _legend_outside(ax, handles)


def _breakdown_from_sessions(report: Report, table: str, top: int) -> list[dict[str, Any]]:
    cols = _counted_columns(report)
    if table == "server":
        keys = np.array(
            [
                f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
                for ip, port in zip(cols["server_ip"], cols["server_port"])
            ],
            dtype=object,
        )
    elif table == "server_port":
        keys = cols["server_port"].astype(str).astype(object)
    else:
        raise ValueError(
            f"this report has no diagnosis: only the 'server' and 'server_port' breakdowns "
            f"can be computed from its sessions, not {table!r}"
        )
    bad = cols["bad_wireshark" if report.mode == "wireshark" else "bad"]
    groups, inverse = np.unique(keys, return_inverse=True)
    sessions = np.bincount(inverse, minlength=len(groups))
    bads = np.bincount(inverse, weights=bad, minlength=len(groups)).astype(np.int64)
    order = np.lexsort((-sessions, -bads))
    rows: list[dict[str, Any]] = []
    for i in order[:top]:
        rows.append({"group": str(groups[i]), "sessions": int(sessions[i]), "bad": int(bads[i])})
    if len(order) > top:
        rest = order[top:]
        rows.append(
            {"group": "rest", "sessions": int(sessions[rest].sum()), "bad": int(bads[rest].sum())}
        )
    for r in rows:
        lo, hi = _core.wilson_interval(r["bad"], r["sessions"])
        r["percentage"] = 100.0 * r["bad"] / r["sessions"] if r["sessions"] else 0.0
        r["ci95_low"], r["ci95_high"] = lo, hi
    return rows


def breakdown(
    report: Report, ax: Axes, diagnosis: dict[str, Any] | None, table: str, top: int
) -> None:
    tables = (diagnosis or {}).get("breakdowns")
    if tables is not None:
        if table not in tables:
            raise ValueError(f"no breakdown {table!r}; the report has {sorted(tables)}")
        rows = [r for r in tables[table] if r.get("group") != "rest"][:top] + [
            r for r in tables[table] if r.get("group") == "rest"
        ]
    else:
        rows = _breakdown_from_sessions(report, table, top)
    ax.set_title(f"bad sessions by {table.replace('_', ' ')}")
    if not rows:
        _no_data(ax, "no sessions")
        return
    labels = [f"{r['group']} ({int(r['sessions']):,})" for r in rows]
    pct = np.array([float(r.get("percentage") or 0.0) for r in rows])
    lo = np.array([float(r.get("ci95_low") or 0.0) for r in rows])
    hi = np.array([float(r.get("ci95_high") or 0.0) for r in rows])
    y = np.arange(len(rows))[::-1]
    colours = [RED if r.get("significant") else BLUE for r in rows]
    bars = ax.barh(y, pct, color=colours, alpha=0.8, label="bad sessions (%)")
    err = ax.errorbar(
        pct,
        y,
        xerr=np.vstack([np.maximum(pct - lo, 0), np.maximum(hi - pct, 0)]),
        fmt="none",
        ecolor="black",
        capsize=3,
        label="95% interval",
    )
    ax.set_yticks(y, labels)
    ax.set_xlabel("bad sessions (%)")
    ax.set_xlim(0, max(1.0, float(hi.max()) * 1.05))
    _legend_outside(ax, [bars, err])
