// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// IPv4/IPv6 fragment reassembly up to the TCP header: order, overlaps, missing pieces, timeouts,
// the caps, and the Analyzer's counts around it.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "decode/decode.hpp"
#include "decode/reassembly.hpp"
#include "support/bytes.hpp"
#include "support/encap_packets.hpp"
#include "support/flow_builder.hpp"

using capgap::Segment;
using capgap::detail::decode_packet;
using capgap::detail::Decoded;
using capgap::detail::Encap;
using capgap::detail::EncapInfo;
using capgap::detail::encapsulation_name;
using capgap::detail::IpFragment;
using capgap::detail::Reassembler;
using capgap::test::Bytes;
using capgap::test::cat;
using capgap::test::put16;
using capgap::test::put16_le;
using capgap::test::put32;
using capgap::test::put32_le;
using namespace capgap::test::encap;

namespace {

// Splits tcp(flags, payload) into IPv4 fragments of `piece` bytes (a multiple of 8), returned
// as Ethernet frames in datagram order.
std::vector<Bytes> fragments4(const Bytes& transport, std::size_t piece, unsigned id = 0x77) {
    std::vector<Bytes> out;
    for (std::size_t off = 0; off < transport.size(); off += piece) {
        const std::size_t n = std::min(piece, transport.size() - off);
        const bool more = off + n < transport.size();
        const Bytes part(transport.begin() + static_cast<std::ptrdiff_t>(off),
                         transport.begin() + static_cast<std::ptrdiff_t>(off + n));
        out.push_back(
            ether(0x0800,
                  ipv4(part, 6, (more ? 0x2000u : 0u) | static_cast<unsigned>(off / 8), 192, id)));
    }
    return out;
}

Bytes fragment6(const Bytes& transport, std::size_t off, std::size_t n, bool more) {
    Bytes fh{6, 0};
    put16(fh, static_cast<unsigned>(off) | (more ? 1u : 0u));
    put32(fh, 0xabcdef01);
    const Bytes part(transport.begin() + static_cast<std::ptrdiff_t>(off),
                     transport.begin() + static_cast<std::ptrdiff_t>(off + n));
    return ether(0x86dd, ipv6(44, cat(fh, part)));
}

struct Feed {
    Reassembler r;
    capgap::IngestStats st;
    Segment seg;

    explicit Feed(capgap::detail::ReassemblyLimits l = {}) : r(l) {}

    // Decodes one frame and hands a fragment to the reassembler, as the Analyzer does.
    Decoded add(const Bytes& frame, std::int64_t t_ns = 0, std::size_t caplen = SIZE_MAX) {
        IpFragment f;
        if (caplen > frame.size()) caplen = frame.size();
        Decoded d = decode_packet(frame.data(), static_cast<std::uint32_t>(caplen),
                                  static_cast<std::uint32_t>(frame.size()), dlt_en10mb, seg, &f);
        if (d == Decoded::tcp_fragment) d = r.add(f, capgap::Timestamp{t_ns}, seg, st);
        return d;
    }
};

}  // namespace

TEST_CASE("reassembly: IPv4 fragments in order, out of order, overlapping") {
    const Bytes t = tcp(0x02, 100);  // a SYN with data: 124 bytes of TCP
    auto frags = fragments4(t, 16);
    REQUIRE(frags.size() == 8);
    SUBCASE("in order: the last piece is the segment") {
        Feed f;
        for (std::size_t i = 0; i + 1 < frags.size(); ++i)
            CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
        REQUIRE(f.add(frags.back()) == Decoded::tcp);
        check_inner(f.seg, "192.0.2.1:40000", "192.0.2.2:80", 100);
        CHECK(f.seg.has(capgap::tcp_flags::syn));
        CHECK(f.st.skipped_ip_fragment == 7);
        CHECK(f.r.pending() == 0);
    }
    SUBCASE("reversed") {
        Feed f;
        for (std::size_t i = frags.size() - 1; i > 0; --i)
            CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
        REQUIRE(f.add(frags[0]) == Decoded::tcp);
        check_inner(f.seg, "192.0.2.1:40000", "192.0.2.2:80", 100);
    }
    SUBCASE("overlaps and duplicates") {
        Feed f;
        const auto big = fragments4(t, 48);  // 48, 48, 28 bytes
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);  // duplicate
        CHECK(f.add(big[1]) == Decoded::tcp_fragment);    // 48..96
        CHECK(f.add(frags[2]) == Decoded::tcp_fragment);  // 32..48
        CHECK(f.add(frags[3]) == Decoded::tcp_fragment);  // 48..64, inside big[1]
        CHECK(f.add(frags[1]) == Decoded::tcp_fragment);  // 16..32
        REQUIRE(f.add(big[2]) == Decoded::tcp);           // 96..124
        check_inner(f.seg, "192.0.2.1:40000", "192.0.2.2:80", 100);
        CHECK(f.st.skipped_ip_fragment == 6);
    }
    SUBCASE("a first piece shorter than the TCP header (8-byte fragments)") {
        Feed f;
        const Bytes syn = tcp(0x02, 0);
        const auto tiny = fragments4(syn, 8);
        REQUIRE(tiny.size() == 3);
        CHECK(f.add(tiny[0]) == Decoded::tcp_fragment);
        CHECK(f.add(tiny[2]) == Decoded::tcp_fragment);
        REQUIRE(f.add(tiny[1]) == Decoded::tcp);
        CHECK(f.seg.payload_len == 0);
        CHECK(f.seg.flags == 0x02);
    }
    SUBCASE("two datagrams interleaved, told apart by id and addresses") {
        Feed f;
        const auto other = fragments4(tcp(0x18, 100, 5555), 64, 0x78);
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(other[0]) == Decoded::tcp_fragment);
        for (std::size_t i = 1; i + 1 < frags.size(); ++i)
            CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
        REQUIRE(f.add(other[1]) == Decoded::tcp);
        CHECK(f.seg.src.port == 5555);
        REQUIRE(f.add(frags.back()) == Decoded::tcp);
        CHECK(f.seg.src.port == 40000);
    }
}

TEST_CASE("reassembly: IPv6 fragments") {
    const Bytes t = tcp(0x12, 60);  // 84 bytes
    Feed f;
    CHECK(f.add(fragment6(t, 48, 36, false)) == Decoded::tcp_fragment);
    CHECK(f.add(fragment6(t, 0, 48, true)) == Decoded::tcp);
    check_inner(f.seg, "[2001:db8::1]:40000", "[2001:db8::2]:80", 60);
    // An atomic fragment (offset 0, no more) is a whole packet.
    CHECK(f.add(fragment6(t, 0, 84, false)) == Decoded::tcp);
    CHECK(f.r.pending() == 0);
}

TEST_CASE("reassembly: missing pieces, timeouts, the cap") {
    const Bytes t = tcp(0x18, 100);
    const auto frags = fragments4(t, 32);
    REQUIRE(frags.size() == 4);
    SUBCASE("a missing piece: incomplete at the end") {
        Feed f;
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[3]) == Decoded::tcp_fragment);
        CHECK(f.st.skipped_ip_fragment == 3);
        f.r.flush(f.st);
        CHECK(f.st.skipped_ip_fragment == 0);
        CHECK(f.st.skipped_fragment_incomplete == 3);
        CHECK(f.r.pending() == 0);
    }
    SUBCASE("timeout after 30 s of capture time") {
        Feed f;
        CHECK(f.add(frags[0], 0) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1], 10 * second) == Decoded::tcp_fragment);
        CHECK(f.add(frags[2], 31 * second) == Decoded::tcp_fragment);  // the first two expire
        CHECK(f.st.skipped_fragment_incomplete == 2);
        CHECK(f.add(frags[3], 32 * second) == Decoded::tcp_fragment);  // a new, partial one
        CHECK(f.st.skipped_ip_fragment == 2);
        CHECK(f.r.pending() == 1);
    }
    SUBCASE("cap on pending datagrams evicts the oldest") {
        capgap::detail::ReassemblyLimits lim;
        lim.max_pending = 3;
        Feed f(lim);
        for (unsigned id = 1; id <= 5; ++id)
            CHECK(f.add(fragments4(t, 32, id)[0]) == Decoded::tcp_fragment);
        CHECK(f.r.pending() == 3);
        CHECK(f.st.skipped_fragment_evicted == 2);
        CHECK(f.st.skipped_ip_fragment == 3);
        // Datagram 5 still completes.
        const auto last = fragments4(t, 32, 5);
        CHECK(f.add(last[1]) == Decoded::tcp_fragment);
        CHECK(f.add(last[2]) == Decoded::tcp_fragment);
        CHECK(f.add(last[3]) == Decoded::tcp);
    }
    SUBCASE("inconsistent pieces") {
        Feed f;
        CHECK(f.add(frags[3]) == Decoded::tcp_fragment);
        Bytes longer = frags[2];
        longer[14 + 6] = 0x00;  // clear MF: a second, different end
        CHECK(f.add(longer) == Decoded::bad_ip_header);
        // Beyond 65535 bytes.
        CHECK(f.add(ether(0x0800, ipv4(Bytes(64, 0), 6, 0x1fff, 192, 9))) ==
              Decoded::bad_ip_header);
    }
    SUBCASE("the snaplen cuts a piece's payload: truncated bytes, not loss") {
        Feed f;
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1], 0, 14 + 20 + 10) == Decoded::tcp_fragment);
        CHECK(f.add(frags[2]) == Decoded::tcp_fragment);
        REQUIRE(f.add(frags[3]) == Decoded::tcp);
        CHECK(f.seg.payload_len == 100);
        CHECK(f.seg.truncated_bytes == 22);
    }
    SUBCASE("the snaplen cuts the TCP header") {
        Feed f;
        CHECK(f.add(frags[0], 0, 14 + 20 + 10) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[2]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[3]) == Decoded::truncated_header);
    }
}

TEST_CASE("reassembly: only TCP and what may carry a tunnel is reassembled") {
    Segment s;
    IpFragment f;
    CHECK(decode(ether(0x0800, ipv4(Bytes(40, 0), 1, 0x2000)), dlt_en10mb, s, SIZE_MAX, &f) ==
          Decoded::ip_fragment);  // ICMP
    CHECK(decode(ether(0x0800, ipv4(Bytes(40, 0), 50, 5)), dlt_en10mb, s, SIZE_MAX, &f) ==
          Decoded::ip_fragment);  // ESP
    for (const unsigned proto : {4u, 17u, 41u, 47u}) {
        CAPTURE(proto);
        CHECK(decode(ether(0x0800, ipv4(Bytes(40, 0), proto, 5)), dlt_en10mb, s, SIZE_MAX, &f) ==
              Decoded::tcp_fragment);
        CHECK(f.proto == proto);
    }
    // Without a reassembler, a first fragment still decodes on its own.
    CHECK(decode(fragments4(tcp(0x18, 100), 64)[0], dlt_en10mb, s) == Decoded::tcp);
}

TEST_CASE("reassembly: the Analyzer keeps packets_read == decoded + filtered_out + skipped") {
    capgap::Analyzer a;
    const auto frags = fragments4(tcp(0x02, 0), 8);
    const auto lost = fragments4(tcp(0x02, 40, 41000), 16, 0x99);
    std::int64_t t = 1'700'000'000 * second;
    for (const Bytes& fr : {frags[0], lost[0], frags[2], lost[2], frags[1]}) {
        a.feed_packet(fr.data(), static_cast<std::uint32_t>(fr.size()),
                      static_cast<std::uint32_t>(fr.size()), dlt_en10mb, capgap::Timestamp{t});
        t += 1000;
        const auto& st = a.stats();
        CHECK(st.packets_read == st.decoded + st.filtered_out + st.skipped());
    }
    const capgap::Report rep = a.finish();
    CHECK(rep.ingest.decoded == 1);
    CHECK(rep.ingest.skipped_ip_fragment == 2);
    CHECK(rep.ingest.skipped_fragment_incomplete == 2);
    CHECK(rep.ingest.packets_read ==
          rep.ingest.decoded + rep.ingest.filtered_out + rep.ingest.skipped());
    CHECK(rep.summary.total_sessions == 1);
    REQUIRE(rep.sessions.size() == 1);
    CHECK(rep.sessions[0].session.syn_frame == 5);  // numbered at the piece that completed it
}

namespace {

// Splits an outer IPv4 datagram's payload (protocol `proto`, 10.0.2.1 -> 10.0.2.2) into
// fragments of `piece` bytes (a multiple of 8): Ethernet frames in datagram order.
std::vector<Bytes> outer_fragments4(const Bytes& payload, unsigned proto, std::size_t piece,
                                    unsigned id = 0x55) {
    std::vector<Bytes> out;
    for (std::size_t off = 0; off < payload.size(); off += piece) {
        const std::size_t n = std::min(piece, payload.size() - off);
        const bool more = off + n < payload.size();
        const Bytes part(payload.begin() + static_cast<std::ptrdiff_t>(off),
                         payload.begin() + static_cast<std::ptrdiff_t>(off + n));
        out.push_back(ether(
            0x0800,
            ipv4(part, proto, (more ? 0x2000u : 0u) | static_cast<unsigned>(off / 8), 10, id)));
    }
    return out;
}

// The same with an outer IPv6 header and a fragment header.
std::vector<Bytes> outer_fragments6(const Bytes& payload, unsigned next, std::size_t piece) {
    std::vector<Bytes> out;
    for (std::size_t off = 0; off < payload.size(); off += piece) {
        const std::size_t n = std::min(piece, payload.size() - off);
        const bool more = off + n < payload.size();
        Bytes fh{static_cast<std::uint8_t>(next), 0};
        put16(fh, static_cast<unsigned>(off) | (more ? 1u : 0u));
        put32(fh, 0x0badcafe);
        const Bytes part(payload.begin() + static_cast<std::ptrdiff_t>(off),
                         payload.begin() + static_cast<std::ptrdiff_t>(off + n));
        out.push_back(ether(0x86dd, ipv6(44, cat(fh, part), 9)));
    }
    return out;
}

// A minimal GTP-U G-PDU (no optional fields) with TEID 7.
Bytes g_pdu(const Bytes& ip) {
    Bytes b{0x30, 0xff};
    put16(b, static_cast<unsigned>(ip.size()));
    put32(b, 7);
    return cat(b, ip);
}

// A tunnel's outer payload, named, and the inner segment's source and destination.
struct TunnelCase {
    const char* name;
    unsigned proto;
    Bytes payload;
    const char* src;
    const char* dst;
};

std::vector<TunnelCase> tunnel_cases(std::size_t tcp_payload) {
    const Bytes inner_ip = ipv4(tcp(0x18, tcp_payload));
    const Bytes inner_eth = ether(0x0800, inner_ip);
    const char* v4s = "192.0.2.1:40000";
    const char* v4d = "192.0.2.2:80";
    return {
        {"ERSPAN II", 47, gre(0x1000, 0x88be, cat(Bytes(8, 0x10), inner_eth)), v4s, v4d},
        {"GRE with key", 47, gre(0x2000, 0x0800, inner_ip), v4s, v4d},
        {"VXLAN", 17, udp(4789, vxlan(inner_eth)), v4s, v4d},
        {"Geneve", 17, udp(6081, geneve(0x6558, 2, inner_eth)), v4s, v4d},
        {"GTP-U", 17, udp(2152, g_pdu(inner_ip)), v4s, v4d},
        {"IP in IP", 4, inner_ip, v4s, v4d},
        {"IPv6 in IP", 41, ipv6(6, tcp(0x18, tcp_payload)), "[2001:db8::1]:40000",
         "[2001:db8::2]:80"},
    };
}

}  // namespace

TEST_CASE("reassembly: a tunnel whose outer IP is fragmented decodes what it carries") {
    for (const TunnelCase& tc : tunnel_cases(1600)) {
        for (const std::size_t piece : {552u, 1480u}) {
            for (const bool v6 : {false, true}) {
                CAPTURE(tc.name);
                CAPTURE(piece);
                CAPTURE(v6);
                const auto frags = v6 ? outer_fragments6(tc.payload, tc.proto, piece)
                                      : outer_fragments4(tc.payload, tc.proto, piece);
                REQUIRE(frags.size() >= 2);
                SUBCASE("in order") {
                    Feed f;
                    for (std::size_t i = 0; i + 1 < frags.size(); ++i)
                        CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
                    REQUIRE(f.add(frags.back()) == Decoded::tcp);
                    // The inner TCP length comes from the inner headers.
                    check_inner(f.seg, tc.src, tc.dst, 1600);
                    CHECK(f.st.skipped_ip_fragment == frags.size() - 1);
                    CHECK(f.r.pending() == 0);
                }
                SUBCASE("out of order: last first, then the rest from the start") {
                    Feed f;
                    CHECK(f.add(frags.back()) == Decoded::tcp_fragment);
                    for (std::size_t i = 0; i + 2 < frags.size(); ++i)
                        CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
                    REQUIRE(f.add(frags[frags.size() - 2]) == Decoded::tcp);
                    check_inner(f.seg, tc.src, tc.dst, 1600);
                }
            }
        }
    }
}

TEST_CASE("reassembly: a fragmented tunnel's pieces cut by the snaplen give truncated bytes") {
    const TunnelCase tc = tunnel_cases(1400)[2];  // VXLAN: 74 bytes precede the TCP payload
    REQUIRE(std::string(tc.name) == "VXLAN");
    const auto frags = outer_fragments4(tc.payload, 17, 512);
    REQUIRE(frags.size() == 3);
    SUBCASE("the second piece cut 100 bytes short: what follows the cut is truncated") {
        Feed f;
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1], 0, frags[1].size() - 100) == Decoded::tcp_fragment);
        REQUIRE(f.add(frags[2]) == Decoded::tcp);
        CHECK(f.seg.payload_len == 1400);
        // Captured: outer payload bytes 0..924, of which 74 are headers (UDP 8, VXLAN 8,
        // Ethernet 14, IPv4 20, TCP 24).
        CHECK(f.seg.truncated_bytes == 1400 - (924 - 74));
    }
    SUBCASE("the first piece cut inside the inner headers: the header is truncated") {
        Feed f;
        CHECK(f.add(frags[0], 0, 14 + 20 + 40) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[2]) == Decoded::truncated_header);
    }
}

TEST_CASE("reassembly: a fragmented tunnel missing a piece is incomplete, then given up") {
    const TunnelCase tc = tunnel_cases(1400)[0];  // ERSPAN II
    const auto frags = outer_fragments4(tc.payload, 47, 512);
    REQUIRE(frags.size() == 3);
    Feed f;
    CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
    CHECK(f.add(frags[2]) == Decoded::tcp_fragment);
    CHECK(f.r.pending() == 1);
    f.r.flush(f.st);
    CHECK(f.st.skipped_ip_fragment == 0);
    CHECK(f.st.skipped_fragment_incomplete == 2);
}

TEST_CASE("reassembly: a fragment inside a fragmented tunnel is reassembled in turn") {
    // The inner TCP datagram (300 bytes of payload) is fragmented in two, and each inner
    // fragment travels in GRE over an outer IPv4 fragmented in two again.
    const auto inner = fragments4(tcp(0x18, 300), 168, 0x33);
    REQUIRE(inner.size() == 2);
    Feed f;
    std::vector<Decoded> got;
    for (const Bytes& frame : inner) {
        const Bytes ip(frame.begin() + 14, frame.end());
        for (const Bytes& outer :
             outer_fragments4(gre(0, 0x0800, ip), 47, 96, static_cast<unsigned>(0x60 + got.size())))
            got.push_back(f.add(outer));
    }
    const std::vector<Decoded> expected = {Decoded::tcp_fragment, Decoded::tcp_fragment,
                                           Decoded::tcp_fragment, Decoded::tcp};
    CHECK(got == expected);
    check_inner(f.seg, "192.0.2.1:40000", "192.0.2.2:80", 300);
    CHECK(f.st.skipped_ip_fragment == 3);
    CHECK(f.r.pending() == 0);
}

TEST_CASE("reassembly: a reassembled tunnel continues the tunnel path it was found in") {
    // VXLAN (172.0.2.x, whole) around IPv4 (10.0.2.x) fragments of GRE with a key.
    const Bytes gre_payload = gre(0x2000, 0x0800, ipv4(tcp(0x18, 300)));
    Reassembler r;
    capgap::IngestStats st;
    Segment seg;
    capgap::detail::TunnelPath path;
    Decoded d = Decoded::not_ip;
    for (const Bytes& frag : outer_fragments4(gre_payload, 47, 160)) {
        const Bytes pkt = ether(0x0800, ipv4(udp(4789, vxlan(frag)), 17, 0, 172));
        IpFragment f;
        EncapInfo e;
        d = decode_packet(pkt.data(), static_cast<std::uint32_t>(pkt.size()),
                          static_cast<std::uint32_t>(pkt.size()), dlt_en10mb, seg, &f, &e, &path);
        REQUIRE(d == Decoded::tcp_fragment);
        d = r.add(f, capgap::Timestamp{0}, seg, st, &e, &path);
    }
    REQUIRE(d == Decoded::tcp);
    check_inner(seg, "192.0.2.1:40000", "192.0.2.2:80", 300);
    CHECK(path.describe() ==
          "VXLAN 172.0.2.1 <-> 172.0.2.2 VNI 1 / GRE 10.0.2.1 <-> 10.0.2.2 key 305419896");
}

TEST_CASE("reassembly: an undecodable tunnel datagram is named when it completes") {
    const auto frags = outer_fragments4(udp(2152, Bytes(1000, 0x30)), 17, 512);  // not a G-PDU
    Reassembler r;
    capgap::IngestStats st;
    Segment seg;
    Decoded d = Decoded::not_ip;
    EncapInfo e;
    for (const Bytes& frame : frags) {
        IpFragment f;
        d = decode_packet(frame.data(), static_cast<std::uint32_t>(frame.size()),
                          static_cast<std::uint32_t>(frame.size()), dlt_en10mb, seg, &f, &e);
        REQUIRE(d == Decoded::tcp_fragment);
        d = r.add(f, capgap::Timestamp{0}, seg, st, &e);
    }
    CHECK(d == Decoded::unsupported_encapsulation);
    CHECK(encapsulation_name(e) == "GTP-U message (type 48, no user data)");
    // Plain UDP completes as what it is: not TCP, once.
    Feed f;
    const auto dns = outer_fragments4(udp(53, Bytes(1000, 0)), 17, 512);
    CHECK(f.add(dns[0]) == Decoded::tcp_fragment);
    CHECK(f.add(dns[1]) == Decoded::not_tcp);
    CHECK(f.st.skipped_ip_fragment == 1);
}

TEST_CASE("reassembly: the bytes held for tunnels are bounded") {
    capgap::detail::ReassemblyLimits limits;
    limits.max_bytes = 70000;
    Feed f(limits);
    const TunnelCase tc = tunnel_cases(1600)[2];
    for (unsigned id = 0; id < 60; ++id) {
        // Only the first 1480-byte piece of each datagram arrives.
        CHECK(f.add(outer_fragments4(tc.payload, 17, 1480, id)[0]) == Decoded::tcp_fragment);
        CHECK(f.r.pending() * 1480 <= 70000);
    }
    CHECK(f.r.pending() == 70000 / 1480);
    CHECK(f.st.skipped_fragment_evicted == 60 - 70000 / 1480);
    f.r.flush(f.st);
    CHECK(f.st.skipped_ip_fragment == 0);
    CHECK(f.st.skipped_fragment_evicted + f.st.skipped_fragment_incomplete == 60);
}

TEST_CASE("reassembly: every prefix of every piece of a fragmented tunnel stays inside caplen") {
    // Each piece in turn cut to every length (in an exactly sized copy, so that a read past
    // caplen is a sanitizer error): the datagram gives the segment with truncated bytes, a
    // truncated header, or never completes; nothing else (a UDP header cut before its ports is
    // just "not TCP", as whole).
    for (const TunnelCase& tc : tunnel_cases(200)) {
        const auto frags = outer_fragments4(tc.payload, tc.proto, 96);
        for (std::size_t cut = 0; cut < frags.size(); ++cut) {
            for (std::size_t n = 0; n < frags[cut].size(); ++n) {
                const std::string name = tc.name;
                CAPTURE(name);
                CAPTURE(cut);
                CAPTURE(n);
                Reassembler r;
                capgap::IngestStats st;
                Segment seg;
                Decoded d = Decoded::not_ip;
                for (std::size_t i = 0; i < frags.size(); ++i) {
                    const std::size_t caplen = i == cut ? n : frags[i].size();
                    const Bytes copy(frags[i].begin(),
                                     frags[i].begin() + static_cast<std::ptrdiff_t>(caplen));
                    IpFragment f;
                    d = decode_packet(copy.data(), static_cast<std::uint32_t>(caplen),
                                      static_cast<std::uint32_t>(frags[i].size()), dlt_en10mb, seg,
                                      &f);
                    if (d == Decoded::tcp_fragment) d = r.add(f, capgap::Timestamp{0}, seg, st);
                }
                CHECK((d == Decoded::tcp || d == Decoded::truncated_header ||
                       d == Decoded::tcp_fragment || (d == Decoded::not_tcp && tc.proto == 17)));
                if (d == Decoded::tcp) {
                    CHECK(seg.payload_len == 200);
                    CHECK(seg.truncated_bytes <= 200);
                }
            }
        }
    }
}
