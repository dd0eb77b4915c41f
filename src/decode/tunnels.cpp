// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// What an IP header or an ethertype may carry besides TCP: IP in IP, GRE (with PPTP, ERSPAN
// and WCCP), VXLAN, Geneve, GTP-U, MPLS, PPPoE, MACsec; the encapsulations recognised but not
// decoded, and their names; the tunnel paths of Options::tunnel_key; the payload of a
// reassembled datagram. The common path never comes here: each of these layers counts towards
// max_encapsulation_depth.

#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>

#include "core/hash.hpp"
#include "decode/layers.hpp"

namespace capgap::detail {
namespace layers {
namespace {

constexpr std::uint16_t ethertype_mpls = 0x8847;
constexpr std::uint16_t ethertype_mpls_multicast = 0x8848;
constexpr std::uint16_t ethertype_pppoe_session = 0x8864;
constexpr std::uint16_t ethertype_ppp = 0x880b;         // GRE protocol type of PPTP
constexpr std::uint16_t ethertype_teb = 0x6558;         // transparent Ethernet bridging
constexpr std::uint16_t ethertype_erspan_1_2 = 0x88be;  // ERSPAN type I and II
constexpr std::uint16_t ethertype_erspan_3 = 0x22eb;    // ERSPAN type III
constexpr std::uint16_t ethertype_wccp = 0x883e;        // GRE protocol type of WCCP redirects

constexpr std::uint8_t proto_ipip = 4;
constexpr std::uint8_t proto_udp = 17;
constexpr std::uint8_t proto_ipv6 = 41;
constexpr std::uint8_t proto_gre = 47;

constexpr std::uint8_t proto_esp = 50;

constexpr std::uint16_t port_vxlan = 4789;
constexpr std::uint16_t port_geneve = 6081;
constexpr std::uint16_t port_gtpu = 2152;

// Tunnels recognised by their UDP destination port but not decoded (named in the report).
struct NamedNumber {
    std::uint16_t number;
    const char* name;
};
constexpr NamedNumber udp_tunnels[] = {
    {1701, "L2TP"},      {2123, "GTP-C"}, {4341, "LISP"},        {4500, "IPsec NAT-T"},
    {4790, "VXLAN-GPE"}, {6080, "GUE"},   {6635, "MPLS in UDP"},
};
// Tunnel and tag ethertypes not decoded (named in the report rather than lumped with ARP).
constexpr NamedNumber tunnel_ethertypes[] = {
    {0x88e7, "802.1ah PBB"}, {0x8926, "VN-Tag"},         {0x893f, "802.1BR E-Tag"},
    {0x894f, "NSH"},         {0x8909, "Cisco MetaData"}, {0x883e, "WCCP"},
};
constexpr std::uint16_t ethertype_macsec = 0x88e5;

const char* find_name(const NamedNumber* begin, const NamedNumber* end, std::uint16_t n) {
    for (const NamedNumber* p = begin; p != end; ++p)
        if (p->number == n) return p->name;
    return nullptr;
}

// MACsec (802.1AE): the SecTAG (8 bytes, 16 with an explicit SCI), then either ciphertext
// or, when the E bit is clear (integrity only), the protected frame's ethertype and payload.
Decoded macsec(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 1) return Decoded::truncated_header;
    const std::uint8_t tci = c.data[off];
    if ((tci & 0x08) != 0) return c.encrypted(Encap::macsec);
    const std::uint32_t body = off + ((tci & 0x20) != 0 ? 16 : 8);
    if (c.avail(body) < 2) return Decoded::truncated_header;
    return by_ethertype(c, body + 2, load16(c.data + body));
}

// The payload of a tunnel header that names it by ethertype (GRE, Geneve): one capgap does
// not decode is the tunnel's fault, not "not IP".
Decoded tunnel_payload(Ctx& c, std::uint32_t off, std::uint16_t type, Encap kind) noexcept {
    const Decoded d = by_ethertype(c, off, type);
    if (d == Decoded::not_ip && c.encap.kind == Encap::none) return c.unsupported(kind, type);
    return d;
}

// GRE (RFC 2784, 2890) and PPTP's enhanced GRE (RFC 2637, version 1) at `off`.
Decoded gre(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 4) return Decoded::truncated_header;
    const std::uint8_t* g = c.data + off;
    const std::uint16_t flags = load16(g);
    const std::uint16_t type = load16(g + 2);
    const bool seq = (flags & 0x1000) != 0;
    std::uint32_t header = 4;
    switch (flags & 7) {
        case 0:
            if ((flags & 0x4000) != 0) return c.unsupported(Encap::gre_routing);
            if ((flags & 0x8000) != 0) header += 4;  // checksum + reserved
            if ((flags & 0x2000) != 0) {             // key
                if (c.avail(off) < header + 4) return Decoded::truncated_header;
                c.tunnel_id(load32(g + header));
                header += 4;
            }
            if (seq) header += 4;
            break;
        case 1:
            // Key (payload length + call id) is always present; then sequence, then ack.
            if (type != ethertype_ppp) return Decoded::not_ip;
            header += 4;
            if (seq) header += 4;
            if ((flags & 0x0080) != 0) header += 4;
            if (c.avail(off) < 8) return Decoded::truncated_header;
            if (load16(g + 4) == 0) return Decoded::not_ip;  // acknowledgement only
            c.tunnel_id(load16(g + 6));                      // the call id
            break;
        default:
            return c.unsupported(Encap::gre_version, flags & 7);
    }
    if (c.avail(off) < header) return Decoded::truncated_header;
    off += header;
    switch (type) {
        case ethertype_teb:
            return ethernet(c, off);
        case ethertype_ppp:
            return ppp(c, off);
        case ethertype_erspan_1_2:
            // Type I has no sequence number and Ethernet follows; type II has an 8-byte header.
            return ethernet(c, seq ? off + 8 : off);
        case ethertype_erspan_3: {
            // 12-byte header; its last word ends with the frame type (bits 14..10: 0 Ethernet,
            // 2 IP) and the O bit (bit 0) announcing an 8-byte platform-specific subheader.
            if (c.avail(off) < 12) return Decoded::truncated_header;
            const std::uint16_t word = load16(c.data + off + 10);
            const std::uint32_t body = off + 12 + ((word & 1) != 0 ? 8 : 0);
            switch ((word >> 10) & 0x1f) {
                case 0:
                    return ethernet(c, body);
                case 2:
                    return ip_by_version(c, body);
                default:
                    return c.unsupported(Encap::erspan3_frame_type, (word >> 10) & 0x1f);
            }
        }
        case ethertype_wccp:
            // WCCP v2 puts a 4-byte redirect header before the IP packet; v1 has none.
            if (c.avail(off) < 1) return Decoded::truncated_header;
            return ip_by_version(c, (c.data[off] >> 4) == 4 ? off : off + 4);
        default:
            return tunnel_payload(c, off, type, Encap::gre_protocol);
    }
}

// VXLAN (RFC 7348): 8-byte header, then Ethernet.
Decoded vxlan(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 8) return Decoded::truncated_header;
    c.tunnel_id(load32(c.data + off + 4) >> 8);
    return ethernet(c, off + 8);
}

// Geneve (RFC 8926): 8-byte header plus options (length in 4-byte words), then the protocol.
Decoded geneve(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 8) return Decoded::truncated_header;
    const std::uint8_t* g = c.data + off;
    if ((g[0] >> 6) != 0) return c.unsupported(Encap::geneve_version, g[0] >> 6);
    const std::uint32_t body = off + 8 + (g[0] & 0x3fu) * 4;
    const std::uint16_t type = load16(g + 2);
    c.tunnel_id(load32(g + 4) >> 8);
    if (type == ethertype_teb) return ethernet(c, body);
    return tunnel_payload(c, body, type, Encap::geneve_protocol);
}

// GTP-U messages other than the G-PDU: signalling on the user plane, no user data.
constexpr NamedNumber gtpu_messages[] = {
    {1, "echo request"},      {2, "echo response"},
    {26, "error indication"}, {31, "supported extension headers notification"},
    {253, "tunnel status"},   {254, "end marker"},
};
constexpr std::uint8_t gtpu_g_pdu = 255;

// GTP-U version 1 (3GPP TS 29.281): an 8-byte header (flags, message type, length of what
// follows it, TEID), 4 more bytes (sequence number, N-PDU number, next extension header type)
// when any of the E, S and PN flags is set, then, with E, a chain of extension headers, each
// a length in 4-byte units, its content and the next one's type (0: none). A G-PDU carries an
// IPv4 or IPv6 packet; other messages carry no user data.
Decoded gtpu(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 8) return Decoded::truncated_header;
    const std::uint8_t* g = c.data + off;
    // Version 1 with protocol type 1 (0 is GTP', charging, which never carries user data).
    if ((g[0] >> 4) != 3) return c.unsupported(Encap::gtp_version, g[0] >> 4);
    c.tunnel_id(load32(g + 4));
    if (g[1] != gtpu_g_pdu) return c.unsupported(Encap::gtpu_message, g[1]);
    const std::uint32_t end = off + 8 + load16(g + 2);
    if (end < c.end) c.end = end;
    std::uint32_t p = off + 8;
    if ((g[0] & 0x07) != 0) {
        if (c.avail(off) < 12) return Decoded::truncated_header;
        // The next-extension-header byte means something only with E set.
        std::uint8_t next = (g[0] & 0x04) != 0 ? g[11] : 0;
        p = off + 12;
        // Each extension header is at least 4 bytes and moves p forward, so this ends.
        while (next != 0) {
            if (c.avail(p) < 1) return Decoded::truncated_header;
            const std::uint32_t size = std::uint32_t{c.data[p]} * 4;
            if (size == 0) return c.unsupported(Encap::gtpu_extension);
            if (c.avail(p) < size) return Decoded::truncated_header;
            next = c.data[p + size - 1];
            p += size;
        }
    }
    if (p >= c.end) return Decoded::not_tcp;  // a G-PDU without a packet
    if (c.avail(p) < 1) return Decoded::truncated_header;
    switch (c.data[p] >> 4) {
        case 4:
            return ipv4(c, p);
        case 6:
            return ipv6(c, p);
        default:
            return c.unsupported(Encap::gtpu_payload, c.data[p] >> 4);
    }
}

}  // namespace

// After an MPLS bottom-of-stack label: IPv4 or IPv6 by the first nibble, or an Ethernet
// pseudowire behind a control word (first nibble 0).
Decoded mpls(Ctx& c, std::uint32_t off) noexcept {
    if (!enter(c)) return Decoded::encapsulation_depth;
    for (;;) {
        if (c.avail(off) < 4) return Decoded::truncated_header;
        const bool bottom = (c.data[off + 2] & 1) != 0;
        off += 4;
        if (bottom) break;
    }
    if (c.avail(off) < 1) return Decoded::truncated_header;
    switch (c.data[off] >> 4) {
        case 4:
            return ipv4(c, off);
        case 6:
            return ipv6(c, off);
        case 0:
            return ethernet(c, off + 4);
        default:
            return c.unsupported(Encap::mpls_payload, c.data[off] >> 4);
    }
}

// A PPPoE session header (version/type 0x11, code 0) at `off`, then PPP.
Decoded pppoe(Ctx& c, std::uint32_t off) noexcept {
    if (!enter(c)) return Decoded::encapsulation_depth;
    if (c.avail(off) < 6) return Decoded::truncated_header;
    if (c.data[off] != 0x11 || c.data[off + 1] != 0) return Decoded::not_ip;
    const std::uint32_t end = off + 6 + load16(c.data + off + 4);
    if (end < c.end) c.end = end;
    return ppp_protocol(c, off + 6);
}

// Every ethertype but IPv4 and IPv6 (by_ethertype took those).
Decoded other_ethertype(Ctx& c, std::uint32_t off, std::uint16_t type) noexcept {
    switch (type) {
        case ethertype_vlan:
        case ethertype_qinq:
        case ethertype_qinq_old:
            if (!skip_vlan_tags(c, off, type)) return Decoded::truncated_header;
            return by_ethertype(c, off, type);
        case ethertype_mpls:
        case ethertype_mpls_multicast:
            return mpls(c, off);
        case ethertype_pppoe_session:
            return pppoe(c, off);
        default:
            // An 802.3 length field: LLC follows (SNAP may still carry IP).
            if (type <= 1500) return llc_snap(c, off);
            if (type == ethertype_macsec) return macsec(c, off);
            if (find_name(std::begin(tunnel_ethertypes), std::end(tunnel_ethertypes), type))
                return c.unsupported(Encap::ethertype_tunnel, type);
            return Decoded::not_ip;
    }
}

// Everything an IP header may carry besides TCP itself.
Decoded ip_payload(Ctx& c, std::uint8_t proto, std::uint32_t off, std::uint32_t size) noexcept {
    switch (proto) {
        case proto_ipip:
            if (!enter(c)) return Decoded::encapsulation_depth;
            c.tunnel(TunnelLayer::Kind::ip_in_ip);
            return ipv4(c, off);
        case proto_ipv6:
            if (!enter(c)) return Decoded::encapsulation_depth;
            c.tunnel(TunnelLayer::Kind::ip_in_ip);
            return ipv6(c, off);
        case proto_gre:
            if (!enter(c)) return Decoded::encapsulation_depth;
            c.tunnel(TunnelLayer::Kind::gre);
            return gre(c, off);
        case proto_esp:
            return c.encrypted(Encap::ipsec_esp);
        case proto_udp: {
            if (size < 8) return Decoded::not_tcp;
            if (c.avail(off) < 4) return Decoded::not_tcp;  // not even the ports: not ours
            const std::uint16_t dport = load16(c.data + off + 2);
            if (dport != port_vxlan && dport != port_geneve && dport != port_gtpu) {
                if (find_name(std::begin(udp_tunnels), std::end(udp_tunnels), dport))
                    return c.unsupported(Encap::udp_tunnel, dport);
                return Decoded::not_tcp;
            }
            if (!enter(c)) return Decoded::encapsulation_depth;
            if (dport == port_vxlan) {
                c.tunnel(TunnelLayer::Kind::vxlan);
                return vxlan(c, off + 8);
            }
            if (dport == port_geneve) {
                c.tunnel(TunnelLayer::Kind::geneve);
                return geneve(c, off + 8);
            }
            c.tunnel(TunnelLayer::Kind::gtpu);
            return gtpu(c, off + 8);
        }
        default:
            return Decoded::not_tcp;
    }
}

}  // namespace layers

using layers::find_name;
using layers::gtpu_messages;
using layers::tunnel_ethertypes;
using layers::udp_tunnels;

Decoded decode_reassembled(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                           std::uint8_t proto, const IpAddress& src, const IpAddress& dst,
                           unsigned depth, Segment& out, IpFragment* frag, EncapInfo* encap,
                           TunnelPath* tunnels) noexcept {
    layers::Ctx c{data, caplen, len, out, frag, depth, len};
    c.tunnels = tunnels;
    // The outer addresses as an IP header holds them, for the tunnel path.
    std::uint8_t addrs[32];
    const std::size_t n = src.v6 ? 16 : 4;
    std::memcpy(addrs, src.bytes.data(), n);
    std::memcpy(addrs + n, dst.bytes.data(), n);
    c.outer = addrs;
    c.outer_v6 = src.v6;
    const Decoded d = layers::ip_payload(c, proto, 0, len);
    if (encap != nullptr) *encap = c.encap;
    return d;
}

bool operator==(const TunnelPath& x, const TunnelPath& y) {
    if (x.depth != y.depth) return false;
    for (unsigned i = 0; i < x.depth; ++i)
        if (!(x.layers[i] == y.layers[i])) return false;
    return true;
}

std::uint64_t TunnelPath::hash() const noexcept {
    std::uint64_t h = hash_mix(hash_seed, depth);
    for (unsigned i = 0; i < depth; ++i) {
        const TunnelLayer& l = layers[i];
        h = hash_mix(
            h, static_cast<std::uint64_t>(l.kind) << 40 | std::uint64_t{l.has_id} << 32 | l.id);
        h = hash_mix_address(h, l.a);
        h = hash_mix_address(h, l.b);
    }
    return h;
}

std::string TunnelPath::describe() const {
    std::string out;
    for (unsigned i = 0; i < depth; ++i) {
        const TunnelLayer& l = layers[i];
        if (!out.empty()) out += " / ";
        switch (l.kind) {
            case TunnelLayer::Kind::ip_in_ip:
                out += "IP-in-IP ";
                break;
            case TunnelLayer::Kind::gre:
                out += "GRE ";
                break;
            case TunnelLayer::Kind::vxlan:
                out += "VXLAN ";
                break;
            case TunnelLayer::Kind::geneve:
                out += "Geneve ";
                break;
            case TunnelLayer::Kind::gtpu:
                out += "GTP-U ";
                break;
        }
        out += to_string(l.a) + " <-> " + to_string(l.b);
        if (l.has_id) {
            const char* label = " key ";
            if (l.kind == TunnelLayer::Kind::vxlan || l.kind == TunnelLayer::Kind::geneve)
                label = " VNI ";
            else if (l.kind == TunnelLayer::Kind::gtpu)
                label = " TEID ";
            out += label + std::to_string(l.id);
        }
    }
    return out;
}

std::string encapsulation_name(EncapInfo e) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%04x", e.value);
    const std::string n = std::to_string(e.value);
    switch (e.kind) {
        case Encap::none:
            return "none";
        case Encap::gre_version:
            return "GRE version " + n;
        case Encap::gre_routing:
            return "GRE with source routing";
        case Encap::gre_protocol:
            return std::string("GRE protocol ") + hex;
        case Encap::erspan3_frame_type:
            return "ERSPAN III frame type " + n;
        case Encap::mpls_payload:
            return "MPLS payload with first nibble " + n;
        case Encap::geneve_version:
            return "Geneve version " + n;
        case Encap::geneve_protocol:
            return std::string("Geneve protocol ") + hex;
        case Encap::ppp_protocol:
            return std::string("PPP protocol ") + hex;
        case Encap::udp_tunnel: {
            const char* name = find_name(std::begin(udp_tunnels), std::end(udp_tunnels), e.value);
            return "UDP port " + n + " (" + (name ? name : "tunnel") + ")";
        }
        case Encap::ethertype_tunnel: {
            const char* name =
                find_name(std::begin(tunnel_ethertypes), std::end(tunnel_ethertypes), e.value);
            return std::string("ethertype ") + hex + " (" + (name ? name : "tunnel") + ")";
        }
        case Encap::ipsec_esp:
            return "IPsec ESP (encrypted)";
        case Encap::macsec:
            return "MACsec (encrypted)";
        case Encap::wlan_protected:
            return "IEEE 802.11 protected frame (encrypted)";
        case Encap::erf_type:
            return "ERF record type " + n;
        case Encap::erf_records:
            return "ERF: several records in one packet";
        case Encap::mpacket_fragment:
            return std::string("802.3br continuation fragment, SMD ") + hex;
        case Encap::gtp_version:
            return "GTP version " + std::to_string(e.value >> 1) +
                   ((e.value & 1) != 0 ? "" : " (GTP')") + " on UDP port 2152";
        case Encap::gtpu_message: {
            const char* name =
                find_name(std::begin(gtpu_messages), std::end(gtpu_messages), e.value);
            return std::string("GTP-U ") + (name ? name : "message") + " (type " + n +
                   ", no user data)";
        }
        case Encap::gtpu_payload:
            return "GTP-U payload with first nibble " + n + " (not IP)";
        case Encap::gtpu_extension:
            return "GTP-U malformed extension header";
    }
    return "unknown";
}

}  // namespace capgap::detail
