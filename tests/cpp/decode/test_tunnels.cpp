// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Encapsulations (MPLS, PPPoE, GRE, PPTP, ERSPAN, VXLAN, Geneve, GTP-U, IP in IP, MACsec), what is
// recognised but not decoded, tunnel paths and the tunnel key, and the shared captures that
// use them. Packets are built byte by byte (support/encap_packets.hpp).

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
#include "support/shared_captures.hpp"

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

TEST_CASE("tunnels: MPLS label stacks") {
    Segment s;
    SUBCASE("one label, IPv4") {
        REQUIRE(decode(ether(0x8847, mpls({100}, ipv4(tcp()))), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("three labels, IPv6, multicast ethertype") {
        REQUIRE(decode(ether(0x8848, mpls({16, 17, 2}, ipv6(6, tcp()))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    }
    SUBCASE("Ethernet pseudowire behind a control word, with VLAN in MPLS in VLAN") {
        const Bytes pw = cat(Bytes{0, 0, 0, 0}, ether(0x0800, ipv4(tcp()), {0x8100}));
        REQUIRE(decode(ether(0x8847, mpls({30, 31}, pw), {0x8100}), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("neither IP nor a control word") {
        CHECK(decode(ether(0x8847, mpls({5}, Bytes(40, 0x99))), dlt_en10mb, s) ==
              Decoded::unsupported_encapsulation);
    }
    SUBCASE("stack without bottom cut by the snaplen") {
        const Bytes pkt = ether(0x8847, mpls({1, 2, 3}, ipv4(tcp())));
        CHECK(decode(pkt, dlt_en10mb, s, 14 + 6) == Decoded::truncated_header);
    }
}

TEST_CASE("tunnels: PPPoE sessions") {
    Segment s;
    REQUIRE(decode(ether(0x8864, pppoe(0x0021, ipv4(tcp()))), dlt_en10mb, s) == Decoded::tcp);
    check_inner(s);
    REQUIRE(decode(ether(0x8864, pppoe(0x0057, ipv6(6, tcp())), {0x88a8, 0x8100}), dlt_en10mb, s) ==
            Decoded::tcp);
    check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    CHECK(decode(ether(0x8864, pppoe(0xc021, Bytes(20, 1))), dlt_en10mb, s) == Decoded::not_ip);
    CHECK(decode(ether(0x8863, Bytes(20, 0)), dlt_en10mb, s) == Decoded::not_ip);  // discovery
    // PPPoE without Ethernet (DLT_PPP_ETHER).
    REQUIRE(decode(pppoe(0x0021, ipv4(tcp())), dlt_ppp_ether, s) == Decoded::tcp);
    check_inner(s);
}

TEST_CASE("tunnels: an IP length beyond the PPPoE payload length is clamped to it") {
    // A pure ACK whose IPv4 total length claims 6 bytes more than PPPoE carries (seen on a
    // real PPPoE capture): the payload is 0, as Wireshark reads it, not 6 bytes of padding.
    Bytes frame = pppoe(0x0021, ipv4(tcp(0x10, 0)));
    Bytes padded = cat(frame, Bytes(6, 0));
    const unsigned total = (padded[10] << 8 | padded[11]) + 6u;  // IPv4 total length
    padded[10] = static_cast<std::uint8_t>(total >> 8);
    padded[11] = static_cast<std::uint8_t>(total & 0xff);
    Segment s;
    REQUIRE(decode(ether(0x8864, padded), dlt_en10mb, s) == Decoded::tcp);
    CHECK(s.payload_len == 0);
}

TEST_CASE("tunnels: GRE") {
    Segment s;
    SUBCASE("plain, IPv4 inside") {
        REQUIRE(decode(outer4(47, gre(0, 0x0800, ipv4(tcp()))), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("checksum, key and sequence, IPv6 inside") {
        REQUIRE(decode(outer4(47, gre(0xb000, 0x86dd, ipv6(6, tcp()))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    }
    SUBCASE("transparent Ethernet bridging") {
        REQUIRE(decode(outer4(47, gre(0x2000, 0x6558, inner_frame())), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("MPLS over GRE") {
        REQUIRE(decode(outer4(47, gre(0, 0x8847, mpls({9}, ipv4(tcp())))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("WCCP redirects, v2 with its 4-byte header and v1 without") {
        REQUIRE(decode(outer4(47, gre(0, 0x883e, cat(Bytes{0, 0, 0, 0}, ipv4(tcp())))), dlt_en10mb,
                       s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(outer4(47, gre(0, 0x883e, ipv4(tcp()))), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("source routing and unknown versions are not decoded") {
        CHECK(decode(outer4(47, gre(0x4000, 0x0800, ipv4(tcp()))), dlt_en10mb, s) ==
              Decoded::unsupported_encapsulation);
        CHECK(decode(outer4(47, gre(0x0002, 0x0800, ipv4(tcp()))), dlt_en10mb, s) ==
              Decoded::unsupported_encapsulation);
    }
    SUBCASE("header cut by the snaplen") {
        const Bytes pkt = outer4(47, gre(0xb000, 0x0800, ipv4(tcp())));
        CHECK(decode(pkt, dlt_en10mb, s, 14 + 20 + 10) == Decoded::truncated_header);
    }
}

TEST_CASE("tunnels: PPTP (GRE version 1 with PPP)") {
    Segment s;
    SUBCASE("address/control and a 2-byte protocol") {
        const Bytes ppp = cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp()));
        REQUIRE(decode(outer4(47, pptp(true, false, ppp)), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("compressed: no address/control, 1-byte protocol, with an acknowledgement") {
        const Bytes ppp = cat(Bytes{0x21}, ipv4(tcp()));
        REQUIRE(decode(outer4(47, pptp(true, true, ppp)), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("IPv6 inside") {
        const Bytes ppp = cat(Bytes{0x00, 0x57}, ipv6(6, tcp()));
        REQUIRE(decode(outer4(47, pptp(false, false, ppp)), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    }
    SUBCASE("LCP and acknowledgement-only packets") {
        CHECK(decode(outer4(47, pptp(true, false, Bytes{0xff, 0x03, 0xc0, 0x21, 1, 0, 0, 4})),
                     dlt_en10mb, s) == Decoded::not_ip);
        CHECK(decode(outer4(47, pptp(false, true, {})), dlt_en10mb, s) == Decoded::not_ip);
    }
}

TEST_CASE("tunnels: ERSPAN types I, II and III") {
    Segment s;
    SUBCASE("type I: no sequence number, Ethernet follows") {
        REQUIRE(decode(outer4(47, gre(0, 0x88be, inner_frame())), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("type II: sequence number and an 8-byte header") {
        const Bytes hdr{0x10, 0x64, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00};
        REQUIRE(decode(outer4(47, gre(0x1000, 0x88be, cat(hdr, inner_frame()))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("type III without and with the platform subheader") {
        Bytes hdr{0x20, 0x64, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0x00, 0x00};
        REQUIRE(decode(outer4(47, gre(0x1000, 0x22eb, cat(hdr, inner_frame()))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s);
        hdr[11] = 0x01;  // O bit
        const Bytes platform(8, 0x77);
        REQUIRE(decode(outer4(47, gre(0x1000, 0x22eb, cat(cat(hdr, platform), inner_frame()))),
                       dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
        hdr[10] = 0x08;  // frame type 2: IP, no Ethernet header
        REQUIRE(decode(outer4(47, gre(0x1000, 0x22eb, cat(cat(hdr, platform), ipv4(tcp())))),
                       dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
}

TEST_CASE("tunnels: VXLAN and Geneve") {
    Segment s;
    SUBCASE("VXLAN, and VXLAN in VLAN") {
        REQUIRE(decode(outer4(17, udp(4789, vxlan(inner_frame()))), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(ether(0x0800, ipv4(udp(4789, vxlan(inner_frame())), 17, 0, 10), {0x8100}),
                       dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(ether(0x86dd, ipv6(17, udp(4789, vxlan(inner_frame())), 7)), dlt_en10mb,
                       s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("Geneve: Ethernet with options, IPv4 and IPv6 directly") {
        REQUIRE(decode(outer4(17, udp(6081, geneve(0x6558, 3, inner_frame()))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(outer4(17, udp(6081, geneve(0x0800, 0, ipv4(tcp())))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(outer4(17, udp(6081, geneve(0x86dd, 1, ipv6(6, tcp())))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    }
    SUBCASE("other UDP is not TCP") {
        CHECK(decode(outer4(17, udp(53, Bytes(30, 0))), dlt_en10mb, s) == Decoded::not_tcp);
        CHECK(decode(outer4(17, udp(4789, Bytes(4, 0))), dlt_en10mb, s) ==
              Decoded::truncated_header);
    }
}

namespace {

// GTP-U v1 (3GPP TS 29.281) with TEID `teid` around `payload`: message type `type` (255: a
// G-PDU); `flags` among E (4), S (2), PN (1) add the optional word; with E, `ext` are the
// extension headers' contents (each 2 + 4k bytes), chained in order, each of type 0x85.
Bytes gtpu(unsigned teid, const Bytes& payload, unsigned flags = 0,
           const std::vector<Bytes>& ext = {}, unsigned type = 255) {
    Bytes rest;
    if (flags != 0) {
        put16(rest, 0x1234);  // sequence number
        rest.push_back(0);    // N-PDU number
        rest.push_back((flags & 4) != 0 && !ext.empty() ? 0x85 : 0);
        for (std::size_t i = 0; i < ext.size(); ++i) {
            rest.push_back(static_cast<std::uint8_t>((ext[i].size() + 2) / 4));
            rest.insert(rest.end(), ext[i].begin(), ext[i].end());
            rest.push_back(i + 1 < ext.size() ? 0x85 : 0);
        }
    }
    rest = cat(rest, payload);
    Bytes b{static_cast<std::uint8_t>(0x30 | flags), static_cast<std::uint8_t>(type)};
    put16(b, static_cast<unsigned>(rest.size()));
    put32(b, teid);
    return cat(b, rest);
}

}  // namespace

TEST_CASE("tunnels: GTP-U") {
    Segment s;
    SUBCASE("a G-PDU with IPv4 or IPv6 inside and outside") {
        REQUIRE(decode(outer4(17, udp(2152, gtpu(7, ipv4(tcp())))), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(outer4(17, udp(2152, gtpu(7, ipv6(6, tcp())))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
        REQUIRE(decode(ether(0x86dd, ipv6(17, udp(2152, gtpu(7, ipv4(tcp()))), 7)), dlt_en10mb,
                       s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(ether(0x86dd, ipv6(17, udp(2152, gtpu(7, ipv6(6, tcp()))), 7)), dlt_en10mb,
                       s) == Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    }
    SUBCASE("the optional word and chained extension headers") {
        for (const unsigned flags : {1u, 2u, 3u, 4u, 7u}) {
            CAPTURE(flags);
            REQUIRE(decode(outer4(17, udp(2152, gtpu(7, ipv4(tcp()), flags))), dlt_en10mb, s) ==
                    Decoded::tcp);
            check_inner(s);
        }
        const std::vector<Bytes> ext = {Bytes{0x00, 0x01}, Bytes(6, 0x55), Bytes(10, 0x66)};
        REQUIRE(decode(outer4(17, udp(2152, gtpu(7, ipv4(tcp()), 4, ext))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_inner(s);
        // Without E, the next-extension-header byte means nothing: no extension is read.
        Bytes no_e = gtpu(7, ipv4(tcp()), 2);
        no_e[11] = 0x85;
        REQUIRE(decode(outer4(17, udp(2152, no_e)), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("the GTP-U length bounds the inner packet") {
        // The G-PDU's length says 10 bytes fewer than the inner IPv4 claims (60): the rest
        // is not part of the packet, as a PPPoE length bounds what it carries.
        Bytes g = gtpu(7, ipv4(tcp(0x18, 20)));
        REQUIRE(g[3] == 20 + 24 + 20);
        g[3] -= 10;
        REQUIRE(decode(outer4(17, udp(2152, g)), dlt_en10mb, s) == Decoded::tcp);
        CHECK(s.payload_len == 10);
        CHECK(s.truncated_bytes == 0);
    }
}

TEST_CASE("tunnels: IP in IP") {
    Segment s;
    REQUIRE(decode(outer4(4, ipv4(tcp())), dlt_en10mb, s) == Decoded::tcp);
    check_inner(s);
    REQUIRE(decode(outer4(41, ipv6(6, tcp())), dlt_en10mb, s) == Decoded::tcp);
    check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    REQUIRE(decode(ether(0x86dd, ipv6(4, ipv4(tcp()), 9)), dlt_en10mb, s) == Decoded::tcp);
    check_inner(s);
    REQUIRE(decode(ether(0x86dd, ipv6(41, ipv6(6, tcp()), 9)), dlt_en10mb, s) == Decoded::tcp);
    check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
}

TEST_CASE("tunnels: nested stacks and the depth limit") {
    Segment s;
    SUBCASE("GRE in VXLAN in MPLS in PPPoE in QinQ") {
        const Bytes deep = ether(
            0x8864,
            pppoe(0x0281,
                  mpls({3}, ipv4(udp(4789, vxlan(ether(0x0800, ipv4(gre(0, 0x0800, ipv4(tcp())), 47,
                                                                    0, 11)))),
                                 17, 0, 10))),
            {0x88a8, 0x8100});
        REQUIRE(decode(deep, dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("eight IP-in-IP layers decode, nine do not") {
        Bytes pkt = ipv4(tcp());
        for (int i = 0; i < 8; ++i)
            pkt = ipv4(pkt, 4, 0, 10);
        REQUIRE(decode(ether(0x0800, pkt), dlt_en10mb, s) == Decoded::tcp);
        check_inner(s);
        CHECK(decode(ether(0x0800, ipv4(pkt, 4, 0, 10)), dlt_en10mb, s) ==
              Decoded::encapsulation_depth);
    }
    SUBCASE("a GRE loop") {
        Bytes pkt = ipv4(tcp());
        for (int i = 0; i < 40; ++i)
            pkt = ipv4(gre(0, 0x0800, pkt), 47, 0, 10);
        CHECK(decode(ether(0x0800, pkt), dlt_en10mb, s) == Decoded::encapsulation_depth);
    }
}

namespace {

// Every packet the tunnel tests build, with its link type.
std::vector<std::pair<int, Bytes>> tunnel_packets() {
    Bytes rt{0, 0};
    put16_le(rt, 8);
    put32_le(rt, 0);
    Bytes ppi{0, 0};
    put16_le(ppi, 8);
    put32_le(ppi, 105);
    Bytes fddi{0x50};
    fddi.insert(fddi.end(), 12, 0x22);
    return {
        {dlt_en10mb,
         ether(0x8847, mpls({30, 31}, cat(Bytes{0, 0, 0, 0}, ether(0x0800, ipv4(tcp()), {0x8100}))),
               {0x8100})},
        {dlt_en10mb, ether(0x8864, pppoe(0x0057, ipv6(6, tcp())), {0x88a8})},
        {dlt_en10mb, outer4(47, gre(0xb000, 0x6558, inner_frame()))},
        {dlt_en10mb, outer4(47, pptp(true, true, cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp()))))},
        {dlt_en10mb,
         outer4(47, gre(0x1000, 0x22eb,
                        cat(Bytes{0x20, 0x64, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8},
                            inner_frame())))},
        {dlt_en10mb, outer4(47, gre(0x1000, 0x88be, cat(Bytes(8, 0x10), inner_frame())))},
        {dlt_en10mb, outer4(17, udp(4789, vxlan(inner_frame())))},
        {dlt_en10mb, outer4(17, udp(6081, geneve(0x6558, 2, inner_frame())))},
        {dlt_en10mb, outer4(17, udp(2152, gtpu(9, ipv4(tcp()))))},
        {dlt_en10mb, outer4(17, udp(2152, gtpu(9, ipv6(6, tcp()), 7, {Bytes{1, 2}, Bytes(6, 3)})))},
        {dlt_en10mb, ether(0x86dd, ipv6(4, ipv4(tcp())))},
        {dlt_ppp, cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp()))},
        {dlt_ppp_ether, pppoe(0x0021, ipv4(tcp()))},
        {dlt_c_hdlc, cat(Bytes{0x0f, 0x00, 0x08, 0x00}, ipv4(tcp()))},
        {dlt_nflog, nflog(2, ipv4(tcp()))},
        {dlt_80211, wlan(ipv4(tcp()), 0x0800, 0x88, 0x83)},
        {dlt_radiotap, cat(rt, wlan(ipv4(tcp()), 0x0800))},
        {dlt_ppi, cat(ppi, wlan(ipv4(tcp()), 0x0800))},
        {dlt_fddi, cat(cat(fddi, Bytes{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}), ipv4(tcp()))},
        {dlt_arcnet_linux, cat(Bytes{0xbe, 0x50, 0, 0, 0xd4, 0, 0, 1}, ipv4(tcp()))},
        {dlt_juniper_ether, cat(Bytes{'M', 'G', 'C', 0x80, 0, 2, 9, 9}, inner_frame())},
    };
}

}  // namespace

TEST_CASE("tunnels: every prefix of every packet stays inside caplen") {
    for (const auto& [link, pkt] : tunnel_packets()) {
        CAPTURE(link);
        Segment s;
        REQUIRE(decode(pkt, link, s) == Decoded::tcp);
        for (std::size_t n = 0; n < pkt.size(); ++n) {
            CAPTURE(n);
            const Decoded d = decode(pkt, link, s, n);
            // A UDP header cut before its ports is just "not TCP".
            CHECK((d == Decoded::truncated_header || d == Decoded::tcp || d == Decoded::not_tcp));
        }
    }
}

TEST_CASE("tunnels: random bytes and mutated tunnel packets never crash") {
    std::mt19937 rng(4711);
    const auto packets = tunnel_packets();
    const int links[] = {1, 9, 10, 50, 51, 104, 105, 127, 129, 163, 178, 192, 239};
    for (int i = 0; i < 40000; ++i) {
        Bytes pkt;
        int link = 0;
        if (i & 1) {
            const auto& base = packets[rng() % packets.size()];
            pkt = base.second;
            link = base.first;
            for (int k = 0; k < 3; ++k)
                pkt[rng() % pkt.size()] = static_cast<std::uint8_t>(rng());
            pkt.resize(rng() % (pkt.size() + 1));
        } else {
            pkt.resize(rng() % 160);
            for (auto& b : pkt)
                b = static_cast<std::uint8_t>(rng());
            link = links[rng() % (sizeof links / sizeof links[0])];
        }
        Segment s;
        IpFragment f;
        const Decoded d = decode(pkt, link, s, pkt.size(), (i & 2) ? &f : nullptr);
        CHECK(static_cast<int>(d) <= static_cast<int>(Decoded::unsupported_encapsulation));
        if (d == Decoded::tcp_fragment) {
            CHECK(f.captured <= f.length);
        }
    }
}

namespace {

std::map<std::string, std::map<std::string, std::string>> read_manifest(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    {
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, '\t'))
            header.push_back(cell);
    }
    std::map<std::string, std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string cell;
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; std::getline(ss, cell, '\t') && i < header.size(); ++i)
            row[header[i]] = cell;
        rows[row["file"]] = row;
    }
    return rows;
}

}  // namespace

TEST_CASE("tunnels: shared captures decode as many TCP packets as tshark") {
    const auto dir = capgap::test::shared_captures();
    if (!dir) return;
    const std::string& root = *dir;
    const auto manifest = read_manifest(root + "/MANIFEST.tsv");
    // tcp_packets is tshark's count of frames with a TCP layer; syn_noack its pure SYNs. The
    // sessions are the distinct SYN streams: NFLOG holds one SYN logged three times.
    struct Case {
        const char* file;
        std::uint64_t sessions;
    };
    const Case cases[] = {
        {"libpcap__geneve.pcap", 1},
        {"zeek__tunnels_vxlan-encapsulated-http.pcap", 1},
        {"zeek__pppoe-over-qinq.pcap", 1},
        {"zeek__mpls-in-vlan.pcap", 0},  // three mid-stream frames, no SYN
        {"tcpdump__pptp.pcap", 1},       // the control connection; GRE carries only LCP
        {"suricata__decode-chdlc-01_hdlc-http_1tx.pcap", 1},
        {"zeek__nflog-http.pcap", 1},
        {"zeek__dns-inverse-query.pcap", 1},  // FDDI
        {"tcpdump__arcnet-rfc1201-arp-icmp-http.pcap", 1},
        // The SYN is split into three 8-byte IPv4 fragments: tshark shows TCP in the last.
        {"suricata__bug-6887-defrag-ppp-ipv4-tcp-syn_frag-ppp-ip-tcp-syn.pcap", 1},
        {"pcapplusplus__many_interfaces-1.pcapng", 2},
        {"tcpdump__bgp-aigp.pcap", 0},  // Juniper Ethernet, one BGP segment
    };
    for (const Case& c : cases) {
        CAPTURE(c.file);
        const auto row = manifest.find(c.file);
        REQUIRE(row != manifest.end());
        const capgap::Report rep = capgap::analyze({root + "/" + c.file});
        CHECK(rep.ingest.decoded == std::stoull(row->second.at("tcp_packets")));
        CHECK(rep.ingest.skipped_unsupported_link == 0);
        CHECK(rep.ingest.packets_read ==
              rep.ingest.decoded + rep.ingest.filtered_out + rep.ingest.skipped());
        CHECK(rep.summary.total_sessions == c.sessions);
    }
}

// ---- whole sessions inside each encapsulation ---------------------------------------------

namespace {
// An IPv4/TCP packet carrying exactly the segment's fields (payload bytes zero).
Bytes ipv4_tcp(const Segment& s) {
    Bytes t;
    put16(t, s.src.port);
    put16(t, s.dst.port);
    put32(t, s.seq);
    put32(t, s.ack);
    t.push_back(0x50);
    t.push_back(s.flags);
    put16(t, s.window);
    put32(t, 0);  // checksum, urgent pointer
    t.insert(t.end(), s.payload_len, 0);
    Bytes ip{0x45, 0};
    put16(ip, static_cast<unsigned>(20 + t.size()));
    put16(ip, static_cast<unsigned>(s.frame));
    put16(ip, 0);
    ip.push_back(64);
    ip.push_back(6);
    put16(ip, 0);
    ip.insert(ip.end(), s.src.addr.bytes.begin(), s.src.addr.bytes.begin() + 4);
    ip.insert(ip.end(), s.dst.addr.bytes.begin(), s.dst.addr.bytes.begin() + 4);
    return cat(ip, t);
}
}  // namespace

TEST_CASE("tunnels: a session with a known drop is judged the same inside every encapsulation") {
    // Client data 101..200 is missed while the server's ACK of it is captured: bad
    // (docs/counting-rules.md section 8 row 2) in both verdicts, whatever carries the packets.
    std::vector<Segment> segs;
    capgap::test::Flow f(segs);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    f.c(201, 100);  // 101..200 missed
    f.s(1, 0, 301);
    f.c(301, 0, 1, capgap::tcp_flags::fin);
    f.s(1, 0, 302, capgap::tcp_flags::fin);
    f.c(302, 0, 2);

    using Wrap = Bytes (*)(const Bytes&);
    const std::vector<std::tuple<const char*, int, Wrap>> carriers = {
        {"Ethernet", dlt_en10mb, [](const Bytes& ip) { return ether(0x0800, ip); }},
        {"QinQ", dlt_en10mb,
         [](const Bytes& ip) {
             return ether(0x0800, ip, {0x88a8, 0x8100});
         }},
        {"MPLS in VLAN", dlt_en10mb,
         [](const Bytes& ip) {
             return ether(0x8847, mpls({100, 200}, ip), {0x8100});
         }},
        {"PPPoE over QinQ", dlt_en10mb,
         [](const Bytes& ip) {
             return ether(0x8864, pppoe(0x0021, ip), {0x88a8, 0x8100});
         }},
        {"GRE with key", dlt_en10mb,
         [](const Bytes& ip) { return outer4(47, gre(0x2000, 0x0800, ip)); }},
        {"PPTP", dlt_en10mb,
         [](const Bytes& ip) {
             return outer4(47, pptp(true, false, cat({0xff, 0x03, 0x00, 0x21}, ip)));
         }},
        {"VXLAN", dlt_en10mb,
         [](const Bytes& ip) { return outer4(17, udp(4789, vxlan(ether(0x0800, ip)))); }},
        {"Geneve", dlt_en10mb,
         [](const Bytes& ip) {
             return outer4(17, udp(6081, geneve(0x6558, 1, ether(0x0800, ip))));
         }},
        {"IP in IP", dlt_en10mb, [](const Bytes& ip) { return outer4(4, ip); }},
        {"PPP", dlt_ppp,
         [](const Bytes& ip) {
             return cat({0xff, 0x03, 0x00, 0x21}, ip);
         }},
        {"Cisco HDLC", dlt_c_hdlc,
         [](const Bytes& ip) {
             return cat({0x0f, 0x00, 0x08, 0x00}, ip);
         }},
    };
    for (const auto& [name, link, wrap] : carriers) {
        CAPTURE(name);
        capgap::Analyzer a;
        for (const Segment& s : segs) {
            const Bytes pkt = wrap(ipv4_tcp(s));
            a.feed_packet(pkt.data(), static_cast<std::uint32_t>(pkt.size()),
                          static_cast<std::uint32_t>(pkt.size()), link, s.time);
        }
        const capgap::Report r = a.finish();
        CHECK(r.ingest.decoded == segs.size());
        CHECK(r.summary.total_sessions == 1);
        CHECK(r.summary.bad_confirmed == 1);
        CHECK(r.summary.bad_wireshark == 1);
        REQUIRE(r.sessions.size() == 1);
        CHECK(r.sessions[0].missing_bytes == 100);
        CHECK(r.sessions[0].session.client == f.client);
    }
}

namespace {

// Decodes `pkt` and returns the name of the encapsulation that stopped it ("" when none).
std::string stopped_at(const Bytes& pkt, Decoded expected, int link = dlt_en10mb) {
    Segment s;
    EncapInfo e;
    const Decoded d = decode_packet(pkt.data(), static_cast<std::uint32_t>(pkt.size()),
                                    static_cast<std::uint32_t>(pkt.size()), link, s, nullptr, &e);
    CHECK(d == expected);
    return e.kind == Encap::none ? "" : encapsulation_name(e);
}

}  // namespace

TEST_CASE("tunnels: encapsulations that are not decoded are named, not called 'not IP'") {
    const Decoded unsupported = Decoded::unsupported_encapsulation;
    CHECK(stopped_at(outer4(47, gre(0, 0x1234, ipv4(tcp()))), unsupported) ==
          "GRE protocol 0x1234");
    CHECK(stopped_at(outer4(47, gre(0x4000, 0x0800, ipv4(tcp()))), unsupported) ==
          "GRE with source routing");
    CHECK(stopped_at(outer4(47, gre(0x0002, 0x0800, ipv4(tcp()))), unsupported) == "GRE version 2");
    CHECK(stopped_at(outer4(17, udp(2123, Bytes(40, 0x48))), unsupported) ==
          "UDP port 2123 (GTP-C)");
    CHECK(stopped_at(outer4(17, udp(2152, gtpu(1, Bytes{}, 2, {}, 1))), unsupported) ==
          "GTP-U echo request (type 1, no user data)");
    CHECK(stopped_at(outer4(17, udp(2152, gtpu(1, Bytes{}, 0, {}, 254))), unsupported) ==
          "GTP-U end marker (type 254, no user data)");
    CHECK(stopped_at(outer4(17, udp(2152, gtpu(1, Bytes(8, 0), 0, {}, 26))), unsupported) ==
          "GTP-U error indication (type 26, no user data)");
    CHECK(stopped_at(outer4(17, udp(2152, gtpu(1, Bytes(40, 0x11)))), unsupported) ==
          "GTP-U payload with first nibble 1 (not IP)");
    Bytes gtp2 = gtpu(1, ipv4(tcp()));
    gtp2[0] = 0x50;  // version 2 (GTP-C's), protocol type 1
    CHECK(stopped_at(outer4(17, udp(2152, gtp2)), unsupported) == "GTP version 2 on UDP port 2152");
    Bytes gtp_prime = gtpu(1, ipv4(tcp()));
    gtp_prime[0] = 0x20;  // protocol type 0
    CHECK(stopped_at(outer4(17, udp(2152, gtp_prime)), unsupported) ==
          "GTP version 1 (GTP') on UDP port 2152");
    Bytes zero_ext = gtpu(1, ipv4(tcp()), 4, {Bytes{1, 2}});
    zero_ext[12] = 0;  // an extension header of length 0 would never end
    CHECK(stopped_at(outer4(17, udp(2152, zero_ext)), unsupported) ==
          "GTP-U malformed extension header");
    CHECK(stopped_at(outer4(17, udp(1701, Bytes(40, 0x02))), unsupported) ==
          "UDP port 1701 (L2TP)");
    CHECK(stopped_at(outer4(17, udp(6081, geneve(0x1234, 0, Bytes(40, 0)))), unsupported) ==
          "Geneve protocol 0x1234");
    CHECK(stopped_at(ether(0x8847, mpls({5}, Bytes(40, 0x99))), unsupported) ==
          "MPLS payload with first nibble 9");
    CHECK(stopped_at(ether(0x8864, pppoe(0x002d, Bytes(20, 1))), unsupported) ==
          "PPP protocol 0x002d");  // Van Jacobson compressed TCP
    CHECK(stopped_at(ether(0x88e7, Bytes(40, 0)), unsupported) == "ethertype 0x88e7 (802.1ah PBB)");
    CHECK(stopped_at(outer4(50, Bytes(40, 0)), Decoded::encrypted) == "IPsec ESP (encrypted)");
    Bytes sectag_encrypted{0x0c, 0, 0, 0, 0, 1, 0, 0};  // E and C bits
    CHECK(stopped_at(ether(0x88e5, cat(sectag_encrypted, Bytes(40, 0))), Decoded::encrypted) ==
          "MACsec (encrypted)");
    // What is plainly not a tunnel stays under not_ip / not_tcp, unnamed.
    CHECK(stopped_at(ether(0x0806, Bytes(28, 0)), Decoded::not_ip).empty());
    CHECK(stopped_at(ether(0x8864, pppoe(0xc021, Bytes(20, 1))), Decoded::not_ip).empty());
    CHECK(stopped_at(outer4(17, udp(53, Bytes(40, 0))), Decoded::not_tcp).empty());
}

TEST_CASE("tunnels: MACsec without encryption is decoded") {
    Bytes sectag{0x00, 0, 0, 0, 0, 1, 0, 0};  // integrity only, no SCI
    Bytes pkt = ether(0x88e5, cat(sectag, cat(Bytes{0x08, 0x00}, ipv4(tcp()))));
    Segment s;
    REQUIRE(decode(pkt, dlt_en10mb, s) == Decoded::tcp);
    check_inner(s);
}

TEST_CASE("tunnels: the report counts and names what could not be decoded") {
    capgap::Analyzer a;
    const std::vector<Bytes> frames = {
        outer4(17, udp(2123, Bytes(40, 0x48))),
        outer4(17, udp(2123, Bytes(40, 0x48))),
        outer4(47, gre(0, 0x1234, ipv4(tcp()))),
        outer4(50, Bytes(40, 0)),
        inner_frame(),  // one that decodes
    };
    std::int64_t t = 1'700'000'000 * second;
    for (const Bytes& f : frames)
        a.feed_packet(f.data(), static_cast<std::uint32_t>(f.size()),
                      static_cast<std::uint32_t>(f.size()), dlt_en10mb,
                      capgap::Timestamp{t += second});
    const capgap::Report r = a.finish();
    CHECK(r.ingest.decoded == 1);
    CHECK(r.ingest.skipped_unsupported_encapsulation == 3);
    CHECK(r.ingest.skipped_encrypted == 1);
    CHECK(r.ingest.packets_read == r.ingest.decoded + r.ingest.skipped());
    const std::map<std::string, std::uint64_t> expected = {
        {"UDP port 2123 (GTP-C)", 2}, {"GRE protocol 0x1234", 1}, {"IPsec ESP (encrypted)", 1}};
    CHECK(r.ingest.unsupported_encapsulations == expected);
    const std::string text = r.to_text();
    CHECK(text.find("undecoded encapsulation UDP port 2123 (GTP-C): 2") != std::string::npos);
    CHECK(r.to_json().find("\"unsupported_encapsulations\":{\"GRE protocol 0x1234\":1,") !=
          std::string::npos);
}

namespace {

// Ethernet / IPv4 10.0.2.1 <-> 10.0.2.2 (swapped for the server's packets) / UDP / VXLAN
// with `vni`, around an inner IPv4 packet.
Bytes in_vxlan(const Bytes& inner_ip, unsigned vni, bool from_server) {
    Bytes v{0x08, 0, 0, 0};
    put32(v, vni << 8);
    Bytes pkt = outer4(17, udp(4789, cat(v, ether(0x0800, inner_ip))));
    if (from_server) {
        for (std::size_t i = 0; i < 4; ++i)
            std::swap(pkt[14 + 12 + i], pkt[14 + 16 + i]);
    }
    return pkt;
}

}  // namespace

TEST_CASE("tunnels: with tunnel_key, the same inner sockets in two tunnels are two sessions") {
    // Two tenants (VNI 1 and VNI 2) whose connections use the same inner addresses and ports,
    // with their own ISNs, packets interleaved. The first misses client bytes 101..200.
    std::vector<Segment> one, two;
    capgap::test::Flow f1(one), f2(two);
    f2.cisn = 777777;
    f2.sisn = 888888;
    f2.t_ns = f1.t_ns + 500'000;  // half a millisecond later, the same pace: interleaved
    for (capgap::test::Flow* f : {&f1, &f2}) {
        f->handshake();
        f->c(1, 100);
        f->s(1, 0, 101);
        if (f == &f2) f->c(101, 100);  // the first tenant's copy of this is missed
        f->c(201, 100);
        f->s(1, 0, 301);
    }
    std::vector<std::pair<Segment, unsigned>> all;
    for (const Segment& s : one)
        all.emplace_back(s, 1);
    for (const Segment& s : two)
        all.emplace_back(s, 2);
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return a.first.time < b.first.time; });

    for (const bool keyed : {true, false}) {
        CAPTURE(keyed);
        capgap::Options o;
        o.tunnel_key = keyed;
        capgap::Analyzer a(o);
        for (const auto& [s, vni] : all) {
            const Bytes pkt = in_vxlan(ipv4_tcp(s), vni, s.src == f1.server);
            a.feed_packet(pkt.data(), static_cast<std::uint32_t>(pkt.size()),
                          static_cast<std::uint32_t>(pkt.size()), dlt_en10mb, s.time);
        }
        const capgap::Report r = a.finish();
        CHECK(r.ingest.decoded == all.size());
        if (!keyed) {
            CHECK(r.ingest.tunnels.empty());
            for (const auto& row : r.sessions)
                CHECK(row.session.tunnel == 0);
            continue;
        }
        // Both directions of a tunnel are one tunnel.
        REQUIRE(r.ingest.tunnels.size() == 2);
        CHECK(r.ingest.tunnels[0] == "VXLAN 10.0.2.1 <-> 10.0.2.2 VNI 1");
        CHECK(r.ingest.tunnels[1] == "VXLAN 10.0.2.1 <-> 10.0.2.2 VNI 2");
        CHECK(r.summary.total_sessions == 2);
        CHECK(r.summary.bad_sessions == 1);
        CHECK(r.summary.bad_wireshark == 1);
        REQUIRE(r.sessions.size() == 2);
        for (const auto& row : r.sessions) {
            CHECK(row.bad == (row.session.tunnel == 1));
            CHECK(row.session.packets == (row.session.tunnel == 1 ? one.size() : two.size()));
        }
        CHECK(r.to_text().find("tunnel 2: VXLAN 10.0.2.1 <-> 10.0.2.2 VNI 2") != std::string::npos);
    }
}

TEST_CASE("tunnels: tunnel paths name every layer with its VNI or key") {
    using capgap::detail::TunnelPath;
    const Bytes inner = ipv4(tcp());
    const auto path_of = [](const Bytes& pkt) {
        Segment s;
        TunnelPath p;
        REQUIRE(decode_packet(pkt.data(), static_cast<std::uint32_t>(pkt.size()),
                              static_cast<std::uint32_t>(pkt.size()), dlt_en10mb, s, nullptr,
                              nullptr, &p) == Decoded::tcp);
        return p.describe();
    };
    CHECK(path_of(outer4(47, gre(0x2000, 0x0800, inner))) ==
          "GRE 10.0.2.1 <-> 10.0.2.2 key 305419896");
    CHECK(path_of(outer4(47, gre(0, 0x0800, inner))) == "GRE 10.0.2.1 <-> 10.0.2.2");
    CHECK(path_of(outer4(4, inner)) == "IP-in-IP 10.0.2.1 <-> 10.0.2.2");
    CHECK(path_of(outer4(17, udp(2152, gtpu(0x01020304, inner, 4, {Bytes{1, 2}})))) ==
          "GTP-U 10.0.2.1 <-> 10.0.2.2 TEID 16909060");
    CHECK(path_of(outer4(17, udp(6081, geneve(0x0800, 0, inner)))) ==
          "Geneve 10.0.2.1 <-> 10.0.2.2 VNI 1");
    // VXLAN inside GRE: both layers, outermost first.
    CHECK(path_of(outer4(
              47, gre(0, 0x0800, ipv4(udp(4789, vxlan(ether(0x0800, inner))), 17, 0, 172)))) ==
          "GRE 10.0.2.1 <-> 10.0.2.2 / VXLAN 172.0.2.1 <-> 172.0.2.2 VNI 1");
    CHECK(path_of(ether(0x0800, inner)).empty());  // not tunnelled
}

TEST_CASE("tunnels: a tunnel path's hash follows its equality") {
    using capgap::detail::TunnelPath;
    const auto path_of = [](const Bytes& pkt) {
        Segment s;
        TunnelPath p;
        REQUIRE(decode_packet(pkt.data(), static_cast<std::uint32_t>(pkt.size()),
                              static_cast<std::uint32_t>(pkt.size()), dlt_en10mb, s, nullptr,
                              nullptr, &p) == Decoded::tcp);
        return p;
    };
    const TunnelPath a = path_of(outer4(17, udp(4789, vxlan(inner_frame()))));
    const TunnelPath b = path_of(outer4(17, udp(4789, vxlan(inner_frame()))));
    CHECK(a == b);
    CHECK(a.hash() == b.hash());
    // Another VNI, another kind, another outer address, one layer more: other paths.
    Bytes other_vni = vxlan(inner_frame());
    other_vni[6] = 2;
    Bytes other_addr = outer4(17, udp(4789, vxlan(inner_frame())));
    other_addr[14 + 15] = 9;  // the outer destination's last byte
    const TunnelPath others[] = {
        path_of(outer4(17, udp(4789, other_vni))),
        path_of(outer4(17, udp(6081, geneve(0x6558, 0, inner_frame())))),
        path_of(other_addr),
        path_of(outer4(4, ipv4(udp(4789, vxlan(inner_frame())), 17, 0, 10))),
        path_of(outer4(17, udp(2152, gtpu(1, ipv4(tcp()))))),
    };
    for (const TunnelPath& o : others) {
        CHECK_FALSE(o == a);
        CHECK(o.hash() != a.hash());
    }
}
