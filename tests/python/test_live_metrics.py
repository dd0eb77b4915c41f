"""`capgap live --metrics-listen / --metrics-file`: the Prometheus text, scraped over HTTP with
urllib and parsed with the Prometheus client library's own text parser (prometheus_client).

The capture is the sample (examples/data/sample.pcap) replayed with `-r`, followed by one
ARP frame two minutes later: capgap counts a replayed packet when it falls due, so while it
waits for that frame every session of the sample has been judged and every packet counted,
and the process is still up to be scraped. What the metrics must say comes from the sample's
ground truth (examples/data/sample.truth.json: sessions, bad under both verdicts), from the
file's records (packets, wire bytes) and from `capgap analyze --format json` of the sample run
here (missing bytes by direction); the last interval's ratio from the interval lines capgap
printed.
"""

from __future__ import annotations

import json
import math
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO_ROOT, run_cli

sys.path.insert(0, str(REPO_ROOT / "tests" / "tools"))

import pcaptools  # noqa: E402

parser = pytest.importorskip(
    "prometheus_client.parser", reason="prometheus_client not installed (scripts/dev.sh test)"
)

SAMPLE = REPO_ROOT / "examples" / "data" / "sample.pcap"
TRUTH = json.loads((REPO_ROOT / "examples" / "data" / "sample.truth.json").read_text())
TRAILER_S = 120
SPEED = "20"  # the trailer falls due after 6 s of waiting
LOSS_KINDS = ("acked_unseen", "gap_unacked", "control_missing")
CONTENT_TYPE = "text/plain; version=0.0.4"


def arp_frame() -> bytes:
    """An Ethernet ARP request: a packet capgap counts but that belongs to no TCP session."""
    eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x06"
    arp = bytes.fromhex("0001080006040001") + b"\x02\x00\x00\x00\x00\x01" + bytes([127, 0, 0, 1])
    return eth + arp + b"\x00" * 6 + bytes([127, 0, 0, 2]) + b"\x00" * 18


@pytest.fixture(scope="module")
def replay_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pf = pcaptools.read_pcap(SAMPLE)
    assert pf.linktype == 1  # Ethernet, for the trailer's frame
    last = pf.records[-1]
    frame = arp_frame()
    pf.records.append(pcaptools.Record(last.ts_sec + TRAILER_S, last.ts_frac, len(frame), frame))
    out = tmp_path_factory.mktemp("metrics") / "sample_then_arp.pcap"
    pcaptools.write_pcap(out, pf)
    return out


@pytest.fixture(scope="module")
def expected(cli: Path) -> dict:
    """What the metrics must count once the sample has been replayed (not the trailer)."""
    pf = pcaptools.read_pcap(SAMPLE)
    proc = run_cli(cli, "analyze", "--format", "json", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    missing = {"c2s": 0, "s2c": 0}
    for t in json.loads(proc.stdout)["events"]:
        if t["kind"] in LOSS_KINDS:
            missing[t["direction"]] += t["missing_bytes"]
    return {
        "packets": len(pf.records),
        "bytes": sum(r.orig_len for r in pf.records),
        "sessions": TRUTH["totals"]["total_sessions"],
        "bad_confirmed": TRUTH["totals"]["bad_sessions"],
        "bad_wireshark": TRUTH["totals"]["bad_sessions_wireshark"],
        "missing": missing,
    }


def families(text: str) -> dict[str, object]:
    """Parse the exposition with prometheus_client; a family declared twice fails."""
    out: dict[str, object] = {}
    for fam in parser.text_string_to_metric_families(text):
        assert fam.name not in out, f"{fam.name} declared twice"
        out[fam.name] = fam
    return out


def value(fams: dict, family: str, sample: str, **labels: str) -> float:
    got = [s.value for s in fams[family].samples if s.name == sample and s.labels == labels]
    assert len(got) == 1, (family, sample, labels, fams[family].samples)
    return got[0]


def check_counts(fams: dict, exp: dict) -> None:
    assert value(fams, "capgap_packets", "capgap_packets_total") == exp["packets"]
    assert value(fams, "capgap_bytes", "capgap_bytes_total") == exp["bytes"]
    assert value(fams, "capgap_sessions", "capgap_sessions_total") == exp["sessions"]
    bad = "capgap_bad_sessions_total"
    assert value(fams, "capgap_bad_sessions", bad, verdict="confirmed") == exp["bad_confirmed"]
    assert value(fams, "capgap_bad_sessions", bad, verdict="wireshark") == exp["bad_wireshark"]
    for d in ("c2s", "s2c"):
        got = value(fams, "capgap_missing_bytes", "capgap_missing_bytes_total", direction=d)
        assert got == exp["missing"][d], d
    for name in ("packets", "bytes", "sessions", "bad_sessions", "missing_bytes", "intervals"):
        assert fams[f"capgap_{name}"].type == "counter", name
    assert fams["capgap_open_flows"].type == "gauge"
    assert fams["capgap_interval_bad_ratio"].type == "gauge"
    # A file carries no capture-host statistics: no drop figures rather than made-up zeros.
    assert "capgap_host_kernel_dropped_packets" not in fams
    # No label but verdict and direction, whatever the family.
    for fam in fams.values():
        for s in fam.samples:
            assert set(s.labels) <= {"verdict", "direction"}, s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Live:
    """`capgap live` in the background, its standard error read line by line."""

    def __init__(self, cli: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(cli), "live", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err: list[str] = []
        self.url: str | None = None
        self._got_url = threading.Event()
        self._reader = threading.Thread(target=self._read_err, daemon=True)
        self._reader.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for ln in self.proc.stderr:
            self.err.append(ln)
            if "metrics at http://" in ln:
                self.url = ln.split("metrics at ", 1)[1].strip()
                self._got_url.set()
        self._got_url.set()

    def wait_url(self) -> str:
        assert self._got_url.wait(15), "no 'metrics at' line on standard error"
        assert self.url, "".join(self.err)
        return self.url

    def stop(self) -> tuple[int, list[dict]]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        self._reader.join(5)
        return self.proc.returncode, [json.loads(ln) for ln in out.splitlines() if ln.strip()]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def scrape(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def test_scrape_counts_what_the_file_holds_and_sigterm_flushes(
    cli: Path, replay_file: Path, expected: dict, tmp_path: Path
) -> None:
    prom = tmp_path / "textfile" / "capgap.prom"
    prom.parent.mkdir()
    live = Live(
        cli, "-r", str(replay_file), "--speed", SPEED, "--interval", "1s", "--grace", "2s",
        "--cap", "5s", "--format", "jsonl", "--metrics-listen", f"127.0.0.1:{free_port()}",
        "--metrics-file", str(prom),
    )  # fmt: skip
    try:
        url = live.wait_url()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/metrics")

        # Scrape until every session of the sample was judged (the trailer holds the replay)
        # and the file was rewritten after the interval that judged the last of them.
        def sessions(fams: dict) -> float:
            return value(fams, "capgap_sessions", "capgap_sessions_total")

        deadline = time.monotonic() + 5
        while True:
            ctype, text = scrape(url)
            fams = families(text)
            in_file = families(prom.read_text())
            done = sessions(fams) == sessions(in_file) == expected["sessions"]
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert ctype.startswith(CONTENT_TYPE), ctype
        check_counts(fams, expected)
        check_counts(in_file, expected)
        assert live.proc.poll() is None, "capgap ended before the trailer fell due"
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(url.replace("/metrics", "/other"))
        assert e.value.code == 404
        e.value.close()
        rc, intervals = live.stop()
    finally:
        live.kill()
    assert rc == 0, "".join(live.err)
    # Each interval rewrote the file through a temporary; none is left behind.
    assert [p.name for p in prom.parent.iterdir()] == [prom.name]
    assert intervals and intervals[-1]["final"] is True
    assert sum(iv["sessions"] for iv in intervals) == expected["sessions"]
    # After SIGTERM the file holds the final interval: its ratios, and every interval counted.
    fams = families(prom.read_text())
    check_counts(fams, expected)
    assert value(fams, "capgap_intervals", "capgap_intervals_total") == len(intervals)
    last = intervals[-1]
    for verdict in ("confirmed", "wireshark"):
        want = last[f"bad_{verdict}"] / last["sessions"] if last["sessions"] else 0.0
        got = value(fams, "capgap_interval_bad_ratio", "capgap_interval_bad_ratio", verdict=verdict)
        assert 0.0 <= got <= 1.0
        assert math.isclose(got, want, rel_tol=1e-12), verdict
    assert value(fams, "capgap_interval_sessions", "capgap_interval_sessions") == last["sessions"]
    end = value(fams, "capgap_interval_end_seconds", "capgap_interval_end_seconds")
    assert math.isclose(end, last["end_ns"] / 1e9, rel_tol=1e-15)


def test_metrics_options_fail_before_the_capture(
    cli: Path, replay_file: Path, tmp_path: Path
) -> None:
    base = ["live", "-r", str(replay_file), "--speed", "max"]
    proc = run_cli(cli, *base, "--metrics-listen", "nonsense")
    assert proc.returncode == 1, proc.stderr
    assert "--metrics-listen" in proc.stderr and "ADDR:PORT" in proc.stderr
    missing_dir = tmp_path / "no-such-dir" / "capgap.prom"
    proc = run_cli(cli, *base, "--metrics-file", str(missing_dir))
    assert proc.returncode == 2
    assert str(missing_dir) in proc.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli(cli, *base, "--metrics-listen", f"127.0.0.1:{port}")
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}" in proc.stderr and "cannot bind" in proc.stderr


def test_metrics_file_alone_at_the_end_of_a_replay(
    cli: Path, expected: dict, tmp_path: Path
) -> None:
    """--metrics-file without HTTP: after a replay at full speed the file counts the sample."""
    prom = tmp_path / "capgap.prom"
    proc = run_cli(
        cli, "live", "-r", str(SAMPLE), "--speed", "max", "--interval", "1s",
        "--metrics-file", str(prom),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    check_counts(families(prom.read_text()), expected)
