// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Packet decoding at its entry: Ethernet, VLAN stacks, Linux cooked, raw IP and loopback (the
// link types decode.cpp takes itself), what is not IP or TCP, and the inline common case held
// to decode_packet's results. Packets are built byte by byte (support/plain_packets.hpp).

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
