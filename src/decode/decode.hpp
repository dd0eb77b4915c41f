// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: link layers, encapsulations (VLAN, MPLS, PPPoE, GRE, ERSPAN, VXLAN, Geneve, IP in
// IP), IPv4/IPv6 and TCP decoding to a Segment.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include "core/compiler.hpp"

namespace capgap::detail {

// Tunnel, MPLS and PPPoE layers peeled before a packet is given up (crafted loops such as
// IP-in-IP-in-IP... end here). VLAN tags and the labels of one MPLS stack do not count.
constexpr unsigned max_encapsulation_depth = 8;

// The outcome of decoding one packet; every value but `tcp` and `tcp_fragment` names an
// IngestStats counter.
enum class Decoded : std::uint8_t {
    tcp,                        // `out` holds the segment (frame and time are left to the caller)
    not_ip,                     // skipped_not_ip
    not_tcp,                    // skipped_not_tcp
    ip_fragment,                // skipped_ip_fragment (a fragment that is not reassembled here)
    bad_ip_header,              // skipped_bad_ip_header
    bad_tcp_header,             // skipped_bad_tcp_header
    truncated_header,           // skipped_truncated_header
    unsupported_link,           // skipped_unsupported_link
    tcp_fragment,               // `frag` holds one piece of a fragmented datagram: reassemble it
    encapsulation_depth,        // skipped_encapsulation_depth (more than max_encapsulation_depth)
    encrypted,                  // skipped_encrypted (802.11 protected frame, IPsec ESP, MACsec)
    unsupported_encapsulation,  // skipped_unsupported_encapsulation
};

// Which encapsulation stopped decoding (unsupported_encapsulation and encrypted results): the
// kind, and a value that tells its variant (a protocol number, a version, a UDP port).
enum class Encap : std::uint8_t {
    none,
    gre_version,         // GRE version other than 0 (plain) and 1 (PPTP)
    gre_routing,         // GRE with the (obsolete) source routing present bit
    gre_protocol,        // GRE protocol type not decoded (value: the type)
    erspan3_frame_type,  // ERSPAN type III frame type other than Ethernet or IP
    mpls_payload,        // MPLS payload neither IP nor a pseudowire (value: first nibble)
    geneve_version,      // Geneve version other than 0
    geneve_protocol,     // Geneve protocol type not decoded
    ppp_protocol,        // a PPP network-layer protocol other than IP/MPLS (VJ compression...)
    udp_tunnel,          // a known tunnel's UDP port (value: the port): GTP-U, L2TP, ...
    ethertype_tunnel,    // a known tunnel or tag ethertype (value: the ethertype): PBB, ...
    ipsec_esp,           // IPsec ESP (encrypted)
    macsec,              // MACsec (encrypted)
    wlan_protected,      // IEEE 802.11 protected frame (encrypted)
    erf_type,            // an ERF record type not decoded (value: the type)
    erf_records,         // a packet holding more than one ERF record
    mpacket_fragment,    // an 802.3br continuation fragment (value: the SMD byte)
    gtp_version,         // GTP other than GTP-U version 1 on port 2152 (value: version, PT)
    gtpu_message,        // a GTP-U message without user data (value: the message type)
    gtpu_payload,        // a G-PDU that does not carry IP (value: first nibble)
    gtpu_extension,      // a G-PDU whose extension header chain is malformed (a length of 0)
};

struct EncapInfo {
    Encap kind = Encap::none;
    std::uint16_t value = 0;
    friend bool operator==(EncapInfo a, EncapInfo b) {
        return a.kind == b.kind && a.value == b.value;
    }
};

// A name for the report, e.g. "GRE protocol 0x883e" or "UDP port 2152 (GTP-U)".
std::string encapsulation_name(EncapInfo e);

// The IP tunnels a packet came through, outermost first, for Options::tunnel_key: each
// layer's outer endpoints (unordered: both directions give the same path) and its VNI or key.
struct TunnelLayer {
    enum class Kind : std::uint8_t { ip_in_ip, gre, vxlan, geneve, gtpu };
    Kind kind = Kind::ip_in_ip;
    bool has_id = false;
    std::uint32_t id = 0;  // VXLAN/Geneve VNI, GRE key (PPTP: call id), GTP-U TEID
    IpAddress a;           // the smaller outer address
    IpAddress b;           // the larger one

    friend bool operator==(const TunnelLayer& x, const TunnelLayer& y) {
        return x.kind == y.kind && x.has_id == y.has_id && x.id == y.id && x.a == y.a && x.b == y.b;
    }
};

struct TunnelPath {
    TunnelLayer layers[max_encapsulation_depth];
    unsigned depth = 0;

    friend bool operator==(const TunnelPath& x, const TunnelPath& y);
    std::uint64_t hash() const noexcept;
    // e.g. "VXLAN 10.0.0.1 <-> 10.0.0.2 VNI 42", layers joined by " / ".
    std::string describe() const;
};

// One piece of a fragmented IPv4 or IPv6 datagram whose upper protocol is TCP or one that may
// carry a tunnel (IP in IP, GRE, UDP). `data` points into the packet buffer: copy what you
// keep before the buffer goes away.
struct IpFragment {
    IpAddress src;
    IpAddress dst;
    std::uint8_t proto = 6;    // the upper protocol (IPv6: the fragment header's next header)
    unsigned depth = 0;        // encapsulation layers peeled before this IP header
    std::uint32_t id = 0;      // IPv4 identification or IPv6 fragment header identification
    std::uint32_t offset = 0;  // byte offset of this piece in the datagram's payload
    std::uint32_t length = 0;  // on-wire bytes of this piece
    const std::uint8_t* data = nullptr;  // its captured bytes
    std::uint32_t captured = 0;          // how many (<= length; the snaplen may cut the piece)
    bool more = false;                   // more fragments follow (MF / M flag)
};

// Decodes caplen bytes of a packet of link type `link_type` (DLT_ value as libpcap's
// pcap_datalink() returns it) whose on-wire length is `len`. Never reads past caplen.
// With `encap` set, it tells which encapsulation an unsupported_encapsulation or encrypted
// result stopped at; with `tunnels` set, which IP tunnels a packet came through.
//
// Fragments: with `frag` set, every piece of a fragmented datagram carrying TCP, IP in IP, GRE
// or UDP (first one included) returns tcp_fragment and is described in *frag; fragments of
// other protocols return ip_fragment. Without `frag`, a first fragment decodes as TCP with its
// own length and later pieces return ip_fragment (stateless decoding).
Decoded decode_packet(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                      int link_type, Segment& out, IpFragment* frag = nullptr,
                      EncapInfo* encap = nullptr, TunnelPath* tunnels = nullptr) noexcept;

// Decodes the payload of a reassembled IP datagram (protocol `proto`, not TCP; `len` bytes on
// the wire of which the first `caplen` were captured) between `src` and `dst`, `depth`
// encapsulation layers deep, as decode_packet would have decoded it unfragmented. `tunnels`
// is extended from its current depth. Never reads past caplen.
Decoded decode_reassembled(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                           std::uint8_t proto, const IpAddress& src, const IpAddress& dst,
                           unsigned depth, Segment& out, IpFragment* frag, EncapInfo* encap,
                           TunnelPath* tunnels) noexcept;

// Network byte order reads, and a segment's addresses written in place, in 8-byte pieces:
// returning an IpAddress built on the stack made the copy read 16 bytes just written in
// smaller pieces, which store forwarding cannot serve (perf: half the decoder's time).
namespace wire {
inline std::uint16_t load16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}
CAPGAP_ALWAYS_INLINE void set_v4(IpAddress& a, const std::uint8_t* b4) noexcept {
    std::uint64_t low = 0;
    const std::uint64_t high = 0;
    std::memcpy(&low, b4, 4);
    std::memcpy(a.bytes.data(), &low, 8);
    std::memcpy(a.bytes.data() + 8, &high, 8);
    a.v6 = false;
}
CAPGAP_ALWAYS_INLINE void set_v6(IpAddress& a, const std::uint8_t* b16) noexcept {
    std::memcpy(a.bytes.data(), b16, 16);
    a.v6 = true;
}
}  // namespace wire

// Decodes a TCP header at data[off] whose IP payload is `ip_payload_len` bytes on the wire
// (the IP layers, and the reassembler on a rebuilt datagram head). Never reads past caplen.
CAPGAP_ALWAYS_INLINE Decoded decode_tcp_header(const std::uint8_t* data, std::uint32_t caplen,
                                               std::uint32_t off, std::uint32_t ip_payload_len,
                                               Segment& out) noexcept {
    if (ip_payload_len < 20) return Decoded::bad_tcp_header;
    if (caplen < off || caplen - off < 13) return Decoded::truncated_header;
    const std::uint8_t* t = data + off;
    const std::uint32_t doff = t[12] >> 4;
    if (doff < 5) return Decoded::bad_tcp_header;
    const std::uint32_t header = doff * 4;
    if (header > ip_payload_len) return Decoded::bad_tcp_header;
    if (caplen - off < header) return Decoded::truncated_header;

    out.src.port = wire::load16(t);
    out.dst.port = wire::load16(t + 2);
    out.seq = wire::load32(t + 4);
    out.ack = wire::load32(t + 8);
    out.flags = static_cast<std::uint8_t>(t[13] & 0x3f);
    out.window = wire::load16(t + 14);
    out.checksum = wire::load16(t + 16);
    out.payload_len = ip_payload_len - header;
    const std::uint32_t captured = caplen - off - header;
    // max rather than a condition: compiled without a branch, which the processor could not
    // predict where the snaplen cuts the larger packets only.
    out.truncated_bytes = std::max(out.payload_len, captured) - captured;
    return Decoded::tcp;
}

// The common case, inline in the per-packet loop: Ethernet (link type 1) with at most one
// 802.1Q tag, IPv4 without options or fragmentation, TCP. For such a packet, sets `result`
// and `out` exactly as decode_packet would with `frag` set and no `tunnels` (as the Analyzer
// calls it) and returns true; for any other packet returns false having decided nothing, and
// decode_packet decodes it from the start.
CAPGAP_ALWAYS_INLINE bool decode_common(const std::uint8_t* data, std::uint32_t caplen,
                                        std::uint32_t len, int link_type, Segment& out,
                                        Decoded& result) noexcept {
    if (link_type != 1 || caplen < 14) return false;
    std::uint32_t off = 14;
    std::uint16_t type = wire::load16(data + 12);
    std::uint16_t vlan = no_vlan;
    if (type == 0x8100 && caplen >= 18) {
        vlan = wire::load16(data + 14) & 0x0fffu;
        type = wire::load16(data + 16);
        off = 18;
    }
    if (type != 0x0800 || caplen - off < 20) return false;
    const std::uint8_t* ip = data + off;
    if (ip[0] != 0x45 || ip[9] != 6 || (wire::load16(ip + 6) & 0x3fff) != 0) return false;
    std::uint32_t total = wire::load16(ip + 2);
    const std::uint32_t end = len > caplen ? len : caplen;  // the frame, as decode_packet
    if (total > end - off) total = end - off;
    if (total < 20) return false;  // 0 (segmentation offload) or a bad header
    wire::set_v4(out.src.addr, ip + 12);
    wire::set_v4(out.dst.addr, ip + 16);
    out.vlan = vlan;
    result = decode_tcp_header(data, caplen, off + 20, total - 20, out);
    return true;
}

// True when decode_packet knows the link type.
bool link_type_supported(int link_type) noexcept;

// The link type whose records carry a capture card's loss counter (ERF).
constexpr int link_type_erf = 197;

// The loss counter of an ERF record (records the card dropped before this one, 0 for the
// record types whose field holds a colour or hash instead); 0 when the header is cut.
std::uint32_t erf_loss_counter(const std::uint8_t* data, std::uint32_t caplen) noexcept;

}  // namespace capgap::detail
