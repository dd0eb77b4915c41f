// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Link layers, encapsulations, IPv4/IPv6 and TCP decoding. Pure functions over the captured
// bytes: no allocation, no exceptions, and every read is checked against caplen first.
//
// Shape: a link layer hands its payload to an ethertype (by_ethertype), a PPP protocol
// (ppp_protocol) or straight to IPv4/IPv6. IPv4 and IPv6 decode TCP at once; any other
// protocol goes to ip_payload, which knows the tunnels (IP in IP, GRE, VXLAN, Geneve). The
// common path (Ethernet, maybe VLAN, IPv4/IPv6, TCP) tests for IP and TCP before anything
// else, so tunnels cost it nothing; the encapsulations live in functions it never calls.
// Each tunnel, MPLS or PPPoE layer counts towards max_encapsulation_depth. The commonest
// case of all (Ethernet, one tag at most, IPv4 without options, TCP) has a copy inline in
// decode.hpp (decode_common), held to the same results by tests and fuzz_decode.
//
// Files: this one is the entry and the link types of the common path (Ethernet, Linux cooked,
// raw IP, loopback); link.cpp the other link layers; ip.cpp IPv6; tunnels.cpp the
// encapsulations; layers.hpp what they share, with Ethernet and IPv4 inline.

#include "decode/decode.hpp"

#include "decode/layers.hpp"

namespace capgap::detail {
namespace layers {
namespace {

// The BSD address families that mean IPv4 / IPv6 in DLT_NULL and DLT_LOOP headers. IPv6 has
// different values on different BSDs (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
enum class Net : std::uint8_t { ipv4, ipv6, other };

Net loopback_family(std::uint32_t af) noexcept {
    switch (af) {
        case 2:
            return Net::ipv4;
        case 24:
        case 28:
        case 30:
            return Net::ipv6;
        default:
            return Net::other;
    }
}

// The link types of the common path; other_link takes the rest.
Decoded first_layer(Ctx& c, int link_type) noexcept {
    const std::uint8_t* data = c.data;
    const std::uint32_t caplen = c.caplen;
    switch (link_type) {
        case dlt_en10mb:
            return ethernet(c, 0);
        case dlt_linux_sll: {
            if (caplen < 16) return Decoded::truncated_header;
            std::uint32_t off = 16;
            std::uint16_t type = load16(data + 14);
            if (!skip_vlan_tags(c, off, type)) return Decoded::truncated_header;
            return by_ethertype(c, off, type);
        }
        case dlt_linux_sll2: {
            if (caplen < 20) return Decoded::truncated_header;
            std::uint32_t off = 20;
            std::uint16_t type = load16(data);
            if (!skip_vlan_tags(c, off, type)) return Decoded::truncated_header;
            return by_ethertype(c, off, type);
        }
        case dlt_raw_linux:
        case dlt_raw_bsd:
        case linktype_raw:
            return ip_by_version(c, 0);
        case dlt_ipv4:
            return ipv4(c, 0);
        case dlt_ipv6:
            return ipv6(c, 0);
        case dlt_null:
        case dlt_loop: {
            // DLT_NULL stores the family in the writer's byte order and DLT_LOOP in network
            // order, but writers get this wrong; the values are small, so whichever reading
            // fits in 16 bits is the right one (as Wireshark does).
            if (caplen < 4) return Decoded::truncated_header;
            const std::uint32_t be = load32(data);
            switch (loopback_family((be & 0xffff0000u) == 0 ? be : load32_le(data))) {
                case Net::ipv4:
                    return ipv4(c, 4);
                case Net::ipv6:
                    return ipv6(c, 4);
                default:
                    return Decoded::not_ip;
            }
        }
        default:
            return other_link(c, link_type);
    }
}

}  // namespace
}  // namespace layers

using namespace layers;

bool link_type_supported(int link_type) noexcept {
    switch (link_type) {
        case dlt_null:
        case dlt_en10mb:
        case dlt_ppp:
        case dlt_fddi:
        case dlt_raw_linux:
        case dlt_raw_bsd:
        case dlt_ppp_serial:
        case dlt_ppp_ether:
        case linktype_raw:
        case dlt_c_hdlc:
        case dlt_ieee802_11:
        case dlt_loop:
        case dlt_linux_sll:
        case dlt_ieee802_11_radio:
        case dlt_arcnet_linux:
        case dlt_ieee802_11_radio_avs:
        case dlt_juniper_ether:
        case dlt_ppi:
        case dlt_ipv4:
        case dlt_ipv6:
        case dlt_nflog:
        case dlt_linux_sll2:
        case dlt_atm_rfc1483:
        case linktype_atm_rfc1483:
        case dlt_frelay:
        case dlt_enc:
        case dlt_pflog:
        case dlt_juniper_mlppp:
        case dlt_juniper_ggsn:
        case dlt_juniper_atm2:
        case dlt_juniper_atm1:
        case dlt_juniper_pppoe:
        case dlt_juniper_ppp:
        case dlt_juniper_frelay:
        case dlt_juniper_chdlc:
        case dlt_erf:
        case dlt_ipnet:
        case dlt_netanalyzer:
        case dlt_netanalyzer_transparent:
        case dlt_ipoib:
        case dlt_ethernet_mpacket:
            return true;
        default:
            return false;
    }
}

Decoded decode_packet(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                      int link_type, Segment& out, IpFragment* frag, EncapInfo* encap,
                      TunnelPath* tunnels) noexcept {
    Ctx c{data, caplen, len, out, frag, 0, len > caplen ? len : caplen};
    if (tunnels != nullptr) tunnels->depth = 0;
    c.tunnels = tunnels;
    const Decoded d = first_layer(c, link_type);
    if (encap != nullptr) *encap = c.encap;
    return d;
}

}  // namespace capgap::detail
