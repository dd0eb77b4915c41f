// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Link layers, encapsulations, IPv4/IPv6 and TCP decoding. Pure functions over the captured
// bytes: no allocation, no exceptions, and every read is checked against caplen first.
//
// Shape: a link layer hands its payload to an ethertype (by_ethertype), a PPP protocol
// (ppp_payload) or straight to IPv4/IPv6. IPv4 and IPv6 decode TCP at once; any other
// protocol goes to ip_payload, which knows the tunnels (IP in IP, GRE, VXLAN, Geneve). The
// common path (Ethernet, maybe VLAN, IPv4/IPv6, TCP) tests for IP and TCP before anything
// else, so tunnels cost it nothing; the encapsulations live in functions it never calls.
// Each tunnel, MPLS or PPPoE layer counts towards max_encapsulation_depth. The commonest
// case of all (Ethernet, one tag at most, IPv4 without options, TCP) has a copy inline in
// decode.hpp (decode_common), held to the same results by tests and fuzz_decode.

#include "decode/decode.hpp"

#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>

namespace capgap::detail {
namespace {

// Link-type values as libpcap reports them. Spelled out here so that only the pcap adapter
// includes <pcap/pcap.h>.
constexpr int dlt_null = 0;
constexpr int dlt_en10mb = 1;
constexpr int dlt_ppp = 9;
constexpr int dlt_fddi = 10;
constexpr int dlt_raw_linux = 12;
constexpr int dlt_raw_bsd = 14;
constexpr int dlt_ppp_serial = 50;
constexpr int dlt_ppp_ether = 51;
constexpr int linktype_raw = 101;
constexpr int dlt_c_hdlc = 104;
constexpr int dlt_ieee802_11 = 105;
constexpr int dlt_loop = 108;
constexpr int dlt_linux_sll = 113;
constexpr int dlt_ieee802_11_radio = 127;
constexpr int dlt_arcnet_linux = 129;
constexpr int dlt_ieee802_11_radio_avs = 163;
constexpr int dlt_juniper_ether = 178;
constexpr int dlt_ppi = 192;
constexpr int dlt_ipv4 = 228;
constexpr int dlt_ipv6 = 229;
constexpr int dlt_nflog = 239;
constexpr int dlt_linux_sll2 = 276;

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_qinq = 0x88a8;
constexpr std::uint16_t ethertype_qinq_old = 0x9100;
constexpr std::uint16_t ethertype_mpls = 0x8847;
constexpr std::uint16_t ethertype_mpls_multicast = 0x8848;
constexpr std::uint16_t ethertype_pppoe_session = 0x8864;
constexpr std::uint16_t ethertype_ppp = 0x880b;         // GRE protocol type of PPTP
constexpr std::uint16_t ethertype_teb = 0x6558;         // transparent Ethernet bridging
constexpr std::uint16_t ethertype_erspan_1_2 = 0x88be;  // ERSPAN type I and II
constexpr std::uint16_t ethertype_erspan_3 = 0x22eb;    // ERSPAN type III
constexpr std::uint16_t ethertype_wccp = 0x883e;        // GRE protocol type of WCCP redirects

constexpr std::uint8_t proto_ipip = 4;
constexpr std::uint8_t proto_tcp = 6;
constexpr std::uint8_t proto_udp = 17;
constexpr std::uint8_t proto_ipv6 = 41;
constexpr std::uint8_t proto_gre = 47;

constexpr std::uint8_t proto_esp = 50;

constexpr std::uint16_t port_vxlan = 4789;
constexpr std::uint16_t port_geneve = 6081;

// Tunnels recognised by their UDP destination port but not decoded (named in the report).
struct NamedNumber {
    std::uint16_t number;
    const char* name;
};
constexpr NamedNumber udp_tunnels[] = {
    {1701, "L2TP"},      {2152, "GTP-U"}, {4341, "LISP"},        {4500, "IPsec NAT-T"},
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

Decoded by_ethertype(Ctx& c, std::uint32_t off, std::uint16_t type) noexcept;
Decoded other_ethertype(Ctx& c, std::uint32_t off, std::uint16_t type) noexcept;
Decoded ip_payload(Ctx& c, std::uint8_t proto, std::uint32_t off, std::uint32_t size) noexcept;
Decoded first_layer(Ctx& c, int link_type) noexcept;
Decoded macsec(Ctx& c, std::uint32_t off) noexcept;

// Steps over any stack of 802.1Q / 802.1ad tags starting at `off`, where `type` is the
// ethertype just read. Leaves `off` at the network header.
inline bool skip_vlan_tags(const Ctx& c, std::uint32_t& off, std::uint16_t& type) noexcept {
    while (type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_old) {
        if (c.avail(off) < 4) return false;
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
std::uint32_t frame_ip_length(const Ctx& c, std::uint32_t off) noexcept {
    const std::uint32_t frame = c.len > c.caplen ? c.len : c.caplen;
    return frame > off ? frame - off : 0;
}

// Fills *c.frag for a piece of a fragmented TCP datagram.
Decoded tcp_fragment(Ctx& c, const IpAddress& src, const IpAddress& dst, std::uint32_t id,
                     std::uint32_t offset, bool more, std::uint32_t off,
                     std::uint32_t length) noexcept {
    IpFragment& f = *c.frag;
    f.src = src;
    f.dst = dst;
    f.id = id;
    f.offset = offset;
    f.more = more;
    f.length = length;
    f.data = c.data + (off < c.caplen ? off : c.caplen);
    const std::uint32_t have = c.avail(off);
    f.captured = have < length ? have : length;
    return Decoded::tcp_fragment;
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
        // on-wire length; with a reassembler every TCP piece goes there.
        if (c.frag != nullptr) {
            if (ip[9] != proto_tcp) return Decoded::ip_fragment;
            if (c.avail(off) < ihl) return Decoded::truncated_header;
            return tcp_fragment(c, IpAddress::v4(ip + 12), IpAddress::v4(ip + 16), load16(ip + 4),
                                (frag & 0x1fffu) * 8, (frag & 0x2000) != 0, off + ihl, total - ihl);
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

Decoded ipv6(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 40) return Decoded::truncated_header;
    const std::uint8_t* ip = c.data + off;
    if ((ip[0] >> 4) != 6) return Decoded::bad_ip_header;
    std::uint32_t remaining = load16(ip + 4);
    if (remaining == 0) {
        const std::uint32_t frame = frame_ip_length(c, off);
        remaining = frame > 40 ? frame - 40 : 0;
    }
    if (off + 40 <= c.end && remaining > c.end - off - 40) remaining = c.end - off - 40;
    std::uint8_t next = ip[6];
    std::uint32_t p = off + 40;
    // Every extension header is at least 8 bytes and shrinks `remaining`, so this ends.
    for (;;) {
        std::uint32_t ext = 0;
        switch (next) {
            case proto_tcp:
                set_v6(c.out.src.addr, ip + 8);
                set_v6(c.out.dst.addr, ip + 24);
                return decode_tcp_header(c.data, c.caplen, p, remaining, c.out);
            case 0:    // hop-by-hop options
            case 43:   // routing
            case 60:   // destination options
            case 135:  // mobility
                if (c.avail(p) < 2) return Decoded::truncated_header;
                ext = (std::uint32_t{c.data[p + 1]} + 1) * 8;
                break;
            case 51:  // authentication header: length in 4-byte units, minus 2
                if (c.avail(p) < 2) return Decoded::truncated_header;
                ext = (std::uint32_t{c.data[p + 1]} + 2) * 4;
                break;
            case 44: {  // fragment
                if (c.avail(p) < 8) return Decoded::truncated_header;
                const std::uint16_t fo = load16(c.data + p + 2);
                const std::uint32_t offset = fo & 0xfff8u;
                const bool more = (fo & 1) != 0;
                if (offset != 0 || more) {  // an atomic fragment (RFC 6946) is whole
                    if (8 > remaining) return Decoded::bad_ip_header;
                    if (c.frag != nullptr) {
                        if (c.data[p] != proto_tcp) return Decoded::ip_fragment;
                        return tcp_fragment(c, IpAddress::v6_from(ip + 8),
                                            IpAddress::v6_from(ip + 24), load32(c.data + p + 4),
                                            offset, more, p + 8, remaining - 8);
                    }
                    if (offset != 0) return Decoded::ip_fragment;
                }
                ext = 8;
                break;
            }
            default:  // UDP, ICMPv6, ESP, tunnels, no next header, ...
                c.outer = ip + 8;
                c.outer_v6 = true;
                return ip_payload(c, next, p, remaining);
        }
        if (ext > remaining) return Decoded::bad_ip_header;
        next = c.data[p];
        p += ext;
        remaining -= ext;
        if (p > c.caplen) return Decoded::truncated_header;
    }
}

// IPv4 or IPv6, told apart by the version nibble (raw IP, MPLS payloads, ...).
Decoded ip_by_version(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 1) return Decoded::truncated_header;
    switch (c.data[off] >> 4) {
        case 4:
            return ipv4(c, off);
        case 6:
            return ipv6(c, off);
        default:
            return Decoded::not_ip;
    }
}

// An Ethernet header at `off` (inside a tunnel or after a link-layer prefix).
CAPGAP_ALWAYS_INLINE Decoded ethernet(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 14) return Decoded::truncated_header;
    std::uint16_t type = load16(c.data + off + 12);
    off += 14;
    if (!skip_vlan_tags(c, off, type)) return Decoded::truncated_header;
    return by_ethertype(c, off, type);
}

// An 802.2 LLC header with a SNAP extension (AA AA 03, OUI 00-00-00 or 00-00-F8) at `off`.
Decoded llc_snap(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 8) return Decoded::truncated_header;
    const std::uint8_t* l = c.data + off;
    if (l[0] != 0xaa || l[1] != 0xaa || l[2] != 0x03 || l[3] != 0 || l[4] != 0 ||
        (l[5] != 0 && l[5] != 0xf8))
        return Decoded::not_ip;
    return by_ethertype(c, off + 8, load16(l + 6));
}

CAPGAP_ALWAYS_INLINE Decoded by_ethertype(Ctx& c, std::uint32_t off, std::uint16_t type) noexcept {
    if (type == ethertype_ipv4) return ipv4(c, off);
    if (type == ethertype_ipv6) return ipv6(c, off);
    return other_ethertype(c, off, type);
}

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

// The PPP protocol field at `off` (one byte when compressed: the first byte is odd).
Decoded ppp_protocol(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 1) return Decoded::truncated_header;
    std::uint16_t proto = c.data[off];
    if ((proto & 1) != 0) {
        off += 1;
    } else {
        if (c.avail(off) < 2) return Decoded::truncated_header;
        proto = load16(c.data + off);
        off += 2;
    }
    switch (proto) {
        case 0x0021:
            return ipv4(c, off);
        case 0x0057:
            return ipv6(c, off);
        case 0x0281:  // MPLS unicast
        case 0x0283:  // MPLS multicast
            return mpls(c, off);
        default:
            // 0x0001-0x7fff carry network-layer data (Van Jacobson compressed TCP, bridged
            // frames, ...): a payload capgap cannot read. 0x8000 and up are control
            // protocols (IPCP, LCP, CHAP, ...): no data, like ARP on Ethernet.
            if (proto < 0x8000) return c.unsupported(Encap::ppp_protocol, proto);
            return Decoded::not_ip;
    }
}

// PPP, with or without the HDLC-like address and control bytes FF 03.
Decoded ppp(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 2) return Decoded::truncated_header;
    if (c.data[off] == 0xff && c.data[off + 1] == 0x03) off += 2;
    return ppp_protocol(c, off);
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

// Cisco HDLC: address (0x0F unicast, 0x8F broadcast), control 0, ethertype.
Decoded chdlc(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 4) return Decoded::truncated_header;
    return by_ethertype(c, off + 4, load16(c.data + off + 2));
}

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
            if (dport != port_vxlan && dport != port_geneve) {
                if (find_name(std::begin(udp_tunnels), std::end(udp_tunnels), dport))
                    return c.unsupported(Encap::udp_tunnel, dport);
                return Decoded::not_tcp;
            }
            if (!enter(c)) return Decoded::encapsulation_depth;
            c.tunnel(dport == port_vxlan ? TunnelLayer::Kind::vxlan : TunnelLayer::Kind::geneve);
            return dport == port_vxlan ? vxlan(c, off + 8) : geneve(c, off + 8);
        }
        default:
            return Decoded::not_tcp;
    }
}

// IEEE 802.11 frame at `off`: only data frames carrying LLC/SNAP are decoded.
Decoded ieee802_11(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 2) return Decoded::truncated_header;
    const std::uint8_t fc0 = c.data[off];
    const std::uint8_t fc1 = c.data[off + 1];
    if (((fc0 >> 2) & 3) != 2) return Decoded::not_ip;  // management, control, extension
    const unsigned subtype = fc0 >> 4;
    if ((subtype & 0x4) != 0) return Decoded::not_ip;  // null function: no body
    std::uint32_t header = 24;
    if ((fc1 & 0x03) == 0x03) header += 6;  // ToDS and FromDS: fourth address
    if ((subtype & 0x8) != 0) {             // QoS data
        header += 2;
        if ((fc1 & 0x80) != 0) header += 4;  // +HTC field
    }
    if ((fc1 & 0x40) != 0) return c.encrypted(Encap::wlan_protected);
    if (c.avail(off) < header) return Decoded::truncated_header;
    return llc_snap(c, off + header);
}

// Linux NFLOG: family, version, resource id, then TLVs (length and type in the logging
// host's byte order, little-endian on nearly every host; values padded to 4 bytes). TLV type 9
// holds the packet from its network header.
Decoded nflog(Ctx& c) noexcept {
    if (c.caplen < 4) return Decoded::truncated_header;
    const std::uint8_t family = c.data[0];
    std::uint32_t off = 4;
    // A TLV's length counts its 4-byte header and is at least 4: whichever byte order gives a
    // sensible first length is the host's.
    bool big = false;
    if (c.avail(off) >= 4) {
        const std::uint16_t le = load16_le(c.data + off);
        const std::uint16_t be = load16(c.data + off);
        big = (le < 4 || le > c.avail(off)) && be >= 4 && be <= c.avail(off);
    }
    for (;;) {
        if (c.avail(off) < 4) return Decoded::truncated_header;
        const std::uint8_t* t = c.data + off;
        const std::uint32_t tlv_len = big ? load16(t) : load16_le(t);
        const std::uint32_t type = (big ? load16(t + 2) : load16_le(t + 2)) & 0x7fffu;
        if (tlv_len < 4) return Decoded::not_ip;
        if (type == 9) {
            switch (family) {
                case 2:
                    return ipv4(c, off + 4);
                case 10:
                    return ipv6(c, off + 4);
                default:
                    return ip_by_version(c, off + 4);
            }
        }
        off += (tlv_len + 3) & ~3u;
    }
}

// Juniper "MGC" cookie, flags, optional extension TLVs, then Ethernet (or, with the no-L2
// flag, 4 more bytes and IP).
Decoded juniper_ether(Ctx& c) noexcept {
    if (c.caplen < 4) return Decoded::truncated_header;
    if (c.data[0] != 'M' || c.data[1] != 'G' || c.data[2] != 'C') return Decoded::not_ip;
    const std::uint8_t flags = c.data[3];
    std::uint32_t off = 4;
    if ((flags & 0x80) != 0) {
        if (c.caplen < 6) return Decoded::truncated_header;
        off = 6 + std::uint32_t{load16(c.data + 4)};
    }
    if ((flags & 0x02) != 0) return ip_by_version(c, off + 4);
    return ethernet(c, off);
}

// ARCNET as Linux captures it: source, destination, 2 bytes of offset, protocol id; RFC 1201
// protocols add split flag and sequence number (the kernel has already joined split
// packets), the old RFC 1051 ones do not.
Decoded arcnet_linux(Ctx& c) noexcept {
    if (c.caplen < 5) return Decoded::truncated_header;
    const std::uint8_t type = c.data[4];
    switch (type) {
        case 0xf0:  // IP, RFC 1051
            return ipv4(c, 5);
        case 0xf1:  // ARP, RFC 1051
        case 0x80:  // diagnostics
            return Decoded::not_ip;
        default:
            if (c.caplen < 8) return Decoded::truncated_header;
            if (type == 0xd4) return ipv4(c, 8);
            if (type == 0xc4) return ipv6(c, 8);
            return Decoded::not_ip;
    }
}

Decoded link(Ctx& c, int link_type) noexcept;

// Radiotap, PPI and AVS headers in front of 802.11.
Decoded wlan_with_header(Ctx& c, int link_type) noexcept {
    std::uint32_t off = 0;
    switch (link_type) {
        case dlt_ieee802_11_radio:  // length LE at offset 2
            if (c.caplen < 4) return Decoded::truncated_header;
            off = load16_le(c.data + 2);
            break;
        case dlt_ieee802_11_radio_avs:  // length BE at offset 4
            if (c.caplen < 8) return Decoded::truncated_header;
            off = load32(c.data + 4);
            break;
        case dlt_ppi: {  // length LE at offset 2, the link type of what follows at offset 4
            if (c.caplen < 8) return Decoded::truncated_header;
            off = load16_le(c.data + 2);
            const std::uint32_t inner = load32_le(c.data + 4);
            if (inner == dlt_en10mb) return ethernet(c, off);
            if (inner != dlt_ieee802_11) return Decoded::unsupported_link;
            break;
        }
        default:
            break;
    }
    return ieee802_11(c, off);
}

Decoded link(Ctx& c, int link_type) noexcept {
    switch (link_type) {
        case dlt_ppp:
            return ppp(c, 0);
        case dlt_ppp_serial:
            // RFC 1662 framing starts with FF; Cisco's PPP-in-HDLC with 0F or 8F.
            if (c.caplen >= 1 && (c.data[0] == 0x0f || c.data[0] == 0x8f)) return chdlc(c, 0);
            return ppp(c, 0);
        case dlt_ppp_ether:
            return pppoe(c, 0);
        case dlt_c_hdlc:
            return chdlc(c, 0);
        case dlt_fddi:  // frame control, destination, source, then LLC
            return llc_snap(c, 13);
        case dlt_ieee802_11:
            return ieee802_11(c, 0);
        case dlt_ieee802_11_radio:
        case dlt_ieee802_11_radio_avs:
        case dlt_ppi:
            return wlan_with_header(c, link_type);
        case dlt_nflog:
            return nflog(c);
        case dlt_arcnet_linux:
            return arcnet_linux(c);
        case dlt_juniper_ether:
            return juniper_ether(c);
        default:
            return Decoded::unsupported_link;
    }
}

}  // namespace

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

bool operator==(const TunnelPath& x, const TunnelPath& y) {
    if (x.depth != y.depth) return false;
    for (unsigned i = 0; i < x.depth; ++i)
        if (!(x.layers[i] == y.layers[i])) return false;
    return true;
}

std::uint64_t TunnelPath::hash() const noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ depth;
    auto mix = [&h](std::uint64_t v) {
        h ^= v;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
    };
    for (unsigned i = 0; i < depth; ++i) {
        const TunnelLayer& l = layers[i];
        mix(static_cast<std::uint64_t>(l.kind) << 40 | std::uint64_t{l.has_id} << 32 | l.id);
        for (const IpAddress* a : {&l.a, &l.b}) {
            std::uint64_t w[2];
            std::memcpy(w, a->bytes.data(), sizeof w);
            mix(w[0]);
            mix(w[1] ^ a->v6);
        }
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
        }
        out += to_string(l.a) + " <-> " + to_string(l.b);
        if (l.has_id) {
            const bool vni =
                l.kind == TunnelLayer::Kind::vxlan || l.kind == TunnelLayer::Kind::geneve;
            out += (vni ? " VNI " : " key ") + std::to_string(l.id);
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
    }
    return "unknown";
}

namespace {

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
            return link(c, link_type);
    }
}

}  // namespace

}  // namespace capgap::detail
