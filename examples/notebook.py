# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # capgap in a notebook
#
# How many TCP sessions did a capture damage? This notebook analyses the sample capture
# `examples/data/sample.pcap`, shows the report, the sessions as a pandas table, and plots new
# and bad sessions over time. Run it as a script (`python examples/notebook.py`) or open it in
# Jupyter with jupytext. Needs `pip install '.[pandas,plot]'`.

# %%
from pathlib import Path

import capgap

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # inside Jupyter
    HERE = Path.cwd() if (Path.cwd() / "data").is_dir() else Path.cwd() / "examples"
SAMPLE = HERE / "data" / "sample.pcap"
print("capgap", capgap.__version__)

# %% [markdown]
# ## The report
# `capgap.analyze` reads the capture in C++ (the GIL is released) and returns a Report. In
# Jupyter the report shows as a small table; `print` gives the command line's text.

# %%
report = capgap.analyze(SAMPLE)
print(report)

# %%
report  # noqa: B018  (Jupyter shows report._repr_html_())

# %% [markdown]
# The headline figures are attributes: total and bad sessions, the percentage with its 95%
# Wilson interval, and what Wireshark's flags would say (they also count reordering by the
# capture path, which is not loss).

# %%
print(
    f"{report.bad_sessions} of {report.total_sessions} sessions bad "
    f"({report.percentage:.2f}%, 95% CI {report.ci95[0]:.1f}% to {report.ci95[1]:.1f}%)"
)
print(
    f"Wireshark would say {report.bad_sessions_wireshark}; "
    f"partial {report.partial}, synack_only {report.synack_only}"
)

# %% [markdown]
# ## Sessions and events as tables
# `columns()` gives numpy arrays (one dtype per column); `to_pandas()` a DataFrame with UTC
# datetimes and categorical columns.

# %%
sessions = report.sessions.to_pandas()
sessions[
    [
        "session_id",
        "client_ip",
        "client_port",
        "server_port",
        "syn_time",
        "packets",
        "bad",
        "bad_wireshark",
        "missing_bytes",
    ]
].head(10)

# %%
events = report.events.to_pandas()
events.groupby(["kind", "direction"], observed=True)["missing_bytes"].agg(["count", "sum"])

# %%
# Sessions Wireshark calls bad that lost nothing: reordering by the tap, not capture loss.
sessions[sessions["bad_wireshark"] & ~sessions["bad"]][["session_id", "client_port"]]

# %% [markdown]
# ## The whole report as one page
# `to_html` writes the page `capgap analyze --html` writes: open it in any browser, offline.

# %%
import tempfile  # noqa: E402

page = Path(tempfile.gettempdir()) / "capgap_sample_report.html"
report.to_html(page)
print("HTML report written to", page)

# %% [markdown]
# ## New and bad sessions over time

# %%
import sys  # noqa: E402

import matplotlib  # noqa: E402

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")  # as a script: write a file instead of opening a window
for kind in ("timeline", "load", "breakdown"):  # UTC date ticks, a bad-percentage axis
    ax = report.plot(kind)
    if "ipykernel" not in sys.modules:
        out = Path(tempfile.gettempdir()) / f"capgap_sample_{kind}.png"
        ax.figure.savefig(out, dpi=100, bbox_inches="tight")
        print("plot written to", out)

# %% [markdown]
# ## Options
# The same keyword arguments as the command line: a window (seconds from the first packet,
# epoch seconds, ISO-8601 or datetimes), server and port filters, the verdict mode, a BPF
# filter.

# %%
first_half = capgap.analyze(
    SAMPLE, window=(None, 0.5), mode="wireshark", port=sessions["server_port"].iloc[0].item()
)
print(first_half.total_sessions, first_half.bad_sessions, first_half.mode)

# %% [markdown]
# ## Your own sessions and events: the native Matcher
# Tables you built yourself (from another tool, a database, ...) go through the same matcher.
# Here: the sample's own tables, which must give the same verdicts.

# %%
again = capgap.Matcher().match(sessions, events, report.ingest)
assert again.bad_sessions == report.bad_sessions
print("matcher on DataFrames:", again.bad_sessions, "bad of", again.total_sessions)

# %% [markdown]
# ## Streaming packets from your own source
# `Analyzer` takes raw packets (bytes, a link type, a timestamp in nanoseconds), e.g. from
# scapy's `PcapReader` or dpkt. Here a minimal pcap reader stands in for them.

# %%
import struct  # noqa: E402


def read_pcap(path):
    data = Path(path).read_bytes()
    (magic,) = struct.unpack_from("<I", data)
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    (magic,) = struct.unpack_from(endian + "I", data)
    scale = 1 if magic == 0xA1B23C4D else 1000  # nanosecond or microsecond stamps
    link_type = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack_from(endian + "IIII", data, pos)
        pos += 16
        yield data[pos : pos + caplen], link_type, sec * 10**9 + frac * scale, wirelen
        pos += caplen


analyzer = capgap.Analyzer()
for frame, link_type, t_ns, wirelen in read_pcap(SAMPLE):
    analyzer.feed_packet(frame, link_type, t_ns, wirelen)
streamed = analyzer.finish()
print("streamed:", streamed.bad_sessions, "bad of", streamed.total_sessions)
assert (streamed.total_sessions, streamed.bad_sessions) == (
    report.total_sessions,
    report.bad_sessions,
)
