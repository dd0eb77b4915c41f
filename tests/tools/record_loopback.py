#!/usr/bin/env python3
"""Record real TCP traffic on the loopback interface with tcpdump.

A small server listens on 127.0.0.1 and ::1 (ephemeral ports; more on 127.0.0.2 and up when a
profile asks); clients run a scripted mix of sessions against it: request/response closed with
FIN, bulk downloads and uploads, sessions reset by the client or by the server, and a connect
refused by a closed port. Nothing is sent
to any address but 127.0.0.0/8 and ::1 (all loopback).

Loopback has a 64 KiB MTU and offloads segmentation, so both ends set TCP_MAXSEG and
TCP_NODELAY and the senders write in small chunks with a short pause: every write becomes one
segment on the wire, and a session has many segments.

Usage (as root, or with the capture capability for tcpdump):
    record_loopback.py OUT.pcap [--profile small|sample|v6|load] [--nano]

The "load" profile varies the rate: slow and fast waves of parallel sessions over three
servers (127.0.0.1-3) and clients from two prefixes (127.1.1.0/24, 127.1.2.0/24), so that
damage planted only above a rate, for one server or one client half has something to act on.

The recording varies per run (ports, ISNs, timing), so the project commits the capture made
here together with its ground truth; see make_real_captures.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

MSS = 1400
CHUNK = 1200  # below the MSS minus TCP options, so a chunk is one segment
CHUNK_PAUSE = 0.0003


@dataclass
class Job:
    """One client session. mode: fin (both sides close), crst (client resets), srst (server
    resets), refused (connect to a closed port)."""

    family: int
    mode: str
    download: int = 0
    upload: int = 0
    server: int = 0  # IPv4 server index: listens on 127.0.0.(1 + server)
    client: str | None = None  # the client's source address (None: the kernel's choice)
    pause: float | None = None  # pause after each chunk (None: CHUNK_PAUSE)


PROFILES: dict[str, list[Job]] = {
    # tests/data/real: under 300 KB, IPv4 with one IPv6 session
    "small": [
        Job(socket.AF_INET, "fin", download=190_000),
        Job(socket.AF_INET, "fin", download=3_000, upload=300),
        Job(socket.AF_INET, "fin", download=4_000, upload=200),
        Job(socket.AF_INET, "fin", download=2_500, upload=4_000),
        Job(socket.AF_INET, "crst", download=3_000, upload=200),
        Job(socket.AF_INET, "srst", download=3_000, upload=200),
        Job(socket.AF_INET, "fin", download=2_000, upload=100),
        Job(socket.AF_INET, "refused"),
        Job(socket.AF_INET, "fin", download=3_000, upload=2_000),
        Job(socket.AF_INET, "crst", download=2_000, upload=100),
        Job(socket.AF_INET6, "fin", download=4_000, upload=200),
        Job(socket.AF_INET, "fin", download=1_500, upload=3_000),
    ],
    # tests/data/real: IPv6-heavy, recorded with nanosecond timestamps
    "v6": [
        Job(socket.AF_INET6, "fin", download=60_000, upload=200),
        Job(socket.AF_INET6, "fin", download=6_000, upload=5_000),
        Job(socket.AF_INET6, "crst", download=8_000, upload=200),
        Job(socket.AF_INET6, "srst", download=5_000, upload=200),
        Job(socket.AF_INET6, "refused"),
        Job(socket.AF_INET6, "fin", download=9_000, upload=400),
        Job(socket.AF_INET, "fin", download=7_000, upload=300),
        Job(socket.AF_INET6, "fin", download=4_000, upload=12_000),
        Job(socket.AF_INET6, "fin", download=10_000, upload=100),
        Job(socket.AF_INET, "crst", download=5_000, upload=100),
    ],
    # examples/data/sample.pcap: about 40 sessions, IPv4 and a few IPv6, under 1 MB
    "sample": (
        [Job(socket.AF_INET, "fin", download=120_000, upload=300) for _ in range(3)]
        + [Job(socket.AF_INET, "fin", download=8_000 + 1000 * i, upload=400) for i in range(14)]
        + [Job(socket.AF_INET, "fin", download=3_000, upload=20_000) for _ in range(3)]
        + [Job(socket.AF_INET, "crst", download=6_000, upload=200) for _ in range(5)]
        + [Job(socket.AF_INET, "srst", download=5_000, upload=200) for _ in range(3)]
        + [Job(socket.AF_INET, "refused") for _ in range(2)]
        + [Job(socket.AF_INET6, "fin", download=9_000, upload=300) for _ in range(5)]
        + [Job(socket.AF_INET6, "crst", download=4_000, upload=100)]
        + [Job(socket.AF_INET6, "refused")]
    ),
}


def _tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _send_chunked(sock: socket.socket, n: int, pause: float = CHUNK_PAUSE) -> None:
    payload = bytes((i * 7) & 0xFF for i in range(CHUNK))
    left = n
    while left > 0:
        k = min(CHUNK, left)
        sock.sendall(payload[:k])
        left -= k
        time.sleep(pause)


def _recv_exact(sock: socket.socket, n: int) -> None:
    while n > 0:
        b = sock.recv(min(65536, n))
        if not b:
            raise ConnectionError("peer closed early")
        n -= len(b)


def _recv_line(sock: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        b = sock.recv(1)
        if not b:
            raise ConnectionError("peer closed before the request line")
        buf += b
    return buf


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends a RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _serve_conn(conn: socket.socket) -> None:
    try:
        _tune(conn)
        mode, down, up, *rest = _recv_line(conn).decode().split()
        pause = float(rest[0]) if rest else CHUNK_PAUSE
        _recv_exact(conn, int(up))
        _send_chunked(conn, int(down), pause)
        if mode == "srst":
            time.sleep(0.01)  # let the client ACK everything first
            _reset(conn)
            return
        if mode == "crst":
            conn.recv(1)  # the client resets; recv returns or raises
            conn.close()
            return
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):
            pass
        conn.close()
    except OSError:
        conn.close()


class Server:
    def __init__(self, family: int, host: str) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _tune(self.sock)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.host = host
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=_serve_conn, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self.sock.close()


def _closed_port(family: int, host: str) -> int:
    """A port nothing listens on (bound then released, never listened)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _client(job: Job, host: str, port: int) -> None:
    c = socket.socket(job.family, socket.SOCK_STREAM)
    _tune(c)
    c.settimeout(10)
    if job.client:
        c.bind((job.client, 0))
    try:
        c.connect((host, port))
    except ConnectionRefusedError:
        c.close()
        if job.mode != "refused":
            raise
        return
    pause = CHUNK_PAUSE if job.pause is None else job.pause
    line = f"{job.mode} {job.download} {job.upload}"
    if job.pause is not None:
        line += f" {job.pause}"
    c.sendall((line + "\n").encode())
    _send_chunked(c, job.upload, pause)
    _recv_exact(c, job.download)
    if job.mode == "crst":
        time.sleep(0.01)
        _reset(c)
        return
    if job.mode == "srst":
        try:
            while c.recv(65536):
                pass
        except ConnectionResetError:
            pass
        c.close()
        return
    while c.recv(65536):  # the server's FIN
        pass
    c.close()


def _load_waves() -> list[list[Job]]:
    """The "load" profile: waves of sessions, each wave run in parallel and the waves one after
    another, alternating slow waves (nine paced sessions, about 10 Mbit/s) with fast ones
    (twelve sessions writing as fast as they can, over 100 Mbit/s). Every session uploads as
    much as it downloads, so neither direction carries more segments; sessions go round robin
    over three IPv4 servers (127.0.0.1-3) and two client prefixes (127.1.1.0/24 and
    127.1.2.0/24), so every wave covers every server and both prefixes alike, and each server
    has 24 sessions: enough for a breakdown row to be tested on its own."""
    waves: list[list[Job]] = []
    n = 0
    for fast in (False, True, False, True, False, True, False):
        wave = []
        for k in range(12 if fast else 9):
            size = 120_000 if fast else 48_000
            job = Job(
                socket.AF_INET,
                "fin",
                download=size,
                upload=size,
                server=k % 3,
                client=f"127.1.{1 + n % 2}.{10 + n}",
                pause=None if fast else 0.008,
            )
            wave.append(job)
            n += 1
        waves.append(wave)
    return waves


WAVES: dict[str, list[list[Job]]] = {"load": _load_waves()}


def server_address(job: Job) -> str:
    return "::1" if job.family == socket.AF_INET6 else f"127.0.0.{1 + job.server}"


def record(out: str, jobs: list[Job], nano: bool, waves: list[list[Job]] | None = None) -> None:
    """Record `jobs` (most one after another, every fourth overlapping the next) or, when given,
    `waves` (each wave's jobs in parallel, the waves one after another)."""
    all_jobs = jobs if waves is None else [j for w in waves for j in w]
    servers: dict[str, Server] = {"::1": Server(socket.AF_INET6, "::1")}
    for job in all_jobs:
        host = server_address(job)
        if host not in servers:
            servers[host] = Server(socket.AF_INET, host)
    closed4 = _closed_port(socket.AF_INET, "127.0.0.1")
    closed6 = _closed_port(socket.AF_INET6, "::1")
    ports = sorted({srv.port for srv in servers.values()} | {closed4, closed6})
    bpf = "tcp and (" + " or ".join(f"port {p}" for p in ports) + ")"
    cmd = ["tcpdump", "-n", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-Z", "root"]
    cmd += ["-B", "65536", "-w", out]
    if nano:
        cmd += ["--time-stamp-precision", "nano"]
    cmd.append(bpf)
    print("==> " + " ".join(cmd), file=sys.stderr)
    td = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    assert td.stderr is not None
    line = td.stderr.readline()  # "listening on lo, link-type EN10MB ..."
    if "listening" not in line:
        td.kill()
        raise SystemExit(f"tcpdump did not start: {line.strip()}")
    time.sleep(0.2)

    def start(job: Job) -> threading.Thread:
        host = server_address(job)
        if job.mode == "refused":
            port = closed4 if job.family == socket.AF_INET else closed6
            host = "127.0.0.1" if job.family == socket.AF_INET else "::1"
        else:
            port = servers[host].port
        t = threading.Thread(target=_client, args=(job, host, port))
        t.start()
        return t

    threads: list[threading.Thread] = []
    if waves is None:
        # Most sessions run one after another; a few overlap, as on a real link.
        for i, job in enumerate(jobs):
            t = start(job)
            threads.append(t)
            if i % 4 != 3:
                t.join()
            time.sleep(0.005)
    else:
        for wave in waves:
            for t in [start(job) for job in wave]:
                t.join()
            time.sleep(0.05)
    for t in threads:
        t.join()
    time.sleep(1.0)  # let tcpdump drain its buffer
    td.send_signal(signal.SIGINT)
    rest = td.stderr.read()
    td.stderr.close()
    td.wait(timeout=10)
    for srv in servers.values():
        srv.close()
    print(rest.strip(), file=sys.stderr)
    for ln in rest.splitlines():
        if "dropped by kernel" in ln and not ln.strip().startswith("0 "):
            raise RuntimeError("tcpdump dropped packets: record again")
    # On lo the filter sees each packet twice (sent and received); tcpdump writes it once.
    counts = {ln.split()[-1]: int(ln.split()[0]) for ln in rest.splitlines() if "packets" in ln}
    if counts.get("filter", 0) > 2 * counts.get("captured", 0):
        raise RuntimeError(f"tcpdump did not write every packet it received: {counts}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("output")
    ap.add_argument("--profile", choices=sorted(PROFILES) + sorted(WAVES), default="small")
    ap.add_argument("--nano", action="store_true", help="nanosecond timestamps")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("note: tcpdump needs root or CAP_NET_RAW", file=sys.stderr)
    if args.profile in WAVES:
        record(args.output, [], args.nano, WAVES[args.profile])
    else:
        record(args.output, PROFILES[args.profile], args.nano)
    return 0


if __name__ == "__main__":
    sys.exit(main())
