// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// IPv4 header variants, fragments and segmentation offload, IPv6 extension headers, and the TCP
// header (malformed, truncated by the snaplen), with packets built byte by byte.

#include <doctest/doctest.h>

#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "decode/decode.hpp"
#include "support/bytes.hpp"
#include "support/plain_packets.hpp"

using capgap::Segment;
using capgap::detail::decode_packet;
using capgap::detail::Decoded;
using capgap::test::Bytes;
using capgap::test::cat;
using capgap::test::put16;
using capgap::test::put16_le;
using capgap::test::put32;
using capgap::test::put32_le;
using namespace capgap::test::plain;

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
