#!/usr/bin/env python3
"""A software SPAN port: record real TCP traffic as a switch's mirror port would deliver it.

Four network namespaces of this process's own (nothing leaves them):

    client ns c0 10.199.0.1 --veth-- sw1 [switch ns] sw2 --veth-- s0 10.199.0.2 server ns
                                          mir
                                           |veth
                                          cap [capture ns]: tcpdump -n -i cap

The switch namespace forwards frames between its two ports with nftables netdev rules
(`fwd to`), and mirrors every frame entering either port onto `mir` with `dup to` first: the
server's port sees both directions, the client's frames on their way in (ingress of sw1) and
the server's on theirs (ingress of sw2), exactly what a SPAN session of both directions of a
switch port delivers. A small HTTP server in the server namespace sends each GET's body paced
at the rate the client asks for; the client runs phases of parallel downloads (slow and fast),
so the offered rate steps up and down. Segmentation offloads are off on every veth end
(`ethtool -K tso off gso off gro off`, and `tx off` for real checksums), so every frame is
MTU-sized as on a wire.

Why not hook ingress and egress of the server's own veth, as the netdev family allows since
Linux 5.16 (this kernel has the egress hook)? Linux TCP always builds GSO super-packets and
segments them in software only after the egress hook, so a host's egress hook sees 8 KB
"frames" no switch would ever mirror. Mirroring where the frames enter the switch sees them as
the wire carries them, and needs no egress hook at all.

The mirror can be made to lose, on the mirrored copies only (the HTTP traffic itself is never
touched):
  --limit-bytes N  an oversubscribed mirror port: a named nftables limit object of N
                   bytes/second (small burst), shared by both ports' rules as the one mirror
                   port is shared by both directions, gates `dup`: a copy over the rate is not
                   mirrored. This is `limit rate over N bytes/second drop` applied to the
                   copies; the drop cannot sit on the capture interface's own ingress hook,
                   because tcpdump's tap on `cap` sees frames before that hook runs.
  --drop-percent K `numgen random mod 100 >= K` gates `dup` the same way: K% of the copies
                   are lost at random.
Named counters "offered" and "mirrored" count what the ports saw and what they copied.

The network can be made to lose instead (SpanPort(network_drop_percent=K), used by
tests/tools/span_live.py): `numgen random mod 100 < K drop` runs first in each port's chain,
before `dup` and `fwd`, so K% of the frames are lost on the real path, ahead of the mirror.
The mirror never sees such a frame; TCP retransmits it and the mirror sees the retransmission:
network loss, repaired, which a capture must not count as its own. The "lost" counter counts
those drops.

Needs root, iproute2, nftables, ethtool and tcpdump. The namespaces are deleted on exit,
always (normal exit, exception, SIGINT, SIGTERM).

Usage:
    span.py OUT.pcap [--limit-bytes N] [--drop-percent K] [--phases SPEC] [--truth FILE]

SPEC is a comma-separated list of DURATION_S:CONNECTIONS:BYTES_PER_S_PER_CONNECTION phases,
default "2:3:250000,2:4:1000000,2:3:250000,2:4:1000000,1.5:3:250000": slow phases of
750 KB/s and fast ones of 4 MB/s.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import http.server
import json
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

CLIENT_IP = "10.199.0.1"
SERVER_IP = "10.199.0.2"
PORT = 8080
DEFAULT_PHASES = "2:3:250000,2:4:1000000,2:3:250000,2:4:1000000,1.5:3:250000"
BURST_BYTES = 16_000  # the mirror port's buffer: a few frames, as on a switch port
WRITE = 8192  # server write size; with offloads off the kernel cuts MTU-sized segments


class SpanError(RuntimeError):
    pass


def missing_tools() -> list[str]:
    return [t for t in ("ip", "nft", "ethtool", "tcpdump") if shutil.which(t) is None]


def _run(*cmd: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    proc = subprocess.run(full, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SpanError(f"{' '.join(full)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


# --------------------------------------------------------------------------------------------
# the HTTP server and client, each run in its namespace by `ip netns exec ... span.py _serve`


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        q = dict(kv.split("=", 1) for kv in self.path.partition("?")[2].split("&") if "=" in kv)
        size = int(q.get("bytes", "0"))
        rate = float(q.get("rate", "0"))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = bytes(i & 0xFF for i in range(WRITE))
        start = time.monotonic()
        sent = 0
        while sent < size:
            k = min(WRITE, size - sent)
            self.wfile.write(chunk[:k])
            sent += k
            if rate > 0:
                ahead = start + sent / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    def log_message(self, *args: object) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve(host: str, port: int) -> None:
    srv = _Server((host, port), _Handler)
    print("ready", flush=True)
    srv.serve_forever()


def _download(host: str, port: int, size: int, rate: float, errors: list[str]) -> None:
    try:
        c = http.client.HTTPConnection(host, port, timeout=30)
        c.request("GET", f"/?bytes={size}&rate={rate}")
        r = c.getresponse()
        got = len(r.read())
        c.close()
        if got != size:
            errors.append(f"short body: {got} of {size}")
    except OSError as e:
        errors.append(str(e))


def parse_phases(spec: str) -> list[tuple[float, int, float]]:
    out = []
    for part in spec.split(","):
        d, n, r = part.split(":")
        out.append((float(d), int(n), float(r)))
    return out


def _client(host: str, port: int, spec: str) -> None:
    """Run the phases; print one JSON line per phase with its wall-clock start and end."""
    errors: list[str] = []
    for dur, conns, rate in parse_phases(spec):
        size = int(rate * dur)
        t0 = time.time()
        threads = [
            threading.Thread(target=_download, args=(host, port, size, rate, errors))
            for _ in range(conns)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t1 = time.time()
        print(
            json.dumps(
                {
                    "start": t0,
                    "end": t1,
                    "connections": conns,
                    "bytes_per_s_per_connection": rate,
                    "duration_s": dur,
                }
            ),
            flush=True,
        )
    if errors:
        print(json.dumps({"errors": errors}), flush=True)
        sys.exit(1)


# --------------------------------------------------------------------------------------------
# the namespaces


class SpanPort:
    """The three namespaces, the veth pairs and the nftables mirror; a context manager that
    always deletes what it made."""

    def __init__(
        self,
        limit_bytes: int | None,
        drop_percent: int | None,
        network_drop_percent: int | None = None,
    ) -> None:
        tag = f"cgspan{os.getpid()}"
        self.cli, self.sw, self.srv, self.cap = (f"{tag}{x}" for x in "cwsm")
        self.limit_bytes = limit_bytes
        self.drop_percent = drop_percent
        self.network_drop_percent = network_drop_percent
        self.made: list[str] = []

    def ruleset(self) -> str:
        gate = ""
        if self.drop_percent:
            gate += f"numgen random mod 100 >= {self.drop_percent} "
        if self.limit_bytes:
            gate += 'limit name "mirror_port" '
        text = "table netdev span {\n  counter offered { }\n  counter mirrored { }\n"
        lose = ""
        if self.network_drop_percent:
            text += "  counter lost { }\n"
            lose = (
                f"    numgen random mod 100 < {self.network_drop_percent} "
                'counter name "lost" drop\n'
            )
        if self.limit_bytes:
            text += (
                f"  limit mirror_port {{ rate {self.limit_bytes} bytes/second "
                f"burst {BURST_BYTES} bytes }}\n"
            )
        for port, other in (("sw1", "sw2"), ("sw2", "sw1")):
            text += (
                f"  chain from_{port} {{\n"
                f'    type filter hook ingress device "{port}" priority 0; policy accept;\n'
                f"{lose}"
                f'    counter name "offered" {gate}counter name "mirrored" dup to "mir"\n'
                f'    fwd to "{other}"\n  }}\n'
            )
        return text + "}\n"

    def __enter__(self) -> SpanPort:
        atexit.register(self.close)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build(self) -> None:
        for ns in (self.cli, self.sw, self.srv, self.cap):
            _run("ip", "netns", "add", ns)
            self.made.append(ns)
            _run("ip", "link", "set", "lo", "up", ns=ns)
            _run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns, check=False)
        links = (
            (self.cli, "c0", self.sw, "sw1"),
            (self.srv, "s0", self.sw, "sw2"),
            (self.sw, "mir", self.cap, "cap"),
        )
        for ns_a, a, ns_b, b in links:
            _run(
                "ip", "-n", ns_a, "link", "add", a, "type", "veth", "peer", "name", b, "netns", ns_b
            )
            for ns, dev in ((ns_a, a), (ns_b, b)):
                _run(
                    "ethtool",
                    "-K",
                    dev,
                    "tso",
                    "off",
                    "gso",
                    "off",
                    "gro",
                    "off",
                    "tx",
                    "off",
                    ns=ns,
                )
                _run("ip", "-n", ns, "link", "set", dev, "up")
        _run("ip", "-n", self.cli, "addr", "add", f"{CLIENT_IP}/24", "dev", "c0")
        _run("ip", "-n", self.srv, "addr", "add", f"{SERVER_IP}/24", "dev", "s0")
        proc = subprocess.run(
            ["ip", "netns", "exec", self.sw, "nft", "-f", "-"],
            input=self.ruleset(),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SpanError(f"nft -f refused the mirror ruleset: {proc.stderr.strip()}")

    def counters(self) -> dict[str, dict[str, int]]:
        proc = _run("nft", "-j", "list", "counters", ns=self.sw, check=False)
        out: dict[str, dict[str, int]] = {}
        if proc.returncode == 0:
            for item in json.loads(proc.stdout).get("nftables", []):
                c = item.get("counter")
                if c:
                    out[c["name"]] = {"packets": c["packets"], "bytes": c["bytes"]}
        return out

    def close(self) -> None:
        while self.made:
            ns = self.made.pop()
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def reap(procs: list[subprocess.Popen]) -> None:
    """Waits for each process (killed after 5 s) and closes its pipes."""
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for pipe in (p.stdout, p.stderr):
            if pipe is not None:
                pipe.close()


def tcpdump_stats(stderr: str) -> dict[str, int]:
    """tcpdump's closing counts ("12 packets captured", "0 packets dropped by kernel", ...) by
    what they count ("packets captured", "dropped by kernel")."""
    stats = {}
    for ln in stderr.splitlines():
        parts = ln.split()
        if len(parts) >= 3 and parts[0].isdigit():
            stats[" ".join(parts[2:])] = int(parts[0])
    return stats


def start_server(sp: SpanPort, me: str) -> subprocess.Popen:
    """Starts the HTTP server (`me _serve`) in the server namespace; returns once it listens."""
    srv = subprocess.Popen(
        ["ip", "netns", "exec", sp.srv, sys.executable, me, "_serve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert srv.stdout is not None
    if srv.stdout.readline().strip() != "ready":
        srv.kill()
        raise SpanError("the HTTP server did not start")
    return srv


def record_span(
    out: str | Path,
    limit_bytes: int | None = None,
    drop_percent: int | None = None,
    phases: str = DEFAULT_PHASES,
) -> dict:
    """Record the mirror port into `out` (classic pcap) and return the ground truth: the
    planted limit and drop share, the phases with their wall-clock times, tcpdump's and the
    mirror's counters."""
    if os.geteuid() != 0:
        raise SpanError("needs root (network namespaces, nftables, tcpdump)")
    if missing_tools():
        raise SpanError(f"missing tools: {', '.join(missing_tools())}")
    me = str(Path(__file__).resolve())
    procs: list[subprocess.Popen] = []

    def stop_all() -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()

    # SIGTERM unwinds like SIGINT's KeyboardInterrupt, so every `finally` below runs and the
    # namespaces go, whenever it arrives (while they are built too).
    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    in_main = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, on_term) if in_main else None
    try:
        return _record(out, limit_bytes, drop_percent, phases, me, procs, stop_all)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, old_term)


def _record(
    out: str | Path,
    limit_bytes: int | None,
    drop_percent: int | None,
    phases: str,
    me: str,
    procs: list[subprocess.Popen],
    stop_all: Callable[[], None],
) -> dict:
    with SpanPort(limit_bytes, drop_percent) as sp:
        try:
            procs.append(start_server(sp, me))
            td = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    sp.cap,
                    "tcpdump",
                    "-n",
                    "-i",
                    "cap",
                    "-s",
                    "0",
                    "-B",
                    "32768",
                    "--immediate-mode",
                    "-Z",
                    "root",
                    "-w",
                    str(out),
                    "tcp",
                ],
                stderr=subprocess.PIPE,
                text=True,
            )
            procs.append(td)
            assert td.stderr is not None
            line = td.stderr.readline()
            if "listening" not in line:
                raise SpanError(f"tcpdump did not start: {line.strip()}")
            time.sleep(0.3)
            cl = subprocess.run(
                ["ip", "netns", "exec", sp.cli, sys.executable, me, "_client", "--phases", phases],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            rows = [json.loads(ln) for ln in cl.stdout.splitlines() if ln.startswith("{")]
            if cl.returncode != 0:
                raise SpanError(f"the client failed: {cl.stdout.strip()} {cl.stderr.strip()}")
            time.sleep(0.5)
            counters = sp.counters()
            td.send_signal(signal.SIGINT)
            rest = td.stderr.read()
            td.wait(timeout=10)
        finally:
            stop_all()
            reap(procs)
    stats = tcpdump_stats(rest)
    if stats.get("dropped by kernel", 0):
        raise SpanError(f"tcpdump dropped packets ({stats}): record again")
    return {
        "capture": Path(out).name,
        "kernel": os.uname().release,
        "client": CLIENT_IP,
        "server": f"{SERVER_IP}:{PORT}",
        "limit_bytes_per_s": limit_bytes,
        "limit_bits_per_s": None if limit_bytes is None else limit_bytes * 8,
        "burst_bytes": BURST_BYTES if limit_bytes else None,
        "drop_percent": drop_percent,
        "phases": [r for r in rows if "start" in r],
        "mirror_counters": counters,
        "tcpdump": stats,
        "note": "the limit and drop share are what the mirror was configured with; loss in the "
        "capture is the copies the mirror did not make",
    }


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "_serve":
        _serve(SERVER_IP, PORT)
        return 0
    if argv and argv[0] == "_client":
        ap = argparse.ArgumentParser()
        ap.add_argument("--phases", default=DEFAULT_PHASES)
        a = ap.parse_args(argv[1:])
        _client(SERVER_IP, PORT, a.phases)
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("output")
    ap.add_argument("--limit-bytes", type=int, help="mirror port rate, bytes/second")
    ap.add_argument("--drop-percent", type=int, help="share of copies lost at random")
    ap.add_argument("--phases", default=DEFAULT_PHASES)
    ap.add_argument("--truth", help="ground-truth JSON (default: OUTPUT.truth.json)")
    a = ap.parse_args(argv)
    try:
        truth = record_span(a.output, a.limit_bytes, a.drop_percent, a.phases)
    except SpanError as e:
        print(f"span.py: {e}", file=sys.stderr)
        return 2
    Path(a.truth or a.output + ".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(json.dumps(truth["mirror_counters"]), truth["tcpdump"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
