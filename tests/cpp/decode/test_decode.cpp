// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Packet decoding: every link type, VLAN stacks, IPv4/IPv6 headers and TCP, with packets built
// byte by byte.

#include <doctest/doctest.h>

#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "support/bytes.hpp"
#include "decode/decode.hpp"

using capgap::Segment;
using capgap::detail::decode_packet;
using capgap::detail::Decoded;
using capgap::test::Bytes;
using capgap::test::cat;
using capgap::test::put16;
using capgap::test::put16_le;
using capgap::test::put32;
using capgap::test::put32_le;

namespace {

struct Tcp {
    unsigned sport = 40000;
    unsigned dport = 80;
    std::uint32_t seq = 0x01020304;
    std::uint32_t ack = 0xa0b0c0d0;
    std::uint8_t flags = 0x18;
    unsigned window = 0x1234;
    unsigned doff = 5;         // data offset in 32-bit words (header bytes written: 4*max(5,doff))
    std::size_t payload = 10;  // payload bytes written
};

Bytes tcp(const Tcp& t) {
    Bytes b;
    put16(b, t.sport);
    put16(b, t.dport);
    put32(b, t.seq);
    put32(b, t.ack);
    b.push_back(static_cast<std::uint8_t>(t.doff << 4));
    b.push_back(t.flags);
    put16(b, t.window);
    put16(b, 0);  // checksum
    put16(b, 0);  // urgent pointer
    const unsigned words = t.doff < 5 ? 5 : t.doff;
    for (unsigned i = 20; i < words * 4; ++i)
        b.push_back(1);  // NOP options
    for (std::size_t i = 0; i < t.payload; ++i)
        b.push_back(0xaa);
    return b;
}

struct Ip4 {
    unsigned ihl = 5;  // header words
    unsigned proto = 6;
    unsigned frag = 0;  // flags + fragment offset field
    int total = -1;     // -1: computed
    unsigned version = 4;
};

Bytes ipv4(const Bytes& inner, const Ip4& o = {}) {
    Bytes b;
    b.push_back(static_cast<std::uint8_t>((o.version << 4) | o.ihl));
    b.push_back(0);
    const unsigned header = (o.ihl < 5 ? 5 : o.ihl) * 4;
    put16(b, o.total >= 0 ? static_cast<unsigned>(o.total)
                          : static_cast<unsigned>(header + inner.size()));
    put16(b, 0x4242);  // id
    put16(b, o.frag);
    b.push_back(64);
    b.push_back(static_cast<std::uint8_t>(o.proto));
    put16(b, 0);
    const std::uint8_t addrs[8] = {192, 0, 2, 1, 198, 51, 100, 2};
    b.insert(b.end(), addrs, addrs + 8);
    for (unsigned i = 20; i < header; ++i)
        b.push_back(1);  // NOP options
    return cat(b, inner);
}

// An IPv6 header; `inner` holds any extension headers and the transport.
Bytes ipv6(unsigned next, const Bytes& inner, int plen = -1) {
    Bytes b;
    put32(b, 0x60000000);
    put16(b, plen >= 0 ? static_cast<unsigned>(plen) : static_cast<unsigned>(inner.size()));
    b.push_back(static_cast<std::uint8_t>(next));
    b.push_back(64);
    const std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    b.insert(b.end(), src, src + 16);
    b.insert(b.end(), dst, dst + 16);
    return cat(b, inner);
}

// A generic IPv6 extension header of (len + 1) * 8 bytes.
Bytes ext6(unsigned next, unsigned len) {
    Bytes b{static_cast<std::uint8_t>(next), static_cast<std::uint8_t>(len)};
    b.resize((len + 1) * 8, 0);
    return b;
}

// An authentication header of (len + 2) * 4 bytes.
Bytes ah6(unsigned next, unsigned len) {
    Bytes b{static_cast<std::uint8_t>(next), static_cast<std::uint8_t>(len)};
    b.resize((len + 2) * 4, 0);
    return b;
}

Bytes frag6(unsigned next, unsigned offset, bool more) {
    Bytes b{static_cast<std::uint8_t>(next), 0};
    put16(b, (offset << 3) | (more ? 1u : 0u));
    put32(b, 0x11223344);
    return b;
}

Bytes ether(unsigned type, const Bytes& payload, const std::vector<unsigned>& tags = {}) {
    Bytes b{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (std::size_t i = 0; i < tags.size(); ++i) {
        put16(b, tags[i]);
        put16(b, static_cast<unsigned>(100 + i));  // TCI: VLAN id
    }
    put16(b, type);
    return cat(b, payload);
}

Bytes sll(unsigned type, const Bytes& payload) {
    Bytes b;
    put16(b, 0);  // packet type: to us
    put16(b, 1);  // ARPHRD_ETHER
    put16(b, 6);
    for (int i = 0; i < 8; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    put16(b, type);
    return cat(b, payload);
}

Bytes sll2(unsigned type, const Bytes& payload) {
    Bytes b;
    put16(b, type);
    put16(b, 0);  // reserved
    put32(b, 3);  // interface index
    put16(b, 1);  // ARPHRD_ETHER
    b.push_back(0);
    b.push_back(6);
    for (int i = 0; i < 8; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    return cat(b, payload);
}

Bytes loopback(std::uint32_t af, bool big, const Bytes& payload) {
    Bytes b;
    if (big) {
        put32(b, af);
    } else {
        put32_le(b, af);
    }
    return cat(b, payload);
}

// Decodes from a heap copy of exactly `caplen` bytes, so a sanitizer sees any over-read.
Decoded decode(const Bytes& pkt, int link, Segment& s, std::size_t caplen = SIZE_MAX,
               std::size_t len = SIZE_MAX) {
    if (caplen > pkt.size()) caplen = pkt.size();
    if (len == SIZE_MAX) len = pkt.size();
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[caplen > 0 ? caplen : 1]);
    if (caplen > 0) std::memcpy(copy.get(), pkt.data(), caplen);
    return decode_packet(copy.get(), static_cast<std::uint32_t>(caplen),
                         static_cast<std::uint32_t>(len), link, s);
}

void check_v4_segment(const Segment& s, std::uint32_t payload) {
    CHECK(capgap::to_string(s.src) == "192.0.2.1:40000");
    CHECK(capgap::to_string(s.dst) == "198.51.100.2:80");
    CHECK_FALSE(s.src.addr.v6);
    CHECK(s.seq == 0x01020304u);
    CHECK(s.ack == 0xa0b0c0d0u);
    CHECK(s.window == 0x1234);
    CHECK(s.flags == 0x18);
    CHECK(s.payload_len == payload);
    CHECK(s.truncated_bytes == 0);
}

void check_v6_segment(const Segment& s, std::uint32_t payload) {
    CHECK(capgap::to_string(s.src) == "[2001:db8::1]:40000");
    CHECK(capgap::to_string(s.dst) == "[2001:db8::2]:80");
    CHECK(s.src.addr.v6);
    CHECK(s.seq == 0x01020304u);
    CHECK(s.payload_len == payload);
    CHECK(s.truncated_bytes == 0);
}

constexpr int dlt_null = 0, dlt_en10mb = 1, dlt_raw = 12, dlt_raw_bsd = 14, linktype_raw = 101,
              dlt_loop = 108, dlt_sll = 113, dlt_ipv4 = 228, dlt_ipv6 = 229, dlt_sll2 = 276;

}  // namespace

TEST_CASE("decode: Ethernet IPv4 TCP, every field") {
    Segment s;
    s.frame = 7;
    REQUIRE(decode(ether(0x0800, ipv4(tcp({}))), dlt_en10mb, s) == Decoded::tcp);
    check_v4_segment(s, 10);
    CHECK(s.frame == 7);  // left to the caller
    CHECK(s.has(capgap::tcp_flags::psh));
    CHECK(s.has(capgap::tcp_flags::ack));
    CHECK_FALSE(s.has(capgap::tcp_flags::syn));
}

TEST_CASE("decode: flags keep only the six classic bits") {
    Tcp t;
    t.flags = 0xff;
    Segment s;
    REQUIRE(decode(ether(0x0800, ipv4(tcp(t))), dlt_en10mb, s) == Decoded::tcp);
    CHECK(s.flags == 0x3f);
}

TEST_CASE("decode: Ethernet padding does not inflate the payload") {
    Tcp t;
    t.payload = 0;
    t.flags = capgap::tcp_flags::ack;
    Bytes frame = ether(0x0800, ipv4(tcp(t)));
    REQUIRE(frame.size() == 54);
    frame.resize(60, 0);  // minimum Ethernet frame
    Segment s;
    REQUIRE(decode(frame, dlt_en10mb, s) == Decoded::tcp);
    CHECK(s.payload_len == 0);
    CHECK(s.truncated_bytes == 0);
}

TEST_CASE("decode: VLAN tags, single and stacked") {
    Segment s;
    SUBCASE("802.1Q") {
        REQUIRE(decode(ether(0x0800, ipv4(tcp({})), {0x8100}), dlt_en10mb, s) == Decoded::tcp);
        check_v4_segment(s, 10);
    }
    SUBCASE("802.1ad + 802.1Q") {
        REQUIRE(decode(ether(0x86dd, ipv6(6, tcp({})), {0x88a8, 0x8100}), dlt_en10mb, s) ==
                Decoded::tcp);
        check_v6_segment(s, 10);
    }
    SUBCASE("0x9100 + 802.1Q + 802.1Q") {
        REQUIRE(decode(ether(0x0800, ipv4(tcp({})), {0x9100, 0x8100, 0x8100}), dlt_en10mb, s) ==
                Decoded::tcp);
        check_v4_segment(s, 10);
    }
    SUBCASE("tag cut by the snaplen") {
        const Bytes frame = ether(0x0800, ipv4(tcp({})), {0x8100, 0x8100});
        CHECK(decode(frame, dlt_en10mb, s, 16) == Decoded::truncated_header);
        CHECK(decode(frame, dlt_en10mb, s, 20) == Decoded::truncated_header);
    }
    SUBCASE("VLAN carrying ARP") {
        CHECK(decode(ether(0x0806, Bytes(28, 0), {0x8100}), dlt_en10mb, s) == Decoded::not_ip);
    }
}

TEST_CASE("decode: Linux cooked v1 and v2") {
    Segment s;
    REQUIRE(decode(sll(0x0800, ipv4(tcp({}))), dlt_sll, s) == Decoded::tcp);
    check_v4_segment(s, 10);
    REQUIRE(decode(sll(0x86dd, ipv6(6, tcp({}))), dlt_sll, s) == Decoded::tcp);
    check_v6_segment(s, 10);
    REQUIRE(decode(sll(0x8100, cat({0, 5, 0x08, 0x00}, ipv4(tcp({})))), dlt_sll, s) ==
            Decoded::tcp);
    check_v4_segment(s, 10);
    CHECK(decode(sll(0x0806, Bytes(28, 0)), dlt_sll, s) == Decoded::not_ip);
    CHECK(decode(sll(0x0800, ipv4(tcp({}))), dlt_sll, s, 15) == Decoded::truncated_header);

    REQUIRE(decode(sll2(0x0800, ipv4(tcp({}))), dlt_sll2, s) == Decoded::tcp);
    check_v4_segment(s, 10);
    REQUIRE(decode(sll2(0x86dd, ipv6(6, tcp({}))), dlt_sll2, s) == Decoded::tcp);
    check_v6_segment(s, 10);
    CHECK(decode(sll2(0x0806, Bytes(28, 0)), dlt_sll2, s) == Decoded::not_ip);
    CHECK(decode(sll2(0x0800, ipv4(tcp({}))), dlt_sll2, s, 19) == Decoded::truncated_header);
}

TEST_CASE("decode: raw IP link types") {
    Segment s;
    for (int link : {dlt_raw, dlt_raw_bsd, linktype_raw}) {
        CAPTURE(link);
        REQUIRE(decode(ipv4(tcp({})), link, s) == Decoded::tcp);
        check_v4_segment(s, 10);
        REQUIRE(decode(ipv6(6, tcp({})), link, s) == Decoded::tcp);
        check_v6_segment(s, 10);
        Bytes junk = ipv4(tcp({}));
        junk[0] = 0x55;
        CHECK(decode(junk, link, s) == Decoded::not_ip);
        CHECK(decode(junk, link, s, 0) == Decoded::truncated_header);
    }
    REQUIRE(decode(ipv4(tcp({})), dlt_ipv4, s) == Decoded::tcp);
    check_v4_segment(s, 10);
    REQUIRE(decode(ipv6(6, tcp({})), dlt_ipv6, s) == Decoded::tcp);
    check_v6_segment(s, 10);
    CHECK(decode(ipv6(6, tcp({})), dlt_ipv4, s) == Decoded::bad_ip_header);
    CHECK(decode(ipv4(tcp({})), dlt_ipv6, s) == Decoded::bad_ip_header);
}

TEST_CASE("decode: BSD loopback, either byte order") {
    Segment s;
    for (bool big : {false, true}) {
        for (int link : {dlt_null, dlt_loop}) {
            CAPTURE(big);
            CAPTURE(link);
            REQUIRE(decode(loopback(2, big, ipv4(tcp({}))), link, s) == Decoded::tcp);
            check_v4_segment(s, 10);
            for (std::uint32_t af : {24u, 28u, 30u}) {
                REQUIRE(decode(loopback(af, big, ipv6(6, tcp({}))), link, s) == Decoded::tcp);
                check_v6_segment(s, 10);
            }
            CHECK(decode(loopback(7, big, Bytes(40, 0)), link, s) == Decoded::not_ip);
            CHECK(decode(loopback(2, big, ipv4(tcp({}))), link, s, 3) == Decoded::truncated_header);
        }
    }
}

TEST_CASE("decode: unsupported link types") {
    Segment s;
    for (int link : {6, 147, 284, -1}) {  // token ring, USER0, ...
        CAPTURE(link);
        CHECK_FALSE(capgap::detail::link_type_supported(link));
        CHECK(decode(ether(0x0800, ipv4(tcp({}))), link, s) == Decoded::unsupported_link);
    }
    for (int link : {dlt_null, dlt_en10mb, dlt_raw, dlt_raw_bsd, linktype_raw, dlt_loop, dlt_sll,
                     dlt_ipv4, dlt_ipv6, dlt_sll2}) {
        CHECK(capgap::detail::link_type_supported(link));
    }
}

TEST_CASE("decode: not IP, not TCP") {
    Segment s;
    CHECK(decode(ether(0x0806, Bytes(28, 0)), dlt_en10mb, s) == Decoded::not_ip);
    CHECK(decode(ether(0x88cc, Bytes(40, 0)), dlt_en10mb, s) == Decoded::not_ip);
    CHECK(decode(ether(0x0060, Bytes(40, 0)), dlt_en10mb, s) == Decoded::not_ip);  // 802.3
    Ip4 udp;
    udp.proto = 17;
    CHECK(decode(ether(0x0800, ipv4(Bytes(16, 0), udp)), dlt_en10mb, s) == Decoded::not_tcp);
    CHECK(decode(ether(0x86dd, ipv6(17, Bytes(16, 0))), dlt_en10mb, s) == Decoded::not_tcp);
    CHECK(decode(ether(0x86dd, ipv6(58, Bytes(16, 0))), dlt_en10mb, s) == Decoded::not_tcp);
    CHECK(decode(ether(0x86dd, ipv6(50, Bytes(16, 0))), dlt_en10mb, s) == Decoded::encrypted);
    CHECK(decode(ether(0x86dd, ipv6(59, {})), dlt_en10mb, s) == Decoded::not_tcp);
    CHECK(decode(ether(0x86dd, ipv6(0, cat(ext6(58, 0), Bytes(8, 0)))), dlt_en10mb, s) ==
          Decoded::not_tcp);
}

TEST_CASE("decode: IPv4 header variants") {
    Segment s;
    SUBCASE("options") {
        Ip4 o;
        o.ihl = 8;
        REQUIRE(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s) == Decoded::tcp);
        check_v4_segment(s, 10);
        o.ihl = 15;
        REQUIRE(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s) == Decoded::tcp);
        check_v4_segment(s, 10);
    }
    SUBCASE("header length below 20") {
        Ip4 o;
        o.ihl = 4;
        CHECK(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s) == Decoded::bad_ip_header);
    }
    SUBCASE("total length below the header") {
        Ip4 o;
        o.ihl = 6;
        o.total = 20;
        CHECK(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s) == Decoded::bad_ip_header);
    }
    SUBCASE("wrong version behind an IPv4 ethertype") {
        Ip4 o;
        o.version = 6;
        CHECK(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s) == Decoded::bad_ip_header);
    }
    SUBCASE("options cut by the snaplen") {
        Ip4 o;
        o.ihl = 10;
        CHECK(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s, 14 + 30) ==
              Decoded::truncated_header);
    }
    SUBCASE("header cut by the snaplen") {
        CHECK(decode(ether(0x0800, ipv4(tcp({}))), dlt_en10mb, s, 14 + 19) ==
              Decoded::truncated_header);
        CHECK(decode(ether(0x0800, ipv4(tcp({}))), dlt_en10mb, s, 13) == Decoded::truncated_header);
    }
}

TEST_CASE("decode: IPv4 fragments") {
    Segment s;
    SUBCASE("non-first fragment is skipped") {
        Ip4 o;
        o.frag = 185;  // offset 1480 bytes
        CHECK(decode(ether(0x0800, ipv4(Bytes(100, 0), o)), dlt_en10mb, s) == Decoded::ip_fragment);
        o.frag = 0x2000 | 185;  // MF too
        CHECK(decode(ether(0x0800, ipv4(Bytes(100, 0), o)), dlt_en10mb, s) == Decoded::ip_fragment);
    }
    SUBCASE("first fragment decodes with its own length") {
        Ip4 o;
        o.frag = 0x2000;  // MF, offset 0
        Tcp t;
        t.payload = 1440;
        REQUIRE(decode(ether(0x0800, ipv4(tcp(t), o)), dlt_en10mb, s) == Decoded::tcp);
        check_v4_segment(s, 1440);
    }
    SUBCASE("don't-fragment bit is not a fragment") {
        Ip4 o;
        o.frag = 0x4000;
        REQUIRE(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s) == Decoded::tcp);
        check_v4_segment(s, 10);
    }
}

TEST_CASE("decode: IPv4 total length 0 (segmentation offload)") {
    Ip4 o;
    o.total = 0;
    Tcp t;
    t.payload = 3000;
    const Bytes frame = ether(0x0800, ipv4(tcp(t), o));
    Segment s;
    REQUIRE(decode(frame, dlt_en10mb, s) == Decoded::tcp);
    check_v4_segment(s, 3000);
    // Cut by the snaplen too: the on-wire length still counts, the rest is truncation.
    REQUIRE(decode(frame, dlt_en10mb, s, 14 + 20 + 20 + 100) == Decoded::tcp);
    CHECK(s.payload_len == 3000);
    CHECK(s.truncated_bytes == 2900);
}

TEST_CASE("decode: snaplen truncation of the payload") {
    Tcp t;
    t.payload = 1000;
    Segment s;
    SUBCASE("IPv4") {
        const Bytes frame = ether(0x0800, ipv4(tcp(t)));
        REQUIRE(decode(frame, dlt_en10mb, s, 14 + 40 + 42) == Decoded::tcp);
        CHECK(s.payload_len == 1000);
        CHECK(s.truncated_bytes == 958);
        REQUIRE(decode(frame, dlt_en10mb, s, 14 + 40) == Decoded::tcp);
        CHECK(s.truncated_bytes == 1000);
    }
    SUBCASE("IPv6") {
        const Bytes frame = ether(0x86dd, ipv6(6, tcp(t)));
        REQUIRE(decode(frame, dlt_en10mb, s, 14 + 60 + 1) == Decoded::tcp);
        CHECK(s.payload_len == 1000);
        CHECK(s.truncated_bytes == 999);
    }
}

TEST_CASE("decode: malformed and truncated TCP headers") {
    Segment s;
    SUBCASE("data offset below 5") {
        for (unsigned doff : {0u, 4u}) {
            Tcp t;
            t.doff = doff;
            CHECK(decode(ether(0x0800, ipv4(tcp(t))), dlt_en10mb, s) == Decoded::bad_tcp_header);
        }
    }
    SUBCASE("header reaching beyond the IP payload") {
        Tcp t;
        t.doff = 15;
        t.payload = 0;
        Ip4 o;
        o.total = 20 + 40;  // IP says 40 bytes of TCP, the header claims 60
        CHECK(decode(ether(0x0800, ipv4(tcp(t), o)), dlt_en10mb, s) == Decoded::bad_tcp_header);
    }
    SUBCASE("IP payload shorter than a TCP header") {
        Ip4 o;
        o.total = 20 + 12;
        CHECK(decode(ether(0x0800, ipv4(tcp({}), o)), dlt_en10mb, s) == Decoded::bad_tcp_header);
    }
    SUBCASE("snaplen inside the TCP header or its options") {
        Tcp t;
        t.doff = 8;
        const Bytes frame = ether(0x0800, ipv4(tcp(t)));
        CHECK(decode(frame, dlt_en10mb, s, 14 + 20 + 10) == Decoded::truncated_header);
        CHECK(decode(frame, dlt_en10mb, s, 14 + 20 + 20) == Decoded::truncated_header);
        CHECK(decode(frame, dlt_en10mb, s, 14 + 20 + 31) == Decoded::truncated_header);
        REQUIRE(decode(frame, dlt_en10mb, s, 14 + 20 + 32) == Decoded::tcp);
        CHECK(s.payload_len == 10);
        CHECK(s.truncated_bytes == 10);
    }
    SUBCASE("options count as header") {
        Tcp t;
        t.doff = 11;
        REQUIRE(decode(ether(0x0800, ipv4(tcp(t))), dlt_en10mb, s) == Decoded::tcp);
        check_v4_segment(s, 10);
    }
}

TEST_CASE("decode: IPv6 extension headers") {
    Segment s;
    SUBCASE("hop-by-hop, destination options, routing, AH, mobility") {
        const Bytes chain =
            cat(cat(cat(cat(ext6(60, 0), ext6(43, 1)), ext6(51, 2)), ah6(135, 4)), ext6(6, 0));
        REQUIRE(decode(ether(0x86dd, ipv6(0, cat(chain, tcp({})))), dlt_en10mb, s) == Decoded::tcp);
        check_v6_segment(s, 10);
    }
    SUBCASE("first fragment decodes, later ones are skipped") {
        REQUIRE(decode(ether(0x86dd, ipv6(44, cat(frag6(6, 0, true), tcp({})))), dlt_en10mb, s) ==
                Decoded::tcp);
        check_v6_segment(s, 10);
        CHECK(decode(ether(0x86dd, ipv6(44, cat(frag6(6, 181, false), Bytes(50, 0)))), dlt_en10mb,
                     s) == Decoded::ip_fragment);
        CHECK(decode(ether(0x86dd, ipv6(0, cat(ext6(44, 0), cat(frag6(6, 1, true), Bytes(50, 0))))),
                     dlt_en10mb, s) == Decoded::ip_fragment);
    }
    SUBCASE("extension header longer than the payload") {
        CHECK(decode(ether(0x86dd, ipv6(0, cat(ext6(6, 0), tcp({})), 4)), dlt_en10mb, s) ==
              Decoded::bad_ip_header);
    }
    SUBCASE("extension headers cut by the snaplen") {
        const Bytes frame = ether(0x86dd, ipv6(0, cat(cat(ext6(60, 0), ext6(6, 0)), tcp({}))));
        CHECK(decode(frame, dlt_en10mb, s, 14 + 40 + 1) == Decoded::truncated_header);
        CHECK(decode(frame, dlt_en10mb, s, 14 + 40 + 8) == Decoded::truncated_header);
        CHECK(decode(frame, dlt_en10mb, s, 14 + 40 + 16 + 12) == Decoded::truncated_header);
        CHECK(decode(frame, dlt_en10mb, s, 14 + 39) == Decoded::truncated_header);
    }
    SUBCASE("payload length 0 uses the frame length") {
        Tcp t;
        t.payload = 70000 - 40 - 20 - 8;
        REQUIRE(decode(ether(0x86dd, ipv6(0, cat(ext6(6, 0), tcp(t)), 0)), dlt_en10mb, s) ==
                Decoded::tcp);
        check_v6_segment(s, 70000 - 40 - 20 - 8);
    }
    SUBCASE("TCP header beyond the payload length") {
        CHECK(decode(ether(0x86dd, ipv6(6, tcp({}), 19)), dlt_en10mb, s) ==
              Decoded::bad_tcp_header);
    }
    SUBCASE("wrong version behind an IPv6 ethertype") {
        Bytes frame = ether(0x86dd, ipv6(6, tcp({})));
        frame[14] = 0x45;
        CHECK(decode(frame, dlt_en10mb, s) == Decoded::bad_ip_header);
    }
}

TEST_CASE("decode: every prefix of every packet stays inside caplen") {
    Tcp t;
    t.doff = 7;
    const std::vector<std::pair<int, Bytes>> packets = {
        {dlt_en10mb, ether(0x0800, ipv4(tcp(t), Ip4{7, 6, 0, -1, 4}), {0x88a8, 0x8100})},
        {dlt_en10mb,
         ether(0x86dd, ipv6(0, cat(cat(ext6(44, 1), frag6(51, 0, true)), cat(ah6(6, 1), tcp(t)))))},
        {dlt_sll, sll(0x0800, ipv4(tcp(t)))},
        {dlt_sll2, sll2(0x86dd, ipv6(6, tcp(t)))},
        {dlt_null, loopback(30, false, ipv6(6, tcp(t)))},
        {dlt_loop, loopback(2, true, ipv4(tcp(t)))},
        {dlt_raw, ipv4(tcp(t))},
    };
    for (const auto& [link, pkt] : packets) {
        Segment s;
        REQUIRE(decode(pkt, link, s) == Decoded::tcp);
        for (std::size_t n = 0; n < pkt.size(); ++n) {
            const Decoded d = decode(pkt, link, s, n);
            CHECK((d == Decoded::truncated_header || d == Decoded::tcp));
        }
    }
}

TEST_CASE("decode: random bytes never crash") {
    std::mt19937 rng(12345);
    for (int i = 0; i < 20000; ++i) {
        Bytes pkt(rng() % 120);
        for (auto& b : pkt)
            b = static_cast<std::uint8_t>(rng());
        // Make the interesting paths likely.
        if (pkt.size() > 14 && (i & 1)) {
            pkt[12] = (i & 2) ? 0x08 : 0x86;
            pkt[13] = (i & 2) ? 0x00 : 0xdd;
        }
        Segment s;
        const int link = std::vector<int>{0, 1, 12, 108, 113, 228, 229, 276}[rng() % 8];
        const Decoded d = decode(pkt, link, s, pkt.size(), rng() % 2000);
        CHECK(d != Decoded::tcp_fragment);  // only with a fragment to fill
        CHECK(static_cast<int>(d) <= static_cast<int>(Decoded::unsupported_encapsulation));
    }
}

TEST_CASE("decode: the inline common case gives decode_packet's results, or defers") {
    // Random Ethernet frames around the common case (one tag at most, IPv4 without options,
    // TCP): other tags and ethertypes, options, fragments, other protocols, IP lengths of 0,
    // too short or past the frame, odd TCP data offsets, and snaplen cuts anywhere.
    std::mt19937 rng(2026);
    auto pick = [&rng](unsigned n) { return static_cast<unsigned>(rng() % n); };
    int handled = 0, deferred = 0, refused_tcp = 0;
    for (int iter = 0; iter < 200000; ++iter) {
        Tcp t;
        t.sport = pick(65536);
        t.dport = pick(65536);
        t.seq = static_cast<std::uint32_t>(rng());
        t.ack = static_cast<std::uint32_t>(rng());
        t.flags = static_cast<std::uint8_t>(rng());
        t.window = pick(65536);
        const unsigned doffs[] = {5, 5, 5, 8, 4, 15, 0};
        t.doff = doffs[pick(7)];
        t.payload = pick(4) == 0 ? 0 : pick(200);
        Ip4 o;
        const unsigned ihls[] = {5, 5, 5, 5, 6, 4};
        o.ihl = ihls[pick(6)];
        o.version = pick(20) == 0 ? 6 : 4;
        o.proto = pick(10) == 0 ? 17 : 6;
        const unsigned frags[] = {0, 0, 0, 0x4000, 0x2000, 0x0001, 0x4001};
        o.frag = frags[pick(7)];
        const Bytes seg = tcp(t);
        switch (pick(8)) {
            case 0:
                o.total = 0;
                break;
            case 1:
                o.total = static_cast<int>(pick(40));
                break;
            case 2:
                o.total = static_cast<int>(pick(65536));
                break;
            default:
                break;  // computed
        }
        const unsigned types[] = {0x0800, 0x0800, 0x0800, 0x86dd, 0x0806, 0x8100};
        std::vector<unsigned> tags;
        const unsigned ntags = pick(4) == 0 ? pick(3) : 0;
        for (unsigned i = 0; i < ntags; ++i)
            tags.push_back(pick(3) == 0 ? 0x88a8 : 0x8100);
        const Bytes pkt = ether(types[pick(6)], ipv4(seg, o), tags);
        const std::size_t caplen =
            pick(3) == 0 ? pick(static_cast<unsigned>(pkt.size()) + 1) : pkt.size();
        const std::size_t len = pkt.size() + (pick(4) == 0 ? pick(3000) : 0);

        std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[caplen > 0 ? caplen : 1]);
        if (caplen > 0) std::memcpy(copy.get(), pkt.data(), caplen);
        const auto cl = static_cast<std::uint32_t>(caplen);
        const auto wl = static_cast<std::uint32_t>(len);
        Segment fast, full;
        Decoded fast_result = Decoded::not_ip;
        const bool took = capgap::detail::decode_common(copy.get(), cl, wl, 1, fast, fast_result);
        // As the Analyzer asks: fragments described, encapsulations named.
        capgap::detail::IpFragment frag;
        capgap::detail::EncapInfo encap;
        const Decoded full_result = decode_packet(copy.get(), cl, wl, 1, full, &frag, &encap);
        // Another link type is never taken.
        Segment other;
        Decoded other_result = Decoded::not_ip;
        CHECK_FALSE(capgap::detail::decode_common(copy.get(), cl, wl, 113, other, other_result));
        if (!took) {
            ++deferred;
            continue;
        }
        ++handled;
        REQUIRE(fast_result == full_result);
        if (full_result != Decoded::tcp) {
            ++refused_tcp;
            continue;
        }
        CHECK(fast.src == full.src);
        CHECK(fast.dst == full.dst);
        CHECK(fast.seq == full.seq);
        CHECK(fast.ack == full.ack);
        CHECK(fast.flags == full.flags);
        CHECK(fast.window == full.window);
        CHECK(fast.checksum == full.checksum);
        CHECK(fast.payload_len == full.payload_len);
        CHECK(fast.truncated_bytes == full.truncated_bytes);
    }
    // Each kind occurs often: the common case, a TCP header it refuses as decode_packet does,
    // and packets left to decode_packet.
    CHECK(handled > 10000);
    CHECK(refused_tcp > 500);
    CHECK(deferred > 40000);
}
