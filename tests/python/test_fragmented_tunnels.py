"""Tunnels whose outer IP is fragmented, and GTP-U, on real traffic.

The real loopback recordings of tests/data/real are mirrored the way a monitoring fabric
delivers them: each frame in ERSPAN II over GRE, or in VXLAN over UDP, over IPv4 or IPv6, the
outer IP packet fragmented at a chosen MTU (a switch fragmenting a mirror whose frames do not
fit), in order or out of order. Every inner byte is still captured, so capgap must give the
same sessions and verdicts as on the original recording and on the unfragmented mirror, and
tshark (which reassembles IP by default) must find the same TCP streams and SYNs.

A fragment that is missing makes its datagram, and so the inner frame, missing: the result must
be that of the original with that frame dropped (a missed packet is loss when the peer
acknowledged it: counting-rules.md), and the fragments that did arrive are counted under
skipped_fragment_incomplete.

GTP-U: the IP packets of the same recordings in G-PDUs (with and without extension headers,
IPv4 and IPv6 outside), cross-checked against tshark; with --tunnel-key, the same inner
sockets in two TEIDs are two sessions.
"""

from __future__ import annotations

import functools
import json
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO_ROOT, analyze

sys.path.insert(0, str(REPO_ROOT / "tests" / "tools"))
import pcaptools  # noqa: E402

REAL = REPO_ROOT / "tests" / "data" / "real"
MIXED = REAL / "lo_mixed.pcap"  # IPv4 inside
V6 = REAL / "lo_v6_nsec.pcap"  # IPv6 inside
MACS = b"\x02\x00\x00\x00\x09\x02" + b"\x02\x00\x00\x00\x09\x01"
OUTER4 = (bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
OUTER6 = (bytes.fromhex("20010db8000900000000000000000001"),
          bytes.fromhex("20010db8000900000000000000000002"))  # fmt: skip
# Columns that number records: a fragmented mirror has more records than the original.
FRAME_COLUMNS = ("syn_frame", "first_frame")


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_packet(payload: bytes, proto: int, ident: int, frag: int = 0) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, frag, 64,
                       proto, 0, *OUTER4)  # fmt: skip
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:] + payload


def fragments4(payload: bytes, proto: int, ident: int, mtu: int) -> list[bytes]:
    """The outer IPv4 datagram, fragmented to fit `mtu` (whole when it fits)."""
    if 20 + len(payload) <= mtu:
        return [ipv4_packet(payload, proto, ident)]
    step = (mtu - 20) // 8 * 8
    out = []
    for off in range(0, len(payload), step):
        more = off + step < len(payload)
        out.append(ipv4_packet(payload[off : off + step], proto, ident,
                               (0x2000 if more else 0) | off // 8))  # fmt: skip
    return out


def fragments6(payload: bytes, proto: int, ident: int, mtu: int) -> list[bytes]:
    """The outer IPv6 datagram, with a fragment header and fragmented when it does not fit."""

    def packet(next_header: int, body: bytes) -> bytes:
        return (
            struct.pack("!IHBB", 0x60000000, len(body), next_header, 64) + b"".join(OUTER6) + body
        )

    if 40 + len(payload) <= mtu:
        return [packet(proto, payload)]
    step = (mtu - 48) // 8 * 8
    out = []
    for off in range(0, len(payload), step):
        more = off + step < len(payload)
        fh = struct.pack("!BBHI", proto, 0, off | int(more), ident)
        out.append(packet(44, fh + payload[off : off + step]))
    return out


def erspan2(frame: bytes, seq: int) -> tuple[int, bytes]:
    """GRE (sequence number) + ERSPAN type II (version 1, session 1) around an Ethernet frame."""
    gre = struct.pack("!HHI", 0x1000, 0x88BE, seq)
    return 47, gre + struct.pack("!HHI", 0x1000, 0x0001, 0) + frame


def vxlan(frame: bytes, seq: int) -> tuple[int, bytes]:
    body = b"\x08\x00\x00\x00" + struct.pack("!I", 42 << 8) + frame
    return 17, struct.pack("!HHHH", 49152 + seq % 16, 4789, 8 + len(body), 0) + body


def gtpu(ip_packet: bytes, teid: int, ext: bool) -> bytes:
    """A G-PDU; with `ext`, the optional word and two chained extension headers (a PDU session
    container, then a UDP port extension header)."""
    rest = b""
    flags = 0x30
    if ext:
        flags |= 0x04 | 0x02
        rest = struct.pack("!HBB", 7, 0, 0x85)
        rest += bytes([1, 0x00, 0x09, 0x40])  # PDU session container (QFI 9), next: UDP port
        rest += bytes([1]) + struct.pack("!H", 2152) + b"\x00"
    rest += ip_packet
    return struct.pack("!BBHI", flags, 0xFF, len(rest), teid) + rest


def gtpu_udp(ip_packet: bytes, teid: int, ext: bool) -> bytes:
    body = gtpu(ip_packet, teid, ext)
    return struct.pack("!HHHH", 2152, 2152, 8 + len(body), 0) + body


def rewrite(src: Path, dst: Path, make: Callable[[int, bytes], list[bytes]]) -> int:
    """Writes src's records through make(index, frame) -> frames, each with the record's time
    and its own length (src is never cut by its snaplen). Returns how many records it wrote."""
    pf = pcaptools.read_pcap(src)
    assert all(len(r.data) == r.orig_len for r in pf.records)
    records = []
    for i, r in enumerate(pf.records):
        for frame in make(i, r.data):
            records.append(pcaptools.Record(r.ts_sec, r.ts_frac, len(frame), frame))
    out = pcaptools.PcapFile(pf.linktype, 262144, pf.nsec, pf.endian, pf.version, records)
    pcaptools.write_pcap(dst, out)
    return len(records)


def mirror(encap: Callable[[bytes, int], tuple[int, bytes]], mtu: int, v6: bool = False,
           reverse: bool = False, lose: set[int] | None = None):  # fmt: skip
    """make() for rewrite(): each frame encapsulated, its outer datagram fragmented at `mtu`;
    `reverse` delivers each datagram's fragments last first; `lose` names frames whose second
    fragment is lost."""

    def make(i: int, frame: bytes) -> list[bytes]:
        proto, payload = encap(frame, i)
        frags = (fragments6 if v6 else fragments4)(payload, proto, 0x1000 + i, mtu)
        if lose and i in lose:
            assert len(frags) > 1
            del frags[1]
        if reverse:
            frags.reverse()
        return [MACS + (b"\x86\xdd" if v6 else b"\x08\x00") + f for f in frags]

    return make


def rows(result, drop: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """--sessions-out rows without the tunnel and source (the input's name) columns (and
    `drop`)."""
    return [
        {k: v for k, v in r.items() if k not in ("tunnel", "source", *drop)}
        for r in result.sessions
    ]


@functools.cache
def tshark_streams(tshark: str, capture: Path) -> tuple[int, int]:
    """(TCP streams, SYNs without ACK) as tshark sees them (cached: the originals are read by
    several tests)."""
    proc = subprocess.run(
        [tshark, "-n", "-r", str(capture), "-Y", "tcp", "-T", "fields", "-e", "tcp.stream",
         "-e", "tcp.flags.syn", "-e", "tcp.flags.ack"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    streams, syns = set(), 0
    for line in proc.stdout.splitlines():
        stream, syn, ack = line.split("\t")
        streams.add(stream)
        syns += syn in ("1", "True") and ack in ("0", "False")
    return len(streams), syns


ENCAPS = {"erspan": erspan2, "vxlan": vxlan}


@pytest.mark.parametrize(
    ("encap", "mtu", "v6", "reverse"),
    [
        ("erspan", 576, False, False),
        ("erspan", 1024, False, True),
        ("vxlan", 576, False, True),
        ("vxlan", 1024, False, False),
        ("erspan", 1280, True, False),
        ("vxlan", 576, True, True),
    ],
)
def test_fragmented_mirror_reads_as_the_original(
    cli: Path, tshark: str, tmp_path: Path, encap: str, mtu: int, v6: bool, reverse: bool
) -> None:
    truth = json.loads(MIXED.with_suffix(".truth.json").read_text())["totals"]
    original = analyze(cli, [MIXED], tmp_path)
    whole = tmp_path / "whole.pcap"
    rewrite(MIXED, whole, mirror(ENCAPS[encap], 65535, v6))
    frag = tmp_path / "fragmented.pcap"
    records = rewrite(MIXED, frag, mirror(ENCAPS[encap], mtu, v6, reverse))
    frames = len(pcaptools.read_pcap(MIXED).records)
    assert records > frames + 100, "the MTU must fragment many frames"

    unfragmented = analyze(cli, [whole], tmp_path)
    fragmented = analyze(cli, [frag], tmp_path)
    assert rows(unfragmented) == rows(original)
    assert rows(fragmented, FRAME_COLUMNS) == rows(original, FRAME_COLUMNS)
    summary = fragmented.report["summary"]
    assert summary["total_sessions"] == truth["total_sessions"]
    assert summary["bad_sessions"] == truth["bad_sessions"]
    assert summary["bad_wireshark"] == truth["bad_sessions_wireshark"]
    ingest = fragmented.report["ingest"]
    assert ingest["decoded"] == frames  # each datagram once, at the fragment completing it
    assert ingest["skipped_ip_fragment"] == records - frames
    assert ingest["skipped_fragment_incomplete"] == 0
    assert ingest["skipped_fragment_evicted"] == 0

    assert tshark_streams(tshark, frag) == tshark_streams(tshark, MIXED)


def test_a_missing_fragment_is_a_missed_packet(cli: Path, tmp_path: Path) -> None:
    """One data segment's outer datagram loses a fragment: the inner segment is missed, as if
    the capture had dropped it, and the session is bad exactly when dropping the frame from
    the original makes it bad (here: data the peer acknowledged, never captured)."""
    pf = pcaptools.read_pcap(MIXED)
    packets = pcaptools.decode_file(pf)
    original = analyze(cli, [MIXED], tmp_path)
    good = {frozenset((r["client"], r["server"])) for r in original.sessions if r["bad"] == "0"}
    # A data segment of a good session that is never sent again (so nothing repairs it).
    seen: dict[tuple, int] = {}
    for p in packets:
        if p is not None and p.payload_len > 0:
            key = (p.src, p.sport, p.seq)
            seen[key] = seen.get(key, 0) + 1
    victim = next(
        i for i, p in enumerate(packets)
        if p is not None and p.payload_len > 600 and seen[(p.src, p.sport, p.seq)] == 1
        and frozenset((pcaptools.endpoint(p.src, p.sport),
                       pcaptools.endpoint(p.dst, p.dport))) in good
    )  # fmt: skip

    dropped = tmp_path / "dropped.pcap"
    rewrite(MIXED, dropped, lambda i, f: [] if i == victim else [f])
    frag = tmp_path / "lost-fragment.pcap"
    records = rewrite(MIXED, frag, mirror(erspan2, 576, lose={victim}))
    expected = analyze(cli, [dropped], tmp_path)
    got = analyze(cli, [frag], tmp_path)
    assert rows(got, FRAME_COLUMNS) == rows(expected, FRAME_COLUMNS)
    assert got.report["summary"]["bad_sessions"] == original.report["summary"]["bad_sessions"] + 1
    ingest = got.report["ingest"]
    # The victim's outer datagram: 14 + len(frame) + 16 bytes of GRE/ERSPAN in 552-byte pieces.
    pieces = -(-(len(pf.records[victim].data) + 16) // 552)
    assert ingest["skipped_fragment_incomplete"] == pieces - 1
    assert ingest["decoded"] == len(pf.records) - 1
    assert ingest["packets_read"] == records


@pytest.mark.parametrize(("src", "v6_outer", "ext"),
                         [(MIXED, False, False), (MIXED, True, True), (V6, False, True),
                          (V6, True, False)])  # fmt: skip
def test_gtpu_reads_as_the_original(
    cli: Path, tshark: str, tmp_path: Path, src: Path, v6_outer: bool, ext: bool
) -> None:
    def make(i: int, frame: bytes) -> list[bytes]:
        udp = gtpu_udp(frame[14:], 0x01000000 + i % 3, ext)  # the IP packet, TEIDs vary
        outer = fragments6(udp, 17, i, 65535) if v6_outer else fragments4(udp, 17, i, 65535)
        return [MACS + (b"\x86\xdd" if v6_outer else b"\x08\x00") + outer[0]]

    capture = tmp_path / "gtpu.pcap"
    rewrite(src, capture, make)
    original = analyze(cli, [src], tmp_path)
    got = analyze(cli, [capture], tmp_path)
    assert rows(got) == rows(original)
    assert got.report["ingest"]["decoded"] == original.report["ingest"]["decoded"]
    assert got.report["ingest"]["skipped_unsupported_encapsulation"] == 0
    streams, syns = tshark_streams(tshark, capture)
    assert (streams, syns) == tshark_streams(tshark, src)
    assert got.report["summary"]["total_sessions"] == syns  # each SYN opens one session here


def test_gtpu_teid_in_the_tunnel_key(cli: Path, tmp_path: Path) -> None:
    """Every packet in two TEIDs: by inner sockets, one copy is a duplicate of the other; with
    --tunnel-key, each TEID holds its own copy of every session, named by its TEID."""
    truth = json.loads(MIXED.with_suffix(".truth.json").read_text())["totals"]

    def make(i: int, frame: bytes) -> list[bytes]:
        return [MACS + b"\x08\x00" + ipv4_packet(gtpu_udp(frame[14:], teid, i % 2 == 0), 17, i)
                for teid in (100, 200)]  # fmt: skip

    capture = tmp_path / "two-teids.pcap"
    records = rewrite(MIXED, capture, make)
    plain = analyze(cli, [capture], tmp_path)
    assert plain.report["summary"]["total_sessions"] == truth["total_sessions"]
    assert plain.report["ingest"]["duplicate_packets"] == records // 2
    keyed = analyze(cli, [capture], tmp_path, "--tunnel-key")
    assert keyed.report["summary"]["total_sessions"] == 2 * truth["total_sessions"]
    assert keyed.report["summary"]["bad_sessions"] == 2 * truth["bad_sessions"]
    assert keyed.report["ingest"]["tunnels"] == [
        "GTP-U 10.9.0.1 <-> 10.9.0.2 TEID 100",
        "GTP-U 10.9.0.1 <-> 10.9.0.2 TEID 200",
    ]


def test_gtp_signalling_is_counted_by_name(cli: Path, tmp_path: Path) -> None:
    """Echo requests and end markers on GTP-U, and GTP-C, carry no user data: counted, named."""
    echo = struct.pack("!BBHIHBB", 0x32, 1, 4, 0, 1, 0, 0)
    end_marker = struct.pack("!BBHI", 0x30, 254, 0, 77)
    gtpc = bytes([0x48, 32, 0, 8]) + bytes(8)
    frames = [struct.pack("!HHHH", 2152, 2152, 8 + len(echo), 0) + echo,
              struct.pack("!HHHH", 2152, 2152, 8 + len(end_marker), 0) + end_marker,
              struct.pack("!HHHH", 2123, 2123, 8 + len(gtpc), 0) + gtpc]  # fmt: skip
    capture = tmp_path / "signalling.pcap"
    pf = pcaptools.PcapFile(1, 262144, False)
    for i, udp in enumerate(frames):
        data = MACS + b"\x08\x00" + ipv4_packet(udp, 17, i)
        pf.records.append(pcaptools.Record(1_700_000_000 + i, 0, len(data), data))
    pcaptools.write_pcap(capture, pf)
    # No TCP at all: the report still counts every packet by name.
    proc = subprocess.run([str(cli), "analyze", str(capture), "--format", "json"],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ingest = json.loads(proc.stdout)["ingest"]
    assert ingest["skipped_unsupported_encapsulation"] == 3
    assert ingest["unsupported_encapsulations"] == {
        "GTP-U echo request (type 1, no user data)": 1,
        "GTP-U end marker (type 254, no user data)": 1,
        "UDP port 2123 (GTP-C)": 1,
    }
