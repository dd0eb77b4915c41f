"""The link types of capture cards and other systems, end to end, against tshark.

For each link type a small pcap is built in the test: three TCP connections (a clean one, one
whose client segment the capture missed although the server acknowledged it, one SYN that is
never answered), each packet wrapped in the link type's header. capgap must decode every TCP
packet built, find the three SYNs and call exactly the connection with the planted drop bad; and
where tshark 4.0.17 reads the link type, tshark (run here, always -n) must agree on the number of
TCP packets, the SYNs and the flagged session.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from _capture_builder import ACK, FIN, PSH, SYN, T0_NS, Conn
from conftest import analyze, as_bool

SERVER = "10.0.0.1"
PLANTED_BAD_PORT = 40001


def connections() -> list[tuple[int, bytes]]:
    """(time_ns, Ethernet frame) of three connections; the client port 40001 has the drop."""
    a = Conn("10.0.0.2", 40000, SERVER, 80, T0_NS)
    a.handshake()
    a.c2s(PSH | ACK, 100)
    a.s2c(ACK)
    a.s2c(PSH | ACK, 200)
    a.c2s(ACK)
    a.close()
    b = Conn("10.0.0.2", PLANTED_BAD_PORT, SERVER, 80, T0_NS + 10**9)
    b.handshake()
    b.c2s(PSH | ACK, 100)
    b.c2s(PSH | ACK, 100, keep=False)  # the capture misses it
    b.c2s(PSH | ACK, 100)
    b.s2c(ACK)  # acknowledges all 300 bytes
    b.close()
    c = Conn("10.0.0.3", 40002, SERVER, 80, T0_NS + 2 * 10**9)
    c.c2s(SYN)
    packets = a.packets + b.packets + c.packets
    packets.sort(key=lambda p: p[0])
    return packets


BUILT_SYNS = 3


def fcs(frame: bytes) -> bytes:
    """An Ethernet frame check sequence (CRC-32, least significant byte first)."""
    return struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)


def erf(eth: bytes, lctr: int) -> bytes:
    """An ERF Ethernet record: header (type 2, varying length), offset and pad, frame, FCS."""
    frame = eth + fcs(eth)
    rlen = 16 + 2 + len(frame)
    header = struct.pack("<Q", 0) + struct.pack("!BBHHH", 2, 0x04, rlen, lctr, len(frame))
    return header + b"\x00\x00" + frame


def erf_record(rtype: int, body: bytes, lctr: int) -> bytes:
    """An ERF record of another type around `body` (the type's own header included)."""
    header = struct.pack("<Q", 0) + struct.pack(
        "!BBHHH", rtype, 0x04, 16 + len(body), lctr, len(body)
    )
    return header + body


def juniper(flags: int, rest: bytes) -> bytes:
    return b"MGC" + bytes([flags]) + rest


def ip_of(eth: bytes) -> bytes:
    return eth[14:]


def pppoe_frame(eth: bytes) -> bytes:
    ppp = b"\x00\x21" + ip_of(eth)
    return eth[:12] + b"\x88\x64" + struct.pack("!BBHH", 0x11, 0, 0x0042, len(ppp)) + ppp


# name -> (link type in the file, wrap(eth frame, index) -> link frame, why tshark is not
# asked or None). The ERF records carry loss counters 0, 1, 2, ... (see test_erf_loss_counter).
WRAPS: dict[str, tuple[int, Callable[[bytes, int], bytes], str | None]] = {
    # The 40-byte pseudo header tshark 4.0 reads before RFC 4391's (capgap takes both).
    "ipoib": (242, lambda e, i: bytes([0x60]) + bytes(39) + b"\x08\x00\x00\x00" + ip_of(e), None),
    "erf": (197, lambda e, i: erf(e, i), None),
    "erf_ipv4": (197, lambda e, i: erf_record(22, ip_of(e), i), None),
    "erf_pos_ppp": (197, lambda e, i: erf_record(1, b"\xff\x03\x00\x21" + ip_of(e), i), None),
    "ipoib_rfc4391": (
        242,
        lambda e, i: b"\x08\x00\x00\x00" + ip_of(e),
        "tshark 4.0.17 reads LINKTYPE_IPOIB as a 44-byte header only",
    ),
    "pflog": (117, lambda e, i: bytes([61, 2]) + bytes(62) + ip_of(e), None),
    "enc": (109, lambda e, i: struct.pack("<III", 2, 0x1000, 0) + ip_of(e), None),
    "ipnet": (
        226,
        lambda e, i: struct.pack("!BBHIIIII", 2, 2, 0, len(ip_of(e)), 1, 0, 0, 0) + ip_of(e),
        None,
    ),
    "netanalyzer": (
        240,
        lambda e, i: struct.pack("<BBH", 0, 0x04, len(e) + 4) + e + fcs(e),
        None,
    ),
    "netanalyzer_transparent": (
        241,
        lambda e, i: struct.pack("<BBH", 0, 0x06, len(e) + 12) + b"\x55" * 7 + b"\xd5" + e + fcs(e),
        "tshark 4.0.17 shows frames captured in netANALYZER transparent mode as raw data",
    ),
    "mpacket": (274, lambda e, i: b"\x55" * 7 + b"\xd5" + e + fcs(e), None),
    "mpacket_preemptable": (274, lambda e, i: b"\x55" * 7 + b"\xe6" + e + fcs(e), None),
    "atm_rfc1483_bridged": (
        100,
        lambda e, i: bytes.fromhex("aaaa030080c200070000") + e,
        None,
    ),
    "atm_rfc1483": (100, lambda e, i: bytes.fromhex("aaaa03000000") + e[12:14] + ip_of(e), None),
    "frelay_rfc2427": (107, lambda e, i: bytes.fromhex("1841") + b"\x03\xcc" + ip_of(e), None),
    "frelay_cisco": (107, lambda e, i: bytes.fromhex("1841") + e[12:14] + ip_of(e), None),
    "juniper_pppoe": (167, lambda e, i: juniper(0x01, pppoe_frame(e)), None),
    "juniper_ppp": (179, lambda e, i: juniper(0x01, b"\xff\x03\x00\x21" + ip_of(e)), None),
    "juniper_chdlc": (181, lambda e, i: juniper(0x01, b"\x0f\x00\x08\x00" + ip_of(e)), None),
    "juniper_frelay": (180, lambda e, i: juniper(0x01, b"\x18\x41\x03\xcc" + ip_of(e)), None),
    "juniper_ggsn": (133, lambda e, i: juniper(0x01, b"\x02\x00\x00\x00" + ip_of(e)), None),
    "juniper_mlppp_child": (130, lambda e, i: juniper(0x01, b"\xff\x03\x00\x21" + ip_of(e)), None),
    "juniper_mlppp_ml_pic": (
        130,
        lambda e, i: juniper(0x01, b"\x00\x05\x00\x21" + ip_of(e)),
        None,
    ),
    "juniper_mlppp_as_pic": (
        130,
        lambda e, i: juniper(0x00, bytes([0x47, 0, 0, 0, 0x03, 0x00, 0, 0]) + ip_of(e)),
        None,
    ),
    "juniper_atm1": (
        137,
        lambda e, i: juniper(0x01, bytes(4) + bytes.fromhex("aaaa030000000800") + ip_of(e)),
        None,
    ),
    "juniper_atm2": (
        135,
        lambda e, i: juniper(0x01, bytes(8) + bytes.fromhex("aaaa030000000800") + ip_of(e)),
        None,
    ),
}


def write_capture(path: Path, linktype: int, wrap: Callable[[bytes, int], bytes]) -> int:
    """Writes the connections as a nanosecond pcap of `linktype`; returns the packet count."""
    packets = connections()
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype)]
    for i, (t, eth) in enumerate(packets):
        frame = wrap(eth, i)
        out.append(struct.pack("<IIII", t // 10**9, t % 10**9, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return len(packets)


def tshark_view(tshark: str, path: Path) -> tuple[int, int, set[int]]:
    """(TCP packets, SYNs, client ports of the streams tshark flags) as tshark reads `path`."""
    proc = subprocess.run(
        [
            tshark, "-n", "-r", str(path), "-T", "fields", "-E", "separator=/t",
            "-e", "tcp.stream", "-e", "tcp.flags", "-e", "tcp.srcport",
            "-e", "tcp.analysis.lost_segment", "-e", "tcp.analysis.ack_lost_segment",
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    tcp = syns = 0
    client: dict[str, int] = {}
    flagged: set[str] = set()
    for line in proc.stdout.splitlines():
        cells = line.split("\t")
        if not cells[0]:
            continue
        tcp += 1
        flags = int(cells[1], 16)
        if flags & SYN and not flags & ACK:
            syns += 1
            client[cells[0]] = int(cells[2])
        if any(cells[3:5]):
            flagged.add(cells[0])
    return tcp, syns, {client[s] for s in flagged if s in client}


def capgap_view(cli: Path, path: Path, tmp_path: Path) -> tuple[int, int, set[int], dict]:
    """(decoded TCP packets, sessions with a SYN, client ports of the bad sessions, ingest)."""
    res = analyze(cli, [path], tmp_path, "--mode", "wireshark")
    assert res.report is not None
    ingest = res.report["ingest"]
    bad = {int(r["client"].rsplit(":", 1)[1]) for r in res.sessions if as_bool(r["bad_wireshark"])}
    syns = sum(int(r["syn_count"]) > 0 for r in res.sessions)
    return ingest["decoded"], syns, bad, ingest


def built_tcp_packets() -> int:
    return len(connections())


@pytest.mark.parametrize("name", sorted(WRAPS))
def test_capgap_reads_link_type(name: str, cli: Path, tmp_path: Path) -> None:
    linktype, wrap, _ = WRAPS[name]
    path = tmp_path / f"{name}.pcap"
    n = write_capture(path, linktype, wrap)
    decoded, syns, bad, ingest = capgap_view(cli, path, tmp_path)
    assert ingest["packets_read"] == n
    assert decoded == built_tcp_packets()
    assert syns == BUILT_SYNS
    assert bad == {PLANTED_BAD_PORT}


@pytest.mark.parametrize("name", sorted(WRAPS))
def test_tshark_agrees_on_link_type(name: str, cli: Path, tshark: str, tmp_path: Path) -> None:
    linktype, wrap, no_tshark = WRAPS[name]
    if no_tshark is not None:
        pytest.skip(no_tshark)
    path = tmp_path / f"{name}.pcap"
    write_capture(path, linktype, wrap)
    t_tcp, t_syns, t_bad = tshark_view(tshark, path)
    decoded, syns, bad, _ = capgap_view(cli, path, tmp_path)
    assert (decoded, syns, bad) == (t_tcp, t_syns, t_bad)


def test_erf_loss_counter(cli: Path, tmp_path: Path) -> None:
    """Record i carries loss counter i: the report sums them as capture-card drops."""
    path = tmp_path / "erf.pcap"
    n = write_capture(path, 197, lambda e, i: erf(e, i))
    *_, ingest = capgap_view(cli, path, tmp_path)
    assert ingest["capture_card_drops"] == n * (n - 1) // 2
    # A BPF filter that drops every record still counts the card's losses.
    res = analyze(cli, [path], tmp_path, "--filter", "udp")
    assert res.report is not None
    assert res.report["ingest"]["filtered_out"] == n
    assert res.report["ingest"]["capture_card_drops"] == n * (n - 1) // 2


def test_no_fin_lost_in_wrapping() -> None:
    """The connections hold the handshakes and closes the assertions above count on."""
    flags = [eth[47] for _, eth in connections()]
    assert sum(1 for f in flags if f & SYN and not f & ACK) == BUILT_SYNS
    assert sum(1 for f in flags if f & FIN) == 4


def test_erf_loss_counter_in_python() -> None:
    """The Python report carries the counter too (from the counter table)."""
    capgap = pytest.importorskip("capgap")
    a = capgap.Analyzer()
    packets = connections()
    for i, (t, eth) in enumerate(packets):
        a.feed_packet(erf(eth, 10 * i), link_type=197, time_ns=t)
    report = a.finish()
    assert report.ingest.decoded == len(packets)
    assert report.ingest.capture_card_drops == 10 * len(packets) * (len(packets) - 1) // 2
