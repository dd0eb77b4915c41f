#!/usr/bin/env python3
"""Record real TCP traffic on the loopback interface with tcpdump.

A small server listens on 127.0.0.1 and ::1 (ephemeral ports); clients run a scripted mix of
sessions against it: request/response closed with FIN, bulk downloads and uploads, sessions
reset by the client or by the server, and a connect refused by a closed port. Nothing is sent
to any address but 127.0.0.1 and ::1.

Loopback has a 64 KiB MTU and offloads segmentation, so both ends set TCP_MAXSEG and
TCP_NODELAY and the senders write in small chunks with a short pause: every write becomes one
segment on the wire, and a session has many segments.

Usage (as root, or with the capture capability for tcpdump):
    record_loopback.py OUT.pcap [--profile small|sample|v6] [--nano]

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


def _send_chunked(sock: socket.socket, n: int) -> None:
    payload = bytes((i * 7) & 0xFF for i in range(CHUNK))
    left = n
    while left > 0:
        k = min(CHUNK, left)
        sock.sendall(payload[:k])
        left -= k
        time.sleep(CHUNK_PAUSE)


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
        mode, down, up = _recv_line(conn).decode().split()
        _recv_exact(conn, int(up))
        _send_chunked(conn, int(down))
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
    try:
        c.connect((host, port))
    except ConnectionRefusedError:
        c.close()
        if job.mode != "refused":
            raise
        return
    c.sendall(f"{job.mode} {job.download} {job.upload}\n".encode())
    _send_chunked(c, job.upload)
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


def record(out: str, jobs: list[Job], nano: bool) -> None:
    srv4 = Server(socket.AF_INET, "127.0.0.1")
    srv6 = Server(socket.AF_INET6, "::1")
    closed4 = _closed_port(socket.AF_INET, "127.0.0.1")
    closed6 = _closed_port(socket.AF_INET6, "::1")
    ports = sorted({srv4.port, srv6.port, closed4, closed6})
    bpf = "tcp and (" + " or ".join(f"port {p}" for p in ports) + ")"
    cmd = ["tcpdump", "-n", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-Z", "root"]
    cmd += ["-w", out]
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
    # Most sessions run one after another; a few overlap, as on a real link.
    threads: list[threading.Thread] = []
    for i, job in enumerate(jobs):
        host = "127.0.0.1" if job.family == socket.AF_INET else "::1"
        if job.mode == "refused":
            port = closed4 if job.family == socket.AF_INET else closed6
        else:
            port = srv4.port if job.family == socket.AF_INET else srv6.port
        t = threading.Thread(target=_client, args=(job, host, port))
        t.start()
        threads.append(t)
        if i % 4 != 3:
            t.join()
        time.sleep(0.005)
    for t in threads:
        t.join()
    time.sleep(1.0)  # let tcpdump drain its buffer
    td.send_signal(signal.SIGINT)
    rest = td.stderr.read()
    td.wait(timeout=10)
    srv4.close()
    srv6.close()
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
    ap.add_argument("--profile", choices=sorted(PROFILES), default="small")
    ap.add_argument("--nano", action="store_true", help="nanosecond timestamps")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("note: tcpdump needs root or CAP_NET_RAW", file=sys.stderr)
    record(args.output, PROFILES[args.profile], args.nano)
    return 0


if __name__ == "__main__":
    sys.exit(main())
