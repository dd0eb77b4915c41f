"""Builds small and large pcap captures in the tests, byte by byte (no capture tools needed).

The small scenario follows counting-rules.md rows; the expected verdicts in the tests come from
those rows, never from capgap's own output.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
LINKTYPE_ETHERNET = 1
T0_NS = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z

_MAC_C = bytes.fromhex("020000000002")
_MAC_S = bytes.fromhex("020000000001")


def _ip4(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def tcp_frame(
    src: str, sport: int, dst: str, dport: int, seq: int, ack: int, flags: int, payload: int = 0
) -> bytes:
    """An Ethernet + IPv4 + TCP frame with `payload` zero bytes (checksums left at zero)."""
    tcp = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0
    )
    total = 20 + len(tcp) + payload
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, total, 1, 0x4000, 64, 6, 0, _ip4(src), _ip4(dst))
    return _MAC_S + _MAC_C + b"\x08\x00" + ip + tcp + bytes(payload)


def pcap_bytes(packets: list[tuple[int, bytes]]) -> bytes:
    """A nanosecond pcap file (Ethernet) from (time_ns, frame) pairs."""
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET)]
    for t, frame in packets:
        out.append(struct.pack("<IIII", t // 10**9, t % 10**9, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


class Conn:
    """One TCP connection's packets, with sequence numbers kept for each side."""

    def __init__(
        self,
        client: str,
        cport: int,
        server: str,
        sport: int,
        t_ns: int,
        isn_c: int = 1000,
        isn_s: int = 5000,
    ) -> None:
        self.c = (client, cport)
        self.s = (server, sport)
        self.t = t_ns
        self.c_seq = isn_c
        self.s_seq = isn_s
        self.packets: list[tuple[int, bytes]] = []

    def _emit(self, frame: bytes, keep: bool) -> None:
        self.t += 100_000  # 100 us apart
        if keep:
            self.packets.append((self.t, frame))

    def c2s(self, flags: int, payload: int = 0, keep: bool = True) -> None:
        ack = self.s_seq if flags & ACK else 0
        self._emit(tcp_frame(*self.c, *self.s, self.c_seq, ack, flags, payload), keep)
        self.c_seq += payload + (1 if flags & (SYN | FIN) else 0)

    def s2c(self, flags: int, payload: int = 0, keep: bool = True) -> None:
        ack = self.c_seq if flags & ACK else 0
        self._emit(tcp_frame(*self.s, *self.c, self.s_seq, ack, flags, payload), keep)
        self.s_seq += payload + (1 if flags & (SYN | FIN) else 0)

    def handshake(self) -> None:
        self.c2s(SYN)
        self.s2c(SYN | ACK)
        self.c2s(ACK)

    def close(self) -> None:
        self.c2s(FIN | ACK)
        self.s2c(FIN | ACK)
        self.c2s(ACK)


SERVER = "10.0.0.1"


def scenario_packets() -> list[tuple[int, bytes]]:
    """Six connections, one second apart (counting-rules.md rows in brackets):

    0s  A 10.0.0.2:40000  clean handshake, data both ways, FIN          [1]  good
    1s  B 10.0.0.2:40001  client segment missed, server ACK seen        [2]  bad, c2s 100 B
    2s  C 10.0.0.2:40002  SYN only, never answered                      [22] counted, good
    3s  D 10.0.0.3:40003  mid-stream, no SYN                            [21] partial
    4s  E 10.0.0.4:40004  SYN missed, SYN-ACK seen                      [26] synack_only
    5s  F 10.0.0.2:40005  server segment missed, client ACK seen        [24] bad, s2c 100 B
    """
    conns = []
    a = Conn("10.0.0.2", 40000, SERVER, 80, T0_NS)
    a.handshake()
    a.c2s(PSH | ACK, 100)
    a.s2c(ACK)
    a.s2c(PSH | ACK, 200)
    a.c2s(ACK)
    a.close()
    conns.append(a)

    b = Conn("10.0.0.2", 40001, SERVER, 80, T0_NS + 1 * 10**9)
    b.handshake()
    b.c2s(PSH | ACK, 100)
    b.c2s(PSH | ACK, 100, keep=False)  # the capture misses it
    b.c2s(PSH | ACK, 100)
    b.s2c(ACK)  # acknowledges all 300 bytes
    b.close()
    conns.append(b)

    c = Conn("10.0.0.2", 40002, SERVER, 80, T0_NS + 2 * 10**9)
    c.c2s(SYN)
    conns.append(c)

    d = Conn("10.0.0.3", 40003, SERVER, 80, T0_NS + 3 * 10**9, isn_c=7000, isn_s=9000)
    d.c2s(PSH | ACK, 50)
    d.s2c(ACK)
    conns.append(d)

    e = Conn("10.0.0.4", 40004, SERVER, 80, T0_NS + 4 * 10**9)
    e.c2s(SYN, keep=False)
    e.s2c(SYN | ACK)
    e.c2s(ACK)
    conns.append(e)

    f = Conn("10.0.0.2", 40005, SERVER, 80, T0_NS + 5 * 10**9)
    f.handshake()
    f.c2s(PSH | ACK, 50)
    f.s2c(ACK)
    f.s2c(PSH | ACK, 100)
    f.s2c(PSH | ACK, 100, keep=False)  # the capture misses it
    f.c2s(ACK)  # acknowledges both server segments
    f.close()
    conns.append(f)

    packets = [p for conn in conns for p in conn.packets]
    packets.sort(key=lambda p: p[0])
    return packets


#: What counting-rules.md says about scenario_packets(), keyed by client port.
EXPECTED = {
    "total_sessions": 4,  # A, B, C, F
    "bad_sessions": 2,  # B, F
    "bad_sessions_wireshark": 2,
    "syn_only": 1,
    "partial": 1,
    "synack_only": 1,
    "bad_ports": {40001, 40005},
    "counted_ports": {40000, 40001, 40002, 40005},
}


def write_scenario(path: Path) -> Path:
    path.write_bytes(pcap_bytes(scenario_packets()))
    return path


_REC = np.dtype(
    [
        ("ts_sec", "<u4"),
        ("ts_ns", "<u4"),
        ("incl", "<u4"),
        ("orig", "<u4"),
        ("dst_mac", "V6"),
        ("src_mac", "V6"),
        ("ethertype", ">u2"),
        ("ver_ihl", "u1"),
        ("tos", "u1"),
        ("tot_len", ">u2"),
        ("ip_id", ">u2"),
        ("frag", ">u2"),
        ("ttl", "u1"),
        ("proto", "u1"),
        ("ip_sum", ">u2"),
        ("src", ">u4"),
        ("dst", ">u4"),
        ("sport", ">u2"),
        ("dport", ">u2"),
        ("seq", ">u4"),
        ("ack", ">u4"),
        ("off", "u1"),
        ("flags", "u1"),
        ("win", ">u2"),
        ("tcp_sum", ">u2"),
        ("urg", ">u2"),
    ]
)
assert _REC.itemsize == 16 + 14 + 20 + 20


def bulk_capture(path: Path, sessions: int, bad_every: int = 0, gap_ns: int = 1_000_000) -> int:
    """A capture of `sessions` short connections, 6 packets each, built with numpy.

    Each connection: SYN, SYN-ACK, ACK, FIN, FIN-ACK, ACK. With bad_every = k, every k-th
    connection's server acknowledges 100 client bytes the capture never saw (counting-rules.md row
    2: acked_unseen). Returns the number of packets.
    """
    per = 6
    n = sessions * per
    rec = np.zeros(n, dtype=_REC)
    i = np.repeat(np.arange(sessions, dtype=np.int64), per)
    j = np.tile(np.arange(per, dtype=np.int64), sessions)
    t = T0_NS + i * gap_ns + j * 10_000
    rec["ts_sec"] = t // 10**9
    rec["ts_ns"] = t % 10**9
    rec["incl"] = rec["orig"] = 54
    rec["dst_mac"] = np.frombuffer(_MAC_S, dtype="V6")[0]
    rec["src_mac"] = np.frombuffer(_MAC_C, dtype="V6")[0]
    rec["ethertype"] = 0x0800
    rec["ver_ihl"] = 0x45
    rec["tot_len"] = 40
    rec["frag"] = 0x4000
    rec["ttl"] = 64
    rec["proto"] = 6
    client_ip = _ip4("10.128.0.0") + 1 + i // 50_000
    client_port = 1024 + i % 50_000
    server_ip = _ip4(SERVER)
    c2s = np.isin(j, (0, 2, 3, 5))
    rec["src"] = np.where(c2s, client_ip, server_ip)
    rec["dst"] = np.where(c2s, server_ip, client_ip)
    rec["sport"] = np.where(c2s, client_port, 80)
    rec["dport"] = np.where(c2s, 80, client_port)
    isn_c, isn_s = 1000, 5000
    lost = np.zeros(n, dtype=np.int64)
    if bad_every:
        lost = np.where(i % bad_every == 0, 100, 0)
    # seq/ack by packet position:     SYN      SYN-ACK  ACK      FIN      FIN-ACK  ACK
    c_seq = isn_c + np.select([j == 0, j <= 3, True], [0, 1, 1]) + np.where(j >= 3, lost, 0)
    seq = np.where(c2s, c_seq, isn_s + np.where(j == 1, 0, 1))
    seq = np.where(j == 5, isn_c + 2 + lost, seq)
    ack = np.choose(
        j,
        [0, isn_c + 1, isn_s + 1, isn_s + 1, isn_c + 2 + lost, isn_s + 2],
    )
    rec["seq"] = seq
    rec["ack"] = ack
    rec["off"] = 5 << 4
    rec["flags"] = np.choose(j, [SYN, SYN | ACK, ACK, FIN | ACK, FIN | ACK, ACK])
    rec["win"] = 65535
    header = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET)
    with open(path, "wb") as f:
        f.write(header)
        f.write(rec.tobytes())
    return n
