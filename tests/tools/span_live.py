#!/usr/bin/env python3
"""`capgap live` on the software SPAN port of span.py: the mirror port's interface captured
live instead of recorded.

The namespaces, the switch and its mirror are span.SpanPort's (read span.py's docstring, in
particular why frames are mirrored where they enter the switch namespace rather than on the
server veth's own egress hook). This module adds what a live run needs:

  - a client that makes many short sessions (each a GET of a small body) from a few workers,
    paced so the sessions spread over several intervals, or a few long fast downloads
    (`bulk`) to fill a small capture buffer;
  - `capgap live -i cap --format jsonl` in the capture namespace, started before the traffic
    and stopped with SIGTERM after it (its last interval then comes marked final);
  - a tcpdump of the real path, on the server's own interface s0 (offloads off, so the frames
    are the wire's), as ground truth: every frame the server sent or received, whatever the
    mirror did with its copy;
  - the mirror's counters (offered, mirrored, and lost for the network-loss variant).

The mapping to issue 19's wording: "an nftables netdev rule on the server's interface mirrors
both directions onto a third interface (dup to, ingress and egress hooks)" is realised as the
switch port facing the server (sw2, the server's interface as the switch sees it): its ingress
carries the server's frames, and the frames the server receives are mirrored at the ingress of
the other port (sw1) on their way to it, the switch's egress towards the server. Mirroring
there rather than on s0's own egress hook keeps the copies MTU-sized (span.py explains the GSO
super-packets an egress hook on the sending host would see).

Usage (root):
    span_live.py CAPGAP [--drop-percent K] [--network-drop-percent K] [--sessions N]
                 [-- LIVE_ARGS...]
prints the intervals capgap reported and the counters as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import span  # noqa: E402

ME = str(Path(__file__).resolve())
SPAN = str(Path(span.__file__).resolve())


# --------------------------------------------------------------------------------------------
# the client, run in the client namespace by `ip netns exec ... span_live.py _many ...`


def _many(sessions: int, workers: int, size: int, pace: float, rate: float) -> int:
    """`workers` threads, each making sessions one after another, a new one every `pace`
    seconds (or at once when the last took longer); one GET of `size` bytes each, sent by the
    server at `rate` bytes/s (0: as fast as it can)."""
    errors: list[str] = []
    per = [sessions // workers + (1 if i < sessions % workers else 0) for i in range(workers)]

    def work(n: int, offset: float) -> None:
        time.sleep(offset)
        nxt = time.monotonic()
        for _ in range(n):
            try:
                c = http.client.HTTPConnection(span.SERVER_IP, span.PORT, timeout=30)
                c.request("GET", f"/?bytes={size}&rate={rate}")
                got = len(c.getresponse().read())
                c.close()
                if got != size:
                    errors.append(f"short body: {got} of {size}")
            except OSError as e:
                errors.append(str(e))
            nxt += pace
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    threads = [
        threading.Thread(target=work, args=(n, i * pace / max(workers, 1)))
        for i, n in enumerate(per)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(json.dumps({"errors": errors[:10], "count": len(errors)}), flush=True)
        return 1
    return 0


# --------------------------------------------------------------------------------------------
# one run


@dataclass
class Traffic:
    """What the client does: `sessions` GETs of `size` bytes from `workers` workers, one every
    `pace` seconds per worker, the body sent at `rate` bytes/s (0: unpaced)."""

    sessions: int = 200
    workers: int = 4
    size: int = 20_000
    pace: float = 0.08
    rate: float = 0.0


@dataclass
class LiveRun:
    """The outcome of one run: capgap's intervals (parsed jsonl), its exit status and standard
    error, the mirror's counters, and the ground-truth recording of the real path."""

    intervals: list[dict] = field(default_factory=list)
    returncode: int | None = None
    stderr: str = ""
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    truth_pcap: Path | None = None
    tcpdump_stats: dict[str, int] = field(default_factory=dict)


def _wait_listening(proc: subprocess.Popen, what: str) -> None:
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "listening" not in line:
        raise span.SpanError(f"{what} did not start: {line.strip()}")


def run_live(
    capgap: str | Path,
    live_args: Sequence[str],
    traffic: Traffic,
    drop_percent: int | None = None,
    network_drop_percent: int | None = None,
    truth_pcap: str | Path | None = None,
    during: Callable[[subprocess.Popen], None] | None = None,
    settle: float = 0.5,
) -> LiveRun:
    """Build the SPAN port, start `capgap live -i cap LIVE_ARGS --format jsonl` on the mirror
    interface (and tcpdump on the server's interface when `truth_pcap` is given), run the
    traffic (calling `during(capgap_process)` from a thread once it starts), wait `settle`
    seconds, read the counters, SIGTERM capgap and collect its intervals."""
    if os.geteuid() != 0:
        raise span.SpanError("needs root (network namespaces, nftables)")
    if span.missing_tools():
        raise span.SpanError(f"missing tools: {', '.join(span.missing_tools())}")
    out = LiveRun(truth_pcap=Path(truth_pcap) if truth_pcap else None)
    procs: list[subprocess.Popen] = []
    with span.SpanPort(None, drop_percent, network_drop_percent) as sp:
        try:
            procs.append(span.start_server(sp, SPAN))
            td = None
            if truth_pcap:
                td = subprocess.Popen(
                    ["ip", "netns", "exec", sp.srv, "tcpdump", "-n", "-i", "s0", "-s", "128"]
                    + ["-B", "32768", "--immediate-mode", "-Z", "root", "-w", str(truth_pcap)]
                    + ["tcp"],
                    stderr=subprocess.PIPE,
                    text=True,
                )
                procs.append(td)
                _wait_listening(td, "tcpdump on the real path")
            cg = subprocess.Popen(
                ["ip", "netns", "exec", sp.cap, str(capgap), "live", "-i", "cap"]
                + list(live_args)
                + ["--format", "jsonl"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            procs.append(cg)
            time.sleep(0.5)  # pcap_activate done; capgap prints nothing until an interval
            if cg.poll() is not None:
                raise span.SpanError(f"capgap live ended at once: {cg.stderr.read().strip()}")
            helper = threading.Thread(target=during, args=(cg,)) if during else None
            if helper:
                helper.start()
            cl = subprocess.run(
                ["ip", "netns", "exec", sp.cli, sys.executable, ME, "_many"]
                + ["--sessions", str(traffic.sessions), "--workers", str(traffic.workers)]
                + ["--size", str(traffic.size), "--pace", str(traffic.pace)]
                + ["--rate", str(traffic.rate)],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if helper:
                helper.join()
            if cl.returncode != 0:
                raise span.SpanError(f"the client failed: {cl.stdout.strip()} {cl.stderr.strip()}")
            time.sleep(settle)
            out.counters = sp.counters()
            cg.send_signal(signal.SIGTERM)
            stdout, stderr = cg.communicate(timeout=60)
            out.returncode = cg.returncode
            out.stderr = stderr
            out.intervals = [json.loads(ln) for ln in stdout.splitlines() if ln.startswith("{")]
            if td is not None:
                td.send_signal(signal.SIGINT)
                assert td.stderr is not None
                rest = td.stderr.read()
                td.wait(timeout=10)
                out.tcpdump_stats = span.tcpdump_stats(rest)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            span.reap(procs)
    return out


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "_many":
        ap = argparse.ArgumentParser()
        ap.add_argument("--sessions", type=int, default=200)
        ap.add_argument("--workers", type=int, default=4)
        ap.add_argument("--size", type=int, default=20_000)
        ap.add_argument("--pace", type=float, default=0.08)
        ap.add_argument("--rate", type=float, default=0.0)
        a = ap.parse_args(argv[1:])
        return _many(a.sessions, a.workers, a.size, a.pace, a.rate)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("capgap")
    ap.add_argument("--drop-percent", type=int)
    ap.add_argument("--network-drop-percent", type=int)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("live_args", nargs="*")
    a = ap.parse_args(argv)
    try:
        run = run_live(
            a.capgap,
            a.live_args or ["--interval", "1s", "--grace", "1s"],
            Traffic(sessions=a.sessions),
            a.drop_percent,
            a.network_drop_percent,
        )
    except span.SpanError as e:
        print(f"span_live.py: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"counters": run.counters, "returncode": run.returncode}))
    for iv in run.intervals:
        print(json.dumps(iv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
