// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The link types link.cpp decodes: PPP and Cisco HDLC, NFLOG, IEEE 802.11 with radiotap, PPI
// and AVS headers, FDDI, ARCNET and Juniper Ethernet. Packets are built byte by byte
// (support/encap_packets.hpp).

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
