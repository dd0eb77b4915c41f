"""The self-contained HTML report (capgap analyze --html, Report.to_html), Jupyter's view and
the matplotlib plots.

The pages are opened in a real headless Chromium (Debian package chromium): the page's own
error hook counts script errors and refused requests on <html data-capgap-errors>, which
--dump-dom shows, and Chromium's console log (--enable-logging=stderr) must hold no message at
all. Expected figures come from the sample's ground truth (examples/data/sample.truth.json)
and from the captures built here (tests/python/_capture_builder.py), never from capgap's
output. Screenshots go to CAPGAP_SCREENSHOT_DIR (default: the test's tmp_path).
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import capgap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _capture_builder import SERVER, bulk_capture, write_scenario  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "data" / "sample.pcap"
TRUTH = json.loads((REPO / "examples" / "data" / "sample.truth.json").read_text())["totals"]
BIG_SESSIONS = 120_000
BIG_BAD_EVERY = 7
BIG_BAD = -(-BIG_SESSIONS // BIG_BAD_EVERY)  # sessions 0, 7, 14, ...: ceil(n / k)
# Generous: the big page opens in well under ten seconds on two shared cores; this only stops
# a page that never finishes.
BROWSER_TIMEOUT = 180


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    reason = "chromium not installed (Debian package chromium): the HTML report is not opened"
    if os.environ.get("CAPGAP_REQUIRE_OPTIONAL") == "1":
        pytest.fail(reason + " (CAPGAP_REQUIRE_OPTIONAL=1: the test command installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    return find_chromium()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("CAPGAP_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


class Page:
    """What Chromium made of a page: its DOM after the scripts ran and its console log."""

    def __init__(self, dom: str, console: list[str], seconds: float) -> None:
        self.dom = dom
        self.console = console
        self.seconds = seconds

    def attr(self, name: str) -> str | None:
        m = re.search(r"<html[^>]*\s" + re.escape(name) + r'="([^"]*)"', self.dom)
        return html_lib.unescape(m.group(1)) if m else None

    def element(self, element_id: str) -> str:
        """The outer HTML of the element with this id, nested elements included."""
        m = re.search(r"<(\w+)[^>]*\bid=\"" + re.escape(element_id) + r"\"", self.dom)
        assert m, f"no element #{element_id} in the page"
        tag, depth = m.group(1).lower(), 0
        for t in re.finditer(r"<(/?)(\w+)[^>]*?(/?)>", self.dom[m.start() :]):
            if t.group(2).lower() != tag or t.group(3):
                continue
            depth += -1 if t.group(1) else 1
            if depth == 0:
                return self.dom[m.start() : m.start() + t.end()]
        raise AssertionError(f"#{element_id} is not closed")

    def body_rows(self, table_id: str) -> int:
        table = self.element(table_id)
        body = table[table.find("<tbody") :]
        return body.count("<tr")


def open_page(chromium: str, page: Path, shots: Path, name: str, fragment: str = "") -> Page:
    """Opens `page` in headless Chromium: --dump-dom for the DOM and the console log, then
    --screenshot into `shots`. The virtual-time budget lets timers and layout settle."""
    url = page.resolve().as_uri() + fragment
    common = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--virtual-time-budget=20000",
        f"--user-data-dir={shots / ('profile-' + name)}",
    ]
    start = time.monotonic()
    proc = subprocess.run(
        [*common, "--enable-logging=stderr", "--v=0", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        check=False,
    )
    seconds = time.monotonic() - start
    assert proc.returncode == 0, f"chromium exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    shot = shots / f"{name}.png"
    subprocess.run(
        [*common, "--window-size=1280,2400", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=BROWSER_TIMEOUT,
        check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot written: {shot}"
    print(f"{name}: opened and rendered in {seconds:.2f} s; screenshot {shot}")
    return Page(proc.stdout, console, seconds)


def assert_clean(page: Page) -> None:
    assert page.attr("data-capgap-rendered") == "1", "the renderer did not finish"
    assert page.attr("data-capgap-errors") is None, page.attr("data-capgap-error-text")
    assert page.console == [], "console messages:\n" + "\n".join(page.console)
    # Both charts drawn by Chart.js (it sizes the canvas it draws on).
    assert page.attr("data-capgap-charts") == "2"
    for chart in ("timeline-chart", "load-chart"):
        canvas = page.element(chart)
        assert re.search(r'\bwidth="[1-9]\d*"', canvas), canvas


def embedded_data(page_html: str) -> dict:
    m = re.search(
        r'<script type="application/json" id="capgap-data">(.*?)</script>', page_html, re.S
    )
    assert m, "no embedded data"
    return json.loads(m.group(1))


REMOTE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)""",
    re.I,
)


def assert_offline(page_html: str) -> None:
    """No element or style of the page refers to anything remote, and the page's policy
    refuses any request a script might make."""
    assert REMOTE.search(page_html) is None, REMOTE.search(page_html)
    assert "Content-Security-Policy" in page_html and "default-src 'none'" in page_html
    for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page_html, re.I):
        assert "http" not in tag.lower(), tag


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "big.pcap"
    bulk_capture(path, sessions=BIG_SESSIONS, bad_every=BIG_BAD_EVERY)
    return path


# ---------------------------------------------------------------- the page in a browser


def test_sample_page_in_chromium(cli: Path, chromium: str, shots: Path, tmp_path: Path) -> None:
    out = tmp_path / "sample.html"
    proc = subprocess.run(
        [str(cli), "analyze", str(SAMPLE), "--html", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert_offline(text)
    page = open_page(chromium, out, shots, "sample")
    assert_clean(page)
    headline = page.element("headline")
    assert f">{TRUTH['total_sessions']:,}<" in headline
    assert f">{TRUTH['bad_sessions']:,}<" in headline
    assert f">{TRUTH['bad_sessions_wireshark']:,}<" in headline  # "Wireshark would say"
    pct = 100 * TRUTH["bad_sessions"] / TRUTH["total_sessions"]
    assert f">{pct:.2f}%<" in headline
    # Every session on one page (at most 50 a page), and the server breakdown.
    assert page.body_rows("sessions-table") == min(50, TRUTH["total_sessions"])
    assert page.body_rows("breakdown-server") >= 1
    assert "sample.pcap" in page.element("meta")
    # The filter from the address shows the bad sessions only.
    bad = open_page(chromium, out, shots, "sample-bad", "#show=bad")
    assert_clean(bad)
    assert bad.body_rows("sessions-table") == TRUTH["bad_sessions"]
    assert "bad" in bad.element("sessions-table")


def test_big_page_in_chromium(
    cli: Path, chromium: str, shots: Path, tmp_path: Path, big_capture: Path
) -> None:
    out = tmp_path / "big.html"
    proc = subprocess.run(
        [str(cli), "analyze", str(big_capture), "--html", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    size = out.stat().st_size
    print(f"{BIG_SESSIONS:,} sessions: page of {size / 1e6:.1f} MB")
    # The documented bound: about 40 to 60 bytes a session, plus Chart.js.
    assert size < 400_000 + 80 * BIG_SESSIONS
    page = open_page(chromium, out, shots, "big")
    assert_clean(page)
    print(f"renderer: {page.attr('data-capgap-render-ms')} ms; browser run {page.seconds:.1f} s")
    headline = page.element("headline")
    assert f">{BIG_SESSIONS:,}<" in headline and f">{BIG_BAD:,}<" in headline
    # Only the visible page of the sessions is in the DOM.
    assert page.body_rows("sessions-table") == 50
    assert f"of {BIG_SESSIONS:,} rows" in page.element("sessions-table-count")
    bad = open_page(chromium, out, shots, "big-bad", "#show=bad")
    assert_clean(bad)
    assert f"{BIG_BAD:,} of {BIG_SESSIONS:,} rows" in bad.element("sessions-table-count")


def test_bounded_page_says_what_it_left_out(
    chromium: str, shots: Path, tmp_path: Path, big_capture: Path
) -> None:
    report = capgap.analyze(big_capture)
    out = tmp_path / "bounded.html"
    report.to_html(out, max_sessions=20_000, max_events=1_000)
    data = embedded_data(out.read_text())
    sessions = data["sessions"]
    assert sessions["total"] == BIG_SESSIONS and sessions["included"] == 20_000
    # Every bad session first: all of them fit in the bound.
    assert sum(sessions["columns"]["bad"]) == BIG_BAD
    assert data["events"]["included"] == 1_000
    page = open_page(chromium, out, shots, "bounded")
    assert_clean(page)
    note = page.element("sessions-table-note")
    assert f"carries 20,000 of the {BIG_SESSIONS:,} sessions" in note
    assert "1,000 of the" in page.element("events-table-note")
    assert f">{BIG_SESSIONS:,}<" in page.element("headline")  # the headline counts them all


def test_data_cannot_break_out_of_the_page(chromium: str, shots: Path, tmp_path: Path) -> None:
    title = "</script><div id=\"pwn\"></div><script>document.title='pwned'</script><!--"
    out = tmp_path / "hostile.html"
    capgap.analyze(SAMPLE).to_html(out, title=title, window="</script>")
    text = out.read_text()
    assert "</script><div" not in text
    assert embedded_data(text)["title"] == title
    page = open_page(chromium, out, shots, "hostile")
    assert_clean(page)
    assert '<div id="pwn"' not in page.dom  # the text stays text
    page_title = re.search(r"<title>(.*?)</title>", page.dom, re.S).group(1)
    assert html_lib.unescape(page_title) == title  # and no script of the data's ran
    assert html_lib.escape(title, quote=False) in page.element("title")
    assert html_lib.escape("</script>", quote=False) in page.element("meta")


# ---------------------------------------------------------------- Python: to_html


def test_to_html_is_the_cli_page(cli: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.html"
    subprocess.run(
        [str(cli), "analyze", str(SAMPLE), "--html", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    report = capgap.analyze(str(SAMPLE))
    assert report.to_html() == out.read_text()
    written = tmp_path / "py.html"
    assert report.to_html(written) is None
    assert written.read_text() == out.read_text()


def test_embedded_tables_decode_to_the_sessions(tmp_path: Path) -> None:
    path = tmp_path / "bulk.pcap"
    bulk_capture(path, sessions=1_000, bad_every=10)
    report = capgap.analyze(path)
    data = embedded_data(report.to_html())
    cols = data["sessions"]["columns"]
    ids = np.cumsum(cols["id"])
    times_us = data["sessions"]["t0_us"] + np.cumsum(cols["time_us"])
    # bulk_capture: session i opens at T0 + i ms from client port 1024 + i to SERVER:80; every
    # 10th one has 100 unseen bytes.
    np.testing.assert_array_equal(ids, np.arange(1_000))
    np.testing.assert_array_equal(np.diff(times_us), np.full(999, 1_000))
    np.testing.assert_array_equal(cols["client_port"], 1024 + np.arange(1_000))
    assert {data["addresses"][i] for i in cols["server_ip"]} == {SERVER}
    np.testing.assert_array_equal(cols["bad"], (np.arange(1_000) % 10 == 0).astype(int))
    assert sum(cols["missing_bytes"]) == 100 * 100
    assert data["report"]["summary"]["total_sessions"] == 1_000


def test_to_html_errors(tmp_path: Path) -> None:
    report = capgap.analyze(SAMPLE)
    with pytest.raises(capgap.CaptureError) as err:
        report.to_html(tmp_path / "missing" / "r.html")
    assert err.value.errno == 2 and err.value.filename == str(tmp_path / "missing" / "r.html")
    with pytest.raises(ValueError, match="max_sessions"):
        report.to_html(max_sessions=-1)


# ---------------------------------------------------------------- Jupyter's view


def test_repr_html(tmp_path: Path) -> None:
    page = capgap.analyze(SAMPLE)._repr_html_()
    assert "<script" not in page and len(page) < 10_000  # small: no chart library
    assert f"<td style='text-align:right'>{TRUTH['total_sessions']}</td>" in page
    assert f"{TRUTH['bad_sessions']} (confirmed)" in page
    assert f"<td style='text-align:right'>{TRUTH['bad_sessions_wireshark']}</td>" in page
    assert "No input problems." in page
    # A capture cut inside its last record: the problem is listed.
    cut = tmp_path / "cut.pcap"
    write_scenario(tmp_path / "whole.pcap")
    cut.write_bytes((tmp_path / "whole.pcap").read_bytes()[:-10])
    page = capgap.analyze(cut)._repr_html_()
    assert "Input problems" in page and "cut.pcap" in page


# ---------------------------------------------------------------- plots


@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def legend_outside(ax) -> bool:
    fig = ax.figure
    fig.canvas.draw()
    axes = [a for a in fig.axes if a.bbox.bounds == ax.bbox.bounds]
    legend = next(a.get_legend() for a in axes if a.get_legend() is not None)
    box = legend.get_window_extent()
    return box.x0 >= ax.bbox.x1 or box.y1 <= ax.bbox.y0 or box.y0 >= ax.bbox.y1


def test_plot_kinds(plt, tmp_path: Path) -> None:
    import matplotlib.dates as mdates

    path = tmp_path / "bulk.pcap"
    bulk_capture(path, sessions=5_000, bad_every=4)
    report = capgap.analyze(path)

    ax = report.plot("timeline")
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    twin = [a for a in ax.figure.axes if a is not ax]
    assert twin and twin[0].get_ylabel() == "bad sessions (%)"
    # bulk_capture: one session a millisecond from 2023-11-14 22:13:20 UTC, a quarter bad.
    lo, hi = (mdates.num2date(v) for v in ax.get_xlim())
    assert lo.strftime("%Y-%m-%d %H:%M") == "2023-11-14 22:13" and hi.tzname() == "UTC"
    (line,) = twin[0].get_lines()
    pct = np.asarray(line.get_ydata(), dtype=float)
    assert abs(np.nanmean(pct) - 25.0) < 1.0
    assert legend_outside(ax)
    ax.figure.savefig(tmp_path / "timeline.png")

    ax = report.plot("load")
    assert ax.get_ylabel() == "bytes missing (%)"
    assert ax.get_xlabel() == "traffic rate (Mbit/s)"
    assert legend_outside(ax)

    ax = report.plot("breakdown")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{SERVER}:80 (5,000)"]
    (bar,) = ax.patches
    assert bar.get_width() == pytest.approx(25.0)
    assert ax.get_xlabel() == "bad sessions (%)"
    assert legend_outside(ax)
    ax = report.plot("breakdown", table="server_port")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["80 (5,000)"]

    with pytest.raises(ValueError, match="kind"):
        report.plot("pie")


def test_plots_without_a_diagnosis(plt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report without a diagnosis (an older pickle, say) still draws from its sessions."""
    path = tmp_path / "bulk.pcap"
    bulk_capture(path, sessions=2_000, bad_every=4)
    report = capgap.analyze(path)
    monkeypatch.setattr(capgap.Report, "_diagnosis", lambda self: None)
    ax = report.plot("timeline")
    assert ax.get_ylabel().startswith("sessions per ")
    twin = [a for a in ax.figure.axes if a is not ax]
    (line,) = twin[0].get_lines()
    assert abs(np.nanmean(np.asarray(line.get_ydata(), dtype=float)) - 25.0) < 1.0
    assert legend_outside(ax)
    ax = report.plot("load")
    assert ax.get_ylabel() == "bad sessions (%)"
    ax = report.plot("breakdown")
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{SERVER}:80 (2,000)"]
    assert ax.patches[0].get_width() == pytest.approx(25.0)
    with pytest.raises(ValueError, match="no diagnosis"):
        report.plot("breakdown", table="vlan")


# ---------------------------------------------------------------- with a diagnosis

# A diagnosis as docs/diagnosis.md's contract shapes it: the page and the plots must draw it
# whichever analysis made it (the figures here are made up, only their shape matters).
T0 = "2023-11-14T22:13:%02d.000000000Z"
DIAGNOSIS = {
    "findings": [
        {
            "name": "load_correlated_loss",
            "severity": "critical",
            "title": "Loss rises with the traffic rate",
            "figures": {"knee_bits_per_s": 8e8, "loss_above_knee": 0.04},
            "rows": [{"table": "server", "group": "10.0.0.2:80"}],
            "check": "the mirror port's oversubscription",
        },
        {
            "name": "clean_capture",
            "severity": "info",
            "title": "Nothing else",
            "figures": {},
            "rows": [],
            "check": "",
        },
    ],
    "reconstructable": {"sessions": 90, "total": 100, "percentage": 90.0},
    "breakdowns": {
        name: [
            {
                "group": group,
                "sessions": 60,
                "bad": 12,
                "percentage": 20.0,
                "ci95_low": 11.8,
                "ci95_high": 31.7,
                "missing_bytes": 1200,
                "events": 12,
                "significant": group != "rest",
            }
            for group in (("10.0.0.2:80", "rest") if name == "server" else ("rest",))
        ]
        for name in ("server", "server_port", "client_prefix", "vlan")
    },
    "timeline": {
        "bucket_ns": 1_000_000_000,
        "rows": [
            {
                "start": T0 % s,
                "packets": 1000,
                "bytes": 10**6,
                "packets_per_s": 1000.0,
                "bits_per_s": 8e6 * (s + 1),
                "new_sessions": 10,
                "bad_sessions": s % 3,
                "loss_events": s % 3,
                "missing_bytes": 100 * (s % 3),
                "retransmissions": 0,
                "duplicates": 0,
                "acks": 500,
                "acks_above_hole": s % 3,
                "gap_ack_ratio": 0.0,
            }
            for s in range(10)
        ],
    },
    "load": {
        "knee_bits_per_s": 5e7,
        "knee_confidence": "high",
        "peak_bits_per_s_1ms": 9e8,
        "peak_bits_per_s_10ms": 7e8,
        "points": [{"bits_per_s": 8e6 * (s + 1), "loss_rate": 0.01 * (s % 3)} for s in range(10)],
    },
}


def with_diagnosis(page_html: str, diagnosis: dict) -> str:
    """The page with `diagnosis` put into its report's JSON, escaped as the writer escapes."""
    data = embedded_data(page_html)
    data["report"]["diagnosis"] = diagnosis
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    open_tag = '<script type="application/json" id="capgap-data">'
    start = page_html.index(open_tag) + len(open_tag)
    end = page_html.index("</script>", start)
    return page_html[:start] + text + page_html[end:]


def test_page_draws_a_diagnosis(chromium: str, shots: Path, tmp_path: Path) -> None:
    out = tmp_path / "diagnosis.html"
    out.write_text(with_diagnosis(capgap.analyze(SAMPLE).to_html(), DIAGNOSIS))
    page = open_page(chromium, out, shots, "diagnosis")
    assert_clean(page)
    findings = page.element("findings")
    assert findings.count('class="finding ') == 2
    assert 'class="finding critical" data-name="load_correlated_loss"' in findings
    assert "Loss rises with the traffic rate" in findings
    assert ">90<" in page.element("headline")  # reconstructable sessions
    for name in DIAGNOSIS["breakdowns"]:
        assert page.body_rows(f"breakdown-{name}") == len(DIAGNOSIS["breakdowns"][name])
    assert "per 1 s" in page.element("timeline-note")
    assert "50.0 Mbit/s" in page.element("load-note")  # the knee


def test_plots_draw_a_diagnosis(plt, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.dates as mdates

    report = capgap.analyze(SAMPLE)
    monkeypatch.setattr(capgap.Report, "_diagnosis", lambda self: DIAGNOSIS)
    ax = report.plot("timeline")
    (traffic,) = ax.get_lines()
    np.testing.assert_allclose(traffic.get_ydata(), [8.0 * (s + 1) for s in range(10)])
    first = mdates.num2date(traffic.get_xdata(orig=False)[0])
    assert first.strftime("%Y-%m-%d %H:%M:%S") == "2023-11-14 22:13:00"
    assert legend_outside(ax)
    ax = report.plot("load")
    knee = [line for line in ax.get_lines() if line.get_label().startswith("knee")]
    assert knee and knee[0].get_xdata()[0] == pytest.approx(50.0)
    ax = report.plot("breakdown", table="server")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["10.0.0.2:80 (60)", "rest (60)"]
    with pytest.raises(ValueError, match="no breakdown 'tunnel'"):
        report.plot("breakdown", table="tunnel")


def test_csv_page(cli: Path, chromium: str, shots: Path, tmp_path: Path) -> None:
    csv_dir = REPO / "tests" / "data" / "csv"
    out = tmp_path / "csv.html"
    args = [
        "csv",
        "--syn",
        str(csv_dir / "gui_new_syn.csv"),
        "--lost",
        str(csv_dir / "gui_new_lost.csv"),
    ]
    proc = subprocess.run(
        [str(cli), *args, "--format", "json", "--html", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # The page carries the document --format json prints.
    assert embedded_data(out.read_text())["report"] == json.loads(proc.stdout)
    page = open_page(chromium, out, shots, "csv")
    assert_clean(page)
    assert "flags only" in page.element("headline")  # no confirmed verdict from a CSV
