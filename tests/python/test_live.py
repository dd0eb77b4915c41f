"""`capgap live` and capgap.live(): intervals over replayed captures, drops, signals, threads.

Expected figures come from the captures' construction (counting-rules.md rows of the scenario,
the drop counters written into the pcapng blocks) or, for real captures, from `capgap analyze`
of the same file: the intervals of a replay must add up to the whole-file analysis.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest
from _capture_builder import (
    ACK,
    EXPECTED,
    FIN,
    PSH,
    SERVER,
    T0_NS,
    Conn,
    pcap_bytes,
    scenario_packets,
    write_scenario,
)
from conftest import captures_with_syns, run_cli

import capgap

WAIT = 60  # seconds: an upper bound for conditions the tests wait for, never a measurement
FIELDS = {
    "begin",
    "end",
    "begin_ns",
    "end_ns",
    "mode",
    "sessions",
    "bad",
    "bad_confirmed",
    "bad_wireshark",
    "percentage",
    "ci95",
    "still_open",
    "before_window",
    "after_window",
    "packets",
    "bytes",
    "open_flows",
    "final",
    "upstream",
    "host_drops",
    "findings",
}


def live_lines(cli: Path, *args: str) -> list[dict]:
    r = run_cli(cli, "live", *args, "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def analyze_summary(cli: Path, capture: Path) -> dict:
    r = run_cli(cli, "analyze", str(capture), "--format", "json", "--quiet")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["summary"]


# ---- replay: the intervals add up --------------------------------------------------------


def test_scenario_intervals_follow_the_syns(cli: Path, tmp_path: Path) -> None:
    capture = write_scenario(tmp_path / "scenario.pcap")
    rows = live_lines(cli, "-r", str(capture), "--speed", "0", "--interval", "1s")
    # One connection a second from T0 (a multiple of the interval): A, B, C, D, E, F.
    assert [r["begin_ns"] for r in rows] == [T0_NS + i * 10**9 for i in range(6)]
    assert [r["end_ns"] - r["begin_ns"] for r in rows] == [10**9] * 6
    # D (no SYN) and E (SYN-ACK only) are not counted; B and F lost a segment.
    assert [r["sessions"] for r in rows] == [1, 1, 1, 0, 0, 1]
    assert [r["bad_confirmed"] for r in rows] == [0, 1, 0, 0, 0, 1]
    assert sum(r["sessions"] for r in rows) == EXPECTED["total_sessions"]
    assert sum(r["bad_wireshark"] for r in rows) == EXPECTED["bad_sessions_wireshark"]
    assert [r["final"] for r in rows] == [False] * 5 + [True]
    assert sum(r["packets"] for r in rows) == len(scenario_packets())
    for r in rows:
        assert FIELDS <= set(r), FIELDS - set(r)
        assert r["host_drops"] == {"known": False}  # a classic pcap carries no drop figures
    assert rows[1]["upstream"]["missing_bytes_c2s"] == 100
    assert rows[5]["upstream"]["missing_bytes_s2c"] == 100


def _real_captures() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    found = [root / "examples" / "data" / "sample.pcap"]
    found += sorted((root / "tests" / "data" / "real").glob("*.pcap"))
    shared = root.parent / "shared" / "captures"
    found += [shared / name for name in captures_with_syns()]
    return found


@pytest.mark.parametrize("capture", _real_captures(), ids=lambda p: p.name)
def test_replay_adds_up_to_analyze(cli: Path, capture: Path) -> None:
    if not capture.is_file():
        pytest.skip(f"{capture} not present (../shared/captures is in the dev/CI checkout)")
    whole = analyze_summary(cli, capture)
    rows = live_lines(cli, "-r", str(capture), "--speed", "max", "--interval", "10s")
    assert rows and rows[-1]["final"] and not any(r["final"] for r in rows[:-1])
    begins = [r["begin_ns"] for r in rows]
    assert begins == sorted(set(begins))
    late = sum(r["before_window"] for r in rows)
    # Every session in exactly one interval; one whose SYN is dated in an interval already
    # reported (a capture whose time steps back) is counted by name as before_window.
    assert sum(r["sessions"] for r in rows) + late == whole["total_sessions"]
    if late == 0:
        assert sum(r["bad_confirmed"] for r in rows) == whole["bad_confirmed"]
        assert sum(r["bad_wireshark"] for r in rows) == whole["bad_wireshark"]


def test_text_lines(cli: Path, tmp_path: Path) -> None:
    capture = write_scenario(tmp_path / "scenario.pcap")
    r = run_cli(cli, "live", "-r", str(capture), "--speed", "max", "--interval", "1s")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 6
    assert "sessions 1  bad 1 (100.00%" in lines[1]
    assert "host drops unknown" in lines[0]
    assert lines[-1].endswith("(final)")


def test_usage_errors(cli: Path, tmp_path: Path) -> None:
    capture = write_scenario(tmp_path / "scenario.pcap")
    for args in (
        [],
        ["-r", str(capture), "-i", "lo"],
        ["-r", str(capture), "--interval", "0s"],
        ["-r", str(capture), "--speed", "fast"],
        ["-r", str(capture), "--format", "xml"],
    ):
        r = run_cli(cli, "live", *args)
        assert r.returncode == 1, (args, r.stderr)
        assert "capgap live:" in r.stderr
    r = run_cli(cli, "live", "-r", str(tmp_path / "missing.pcap"), "--speed", "max")
    assert r.returncode == 2
    assert "missing.pcap" in r.stderr


# ---- interfaces: the clear messages -------------------------------------------------------


def test_missing_interface_is_named(cli: Path) -> None:
    r = run_cli(cli, "live", "-i", "capgap-nosuch0")
    assert r.returncode == 2
    assert "capgap-nosuch0" in r.stderr
    # Without the permission libpcap cannot tell whether the interface exists.
    assert "no such interface" in r.stderr or "no permission" in r.stderr


def test_permission_missing(cli: Path) -> None:
    command = [str(cli), "live", "-i", "lo"]
    if os.geteuid() == 0:
        # Root has the permission: drop it for the run (an unprivileged user, no capabilities).
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux): cannot drop the permission")
        command = [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            *command,
        ]
    r = subprocess.run(command, capture_output=True, text=True, timeout=WAIT, check=False)
    if "Permission denied" in r.stderr and "capgap live" not in r.stderr:
        pytest.skip(f"the unprivileged user cannot run {cli} here: {r.stderr.strip()}")
    assert r.returncode == 2, r.stderr
    assert "lo: cannot capture: no permission" in r.stderr
    assert "setcap cap_net_raw" in r.stderr


# ---- pcapng drop figures ------------------------------------------------------------------


def _block(kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _ts(t_ns: int) -> bytes:
    us = t_ns // 1000  # the default resolution: microseconds
    return struct.pack("<II", us >> 32, us & 0xFFFFFFFF)


def _pcapng(
    packets: list[tuple[int, bytes]], isbs: list[tuple[int, int, int, int]], epb_drops=None
):
    """SHB, IDB (Ethernet), the packets as EPBs (with epb_dropcount from `epb_drops`, by
    index) and ISBs (time, ifrecv, ifdrop, osdrop) placed in time order."""
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out.append(_block(1, struct.pack("<HHI", 1, 0, 262144)))
    events = [(t, 0, i) for i, (t, _) in enumerate(packets)] + [
        (isb[0], 1, i) for i, isb in enumerate(isbs)
    ]
    for t, kind, i in sorted(events):
        if kind == 0:
            frame = packets[i][1]
            body = struct.pack("<I", 0) + _ts(t) + struct.pack("<II", len(frame), len(frame))
            body += frame + b"\0" * (-len(frame) % 4)
            if epb_drops and i in epb_drops:
                body += _option(4, struct.pack("<Q", epb_drops[i])) + _option(0, b"")
            out.append(_block(6, body))
        else:
            _, recv, ifdrop, osdrop = isbs[i]
            opts = (
                _option(4, struct.pack("<Q", recv))
                + _option(5, struct.pack("<Q", ifdrop))
                + _option(7, struct.pack("<Q", osdrop))
                + _option(0, b"")
            )
            out.append(_block(5, struct.pack("<I", 0) + _ts(t) + opts))
    return b"".join(out)


def test_pcapng_statistics_are_host_drops(cli: Path, tmp_path: Path) -> None:
    capture = tmp_path / "drops.pcapng"
    # Cumulative statistics: 100 received, 3 dropped by the interface and 7 by the OS in the
    # first second; 250, 5 and 20 by the middle of the second.
    isbs = [(T0_NS + 900_000_000, 100, 3, 7), (T0_NS + 1_500_000_000, 250, 5, 20)]
    capture.write_bytes(_pcapng(scenario_packets(), isbs))
    rows = live_lines(cli, "-r", str(capture), "--speed", "max", "--interval", "1s")
    assert rows[0]["host_drops"] == {
        "known": True,
        "received": 100,
        "kernel_dropped": 7,
        "interface_dropped": 3,
    }
    assert rows[1]["host_drops"] == {
        "known": True,
        "received": 150,
        "kernel_dropped": 13,
        "interface_dropped": 2,
    }
    assert all(r["host_drops"]["known"] is False for r in rows[2:])
    # The loss the capture host did not cause is reported beside it, unchanged.
    assert [r["bad_confirmed"] for r in rows] == [0, 1, 0, 0, 0, 1]
    text = run_cli(cli, "live", "-r", str(capture), "--speed", "max", "--interval", "1s")
    first = text.stdout.splitlines()[0]
    assert "this host dropped 10 of 100 packets (kernel 7, interface 3)" in first
    # Dropped by the host and bad by TCP: the sentence says the host may be part of it.
    second = text.stdout.splitlines()[1]
    assert "this host's drops may account for part of it" in second


def test_pcapng_epb_drop_counts_are_host_drops(cli: Path, tmp_path: Path) -> None:
    capture = tmp_path / "epb.pcapng"
    packets = scenario_packets()
    first_of_second_2 = next(i for i, (t, _) in enumerate(packets) if t >= T0_NS + 2 * 10**9)
    capture.write_bytes(_pcapng(packets, [], epb_drops={1: 4, first_of_second_2: 6}))
    rows = live_lines(cli, "-r", str(capture), "--speed", "max", "--interval", "1s")
    assert [r["host_drops"].get("interface_dropped") for r in rows[:3]] == [4, None, 6]


# ---- signals and the output file -----------------------------------------------------------


def slow_capture(path: Path, seconds: int) -> Path:
    """One clean connection starting every 200 ms for `seconds` seconds."""
    packets = []
    for i in range(seconds * 5):
        c = Conn("10.0.1.2", 20000 + i, SERVER, 80, T0_NS + i * 200_000_000)
        c.handshake()
        c.c2s(PSH | ACK, 10)
        c.s2c(ACK)
        c.c2s(FIN | ACK)
        c.s2c(FIN | ACK)
        c.c2s(ACK)
        packets += c.packets
    packets.sort(key=lambda p: p[0])
    path.write_bytes(pcap_bytes(packets))
    return path


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def slow_replay(cli: Path, capture: Path) -> list[str]:
    """`capgap live` replaying `capture` in real time, 1 s intervals, jsonl."""
    options = "--speed 1 --interval 1s --grace 0.3s --format jsonl".split()
    return [str(cli), "live", "-r", str(capture), *options]


def test_sigterm_flushes_the_last_interval(cli: Path, tmp_path: Path) -> None:
    capture = slow_capture(tmp_path / "slow.pcap", seconds=30)
    p = subprocess.Popen(
        slow_replay(cli, capture),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(p.stdout.readline())
        assert first["final"] is False
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=WAIT)
    finally:
        p.kill()
    assert p.returncode == 0, err
    rows = [first] + [json.loads(line) for line in out.splitlines()]
    assert rows[-1]["final"] is True
    assert not any(r["final"] for r in rows[:-1])
    # Stopped early: fewer intervals than the 30 s of the capture, each reported once.
    assert len(rows) < 30
    begins = [r["begin_ns"] for r in rows]
    assert begins == sorted(set(begins))


def test_output_reopened_on_sighup(cli: Path, tmp_path: Path) -> None:
    capture = slow_capture(tmp_path / "slow.pcap", seconds=8)
    out = tmp_path / "live.jsonl"
    rotated = tmp_path / "live.jsonl.1"
    p = subprocess.Popen(
        slow_replay(cli, capture)
        + [
            "--output",
            str(out),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: out.is_file() and out.read_text().count("\n") >= 1, "a first line")
        out.rename(rotated)  # as logrotate does, then it sends SIGHUP
        p.send_signal(signal.SIGHUP)
        _, err = p.communicate(timeout=WAIT)
    finally:
        p.kill()
    assert p.returncode == 0, err
    before = [json.loads(x) for x in rotated.read_text().splitlines()]
    after = [json.loads(x) for x in out.read_text().splitlines()]
    assert before and after, "the lines after SIGHUP go to a new file of the same name"
    rows = before + after
    assert [r["begin_ns"] for r in rows] == [T0_NS + i * 10**9 for i in range(len(rows))]
    assert rows[-1]["final"] is True
    assert sum(r["sessions"] for r in rows) == 8 * 5


# ---- Python ---------------------------------------------------------------------------------


def test_python_live_replay(tmp_path: Path) -> None:
    capture = write_scenario(tmp_path / "scenario.pcap")
    reports = list(capgap.live(file=str(capture), speed="max", interval=1))
    assert [r.report.total_sessions for r in reports] == [1, 1, 1, 0, 0, 1]
    assert [r.report.bad_sessions for r in reports] == [0, 1, 0, 0, 0, 1]
    assert [r.final for r in reports] == [False] * 5 + [True]
    assert reports[0].begin_ns == T0_NS and reports[0].end_ns == T0_NS + 10**9
    assert reports[0].begin.timestamp() == T0_NS / 1e9
    half = list(capgap.live(file=str(capture), speed="max", interval=0.5))
    assert half[1].begin - half[0].begin == datetime.timedelta(milliseconds=500)
    assert reports[1].as_dict()["bad"] == 1
    assert not reports[0].host.known
    assert isinstance(reports[0].report, capgap.Report)
    assert capgap.live(file=str(capture)).warnings == []  # a replay opens no interface


def _slow_live(tmp_path: Path, **kw) -> capgap.LiveCapture:
    capture = slow_capture(tmp_path / "slow.pcap", seconds=30)
    return capgap.live(file=str(capture), speed=1, interval=1, grace=0.3, **kw)


def test_python_stop_from_another_thread(tmp_path: Path) -> None:
    it = _slow_live(tmp_path)
    first = next(it)
    threading.Thread(target=it.stop).start()
    rest = list(it)
    assert rest and rest[-1].final and not first.final
    assert len(rest) + 1 < 30
    totals = it.totals()
    assert totals.intervals == len(rest) + 1
    assert totals.sessions == first.report.total_sessions + sum(
        r.report.total_sessions for r in rest
    )


def test_python_cancel_event(tmp_path: Path) -> None:
    cancel = threading.Event()
    it = _slow_live(tmp_path, cancel=cancel)
    next(it)
    cancel.set()
    rest = list(it)
    assert rest[-1].final


def test_python_keyboard_interrupt(tmp_path: Path) -> None:
    it = _slow_live(tmp_path)
    next(it)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in it:
            pass
    timer.join()
    # The interrupt stopped the capture: iterating on gives the final interval, then ends.
    rest = list(it)
    assert rest and rest[-1].final


def test_python_gil_released_while_capturing(tmp_path: Path) -> None:
    it = _slow_live(tmp_path)
    ticks = [0]
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    beat = threading.Thread(target=heartbeat)
    beat.start()
    try:
        native = it._native
        counted = 0
        for _ in range(5):  # each poll waits for the replay clock, up to ~100 ms
            before = ticks[0]
            native.poll()
            counted += ticks[0] - before
    finally:
        stop.set()
        beat.join()
        it.stop()
    # With the GIL held for a poll the heartbeat could not tick during it.
    assert counted >= 10, counted


def test_python_argument_errors(tmp_path: Path) -> None:
    capture = write_scenario(tmp_path / "scenario.pcap")
    with pytest.raises(ValueError):
        capgap.live()
    with pytest.raises(ValueError):
        capgap.live("lo", file=str(capture))
    with pytest.raises(ValueError):
        capgap.live(file=str(capture), interval=0)
    with pytest.raises(ValueError):
        capgap.live(file=str(capture), speed=-1)
    with pytest.raises(capgap.CaptureError):
        capgap.live("capgap-nosuch0")


def test_closed_sessions_are_not_still_open_at_the_end(cli: Path, tmp_path: Path) -> None:
    """Every connection of the capture closes with a FIN from each side: when the file ends,
    none of them was cut by the stop, so no interval counts one as still open (docs/live.md,
    "Stopping"), although each is within the grace and its closed_timeout has not passed."""
    capture = slow_capture(tmp_path / "closed.pcap", seconds=2)
    out = subprocess.run(
        [str(cli), "live", "-r", str(capture), "--speed", "max", "--interval", "1s"]
        + ["--format", "jsonl"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert sum(r["sessions"] for r in rows) == 10
    assert sum(r["still_open"] for r in rows) == 0
