// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The link types of capture cards and other systems (link.cpp): IP over InfiniBand, ERF,
// PFLOG, ENC, IPNET, netANALYZER, 802.3br mPackets, LLC over ATM, Frame Relay and the Juniper
// encapsulations. Frames are built byte by byte around the inner segment of
// support/encap_packets.hpp; ERF's loss counter reaches the report as capture_card_drops.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/segment.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../../../fuzz/fuzz_targets.hpp"
#include "decode/decode.hpp"
#include "support/bytes.hpp"
#include "support/encap_packets.hpp"

using capgap::Segment;
using capgap::detail::Decoded;
using capgap::detail::Encap;
using capgap::detail::EncapInfo;
using capgap::detail::encapsulation_name;
using capgap::test::Bytes;
using capgap::test::cat;
using capgap::test::put16;
using capgap::test::put16_le;
using capgap::test::put32;
using capgap::test::put32_le;
using namespace capgap::test::encap;

namespace {

constexpr int dlt_atm_rfc1483 = 11, linktype_atm_rfc1483 = 100, dlt_frelay = 107, dlt_enc = 109,
              dlt_pflog = 117, dlt_juniper_mlppp = 130, dlt_juniper_ggsn = 133,
              dlt_juniper_atm2 = 135, dlt_juniper_atm1 = 137, dlt_juniper_pppoe = 167,
              dlt_juniper_ppp = 179, dlt_juniper_frelay = 180, dlt_juniper_chdlc = 181,
              dlt_erf = 197, dlt_ipnet = 226, dlt_netanalyzer = 240,
              dlt_netanalyzer_transparent = 241, dlt_ipoib = 242, dlt_mpacket = 274;

const Bytes fcs{0xde, 0xad, 0xbe, 0xef};  // never checked

// An ERF record of `type` around `body` (the type's own header included), with `ext`
// extension headers and loss counter `lctr`; rlen covers the whole record.
Bytes erf(unsigned type, const Bytes& body, unsigned lctr = 0, unsigned ext = 0,
          unsigned wlen = 0) {
    Bytes b(8, 0);  // timestamp
    b.push_back(static_cast<std::uint8_t>(type | (ext > 0 ? 0x80u : 0u)));
    b.push_back(0x04);  // flags: varying record length
    put16(b, static_cast<unsigned>(16 + 8 * ext + body.size()));
    put16(b, lctr);
    put16(b, wlen != 0 ? wlen : static_cast<unsigned>(body.size()));
    for (unsigned i = 0; i < ext; ++i) {
        b.push_back(static_cast<std::uint8_t>((i + 1 < ext ? 0x80u : 0u) | 0x01u));
        b.insert(b.end(), 7, 0x33);
    }
    return cat(b, body);
}

Bytes juniper(std::uint8_t flags, const Bytes& rest) {
    return cat(Bytes{'M', 'G', 'C', flags}, rest);
}

const Bytes snap_ipv4{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};

// One frame per link type, each ending with the inner segment check_inner() knows.
std::vector<std::pair<int, Bytes>> link_frames() {
    Bytes pflog{61, 2};
    pflog.resize(64, 0);
    Bytes enc_le;
    put32_le(enc_le, 2);
    put32(enc_le, 0x1000);
    put32(enc_le, 0);
    Bytes ipnet{2, 26};
    put16(ipnet, 0);
    put32(ipnet, 84);
    ipnet.resize(24, 0);
    Bytes grh{0x60};
    grh.resize(40, 0);
    Bytes pppoe_frame = ether(0x8864, pppoe(0x0021, ipv4(tcp())));
    return {
        {dlt_ipoib, cat(Bytes{0x08, 0x00, 0, 0}, ipv4(tcp()))},
        {dlt_ipoib, cat(cat(grh, Bytes{0x86, 0xdd, 0, 0}), ipv6(6, tcp()))},
        {dlt_erf, erf(2, cat(cat(Bytes{0, 0}, inner_frame()), fcs))},
        {dlt_erf, erf(2, cat(cat(Bytes{0, 0}, inner_frame()), fcs), 3, 2)},
        {dlt_erf, erf(1, cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp())))},
        {dlt_erf, erf(10, cat(Bytes{0x0f, 0x00, 0x08, 0x00}, ipv4(tcp())))},
        {dlt_erf, erf(5, cat(Bytes{0, 0, 0, 1, 0x8f, 0x00, 0x08, 0x00}, ipv4(tcp())))},
        {dlt_erf, erf(22, ipv4(tcp()))},
        {dlt_erf, erf(23, ipv6(6, tcp()))},
        {dlt_pflog, cat(pflog, ipv4(tcp()))},
        {dlt_enc, cat(enc_le, ipv4(tcp()))},
        {dlt_ipnet, cat(ipnet, ipv6(6, tcp()))},
        {dlt_netanalyzer, cat(cat(Bytes{0, 0x04, 78, 0}, inner_frame()), fcs)},
        {dlt_netanalyzer_transparent,
         cat(cat(Bytes{0, 0x06, 86, 0, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5},
                 inner_frame()),
             fcs)},
        {dlt_mpacket,
         cat(cat(Bytes{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5}, inner_frame()), fcs)},
        {dlt_mpacket,
         cat(cat(Bytes{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x4c}, inner_frame()), fcs)},
        {dlt_atm_rfc1483, cat(snap_ipv4, ipv4(tcp()))},
        {linktype_atm_rfc1483, cat(Bytes{0xfe, 0xfe, 0x03, 0xcc}, ipv4(tcp()))},
        {dlt_atm_rfc1483,
         cat(Bytes{0xaa, 0xaa, 0x03, 0x00, 0x80, 0xc2, 0x00, 0x07, 0, 0}, inner_frame())},
        {dlt_frelay, cat(Bytes{0x18, 0x41, 0x03, 0xcc}, ipv4(tcp()))},
        {dlt_frelay, cat(Bytes{0x18, 0x41, 0x03, 0x00, 0x8e}, ipv6(6, tcp()))},
        {dlt_frelay, cat(Bytes{0x18, 0x41, 0x03, 0x80, 0, 0, 0, 0x08, 0x00}, ipv4(tcp()))},
        {dlt_frelay, cat(Bytes{0x18, 0x41, 0x08, 0x00}, ipv4(tcp()))},  // Cisco
        {dlt_juniper_pppoe, juniper(0x01, pppoe_frame)},
        {dlt_juniper_ppp, juniper(0x00, cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp())))},
        {dlt_juniper_chdlc, juniper(0x01, cat(Bytes{0x0f, 0x00, 0x08, 0x00}, ipv4(tcp())))},
        {dlt_juniper_frelay, juniper(0x01, cat(Bytes{0x18, 0x41, 0x03, 0xcc}, ipv4(tcp())))},
        {dlt_juniper_ggsn, juniper(0x01, cat(Bytes{0x02, 0x00, 0x00, 0x07}, ipv4(tcp())))},
        {dlt_juniper_ggsn, juniper(0x01, cat(Bytes{0x06, 0x00, 0x00, 0x07}, ipv6(6, tcp())))},
        {dlt_juniper_mlppp, juniper(0x01, cat(Bytes{0xff, 0x03, 0x00, 0x21}, ipv4(tcp())))},
        {dlt_juniper_mlppp, juniper(0x01, cat(Bytes{0x00, 0x05, 0x00, 0x21}, ipv4(tcp())))},
        {dlt_juniper_mlppp,
         juniper(0x00, cat(Bytes{0x47, 0, 0, 0, 0x03, 0x10, 0, 0}, ipv6(6, tcp())))},  // AS PIC
        {dlt_juniper_mlppp, juniper(0x00, cat(Bytes{0x54, 0, 0, 1, 0x00, 0x21}, ipv4(tcp())))},
        {dlt_juniper_atm1, juniper(0x01, cat(cat(Bytes(4, 0), snap_ipv4), ipv4(tcp())))},
        {dlt_juniper_atm1, juniper(0x01, cat(Bytes(4, 0), ipv4(tcp())))},  // VC-mux IP
        {dlt_juniper_atm2, juniper(0x01, cat(cat(Bytes(8, 0), snap_ipv4), ipv4(tcp())))},
        {dlt_juniper_atm2,
         juniper(0x01, cat(Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x21}, ipv4(tcp())))},  // VC-mux PPP
        {dlt_juniper_atm2, juniper(0x00, cat(Bytes{0, 0, 0, 0x01, 0, 0, 0, 0}, inner_frame()))},
        {dlt_juniper_ppp, juniper(0x82, cat(Bytes{0x00, 0x04, 0x01, 0x02, 0x00, 0x00, 2, 0, 0, 0},
                                            ipv4(tcp())))},  // extensions, no layer 2
    };
}

}  // namespace

TEST_CASE("link types: each frame decodes to the inner segment") {
    for (const auto& [link, pkt] : link_frames()) {
        CAPTURE(link);
        CAPTURE(pkt.size());
        Segment s;
        REQUIRE(decode(pkt, link, s) == Decoded::tcp);
        const bool v6 = s.src.addr.v6;
        check_inner(s, v6 ? "[2001:db8::1]:40000" : "192.0.2.1:40000",
                    v6 ? "[2001:db8::2]:80" : "192.0.2.2:80");
        CHECK(capgap::detail::link_type_supported(link));
    }
}

TEST_CASE("link types: every prefix of every frame stays inside caplen") {
    for (const auto& [link, pkt] : link_frames()) {
        CAPTURE(link);
        Segment s;
        for (std::size_t n = 0; n < pkt.size(); ++n) {
            CAPTURE(n);
            const Decoded d = decode(pkt, link, s, n);
            CHECK((d == Decoded::truncated_header || d == Decoded::tcp));
        }
    }
}

TEST_CASE("link types: ERF records the decoder does not take are named") {
    Segment s;
    EncapInfo e;
    auto run = [&](const Bytes& pkt, std::size_t caplen = SIZE_MAX) {
        const std::uint32_t cl =
            static_cast<std::uint32_t>(caplen < pkt.size() ? caplen : pkt.size());
        return capgap::detail::decode_packet(pkt.data(), cl, static_cast<std::uint32_t>(pkt.size()),
                                             dlt_erf, s, nullptr, &e);
    };
    CHECK(run(erf(3, Bytes(52, 0))) == Decoded::unsupported_encapsulation);  // ATM cell
    CHECK(e == EncapInfo{Encap::erf_type, 3});
    CHECK(encapsulation_name(e) == "ERF record type 3");
    // Two records in one packet.
    const Bytes one = erf(22, ipv4(tcp()));
    CHECK(run(cat(one, one)) == Decoded::unsupported_encapsulation);
    CHECK(e.kind == Encap::erf_records);
    CHECK(run(erf(48, Bytes(16, 0))) == Decoded::not_ip);  // padding record
    // A record length shorter than its own header.
    Bytes short_rlen = erf(22, ipv4(tcp()));
    short_rlen[10] = 0;
    short_rlen[11] = 8;
    CHECK(run(short_rlen) == Decoded::truncated_header);
    // The record length bounds the frame: a cut record reports the missing payload.
    Segment cut;
    const Bytes rec = erf(22, ipv4(tcp()));
    REQUIRE(decode(rec, dlt_erf, cut, rec.size() - 4) == Decoded::tcp);
    CHECK(cut.truncated_bytes == 4);
}

TEST_CASE("link types: what is not IP, or not decoded, is said so") {
    Segment s;
    CHECK(decode(cat(Bytes{0x08, 0x06, 0, 0}, Bytes(28, 0)), dlt_ipoib, s) == Decoded::not_ip);
    Bytes pflog{61, 17};  // an unknown family
    pflog.resize(64, 0);
    CHECK(decode(cat(pflog, ipv4(tcp())), dlt_pflog, s) == Decoded::not_ip);
    CHECK(decode(cat(Bytes{1, 0x01, 0, 0}, Bytes(40, 0)), dlt_netanalyzer, s) ==
          Decoded::not_ip);  // GPIO event
    CHECK(decode(cat(Bytes{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x07}, Bytes(60, 0)),
                 dlt_mpacket, s) == Decoded::not_ip);  // verify mPacket
    EncapInfo e;
    const Bytes cont = cat(Bytes{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x61, 0xe6}, Bytes(60, 0));
    CHECK(capgap::detail::decode_packet(cont.data(), static_cast<std::uint32_t>(cont.size()),
                                        static_cast<std::uint32_t>(cont.size()), dlt_mpacket, s,
                                        nullptr, &e) == Decoded::unsupported_encapsulation);
    CHECK(encapsulation_name(e) == "802.3br continuation fragment, SMD 0x0061");
    CHECK(decode(cat(Bytes{0x18, 0x41, 0x03, 0x08}, Bytes(40, 0)), dlt_frelay, s) ==
          Decoded::not_ip);  // Q.933 signalling
    CHECK(decode(cat(Bytes{0x18, 0x40, 0x40, 0x40, 0x40}, Bytes(40, 0)), dlt_frelay, s) ==
          Decoded::not_ip);  // no address end in 4 bytes
    CHECK(decode(juniper(0x01, cat(Bytes{0x80, 0, 0, 0}, Bytes(48, 0))), dlt_juniper_atm1, s) ==
          Decoded::not_ip);  // OAM cell
    CHECK(decode(cat(Bytes{'X', 'G', 'C', 0}, inner_frame()), dlt_juniper_pppoe, s) ==
          Decoded::not_ip);
}

TEST_CASE("link types: ERF loss counters are summed as capture-card drops") {
    capgap::Analyzer a;
    const Bytes eth = cat(cat(Bytes{0, 0}, inner_frame()), fcs);
    std::uint64_t sum = 0;
    for (unsigned i = 0; i < 5; ++i) {
        const unsigned lctr = i * 1000;  // records the card dropped before this one
        sum += lctr;
        const Bytes r = erf(2, eth, lctr, i % 2);
        a.feed_packet(r.data(), static_cast<std::uint32_t>(r.size()),
                      static_cast<std::uint32_t>(r.size()), dlt_erf,
                      capgap::Timestamp{static_cast<std::int64_t>(i) * 1'000'000});
    }
    // A colour-carrying record type (COLOR_ETH) holds no loss counter there.
    const Bytes colour = erf(11, eth, 0x4242);
    a.feed_packet(colour.data(), static_cast<std::uint32_t>(colour.size()),
                  static_cast<std::uint32_t>(colour.size()), dlt_erf, capgap::Timestamp{9'000'000});
    // A record too short to decode still reports its loss counter.
    const Bytes cut = erf(2, eth, 7);
    a.feed_packet(cut.data(), 16, static_cast<std::uint32_t>(cut.size()), dlt_erf,
                  capgap::Timestamp{10'000'000});
    sum += 7;
    CHECK(a.stats().capture_card_drops == sum);
    CHECK(a.stats().decoded == 6);
    CHECK(a.stats().skipped_truncated_header == 1);
    // Other link types never count card drops.
    capgap::Analyzer b;
    const Bytes f = inner_frame();
    b.feed_packet(f.data(), static_cast<std::uint32_t>(f.size()),
                  static_cast<std::uint32_t>(f.size()), dlt_en10mb, capgap::Timestamp{0});
    CHECK(b.stats().capture_card_drops == 0);
    const capgap::Report r = a.finish();
    CHECK(r.ingest.capture_card_drops == sum);
    CHECK(r.to_text().find("capture_card_drops") != std::string::npos);
}

TEST_CASE("link types: mutated frames never crash") {
    std::mt19937 rng(2152);
    const auto frames = link_frames();
    for (int i = 0; i < 20000; ++i) {
        const auto& base = frames[rng() % frames.size()];
        Bytes pkt = base.second;
        for (int k = 0; k < 3; ++k)
            pkt[rng() % pkt.size()] = static_cast<std::uint8_t>(rng());
        pkt.resize(rng() % (pkt.size() + 1));
        Segment s;
        capgap::detail::IpFragment f;
        const Decoded d = decode(pkt, base.first, s, pkt.size(), (i & 1) ? &f : nullptr);
        CHECK(static_cast<int>(d) <= static_cast<int>(Decoded::unsupported_encapsulation));
        CHECK(capgap::detail::erf_loss_counter(pkt.data(),
                                               static_cast<std::uint32_t>(pkt.size())) <= 0xffffu);
    }
}

TEST_CASE("link types: the fuzz_decode invariants hold on every frame and its prefixes") {
    // fuzz_decode's input: 0x8000 | link type picks the link type (and a longer on-wire
    // length), then the packet; run_decode aborts when an invariant breaks.
    for (const auto& [link, pkt] : link_frames()) {
        CAPTURE(link);
        for (std::size_t n = 0; n <= pkt.size(); n += 7) {
            Bytes input;
            put16(input, 0x8000u | static_cast<unsigned>(link));
            input.insert(input.end(), pkt.begin(), pkt.begin() + static_cast<std::ptrdiff_t>(n));
            capgap::fuzz::run_decode(input.data(), input.size());
        }
    }
}
