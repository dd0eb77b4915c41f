// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private to the decoder's files: the packet being decoded (Ctx), the numbers the layers share,
// the layers on the common path (Ethernet, IPv4), inline, and the others' entry points.
//
// Files: decode.cpp is the entry (decode_packet and the common link types), link.cpp the
// other link layers, ip.cpp IPv6 and the IP helpers, tunnels.cpp what an IP header or an
// ethertype may carry besides TCP (tunnels, MPLS, PPPoE, MACsec) and the tunnel paths.
// Ethernet -> IPv4 -> TCP is inline here so that it compiles into every caller without a call
// between files, as it did when the decoder was one file.

#include <cstdint>

#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include "core/compiler.hpp"
#include "decode/decode.hpp"

namespace capgap::detail::layers {

// Link-type values as libpcap reports them. Spelled out here so that only the pcap adapter
// includes <pcap/pcap.h>.
constexpr int dlt_null = 0;
constexpr int dlt_en10mb = 1;
constexpr int dlt_ppp = 9;
constexpr int dlt_fddi = 10;
constexpr int dlt_atm_rfc1483 = 11;
constexpr int dlt_raw_linux = 12;
constexpr int dlt_raw_bsd = 14;
constexpr int dlt_ppp_serial = 50;
constexpr int dlt_ppp_ether = 51;
constexpr int linktype_raw = 101;
constexpr int linktype_atm_rfc1483 = 100;  // the file value; libpcap reports 11
constexpr int dlt_c_hdlc = 104;
constexpr int dlt_ieee802_11 = 105;
constexpr int dlt_frelay = 107;
constexpr int dlt_loop = 108;
constexpr int dlt_enc = 109;  // OpenBSD's DLT_ENC is 13, written to files as 109
constexpr int dlt_linux_sll = 113;
constexpr int dlt_pflog = 117;
constexpr int dlt_ieee802_11_radio = 127;
constexpr int dlt_arcnet_linux = 129;
constexpr int dlt_juniper_mlppp = 130;
constexpr int dlt_juniper_ggsn = 133;
constexpr int dlt_juniper_atm2 = 135;
constexpr int dlt_juniper_atm1 = 137;
constexpr int dlt_ieee802_11_radio_avs = 163;
constexpr int dlt_juniper_pppoe = 167;
constexpr int dlt_juniper_ether = 178;
constexpr int dlt_juniper_ppp = 179;
constexpr int dlt_juniper_frelay = 180;
constexpr int dlt_juniper_chdlc = 181;
constexpr int dlt_ppi = 192;
constexpr int dlt_erf = 197;
constexpr int dlt_ipnet = 226;
constexpr int dlt_ipv4 = 228;
constexpr int dlt_ipv6 = 229;
constexpr int dlt_nflog = 239;
constexpr int dlt_netanalyzer = 240;
constexpr int dlt_netanalyzer_transparent = 241;
constexpr int dlt_ipoib = 242;
constexpr int dlt_ethernet_mpacket = 274;
constexpr int dlt_linux_sll2 = 276;

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_qinq = 0x88a8;
constexpr std::uint16_t ethertype_qinq_old = 0x9100;

constexpr std::uint8_t proto_tcp = 6;

using wire::load16;
using wire::load32;
using wire::set_v4;
using wire::set_v6;

inline std::uint16_t load16_le(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[1] << 8) | p[0]);
}

inline std::uint32_t load32_le(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
           std::uint32_t{p[0]};
}

// One packet being decoded.
struct Ctx {
    const std::uint8_t* data;
    std::uint32_t caplen;
    std::uint32_t len;
    Segment& out;
    IpFragment* frag;
    unsigned depth;
    // Where the current layer ends on the wire: the frame's length, narrowed by a header that
    // states its payload length (PPPoE). An IP length beyond it is clamped, as Wireshark does.
    std::uint32_t end;
    EncapInfo encap = {};           // set with an unsupported_encapsulation or encrypted result
    TunnelPath* tunnels = nullptr;  // where IP tunnels are noted (Options::tunnel_key)
    const std::uint8_t* outer = nullptr;  // source and destination of the enclosing IP header
    bool outer_v6 = false;

    // Notes an IP tunnel entered from the enclosing IP header.
    void tunnel(TunnelLayer::Kind kind) noexcept {
        if (tunnels == nullptr || outer == nullptr || tunnels->depth >= max_encapsulation_depth)
            return;
        TunnelLayer& l = tunnels->layers[tunnels->depth++];
        l.kind = kind;
        const IpAddress src = outer_v6 ? IpAddress::v6_from(outer) : IpAddress::v4(outer);
        const IpAddress dst = outer_v6 ? IpAddress::v6_from(outer + 16) : IpAddress::v4(outer + 4);
        const bool src_first = src < dst;
        l.a = src_first ? src : dst;
        l.b = src_first ? dst : src;
    }
    // The VNI or key of the tunnel just noted.
    void tunnel_id(std::uint32_t id) noexcept {
        if (tunnels == nullptr || tunnels->depth == 0) return;
        tunnels->layers[tunnels->depth - 1].has_id = true;
        tunnels->layers[tunnels->depth - 1].id = id;
    }

    Decoded unsupported(Encap kind, std::uint16_t value = 0) noexcept {
        encap = EncapInfo{kind, value};
        return Decoded::unsupported_encapsulation;
    }
    Decoded encrypted(Encap kind) noexcept {
        encap = EncapInfo{kind, 0};
        return Decoded::encrypted;
    }

    // Captured bytes from `off` on (0 when `off` is past the end).
    std::uint32_t avail(std::uint32_t off) const noexcept {
        return off < caplen ? caplen - off : 0;
    }
};

// ---- entry points of the layers, by file ----------------------------------------------------

// link.cpp: the link types decode.cpp does not take itself (PPP, HDLC, Frame Relay, ATM, FDDI,
// 802.11 and its radio headers, NFLOG, PFLOG, ENC, IPNET, IPoIB, ARCNET, Juniper, ERF,
// netANALYZER, 802.3br mPackets), and the layers that name an ethertype or protocol.
Decoded other_link(Ctx& c, int link_type) noexcept;
Decoded llc_snap(Ctx& c, std::uint32_t off) noexcept;
Decoded ppp(Ctx& c, std::uint32_t off) noexcept;
Decoded ppp_protocol(Ctx& c, std::uint32_t off) noexcept;

// ip.cpp
Decoded ipv6(Ctx& c, std::uint32_t off) noexcept;
Decoded ip_by_version(Ctx& c, std::uint32_t off) noexcept;
// The protocols whose fragments are reassembled: TCP, and those that may carry a tunnel.
inline bool reassembled_protocol(std::uint8_t proto) noexcept {
    return proto == proto_tcp || proto == 4 || proto == 41 || proto == 47 || proto == 17;
}
Decoded fragment_piece(Ctx& c, std::uint8_t proto, const IpAddress& src, const IpAddress& dst,
                       std::uint32_t id, std::uint32_t offset, bool more, std::uint32_t off,
                       std::uint32_t length) noexcept;

// tunnels.cpp: every ethertype but IPv4 and IPv6 (VLAN tags met late, MPLS, PPPoE, LLC,
// MACsec, named tunnels), and every IP protocol but TCP (IP in IP, GRE, ESP, UDP tunnels).
Decoded other_ethertype(Ctx& c, std::uint32_t off, std::uint16_t type) noexcept;
Decoded ip_payload(Ctx& c, std::uint8_t proto, std::uint32_t off, std::uint32_t size) noexcept;
Decoded mpls(Ctx& c, std::uint32_t off) noexcept;
Decoded pppoe(Ctx& c, std::uint32_t off) noexcept;

// ---- the common path, inline --------------------------------------------------------------

// Steps over any stack of 802.1Q / 802.1ad tags starting at `off`, where `type` is the
// ethertype just read. Leaves `off` at the network header. The first tag met (the outermost)
// gives the segment its VLAN id.
inline bool skip_vlan_tags(const Ctx& c, std::uint32_t& off, std::uint16_t& type) noexcept {
    while (type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_old) {
        if (c.avail(off) < 4) return false;
        if (c.out.vlan == no_vlan) c.out.vlan = load16(c.data + off) & 0x0fffu;
        type = load16(c.data + off + 2);
        off += 4;
    }
    return true;
}

// One more tunnel, MPLS or PPPoE layer; false once the limit is passed.
inline bool enter(Ctx& c) noexcept {
    return ++c.depth <= max_encapsulation_depth;
}

// The IP length to use when the header says 0: TCP segmentation offload on the capturing
// host (IPv4) or a jumbogram (IPv6). Wireshark takes the frame's on-wire length; when the
// snaplen did not cut the frame, that is also its captured length.
inline std::uint32_t frame_ip_length(const Ctx& c, std::uint32_t off) noexcept {
    const std::uint32_t frame = c.len > c.caplen ? c.len : c.caplen;
    return frame > off ? frame - off : 0;
}

CAPGAP_ALWAYS_INLINE Decoded ipv4(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 20) return Decoded::truncated_header;
    const std::uint8_t* ip = c.data + off;
    if ((ip[0] >> 4) != 4) return Decoded::bad_ip_header;
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4;
    if (ihl < 20) return Decoded::bad_ip_header;
    std::uint32_t total = load16(ip + 2);
    if (total == 0) total = frame_ip_length(c, off);
    if (off < c.end && total > c.end - off) total = c.end - off;
    if (total < ihl) return Decoded::bad_ip_header;
    const std::uint16_t frag = load16(ip + 6);
    if ((frag & 0x3fff) != 0) {
        // MF set or a non-zero offset. Statelessly, a first fragment still decodes with its own
        // on-wire length; with a reassembler every piece of TCP or of a tunnel goes there.
        if (c.frag != nullptr) {
            if (!reassembled_protocol(ip[9])) return Decoded::ip_fragment;
            if (c.avail(off) >= ihl) {
                return fragment_piece(c, ip[9], IpAddress::v4(ip + 12), IpAddress::v4(ip + 16),
                                      load16(ip + 4), (frag & 0x1fffu) * 8, (frag & 0x2000) != 0,
                                      off + ihl, total - ihl);
            }
            // The snaplen cut the IP header: no piece to keep. TCP says so; a tunnel's piece
            // decodes as it would without a reassembler, as the stateless decoder does.
            if (ip[9] == proto_tcp) return Decoded::truncated_header;
        }
        if ((frag & 0x1fff) != 0) return Decoded::ip_fragment;
    }
    if (ip[9] == proto_tcp) {
        if (c.avail(off) < ihl) return Decoded::truncated_header;
        set_v4(c.out.src.addr, ip + 12);
        set_v4(c.out.dst.addr, ip + 16);
        return decode_tcp_header(c.data, c.caplen, off + ihl, total - ihl, c.out);
    }
    c.outer = ip + 12;
    c.outer_v6 = false;
    return ip_payload(c, ip[9], off + ihl, total - ihl);
}

CAPGAP_ALWAYS_INLINE Decoded by_ethertype(Ctx& c, std::uint32_t off, std::uint16_t type) noexcept {
    if (type == ethertype_ipv4) return ipv4(c, off);
    if (type == ethertype_ipv6) return ipv6(c, off);
    return other_ethertype(c, off, type);
}

// An Ethernet header at `off` (the link layer, inside a tunnel or after a link-layer prefix).
CAPGAP_ALWAYS_INLINE Decoded ethernet(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 14) return Decoded::truncated_header;
    std::uint16_t type = load16(c.data + off + 12);
    off += 14;
    if (!skip_vlan_tags(c, off, type)) return Decoded::truncated_header;
    return by_ethertype(c, off, type);
}

}  // namespace capgap::detail::layers
