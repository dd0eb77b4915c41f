// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Encapsulations (MPLS, PPPoE, GRE, PPTP, ERSPAN, VXLAN, Geneve, IP in IP), the extra link
// types (PPP, Cisco HDLC, NFLOG, 802.11 with radiotap/PPI/AVS, FDDI, ARCNET, Juniper), IP
// fragment reassembly, and the shared captures that use them. Packets are built byte by byte.

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

namespace {

Bytes tcp(std::uint8_t flags = 0x18, std::size_t payload = 10, unsigned sport = 40000) {
    Bytes b;
    put16(b, sport);
    put16(b, 80);
    put32(b, 0x01020304);
    put32(b, 0xa0b0c0d0);
    b.push_back(0x60);  // 24-byte header: one MSS option
    b.push_back(flags);
    put16(b, 0x1234);
    put32(b, 0);
    put32(b, 0x020405b4);
    for (std::size_t i = 0; i < payload; ++i)
        b.push_back(0xaa);
    return b;
}

// IPv4 with `proto`, addresses a.b.c.1 -> a.b.c.2 where a = `net`.
Bytes ipv4(const Bytes& inner, unsigned proto = 6, unsigned frag = 0, unsigned net = 192,
           unsigned id = 0x4242, int total = -1) {
    Bytes b{0x45, 0};
    put16(b, total >= 0 ? static_cast<unsigned>(total) : static_cast<unsigned>(20 + inner.size()));
    put16(b, id);
    put16(b, frag);
    b.push_back(64);
    b.push_back(static_cast<std::uint8_t>(proto));
    put16(b, 0);
    const std::uint8_t n = static_cast<std::uint8_t>(net);
    const std::uint8_t addrs[8] = {n, 0, 2, 1, n, 0, 2, 2};
    b.insert(b.end(), addrs, addrs + 8);
    return cat(b, inner);
}

Bytes ipv6(unsigned next, const Bytes& inner, unsigned tag = 0) {
    Bytes b;
    put32(b, 0x60000000);
    put16(b, static_cast<unsigned>(inner.size()));
    b.push_back(static_cast<std::uint8_t>(next));
    b.push_back(64);
    const std::uint8_t t = static_cast<std::uint8_t>(tag);
    const std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    b.insert(b.end(), src, src + 16);
    b.insert(b.end(), dst, dst + 16);
    return cat(b, inner);
}

Bytes ether(unsigned type, const Bytes& payload, const std::vector<unsigned>& tags = {}) {
    Bytes b{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (unsigned tag : tags) {
        put16(b, tag);
        put16(b, 100);
    }
    put16(b, type);
    return cat(b, payload);
}

Bytes mpls(const std::vector<unsigned>& labels, const Bytes& payload) {
    Bytes b;
    for (std::size_t i = 0; i < labels.size(); ++i)
        put32(b, (labels[i] << 12) | (i + 1 == labels.size() ? 0x100u : 0u) | 64u);
    return cat(b, payload);
}

Bytes pppoe(unsigned proto, const Bytes& payload) {
    Bytes b{0x11, 0x00};
    put16(b, 0x0042);
    put16(b, static_cast<unsigned>(payload.size() + 2));
    put16(b, proto);
    return cat(b, payload);
}

Bytes gre(unsigned flags, unsigned type, const Bytes& payload) {
    Bytes b;
    put16(b, flags);
    put16(b, type);
    if (flags & 0x8000) put32(b, 0);           // checksum + reserved
    if (flags & 0x2000) put32(b, 0x12345678);  // key
    if (flags & 0x1000) put32(b, 7);           // sequence
    return cat(b, payload);
}

Bytes udp(unsigned dport, const Bytes& payload) {
    Bytes b;
    put16(b, 50000);
    put16(b, dport);
    put16(b, static_cast<unsigned>(8 + payload.size()));
    put16(b, 0);
    return cat(b, payload);
}

Bytes vxlan(const Bytes& frame) {
    Bytes b{0x08, 0, 0, 0, 0, 0, 0x01, 0};
    return cat(b, frame);
}

Bytes geneve(unsigned type, unsigned opt_words, const Bytes& payload) {
    Bytes b{static_cast<std::uint8_t>(opt_words), 0};
    put16(b, type);
    put32(b, 0x00000100);  // VNI 1
    for (unsigned i = 0; i < opt_words; ++i)
        put32(b, 0x01020304);
    return cat(b, payload);
}

Decoded decode(const Bytes& pkt, int link, Segment& s, std::size_t caplen = SIZE_MAX,
               IpFragment* frag = nullptr) {
    if (caplen > pkt.size()) caplen = pkt.size();
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[caplen > 0 ? caplen : 1]);
    if (caplen > 0) std::memcpy(copy.get(), pkt.data(), caplen);
    return decode_packet(copy.get(), static_cast<std::uint32_t>(caplen),
                         static_cast<std::uint32_t>(pkt.size()), link, s, frag);
}

// The inner segment every builder above ends with.
void check_inner(const Segment& s, const char* src = "192.0.2.1:40000",
                 const char* dst = "192.0.2.2:80", std::uint32_t payload = 10) {
    CHECK(capgap::to_string(s.src) == src);
    CHECK(capgap::to_string(s.dst) == dst);
    CHECK(s.seq == 0x01020304u);
    CHECK(s.payload_len == payload);
    CHECK(s.truncated_bytes == 0);
}

constexpr int dlt_en10mb = 1, dlt_ppp = 9, dlt_fddi = 10, dlt_ppp_serial = 50, dlt_ppp_ether = 51,
              dlt_c_hdlc = 104, dlt_80211 = 105, dlt_radiotap = 127, dlt_arcnet_linux = 129,
              dlt_avs = 163, dlt_juniper_ether = 178, dlt_ppi = 192, dlt_nflog = 239;

// Outer Ethernet/IPv4 (10.x addresses) around an inner packet with protocol `proto`.
Bytes outer4(unsigned proto, const Bytes& inner) {
    return ether(0x0800, ipv4(inner, proto, 0, 10));
}

Bytes inner_frame() {
    return ether(0x0800, ipv4(tcp()));
}

}  // namespace

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

namespace {

// PPTP's enhanced GRE: version 1, key present (payload length, call id), optional sequence
// and acknowledgement numbers.
Bytes pptp(bool seq, bool ack, const Bytes& ppp_frame) {
    Bytes b;
    put16(b, 0x2001 | (seq ? 0x1000u : 0u) | (ack ? 0x0080u : 0u));
    put16(b, 0x880b);
    put16(b, static_cast<unsigned>(ppp_frame.size()));
    put16(b, 0x0007);  // call id
    if (seq) put32(b, 1);
    if (ack) put32(b, 2);
    return cat(b, ppp_frame);
}

}  // namespace

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

TEST_CASE("tunnels: PPP and HDLC link types") {
    Segment s;
    REQUIRE(decode(cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp())), dlt_ppp, s) == Decoded::tcp);
    check_inner(s);
    REQUIRE(decode(cat(Bytes{0x21}, ipv4(tcp())), dlt_ppp, s) == Decoded::tcp);
    check_inner(s);
    REQUIRE(decode(cat(Bytes{0x00, 0x57}, ipv6(6, tcp())), dlt_ppp, s) == Decoded::tcp);
    check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    CHECK(decode(Bytes{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, dlt_ppp, s) == Decoded::not_ip);
    REQUIRE(decode(cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp())), dlt_ppp_serial, s) ==
            Decoded::tcp);
    check_inner(s);
    // Cisco PPP with HDLC framing inside DLT_PPP_SERIAL, and Cisco HDLC itself.
    REQUIRE(decode(cat(Bytes{0x0f, 0x00, 0x08, 0x00}, ipv4(tcp())), dlt_ppp_serial, s) ==
            Decoded::tcp);
    check_inner(s);
    REQUIRE(decode(cat(Bytes{0x8f, 0x00, 0x86, 0xdd}, ipv6(6, tcp())), dlt_c_hdlc, s) ==
            Decoded::tcp);
    check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    CHECK(decode(cat(Bytes{0x8f, 0x00, 0x80, 0x35}, Bytes(20, 0)), dlt_c_hdlc, s) ==
          Decoded::not_ip);  // SLARP
}

namespace {

Bytes nflog(unsigned family, const Bytes& packet, bool big = false) {
    Bytes b{static_cast<std::uint8_t>(family), 0};
    put16(b, 42);  // resource id, network order
    auto tlv = [&](unsigned type, const Bytes& value) {
        const unsigned n = static_cast<unsigned>(4 + value.size());
        if (big) {
            put16(b, n);
            put16(b, type);
        } else {
            put16_le(b, n);
            put16_le(b, type);
        }
        b.insert(b.end(), value.begin(), value.end());
        while (b.size() % 4 != 0)
            b.push_back(0);
    };
    tlv(1, Bytes{0x08, 0x00, 3, 0});  // packet header
    tlv(10, Bytes{'p', 'r', 'e', 'f', 'i', 'x', 0});
    tlv(9, packet);
    return b;
}

}  // namespace

TEST_CASE("tunnels: Linux NFLOG") {
    Segment s;
    REQUIRE(decode(nflog(2, ipv4(tcp(0x18, 9))), dlt_nflog, s) == Decoded::tcp);
    check_inner(s, "192.0.2.1:40000", "192.0.2.2:80", 9);
    REQUIRE(decode(nflog(10, ipv6(6, tcp())), dlt_nflog, s) == Decoded::tcp);
    check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
    REQUIRE(decode(nflog(2, ipv4(tcp()), true), dlt_nflog, s) == Decoded::tcp);  // BE host
    check_inner(s);
    Bytes no_payload = nflog(2, {});
    no_payload.resize(no_payload.size() - 4);  // drop the payload TLV
    CHECK(decode(no_payload, dlt_nflog, s) == Decoded::truncated_header);
    Bytes zero = nflog(2, ipv4(tcp()));
    zero[4] = zero[5] = 0;  // a TLV of length 0
    CHECK(decode(zero, dlt_nflog, s) == Decoded::not_ip);
}

namespace {

// An 802.11 data frame: frame control, duration, addresses, sequence, [addr4], [QoS], LLC.
Bytes wlan(const Bytes& ip, unsigned type_ethertype, std::uint8_t fc0 = 0x08,
           std::uint8_t fc1 = 0x01) {
    Bytes b{fc0, fc1, 0, 0};
    for (int i = 0; i < 18; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    put16(b, 0x0010);
    if ((fc1 & 3) == 3) b.insert(b.end(), 6, 0x44);
    if (fc0 & 0x80) {
        put16(b, 0);
        if (fc1 & 0x80) put32(b, 0);
    }
    const Bytes llc{0xaa, 0xaa, 0x03, 0, 0, 0};
    b.insert(b.end(), llc.begin(), llc.end());
    put16(b, type_ethertype);
    return cat(b, ip);
}

}  // namespace

TEST_CASE("tunnels: IEEE 802.11 with radiotap, PPI and AVS") {
    Segment s;
    SUBCASE("data, QoS data, four addresses, +HTC") {
        REQUIRE(decode(wlan(ipv4(tcp()), 0x0800), dlt_80211, s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(wlan(ipv4(tcp()), 0x0800, 0x88, 0x02), dlt_80211, s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(wlan(ipv6(6, tcp()), 0x86dd, 0x88, 0x03), dlt_80211, s) == Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
        REQUIRE(decode(wlan(ipv4(tcp()), 0x0800, 0x88, 0x83), dlt_80211, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("protected, null, management and non-SNAP frames") {
        CHECK(decode(wlan(ipv4(tcp()), 0x0800, 0x08, 0x41), dlt_80211, s) == Decoded::encrypted);
        CHECK(decode(wlan(ipv4(tcp()), 0x0800, 0x48, 0x01), dlt_80211, s) == Decoded::not_ip);
        CHECK(decode(wlan(ipv4(tcp()), 0x0800, 0x80, 0x00), dlt_80211, s) == Decoded::not_ip);
        Bytes no_snap = wlan(ipv4(tcp()), 0x0800);
        no_snap[24] = 0x42;
        CHECK(decode(no_snap, dlt_80211, s) == Decoded::not_ip);
    }
    SUBCASE("radiotap") {
        Bytes rt{0, 0};
        put16_le(rt, 12);
        put32_le(rt, 0x00000002);  // present: flags
        rt.push_back(0);
        rt.resize(12, 0);
        REQUIRE(decode(cat(rt, wlan(ipv4(tcp()), 0x0800)), dlt_radiotap, s) == Decoded::tcp);
        check_inner(s);
    }
    SUBCASE("PPI") {
        Bytes ppi{0, 0};
        put16_le(ppi, 8);
        put32_le(ppi, 105);
        REQUIRE(decode(cat(ppi, wlan(ipv4(tcp()), 0x0800)), dlt_ppi, s) == Decoded::tcp);
        check_inner(s);
        Bytes ppi_eth{0, 0};
        put16_le(ppi_eth, 8);
        put32_le(ppi_eth, 1);
        REQUIRE(decode(cat(ppi_eth, inner_frame()), dlt_ppi, s) == Decoded::tcp);
        check_inner(s);
        Bytes ppi_other{0, 0};
        put16_le(ppi_other, 8);
        put32_le(ppi_other, 147);
        CHECK(decode(cat(ppi_other, inner_frame()), dlt_ppi, s) == Decoded::unsupported_link);
    }
    SUBCASE("AVS") {
        Bytes avs;
        put32(avs, 0x80211001);
        put32(avs, 64);
        avs.resize(64, 0);
        REQUIRE(decode(cat(avs, wlan(ipv4(tcp()), 0x0800)), dlt_avs, s) == Decoded::tcp);
        check_inner(s);
    }
}

TEST_CASE("tunnels: FDDI, ARCNET and Juniper Ethernet") {
    Segment s;
    SUBCASE("FDDI: frame control, addresses, LLC/SNAP") {
        Bytes fddi{0x50};
        fddi.insert(fddi.end(), 12, 0x22);
        const Bytes llc{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
        REQUIRE(decode(cat(cat(fddi, llc), ipv4(tcp())), dlt_fddi, s) == Decoded::tcp);
        check_inner(s);
        const Bytes arp{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06};
        CHECK(decode(cat(cat(fddi, arp), Bytes(28, 0)), dlt_fddi, s) == Decoded::not_ip);
    }
    SUBCASE("ARCNET (Linux): RFC 1201 and RFC 1051 headers") {
        REQUIRE(decode(cat(Bytes{0xbe, 0x50, 0xa8, 0xe7, 0xd4, 0x00, 0x01, 0x66}, ipv4(tcp())),
                       dlt_arcnet_linux, s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(cat(Bytes{0xbe, 0x50, 0x00, 0x00, 0xf0}, ipv4(tcp())), dlt_arcnet_linux,
                       s) == Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(cat(Bytes{0xbe, 0x50, 0x00, 0x00, 0xc4, 0x00, 0x00, 0x01}, ipv6(6, tcp())),
                       dlt_arcnet_linux, s) == Decoded::tcp);
        check_inner(s, "[2001:db8::1]:40000", "[2001:db8::2]:80");
        CHECK(decode(cat(Bytes{0xbe, 0x00, 0xea, 0x08, 0xd5, 0x00, 0x01, 0x65}, Bytes(18, 0)),
                     dlt_arcnet_linux, s) == Decoded::not_ip);  // ARP
    }
    SUBCASE("Juniper Ethernet") {
        const Bytes ext{0x80, 0x00, 0x04, 0x03, 0x01, 0x01, 0x06};  // flags, length, one TLV
        REQUIRE(decode(cat(cat(Bytes{'M', 'G', 'C'}, ext), inner_frame()), dlt_juniper_ether, s) ==
                Decoded::tcp);
        CHECK(s.payload_len == 10);
        REQUIRE(decode(cat(Bytes{'M', 'G', 'C', 0x01}, inner_frame()), dlt_juniper_ether, s) ==
                Decoded::tcp);
        check_inner(s);
        REQUIRE(decode(cat(Bytes{'M', 'G', 'C', 0x02, 0, 0, 0, 2}, ipv4(tcp())), dlt_juniper_ether,
                       s) == Decoded::tcp);  // no layer 2
        check_inner(s);
        CHECK(decode(cat(Bytes{'X', 'G', 'C', 0x01}, inner_frame()), dlt_juniper_ether, s) ==
              Decoded::not_ip);
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

constexpr std::int64_t second = 1'000'000'000;

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

TEST_CASE("reassembly: other protocols' fragments are not reassembled") {
    Segment s;
    IpFragment f;
    CHECK(decode(ether(0x0800, ipv4(Bytes(40, 0), 17, 0x2000)), dlt_en10mb, s, SIZE_MAX, &f) ==
          Decoded::ip_fragment);
    CHECK(decode(ether(0x0800, ipv4(Bytes(40, 0), 47, 5)), dlt_en10mb, s, SIZE_MAX, &f) ==
          Decoded::ip_fragment);
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
    // (SEMANTICS.md section 8 row 2) in both verdicts, whatever carries the packets.
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
    CHECK(stopped_at(outer4(17, udp(2152, Bytes(40, 0x30))), unsupported) ==
          "UDP port 2152 (GTP-U)");
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
        outer4(17, udp(2152, Bytes(40, 0x30))),
        outer4(17, udp(2152, Bytes(40, 0x30))),
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
        {"UDP port 2152 (GTP-U)", 2}, {"GRE protocol 0x1234", 1}, {"IPsec ESP (encrypted)", 1}};
    CHECK(r.ingest.unsupported_encapsulations == expected);
    const std::string text = r.to_text();
    CHECK(text.find("undecoded encapsulation UDP port 2152 (GTP-U): 2") != std::string::npos);
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
    CHECK(path_of(outer4(17, udp(6081, geneve(0x0800, 0, inner)))) ==
          "Geneve 10.0.2.1 <-> 10.0.2.2 VNI 1");
    // VXLAN inside GRE: both layers, outermost first.
    CHECK(path_of(outer4(
              47, gre(0, 0x0800, ipv4(udp(4789, vxlan(ether(0x0800, inner))), 17, 0, 172)))) ==
          "GRE 10.0.2.1 <-> 10.0.2.2 / VXLAN 172.0.2.1 <-> 172.0.2.2 VNI 1");
    CHECK(path_of(ether(0x0800, inner)).empty());  // not tunnelled
}
