// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Link layer, VLAN, IPv4/IPv6 and TCP decoding. Pure functions over the captured bytes: no
// allocation, no exceptions, and every read is checked against caplen first.

#include "decode.hpp"

namespace capgap::detail {
namespace {

// Link-type values as libpcap reports them. Spelled out here so that only the pcap adapter
// includes <pcap/pcap.h>.
constexpr int dlt_null = 0;
constexpr int dlt_en10mb = 1;
constexpr int dlt_raw_linux = 12;
constexpr int dlt_raw_bsd = 14;
constexpr int linktype_raw = 101;
constexpr int dlt_loop = 108;
constexpr int dlt_linux_sll = 113;
constexpr int dlt_ipv4 = 228;
constexpr int dlt_ipv6 = 229;
constexpr int dlt_linux_sll2 = 276;

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_qinq = 0x88a8;
constexpr std::uint16_t ethertype_qinq_old = 0x9100;

constexpr std::uint8_t proto_tcp = 6;

inline std::uint16_t load16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t load32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

inline std::uint32_t load32_le(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
           std::uint32_t{p[0]};
}

// What the link layer carries, after it has been peeled off.
enum class Net : std::uint8_t { ipv4, ipv6, by_version, other };

// The BSD address families that mean IPv4 / IPv6 in DLT_NULL and DLT_LOOP headers. IPv6 has
// different values on different BSDs (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
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

Net from_ethertype(std::uint16_t type) noexcept {
    if (type == ethertype_ipv4) return Net::ipv4;
    if (type == ethertype_ipv6) return Net::ipv6;
    return Net::other;
}

// Steps over any stack of 802.1Q / 802.1ad tags starting at `off`, where `type` is the
// ethertype just read. Leaves `off` at the network header.
bool skip_vlan_tags(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t& off,
                    std::uint16_t& type) noexcept {
    while (type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_old) {
        if (caplen - off < 4) return false;
        type = load16(data + off + 2);
        off += 4;
    }
    return true;
}

// Decodes the TCP header at `off` whose IP payload is `ip_payload` bytes on the wire.
Decoded decode_tcp(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t off,
                   std::uint32_t ip_payload, Segment& out) noexcept {
    if (ip_payload < 20) return Decoded::bad_tcp_header;
    if (caplen < off || caplen - off < 13) return Decoded::truncated_header;
    const std::uint8_t* t = data + off;
    const std::uint32_t doff = t[12] >> 4;
    if (doff < 5) return Decoded::bad_tcp_header;
    const std::uint32_t header = doff * 4;
    if (header > ip_payload) return Decoded::bad_tcp_header;
    if (caplen - off < header) return Decoded::truncated_header;

    out.src.port = load16(t);
    out.dst.port = load16(t + 2);
    out.seq = load32(t + 4);
    out.ack = load32(t + 8);
    out.flags = static_cast<std::uint8_t>(t[13] & 0x3f);
    out.window = load16(t + 14);
    out.payload_len = ip_payload - header;
    const std::uint32_t captured = caplen - off - header;
    out.truncated_bytes = out.payload_len > captured ? out.payload_len - captured : 0;
    return Decoded::tcp;
}

// The IP length to use when the header says 0: TCP segmentation offload on the capturing
// host (IPv4) or a jumbogram (IPv6). Wireshark takes the frame's on-wire length; when the
// snaplen did not cut the frame, that is also its captured length.
std::uint32_t frame_ip_length(std::uint32_t caplen, std::uint32_t len, std::uint32_t off) noexcept {
    const std::uint32_t frame = len > caplen ? len : caplen;
    return frame - off;
}

Decoded decode_ipv4(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                    std::uint32_t off, Segment& out) noexcept {
    if (caplen - off < 20) return Decoded::truncated_header;
    const std::uint8_t* ip = data + off;
    if ((ip[0] >> 4) != 4) return Decoded::bad_ip_header;
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4;
    if (ihl < 20) return Decoded::bad_ip_header;
    std::uint32_t total = load16(ip + 2);
    if (total == 0) total = frame_ip_length(caplen, len, off);
    if (total < ihl) return Decoded::bad_ip_header;
    // A non-first fragment carries no TCP header; a first fragment (offset 0, MF set) does
    // and decodes normally with its own on-wire length.
    if ((load16(ip + 6) & 0x1fff) != 0) return Decoded::ip_fragment;
    if (ip[9] != proto_tcp) return Decoded::not_tcp;
    if (caplen - off < ihl) return Decoded::truncated_header;
    out.src.addr = IpAddress::v4(ip + 12);
    out.dst.addr = IpAddress::v4(ip + 16);
    return decode_tcp(data, caplen, off + ihl, total - ihl, out);
}

Decoded decode_ipv6(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                    std::uint32_t off, Segment& out) noexcept {
    if (caplen - off < 40) return Decoded::truncated_header;
    const std::uint8_t* ip = data + off;
    if ((ip[0] >> 4) != 6) return Decoded::bad_ip_header;
    std::uint32_t remaining = load16(ip + 4);
    if (remaining == 0) {
        const std::uint32_t frame = frame_ip_length(caplen, len, off);
        remaining = frame - 40;
    }
    std::uint8_t next = ip[6];
    std::uint32_t p = off + 40;
    // Every extension header is at least 8 bytes and shrinks `remaining`, so this ends.
    for (;;) {
        std::uint32_t ext = 0;
        switch (next) {
            case proto_tcp:
                out.src.addr = IpAddress::v6_from(ip + 8);
                out.dst.addr = IpAddress::v6_from(ip + 24);
                return decode_tcp(data, caplen, p, remaining, out);
            case 0:    // hop-by-hop options
            case 43:   // routing
            case 60:   // destination options
            case 135:  // mobility
                if (caplen - p < 2) return Decoded::truncated_header;
                ext = (std::uint32_t{data[p + 1]} + 1) * 8;
                break;
            case 51:  // authentication header: length in 4-byte units, minus 2
                if (caplen - p < 2) return Decoded::truncated_header;
                ext = (std::uint32_t{data[p + 1]} + 2) * 4;
                break;
            case 44:  // fragment
                if (caplen - p < 4) return Decoded::truncated_header;
                if ((load16(data + p + 2) >> 3) != 0) return Decoded::ip_fragment;
                ext = 8;
                break;
            default:  // UDP, ICMPv6, ESP, no next header, ...
                return Decoded::not_tcp;
        }
        if (ext > remaining) return Decoded::bad_ip_header;
        next = data[p];
        p += ext;
        remaining -= ext;
        if (p > caplen) return Decoded::truncated_header;
    }
}

}  // namespace

bool link_type_supported(int link_type) noexcept {
    switch (link_type) {
        case dlt_null:
        case dlt_en10mb:
        case dlt_raw_linux:
        case dlt_raw_bsd:
        case linktype_raw:
        case dlt_loop:
        case dlt_linux_sll:
        case dlt_ipv4:
        case dlt_ipv6:
        case dlt_linux_sll2:
            return true;
        default:
            return false;
    }
}

Decoded decode_packet(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                      int link_type, Segment& out) noexcept {
    std::uint32_t off = 0;
    Net net = Net::other;
    switch (link_type) {
        case dlt_en10mb: {
            if (caplen < 14) return Decoded::truncated_header;
            off = 14;
            std::uint16_t type = load16(data + 12);
            if (!skip_vlan_tags(data, caplen, off, type)) return Decoded::truncated_header;
            net = from_ethertype(type);
            break;
        }
        case dlt_linux_sll: {
            if (caplen < 16) return Decoded::truncated_header;
            off = 16;
            std::uint16_t type = load16(data + 14);
            if (!skip_vlan_tags(data, caplen, off, type)) return Decoded::truncated_header;
            net = from_ethertype(type);
            break;
        }
        case dlt_linux_sll2: {
            if (caplen < 20) return Decoded::truncated_header;
            off = 20;
            std::uint16_t type = load16(data);
            if (!skip_vlan_tags(data, caplen, off, type)) return Decoded::truncated_header;
            net = from_ethertype(type);
            break;
        }
        case dlt_raw_linux:
        case dlt_raw_bsd:
        case linktype_raw:
            net = Net::by_version;
            break;
        case dlt_ipv4:
            net = Net::ipv4;
            break;
        case dlt_ipv6:
            net = Net::ipv6;
            break;
        case dlt_null:
        case dlt_loop: {
            // DLT_NULL stores the family in the writer's byte order and DLT_LOOP in network
            // order, but writers get this wrong; the values are small, so whichever reading
            // fits in 16 bits is the right one (as Wireshark does).
            if (caplen < 4) return Decoded::truncated_header;
            off = 4;
            const std::uint32_t be = load32(data);
            net = loopback_family((be & 0xffff0000u) == 0 ? be : load32_le(data));
            break;
        }
        default:
            return Decoded::unsupported_link;
    }

    if (net == Net::by_version) {
        if (caplen <= off) return Decoded::truncated_header;
        const unsigned version = data[off] >> 4;
        net = version == 4 ? Net::ipv4 : version == 6 ? Net::ipv6 : Net::other;
    }
    switch (net) {
        case Net::ipv4:
            return decode_ipv4(data, caplen, len, off, out);
        case Net::ipv6:
            return decode_ipv6(data, caplen, len, off, out);
        default:
            return Decoded::not_ip;
    }
}

}  // namespace capgap::detail
